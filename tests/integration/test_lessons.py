"""The tutorial's lessons on the live lab, through scripts/replay: every server variant, the race, the busy wait."""

import re

import pytest
from conftest import SCENARIOS, alone

from threadlab.lab import ROOT


@pytest.mark.parametrize("name", ["_thread", "asyncio without a lock"])
def test_variant_passes_every_shipped_replay(replays, name):
    """The tutorial's _thread server, and the asyncio server even with no lock, pass every shipped scenario."""
    code, out, results = replays[name].result()
    assert code == 0, out
    assert sorted(results) == [p.stem for p in SCENARIOS]
    assert all(res["result"] == "PASS" for res in results.values())


def test_race_without_the_lock_loses_updates(replays, tmp_path):
    """LOCK=off RACE_YIELD=on: the contention replay fails, saying how many updates were lost."""
    code, out, results = alone(replays, [ROOT / "scenarios" / "contention.scn"], tmp_path,
                               LOCK="off", RACE_YIELD="on")
    assert code == 1, out
    lost = re.match(r"lost updates: the acknowledged k's add up to 8000, the server's final value is (\d+): "
                    r"(\d+) lost$", results["contention"]["problems"][0])
    assert lost, results["contention"]["problems"]
    assert int(lost.group(1)) + int(lost.group(2)) == 8000 and int(lost.group(2)) > 0
    assert "  FAIL    lost updates: " in out


def test_busy_wait_burns_a_core_while_clients_think(replays, tmp_path):
    """WAIT=busy: during the tutorial's session, whose clients mostly think, the main thread burns CPU the whole
    time; the blocking wait (the default, checked in test_replay) uses next to none."""
    code, out, results = alone(replays, [ROOT / "scenarios" / "tutorial.scn"], tmp_path, WAIT="busy")
    assert code == 0, out
    waited, used = map(float, re.search(r"waited ([\d.]+) s and used ([\d.]+) s of CPU \(busy wait\)",
                                        results["tutorial"]["main thread"]).groups())
    assert used >= 0.05 * waited  # a spinning thread's share of a core, even on a loaded machine; blocked: 0.00
