"""The sieve worker: counts primes for other hosts on the lab network.

Protocol, one request per connection, text lines:
    request:  "n nthreads\n"
    reply:    {"primes": 78498, "work": [[0, 819], [1, 180]], "variant": "threading"}\n
          or  {"error": "one line saying what is wrong"}\n
work lists (thread number, k's processed) in the order the threads finished.

Run:  python3 sieved.py        settings: SIEVE_PORT (2001), SIEVE_MAX_N, SIEVE_MAX_THREADS,
SIEVE_VARIANT (threading, threading-loop or thread: see variants.py), SWITCH_INTERVAL
(seconds per thread's turn). A bad setting: one line on stderr, exit 2.
With SIEVE_VARIANT=thread (the tutorial's program, its state in module
globals) requests are counted one at a time, and n is at most 10^7.
"""

import json
import logging
import os
import socket
import sys
import threading

try:
    from common.settings import LOG_LEVELS, choice, number
    from sieve import variants
except ImportError:  # run from the repo as a plain script: services/ is not on the path
    sys.exit("sieved.py: run it with services/ on the path: PYTHONPATH=services python3 services/sieve/sieved.py")

try:  # a bad one is main()'s one line, not a traceback here: primes.py imports this module too
    PORT = number("SIEVE_PORT", os.environ.get("SIEVE_PORT", "2001"), int, 1, 65535)
    MAX_N = number("SIEVE_MAX_N", os.environ.get("SIEVE_MAX_N", str(10**8)), int, 2)
    MAX_THREADS = number("SIEVE_MAX_THREADS", os.environ.get("SIEVE_MAX_THREADS", "64"), int, 1)
    BAD_SETTING = None
except ValueError as e:
    PORT, MAX_N, MAX_THREADS, BAD_SETTING = 2001, 10**8, 64, e
VARIANT = os.environ.get("SIEVE_VARIANT", "threading")
SWITCH_INTERVAL = os.environ.get("SWITCH_INTERVAL", "")  # seconds; empty: Python's 0.005
REQUEST_LIMIT = 64  # bytes: a request line is two numbers

log = logging.getLogger("sieved")


def check(n, nthreads, variant=None):
    """Raise ValueError unless the worker would take this request.

    variant: the worker's SIEVE_VARIANT, whose own limit on n applies too (None: SIEVE_MAX_N only).
    """
    max_n = min(MAX_N, variants.MAX_N.get(variant, MAX_N))
    if not 2 <= n <= max_n:
        also = f" with SIEVE_VARIANT={variant}" if max_n < MAX_N else ""
        raise ValueError(f"n must be from 2 to {max_n}{also}, not {n}")
    if not 1 <= nthreads <= MAX_THREADS:
        raise ValueError(f"threads must be from 1 to {MAX_THREADS}, not {nthreads}")


def answer(line):
    """The reply (a dict) to one request line."""
    try:
        n, nthreads = (int(w) for w in line.split())
    except ValueError:
        return {"error": f"expected 'n nthreads', got {line.strip()[:40]!r}"}
    try:
        check(n, nthreads, VARIANT)
    except ValueError as e:
        return {"error": str(e)}
    count, work = variants.variant(VARIANT)(n, nthreads)
    return {"primes": count, "work": work, "variant": VARIANT}


def handle(conn, addr):
    who = f"{addr[0]}:{addr[1]}"
    try:
        with conn, conn.makefile("rb") as f:
            line = f.readline(REQUEST_LIMIT).decode("ascii", "replace")
            reply = answer(line)
            log.info("%s asked %r: %s", who, line.strip(),
                     reply.get("error") or f"{reply['primes']} primes ({VARIANT})")
            conn.sendall(json.dumps(reply).encode() + b"\n")
    except Exception as e:
        log.warning("%s dropped: %s", who, e)


def ask(host, port, n, nthreads, timeout=600):
    """Ask the worker on host; return (count, work). Raises OSError or ValueError."""
    with socket.create_connection((host, port), timeout=timeout) as s, s.makefile("rb") as f:
        s.sendall(f"{n} {nthreads}\n".encode())
        line = f.readline()
    if not line:
        raise ValueError(f"the worker on {host} closed without answering")
    reply = json.loads(line)
    if "error" in reply:
        raise ValueError(f"the worker on {host} says: {reply['error']}")
    return reply["primes"], [tuple(w) for w in reply["work"]]


def main():
    try:
        logging.basicConfig(level=choice("LOG_LEVEL", os.environ.get("LOG_LEVEL", "INFO"), LOG_LEVELS),
                            format="%(message)s", stream=sys.stdout)
        if BAD_SETTING:
            raise BAD_SETTING
        variants.variant(VARIANT)
        interval = variants.switch_interval(SWITCH_INTERVAL)
    except ValueError as e:
        print(f"sieved.py: {e}", file=sys.stderr)
        return 2
    if interval is not None:
        sys.setswitchinterval(interval)
    try:
        listener = socket.create_server(("", PORT))
    except OSError as e:
        print(f"sieved.py: cannot listen on port {PORT}: {e.strerror}", file=sys.stderr)
        return 1
    try:  # from the line that says it listens: a Ctrl-C right after it is one line too
        log.info("%s: sieve worker listening on port %d (SIEVE_VARIANT=%s, switch interval %g s)",
                 socket.gethostname(), PORT, VARIANT, sys.getswitchinterval())
        while True:
            conn, addr = listener.accept()
            threading.Thread(target=handle, args=(conn, addr), daemon=True).start()
    except KeyboardInterrupt:
        print("sieved.py: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
