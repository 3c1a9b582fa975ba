"""The tutorial's threaded Sieve of Eratosthenes (primes.py), with threading and join, and the sieve's settings.

Threads share one array and take the next crosser-outer k from a counter
behind a lock (primes.py lines 16-19) until k passes sqrt(n). Each thread
counts the k's it processed: the tutorial's measure of load balance (5.2).
The main thread waits with join (section 7), not with primes.py's nstarted
and donelock (lines 9-12, 27, 43-45).

Two ways to cross out k's multiples, and what each shows:
    cross="slice"  one bytearray slice assignment per k: one bytecode that
                   crosses out every multiple in C, holding the GIL. The whole
                   sieve of 10^6 takes a few ms, less than one switch interval,
                   so one thread does the whole job.
    cross="loop"   the tutorial's lines 24-25, one element at a time: many
                   bytecodes per k, the interpreter switches threads every
                   switch interval, and the work spreads between threads.

The settings (SIEVE_VARIANT, SWITCH_INTERVAL), for primes.py and sieved.py:
    SIEVE_VARIANT   threading       this file, cross="slice" (the default: fast)
                    threading-loop  this file, cross="loop"
                    thread          primes_thread.py: the tutorial's program in _thread,
                                    line for line (one element at a time)
    SWITCH_INTERVAL seconds a thread runs before another may take the
                    interpreter (sys.setswitchinterval; the tutorial's
                    sys.setcheckinterval, footnote 4); empty: Python's 0.005
"""

import functools
import math
import threading

from common.settings import choice, number
from sieve import primes_thread

CROSS = ("slice", "loop")


def count_primes(n, nthreads, on_exit=None, cross="slice"):
    """Count the primes up to n with nthreads threads.

    Returns (count, work): work lists (thread number, k's processed) in the
    order the threads finished. on_exit(tn, nk), if given, is called as each
    thread finishes, from that thread. cross: "slice" or "loop" (see above).
    """
    if n < 2 or nthreads < 1:
        raise ValueError("n must be at least 2 and threads at least 1")
    if cross not in CROSS:
        raise ValueError(f"cross must be one of {', '.join(CROSS)}, not {cross!r}")
    loop = cross == "loop"
    prime = bytearray([1]) * (n + 1)
    prime[0] = prime[1] = 0
    lim = math.isqrt(n)
    nexti = 2
    nextilock = threading.Lock()  # protects nexti: primes.py lines 16-19
    work = []  # list.append is atomic

    def dowork(tn):
        nonlocal nexti
        nk = 0
        while True:
            with nextilock:
                k = nexti
                nexti += 1
            if k > lim:
                break
            nk += 1
            if prime[k]:
                if loop:
                    for i in range(2, n // k + 1):  # primes.py lines 23-25
                        prime[i * k] = 0
                else:
                    prime[k * k::k] = bytes(len(range(k * k, n + 1, k)))
        work.append((tn, nk))
        if on_exit:
            on_exit(tn, nk)

    # daemon: on Ctrl-C the program ends at once (primes.py), not when the threads have crossed out the rest
    threads = [threading.Thread(target=dowork, args=(i,), daemon=True) for i in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(prime), work


VARIANTS = {
    "threading": count_primes,
    "threading-loop": functools.partial(count_primes, cross="loop"),
    "thread": primes_thread.count_primes,
}
TUTORIAL = {100: 25, 10000: 1229, 100000: 9592, 1000000: 78498}  # section 5.2's runs: n -> primes up to n
MAX_N = {"thread": 10**7}  # the tutorial's list takes 8 bytes a number: 10^8 would not fit a host's 1 GB


def variant(text):
    """The count function SIEVE_VARIANT names, or ValueError naming the setting and its choices."""
    return choice("SIEVE_VARIANT", text, VARIANTS)


def switch_interval(text):
    """SWITCH_INTERVAL as seconds (at least 1e-06), None when empty, or ValueError naming the setting."""
    return None if text == "" else number("SWITCH_INTERVAL", text, float, 1e-6)
