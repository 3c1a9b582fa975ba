"""The tutorial's _thread sieve in the lab: the sieve host and the sieve worker started with SIEVE_VARIANT=thread."""

import math
import re

import pytest
from conftest import net, project
from sieve import variants

from threadlab.lab import Lab

PROJECT = project("threadlab-test-sieve")  # a lab of its own: the shared one's worker runs the default variant
NET = net(6)
TUTORIAL = list(variants.TUTORIAL.items())  # section 5.2's runs
EXIT_LINE = re.compile(r"^thread (\d+) exiting; processed (\d+) values of k$", re.M)


@pytest.fixture(scope="module")
def faithful_lab(docker_engine):
    """A lab whose sieve and sieve worker run the tutorial's _thread program, switch interval 0.001 s."""
    lab = Lab(PROJECT, NET, profiles=("serve",), SIEVE_VARIANT="thread", SWITCH_INTERVAL="0.001")
    lab.down()
    try:
        lab.compose("up", "-d", "--build", "--wait", "sieved")
        yield lab
    finally:
        lab.down()


def run(lab, service, *command):
    """docker compose run --rm --no-deps SERVICE COMMAND on the lab; the CompletedProcess."""
    return lab.compose("run", "--rm", "--no-deps", "-T", service, *command, check=False, timeout=120)


def check_tutorial_output(out, n, nthreads, count):
    """One 'thread I exiting; processed NK values of k' per thread, adding up to isqrt(n) - 1, then the count."""
    work = EXIT_LINE.findall(out)
    assert sorted(int(t) for t, _ in work) == list(range(nthreads)), out
    assert sum(int(nk) for _, nk in work) == math.isqrt(n) - 1
    assert out.splitlines()[-1] == f"there are {count} primes"


def test_sieve_host_runs_the_faithful_variant_by_default(faithful_lab):
    """The sieve host's own run (primes.py 1000000 2) with SIEVE_VARIANT=thread: the tutorial's lines and 78498."""
    r = run(faithful_lab, "sieve")
    assert r.returncode == 0, r.stderr
    check_tutorial_output(r.stdout, 1000000, 2, 78498)


@pytest.mark.parametrize("n, count, nthreads", [(n, c, 2) for n, c in TUTORIAL] + [(1000000, 78498, 1),
                                                                                     (1000000, 78498, 4)])
def test_sieve_host_faithful_variant_matches_the_tutorial(faithful_lab, n, count, nthreads):
    """primes.py n t in the sieve host, with the _thread program: the tutorial's table, also with 1 and 4 threads."""
    r = run(faithful_lab, "sieve", "python3", "primes.py", str(n), str(nthreads))
    assert r.returncode == 0, r.stderr
    check_tutorial_output(r.stdout, n, nthreads, count)


def test_sieve_host_line_43_as_printed(faithful_lab):
    """--as-printed, which only the _thread program takes, with 1 thread: one line on where it would spin forever."""
    r = run(faithful_lab, "sieve", "python3", "primes.py", "100", "1", "--as-printed")
    assert r.returncode == 1
    assert r.stdout == "thread 0 exiting; processed 9 values of k\n"
    assert r.stderr.splitlines()[-1].startswith("primes.py: line 43 as printed, 'while nstarted < 2: pass'")


def test_worker_started_with_the_faithful_variant(faithful_lab):
    """The worker's first line names its settings, as the lab passed them."""
    assert re.search(r"^sieved: sieve worker listening on port 2001 \(SIEVE_VARIANT=thread, switch interval 0\.001 s\)$",
                     faithful_lab.logs("sieved"), re.M)


@pytest.mark.parametrize("n, count", TUTORIAL)
def test_client_host_asks_the_faithful_worker(faithful_lab, n, count):
    """u.v.w asks the worker: the tutorial's count and lines, counted by the _thread program."""
    r = run(faithful_lab, "client1", "python3", "-m", "sieve.primes", str(n), "2", "--host", "sieved")
    assert r.returncode == 0, r.stderr
    check_tutorial_output(r.stdout, n, 2, count)
    assert re.search(rf"asked '{n} 2': {count} primes \(thread\)$", faithful_lab.logs("sieved"), re.M)


def test_faithful_worker_refuses_n_past_its_list(faithful_lab):
    """The worker with the _thread program takes n up to 10^7 (its list takes 8 bytes a number)."""
    r = run(faithful_lab, "client1", "python3", "-m", "sieve.primes", "20000000", "2", "--host", "sieved")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.splitlines()[-1] == ("primes.py: the worker on sieved says: n must be from 2 to 10000000 "
                                         "with SIEVE_VARIANT=thread, not 20000000")
