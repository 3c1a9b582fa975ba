"""threadlab.interleave: the race of Tally.add, byte code by byte code, under the lab's own scheduler."""

import dis
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from server import srvr

from threadlab import interleave

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "interleave"


def script(*args, stdin=""):
    return subprocess.run([str(SCRIPT), *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_the_code_shown_and_run_is_srvr_tally_add_itself():
    assert interleave.CODE is srvr.Tally.add.__code__
    assert list(interleave.INSTR) == [i.offset for i in dis.get_instructions(srvr.Tally.add)]
    marks = [interleave.mark(o) for o in interleave.INSTR]
    assert marks.count("R") == 1 and marks.count("W") == 1 and marks.index("R") < marks.index("W")
    assert sorted(interleave.LOCKCALLS.values()) == ["acquire", "release", "release"]  # release: in finally, twice


def test_a_run_steps_through_every_instruction_the_real_add_executes():
    run = interleave.execute(False, 1, lambda run, enabled, previous: enabled[0])
    assert [o for c, o, _ in run.steps if c == 0] == interleave.executed()
    assert [o for c, o, _ in run.steps if c == 1] == interleave.executed()
    assert run.tally.v == 24


def test_every_schedule_of_one_add_each_without_the_lock():
    runs, cut = interleave.explore(lock=False, ks=1)
    assert cut == 0
    assert len(runs) == 6  # the orders of client 0's read and write of v among client 1's: C(4, 2)
    assert Counter(r.tally.v for r, _ in runs) == {15: 2, 21: 2, 24: 2}
    assert min(p for r, p in runs if r.tally.v != 24) == 1  # one preemption is enough to lose an update


def test_with_the_lock_no_schedule_loses_and_a_waiting_thread_is_not_run():
    runs, cut = interleave.explore(lock=True, ks=1)
    assert cut == 0 and len(runs) == 8
    assert {r.tally.v for r, _ in runs} == {24}
    notes = [note for r, _ in runs for _, _, note in r.steps]
    assert "blocked: client 0 holds vlock" in notes and "vlock is free: acquires it" in notes


def test_the_preemption_bound():
    runs, cut = interleave.explore(lock=False, ks=2, bound=99)
    assert cut == 0 and len(runs) == 70  # C(8, 4): two reads and two writes each
    runs, cut = interleave.explore(lock=False, ks=2, bound=0)
    assert len(runs) == 2 and cut > 0  # one client then the other, either way: nothing lost
    assert {r.tally.v for r, _ in runs} == {36}
    runs, cut = interleave.explore(lock=False, ks=2, bound=2)
    assert 2 < len(runs) < 70 and all(p <= 2 for _, p in runs)


@pytest.mark.parametrize("schedule, v, lost", [("0*13,1*22", 15, 1), ("1*13,0*22", 21, 0), ("0*31,1", 24, None)])
def test_a_schedule_by_hand(schedule, v, lost, capsys):
    run = interleave.hand(False, 1, interleave.parse_schedule(schedule))
    assert run.tally.v == v
    out = capsys.readouterr().out
    assert out.startswith("v = 12, client 0 sends 3, client 1 sends 9\n")
    assert re.search(r"^  13  client \d   142 LOAD_ATTR v +reads v = 12$", out, re.M)
    assert out.endswith(f"v ends at {v}, not 24: client {lost}'s update is lost\n" if lost is not None
                        else "v ends at 24: nothing lost\n")


def test_the_search_prints_a_losing_schedule_the_tutorial_way(capsys):
    assert interleave.main([]) == 0
    out = capsys.readouterr().out
    assert "schedules: 6, lost an update: 4\n" in out
    assert re.search(r"client 1   218 STORE_ATTR v +writes v = 21\n.*client 0   218 STORE_ATTR v +writes v = 15\n", out, re.S)
    assert out.endswith("v ends at 15, not 24: client 1's update is lost\n")


def test_the_lock_search_from_the_script():
    r = script("--lock", "on")
    assert r.returncode == 0, r.stderr
    assert "schedules: 8, lost an update: 0\n" in r.stdout and "final v: 24 x8" in r.stdout


def test_pick_asks_at_each_step():
    r = script("--pick", stdin="0\n" * 13 + "1\n" * 40)
    assert r.returncode == 0, r.stderr
    assert "step 14: run client 0 or 1? " in r.stdout
    assert r.stdout.endswith("v ends at 15, not 24: client 1's update is lost\n")


@pytest.mark.parametrize("args, stdin, message", [
    (["--schedule", "0,2"], "", "--schedule: '2' is neither 0, 1 nor client*count (like 0*13)"),
    (["--schedule", "0,,1"], "", "--schedule: '' is neither 0, 1 nor client*count (like 0*13)"),
    (["--schedule", "1*32"], "", "step 32: client 1 has finished"),
    (["--lock", "on", "--schedule", "0*15,1*15,1"], "", "step 31: client 1 is blocked: client 0 holds vlock"),
    (["--ks", "0"], "", "--ks must be from 1 to 10, not 0"),
    (["--bound", "-1"], "", "--bound must be from 0 to 99, not -1"),
    (["--ks", "x"], "", "argument --ks: invalid int value: 'x'"),
    (["--pick"], "", "--pick: the input ended at step 1"),
    (["--pick"], "0\n2\n", "--pick: step 2: '2' is not 0 or 1"),
    (["--pick", "--dis"], "", "argument --dis: not allowed with argument --pick"),
])
def test_bad_input_is_one_line_and_exit_2(args, stdin, message):
    r = script(*args, stdin=stdin)
    assert (r.returncode, r.stderr) == (2, f"interleave: {message}\n")
    assert "Traceback" not in r.stdout


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the check points are read from 3.11's ceval.c")
def test_on_311_no_check_point_lies_between_the_read_and_the_write(capsys):
    interleave.switch_points()
    out = capsys.readouterr().out
    assert "race_yield off: between the read of v (142) and the write (218)\n" \
           "  8 instructions run; check points among them: none\n" in out
    assert "  14 instructions run; check points among them: 196 CALL\n" in out  # time.sleep(0)
    assert re.search(r"^   \*    0 RESUME$", out, re.M)


@pytest.mark.skipif(sys.version_info[:2] != (3, 11) or getattr(sys, "_is_gil_enabled", lambda: True)() is False,
                    reason="the claim measured is 3.11's, with the GIL")
def test_measure_on_311_loses_nothing_unless_a_switch_point_is_between():
    r = script("--measure", "200000")
    assert r.returncode == 0, r.stderr
    assert "Python 3.11" in r.stdout and "GIL on" in r.stdout
    assert "2 threads x 200000 Tally.add(1), lock off: v = 400000, lost 0\n" in r.stdout
    turns = int(re.search(r"took turns (\d+) times", r.stdout)[1])
    assert turns > 0  # the threads did interleave: the 0 is not from running one after the other
    control = int(re.search(r"race_yield on .*lost (\d+)", r.stdout)[1])
    assert control > 0  # with a switch point in the window, the same count does see losses
