"""Test sessions side by side: what a killed session left on the engine does not collide with the next one."""

import fcntl
import os
import subprocess
import sys

from conftest import SLOT

from threadlab.lab import ROOT, engine_keeps


def free_slot():
    """The first slot after this session's that no running session holds."""
    for slot in range(SLOT + 1, 8):
        with open(f"/tmp/threadlab-test-slot{slot}.lock", "w") as held:
            try:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return slot
            except BlockingIOError:
                continue
    raise AssertionError("no free slot to try")


def test_a_killed_sessions_lab_sends_the_next_session_to_another_slot(docker_engine):
    """A session killed before its teardown leaves its labs and frees its slot's lock. The next session takes
    another slot: in that one, its replays found threadlab-test-replay3 up already, and three tests failed."""
    slot = free_slot()
    name = "threadlab-test-leftover" + (f"-s{slot}" if slot else "")
    subprocess.run(["docker", "network", "create", "--label", f"com.docker.compose.project={name}", name],
                   check=True, capture_output=True)
    try:
        r = subprocess.run([sys.executable, "-c", "import conftest; print('slot', conftest.SLOT)"],
                           cwd=ROOT / "tests" / "integration", env=dict(os.environ, PYTHONPATH=str(ROOT)),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert f"test: slot {slot} has labs on the engine (a killed session's?): network {name}\n" in r.stdout
        taken = int(r.stdout.split()[-1])
        assert taken != slot and taken != SLOT
    finally:
        subprocess.run(["docker", "network", "rm", name], capture_output=True)


def test_only_a_network_no_container_holds_counts_as_kept_by_the_engine(docker_engine):
    """engine_keeps, which lets the leftover checks pass over Docker's stale endpoints, removes a network left
    empty and says False; a network a container is on stays, and is not the engine's either."""
    name = f"threadlab-test-kept-{os.getpid()}"
    subprocess.run(["docker", "network", "create", name], check=True, capture_output=True)
    assert engine_keeps(name) is False
    assert subprocess.run(["docker", "network", "inspect", name], capture_output=True).returncode != 0
    subprocess.run(["docker", "network", "create", name], check=True, capture_output=True)
    cid = subprocess.run(["docker", "run", "-d", "--rm", "--network", name, "threadlab-base:3.11", "sleep", "60"],
                         check=True, capture_output=True, text=True).stdout.strip()
    try:
        assert engine_keeps(name) is False
        assert subprocess.run(["docker", "network", "inspect", name], capture_output=True).returncode == 0
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True)
        subprocess.run(["docker", "network", "rm", name], capture_output=True)
