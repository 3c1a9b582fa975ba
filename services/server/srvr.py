"""Matloff's srvr.py in Python 3, with threading.

Clients connect; each repeatedly sends a value k, which the server adds to a
global total v and echoes back; k = 0 means the client is dropping out. When
NCLIENTS clients have come and all of them have gone, the server prints

    the final value of v is N

and exits 0. The wire protocol (one byte k up, one byte v back, v exact here
and sent mod 256 past 255) is in protocol.py.

Each client is served by its own thread (handle). The main thread waits on a
Condition, not in a busy loop. A connection that closes before sending a
byte (a probe) is not a client and does not count toward NCLIENTS.

One bad client never costs the others their session: a client that vanishes,
resets, idles past IDLE_TIMEOUT, or sends its next k before its v came back
(not the protocol: an HTTP request, say) is logged in one line and dropped,
and its thread ends. Connections past MAX_CLIENTS at once are closed at once.
SIGTERM (docker stop) prints the total so far and exits 0; Ctrl-C (SIGINT)
prints it too and exits 130. With JOIN_WAIT set (the lab's compose file sets
60), a session that fewer than NCLIENTS clients came to, with none connected
for that long, ends with the total so far and exit 1: a client host that
never starts cannot leave the server waiting forever. v lives only in
memory: a restarted server starts a new session from 0, as the tutorial's does.

Run:  python3 srvr.py 2000
Settings: NCLIENTS (2), MAX_CLIENTS (100 connections at once), IDLE_TIMEOUT
(600 s without a k), JOIN_WAIT (off: seconds with no client connected before a
session short of NCLIENTS ends), LOG_LEVEL (INFO), SWITCH_INTERVAL (how long a thread
runs before another may take the interpreter: sys.setswitchinterval).
The lessons' settings:
    SERVER_VARIANT  threading (this file), thread (srvr_thread.py: the tutorial's
                    _thread program), asyncio (srvr_asyncio.py: user-level threads)
    LOCK=off        v += k without the lock (lines 26-28): updates get lost
    RACE_YIELD=on   yield between reading v and writing it back: a teaching
                    device that makes the loss happen on every contended update
    WAIT=busy       the main thread spins (line 50) instead of sleeping on a Condition
    BREAKPOINT=on   stop each serving thread in pdb before it adds k (section 6)
"""

import importlib
import logging
import os
import platform
import signal
import socket
import struct
import sys
import threading
import time

try:
    from common import protocol
    from common.settings import LOG_LEVELS, choice, number
except ImportError:  # run from the repo as a plain script: services/ is not on the path
    sys.exit("srvr.py: run it with services/ on the path: PYTHONPATH=services python3 services/server/srvr.py PORT")

NCLIENTS = os.environ.get("NCLIENTS", "2")
MAX_CLIENTS = os.environ.get("MAX_CLIENTS", "100")
IDLE_TIMEOUT = os.environ.get("IDLE_TIMEOUT", "600")  # seconds: long enough to think, short enough to free a lost client
JOIN_WAIT = os.environ.get("JOIN_WAIT", "off")  # seconds, or off: the tutorial's server waits for NCLIENTS forever
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
SWITCH_INTERVAL = os.environ.get("SWITCH_INTERVAL", "")  # seconds; empty: Python's 0.005
SERVER_VARIANT = os.environ.get("SERVER_VARIANT", "threading")
LOCK = os.environ.get("LOCK", "on")
RACE_YIELD = os.environ.get("RACE_YIELD", "off")
WAIT = os.environ.get("WAIT", "block")
BREAKPOINT = os.environ.get("BREAKPOINT", "off")
VARIANTS = {"threading": "srvr", "thread": "srvr_thread", "asyncio": "srvr_asyncio"}
IGNORED = {"thread": {"BREAKPOINT": "on"}, "asyncio": {"WAIT": "busy", "BREAKPOINT": "on"}}  # variant: what it cannot do
STRAY = {False: "sent several bytes at once: not a client, not the protocol",
         True: "sent its next k before its v came back: not the protocol"}

log = logging.getLogger("srvr")


class Tally:
    """The total v and the count of clients, shared by every client thread, and the session's settings."""

    def __init__(self, nclients, max_clients=100, idle_timeout=None, lock=True, race_yield=False,
                 busy_wait=False, stop_in_pdb=False):
        self.nclients = nclients
        self.max_clients = max_clients
        self.idle_timeout = idle_timeout
        self.lock = lock
        self.race_yield = race_yield
        self.busy_wait = busy_wait
        self.stop_in_pdb = stop_in_pdb
        self.v = 0
        self.vlock = threading.Lock()  # protects v: srvr.py lines 26-28
        self.joined = 0
        self.active = 0
        self.connections = 0
        self.changed = threading.Condition()  # protects joined, active and connections

    def add(self, k, who=""):
        """Add k to v and return the new v; at LOG_LEVEL=DEBUG, log who added it.

        The debug line is written under the lock, so the log holds the updates
        in the order they happened, each with its exact v: a record that
        check.verify_log holds the clients' echoes against.

        v += k reads v and writes it back. Without the lock another thread can
        write v in between, and its update is lost (the tutorial's 12 + 3 vs 12 + 9).
        """
        debug = log.isEnabledFor(logging.DEBUG)
        if self.lock:
            self.vlock.acquire()
        try:
            v = self.v
            if self.race_yield:
                time.sleep(0)  # let another thread run right here, between the read and the write
            self.v = v + k
            if debug:
                log.debug("%s k %d -> v %d", who, k, v + k)
            return v + k
        finally:
            if self.lock:
                self.vlock.release()

    def connect(self):
        """Count a connection in, unless max_clients are connected already."""
        with self.changed:
            if self.connections >= self.max_clients:
                return False
            self.connections += 1
            return True

    def disconnect(self):
        with self.changed:
            self.connections -= 1

    def join(self):
        """Count a new client in; return how many have joined."""
        with self.changed:
            self.joined += 1
            self.active += 1
            return self.joined

    def leave(self):
        with self.changed:
            self.active -= 1
            self.changed.notify_all()

    def done(self):
        return self.joined >= self.nclients and self.active == 0

    def wait_done(self):
        """Wait until nclients clients have joined and all have left; log what the wait cost."""
        start, cpu = time.monotonic(), time.thread_time()
        if self.busy_wait:
            # srvr.py line 50, while nclnt > 0: pass. The tutorial reads one count; this reads two (joined,
            # active), so it reads them under their lock, or a join half done (joined counted, active not
            # yet) ends the session early: it did on free-threaded Python. Still a spin: it burns the CPU.
            while True:
                with self.changed:
                    if self.done():
                        break
        else:
            with self.changed:
                self.changed.wait_for(self.done)
        log.info("the main thread waited %.2f s and used %.2f s of CPU (%s)", time.monotonic() - start,
                 time.thread_time() - cpu, "busy wait" if self.busy_wait else "blocking wait")


def handle(conn, addr, tally):
    """Serve one client until it sends k = 0 or goes away; never raise."""
    who = f"{addr[0]}:{addr[1]}"
    joined = False
    try:
        with conn:
            if tally.idle_timeout is not None:
                set_idle_timeout(conn, tally.idle_timeout)
            while True:
                d = conn.recv(2)  # k, and any byte already behind it: a client waiting for its v sends none
                if not d:
                    log.info("%s %s", who, "left without sending k = 0" if joined
                             else "closed without sending a byte: a probe, not a client")
                    break
                if len(d) > 1:  # before joining: a stray request or a burst is not a client, and not counted
                    log.warning("%s dropped: %s", who, STRAY[joined])
                    break
                if not joined:
                    joined = True
                    log.info("%s joined: client %d of %d", who, tally.join(), tally.nclients)
                k = protocol.decode_k(d)
                if tally.stop_in_pdb and k != protocol.LEAVE:
                    import pdb
                    pdb.set_trace()  # section 6: step with n, look with p k, p tally.v; go on with c
                if k == protocol.LEAVE:
                    log.info("%s sent 0 and left", who)
                    break
                v = tally.add(k, who)
                conn.sendall(protocol.encode_v(v))
    except (TimeoutError, BlockingIOError):  # BlockingIOError: SO_RCVTIMEO ran out
        log.warning("%s dropped: nothing for %g s (IDLE_TIMEOUT)", who, tally.idle_timeout)
    except Exception as e:
        log.warning("%s dropped: %s", who, e)
    finally:
        tally.disconnect()
        if joined:
            tally.leave()


def set_idle_timeout(conn, seconds):
    """Give up on a recv or send after seconds, in the kernel (SO_RCVTIMEO, SO_SNDTIMEO).

    Not conn.settimeout: that makes Python poll() before every recv and send,
    two more system calls per round trip, which cost the server half its
    throughput at 64 clients (scripts/bench). Here the socket stays blocking,
    and a call that runs out of time raises BlockingIOError.
    """
    whole = int(seconds)
    timeval = struct.pack("@ll", whole, int((seconds - whole) * 1e6))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


def accept(listener, tally):
    """Start a thread for each connection until the listener is shut down."""
    while True:
        try:
            conn, addr = listener.accept()
        except OSError:
            return
        if not tally.connect():
            log.warning("%s:%d refused: %d connections already (MAX_CLIENTS)", *addr[:2], tally.max_clients)
            conn.close()
            continue
        threading.Thread(target=handle, args=(conn, addr, tally), daemon=True).start()


def watch_joins(tally, seconds, main_thread):
    """JOIN_WAIT: once no client has been connected for seconds while fewer than NCLIENTS came, interrupt
    main_thread with SIGUSR1 (Abandoned). Polls the counts, which every variant keeps in tally."""
    since = time.monotonic()
    while not tally.done():
        time.sleep(min(seconds / 4, 0.25))
        if tally.active or tally.done():
            since = time.monotonic()
        elif time.monotonic() - since >= seconds:
            log.warning("%d of %d clients came, and none has been connected for %g s (JOIN_WAIT): ending the session "
                        "(a client host not started?)", tally.joined, tally.nclients, seconds)
            signal.pthread_kill(main_thread, signal.SIGUSR1)
            return


def serve(listener, nclients, tally=None):
    """Serve one session of nclients clients on listener; return the final v."""
    tally = tally or Tally(nclients)
    acceptor = threading.Thread(target=accept, args=(listener, tally), daemon=True)
    acceptor.start()
    tally.wait_done()
    listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
    listener.close()
    acceptor.join()
    return tally.v


def main(argv):
    if len(argv) != 2:
        print("usage: python3 srvr.py port_number", file=sys.stderr)
        return 2
    try:
        port = number("port", argv[1], int, 1, 65535)
        logging.basicConfig(level=choice("LOG_LEVEL", LOG_LEVEL, LOG_LEVELS), format="%(message)s", stream=sys.stdout)
        tally = Tally(number("NCLIENTS", NCLIENTS, int, 1), number("MAX_CLIENTS", MAX_CLIENTS, int, 1),
                      number("IDLE_TIMEOUT", IDLE_TIMEOUT, float, 0.001),
                      lock=choice("LOCK", LOCK, {"on": True, "off": False}),
                      race_yield=choice("RACE_YIELD", RACE_YIELD, {"on": True, "off": False}),
                      busy_wait=choice("WAIT", WAIT, {"busy": True, "block": False}),
                      stop_in_pdb=choice("BREAKPOINT", BREAKPOINT, {"on": True, "off": False}))
        join_wait = None if JOIN_WAIT == "off" else number("JOIN_WAIT", JOIN_WAIT, float, 0.1)
        name = choice("SERVER_VARIANT", SERVER_VARIANT, VARIANTS)
        for setting_name, value in IGNORED.get(SERVER_VARIANT, {}).items():
            if os.environ.get(setting_name) == value:
                raise ValueError(f"SERVER_VARIANT={SERVER_VARIANT} cannot do {setting_name}={value}")
        variant = sys.modules[__name__] if name == "srvr" else importlib.import_module(f"server.{name}")
        if SWITCH_INTERVAL:
            sys.setswitchinterval(number("SWITCH_INTERVAL", SWITCH_INTERVAL, float, 1e-6))
    except ValueError as e:
        print(f"srvr.py: {e}", file=sys.stderr)
        return 2
    try:
        listener = socket.create_server(("", port))
    except OSError as e:
        print(f"srvr.py: cannot listen on port {port}: {e.strerror}", file=sys.stderr)
        return 1
    threading.stack_size(256 * 1024)  # a client's thread needs little: MAX_CLIENTS of them stay small
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGUSR1, abandon)
    try:  # from the line that says it listens: Ctrl-C right after it ends the session as any other
        log.info("%s listening on port %d for %d client%s (%s; %s)", socket.gethostname(), port, tally.nclients,
                 "s" * (tally.nclients != 1), SERVER_VARIANT, interpreter())
        if join_wait is not None:
            threading.Thread(target=watch_joins, args=(tally, join_wait, threading.main_thread().ident),
                             daemon=True).start()
        print("the final value of v is", variant.serve(listener, tally.nclients, tally))
    except KeyboardInterrupt as e:
        print("stopped: the value of v so far is", tally.v)
        if isinstance(e, Abandoned):
            return 1
        return 0 if isinstance(e, Stopped) else 130  # docker stop ends a session; Ctrl-C cuts it short
    return 0


def interpreter():
    """Which Python runs the server, and whether it has the GIL: "CPython 3.13.5, GIL off"."""
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True  # 3.13 on; before, always a GIL
    return f"{platform.python_implementation()} {platform.python_version()}, GIL {'on' if gil else 'off'}"


class Stopped(KeyboardInterrupt):
    """SIGTERM (docker stop): the session ends as on Ctrl-C, with exit 0."""


def stop(signum, frame):
    """SIGTERM (docker stop): end like Ctrl-C, so the total so far is printed."""
    raise Stopped


class Abandoned(KeyboardInterrupt):
    """JOIN_WAIT ran out (watch_joins sends SIGUSR1): the session ends with the total so far, exit 1."""


def abandon(signum, frame):
    raise Abandoned


if __name__ == "__main__":
    sys.exit(main(sys.argv))
