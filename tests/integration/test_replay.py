"""scripts/replay on the live lab: the shipped scenarios, a failing one, and a recorded session."""

import re
import subprocess

import pytest
from conftest import SCENARIOS, alone, as_documented

from threadlab.lab import Terminal

SHIPPED = [p.stem for p in SCENARIOS]


@pytest.fixture(scope="module")
def recording(lab, tmp_path_factory):
    """Two people type by hand on u.v.w and x.y.z with --record; returns (scenario file, the server's final value)."""
    lab.compose("up", "-d", "--wait", "server")
    terminals = {}
    for service, host in [("client1", "u.v.w"), ("client2", "x.y.z")]:
        terminals[host] = Terminal(["docker", "exec", "-it", lab.container(service), "python3", "clnt.py",
                                    "a.b.c", "2000", "--as", host, "--record", "/tmp/rec.scn"], lab.env)
        terminals[host].expect("input k ")
    for host, keys in [("u.v.w", "5"), ("x.y.z", "200"), ("u.v.w", "oops"), ("x.y.z", "100"), ("u.v.w", "7")]:
        terminals[host].type(keys + "\n")
        terminals[host].expect("input k ")
    terminals["u.v.w"].type("0\n")
    terminals["x.y.z"].type("\x04")
    assert [t.close() for t in terminals.values()] == [0, 0]
    subprocess.run(["docker", "wait", lab.container("server")], capture_output=True, timeout=30)
    final = int(lab.logs("server").splitlines()[-1].rsplit(" ", 1)[1])
    parts = [subprocess.run(["docker", "exec", lab.container(s), "cat", "/tmp/rec.scn"], capture_output=True,
                            text=True, check=True).stdout for s in ("client1", "client2")]
    path = tmp_path_factory.mktemp("rec") / "recorded.scn"
    path.write_text("".join(parts))
    return path, final


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_passes(replays, name):
    """Each shipped scenario replays on the lab with an exact total, one serial order and its expectations."""
    code, out, results = replays["stock"].result()
    assert results[name]["problems"] == [], out
    assert results[name]["result"] == "PASS"
    waited, used = map(float, re.search(r"waited ([\d.]+) s and used ([\d.]+) s of CPU \(blocking wait\)",
                                        results[name]["main thread"]).groups())
    assert used <= 0.1 * waited + 0.05  # the main thread sleeps while clients are served
    assert re.search(rf"replay \S*{name}\.scn: \d+ clients on a\.b\.c:2000\n(.*\n)*?  PASS ", out)


def test_the_readmes_replay(replays):
    """`scripts/replay scenarios/tutorial.scn` prints the README's block."""
    as_documented("scripts/replay scenarios/tutorial.scn", replays["tutorial"])


def test_failing_scenario_is_reported_and_exits_1(replays):
    """A scenario whose expectation does not hold is reported as FAIL with the reason, and the runner exits 1."""
    code, out, results = replays["stock"].result()
    assert code == 1, out
    assert results["wrong-final"]["problems"] == ["expected the final value 4, got 3"]
    assert "  FAIL    expected the final value 4, got 3" in out
    assert out.rstrip().endswith(f"replay: tearing down {replays['stock'].project}\nreplay: 6 scenarios, 1 failed")


def test_recorded_session_replays_to_same_final_value(replays, recording, tmp_path):
    """A session typed by hand and recorded on two hosts replays to the final value it had."""
    path, final = recording
    assert final == 312
    assert 'u.v.w: ' in path.read_text() and "EOF" in path.read_text()
    code, out, results = alone(replays, [path], tmp_path)
    assert code == 0, out
    assert results["recorded"]["final"] == final, out
    assert results["recorded"]["problems"] == []
