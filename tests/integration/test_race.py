"""The race lesson on free-threaded Python (SERVER_PYTHON=ft): a.b.c without the GIL.

Without the lock and without the forced yield, the threaded server loses updates there: two of its
threads really run `v = self.v; self.v = v + k` at once, on two CPUs. With the lock it loses none,
and neither does the asyncio server without an await (one thread). Every variant and lesson setting
works on that interpreter. Labs threadlab-test-race0 to 3, on the session's nets 30 to 33.

Reliable by design, on a loaded two-core machine:
- What must lose nothing (the lock, asyncio) is checked whatever the timing: any loss is a bug.
  Those replays run together, once the conftest's replays have ended, on 4 clients x 1000 k's of 1:
  at a load of 50 (other labs on this machine) 2000 k's a client took 120 s, past scripts/replay's
  60 s of grace, and the replay failed as stuck.
- What must lose updates (LOCK=off) runs alone, after them, on a contention scenario twice the
  shipped one (4 clients x 4000 k's of 1), and is played again, up to TRIES times in all, until it
  loses one. An update is lost only while two clients' k's meet at the server, and the clients
  start one `docker exec` after another: on a loaded machine their starts spread over up to 2.4 s
  (measured), longer than one client of the shipped scenario takes alone (0.5 s), hence the
  longer parts. Measured here (scripts/replay, SERVER_PYTHON=ft LOCK=off, 2 cores, load 5 to 12),
  per second during which two clients or more were sending (from the transcripts' times): 7 to
  207 lost a second, median 25, over 10 runs (16000 k's: 47 to 501 lost, with 1.75 to 2.65 s of
  overlap; 8000: 9 to 52; never 0). Each lost update needs its own unlucky switch, among thousands
  of contended ones, so a run's count is near enough Poisson. Take a fifth of the lowest rate, 1.4
  a second, and 1.5 s of overlap: P(no loss in a run) = e^-2.1 = 0.12, and P(no loss in TRIES = 6
  runs) = e^-12.6 = 3e-6. A passing run costs one replay (about 30 s); only a failing one costs
  six, and its message gives each run's overlap.
- A loss is proven by the final value alone: below the sum of the k's the clients had
  acknowledged, whatever else went wrong (a k the server added but whose v never came back makes
  the final larger, never smaller). At a load of 50, clients took longer than scripts/replay's 60
  s of grace and were stopped: the loss still counts, and the timeline's count is checked only on
  a replay where every client ended.
"""

import re

import pytest
from conftest import net, project
from replays import Replay

PLAIN_FT = {"SERVER_PYTHON": "ft"}
TRIES = 6  # replays of the big scenario before the loss test gives up: see the module's docstring
NKS = 4000  # k's of 1 each of 4 clients sends: see the module's docstring
BIG = f"# 4 clients sending 1, {NKS} times each: contention.scn twice over\n" + "".join(
    f"{h}: {NKS}*1 0\n" for h in ("u.v.w", "x.y.z", "r.s.t", "o.p.q"))
TUTORIAL = "seed 2003\npace 0.05 jitter 0.03\nu.v.w: 5 12 7 30 0\nx.y.z: +0.02 9 3 21 8 0\nexpect final 95\n"
LOST = re.compile(r"lost updates: the acknowledged k's add up to (\d+), the server's final value is (\d+): (\d+) lost$")

# settings on ft whose replays must pass: {name: settings}
MUST_PASS = {
    "lock, forced yield, busy wait, switch interval": dict(PLAIN_FT, LOCK="on", RACE_YIELD="on", WAIT="busy",
                                                            SWITCH_INTERVAL="0.001"),
    "asyncio without a lock": dict(PLAIN_FT, SERVER_VARIANT="asyncio", LOCK="off"),
    "_thread with the lock": dict(PLAIN_FT, SERVER_VARIANT="thread", LOCK="on", SWITCH_INTERVAL="0.0005"),
}


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    work = tmp_path_factory.mktemp("race")
    (work / "big.scn").write_text(BIG)
    (work / "brisk.scn").write_text(TUTORIAL)  # the tutorial's session, quicker
    (work / "contended.scn").write_text("".join(f"{h}: 1000*1 0\n" for h in ("u.v.w", "x.y.z", "r.s.t", "o.p.q")))
    return work


@pytest.fixture(scope="module")
def passing(docker_engine, replays, scenarios):
    """The must-pass replays on ft, started together once the conftest's replays have ended."""
    for r in replays.values():
        r.result()
    started = {}
    try:
        for i, (name, settings) in enumerate(MUST_PASS.items()):
            started[name] = Replay(project(f"threadlab-test-race{i}"), net(30 + i),
                                   [scenarios / "contended.scn", scenarios / "brisk.scn"], scenarios / f"out{i}", **settings)
        yield started
    finally:
        for r in started.values():
            r.stop()


@pytest.mark.parametrize("name", MUST_PASS)
def test_on_free_threaded_python_these_lose_nothing(passing, name):
    """The lock, the asyncio server without one, and the tutorial's _thread server: every update counted, on ft."""
    code, out, results = passing[name].result()
    assert code == 0, out
    assert sorted(results) == ["brisk", "contended"]
    for res in results.values():
        assert res["result"] == "PASS", res["problems"]
        assert res["server"].endswith(", GIL off)"), res["server"]
        assert re.search(r"CPython 3\.13\.\d+, GIL off", res["server"])
    assert results["contended"]["final"] == 4000
    variant = MUST_PASS[name].get("SERVER_VARIANT", "threading")
    assert f"({variant}; CPython 3.13" in results["contended"]["server"]
    assert f"  a.b.c   a.b.c listening on port 2000 for 4 clients ({variant}; CPython 3.13." in out


def test_on_free_threaded_python_no_lock_loses_updates(passing, scenarios):
    """LOCK=off, no forced yield, on ft: the big contention replay loses updates, the report counts them, and the
    timeline draws exactly that many in red. Played again until it loses, up to TRIES times (the docstring's sums)."""
    for r in passing.values():
        r.result()
    attempts = []
    for attempt in range(TRIES):
        code, out, results = Replay(project("threadlab-test-race3"), net(33), [scenarios / "big.scn"],
                                    scenarios / f"lost{attempt}", **PLAIN_FT, LOCK="off").result()
        assert "big" in results, out
        res = results["big"]
        assert re.search(r"\(threading; CPython 3\.13\.\d+, GIL off\)$", res["server"]), res["server"]
        lost = [m for m in map(LOST.match, res["problems"]) if m]
        if lost:
            break
        attempts.append(f"final {res['final']} after {overlap(res):.2f} s of overlap")
        assert code == 0, out  # no loss: then it passed, and nothing else went wrong
    else:
        pytest.fail(f"no update lost in {TRIES} replays of {4 * NKS} unlocked updates: {'; '.join(attempts)}")
    assert code == 1, out
    acknowledged, final, n = map(int, lost[0].groups())
    assert final == res["final"] and final + n == acknowledged and n > 0
    assert f"  FAIL    {lost[0].group(0)}" in out  # the report says how many
    if any("did not end" in p for p in res["problems"]):
        return  # stopped clients: v's the server sent that never came back, the chain is not the echoes' to tell
    assert acknowledged == 4 * NKS
    svg = (scenarios / f"lost{attempt}" / "big.svg").read_text()
    assert f"final value {final}: {n} updates lost ({n} of the sum), in red" in svg
    red = re.findall(r'<path d="([^"]*)" stroke="#d62728"', svg)  # a path of marks per client host
    assert sum(d.count("M") for d in red) == n  # k's of 1: n updates

def overlap(res):
    """Seconds during which two clients or more were sending, from the transcripts' start and t."""
    spans = [(c["start"] + c["t"][0], c["start"] + c["t"][-1]) for c in res["clients"].values() if c.get("t")]
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    sending, total, last = 0, 0.0, None
    for t, step in events:
        if sending >= 2:
            total += t - last
        sending, last = sending + step, t
    return total
