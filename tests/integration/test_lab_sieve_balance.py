"""scripts/balance in the lab's sieve host: a lab of its own, measured and torn down."""

import json
import math
import os
import subprocess

from conftest import net, project

from threadlab.lab import ROOT, Lab

PROJECT = project("threadlab-test-balance")  # not threadlab-balance, which a person's run may have up
NET = net(5)


def left_up():
    """The project's containers and networks still there."""
    label = f"label=com.docker.compose.project={PROJECT}"
    return [r.stdout.split() for r in (
        subprocess.run(["docker", *kind, "-q", "--filter", label], capture_output=True, text=True, check=True)
        for kind in (["ps", "-a"], ["network", "ls"]))]


def test_balance_quick_in_the_lab(docker_engine, tmp_path):
    """scripts/balance --quick sieves in the lab's sieve host, prints the tables, writes the PNG, leaves nothing up."""
    env = dict(os.environ, BALANCE_PROJECT=PROJECT, BALANCE_NET=NET, BALANCE_OUT=str(tmp_path))
    try:
        r = subprocess.run([str(ROOT / "scripts" / "balance"), "--quick"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=900)
        left = left_up()
    finally:
        Lab(PROJECT, NET, profiles=()).down()
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert f"balance: the sieve in the lab's sieve host (project {PROJECT} on {NET}.0/24)" in lines
    assert any(line.startswith("balance: Python 3.") and line.endswith("on host sieve; 3 runs of each setting")
               for line in lines)
    assert f"balance: tearing down {PROJECT}" in lines
    assert sum(line.split()[:2] == ["100000", "2"] for line in lines) == 3  # a row in each variant's table
    assert (tmp_path / "balance-quick.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((tmp_path / "balance-quick.json").read_text())
    assert (report["where"], report["host"]) == ("the lab's sieve host", "sieve")
    assert all(sum(run) == math.isqrt(x["n"]) - 1 for x in report["results"] for run in x["work"])
    assert left == [[], []]
