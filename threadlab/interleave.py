"""The race of srvr.py lines 26-28, one byte-code instruction at a time (issue 12, part 3).

Two clients run through the server's real update, server.srvr.Tally.add, in two
threads, under a scheduler of the lab's own: sys.settrace with opcode events
stops each thread before every instruction of Tally.add, one thread runs at a
time, and the scheduler says who executes the next instruction. The tutorial's
example: v = 12, client 0 adds 3, client 1 adds 9; v ends at 24, or at 15 or 21
when an update is lost. With --lock on, tally.vlock is a lock that hands the
turn back to the scheduler where a real one would block: a thread waiting for
it cannot be scheduled until the lock is released.

The search tries a switch only before an instruction that reads or writes v or
calls into vlock: the others touch only the thread's locals, or state no thread
writes, so moving a switch across them changes nothing (a partial-order
reduction). Every schedule it counts is a real run of Tally.add.

Run:  scripts/interleave                     every schedule, and one that loses, step by step
      scripts/interleave --lock on           the same with the lock: none loses
      scripts/interleave --ks 3 [--bound 2]  three adds each: at most 2 preemptions a schedule
      scripts/interleave --schedule 0*13,1*22   client 0 runs 13 instructions, then client 1 22
      scripts/interleave --pick              asks at each step: run client 0 or 1?
      scripts/interleave --dis               the byte code, and where CPython may switch threads
      scripts/interleave --measure N         two real threads, N unlocked adds each, under the GIL
"""

import argparse
import dis
import math
import os
import sys
import threading
from collections import Counter

from server import srvr

from threadlab.lab import interrupted

CODE = srvr.Tally.add.__code__  # the real function's code: nothing here copies it
INSTR = {i.offset: i for i in dis.get_instructions(srvr.Tally.add)}
START, KS = 12, (3, 9)

# Where the eval loop tests eval_breaker, the flag a GIL drop request sets: the only places another
# thread can take over between two instructions of pure Python code. 3.11: Python/ceval.c, the
# CHECK_EVAL_BREAKER() macro in these TARGET()s, and RESUME_QUICK's own test (oparg < 2).
CHECKPOINTS = {(3, 11): {"RESUME", "JUMP_BACKWARD", "POP_JUMP_BACKWARD_IF_FALSE", "POP_JUMP_BACKWARD_IF_TRUE",
                         "POP_JUMP_BACKWARD_IF_NONE", "POP_JUMP_BACKWARD_IF_NOT_NONE", "CALL", "CALL_FUNCTION_EX"}}


def lock_calls():
    """{offset: method} for the CALLs of Tally.add into tally.vlock's acquire and release."""
    calls, method = {}, None
    for i in INSTR.values():
        if i.opname in ("LOAD_METHOD", "LOAD_ATTR") and i.argval in ("acquire", "release"):
            method = i.argval
        elif i.opname == "CALL" and method:
            calls[i.offset], method = method, None
    return calls


LOCKCALLS = lock_calls()


def mark(offset):
    """R if the instruction reads v, W if it writes v, L if it calls into vlock, else ''."""
    i = INSTR[offset]
    if i.argval == "v" and i.opname in ("LOAD_ATTR", "STORE_ATTR"):
        return "R" if i.opname == "LOAD_ATTR" else "W"
    return "L" if offset in LOCKCALLS else ""


def show(offset):
    return f"{offset:4} {INSTR[offset].opname} {INSTR[offset].argrepr}".rstrip()


class BadInput(Exception):
    pass


class Abort(BaseException):
    """Raised in a client's thread to end a run early."""


class SchedLock:
    """tally.vlock for a run: where a real lock would block, it hands the turn back to the scheduler."""

    def __init__(self, run):
        self.run, self.owner = run, None

    def acquire(self):
        while self.owner is not None:
            self.run.pause("blocked")
        self.owner = self.run.local.c
        return True

    def release(self):
        self.owner = None


class Run:
    """One execution of both clients through Tally.add, one instruction a step."""

    def __init__(self, lock, ks):
        executed()  # 3.12+ instruments a code object for tracing late, on its first traced run: run it once
        self.tally = srvr.Tally(2, lock=lock)
        self.tally.v, self.tally.vlock = START, SchedLock(self)
        self.cv, self.local = threading.Condition(), threading.local()
        self.state, self.pc, self.turn, self.abort = ["start", "start"], [None, None], None, False
        self.steps = []  # (client, offset, note)
        self.threads = [threading.Thread(target=self.client, args=(c, ks), daemon=True) for c in (0, 1)]
        for c, t in enumerate(self.threads):  # one at a time: each runs up to its first instruction of add
            t.start()
            with self.cv:
                self.cv.wait_for(lambda: self.state[c] != "start")

    def client(self, c, ks):
        self.local.c = c
        sys.settrace(self.trace)
        try:
            for _ in range(ks):
                self.tally.add(KS[c], f"client {c}")
        except Abort:
            pass
        finally:
            sys.settrace(None)
            with self.cv:
                self.state[c] = "done"
                self.cv.notify_all()

    def trace(self, frame, event, arg):
        if frame.f_code is not CODE:
            return None  # what add calls (log.isEnabledFor) runs untraced, in the step of its CALL
        frame.f_trace_opcodes, frame.f_trace_lines = True, False
        return self.opcode

    def opcode(self, frame, event, arg):
        if event == "opcode":  # before each instruction of Tally.add
            self.pause("at", frame.f_lasti)
        return self.opcode

    def pause(self, state, pc=None):
        """In a client's thread: say where it stands, and wait for its turn."""
        c = self.local.c
        with self.cv:
            self.state[c], self.pc[c] = state, self.pc[c] if pc is None else pc
            self.cv.notify_all()
            self.cv.wait_for(lambda: self.turn == c or self.abort)
            if self.abort:
                raise Abort
            self.turn, self.state[c] = None, "running"

    def enabled(self):
        free = self.tally.vlock.owner is None
        return [c for c in (0, 1) if self.state[c] == "at" or (self.state[c] == "blocked" and free)]

    def visible_next(self, c):
        return self.state[c] == "blocked" or bool(mark(self.pc[c]))

    def step(self, c):
        """Let client c execute its next instruction, and record what it did."""
        was, offset, before = self.state[c], self.pc[c], self.tally.v
        with self.cv:
            self.turn, self.state[c] = c, "running"
            self.cv.notify_all()
            self.cv.wait_for(lambda: self.state[c] != "running")
        m, owner = mark(offset), self.tally.vlock.owner
        if was == "blocked":
            note = "vlock is free: acquires it"
        elif self.state[c] == "blocked":
            note = f"blocked: client {owner} holds vlock"
        elif m == "L":
            note = "acquires vlock" if owner == c else "releases vlock"
        else:
            note = {"R": f"reads v = {before}", "W": f"writes v = {self.tally.v}"}.get(m, "")
        self.steps.append((c, offset, note))

    def close(self):
        with self.cv:
            self.abort = True
            self.cv.notify_all()
        for t in self.threads:
            t.join()


def execute(lock, ks, choose, echo=False):
    """Run both clients to the end; choose(run, enabled, previous) names who executes each instruction."""
    run, previous = Run(lock, ks), None
    try:
        while enabled := run.enabled():
            previous = choose(run, enabled, previous)
            run.step(previous)
            if echo:
                print(format_step(len(run.steps), *run.steps[-1]))
    finally:
        run.close()
    return run


def explore(lock, ks, bound=None):
    """Every schedule with at most bound preemptions (None: all): [(run, preemptions)], and how many the bound cut."""
    done, todo, cut = [], [[]], 0
    while todo:
        prefix, branches = todo.pop(), []  # (enabled, chosen, chosen before) at each switch point

        def choose(run, enabled, previous):
            quiet = [c for c in enabled if not run.visible_next(c)]
            if quiet:  # its next instruction touches no shared state: no switch to try before it
                return previous if previous in quiet else quiet[0]
            n, last = len(branches), branches[-1][1] if branches else None
            c = prefix[n] if n < len(prefix) else (last if last in enabled else enabled[0])
            branches.append((enabled, c, last))
            return c

        run = execute(lock, ks, choose)
        switches = [c != last and last in en for en, c, last in branches]  # a preemption: last could go on
        done.append((run, sum(switches)))
        for n in range(len(prefix), len(branches)):
            enabled, chosen, last = branches[n]
            for alt in (a for a in enabled if a != chosen):
                if bound is None or sum(switches[:n]) + (last in enabled) <= bound:
                    todo.append([b[1] for b in branches[:n]] + [alt])
                else:
                    cut += 1
    return done, cut


def format_step(n, c, offset, note):
    return f"{n:4}  client {c}  {show(offset):30} {note}".rstrip()


def tell(run, ks):
    """A run the way the tutorial tells it, instruction by instruction."""
    print(f"v = {START}, client 0 sends {KS[0]}, client 1 sends {KS[1]}" + (f", {ks} times each" if ks > 1 else ""))
    for n, s in enumerate(run.steps, 1):
        print(format_step(n, *s))
    ending(run.tally.v, ks)


def ending(got, ks):
    want = START + ks * sum(KS)
    if got == want:
        print(f"v ends at {got}: nothing lost")
    elif ks == 1:
        print(f"v ends at {got}, not {want}: client {0 if got == START + KS[1] else 1}'s update is lost")
    else:
        print(f"v ends at {got}, not {want}: {want - got} is lost")


def search(lock, ks, bound):
    runs, cut = explore(lock, ks, bound)
    want = START + ks * sum(KS)
    lost = [(p, r.tally.v != START + KS[0], i, r) for i, (r, p) in enumerate(runs) if r.tally.v != want]
    print(f"Tally.add, v = {START}: client 0 adds {KS[0]}, client 1 adds {KS[1]}, {ks} time(s) each,"
          f" lock {'on' if lock else 'off'}")
    if bound is None:
        print("search: every schedule (no preemption bound)")
    else:
        print(f"search: bounded, at most {bound} preemption(s) per schedule, counted as CHESS counts them: only at "
              "an instruction that touches v or the lock (a switch elsewhere changes nothing)")
        print(f"  {f'{cut} branch(es) past the bound not run' if cut else 'every schedule is within the bound'}")
    print("  a switch is tried before each instruction that reads or writes v or calls into vlock")
    print(f"schedules: {len(runs)}, lost an update: {len(lost)}")
    print("  final v: " + ", ".join(f"{v} x{n}" for v, n in sorted(Counter(r.tally.v for r, _ in runs).items())))
    if not lock and ks == 1:
        n = [sum(1 for c, _, _ in runs[0][0].steps if c == x) for x in (0, 1)]
        print(f"  as single instructions: C({sum(n)},{n[0]}) = {math.comb(sum(n), n[0])} interleavings;")
        print(f"  each ends as one of these {len(runs)} does: only the order of the reads and writes of v counts")
    if lost:
        print(f"\none that loses, with the fewest preemptions ({min(lost)[0]}):")
        tell(min(lost)[3], ks)


def parse_schedule(text):
    picks = []
    for part in text.split(","):
        c, _, times = part.strip().partition("*")
        if c not in ("0", "1") or (times and not (times.isdigit() and int(times) > 0)):
            raise BadInput(f"--schedule: {part.strip()!r} is neither 0, 1 nor client*count (like 0*13)")
        picks += [int(c)] * int(times or 1)
    return picks


def hand(lock, ks, picks=None):
    """Run the clients in the order picks gives (None: ask at each step), printing each step."""
    picks, ended = None if picks is None else iter(picks), []

    def choose(run, enabled, previous):
        n = len(run.steps) + 1
        c = ask(run, enabled, n) if picks is None else next(picks, None)
        if c is None:
            if not ended:
                ended.append(print("      (the schedule ends: the rest runs without a switch)"))
            return previous if previous in enabled else enabled[0]
        if run.state[c] == "done":
            raise BadInput(f"step {n}: client {c} has finished")
        if c not in enabled:
            raise BadInput(f"step {n}: client {c} is blocked: client {1 - c} holds vlock")
        return c

    print(f"v = {START}, client 0 sends {KS[0]}, client 1 sends {KS[1]}" + (f", {ks} times each" if ks > 1 else ""))
    run = execute(lock, ks, choose, echo=True)
    ending(run.tally.v, ks)
    return run


def ask(run, enabled, n):
    if len(enabled) == 1:
        return enabled[0]
    for c in enabled:
        print(f"      client {c} next: {'vlock.acquire again' if run.state[c] == 'blocked' else show(run.pc[c])}")
    while True:
        print(f"step {n}: run client 0 or 1? ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            raise BadInput(f"--pick: the input ended at step {n}")
        if line.strip() in ("0", "1"):
            return int(line)
        if not sys.stdin.isatty():
            raise BadInput(f"--pick: step {n}: {line.strip()!r} is not 0 or 1")
        print("answer 0 or 1", file=sys.stderr)


def executed(race_yield=False):
    """The offsets of the instructions of Tally.add that one unlocked add executes, in order."""
    seen = []

    def opcode(frame, event, arg):
        seen.append(frame.f_lasti) if event == "opcode" else None
        return opcode

    def trace(frame, event, arg):
        if frame.f_code is CODE:
            frame.f_trace_opcodes = True
            return opcode

    sys.settrace(trace)
    try:
        srvr.Tally(2, lock=False, race_yield=race_yield).add(1)
    finally:
        sys.settrace(None)
    return seen


def switch_points():
    """Print Tally.add's byte code, marking the eval breaker check points, and those between the read and the write."""
    points, version = CHECKPOINTS.get(sys.version_info[:2]), sys.version.split()[0]
    print(f"byte code of server.srvr.Tally.add ({CODE.co_filename}:{CODE.co_firstlineno}), Python {version}")
    print("R reads v, W writes v, L calls into vlock, * eval breaker check: where another thread may take over")
    for off, i in INSTR.items():
        print(f"  {mark(off) or ' '}{'*' if points and i.opname in points else ' '} {show(off)}")
    if points is None:
        return print(f"no table of check points for Python {version}: only 3.11's ceval.c is read")
    for race_yield in (False, True):
        path = executed(race_yield)
        r, w = next(o for o in path if mark(o) == "R"), next(o for o in path if mark(o) == "W")
        between = path[path.index(r) + 1:path.index(w)]
        hits = [show(o).strip() for o in between if INSTR[o].opname in points]
        print(f"race_yield {'on' if race_yield else 'off'}: between the read of v ({r}) and the write ({w})")
        print(f"  {len(between)} instructions run; check points among them: {', '.join(hits) or 'none'}")


def measure(n):
    """Two OS threads, n unlocked Tally.add(1) each, switch interval 1 microsecond: count the lost updates."""
    sys.setswitchinterval(1e-6)
    gil = getattr(sys, "_is_gil_enabled", None)
    print(f"Python {sys.version.split()[0]} ({sys.implementation.name}), GIL {'on' if gil is None or gil() else 'off'}"
          + ("" if gil else " (no sys._is_gil_enabled: not a free-threaded build)"))
    print(f"switch interval {sys.getswitchinterval():g} s")
    for race_yield, count in ((False, n), (True, min(n, 2000))):
        tally, start, turns = srvr.Tally(2, lock=False, race_yield=race_yield), threading.Barrier(2), [0, 0]

        def work(me):
            start.wait()
            before = 0
            for _ in range(count):
                v = tally.add(1)
                turns[me] += v != before + 1  # the other thread added in between
                before = v

        # daemon: on Ctrl-C the main thread leaves the join, and the process ends without waiting for the adds
        threads = [threading.Thread(target=work, args=(me,), daemon=True) for me in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"2 threads x {count} Tally.add(1), lock off" + (", race_yield on (time.sleep(0) between the read"
              " and the write)" if race_yield else "") + f": v = {tally.v}, lost {2 * count - tally.v}")
        if not race_yield:  # where updates get lost, the v an add returns cannot tell the turns
            print(f"  the threads took turns {sum(turns)} times (an add returned not 1 more than the last)")


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise BadInput(message)


def main(argv=None):
    p = Parser(prog="interleave", description=__doc__.splitlines()[0])
    p.add_argument("--lock", choices=("on", "off"), default="off", help="use tally.vlock (default off)")
    p.add_argument("--ks", type=int, default=1, help="adds per client (default 1)")
    p.add_argument("--bound", type=int, help="preemptions a schedule may have (default: none for --ks 1, else 2)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--schedule", help="who runs each step, like 0,0,1 or 0*13,1*22")
    mode.add_argument("--pick", action="store_true", help="ask at each step who runs")
    mode.add_argument("--dis", action="store_true", help="the byte code and its eval breaker check points")
    mode.add_argument("--measure", type=int, metavar="N", help="two real threads, N unlocked adds each")
    try:
        a = p.parse_args(argv)
        for name, value, low, high in (("--ks", a.ks, 1, 10), ("--bound", a.bound, 0, 99),
                                       ("--measure", a.measure, 1, 10**8)):
            if value is not None and not low <= value <= high:
                raise BadInput(f"{name} must be from {low} to {high}, not {value}")
        lock = a.lock == "on"
        if a.dis:
            switch_points()
        elif a.measure:
            measure(a.measure)
        elif a.schedule is not None or a.pick:
            hand(lock, a.ks, None if a.pick else parse_schedule(a.schedule))
        else:
            search(lock, a.ks, a.bound if a.bound is not None or a.ks == 1 else 2)
    except BadInput as e:
        print(f"interleave: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return interrupted("interleave")
    except BrokenPipeError:  # | head: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
