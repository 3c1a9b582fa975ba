"""Time one sieve variant at one n with w workers; print one JSON line.

    faithful    variants.count_primes: the tutorial's primes.py, one shared array, threads
    segmented   sieve_segmented, threads: the lab's fastest variant
    segmented-process   sieve_segmented with processes instead of threads
    plain       plainsieve: the textbook bytearray sieve, a reference
    numpy       sieve_numpy (the host only: the lab's hosts have no numpy), a reference

Run:  python3 sievebench.py VARIANT N WORKERS [--repeat R]
Prints {"variant": ..., "n": ..., "workers": ..., "count": ..., "seconds": [one per repeat], "cores": ...};
cores is CPU time (this process's and its children's) over wall time: how
many cores the workers kept busy, about 1 whatever the threads when the GIL
serializes them.
Runs in the lab's sieve host for the lab's variants, on the host for numpy.
"""

import argparse
import json
import os
import statistics
import sys
import time


def variants():
    """VARIANT -> count(n, workers) returning the number of primes; numpy only imported when asked."""
    from bench import plainsieve
    from sieve import sieve_segmented, variants

    def numpy(n, w):
        from sieve import sieve_numpy
        return sieve_numpy.count_primes(n, w)[0]

    return {
        "faithful": lambda n, w: variants.count_primes(n, w)[0],
        "segmented": lambda n, w: sieve_segmented.count_primes(n, w)[0],
        "segmented-process": lambda n, w: sieve_segmented.count_primes(n, w, kind="process")[0],
        "plain": plainsieve.count_primes,
        "numpy": numpy,
    }


def run(variant, n, workers, repeat=1):
    count = variants()[variant]
    if variant == "numpy":
        from sieve import sieve_numpy  # noqa: F401  imported before the clock starts
    counts, seconds, cores = set(), [], []
    for _ in range(repeat):
        c0, t0 = os.times(), time.perf_counter()
        counts.add(count(n, workers))
        t1, c1 = time.perf_counter(), os.times()
        seconds.append(t1 - t0)
        cores.append(sum(c1[:4]) / (t1 - t0) - sum(c0[:4]) / (t1 - t0))
    if len(counts) != 1:
        raise RuntimeError(f"{variant} gave different counts for {n}: {sorted(counts)}")
    return {"variant": variant, "n": n, "workers": workers, "count": counts.pop(), "seconds": seconds,
            "cores": statistics.median(cores)}


def main(argv):
    ap = argparse.ArgumentParser(prog="sievebench.py", description="Time a sieve variant.")
    ap.add_argument("variant", choices=sorted(variants()))
    ap.add_argument("n", type=int)
    ap.add_argument("workers", type=int)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv[1:])
    try:
        result = run(args.variant, args.n, args.workers, args.repeat)
    except (ValueError, RuntimeError, MemoryError, ImportError) as e:
        print(f"sievebench.py: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
