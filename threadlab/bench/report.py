"""The benchmark's report: the tables it prints, the issue's targets checked, the JSON and the plots."""

import json
import os
import platform
import re
import subprocess
import time

from threadlab.bench.server import paired, paired_median
from threadlab.lab import ROOT

LAB = "lab"


def machine(lab_python=None):
    """Where and when the figures were measured."""
    def first(pattern, path):
        try:
            m = re.search(pattern, open(path).read(), re.M)
            return m.group(1).strip() if m else None
        except OSError:
            return None

    def out(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None

    mem = first(r"^MemTotal:\s+(\d+)", "/proc/meminfo")
    changed = out("git", "-C", str(ROOT), "status", "--porcelain", "--", "services")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": first(r"^model name\s*:\s*(.*)$", "/proc/cpuinfo") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem) / 2**20) if mem else None,
        "kernel": platform.release(),
        "docker": out("docker", "version", "--format", "{{.Server.Version}}"),
        "compose": out("docker", "compose", "version", "--short"),
        "host_python": platform.python_version(),
        "lab_python": lab_python,
        "load_average": list(os.getloadavg()),
        "commit": out("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"),
        "services_changed_since_commit": changed.splitlines() if changed else [],
    }


def describe(m):
    lab = f"Python {m['lab_python']} in the lab, " if m["lab_python"] else ""  # the server part asks it
    return (f"{m['date']}, {m['cpu']} ({m['cores']} cores), {m['memory_gib']} GiB, Linux {m['kernel']}, "
            f"Docker {m['docker']}, Compose {m['compose']}, {lab}{m['host_python']} on the host")


# Formatting

def rate(x):
    return "-" if x is None else f"{x / 1000:.1f}k"


def ms(x):
    return "-" if x is None else f"{x:.2f}"


def secs(x):
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def times(x):
    return "-" if x is None else f"{x:.2f}x"


def render(title, header, rows):
    """A plain-text table: header and rows are lists of cells; the first column left-aligned."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([title, line(header), line(["-" * w for w in widths]), *map(line, rows)])


# The targets: the server and sieve figures as ratios from this one run; the lifecycle in seconds

def target(name, value, goal, met, figures):
    return {"target": name, "value": value, "goal": goal, "met": met, "figures": figures}


def server_targets(server):
    """The issue's server targets. Ratios are medians of round-by-round ratios: each round measures every
    server within a minute or two, so the machine's other work weighs on both sides of a ratio alike."""
    s, sweep = server["summary"], server.get("sweep", {})
    out = []
    get = lambda name, n, key="rate": s.get(name, {}).get(n, {}).get(key)

    def versus(ref, n, goal, text):
        r = paired_median(s, LAB, ref, n)
        if r is None:
            return None
        rounds = ", ".join(f"{x:.2f}" for x in paired(s, LAB, ref, n))
        return target(f"lab server >= {text}x {ref if ref != 'pingpong' else 'the raw ping-pong floor'} "
                      f"throughput at {n} client{'s' if n > 1 else ''}", r, f">= {text}x", r >= goal,
                      f"{times(r)} (rounds: {rounds}); medians {rate(get(LAB, n))} vs {rate(get(ref, n))} round trips/s")

    out += [t for t in (versus("socketserver", 64, 1.0, "1.0"), versus("asyncio", 64, 1.2, "1.2")) if t]
    p99, lab64 = get(LAB, 64, "p99_ms"), get(LAB, 64)
    if p99 is not None:
        pts = [(f["p99_ms"], f["switch_interval"]) for by_n in sweep.values() for n, f in by_n.items() if n == 64]
        best = f"; best of the SWITCH_INTERVAL sweep {ms(min(pts)[0])} ms at {min(pts)[1] * 1000:g} ms" if pts else ""
        out.append(target("p99 at 64 clients <= 2 ms", p99, "<= 2 ms", p99 <= 2.0,
                          f"p99 {ms(p99)} ms (p50 {ms(get(LAB, 64, 'p50_ms'))} ms) at {rate(lab64)} round trips/s, "
                          f"stock switch interval{best}; 64 clients in a closed loop wait 64 / rate = "
                          f"{ms(64 / lab64 * 1000)} ms on average"))
    t = versus("pingpong", 1, 0.85, "0.85")
    if t:
        out.append(t)
    return out


def sieve_targets(sieve):
    """The issue's sieve targets at 10^9; ratios and speedups paired by repetition (bench_sieve.figures)."""
    out = []
    t, big, fast = sieve["table"], 10**9, sieve.get("fastest", "segmented")
    seg, gil = t.get(fast, {}).get(big, {}), t.get("segmented", {}).get(big, {})
    ps = t.get("primesieve", {}).get(big, {})
    r = sieve.get("vs_primesieve", {}).get(big, {}).get(2)
    if r is not None:
        other = f"; segmented with the GIL: {secs(gil[2])} s, {gil[2] / ps[2]:.1f}x" if fast != "segmented" and gil.get(2) else ""
        out.append(target("fast variant counts to 10^9 in <= 20x primesieve's 2-thread time", r, "<= 20x", r <= 20,
                          f"{r:.1f}x: {fast} {secs(seg[2])} s vs primesieve {secs(ps[2])} s, 2 threads" + other))
    sp = sieve.get("speedup", {}).get(fast, {}).get(big)
    if sp is not None:
        cores = sieve.get("cores", {}).get(fast, {}).get(big, {}).get(2)
        also = [(v, sieve.get("speedup", {}).get(v, {}).get(big)) for v in ("segmented", "segmented-process") if v != fast]
        out.append(target("fast variant: >= 1.7x speedup from the second thread at 10^9", sp, ">= 1.7x", sp >= 1.7,
                          f"{times(sp)}: {fast} {secs(seg.get(1))} s with 1 thread, {secs(seg.get(2))} s with 2, "
                          f"{cores:.2f} cores busy" + "".join(f"; {v} {times(x)}" for v, x in also if x)))
    return out


def lifecycle_targets(lc):
    out = []
    if "seconds" in lc.get("demo", {}):
        d = lc["demo"]
        out.append(target("end-to-end demo <= 15 s with warm images", d["seconds"], "<= 15 s",
                          d["seconds"] <= 15 and d["ok"], f"{secs(d['seconds'])} s" + ("" if d["ok"] else ", FAILED")))
    fresh = fresh_machine(lc)
    if fresh is not None:
        out.append(target("a fresh machine to the demo's final line <= 45 s", fresh, "<= 45 s",
                          fresh <= 45 and lc["demo"]["ok"], f"{secs(fresh)} s: base, cold image, demo"))
    if "seconds" in lc.get("suite", {}):
        u = lc["suite"]
        out.append(target("whole test suite <= 3 min", u["seconds"], "<= 180 s", u["seconds"] <= 180 and u["ok"],
                          f"{secs(u['seconds'])} s: {u['summary']}"))
    return out


def fresh_machine(lc):
    """Seconds from a clone on a fresh offline machine to the demo's final line: the base, the image built
    cold, the demo; None unless all three were measured."""
    parts = [lc.get("base", {}).get("seconds"), lc.get("build", {}).get("cold_seconds"), lc.get("demo", {}).get("seconds")]
    return None if None in parts else sum(parts)


# Tables

def server_table(server):
    s = server["summary"]
    ft = ["lab-ft"] if "lab-ft" in s else []  # srvr.py on free-threaded Python: a figure beside the GIL's
    refs = [*ft, "socketserver", "asyncio", "pingpong"]
    header = ["figure", "this lab", *(["no GIL"] if ft else []), *refs[len(ft):], "ratio"]
    rows = []
    get = lambda name, n, key: s.get(name, {}).get(n, {}).get(key)
    us = lambda x: "-" if x is None else f"{x:.0f}"
    for n in server["settings"]["clients"]:
        for key, fmt, what in (("rate", rate, "round trips/s"), ("p50_ms", ms, "p50 ms"), ("p99_ms", ms, "p99 ms"),
                               ("server_cpu_us", us, "server CPU us per round trip")):
            ratio = ""
            lab = get(LAB, n, key)
            vs = lambda ref, k="rates": times(paired_median(s, LAB, ref, n, k))
            if key == "rate" and n == 1:
                ratio = f"{vs('pingpong')} ping-pong"
            elif key == "rate":
                ratio = f"{vs('socketserver')} socketserver, {vs('asyncio')} asyncio"
            elif key == "server_cpu_us" and lab:
                ratio = f"{vs('socketserver', 'cpus_us')} socketserver's"
            rows.append([f"{what}, {n} client{'s' if n > 1 else ''}", fmt(lab), *(fmt(get(r, n, key)) for r in refs), ratio])
    st = server["settings"]
    pins = st.get("pinned") or {}
    pinned = f" (a.b.c on CPU {pins['server']}, the load on CPU {pins[st['hosts'][0]]})" if pins else ""
    itself = " and itself on free-threaded Python (no GIL, on the same CPU)" if ft else ""
    title = (f"Server: the lab's srvr.py on a.b.c against references{itself}, load from {', '.join(st['hosts'])}{pinned}; "
             f"{st['seconds']:g} s windows; medians of {st['rounds']} round{'s' if st['rounds'] > 1 else ''}, "
             f"ratios the median of each round's ratio")
    text = render(title, header, rows)
    if server.get("sweep"):
        pts = sorted(((f["switch_interval"], n, f) for by_n in server["sweep"].values() for n, f in by_n.items()),
                     key=lambda p: -p[0])
        text += "\n\n" + render(
            f"The lever: the lab's server with SWITCH_INTERVAL (sys.setswitchinterval), {pts[0][1]} clients",
            ["SWITCH_INTERVAL ms", "round trips/s", "p50 ms", "p99 ms", "p99.9 ms", "server CPU us"],
            [[f"{si * 1000:g}" + (" (stock)" if si == 0.005 else ""), rate(f["rate"]), ms(f["p50_ms"]),
              ms(f["p99_ms"]), ms(f["p99.9_ms"]), us(f.get("server_cpu_us"))] for si, n, f in pts])
    return text


SIEVE_COLUMNS = ["faithful", "segmented", "segmented-ft", "segmented-process", "plain", "numpy", "primesieve"]


def sieve_table(sieve):
    t = sieve["table"]
    cols = [c for c in SIEVE_COLUMNS if c in t]
    fast = sieve.get("fastest", "segmented")
    header = ["figure", *(c if c != fast else f"{c} (fastest)" for c in cols), "ratio"]
    rows = []
    workers = sieve["settings"]["workers"]
    power = lambda n: f"10^{len(str(n)) - 1}"
    for n in sieve["settings"]["sizes"]:
        for w in workers:
            ratio = sieve.get("vs_primesieve", {}).get(n, {}).get(w)
            ratio = (f"{fast} {ratio:.1f}x primesieve" if ratio is not None else
                     "primesieve: too quick for its 1 ms clock" if "primesieve" in t else "")
            rows.append([f"{power(n)}, {w} thread{'s' if w > 1 else ''} (s)",
                         *(secs(t[c].get(n, {}).get(w)) for c in cols), ratio])
        if len(workers) > 1:
            rows.append([f"{power(n)}, speedup 1 -> {max(workers)}",
                         *(times(sieve.get("speedup", {}).get(c, {}).get(n)) for c in cols), ""])
    big, w2 = max(sieve["settings"]["sizes"]), max(workers)
    cores = lambda c: sieve.get("cores", {}).get(c, {}).get(big, {}).get(w2)
    rows.append([f"{power(big)}, cores busy with {w2}", *(f"{cores(c):.2f}" if cores(c) is not None else "-" for c in cols), ""])
    reps = sieve["settings"]["repeat"]
    title = ("Sieve: seconds to count the primes up to n; faithful, segmented and plain on the lab's sieve host, "
             + ("segmented-ft on its free-threaded one, " if "segmented-ft" in t else "") +
             f"numpy and primesieve on this machine; medians of {reps} run{'s' if reps > 1 else ''} (faithful and plain: 1 at 10^9), "
             "speedups and ratios the median of each run's")
    text = render(title, header, rows)
    if sieve.get("missing"):
        text += "\n" + "\n".join(f"  not measured: {k}: {v}" for k, v in sieve["missing"].items())
    return text


def lifecycle_table(lc):
    rows = []
    if "base" in lc:
        b = lc["base"]
        rows.append(["offline base (scripts/build-base, mmdebstrap)", secs(b.get("seconds")),
                     f"{b['mb']} MB" if b.get("mb") else b.get("error", "")])
    if "seconds" in lc.get("ft_base", {}) or "error" in lc.get("ft_base", {}):
        b = lc["ft_base"]
        rows.append(["free-threaded base (scripts/build-ft-base), once", secs(b.get("seconds")),
                     f"{b['mb']} MB" if b.get("mb") else b.get("error", "")])
    if "build" in lc:
        b = lc["build"]
        rows.append([f"images, cold (build --no-cache, {b.get('images')} hosts)", secs(b.get("cold_seconds")),
                     b.get("error", "")])
        rows.append(["images, warm (build)", secs(b.get("warm_seconds")), ""])
    if "up" in lc:
        rows.append([f"compose up to all healthy ({lc['up']['hosts']} hosts, warm images)", secs(lc["up"]["seconds"]), ""])
    if "demo" in lc:
        d = lc["demo"]
        rows.append(["end-to-end demo (docker compose up, warm)", secs(d.get("seconds")),
                     "target <= 15 s" + ("" if d.get("ok") else "; FAILED")])
    if fresh_machine(lc) is not None:
        rows.append(["a fresh machine to the demo's final line (base + cold image + demo)", secs(fresh_machine(lc)),
                     "target <= 45 s"])
    if "suite" in lc:
        u = lc["suite"]
        rows.append(["whole test suite (pytest -q)", secs(u.get("seconds")),
                     u.get("skipped") or f"target <= 180 s; {u.get('summary')}"])
    return render("Lab lifecycle", ["figure", "seconds", "note"], rows)


def lifecycle_line(lc):
    """One line of what the lifecycle part measured, as it goes."""
    parts = []
    for name, key in (("base", "seconds"), ("ft_base", "seconds"), ("build", "cold_seconds"), ("build", "warm_seconds"),
                      ("demo", "seconds"), ("suite", "seconds")):
        if name in lc:
            got = lc[name]
            label = {"cold_seconds": "images cold", "warm_seconds": "images warm"}.get(key, name.replace("_", "-"))
            parts.append(f"{label} {secs(got[key])} s" if key in got else
                         f"{label}: {got.get('error') or got.get('skipped')}")
    if "ok" in lc.get("demo", {}) and not lc["demo"]["ok"]:
        parts.append("the demo FAILED")
    if "summary" in lc.get("suite", {}):
        parts.append(lc["suite"]["summary"])
    return "; ".join(dict.fromkeys(parts))


def targets_text(targets):
    lines = ["Targets, from this run:"]
    for t in targets:
        lines.append(f"  {'met    ' if t['met'] else 'NOT MET'}  {t['target']}: {t['figures']}")
    return "\n".join(lines)


# Plots

def plots(result, out):
    """PNG files into out; returns their names, or None without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker  # noqa: F401
    except ImportError:
        return None
    made = []

    def plain(axis):
        """Numbers as 0.1, 1, 10 on a log axis, not 10^-1."""
        axis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())

    def save(fig, name):
        for ax in fig.axes:
            plain(ax.yaxis)
            if ax.get_xscale() == "log" and not ax.get_xticklabels()[0].get_text().startswith("10^"):
                plain(ax.xaxis)
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        made.append(name)

    server = result.get("server")
    if server:
        s = server["summary"]
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
        for name, by_n in s.items():
            ns = sorted(by_n)
            a.plot(ns, [by_n[n]["rate"] for n in ns], marker="o", label=name)
            b.plot(ns, [by_n[n]["p99_ms"] for n in ns], marker="o", label=name)
        a.set(xscale="log", xlabel="concurrent clients", ylabel="round trips/s", title="Throughput")
        b.set(xscale="log", yscale="log", xlabel="concurrent clients", ylabel="p99 latency (ms)", title="p99 latency")
        for ax in (a, b):  # the client counts measured, not powers of ten
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.set_xticks(server["settings"]["clients"], [str(n) for n in server["settings"]["clients"]])
        b.axhline(2.0, color="grey", ls="--", lw=1)
        a.legend(fontsize=8)
        save(fig, "server.png")

        top = max(server["settings"]["clients"])
        fig, a = plt.subplots(figsize=(7, 4.5))
        for name, by_n in s.items():
            if top in by_n:
                a.plot(by_n[top]["cdf_ms"], range(1, 101), label=name)
        a.set(xscale="log", xlabel="round-trip latency (ms)", ylabel="percentile",
              title=f"Latency at {top} clients (round with the median rate)")
        a.axvline(2.0, color="grey", ls="--", lw=1)
        a.legend(fontsize=8)
        save(fig, "latency.png")

        if server.get("sweep"):
            pts = sorted(((f["switch_interval"], f) for by_n in server["sweep"].values() for f in by_n.values()),
                         key=lambda p: p[0])
            x = [si * 1000 for si, _ in pts]
            fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
            a.plot(x, [f["p50_ms"] for _, f in pts], marker="o", label="p50")
            a.plot(x, [f["p99_ms"] for _, f in pts], marker="o", label="p99")
            a.set(xscale="log", yscale="log", xlabel="SWITCH_INTERVAL (ms)", ylabel="latency (ms)",
                  title=f"The lab's server at {server['settings']['sweep_clients']} clients")
            a.axhline(2.0, color="grey", ls="--", lw=1)
            a.legend()
            b.plot(x, [f["rate"] for _, f in pts], marker="o")
            b.set(xscale="log", xlabel="SWITCH_INTERVAL (ms)", ylabel="round trips/s", title="Throughput")
            save(fig, "switch-interval.png")

    sieve = result.get("sieve")
    if sieve and sieve["runs"]:
        t = sieve["table"]
        workers = sieve["settings"]["workers"]
        fig, a = plt.subplots(figsize=(7, 4.5))
        for i, v in enumerate(c for c in SIEVE_COLUMNS if c in t):
            for w, style in zip(workers, ("-", "--")):
                ns = sorted(n for n in t[v] if t[v][n].get(w))
                a.plot(ns, [t[v][n][w] for n in ns], style, color=f"C{i}", marker="o",
                       label=f"{v}, {w} worker{'s' if w > 1 else ''}")
        a.set(xscale="log", yscale="log", xlabel="n", ylabel="seconds", title="Counting the primes up to n")
        sizes = sieve["settings"]["sizes"]
        a.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        a.set_xticks(sizes, [f"10^{len(str(n)) - 1}" for n in sizes])
        a.legend(fontsize=7)
        save(fig, "sieve.png")

        if len(workers) > 1:
            big = max(sieve["settings"]["sizes"])
            w2 = workers[1]
            sp = {c: sieve.get("speedup", {}).get(c, {}).get(big) for c in SIEVE_COLUMNS}
            cols = [c for c in SIEVE_COLUMNS if sp[c]]
            cores = {c: sieve.get("cores", {}).get(c, {}).get(big, {}).get(w2) or 0 for c in cols}
            fig, a = plt.subplots(figsize=(9, 4.5))
            xs = range(len(cols))
            a.bar([x - 0.2 for x in xs], [sp[c] for c in cols], 0.4, label=f"speedup, 1 -> {w2}")
            a.bar([x + 0.2 for x in xs], [cores.get(c, 0) for c in cols], 0.4, label=f"cores busy with {w2}")
            a.axhline(1.7, color="grey", ls="--", lw=1)
            gil = {"faithful": "holds the GIL", "segmented": "holds the GIL", "plain": "holds the GIL",
                   "segmented-ft": "no GIL at all",
                   "segmented-process": "processes: no shared GIL", "numpy": "releases the GIL in stores",
                   "primesieve": "C++, no GIL"}
            a.set_xticks(list(xs), [f"{c}\n{gil.get(c, '')}" for c in cols], fontsize=8)
            a.set(ylabel="x", title=f"Why a second thread helps some sieves and not others (n = 10^{len(str(big)) - 1})")
            a.legend()
            save(fig, "sieve-threads.png")
    return made


def load(path):
    """A bench.json, with the numbers JSON made into keys (clients, n, workers) numbers again."""
    def ints(x):
        if isinstance(x, dict):
            return {(int(k) if isinstance(k, str) and k.isdigit() else k): ints(v) for k, v in x.items()}
        if isinstance(x, list):
            return [ints(v) for v in x]
        return x
    return ints(json.loads(path.read_text()))


def write(result, out):
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    return out / "bench.json"
