"""The benchmark's host side without Docker: splitting load, medians, targets, tables, JSON, plots."""

import json
import subprocess
import sys

import pytest

from threadlab.bench import lab as bench_lab
from threadlab.bench import report as bench_report
from threadlab.bench import server as bench_server
from threadlab.bench import sieve as bench_sieve


def test_split_spreads_clients_over_hosts():
    """Clients go to as many hosts as there are clients, evenly, the first hosts taking one more."""
    hosts = ["client1", "client2"]
    assert bench_server.split(1, hosts) == [("client1", 1)]
    assert bench_server.split(8, hosts) == [("client1", 4), ("client2", 4)]
    assert bench_server.split(65, hosts) == [("client1", 33), ("client2", 32)]
    assert bench_server.split(5, ["a", "b", "c"]) == [("a", 2), ("b", 2), ("c", 1)]


def test_server_and_load_get_cpus_of_their_own():
    """a.b.c on CPU 0, every client host on the rest; with one CPU, nothing pinned; the sieve hosts never."""
    assert bench_lab.pinning(1) == {}
    assert bench_lab.pinning(2) == {"server": "0", **{f"client{i}": "1" for i in range(1, 9)}}
    assert bench_lab.pinning(8)["client3"] == "1-7"
    services = json.loads(bench_lab.override(bench_lab.pinning(2)))["services"]
    assert services["server"] == {"command": ["sleep", "infinity"], "healthcheck": {"test": ["CMD", "true"]},
                                  "cpuset": "0"}
    assert "cpuset" not in services["sieved"] and "cpuset" not in services["sieve-ft"]
    assert services["client1"] == {"cpuset": "1"}


def test_program_runs_each_server_as_the_lab_does():
    """srvr.py for the lab, refservers.py KIND for the rest; one client's echo check fits each."""
    assert bench_server.program("lab") == (["python3", "/app/server/srvr.py", "2000"], "total")
    assert bench_server.program("asyncio") == (["python3", "/app/bench/refservers.py", "asyncio", "2003"], "total")
    assert bench_server.program("pingpong")[1] == "echo"


def fake_run(server, clients, rate, p99, switch_interval=None, rnd=0, cpu=40.0):
    return {"server": server, "clients": clients, "switch_interval": switch_interval, "rate": rate, "round": rnd,
            "p50_ms": p99 / 2, "p90_ms": p99 / 1.5, "p99_ms": p99, "p99.9_ms": p99 * 2,
            "cdf_ms": [p99 * q / 100 for q in range(1, 101)], "loadgen_cpu": [0.5],
            "server_cpu_us": cpu, "client_cpu_us": 30.0}


def test_paired_ratios_are_taken_round_by_round():
    """A ratio pairs the two servers' figures from the same round, then takes the median."""
    runs = [fake_run("lab", 64, r, 1, rnd=i) for i, r in enumerate([100, 300, 200])]
    runs += [fake_run("socketserver", 64, r, 1, rnd=i) for i, r in enumerate([50, 600, 100])]
    s = bench_server.summarize(runs)
    assert bench_server.paired(s, "lab", "socketserver", 64) == [2.0, 0.5, 2.0]
    assert bench_server.paired_median(s, "lab", "socketserver", 64) == 2.0  # the ratio of medians would be 2/1
    assert bench_server.paired_median(s, "lab", "asyncio", 64) is None


def test_summarize_takes_medians_over_rounds():
    runs = [fake_run("lab", 64, r, p, rnd=i) for i, (r, p) in enumerate([(100, 5), (300, 1), (200, 3)])]
    runs.append(fake_run("lab", 64, 50, 9, switch_interval=0.0005, cpu=None))
    s = bench_server.summarize(runs)
    assert s["lab"][64]["rate"] == 200 and s["lab"][64]["p99_ms"] == 3 and s["lab"][64]["server_cpu_us"] == 40
    assert s["lab"][64]["rates"] == [100, 300, 200]
    assert s["lab"][64]["cdf_ms"][-1] == 3  # the CDF of the round with the median rate
    assert s["lab SWITCH_INTERVAL=0.0005"][64]["rate"] == 50
    assert s["lab SWITCH_INTERVAL=0.0005"][64]["server_cpu_us"] is None  # no cgroup to read: no figure


def server_result(lab64=12000, ss64=10000, aio64=9000, p99=2.5, lab1=9000, pp1=10000):
    runs = [fake_run("lab", 1, lab1, 0.1), fake_run("pingpong", 1, pp1, 0.1),
            fake_run("socketserver", 1, 9500, 0.1), fake_run("asyncio", 1, 5000, 0.2),
            fake_run("lab", 64, lab64, p99, cpu=60.0), fake_run("socketserver", 64, ss64, 4),
            fake_run("asyncio", 64, aio64, 6), fake_run("pingpong", 64, 15000, 3)]
    sweep = [fake_run("lab", 64, 11000, p, switch_interval=si) for si, p in ((0.005, 6), (0.0005, 2))]
    return {"runs": runs + sweep, "summary": bench_server.summarize(runs), "sweep": bench_server.summarize(sweep),
            "settings": {"clients": [1, 64], "rounds": 1, "seconds": 2, "warmup": 0.5, "sweep_clients": 64,
                         "sweep": [0.005, 0.0005], "hosts": ["client1", "client2"],
                         "pinned": {"server": "0", "client1": "1", "client2": "1"}}}


def test_server_targets_met_and_not_met():
    """Each of the issue's server targets is a ratio from the same run, judged as the issue states it."""
    t = {x["target"]: x for x in bench_report.server_targets(server_result())}
    assert t["lab server >= 1.0x socketserver throughput at 64 clients"]["value"] == pytest.approx(1.2)
    assert t["lab server >= 1.0x socketserver throughput at 64 clients"]["met"]
    assert t["lab server >= 1.2x asyncio throughput at 64 clients"]["value"] == pytest.approx(12000 / 9000)
    assert t["lab server >= 1.2x asyncio throughput at 64 clients"]["met"]
    assert not t["p99 at 64 clients <= 2 ms"]["met"]
    assert "best of the SWITCH_INTERVAL sweep 2.00 ms at 0.5 ms" in t["p99 at 64 clients <= 2 ms"]["figures"]
    assert "64 / rate = 5.33 ms" in t["p99 at 64 clients <= 2 ms"]["figures"]
    assert t["lab server >= 0.85x the raw ping-pong floor throughput at 1 client"]["met"]  # 0.9x
    t = {x["target"]: x for x in bench_report.server_targets(server_result(lab64=9000, lab1=8000, p99=1.9))}
    assert t["p99 at 64 clients <= 2 ms"]["met"]
    assert not t["lab server >= 1.0x socketserver throughput at 64 clients"]["met"]
    assert not t["lab server >= 1.2x asyncio throughput at 64 clients"]["met"]
    assert not t["lab server >= 0.85x the raw ping-pong floor throughput at 1 client"]["met"]  # 0.8x


def sieve_runs(seconds):
    """Runs as bench_sieve.run records them, from {(variant, n, workers): [seconds per repetition]}."""
    return [{"variant": v, "n": n, "workers": w, "rep": rep, "seconds": t, "cores": float(w),
             "count": bench_sieve.PRIMES[n]} for (v, n, w), ts in seconds.items() for rep, t in enumerate(ts)]


def sieve_result(seconds=None):
    seconds = seconds or {
        (v, n, w): [base * n / 10**9 / (1.8 if v == "numpy" and w == 2 else 1)]
        for v, base in (("faithful", 3.0), ("segmented", 1.0), ("numpy", 0.6), ("primesieve", 0.0))
        for n in (10**7, 10**9) for w in (1, 2)}
    runs = sieve_runs(seconds)
    result = {"runs": runs, "missing": {"plain": "not here"},
              "settings": {"sizes": sorted({n for _, n, _ in seconds}), "workers": [1, 2], "repeat": 1}}
    result.update(bench_sieve.figures(runs, [1, 2]))
    return result


def test_sieve_figures_pair_runs_by_repetition():
    """A speedup pairs 1 and 2 workers of the same repetition; a ratio, segmented and primesieve of the same."""
    big = 10**9
    f = bench_sieve.figures(sieve_runs({("segmented", big, 1): [2.0, 4.0, 2.2], ("segmented", big, 2): [2.0, 4.0, 1.1],
                                        ("primesieve", big, 2): [0.1, 0.4, 0.1]}), [1, 2])
    assert f["speedup"]["segmented"][big] == 1.0  # paired: 1.0, 1.0, 2.0; unpaired medians would say 2.2 / 2.0
    assert f["vs_primesieve"][big][2] == pytest.approx(11.0)  # 20, 10, 11
    assert f["table"]["segmented"][big] == {1: 2.2, 2: 2.0}
    f = bench_sieve.figures(sieve_runs({("segmented", 10**7, 2): [0.02], ("primesieve", 10**7, 2): [0.001]}), [1, 2])
    assert f["vs_primesieve"] == {}  # under primesieve's 10 ms: no ratio


def test_sieve_targets():
    big = 10**9
    r = bench_report.sieve_targets(sieve_result({("segmented", big, 1): [2.0], ("segmented", big, 2): [1.9],
                                                 ("primesieve", big, 1): [0.2], ("primesieve", big, 2): [0.1]}))
    assert [(x["value"], x["met"]) for x in r] == [(pytest.approx(19.0), True), (pytest.approx(2.0 / 1.9), False)]
    assert "2.00 cores busy" in r[1]["figures"]
    no_ps = bench_report.sieve_targets(sieve_result({("segmented", big, 1): [2.0], ("segmented", big, 2): [1.0]}))
    assert [(x["value"], x["met"]) for x in no_ps] == [(2.0, True)]  # no primesieve: only the speedup


def test_free_threaded_segmented_is_the_fastest_when_measured():
    """With segmented-ft measured, the targets, the ratio to primesieve and the table's "(fastest)" are its;
    segmented with the GIL stays beside it for comparison."""
    big = 10**9
    times = {("segmented", big, 1): [2.0], ("segmented", big, 2): [2.1], ("segmented-ft", big, 1): [2.2],
             ("segmented-ft", big, 2): [1.2], ("primesieve", big, 1): [0.2], ("primesieve", big, 2): [0.1]}
    result = sieve_result(times)
    assert result["fastest"] == "segmented-ft"
    assert result["vs_primesieve"][big][2] == pytest.approx(12.0)
    r = bench_report.sieve_targets(result)
    assert [(x["value"], x["met"]) for x in r] == [(pytest.approx(12.0), True), (pytest.approx(2.2 / 1.2), True)]
    assert "segmented-ft 1.200 s vs primesieve" in r[0]["figures"]
    assert "segmented with the GIL: 2.100 s, 21.0x" in r[0]["figures"]
    assert "; segmented 0.95x" in r[1]["figures"]
    header = bench_report.sieve_table(result).splitlines()[1]
    assert "segmented-ft (fastest)" in header and "segmented (fastest)" not in header
    del times[("segmented-ft", big, 1)], times[("segmented-ft", big, 2)]
    assert sieve_result(times)["fastest"] == "segmented"  # not measured: the lab's fastest with the GIL


def test_tables_render_with_every_figure():
    """The server and sieve tables: one row per figure, with the lab, each reference, and the ratio."""
    text = bench_report.server_table(server_result())
    lines = text.splitlines()
    assert "load from client1, client2 (a.b.c on CPU 0, the load on CPU 1); " in lines[0]
    assert lines[1].split() == ["figure", "this", "lab", "socketserver", "asyncio", "pingpong", "ratio"]
    assert "socketserver" in lines[1] and "asyncio" in lines[1] and "pingpong" in lines[1]
    row = next(line for line in lines if line.startswith("round trips/s, 64 clients"))
    assert "12.0k" in row and "10.0k" in row and "1.20x socketserver" in row and "1.33x asyncio" in row
    assert "0.90x ping-pong" in next(line for line in lines if line.startswith("round trips/s, 1 client "))


    assert "1.50x socketserver's" in next(line for line in lines if line.startswith("server CPU us per round trip, 64"))
    assert "5 (stock)" in text  # the switch-interval sweep
    text = bench_report.sieve_table(sieve_result())
    assert "primesieve: too quick for its 1 ms clock" in text  # a primesieve time of 0 is no ratio, and no crash
    assert "not measured: plain: not here" in text
    speedup = next(line for line in text.splitlines() if line.startswith("10^9, speedup"))
    assert "1.80x" in speedup and "1.00x" in speedup


def test_the_free_threaded_server_is_a_column_beside_the_gil_one():
    """srvr.py without the GIL (lab-ft, on the sieve-ft host): its own column, its rate, p99 and CPU."""
    server = server_result()
    server["runs"] += [fake_run("lab-ft", 1, 7000, 0.2), fake_run("lab-ft", 64, 8000, 3.5, cpu=90.0)]
    server["summary"] = bench_server.summarize([r for r in server["runs"] if r["switch_interval"] is None])
    lines = bench_report.server_table(server).splitlines()
    assert "and itself on free-threaded Python (no GIL, on the same CPU)" in lines[0]
    assert lines[1].split() == ["figure", "this", "lab", "no", "GIL", "socketserver", "asyncio", "pingpong", "ratio"]
    row = lambda start: next(line for line in lines if line.startswith(start)).split()
    assert row("round trips/s, 64 clients")[4:6] == ["12.0k", "8.0k"]
    assert row("p99 ms, 64 clients")[4:6] == ["2.50", "3.50"]
    assert row("server CPU us per round trip, 64 clients")[8:10] == ["60", "90"]


def test_lifecycle_table_and_targets():
    lc = {"base": {"seconds": 41.0, "mb": 169}, "build": {"cold_seconds": 20.0, "warm_seconds": 1.0, "images": 11},
          "up": {"seconds": 6.0, "hosts": 11}, "demo": {"seconds": 9.0, "ok": True},
          "suite": {"seconds": 400.0, "ok": True, "summary": "120 passed in 399s"}}
    text = bench_report.lifecycle_table(lc)
    assert "169 MB" in text and "120 passed" in text
    t = {x["target"]: x["met"] for x in bench_report.lifecycle_targets(lc)}
    assert t == {"end-to-end demo <= 15 s with warm images": True, "whole test suite <= 3 min": False,
                 "a fresh machine to the demo's final line <= 45 s": False}
    fresh = next(line for line in text.splitlines() if line.startswith("a fresh machine"))
    assert "70.0" in fresh.split() and fresh.endswith("target <= 45 s"), fresh  # 41 + 20 + 9
    del lc["base"]
    assert "a fresh machine to the demo's final line <= 45 s" not in {x["target"] for x in bench_report.lifecycle_targets(lc)}


def test_json_round_trip_keeps_number_keys(tmp_path):
    """bench.json written and loaded again: clients, n and workers are numbers again, the tables the same."""
    result = {"server": server_result(), "sieve": sieve_result()}
    path = bench_report.write(result, tmp_path)
    loaded = bench_report.load(path)
    assert loaded["server"]["summary"]["lab"][64]["rate"] == 12000
    assert loaded["sieve"]["table"]["numpy"][10**9][2] == pytest.approx(0.6 / 1.8)
    assert bench_report.server_table(loaded["server"]) == bench_report.server_table(result["server"])


def test_plots_are_drawn(tmp_path):
    """Every plot is a PNG file (skipped where matplotlib is missing)."""
    pytest.importorskip("matplotlib")
    made = bench_report.plots({"server": server_result(), "sieve": sieve_result()}, tmp_path)
    assert made == ["server.png", "latency.png", "switch-interval.png", "sieve.png", "sieve-threads.png"]
    for name in made:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_machine_says_where_and_when():
    m = bench_report.machine("3.11.2")
    assert m["cores"] >= 1 and m["lab_python"] == "3.11.2" and len(m["load_average"]) == 3
    assert "UTC" in bench_report.describe(m)


def program(code):
    return bench_lab.Program([sys.executable, "-c", code], "test server")


def test_program_waits_for_listening_then_reads_the_final_value():
    """A started server is ready once it says 'listening on port'; its final value is parsed from its output."""
    p = program("import sys; print('x listening on port 1'); sys.stdin and print('the final value of v is 42')")
    p.wait_ready(10)
    assert p.final(10) == 42


@pytest.mark.parametrize("code, error", [
    ("print('never listening')", "did not start listening"),
    ("print('listening on port 1'); print('no final value')", "without a final value"),
    ("import sys; print('listening on port 1'); print('the final value of v is 3'); sys.exit(1)", r"failed \(exit 1\)"),
])
def test_program_failures_are_bench_errors(code, error):
    p = program(code)
    with pytest.raises(bench_lab.BenchError, match=error):
        p.wait_ready(10)
        p.final(10)


def test_program_that_never_ends():
    p = program("import time; print('listening on port 1', flush=True); time.sleep(60)")
    p.wait_ready(10)
    with pytest.raises(bench_lab.BenchError, match="did not end its session within 0.5 s"):
        p.final(0.5)


def test_bench_refuses_bad_arguments():
    """scripts/bench with a part it does not have: exit 2 and a usage line, before touching Docker."""
    r = subprocess.run([sys.executable, "-m", "threadlab.bench.main", "--only", "disk"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "usage:" in r.stderr


def test_bench_report_reprints_a_saved_run(tmp_path):
    """scripts/bench --report bench.json prints the tables again, without a lab."""
    result = {"mode": "full", "server": server_result(), "sieve": sieve_result(), "lifecycle": {},
              "machine": bench_report.machine("3.11.2"), "seconds": 1.0}
    path = bench_report.write(result, tmp_path)
    r = subprocess.run([sys.executable, "-m", "threadlab.bench.main", "--report", str(path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "round trips/s, 64 clients" in r.stdout and "Targets, from this run" in r.stdout
    assert json.loads(path.read_text())["server"]["settings"]["rounds"] == 1
