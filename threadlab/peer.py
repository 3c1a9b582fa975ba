"""Peers the checker runs on a client host of the lab, sent as `python3 -c` (stdlib only, no import from /app).

    python3 -c "$(cat peer.py)" rude HOST PORT        a probe, a reset, a pipelined burst, an HTTP request
    python3 -c "$(cat peer.py)" hold HOST PORT K      join with K, print its v; a k per stdin line; empty: send 0
    python3 -c "$(cat peer.py)" silent HOST PORT      connect, send nothing, close when stdin gives a line or ends
    python3 -c "$(cat peer.py)" flood HOST PORT N S   N connections at once, each sends k = 1, reads its v, sends 0

Each prints one JSON line of what happened (hold and silent print one when connected, then one at the end).
"""

import json
import selectors
import socket
import struct
import sys
import time


def say(**what):
    print(json.dumps(what), flush=True)


def connect(host, port):
    return socket.create_connection((host, port), timeout=10)


def rude(host, port):
    """Each peer in turn; a line for each as it is done, so that a server that dies shows after which."""
    s = connect(host, port)  # a probe: a port scanner, a health check
    s.close()
    say(done="probe")
    s = connect(host, port)  # a reset: RST instead of FIN, before any byte
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    say(done="reset")
    for name, data in [("burst", bytes([5, 7, 9, 11])), ("http", b"GET / HTTP/1.0\r\nHost: a.b.c\r\n\r\n")]:
        s = connect(host, port)
        s.settimeout(3)
        try:  # the server may close (reset) a connection that breaks the protocol at once: that is allowed
            s.sendall(data)  # in one segment: several bytes before any v came back
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):  # whatever comes back, until the server closes or 3 s pass
                pass
        except OSError:
            pass
        s.close()
        say(done=name)


def hold(host, port, k):
    """Join with k and print its v; then a k for each number read from stdin; an empty line or EOF: send 0."""
    s = connect(host, port)
    s.settimeout(30)
    try:
        while k:
            s.sendall(bytes([k]))
            v = s.recv(1)
            say(k=k, v=v[0] if v else None)
            line = sys.stdin.readline().strip()
            k = int(line) if line else 0
        s.sendall(bytes([0]))
        s.close()
        say(left=True)
    except OSError as e:
        say(left=False, error=str(e))


def silent(host, port):
    s = connect(host, port)
    say(open=True)
    sys.stdin.readline()
    s.close()
    say(closed=True)


STALL = 15  # seconds without a single answer while connections wait: the server has stopped serving them


def gave_up(sel, deadline):
    """Stop waiting on what sel still holds; whether that was for a stall (before the deadline)."""
    left = [key.fileobj for key in sel.get_map().values()]
    for s in left:
        sel.unregister(s)
    return bool(left) and time.monotonic() < deadline


def flood(host, port, n, seconds, stall=STALL):
    """n connections open at once; then a k = 1 on each, its v (or its end), and a 0 on each that was served.

    It gives up at seconds, or once no connection has been answered (opened, given a v, or closed) for stall
    seconds: a server that stops accepting fails in stall seconds, not in the whole bound, and one that
    serves slowly but steadily has the whole bound.
    """
    deadline = time.monotonic() + seconds
    last = time.monotonic()  # when a connection was last answered
    waiting = lambda: sel.get_map() and time.monotonic() < min(deadline, last + stall)
    sel = selectors.DefaultSelector()
    state = {}  # socket -> "connecting" | "open" | "sent" | "served" | "refused" | "hung"
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        if s.connect_ex((host, port)) not in (0, 115):  # 115: EINPROGRESS
            state[s] = "refused"
            continue
        state[s] = "connecting"
        sel.register(s, selectors.EVENT_WRITE)
    while waiting():  # every connection open (or refused) first: at once
        for key, _ in sel.select(max(0.01, min(deadline, last + stall) - time.monotonic())):
            s = key.fileobj
            sel.unregister(s)
            state[s] = "open" if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 else "refused"
            last = time.monotonic()
    stalled = gave_up(sel, deadline)  # those still connecting are hung
    opened = sum(1 for st in state.values() if st == "open")
    for s, st in state.items():
        if st == "open":
            try:
                s.send(b"\x01")
                state[s] = "sent"
                sel.register(s, selectors.EVENT_READ)
            except OSError:
                state[s] = "refused"
    last = time.monotonic()
    while waiting():
        for key, _ in sel.select(max(0.01, min(deadline, last + stall) - time.monotonic())):
            s = key.fileobj
            sel.unregister(s)
            try:
                d = s.recv(2)
            except OSError:
                d = b""
            state[s] = "served" if len(d) == 1 else "refused"
            last = time.monotonic()
    stalled = gave_up(sel, deadline) or stalled
    for s, st in state.items():
        if st in ("connecting", "sent"):
            state[s] = "hung"
        elif st == "served":
            try:
                s.setblocking(True)
                s.settimeout(5)
                s.sendall(b"\x00")
            except OSError:
                pass
        s.close()
    counts = {st: sum(1 for x in state.values() if x == st) for st in ("served", "refused", "hung")}
    say(opened=opened, stalled=stall if stalled else None, **counts)


def main(argv):
    what, host, port = argv[1], argv[2], int(argv[3])
    if what == "rude":
        rude(host, port)
    elif what == "hold":
        hold(host, port, int(argv[4]))
    elif what == "silent":
        silent(host, port)
    elif what == "flood":
        flood(host, port, int(argv[4]), float(argv[5]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
