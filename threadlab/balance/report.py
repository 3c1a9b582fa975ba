"""The reporting half of scripts/balance: each setting's spread of work, as table rows and as a PNG plot.

A setting's runs are lists of k's processed by thread 0, 1, ... (the
tutorial's "processed nk values of k", section 5.2). Two figures per setting:
    busiest  the busiest thread's share of the k's, mean over the runs
             (100%: one thread did everything; 100/threads %: an even split)
    whole    in how many runs one thread did the whole job ("thread 0 did
             the whole job before thread 1 even got started")
"""

import statistics

TITLES = {
    "thread": "thread: the tutorial's primes.py in _thread (primes_thread.py), crossing out one element "
              "at a time (lines 24-25)",
    "threading-loop": "threading-loop: threading and join (sieve.py), crossing out one element at a time "
                      "as lines 24-25 do",
    "threading": "threading: threading and join (sieve.py), crossing out a whole slice per k "
                 "(what primes.py runs by default)",
}
CELL = 20  # characters per switch interval's column


def shares(work):
    """The busiest thread's share (0..1) of each run."""
    return [max(run) / sum(run) for run in work]


def summary(result):
    """{busiest, low, high (shares, 0..1), whole (runs), runs} for one setting's result."""
    s = shares(result["work"])
    return {"busiest": statistics.mean(s), "low": min(s), "high": max(s),
            "whole": sum(1 for run in result["work"] if max(run) == sum(run)), "runs": len(s)}


def seconds(x):
    return f"{x:g}"


def header(variant, switches):
    """The lines above a variant's rows."""
    return [TITLES.get(variant, variant),
            f"{'':18}" + "".join(f"switch {seconds(s)} s".rjust(CELL) for s in switches),
            f"{'n':>9}  {'threads':>7}" + f"{'busiest':>13}{'whole':>7}" * len(switches)]


def row(n, threads, results):
    """One table row: n, threads, then busiest and whole for each switch interval's result, in order."""
    cells = []
    for r in results:
        s = summary(r)
        cells.append(f"{s['busiest'] * 100:>12.0f}%{s['whole']:>4}/{s['runs']:<2}")
    return (f"{n:>9}  {threads:>7}" + "".join(cells)).rstrip()


def plot(results, path):
    """Write a PNG: a panel per variant (columns) and thread count (rows), a line per switch interval."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(dict.fromkeys(r["variant"] for r in results))
    threads = sorted({r["threads"] for r in results})
    switches = sorted({r["switch"] for r in results})
    fig, axes = plt.subplots(len(threads), len(variants), figsize=(4.2 * len(variants), 3.3 * len(threads)),
                             sharex=True, sharey=True, squeeze=False)
    for i, t in enumerate(threads):
        for j, v in enumerate(variants):
            ax = axes[i][j]
            for s in switches:
                rs = sorted((r for r in results if (r["variant"], r["threads"], r["switch"]) == (v, t, s)),
                            key=lambda r: r["n"])
                if not rs:
                    continue
                ns = [r["n"] for r in rs]
                sm = [summary(r) for r in rs]
                line, = ax.plot(ns, [x["busiest"] * 100 for x in sm], marker="o", label=f"switch {seconds(s)} s")
                ax.fill_between(ns, [x["low"] * 100 for x in sm], [x["high"] * 100 for x in sm],
                                color=line.get_color(), alpha=0.15)
            ax.axhline(100 / t, color="grey", linestyle="--", linewidth=1)
            ax.set_xscale("log")
            ax.set_ylim(0, 105)
            ax.set_title(f"{v}, {t} threads", fontsize=10)
            if j == 0:
                ax.set_ylabel("busiest thread's share of k's, %")
            if i == len(threads) - 1:
                ax.set_xlabel("n")
    axes[0][0].legend(fontsize=8, loc="lower left")
    runs = results[0]["work"] and len(results[0]["work"])
    fig.suptitle(f"Work balance of the threaded sieve: mean of {runs} runs, band from least to most even; "
                 "dashed: an even split", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
