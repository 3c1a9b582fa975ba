"""protocol.py: what a person may type, and the one-byte k and v on the wire."""

import pytest
from common import protocol


@pytest.mark.parametrize("text, k", [
    ("0", 0),
    ("1", 1),
    ("5", 5),
    ("255", 255),
    ("  42  ", 42),
    ("\t7\n", 7),
])
def test_parse_k_accepts(text, k):
    """Every number from 0 to 255 is accepted, with spaces around it."""
    assert protocol.parse_k(text) == k


@pytest.mark.parametrize("text, reason", [
    ("", "empty line"),
    ("   ", "empty line"),
    ("abc", "'abc' is not a number"),
    ("5.0", "'5.0' is not a number"),
    ("5 6", "'5 6' is not a number"),
    ("0x10", "'0x10' is not a number"),
    ("1_0", "'1_0' is not a number"),
    ("\uff15", "'\uff15' is not a number"),
    ("-1", "-1 is out of range"),
    ("256", "256 is out of range"),
    ("1000", "1000 is out of range"),
])
def test_parse_k_rejects_with_one_line(text, reason):
    """Empty, non-numeric, negative and 256+ input raise ValueError with a one-line reason."""
    with pytest.raises(ValueError) as e:
        protocol.parse_k(text)
    message = str(e.value)
    assert message.startswith(reason)
    assert "0 to 255" in message
    assert "\n" not in message


@pytest.mark.parametrize("k", [0, 1, 127, 128, 255])
def test_k_round_trips(k):
    """encode_k then decode_k gives back k, as exactly one byte."""
    data = protocol.encode_k(k)
    assert len(data) == 1
    assert protocol.decode_k(data) == k


@pytest.mark.parametrize("k", [-1, 256])
def test_encode_k_rejects_out_of_range(k):
    """A k that does not fit in a byte is refused, not truncated."""
    with pytest.raises(ValueError):
        protocol.encode_k(k)


@pytest.mark.parametrize("v", [0, 1, 200, 255])
def test_v_round_trips_below_256(v):
    """Below 256, encode_v then decode_v gives back v."""
    assert protocol.decode_v(protocol.encode_v(v)) == v


@pytest.mark.parametrize("v, byte", [(256, 0), (300, 44), (511, 255), (555, 43), (10**6, 10**6 % 256)])
def test_encode_v_wraps_mod_256(v, byte):
    """Past 255 the echoed byte is v mod 256 (v = 300 goes out as 44)."""
    assert protocol.encode_v(v) == bytes([byte])


def test_encode_v_rejects_negative():
    """v is a sum of k's from 0 up, so a negative v is an error, not a byte."""
    with pytest.raises(ValueError):
        protocol.encode_v(-1)


@pytest.mark.parametrize("decode", [protocol.decode_k, protocol.decode_v])
@pytest.mark.parametrize("data", [b"", b"\x01\x02", b"\x00\x00\x00"])
def test_decode_rejects_wrong_length(decode, data):
    """A k or a v is exactly one byte: none, or more than one, is an error."""
    with pytest.raises(ValueError, match="one byte"):
        decode(data)
