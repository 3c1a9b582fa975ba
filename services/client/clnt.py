"""Matloff's clnt.py in Python 3: send each k typed at the prompt, print each v.

Usage:
    python3 clnt.py server_address port_number
        asks 'input k ' and sends each number typed; 0 (or Ctrl-D, Ctrl-C)
        sends 0 and leaves. v comes back as one byte: past 255 it wraps
        (protocol.py), while the server's final value stays exact.
    python3 clnt.py server_address port_number --play SCENARIO --as HOST
        types HOST's part of a scenario file (scenario.py) instead of a person.
    --transcript FILE    also write each (k, v) to FILE as JSON.
"""

import argparse
import json
import socket
import sys
import time

import protocol
import scenario


class ServerGone(Exception):
    """The server closed the connection or could not be reached."""


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


def run(sock, lines, say, show_v):
    """Send a k for each line until 0 or EOF; return [(k, v), ...]. Bad lines are told and skipped."""
    echoes = []
    for text in lines:
        if text is scenario.EOF:
            say("end of input: sending 0 and leaving")
            sock.sendall(protocol.encode_k(protocol.LEAVE))
            return echoes
        try:
            k = protocol.parse_k(text)
        except ValueError as e:
            say(str(e))
            continue
        sock.sendall(protocol.encode_k(k))
        if k == protocol.LEAVE:
            say("sent 0, leaving")
            return echoes
        d = sock.recv(1)
        if not d:
            raise ServerGone("the server closed the connection")
        v = protocol.decode_v(d)
        echoes.append((k, v))
        show_v(k, v)
    return echoes


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
    ap.add_argument("--transcript", metavar="FILE", help="write each (k, v) to FILE as JSON")
    args = ap.parse_args(argv[1:])
    if args.play:
        if not args.host:
            ap.error("--play needs --as HOST")
        try:
            sc = scenario.load(args.play)
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
    try:
        with connect(args.server_address, args.port_number) as sock:
            sock.settimeout(None)
            echoes = run(sock, lines, say, show_v)
    except (ServerGone, OSError) as e:
        print(f"clnt.py: {e}", file=sys.stderr)
        return 1
    if args.transcript:
        with open(args.transcript, "w") as f:
            json.dump({"client": args.host, "echoes": echoes}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
