"""refservers.py: the benchmark's references serve the lab's protocol as srvr.py does, on 127.0.0.1."""

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from bench import refservers
from common import protocol
from served import Served, send

ROOT = Path(__file__).resolve().parents[2]

TIMEOUT = 10  # seconds: any wait longer than this is a bug, and fails the test instead of hanging it
SERVERS = ["lab", "socketserver", "asyncio"]  # the lab's server and the two that must behave exactly like it


def leave(sock):
    sock.sendall(protocol.encode_k(protocol.LEAVE))
    assert sock.recv(1) == b""
    sock.close()


@pytest.mark.parametrize("kind", SERVERS)
def test_the_tutorials_interleaving(kind):
    """Two clients take turns; each sees the running total; the final v is exact."""
    s = Served(2, kind=kind)
    a, b = s.connect(), s.connect()
    assert [send(a, 5), send(b, 9), send(a, 12), send(a, 7), send(b, 3), send(b, 21)] == [5, 14, 26, 33, 36, 57]
    leave(a)
    leave(b)
    assert s.final() == 57


@pytest.mark.parametrize("kind", SERVERS)
def test_past_255_the_echo_wraps_and_the_final_does_not(kind):
    s = Served(1, kind=kind)
    a = s.connect()
    assert [send(a, 200), send(a, 100), send(a, 255), send(a, 1)] == [200, 300 % 256, 555 % 256, 556 % 256]
    leave(a)
    assert s.final() == 556


@pytest.mark.parametrize("kind", SERVERS)
def test_a_probe_is_not_a_client(kind):
    """A connection closed before its first byte does not count toward NCLIENTS."""
    s = Served(1, kind=kind)
    s.connect().close()
    a = s.connect()  # had the probe counted, the session would be over
    assert send(a, 7) == 7
    leave(a)
    assert s.final() == 7


@pytest.mark.parametrize("kind", SERVERS)
def test_a_client_vanishing_still_ends_the_session(kind):
    """A client that closes without k = 0 ends its part; what it had added stays."""
    s = Served(1, kind=kind)
    a = s.connect()
    assert send(a, 40) == 40
    a.close()
    assert s.final() == 40


@pytest.mark.parametrize("kind", SERVERS)
def test_session_waits_for_every_client(kind):
    """With two clients expected, the first leaving does not end the session."""
    s = Served(2, kind=kind)
    a = s.connect()
    assert send(a, 4) == 4
    leave(a)
    b = s.connect()
    assert send(b, 6) == 10
    leave(b)
    assert s.final() == 10


def test_pingpong_echoes_each_byte_and_sums_them():
    """The floor sends each k straight back, and its 'final value' is the sum of what it echoed."""
    s = Served(2, kind="pingpong")
    a, b = s.connect(), s.connect()
    assert [send(a, 200), send(b, 100), send(a, 7)] == [200, 100, 7]
    leave(a)
    leave(b)
    assert s.final() == 307


@pytest.mark.parametrize("kind", ["socketserver", "asyncio", "pingpong"])
def test_main_prints_listening_then_the_final_value(kind):
    """refservers.py KIND PORT, as the benchmark starts it: a listening line first, the final value last."""
    env = {"NCLIENTS": "1", "PYTHONPATH": str(ROOT / "services")}
    p = subprocess.Popen([sys.executable, str(ROOT / "services" / "bench" / "refservers.py"), kind, "0"],
                         stdout=subprocess.PIPE, text=True, env=env)
    try:
        first = p.stdout.readline()
        found = re.search(r"listening on port (\d+) for 1 client \((\w+)\)$", first.strip())
        assert found and found[2] == kind, first
        port = int(found[1])
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as c:
            assert send(c, 9) == 9
            leave(c)
        out, _ = p.communicate(timeout=TIMEOUT)
    finally:
        p.kill()
    assert p.returncode == 0
    assert out.splitlines()[-1] == "the final value of v is 9"


@pytest.mark.parametrize("argv", [["refservers.py"], ["refservers.py", "nginx", "2000"], ["refservers.py", "asyncio"]])
def test_main_usage(argv, capsys):
    assert refservers.main(argv) == 2
    assert capsys.readouterr().err.startswith("usage: ")
