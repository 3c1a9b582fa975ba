"""The live lab: one per test session, under its own project name, always torn down."""

import os
import shutil
import subprocess

import pytest
import testinfra

from lab import CLIENTS, Lab


@pytest.fixture(scope="session")
def docker_engine():
    """Skip without a Docker engine and Compose v2, except in CI, where that is a failure."""
    problem = None
    if not shutil.which("docker"):
        problem = "no docker command"
    elif subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        problem = "the Docker engine does not answer"
    elif subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        problem = "no Compose v2 (scripts/install-compose installs it)"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"integration tests must run in CI: {problem}", pytrace=False)
        pytest.skip(problem)


PROJECT = "threadlab-test"
NET = "10.9.1"  # not the 10.9.0 of a lab a person may have up
IDLE_TIMEOUT = 5  # seconds: the tests cut clients off and wait for the server to drop them


@pytest.fixture(scope="session")
def lab(docker_engine):
    lab = Lab(PROJECT, NET, files=("docker-compose.yml", "scripts/compose.idle.yml"), NCLIENTS="2",
              IDLE_TIMEOUT=str(IDLE_TIMEOUT))
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
