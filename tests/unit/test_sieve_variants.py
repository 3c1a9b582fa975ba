"""The sieve's variants (the tutorial's _thread program, threading with slices or a loop) and its settings."""

import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sieve import primes, primes_thread, sieved, variants
from test_sieve import check_tutorial_output

ROOT = Path(__file__).resolve().parents[2]
SIEVE_DIR = ROOT / "services" / "sieve"
TIMEOUT = 60  # seconds: any wait longer than this is a bug, and fails the test instead of hanging it
TUTORIAL = list(variants.TUTORIAL.items())  # section 5.2's runs


@pytest.fixture
def switch_interval():
    """Put Python's switch interval back after a test that sets it."""
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def run(script, *args, **env):
    """Run a script of services/sieve as a program with env added; return the CompletedProcess."""
    return subprocess.run([sys.executable, script, *args], cwd=SIEVE_DIR, capture_output=True, text=True,
                          env=dict(os.environ, **env), timeout=TIMEOUT)


@pytest.mark.parametrize("nthreads", [1, 2, 4])
@pytest.mark.parametrize("n, count", TUTORIAL)
def test_faithful_port_matches_the_tutorial(n, count, nthreads):
    """The _thread port counts the tutorial's primes with 1, 2 and 4 threads, and every k is processed once."""
    got, work = primes_thread.count_primes(n, nthreads)
    assert got == count
    assert sorted(tn for tn, _ in work) == list(range(nthreads))
    assert sum(nk for _, nk in work) == math.isqrt(n) - 1


@pytest.mark.parametrize("nthreads", [1, 2, 4])
@pytest.mark.parametrize("n, count", TUTORIAL)
def test_threading_loop_matches_the_tutorial(n, count, nthreads):
    """threading with the tutorial's per-element inner loop counts the tutorial's primes, every k once."""
    got, work = variants.count_primes(n, nthreads, cross="loop")
    assert got == count
    assert sum(nk for _, nk in work) == math.isqrt(n) - 1


@pytest.mark.parametrize("n, count", [(2, 1), (3, 2), (4, 2), (25, 9), (49, 15), (120, 30), (121, 30)])
@pytest.mark.parametrize("name", ["thread", "threading-loop"])
def test_loop_variants_small_and_square_n(name, n, count):
    """Small n and perfect squares are counted right by the per-element variants."""
    assert variants.variant(name)(n, 3)[0] == count


@pytest.mark.parametrize("n, nthreads", [(1, 2), (0, 1), (100, 0)])
def test_faithful_port_refuses_bad_arguments(n, nthreads):
    """n below 2 or no threads is a ValueError, as in variants.count_primes."""
    with pytest.raises(ValueError, match="n must be at least 2 and threads at least 1"):
        primes_thread.count_primes(n, nthreads)


def test_faithful_port_reports_each_thread_once():
    """Line 26's report: on_exit(tn, nk) once per thread, with what work lists."""
    calls = []
    _, work = primes_thread.count_primes(100000, 3, on_exit=lambda tn, nk: calls.append((tn, nk)))
    assert sorted(calls) == sorted(work)


def test_line_43_as_printed_with_one_thread_says_it_would_hang():
    """as printed (nstarted < 2) with 1 thread: the thread finishes its work, then Line43Hang instead of spinning."""
    calls = []
    with pytest.raises(primes_thread.Line43Hang, match=r"waits for 2 started threads but only 1 started"):
        primes_thread.count_primes(100, 1, on_exit=lambda tn, nk: calls.append((tn, nk)), as_printed=True)
    assert calls == [(0, 9)]
    assert not primes_thread.runlock.locked()
    assert primes_thread.count_primes(100, 1)[0] == 25


@pytest.mark.parametrize("n, count", TUTORIAL[:3])
def test_line_43_as_printed_with_two_threads_is_the_tutorials_run(n, count):
    """as printed with 2 threads, the tutorial's own runs: the right count."""
    assert primes_thread.count_primes(n, 2, as_printed=True)[0] == count


def test_faithful_port_counts_one_at_a_time():
    """Its state is module globals: counts asked from several threads at once wait their turn and are all right."""
    results = {}

    def ask(n):
        results[n] = primes_thread.count_primes(n, 2)[0]

    askers = [threading.Thread(target=ask, args=(n,)) for n, _ in TUTORIAL]
    for a in askers:
        a.start()
    for a in askers:
        a.join(TIMEOUT)
    assert results == dict(TUTORIAL)


def test_variants_are_named():
    """SIEVE_VARIANT names the _thread port and threading with slices or a loop."""
    assert variants.variant("thread") is primes_thread.count_primes
    assert variants.variant("threading") is variants.count_primes
    assert variants.variant("threading-loop").keywords == {"cross": "loop"}


@pytest.mark.parametrize("text", ["", "Thread", "threads", "numpy", " thread"])
def test_bad_variant(text):
    """An unknown SIEVE_VARIANT is a ValueError naming the setting and its choices."""
    with pytest.raises(ValueError, match=r"^SIEVE_VARIANT must be one of threading, threading-loop, thread, not "):
        variants.variant(text)


@pytest.mark.parametrize("text, seconds", [("", None), ("0.005", 0.005), ("1e-6", 1e-6), ("2", 2.0)])
def test_switch_interval(text, seconds):
    """SWITCH_INTERVAL is seconds, at least 1e-06; empty leaves Python's own."""
    assert variants.switch_interval(text) == seconds


@pytest.mark.parametrize("text", ["0", "-1", "1e-7", "abc", "nan", "inf", "5ms"])
def test_bad_switch_interval(text):
    """A SWITCH_INTERVAL that is no number, not finite or below 1e-06 is a ValueError naming the setting."""
    with pytest.raises(ValueError, match=r"^SWITCH_INTERVAL must be a number at least 1e-06, not "):
        variants.switch_interval(text)


def test_count_primes_refuses_unknown_crossing_out():
    """cross is slice or loop."""
    with pytest.raises(ValueError, match="cross must be one of slice, loop"):
        variants.count_primes(100, 2, cross="numpy")


@pytest.mark.parametrize("variant", ["thread", "threading-loop", "threading"])
@pytest.mark.parametrize("nthreads", [1, 2, 4])
def test_primes_main_runs_the_chosen_variant(monkeypatch, capsys, variant, nthreads):
    """primes.py with SIEVE_VARIANT prints the tutorial's lines from that variant."""
    chosen = []
    real = variants.VARIANTS[variant]
    monkeypatch.setitem(variants.VARIANTS, variant, lambda *a, **kw: chosen.append(variant) or real(*a, **kw))
    monkeypatch.setattr(primes, "SIEVE_VARIANT", variant)
    assert primes.main(["primes.py", "100000", str(nthreads)]) == 0
    check_tutorial_output(capsys.readouterr().out, 100000, nthreads, 9592)
    assert chosen == [variant]


def test_primes_main_sets_the_switch_interval(monkeypatch, capsys, switch_interval):
    """primes.py with SWITCH_INTERVAL sets Python's switch interval before it sieves."""
    monkeypatch.setattr(primes, "SWITCH_INTERVAL", "0.0123")
    assert primes.main(["primes.py", "100", "2"]) == 0
    assert sys.getswitchinterval() == pytest.approx(0.0123)


@pytest.mark.parametrize("nthreads", [1, 2])
def test_primes_py_faithful_variant_as_a_program(nthreads):
    """SIEVE_VARIANT=thread python3 primes.py 1000000 T: the tutorial's lines, exit 0, also with 1 thread."""
    r = run("primes.py", "1000000", str(nthreads), SIEVE_VARIANT="thread")
    assert (r.returncode, r.stderr) == (0, "")
    check_tutorial_output(r.stdout, 1000000, nthreads, 78498)


def test_primes_py_as_printed_with_one_thread():
    """--as-printed with 1 thread: thread 0's line, then one line saying line 43 would spin forever; exit 1."""
    r = run("primes.py", "100", "1", "--as-printed", SIEVE_VARIANT="thread")
    assert r.returncode == 1
    assert r.stdout == "thread 0 exiting; processed 9 values of k\n"
    assert r.stderr.startswith("primes.py: line 43 as printed, 'while nstarted < 2: pass'")
    assert len(r.stderr.splitlines()) == 1


@pytest.mark.parametrize("args, env", [
    (["--as-printed"], {"SIEVE_VARIANT": "threading"}),
    (["--as-printed", "--host", "127.0.0.1"], {"SIEVE_VARIANT": "thread"}),
])
def test_primes_py_as_printed_only_for_the_thread_variant_here(args, env):
    """--as-printed is the _thread program's line 43: refused, one line, exit 2, with another variant or --host."""
    r = run("primes.py", "100", "2", *args, **env)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == ("primes.py: --as-printed is line 43 of the tutorial's _thread program: "
                        "use it with SIEVE_VARIANT=thread and without --host\n")


@pytest.mark.parametrize("script", ["primes.py", "sieved.py"])
@pytest.mark.parametrize("setting, value, message", [
    ("SIEVE_VARIANT", "bogus", "SIEVE_VARIANT must be one of threading, threading-loop, thread, not 'bogus'"),
    ("SIEVE_VARIANT", "", "SIEVE_VARIANT must be one of threading, threading-loop, thread, not ''"),
    ("SWITCH_INTERVAL", "0", "SWITCH_INTERVAL must be a number at least 1e-06, not '0'"),
    ("SWITCH_INTERVAL", "fast", "SWITCH_INTERVAL must be a number at least 1e-06, not 'fast'"),
])
def test_bad_setting_is_one_line_and_exit_2(script, setting, value, message):
    """primes.py and sieved.py refuse a bad setting with one line on stderr, no traceback, exit 2."""
    r = run(script, *(["100", "2"] if script == "primes.py" else []), **{setting: value})
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"{script}: {message}\n"


@pytest.mark.parametrize("setting, value, message", [
    ("SIEVE_MAX_N", "lots", "SIEVE_MAX_N must be a number at least 2, not 'lots'"),
    ("SIEVE_MAX_THREADS", "0", "SIEVE_MAX_THREADS must be a number at least 1, not '0'"),
    ("SIEVE_PORT", "70000", "SIEVE_PORT must be a number from 1 to 65535, not '70000'"),
    ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, not 'loud'"),
])
def test_bad_worker_limit_is_one_line_and_exit_2(setting, value, message):
    """The worker's own limits are settings too: one line and exit 2, not a traceback when sieved.py is imported."""
    r = run("sieved.py", **{setting: value})
    assert (r.returncode, r.stdout, r.stderr) == (2, "", f"sieved.py: {message}\n")


@pytest.mark.parametrize("variant", ["thread", "threading-loop", "threading"])
def test_worker_answers_with_its_variant(monkeypatch, variant):
    """The worker counts with SIEVE_VARIANT and says which variant answered."""
    monkeypatch.setattr(sieved, "VARIANT", variant)
    reply = sieved.answer("100000 2\n")
    assert reply["primes"] == 9592 and reply["variant"] == variant
    assert sum(nk for _, nk in reply["work"]) == math.isqrt(100000) - 1


def test_worker_caps_n_for_the_thread_variant(monkeypatch):
    """With SIEVE_VARIANT=thread (a list, 8 bytes a number) the worker takes n up to 10^7 only."""
    monkeypatch.setattr(sieved, "VARIANT", "thread")
    assert sieved.answer(f"{10**7 + 1} 2") == {
        "error": f"n must be from 2 to 10000000 with SIEVE_VARIANT=thread, not {10**7 + 1}"}
    with pytest.raises(ValueError, match=f"n must be from 2 to {sieved.MAX_N}, not"):
        sieved.check(sieved.MAX_N + 1, 2, "threading")
    sieved.check(10**7 + 1, 2, "threading")


@pytest.fixture
def worker_program():
    """sieved.py as a program on a free port, with SIEVE_VARIANT=thread and SWITCH_INTERVAL=0.002; yields (port, its first line)."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "sieved.py"], cwd=SIEVE_DIR, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, SIEVE_PORT=str(port), SIEVE_VARIANT="thread",
                                     SWITCH_INTERVAL="0.002"))
    try:
        yield port, proc.stdout.readline()
    finally:
        proc.kill()
        proc.wait(TIMEOUT)


def test_worker_program_uses_its_settings(worker_program):
    """sieved.py says its variant and switch interval, and answers requests at once with the faithful port."""
    port, first = worker_program
    assert first.endswith(f"listening on port {port} (SIEVE_VARIANT=thread, switch interval 0.002 s)\n")
    replies = {}

    def ask(n):
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as c, c.makefile("rb") as f:
            c.sendall(f"{n} 2\n".encode())
            replies[n] = json.loads(f.readline())

    askers = [threading.Thread(target=ask, args=(n,)) for n, _ in TUTORIAL]
    for a in askers:
        a.start()
    for a in askers:
        a.join(TIMEOUT)
    assert {n: (r["primes"], r["variant"]) for n, r in replies.items()} == {n: (c, "thread") for n, c in TUTORIAL}


def test_worker_port_in_use_is_one_line():
    """The worker on a port another program holds: one line, exit 1, no traceback."""
    with socket.create_server(("", 0)) as taken:
        r = run("sieved.py", SIEVE_PORT=str(taken.getsockname()[1]))
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.startswith("sieved.py: cannot listen on port ") and len(r.stderr.splitlines()) == 1


def test_worker_ctrl_c_is_one_line_and_130():
    """Ctrl-C on the worker waiting for requests: one line, exit 130, no traceback."""
    with socket.create_server(("", 0)) as probe:
        port = probe.getsockname()[1]
    p = subprocess.Popen([sys.executable, "sieved.py"], cwd=SIEVE_DIR, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env={**os.environ, "SIEVE_PORT": str(port)})
    assert "listening on port" in p.stdout.readline()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert (p.returncode, err) == (130, "sieved.py: interrupted\n")
