"""The checker's outputs: the report card on the terminal, JSON, and a class's CSV and summary."""

import csv
import io
import statistics


def card(sub, relpath=str):
    """The report card: PASS/FAIL first on each line, then the check, its points, its time and its reason."""
    lines = [f"check {sub.kind}: {relpath(sub.path)} as {sub.student} (Python {sub.python})"]
    width = max([len(r.name) for r in sub.results] + [5])
    for r in sub.results:
        lines.append(f"{'PASS' if r.passed else 'FAIL'}  {r.name:<{width}}  {r.earned:>2}/{r.points:<2} "
                     f"{r.seconds:5.1f} s  {r.reason}")
    passed = sum(r.passed for r in sub.results)
    lines.append(f"score {sub.score}/{sub.out_of}: {passed} of {len(sub.results)} checks passed, in {sub.seconds:.0f} s")
    return "\n".join(lines)


def as_json(sub):
    return {"student": sub.student, "kind": sub.kind, "file": str(sub.path), "python": sub.python,
            "error": sub.error, "score": sub.score, "max": sub.out_of, "seconds": round(sub.seconds, 1),
            "checks": [{"name": r.name, "points": r.points, "earned": r.earned, "passed": r.passed,
                        "reason": r.reason, "seconds": r.seconds, "log": r.log} for r in sub.results]}


def class_csv(subs, checks):
    """One row per student, a column per check (the points earned), then total, max, seconds and error."""
    f = io.StringIO()
    w = csv.writer(f, lineterminator="\n")
    names = [c.name for c in checks]
    w.writerow(["student", *names, "total", "max", "seconds", "error"])
    for sub in sorted(subs, key=lambda s: s.student):
        earned = {r.name: r.earned for r in sub.results}
        w.writerow([sub.student, *(earned.get(n, 0) for n in names), sub.score, sum(c.points for c in checks),
                    round(sub.seconds), sub.error or ""])
    return f.getvalue()


def class_summary(subs, checks, seconds):
    out_of = sum(c.points for c in checks)
    scores = [s.score for s in subs]
    lines = [f"class: {len(subs)} submissions in {seconds / 60:.1f} min"]
    if scores:
        lines.append(f"scores out of {out_of}: mean {statistics.mean(scores):.1f}, median {statistics.median(scores):g}, "
                     f"lowest {min(scores)}, highest {max(scores)}; full marks: {sum(s == out_of for s in scores)}")
    for c in checks:
        passed = sum(1 for s in subs for r in s.results if r.name == c.name and r.passed)
        lines.append(f"  {c.name:<14} passed by {passed}/{len(subs)}")
    broken = [s for s in subs if s.error]
    if broken:
        lines.append("not run: " + "; ".join(f"{s.student}: {s.error}" for s in broken))
    return "\n".join(lines)
