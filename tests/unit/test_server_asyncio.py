"""srvr_asyncio.py's own log: the event loop says how many OS threads served its clients (one, whatever the load)."""

import logging
import threading

from served import TIMEOUT, Served, send
from server import srvr_asyncio


def served_line(caplog):
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("the main thread waited ")]
    assert len(lines) == 1, caplog.text
    return lines[0]


def test_four_clients_at_once_are_served_on_one_thread(caplog):
    """Four clients sending at once, each from a thread of its own: the server's log line counts 4 clients and
    1 thread, and the total is exact without a lock (no await between the read of v and the write)."""
    caplog.set_level(logging.INFO, logger="srvr")
    served = Served(4, srvr_asyncio, idle_timeout=TIMEOUT, lock=False)
    clients = [served.connect() for _ in range(4)]
    assert [send(c, 1) for c in clients] == [1, 2, 3, 4]  # all four joined, connected at once
    errors = []

    def play(c):
        try:
            for _ in range(200):
                send(c, 1)
            c.sendall(b"\0")
        except Exception as e:  # the test's own failure, not a lost client
            errors.append(e)
        finally:
            c.close()

    players = [threading.Thread(target=play, args=(c,)) for c in clients]
    for p in players:
        p.start()
    for p in players:
        p.join(TIMEOUT)
    assert not errors
    assert served.final() == 4 + 4 * 200
    line = served_line(caplog)
    assert line.endswith("of CPU (event loop: served 4 clients on 1 thread)"), line


def test_one_client_in_the_singular(caplog):
    """One client: "served 1 client on 1 thread"; a probe (no byte sent) is not counted as a client."""
    caplog.set_level(logging.INFO, logger="srvr")
    served = Served(1, srvr_asyncio, idle_timeout=TIMEOUT)
    served.connect().close()  # a probe
    with served.connect() as c:
        assert send(c, 5) == 5
        c.sendall(b"\0")
    assert served.final() == 5
    assert served_line(caplog).endswith("(event loop: served 1 client on 1 thread)")
