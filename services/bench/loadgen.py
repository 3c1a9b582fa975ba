"""The load generator: many clients doing round trips against a server of the lab's protocol.

Each client is one TCP connection that sends k (one byte), waits for the one
byte back, and sends the next k at once: a closed loop, one round trip in
flight per client. k cycles 1, 2, ..., 255, 1, ... on each connection. After
a warm-up, round trips are counted and timed for a window of SECONDS; when
the window ends, each client sends k = 0 after its last reply and closes.

One client is a plain blocking send/recv loop (a ping-pong). Many clients
share one thread and one epoll: the generator costs no thread switches of its
own, so what the latencies show is the server and the network.

Prints one JSON line: round trips per second in the window, latency
percentiles, and sum_k, the sum of every k sent, which is the final v the
server must print.

Run:  python3 loadgen.py HOST PORT --clients 64 --seconds 2 [--warmup 0.5] [--expect total]
          [--start-at UNIX_TIME] [--raw]
--start-at lets load generators on several hosts start together (the hosts
share the machine's clock); --raw adds every latency in the window, in
microseconds, so that their percentiles can be merged.
"""

import argparse
import json
import os
import select
import socket
import sys
import time

from common import protocol

QUANTILES = (50, 90, 99, 99.9)
CONNECT_TIMEOUT = 10  # seconds
IDLE_TIMEOUT = 10  # seconds with no reply on any connection: the server is stuck


class LoadError(Exception):
    """The server misbehaved: closed early, went quiet, or echoed the wrong value."""


def percentile(sorted_ns, q):
    """The q-th percentile (nearest rank) of sorted nanoseconds, in milliseconds."""
    if not sorted_ns:
        return None
    rank = max(1, -(-len(sorted_ns) * q // 100))  # ceil(len * q / 100)
    return sorted_ns[int(rank) - 1] / 1e6


def next_k(count):
    """The k a client sends after `count` round trips: 1, 2, ..., 255, 1, ..."""
    return count % protocol.MAX_K + 1


def connect(host, port):
    sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def ping_pong(sock, warmup_ns, window_ns, expect):
    """One client, blocking: returns (latencies in the window, round trips, sum of k, window start, end)."""
    sock.settimeout(IDLE_TIMEOUT)
    send, recv, now = sock.send, sock.recv, time.perf_counter_ns
    lat = []
    count = sum_k = 0
    start = now()
    t_rec = start + warmup_ns
    t_end = t_rec + window_ns
    while True:
        k = count % 255 + 1
        t0 = now()
        send(bytes((k,)))
        d = recv(1)
        t1 = now()
        if not d:
            raise LoadError(f"the server closed the connection after {count} round trips")
        count += 1
        sum_k += k
        if expect == "total" and d[0] != sum_k % 256:
            raise LoadError(f"round trip {count}: echo {d[0]}, expected v mod 256 = {sum_k % 256}")
        if expect == "echo" and d[0] != k:
            raise LoadError(f"round trip {count}: echo {d[0]}, expected the k sent, {k}")
        if t0 >= t_rec and t1 <= t_end:
            lat.append(t1 - t0)
        if t1 >= t_end:
            break
    sock.sendall(protocol.encode_k(protocol.LEAVE))
    return lat, [count], sum_k, t_rec, t_end


def many(socks, warmup_ns, window_ns):
    """Many clients on one epoll: returns (latencies in the window, round trips per client, sum of k, start, end)."""
    ep = select.epoll(len(socks))
    conns = {}  # fd -> [socket, round trips, time the k in flight was sent]
    sum_k = 0
    lat = []
    now = time.perf_counter_ns
    for s in socks:
        s.setblocking(False)
        ep.register(s.fileno(), select.EPOLLIN)
    start = now()
    t_rec = start + warmup_ns
    t_end = t_rec + window_ns
    for s in socks:
        conns[s.fileno()] = [s, 0, now()]
        s.send(b"\x01")
    live = len(conns)
    counts = []
    try:
        while live:
            events = ep.poll(IDLE_TIMEOUT)
            if not events:
                raise LoadError(f"no reply on any of {live} connections for {IDLE_TIMEOUT} s")
            for fd, _ in events:
                c = conns[fd]
                s = c[0]
                d = s.recv(2)
                t1 = now()
                if len(d) != 1:
                    raise LoadError("the server closed a connection" if not d else
                                    f"{len(d)} bytes back for one k")
                n = c[1]
                sum_k += n % 255 + 1
                n += 1
                c[1] = n
                t0 = c[2]
                if t0 >= t_rec and t1 <= t_end:
                    lat.append(t1 - t0)
                if t1 >= t_end:
                    ep.unregister(fd)
                    s.setblocking(True)
                    s.sendall(protocol.encode_k(protocol.LEAVE))
                    counts.append(n)
                    live -= 1
                else:
                    c[2] = now()
                    s.send(bytes((n % 255 + 1,)))
    finally:
        ep.close()
    return lat, counts, sum_k, t_rec, t_end


def run(host, port, clients, seconds, warmup=0.5, expect="none", start_at=None, raw=False):
    """Drive clients connections at host:port; return the result as a dict (see the module docstring).

    expect checks each echo when there is one client: "total" (v mod 256,
    the lab's protocol), "echo" (the k sent back, a ping-pong floor) or "none".
    """
    if clients < 1 or seconds <= 0 or warmup < 0:
        raise ValueError("clients must be at least 1, seconds positive and warmup not negative")
    socks = []
    try:
        for _ in range(clients):
            socks.append(connect(host, port))
        if start_at is not None:
            time.sleep(max(0.0, start_at - time.time()))
        cpu0, wall0 = os.times(), time.perf_counter()
        warmup_ns, window_ns = int(warmup * 1e9), int(seconds * 1e9)
        if clients == 1:
            lat, counts, sum_k, t_rec, t_end = ping_pong(socks[0], warmup_ns, window_ns, expect)
        else:
            lat, counts, sum_k, t_rec, t_end = many(socks, warmup_ns, window_ns)
        cpu1, wall1 = os.times(), time.perf_counter()
    except ConnectionError as e:  # a reset: closed with our k unread
        raise LoadError(f"the server closed a connection: {e.strerror or e}") from None
    finally:
        for s in socks:
            s.close()
    lat.sort()
    window = (t_end - t_rec) / 1e9
    return {
        "clients": clients,
        "seconds": round(window, 6),
        "round_trips": len(lat),
        "rate": round(len(lat) / window, 1),
        **{f"p{q:g}_ms": percentile(lat, q) for q in QUANTILES},
        "mean_ms": sum(lat) / len(lat) / 1e6 if lat else None,
        "max_ms": lat[-1] / 1e6 if lat else None,
        "cdf_ms": [percentile(lat, q) for q in range(1, 101)] if lat else [],
        "total_round_trips": sum(counts),
        "per_client_min": min(counts),
        "per_client_max": max(counts),
        "sum_k": sum_k,
        "loadgen_cpu": round((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (wall1 - wall0), 3),
        **({"latencies_us": [round(t / 1000) for t in lat]} if raw else {}),
    }


def main(argv):
    ap = argparse.ArgumentParser(prog="loadgen.py", description="Round trips against a server of the lab's protocol.")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=2.0, help="the measured window")
    ap.add_argument("--warmup", type=float, default=0.5, help="seconds of round trips before the window")
    ap.add_argument("--expect", choices=["total", "echo", "none"], default="none",
                    help="with one client, check each echo: v mod 256 (total) or the k sent (echo)")
    ap.add_argument("--start-at", type=float, help="wait until this time (seconds since the epoch) to start")
    ap.add_argument("--raw", action="store_true", help="add every latency in the window, in microseconds")
    args = ap.parse_args(argv[1:])
    try:
        result = run(args.host, args.port, args.clients, args.seconds, args.warmup, args.expect,
                     args.start_at, args.raw)
    except (LoadError, OSError, ValueError) as e:
        print(f"loadgen.py: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
