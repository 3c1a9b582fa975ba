"""Replay scenario files on the lab: every client host types its part, then check.

Usage: scripts/replay [-v] SCENARIO [SCENARIO ...]

Brings up a lab of its own (project threadlab-replay on REPLAY_NET.0/24,
10.9.3 by default) with the server and the client hosts the scenarios name.
For each scenario, in turn: a fresh server waits for as many clients as the
scenario names, each client host plays its part at once, and the runner
collects each client's transcript and the server's final value, checks them
(check.verify) and prints a report. Writes out/replay/NAME.json and NAME.svg, the
updates on a timeline, the lost ones in red (threadlab/timeline.py). Tears the lab
down at the end, also on Ctrl-C (REPLAY_OUT names another folder). Exit 0: every scenario passed; 1: one
failed; 2: a scenario file is malformed or names a host the lab lacks; 130: Ctrl-C (SIGTERM, SIGHUP), its
last line "replay: interrupted", once the lab is down.
-v shows what each client prints as it plays.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import check, protocol, scenario

from threadlab import timeline
from threadlab.lab import CLIENTS, IDLE, LISTENING, ROOT, Lab, engine_problem, interrupted, stop_like_ctrl_c

PROJECT = os.environ.get("REPLAY_PROJECT", "threadlab-replay")
NET = os.environ.get("REPLAY_NET", "10.9.3")
OUT = Path(os.environ.get("REPLAY_OUT", ROOT / "out" / "replay"))
SERVICES = {host: service for service, host in CLIENTS.items()}
GRACE = 60  # seconds past a scenario's own length before a client counts as stuck
STUCK_GRACE = 5  # seconds the server then gets to end once a client was stuck


def say(msg):
    print(msg, flush=True)


def refuse(msg):
    """Bad input: one line on stderr, exit 2."""
    print(msg, file=sys.stderr)
    sys.exit(2)


def load(paths):
    """Every scenario, or exit 2 with one line naming what is wrong."""
    scenarios = []
    for path in paths:
        try:
            sc = scenario.load(path)
        except OSError as e:
            refuse(f"replay: {path}: {e.strerror}")
        except scenario.ScenarioError as e:
            refuse(f"replay: {e}")
        for host in sc.hosts:
            if host not in SERVICES:
                refuse(f"replay: {path}:{sc.line[host]}: {host} is not a client host of the lab "
                       f"({', '.join(SERVICES)})")
        scenarios.append(sc)
    return scenarios


def play(lab, sc, verbose, start=None, grace=GRACE, ended=None):
    """Play one scenario on the lab; return its result as a dict.

    For the checker (threadlab/checker.py): start, if given, starts the server instead of
    lab.start("server") (NCLIENTS is set by then); grace is how long past the scenario's own
    length a client, and then the server, may take; ended, if given, runs once the clients end.
    """
    lab.env["NCLIENTS"] = str(len(sc.hosts))
    if start:
        start()
    else:
        lab.start("server")
    text = Path(sc.path).read_text()
    length = max(sum(d for d, _ in sc.steps(h)) for h in sc.hosts)
    players = {}
    for host in sc.hosts:
        players[host] = subprocess.Popen(
            ["docker", "exec", "-i", lab.container(SERVICES[host]), "python3", "clnt.py", "a.b.c", "2000",
             "--play", "-", "--as", host, "--transcript", f"/tmp/{host}.json"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        players[host].stdin.write(text)
        players[host].stdin.close()
    outputs = {host: [] for host in players}
    readers = [threading.Thread(target=read, args=(p.stdout, outputs[h], verbose), daemon=True)
               for h, p in players.items()]
    for r in readers:
        r.start()
    stuck = []
    deadline = time.monotonic() + length + grace  # one bound for them all: stuck clients do not add up
    for host, p in players.items():
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            stuck.append(host)
    for r in readers:
        r.join(timeout=5)
    if ended:
        ended()

    server = lab.container("server")
    try:  # past a stuck client the scenario has failed: a few seconds tell whether a.b.c still ends
        subprocess.run(["docker", "wait", server], capture_output=True, timeout=min(grace, STUCK_GRACE) if stuck else grace)
    except subprocess.TimeoutExpired:
        stuck.append("a.b.c")
    log = lab.logs("server")
    final, waited, started = protocol.final_value(log), None, None
    for line in log.splitlines():
        if LISTENING in line and started is None:
            started = line.strip()  # which variant, on which Python, the GIL on or off
        elif line.startswith("the main thread waited "):
            waited = line
    clients = {}
    for host in sc.hosts:
        r = subprocess.run(["docker", "exec", lab.container(SERVICES[host]), "cat", f"/tmp/{host}.json"],
                           capture_output=True, text=True)
        clients[host] = json.loads(r.stdout) if r.returncode == 0 else {
            "client": host, "echoes": [], "refused": 0, "left": "no transcript"}
        clients[host]["output"] = outputs[host]
    echoes = {h: [tuple(e) for e in c["echoes"]] for h, c in clients.items()}
    problems = [f"{h} did not end" for h in stuck]
    problems += check.verify(echoes, final, sc.expect_final, sc.expect_v)
    return {"scenario": sc.path, "server": started, "clients": clients, "final": final, "main thread": waited,
            "result": "FAIL" if problems else "PASS", "problems": problems}


def read(stream, lines, verbose):
    for line in stream:
        lines.append(line.rstrip("\n"))
        if verbose:
            say("  | " + lines[-1])


def report(result):
    say(f"replay {result['scenario']}: {len(result['clients'])} clients on a.b.c:2000")
    if result.get("server"):
        say(f"  {'a.b.c':<7} {result['server']}")
    for host, c in result["clients"].items():
        echoes = c["echoes"]
        last = f"last v {echoes[-1][1]}" if echoes else "no v"
        refused = f", {c['refused']} {'line' if c['refused'] == 1 else 'lines'} refused" if c["refused"] else ""
        left = {"0": "left with 0", "EOF": "left at end of input"}.get(c["left"], f"ended: {c['left']}")
        say(f"  {host:<7} {len(echoes)} k's sent (sum {sum(k for k, _ in echoes)}){refused}, {last}, {left}")
    say(f"  {'a.b.c':<7} final value {result['final'] if result['final'] is not None else '(none)'}")
    if result["main thread"]:
        say(f"  {'':<7} {result['main thread']}")
    if result["problems"]:
        for p in result["problems"]:
            say(f"  FAIL    {p}")
    else:
        n = sum(len(c["echoes"]) for c in result["clients"].values())
        say(f"  PASS    the final value is the sum of the acknowledged k's; all {n} echoes fit one serial "
            "order; the scenario's expectations hold")


def check_settings():
    """REPLAY_NET and REPLAY_PROJECT as Compose and the engine take them, or exit 2 with one line."""
    octet = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    if not re.fullmatch(rf"{octet}\.{octet}\.{octet}", NET):
        refuse(f"replay: REPLAY_NET must be an address's first three parts, like 10.9.3, not {NET!r}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", PROJECT):
        refuse(f"replay: REPLAY_PROJECT must be lowercase letters, digits, - and _, not {PROJECT!r}")


def main(argv):
    paths = [a for a in argv[1:] if a != "-v"]
    if not paths or any(a.startswith("-") and a != "-v" for a in argv[1:]):
        refuse("usage: scripts/replay [-v] SCENARIO [SCENARIO ...]")
    check_settings()
    scenarios = load(paths)
    if problem := engine_problem():
        refuse(f"replay: {problem}")
    hosts = sorted({h for sc in scenarios for h in sc.hosts}, key=list(SERVICES).index)
    lab = Lab(PROJECT, NET, files=("docker-compose.yml", IDLE))
    stop_like_ctrl_c()
    try:
        OUT.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        refuse(f"replay: REPLAY_OUT {OUT}: {e.strerror}")
    if lab.compose("ps", "-a", "-q").stdout.strip():
        refuse(f"replay: {PROJECT} is up already (another replay?); end it with "
               f"docker compose -p {PROJECT} down, or set REPLAY_PROJECT and REPLAY_NET")
    failed, status, results, stopped = False, None, [], False
    try:
        say(f"replay: bringing up {PROJECT} on {NET}.0/24: a.b.c and {', '.join(hosts)}")
        lab.compose("up", "-d", "--build", "--wait", *(SERVICES[h] for h in hosts))
        for sc in scenarios:
            result = play(lab, sc, "-v" in argv)
            results.append(result)
            report(result)
            out = OUT / (Path(sc.path).stem + ".json")
            out.write_text(json.dumps(result, indent=1) + "\n")
            picture = timeline.write(result, out.with_suffix(".svg"))
            say(f"  transcript: {os.path.relpath(out)}, timeline: {os.path.relpath(picture)}")
            failed |= bool(result["problems"])
    except KeyboardInterrupt:
        stopped = True
    except RuntimeError as e:  # the lab did not come up, or a host ended early
        refusal = lab.refusal()
        print(refusal or f"replay: {str(e).splitlines()[0]}", file=sys.stderr)
        status = 2 if refusal else 1
    finally:
        say(f"replay: tearing down {PROJECT}")
        lab.down()
    if stopped:
        return interrupted("replay")
    if status is None:
        status = 1 if failed else 0
        say(f"replay: {len(results)} scenario{'s' * (len(results) != 1)}, {sum(1 for r in results if r['problems'])} failed")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
