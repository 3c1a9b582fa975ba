"""One submission in a lab of its own: its copy, its compose override, its subnet, and each check bounded.

The lab is docker-compose.yml with the idle clients (threadlab/compose.idle.yml) and an override of
this submission's own, written beside its copy: the copy is bind-mounted read-only at /submission on
a.b.c (a server) or u.v.w (a client), and runs on the compose file's hardened host (x-host: uid
10001, read-only root, no capabilities, no new privileges, pids and memory limits), on the lab's
network only. The lab comes up once; every check starts a fresh server container in it.
"""

import contextlib
import fcntl
import json
import os
import queue
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from threadlab.lab import CLIENTS, IDLE, ROOT, Lab

PEER = (Path(__file__).resolve().parents[1] / "peer.py").read_text()
PREFIX = "threadlab-check"
SUBNETS = range(100, 200)  # 10.9.100.0/24 to 10.9.199.0/24: the checker's only subnets
PORT = 2000
LOCK_FILE = "/tmp/threadlab-check-subnets.lock"
ENTRY = {"server": "srvr.py", "client": "clnt.py"}
# CHECK_PY2: the Python 2.7 image and base to use (threadlab-host:2.7 and threadlab-py2-base), e.g. to try another
PY2_IMAGE, PY2_BASE = os.environ.get("CHECK_PY2", "threadlab-host:2.7,threadlab-py2-base").split(",", 1)
IMAGES = {"3": "threadlab-host:3.11", "2.7": PY2_IMAGE}
_subnet_lock = threading.Lock()
_taken = set()  # subnets this process holds


class CheckFailed(Exception):
    """The submission failed the check: the message is the report card's one-line reason."""


class SubmissionError(Exception):
    """The submission cannot be checked at all (no file to run): every check fails with this reason."""


@dataclass
class Result:
    name: str
    points: int
    passed: bool
    reason: str
    seconds: float
    log: str = None

    @property
    def earned(self):
        return self.points if self.passed else 0


@dataclass
class Submission:
    student: str
    kind: str  # server or client
    path: Path  # what was handed in: a .py file or a folder
    python: str = "3"
    entry: str = None  # the file to run, inside the copy
    error: str = None  # why it cannot be run, if it cannot
    results: list = field(default_factory=list)
    seconds: float = 0.0

    def __post_init__(self):
        try:
            self.entry = locate(self.path, self.kind)
        except SubmissionError as e:
            self.error = str(e)

    @property
    def score(self):
        return sum(r.earned for r in self.results)

    @property
    def out_of(self):
        return sum(r.points for r in self.results)


def locate(path, kind):
    """The file of a submission to run: the .py itself, or srvr.py/clnt.py in a folder, or its only .py."""
    path = Path(path)
    if path.is_file():
        if path.suffix != ".py":
            raise SubmissionError(f"{path.name} is not a .py file")
        return path.name
    if not path.is_dir():
        raise SubmissionError(f"{path} is neither a file nor a folder")
    if (path / ENTRY[kind]).is_file():
        return ENTRY[kind]
    found = sorted(p.name for p in path.glob("*.py"))
    if len(found) == 1:
        return found[0]
    raise SubmissionError(f"no {ENTRY[kind]} in {path.name}/, and not one .py but {len(found)}")


def python_image(version):
    """The host image for the submission's Python; build the 2.7 one from its base if that is here, or refuse."""
    image = IMAGES[version]
    if _image_here(image):
        return image
    if version == "2.7" and _image_here(PY2_BASE):
        r = subprocess.run(["docker", "build", "-q", "--build-arg", f"BASE_IMAGE={PY2_BASE}", "-t", image,
                            str(ROOT / "services")], capture_output=True, text=True)
        if r.returncode == 0:
            return image
        raise SubmissionError(f"could not build {image} from {PY2_BASE}: {(r.stderr or r.stdout).strip()[-200:]}")
    if version == "2.7":
        raise SubmissionError(f"no Python 2.7 here: the image {PY2_BASE} is missing (scripts/build-py2-base makes it)")
    raise SubmissionError(f"no image {image} (scripts/build-base, then docker compose build)")


def _image_here(image):
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def _subnets_in_use():
    ids = subprocess.run(["docker", "network", "ls", "-q"], capture_output=True, text=True).stdout.split()
    if not ids:
        return set()
    out = subprocess.run(["docker", "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", *ids],
                         capture_output=True, text=True).stdout
    return {int(m.group(1)) for m in re.finditer(r"\b10\.9\.(\d+)\.0/24", out)}


def allocate(skip=()):
    """A subnet of 10.9.100-199 that no network on this machine and no lab of this process has."""
    with _subnet_lock:
        used = _subnets_in_use() | _taken | set(skip)
        for n in SUBNETS:
            if n not in used:
                _taken.add(n)
                return n
    raise SubmissionError("no free subnet in 10.9.100.0/24 to 10.9.199.0/24: too many checker labs up")


@contextlib.contextmanager
def machine_lock():
    """Held by one checker on this machine at a time, from the look for a free subnet until its network exists."""
    with open(LOCK_FILE, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def release(n):
    with _subnet_lock:
        _taken.discard(n)


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "student"


class Lines:
    """A process's output, line by line, read by a thread: wait for the next line with a bound."""

    def __init__(self, proc):
        self.proc, self.lines, self.all = proc, queue.Queue(), []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.all.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def next(self, timeout, what):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise CheckFailed(f"{what}: nothing within {timeout:g} s") from None
        if line is None:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise CheckFailed(f"{what}: {_last(err) or 'it ended'}")
        return json.loads(line) if line.startswith("{") else line

    def text(self):
        return "".join(self.all)


# the last line of a traceback, Python 2 or 3: "ValueError: chr() arg not in range(256)"
EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception)|KeyboardInterrupt|SystemExit)(?:: .*)?$", re.M)


def raised(log):
    """The exception line of the first traceback in a server's log, cut to 100 characters, or None: the
    threads' tracebacks interleave, and one cut short by the process's end has none."""
    at = (log or "").find("Traceback (most recent call last):")
    found = EXCEPTION.search(log, at) if at >= 0 else None
    if not found:
        return None
    line = found.group(0)
    name = line.split(":")[0]
    again = line.find(name, len(name))  # another thread's same exception run into this line
    return (line[:again] if again > 0 else line)[:100]


def as_text(what, values):
    """A FAIL's hint when every value (k or v) is a digit's character code, the first byte of str(n).encode()."""
    if values and all(ord("0") <= n <= ord("9") for n in values):
        return f"; every {what} is a digit's code ({values[0]} is {chr(values[0])!r}): {what} sent as text, not one byte?"
    return ""


def _last(text):
    lines = [x for x in (text or "").splitlines() if x.strip()]
    return lines[-1].strip() if lines else ""


class QuickLab(Lab):
    """A Lab that finds containers with docker ps by their compose labels, and remembers the clients':
    docker compose ps reads the compose files each time, most of a second on a loaded machine."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.known = {}

    def container(self, service):
        if service in self.known:
            return self.known[service]
        r = subprocess.run(["docker", "ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={self.project}",
                            "--filter", f"label=com.docker.compose.service={service}"], capture_output=True, text=True)
        cid = r.stdout.split()[0] if r.stdout.split() else ""
        if not cid:
            raise RuntimeError(f"{self.project} has no container for {service}")
        if service != "server":
            self.known[service] = cid
        return cid

    def compose(self, *args, **kw):
        if args[:1] == ("up",) or args[:1] == ("down",):
            self.known = {k: v for k, v in self.known.items() if k not in args} if "--no-deps" in args else {}
        return super().compose(*args, **kw)


class CheckLab:
    """The lab of one submission: up() once, then a fresh server for each check; down() removes all of it."""

    def __init__(self, sub, config, out):
        self.sub, self.config, self.out = sub, config, out
        self.work = Path(tempfile.mkdtemp(prefix="threadlab-check-"))
        self.subnet = None
        self.lab = None
        self.notes = []  # what the current check did, for its log

    # -- the lab ------------------------------------------------------------------------------------

    def up(self):
        image = python_image(self.sub.python)
        copy = self.work / "submission"
        if self.sub.path.is_dir():
            shutil.copytree(self.sub.path, copy, symlinks=False, ignore=shutil.ignore_patterns(".git", "__pycache__"))
        else:
            copy.mkdir()
            shutil.copy(self.sub.path, copy / self.sub.path.name)
        _readable(self.work)
        python = "python3" if self.sub.python == "3" else "python"
        self.python = python
        service = "server" if self.sub.kind == "server" else "client1"
        override = {"services": {service: {"volumes": [f"{copy}:/submission:ro"]}}}
        if self.sub.kind == "server":
            override["services"]["server"].update(image=image, working_dir="/submission",
                                                  command=[python, f"/submission/{self.sub.entry}", str(PORT)])
        else:
            override["services"]["client1"].update(image=image, volumes=[f"{copy}:/submission:ro",
                                                                          f"{ROOT / 'scenarios'}:/scenarios:ro"])
        (self.work / "compose.check.yml").write_text(json.dumps(override, indent=1))  # JSON is YAML
        tried = []
        for _ in range(3):  # a program other than a checker may take a subnet between the look and the up
            if self._up(tried):
                return
        raise SubmissionError("the lab did not come up: every subnet tried overlapped another network")

    def _up(self, tried):
        """One try at bringing the lab up on a free subnet: True if it came up, False if the subnet overlapped.
        Its network is made (up --no-start) under the machine's lock; its hosts start after, outside it."""
        with machine_lock():  # another checker's look and make wait: two looks at once took the same subnet
            self.subnet = allocate(skip=tried)
            tried.append(self.subnet)
            self.lab = QuickLab(f"{PREFIX}-{self.subnet}-{slug(self.sub.student)}", f"10.9.{self.subnet}",
                                files=("docker-compose.yml", IDLE, str(self.work / "compose.check.yml")),
                                profiles=("more",), IDLE_TIMEOUT="600", MAX_CLIENTS="100", LOG_LEVEL="INFO")
            self.lab.down()
            r = self.lab.compose("up", "--no-start", "--no-deps", *CLIENTS, check=False, timeout=180)
        if r.returncode == 0:
            r = self.lab.compose("up", "-d", "--no-deps", "--wait", *CLIENTS, check=False, timeout=180)
            if r.returncode == 0:
                return True
        self.lab.down()
        release(self.subnet)
        if "overlap" not in (r.stdout + r.stderr).lower():
            raise SubmissionError(f"the lab did not come up: {_last(r.stderr or r.stdout)}")
        return False

    def down(self):
        if self.lab:
            self.lab.down()
        if self.subnet is not None:
            release(self.subnet)
        shutil.rmtree(self.work, ignore_errors=True)

    def container(self, service):
        return self.lab.container(service)

    def note(self, text):
        self.notes.append(text.rstrip("\n"))

    # -- the server ---------------------------------------------------------------------------------

    def start_server(self, nclients=None):
        """A fresh server container with NCLIENTS=nclients; its id once it listens on PORT (read from
        /proc/net/tcp in its container: no connection, which a server might count as a client)."""
        if nclients is not None:
            self.lab.env["NCLIENTS"] = str(nclients)
        self.lab.compose("up", "-d", "--no-deps", "--force-recreate", "server")
        cid = self.lab.container("server")
        self.server = cid
        deadline = time.monotonic() + self.config.start_timeout
        loopback_since = None
        while True:
            r = subprocess.run(["docker", "exec", cid, "cat", "/proc/net/tcp", "/proc/net/tcp6"],
                               capture_output=True, text=True)
            found = listening(r.stdout, PORT)
            if found and not found <= LOOPBACK:
                return cid
            if found and time.monotonic() - (loopback_since := loopback_since or time.monotonic()) > 1:
                raise CheckFailed(f"the server listens on port {PORT} of 127.0.0.1 only, which the clients on the "
                                  "other hosts cannot reach: bind to '' (all addresses), as the tutorial does")
            state = inspect(cid, "{{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}").split()
            if state and state[0] != "true":
                oom = " (out of memory)" if state[2:] == ["true"] else ""
                raise CheckFailed(f"the server ended before it listened on port {PORT} (exit {state[1]}{oom}): "
                                  f"{_last(self.server_log()) or 'no output'}")
            if time.monotonic() > deadline:
                raise CheckFailed(f"the server did not listen on port {PORT} within {self.config.start_timeout:g} s")
            time.sleep(0.05)

    def server_log(self):
        r = subprocess.run(["docker", "logs", self.server], capture_output=True, text=True, errors="replace")
        return r.stdout + r.stderr

    def server_state(self):
        """(running, exit code, OOM-killed) of the current server container."""
        s = inspect(self.server, "{{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}").split()
        return (s[0] == "true", int(s[1]), s[2] == "true") if len(s) == 3 else (False, -1, False)

    def wait_server(self, timeout):
        """Wait for the server to end; True if it did within timeout."""
        try:
            subprocess.run(["docker", "wait", self.server], capture_output=True, timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def threads(self):
        """Threads of the Python processes in the server's container, or None if it has none."""
        script = ('n=0; for p in /proc/[0-9]*; do case "$(cat $p/comm 2>/dev/null)" in python*) '
                  'n=$((n + $(ls $p/task | wc -l)));; esac; done; echo $n')
        r = subprocess.run(["docker", "exec", self.server, "sh", "-c", script], capture_output=True, text=True)
        return int(r.stdout) if r.returncode == 0 and r.stdout.strip().isdigit() else None

    # -- peers on the client hosts ------------------------------------------------------------------

    def peer(self, service, *args):
        """threadlab/peer.py on a client host, started now, its stdin a pipe: (Popen, Lines)."""
        p = subprocess.Popen(["docker", "exec", "-i", self.container(service), "python3", "-c", PEER, *args],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        return p, Lines(p)

    def restore(self, service):
        """A client host back as it was, after a check killed it or cut it off."""
        self.lab.compose("up", "-d", "--no-deps", "--force-recreate", service, check=False)

    def clear_transcripts(self, hosts):
        services = {h: s for s, h in CLIENTS.items()}
        for h in hosts:
            subprocess.run(["docker", "exec", self.container(services[h]), "rm", "-f", f"/tmp/{h}.json"],
                           capture_output=True)

    # -- a check ------------------------------------------------------------------------------------

    def run(self, check, kind_function):
        """One check, bounded, its output kept in out/check/STUDENT/CHECK.log; never raises."""
        self.notes, self.server = [], None
        self.lab.env.update(NCLIENTS="2", LOG_LEVEL="INFO")
        box = {}

        def body():
            try:
                box["reason"] = kind_function(self, check)
                box["passed"] = True
            except CheckFailed as e:
                box["passed"], box["reason"] = False, str(e)
            except Exception as e:  # the checker's own trouble with this submission: a FAIL, not a crash
                box["passed"], box["reason"] = False, f"checker: {type(e).__name__}: {_last(str(e))}"

        start = time.monotonic()
        worker = threading.Thread(target=body, daemon=True)
        worker.start()
        bound = 3 * check.time + self.config.start_timeout + 60  # the kinds bound themselves: this is a backstop
        worker.join(bound)
        if worker.is_alive():
            box = {"passed": False, "reason": f"the check did not end within {bound:g} s (the checker's backstop)"}
        seconds = time.monotonic() - start
        log = self.out / f"{check.name}.log"
        server_log = self.server_log() if self.server else None
        if not box["passed"] and (exc := raised(server_log)) and exc not in box["reason"]:
            box["reason"] += f"; the server raised {exc}"  # the fault itself, where the symptom is a hang
        text = [f"# {check.name} ({check.kind}): {'PASS' if box['passed'] else 'FAIL'} {box['reason']}", *self.notes]
        if server_log is not None:
            text += ["--- the server's output (a.b.c) ---", server_log]
        log.write_text("\n".join(text) + "\n", errors="replace")
        return Result(check.name, check.points, box["passed"], box["reason"], round(seconds, 1), str(log))


# 127.0.0.1, ::1 and ::ffff:127.0.0.1 as /proc/net/tcp{,6} write them
LOOPBACK = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}


def listening(proc_net_tcp, port):
    """The local addresses (as /proc/net/tcp{,6} write them) of the sockets listening (state 0A) on port."""
    want = f":{port:04X}"
    return {parts[1].removesuffix(want) for parts in map(str.split, proc_net_tcp.splitlines())
            if len(parts) > 3 and parts[1].endswith(want) and parts[3] == "0A"}


def inspect(cid, fmt):
    return subprocess.run(["docker", "inspect", "-f", fmt, cid], capture_output=True, text=True).stdout.strip()


def _readable(top):
    """Let the hosts' user (uid 10001) read the copy: folders 755, files 644."""
    for path in [top, *top.rglob("*")]:
        if path.is_symlink():
            continue
        os.chmod(path, 0o755 if path.is_dir() else (path.stat().st_mode & ~0o777) | 0o644 | stat.S_IRUSR)
