"""services/tutorial's programs are the seed's listings (threadlab.tutorial), or, without the seed, their hashes."""

import pytest

from threadlab import tutorial

NAMES = list(tutorial.PROGRAMS)


@pytest.mark.parametrize("name", NAMES)
def test_committed_file_is_the_seeds_listing(name):
    """The committed file is what threadlab.tutorial takes out of the seed text, byte for byte."""
    if not tutorial.SEED.is_file():
        pytest.skip(f"no seed text at {tutorial.SEED} (set THREADLAB_SEED): the sha256 test checks the files")
    program, _ = tutorial.extract(name)
    assert (tutorial.FOLDER / name).read_text() == program


@pytest.mark.parametrize("name", NAMES)
def test_committed_file_has_its_recorded_sha256(name):
    """Seed or not, the committed file hashes to tutorial.SHA256: a change to it fails here."""
    assert tutorial.sha256((tutorial.FOLDER / name).read_bytes()) == tutorial.SHA256[name]


def test_the_only_changes_are_primes_lines_22_to_25():
    """No markdown escape to undo in any listing; four spaces back on primes.py 22-25, nothing else."""
    if not tutorial.SEED.is_file():
        pytest.skip(f"no seed text at {tutorial.SEED} (set THREADLAB_SEED)")
    changes = {name: tutorial.extract(name)[1] for name in NAMES}
    assert changes == {"clnt.py": [], "srvr.py": [],
                       "primes.py": [f"line {n}: 4 spaces of indentation restored" for n in range(22, 26)]}


def test_lock_lines_are_where_unlocked_py_expects():
    """unlocked.py leaves out srvr.py's lines 26 and 28, around line 27's v += k."""
    lines = (tutorial.FOLDER / "srvr.py").read_text().splitlines()
    assert [lines[25].strip(), lines[26], lines[27].strip()] == ["vlock.acquire()", "        v += k", "vlock.release()"]


def test_a_listing_that_does_not_follow_on_is_refused(tmp_path):
    """A listing whose numbers break off is an error, not a shorter program."""
    seed = tmp_path / "seed.txt"
    seed.write_text("Here is the client, **clnt.py**:\n\n```\n1 import socket\n3 import sys\n```\n")
    with pytest.raises(tutorial.SeedError):
        tutorial.extract("clnt.py", seed)
