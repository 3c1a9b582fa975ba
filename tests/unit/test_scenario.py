"""scenario.py: the scenario file format, its timing, its error messages, and the shipped files."""

import os
import pathlib
import subprocess
import sys

import pytest
from common import protocol, scenario

SCENARIOS = sorted((pathlib.Path(__file__).resolve().parents[2] / "scenarios").glob("*.scn"))

FULL = """\
# a comment line, then a blank one

seed 7
pace 0.25 jitter 0.1       # a comment after a statement
u.v.w: 5 +0.5 3*2 "two words" ""
u.v.w: "a#b" 300 1 0       # a host's second line adds to its first
x.y.z: +1.5 9 EOF
expect final 20
expect u.v.w v 5 7 9 10
"""


@pytest.fixture
def full():
    return scenario.parse(FULL, "full.scn")


def test_full_example_settings(full):
    """seed, pace/jitter and both expect forms are read into the Scenario."""
    assert (full.path, full.seed, full.pace, full.jitter) == ("full.scn", 7, 0.25, 0.1)
    assert full.expect_final == 20
    assert full.expect_v == {"u.v.w": [5, 7, 9, 10]}
    assert full.hosts == ["u.v.w", "x.y.z"]


def test_full_example_parts(full):
    """Waits, N*K repeats, quoted text (with spaces, '#', or empty) and lines over two lines build the part."""
    assert full.parts["u.v.w"] == [
        ("type", "5"), ("wait", 0.5), ("type", "2"), ("type", "2"), ("type", "2"),
        ("type", "two words"), ("type", ""), ("type", "a#b"), ("type", "300"), ("type", "1"), ("type", "0"),
    ]
    assert full.parts["x.y.z"] == [("wait", 1.5), ("type", "9"), ("type", scenario.EOF)]


def test_typed_lists_lines_and_eof(full):
    """typed() gives every line in order, EOF as scenario.EOF, waits left out."""
    assert full.typed("u.v.w") == ["5", "2", "2", "2", "two words", "", "a#b", "300", "1", "0"]
    assert full.typed("x.y.z") == ["9", scenario.EOF]


def test_waits_add_to_the_next_delay(full):
    """A +S wait adds S seconds to the delay before the next line only, on top of pace +/- jitter."""
    u = [delay for delay, _ in full.steps("u.v.w")]
    x = [delay for delay, _ in full.steps("x.y.z")]
    assert all(0.15 <= d <= 0.35 for d in u[:1] + u[2:] + x[1:])
    assert 0.65 <= u[1] <= 0.85
    assert 1.65 <= x[0] <= 1.85


def test_steps_are_deterministic_for_a_seed(full):
    """The same file gives the same delays on every parse: runs can be repeated."""
    again = scenario.parse(FULL, "elsewhere.scn")
    assert list(full.steps("u.v.w")) == list(again.steps("u.v.w"))
    assert list(full.steps("x.y.z")) == list(again.steps("x.y.z"))


@pytest.mark.parametrize("hashseed", ["1", "2"])
def test_steps_are_the_same_in_another_process(full, hashseed):
    """A fresh interpreter (another hash seed) gives the same delays: runs repeat across containers."""
    code = ("from common import scenario; import sys; sc = scenario.parse(sys.stdin.read()); "
            "print(repr([list(sc.steps(h)) for h in sc.hosts]))")
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    out = subprocess.run([sys.executable, "-c", code], input=FULL, env=env, capture_output=True, text=True,
                         timeout=30, check=True).stdout
    assert out.strip() == repr([list(full.steps(h)) for h in full.hosts])


def test_steps_change_with_the_seed():
    """Another seed gives other delays for the same part."""
    text = "pace 1 jitter 0.5\nh: 10*1 0\n"
    one = scenario.parse("seed 1\n" + text)
    two = scenario.parse("seed 2\n" + text)
    assert list(one.steps("h")) != list(two.steps("h"))


def test_steps_differ_per_host():
    """Two hosts with the same part do not type in lockstep."""
    sc = scenario.parse("seed 3\npace 1 jitter 0.5\na: 10*1 0\nb: 10*1 0\n")
    assert sc.typed("a") == sc.typed("b")
    assert [d for d, _ in sc.steps("a")] != [d for d, _ in sc.steps("b")]


def test_delays_are_never_negative():
    """With jitter larger than pace, delays that would go below 0 are 0."""
    sc = scenario.parse("seed 5\npace 0.1 jitter 5\nh: 100*1 0\n")
    delays = [d for d, _ in sc.steps("h")]
    assert min(delays) == 0.0
    assert max(delays) > 0.1


def test_no_pace_means_no_delay():
    """Without pace or waits every delay is 0: scenarios for tests run at full speed."""
    sc = scenario.parse("h: 5 6 0\n")
    assert list(sc.steps("h")) == [(0.0, "5"), (0.0, "6"), (0.0, "0")]


MALFORMED = [
    ("seed 1\nsed 5\n", 2, "unknown statement 'sed'"),
    ("h: 5 x 0\n", 1, "'x' is not a number"),
    ("h: 5 5.5 0\n", 1, "'5.5' is not a number"),
    ("h: +abc 0\n", 1, "a wait is +SECONDS"),
    ("h: +-1 0\n", 1, "a wait is +SECONDS"),
    ("h: 5 0 3\n", 1, "h types '3' after it has left"),
    ("h: 5 0\nh: 3\n", 2, "h types '3' after it has left"),
    ("h: 5 EOF 3\n", 1, "h types '3' after it has left"),
    ("h: 5 EOF +1\n", 1, "h types '+1' after it has left"),
    ("h: 3*0\n", 1, "only a line that is not 0 or EOF can be repeated"),
    ("h: 3*EOF\n", 1, "only a line that is not 0 or EOF can be repeated"),
    ("h: 3*+1 0\n", 1, "only a line that is not 0 or EOF can be repeated"),
    ("h: 0*5 0\n", 1, "a repeat count is at least 1"),
    ("-h: 5 0\n", 1, "'-h' is not a host name"),
    ("h_1: 5 0\n", 1, "'h_1' is not a host name"),
    (": 5 0\n", 1, "'' is not a host name"),
    ("seed x\nh: 0\n", 1, "expected 'seed N'"),
    ("seed 1 2\nh: 0\n", 1, "expected 'seed N'"),
    ("seed\nh: 0\n", 1, "expected 'seed N'"),
    ("pace -1\nh: 0\n", 1, "pace and jitter are never negative"),
    ("pace 1 jitter\nh: 0\n", 1, "expected 'pace S jitter S'"),
    ("h: 0\nexpect final x\n", 2, "expected 'expect final N'"),
    ("h: 0\nexpect\n", 2, "expected 'expect final N' or 'expect HOST v N N ...'"),
    ("h: 0\nexpect h v 1 two\n", 2, "expected 'expect HOST v N N ...'"),
    ('seed 1\nh: "abc 0\n', 2, "no closing quotation"),
    ("seed 1\npace 0\n", 2, "no client parts"),
    ("# nothing here\n", 1, "no client parts"),
    ("", 1, "no client parts"),
    ("h: 0\nexpect g v 1\nexpect final 0\n", 2, "expect names g, which has no part"),
]


@pytest.mark.parametrize("text, line, what", MALFORMED, ids=[repr(text) for text, _, _ in MALFORMED])
def test_malformed_scenario_names_file_and_line(text, line, what):
    """Each malformed scenario raises ScenarioError 'path:LINE: what is wrong', on one line."""
    with pytest.raises(scenario.ScenarioError) as e:
        scenario.parse(text, "bad.scn")
    message = str(e.value)
    assert message.startswith(f"bad.scn:{line}: {what}")
    assert "\n" not in message


def test_load_reports_the_path(tmp_path):
    """load() names the file it read in its errors."""
    path = tmp_path / "oops.scn"
    path.write_text("h: 1\nh: two\n")
    with pytest.raises(scenario.ScenarioError, match=f"^{path}:2: "):
        scenario.load(path)


def test_scenarios_are_shipped():
    """The lab ships at least the tutorial's session."""
    assert "tutorial.scn" in [p.name for p in SCENARIOS]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_shipped_scenario_parses_and_adds_up(path):
    """Each shipped scenario loads, and its 'expect final' is the sum of the k's its parts send."""
    sc = scenario.load(path)
    sent = []
    for host in sc.hosts:
        for text in sc.typed(host):
            if text is scenario.EOF:
                continue
            try:
                sent.append(protocol.parse_k(text))
            except ValueError:
                pass  # the client refuses the line and sends nothing
    if sc.expect_final is not None:
        assert sum(sent) == sc.expect_final


def test_a_part_that_never_leaves_is_refused():
    """A part without a final 0 or EOF would leave its client connected: the file is refused, naming the line."""
    with pytest.raises(scenario.ScenarioError, match=r"x.scn:2: u.v.w's part never leaves: end it with 0 or EOF"):
        scenario.parse("seed 1\nu.v.w: 1 2\nx.y.z: 0\n", "x.scn")


@pytest.mark.parametrize("text, nclients, line", [
    (None, 2, "scenario: scenarios/nope.scn: No such file or directory"),
    ("u.v.w: zz 0\n", 2, "scenario: scenarios/nope.scn:1: 'zz' is not " + scenario.TOKEN_HELP),
    ("u.v.w: 1 0\n", 2, "scenario: scenarios/nope.scn has parts for 1 host, and the server waits for NCLIENTS=2"),
])
def test_lab_check_refuses_in_one_line(tmp_path, text, nclients, line):
    """python3 -m common.scenario, run before the lab starts: one line naming the file as the user wrote it, exit 2."""
    path = tmp_path / "nope.scn"
    if text is not None:
        path.write_text(text)
    r = subprocess.run([sys.executable, "-m", "common.scenario", str(path), "scenarios/nope.scn", str(nclients)],
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", line + "\n")
