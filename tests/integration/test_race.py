"""The race lesson on free-threaded Python (SERVER_PYTHON=ft): a.b.c without the GIL.

Without the lock and without the forced yield, the threaded server loses updates there: two of its
threads really run `v = self.v; self.v = v + k` at once, on two CPUs. With the lock it loses none,
and neither does the asyncio server without an await (one thread: its log says so). Every variant and
lesson setting works on that interpreter: each variant replays every shipped scenario there, the forced
yield without the lock loses updates in the _thread and asyncio servers too, and pdb stops a serving
thread (BREAKPOINT=on). Labs threadlab-test-race0 to 7, on the session's nets 30 to 37.

Reliable by design, on a loaded two-core machine:
- What must lose nothing (the lock, asyncio) is checked whatever the timing: any loss is a bug.
  Those replays run together, once the conftest's replays have ended: one replay a setting, over
  every shipped scenario at once (a lab comes up once for all five). At a load of 50 (other labs on
  this machine) contention.scn's 2000 k's a client once took 120 s, past scripts/replay's 60 s of
  grace, and the replay failed as stuck; the conftest's replays take that risk on 3.11 too.
- The forced yield without the lock (RACE_YIELD=on LOCK=off) loses on nearly every contended update:
  1099 and 2870 of contention.scn's 8000 in the _thread and asyncio servers, measured here. It needs
  only two clients' k's to meet at the server at all; should they not, on a loaded machine, the replay
  is played again alone, up to TRIES times, as below. Its first run goes with the must-pass ones.
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
import subprocess
import threading

import pytest
from conftest import SCENARIOS, net, project
from replays import Replay
from test_readme_live import ReadmeLab, pdb_session, readme

from threadlab.lab import ROOT

PLAIN_FT = {"SERVER_PYTHON": "ft"}
TRIES = 6  # replays of the big scenario before the loss test gives up: see the module's docstring
NKS = 4000  # k's of 1 each of 4 clients sends: see the module's docstring
BIG = f"# 4 clients sending 1, {NKS} times each: contention.scn twice over\n" + "".join(
    f"{h}: {NKS}*1 0\n" for h in ("u.v.w", "x.y.z", "r.s.t", "o.p.q"))
CONTENTION = ROOT / "scenarios" / "contention.scn"
LOST = re.compile(r"lost updates: the acknowledged k's add up to (\d+), the server's final value is (\d+): (\d+) lost$")

# settings on ft whose replays must pass: {name: (settings, scenarios)}
MUST_PASS = {
    "lock, forced yield, busy wait, switch interval": (
        dict(PLAIN_FT, LOCK="on", RACE_YIELD="on", WAIT="busy", SWITCH_INTERVAL="0.001"), SCENARIOS),
    "_thread with the lock, forced yield, busy wait, switch interval": (
        dict(PLAIN_FT, SERVER_VARIANT="thread", LOCK="on", RACE_YIELD="on", WAIT="busy", SWITCH_INTERVAL="0.0005"),
        SCENARIOS),
    "asyncio without a lock": (dict(PLAIN_FT, SERVER_VARIANT="asyncio", LOCK="off"), SCENARIOS),
    # its code differs from the line above only in the update, which only contention.scn contends for
    "asyncio with its lock around the forced await": (
        dict(PLAIN_FT, SERVER_VARIANT="asyncio", LOCK="on", RACE_YIELD="on"), [CONTENTION]),
}
# settings on ft that lose updates by design, replayed on contention.scn: {name: settings}
MUST_LOSE = {
    "_thread": dict(PLAIN_FT, SERVER_VARIANT="thread", LOCK="off", RACE_YIELD="on"),
    "asyncio": dict(PLAIN_FT, SERVER_VARIANT="asyncio", LOCK="off", RACE_YIELD="on"),
}
NO_LOCK = len(MUST_PASS) + len(MUST_LOSE)  # the lab number of the unforced loss's replays; the pdb lab's is next


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    work = tmp_path_factory.mktemp("race")
    (work / "big.scn").write_text(BIG)
    return work


def lab(i):
    """This module's lab number i: (project, net)."""
    return project(f"threadlab-test-race{i}"), net(30 + i)


@pytest.fixture(scope="module")
def together(docker_engine, replays, scenarios):
    """The must-pass replays, the must-lose ones' first runs and the pdb session on ft, started together once
    the conftest's replays have ended: {name: Replay}, and "pdb": a thread whose "result" is pdb_session's."""
    for r in replays.values():
        r.result()
    started, pdb = {}, {}
    try:
        for i, (name, (settings, played)) in enumerate(MUST_PASS.items()):
            started[name] = Replay(*lab(i), played, scenarios / f"out{i}", **settings)
        for i, (name, settings) in enumerate(MUST_LOSE.items(), len(MUST_PASS)):
            started[name] = Replay(*lab(i), [CONTENTION], scenarios / f"out{i}-0", **settings)
        pdb["thread"] = threading.Thread(target=pdb_on_ft, args=(pdb,), daemon=True)
        pdb["thread"].start()
        yield started, pdb
    finally:
        for r in started.values():
            r.stop()
        pdb["thread"].join(180)


def pdb_on_ft(out):
    """The pdb lesson's session (test_readme_live.pdb_session) with SERVER_PYTHON=ft, in this module's last lab."""
    ft = ReadmeLab(0)
    ft.project, ft.net = lab(NO_LOCK + 1)
    ft.check_out = f"/tmp/{ft.project}-check"  # ReadmeLab.down removes it: not the README session's own
    ft.env = dict(ft.env, COMPOSE_PROJECT_NAME=ft.project, LAB_NET=ft.net, SERVER_PYTHON="ft")
    try:
        ft.down()
        subprocess.run(["docker", "compose", "build", "-q", "server"], cwd=ROOT, env=ft.env, check=True,
                       capture_output=True, timeout=600)  # compose run would take a stale image as it is
        out["result"] = pdb_session(ft)
    except Exception as e:  # reported by the test
        out["result"] = e
    finally:
        ft.down()


def ended(together):
    """Wait for everything the together fixture started."""
    started, pdb = together
    for r in started.values():
        r.result()
    pdb["thread"].join(180)


@pytest.mark.parametrize("name", MUST_PASS)
def test_on_free_threaded_python_these_lose_nothing(together, name):
    """Each variant on ft, its lesson settings on: every shipped scenario passes, every update counted; the
    asyncio server says it served all its clients on one thread."""
    settings, played = MUST_PASS[name]
    code, out, results = together[0][name].result()
    assert code == 0, out
    assert sorted(results) == sorted(p.stem for p in played)
    variant = settings.get("SERVER_VARIANT", "threading")
    for res in results.values():
        assert res["result"] == "PASS", res["problems"]
        assert re.search(rf"\({variant}; CPython 3\.13\.\d+, GIL off\)$", res["server"]), res["server"]
        if variant == "asyncio":
            n = len(res["clients"])
            assert res["main thread"].endswith(f"(event loop: served {n} clients on 1 thread)"), res["main thread"]
    assert results["contention"]["final"] == 8000
    assert f"  a.b.c   a.b.c listening on port 2000 for 4 clients ({variant}; CPython 3.13." in out


@pytest.mark.parametrize("name", MUST_LOSE)
def test_on_free_threaded_python_the_forced_yield_loses_updates(together, scenarios, name):
    """LOCK=off RACE_YIELD=on on ft, the _thread and the asyncio server: contention.scn loses updates and the
    report counts them; asyncio loses them on its one thread. Played again alone until it loses, up to TRIES."""
    ended(together)
    settings, i = MUST_LOSE[name], len(MUST_PASS) + list(MUST_LOSE).index(name)
    code, out, res, _ = until_lost(together[0][name], "contention", lambda attempt: Replay(
        *lab(i), [CONTENTION], scenarios / f"out{i}-{attempt}", **settings))
    variant = settings["SERVER_VARIANT"]
    assert re.search(rf"\({variant}; CPython 3\.13\.\d+, GIL off\)$", res["server"]), res["server"]
    if variant == "asyncio" and res["main thread"]:
        assert res["main thread"].endswith("(event loop: served 4 clients on 1 thread)"), res["main thread"]


def test_on_free_threaded_python_pdb_stops_a_serving_thread(together):
    """BREAKPOINT=on on ft: the pdb lesson's session stops the thread serving u.v.w at srvr.py's own lines, p k
    shows its 5 and p tally.v the 0 before it, and the session ends with the client's 5. Not the lesson's
    screen line for line: 3.13's pdb stops at the pdb.set_trace() line itself, 3.11's at the next one."""
    ended(together)
    result = together[1]["result"]
    if isinstance(result, Exception):
        raise result
    codes, screen = result
    text = "\n".join(screen)
    assert codes == (0, 0), text
    assert re.fullmatch(r"a\.b\.c listening on port 2000 for 1 clients? \(threading; CPython 3\.13\.\d+, GIL off\)",
                        screen[0]), text
    assert "(Pdb) p k\n5\n" in text and "(Pdb) p tally.v\n0\n" in text, text
    assert screen[-1] == "the final value of v is 5", text
    stops = re.findall(r"srvr\.py\((\d+)\)handle\(\)\n-> (.*)", text)
    assert len(stops) == 3, text
    for number, line in stops:
        assert int(number) == readme.srvr_line(line)


def until_lost(first, scenario, again):
    """The results of replay first, or of again(attempt) for attempt 1 to TRIES - 1 in turn, until one loses an
    update: (exit code, output, that scenario's result, attempt); fails if none did. Checks the loss's report."""
    attempts = []
    replay = first
    for attempt in range(TRIES):
        replay = replay if attempt == 0 else again(attempt)
        code, out, results = replay.result()
        assert scenario in results, out
        res = results[scenario]
        lost = [m for m in map(LOST.match, res["problems"]) if m]
        if lost:
            break
        attempts.append(f"final {res['final']} after {overlap(res):.2f} s of overlap")
        assert code == 0, out  # no loss: then it passed, and nothing else went wrong
    else:
        pytest.fail(f"no update lost in {TRIES} replays of {scenario}: {'; '.join(attempts)}")
    assert code == 1, out
    acknowledged, final, n = map(int, lost[0].groups())
    assert final == res["final"] and final + n == acknowledged and n > 0
    assert f"  FAIL    {lost[0].group(0)}" in out  # the report says how many
    return code, out, res, attempt


def test_on_free_threaded_python_no_lock_loses_updates(together, scenarios):
    """LOCK=off, no forced yield, on ft: the big contention replay loses updates, the report counts them, and the
    timeline draws exactly that many in red. Played again until it loses, up to TRIES times (the docstring's sums)."""
    ended(together)
    play = lambda attempt: Replay(*lab(NO_LOCK), [scenarios / "big.scn"], scenarios / f"lost{attempt}",
                                  **PLAIN_FT, LOCK="off")
    code, out, res, attempt = until_lost(play(0), "big", play)
    assert re.search(r"\(threading; CPython 3\.13\.\d+, GIL off\)$", res["server"]), res["server"]
    acknowledged, final, n = map(int, next(m for m in map(LOST.match, res["problems"]) if m).groups())
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
