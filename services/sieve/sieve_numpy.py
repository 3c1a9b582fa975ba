"""A reference for the benchmark, run on the host only (the lab's hosts have no numpy).

The very algorithm of sieve_segmented.py, segments, wheel, shared counter and
all, with one difference: a segment is a numpy array, and crossing out is
numpy's strided store, which releases the GIL while it runs (bytearray's
slice assignment does not). Set side by side with sieve_segmented, it shows
why a second thread helps one and not the other.

    count_primes(10**9, 2)  -> (50847534, [(0, 120), (1, 119)])
"""

import numpy as np
from sieve import sieve_segmented


class NumpyPlan(sieve_segmented.Plan):
    def __init__(self, n, segment=sieve_segmented.SEGMENT):
        super().__init__(n, segment)
        self.pattern = np.frombuffer(bytes(self.pattern), dtype=np.uint8)

    def count_segment(self, i):
        lo, hi = self.bounds(i)
        off = lo % sieve_segmented.PERIOD
        b = self.pattern[off:off + hi - lo].copy()
        for p in self.primes:
            s = p * p // 2
            if s >= hi:
                break
            if s < lo:
                s = lo + (s - lo) % p
            b[s - lo::p] = 0
        return int(np.count_nonzero(b))


def count_primes(n, nworkers=1, kind="thread", segment=sieve_segmented.SEGMENT):
    """Count the primes up to n with nworkers threads; returns (count, work) as sieve_segmented does."""
    return sieve_segmented.count_primes(n, nworkers, kind, segment, plan=NumpyPlan)
