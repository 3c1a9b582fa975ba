"""The catalogue of a newcomer's mistakes: each gets one clear line (its last line on stderr), the exit code
the README gives, no traceback, and nothing hangs (every command runs under a time bound).

Exit codes: 2 a bad setting, argument or scenario; 1 the network or the lab failed (a host unreachable, a
port taken, the lab did not come up)."""

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
from conftest import net, project

from threadlab.lab import ERASE, ROOT, Lab

PY = sys.executable
SERVER = [PY, "services/server/srvr.py"]
PRIMES = [PY, "services/sieve/primes.py"]
WORKER = [PY, "services/sieve/sieved.py"]
CLIENT = [PY, "services/client/clnt.py"]
SCENARIO = "scenarios/tutorial.scn"

# (what the person did, command, settings, exit code, the last line on stderr)
WITHOUT_DOCKER = [
    ("a port that is not a number", SERVER + ["x"], {}, 2, "srvr.py: port must be a number from 1 to 65535, not 'x'"),
    ("a port past 65535", SERVER + ["70000"], {}, 2, "srvr.py: port must be a number from 1 to 65535, not '70000'"),
    ("NCLIENTS=0", SERVER + ["2000"], {"NCLIENTS": "0"}, 2, "srvr.py: NCLIENTS must be a number at least 1, not '0'"),
    ("MAX_CLIENTS=many", SERVER + ["2000"], {"MAX_CLIENTS": "many"}, 2,
     "srvr.py: MAX_CLIENTS must be a number at least 1, not 'many'"),
    ("IDLE_TIMEOUT=-1", SERVER + ["2000"], {"IDLE_TIMEOUT": "-1"}, 2,
     "srvr.py: IDLE_TIMEOUT must be a number at least 0.001, not '-1'"),
    ("SWITCH_INTERVAL=0", SERVER + ["2000"], {"SWITCH_INTERVAL": "0"}, 2,
     "srvr.py: SWITCH_INTERVAL must be a number at least 1e-06, not '0'"),
    ("LOCK=maybe", SERVER + ["2000"], {"LOCK": "maybe"}, 2, "srvr.py: LOCK must be one of on, off, not 'maybe'"),
    ("RACE_YIELD=yes", SERVER + ["2000"], {"RACE_YIELD": "yes"}, 2,
     "srvr.py: RACE_YIELD must be one of on, off, not 'yes'"),
    ("WAIT=spin", SERVER + ["2000"], {"WAIT": "spin"}, 2, "srvr.py: WAIT must be one of busy, block, not 'spin'"),
    ("BREAKPOINT=1", SERVER + ["2000"], {"BREAKPOINT": "1"}, 2, "srvr.py: BREAKPOINT must be one of on, off, not '1'"),
    ("SERVER_VARIANT=async", SERVER + ["2000"], {"SERVER_VARIANT": "async"}, 2,
     "srvr.py: SERVER_VARIANT must be one of threading, thread, asyncio, not 'async'"),
    ("asyncio asked to busy-wait", SERVER + ["2000"], {"SERVER_VARIANT": "asyncio", "WAIT": "busy"}, 2,
     "srvr.py: SERVER_VARIANT=asyncio cannot do WAIT=busy"),
    ("SIEVE_VARIANT=bogus", PRIMES + ["100", "2"], {"SIEVE_VARIANT": "bogus"}, 2,
     "primes.py: SIEVE_VARIANT must be one of threading, threading-loop, thread, not 'bogus'"),
    ("SIEVE_MAX_N=lots", WORKER, {"SIEVE_MAX_N": "lots"}, 2, "sieved.py: SIEVE_MAX_N must be a number at least 2, not 'lots'"),
    ("n that is not a number", PRIMES + ["abc", "2"], {}, 2, "primes.py: error: argument n: invalid int value: 'abc'"),
    ("no threads", PRIMES + ["100", "0"], {}, 2, "primes.py: n must be at least 2 and threads at least 1"),
    ("a host that does not exist", CLIENT + ["nohost.invalid", "2000"], {}, 1, "clnt.py: cannot find host nohost.invalid"),
    ("a port that is not a number, to the client", CLIENT + ["a.b.c", "abc"], {}, 2,
     "clnt.py: error: argument port_number: invalid int value: 'abc'"),
    ("a scenario that is not there, to the client", CLIENT + ["a.b.c", "2000", "--play", "nope.scn"], {}, 2,
     "clnt.py: nope.scn: No such file or directory"),
    ("clnt.py run from the repo without services/ on the path", CLIENT + ["a.b.c", "2000"], {"PYTHONPATH": ""}, 1,
     "clnt.py: run it with services/ on the path: PYTHONPATH=services python3 services/client/clnt.py HOST PORT"),
    ("srvr.py run from the repo without services/ on the path", SERVER + ["2000"], {"PYTHONPATH": ""}, 1,
     "srvr.py: run it with services/ on the path: PYTHONPATH=services python3 services/server/srvr.py PORT"),
    ("primes.py run from the repo without services/ on the path", PRIMES + ["100", "2"], {"PYTHONPATH": ""}, 1,
     "primes.py: run it with services/ on the path: PYTHONPATH=services python3 services/sieve/primes.py N THREADS"),
    ("sieved.py run from the repo without services/ on the path", WORKER, {"PYTHONPATH": ""}, 1,
     "sieved.py: run it with services/ on the path: PYTHONPATH=services python3 services/sieve/sieved.py"),
    ("a scenario that is not there, to replay", ["scripts/replay", "scenarios/nope.scn"], {}, 2,
     "replay: scenarios/nope.scn: No such file or directory"),
    ("REPLAY_NET out of range", ["scripts/replay", SCENARIO], {"REPLAY_NET": "10.9.300"}, 2,
     "replay: REPLAY_NET must be an address's first three parts, like 10.9.3, not '10.9.300'"),
    ("REPLAY_PROJECT with capitals", ["scripts/replay", SCENARIO], {"REPLAY_PROJECT": "My-Replay"}, 2,
     "replay: REPLAY_PROJECT must be lowercase letters, digits, - and _, not 'My-Replay'"),
    ("REPLAY_OUT where no folder can be made", ["scripts/replay", SCENARIO],
     {"REPLAY_OUT": "/proc/no-such-folder", "REPLAY_PROJECT": "threadlab-test-mistakes-out"}, 2,
     "replay: REPLAY_OUT /proc/no-such-folder: No such file or directory"),
    ("no scenario at all, to replay", ["scripts/replay"], {}, 2, "usage: scripts/replay [-v] SCENARIO [SCENARIO ...]"),
    ("replay without Compose v2", ["scripts/replay", SCENARIO], {"DOCKER_CONFIG": "/nonexistent"}, 2,
     "replay: no Compose v2 (scripts/install-compose installs it)"),
    ("balance with n of 1", ["scripts/balance", "--local", "--n", "1"], {}, 2,
     "balance: argument --n: n must be a number from 2 to 10000000, not '1'"),
]


def run(command, settings, timeout=120):
    env = {**os.environ, **settings}
    if env.get("PYTHONPATH") == "":
        del env["PYTHONPATH"]
    return subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def assert_one_line(r, code, line):
    assert "Traceback" not in r.stdout + r.stderr, r.stderr
    assert (r.returncode, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "") == (code, line), r.stderr


@pytest.mark.parametrize("what, command, settings, code, line", WITHOUT_DOCKER, ids=[m[0] for m in WITHOUT_DOCKER])
def test_mistake_without_the_lab(what, command, settings, code, line):
    """A mistake in a setting, an argument or a file: the one line and the exit code, at once."""
    assert_one_line(run(command, settings), code, line)


NEEDS_DOCKER = [
    (["scripts/replay", SCENARIO], "replay: no docker command: install Docker Engine"),
    (["scripts/check", "server", "tests/students/server/good_selectors.py"],
     "check: no docker command: install Docker Engine"),
    (["scripts/capture"], "capture: no docker command: install Docker Engine"),
    (["scripts/race", "--quick"], "race: no docker command: install Docker Engine"),
    (["scripts/balance", "--quick"],
     "balance: no docker command: install Docker Engine (or run with --local to sieve in this machine's Python)"),
    (["scripts/bench", "--quick"], "bench: no docker command: install Docker Engine: the benchmark needs it"),
]


@pytest.mark.parametrize("command, line", NEEDS_DOCKER, ids=[c[0] for c, _ in NEEDS_DOCKER])
def test_a_lab_command_without_docker(tmp_path, command, line):
    """A command that needs the engine, on a machine without docker: one line and exit 2, nothing tried."""
    for tool in ("bash", "env", "dirname"):
        (tmp_path / tool).symlink_to(shutil.which(tool))
    (tmp_path / "python3").symlink_to(sys.executable)
    assert_one_line(run(command, {"PATH": str(tmp_path)}), 2, line)


def test_port_in_use_is_one_line():
    """A server started where another already listens: one line, exit 1."""
    with socket.create_server(("", 0)) as taken:
        r = run(SERVER + [str(taken.getsockname()[1])], {})
    assert r.returncode == 1 and r.stderr.startswith("srvr.py: cannot listen on port") and len(r.stderr.splitlines()) == 1


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    """A folder of the test's own scenarios, mounted where the lab's are: the shipped folder is left alone."""
    folder = tmp_path_factory.mktemp("scenarios")
    (folder / "broken.scn").write_text("u.v.w: 5 zz 0\nx.y.z: 0\n")
    (folder / "lonely.scn").write_text("u.v.w: 5 0\n")
    (folder / "eight.scn").write_text("".join(f"{h}: 1 0\n" for h in
                                              ("u.v.w", "x.y.z", "r.s.t", "o.p.q", "l.m.n", "i.j.k", "f.g.h", "d.e.f")))
    (folder / "elsewhere.scn").write_text("u.v.w: 5 7 0\nr.s.t: 9 0\n")  # r.s.t is up only with --profile more
    folder.chmod(0o755)  # the hosts' user, lab, reads it
    override = folder / "compose.override.yml"
    override.write_text(json.dumps({"services": {s: {"volumes": [f"{folder}:/scenarios:ro"]}
                                                 for s in ("scenario", "client1", "client2")}}))
    return override


@pytest.fixture(scope="module")
def mistaken(docker_engine, scenarios):
    """A lab for the mistakes made with Docker, its own project and subnet, its scenarios from the test's folder."""
    lab = Lab(project("threadlab-test-mistakes"), net(9), files=("docker-compose.yml", str(scenarios)), profiles=())
    lab.down()
    lab.compose("build", timeout=300)
    yield lab
    lab.down()


@pytest.mark.parametrize("scenario_file, line", [
    ("nope.scn", "scenario: scenarios/nope.scn: No such file or directory"),
    ("broken.scn", "scenario: scenarios/broken.scn:1: 'zz' is not a number, \"text\", a wait like +0.5, a repeat like "
     "3*1, or EOF"),
    ("lonely.scn", "scenario: scenarios/lonely.scn has parts for 1 host, and the server waits for NCLIENTS=2"),
])
def test_bad_scenario_ends_docker_compose_up(mistaken, scenario_file, line):
    """docker compose up with a SCENARIO that is missing, malformed or too small for NCLIENTS ends at once, exit 1,
    with one line naming the file as the person wrote it; no server is left waiting."""
    r = subprocess.run(mistaken.command("up"), cwd=ROOT, env=dict(mistaken.env, SCENARIO=scenario_file),
                       capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert line in out and "Traceback" not in out
    running = subprocess.run(["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={mistaken.project}",
                              "--filter", "label=com.docker.compose.service=server"], capture_output=True, text=True)
    assert running.stdout.strip() == ""  # no server waiting for clients that never come
    mistaken.down()


@pytest.mark.parametrize("scenario_file, nclients, so_far, came", [
    ("eight.scn", 8, 2, "2 of 8 clients came"),  # NCLIENTS=8 SCENARIO=many.scn without --profile more
    ("elsewhere.scn", 2, 12, "1 of 2 clients came"),  # a part for a host that is not up
])
def test_clients_that_never_come_end_docker_compose_up(mistaken, scenario_file, nclients, so_far, came):
    """docker compose up whose scenario has parts for hosts that are not up (the wrong profile): the server ends
    JOIN_WAIT after the last client left, with the total so far, and up exits 1 saying the server did not
    complete. JOIN_WAIT is 60 s in the lab; 3 here."""
    r = subprocess.run(mistaken.command("up"), cwd=ROOT, capture_output=True, text=True, timeout=180,
                       env=dict(mistaken.env, SCENARIO=scenario_file, NCLIENTS=str(nclients), JOIN_WAIT="3"))
    out = ERASE.sub("", r.stdout + r.stderr)
    mistaken.down()
    assert r.returncode == 1, out
    assert f"{came}, and none has been connected for 3 s (JOIN_WAIT): ending the session" in out
    assert f"stopped: the value of v so far is {so_far}" in out
    assert 'service "server" didn\'t complete successfully: exit 1' in out
    assert "Traceback" not in out


CLIENT1 = ["run", "--rm", "-T", "client1"]
# (what the person did, the compose command, settings, exit code, what the output ends with or holds)
IN_THE_LAB = [
    ("a wrong port", CLIENT1 + ["python3", "clnt.py", "a.b.c", "2001"], {}, 1,
     "clnt.py: cannot reach a.b.c:2001: Connection refused"),
    ("a scenario that is not there, played by hand", CLIENT1 + ["python3", "clnt.py", "a.b.c", "2000", "--play",
                                                              "/scenarios/nope.scn"], {}, 2,
     "clnt.py: /scenarios/nope.scn: No such file or directory"),
    ("a SCENARIO that is not there, in run", CLIENT1, {"SCENARIO": "nope.scn"}, 1,
     'service "scenario" didn\'t complete successfully: exit 2'),
    ("a malformed SCENARIO, in run", CLIENT1, {"SCENARIO": "broken.scn"}, 1,
     'service "scenario" didn\'t complete successfully: exit 2'),
    ("PORT that is not a number, in up", ["up"], {"PORT": "abc"}, 1,
     "srvr.py: port must be a number from 1 to 65535, not 'abc'"),
    ("LAB_NET out of range, in up", ["up"], {"LAB_NET": "10.9.300"}, 1, "Invalid subnet 10.9.300.0/24"),
    ("SERVER_PYTHON that the lab has no base for, in up", ["up"], {"SERVER_PYTHON": "3.12"}, 17,
     "threadlab-base:3.12"),
]


@pytest.mark.parametrize("what, args, settings, code, shown", IN_THE_LAB, ids=[m[0] for m in IN_THE_LAB])
def test_mistake_in_the_lab(mistaken, what, args, settings, code, shown):
    """A mistake in a compose command or its settings: its exit code and the line that says why, no traceback,
    no hang. What Docker or Compose says itself (a subnet, a base image) is theirs: the README says what it means."""
    env = {**mistaken.env, "SCENARIO": "elsewhere.scn", **settings}  # the test's folder has no tutorial.scn
    r = subprocess.run(mistaken.command(*args), cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=180)
    mistaken.down()
    out = ERASE.sub("", r.stdout + r.stderr)
    assert r.returncode == code, out
    assert shown in out and "Traceback" not in out, out


def test_client_before_the_server(mistaken):
    """A client started with no server up: one line and exit 1, not a hang."""
    r = subprocess.run(mistaken.command("run", "--rm", "--no-deps", "-T", "client1", "python", "clnt.py", "a.b.c", "2000"),
                       cwd=ROOT, env=mistaken.env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("clnt.py: cannot "), r.stderr


def test_a_replay_whose_lab_is_up_already(tmp_path):
    """scripts/replay while its project has a container (another replay, or one cut short): one line, exit 2,
    and that lab left as it was."""
    name = project("threadlab-test-mistakes-upalready")
    other = Lab(name, net(10))
    other.compose("up", "--no-start", "--no-deps", "server")
    try:
        r = run(["scripts/replay", SCENARIO], dict(REPLAY_PROJECT=name, REPLAY_NET=net(10), REPLAY_OUT=str(tmp_path)))
        assert_one_line(r, 2, f"replay: {name} is up already (another replay?); end it with docker compose -p {name} "
                              "down, or set REPLAY_PROJECT and REPLAY_NET")
        assert other.compose("ps", "-a", "-q", "server").stdout.strip()
    finally:
        other.down()


def test_bad_setting_in_a_replay(tmp_path):
    """LOCK=maybe scripts/replay: the server's own line and exit 2 (not a traceback and the build's output)."""
    env = dict(REPLAY_PROJECT=project("threadlab-test-mistakes-replay"), REPLAY_NET=net(10), REPLAY_OUT=str(tmp_path),
               LOCK="maybe")
    r = run(["scripts/replay", SCENARIO], env, timeout=300)
    assert_one_line(r, 2, "srvr.py: LOCK must be one of on, off, not 'maybe'")
