"""The sieve variants the benchmark times: each gives the tutorial's counts, with any number of workers."""

import json
import math
from pathlib import Path

import pytest
from bench import plainsieve, sievebench
from sieve import sieve_segmented, variants

ROOT = Path(__file__).resolve().parents[2]

TUTORIAL = list(variants.TUTORIAL.items())  # section 5.2's runs


@pytest.mark.parametrize("kind, workers", [("thread", 1), ("thread", 2), ("thread", 3), ("process", 2)])
@pytest.mark.parametrize("n, count", TUTORIAL)
def test_segmented_gives_the_tutorials_counts(n, count, kind, workers):
    """sieve_segmented, threads or processes, default segments: the tutorial's counts."""
    assert sieve_segmented.count_primes(n, workers, kind)[0] == count


@pytest.mark.parametrize("segment", [1, 2, 7, 64, 1000])
def test_segmented_agrees_with_the_plain_count_for_every_small_n(segment):
    """For every small n and tiny segments (every edge of a segment and of the wheel), the same count."""
    top = 300 if segment < 7 else 1200  # one-byte segments: a thread's turn per odd number
    is_prime = [k > 1 and all(k % d for d in range(2, math.isqrt(k) + 1)) for k in range(top + 1)]
    for n in range(2, top + 1):
        assert sieve_segmented.count_primes(n, 2, segment=segment)[0] == sum(is_prime[:n + 1]), n


@pytest.mark.parametrize("n", [10**6 + 1, 255255 * 2 + 1, 2 * 10**6 - 1])
def test_segmented_across_segments_and_wheel_periods(n):
    """Segments that end mid-period of the wheel, and n past several periods."""
    want = variants.count_primes(n, 1)[0]
    for segment in (4093, 255255, 1 << 16):
        assert sieve_segmented.count_primes(n, 3, segment=segment)[0] == want


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_segmented_work_is_shared_out_exactly_once(kind):
    """Each segment is done by exactly one worker, and each worker reports once."""
    n, segment = 10**6, 10**4
    count, work = sieve_segmented.count_primes(n, 3, kind, segment=segment)
    assert count == 78498
    assert sorted(wn for wn, _ in work) == [0, 1, 2]
    assert sum(done for _, done in work) == math.ceil(((n - 1) // 2 + 1) / segment)


@pytest.mark.parametrize("args", [(1, 1), (100, 0), (100, 1, "fiber"), (100, 1, "thread", 0)])
def test_segmented_refuses_bad_arguments(args):
    with pytest.raises(ValueError):
        sieve_segmented.count_primes(*args)


def test_wheel_pattern_crosses_out_the_wheels_multiples_only():
    """Byte i of the pattern (the number 2i + 1) is 0 exactly when a wheel prime divides 2i + 1."""
    period = sieve_segmented.PERIOD
    pat = sieve_segmented.wheel_pattern(period + 1000)
    assert len(pat) == period + 1000
    for i in [*range(20000), *range(period - 1000, period + 1000)]:
        assert pat[i] == (not any((2 * i + 1) % p == 0 for p in sieve_segmented.WHEEL)), i


def test_small_primes():
    assert sieve_segmented.small_primes(2) == []
    assert sieve_segmented.small_primes(30) == [3, 5, 7, 11, 13, 17, 19, 23, 29]


@pytest.mark.parametrize("nthreads", [1, 2, 3])
@pytest.mark.parametrize("n, count", TUTORIAL + [(2, 1), (3, 2), (121, 30)])
def test_plain_gives_the_tutorials_counts(n, count, nthreads):
    assert plainsieve.count_primes(n, nthreads) == count


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("n, count", TUTORIAL)
def test_numpy_gives_the_tutorials_counts(n, count, workers):
    """The host-only numpy reference: the same counts (skipped where numpy is missing)."""
    sieve_numpy = pytest.importorskip("sieve.sieve_numpy", exc_type=ImportError)
    assert sieve_numpy.count_primes(n, workers)[0] == count
    assert sieve_numpy.count_primes(n, workers, segment=777)[0] == count


@pytest.mark.parametrize("variant", ["faithful", "segmented", "segmented-process", "plain"])
def test_sievebench_times_and_checks_a_variant(variant):
    """sievebench.run: the count, one time per repeat, and how many cores were busy."""
    r = sievebench.run(variant, 10**5, 2, repeat=2)
    assert r["count"] == 9592
    assert len(r["seconds"]) == 2 and all(t > 0 for t in r["seconds"])
    assert r["cores"] >= 0


def test_sievebench_main_prints_one_json_line(capsys):
    assert sievebench.main(["sievebench.py", "segmented", "10000", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out)["count"] == 1229


def test_sievebench_main_bad_n(capsys):
    assert sievebench.main(["sievebench.py", "plain", "1", "1"]) == 1
    assert capsys.readouterr().err.startswith("sievebench.py: ")
