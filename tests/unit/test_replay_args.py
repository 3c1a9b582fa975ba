"""scripts/replay refuses bad input with one line, before it touches Docker."""

import subprocess

import pytest

from threadlab.lab import ROOT

REPLAY = [str(ROOT / "scripts" / "replay")]


@pytest.mark.parametrize("text, error", [
    ("u.v.w: 5 zz 0\n", "bad.scn:1: 'zz' is not a number"),
    ("\n\nq.q.q: 5 0\n", "bad.scn:3: q.q.q is not a client host of the lab"),
    ("pace fast\nu.v.w: 0\n", "bad.scn:1: expected 'pace S jitter S'"),
])
def test_malformed_scenario_is_one_line_and_exit_2(tmp_path, text, error):
    """A malformed scenario, or one naming a host the lab lacks, gets one line naming file and line, and exit 2."""
    path = tmp_path / "bad.scn"
    path.write_text(text)
    r = subprocess.run(REPLAY + [str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and error in r.stderr, r.stderr


def test_missing_scenario_file(tmp_path):
    """A scenario file that does not exist is one line, exit 2."""
    r = subprocess.run(REPLAY + [str(tmp_path / "nope.scn")], capture_output=True, text=True, timeout=30)
    assert (r.returncode, len(r.stderr.splitlines())) == (2, 1)
    assert "nope.scn" in r.stderr


def test_no_arguments_prints_usage():
    """Without a scenario the runner prints its usage, exit 2."""
    r = subprocess.run(REPLAY, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and r.stderr.startswith("usage: scripts/replay")
