"""scripts/check: the command line (threadlab/checker/__init__.py says what it does)."""

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from threadlab.checker import check_submission, config, report
from threadlab.checker.run import Submission, SubmissionError, locate, python_image
from threadlab.lab import ROOT, engine_problem, interrupted, stop_like_ctrl_c

OUT = Path(os.environ.get("CHECK_OUT", ROOT / "out" / "check"))


class Refusal(Exception):
    """Bad usage or setup: one line on stderr, exit 2."""


def parser():
    ap = argparse.ArgumentParser(prog="scripts/check", description="Grade srvr.py and clnt.py submissions in the lab.")
    sub = ap.add_subparsers(dest="mode", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--python", choices=["3", "2.7"], default="3", help="the Python the submission is for")
    common.add_argument("--checks", metavar="A,B", help="only these checks, by name")
    common.add_argument("--config", metavar="TOML", default=str(config.DEFAULT), help="the checks (threadlab/checks.toml)")
    for kind in ("server", "client"):
        p = sub.add_parser(kind, parents=[common], help=f"check one {kind} submission")
        p.add_argument("path", metavar="FILE_OR_DIR")
        p.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT (- for stdout)")
        p.add_argument("--name", help="the student's name (default: the file's or folder's)")
    p = sub.add_parser("class", parents=[common], help="check a folder of submissions, one subfolder or .py per student")
    p.add_argument("path", metavar="DIR")
    p.add_argument("--kind", choices=["server", "client"], required=True)
    p.add_argument("--csv", metavar="OUT.csv", help=f"the class's CSV ({rel(OUT / 'grades.csv')})")
    p.add_argument("--jobs", type=int, default=2, help="submissions checked at once (2)")
    return ap


def student_name(path):
    path = Path(path)
    return path.stem if path.is_file() else path.resolve().name


def rel(path):
    """path as short as it reads: below this folder relative to it, elsewhere absolute (not ../../tmp/x)."""
    shown = os.path.relpath(path)
    return os.path.abspath(path) if shown.startswith("..") else shown


def setup(args, kind):
    try:
        cfg = config.load(args.config)
        checks = cfg.checks(kind, args.checks.split(",") if args.checks else None)
    except config.ConfigError as e:
        raise Refusal(f"check: {e}") from None
    if not checks:
        raise Refusal(f"check: {args.config} has no {kind} checks")
    return cfg, checks


def image_here(args):
    """Refuse, after the user's own slips, when this machine has no Docker engine, or no host image for the
    submissions' Python."""
    if problem := engine_problem():
        raise Refusal(f"check: {problem}")
    try:
        python_image(args.python)
    except SubmissionError as e:
        raise Refusal(f"check: {e}") from None


def writable(option, path):
    """Refuse, before any lab starts, an output file whose folder is not there."""
    if path and path != "-" and not Path(path).resolve().parent.is_dir():
        raise Refusal(f"check: {option} {path}: no folder {Path(path).resolve().parent} to write it in")


def main_one(args):
    cfg, checks = setup(args, args.mode)
    if not Path(args.path).exists():
        raise Refusal(f"check: {args.path}: no such file or folder")
    try:
        locate(args.path, args.mode)
    except SubmissionError as e:
        raise Refusal(f"check: {args.path}: {e}") from None
    writable("--json", args.json)
    image_here(args)
    sub = Submission(args.name or student_name(args.path), args.mode, Path(args.path), args.python)
    print(f"check {sub.kind}: {rel(sub.path)} as {sub.student} (Python {sub.python}): {len(checks)} checks, "
          f"each in a fresh server", file=sys.stderr, flush=True)
    n = len(checks)
    progress = lambda r: print(f"  {len(sub.results)}/{n} {r.name}: {'PASS' if r.passed else 'FAIL'} ({r.seconds:.0f} s)",
                               file=sys.stderr, flush=True)
    check_submission(sub, cfg, checks, OUT, on_check=progress)
    print(report.card(sub, rel))
    print(f"each check's output: {rel(OUT / sub.student)}/")
    data = report.as_json(sub)
    (OUT / sub.student / "report.json").write_text(json.dumps(data, indent=1) + "\n")
    if args.json == "-":
        print(json.dumps(data, indent=1))
    elif args.json:
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n")
    return 0 if all(r.passed for r in sub.results) else 1


def main_class(args):
    cfg, checks = setup(args, args.kind)
    top = Path(args.path)
    if not top.is_dir():
        raise Refusal(f"check: {args.path} is not a folder of submissions")
    if args.jobs < 1:
        raise Refusal("check: --jobs is at least 1")
    writable("--csv", args.csv)
    entries = sorted(p for p in top.iterdir() if not p.name.startswith((".", "_")) and (p.is_dir() or p.suffix == ".py"))
    if not entries:
        raise Refusal(f"check: {args.path} has no subfolders or .py files")
    names = [student_name(p) for p in entries]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise Refusal(f"check: two submissions are both {dup[0]} (a folder and a .py?)")
    image_here(args)
    subs = [Submission(n, args.kind, p, args.python) for n, p in zip(names, entries)]
    print(f"check class {rel(top)}: {len(subs)} {args.kind} submissions, {len(checks)} checks each, "
          f"{args.jobs} at once", flush=True)
    stop, lock, done = threading.Event(), threading.Lock(), [0]
    out_of = sum(c.points for c in checks)
    start = time.monotonic()

    def one(sub):
        check_submission(sub, cfg, checks, OUT, stop=stop)
        if stop.is_set():  # Ctrl-C cut it short: not graded, so no line or report.json that says it failed
            return sub
        (OUT / sub.student / "report.json").write_text(json.dumps(report.as_json(sub), indent=1) + "\n")
        with lock:
            done[0] += 1
            failed = [r.name for r in sub.results if not r.passed]
            print(f"{done[0]:>3}/{len(subs)}  {sub.student:<24} {sub.score:>3}/{out_of}  {sub.seconds:4.0f} s  "
                  f"{'failed: ' + ', '.join(failed) if failed else 'all passed'}"
                  f"{'  (' + sub.error + ')' if sub.error else ''}", flush=True)
        return sub

    pool = ThreadPoolExecutor(max_workers=args.jobs)
    try:
        for f in as_completed([pool.submit(one, s) for s in subs]):
            f.result()
    except KeyboardInterrupt:
        print("check: Ctrl-C: ending the labs that are up", file=sys.stderr, flush=True)
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        return interrupted("check")
    pool.shutdown()
    seconds = time.monotonic() - start
    args.csv = args.csv or OUT / "grades.csv"
    Path(args.csv).write_text(report.class_csv(subs, checks))
    print(report.class_summary(subs, checks, seconds))
    print(f"CSV: {rel(args.csv)}; each check's output: {rel(OUT)}/STUDENT/CHECK.log")
    return 0


def main(argv):
    args = parser().parse_args(argv[1:])
    stop_like_ctrl_c()
    try:
        return main_class(args) if args.mode == "class" else main_one(args)
    except Refusal as e:
        print(e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # each submission's lab is down by now (check_submission)
        return interrupted("check")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
