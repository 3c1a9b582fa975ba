"""The sieve benchmark: the lab's variants against references, with 1 and 2 workers, in one run.

On the lab's sieve worker host (services/bench/sievebench.py, the lab's Python):
    faithful            sieve.py, what primes.py runs: the tutorial's algorithm
    segmented           sieve_segmented.py with threads: the lab's fastest variant
    segmented-process   the same with processes: what the GIL does not stop
    plain               the textbook bytearray-slice sieve (reference)
On this machine (neither is in the lab's image):
    numpy               sieve_numpy.py, segmented's algorithm with numpy's stores (reference)
    primesieve          Debian's primesieve program (reference: the near-physical limit)

Each figure is the median of a few runs; every run's count is checked
against the known number of primes. "cores" is CPU time over wall time: how
many cores the workers kept busy.
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

from bench_lab import BenchError
from lab import ROOT

PRIMES = {10**5: 9592, 10**6: 78498, 10**7: 664579, 10**8: 5761455, 10**9: 50847534}
IN_LAB = ("faithful", "segmented", "segmented-process", "plain")
ON_HOST = ("numpy", "primesieve")
SLOW = {"faithful": 10**9, "plain": 10**9}  # from this n on, one run, not several: ~15-30 s each


def host_python():
    """The Python that has numpy: this one (scripts/bench runs .venv's)."""
    return sys.executable


def have_numpy():
    return subprocess.run([host_python(), "-c", "import numpy"], capture_output=True).returncode == 0


def run_in_lab(bl, variant, n, workers, repeat):
    return bl.exec_json("sieved", "python3", "sievebench.py", variant, str(n), str(workers),
                        "--repeat", str(repeat), timeout=900)


def run_numpy(n, workers, repeat):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        str(ROOT / "services" / d) for d in ("sieve", "bench", "common")))
    r = subprocess.run([host_python(), str(ROOT / "services" / "bench" / "sievebench.py"), "numpy", str(n),
                        str(workers), "--repeat", str(repeat)], capture_output=True, text=True, env=env, timeout=900)
    if r.returncode != 0:
        raise BenchError(f"numpy sieve at {n} failed: {r.stderr.strip()}")
    return json.loads(r.stdout)


def run_primesieve(n, workers, repeat):
    """primesieve's own timing ('Seconds: x'), which leaves out starting the program, and its CPU."""
    seconds, counts, cores = [], set(), []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), os.times()
        r = subprocess.run(["primesieve", str(n), "--threads", str(workers), "--quiet", "--time"],
                           capture_output=True, text=True, timeout=300)
        wall, c1 = time.perf_counter() - t0, os.times()
        m = re.search(r"Seconds: ([0-9.]+)", r.stdout)
        if r.returncode != 0 or not m:
            raise BenchError(f"primesieve {n} failed: {r.stdout}{r.stderr}")
        seconds.append(float(m.group(1)))
        counts.add(int(r.stdout.split()[-1]))
        cores.append((c1.children_user + c1.children_system - c0.children_user - c0.children_system) / wall)
    return {"variant": "primesieve", "n": n, "workers": workers, "count": counts.pop() if len(counts) == 1 else None,
            "seconds": seconds, "cores": statistics.median(cores)}


def run(bl, sizes=(10**7, 10**8, 10**9), workers=(1, 2), repeat=3, say=print):
    """Every variant at every n with each number of workers; return {"runs": [...], "missing": {...}}."""
    missing = {}
    if not have_numpy():
        missing["numpy"] = "numpy is not installed for " + host_python()
    if not shutil.which("primesieve"):
        missing["primesieve"] = "no primesieve program (apt-get install primesieve)"
    runs = []
    for n in sizes:
        for variant in IN_LAB + ON_HOST:
            if variant in missing:
                continue
            for w in workers:
                reps = 1 if n >= SLOW.get(variant, n + 1) else repeat
                if variant == "numpy":
                    r = run_numpy(n, w, reps)
                elif variant == "primesieve":
                    r = run_primesieve(n, w, reps)
                else:
                    r = run_in_lab(bl, variant, n, w, reps)
                if r["count"] != PRIMES.get(n, r["count"]):
                    raise BenchError(f"{variant} counted {r['count']} primes up to {n}, not {PRIMES[n]}")
                r["median"] = statistics.median(r["seconds"])
                r["where"] = "host" if variant in ON_HOST else "sieved"
                runs.append(r)
                say(f"  {variant:18} n={n:<11.0e} {w} worker{'s' if w > 1 else ' '}  {r['median']:8.3f} s  "
                    f"{r['cores']:.2f} cores busy  ({r['count']} primes, {len(r['seconds'])} run"
                    f"{'s' if len(r['seconds']) > 1 else ''})")
    return {"runs": runs, "missing": missing,
            "settings": {"sizes": list(sizes), "workers": list(workers), "repeat": repeat}}


def table(result):
    """{variant: {n: {workers: median seconds}}}"""
    out = {}
    for r in result["runs"]:
        out.setdefault(r["variant"], {}).setdefault(r["n"], {})[r["workers"]] = r["median"]
    return out
