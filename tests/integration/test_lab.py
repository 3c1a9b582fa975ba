"""The live lab: hosts, names, the server, a scripted session and the sieve worker."""

import re
import subprocess

import pytest
from common import check, protocol, scenario
from sieve import variants

from threadlab.lab import CLIENTS, ROOT

ECHO = re.compile(r"^(\S+): sent (\d+), v is (\d+)$", re.M)
TUTORIAL_TABLE = list(variants.TUTORIAL.items())  # section 5.2's runs


def test_server_listens_on_port_2000(server, host):
    """a.b.c listens on port 2000."""
    assert host("server").socket("tcp://0.0.0.0:2000").is_listening


def test_server_runs_as_non_root(server, host):
    """The server's Python process runs as the unprivileged user lab (the healthcheck's python3 is not it)."""
    procs = [p for p in host("server").process.filter(comm="python3") if "srvr.py" in p.args]
    assert [p.user for p in procs] == ["lab"]


@pytest.mark.parametrize("service", CLIENTS)
def test_client_host_resolves_and_reaches_server(server, host, service):
    """Each client host has its own name, resolves a.b.c and reaches its port 2000."""
    h = host(service)
    assert h.check_output("hostname") in (CLIENTS[service], CLIENTS[service].split(".")[0])
    assert h.addr("a.b.c").is_resolvable
    assert h.addr("a.b.c").port(2000).is_reachable


def test_scripted_session_ends_with_exact_total(lab, server):
    """Two client hosts play the tutorial's session: the final value is exact and every echo fits one serial order."""
    sc = scenario.load(ROOT / "scenarios" / "tutorial.scn")
    players = {
        service: subprocess.Popen(
            ["docker", "exec", lab.container(service), "python3", "clnt.py", "a.b.c", "2000",
             "--play", "/scenarios/tutorial.scn", "--as", host],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for service, host in list(CLIENTS.items())[:2]
    }
    outputs = {s: p.communicate(timeout=60)[0] for s, p in players.items()}
    assert all(p.returncode == 0 for p in players.values()), outputs
    subprocess.run(["docker", "wait", server], capture_output=True, timeout=30, check=True)

    echoes = {}
    for out in outputs.values():
        for host, k, v in ECHO.findall(out):
            echoes.setdefault(host, []).append((int(k), int(v)))
    assert set(echoes) == set(sc.hosts)
    final = protocol.final_value(lab.logs("server"))
    assert final is not None, "the server printed no final value"
    acknowledged = sum(k for e in echoes.values() for k, _ in e)
    assert final == acknowledged == sc.expect_final
    order = check.serial_order(echoes)
    assert order[-1][2] == acknowledged


@pytest.mark.parametrize("n, count", TUTORIAL_TABLE)
def test_sieve_worker_answers_client_host(lab, host, n, count):
    """u.v.w asks the sieve worker and gets the tutorial's count, with each thread's work."""
    out = host("client1").check_output(f"python3 -m sieve.primes {n} 2 --host sieved")
    work = re.findall(r"^thread (\d) exiting; processed (\d+) values of k$", out, re.M)
    assert sorted(t for t, _ in work) == ["0", "1"]
    assert sum(int(nk) for _, nk in work) == int(n ** 0.5) - 1
    assert out.splitlines()[-1] == f"there are {count} primes"
