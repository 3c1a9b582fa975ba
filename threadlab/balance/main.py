"""scripts/balance: run the threaded sieve many times and show how the work spreads between its threads.

Usage: scripts/balance [--quick] [--local] [--runs R] [--n N,...] [--threads T,...]
                       [--switch S,...] [--variants V,...] [--out DIR]

For every variant, n, thread count and switch interval, runs the sieve R
times and prints, per setting, the busiest thread's share of the k's (the
tutorial's "processed nk values of k", section 5.2), mean over the runs, and
in how many runs one thread did the whole job. Writes balance.png (the same
as a plot) and balance.json (every run's work) into BALANCE_OUT (out/balance);
--quick writes balance-quick.png and .json, and leaves the full run's alone.

Where it runs: in the lab's sieve host by default, a container of a lab of
its own (project BALANCE_PROJECT, threadlab-balance, on BALANCE_NET.0/24,
10.9.6 by default), torn down at the end, also on failure or Ctrl-C: the
lab's Python and its GIL, whatever Python this machine has. --local: in this
machine's Python instead, without Docker.

Defaults: the variants thread, threading-loop and threading; n 100, 10000,
100000, 1000000 (the tutorial's runs); 2 and 4 threads; switch intervals
0.00001, 0.005 (Python's default) and 0.1 s; 10 runs: about a minute.
--quick: n 100, 10000, 100000, 2 threads, 0.005 and 0.1 s, 3 runs: seconds.
Exit 0: measured; 1: a run gave a wrong count or failed; 2: bad arguments; 130: Ctrl-C.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import threading
from pathlib import Path

from common import settings
from sieve import variants as sieve_variants

from threadlab.balance import report as balance_report
from threadlab.lab import ROOT, Lab, interrupted, stop_like_ctrl_c

PROJECT = os.environ.get("BALANCE_PROJECT", "threadlab-balance")
NET = os.environ.get("BALANCE_NET", "10.9.6")
OUT = Path(os.environ.get("BALANCE_OUT", ROOT / "out" / "balance"))
PRIMES = {**sieve_variants.TUTORIAL, 10**7: 664579}  # the tutorial's table, and 10^7
MAX_N = 10**7  # the thread variant's list: 80 MB, and seconds a run
TIMEOUT = 900  # seconds for the whole measurement: a run that takes longer is stuck
DEFAULTS = {"variants": ["thread", "threading-loop", "threading"], "n": [100, 10000, 100000, 1000000],
            "threads": [2, 4], "switch": [0.00001, 0.005, 0.1], "runs": 10}
QUICK = {"variants": DEFAULTS["variants"], "n": [100, 10000, 100000], "threads": [2], "switch": [0.005, 0.1],
         "runs": 3}


class Refused(Exception):
    """Bad arguments: one line, exit 2."""


class Failed(Exception):
    """A run failed or gave a wrong answer: one line, exit 1."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Refused(message)


def number(kind, what, low, high, word):
    """word as a kind from low to high (common.settings.number), or ArgumentTypeError naming what it is."""
    try:
        return settings.number(what, word, kind, low, high)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def listed(kind, what, low, high):
    """A comma-separated list of numbers of kind, each from low to high, without repeats."""
    return lambda text: list(dict.fromkeys(number(kind, what, low, high, w) for w in text.split(",")))


def variants(text):
    names = text.split(",")
    for name in names:
        if name not in sieve_variants.VARIANTS:
            raise argparse.ArgumentTypeError(f"variants are {', '.join(sieve_variants.VARIANTS)}, not {name!r}")
    return list(dict.fromkeys(names))


def parse(argv):
    ap = Parser(prog="scripts/balance", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small and quick: a check that it all works")
    ap.add_argument("--local", action="store_true", help="run in this machine's Python, not in the lab's sieve host")
    ap.add_argument("--runs", type=lambda w: number(int, "runs", 1, 99, w), help="runs of each setting (10; quick 3)")
    ap.add_argument("--n", type=listed(int, "n", 2, MAX_N), help="count primes up to these (100,10000,100000,1000000)")
    ap.add_argument("--threads", type=listed(int, "threads", 1, 64), help="thread counts (2,4)")
    ap.add_argument("--switch", type=listed(float, "switch intervals", 1e-6, 1.0),
                    help="switch intervals in seconds (0.00001,0.005,0.1)")
    ap.add_argument("--variants", type=variants, help=f"sieve variants ({','.join(DEFAULTS['variants'])})")
    ap.add_argument("--out", type=Path, default=OUT, help="where balance.png and balance.json go (out/balance)")
    args = ap.parse_args(argv[1:])
    base = QUICK if args.quick else DEFAULTS
    for key in base:
        if getattr(args, key) is None:
            setattr(args, key, base[key])
    return args


def say(msg=""):
    print(msg, flush=True)


def relative(path):
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def runner_args(args):
    return ["--variants", ",".join(args.variants), "--n", ",".join(map(str, args.n)),
            "--threads", ",".join(map(str, args.threads)), "--switch", ",".join(map(repr, args.switch)),
            "--runs", str(args.runs)]


def measure(cmd, env, cwd, on_start, on_result):
    """Run cmd (python3 -m sieve.balance_run ARGS): on_start(its first line), on_result(each setting's result)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd)
    stuck = threading.Timer(TIMEOUT, proc.kill)
    stuck.start()
    errors = []
    reader = threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        first = None
        for line in proc.stdout:
            try:
                data = json.loads(line)
            except ValueError:
                raise Failed(f"the sieve runs printed {line.strip()[:80]!r}, not a JSON line") from None
            if first is None:
                first = data
                on_start(data)
            else:
                on_result(data)
        proc.wait()
        reader.join(timeout=5)
    finally:
        stuck.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        last = [e.strip() for e in errors if e.strip()]
        why = f"stopped after {TIMEOUT} s" if proc.returncode == -9 else (last[-1] if last else f"exit {proc.returncode}")
        raise Failed(f"the sieve runs failed: {why}")
    if first is None:
        raise Failed("the sieve runs printed nothing")


def check(result):
    """Raise Failed unless every run counted right and its work adds up to isqrt(n) - 1 k's."""
    n, name = result["n"], result["variant"]
    want = PRIMES.get(n)
    if len(result["counts"]) != 1 or (want is not None and result["counts"][0] != want):
        raise Failed(f"{name} counted {result['counts']} primes up to {n}, not {want or 'one count'}")
    for run in result["work"]:
        if len(run) != result["threads"] or sum(run) != math.isqrt(n) - 1:
            raise Failed(f"{name} at n={n}: the threads' k's {run} do not add up to {math.isqrt(n) - 1}")


def run(args):
    results = []
    report = {"runs": args.runs, "results": results}
    pending = {}  # (variant, n, threads) -> results so far, one per switch interval
    printed = set()

    def on_result(r):
        check(r)
        results.append(r)
        key = (r["variant"], r["n"], r["threads"])
        pending.setdefault(key, []).append(r)
        if len(pending[key]) == len(args.switch):
            if r["variant"] not in printed:
                printed.add(r["variant"])
                say()
                for line in balance_report.header(r["variant"], args.switch):
                    say(line)
            say(balance_report.row(r["n"], r["threads"], pending.pop(key)))

    def on_start(first):
        report.update(first)
        say(f"balance: Python {first['python']} on host {first['host']}; {args.runs} runs of each setting")
        say("  busiest: the busiest thread's share of the k's, mean of the runs (an even split: 100/threads %)")
        say("  whole:   in how many runs one thread did the whole job")

    if args.local:
        report["where"] = "here"
        say(f"balance: the sieve here, in {sys.executable}")
        measure([sys.executable, "-m", "sieve.balance_run", *runner_args(args)],
                dict(os.environ, PYTHONPATH=str(ROOT / "services")), ROOT, on_start, on_result)
        say()
    else:
        lab = Lab(PROJECT, NET, profiles=())
        report["where"] = "the lab's sieve host"
        say(f"balance: the sieve in the lab's sieve host (project {PROJECT} on {NET}.0/24)")
        try:
            say("balance: building the sieve host's image")
            lab.compose("build", "sieve", timeout=900)
            cmd = lab.command("--ansi", "never", "run", "--rm", "--no-deps", "-T", "sieve",
                              "python3", "-m", "sieve.balance_run", *runner_args(args))
            measure(cmd, lab.env, ROOT, on_start, on_result)
        except RuntimeError as e:
            raise Failed(str(e).splitlines()[0]) from None
        finally:
            say()
            say(f"balance: tearing down {PROJECT}")
            lab.down()
    return report


def main(argv):
    try:
        args = parse(argv)
    except Refused as e:
        print(f"balance: {e}", file=sys.stderr)
        return 2
    stop_like_ctrl_c()
    try:
        report = run(args)
    except Failed as e:
        print(f"balance: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return interrupted("balance")
    args.out.mkdir(parents=True, exist_ok=True)
    name = "balance-quick" if args.quick else "balance"  # a quick check keeps the last full run's picture
    data, png = args.out / f"{name}.json", args.out / f"{name}.png"
    data.write_text(json.dumps(report, indent=1) + "\n")
    try:
        balance_report.plot(report["results"], png)
    except ImportError:
        print("balance: no plot: matplotlib is missing (scripts/balance installs it into .venv)", file=sys.stderr)
        return 1
    say(f"balance: wrote {relative(png)} and {relative(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
