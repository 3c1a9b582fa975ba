"""clnt.py when things go wrong: Ctrl-C, a silent server, a server that goes away. One line each, never a traceback."""

import builtins
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from client import clnt

TIMEOUT = 10
CLIENT = Path(clnt.__file__)


class Silent:
    """A listener that takes bytes and never answers: a stopped or cut-off server."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = str(self.listener.getsockname()[1])
        self.got = b""
        self.thread = threading.Thread(target=self._take, daemon=True)
        self.thread.start()

    def _take(self):
        conn, _ = self.listener.accept()
        with conn:
            conn.settimeout(TIMEOUT)
            while data := conn.recv(16):
                self.got += data

    def received(self):
        self.thread.join(timeout=TIMEOUT)
        self.listener.close()
        return self.got


def test_silent_server_is_one_line(monkeypatch, capsys):
    """A server that never answers gives one line after ECHO_TIMEOUT, exit 1, not a hang."""
    monkeypatch.setattr(clnt, "ECHO_TIMEOUT", 0.3)
    typed = iter(["5"])
    monkeypatch.setattr(builtins, "input", lambda prompt: next(typed))
    s = Silent()
    assert clnt.main(["clnt.py", "127.0.0.1", s.port]) == 1
    assert capsys.readouterr().err == "clnt.py: no v from the server within 0.3 s\n"


def test_ctrl_c_at_the_prompt_sends_zero(monkeypatch, capsys):
    """Ctrl-C at the prompt leaves like Ctrl-D: 0 is sent, exit 0."""
    def interrupt(prompt):
        raise KeyboardInterrupt

    monkeypatch.setattr(builtins, "input", interrupt)
    s = Silent()
    assert clnt.main(["clnt.py", "127.0.0.1", s.port]) == 0
    assert "end of input: sending 0 and leaving" in capsys.readouterr().out
    assert s.received() == b"\0"


def test_ctrl_c_while_waiting_for_v_sends_zero():
    """Ctrl-C while the client waits for its v sends 0, says so in one line, and exits 130."""
    s = Silent()
    p = subprocess.Popen([sys.executable, str(CLIENT), "127.0.0.1", s.port], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=CLIENT.parent,
                         env=os.environ)
    p.stdin.write("7\n")
    p.stdin.flush()
    for _ in range(1000):  # until the server has the 7: then the client waits in recv
        if s.got == b"\7":
            break
        threading.Event().wait(0.01)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=TIMEOUT)
    assert (p.returncode, err) == (130, "")
    assert out.endswith("interrupted: sending 0 and leaving\n")
    assert s.received() == b"\7\0"


def test_load_mode_is_exact_against_the_servers_log(tmp_path, caplog, capsys):
    """--load 60 --ks 30: every k is added once, the total is exact, and the echoes match the server's log."""
    import json
    import logging

    from common import check
    from served import Served

    caplog.set_level(logging.DEBUG, logger="srvr")
    s = Served(61, idle_timeout=TIMEOUT)
    transcript = tmp_path / "load.json"
    assert clnt.main(["clnt.py", "127.0.0.1", str(s.port), "--load", "60", "--ks", "30", "--seed", "3",
                      "--as", "h", "--transcript", str(transcript)]) == 0
    with s.connect() as last:
        last.sendall(b"\0")
    connections = json.loads(transcript.read_text())["connections"]
    total = sum(k for echoes in connections.values() for k, _ in echoes)
    assert s.final() == total
    assert len(connections) == 60 and all(len(e) == 30 for e in connections.values())
    log = "\n".join(r.getMessage() for r in caplog.records if r.name == "srvr")
    assert log.count(" -> v ") == 1800
    assert check.verify_log(log, connections) == []
    assert "h: 60 connections x 30 k's: 1800 round trips in" in capsys.readouterr().out
