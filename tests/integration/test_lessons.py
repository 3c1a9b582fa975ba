"""The tutorial's lessons on the live lab, through scripts/replay: every server variant, the race, the busy wait."""

import re

import pytest
from conftest import SCENARIOS, alone, as_documented

from threadlab.lab import ROOT


@pytest.mark.parametrize("name", ["_thread", "asyncio without a lock"])
def test_variant_passes_every_shipped_replay(replays, name):
    """The tutorial's _thread server, and the asyncio server even with no lock, pass every shipped scenario."""
    code, out, results = replays[name].result()
    assert code == 0, out
    if name == "asyncio without a lock":
        as_documented("SERVER_VARIANT=asyncio LOCK=off scripts/replay scenarios/*.scn", replays[name])
    assert sorted(results) == [p.stem for p in SCENARIOS]
    assert all(res["result"] == "PASS" for res in results.values())


def test_race_without_the_lock_loses_updates(replays, tmp_path):
    """LOCK=off RACE_YIELD=on: the contention replay fails, saying how many updates were lost."""
    code, out, results = alone(replays, [ROOT / "scenarios" / "contention.scn"], tmp_path, LOCK="off",
                               RACE_YIELD="on", documented="LOCK=off RACE_YIELD=on scripts/replay scenarios/contention.scn")
    assert code == 1, out
    lost = re.match(r"lost updates: the acknowledged k's add up to 8000, the server's final value is (\d+): "
                    r"(\d+) lost$", results["contention"]["problems"][0])
    assert lost, results["contention"]["problems"]
    assert int(lost.group(1)) + int(lost.group(2)) == 8000 and int(lost.group(2)) > 0
    assert "  FAIL    lost updates: " in out


def test_without_the_forced_yield_3_11_loses_nothing(replays, tmp_path):
    """`LOCK=off scripts/replay scenarios/contention.scn` on 3.11 with the GIL: no update lost, every time (the
    interpreter can switch threads nowhere between the read of v and the write: docs/race.md). A test that a
    loss does not happen is reliable only because it cannot happen here."""
    code, out, results = alone(replays, [ROOT / "scenarios" / "contention.scn"], tmp_path, LOCK="off")
    assert code == 0, out
    assert results["contention"]["final"] == 8000 and "GIL on" in results["contention"]["server"]


def test_busy_wait_burns_a_core_while_clients_think(replays, tmp_path):
    """WAIT=busy: during the tutorial's session, whose clients mostly think, the main thread burns CPU the whole
    time; the blocking wait (the default, checked in test_replay) uses next to none."""
    code, out, results = alone(replays, [ROOT / "scenarios" / "tutorial.scn"], tmp_path, WAIT="busy",
                               documented="WAIT=busy scripts/replay scenarios/tutorial.scn")
    assert code == 0, out
    waited, used = map(float, re.search(r"waited ([\d.]+) s and used ([\d.]+) s of CPU \(busy wait\)",
                                        results["tutorial"]["main thread"]).groups())
    assert used >= 0.05 * waited  # a spinning thread's share of a core, even on a loaded machine; blocked: 0.00


def test_asyncio_loses_updates_with_an_await_in_the_window(replays, tmp_path):
    """SERVER_VARIANT=asyncio LOCK=off RACE_YIELD=on: an await between the read and the write, and the asyncio
    server loses updates too, on its one thread; the run is the lesson's block."""
    alone(replays, [ROOT / "scenarios" / "contention.scn"], tmp_path, SERVER_VARIANT="asyncio", LOCK="off",
          RACE_YIELD="on", documented="SERVER_VARIANT=asyncio LOCK=off RACE_YIELD=on scripts/replay scenarios/contention.scn")
