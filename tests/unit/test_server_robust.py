"""srvr.py against bad peers and bad settings: every case is logged in one line and costs no one else."""

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from served import TIMEOUT, Served, send
from server import srvr

SERVER = Path(srvr.__file__)


def Server(nclients, **limits):
    return Served(nclients, **limits)


def closed(sock):
    """Whether the server has closed sock (EOF or reset) within TIMEOUT."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_idle_client_is_dropped_after_idle_timeout(caplog):
    """A client silent past IDLE_TIMEOUT is logged and dropped; its acknowledged k's count and the session ends."""
    caplog.set_level(logging.INFO, logger="srvr")
    s = Server(2, idle_timeout=0.3)
    idle, busy = s.connect(), s.connect()
    assert send(idle, 5) == 5
    assert send(busy, 7) == 12
    busy.sendall(b"\0")
    assert closed(idle)
    assert s.final() == 12
    assert any("dropped: nothing for 0.3 s (IDLE_TIMEOUT)" in r.getMessage() for r in caplog.records)


def test_connections_past_max_clients_are_closed_at_once(caplog):
    """With MAX_CLIENTS connected, one more is closed at once and logged; the others go on."""
    s = Server(2, max_clients=2)
    a, b = s.connect(), s.connect()
    assert send(a, 1) == 1 and send(b, 2) == 3  # both counted in before the third comes
    extra = s.connect()
    assert closed(extra)
    assert send(a, 3) == 6
    a.sendall(b"\0")
    b.sendall(b"\0")
    assert s.final() == 6
    assert any("refused: 2 connections already (MAX_CLIENTS)" in r.getMessage() for r in caplog.records)


def test_reset_mid_session_costs_no_one_else(caplog):
    """A client whose connection is reset mid-session is logged; the other finishes and the total is exact."""
    s = Server(2)
    a, b = s.connect(), s.connect()
    assert send(a, 10) == 10
    a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # close with RST
    a.close()
    assert send(b, 5) == 15
    b.sendall(b"\0")
    assert s.final() == 15


def test_probes_free_their_threads():
    """A port scan (100 connections closed at once) leaves the server with its own two threads."""
    s = Server(1)
    before = threading.active_count()
    for _ in range(100):
        s.connect().close()
    c = s.connect()
    assert send(c, 1) == 1
    c.sendall(b"\0")
    assert s.final() == 1
    assert threading.active_count() <= before - 1  # the acceptor has ended too


def run_server(env, *args):
    return subprocess.Popen([sys.executable, str(SERVER), *args], cwd=SERVER.parent, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **env})


@pytest.mark.parametrize("env, args, error", [
    ({}, ["x"], "port must be a number from 1 to 65535, not 'x'"),
    ({}, ["70000"], "port must be a number from 1 to 65535, not '70000'"),
    ({"NCLIENTS": "0"}, ["2000"], "NCLIENTS must be a number at least 1, not '0'"),
    ({"MAX_CLIENTS": "many"}, ["2000"], "MAX_CLIENTS must be a number at least 1, not 'many'"),
    ({"IDLE_TIMEOUT": "-1"}, ["2000"], "IDLE_TIMEOUT must be a number at least 0.001, not '-1'"),
    ({"SWITCH_INTERVAL": "0"}, ["2000"], "SWITCH_INTERVAL must be a number at least 1e-06, not '0'"),
    ({"JOIN_WAIT": "soon"}, ["2000"], "JOIN_WAIT must be a number at least 0.1, not 'soon'"),
    ({"LOG_LEVEL": "loud"}, ["2000"], "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, not 'loud'"),
    ({"SERVER_VARIANT": "asyncio", "WAIT": "busy"}, ["2000"], "SERVER_VARIANT=asyncio cannot do WAIT=busy"),
    ({"SERVER_VARIANT": "asyncio", "BREAKPOINT": "on"}, ["2000"], "SERVER_VARIANT=asyncio cannot do BREAKPOINT=on"),
    ({"SERVER_VARIANT": "thread", "BREAKPOINT": "on"}, ["2000"], "SERVER_VARIANT=thread cannot do BREAKPOINT=on"),
])
def test_bad_setting_is_one_line(env, args, error):
    """A bad port or setting stops the server with one line naming it, exit 2, no traceback."""
    p = run_server(env, *args)
    out, err = p.communicate(timeout=TIMEOUT)
    assert (p.returncode, out, err) == (2, "", f"srvr.py: {error}\n")


def test_port_in_use_is_one_line():
    """A port another program holds is one line, exit 1."""
    with socket.create_server(("", 0)) as taken:
        p = run_server({}, str(taken.getsockname()[1]))
        out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 1 and err.startswith("srvr.py: cannot listen on port") and len(err.splitlines()) == 1


def test_sigterm_prints_the_total_so_far():
    """SIGTERM (docker stop) mid-session prints the total so far and exits 0 at once."""
    with socket.create_server(("", 0)) as probe:
        port = probe.getsockname()[1]
    p = run_server({}, str(port))
    assert "listening on port" in p.stdout.readline()
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as c:
        assert send(c, 42) == 42
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 0, err
    assert out.splitlines()[-1] == "stopped: the value of v so far is 42"
    assert err == ""


def test_slow_client_holds_no_one_back():
    """While one client sits mid-session without sending, another does 200 round trips and leaves."""
    s = Server(2)
    slow, fast = s.connect(), s.connect()
    assert send(slow, 1) == 1
    for i in range(200):
        assert send(fast, 1) == (i + 2) % 256
    fast.sendall(b"\0")
    assert closed(fast)
    assert s.thread.is_alive()  # the session waits for the slow one
    assert send(slow, 2) == 203
    slow.sendall(b"\0")
    assert s.final() == 203


def listening_server(settings):
    """srvr.py on a free port with settings, once it says it listens: (process, port)."""
    with socket.create_server(("", 0)) as probe:
        port = probe.getsockname()[1]
    p = run_server(settings, str(port))
    assert "listening on port" in p.stdout.readline()
    return p, port


@pytest.mark.parametrize("variant", ["threading", "thread", "asyncio"])
def test_join_wait_ends_a_session_short_of_nclients(variant):
    """JOIN_WAIT: one of NCLIENTS=2 came and left, and no other came within it: the total so far, exit 1."""
    p, port = listening_server({"SERVER_VARIANT": variant, "NCLIENTS": "2", "JOIN_WAIT": "0.5"})
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as c:
        assert send(c, 42) == 42
        c.sendall(b"\0")
    out, err = p.communicate(timeout=TIMEOUT)
    assert p.returncode == 1, err
    assert out.splitlines()[-2:] == [
        "1 of 2 clients came, and none has been connected for 0.5 s (JOIN_WAIT): ending the session "
        "(a client host not started?)", "stopped: the value of v so far is 42"]
    assert err == ""


def test_join_wait_counts_from_the_start_when_no_client_comes():
    p, _ = listening_server({"JOIN_WAIT": "0.3"})
    out, err = p.communicate(timeout=TIMEOUT)
    assert (p.returncode, out.splitlines()[-1], err) == (1, "stopped: the value of v so far is 0", "")
    assert "0 of 2 clients came" in out


@pytest.mark.parametrize("variant", ["threading", "thread", "asyncio"])
def test_join_wait_does_not_run_while_a_client_is_connected(variant):
    """A client connected for four times JOIN_WAIT, the second coming only then: the session ends as usual."""
    p, port = listening_server({"SERVER_VARIANT": variant, "NCLIENTS": "2", "JOIN_WAIT": "0.3"})
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as first:
        assert send(first, 5) == 5
        threading.Event().wait(1.2)
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as second:
            assert send(second, 7) == 12
            first.sendall(b"\0")
            second.sendall(b"\0")
        out, err = p.communicate(timeout=TIMEOUT)
    assert (p.returncode, out.splitlines()[-1]) == (0, "the final value of v is 12"), out + err
