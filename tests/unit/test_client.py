"""clnt.py: the client's main() against the real server, in-process on 127.0.0.1."""

import builtins
import json
import logging
import socket
import threading
import time

import pytest
from client import clnt
from served import TIMEOUT, Served


@pytest.fixture
def server():
    """Start Served(nclients) servers; close their listeners after the test."""
    servers = []

    def start(nclients=1):
        servers.append(Served(nclients))
        return servers[-1]

    yield start
    for s in servers:
        s.listener.close()


def bounded(fn, *args):
    """fn(*args) on a daemon thread; its return value, or a failure if it takes longer than TIMEOUT."""
    out = {}

    def call():
        try:
            out["value"] = fn(*args)
        except BaseException as e:  # re-raised in the test's thread
            out["error"] = e

    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(timeout=TIMEOUT)
    assert not t.is_alive(), f"{fn.__name__} hung"
    if "error" in out:
        raise out["error"]
    return out["value"]


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 where nothing listens."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        return str(s.getsockname()[1])


def play(tmp_path, text, port, host="h1", *extra):
    path = tmp_path / "play.scn"
    path.write_text(text)
    return bounded(clnt.main, ["clnt.py", "127.0.0.1", port, "--play", str(path), "--as", host, *extra])


def test_play_prints_each_v_and_writes_transcript(server, tmp_path, capsys):
    """--play types the host's part, prints 'HOST: sent K, v is V' per k, and --transcript saves the echoes."""
    s = server()
    transcript = tmp_path / "h1.json"
    rc = play(tmp_path, "pace 0\nh1: 5 12 200 0\n", str(s.port), "h1", "--transcript", str(transcript))
    assert rc == 0
    assert capsys.readouterr().out.splitlines() == [
        "h1: sent 5, v is 5",
        "h1: sent 12, v is 17",
        "h1: sent 200, v is 217",
        "h1: sent 0, leaving",
    ]
    saved = json.loads(transcript.read_text())
    times = saved.pop("t")  # when each echo came back, seconds since the client's start (the race's timeline)
    assert abs(saved.pop("start") - time.time()) < 60
    assert saved == {"client": "h1", "echoes": [[5, 5], [12, 17], [200, 217]], "refused": 0, "left": "0"}
    assert len(times) == 3 and 0 <= times[0] <= times[1] <= times[2]
    assert s.final() == 217


def test_play_two_hosts_at_once(server, tmp_path, capsys):
    """Two clients playing one scenario together give the scenario's final value, and their transcripts add up."""
    s = server(2)
    path = tmp_path / "two.scn"
    path.write_text("pace 0\nu.v.w: 5 12 7 30 0\nx.y.z: 9 3 21 8 0\nexpect final 95\n")
    results = {}

    def run(host):
        results[host] = clnt.main(["clnt.py", "127.0.0.1", str(s.port), "--play", str(path), "--as", host,
                                   "--transcript", str(tmp_path / f"{host}.json")])

    threads = [threading.Thread(target=run, args=(h,), daemon=True) for h in ("u.v.w", "x.y.z")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert results == {"u.v.w": 0, "x.y.z": 0}
    assert s.final() == 95
    echoes = [e for h in results for e in json.loads((tmp_path / f"{h}.json").read_text())["echoes"]]
    assert max(v for _, v in echoes) == 95
    assert sum(k for k, _ in echoes) == 95
    assert capsys.readouterr().out.count(", v is ") == 8  # lines of the two threads may interleave


@pytest.mark.parametrize("token, told", [
    ('"abc"', "'abc' is not a number"),
    ('"5.5"', "'5.5' is not a number"),
    ("300", "300 is out of range"),
    ("-1", "-1 is out of range"),
    ('""', "empty line"),
    ('"   "', "empty line"),
])
def test_bad_line_is_told_and_not_sent(server, tmp_path, capsys, token, told):
    """A line that is not a k from 0 to 255 gets one line saying why, and nothing is sent for it."""
    s = server()
    assert play(tmp_path, f"h1: 5 {token} 6 0\n", str(s.port)) == 0
    assert capsys.readouterr().out.splitlines() == [
        "h1: sent 5, v is 5",
        f"h1: {told}: type a number from 0 to 255 (0 to leave)",
        "h1: sent 6, v is 11",
        "h1: sent 0, leaving",
    ]
    assert s.final() == 11


def test_eof_sends_zero(server, tmp_path, capsys, caplog):
    """EOF in a scenario sends k = 0: the server sees the client leave properly."""
    caplog.set_level(logging.INFO, logger="srvr")
    s = server()
    assert play(tmp_path, "h1: 5 EOF\n", str(s.port)) == 0
    assert capsys.readouterr().out.splitlines() == ["h1: sent 5, v is 5", "h1: end of input: sending 0 and leaving"]
    assert s.final() == 5
    assert any("sent 0 and left" in r.getMessage() for r in caplog.records)


def test_by_hand_ctrl_d_sends_zero(server, monkeypatch, capsys, caplog):
    """At the prompt, each v is printed bare (wrapped past 255), a bad line is told, and Ctrl-D sends 0."""
    caplog.set_level(logging.INFO, logger="srvr")
    typed = iter(["5", "x", "255"])

    def fake_input(prompt):
        assert prompt == "input k "
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(builtins, "input", fake_input)
    s = server()
    assert bounded(clnt.main, ["clnt.py", "127.0.0.1", str(s.port)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "5",
        "'x' is not a number: type a number from 0 to 255 (0 to leave)",
        "4",
        "",
        "end of input: sending 0 and leaving",
    ]
    assert s.final() == 260
    assert any("sent 0 and left" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("mode", [[], ["--play", "SCENARIO", "--as", "h1"]], ids=["by hand", "play"])
def test_closed_port_fails_with_one_line(closed_port, tmp_path, capsys, mode):
    """Connecting where nothing listens returns 1 with one line on stderr and no traceback."""
    path = tmp_path / "s.scn"
    path.write_text("h1: 5 0\n")
    argv = ["clnt.py", "127.0.0.1", closed_port] + [str(path) if a == "SCENARIO" else a for a in mode]
    assert bounded(clnt.main, argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"clnt.py: cannot reach 127.0.0.1:{closed_port}: ")
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_server_closing_mid_session_fails_with_one_line(tmp_path, capsys):
    """A server that hangs up instead of echoing makes the client return 1 with one line, no traceback."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = str(listener.getsockname()[1])

        def hang_up():
            conn, _ = listener.accept()
            with conn:
                conn.recv(1)

        t = threading.Thread(target=hang_up, daemon=True)
        t.start()
        assert play(tmp_path, "h1: 5 0\n", port) == 1
        t.join(timeout=TIMEOUT)
    assert capsys.readouterr().err == "clnt.py: the server closed the connection\n"


def test_host_without_part_does_not_join(closed_port, tmp_path, capsys):
    """A host with no part in the scenario says 'not joining' and returns 0 without connecting."""
    path = tmp_path / "s.scn"
    path.write_text("h1: 5 0\n")
    # nothing listens on closed_port: had the client tried to connect, it would return 1
    assert bounded(clnt.main, ["clnt.py", "127.0.0.1", closed_port, "--play", str(path), "--as", "h9"]) == 0
    out, err = capsys.readouterr()
    assert out == f"h9: no part in {path}; not joining\n"
    assert err == ""


def test_malformed_scenario_fails_with_one_line(closed_port, tmp_path, capsys):
    """A malformed scenario returns 2 with 'clnt.py: path:LINE: what' on stderr, before connecting."""
    path = tmp_path / "bad.scn"
    path.write_text("h1: 5 0\nh2: five 0\n")
    assert bounded(clnt.main, ["clnt.py", "127.0.0.1", closed_port, "--play", str(path), "--as", "h1"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"clnt.py: {path}:2: 'five' is not a number")
    assert len(err.splitlines()) == 1


def test_play_reads_scenario_from_stdin(server, monkeypatch, capsys):
    """--play - takes the scenario from standard input, as scripts/replay sends it."""
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("h1: 7 8 0\n"))
    s = server()
    assert bounded(clnt.main, ["clnt.py", "127.0.0.1", str(s.port), "--play", "-", "--as", "h1"]) == 0
    assert "h1: sent 8, v is 15" in capsys.readouterr().out
    assert s.final() == 15


def test_recording_replays_to_same_final_value(server, monkeypatch, tmp_path, capsys):
    """What is typed by hand (bad lines and Ctrl-D too) is recorded as a part that replays to the same final value."""
    typed = iter(["5", "abc", "", "250", "12"])

    def fake_input(prompt):
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(builtins, "input", fake_input)
    ticks = iter([0.0, 0.004, 0.5, 0.5, 1.25, 1.25, 1.26])  # the person's clock: 0.5 s of thought, 0.75, 0.01
    monkeypatch.setattr(clnt, "clock", lambda: next(ticks, 1.26))
    recording = tmp_path / "rec.scn"
    s = server()
    assert bounded(clnt.main, ["clnt.py", "127.0.0.1", str(s.port), "--as", "u.v.w", "--record", str(recording)]) == 0
    assert recording.read_text() == 'u.v.w: 5 +0.50 "abc" "" +0.75 250 12 +0.01 EOF\n'
    recorded_final = s.final()

    again = server()
    assert play(tmp_path, recording.read_text(), str(again.port), "u.v.w") == 0
    assert again.final() == recorded_final == 267


def test_recording_keeps_the_pauses(monkeypatch):
    """The recorder writes the pauses between lines as waits."""
    t = clnt.Transcript("u.v.w")
    clock = iter([11.5, 11.5, 14.25])
    monkeypatch.setattr(clnt, "clock", lambda: next(clock))
    t.last = 10.0
    for text in ("5", '"quoted"', clnt.scenario.EOF):
        t.type(text)
    assert t.as_part() == "u.v.w: +1.50 5 \"'quoted'\" +2.75 EOF\n"
