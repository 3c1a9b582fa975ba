"""scripts/balance: the spread of the sieve's work between threads, as a table, a PNG and JSON (here, with --local)."""

import json
import math
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from threadlab.balance import main as balance_main
from threadlab.balance import report as balance_report

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300  # seconds: --quick takes seconds; longer is a bug
QUICK_N = [100, 10000, 100000]
VARIANTS = ["thread", "threading-loop", "threading"]
PRIMES = {100: 25, 10000: 1229, 100000: 9592}


def balance(*args, out):
    return subprocess.run([str(ROOT / "scripts" / "balance"), *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, BALANCE_OUT=str(out)), timeout=TIMEOUT)


def png_size(data):
    """(width, height) of a PNG whose every chunk's CRC holds and whose pixels decompress to the right length."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks = 8, []
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length:at + 12 + length])[0] == zlib.crc32(kind + body)
        chunks.append((kind, body))
        at += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert depth == 8 and len(pixels) == height * (1 + width * channels)
    return width, height


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One run of scripts/balance --quick --local: (the CompletedProcess, its output folder)."""
    out = tmp_path_factory.mktemp("balance")
    return balance("--quick", "--local", out=out), out


def test_quick_prints_a_table_per_variant(quick):
    """--quick: for each variant, its title, a column per switch interval and a row per n, then what it wrote."""
    r, out = quick
    assert (r.returncode, r.stderr) == (0, "")
    lines = r.stdout.splitlines()
    report = json.loads((out / "balance-quick.json").read_text())
    for variant in VARIANTS:
        at = lines.index(balance_report.TITLES[variant])
        assert lines[at + 1].split() == ["switch", "0.005", "s", "switch", "0.1", "s"]
        assert lines[at + 2].split() == ["n", "threads", "busiest", "whole", "busiest", "whole"]
        for i, n in enumerate(QUICK_N):
            cells = lines[at + 3 + i].split()
            assert cells[:2] == [str(n), "2"]
            shown = [int(c.rstrip("%")) for c in cells[2::2]]
            measured = [round(balance_report.summary(r)["busiest"] * 100) for r in report["results"]
                        if (r["variant"], r["n"]) == (variant, n)]
            assert shown == measured  # the table shows the runs' own figures
            assert all(c.endswith("/3") and 0 <= int(c[:-2]) <= 3 for c in cells[3::2])
    assert lines[-1] == f"balance: wrote {out / 'balance-quick.png'} and {out / 'balance-quick.json'}"


def test_quick_writes_a_valid_png(quick):
    """balance.png is a whole PNG: every chunk's CRC holds and its pixels are all there."""
    _, out = quick
    width, height = png_size((out / "balance-quick.png").read_bytes())
    assert width > 600 and height > 200


def test_quick_writes_every_run(quick):
    """balance.json has every setting's runs: the right count, and the threads' k's add up to isqrt(n) - 1."""
    _, out = quick
    report = json.loads((out / "balance-quick.json").read_text())
    assert report["where"] == "here" and report["runs"] == 3
    settings = {(r["variant"], r["n"], r["threads"], r["switch"]) for r in report["results"]}
    assert settings == {(v, n, 2, s) for v in VARIANTS for n in QUICK_N for s in (0.005, 0.1)}
    for r in report["results"]:
        assert r["counts"] == [PRIMES[r["n"]]]
        assert len(r["work"]) == 3
        assert all(len(run) == 2 and sum(run) == math.isqrt(r["n"]) - 1 for run in r["work"])


@pytest.mark.parametrize("args, error", [
    (["--n", "1"], "argument --n: n must be a number from 2 to 10000000, not '1'"),
    (["--n", "100,abc"], "argument --n: n must be a number from 2 to 10000000, not 'abc'"),
    (["--n", str(10**8)], "argument --n: n must be a number from 2 to 10000000, not '100000000'"),
    (["--threads", "0"], "argument --threads: threads must be a number from 1 to 64, not '0'"),
    (["--switch", "0"], "argument --switch: switch intervals must be a number from 1e-06 to 1, not '0'"),
    (["--switch", "nan"], "argument --switch: switch intervals must be a number from 1e-06 to 1, not 'nan'"),
    (["--runs", "0"], "argument --runs: runs must be a number from 1 to 99, not '0'"),
    (["--variants", "thread,numpy"],
     "argument --variants: variants are threading, threading-loop, thread, not 'numpy'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args, error):
    """A bad argument: one line on stderr, no traceback, exit 2, nothing written."""
    r = balance("--local", *args, out=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", f"balance: {error}\n")
    assert not list(tmp_path.iterdir())


def test_summary_and_row():
    """busiest is the mean of each run's busiest share; whole counts the runs one thread did alone."""
    result = {"work": [[9, 0], [3, 6], [0, 9]]}
    s = balance_report.summary(result)
    assert s["busiest"] == pytest.approx((1 + 6 / 9 + 1) / 3)
    assert (s["low"], s["high"], s["whole"], s["runs"]) == (pytest.approx(6 / 9), 1, 2, 3)
    assert balance_report.row(100, 2, [result, {"work": [[5, 4]]}]).split() == ["100", "2", "89%", "2/3", "56%", "0/1"]


@pytest.mark.parametrize("result, error", [
    ({"variant": "thread", "n": 100, "threads": 2, "counts": [26], "work": [[9, 0]]},
     "thread counted [26] primes up to 100, not 25"),
    ({"variant": "thread", "n": 100, "threads": 2, "counts": [25, 26], "work": [[9, 0]]},
     "thread counted [25, 26] primes up to 100, not 25"),
    ({"variant": "threading", "n": 100, "threads": 2, "counts": [25], "work": [[9, 0], [8, 0]]},
     "threading at n=100: the threads' k's [8, 0] do not add up to 9"),
    ({"variant": "threading", "n": 100, "threads": 2, "counts": [25], "work": [[9]]},
     "threading at n=100: the threads' k's [9] do not add up to 9"),
])
def test_check_catches_wrong_answers(result, error):
    """A wrong count, counts that differ between runs, or k's that do not add up: Failed, saying which."""
    with pytest.raises(balance_main.Failed) as e:
        balance_main.check(result)
    assert str(e.value) == error


def test_failed_runner_is_one_line(tmp_path):
    """When the runs fail, measure raises Failed with the last line the runner printed on stderr."""
    cmd = [sys.executable, "-c", "import sys; print('Traceback ...', file=sys.stderr); sys.exit('boom')"]
    with pytest.raises(balance_main.Failed, match="^the sieve runs failed: boom$"):
        balance_main.measure(cmd, None, tmp_path, print, print)
