"""scripts/capture during a replay: the wire holds exactly the replay's k's and v's, in order, per connection."""

import os
import subprocess
import sys
import time

import pytest
from capture import wire
from conftest import net, project
from replays import Replay

from threadlab.lab import ROOT, Lab

PROJECT = project("threadlab-test-capture")
NET = net(50)
CAPTURE = [str(ROOT / "scripts" / "capture")]


def cleanup():
    """Whatever this test started: the replay's lab, and any capture host left."""
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}",
                           "--filter", "label=org.threadlab.capture=1"], capture_output=True, text=True).stdout.split()
    if left:
        subprocess.run(["docker", "rm", "-f", *left], capture_output=True)
    Lab(PROJECT, NET).down()


def wait_for(proc, text, timeout):
    """The lines proc printed up to the first one holding text."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"no {text!r} from scripts/capture:\n{''.join(seen)}")


def conversations(paths):
    """{client host: [(k or v, byte), ...]} from the pcaps, and every connection's control lines."""
    talk, control = {}, {}
    for path in paths:
        for line in wire.decode(path.read_bytes(), names=wire.names_for(NET)):
            client = line.src if line.dst.startswith("a.b.c:") else line.dst
            if line.byte is not None and "again" not in line.what:
                talk.setdefault(client, []).append((line.what, line.byte))
            elif line.byte is None and "again" not in line.what and line.what != "ACK":
                control.setdefault(client, []).append(("→" if line.dst.startswith("a.b.c:") else "←", line.what))
    return talk, control


@pytest.mark.integration
def test_a_replay_on_the_wire(docker_engine, tmp_path):
    cleanup()
    out, captures = tmp_path / "replay", tmp_path / "capture"
    capture = subprocess.Popen(CAPTURE + ["-p", PROJECT, "--out", str(captures)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    replay = None
    try:
        wait_for(capture, "waiting for its a.b.c to start", 60)
        replay = Replay(PROJECT, NET, [ROOT / "scenarios" / "tutorial.scn"], out)
        code, printed, results = replay.result(timeout=120)
        assert code == 0, printed
        rest, _ = capture.communicate(timeout=30)  # it ends by itself once the replay's lab is down
        assert capture.returncode == 0, rest
    finally:
        if replay:
            replay.stop()
        if capture.poll() is None:
            capture.terminate()
            capture.communicate(timeout=30)
        cleanup()
    print(rest)
    assert f"capture: {PROJECT} is down" in rest

    # one pcap per server container: the one the lab came up with (no client met it), the scenario's
    paths = sorted(captures.glob("*.pcap"))
    assert [p.name for p in paths] == [f"{PROJECT}-1.pcap", f"{PROJECT}-2.pcap"], rest
    for p in paths:
        assert p.read_bytes()[:4] == bytes.fromhex("d4c3b2a1")  # libpcap's, microseconds, as Wireshark opens
    talk, control = conversations(paths)

    clients = results["tutorial"]["clients"]
    expected = {}
    for host, c in clients.items():
        bytes_ = [b for k, v in c["echoes"] for b in (("k", k), ("v", v))]
        expected[host] = bytes_ + [("k", 0)] if c["left"] in ("0", "EOF") else bytes_
    assert {conn.split(":")[0]: b for conn, b in talk.items()} == expected
    assert len(talk) == len(clients)  # one connection a client
    for conn, lines in control.items():
        assert lines[:2] == [("→", "SYN"), ("←", "SYN-ACK")], conn  # the capture was there first
        assert ("→", "FIN") in lines and ("←", "FIN") in lines, conn

    # tcpdump reads the file back: as many packets as wire.py found in it
    r = subprocess.run(["docker", "run", "--rm", "-v", f"{captures}:/c:ro", "threadlab-capture:3.11",
                        "tcpdump", "-nn", "-r", f"/c/{PROJECT}-2.pcap"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == len(wire.parse(paths[1].read_bytes())[1]) > 0


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v", "-s"]))
