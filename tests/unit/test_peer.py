"""threadlab/peer.py, the checker's rude peers: a server's allowed answers are never the peer's own failure."""

import errno
import io
import json
import socket
import threading
import time
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


def flood_against(serve, n, seconds, stall):
    """peer.flood of n connections against serve(listener) in a thread; its JSON line."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=n)
    t = threading.Thread(target=serve, args=(listener,), daemon=True)
    t.start()
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            peer.flood("127.0.0.1", listener.getsockname()[1], n, seconds, stall=stall)
    finally:
        listener.close()
    return json.loads(out.getvalue())


def test_flood_gives_up_on_a_server_that_stops_serving_at_the_stall_not_the_bound():
    """A server that never accepts (fixed_two, past its two): every connection hung, and the peer says so
    after the stall bound (here 0.5 s), not the whole bound (60 s). Its kernel completes the connections."""
    got = flood_against(lambda listener: None, 20, 60, 0.5)
    assert (got["hung"], got["served"], got["stalled"]) == (20, 0, 0.5)  # stalled: ended before the bound


def test_flood_waits_for_a_server_that_serves_slowly_but_steadily():
    """Answers 0.1 s apart, longer in all (4 s) than the stall bound (2 s): every connection served."""
    def slow(listener):
        conns = []
        for _ in range(40):
            c, _ = listener.accept()
            conns.append(c)
        for c in conns:
            c.recv(1)
            time.sleep(0.1)  # the server's own pace: the thing under test
            c.sendall(b"\x01")
        for c in conns:
            c.recv(1)
            c.close()
    got = flood_against(slow, 40, 60, 2)
    assert (got["served"], got["hung"], got["stalled"]) == (40, 0, None)
