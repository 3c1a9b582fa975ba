"""A setting of the lab, parsed one way in every host: a bounded number, or one of a few words.

A bad value is a ValueError whose message names the setting and says what it takes,
which each program prints as its one line before it exits 2.
"""

import math


def number(name, text, kind, low, high=None):
    """text as a kind (int or float) from low to high, or ValueError naming the setting."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < low or (high is not None and value > high):
        span = f"from {show(low)} to {show(high)}" if high is not None else f"at least {show(low)}"
        raise ValueError(f"{name} must be a number {span}, not {text!r}")
    return value


LOG_LEVELS = {level: level for level in ("DEBUG", "INFO", "WARNING", "ERROR")}  # LOG_LEVEL's choices


def choice(name, text, choices):
    """choices[text], or ValueError naming the setting and its choices."""
    if text not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {text!r}")
    return choices[text]


def show(x):
    """A bound as a person writes it: 1e-06, 1, 65535."""
    return f"{x:g}" if isinstance(x, float) else str(x)
