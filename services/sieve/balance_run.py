"""The measuring half of scripts/balance: runs the sieve many times, prints each setting's runs as a JSON line.

Standard library only: scripts/balance runs it in the lab's sieve host
(docker compose run ... sieve python3 -m sieve.balance_run ARGS), or here the
same way with --local. Usage (ARGS):

    python3 -m sieve.balance_run --variants thread,threading --n 100,10000 --threads 2,4 --switch 0.005,0.1 --runs 10

First line: {"python": "3.11.2", "host": "sieve"}; then, for every variant,
n, thread count and switch interval, in that order, one line:
    {"variant": "thread", "switch": 0.005, "n": 100000, "threads": 2, "counts": [9592],
     "work": [[4, 311], ...]}
counts: the distinct prime counts the runs gave (one, if all is well); work:
one list per run, the k's processed by thread 0, 1, ...
"""

import argparse
import json
import platform
import socket
import sys

from sieve import variants


def numbers(kind):
    return lambda text: [kind(w) for w in text.split(",")]


def main(argv):
    ap = argparse.ArgumentParser(prog="balance_run")
    ap.add_argument("--variants", type=lambda t: t.split(","), required=True)
    ap.add_argument("--n", type=numbers(int), required=True)
    ap.add_argument("--threads", type=numbers(int), required=True)
    ap.add_argument("--switch", type=numbers(float), required=True)
    ap.add_argument("--runs", type=int, required=True)
    args = ap.parse_args(argv)
    print(json.dumps({"python": platform.python_version(), "host": socket.gethostname()}), flush=True)
    default = sys.getswitchinterval()
    try:
        for name in args.variants:
            count_primes = variants.variant(name)
            for n in args.n:
                for t in args.threads:
                    for interval in args.switch:
                        sys.setswitchinterval(interval)
                        counts, work = set(), []
                        for _ in range(args.runs):
                            count, done = count_primes(n, t)
                            counts.add(count)
                            work.append([nk for _, nk in sorted(done)])
                        print(json.dumps({"variant": name, "switch": interval, "n": n, "threads": t,
                                          "counts": sorted(counts), "work": work}), flush=True)
    finally:
        sys.setswitchinterval(default)


if __name__ == "__main__":
    main(sys.argv[1:])
