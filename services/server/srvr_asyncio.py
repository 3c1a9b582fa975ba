"""threadlab's server with user-level threads: asyncio coroutines on one OS thread.

SERVER_VARIANT=asyncio runs this instead of srvr.py's threading version. It
is the tutorial's "user-level threads" (section 2) and its footnote on
generators as a non-preemptive alternative (section 3): each client is a
coroutine, and coroutines take turns only where one says `await`. So
`tally.v += k`, which has no await in it, needs no lock: no other client can
run between the read of v and the write. RACE_YIELD=on puts an await there
(asyncio.sleep(0)), and then updates are lost, unless LOCK=on takes an
asyncio.Lock around it, as the threaded server must always do.

Same protocol, settings and log lines as srvr.py; the line before the final
value also says how many OS threads served the clients: one, on free-threaded
Python too ("event loop: served 4 clients on 1 thread").
"""

import asyncio
import logging
import threading
import time

from common import protocol
from server import srvr

log = logging.getLogger("srvr")


async def handle(reader, writer, tally, lock, changed, threads):
    """Serve one client until it sends k = 0 or goes away; never raise. threads: the OS threads that served one."""
    addr = writer.get_extra_info("peername")
    who = f"{addr[0]}:{addr[1]}"
    joined = False
    try:
        while True:
            data = await asyncio.wait_for(reader.read(64), tally.idle_timeout)
            if not data:
                log.info("%s %s", who, "left without sending k = 0" if joined
                         else "closed without sending a byte: a probe, not a client")
                break
            if len(data) > 1:  # before joining: a stray request or a burst is not a client, and not counted
                log.warning("%s dropped: %s", who, srvr.STRAY[joined])
                break
            if not joined:
                joined = True
                tally.joined += 1
                tally.active += 1
                threads.add(threading.get_ident())  # the event loop's: every coroutine runs on it
                log.info("%s joined: client %d of %d", who, tally.joined, tally.nclients)
            k = protocol.decode_k(data)
            if k == protocol.LEAVE:
                log.info("%s sent 0 and left", who)
                break
            if tally.race_yield:
                async with lock:
                    v = tally.v
                    await asyncio.sleep(0)  # another client runs here: between the read and the write
                    tally.v = v + k
            else:
                tally.v += k  # no await: no other coroutine can run in between
            writer.write(protocol.encode_v(tally.v))
            await writer.drain()
    except asyncio.TimeoutError:
        log.warning("%s dropped: nothing for %g s (IDLE_TIMEOUT)", who, tally.idle_timeout)
    except Exception as e:
        log.warning("%s dropped: %s", who, e)
    finally:
        writer.close()
        tally.connections -= 1
        if joined:
            tally.active -= 1
        changed.set()


def plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


class NoLock:
    async def __aenter__(self):
        pass

    async def __aexit__(self, *exc):
        pass


async def session(listener, tally):
    changed = asyncio.Event()
    lock = asyncio.Lock() if tally.lock else NoLock()
    threads = set()

    async def client(reader, writer):
        if tally.connections >= tally.max_clients:
            addr = writer.get_extra_info("peername")
            log.warning("%s:%d refused: %d connections already (MAX_CLIENTS)", addr[0], addr[1], tally.max_clients)
            writer.close()
            return
        tally.connections += 1
        await handle(reader, writer, tally, lock, changed, threads)

    server = await asyncio.start_server(client, sock=listener)
    start, cpu = time.monotonic(), time.thread_time()
    while not tally.done():
        changed.clear()
        await changed.wait()
    log.info("the main thread waited %.2f s and used %.2f s of CPU (event loop: served %s on %s)",
             time.monotonic() - start, time.thread_time() - cpu, plural(tally.joined, "client"),
             plural(len(threads), "thread"))
    server.close()
    await server.wait_closed()


def serve(listener, nclients, tally):
    """Serve one session of nclients clients on listener; return the final v."""
    asyncio.run(session(listener, tally))
    return tally.v
