"""Drive a threadlab lab under a project name of its own, with Compose v2: for tests and scripts."""

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ERASE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # Compose 2.26 erases lines even with --ansi never
# The client services and their host names, as docker-compose.yml has them (a unit test checks).
CLIENTS = {f"client{i}": host for i, host in enumerate(
    ["u.v.w", "x.y.z", "r.s.t", "o.p.q", "l.m.n", "i.j.k", "f.g.h", "d.e.f"], 1)}
IDLE = "threadlab/compose.idle.yml"  # every client host up and idle, for commands run on it
LISTENING = "listening on port"  # in the log of the server and the sieve worker once they take connections
INTERRUPTED = 130  # a command's exit code on Ctrl-C: 128 + SIGINT, what a shell reports for a program it stopped


def stop_like_ctrl_c():
    """Take SIGTERM (kill, docker stop) and SIGHUP (the terminal closed) as Ctrl-C: the command tears down what it
    brought up. In the main thread, before anything is up."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)


def interrupted(command):
    """A command's end on Ctrl-C, once it has torn down what it brought up: one line on stderr, "replay:
    interrupted", its last; return the exit code, 130."""
    print(f"{command}: interrupted", file=sys.stderr, flush=True)
    return INTERRUPTED


def engine_problem(compose=True):
    """Why this machine cannot run a lab, in one line (no docker, no engine, no Compose v2), or None.
    compose=False: for the commands that install Compose v2 themselves."""
    if not shutil.which("docker"):
        return "no docker command: install Docker Engine"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "the Docker engine does not answer"
    if compose and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        return "no Compose v2 (scripts/install-compose installs it)"
    return None


class Lab:
    """One lab: a Compose project with its own name and network (LAB_NET)."""

    def __init__(self, project, net, files=("docker-compose.yml",), profiles=("more", "serve"), **settings):
        self.project = project
        self.files = [a for f in files for a in ("-f", f)]
        self.profiles = [a for p in profiles for a in ("--profile", p)]
        self.env = dict(os.environ, LAB_NET=net, **settings)
        self.env.setdefault("JOIN_WAIT", "off")  # the tools and tests start the clients themselves, when they will
        self.env.pop("COMPOSE_PROJECT_NAME", None)

    def compose(self, *args, check=True, timeout=300, **kw):
        """Run docker compose on this lab; raise with its output when it fails."""
        cmd = self.command("--ansi", "never", *args)
        r = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True,
                           timeout=timeout, **kw)
        r.stdout = ERASE.sub("", r.stdout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[3:])} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
        return r

    def command(self, *args):
        """The command line a person would type for docker compose on this lab."""
        env_file = ["--env-file", self.env["LAB_ENV_FILE"]] if self.env.get("LAB_ENV_FILE") else []
        return ["docker", "compose", "-p", self.project, *env_file, *self.files, *self.profiles, *args]

    def container(self, service):
        cid = self.compose("ps", "-a", "-q", service).stdout.strip()
        if not cid:
            raise RuntimeError(f"{self.project} has no container for {service}")
        return cid

    def start(self, service, ready=LISTENING, timeout=60):
        """A fresh container for service, its log empty; return its id once its log says ready.

        Quicker than up --wait, whose health check runs a second after the start at the soonest.
        """
        self.compose("up", "-d", "--no-deps", "--force-recreate", service)
        cid = self.container(service)
        deadline = time.monotonic() + timeout
        while ready not in (log := container_log(cid)):
            running = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", cid],
                                     capture_output=True, text=True).stdout.strip()
            if running != "true" or time.monotonic() > deadline:
                raise RuntimeError(f"{service} did not say {ready!r} ({'running' if running == 'true' else 'ended'})"
                                   f":\n{log}")
            time.sleep(0.05)
        return cid

    def refusal(self):
        """The one line a host of this lab refused its settings with (it exited 2), or None."""
        for cid in self.compose("ps", "-a", "-q", check=False).stdout.split():
            code = subprocess.run(["docker", "inspect", "-f", "{{.State.ExitCode}}", cid],
                                  capture_output=True, text=True).stdout.strip()
            lines = [line for line in container_log(cid).splitlines() if line.strip()]
            if code == "2" and lines:
                return lines[-1]
        return None

    def logs(self, service):
        return container_log(self.container(service))

    def all_logs(self):
        return self.compose("logs", "--no-color", check=False).stdout

    def down(self):
        """Remove the lab's containers, networks and volumes; again while any is left, for up to about 10 s:
        after a Ctrl-C that cut its `up` short, a container Compose had asked for can appear once the first
        down has looked, and a clean-clone CI run once found a checker lab's network left after its down."""
        for _ in range(10):
            self.compose("down", "-v", "--remove-orphans", "--timeout", "5", check=False)
            if not self.things():
                return
            time.sleep(1)
        for net in self.things(["network", "ls", "--format", "{{.Name}}"]):
            if engine_keeps(net):
                print(f"lab: the engine keeps network {net}: 'has active endpoints', with no container on it "
                      "(a Docker bug; restarting the engine frees it)", file=sys.stderr)

    def things(self, *lists):
        """What docker lists of this lab's project (by default the ids of its containers and networks)."""
        label = f"label=com.docker.compose.project={self.project}"
        return [i for kind in (lists or (["ps", "-a"], ["network", "ls"])) for i in subprocess.run(
            ["docker", *kind, "-q", "--filter", label], capture_output=True, text=True).stdout.split()]


def engine_keeps(network):
    """Remove network; True if the engine refuses because of endpoints that no container holds: Docker 20.10
    leaves one now and then when a container goes, and only a restart of the engine frees the network."""
    r = subprocess.run(["docker", "network", "rm", network], capture_output=True, text=True)
    if r.returncode == 0 or "has active endpoints" not in r.stderr:
        return False
    on_it = subprocess.run(["docker", "network", "inspect", "-f", "{{len .Containers}}", network],
                           capture_output=True, text=True).stdout.strip()
    return on_it == "0"


def container_log(cid):
    r = subprocess.run(["docker", "logs", cid], capture_output=True, text=True)
    return r.stdout + r.stderr


class Terminal:
    """A command on a pseudo-terminal, typed at as a person would."""

    def __init__(self, argv, env):
        self.fd, tty = os.openpty()
        self.proc = subprocess.Popen(argv, stdin=tty, stdout=tty, stderr=tty, cwd=ROOT, env=env,
                                     start_new_session=True)
        os.close(tty)
        self.screen = ""
        self.seen = 0  # how much of the screen expect() has consumed

    def expect(self, text, timeout=60):
        """Wait until text appears after what was already expected; return the screen up to it."""
        deadline = time.monotonic() + timeout
        while (at := self.screen.find(text, self.seen)) < 0:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise AssertionError(f"no {text!r} within {timeout} s; the screen:\n{self.screen}")
            try:
                self.screen += os.read(self.fd, 4096).decode(errors="replace").replace("\r\n", "\n")
            except OSError:  # the program ended
                raise AssertionError(f"the program ended before {text!r}; the screen:\n{self.screen}")
        start, self.seen = self.seen, at + len(text)
        return self.screen[start:self.seen]

    def type(self, keys):
        os.write(self.fd, keys.encode())

    def close(self, timeout=30):
        """Wait for the program to end; return its exit code."""
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.fd)
