"""Fuzzing with hypothesis: the protocol's parsers and the server's per-client handler take anything."""

import socket
import threading

import pytest
from common import protocol, scenario
from hypothesis import given, settings
from hypothesis import strategies as st
from server import srvr

TIMEOUT = 10


@given(st.text())
def test_parse_k_takes_any_text(text):
    """Any typed text is a k from 0 to 255 or a one-line ValueError, nothing else."""
    try:
        k = protocol.parse_k(text)
    except ValueError as e:
        assert "\n" not in str(e)
    else:
        assert 0 <= k <= 255 and protocol.decode_k(protocol.encode_k(k)) == k


@given(st.binary())
def test_decoders_take_any_bytes(data):
    """Any bytes decode to one k or v, or raise ValueError."""
    for decode in (protocol.decode_k, protocol.decode_v):
        try:
            assert 0 <= decode(data) <= 255
        except ValueError:
            assert len(data) != 1


@given(st.text())
def test_scenario_parser_takes_any_text(text):
    """Any text is a scenario or a ScenarioError naming the file, never another exception."""
    try:
        scenario.parse(text, "fuzz.scn")
    except scenario.ScenarioError as e:
        assert str(e).startswith("fuzz.scn")


@pytest.fixture(scope="module")
def listener():
    with socket.create_server(("127.0.0.1", 0)) as s:
        yield s


def serve_one(listener, chunks, reset):
    """Send chunks to the real handler, one write each; return (the server's v, the client's echoes, stream)."""
    tally = srvr.Tally(1, idle_timeout=TIMEOUT)
    client = socket.create_connection(listener.getsockname(), timeout=TIMEOUT)
    conn, addr = listener.accept()
    tally.connect()
    errors = []

    def run():
        try:
            srvr.handle(conn, addr, tally)
        except BaseException as e:  # the invariant: nothing escapes handle
            errors.append(e)

    handler = threading.Thread(target=run, daemon=True)
    handler.start()
    echoes, sent = b"", b""
    try:
        for chunk in chunks:
            client.sendall(chunk)
            sent += chunk
            if len(chunk) == 1 and chunk != b"\0":
                echoes += client.recv(1)  # a well-behaved step: wait for its v
    except OSError:
        pass  # the server dropped us: what it echoed so far still counts
    if reset:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    else:
        try:
            client.shutdown(socket.SHUT_WR)
            while data := client.recv(64):
                echoes += data
        except OSError:
            pass
    client.close()
    handler.join(timeout=TIMEOUT)
    assert not handler.is_alive(), "the handler did not end"
    assert errors == []
    return tally.v, echoes, sent


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=4), max_size=12), st.booleans())
def test_handler_takes_any_stream_and_disconnect(listener, chunks, reset):
    """Arbitrary byte streams, cut off by a close or a reset: nothing escapes the handler, and the total is the
    sum of the k's the client saw acknowledged (with a reset, echoes in flight may be lost: at least that)."""
    v, echoes, sent = serve_one(listener, chunks, reset)
    stream = sent.split(b"\0")[0]  # the server stops at the first k = 0
    acknowledged = sum(stream[:len(echoes)])
    assert echoes == bytes(sum(stream[:i + 1]) % 256 for i in range(len(echoes)))
    if reset:
        assert acknowledged <= v <= sum(stream)
    else:
        assert v == acknowledged
