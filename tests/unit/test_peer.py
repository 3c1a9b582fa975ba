"""threadlab/peer.py, the checker's rude peers: a server's allowed answers are never the peer's own failure."""

import errno
import io
import json
import socket
from contextlib import redirect_stdout

from threadlab import peer


def test_rude_peers_go_on_when_the_server_resets_a_burst(monkeypatch):
    """A server may reset a connection that breaks the protocol before the peer's shutdown: the peer reports
    the burst and the HTTP request as done (a class run failed a correct selectors server with ENOTCONN)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.listen(16)

    def reset_shutdown(self, how):
        raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")

    monkeypatch.setattr(socket.socket, "shutdown", reset_shutdown)
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            peer.rude("127.0.0.1", listener.getsockname()[1])
    finally:
        listener.close()
    assert [json.loads(line)["done"] for line in out.getvalue().splitlines()] == ["probe", "reset", "burst", "http"]
