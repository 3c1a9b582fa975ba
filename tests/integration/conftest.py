"""The live lab: one per test session, under its own project name, always torn down."""

import fcntl
import importlib.util
import os
import re
import subprocess

import pytest
import testinfra
from replays import Replay

from threadlab.lab import CLIENTS, ERASE, IDLE, ROOT, Lab, engine_keeps, engine_problem

_spec = importlib.util.spec_from_file_location("readme_blocks", ROOT / "tests" / "unit" / "test_readme.py")
readme = importlib.util.module_from_spec(_spec)  # the docs' blocks and their placeholders
_spec.loader.exec_module(readme)


@pytest.fixture(scope="session")
def docker_engine():
    """Skip without a Docker engine and Compose v2, except in CI, where that is a failure."""
    problem = engine_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"integration tests must run in CI: {problem}", pytrace=False)
        pytest.skip(problem)


def owner_slot(owner):
    """The test session slot a Compose project or a swarm stack belongs to: 0 for the lab's other projects (the
    checker's, a person's), None for the README labs (a lock of their own) and for what is not the lab's."""
    if not owner.startswith("threadlab-") or owner.startswith("threadlab-test-readme-"):
        return None
    slot = re.search(r"-s(\d)(-|$)", owner) if owner.startswith("threadlab-test") else None
    return int(slot[1]) if slot else 0


def lab_things(slot, prefix="threadlab-"):
    """Every container, network and volume a Compose project or a swarm stack of the lab made, of that slot,
    its owner's name starting with prefix: {(kind, name)}."""
    things = set()
    for kind, label in (("container", "com.docker.compose.project"), ("network", "com.docker.compose.project"),
                        ("volume", "com.docker.compose.project"), ("container", "com.docker.stack.namespace"),
                        ("network", "com.docker.stack.namespace")):
        r = subprocess.run(["docker", kind, "ls", "-a" if kind == "container" else "-q", "--filter", f"label={label}",
                            "--format", f'{{{{.Label "{label}"}}}} {{{{.Names}}}}' if kind == "container"
                            else f'{{{{.Label "{label}"}}}} {{{{.Name}}}}'], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            owner, _, name = line.partition(" ")
            if owner_slot(owner) == slot and owner.startswith(prefix):
                things.add((kind, name))
    return things


def _slot():
    """A slot for this test session, held (a lock file) until it ends, so that sessions run at once apart.

    Not a slot whose test labs are on the engine still: a session killed before its teardown (its lock went
    with it) left them, and their names and subnets would collide with this session's. They stay, named, for
    a person to look at; the next slot is taken.
    """
    for slot in range(8):
        held = open(f"/tmp/threadlab-test-slot{slot}.lock", "w")
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held.close()
            continue
        if engine_problem() is None and (left := sorted(f"{k} {n}" for k, n in lab_things(slot, "threadlab-test"))):
            print(f"\ntest: slot {slot} has labs on the engine (a killed session's?): {', '.join(left)}")
            held.close()
            continue
        return slot, held
    raise RuntimeError("eight threadlab test sessions are running already")


SLOT, _HELD = _slot()


def net(n):
    """This session's subnet n (1 to 254): 10.9.n in the first session, 10.(9 + slot).n beside others.

    Never 10.9.0, the lab a person brings up with docker compose up.
    """
    return f"10.{9 + SLOT}.{n}"


def project(name):
    """This session's Compose project called name, threadlab-test*: name itself in slot 0, name-sN in slot N."""
    assert name.startswith("threadlab-test"), name  # what owner_slot counts as a session's
    return name if SLOT == 0 else f"{name}-s{SLOT}"


PROJECT = project("threadlab-test")
NET = net(1)
IDLE_TIMEOUT = 5  # seconds: the tests cut clients off and wait for the server to drop them


@pytest.fixture(scope="session")
def lab(docker_engine):
    lab = Lab(PROJECT, NET, files=("docker-compose.yml", IDLE), NCLIENTS="2",
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


SCENARIOS = sorted((ROOT / "scenarios").glob("*.scn"))


@pytest.fixture(scope="session")
def replays(docker_engine, tmp_path_factory):
    """The replays that test_replay and test_lessons check, started together, each in a lab of its own.

    One after another they took two minutes, most of it clients thinking (pace) and labs starting.
    {name: Replay}: "stock" plays every shipped scenario and one that must fail, the variants every
    shipped scenario. What depends on timing (the race, the busy wait) runs alone: see alone().
    """
    work = tmp_path_factory.mktemp("replays")
    wrong = work / "wrong-final.scn"
    wrong.write_text("u.v.w: 1 2 0\nexpect final 4\n")
    runs = [("stock", [*SCENARIOS, wrong], {}),
            # its main thread spins holding the interpreter: each round trip waits for it a switch interval
            ("_thread", SCENARIOS, {"SERVER_VARIANT": "thread", "SWITCH_INTERVAL": "0.0005"}),
            ("asyncio without a lock", SCENARIOS, {"SERVER_VARIANT": "asyncio", "LOCK": "off"}),
            ("tutorial", [ROOT / "scenarios" / "tutorial.scn"], {})]  # the README's replay, as written
    started = {}
    try:
        for i, (name, scenarios, settings) in enumerate(runs):
            started[name] = replay(i, scenarios, work / str(i), **settings)
        yield started
    finally:
        for r in started.values():
            r.stop()


def replay(i, scenarios, out, **settings):
    """scripts/replay in lab number i of the tests' replays (net 11 and on), started now."""
    return Replay(project(f"threadlab-test-replay{i}"), net(11 + i), scenarios, out, **settings)


def alone(replays, scenarios, out, documented=None, **settings):
    """scripts/replay once the replays that run together have ended: (exit code, output, results).

    For what depends on timing. Beside three other labs, the contention scenario's clients got so
    little CPU that their k's never met at the server, and LOCK=off lost no update.
    documented: the docs' command line this run is, whose block its output must match.
    """
    for r in replays.values():
        r.result()
    run = replay(len(replays), scenarios, out, **settings)
    if documented:
        as_documented(documented, run)
    return run.result()


def as_documented(command, run):
    """A replay's output and exit code are its command's block in the docs (README.md, docs/lessons), read as a
    person's run: the replay's own project, net and folder there as threadlab-replay, 10.9.3 and out/replay."""
    code, out, _ = run.result()
    text = ERASE.sub("", out).replace(run.project, "threadlab-replay").replace(f"{run.net}.", "10.9.3.")
    text = text.replace(f"{ROOT}/", "")  # the scenarios as the docs name them, from the checkout
    lines = text.replace(f"{os.path.relpath(run.out, ROOT)}/", "out/replay/").splitlines()  # as replay shows it
    block = next((b for b in readme.blocks() if b.command == command), None)
    assert block, f"{command!r} is in no block of the docs"
    assert code == block.exit_code and readme.matches(block.expected, lines), \
        "\n".join([f"{block.path.name}:{block.line}: wanted", *block.expected, f"[exit {block.exit_code}]", "got", *lines,
                   f"[exit {code}]"])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Put the lab's compose logs into the report of a failed integration test."""
    outcome = yield
    rep = outcome.get_result()
    lab = item.funcargs.get("lab") if hasattr(item, "funcargs") else None
    if rep.failed and isinstance(lab, Lab):
        rep.sections.append(("compose logs", lab.all_logs()))


def pytest_sessionstart(session):
    session.config.lab_things_before = lab_things(SLOT) if engine_problem() is None else set()


def pytest_sessionfinish(session, exitstatus):
    """After every fixture's teardown: nothing a lab, a replay, a capture, the swarm test or the checker made is
    left behind (containers, networks, volumes). What is left fails the session and is named."""
    if engine_problem() is not None or not hasattr(session.config, "lab_things_before"):
        return
    left = sorted(lab_things(SLOT) - session.config.lab_things_before)
    kept = [name for kind, name in left if kind == "network" and engine_keeps(name)]
    if kept:
        print("\nkept by the engine ('has active endpoints' with no container on it: a Docker bug that a "
              "restart of the engine clears):", *(f"  network {name}" for name in kept), sep="\n")
    left = [(kind, name) for kind, name in left if name not in kept]
    if left:
        print("\nleft behind by this test session:", *(f"  {kind} {name}" for kind, name in left), sep="\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
