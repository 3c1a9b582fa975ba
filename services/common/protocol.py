"""The tutorial's wire protocol, with no socket code: server and client both import it.

One byte up: k, 0 to 255; k = 0 means the client is leaving.
One byte back: v, the running total after adding k.

The tutorial assumes v never passes 255. threadlab keeps v exact (a Python
int) and sends its low byte, v mod 256, so an echo wraps past 255 while the
final value the server prints stays exact.
"""

import re

LEAVE = 0
MAX_K = 255
NUMBER = re.compile(r"[+-]?[0-9]+")


def parse_k(text):
    """Turn what a person typed into k, or raise ValueError with a one-line reason."""
    word = text.strip()
    if not word:
        raise ValueError("empty line: type a number from 0 to 255 (0 to leave)")
    if not NUMBER.fullmatch(word):
        raise ValueError(f"{word!r} is not a number: type a number from 0 to 255 (0 to leave)")
    k = int(word)
    if not 0 <= k <= MAX_K:
        raise ValueError(f"{k} is out of range: type a number from 0 to 255 (0 to leave)")
    return k


def encode_k(k):
    """k as its one byte on the wire."""
    if not 0 <= k <= MAX_K:
        raise ValueError(f"k must be from 0 to {MAX_K}, not {k}")
    return bytes([k])


def decode_k(data):
    """The k in one byte received from a client."""
    if len(data) != 1:
        raise ValueError(f"a k is one byte, not {len(data)}")
    return data[0]


def encode_v(v):
    """The running total as its one byte on the wire: its low byte."""
    if v < 0:
        raise ValueError(f"v is never negative, not {v}")
    return bytes([v % 256])


def decode_v(data):
    """The echoed v (mod 256) in one byte received from the server."""
    if len(data) != 1:
        raise ValueError(f"a v is one byte, not {len(data)}")
    return data[0]


FINAL = "the final value of v is"  # the server's last line: FINAL N, exact (v past 255 too)


def final_value(text):
    """N from the last 'the final value of v is N' line in a server's output, or None if it has none."""
    found = re.findall(rf"^{FINAL} (\d+)$", text, re.M)
    return int(found[-1]) if found else None
