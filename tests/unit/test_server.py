"""srvr.py: the real threaded server, in-process on 127.0.0.1, with real client sockets."""

import logging
import random
import threading

import pytest
from common import check, protocol
from served import TIMEOUT, Served, send
from server import srvr


@pytest.fixture
def session():
    """Start Served(nclients) servers; close their listeners after the test."""
    sessions = []

    def start(nclients):
        sessions.append(Served(nclients))
        return sessions[-1]

    yield start
    for s in sessions:
        s.listener.close()


def leave(sock):
    """Send k = 0 and check the server then closes the connection."""
    sock.sendall(protocol.encode_k(protocol.LEAVE))
    assert sock.recv(1) == b""
    sock.close()


def test_two_clients_interleaving(session):
    """The tutorial's session: two clients take turns, each sees the running total, the final v is exact."""
    s = session(2)
    a, b = s.connect(), s.connect()
    assert [send(a, 5), send(b, 9), send(a, 12), send(a, 7), send(b, 3), send(b, 21)] == [5, 14, 26, 33, 36, 57]
    leave(a)
    leave(b)
    assert s.final() == 57


def test_session_waits_for_every_client(session):
    """With two clients expected, the first one leaving does not end the session."""
    s = session(2)
    a = s.connect()
    assert send(a, 4) == 4
    leave(a)
    b = s.connect()  # the listener still accepts: the session is not over
    assert send(b, 6) == 10
    leave(b)
    assert s.final() == 10


def test_probe_is_not_a_client(session, caplog):
    """A connection closed before sending a byte (a healthcheck) does not count toward NCLIENTS."""
    caplog.set_level(logging.INFO, logger="srvr")
    s = session(2)
    probe = s.connect()
    probe.close()
    a = s.connect()
    assert send(a, 7) == 7
    leave(a)
    b = s.connect()  # had the probe counted, the session would be over and b refused
    assert send(b, 3) == 10
    leave(b)
    assert s.final() == 10
    assert any("a probe, not a client" in r.getMessage() for r in caplog.records)


def test_client_leaving_without_zero(session, caplog):
    """A client that closes without k = 0 still ends its part; the k's it had echoed count."""
    caplog.set_level(logging.INFO, logger="srvr")
    s = session(2)
    a, b = s.connect(), s.connect()
    assert send(a, 5) == 5
    assert send(a, 6) == 11
    a.close()
    assert send(b, 3) == 14
    leave(b)
    assert s.final() == 14
    assert any("left without sending k = 0" in r.getMessage() for r in caplog.records)


def test_only_client_vanishing_ends_the_session(session):
    """If the only client goes away without k = 0, serve still returns its total."""
    s = session(1)
    a = s.connect()
    assert send(a, 200) == 200
    a.close()
    assert s.final() == 200


def test_total_past_255_wraps_the_echo_not_the_final(session):
    """Past 255 each echo is v mod 256, while serve returns the exact total."""
    s = session(1)
    a = s.connect()
    assert [send(a, 200), send(a, 100), send(a, 255), send(a, 1)] == [200, 300 % 256, 555 % 256, 556 % 256]
    leave(a)
    assert s.final() == 556


def test_bytes_sent_at_once_are_not_a_client(session):
    """A connection whose first recv holds several bytes (here 4 k's at once) is dropped, adds nothing and is
    not counted: the session of one client goes on until a real client has come and gone."""
    s = session(1)
    a = s.connect()
    a.sendall(bytes([1, 2, 3, 4]))
    try:
        assert a.recv(4) == b""
    except ConnectionResetError:
        pass  # closed with unread bytes: a reset, which is just as closed
    with s.connect() as b:
        assert send(b, 7) == 7
        b.sendall(bytes([0]))
    assert s.final() == 7


def test_many_concurrent_clients(session):
    """50 clients sending 100 k's each at once: the final v is the exact sum and every echo fits one serial order."""
    nclients, nk = 50, 100
    s = session(nclients)
    rng = random.Random(2003)
    ks = {f"c{i:02}": [rng.randint(1, 255) for _ in range(nk)] for i in range(nclients)}
    echoes = {}
    errors = []
    start = threading.Barrier(nclients, timeout=TIMEOUT)

    def client(name):
        try:
            with s.connect() as sock:
                start.wait()
                echoes[name] = [(k, send(sock, k)) for k in ks[name]]
                sock.sendall(protocol.encode_k(protocol.LEAVE))
        except Exception as e:  # reported below, with the client's name
            errors.append(f"{name}: {e!r}")

    threads = [threading.Thread(target=client, args=(name,), daemon=True) for name in ks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert errors == []
    total = sum(sum(k) for k in ks.values())
    assert s.final() == total
    order = check.serial_order(echoes)
    assert len(order) == nclients * nk
    assert order[-1][2] == total


def test_busy_wait_never_sees_a_join_half_done():
    """WAIT=busy: the main thread's spin must not end while a client's join() is half done (joined counted,
    active not yet). A clean-clone CI run on free-threaded Python ended a session there: u.v.w had left,
    x.y.z's join had made joined 2 with active still 0, and the server closed x.y.z after its first k.
    Here join() is held right after its joined += 1, as a thread switch would hold it."""

    class Held(srvr.Tally):
        held, resume = threading.Event(), threading.Event()

        @property
        def joined(self):
            return self._joined

        @joined.setter
        def joined(self, n):
            self._joined = n
            if n == 2:
                self.held.set()
                self.resume.wait(TIMEOUT)

    tally = Held(2, busy_wait=True)
    tally.join()
    tally.leave()  # u.v.w came and went: joined 1, active 0
    joiner = threading.Thread(target=tally.join)
    joiner.start()
    assert tally.held.wait(TIMEOUT)
    waiter = threading.Thread(target=tally.wait_done, daemon=True)
    waiter.start()
    waiter.join(0.5)
    ended_early = not waiter.is_alive()
    tally.resume.set()
    joiner.join(TIMEOUT)
    assert not ended_early, "the busy wait ended with joined 2 and active 0, mid-join"
    tally.leave()  # x.y.z leaves: now the session is over
    waiter.join(TIMEOUT)
    assert not waiter.is_alive()
