"""Watch the bytes between a running lab's clients and a.b.c, as they cross the wire.

Usage: scripts/capture [-p PROJECT] [--port PORT] [--out DIR] [--sessions N]
       scripts/capture --read FILE.pcap [--port PORT] [--lab-net NET]

Live: for every server container of the Compose project PROJECT (COMPOSE_PROJECT_NAME,
else the name Compose gives this folder), the one running now and each one started
later (scripts/replay starts a fresh a.b.c for each scenario), runs the capture host in
that container's network namespace: tcpdump, as uid 10001 with CAP_NET_RAW alone
(docs/wire.md). Prints each packet to or from PORT (2000) as services/capture/wire.py
does, and saves each server's capture, in pcap format, as DIR/PROJECT-N.pcap
(out/capture). A capture ends when its server does (its network namespace goes away);
the command ends after N of them with --sessions, once the project is down, or on Ctrl-C (exit 130,
each capture host removed, its pcap kept; the last line "capture: interrupted").

--read prints a saved capture instead, with the lab's host names for NET (10.9.0).
"""

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from capture import wire

from threadlab.lab import ROOT, engine_problem, interrupted

IMAGE = "threadlab-capture:3.11"
# The capture service of docker-compose.yml, as docker run flags: keep the two alike.
HARDENING = ["--cap-drop", "ALL", "--cap-add", "NET_RAW", "--read-only", "--init", "--pids-limit", "64",
             "--memory", "128m", "--user", "10001"]
OUT = ROOT / "out" / "capture"
LISTENING = "listening on"  # what tcpdump says on stderr once it captures


def say(msg, lock=threading.Lock()):
    with lock:
        print(msg, flush=True)


def refuse(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)


def default_project():
    """The project name Compose gives the lab started from this folder."""
    name = os.environ.get("COMPOSE_PROJECT_NAME") or re.sub(r"[^a-z0-9_-]", "", ROOT.name.lower())
    return name


def docker(*args):
    return subprocess.run(["docker", *args], capture_output=True, text=True)


def ensure_image():
    """The capture image, built from services/capture once."""
    if docker("image", "inspect", IMAGE).returncode == 0:
        return
    say(f"capture: building {IMAGE} (tcpdump from Debian's packages), once")
    r = subprocess.run(["docker", "build", "-q", "-t", IMAGE, "--build-arg", "BASE_IMAGE=threadlab-base:3.11",
                        str(ROOT / "services" / "capture")], capture_output=True, text=True)
    if r.returncode:
        refuse(f"capture: could not build {IMAGE}: {(r.stderr.strip().splitlines() or ['?'])[-1]}")


def servers_running(project):
    r = docker("ps", "-q", "--no-trunc", "--filter", f"label=com.docker.compose.project={project}",
               "--filter", "label=com.docker.compose.service=server", "--filter", "status=running")
    return r.stdout.split()


def project_exists(project):
    return bool(docker("ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={project}").stdout.strip())


def lab_net(cid):
    """The first three parts of the server's address in the lab ("10.9.0"), or None."""
    r = docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", cid)
    try:
        nets = json.loads(r.stdout)
    except ValueError:
        return None
    for net in nets.values():
        if net.get("IPAddress"):
            return net["IPAddress"].rsplit(".", 1)[0]
    return None


class Capture(threading.Thread):
    """The capture of one server container, from its start to its end, into DIR/PROJECT-N.pcap."""

    def __init__(self, project, cid, n, port, out):
        super().__init__(daemon=True)
        self.project, self.cid, self.n, self.port = project, cid, n, port
        self.path = out / f"{project}-{n}.pcap"
        self.listening = threading.Event()
        self.listened = None  # when tcpdump said it listens, by the host's clock
        self.proc = None
        self.stopped = False  # by Ctrl-C, not by its server's end

    def command(self):
        return ["docker", "run", "--rm", "--name", f"{self.project}-capture-{self.n}", "--network",
                f"container:{self.cid}", "--label", f"com.docker.compose.project={self.project}",
                "--label", "org.threadlab.capture=1", *HARDENING, IMAGE,
                "tcpdump", "-p", "--immediate-mode", "-i", "eth0", "-U", "-w", "-", f"tcp port {self.port}"]

    def run(self):
        net = lab_net(self.cid)
        printer = wire.Printer(self.port, wire.names_for(net) if net else None)
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        errors = []
        threading.Thread(target=self.watch, args=(errors,), daemon=True).start()
        with open(self.path, "wb", buffering=0) as copy:
            count, first = 0, None
            try:
                header, packets = wire.read_stream(wire.Tee(self.proc.stdout, copy))
                for p in packets:
                    count += 1
                    first = first or p.time
                    if s := wire.segment(header.link, p):
                        for line in printer.lines(s):
                            say(str(line))
            except wire.WireError as e:
                if self.listening.is_set() or not errors:
                    say(f"capture: session {self.n}: {e}")
        self.proc.wait()
        ended = next((e for e in errors if "disappeared" in e), None)
        if self.stopped:
            say(f"capture: session {self.n} stopped: {count} {'packet' if count == 1 else 'packets'}"
                f" in {os.path.relpath(self.path)}")
        elif ended or self.proc.returncode == 0:
            lead = f", the first {first - self.listened:.2f} s after tcpdump listened" if first and self.listened else ""
            say(f"capture: session {self.n} ended with a.b.c: {count} {'packet' if count == 1 else 'packets'}"
                f" in {os.path.relpath(self.path)}{lead}")
        else:
            say(f"capture: session {self.n}: {errors[-1] if errors else f'docker run ended {self.proc.returncode}'}")

    def watch(self, errors):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").strip()
            if line.startswith("tcpdump: ") and LISTENING in line:
                say(f"capture: session {self.n}: tcpdump listening in a.b.c's network namespace "
                    f"(server container {self.cid[:12]})")
                self.listened = time.time()
                self.listening.set()
            elif line and "packets" not in line:
                errors.append(line)

    def stop(self):
        self.stopped = True
        if self.proc and self.proc.poll() is None:
            docker("rm", "-f", f"{self.project}-capture-{self.n}")


def live(project, port, out, sessions):
    if problem := engine_problem():
        refuse(f"capture: {problem}")
    ensure_image()
    out.mkdir(parents=True, exist_ok=True)
    starts = queue.Queue()
    events = subprocess.Popen(["docker", "events", "--filter", "type=container", "--filter", "event=start",
                               "--filter", f"label=com.docker.compose.project={project}",
                               "--filter", "label=com.docker.compose.service=server", "--format", "{{.ID}}"],
                              stdout=subprocess.PIPE, text=True)
    threading.Thread(target=lambda: [starts.put(line.strip()) for line in events.stdout], daemon=True).start()
    for cid in servers_running(project):
        starts.put(cid)
    if not project_exists(project):
        say(f"capture: no lab {project} yet: waiting for its a.b.c to start")
    else:
        say(f"capture: following a.b.c in {project}, port {port}")
    seen, captures = set(), []
    try:
        while sessions is None or len(captures) < sessions:
            try:
                cid = starts.get(timeout=1)
            except queue.Empty:
                if captures and not any(c.is_alive() for c in captures) and not project_exists(project):
                    say(f"capture: {project} is down")
                    break
                continue
            full = docker("inspect", "-f", "{{.Id}}", cid).stdout.strip() or cid
            if full in seen:
                continue
            seen.add(full)
            captures.append(Capture(project, full, len(captures) + 1, port, out))
            captures[-1].start()
        for c in captures:
            c.join()
    except KeyboardInterrupt:
        for c in captures:
            c.stop()
        for c in captures:
            c.join(timeout=10)
        return interrupted("capture")
    finally:
        events.terminate()
        events.wait()
    return 0


def read(path, port, net):
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        refuse(f"capture: {path}: {e.strerror}")
    try:
        lines = wire.decode(data, port, wire.names_for(net))
    except wire.WireError as e:
        refuse(f"capture: {path}: {e}")
    for line in lines:
        print(line)
    return 0


USAGE = ("usage: scripts/capture [-p PROJECT] [--port PORT] [--out DIR] [--sessions N]\n"
         "       scripts/capture --read FILE.pcap [--port PORT] [--lab-net NET]")


def main(argv):
    args = argv[1:]
    opts = {"-p": default_project(), "--port": "2000", "--out": str(OUT), "--sessions": None,
            "--read": None, "--lab-net": os.environ.get("LAB_NET", "10.9.0")}
    while args:
        a = args.pop(0)
        if a not in opts or not args:
            refuse(USAGE)
        opts[a] = args.pop(0)
    try:
        port = int(opts["--port"])
        sessions = int(opts["--sessions"]) if opts["--sessions"] else None
    except ValueError:
        refuse(USAGE)
    if opts["--read"]:
        return read(opts["--read"], port, opts["--lab-net"])
    return live(opts["-p"], port, Path(opts["--out"]), sessions)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:  # before it followed a server (while it built its image, say): nothing to stop
        sys.exit(interrupted("capture"))
