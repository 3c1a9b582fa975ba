"""The sieve benchmark: the lab's variants against references, with 1 and 2 workers, in one run.

On the lab's sieve worker host (services/bench/sievebench.py, the lab's Python):
    faithful            sieve.py, what primes.py runs: the tutorial's algorithm
    segmented           sieve_segmented.py with threads: the lab's fastest variant
    segmented-process   the same with processes: what the GIL does not stop
    plain               the textbook bytearray-slice sieve (reference)
On the lab's free-threaded sieve host, sieve-ft (when scripts/build-ft-base has made its base):
    segmented-ft        segmented's very code with threads, on Python without the GIL
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

from threadlab.bench.lab import BenchError
from threadlab.lab import ROOT

PRIMES = {10**5: 9592, 10**6: 78498, 10**7: 664579, 10**8: 5761455, 10**9: 50847534}
IN_LAB = {"faithful": "sieved", "segmented": "sieved", "segmented-process": "sieved", "plain": "sieved",
          "segmented-ft": "sieve-ft"}  # variant: the host it runs on
FASTEST = ("segmented-ft", "segmented")  # the lab's fastest variant with threads: the first one measured
SLOW = {"faithful": 10**9, "plain": 10**9}  # from this n on, one run, not several: ~15-30 s each


def host_python():
    """The Python that has numpy: this one (scripts/bench runs .venv's)."""
    return sys.executable


def have_numpy():
    return subprocess.run([host_python(), "-c", "import numpy"], capture_output=True).returncode == 0


def run_in_lab(bl, variant, n, workers, repeat):
    return bl.exec_json(IN_LAB[variant], "python3", "/app/bench/sievebench.py", variant.removesuffix("-ft"), str(n),
                        str(workers), "--repeat", str(repeat), timeout=900)


def run_numpy(n, workers, repeat):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "services"))
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


ORDER = ("segmented", "segmented-ft", "segmented-process", "numpy", "primesieve", "faithful", "plain")  # quick first


def run(bl, sizes=(10**7, 10**8, 10**9), workers=(1, 2), repeat=3, say=print):
    """Every variant at every n with each number of workers, repeat times over; return the runs and their figures.

    Each repetition runs every variant, 1 worker then 2, before the next begins, so that a speedup
    (1 worker against 2) and a ratio (segmented against primesieve) pair runs made seconds apart.
    """
    missing = {}
    if not have_numpy():
        missing["numpy"] = "numpy is not installed for " + host_python()
    if not shutil.which("primesieve"):
        missing["primesieve"] = "no primesieve program (apt-get install primesieve)"
    if "sieve-ft" not in bl.ids:
        missing["segmented-ft"] = "no free-threaded sieve host (scripts/build-ft-base makes its base, once)"
    runs = []
    for n in sizes:
        for rep in range(repeat):
            for variant in ORDER:
                if variant in missing or (rep > 0 and n >= SLOW.get(variant, n + 1)):
                    continue
                for w in workers:
                    if variant == "numpy":
                        r = run_numpy(n, w, 1)
                    elif variant == "primesieve":
                        r = run_primesieve(n, w, 1)
                    else:
                        r = run_in_lab(bl, variant, n, w, 1)
                    if r["count"] != PRIMES.get(n, r["count"]):
                        raise BenchError(f"{variant} counted {r['count']} primes up to {n}, not {PRIMES[n]}")
                    r.update(variant=variant, seconds=r["seconds"][0], rep=rep, where=IN_LAB.get(variant, "host"))
                    runs.append(r)
                    say(f"  {rep + 1}/{repeat}  {variant:18} n={n:<8.0e} {w} worker{'s' if w > 1 else ' '}  "
                        f"{r['seconds']:8.3f} s  {r['cores']:.2f} cores busy  ({r['count']} primes)")
    result = {"runs": runs, "missing": missing,
              "settings": {"sizes": list(sizes), "workers": list(workers), "repeat": repeat}}
    result.update(figures(runs, workers))
    return result


def figures(runs, workers):
    """Medians: {"table": {variant: {n: {workers: seconds}}}, "cores": {variant: {n: {workers: cores}}},
    "speedup": {variant: {n: 1 worker's time over w's, paired by repetition}}, "fastest": the variant of
    FASTEST measured, "vs_primesieve": {n: {workers: its time over primesieve's, paired by repetition}}}."""
    by = {}
    for r in runs:
        by.setdefault((r["variant"], r["n"], r["workers"]), {})[r["rep"]] = r
    out = {"table": {}, "cores": {}, "speedup": {}, "vs_primesieve": {},
           "fastest": next((v for v in FASTEST if any(r["variant"] == v for r in runs)), FASTEST[-1])}
    for (v, n, w), reps in by.items():
        out["table"].setdefault(v, {}).setdefault(n, {})[w] = statistics.median(r["seconds"] for r in reps.values())
        out["cores"].setdefault(v, {}).setdefault(n, {})[w] = statistics.median(r["cores"] for r in reps.values())

    def paired(a, b):
        ratios = [a[rep]["seconds"] / b[rep]["seconds"] for rep in a if rep in b and b[rep]["seconds"] > 0]
        return statistics.median(ratios) if ratios else None

    w2 = max(workers)
    for (v, n, w), reps in by.items():
        if w == w2 and (v, n, 1) in by and w2 != 1:
            out["speedup"].setdefault(v, {})[n] = paired(by[(v, n, 1)], reps)
        if v == out["fastest"] and ("primesieve", n, w) in by:
            ps = by[("primesieve", n, w)]
            if all(r["seconds"] >= 0.010 for r in ps.values()):  # primesieve's clock ticks in ms
                out["vs_primesieve"].setdefault(n, {})[w] = paired(reps, ps)
    return out
