"""The benchmark's lab: the lab's hosts, idle, with programs started on them by docker exec.

Every server the benchmark measures, the lab's srvr.py and each reference,
runs on a.b.c the same way: `docker exec` of `python3 PROGRAM PORT` as the
image's user, with NCLIENTS (and SWITCH_INTERVAL) in its environment, as the
compose file gives them to srvr.py. For that, a.b.c runs `sleep infinity`
instead of srvr.py (override() below, added to threadlab/compose.idle.yml,
which idles the client hosts). The load generator runs on the client hosts,
on CPUs of their own, a.b.c having CPU 0 (pinning() below); the lab's sieve
variants on the sieve hosts, on every CPU.
"""

import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from common import protocol

from threadlab.lab import CLIENTS, IDLE, LISTENING, ROOT, Lab


def pinning(cpus):
    """{service: cpuset}: a.b.c on CPU 0, the client hosts on the others; nothing with one CPU.

    The server runs one thread at a time (the GIL): one CPU is all it can use. Sharing both with the
    load generator and each other, the server's threads and the generator's loop took turns on the
    same CPUs: 35k round trips/s at 64 clients, p99 10.6 ms; pinned apart, 48k and 5.8 ms.
    """
    if cpus < 2:
        return {}
    return {"server": "0", **{c: "1" if cpus == 2 else f"1-{cpus - 1}" for c in CLIENTS}}


def override(pins):
    """The benchmark's compose override (JSON is YAML), with pins, {service: cpuset}, from pinning().

    a.b.c idles too, so that the benchmark can start each server on it in turn; the sieve worker's
    host gets the memory to sieve to 10^9 (the worker itself stops at 10^8); the sieve hosts are not
    pinned: their second worker needs a second CPU.
    """
    services = {"server": {"command": ["sleep", "infinity"], "healthcheck": {"test": ["CMD", "true"]}},
                "sieved": {"mem_limit": "6g"}, "sieve-ft": {"command": ["sleep", "infinity"]}}
    for service, cpuset in pins.items():
        services.setdefault(service, {})["cpuset"] = cpuset
    return json.dumps({"services": services}, indent=1)


class BenchError(RuntimeError):
    """A program in the lab failed or gave a wrong answer: the figures would be worthless."""


class BenchLab:
    """A lab under its own project name with every host idle; always call down()."""

    def __init__(self, project, net):
        self._override = tempfile.NamedTemporaryFile("w", prefix="threadlab-bench-", suffix=".yml")
        self.pins = pinning(os.cpu_count() or 1)
        self._override.write(override(self.pins))
        self._override.flush()
        self.lab = Lab(project, net, files=("docker-compose.yml", IDLE, self._override.name),
                       profiles=("more", "serve", "ft"))
        self.ids = {}

    def up(self, services):
        """Build the images, then start services and wait until they are up; return the seconds the start took."""
        self.lab.compose("build", *services, timeout=600)
        t0 = time.perf_counter()
        self.lab.compose("up", "-d", "--wait", *services, timeout=600)
        seconds = time.perf_counter() - t0
        self.ids = {s: self.lab.container(s) for s in services}
        return seconds

    def down(self):
        self.lab.down()
        self._override.close()

    def pin(self, service, cpuset):
        """Keep a running host on cpuset ("0"), or on every CPU again (None); nothing without pins."""
        if self.pins:
            cpus = cpuset or f"0-{(os.cpu_count() or 1) - 1}"
            subprocess.run(["docker", "update", "--cpuset-cpus", cpus, self.ids[service]], check=True,
                           capture_output=True, timeout=60)

    def cpu_seconds(self, service):
        """CPU time used so far by everything on a host (its cgroup), or None where that cannot be read."""
        cid = self.ids[service]
        for path, scale in ((f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage", 1e-9),  # cgroup v1
                            (f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat", 1e-6),  # v2, systemd
                            (f"/sys/fs/cgroup/docker/{cid}/cpu.stat", 1e-6)):  # v2, cgroupfs
            try:
                text = Path(path).read_text()
            except OSError:
                continue
            return int(text.split()[1] if text.startswith("usage_usec") else text.split()[0]) * scale
        return None

    def exec(self, service, *argv, env=None, timeout=600):
        """Run argv on a host; return its stdout, or raise BenchError with its output."""
        cmd = ["docker", "exec", *(a for k, v in (env or {}).items() for a in ("-e", f"{k}={v}")),
               self.ids[service], *argv]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise BenchError(f"{' '.join(argv)} on {service} failed ({r.returncode}): {r.stderr.strip()}")
        return r.stdout

    def exec_json(self, service, *argv, **kw):
        return json.loads(self.exec(service, *argv, **kw).splitlines()[-1])

    def start(self, service, *argv, env=None):
        """Start a long-running program on a host: a Program, ready once it has printed 'listening on port'."""
        cmd = ["docker", "exec", *(a for k, v in (env or {}).items() for a in ("-e", f"{k}={v}")),
               self.ids[service], *argv]
        return Program(cmd, " ".join(argv))


class Program:
    """A server started with docker exec; its output is collected line by line."""

    def __init__(self, cmd, name):
        self.name = name
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if LISTENING in line:
                self.ready.set()
        self.ready.set()  # ended: wait_ready() tells which

    def output(self):
        return "\n".join(self.lines)

    def wait_ready(self, timeout=30):
        if not self.ready.wait(timeout) or not any(LISTENING in line for line in self.lines):
            raise BenchError(f"{self.name} did not start listening:\n{self.output()}")

    def final(self, timeout=60):
        """Wait for the server to end its session; return the final value of v it printed."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # the docker CLI; the server itself goes with the lab
            raise BenchError(f"{self.name} did not end its session within {timeout} s:\n{self.output()}")
        self.reader.join(5)
        final = protocol.final_value(self.output())
        if self.proc.returncode != 0:
            raise BenchError(f"{self.name} failed (exit {self.proc.returncode}):\n{self.output()}")
        if final is None:
            raise BenchError(f"{self.name} ended without a final value:\n{self.output()}")
        return final


def relative(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
