"""The tutorial's srvr.py itself (section 4), in Python 3 with the _thread module.

SERVER_VARIANT=thread runs this instead of srvr.py's threading version. The
comments give the tutorial's line numbers. Changes, each needed to run it:
- Python 3: ord(d) is d[0]; chr(v) is protocol.encode_v(v), v mod 256 past
  255 (the tutorial assumes v never passes 255); print is a function.
- A client gone without sending 0 makes recv return b"", on which the
  original crashes; here it counts as leaving, and any error in a client's
  thread is logged and still counts the client out, or line 50 spins forever.
- Lines 31-33 take vlock to change nclnt; the tutorial names nclntlock for
  that (line 43), and this takes nclntlock.
- Line 29 sends v as this thread wrote it at line 27, not v read again after
  the lock is released (line 28): by then another thread may have added its
  k, and the client would get that v, not its own. Under the GIL that takes a
  switch at the release; on free-threaded Python (SERVER_PYTHON=ft) it is
  common, and the echoes fit no serial order although no update is lost.
Kept as the tutorial has them: exactly NCLIENTS connections are accepted and
each counts as a client (a port probe too), and the main thread busy-waits
(line 50). No IDLE_TIMEOUT, MAX_CLIENTS or one-k-at-a-time check: those are
the threading version's. LOCK and RACE_YIELD work here as there.
"""

import _thread
import logging
import time

from common import protocol

log = logging.getLogger("srvr")


def serveclient(c, i):  # 19
    global v, nclnt
    who = "client %d (%s:%d)" % ((i,) + c.getpeername()[:2])
    try:
        while 1:  # 21
            d = c.recv(1)  # 22
            if not d:
                log.info("%s left without sending k = 0", who)
                break
            k = d[0]  # 23
            if k == 0:  # 24
                log.info("%s sent 0 and left", who)
                break  # 25
            if tally.lock:
                vlock.acquire()  # 26
            old = v
            if tally.race_yield:
                time.sleep(0)
            v = mine = old + k  # 27: v += k
            if tally.lock:
                vlock.release()  # 28
            c.send(protocol.encode_v(mine))  # 29: c.send(chr(v)), v as this thread wrote it
    except Exception as e:
        log.warning("%s dropped: %s", who, e)
    c.close()  # 30
    nclntlock.acquire()  # 31
    nclnt -= 1  # 32
    nclntlock.release()  # 33
    tally.leave()  # the counts srvr.py's JOIN_WAIT watches


def serve(lstn, nclients, session):
    """Lines 40-52: accept nclients connections, a thread each, and spin until they are gone."""
    global v, vlock, nclnt, nclntlock, tally
    tally = session
    v = 0  # 40
    vlock = _thread.allocate_lock()  # 41
    nclnt = nclients  # 42
    nclntlock = _thread.allocate_lock()  # 43
    start, cpu = time.monotonic(), time.thread_time()
    try:
        for i in range(nclients):  # 45
            (clnt, addr) = lstn.accept()  # 46
            log.info("%s:%d joined: client %d of %d", addr[0], addr[1], i + 1, nclients)
            tally.join()
            _thread.start_new_thread(serveclient, (clnt, i))  # 47
        # wait for both threads to exit  # 49
        while nclnt > 0:  # 50
            pass
    finally:
        tally.v = v  # for srvr.py's "so far" line on SIGTERM
    log.info("the main thread waited %.2f s and used %.2f s of CPU (busy wait)", time.monotonic() - start,
             time.thread_time() - cpu)
    lstn.close()  # 52
    return v
