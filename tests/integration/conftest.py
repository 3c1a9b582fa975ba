"""The live lab: one per test session, under its own project name, always torn down."""

import subprocess

import pytest
import testinfra

from lab import CLIENTS, Lab, need_docker

PROJECT = "threadlab-test"
NET = "10.9.1"  # not the 10.9.0 of a lab a person may have up


@pytest.fixture(scope="session")
def lab():
    need_docker()
    lab = Lab(PROJECT, NET, files=("docker-compose.yml", "scripts/compose.idle.yml"), NCLIENTS="2")
    lab.down()
    try:
        lab.compose("up", "-d", "--build", "--wait", "server", "sieved", *CLIENTS)
        yield lab
    finally:
        lab.down()


@pytest.fixture
def server(lab):
    """The server, up and waiting for a new session (it exits after each one)."""
    lab.compose("up", "-d", "--wait", "server")
    return lab.container("server")


@pytest.fixture
def host(lab):
    """A testinfra host for a service of the lab: host("client1")."""
    return lambda service: testinfra.get_host(f"docker://{lab.container(service)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Put the lab's compose logs into the report of a failed integration test."""
    outcome = yield
    rep = outcome.get_result()
    lab = item.funcargs.get("lab") if hasattr(item, "funcargs") else None
    if rep.failed and isinstance(lab, Lab):
        rep.sections.append(("compose logs", lab.all_logs()))
