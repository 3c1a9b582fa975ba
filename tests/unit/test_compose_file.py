"""The compose file: loadable by Compose v1 and v2, and its topology as the README maps it."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from common import scenario

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def config():
    if not shutil.which("docker") or subprocess.run(["docker", "compose", "version"],
                                                    capture_output=True).returncode:
        pytest.skip("no Compose v2 (scripts/install-compose installs it)")
    out = subprocess.run(["docker", "compose", "--profile", "more", "--profile", "serve", "--profile", "ft", "config",
                          "--format", "json"], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def clients(config):
    return {name: s for name, s in config["services"].items() if name.startswith("client")}


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="no Compose v1 (docker-compose) here")
def test_compose_v1_loads_the_file():
    """Debian 12's docker-compose 1.29 loads the file too."""
    r = subprocess.run(["docker-compose", "config", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_a_b_c_runs_the_tutorials_command(config):
    """The README: `python3 srvr.py 2000` runs as printed on a.b.c (its port PORT, 2000 by default)."""
    assert config["services"]["server"]["command"] == ["python3", "srvr.py", "2000"]
    assert config["services"]["server"]["hostname"] == "a.b.c"


def test_every_host_has_its_own_name_and_address(config):
    """Each service is a host of one network, with a name and an address of its own in 10.9.0.0/24."""
    hosts = {name: (s["hostname"], s["networks"]["lab"]["ipv4_address"]) for name, s in config["services"].items()
             if name not in ("scenario", "end")}  # neither is on the network
    assert len({h for h, _ in hosts.values()}) == len({a for _, a in hosts.values()}) == len(hosts)
    assert all(a.startswith("10.9.0.") for _, a in hosts.values())
    assert hosts["server"] == ("a.b.c", "10.9.0.10")
    assert len(clients(config)) >= 8


def test_free_threaded_sieve_host_differs_only_in_its_base(config):
    """sieve-ft is the sieve host again, hardened alike, built from the free-threaded base."""
    sieve, ft = config["services"]["sieve"], config["services"]["sieve-ft"]
    assert ft["build"]["args"]["BASE_IMAGE"] == "threadlab-base:ft"
    assert ft["build"]["context"] == sieve["build"]["context"]
    same = ("command", "environment", "read_only", "cap_drop", "security_opt", "init", "pids_limit", "mem_limit")
    assert {k: ft.get(k) for k in same} == {k: sieve.get(k) for k in same}


def test_nothing_starts_before_the_scenario_is_checked(config):
    """The server waits for the scenario check, which has no network: a bad SCENARIO ends up at once."""
    assert config["services"]["server"]["depends_on"]["scenario"]["condition"] == "service_completed_successfully"
    assert config["services"]["scenario"]["network_mode"] == "none"


def test_clients_wait_for_a_healthy_server(config):
    """Every client starts once the server's healthcheck passes; nothing is published on the host."""
    assert config["services"]["server"]["healthcheck"]["test"][:2] == ["CMD", "python3"]
    for s in clients(config).values():
        assert s["depends_on"]["server"]["condition"] == "service_healthy"
    assert not any(s.get("ports") for s in config["services"].values())


def test_shipped_scenarios_name_lab_hosts(config):
    """Every shipped scenario's hosts are client hosts of the compose file."""
    names = {s["hostname"] for s in clients(config).values()}
    for path in sorted((ROOT / "scenarios").glob("*.scn")):
        assert set(scenario.load(path).hosts) <= names, path.name


def test_lab_driver_knows_the_client_hosts(config):
    """threadlab.lab's CLIENTS names the same client services and host names as the compose file."""
    from threadlab import lab
    assert lab.CLIENTS == {name: s["hostname"] for name, s in clients(config).items()}


def test_publishing_is_asked_for_and_loopback_only():
    """compose.publish.yml publishes the server's port, and only on 127.0.0.1."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode:
        pytest.skip("no Compose v2")
    out = subprocess.run(["docker", "compose", "-f", "docker-compose.yml", "-f", "compose.publish.yml", "config",
                          "--format", "json"], cwd=ROOT, capture_output=True, text=True, check=True)
    services = json.loads(out.stdout)["services"]
    assert [(p["host_ip"], p["target"]) for p in services["server"]["ports"]] == [("127.0.0.1", 2000)]
    assert not any(s.get("ports") for name, s in services.items() if name != "server")
