"""The server checks, one function per kind of checks.toml: each returns its PASS reason or raises CheckFailed.

The scenario kinds play through threadlab.replay.play (the serial-order check and the scenario's
expectations, common.check.verify), with the checker's own start: the submission need not print
the lab's "listening on port" line.
"""

import dataclasses
import re
import subprocess
import time

from common import check as order
from common import protocol

from threadlab import replay
from threadlab.checker.run import PORT, CheckFailed, as_text
from threadlab.lab import CLIENTS

SERVICES = {host: service for service, host in CLIENTS.items()}
FINAL_LINE = re.compile(rf"{protocol.FINAL} (\d+)")
FLOOD_HOSTS = ["client2", "client3", "client4", "client5"]


def scenario_file(lab, check):
    """The check's scenario, as a file play() can read: inline text is written beside the submission's copy."""
    path = lab.work / f"{check.name}.scn"
    path.write_text(check.scenario_text)
    return dataclasses.replace(check.scenario, path=str(path))


def play(lab, check, nclients=None, start=None, ended=None):
    """play() the check's scenario on a fresh server; the result dict, with its clients' output in the log."""
    sc = scenario_file(lab, check)
    lab.clear_transcripts(sc.hosts)
    result = replay.play(lab.lab, sc, False, start=start or (lambda: lab.start_server(nclients)),
                         grace=check.time, ended=ended)
    for host, c in result["clients"].items():
        lab.note(f"--- {host}: {len(c['echoes'])} echoes, left: {c['left']} ---")
        out = c.get("output", [])
        lab.note("\n".join(out if len(out) <= 60 else [*out[:30], f"... {len(out) - 60} lines ...", *out[-30:]]))
    lab.note(f"final value: {result['final']}; problems: {result['problems'] or 'none'}")
    return sc, result


def echoes_of(result):
    return {h: [tuple(e) for e in c["echoes"]] for h, c in result["clients"].items()}


def fail_on(problems):
    if problems:
        more = f" (and {len(problems) - 1} more in the log)" if len(problems) > 1 else ""
        raise CheckFailed(problems[0] + more)


def summary(result):
    n = sum(len(c["echoes"]) for c in result["clients"].values())
    return f"final value {result['final']}, the sum of the acknowledged k's; all {n} echoes fit one serial order"


def hold(lab, service, k, check):
    """A peer on service's host holding one connection open: it sends k to the fresh server and must get v = k.
    (Popen, Lines); the peer is killed if that fails."""
    host = CLIENTS[service]
    p, lines = lab.peer(service, "hold", "a.b.c", str(PORT), str(k))
    try:
        first = lines.next(check.time, f"{host}'s first k")
        if first.get("v") != k:
            raise CheckFailed(f"{host} sent k = {k} to a fresh server and got v = {first.get('v')}")
    except BaseException:
        p.kill()
        raise
    return p, lines


def k_scenario(lab, check):
    sc, result = play(lab, check, nclients=check.get("nclients"))
    if result["problems"]:
        result["problems"][0] += as_text("v", [v for echoes in echoes_of(result).values() for _, v in echoes])
    fail_on(result["problems"])
    if check.get("final_line"):
        lines = lab.server_log().rstrip("\n").split("\n")
        if not FINAL_LINE.fullmatch(lines[-1]):
            raise CheckFailed(f"the server's last line is {lines[-1][:80]!r}, not exactly "
                              f"'{protocol.FINAL} {result['final']}'")
        return f"the last line is exactly '{lines[-1]}'"
    return summary(result)


def k_rude(lab, check):
    box = {}

    def start():
        lab.start_server()
        p, lines = lab.peer("client3", "rude", "a.b.c", str(PORT))
        done = []
        try:
            for _ in range(4):
                done.append(lines.next(check.time, f"the rude peers, after {', '.join(done) or 'none'}")["done"])
        finally:
            p.kill()
            lab.note(f"--- rude peers on r.s.t: {', '.join(done)} ---")
        box["silent"] = lab.peer("client3", "silent", "a.b.c", str(PORT))
        box["silent"][1].next(check.time, "the silent connection")
        running, code, _ = lab.server_state()
        if not running:
            raise CheckFailed(f"the server ended (exit {code}) after the rude peers: {_last(lab.server_log())}")

    def ended():
        p, lines = box["silent"]
        p.stdin.write("\n")
        p.stdin.flush()
        lines.next(10, "closing the silent connection")

    try:
        _, result = play(lab, check, start=start, ended=ended)
    finally:
        if "silent" in box:
            box["silent"][0].kill()
    fail_on(result["problems"])
    return "a probe, a reset, a burst, an HTTP request and a silent connection came and went; " + summary(result)


def k_lost(lab, check):
    how = check.get("how")
    box = {}

    def start():
        lab.start_server(nclients=len(check.scenario.hosts) + 1)
        box["victim"] = hold(lab, "client5", 4, check)
        box["echo"] = (4, 4)
        victim = lab.container("client5")
        if how == "kill":
            subprocess.run(["docker", "kill", victim], capture_output=True, check=True)
        else:
            subprocess.run(["docker", "network", "disconnect", f"{lab.lab.project}_lab", victim],
                           capture_output=True, check=True)
        lab.note(f"--- l.m.n joined with k = 4, then its host was {'killed' if how == 'kill' else 'cut off'} ---")

    def ended():
        if how == "disconnect":  # the server cannot tell a cut-off client from a slow one: stop it
            subprocess.run(["docker", "kill", lab.server], capture_output=True)

    try:
        _, result = play(lab, check, start=start, ended=ended)
    finally:
        if "victim" in box:
            box["victim"][0].kill()
        lab.restore("client5")
    echoes = echoes_of(result)
    stuck = [p for p in result["problems"] if p.endswith(" did not end") and not p.startswith("a.b.c")]
    if how == "disconnect":
        problems = stuck
        try:
            order.serial_order({**echoes, "l.m.n": [box["echo"]]})
        except order.OrderError as e:
            problems.append(str(e))
        fail_on([f"with l.m.n cut off: {p}" for p in problems])
        n = sum(len(e) for e in echoes.values())
        return f"with l.m.n cut off, the others were served: all {n} echoes fit one serial order"
    problems = stuck + order.verify({**echoes, "l.m.n": [box["echo"]]}, result["final"])
    if "a.b.c did not end" in result["problems"]:
        problems.insert(0, "the server did not end after l.m.n's host was killed and the others left")
    fail_on(problems)
    return f"l.m.n's host killed: the others were served and the server ended with {result['final']}, exact"


def k_sigterm(lab, check):
    lab.start_server(nclients=2)
    p, lines = hold(lab, "client1", 11, check)
    try:
        start = time.monotonic()
        subprocess.run(["docker", "stop", "-t", str(int(check.time)), lab.server], capture_output=True,
                       timeout=check.time + 30)
        seconds = time.monotonic() - start
    finally:
        p.kill()
    running, code, _ = lab.server_state()
    lab.note(f"docker stop: {seconds:.2f} s, exit code {code}")
    if running or code == 137:
        raise CheckFailed(f"SIGTERM did not end the server: docker killed it after {check.time:g} s")
    return f"SIGTERM ended the server in {seconds:.1f} s (exit {code})"


def k_flood(lab, check):
    n = check.get("connections")
    lab.start_server(nclients=1)
    holder, said = hold(lab, "client1", 1, check)
    try:
        shares = [n // len(FLOOD_HOSTS) + (i < n % len(FLOOD_HOSTS)) for i in range(len(FLOOD_HOSTS))]
        floods = [lab.peer(s, "flood", "a.b.c", str(PORT), str(share), str(check.time))
                  for s, share in zip(FLOOD_HOSTS, shares) if share]
        counts = {"opened": 0, "served": 0, "refused": 0, "hung": 0}
        stalled = None
        for p, lines in floods:
            got = lines.next(check.time + 30, "a flood peer")
            for key in counts:
                counts[key] += got.get(key, 0)
            stalled = stalled or got.get("stalled")
        lab.note(f"--- {n} connections at once: {counts} ---")
        running, code, oom = lab.server_state()
        if not running:
            raise CheckFailed(f"the server died under {n} connections at once (exit {code}{', out of memory' if oom else ''})")
        if counts["hung"]:
            when = f"and none was answered for {stalled:g} s" if stalled else f"within {check.time:g} s"
            raise CheckFailed(f"{counts['hung']} of {n} connections got neither a v nor a close {when} "
                              f"({counts['served']} served, {counts['refused']} refused)")
        holder.stdin.write("2\n")
        holder.stdin.flush()
        second = said.next(check.time, "u.v.w's k after the flood")
        want = 1 + counts["served"] + 2
        if second.get("v") != want % 256:
            raise CheckFailed(f"after the flood u.v.w's k = 2 got v = {second.get('v')}; "
                              f"1 + {counts['served']} served + 2 is {want} (mod 256: {want % 256})")
        holder.stdin.write("\n")
        holder.stdin.flush()
        said.next(check.time, "u.v.w leaving")
    finally:
        holder.kill()
    if not lab.wait_server(check.time):
        raise CheckFailed(f"the server did not end within {check.time:g} s after its last client left")
    final = protocol.final_value(lab.server_log())
    if final != want:
        raise CheckFailed(f"the final value is {final}, not {want} (3 from u.v.w + {counts['served']} served)")
    return (f"{n} at once: {counts['served']} served, {counts['refused']} refused, none left hanging; "
            f"the server served u.v.w after and ended with {final}, exact")


def k_threads(lab, check):
    box = {}

    def start():
        lab.start_server(nclients=len(check.scenario.hosts) + 1)
        box["holder"] = hold(lab, "client8", 1, check)
        box["one"] = lab.threads()

    def ended():
        deadline = time.monotonic() + check.time
        while (after := lab.threads()) is not None and after > box["one"] and time.monotonic() < deadline:
            time.sleep(0.1)
        box["after"] = after
        p, lines = box["holder"]
        p.stdin.write("\n")
        p.stdin.flush()
        lines.next(check.time, "d.e.f leaving")

    try:
        _, result = play(lab, check, start=start, ended=ended)
    finally:
        if "holder" in box:
            box["holder"][0].kill()
    lab.note(f"threads with d.e.f alone: {box.get('one')}; after the others left: {box.get('after')}")
    problems = [p for p in result["problems"] if p.endswith(" did not end")]
    problems += order.verify({**echoes_of(result), "d.e.f": [(1, 1)]}, result["final"])
    fail_on(problems)
    if box["after"] is None:
        raise CheckFailed("could not count the server's threads (/proc/PID/task): no Python process in its host")
    n = len(check.scenario.hosts)
    if box["after"] > box["one"]:
        raise CheckFailed(f"threads left behind: {box['one']} with one client, still {box['after']} "
                          f"{check.time:g} s after {n} more came and went")
    return f"{box['one']} threads with one client, {box['after']} after {n} more came and went"


def _last(text):
    lines = [x for x in text.splitlines() if x.strip()]
    return lines[-1].strip() if lines else "no output"


KINDS = {"scenario": k_scenario, "rude": k_rude, "lost": k_lost, "sigterm": k_sigterm, "flood": k_flood,
         "threads": k_threads}
