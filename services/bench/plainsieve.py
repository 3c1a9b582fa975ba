"""A reference for the benchmark: the textbook bytearray sieve, with no lock and no counter.

One bytearray of n + 1 bytes; for each k up to sqrt(n) still standing, one
slice assignment crosses out k*k, k*k + k, ... The count is bytearray.count.
With t threads, thread i takes k = 2 + i, 2 + i + t, ... (a fixed share,
where the tutorial's threads take the next k from a counter); a thread may
then cross out with a k another thread has not crossed out yet: wasted work,
never a wrong count.

    count_primes(10**6, 2)  -> 78498
"""

import math
import threading


def count_primes(n, nthreads=1):
    if n < 2 or nthreads < 1:
        raise ValueError("n must be at least 2 and threads at least 1")
    prime = bytearray([1]) * (n + 1)
    prime[0] = prime[1] = 0
    lim = math.isqrt(n)

    def cross(first):
        for k in range(first, lim + 1, nthreads):
            if prime[k]:
                prime[k * k::k] = bytes(len(range(k * k, n + 1, k)))

    threads = [threading.Thread(target=cross, args=(2 + i,)) for i in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return prime.count(1)
