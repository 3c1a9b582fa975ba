"""Faults on the live lab: a client frozen, killed or speaking nonsense, the server stopped or restarted;
and each host's hardening."""

import subprocess
import time

import pytest
from common import protocol
from conftest import IDLE_TIMEOUT

from threadlab.lab import CLIENTS

HOSTS = ["server", "sieved", *CLIENTS]


def play(lab, service, part):
    """A client on service's host playing part (a scenario line) from standard input."""
    p = subprocess.Popen(["docker", "exec", "-i", lab.container(service), "python3", "clnt.py", "a.b.c", "2000",
                          "--play", "-", "--as", CLIENTS[service]],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdin.write(f"{CLIENTS[service]}: {part}\n")
    p.stdin.close()
    return p


def server_log(lab, text, timeout=30):
    """Wait until the server's log has a line containing text; return the log."""
    deadline = time.monotonic() + timeout
    while text not in (log := lab.logs("server")):
        assert time.monotonic() < deadline, f"no {text!r} in the server's log:\n{log}"
        time.sleep(0.2)
    return log


def final_value(lab):
    subprocess.run(["docker", "wait", lab.container("server")], capture_output=True, timeout=30, check=True)
    log = lab.logs("server")
    assert log.splitlines()[-1].startswith(protocol.FINAL), log
    return protocol.final_value(log)


@pytest.fixture
def fresh_server(lab):
    """A server just started, its log empty of earlier sessions."""
    return lab.start("server")


def test_frozen_client_is_dropped_and_others_finish(lab, fresh_server):
    """A client host frozen mid-session (docker pause) is dropped after IDLE_TIMEOUT; the total is exact."""
    uvw = play(lab, "client1", "5 +60 0")
    server_log(lab, "joined: client 1 of 2")
    subprocess.run(["docker", "pause", lab.container("client1")], check=True)
    try:
        xyz = play(lab, "client2", "7 8 0")
        assert xyz.wait(timeout=30) == 0
        server_log(lab, f"dropped: nothing for {IDLE_TIMEOUT} s (IDLE_TIMEOUT)", timeout=IDLE_TIMEOUT + 20)
        assert final_value(lab) == 20
    finally:
        subprocess.run(["docker", "unpause", lab.container("client1")], check=True)
        uvw.kill()


def test_killed_client_costs_no_one_else(lab, fresh_server):
    """docker kill of a client host mid-session: the server logs it, the other finishes, the total is exact."""
    play(lab, "client2", "4 +60 0")
    server_log(lab, "joined: client 1 of 2")
    try:
        subprocess.run(["docker", "kill", lab.container("client2")], check=True, capture_output=True)
        server_log(lab, "left without sending k = 0")
        assert play(lab, "client1", "6 9 0").wait(timeout=30) == 0
        assert final_value(lab) == 19
    finally:
        lab.compose("up", "-d", "--wait", "client2")


def test_bytes_that_are_not_the_protocol(lab, fresh_server, host):
    """An HTTP request is not a client: logged as not the protocol, it adds nothing and does not count toward NCLIENTS."""
    http = host("client3").run("timeout 5 bash -c 'printf \"GET / HTTP/1.0\\r\\n\\r\\n\" >/dev/tcp/a.b.c/2000'")
    assert http.rc == 0, http.stderr
    server_log(lab, "not a client, not the protocol")
    assert play(lab, "client1", "6 0").wait(timeout=30) == 0
    assert play(lab, "client2", "1 0").wait(timeout=30) == 0
    assert final_value(lab) == 7


def test_more_clients_than_nclients_are_served(lab, fresh_server):
    """Three clients join a server waiting for two: all are served and all their k's count."""
    players = [play(lab, s, part) for s, part in [("client1", "1 +2 0"), ("client2", "2 +2 0"), ("client3", "4 +2 0")]]
    assert [p.wait(timeout=30) for p in players] == [0, 0, 0]
    assert final_value(lab) == 7


def test_docker_stop_prints_total_so_far(lab, fresh_server):
    """docker stop of the server mid-session: it prints the total so far and exits 0, well within the grace period."""
    uvw = play(lab, "client1", "11 +60 0")
    server_log(lab, "joined: client 1 of 2")
    subprocess.run(["docker", "stop", "-t", "30", fresh_server], check=True, capture_output=True, timeout=60)
    state = subprocess.run(["docker", "inspect", "-f", "{{.State.ExitCode}}", fresh_server],
                           capture_output=True, text=True).stdout.strip()
    assert state == "0"  # 137 would mean docker had to kill it
    assert lab.logs("server").splitlines()[-1] == "stopped: the value of v so far is 11"
    uvw.kill()


def test_restarted_server_gives_clients_a_clear_error(lab, fresh_server):
    """A client whose server restarts under it gets one clear line and exit 1, not a hang; v starts again at 0."""
    uvw = play(lab, "client1", "5 +4 6 0")
    server_log(lab, "joined: client 1 of 2")
    subprocess.run(["docker", "restart", "-t", "10", fresh_server], check=True, capture_output=True, timeout=60)
    assert uvw.wait(timeout=30) == 1
    out, err = uvw.stdout.read(), uvw.stderr.read()
    assert len(err.splitlines()) == 1 and err.startswith("clnt.py: "), err
    assert "Traceback" not in out + err
    lab.compose("up", "-d", "--wait", "server")
    players = [play(lab, "client1", "3 0"), play(lab, "client2", "4 0")]
    assert [p.wait(timeout=30) for p in players] == [0, 0]
    assert final_value(lab) == 7


@pytest.mark.parametrize("service", HOSTS)
def test_host_is_hardened(lab, server, host, service):
    """Each host runs as a non-root user under an init, with a read-only root, no capabilities, no new
    privileges, and limits on processes and memory."""
    h = host(service)
    assert h.check_output("id -u") == "10001"
    assert h.file("/proc/1/comm").content_string.strip() == "docker-init"
    status = h.file("/proc/1/status").content_string
    assert "CapEff:\t0000000000000000" in status and "CapPrm:\t0000000000000000" in status
    assert "NoNewPrivs:\t1" in status
    write = h.run("touch /probe")
    assert write.rc != 0 and "Read-only file system" in write.stderr
    assert h.run("touch /tmp/probe").rc == 0
    pids = h.run("cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max").stdout.strip()
    memory = h.run("cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
                   "cat /sys/fs/cgroup/memory.max").stdout.strip()
    assert pids.isdigit() and int(pids) <= 2048
    assert memory.isdigit() and int(memory) <= 1 << 30


@pytest.mark.parametrize("service", HOSTS)
def test_nothing_published_on_the_host(lab, service):
    """No host publishes a port on this machine's interfaces."""
    ports = subprocess.run(["docker", "port", lab.container(service)], capture_output=True, text=True).stdout
    assert ports == ""


# a listener on the client's own loopback, and clnt.py connected to it, waiting at its prompt
CLIENT_AT_ITS_PROMPT = ("python3 -c 'import socket; s = socket.create_server((\"127.0.0.1\", 2999)); "
                        "print(\"ready\", flush=True); c, _ = s.accept(); c.recv(1)' "
                        "| (read ready && exec python3 clnt.py 127.0.0.1 2999)")


@pytest.mark.parametrize("service", CLIENTS)
def test_client_program_is_hardened(lab, service):
    """clnt.py itself, not the idle host's sleep, runs as lab with no capabilities and no new privileges."""
    cid = lab.container(service)
    p = subprocess.Popen(["docker", "exec", cid, "bash", "-c", CLIENT_AT_ITS_PROMPT],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (pid := subprocess.run(["docker", "exec", cid, "pgrep", "-f", "clnt.py 127.0.0.1 2999"],
                                         capture_output=True, text=True).stdout.split()):
            assert time.monotonic() < deadline and p.poll() is None, p.communicate()
            time.sleep(0.1)
        status = subprocess.run(["docker", "exec", cid, "cat", f"/proc/{pid[0]}/status"],
                                capture_output=True, text=True, check=True).stdout
        assert "Uid:\t10001\t10001\t10001\t10001" in status
        assert "CapEff:\t0000000000000000" in status and "CapPrm:\t0000000000000000" in status
        assert "NoNewPrivs:\t1" in status
    finally:
        subprocess.run(["docker", "exec", cid, "pkill", "-f", "clnt.py 127.0.0.1 2999"], capture_output=True)
        p.communicate(timeout=30)
