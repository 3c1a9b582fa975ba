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
    python3 clnt.py server_address port_number --load C --ks N [--seed S]
        load: C connections at once, each sending N random k's (from seed S)
        one at a time and then 0; prints the round trips per second, and
        with --transcript writes every connection's (k, v)'s.
"""

import argparse
import json
import random
import selectors
import socket
import sys
import time

try:
    from common import protocol, scenario
except ImportError:  # run from the repo as a plain script: services/ is not on the path
    sys.exit("clnt.py: run it with services/ on the path: PYTHONPATH=services python3 services/client/clnt.py HOST PORT")

clock = time.monotonic  # the recorder's: a test gives it a fake one, so that the waits it records are known
ECHO_TIMEOUT = 30  # seconds to wait for a v: the server answers at once unless it is stopped or cut off


class ServerGone(Exception):
    """The server closed the connection or could not be reached."""


class Transcript:
    """What one client typed, sent and got back."""

    def __init__(self, host):
        self.host = host
        self.echoes = []  # (k, v) for each k the server acknowledged
        self.start = time.time()  # when the client started, by the clock every host shares
        self.times = []  # for each echo, when it came back: monotonic seconds since start
        self.refused = 0  # lines that were not a k
        self.left = None  # "0", "EOF", or why the connection ended
        self.typed = []  # (seconds since the previous line, text or EOF): the recording
        self.started = time.monotonic()
        self.last = clock()

    def type(self, text):
        now = clock()
        self.typed.append((now - self.last, text))
        self.last = now

    def as_json(self):
        return {"client": self.host, "echoes": self.echoes, "refused": self.refused, "left": self.left,
                "start": self.start, "t": [round(t, 6) for t in self.times]}

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
        transcript.times.append(time.monotonic() - transcript.started)
        show_v(k, v)


def load(host, port, connections, nks, seed):
    """connections clients at once on one thread, each sending nks random k's, one at a time, then 0.

    Returns {"ADDRESS:PORT": [(k, v), ...]} for every connection, named as the server names it.
    """
    rng = random.Random(seed)
    plans, echoes = {}, {}
    sel = selectors.DefaultSelector()
    try:
        for i in range(connections):
            sock = connect(host, port)
            sock.setblocking(False)
            who = "%s:%d" % sock.getsockname()[:2]  # as the server names this client
            plans[who] = [rng.randint(1, protocol.MAX_K) for _ in range(nks)]
            echoes[who] = []
            sel.register(sock, selectors.EVENT_READ, who)
        for key in list(sel.get_map().values()):
            key.fileobj.send(protocol.encode_k(plans[key.data][0]))
        while sel.get_map():
            events = sel.select(ECHO_TIMEOUT)
            if not events:
                raise ServerGone(f"no v on any of {len(sel.get_map())} connections within {ECHO_TIMEOUT} s")
            for key, _ in events:
                sock, who = key.fileobj, key.data
                d = sock.recv(2)
                if len(d) != 1:
                    raise ServerGone(f"{who}: the server closed the connection" if not d else
                                     f"{who}: {len(d)} bytes back for one k")
                mine = echoes[who]
                mine.append((plans[who][len(mine)], d[0]))
                if len(mine) < nks:
                    sock.send(protocol.encode_k(plans[who][len(mine)]))
                else:
                    sel.unregister(sock)
                    sock.setblocking(True)
                    sock.sendall(protocol.encode_k(protocol.LEAVE))
                    sock.close()
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()
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
    ap.add_argument("--as", dest="host", metavar="HOST", default=socket.gethostname(),
                    help="whose part of the scenario to play (this host's name)")
    ap.add_argument("--transcript", metavar="FILE", help="write what happened to FILE as JSON")
    ap.add_argument("--record", metavar="FILE", help="append what is typed by hand to FILE as a scenario part")
    ap.add_argument("--load", type=int, metavar="C", help="load: C connections at once")
    ap.add_argument("--ks", type=int, default=100, metavar="N", help="with --load: k's each connection sends")
    ap.add_argument("--seed", type=int, default=0, help="with --load: the seed of the random k's")
    args = ap.parse_args(argv[1:])
    if args.load is not None:
        return main_load(args, ap)
    if args.play and args.record:
        ap.error("--record records typing by hand; it does not go with --play")
    if args.play:
        try:
            sc = scenario.parse(sys.stdin.read(), "<stdin>") if args.play == "-" else scenario.load(args.play)
        except (OSError, scenario.ScenarioError) as e:
            print(f"clnt.py: {args.play}: {e.strerror}" if isinstance(e, OSError) else f"clnt.py: {e}", file=sys.stderr)
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
    transcript = Transcript(args.host)
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
        if args.record == "-" and transcript.typed:
            print("recorded; add this line to a scenario file:", transcript.as_part(), sep="\n", end="")
        elif args.record and transcript.typed:
            with open(args.record, "a") as f:
                f.write(transcript.as_part())
    return rc


def main_load(args, ap):
    if args.play or args.record:
        ap.error("--load does not go with --play or --record")
    if args.load < 1 or args.ks < 1:
        ap.error("--load and --ks take a number at least 1")
    name = args.host
    start = time.perf_counter()
    try:
        echoes = load(args.server_address, args.port_number, args.load, args.ks, args.seed)
    except (ServerGone, OSError) as e:
        print(f"clnt.py: {e}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    trips = sum(len(e) for e in echoes.values())
    print(f"{name}: {args.load} connections x {args.ks} k's: {trips} round trips in {seconds:.2f} s "
          f"({trips / seconds:.0f}/s); the k's add up to {sum(e[0] for c in echoes.values() for e in c)}")
    if args.transcript:
        with open(args.transcript, "w") as f:
            json.dump({"client": name, "connections": echoes}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
