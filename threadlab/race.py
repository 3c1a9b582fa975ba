"""scripts/race: how many updates of v the race loses, on each Python the lab has, measured now.

Usage: scripts/race [--quick] [--json FILE]

For each interpreter, in a container of its image with this tree's services/ mounted over /app
(so it runs this checkout's srvr.py, not the image's copy), no network:

  the loop    two threads each calling srvr.Tally(lock=False).add(1) LOOP times, with
              sys.setswitchinterval(1e-6): `v = self.v; self.v = v + k`, the read and the write
              of srvr.py line 27, with nothing in between
  the server  srvr.py LOCK=off and four of the lab's clients (clnt.py) playing contention.scn's
              parts over loopback: 4 clients x 2000 k's of 1, as fast as the server answers

Interpreters: CPython 3.11 with the GIL (threadlab-host:3.11), CPython 3.13 free-threaded
(threadlab-host:ft, from scripts/build-ft-base) and Python 2.7 (threadlab-py2-base, from
scripts/build-py2-base: the tutorial's own programs in services/tutorial, its loop with
sys.setcheckinterval(1), its srvr.py without the lock, unlocked.py, and its clnt.py twice, 127
k's of 1 each: that srvr.py sends v as chr(v) and has exactly 2 clients, so v stays below 256).
An image missing is a row saying which script builds it. Prints a markdown table; lost updates
are the sum of the k's the clients had acknowledged minus the final value (the loop's: 2 LOOP
minus v). About 15 s; --quick, a fifth of the loop and a quarter of the scenario, 10 s.
Ctrl-C: the container measuring now is removed; exit 130, the last line "race: interrupted".
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from threadlab.lab import ROOT, engine_problem, interrupted

SERVICES = ROOT / "services"
HOSTS = ("u.v.w", "x.y.z", "r.s.t", "o.p.q")

# Run in the image by python3 -c, with /app on the path: the loop on the real Tally.add.
LOOP3 = """
import json, platform, sys, threading, time
from server import srvr
n = int(sys.argv[1])
sys.setswitchinterval(1e-6)
tally = srvr.Tally(2, lock=False)
together = threading.Barrier(2)  # both threads in the loop at once: a thread started first may finish first
def run():
    together.wait()
    for _ in range(n):
        tally.add(1)
threads = [threading.Thread(target=run) for _ in range(2)]
start = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"interpreter": srvr.interpreter(), "sent": 2 * n, "final": tally.v,
                  "seconds": time.monotonic() - start}))
"""

# srvr.py LOCK=off and len(HOSTS) clnt.py's playing a scenario over loopback, in one container.
SERVER3 = """
import json, os, re, subprocess, sys, time
scn, hosts = sys.argv[1], sys.argv[2:]
with open("/tmp/race.scn", "w") as f:
    f.write(scn)
env = dict(os.environ, LOCK="off", NCLIENTS=str(len(hosts)))
srv = subprocess.Popen([sys.executable, "srvr.py", "2000"], cwd="/app/server", env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
first = srv.stdout.readline().strip()
start = time.monotonic()
clients = [subprocess.Popen([sys.executable, "clnt.py", "127.0.0.1", "2000", "--play", "/tmp/race.scn",
                             "--as", h, "--transcript", f"/tmp/{h}.json"], cwd="/app/client",
                            stdout=subprocess.DEVNULL) for h in hosts]
for c in clients:
    c.wait()
out = srv.communicate(timeout=120)[0]
final = re.search(r"the final value of v is (\\d+)", out)
sent = sum(k for h in hosts for k, _ in json.load(open(f"/tmp/{h}.json"))["echoes"])
print(json.dumps({"start": first, "sent": sent, "final": int(final.group(1)) if final else None,
                  "seconds": time.monotonic() - start}))
"""

# Python 2.7: the same loop without srvr.py (a Python 3 program), as the tutorial would write it.
LOOP2 = """
import json, platform, sys, threading, time
n = int(sys.argv[1])
sys.setcheckinterval(1)
class T(object):
    v = 0
t = T()
go = threading.Event()  # both threads in the loop at once
def run():
    go.wait()
    for _ in xrange(n):
        v = t.v
        t.v = v + 1
threads = [threading.Thread(target=run) for _ in range(2)]
start = time.time()
for th in threads: th.start()
go.set()
for th in threads: th.join()
print json.dumps({"interpreter": "%s %s, GIL on" % (platform.python_implementation(), platform.python_version()),
                  "sent": 2 * n, "final": t.v, "seconds": time.time() - start})
"""

# Python 2.7: the tutorial's srvr.py without its lock (unlocked.py), two of the tutorial's clnt.py.
SERVER2 = """
import json, os, re, subprocess, sys, time
n = int(sys.argv[1])
env = dict(os.environ, CHECK_INTERVAL="1")
srv = subprocess.Popen(["python", "unlocked.py", "2000"], cwd="/app/tutorial", env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
first = srv.stdout.readline().strip()
time.sleep(0.5)  # srvr.py says nothing when it listens: give it the time to
start = time.time()
typed = "1\\n" * n + "0\\n"
clients = [subprocess.Popen(["python", "clnt.py", "127.0.0.1", "2000"], cwd="/app/tutorial",
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(2)]
for c in clients:
    c.stdin.write(typed)
    c.stdin.close()
for c in clients:
    c.stdout.read()
    c.wait()
out = srv.communicate()[0]
final = re.search(r"the final value of v is (\\d+)", out)
print json.dumps({"start": first, "sent": 2 * n, "final": int(final.group(1)) if final else None,
                  "seconds": time.time() - start})
"""


def image_exists(tag):
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def container_name():
    """The name of the container measuring now: one at a time, named for this process, removed on Ctrl-C."""
    return f"threadlab-race-{os.getpid()}"


def run_in(image, mount, python, code, *args, timeout=180):
    """python -c code args in a fresh container of image, mount over /app; its one JSON line."""
    try:
        r = subprocess.run(["docker", "run", "--rm", "--name", container_name(), "--network", "none", "--read-only",
                            "--tmpfs", "/tmp",
                            "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true", "--user", "10001",
                            "-v", f"{mount}:/app:ro", "-e", "PYTHONPATH=/app", "-e", "PYTHONDONTWRITEBYTECODE=1",
                            "-e", "PYTHONUNBUFFERED=1", image, python, "-c", code, *map(str, args)],
                           capture_output=True, text=True, timeout=timeout)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):  # its threads would go on adding after docker run ends
        subprocess.run(["docker", "rm", "-f", container_name()], capture_output=True)
        raise
    lines = r.stdout.strip().splitlines()
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"{image}: exit {r.returncode}: {(r.stderr or r.stdout).strip()[-500:]}")
    return json.loads(lines[-1])


def lost(m):
    if m["final"] is None:
        return "no final value"
    n = m["sent"] - m["final"]
    return f"{number(n)} of {number(m['sent'])}" + (f" ({100 * n / m['sent']:.2g} %)" if n else "")


def number(n):
    return f"{n:,}".replace(",", " ")


def scenario(nks):
    return "".join(f"{h}: {nks}*1 0\n" for h in HOSTS)


def measure(quick, say=print):
    """The table's rows, [(interpreter, what ran, lost updates)], measured now; and the raw figures."""
    loop = 100_000 if quick else 500_000  # at 50 000 a thread may be done before the other gets a CPU
    nks = 500 if quick else 2000
    rows, raw = [], {}
    for tag, build, name in (("3.11", "scripts/build-base", "CPython 3.11"),
                             ("ft", "scripts/build-ft-base", "CPython 3.13, free-threaded build")):
        image = next((i for i in (f"threadlab-host:{tag}", f"threadlab-base:{tag}") if image_exists(i)), None)
        if image is None:
            rows.append((name, "not built: " + build, ""))
            continue
        say(f"race: {image}: the loop, two threads x {number(loop)} Tally.add(1)")
        m = run_in(image, SERVICES, "python3", LOOP3, loop)
        interp = m["interpreter"] + (", free-threaded build" if tag == "ft" else "")
        raw[f"{tag} loop"] = m
        rows.append((interp, f"two threads, each `tally.add(1)` {number(loop)} times "
                     f"(srvr.Tally, lock=False), switch interval 1 µs; {m['seconds']:.1f} s", lost(m)))
        say(f"race: {image}: srvr.py LOCK=off, 4 clients x {nks} k's of 1")
        m = run_in(image, SERVICES, "python3", SERVER3, scenario(nks), *HOSTS)
        raw[f"{tag} server"] = m
        rows.append((interp, f"srvr.py LOCK=off, 4 clnt.py x {nks} k's of 1 "
                     f"(contention.scn's parts{'' if nks == 2000 else ', shortened'}) over loopback; {m['seconds']:.1f} s",
                     lost(m)))
    name = "Python 2.7, the tutorial's"
    if not image_exists("threadlab-py2-base"):
        rows.append((name, "not built: scripts/build-py2-base", ""))
    elif not (SERVICES / "tutorial" / "unlocked.py").is_file():
        rows.append((name, "no services/tutorial/unlocked.py in this checkout", ""))
    else:
        say(f"race: threadlab-py2-base: the loop, two threads x {number(loop)}; the tutorial's srvr.py unlocked")
        m = run_in("threadlab-py2-base", SERVICES, "python", LOOP2, loop)
        raw["2.7 loop"] = m
        interp = m["interpreter"]
        rows.append((interp, f"two threads, each `v = t.v; t.v = v + 1` {number(loop)} times, "
                     f"sys.setcheckinterval(1); {m['seconds']:.1f} s", lost(m)))
        m = run_in("threadlab-py2-base", SERVICES, "python", SERVER2, 127)
        raw["2.7 server"] = m
        rows.append((interp, "the tutorial's srvr.py without lines 26 and 28 (unlocked.py, "
                     "CHECK_INTERVAL=1), its clnt.py twice x 127 k's of 1 (v must stay below 256: chr(v)); "
                     f"{m['seconds']:.1f} s", lost(m)))
    return rows, raw


def table(rows):
    out = ["| interpreter | what ran | lost updates |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(out)


def main(argv):
    ap = argparse.ArgumentParser(prog="scripts/race", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a fifth of the loop, a quarter of the scenario")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the raw figures to FILE")
    args = ap.parse_args(argv[1:])
    if problem := engine_problem():
        print(f"race: {problem}", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        rows, raw = measure(args.quick, say=lambda m: print(m, file=sys.stderr, flush=True))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"race: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return interrupted("race")
    print(table(rows))
    print(f"\n(scripts/race{' --quick' if args.quick else ''}: {time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "raw": raw}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
