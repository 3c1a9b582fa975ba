"""services/tutorial's programs are the seed's listings (threadlab.tutorial), or, without the seed, their hashes."""

import importlib.util

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
    """unlocked.py leaves out srvr.py's lines 26 and 28, around line 27's v += k, and changes line 29's send."""
    lines = (tutorial.FOLDER / "srvr.py").read_text().splitlines()
    assert [lines[25].strip(), lines[26], lines[27].strip()] == ["vlock.acquire()", "        v += k", "vlock.release()"]
    assert lines[28] == "        c.send(chr(v))"


def unlocked_py():
    """services/tutorial/unlocked.py, a Python 2 program whose text Python 3 also runs (no print statement)."""
    spec = importlib.util.spec_from_file_location("unlocked", tutorial.FOLDER / "unlocked.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("lock", [False, True])
def test_unlocked_py_changes_only_the_lock_lines_and_the_send(lock):
    """What unlocked.py runs is srvr.py with line 29 sending v mod 256 and, unless LOCK=on, lines 26 and 28 left out:
    every other line as printed, in its place."""
    original = (tutorial.FOLDER / "srvr.py").read_text()
    expected = original.splitlines(True)
    expected[28] = "        c.send(chr(v % 256))\n"
    if not lock:
        del expected[27], expected[25]
    assert unlocked_py().unlocked(original, lock) == "".join(expected)


@pytest.mark.parametrize("line", [26, 27, 28, 29])
def test_unlocked_py_refuses_a_srvr_py_that_is_not_the_tutorials(line, capsys):
    """A srvr.py whose line 26, 27, 28 or 29 is not what unlocked.py changes is refused, exit 2, in one line."""
    lines = (tutorial.FOLDER / "srvr.py").read_text().splitlines(True)
    lines[line - 1] = "        pass\n"
    with pytest.raises(SystemExit) as e:
        unlocked_py().unlocked("".join(lines))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"srvr.py line {line} is not " in err


def test_a_listing_that_does_not_follow_on_is_refused(tmp_path):
    """A listing whose numbers break off is an error, not a shorter program."""
    seed = tmp_path / "seed.txt"
    seed.write_text("Here is the client, **clnt.py**:\n\n```\n1 import socket\n3 import sys\n```\n")
    with pytest.raises(tutorial.SeedError):
        tutorial.extract("clnt.py", seed)
