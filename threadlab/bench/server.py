"""The server benchmark: the lab's srvr.py against three references, under the same load, in one run.

On a.b.c, in turn: srvr.py as the lab runs it, socketserver's
ThreadingTCPServer, an asyncio server and a raw ping-pong floor
(services/bench/refservers.py). From the client hosts, the load generator
(services/bench/loadgen.py) runs 1, 8 and 64 clients against each, split over
the client hosts, for a window of round trips after a warm-up. Where the
free-threaded base is here, the same srvr.py also runs without the GIL
("lab-ft") on the sieve-ft host (threadlab-host:ft), pinned to a.b.c's CPU
for the server part: the same conditions, another interpreter. Then srvr.py
at 64 clients with each SWITCH_INTERVAL of a sweep, in turn with the others:
the tutorial's lever on how long a thread keeps the interpreter. Each measurement is
checked: the server's final value must be the sum of every k the clients
sent. Rounds repeat the whole set, the servers in a different order each
round, and the figures are the medians over rounds.
"""

import statistics
import threading
import time

from threadlab.bench.lab import BenchError

PORTS = {"lab": 2000, "socketserver": 2002, "asyncio": 2003, "pingpong": 2004, "lab-ft": 2005}
REFERENCES = ("socketserver", "asyncio", "pingpong")
FT = "lab-ft"  # srvr.py on free-threaded Python, on the sieve-ft host
HOSTS = {FT: ("sieve-ft", "sieve-ft")}  # server: (its service, the name the clients connect to); else a.b.c
STOCK = 0.005  # seconds: CPython's default sys.getswitchinterval()
QUANTILES = (50, 90, 99, 99.9)


def program(server):
    """The command that starts server on its host, and what a single client's echoes must be."""
    if server in ("lab", FT):
        return ["python3", "/app/server/srvr.py", str(PORTS[server])], "total"
    return ["python3", "/app/bench/refservers.py", server, str(PORTS[server])], "echo" if server == "pingpong" else "total"


def split(clients, hosts):
    """clients spread over at most len(hosts) hosts, as evenly as can be: [(host, n), ...]."""
    used = hosts[:min(len(hosts), clients)]
    return [(h, clients // len(used) + (i < clients % len(used))) for i, h in enumerate(used)]


def percentile(sorted_values, q):
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def measure(bl, server, clients, hosts, seconds, warmup, switch_interval=None):
    """One measurement: server on a.b.c, clients split over the client hosts; return its figures."""
    argv, expect = program(server)
    env = {"NCLIENTS": clients}
    if switch_interval is not None:
        env["SWITCH_INTERVAL"] = switch_interval
    parts = split(clients, hosts)
    service, address = HOSTS.get(server, ("server", "a.b.c"))
    cpu0 = {h: bl.cpu_seconds(h) for h in [service, *(h for h, _ in parts)]}
    prog = bl.start(service, *argv, env=env)
    prog.wait_ready()
    start_at = time.time() + 0.5  # every generator connects, then they start together
    results, errors = [None] * len(parts), []

    def generate(i, host, n):
        try:
            results[i] = bl.exec_json(host, "python3", "/app/bench/loadgen.py", address, str(PORTS[server]),
                                      "--clients", str(n), "--seconds", str(seconds), "--warmup", str(warmup),
                                      "--expect", expect if n == clients == 1 else "none",
                                      "--start-at", f"{start_at:.3f}", "--raw", timeout=seconds + warmup + 60)
        except Exception as e:  # reported below, with the host
            errors.append(f"{host}: {e}")

    threads = [threading.Thread(target=generate, args=(i, h, n)) for i, (h, n) in enumerate(parts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        final = prog.final()
    except BenchError as e:
        errors.append(str(e))
    if errors:
        raise BenchError(f"{server} with {clients} clients: " + "; ".join(errors))
    cpu = {h: (c1 - cpu0[h]) if c1 is not None and cpu0[h] is not None else None
           for h, c1 in ((h, bl.cpu_seconds(h)) for h in cpu0)}
    sent = sum(r["sum_k"] for r in results)
    if final != sent:
        raise BenchError(f"{server} with {clients} clients: final value {final}, but the clients sent {sent}")
    lat = sorted(t for r in results for t in r["latencies_us"])
    return {
        "server": server, "clients": clients, "switch_interval": switch_interval,
        "hosts": [h for h, _ in parts],
        "rate": sum(r["rate"] for r in results),
        "round_trips": len(lat),
        **{f"p{q:g}_ms": percentile(lat, q) / 1000 for q in QUANTILES},
        "max_ms": lat[-1] / 1000,
        "cdf_ms": [percentile(lat, q) / 1000 for q in range(1, 101)],
        "final": final,
        "loadgen_cpu": [r["loadgen_cpu"] for r in results],
        # CPU time per round trip on a.b.c (the server, and the kernel's work charged to it) and on the
        # client hosts: a cost that other work on the machine disturbs far less than the rate
        "server_cpu_us": per_round_trip(cpu[service], results),
        "client_cpu_us": per_round_trip(sum(cpu[h] for h, _ in parts) if None not in cpu.values() else None, results),
        "per_client": [min(r["per_client_min"] for r in results), max(r["per_client_max"] for r in results)],
    }


def per_round_trip(seconds, results):
    total = sum(r["total_round_trips"] for r in results)
    return seconds / total * 1e6 if seconds is not None and total else None


def label(server, switch_interval):
    if server != "lab" or switch_interval is None:
        return server
    return f"lab SWITCH_INTERVAL={switch_interval:g}"


def run(bl, hosts, clients=(1, 8, 64), rounds=3, seconds=2.0, warmup=0.5, sweep=(), sweep_clients=64, say=print):
    """Every measurement, rounds times over; return {"runs": [...], "summary": {...}, "sweep": {...}}.

    At sweep_clients, the lab's server with each SWITCH_INTERVAL of sweep takes its turn among the
    others, so that the sweep's points and the stock server are measured under the same conditions.
    """
    runs = []
    servers = ["lab", *REFERENCES, *([FT] if HOSTS[FT][0] in bl.ids else [])]
    if FT in servers:  # on a.b.c's CPU, away from the load's, as a.b.c is; the sieve part gives it every CPU again
        bl.pin(HOSTS[FT][0], bl.pins.get("server"))
    for rnd in range(rounds):
        for n in clients:
            configs = [(r, None) for r in servers]
            if n == sweep_clients:
                configs += [("lab", si) for si in sweep if si != STOCK]
            for server, si in configs[rnd % len(configs):] + configs[:rnd % len(configs)]:
                r = measure(bl, server, n, hosts, seconds, warmup, si)
                r["round"] = rnd
                runs.append(r)
                say(progress(rnd, rounds, r))
    if FT in servers:
        bl.pin(HOSTS[FT][0], None)
    stock_and_sweep = [dict(r, switch_interval=r["switch_interval"] or STOCK) for r in runs
                       if r["server"] == "lab" and r["clients"] == sweep_clients] if sweep else []
    return {"runs": runs, "summary": summarize([r for r in runs if r["switch_interval"] is None]),
            "sweep": summarize(stock_and_sweep),
            "settings": {"clients": list(clients), "rounds": rounds, "seconds": seconds, "warmup": warmup,
                         "sweep": sorted({STOCK, *sweep}, reverse=True) if sweep else [],
                         "sweep_clients": sweep_clients, "hosts": list(hosts), "pinned": bl.pins}}


def paired(summary, a, b, n, key="rates"):
    """a's figure over b's, round by round (each pair measured minutes apart at most): [ratio, ...]."""
    fa, fb = summary.get(a, {}).get(n), summary.get(b, {}).get(n)
    if not fa or not fb:
        return []
    by_round = dict(zip(fb["rounds"], fb[key]))
    return [x / by_round[rnd] for rnd, x in zip(fa["rounds"], fa[key]) if by_round.get(rnd) and x is not None]


def paired_median(summary, a, b, n, key="rates"):
    ratios = paired(summary, a, b, n, key)
    return statistics.median(ratios) if ratios else None


def progress(rnd, rounds, r):
    cpu = f"  server {r['server_cpu_us']:.0f} us CPU each" if r.get("server_cpu_us") else ""
    return (f"  round {rnd + 1}/{rounds}  {r['clients']:3} clients  {label(r['server'], r['switch_interval']):30} "
            f"{r['rate']:8.0f} round trips/s  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms{cpu}")


def summarize(runs):
    """{label: {clients: medians over rounds}}, with each round's figures kept."""
    groups = {}
    for r in runs:
        groups.setdefault(label(r["server"], r["switch_interval"]), {}).setdefault(r["clients"], []).append(r)
    out = {}
    for name, by_n in groups.items():
        out[name] = {}
        for n, rs in sorted(by_n.items()):
            mid = sorted(rs, key=lambda r: r["rate"])[len(rs) // 2]
            out[name][n] = {
                "switch_interval": rs[0]["switch_interval"],
                "rate": statistics.median(r["rate"] for r in rs),
                **{k: statistics.median(r[k] for r in rs) for k in ("p50_ms", "p90_ms", "p99_ms", "p99.9_ms")},
                **{k: statistics.median(r[k] for r in rs) if all(r.get(k) is not None for r in rs) else None
                   for k in ("server_cpu_us", "client_cpu_us")},
                "rounds": [r["round"] for r in rs],
                "rates": [r["rate"] for r in rs],
                "cpus_us": [r.get("server_cpu_us") for r in rs],
                "p99s_ms": [r["p99_ms"] for r in rs],
                "cdf_ms": mid["cdf_ms"],  # the round with the median rate
                "loadgen_cpu": mid["loadgen_cpu"],
            }
    return out
