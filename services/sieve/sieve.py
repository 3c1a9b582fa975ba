"""The tutorial's threaded Sieve of Eratosthenes (primes.py), with threading and join.

Threads share one array and take the next crosser-outer k from a counter
behind a lock (primes.py lines 16-19) until k passes sqrt(n). Each thread
counts the k's it processed: the tutorial's measure of load balance (5.2).
"""

import math
import threading


def count_primes(n, nthreads, on_exit=None):
    """Count the primes up to n with nthreads threads.

    Returns (count, work): work lists (thread number, k's processed) in the
    order the threads finished. on_exit(tn, nk), if given, is called as each
    thread finishes, from that thread.
    """
    if n < 2 or nthreads < 1:
        raise ValueError("n must be at least 2 and threads at least 1")
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
                prime[k * k::k] = bytes(len(range(k * k, n + 1, k)))
        work.append((tn, nk))
        if on_exit:
            on_exit(tn, nk)

    threads = [threading.Thread(target=dowork, args=(i,)) for i in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(prime), work
