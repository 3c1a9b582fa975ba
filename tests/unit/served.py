"""A server of the lab in-process, for the unit tests: a variant's serve() on a daemon thread."""

import socket
import threading

from common import protocol
from server import srvr

TIMEOUT = 10  # seconds: any wait longer than this is a bug, and fails the test instead of hanging it


class Served:
    """variant.serve() on a daemon thread, its listener bound before the thread starts."""

    def __init__(self, nclients=1, variant=srvr, **settings):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tally = srvr.Tally(nclients, **settings)
        self.result = {}
        self.thread = threading.Thread(target=self._serve, args=(variant,), daemon=True)
        self.thread.start()

    def _serve(self, variant):
        self.result["v"] = variant.serve(self.listener, self.tally.nclients, self.tally)

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)

    def final(self):
        """The value serve returned; fails if the session has not ended within TIMEOUT."""
        self.thread.join(timeout=TIMEOUT)
        assert not self.thread.is_alive(), "the server did not end the session"
        self.listener.close()
        return self.result["v"]


def send(sock, k):
    """Send k and return the echoed v (mod 256)."""
    sock.sendall(protocol.encode_k(k))
    data = sock.recv(1)
    assert data, "the server closed the connection"
    return protocol.decode_v(data)
