"""Scenario files: what each client host types, and when. No socket code.

A scenario is plain text, one statement a line, '#' starts a comment:

    seed 2003                  # makes the jitter below the same on every run
    pace 0.3 jitter 0.2        # before each line typed: wait 0.3 s +/- 0.2 s
    u.v.w: 5 12 7 30 0         # what u.v.w types, in order
    x.y.z: +0.15 9 3 21 8 0    # +0.15: wait 0.15 s more before the next line
    expect final 95            # the server's final value
    expect u.v.w v 5 17        # optional: the v's u.v.w must see, in order

What a client types, token by token:
    5        the line "5" (any integer, even one out of range, is typed as is)
    "abc"    the line abc; "" is an empty line
    200*1    the next token, typed 200 times
    +0.5     wait 0.5 s
    EOF      end of input (Ctrl-D) instead of typing 0
A host may have several lines; they add up. Nothing may follow a 0 or EOF.
"""

import random
import re
import shlex
import sys
from dataclasses import dataclass, field

from common import protocol

EOF = None  # what a step types for end of input
HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*$")
TOKEN_HELP = 'a number, "text", a wait like +0.5, a repeat like 3*1, or EOF'


class ScenarioError(ValueError):
    """A malformed scenario: the message names the file, the line and what is wrong."""


@dataclass
class Scenario:
    path: str
    seed: int = 0
    pace: float = 0.0
    jitter: float = 0.0
    parts: dict = field(default_factory=dict)  # host -> [("wait", s) | ("type", text or EOF)]
    expect_final: int = None
    expect_v: dict = field(default_factory=dict)  # host -> [v, ...]
    line: dict = field(default_factory=dict)  # host -> the line that first names it

    @property
    def hosts(self):
        return list(self.parts)

    def steps(self, host):
        """(delay, text) pairs for host: wait delay seconds, then type text (EOF: end input)."""
        rng = random.Random(f"{self.seed}/{host}")
        extra = 0.0
        for kind, arg in self.parts[host]:
            if kind == "wait":
                extra += arg
                continue
            delay = self.pace + (rng.uniform(-self.jitter, self.jitter) if self.jitter else 0.0)
            yield max(0.0, delay) + extra, arg
            extra = 0.0

    def typed(self, host):
        """Every line host types, in order (EOF included)."""
        return [text for _, text in self.steps(host)]


def load(path):
    with open(path, encoding="utf-8") as f:
        return parse(f.read(), path)


def parse(text, path="<scenario>"):
    sc = Scenario(path)
    lines = text.splitlines()
    for lineno, line in enumerate(lines, 1):
        try:
            words = _split(line)
            if words:
                _statement(sc, words)
                for host in [*sc.parts, *sc.expect_v]:
                    sc.line.setdefault(host, lineno)
        except ScenarioError as e:
            raise ScenarioError(f"{path}:{lineno}: {e}") from None
    if not sc.parts:
        raise ScenarioError(f"{path}:{max(1, len(lines))}: no client parts (lines like 'u.v.w: 5 3 0')")
    for host in sc.expect_v:
        if host not in sc.parts:
            raise ScenarioError(f"{path}:{sc.line[host]}: expect names {host}, which has no part")
    for host, steps in sc.parts.items():
        if not any(_ends(s) for s in steps):
            raise ScenarioError(f"{path}:{sc.line[host]}: {host}'s part never leaves: end it with 0 or EOF")
    return sc



def _split(line):
    lexer = shlex.shlex(line, posix=False)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError as e:
        raise ScenarioError(str(e).lower()) from None


def _statement(sc, words):
    head, args = words[0], words[1:]
    if head.endswith(":"):
        _part(sc, head[:-1], args)
    elif head == "seed":
        (sc.seed,) = _numbers(args, 1, int, "seed N")
    elif head == "pace":
        if len(args) == 3 and args[1] == "jitter":
            sc.pace, sc.jitter = _numbers(args[::2], 2, float, "pace S jitter S")
        else:
            (sc.pace,) = _numbers(args, 1, float, "pace S jitter S")
        if sc.pace < 0 or sc.jitter < 0:
            raise ScenarioError("pace and jitter are never negative")
    elif head == "expect":
        _expect(sc, args)
    else:
        raise ScenarioError(f"unknown statement {head!r}: seed, pace, expect, or a part like 'u.v.w: 5 0'")


def _numbers(args, count, kind, form):
    try:
        if len(args) != count:
            raise ValueError
        return [kind(a) for a in args]
    except ValueError:
        raise ScenarioError(f"expected '{form}', got {' '.join(args)!r}") from None


def _expect(sc, args):
    if len(args) == 2 and args[0] == "final":
        (sc.expect_final,) = _numbers(args[1:], 1, int, "expect final N")
    elif len(args) >= 3 and args[1] == "v":
        sc.expect_v[args[0]] = _numbers(args[2:], len(args) - 2, int, "expect HOST v N N ...")
    else:
        raise ScenarioError("expected 'expect final N' or 'expect HOST v N N ...'")


def _part(sc, host, tokens):
    if not HOST.match(host):
        raise ScenarioError(f"{host!r} is not a host name")
    steps = sc.parts.setdefault(host, [])
    for token in tokens:
        if steps and _ends(steps[-1]):
            raise ScenarioError(f"{host} types {token!r} after it has left (0 or EOF)")
        steps.extend(_token(token))


def _ends(step):
    kind, text = step
    if kind != "type":
        return False
    if text is EOF:
        return True
    try:
        return int(text) == 0
    except ValueError:
        return False


def _token(token):
    count, star, rest = token.partition("*")
    if star and count.isdigit() and rest:
        if int(count) < 1:
            raise ScenarioError(f"a repeat count is at least 1: {token!r}")
        steps = _token(rest)
        if steps[0][0] != "type" or _ends(steps[0]):
            raise ScenarioError(f"only a line that is not 0 or EOF can be repeated: {token!r}")
        return steps * int(count)
    if token == "EOF":
        return [("type", EOF)]
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return [("type", token[1:-1])]
    if token.startswith("+"):
        try:
            seconds = float(token[1:])
        except ValueError:
            seconds = -1
        if seconds < 0:
            raise ScenarioError(f"a wait is +SECONDS, not {token!r}")
        return [("wait", seconds)]
    if not protocol.NUMBER.fullmatch(token):
        raise ScenarioError(f"{token!r} is not {TOKEN_HELP}")
    return [("type", token)]


def main(argv):
    """python3 -m common.scenario FILE [SHOWN_AS] [NCLIENTS]: exit 0 if the file is a scenario fit for the lab.

    The lab runs it before the server and the clients (docker compose up), so a
    missing or malformed SCENARIO ends the lab at once with one line naming the
    file as the user gave it (SHOWN_AS), instead of a server waiting forever.
    """
    path, shown = argv[1], argv[2] if len(argv) > 2 else argv[1]
    try:
        with open(path, encoding="utf-8") as f:
            sc = parse(f.read(), shown)
    except OSError as e:
        print(f"scenario: {shown}: {e.strerror}", file=sys.stderr)
        return 2
    except ScenarioError as e:
        print(f"scenario: {e}", file=sys.stderr)
        return 2
    if len(argv) > 3 and argv[3].isdigit() and len(sc.hosts) < int(argv[3]):
        hosts = f"{len(sc.hosts)} host{'s' * (len(sc.hosts) != 1)}"
        print(f"scenario: {shown} has parts for {hosts}, and the server waits for NCLIENTS={argv[3]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
