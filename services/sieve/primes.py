"""Matloff's primes.py in Python 3: count primes up to n with t threads.

Usage:
    python3 primes.py n nthreads                 sieve here
    python3 primes.py n nthreads --host sieved   ask the sieve worker on host sieved
    python3 primes.py n nthreads --as-printed    line 43 as printed: wait for 2 threads
                                                 (SIEVE_VARIANT=thread only)

Prints the tutorial's lines:
    thread 0 exiting; processed 9 values of k
    thread 1 exiting; processed 0 values of k
    there are 25 primes

Settings (variants.py says more): SIEVE_VARIANT, threading (default), threading-loop
or thread (primes_thread.py, the tutorial's _thread program line for line);
SWITCH_INTERVAL, seconds per thread's turn (sys.setswitchinterval). With
--host, the worker's own settings decide. Exit 1: bad n or threads, or the
worker failed; 2: a bad setting.
"""

import argparse
import os
import sys
import threading

try:
    from sieve import sieved, variants
except ImportError:  # run from the repo as a plain script: services/ is not on the path
    sys.exit("primes.py: run it with services/ on the path: PYTHONPATH=services python3 services/sieve/primes.py N THREADS")

SIEVE_VARIANT = os.environ.get("SIEVE_VARIANT", "threading")
SWITCH_INTERVAL = os.environ.get("SWITCH_INTERVAL", "")  # seconds; empty: Python's 0.005

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
    ap.add_argument("--as-printed", action="store_true",
                    help="line 43 as the tutorial prints it, 'while nstarted < 2' (SIEVE_VARIANT=thread)")
    args = ap.parse_args(argv[1:])
    try:
        count_primes = variants.variant(SIEVE_VARIANT)
        interval = variants.switch_interval(SWITCH_INTERVAL)
        if args.n < 2 or args.nthreads < 1:
            raise ValueError("n must be at least 2 and threads at least 1")
        if args.as_printed and (SIEVE_VARIANT != "thread" or args.host):
            raise ValueError("--as-printed is line 43 of the tutorial's _thread program: "
                             "use it with SIEVE_VARIANT=thread and without --host")
    except ValueError as e:
        print(f"primes.py: {e}", file=sys.stderr)
        return 2
    if interval is not None:
        sys.setswitchinterval(interval)
    try:
        if args.host:
            sieved.check(args.n, args.nthreads)
            count, work = sieved.ask(args.host, args.port, args.n, args.nthreads)
            for tn, nk in work:
                say_exit(tn, nk)
        elif args.as_printed:
            count, _ = count_primes(args.n, args.nthreads, on_exit=say_exit, as_printed=True)
        else:
            count, _ = count_primes(args.n, args.nthreads, on_exit=say_exit)
    except (ValueError, OSError) as e:
        print(f"primes.py: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: one line, and the sieve's threads (daemons) end with the program
        print("primes.py: interrupted", file=sys.stderr)
        return 130
    print("there are", count, "primes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
