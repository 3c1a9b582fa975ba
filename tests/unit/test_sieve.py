"""variants.py, primes.py and sieved.py: the tutorial's threaded sieve, here and on the worker."""

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from sieve import primes, sieved, variants

from threadlab.lab import ROOT

TIMEOUT = 30  # seconds: any wait longer than this is a bug, and fails the test instead of hanging it
TUTORIAL = list(variants.TUTORIAL.items())  # section 5.2's runs
EXIT_LINE = re.compile(r"thread (\d+) exiting; processed (\d+) values of k$")


@pytest.mark.parametrize("nthreads", [1, 2, 4])
@pytest.mark.parametrize("n, count", TUTORIAL)
def test_count_primes_matches_the_tutorial(n, count, nthreads):
    """count_primes gives the tutorial's prime counts, with any number of threads."""
    assert variants.count_primes(n, nthreads)[0] == count


@pytest.mark.parametrize("nthreads", [1, 2, 4])
@pytest.mark.parametrize("n", [n for n, _ in TUTORIAL])
def test_work_is_shared_out_exactly_once(n, nthreads):
    """Each k from 2 to isqrt(n) is processed by exactly one thread, and each thread reports once."""
    _, work = variants.count_primes(n, nthreads)
    assert sorted(tn for tn, _ in work) == list(range(nthreads))
    assert sum(nk for _, nk in work) == math.isqrt(n) - 1


@pytest.mark.parametrize("n, count", [(2, 1), (3, 2), (4, 2), (25, 9), (49, 15), (120, 30), (121, 30)])
def test_count_primes_small_and_square_n(n, count):
    """Small n and perfect squares (k = isqrt(n) must still cross out n) are counted right."""
    assert variants.count_primes(n, 3)[0] == count


def test_on_exit_is_called_once_per_thread():
    """on_exit(tn, nk) is called once by each thread, with what work reports."""
    calls = []
    _, work = variants.count_primes(10000, 3, on_exit=lambda tn, nk: calls.append((tn, nk)))
    assert sorted(calls) == sorted(work)


@pytest.mark.parametrize("n, nthreads", [(1, 2), (0, 1), (100, 0)])
def test_count_primes_refuses_bad_arguments(n, nthreads):
    """n below 2 or no threads is a ValueError, not an empty answer."""
    with pytest.raises(ValueError):
        variants.count_primes(n, nthreads)


def check_tutorial_output(out, n, nthreads, count):
    """out is one exit line per thread, as in the tutorial, then 'there are COUNT primes'."""
    lines = out.splitlines()
    assert lines[-1] == f"there are {count} primes"
    exits = [EXIT_LINE.match(line) for line in lines[:-1]]
    assert all(exits), lines
    assert sorted(int(m[1]) for m in exits) == list(range(nthreads))
    assert sum(int(m[2]) for m in exits) == math.isqrt(n) - 1


@pytest.mark.parametrize("n, count", TUTORIAL[:3])
def test_primes_main_prints_the_tutorials_lines(capsys, n, count):
    """primes.py n 2 prints 'thread I exiting; processed NK values of k' per thread, then the count."""
    assert primes.main(["primes.py", str(n), "2"]) == 0
    check_tutorial_output(capsys.readouterr().out, n, 2, count)


def test_primes_main_bad_n(capsys):
    """primes.py with n = 1 returns 2 (a bad argument) with one line on stderr."""
    assert primes.main(["primes.py", "1", "2"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("primes.py: n must be at least 2") and len(err.splitlines()) == 1


@pytest.mark.parametrize("line, error", [
    ("", "expected 'n nthreads', got ''"),
    ("100\n", "expected 'n nthreads', got '100'"),
    ("100 2 3\n", "expected 'n nthreads', got '100 2 3'"),
    ("hundred two\n", "expected 'n nthreads', got 'hundred two'"),
    ("100 2.5\n", "expected 'n nthreads', got '100 2.5'"),
    ("1 2\n", "n must be from 2 to"),
    (f"{sieved.MAX_N + 1} 2\n", f"n must be from 2 to {sieved.MAX_N}, not {sieved.MAX_N + 1}"),
    ("100 0\n", f"threads must be from 1 to {sieved.MAX_THREADS}, not 0"),
    (f"100 {sieved.MAX_THREADS + 1}\n", "threads must be from 1 to"),
])
def test_answer_refuses_bad_requests(line, error):
    """A bad request gets {'error': one line} and no sieving."""
    reply = sieved.answer(line)
    assert list(reply) == ["error"]
    assert reply["error"].startswith(error)
    assert "\n" not in reply["error"]


@pytest.mark.parametrize("line", ["100 2\n", "  100   2  ", "100 2\r\n"])
def test_answer_good_request(line):
    """'n nthreads' gets the count and each thread's work, as JSON-ready data."""
    reply = sieved.answer(line)
    assert reply["primes"] == 25
    assert sorted(tn for tn, _ in reply["work"]) == [0, 1]
    assert sum(nk for _, nk in reply["work"]) == 9
    json.dumps(reply)


@pytest.fixture
def worker():
    """The sieve worker's handle() serving connections on 127.0.0.1 from a daemon thread; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        while True:
            try:
                conn, addr = listener.accept()
            except OSError:
                return
            threading.Thread(target=sieved.handle, args=(conn, addr), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.parametrize("n, count", TUTORIAL)
def test_ask_the_worker(worker, n, count):
    """sieved.ask gets the worker's count and work list over a real socket."""
    got, work = sieved.ask("127.0.0.1", worker, n, 2, timeout=TIMEOUT)
    assert got == count
    assert sorted(tn for tn, _ in work) == [0, 1]
    assert all(isinstance(w, tuple) for w in work)
    assert sum(nk for _, nk in work) == math.isqrt(n) - 1


def test_ask_reports_the_workers_error(worker):
    """A request the worker refuses comes back from ask as a ValueError quoting it."""
    with pytest.raises(ValueError, match="says: threads must be from 1 to"):
        sieved.ask("127.0.0.1", worker, 100, 0, timeout=TIMEOUT)


@pytest.mark.parametrize("request_bytes", [b"garbage\n", b"9" * 200 + b"\n", b"\xff\xfe 2\n", b"100 2"])
def test_handle_answers_anything_with_one_json_line(worker, request_bytes):
    """Whatever arrives (garbage, too long, not ASCII, no newline), the worker replies one JSON line."""
    with socket.create_connection(("127.0.0.1", worker), timeout=TIMEOUT) as s:
        s.sendall(request_bytes)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.endswith(b"\n") and data.count(b"\n") == 1
    reply = json.loads(data)
    assert ("error" in reply) != ("primes" in reply)


def test_primes_main_asks_the_worker(worker, capsys):
    """primes.py --host --port prints the tutorial's lines from the worker's answer."""
    assert primes.main(["primes.py", "100000", "2", "--host", "127.0.0.1", "--port", str(worker)]) == 0
    check_tutorial_output(capsys.readouterr().out, 100000, 2, 9592)


def test_primes_main_worker_unreachable(capsys):
    """primes.py --host with nothing listening returns 1 with one line on stderr."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    assert primes.main(["primes.py", "100", "2", "--host", "127.0.0.1", "--port", str(port)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("primes.py: ") and len(err.splitlines()) == 1


def test_ctrl_c_is_one_line_and_130_at_once():
    """Ctrl-C while the sieve's threads work: "primes.py: interrupted", exit 130, no traceback, and the
    program does not wait for its threads to finish the sieve (3 * 10^8: tens of seconds). The _thread
    variant ends the same way (its threads are daemons by nature), but one such run took 26 s on a
    loaded machine: it is not tested here."""
    p = subprocess.Popen([sys.executable, str(ROOT / "services" / "sieve" / "primes.py"), str(3 * 10**8), "2"],
                         env=dict(os.environ, PYTHONPATH=str(ROOT / "services"), SIEVE_VARIANT="threading"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(os.listdir(f"/proc/{p.pid}/task")) < 3:  # the two sieve threads are at work
        assert time.monotonic() < deadline and p.poll() is None, p.communicate()
        time.sleep(0.01)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    assert (p.returncode, err, out) == (130, "primes.py: interrupted\n", "")
