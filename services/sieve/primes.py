"""Matloff's primes.py in Python 3: count primes up to n with t threads.

Usage:
    python3 primes.py n nthreads                 sieve here
    python3 primes.py n nthreads --host sieved   ask the sieve worker on host sieved

Prints the tutorial's lines:
    thread 0 exiting; processed 9 values of k
    thread 1 exiting; processed 0 values of k
    there are 25 primes
"""

import argparse
import sys
import threading

import sieve
import sieved


printlock = threading.Lock()  # one thread's line at a time on stdout


def say_exit(tn, nk):
    with printlock:
        print("thread", tn, "exiting; processed", nk, "values of k")


def main(argv):
    ap = argparse.ArgumentParser(prog="primes.py", description="The tutorial's threaded sieve.")
    ap.add_argument("n", type=int)
    ap.add_argument("nthreads", type=int)
    ap.add_argument("--host", help="ask the sieve worker on this host instead of sieving here")
    ap.add_argument("--port", type=int, default=sieved.PORT, help=f"the worker's port ({sieved.PORT})")
    args = ap.parse_args(argv[1:])
    try:
        if args.host:
            sieved.check(args.n, args.nthreads)
            count, work = sieved.ask(args.host, args.port, args.n, args.nthreads)
            for tn, nk in work:
                say_exit(tn, nk)
        else:
            count, _ = sieve.count_primes(args.n, args.nthreads, on_exit=say_exit)
    except (ValueError, OSError) as e:
        print(f"primes.py: {e}", file=sys.stderr)
        return 1
    print("there are", count, "primes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
