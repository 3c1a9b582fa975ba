"""scripts/bench: the server, the sieve and the lab's lifecycle measured side by side in one run.

Usage: scripts/bench [--quick] [--suite] [--only PART,...] [--rounds N] [--seconds S] [--hosts N] [--out DIR]
       scripts/bench --report out/bench/bench.json    the tables and plots of a run again

Parts: server, sieve, lifecycle (these three by default, about 7 minutes; --quick: server and sieve,
small, half a minute), suite (the whole test suite timed, with --suite or --only: minutes more).
Brings up a lab of its own (project BENCH_PROJECT, threadlab-bench, on BENCH_NET.0/24, 10.9.4 by
default), measures, and tears it down at the end, also on failure or Ctrl-C. Prints the tables
(figure, this lab, each reference, ratio) and the issue's targets, met or not; writes bench.json
and PNG plots into BENCH_OUT (out/bench). Exit 0: measured (a target not met is a figure, not a
failure); 1: a program gave a wrong answer or failed; 2: bad arguments; 130: Ctrl-C, the lab torn down.
"""

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from threadlab.bench import lifecycle as bench_lifecycle
from threadlab.bench import report as bench_report
from threadlab.bench import server as bench_server
from threadlab.bench import sieve as bench_sieve
from threadlab.bench.lab import BenchError, BenchLab, relative
from threadlab.lab import CLIENTS, ROOT, interrupted, stop_like_ctrl_c

PROJECT = os.environ.get("BENCH_PROJECT", "threadlab-bench")
NET = os.environ.get("BENCH_NET", "10.9.4")
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "out" / "bench"))
PARTS = ("server", "sieve", "lifecycle", "suite")
SWEEP = (0.001, 0.0002, 0.00005, 0.00001)  # seconds: SWITCH_INTERVAL at 64 clients, beside the stock 0.005


def say(msg=""):
    print(msg, flush=True)


def parse(argv):
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small and quick: a check that every part works")
    ap.add_argument("--suite", action="store_true", help="also time the whole test suite (minutes more)")
    ap.add_argument("--only", default=None, help=f"comma-separated parts: {','.join(PARTS)}")
    ap.add_argument("--rounds", type=int, help="server: rounds of every measurement (5; quick 1)")
    ap.add_argument("--seconds", type=float, help="server: the measured window of each run (1; quick 0.3)")
    ap.add_argument("--hosts", type=int, default=1, help="server: client hosts the load is split over (1)")
    ap.add_argument("--report", type=Path, metavar="JSON", help="print the tables and draw the plots of a bench.json again")
    ap.add_argument("--out", type=Path, default=OUT, help=f"where bench.json and the plots go ({relative(OUT)})")
    args = ap.parse_args(argv[1:])
    parts = args.only.split(",") if args.only else (["server", "sieve"] if args.quick else list(PARTS[:3]))
    if args.suite and "suite" not in parts:
        parts.append("suite")
    if not set(parts) <= set(PARTS) or not 1 <= args.hosts <= len(CLIENTS):
        ap.error(f"parts are {', '.join(PARTS)}; hosts from 1 to {len(CLIENTS)}")
    args.parts = parts
    q = args.quick
    args.rounds = args.rounds or (1 if q else 5)
    args.seconds = args.seconds or (0.3 if q else 1.0)
    args.warmup = 0.1 if q else 0.3
    args.clients = (1, 8) if q else (1, 8, 64)
    args.sweep = () if q else SWEEP
    args.sizes = (10**5, 10**6) if q else (10**7, 10**8, 10**9)
    args.repeat = 1 if q else 3
    return args


def main(argv):
    args = parse(argv)
    if args.report:
        result = bench_report.load(args.report)
        if "server" in result:  # the figures again from every run kept, as this version sums them up
            runs = result["server"]["runs"]
            result["server"]["summary"] = bench_server.summarize([r for r in runs if r["switch_interval"] is None
                                                                  and not r.get("sweep")])
        report(result, args.report.parent, write=False)
        return 0
    stop_like_ctrl_c()
    started, load_start = time.perf_counter(), os.getloadavg()
    say(f"bench: {'quick' if args.quick else 'full'} run of {', '.join(args.parts)}; "
        f"lab {PROJECT} on {NET}.0/24; figures into {relative(args.out)}")
    result = {"mode": "quick" if args.quick else "full", "parts": args.parts, "part_seconds": {}}
    lifecycle = {}

    @contextlib.contextmanager
    def part(name, what):
        say(f"bench: {name}: {what}")
        t0 = time.perf_counter()
        yield
        result["part_seconds"][name] = round(time.perf_counter() - t0, 1)

    try:
        if "lifecycle" in args.parts:
            with part("base", "the offline base, under a tag of its own (scripts/build-base)"):
                lifecycle["base"] = bench_lifecycle.base()
            with part("build", "every host's image, cold (--no-cache), then warm"):
                lifecycle["build"] = bench_lifecycle.build(PROJECT, NET)
            with part("demo", "the README's docker compose up, to its end"):
                lifecycle["demo"] = bench_lifecycle.demo(PROJECT, NET)
            say("  " + bench_report.lifecycle_line(lifecycle))
        lab_python = None
        if "sieve" in args.parts and not args.quick and os.environ.get("BENCH_INSTALL") != "0" \
                and not bench_lifecycle.have_ft_base():
            with part("ft-base", "the free-threaded base for sieve-ft, once (scripts/build-ft-base: minutes)"):
                lifecycle["ft_base"] = bench_lifecycle.ft_base()
            say("  " + bench_report.lifecycle_line({"ft_base": lifecycle["ft_base"]}))
        if {"server", "sieve"} & set(args.parts):
            bl = BenchLab(PROJECT, NET)
            load_hosts = list(CLIENTS)[:args.hosts]
            services = ["server", *(list(CLIENTS) if "lifecycle" in args.parts else load_hosts), "sieved"]
            if bench_lifecycle.have_ft_base():  # the sieve without the GIL, and srvr.py without it
                services.append("sieve-ft")
            try:
                bl.lab.down()
                with part("up", f"bringing up {PROJECT}: {', '.join(services)}"):
                    lifecycle["up"] = {"seconds": bl.up(services), "hosts": len(services)}
                lab_python = bl.exec("server", "python3", "-c", "import platform; print(platform.python_version())").strip()
                if "server" in args.parts:
                    with part("server", f"{', '.join(map(str, args.clients))} clients, {args.rounds} round(s)"):
                        result["server"] = bench_server.run(bl, load_hosts, args.clients, args.rounds, args.seconds,
                                                            args.warmup, sweep=args.sweep, say=say)
                if "sieve" in args.parts:
                    with part("sieve", f"n = {', '.join(f'{n:.0e}' for n in args.sizes)}, 1 and 2 workers"):
                        result["sieve"] = bench_sieve.run(bl, args.sizes, (1, 2), args.repeat, say=say)
            finally:
                say(f"bench: tearing down {PROJECT}")
                bl.down()
        if "suite" in args.parts:
            with part("suite", "the whole test suite"):
                lifecycle["suite"] = bench_lifecycle.suite(PROJECT)
            say("  " + bench_report.lifecycle_line({"suite": lifecycle["suite"]}))
    except KeyboardInterrupt:
        return interrupted("bench")
    except BenchError as e:
        say(f"bench: FAILED: {e}")
        return 1
    result["lifecycle"] = lifecycle
    result["machine"] = bench_report.machine(lab_python)
    result["machine"]["load_average_start"] = list(load_start)
    result["seconds"] = time.perf_counter() - started
    report(result, args.out)
    return 0


def report(result, out, write=True):
    """Print the tables and the targets; write bench.json and the plots into out."""
    result["targets"] = (bench_report.server_targets(result["server"]) if "server" in result else []) + \
        (bench_report.sieve_targets(result["sieve"]) if "sieve" in result else []) + \
        bench_report.lifecycle_targets(result.get("lifecycle", {}))
    say()
    say(f"threadlab benchmark, {result['mode']} run: {bench_report.describe(result['machine'])}")
    m = result["machine"]
    say(f"load average (1, 5, 15 min) at the start: {' '.join(f'{x:.2f}' for x in m.get('load_average_start', []))}, "
        f"at the end: {' '.join(f'{x:.2f}' for x in m['load_average'])}; lab at commit {m.get('commit')}"
        + (f" with changes in {len(m['services_changed_since_commit'])} file(s) of services/"
           if m.get("services_changed_since_commit") else ""))
    if "server" in result:
        say()
        say(bench_report.server_table(result["server"]))
    if "sieve" in result:
        say()
        say(bench_report.sieve_table(result["sieve"]))
    if result.get("lifecycle"):
        say()
        say(bench_report.lifecycle_table(result["lifecycle"]))
    say()
    say(bench_report.targets_text(result["targets"]))
    path = bench_report.write(result, out) if write else out / "bench.json"
    pngs = bench_report.plots(result, out)
    say()
    files = ([path.name] if write else []) + (pngs or [])
    say(f"bench: {'wrote ' + ', '.join(files) + ' in ' + relative(out) if files else 'no files written'}"
        + (" (no plots: matplotlib is missing)" if pngs is None else "") + f"; the run took {result['seconds']:.0f} s")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
