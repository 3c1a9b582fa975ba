"""The scripts people run: --help prints the usage at once, from this machine's python3, and installs nothing."""

import shutil
import subprocess

import pytest

from threadlab.lab import ROOT


@pytest.mark.parametrize("script", ["balance", "bench"])
def test_help_installs_nothing(tmp_path, script):
    """No Compose, no base, no primesieve, no .venv (220 MB with matplotlib) before the usage."""
    for part in ("scripts", "threadlab", "services"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    r = subprocess.run([str(tmp_path / "scripts" / script), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith(f"usage: scripts/{script}"), r.stdout + r.stderr
    assert not (tmp_path / ".venv").exists()


def test_bench_refuses_bad_arguments_before_installing(tmp_path):
    for part in ("scripts", "threadlab", "services"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    r = subprocess.run([str(tmp_path / "scripts" / "bench"), "--only", "nope"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert r.stderr.splitlines()[-1] == "scripts/bench: error: parts are server, sieve, lifecycle, suite; hosts from 1 to 8"
    assert not (tmp_path / ".venv").exists()
