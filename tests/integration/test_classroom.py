"""The classroom (docs/classroom.md): a.b.c published on an interface the instructor picks,
students' clients outside the lab reaching it there.

The interface here is the Docker bridge's (docker0, 172.17.0.1 as a rule): a
container on the default bridge, outside the lab's network, stands in for a
student's machine, with the lab's client image run as a student would run it.
"""

import json
import socket
import subprocess
import threading

import pytest
from common import check, scenario
from conftest import net, project

from threadlab.lab import ROOT, Lab

PROJECT = project("threadlab-test-class")
NET = net(65)
IMAGE = "threadlab-host:3.11"
TUTORIAL = ROOT / "scenarios" / "tutorial.scn"


def bridge_address():
    """This machine's address on the default bridge's interface (docker0), as ip shows it."""
    name = subprocess.run(["docker", "network", "inspect", "bridge", "-f",
                           '{{index .Options "com.docker.network.bridge.name"}}'],
                          capture_output=True, text=True, check=True).stdout.strip() or "docker0"
    out = subprocess.run(["ip", "-4", "-j", "addr", "show", name], capture_output=True, text=True, check=True).stdout
    return next(a["local"] for link in json.loads(out) for a in link["addr_info"])


def free_port(address):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def classroom(docker_engine):
    """The instructor's server, published on docker0 only, for a class of two: (lab, address, port)."""
    address = bridge_address()
    port = free_port(address)
    lab = Lab(PROJECT, NET, files=("docker-compose.yml", "compose.publish.yml"), profiles=(),
              PUBLISH_ADDRESS=address, PUBLISH_PORT=str(port), NCLIENTS="2")
    lab.down()
    try:
        lab.compose("build", "-q", "server")
        lab.compose("up", "-d", "--wait")  # the instructor's one command, less the terminal
        yield lab, address, port
    finally:
        subprocess.run(["docker", "rm", "-f", *(f"{PROJECT}-{h}" for h in ("u.v.w", "x.y.z"))],
                       capture_output=True)
        lab.down()


def student(address, port, host, out):
    """A student's machine: the lab's client image on the default bridge, playing host's part."""
    r = subprocess.run(["docker", "run", "--rm", "-i", "--name", f"{PROJECT}-{host}", "--network", "bridge",
                        IMAGE, "python3", "/app/client/clnt.py", address, str(port), "--play", "-", "--as", host],
                       input=TUTORIAL.read_text(), capture_output=True, text=True, timeout=60)
    out[host] = r


def test_only_the_server_runs_published_on_the_chosen_interface(classroom):
    """up starts a.b.c alone (no lab clients to end its session), on the address asked for only."""
    lab, address, port = classroom
    assert lab.compose("ps", "--services", "--status", "running").stdout.split() == ["server"]
    published = subprocess.run(["docker", "port", lab.container("server")], capture_output=True,
                               text=True).stdout.split()
    assert published == ["2000/tcp", "->", f"{address}:{port}"]


def test_students_outside_the_lab_play_the_tutorial(classroom):
    """Two students' clients on the default bridge: the session ends with the tutorial's 95."""
    lab, address, port = classroom
    out = {}
    players = [threading.Thread(target=student, args=(address, port, h, out)) for h in ("u.v.w", "x.y.z")]
    for p in players:
        p.start()
    for p in players:
        p.join()
    for host, r in out.items():
        assert r.returncode == 0, f"{host}:\n{r.stdout}{r.stderr}"
    subprocess.run(["docker", "wait", lab.container("server")], capture_output=True, timeout=30)
    log = lab.logs("server")
    finals = [int(line.rsplit(" ", 1)[1]) for line in log.splitlines() if line.startswith("the final value of v is ")]
    assert finals == [95], log
    echoes = {host: [(int(k), int(v)) for k, v in
                     (line.split(": sent ")[1].split(", v is ") for line in r.stdout.splitlines() if ", v is " in line)]
              for host, r in out.items()}
    sc = scenario.load(TUTORIAL)
    assert check.verify(echoes, finals[0], sc.expect_final, sc.expect_v) == []
