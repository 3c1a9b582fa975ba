"""scripts/bench --quick, end to end against the live lab: the tables printed, the JSON written."""

import json
import os
import re
import subprocess

import pytest
from conftest import net, project

from threadlab.bench.lifecycle import have_ft_base
from threadlab.lab import ROOT

PROJECT = project("threadlab-test-bench")  # not threadlab-bench, which a full benchmark run may have up
NET = net(8)


@pytest.fixture(scope="module")
def quick(docker_engine, tmp_path_factory):
    """One quick run of the benchmark command; yields (its exit code, its output, its folder)."""
    out = tmp_path_factory.mktemp("bench")
    env = dict(os.environ, BENCH_PROJECT=PROJECT, BENCH_NET=NET, BENCH_INSTALL="0")
    r = subprocess.run(["scripts/bench", "--quick", "--out", str(out)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    yield r.returncode, r.stdout + r.stderr, out
    subprocess.run(["docker", "compose", "-p", PROJECT, "down", "-v", "--remove-orphans"], cwd=ROOT,
                   env=dict(env, LAB_NET=NET), capture_output=True, timeout=120)


def test_quick_bench_prints_the_tables(quick):
    """The run ends 0 and prints the server and sieve tables: figure, this lab, each reference, ratio."""
    code, out, _ = quick
    assert code == 0, out
    ft = " +no GIL" if have_ft_base() else ""  # srvr.py on free-threaded Python, on the sieve-ft host
    assert re.search(rf"^figure +this lab{ft} +socketserver +asyncio +pingpong +ratio$", out, re.M), out
    assert re.search(r"^round trips/s, 1 client +\d+\.\dk .* \d\.\d\dx ping-pong$", out, re.M), out
    assert re.search(r"^round trips/s, 8 clients .* \d\.\d\dx socketserver, \d\.\d\dx asyncio$", out, re.M), out
    if have_ft_base():  # scripts/build-ft-base has run here: sieve-ft is measured too, and the fastest
        assert re.search(r"^figure +faithful +segmented +segmented-ft \(fastest\) +segmented-process +plain", out, re.M)
    else:
        assert re.search(r"^figure +faithful +segmented \(fastest\) +segmented-process +plain", out, re.M), out
        assert "  not measured: segmented-ft: no free-threaded sieve host (scripts/build-ft-base" in out
    assert re.search(r"^10\^6, speedup 1 -> 2 ", out, re.M), out
    assert "Targets, from this run:" in out
    assert f"tearing down {PROJECT}" in out


def test_quick_bench_writes_the_json(quick):
    """bench.json holds every server at 1 and 8 clients (srvr.py without the GIL too, where its base is), each
    checked exact, and the sieve's counts."""
    code, out, folder = quick
    assert code == 0, out
    result = json.loads((folder / "bench.json").read_text())
    summary = result["server"]["summary"]
    assert set(summary) == {"lab", "socketserver", "asyncio", "pingpong", *(["lab-ft"] if have_ft_base() else [])}
    for name, by_n in summary.items():
        assert set(by_n) == {"1", "8"}, name
        assert all(f["rate"] > 0 and f["p99_ms"] >= f["p50_ms"] > 0 for f in by_n.values()), name
    assert all(r["final"] > 0 for r in result["server"]["runs"])  # each the exact sum the clients sent
    counts = {(r["variant"], r["n"], r["workers"]): r["count"] for r in result["sieve"]["runs"]}
    assert {v for v, _, _ in counts} >= {"faithful", "segmented", "segmented-process", "plain",
                                         *(["segmented-ft"] if have_ft_base() else [])}
    assert all(c == {100000: 9592, 1000000: 78498}[n] for (_, n, _), c in counts.items()), counts
    assert result["machine"]["cores"] >= 1 and result["machine"]["date"]


def test_report_reprints_the_tables(quick):
    """`scripts/bench --report DIR/bench.json` prints the run's tables again from its JSON, without measuring."""
    code, out, folder = quick
    assert code == 0, out
    r = subprocess.run(["scripts/bench", "--report", str(folder / "bench.json")], cwd=ROOT, capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, BENCH_INSTALL="0"))
    assert r.returncode == 0, r.stdout + r.stderr
    table = re.search(r"^round trips/s, 8 clients .*$", out, re.M).group(0)
    assert table in r.stdout
