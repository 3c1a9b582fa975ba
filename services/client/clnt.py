"""Matloff's clnt.py in Python 3: send each k typed at the prompt, print each v.

Usage:
    python3 clnt.py server_address port_number
        asks 'input k ' and sends each number typed; 0 (or Ctrl-D, Ctrl-C)
        sends 0 and leaves. v comes back as one byte: past 255 it wraps
        (protocol.py), while the server's final value stays exact.
    python3 clnt.py server_address port_number --play SCENARIO --as HOST
        types HOST's part of a scenario file (scenario.py; - reads it from
        standard input) instead of a person.
    --transcript FILE   write what happened to FILE as JSON: each (k, v), the
                        lines refused, and how the client left.
    --record FILE       by hand: append what was typed, with its timing, to
                        FILE as a scenario part (- prints it at the end).
"""

import argparse
import json
import socket
import sys
import time

import protocol
import scenario

ECHO_TIMEOUT = 30  # seconds to wait for a v: the server answers at once unless it is stopped or cut off


class ServerGone(Exception):
    """The server closed the connection or could not be reached."""


class Transcript:
    """What one client typed, sent and got back."""

    def __init__(self, host):
        self.host = host
        self.echoes = []  # (k, v) for each k the server acknowledged
        self.refused = 0  # lines that were not a k
        self.left = None  # "0", "EOF", or why the connection ended
        self.typed = []  # (seconds since the previous line, text or EOF): the recording
        self.last = time.monotonic()

    def type(self, text):
        now = time.monotonic()
        self.typed.append((now - self.last, text))
        self.last = now

    def as_json(self):
        return {"client": self.host, "echoes": self.echoes, "refused": self.refused, "left": self.left}

    def as_part(self):
        """The typed lines as a scenario part that replays them."""
        words = []
        for wait, text in self.typed:
            if wait >= 0.01:
                words.append(f"+{wait:.2f}")
            if text is scenario.EOF:
                words.append("EOF")
            elif protocol.NUMBER.fullmatch(text.strip()):
                words.append(text.strip())
            else:
                words.append('"' + text.replace('"', "'") + '"')
        return f"{self.host}: {' '.join(words)}\n"


def typed_by_hand():
    """Lines a person types at the tutorial's prompt; EOF when input ends or on Ctrl-C."""
    while True:
        try:
            yield input("input k ")
        except (EOFError, KeyboardInterrupt):
            print()
            yield scenario.EOF


def typed_by_scenario(sc, host):
    for delay, text in sc.steps(host):
        time.sleep(delay)
        yield text


def run(sock, lines, say, show_v, transcript):
    """Send a k for each line until 0 or EOF, into transcript. Bad lines are told and skipped."""
    for text in lines:
        transcript.type(text)
        if text is scenario.EOF:
            say("end of input: sending 0 and leaving")
            sock.sendall(protocol.encode_k(protocol.LEAVE))
            transcript.left = "EOF"
            return
        try:
            k = protocol.parse_k(text)
        except ValueError as e:
            say(str(e))
            transcript.refused += 1
            continue
        sock.sendall(protocol.encode_k(k))
        if k == protocol.LEAVE:
            say("sent 0, leaving")
            transcript.left = "0"
            return
        try:
            d = sock.recv(1)
        except TimeoutError:
            raise ServerGone(f"no v from the server within {ECHO_TIMEOUT} s") from None
        if not d:
            raise ServerGone("the server closed the connection")
        v = protocol.decode_v(d)
        transcript.echoes.append((k, v))
        show_v(k, v)


def connect(host, port):
    try:
        return socket.create_connection((host, port), timeout=10)
    except socket.gaierror:
        raise ServerGone(f"cannot find host {host}") from None
    except OSError as e:
        raise ServerGone(f"cannot reach {host}:{port}: {e.strerror or e}") from None


def main(argv):
    ap = argparse.ArgumentParser(prog="clnt.py", description="The tutorial's client.")
    ap.add_argument("server_address")
    ap.add_argument("port_number", type=int)
    ap.add_argument("--play", metavar="SCENARIO", help="type a scenario file's part instead of a person")
    ap.add_argument("--as", dest="host", metavar="HOST", help="whose part of the scenario to play")
    ap.add_argument("--transcript", metavar="FILE", help="write what happened to FILE as JSON")
    ap.add_argument("--record", metavar="FILE", help="append what is typed by hand to FILE as a scenario part")
    args = ap.parse_args(argv[1:])
    if args.play and args.record:
        ap.error("--record records typing by hand; it does not go with --play")
    if args.play:
        if not args.host:
            ap.error("--play needs --as HOST")
        try:
            sc = scenario.parse(sys.stdin.read(), "<stdin>") if args.play == "-" else scenario.load(args.play)
        except (OSError, scenario.ScenarioError) as e:
            print(f"clnt.py: {e}", file=sys.stderr)
            return 2
        if args.host not in sc.parts:
            print(f"{args.host}: no part in {args.play}; not joining")
            return 0
        lines = typed_by_scenario(sc, args.host)
        say = lambda msg: print(f"{args.host}: {msg}")
        show_v = lambda k, v: say(f"sent {k}, v is {v}")
    else:
        lines = typed_by_hand()
        say = print
        show_v = lambda k, v: print(v)
    transcript = Transcript(args.host or socket.gethostname())
    rc = 0
    try:
        with connect(args.server_address, args.port_number) as sock:
            sock.settimeout(ECHO_TIMEOUT)
            try:
                run(sock, lines, say, show_v, transcript)
            except KeyboardInterrupt:
                say("interrupted: sending 0 and leaving")
                sock.sendall(protocol.encode_k(protocol.LEAVE))
                transcript.left = "interrupted"
                rc = 130
    except (ServerGone, OSError) as e:
        print(f"clnt.py: {e}", file=sys.stderr)
        transcript.left = str(e)
        rc = 1
    except KeyboardInterrupt:  # before the connection was made
        transcript.left = "interrupted"
        rc = 130
    finally:
        if args.transcript:
            with open(args.transcript, "w") as f:
                json.dump(transcript.as_json(), f)
        if not transcript.typed:
            pass
        elif args.record == "-":
            print("recorded; add this line to a scenario file:", transcript.as_part(), sep="\n", end="")
        elif args.record:
            with open(args.record, "a") as f:
                f.write(transcript.as_part())
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
