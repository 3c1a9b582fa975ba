"""loadgen.py: the benchmark's load generator, against the real server in-process on 127.0.0.1."""

import json
import socket
import threading

import pytest
from bench import loadgen
from served import Served

TIMEOUT = 20  # seconds: any wait longer than this is a bug, and fails the test instead of hanging it


def test_one_client_exact_against_the_lab_server():
    """One client: every echo is v mod 256, and the server's final v is exactly the sum of the k's sent."""
    s = Served(1)
    r = loadgen.run("127.0.0.1", s.port, 1, seconds=0.2, warmup=0.05, expect="total")
    assert s.final() == r["sum_k"]
    n = r["total_round_trips"]
    assert r["sum_k"] == sum(loadgen.next_k(i) for i in range(n))
    assert 0 < r["round_trips"] <= n == r["per_client_min"] == r["per_client_max"]
    assert r["rate"] == pytest.approx(r["round_trips"] / r["seconds"], rel=0.01)


@pytest.mark.parametrize("clients", [2, 8, 40])
def test_many_clients_exact_against_the_lab_server(clients):
    """Many clients on one epoll: the server's final v is the sum of every k sent, and every client counted."""
    s = Served(clients)
    r = loadgen.run("127.0.0.1", s.port, clients, seconds=0.2, warmup=0.05, raw=True)
    assert s.final() == r["sum_k"]
    assert r["clients"] == clients
    assert 1 <= r["per_client_min"] <= r["per_client_max"]
    assert r["per_client_min"] * clients <= r["total_round_trips"] <= r["per_client_max"] * clients
    assert r["round_trips"] == len(r["latencies_us"]) <= r["total_round_trips"]


def test_percentiles_are_ordered_and_the_cdf_has_100_points():
    """p50 <= p90 <= p99 <= p99.9 <= max, and the CDF is sorted, from the window's own latencies."""
    s = Served(4)
    r = loadgen.run("127.0.0.1", s.port, 4, seconds=0.2, warmup=0.05, raw=True)
    s.final()
    assert 0 < r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"] <= r["p99.9_ms"] <= r["max_ms"]
    assert len(r["cdf_ms"]) == 100 and r["cdf_ms"] == sorted(r["cdf_ms"]) and r["cdf_ms"][-1] == r["max_ms"]
    assert max(r["latencies_us"]) == pytest.approx(r["max_ms"] * 1000, abs=1)


@pytest.mark.parametrize("kind", ["socketserver", "asyncio", "pingpong"])
def test_exact_against_each_reference(kind):
    """The references end their session on the load generator's k = 0 and print the same exact total."""
    s = Served(8, kind=kind)
    r = loadgen.run("127.0.0.1", s.port, 8, seconds=0.2, warmup=0.05)
    assert s.final() == r["sum_k"]


def test_echo_check_catches_a_server_that_does_not_total():
    """expect='total' against the ping-pong floor (which echoes k) fails on the second round trip."""
    s = Served(1, kind="pingpong")
    with pytest.raises(loadgen.LoadError, match="round trip 2: echo 2, expected v mod 256 = 3"):
        loadgen.run("127.0.0.1", s.port, 1, seconds=0.2, warmup=0, expect="total")


def test_echo_check_passes_the_floor():
    """expect='echo' is what the ping-pong floor does: each k comes straight back."""
    s = Served(1, kind="pingpong")
    r = loadgen.run("127.0.0.1", s.port, 1, seconds=0.1, warmup=0, expect="echo")
    assert s.final() == r["sum_k"]


@pytest.fixture
def rude_server():
    """A server that answers three k's and then hangs up; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conns = []
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=answer_three, args=(conn,), daemon=True).start()

    def answer_three(conn):
        with conn:
            try:
                for _ in range(3):
                    if conn.recv(1):
                        conn.sendall(b"\x01")
            except OSError:
                pass  # the load generator gave up first

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.parametrize("clients", [1, 3])
def test_a_server_hanging_up_is_an_error(rude_server, clients):
    """A connection closed mid-run is a LoadError, not a figure."""
    with pytest.raises(loadgen.LoadError, match="closed"):
        loadgen.run("127.0.0.1", rude_server, clients, seconds=1, warmup=0)


def test_start_at_in_the_past_starts_at_once():
    """--start-at a moment already gone does not wait."""
    s = Served(1)
    r = loadgen.run("127.0.0.1", s.port, 1, seconds=0.1, warmup=0, start_at=0)
    assert s.final() == r["sum_k"]


@pytest.mark.parametrize("clients, seconds, warmup", [(0, 1, 0), (1, 0, 0), (1, 1, -1)])
def test_bad_arguments(clients, seconds, warmup):
    with pytest.raises(ValueError):
        loadgen.run("127.0.0.1", 1, clients, seconds, warmup)


def test_percentile_is_nearest_rank():
    """percentile of sorted nanoseconds, in ms, by nearest rank."""
    ns = [i * 1_000_000 for i in range(1, 101)]  # 1..100 ms
    assert [loadgen.percentile(ns, q) for q in (1, 50, 99, 99.9, 100)] == [1, 50, 99, 100, 100]
    assert loadgen.percentile([], 50) is None


def test_next_k_cycles_through_every_k():
    assert [loadgen.next_k(i) for i in (0, 1, 254, 255, 256)] == [1, 2, 255, 1, 2]


def test_main_prints_one_json_line(capsys):
    """loadgen.py HOST PORT prints its result as one JSON line, exit 0."""
    s = Served(2)
    assert loadgen.main(["loadgen.py", "127.0.0.1", str(s.port), "--clients", "2", "--seconds", "0.1",
                         "--warmup", "0"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out)["sum_k"] == s.final()


def test_main_nothing_listening(capsys):
    """With nothing listening: exit 1, one line on stderr."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    assert loadgen.main(["loadgen.py", "127.0.0.1", str(port), "--seconds", "0.1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("loadgen.py: ") and len(err.splitlines()) == 1
