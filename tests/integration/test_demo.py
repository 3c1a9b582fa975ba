"""The README's commands as a person runs them: `docker compose up`, and the tutorial by hand."""

import re
import subprocess

import pytest

from threadlab.lab import ROOT, Lab, Terminal


@pytest.fixture(scope="module")
def demo(docker_engine):
    lab = Lab("threadlab-demo", "10.9.2", profiles=())
    lab.down()
    try:
        yield lab
    finally:
        lab.down()


def readme_block(after):
    """The first fenced block after the heading `after` in the README."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index(after):].split("```\n", 2)[1]
    return block.splitlines()


def shape(lines):
    """Lines with every number made N and runs of spaces folded, sorted: what stays the same from run to run."""
    return sorted(re.sub(r" +", " ", re.sub(r"\d+(\.\d+)?", "N", line)) for line in lines)


def test_compose_up_runs_the_tutorial_and_ends(demo):
    """`docker compose up` runs the tutorial's session and sieve, prints their results and ends by itself;
    what it prints is what the README's expected result shows, but for the numbers that vary and the order."""
    out = demo.compose("up", "--build", timeout=300).stdout
    printed = out[out.index("Attaching to"):].splitlines()
    assert shape(printed) == shape(readme_block("### Expected result")), out
    assert re.search(r"^server-1 +\| the final value of v is 95$", out, re.M), out
    assert re.search(r"^sieve-1 +\| there are 78498 primes$", out, re.M), out
    assert len(re.findall(r"^sieve-1 +\| thread \d exiting; processed \d+ values of k$", out, re.M)) == 2
    for service in ("server", "client1", "client2", "sieve"):
        state = subprocess.run(["docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}",
                                demo.container(service)], capture_output=True, text=True).stdout
        assert state.split() == ["exited", "0"], service


def test_tutorial_by_hand(demo):
    """Two people type into clients on u.v.w and x.y.z at the `input k ` prompt; the server prints the exact total."""
    uvw = Terminal(demo.command("run", "--rm", "client1", "python", "clnt.py", "a.b.c", "2000"), demo.env)
    uvw.expect("input k ", timeout=120)
    xyz = Terminal(demo.command("run", "--rm", "client2", "python", "clnt.py", "a.b.c", "2000"), demo.env)
    xyz.expect("input k ", timeout=120)
    for term, keys, answer in [(uvw, "5", "5"), (xyz, "9", "14"), (uvw, "abc", "is not a number"),
                               (xyz, "250", "8"), (uvw, "12", "20")]:
        term.type(keys + "\n")
        assert answer in term.expect("input k ")
    uvw.type("0\n")
    uvw.expect("sent 0, leaving")
    xyz.type("\x04")  # Ctrl-D
    xyz.expect("end of input: sending 0 and leaving")
    assert (uvw.close(), xyz.close()) == (0, 0)
    subprocess.run(["docker", "wait", demo.container("server")], capture_output=True, timeout=30)
    assert demo.logs("server").splitlines()[-1] == "the final value of v is 276"


def test_pdb_in_a_serving_thread(demo):
    """BREAKPOINT=on stops the thread serving u.v.w in pdb, in the server's terminal; after `c` the session goes on."""
    server = Terminal(demo.command("run", "--rm", "--use-aliases", "-e", "BREAKPOINT=on", "-e", "NCLIENTS=1",
                                   "server"), demo.env)
    server.expect("listening on port 2000 for 1 clients", timeout=120)
    client = Terminal(demo.command("run", "--rm", "--no-deps", "client1", "python", "clnt.py", "a.b.c", "2000"),
                      demo.env)
    client.expect("input k ", timeout=120)
    client.type("5\n")
    server.expect("(Pdb) ")
    server.type("p k\n")
    assert "5" in server.expect("(Pdb) ")
    server.type("c\n")
    assert "5" in client.expect("input k ")
    client.type("0\n")
    server.expect("the final value of v is 5")
    assert (client.close(), server.close()) == (0, 0)
