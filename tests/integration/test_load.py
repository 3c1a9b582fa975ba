"""Load: 1000 connections at once from four client hosts, each sending 40 k's; nothing is lost."""

import json
import re
import subprocess
import time

import pytest
from common import check
from conftest import net, project

from threadlab.lab import IDLE, Lab

HOSTS = ["client1", "client2", "client3", "client4"]
PER_HOST, KS = 250, 40


@pytest.fixture(scope="module")
def loaded(docker_engine):
    lab = Lab(project("threadlab-test-load"), net(7), files=("docker-compose.yml", IDLE),
              NCLIENTS=str(len(HOSTS) * PER_HOST + 1), MAX_CLIENTS="1100", LOG_LEVEL="DEBUG")
    lab.down()
    try:
        lab.compose("up", "-d", "--build", "--wait", "server", *HOSTS)
        yield lab
    finally:
        lab.down()


def server_threads(lab):
    out = subprocess.run(["docker", "exec", lab.container("server"),
                          "ps", "-o", "nlwp=", "-C", "python3"], capture_output=True, text=True, check=True)
    return int(out.stdout)


def test_thousand_connections_lose_nothing(loaded):
    """The final value is exact, every echo matches the server's chain of updates, and the server's thread count
    comes back to where it was."""
    lab = loaded
    baseline = server_threads(lab)
    runs = [subprocess.Popen(["docker", "exec", lab.container(h), "python3", "clnt.py", "a.b.c", "2000",
                              "--load", str(PER_HOST), "--ks", str(KS), "--seed", str(i),
                              "--transcript", "/tmp/load.json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i, h in enumerate(HOSTS)]
    outs = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0] * len(HOSTS), outs
    print("".join(out for out, _ in outs))  # the figures, with pytest -s
    for out, _ in outs:
        assert re.search(rf"{PER_HOST} connections x {KS} k's: {PER_HOST * KS} round trips in", out), out

    deadline = time.monotonic() + 30
    while (threads := server_threads(lab)) != baseline and time.monotonic() < deadline:
        time.sleep(0.2)
    assert threads == baseline

    connections = {}
    for h in HOSTS:
        t = subprocess.run(["docker", "exec", lab.container(h), "cat", "/tmp/load.json"], capture_output=True,
                           text=True, check=True)
        connections.update(json.loads(t.stdout)["connections"])
    assert len(connections) == len(HOSTS) * PER_HOST
    subprocess.run(["docker", "exec", "-i", lab.container("client1"), "python3", "clnt.py", "a.b.c", "2000",
                    "--play", "-", "--as", "u.v.w"], input="u.v.w: 0\n", text=True, check=True, capture_output=True)
    subprocess.run(["docker", "wait", lab.container("server")], capture_output=True, timeout=60, check=True)
    log = lab.logs("server")
    final = int(log.splitlines()[-1].rsplit(" ", 1)[1])
    assert final == sum(k for echoes in connections.values() for k, _ in echoes)
    assert check.verify_log(log, connections) == []
