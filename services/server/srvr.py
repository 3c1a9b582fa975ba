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

Run:  python3 srvr.py 2000
Settings: NCLIENTS (2), LOG_LEVEL (INFO), SWITCH_INTERVAL (how long a thread
runs before another may take the interpreter: sys.setswitchinterval).
"""

import logging
import os
import socket
import sys
import threading

import protocol

NCLIENTS = os.environ.get("NCLIENTS", "2")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
SWITCH_INTERVAL = os.environ.get("SWITCH_INTERVAL", "")  # seconds; empty: Python's 0.005

log = logging.getLogger("srvr")


class Tally:
    """The total v and the count of clients, shared by every client thread."""

    def __init__(self, nclients):
        self.nclients = nclients
        self.v = 0
        self.vlock = threading.Lock()  # protects v: srvr.py lines 26-28
        self.joined = 0
        self.active = 0
        self.changed = threading.Condition()  # protects joined and active

    def add(self, k):
        """Add k to v and return the new v."""
        with self.vlock:
            self.v += k
            return self.v

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

    def wait_done(self):
        """Block until nclients clients have joined and all have left."""
        with self.changed:
            self.changed.wait_for(lambda: self.joined >= self.nclients and self.active == 0)


def handle(conn, addr, tally):
    """Serve one client until it sends k = 0 or goes away; never raise."""
    who = f"{addr[0]}:{addr[1]}"
    joined = False
    try:
        with conn:
            while True:
                d = conn.recv(1)
                if not d:
                    log.info("%s %s", who, "left without sending k = 0" if joined
                             else "closed without sending a byte: a probe, not a client")
                    break
                if not joined:
                    joined = True
                    log.info("%s joined: client %d of %d", who, tally.join(), tally.nclients)
                k = protocol.decode_k(d)
                if k == protocol.LEAVE:
                    log.info("%s sent 0 and left", who)
                    break
                v = tally.add(k)
                log.debug("%s k %d -> v %d", who, k, v)
                conn.sendall(protocol.encode_v(v))
    except Exception as e:
        log.warning("%s dropped: %s", who, e)
    finally:
        if joined:
            tally.leave()


def accept(listener, tally):
    """Start a thread for each connection until the listener is shut down."""
    while True:
        try:
            conn, addr = listener.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(conn, addr, tally), daemon=True).start()


def serve(listener, nclients):
    """Serve one session of nclients clients on listener; return the final v."""
    tally = Tally(nclients)
    acceptor = threading.Thread(target=accept, args=(listener, tally), daemon=True)
    acceptor.start()
    tally.wait_done()
    listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
    listener.close()
    acceptor.join()
    return tally.v


def main(argv):
    logging.basicConfig(level=LOG_LEVEL, format="%(message)s", stream=sys.stdout)
    if len(argv) != 2:
        print("usage: python3 srvr.py port_number", file=sys.stderr)
        return 2
    try:
        port = int(argv[1])
        nclients = int(NCLIENTS)
        if not 0 < port < 65536 or nclients < 1:
            raise ValueError
        if SWITCH_INTERVAL:
            sys.setswitchinterval(float(SWITCH_INTERVAL))
    except ValueError:
        print(f"srvr.py: port must be 1-65535, NCLIENTS at least 1 and SWITCH_INTERVAL positive seconds, "
              f"not {argv[1]!r}, {NCLIENTS!r} and {SWITCH_INTERVAL!r}", file=sys.stderr)
        return 2
    try:
        listener = socket.create_server(("", port))
    except OSError as e:
        print(f"srvr.py: cannot listen on port {port}: {e.strerror}", file=sys.stderr)
        return 1
    log.info("%s listening on port %d for %d clients", socket.gethostname(), port, nclients)
    print("the final value of v is", serve(listener, nclients))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
