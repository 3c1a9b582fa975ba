"""The race as a picture: a replay's updates on a timeline, one row per client host, lost ones in red.

Usage: python3 -m threadlab.timeline out/replay/NAME.json [...]   (writes NAME.svg beside each)
scripts/replay writes one beside every transcript it writes.

Which updates were lost, from what the clients saw. The threaded server
(srvr.py) and the asyncio one echo v + k, where v is the value the update
read: so each echo (k, w) says its update read r = w - k and wrote w. (The
_thread server echoes v as it is after the write, maybe another's: there
the picture is a guess.) The final value v_f counts exactly the updates of
one chain: the update that wrote v_f, the one that wrote the value it read,
and so on back to 0; its k's add up to v_f. Every update off that chain was
overwritten before anyone read it, or read by an update that was itself
overwritten: it is lost. So the lost k's add up to exactly the
acknowledged sum minus the final value, the report's "N lost".

The chain is found backwards from v_f: the writer of value x is an update
not yet on the chain whose echo is x (mod 256, as the wire has it) and
whose k is at most x; of those, the one whose echo came back last before
the echo of the update after it on the chain (nearest in time, if none came
back before). Two updates that wrote the same value (both read 12, both
wrote 13: the tutorial's disaster with equal k's) leave the echoes unable
to say which of the two was overwritten; the later echo counts as the
survivor. The lost k's add up to the exact loss either way; which of two
such updates is red is the guess (and, for 3 after 6 and 9 after 0, both
writing 9, how many k's were lost; with the contention scenario's k's of 1
the number is exact too). When no writer fits at some x (the _thread server's echoes,
or a transcript cut short) the chain is unresolved and nothing is drawn red.
"""

import bisect
import itertools
import json
import sys
from html import escape
from pathlib import Path

WIDTH, LEFT, RIGHT, TOP, ROW = 960, 70, 20, 56, 34
KEPT, LOST = "#4a6fa5", "#d62728"


def updates(result):
    """Every acknowledged k of a replay result, as dicts (host, n, k, v, t) in time order.

    t is seconds since the first client started (the clients' clocks are the one host clock);
    a transcript without times (before they were recorded) counts its echoes as 1 ms apart.
    """
    rows = []
    starts = [c["start"] for c in result["clients"].values() if "start" in c]
    origin = min(starts) if starts else 0.0
    for host, c in result["clients"].items():
        times = c.get("t") or [i / 1000 for i in range(len(c["echoes"]))]
        base = c.get("start", origin) - origin
        for n, ((k, v), t) in enumerate(zip(c["echoes"], times)):
            rows.append({"host": host, "n": n, "k": k, "v": v, "t": base + t})
    rows.sort(key=lambda u: u["t"])
    return rows


def lost_updates(ups, final):
    """The indices into ups (from updates()) of the lost updates, or None when the chain is unresolved.

    final is the server's final value, exact; ups' v's are as the wire has them, mod 256.
    """
    if final is None:
        return None
    writers = {}  # v mod 256 -> (t, index) of the updates that echoed it and are not on the chain yet, by time
    for i, u in enumerate(ups):
        writers.setdefault(u["v"] % 256, []).append((u["t"], i))
    for w in writers.values():
        w.sort()
    on_chain, x, before = set(), final, float("inf")
    while x > 0:
        w = writers.get(x % 256, [])
        at = bisect.bisect_right(w, (before, len(ups)))  # w[:at] came back no later than `before`
        fits = (j for j in itertools.chain(range(at - 1, -1, -1), range(at, len(w))) if ups[w[j][1]]["k"] <= x)
        j = next(fits, None)  # the latest before, else the earliest after
        if j is None:
            return None
        i = w.pop(j)[1]
        on_chain.add(i)
        x -= ups[i]["k"]
        before = ups[i]["t"]
    return {i for i in range(len(ups)) if i not in on_chain}


def svg(result):
    """The timeline of one replay result as an SVG document (a str)."""
    ups = updates(result)
    lost = lost_updates(ups, result.get("final"))
    hosts = list(result["clients"])
    acknowledged = sum(u["k"] for u in ups)
    final = result.get("final")
    name = Path(result.get("scenario", "replay")).name
    if final is None:
        title = f"{name}: {len(ups)} k's acknowledged (sum {acknowledged}); the server printed no final value"
    elif lost is None:
        title = (f"{name}: {len(ups)} k's acknowledged (sum {acknowledged}), final value {final}: "
                 f"{acknowledged - final} lost; the echoes do not settle which")
    else:
        title = (f"{name}: {len(ups)} k's acknowledged (sum {acknowledged}), final value {final}: "
                 f"{len(lost)} updates lost ({acknowledged - final} of the sum), in red")
    span = max((u["t"] for u in ups), default=0.0) or 1.0
    plot = WIDTH - LEFT - RIGHT
    height = TOP + ROW * len(hosts) + 30
    x = lambda t: LEFT + plot * t / span
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
           f'<text x="{LEFT}" y="20" font-size="13">{escape(title)}</text>',
           f'<text x="{LEFT}" y="38" fill="#555">each k a mark at the time its echo came back; '
           f'<tspan fill="{LOST}">red: overwritten, lost</tspan></text>']
    for row, host in enumerate(hosts):
        mid = TOP + ROW * row + ROW / 2
        out.append(f'<text x="{LEFT - 8}" y="{mid + 4:.1f}" text-anchor="end">{escape(host)}</text>')
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{mid:.1f}" y2="{mid:.1f}" stroke="#ddd"/>')
        for color, tall, pick in ((KEPT, 8, False), (LOST, 14, True)):
            marks = [f"M{x(u['t']):.1f} {mid - tall / 2:.1f}v{tall}" for i, u in enumerate(ups)
                     if u["host"] == host and (lost is not None and i in lost) == pick]
            if marks:
                out.append(f'<path d="{"".join(marks)}" stroke="{color}" stroke-width="{1.5 if pick else 1}"/>')
    axis = TOP + ROW * len(hosts) + 6
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{axis}" y2="{axis}" stroke="#888"/>')
    step = tick_step(span)
    t = 0.0
    while t <= span * 1.0001:
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{axis}" y2="{axis + 4}" stroke="#888"/>')
        out.append(f'<text x="{x(t):.1f}" y="{axis + 16}" text-anchor="middle" fill="#555">{t:g} s</text>')
        t = round(t + step, 6)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def tick_step(span):
    """A round step that gives the axis about 5 to 10 ticks over span seconds."""
    step = 10 ** int(f"{span:e}".split("e")[1])
    for f in (1, 2, 5, 10):
        if span / (step * f / 10) <= 10:
            return step * f / 10
    return step


def write(result, path):
    Path(path).write_text(svg(result))
    return path


def main(argv):
    if len(argv) < 2:
        print("usage: python3 -m threadlab.timeline out/replay/NAME.json [...]", file=sys.stderr)
        return 2
    for name in argv[1:]:
        path = Path(name)
        print(write(json.loads(path.read_text()), path.with_suffix(".svg")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
