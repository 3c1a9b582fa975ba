"""Ctrl-C at every stage of the commands the README gives: each ends within a bound, with one clear last
line, the exit code below, no traceback, and nothing of its lab or its processes left behind.

Each command is started as a person starts it, from the repo root, in a process group of its own, and
Ctrl-C is what a terminal sends: SIGINT to the whole group (the command and every docker it runs). A stage
is reached when the command prints the line that marks it (and, for "while the lab comes up", once a
container of its project exists; at a prompt, once it reads its stdin): never a sleep.

Exit codes on Ctrl-C: 130 (128 + SIGINT), the last line on stderr "COMMAND: interrupted", printed once
what the command brought up is down. Three are otherwise, by design:
- clnt.py at its prompt: Ctrl-C is a person leaving, as Ctrl-D: it sends 0, exit 0 (the README), in the
  hand session's docker compose run too. Ctrl-C while it waits for its v, and at its prompt without a real
  signal, are in tests/unit/test_client_robust.py.
- srvr.py: its output is its log, so its last line is on stdout, "stopped: the value of v so far is N";
  stderr stays empty; exit 130 (docker stop, SIGTERM, ends the same way with exit 0: test_robust.py). At
  (Pdb) the line follows the prompt on the screen.
- docker compose up: Compose's own: "Gracefully stopping...", the containers stopped or killed (not
  removed), its last line "canceled", exit 130 (now and then a panic of Compose 2.26.1, exit 2); docker
  compose down then removes them (test_compose_up_stops_and_down_removes says what it does). While it
  builds, "canceled", exit 130, no container made ("#N CANCELED" first when a build step was running).

At a terminal (the hand session, pdb), Ctrl-C is the key, typed: the terminal's own SIGINT, in the
container when Compose gave it one. The base builds and scripts/test run with a throw-away TMPDIR (and
BASE_IMAGE, DOCKER_CONFIG, a copy of the scripts), so that what they leave shows and no real image or venv
is touched.

The commands run four at a time (one case per worker of a pool), each lab of its own: projects
threadlab-test-ctrlc-*, nets 200 to 211 of the session.
"""

import glob
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import net, project

from threadlab.checker import config
from threadlab.checker.run import slug
from threadlab.lab import ERASE, ROOT, Lab, Terminal

PY = sys.executable
STAGE = 300  # seconds for a command to reach its stage: a lab built and brought up on a loaded machine
ENDS = 90  # seconds for a command with a lab to end after Ctrl-C, its lab torn down
ENDS_HERE = 15  # seconds for one without Docker
GONE = 20  # seconds for the processes of its group to be gone once it has ended
STUDENT = "tests/students/server/good_threading.py"
LABELS = "label=com.docker.compose.project"


class Command:
    """A command as a person starts it in a terminal: its own process group, its output read as it comes."""

    def __init__(self, argv, env=None, stdin=subprocess.DEVNULL):
        self.argv = argv
        self.proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})}, stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        self.out, self.err, self.both = [], [], []
        self.changed = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(s, into), daemon=True)
                        for s, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for r in self.readers:
            r.start()

    def _read(self, stream, into):
        while chunk := os.read(stream.fileno(), 65536):
            with self.changed:
                text = chunk.decode(errors="replace")
                into.append(text)
                self.both.append(text)
                self.changed.notify_all()
        with self.changed:
            into.append("")
            self.changed.notify_all()

    def screen(self):
        with self.changed:
            return ERASE.sub("", "".join(self.both))

    def wait_for(self, text, timeout=STAGE, whole=True):
        """Wait until the command has printed text (stdout or stderr), and the rest of its line unless not whole
        (a prompt): a line cut short is no stage. Fail if the command ends or the time is up."""
        pattern = re.compile(re.escape(text) + (".*\n" if whole else ""))
        deadline = time.monotonic() + timeout
        with self.changed:
            while not pattern.search(ERASE.sub("", "".join(self.both))):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and "" in self.out and "" in self.err:
                    raise AssertionError(f"{' '.join(self.argv)}: no {text!r} within {timeout} s "
                                         f"(exit {self.proc.poll()}):\n{ERASE.sub('', ''.join(self.both))}")
                self.changed.wait(min(left, 1))

    def ctrl_c(self):
        os.killpg(self.proc.pid, signal.SIGINT)

    def end(self, bound):
        """Wait for the command to end after Ctrl-C: (exit code, seconds, stdout, stderr); None if it hung."""
        start = time.monotonic()
        try:
            code = self.proc.wait(bound)
        except subprocess.TimeoutExpired:
            code = None
        seconds = time.monotonic() - start
        for r in self.readers:
            r.join(5)
        return code, seconds, ERASE.sub("", "".join(self.out)), ERASE.sub("", "".join(self.err))

    def group_gone(self):
        """Whether every process of its group has ended (its docker children too), waiting up to GONE s."""
        return group_gone(self.proc.pid)

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def group_gone(group):
    deadline = time.monotonic() + GONE
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def running(cmd, argv):
    """Whether a process of the command's group runs argv (the start of its command line)."""
    want = "\0".join(argv).encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getpgid(int(pid)) == cmd.proc.pid and want in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:  # it ended
            pass
    return False


READ = {"x86_64": "0", "aarch64": "63"}[os.uname().machine]  # the read system call's number


def reading_stdin(cmd):
    """Whether the command is blocked reading its stdin (/proc/PID/syscall: read, on fd 0).

    At a prompt, a Ctrl-C between printing it and reading (microseconds) is only seen once a line comes: a
    race of Python's input() on a pipe, that a person never hits. The test waits past it."""
    try:
        call = Path(f"/proc/{cmd.proc.pid}/syscall").read_text().split()
    except OSError:
        return False
    return call[:2] == [READ, "0x0"]


def docker_ids(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True).stdout.split()


def project_things(name):
    """The containers and networks of the Compose project name."""
    return [f"container {c}" for c in docker_ids("ps", "-a", "--format", "{{.Names}}", "--filter", f"{LABELS}={name}")] + \
        [f"network {n}" for n in docker_ids("network", "ls", "--format", "{{.Name}}", "--filter", f"{LABELS}={name}")]


def check_projects(student):
    """The projects of the checker's labs for this student that have anything on this machine."""
    pattern = re.compile(rf"threadlab-check-\d+-{re.escape(slug(student))}")
    owners = docker_ids("ps", "-a", "--format", '{{.Label "com.docker.compose.project"}}') + \
        docker_ids("network", "ls", "--format", '{{.Label "com.docker.compose.project"}}')
    return sorted({o for o in owners if pattern.fullmatch(o)})


def wait_until(condition, what, timeout=STAGE):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        time.sleep(0.1)


def interrupt(cmd, stage, bound, left=lambda: [], then=None, whole=True):
    """Wait for the stage's line, Ctrl-C, and what came of it: a dict the tests read."""
    try:
        cmd.wait_for(stage, whole=whole)
        if then:
            then()
        cmd.ctrl_c()
        code, seconds, out, err = cmd.end(bound)
        return {"code": code, "seconds": seconds, "out": out, "err": err, "bound": bound,
                "gone": cmd.group_gone(), "left": left()}
    finally:
        cmd.kill()


WORK = []  # the module's folder for what the commands write (REPLAY_OUT, CHECK_OUT, --out), set by its fixture


def out(name):
    return str(WORK[0] / name)


def replay(n, *args):
    """scripts/replay ARGS in a lab of its own; (Command, its project)."""
    name = project(f"threadlab-test-ctrlc-replay{n}")
    return Command(["scripts/replay", *args], {"REPLAY_PROJECT": name, "REPLAY_NET": net(200 + n),
                                               "REPLAY_OUT": out(name)}), name


def down(name, n):
    Lab(name, net(n), profiles=("more", "serve", "ft")).down()


def case_replay_up():
    cmd, name = replay(0, "scenarios/tutorial.scn")
    try:
        return interrupt(cmd, "replay: bringing up", ENDS, lambda: project_things(name),
                         then=lambda: wait_until(lambda: project_things(name), f"container of {name}"))
    finally:
        down(name, 200)


def case_replay_playing():
    cmd, name = replay(1, "-v", "scenarios/tutorial.scn")
    try:
        return interrupt(cmd, "  | u.v.w: sent", ENDS, lambda: project_things(name))
    finally:
        down(name, 201)


def case_replay_between():
    cmd, name = replay(2, "scenarios/tutorial.scn", "scenarios/bad-input.scn")
    try:
        return interrupt(cmd, "  transcript: ", ENDS, lambda: project_things(name))
    finally:
        down(name, 202)


def check(student, stage, then=None):
    name = f"{student}-s{os.getpid()}"  # the checker's labs are threadlab-check-NNN-NAME, NNN any session's
    cmd = Command(["scripts/check", "server", STUDENT, "--name", name], {"CHECK_OUT": out(name)})
    try:
        return interrupt(cmd, stage, ENDS, lambda: check_projects(name),
                         then=then and (lambda: then(name)))
    finally:
        for p in check_projects(name):
            Lab(p, "10.9.100").down()


def case_check_up():
    return check("ctrl-c-up", "each in a fresh server",
                 then=lambda name: wait_until(lambda: check_projects(name), "checker lab"))


def case_check_during():
    return check("ctrl-c-during", f"  1/{len(config.load().server)} {config.load().server[0].name}:")


CAPTURE_LAB, CAPTURE_NET = project("threadlab-test-ctrlc-capture"), 203


def case_capture_following():
    lab = Lab(CAPTURE_LAB, net(CAPTURE_NET), profiles=())
    try:
        lab.compose("up", "-d", "--wait", "server")
        cmd = Command(["scripts/capture", "-p", CAPTURE_LAB, "--out", out(CAPTURE_LAB)])
        return interrupt(cmd, "tcpdump listening", ENDS, lambda: docker_ids(
            "ps", "-a", "-q", "--filter", f"{LABELS}={CAPTURE_LAB}", "--filter", "label=org.threadlab.capture=1"))
    finally:
        lab.down()


def case_capture_waiting():
    name = project("threadlab-test-ctrlc-nolab")
    cmd = Command(["scripts/capture", "-p", name, "--out", out(name)])
    return interrupt(cmd, "waiting for its a.b.c to start", ENDS_HERE, lambda: project_things(name))


def case_bench():
    name = project("threadlab-test-ctrlc-bench")
    cmd = Command(["scripts/bench", "--quick", "--out", out(name)],
                  {"BENCH_PROJECT": name, "BENCH_NET": net(204), "BENCH_INSTALL": "0"})
    try:
        return interrupt(cmd, "bench: server: ", ENDS, lambda: project_things(name))
    finally:
        down(name, 204)


def case_balance():
    name = project("threadlab-test-ctrlc-balance")
    cmd = Command(["scripts/balance", "--quick"], {"BALANCE_PROJECT": name, "BALANCE_NET": net(205),
                                                   "BALANCE_OUT": out(name)})
    try:
        return interrupt(cmd, "balance: Python ", ENDS, lambda: project_things(name))
    finally:
        down(name, 205)


def case_balance_local():
    cmd = Command(["scripts/balance", "--quick", "--local"], {"BALANCE_OUT": out("balance-local")})
    return interrupt(cmd, "balance: Python ", ENDS_HERE)


def case_race():
    cmd = Command(["scripts/race", "--quick"])
    return interrupt(cmd, "race: threadlab-host:3.11: the loop", ENDS,
                     lambda: docker_ids("ps", "-a", "-q", "--filter", f"name=threadlab-race-{cmd.proc.pid}"))


def case_interleave_measure():
    return interrupt(Command(["scripts/interleave", "--measure", "100000000"]), "switch interval", ENDS_HERE)


def case_interleave_pick():
    cmd = Command(["scripts/interleave", "--pick"], stdin=subprocess.PIPE)
    return interrupt(cmd, "run client 0 or 1? ",
                     ENDS_HERE, whole=False, then=lambda: wait_until(lambda: reading_stdin(cmd), "read of stdin"))


def free_port():
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


HERE = {"PYTHONPATH": "services"}  # as the README has clnt.py run from the checkout


def case_server_waiting():
    cmd = Command([PY, "services/server/srvr.py", str(free_port())], HERE)
    return interrupt(cmd, "listening on port", ENDS_HERE)


def case_server_serving_and_client_prompt():
    """srvr.py with two clients: the first leaves by Ctrl-C at its prompt, the second has sent 5 when the server
    gets Ctrl-C. Two results: the client's and the server's."""
    port = str(free_port())
    server = Command([PY, "services/server/srvr.py", port], HERE)
    clients = []
    try:
        server.wait_for("listening on port")
        first = Command([PY, "services/client/clnt.py", "127.0.0.1", port], HERE, stdin=subprocess.PIPE)
        clients.append(first)
        prompt = interrupt(first, "input k ", ENDS_HERE, whole=False,
                           then=lambda: wait_until(lambda: reading_stdin(first), "read of stdin", ENDS_HERE))
        try:
            server.wait_for("left", timeout=ENDS_HERE)
        finally:
            prompt["server log"] = server.screen()
        second = Command([PY, "services/client/clnt.py", "127.0.0.1", port], HERE, stdin=subprocess.PIPE)
        clients.append(second)
        second.proc.stdin.write(b"5\n")
        second.proc.stdin.flush()
        second.wait_for("input k 5\n", whole=False)  # the 5 came back: the server is serving it
        serving = interrupt(server, "joined: client 2 of 2", ENDS_HERE)
        return {"clnt.py at its prompt": prompt, "srvr.py while serving": serving}
    finally:
        for c in [server, *clients]:
            c.kill()


def case_check_class():
    """The README's class run, its five clients copied under names of this run's (their labs are
    threadlab-check-NNN-NAME): Ctrl-C once the first lab is up."""
    top = WORK[0] / f"class-s{os.getpid()}"
    top.mkdir()
    names = []
    for f in sorted((ROOT / "tests/students/client").glob("*.py")):
        names.append(f"{f.stem}-ctrlc{os.getpid()}")
        shutil.copy(f, top / f"{names[-1]}.py")
    labs = lambda: [p for name in names for p in check_projects(name)]
    cmd = Command(["scripts/check", "class", str(top), "--kind", "client"], {"CHECK_OUT": out("class")})
    try:
        return interrupt(cmd, f"check class {top}: {len(names)} client submissions", ENDS, labs,
                         then=lambda: wait_until(labs, "checker lab"))
    finally:
        for p in labs():
            Lab(p, "10.9.100").down()


def scratch(name):
    """An empty folder of the module's, as a command's TMPDIR: what it leaves there shows."""
    folder = WORK[0] / name
    folder.mkdir()
    return folder


def case_install_compose():
    """No Compose v2 in DOCKER_CONFIG (an empty one): Ctrl-C while it fetches Debian's index."""
    config, tmp = scratch("docker-config"), scratch("install-compose-tmp")
    cmd = Command(["scripts/install-compose"], {"DOCKER_CONFIG": str(config), "TMPDIR": str(tmp)})
    return interrupt(cmd, "install-compose: no Compose v2", ENDS_HERE, lambda: os.listdir(tmp) + os.listdir(config))


def image_here(tag):
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def case_build_base():
    """BASE_IMAGE a tag that is not here: Ctrl-C once mmdebstrap has Debian's package lists (seconds in)."""
    tag, tmp = f"{project('threadlab-test-ctrlc-base')}:x", scratch("build-base-tmp")
    cmd = Command(["scripts/build-base"], {"BASE_IMAGE": tag, "TMPDIR": str(tmp)})
    try:
        return interrupt(cmd, "making it from Debian's packages", ENDS_HERE,
                         lambda: os.listdir(tmp) + [f"image {tag}"] * image_here(tag),
                         then=lambda: wait_until(lambda: glob.glob(f"{tmp}/mmdebstrap.*/var/lib/apt/lists/*Packages*"),
                                                 "mmdebstrap's package lists", ENDS))
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)


def case_test_venv():
    """scripts/test in a copy of its scripts (its .venv the copy's, not the work tree's): Ctrl-C as it makes
    the venv."""
    copy = scratch("test-copy")
    for d, names in (("scripts", ["test", "install-compose", "build-base", "build-ft-base", "build-py2-base",
                                  "debian-mirror"]), ("tests", ["requirements.txt"])):
        (copy / d).mkdir()
        for n in names:
            shutil.copy2(ROOT / d / n, copy / d / n)
    tmp = scratch("test-tmp")
    cmd = Command([str(copy / "scripts/test")], {"TMPDIR": str(tmp)})
    return interrupt(cmd, "test: pytest and testinfra in .venv", ENDS_HERE, lambda: os.listdir(tmp),
                     then=lambda: wait_until(lambda: running(cmd, ["python3", "-m", "venv"]), "python3 -m venv"))


def lab_env(name, n):
    """A person's shell in the lab project name, on subnet n: docker compose as the README types it."""
    return {**os.environ, "COMPOSE_PROJECT_NAME": name, "LAB_NET": net(n), "COMPOSE_ENV_FILES": os.devnull}


def typed(term, keys, bound):
    """Type keys at the terminal and read it until the command ends: a result as interrupt() gives, the
    terminal's screen as stdout (its stderr is the same screen)."""
    start = time.monotonic()
    term.type(keys)
    deadline = start + bound
    while (left := deadline - time.monotonic()) > 0 and select.select([term.fd], [], [], left)[0]:
        try:
            chunk = os.read(term.fd, 4096)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        term.screen += chunk.decode(errors="replace").replace("\r\n", "\n")
    try:
        code = term.proc.wait(max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        code = None
    return {"code": code, "seconds": time.monotonic() - start, "out": ERASE.sub("", term.screen).replace("\r", ""),
            "err": "", "bound": bound, "gone": group_gone(term.proc.pid)}


def service_containers(name, service):
    return docker_ids("ps", "-a", "--format", "{{.Names}}", "--filter", f"{LABELS}={name}",
                      "--filter", f"label=com.docker.compose.service={service}")


def ended(term):
    try:
        os.killpg(term.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    term.proc.wait()
    os.close(term.fd)


BY_HAND, BY_HAND_NET = project("threadlab-test-ctrlc-hand"), 209


def case_by_hand():
    """The hand session: docker compose run --rm client1 python3 clnt.py a.b.c 2000 in a terminal, Ctrl-C at
    its prompt. Its run container goes (--rm); a.b.c, started for it, stays up for the other person."""
    term = Terminal(["docker", "compose", "run", "--rm", "client1", "python3", "clnt.py", "a.b.c", "2000"],
                    lab_env(BY_HAND, BY_HAND_NET))
    try:
        term.expect("input k ", timeout=STAGE)
        r = typed(term, "\x03", ENDS_HERE)
        r["left"] = [f"container {c}" for c in service_containers(BY_HAND, "client1")]
        r["server log"] = subprocess.run(["docker", "logs", f"{BY_HAND}-server-1"], capture_output=True,
                                         text=True).stdout
        return r
    finally:
        ended(term)
        down(BY_HAND, BY_HAND_NET)


PDB, PDB_NET = project("threadlab-test-ctrlc-pdb"), 210


def pdb_stopped(env, terms):
    """The pdb lesson's server in a terminal, a client in another that has sent 5: the server at (Pdb). Both
    terminals go into terms as they start, for the caller to end."""
    server = Terminal(["docker", "compose", "run", "--rm", "--use-aliases", "-e", "BREAKPOINT=on", "-e",
                       "NCLIENTS=1", "server"], env)
    terms.append(server)
    server.expect("for 1 client ", timeout=STAGE)
    client = Terminal(["docker", "compose", "run", "--rm", "--no-deps", "client1", "python3", "clnt.py", "a.b.c",
                       "2000"], env)
    terms.append(client)
    client.expect("input k ", timeout=STAGE)
    client.type("5\n")
    server.expect("(Pdb) ")
    return server, client


def case_pdb():
    """srvr.py stopped in pdb (docs/lessons/pdb.md): first q at (Pdb), then, in a new server, Ctrl-C. The
    Ctrl-C's result, with the q's and each client's under "q", "client" and "client after q"."""
    env, terms = lab_env(PDB, PDB_NET), []
    try:
        for key in ("q\n", "\x03"):
            server, client = pdb_stopped(env, terms)
            r = typed(server, key, ENDS_HERE)
            r["client"] = typed(client, "", ENDS_HERE)
            r["left"] = [f"container {c}" for c in service_containers(PDB, "server") + service_containers(PDB, "client1")]
            if key.startswith("q"):
                q = r
        r["q"] = q
        return r
    finally:
        for t in terms:
            ended(t)
        down(PDB, PDB_NET)


def still_running(name):
    """The project's containers running GONE s after Compose ended, or "none running".

    Not one that ends on its own within that: Compose's stop lets a.b.c exit 0, and then it may still start
    the end host, whose command is true (seen: "end-1 Up Less than a second" just after "canceled")."""
    deadline = time.monotonic() + GONE
    while up := docker_ids("ps", "--format", "{{.Names}} {{.Status}}", "--filter", f"{LABELS}={name}"):
        if time.monotonic() > deadline:
            return up
        time.sleep(0.2)
    return "none running"


def demo(n, stage, *args):
    """The README's docker compose up, in a project and on a subnet of its own (LAB_NET); down once it ended."""
    name = project(f"threadlab-test-ctrlc-demo{n}")
    env = {"LAB_NET": net(206 + n), "COMPOSE_ENV_FILES": os.devnull}
    cmd = Command(["docker", "compose", "-p", name, "up", *args], env)
    try:
        result = interrupt(cmd, stage, ENDS)
        result["stopped"] = still_running(name)
        result["server log"] = subprocess.run(["docker", "logs", f"{name}-server-1"], capture_output=True,
                                              text=True).stdout
        result["server exit"] = subprocess.run(["docker", "inspect", "-f", "{{.State.ExitCode}}", f"{name}-server-1"],
                                               capture_output=True, text=True).stdout.strip()
        r = subprocess.run(["docker", "compose", "-p", name, "down"], cwd=ROOT, env={**os.environ, **env},
                           capture_output=True, text=True, timeout=120)
        result["down"] = (r.returncode, r.stderr)
        result["left"] = project_things(name)
        return result
    finally:
        down(name, 206 + n)


# case: (the function that runs it, the line it ends with, on stderr unless said, the exit code)
CASES = {
    "scripts/check server FILE during its second check": (case_check_during, "check: interrupted", 130),
    "scripts/replay A B between scenarios": (case_replay_between, "replay: interrupted", 130),
    "scripts/replay -v while a scenario plays": (case_replay_playing, "replay: interrupted", 130),
    "scripts/bench --quick while measuring": (case_bench, "bench: interrupted", 130),
    "scripts/check server FILE while its lab comes up": (case_check_up, "check: interrupted", 130),
    "scripts/replay while its lab comes up": (case_replay_up, "replay: interrupted", 130),
    "scripts/capture while capturing": (case_capture_following, "capture: interrupted", 130),
    "scripts/balance --quick while measuring": (case_balance, "balance: interrupted", 130),
    "scripts/race --quick while a row is measured": (case_race, "race: interrupted", 130),
    "scripts/capture waiting for a lab": (case_capture_waiting, "capture: interrupted", 130),
    "scripts/balance --quick --local while measuring": (case_balance_local, "balance: interrupted", 130),
    "scripts/interleave --measure while the threads add": (case_interleave_measure, "interleave: interrupted", 130),
    "scripts/interleave --pick at its question": (case_interleave_pick, "interleave: interrupted", 130),
    "srvr.py waiting for clients": (case_server_waiting, "stdout: stopped: the value of v so far is 0", 130),
    "srvr.py while serving": (None, "stdout: stopped: the value of v so far is 5", 130),
    "clnt.py at its prompt": (case_server_serving_and_client_prompt, "stdout: end of input: sending 0 and leaving", 0),
    "scripts/check class DIR --kind client while grading": (case_check_class, "check: interrupted", 130),
    "scripts/install-compose while it downloads": (case_install_compose, "install-compose: interrupted", 130),
    "scripts/build-base while mmdebstrap downloads": (case_build_base, "build-base: interrupted", 130),
    "scripts/test while it makes .venv": (case_test_venv, "test: interrupted", 130),
    # in a terminal: the screen is stdout and stderr both
    "docker compose run --rm client1 python3 clnt.py (by hand) at its prompt":
        (case_by_hand, "stdout: end of input: sending 0 and leaving", 0),
    "docker compose run ... server (the pdb lesson) at (Pdb)": (case_pdb, "stdout: (Pdb) stopped: the value of v so far is 0", 130),
}
# docker compose up, the README's demo: Compose's own Ctrl-C (test_compose_up_stops_and_down_removes)
DEMOS = {"while the lab comes up": lambda: demo(0, "listening on port"),
         "while the clients play": lambda: demo(1, "joined: client 2 of 2"),
         "--build while its images build": lambda: demo(2, "#0 building with", "--build")}
SLOW = ["scripts/check server FILE during its second check", "docker compose run ... server (the pdb lesson) at (Pdb)",
         "scripts/replay A B between scenarios",
        "scripts/replay -v while a scenario plays", "scripts/bench --quick while measuring"]


@pytest.fixture(scope="module")
def interrupted(docker_engine, tmp_path_factory):
    """Every case started, four at a time, the slow ones first: {case: Future of its result}."""
    WORK[:] = [tmp_path_factory.mktemp("interrupts")]
    pool = ThreadPoolExecutor(max_workers=4)
    runs = {name: run for name, (run, _, _) in CASES.items() if run}
    runs.update({f"docker compose up {stage}": run for stage, run in DEMOS.items()})
    order = SLOW + [name for name in runs if name not in SLOW]
    futures = {name: pool.submit(runs[name]) for name in order}
    yield futures
    pool.shutdown(wait=True)


def result_of(interrupted, case):
    if case in interrupted:
        result = interrupted[case].result()
        return result.get(case, result)
    both = interrupted["clnt.py at its prompt"].result()  # the server's case runs with the client's
    return both[case]


@pytest.mark.parametrize("case", list(CASES))
def test_ctrl_c(interrupted, case):
    """Ctrl-C at this stage: the command ends within its bound, its last line and exit code as listed, no
    traceback, every process of it gone, nothing of its lab left."""
    r = result_of(interrupted, case)
    _, line, code = CASES[case]
    said = f"exit {r['code']} after {r['seconds']:.1f} s\n--- stdout\n{r['out']}--- stderr\n{r['err']}"
    assert r["code"] is not None, f"it did not end within {r['bound']} s of Ctrl-C\n{said}"
    assert "Traceback" not in r["out"] + r["err"], said
    on_stdout = line.startswith("stdout: ")
    lines = (r["out"] if on_stdout else r["err"]).strip().splitlines()
    assert (r["code"], lines[-1] if lines else "") == (code, line.removeprefix("stdout: ")), said
    if on_stdout:
        assert r["err"] == "", said
    assert r["gone"], f"processes of its group were still running {GONE} s after it ended\n{said}"
    assert r["left"] == [], said


def test_replay_tears_down_before_it_says_so(interrupted):
    """A replay cut short says it tears its lab down, and prints no summary of scenarios it did not finish."""
    r = result_of(interrupted, "scripts/replay A B between scenarios")
    assert "replay: tearing down" in r["out"] and " scenarios, " not in r["out"], r["out"]


def test_clnt_at_its_prompt_leaves_with_0(interrupted):
    """Ctrl-C at clnt.py's prompt is a person leaving: the server is told 0."""
    r = result_of(interrupted, "clnt.py at its prompt")
    assert re.search(r"127\.0\.0\.1:\d+ sent 0 and left", r["server log"]), r["server log"]


def test_by_hand_at_its_prompt_leaves_with_0(interrupted):
    """Ctrl-C in the hand session's terminal is a person leaving: a.b.c is told 0 and waits on for the other."""
    r = result_of(interrupted, "docker compose run --rm client1 python3 clnt.py (by hand) at its prompt")
    assert re.search(r"\S+:\d+ sent 0 and left", r["server log"]), r["server log"]


def test_pdb_q_and_ctrl_c(interrupted):
    """docs/lessons/pdb.md: q at (Pdb) ends that client's thread (the server logs it dropped, the client says
    the server closed the connection, exit 1) and the server ends with its final value, exit 0; Ctrl-C there
    stops the server (130, the value so far) and the client says the same."""
    r = result_of(interrupted, "docker compose run ... server (the pdb lesson) at (Pdb)")
    q = r["q"]
    said = f"exit {q['code']}:\n{q['out']}\n--- the client, exit {q['client']['code']}:\n{q['client']['out']}"
    assert re.search(r"\S+:\d+ dropped:", q["out"]), said
    assert (q["code"], q["out"].strip().splitlines()[-1]) == (0, "the final value of v is 0"), said
    assert q["gone"] and q["left"] == [], said
    for c in (q["client"], r["client"]):
        assert (c["code"], c["out"].strip().splitlines()[-1]) == (1, "clnt.py: the server closed the connection"), \
            c["out"]
        assert "Traceback" not in c["out"], c["out"]


@pytest.mark.parametrize("stage", list(DEMOS))
def test_compose_up_stops_and_down_removes(interrupted, stage):
    """Ctrl-C in docker compose up: Compose stops the lab and keeps its containers; nothing runs, down is clean.

    What Compose 2.26 does, seen here: "Gracefully stopping... (press Ctrl+C again to force)", then it
    stops the containers, clients first (SIGTERM: clnt.py exits 143, its server logs it left without
    0), then a.b.c, which prints its final value (both clients had left) or the value so far, and exits 0;
    or, while it is still starting containers (a client waiting for a.b.c's health check, or just
    started), it kills them (exit 137, a.b.c prints nothing). It ends "canceled", exit 130; now and then
    it panics instead, "panic: close of closed channel", exit 2: docker/compose#11710, fixed after 2.26.1.
    While its images build (up --build) it cancels the build ("#N CANCELED" for a step that was running: in
    one CI run Ctrl-C came before any step had started, and there was none), makes no container and ends
    "canceled", exit 130; the images keep their old tags (BuildKit tags one once it is built).
    """
    r = interrupted[f"docker compose up {stage}"].result()
    said = f"exit {r['code']} after {r['seconds']:.1f} s\n--- stdout\n{r['out']}--- stderr\n{r['err']}"
    assert r["code"] is not None, f"it did not end within {r['bound']} s of Ctrl-C\n{said}"
    assert "Traceback" not in r["out"] + r["err"], said
    building = stage.endswith("images build")
    if building:
        assert r["server exit"] == "", said  # no container made
    else:
        assert "Gracefully stopping... (press Ctrl+C again to force)" in r["err"], said
    last = r["err"].strip().splitlines()[-1]
    assert (r["code"], last) == (130, "canceled") or r["code"] == 2 and "panic: close of closed channel" in r["err"], said
    assert r["gone"], said
    assert r["stopped"] == "none running", f"{r['stopped']}\n{said}"
    assert r["down"][0] == 0, r["down"][1]
    assert r["left"] == [], r["left"]
    if building:
        return  # no a.b.c was made
    lines = r["server log"].strip().splitlines()
    if r["server exit"] == "0":
        assert re.fullmatch(r"the final value of v is \d+|stopped: the value of v so far is \d+", lines[-1]), \
            r["server log"]
    else:
        assert r["server exit"] == "137", f"a.b.c exit {r['server exit']}:\n{r['server log']}"
