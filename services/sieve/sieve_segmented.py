"""The lab's fastest sieve, standard library only: segmented, odd numbers only, with a wheel.

The same idea as the tutorial's primes.py, made to fit in the CPU's caches:

- only odd numbers are stored: byte i stands for 2i + 1 (byte 0, the number 1,
  stands in for the prime 2);
- the numbers are sieved one segment (SEGMENT bytes) at a time, so the array
  being crossed out stays in cache, and memory stays small at any n;
- each segment starts as a copy of a precomputed pattern with the multiples of
  3, 5, 7, 11, 13 and 17 already crossed out (the wheel), which saves nearly
  half of the crossing out;
- workers take the next segment from a shared counter behind a lock, as the
  tutorial's threads take the next k (primes.py lines 16-19).

Crossing out is bytearray slice assignment, which runs in C but holds the
GIL: with kind="thread" a second thread gives no speedup. With
kind="process" the workers are processes (fork) and do run in parallel. So
do the threads on free-threaded Python (the lab's sieve-ft host): the same
code, each worker crossing out its own segment, nearly twice as fast with two.

    count_primes(10**9, 2)                  -> (50847534, [(0, 60), (1, 60)])
    count_primes(10**9, 2, kind="process")  the same, in two processes
"""

import functools
import math
import multiprocessing
import threading

WHEEL = (3, 5, 7, 11, 13, 17)
PERIOD = math.prod(WHEEL)  # the wheel pattern repeats every PERIOD bytes (odd numbers)
SEGMENT = 1 << 22  # bytes (odd numbers) per segment: 4 MiB, about 8.4 million numbers (the fastest size here)


def small_primes(m):
    """The odd primes up to m, by a plain sieve."""
    if m < 3:
        return []
    s = bytearray([1]) * (m + 1)
    for i in range(3, math.isqrt(m) + 1, 2):
        if s[i]:
            s[i * i::2 * i] = bytes(len(range(i * i, m + 1, 2 * i)))
    return [i for i in range(3, m + 1, 2) if s[i]]


@functools.cache
def wheel_period():
    """One period of the odd numbers 1, 3, 5, ... with the multiples of the wheel's primes crossed out."""
    period = bytearray([1]) * PERIOD
    for p in WHEEL:
        start = (p - 1) // 2  # p itself: 2i + 1 = p
        period[start::p] = bytes(len(range(start, PERIOD, p)))
    return bytes(period)


def wheel_pattern(length):
    """The wheel's pattern, repeated to length bytes."""
    pattern = bytearray(wheel_period()) * (length // PERIOD + 1)
    del pattern[length:]
    return pattern


class Plan:
    """What every worker shares for one n: the sieving primes, the pattern, the segments."""

    def __init__(self, n, segment=SEGMENT):
        if n < 2:
            raise ValueError("n must be at least 2")
        if segment < 1:
            raise ValueError("a segment is at least 1 byte")
        self.n = n
        self.size = (n - 1) // 2 + 1  # bytes: the odd numbers 1, 3, ..., up to n
        self.segment = min(segment, self.size)
        self.nsegments = -(-self.size // self.segment)
        self.primes = [p for p in small_primes(math.isqrt(n)) if p not in WHEEL]
        self.pattern = wheel_pattern(min(self.size, PERIOD) + self.segment)  # a segment starts anywhere in a period
        # the wheel crossed out its own primes; byte 0 (the number 1) counts for the prime 2
        self.uncounted = sum(1 for p in WHEEL if p <= n)

    def bounds(self, i):
        lo = i * self.segment
        return lo, min(lo + self.segment, self.size)

    def count_segment(self, i):
        """The numbers left standing in segment i after crossing out."""
        lo, hi = self.bounds(i)
        off = lo % PERIOD
        b = self.pattern[off:off + hi - lo]
        for p in self.primes:
            s = p * p // 2  # byte of p*p
            if s >= hi:
                break
            if s < lo:
                s = lo + (s - lo) % p  # the first odd multiple of p in this segment
            b[s - lo::p] = bytearray((hi - 1 - s) // p + 1)
        return b.count(1)


def _work(plan, take, wn):
    """Count segments until none are left; return (worker number, segments done, primes counted)."""
    done = count = 0
    while (i := take()) < plan.nsegments:
        count += plan.count_segment(i)
        done += 1
    return wn, done, count


def _in_threads(plan, nworkers):
    nexti = 0
    nextilock = threading.Lock()  # protects nexti
    results = []  # list.append is atomic

    def take():
        nonlocal nexti
        with nextilock:
            i = nexti
            nexti += 1
            return i

    threads = [threading.Thread(target=lambda wn=wn: results.append(_work(plan, take, wn)), daemon=True)
               for wn in range(nworkers)]  # daemon: Ctrl-C ends the program at once
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _in_processes(plan, nworkers):
    ctx = multiprocessing.get_context("fork")  # the workers inherit the plan: nothing to pickle
    nexti = ctx.Value("q", 0)  # in shared memory, with its own lock
    results = ctx.SimpleQueue()

    def take():
        with nexti.get_lock():
            i = nexti.value
            nexti.value += 1
            return i

    procs = [ctx.Process(target=lambda wn=wn: results.put(_work(plan, take, wn))) for wn in range(nworkers)]
    for p in procs:
        p.start()
    got = [results.get() for _ in procs]
    for p in procs:
        p.join()
    if any(p.exitcode for p in procs):
        raise RuntimeError("a sieve worker process failed")
    return got


def count_primes(n, nworkers=1, kind="thread", segment=SEGMENT, plan=Plan):
    """Count the primes up to n with nworkers threads (kind="thread") or processes ("process").

    Returns (count, work): work lists (worker number, segments processed) in
    the order the workers finished, as sieve.count_primes lists its threads' k's.
    """
    if nworkers < 1:
        raise ValueError("workers must be at least 1")
    if kind not in ("thread", "process"):
        raise ValueError(f"kind must be 'thread' or 'process', not {kind!r}")
    p = plan(n, segment)
    results = (_in_threads if kind == "thread" else _in_processes)(p, nworkers)
    return p.uncounted + sum(c for _, _, c in results), [(wn, done) for wn, done, _ in results]
