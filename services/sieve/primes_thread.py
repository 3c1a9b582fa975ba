"""The tutorial's primes.py (section 5) as printed, line for line, in Python 3's _thread.

Each line carries the number of its line in the tutorial. The tutorial's
module globals, locks and waits are all here: nstarted and nstartedlock
(lines 9-11, 34, 37), nexti and nextilock (lines 16-19, 35-36), one donelock
per thread (lines 12, 27, 38-45), the busy wait on nstarted (line 43), the
per-element crossing out (lines 22-25: the text extraction lost their
indentation; they belong in the while loop, as section 5.1 says), and the
sum with reduce (line 46).

What differs from the printed program, and why:
- main() is count_primes(n, nthreads): n and nthreads come as arguments
  (lines 31, 33), line 26 reports through on_exit instead of printing (primes.py
  prints the tutorial's line under a lock, so two threads' lines never mix),
  and it returns (count, work) like sieve.count_primes.
- Line 43 is printed as `while nstarted < 2: pass`, a hard-coded 2: with one
  thread the program never ends. Footnote 13 says what was meant: "after the
  count reaches nthreads". So line 43 waits for nthreads. as_printed=True
  keeps the 2; where that can never be reached (one thread) the port does not
  spin forever: it waits for the thread to finish and raises Line43Hang,
  saying that the tutorial's program would hang there.
- The state is the module's globals, as in the tutorial (lines 8, 30), so
  one count runs at a time: runlock makes a second caller (the sieve worker
  serves requests in threads) wait for the first.

    count_primes(100, 2)  -> (25, [(0, 9), (1, 0)])
"""

import _thread  # 5: import thread (Python 3 calls it _thread)
import functools  # reduce (line 46) is no longer a builtin
import math  # 4

runlock = _thread.allocate_lock()  # one count at a time: the globals below are the count's state
n = prime = nexti = nextilock = nstarted = nstartedlock = donelock = None
work = on_exit = None  # line 26's reports: (tn, nk) in the order threads finished


class Line43Hang(ValueError):
    """Line 43 as printed waits for 2 started threads, and fewer will ever start."""


def dowork(tn):  # 7 thread number tn
    global n, prime, nexti, nextilock, nstarted, nstartedlock, donelock  # 8
    nstartedlock.acquire()  # 9
    nstarted += 1  # 10
    nstartedlock.release()  # 11
    donelock[tn].acquire()  # 12
    lim = math.sqrt(n)  # 13
    nk = 0  # 14
    while 1:  # 15
        nextilock.acquire()  # 16
        k = nexti  # 17
        nexti += 1  # 18
        nextilock.release()  # 19
        if k > lim: break  # 20
        nk += 1  # 21
        if prime[k]:  # 22
            r = n // k  # 23: n / k, integer division in Python 2
            for i in range(2, r + 1):  # 24
                prime[i * k] = 0  # 25
    exiting(tn, nk)  # 26: print 'thread', tn, 'exiting; processed', nk, 'values of k'
    donelock[tn].release()  # 27


def exiting(tn, nk):
    """Line 26: record and report (tn, nk)."""
    work.append((tn, nk))  # list.append is atomic
    if on_exit:
        on_exit(tn, nk)


def count_primes(count_to, nthreads, on_exit=None, as_printed=False):  # 29 def main():
    """Count the primes up to count_to with nthreads threads, as the tutorial's main() does.

    Returns (count, work): work lists (thread number, k's processed) in the
    order the threads finished; on_exit(tn, nk), if given, is called by each
    thread as it finishes. as_printed: line 43 waits for 2 threads, as printed.
    """
    if count_to < 2 or nthreads < 1:
        raise ValueError("n must be at least 2 and threads at least 1")
    with runlock:
        return main(count_to, nthreads, on_exit, 2 if as_printed else nthreads)


def main(count_to, nthreads, report, wait_for):
    global n, prime, nexti, nextilock, nstarted, nstartedlock, donelock, work, on_exit  # 30
    work, on_exit = [], report
    n = count_to  # 31: n = int(sys.argv[1])
    prime = (n + 1) * [1]  # 32
    # 33: nthreads = int(sys.argv[2])
    nstarted = 0  # 34
    nexti = 2  # 35
    nextilock = _thread.allocate_lock()  # 36
    nstartedlock = _thread.allocate_lock()  # 37
    donelock = []  # 38
    for i in range(nthreads):  # 39
        d = _thread.allocate_lock()  # 40
        donelock.append(d)  # 41
        _thread.start_new_thread(dowork, (i,))  # 42
    while nstarted < wait_for:  # 43: while nstarted < 2: pass
        if nstarted == nthreads < wait_for:  # all started, and short of 2: the printed program spins forever
            for lock in donelock:  # let them finish before the next count may reuse the globals
                lock.acquire()
            raise Line43Hang(f"line 43 as printed, 'while nstarted < 2: pass', waits for 2 started threads but "
                             f"only {nthreads} started: the tutorial's program spins there forever (without "
                             "--as-printed it waits for nthreads, as footnote 13 says)")
    for i in range(nthreads):  # 44
        donelock[i].acquire()  # 45
    return functools.reduce(lambda x, y: x + y, prime) - 2, work  # 46: print 'there are', ..., 'primes'
