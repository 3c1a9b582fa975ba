"""The tutorial's lessons on the live lab, through scripts/replay: every server variant, the race, the busy wait."""

import json
import os
import re
import subprocess
import sys

import pytest

from lab import ROOT

SHIPPED = sorted(str(p) for p in (ROOT / "scenarios").glob("*.scn"))


def replay(tmp_path, scenarios, **settings):
    """scripts/replay with settings for the server; returns (its run, results by scenario name)."""
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "replay"), *scenarios], capture_output=True,
                       text=True, timeout=600, env=dict(os.environ, REPLAY_OUT=str(out), **settings))
    return r, {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}


@pytest.mark.parametrize("settings", [{"SERVER_VARIANT": "thread"}, {"SERVER_VARIANT": "asyncio", "LOCK": "off"}],
                         ids=["_thread", "asyncio without a lock"])
def test_variant_passes_every_shipped_replay(docker_engine, tmp_path, settings):
    """The tutorial's _thread server, and the asyncio server even with no lock, pass every shipped scenario."""
    r, results = replay(tmp_path, SHIPPED, **settings)
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(results) == sorted(os.path.basename(s)[:-4] for s in SHIPPED)
    assert all(res["result"] == "PASS" for res in results.values())


def test_race_without_the_lock_loses_updates(docker_engine, tmp_path):
    """LOCK=off RACE_YIELD=on: the contention replay fails, saying how many updates were lost."""
    r, results = replay(tmp_path, [str(ROOT / "scenarios" / "contention.scn")], LOCK="off", RACE_YIELD="on")
    assert r.returncode == 1
    lost = re.match(r"lost updates: the acknowledged k's add up to 8000, the server's final value is (\d+): "
                    r"(\d+) lost$", results["contention"]["problems"][0])
    assert lost, results["contention"]["problems"]
    assert int(lost.group(1)) + int(lost.group(2)) == 8000 and int(lost.group(2)) > 0
    assert "  FAIL    lost updates: " in r.stdout


def test_busy_wait_burns_a_core_while_clients_think(docker_engine, tmp_path):
    """WAIT=busy: during the tutorial's session, whose clients mostly think, the main thread burns CPU the whole
    time; the blocking wait (the default, checked in test_replay) uses next to none."""
    r, results = replay(tmp_path, [str(ROOT / "scenarios" / "tutorial.scn")], WAIT="busy")
    assert r.returncode == 0, r.stdout + r.stderr
    waited, used = map(float, re.search(r"waited ([\d.]+) s and used ([\d.]+) s of CPU \(busy wait\)",
                                        results["tutorial"]["main thread"]).groups())
    assert used >= 0.5 * waited
