"""A server of the lab in-process, for the unit tests: a variant's serve() or a reference on a daemon thread."""

import socket
import threading

from bench import refservers
from common import protocol
from server import srvr

TIMEOUT = 10  # seconds: any wait longer than this is a bug, and fails the test instead of hanging it


class Served:
    """One session of a server of the lab's protocol on a daemon thread, on 127.0.0.1, its port bound before
    the constructor returns: a variant's serve() (the Tally made of settings), or the benchmark's reference
    kind (bench/refservers.py)."""

    def __init__(self, nclients=1, variant=srvr, kind="lab", **settings):
        self.result = {}
        self.listener = None
        ready = threading.Event()
        if kind == "lab":
            self.listener = socket.create_server(("127.0.0.1", 0))
            self.port = self.listener.getsockname()[1]
            self.tally = srvr.Tally(nclients, **settings)
            run = lambda: variant.serve(self.listener, nclients, self.tally)
            ready.set()
        else:
            def bound(kind, port, nclients):  # the port it really bound: 0 asks the kernel for a free one
                self.port = port
                ready.set()
            run = lambda: refservers.SERVERS[kind](0, nclients, ready=bound)
        self.thread = threading.Thread(target=lambda: self.result.setdefault("v", run()), daemon=True)
        self.thread.start()
        assert ready.wait(TIMEOUT), "the server did not start"

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)

    def final(self):
        """The value serve returned; fails if the session has not ended within TIMEOUT."""
        self.thread.join(timeout=TIMEOUT)
        assert not self.thread.is_alive(), "the server did not end the session"
        if self.listener:
            self.listener.close()
        return self.result["v"]


def send(sock, k):
    """Send k and return the echoed v (mod 256)."""
    sock.sendall(protocol.encode_k(k))
    data = sock.recv(1)
    assert data, "the server closed the connection"
    return protocol.decode_v(data)
