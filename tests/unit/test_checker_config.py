"""The checker's checks file and its outputs, without Docker: a typo in checks.toml is one clear error."""

import csv
import io
import json
import subprocess

import pytest

from threadlab.checker import config, report
from threadlab.checker.__main__ import rel
from threadlab.checker.run import LOOPBACK, Result, Submission, SubmissionError, listening, locate, raised, slug
from threadlab.lab import ROOT

CHECK = [str(ROOT / "scripts" / "check")]


def test_shipped_checks_load():
    """threadlab/checks.toml loads; the shipped scenarios are server checks, each with its scenario parsed."""
    cfg = config.load()
    names = [c.name for c in cfg.server]
    for stem in ("tutorial", "many", "long", "bad-input", "contention"):
        assert stem in names
        c = next(c for c in cfg.server if c.name == stem)
        assert c.kind == "scenario" and c.scenario.path == f"scenarios/{stem}.scn"
    assert {c.kind for c in cfg.server} == set(config.SERVER_KINDS)
    assert [c.name for c in cfg.client] == ["prompt", "one-byte", "prints-v", "bad-input", "leave-0", "leave-eof"]
    assert all(c.points >= 0 and c.time > 0 for c in cfg.server + cfg.client)


def test_adding_a_scenario_is_a_table(tmp_path):
    """A new check is a table: a scenario file of one's own, with its points and time."""
    scn = tmp_path / "mine.scn"
    scn.write_text("u.v.w: 1 2 0\nexpect final 3\n")
    cfg = config.parse({"server": [{"name": "mine", "points": 3, "time": 5, "kind": "scenario", "file": str(scn)}]})
    (c,) = cfg.server
    assert (c.name, c.points, c.time, c.scenario.expect_final) == ("mine", 3, 5.0, 3)
    assert cfg.client == [] and cfg.start_timeout == 10


def server(**table):
    return {"server": [{"name": "x", "points": 1, "time": 5, "kind": "scenario", "scenario": "u.v.w: 0\n", **table}]}


@pytest.mark.parametrize("data, error", [
    (server(kind="magic"), "unknown kind 'magic'"),
    (server(flie="a.scn"), "kind scenario has no key 'flie'"),
    (server(points=-1), "points must be a whole number"),
    (server(points=True), "points must be a whole number"),
    (server(time=0), "time must be a number of seconds above 0"),
    (server(name="a b"), "a name is letters, digits"),
    (server(scenario="u.v.w: 5 zz 0\n"), "'zz' is not a number"),
    (server(scenario="q.q.q: 0\n"), "q.q.q is not a client host of the lab"),
    (server(file="scenarios/tutorial.scn"), "one of them"),
    (server(file="nope.scn", scenario=None), "nope.scn"),
    (server(kind="lost"), "kind lost needs how"),
    (server(kind="lost", how="explode"), "how is kill or disconnect"),
    (server(kind="rude", scenario="r.s.t: 0\n"), "uses r.s.t itself"),
    (server(kind="flood", scenario=None, connections=0), "connections must be from 1 to 4000"),
    (server(nclients="2"), "nclients must be a int"),
    ({"server": [{"name": "x"}]}, "missing points, time, kind"),
    ({"client": [{"name": "c", "points": 1, "time": 5, "kind": "session", "input": [5]}]}, "input is a list of lines"),
    ({"client": [{"name": "c", "points": 1, "time": 5, "kind": "session", "input": ["0"], "expect_left": "no"}]},
     "expect_left is"),
    ({"grader": {}}, "unknown table grader"),
    ({"settings": {"start_timeout": -1}}, "start_timeout must be"),
])
def test_bad_checks_are_one_clear_error(data, error):
    for table in data.get("server", []):
        for k in [k for k, v in table.items() if v is None]:
            del table[k]
    with pytest.raises(config.ConfigError) as e:
        config.parse(data, "checks.toml")
    assert error in str(e.value) and "\n" not in str(e.value)


def test_two_checks_with_one_name():
    t = server()["server"][0]
    with pytest.raises(config.ConfigError, match="two server checks named x"):
        config.parse({"server": [t, dict(t)]})


def test_only_some_checks():
    cfg = config.load()
    assert [c.name for c in cfg.checks("server", ["long", "tutorial"])] == ["tutorial", "long"]
    with pytest.raises(config.ConfigError, match="no server check named nope"):
        cfg.checks("server", ["nope"])


def test_a_bad_toml_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "checks.toml"
    bad.write_text("[[server]]\nname = \n")
    r = subprocess.run(CHECK + ["server", str(ROOT / "tests/students/server/good_threading.py"), "--config", str(bad)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "checks.toml" in r.stderr, r.stderr


def test_locate(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "srvr.py").write_text("")
    (tmp_path / "a" / "util.py").write_text("")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "mine.py").write_text("")
    (tmp_path / "c").mkdir()
    assert locate(tmp_path / "a", "server") == "srvr.py"
    assert locate(tmp_path / "b", "client") == "mine.py"
    with pytest.raises(SubmissionError, match="no srvr.py in c/, and not one .py but 0"):
        locate(tmp_path / "c", "server")
    assert Submission("c", "server", tmp_path / "c").error.startswith("no srvr.py")
    assert slug("Ada Lovelace!") == "ada-lovelace"


def test_listening_reads_proc_net_tcp():
    text = ("  sl  local_address rem_address   st\n"
            "   0: 00000000:07D0 00000000:0000 0A 00000000:00000000\n"
            "   1: 0A096409:07D0 0A096415:A1B2 01 00000000:00000000\n")
    assert listening(text, 2000) == {"00000000"}
    assert not listening(text.replace(" 0A ", " 01 "), 2000)
    assert not listening(text, 2001)


def test_a_server_on_loopback_only_is_told_so():
    """A student's bind to 127.0.0.1 (or localhost, ::1) listens where no client host reaches it."""
    v4 = "   0: 0100007F:07D0 00000000:0000 0A 00000000:00000000\n"
    v6 = "   0: 00000000000000000000000001000000:07D0 00000000000000000000000000000000:0000 0A 00000000:00000000\n"
    assert listening("header\n" + v4, 2000) <= LOOPBACK and listening("header\n" + v6, 2000) <= LOOPBACK
    everywhere = "   1: 00000000000000000000000000000000:07D0 00000000000000000000000000000000:0000 0A 0:0\n"
    assert not listening("header\n" + v4 + everywhere, 2000) <= LOOPBACK


def graded():
    sub = Submission("ada", "server", ROOT / "tests/students/server/good_threading.py")
    sub.results = [Result("tutorial", 2, True, "final value 95", 3.2, "out/check/ada/tutorial.log"),
                   Result("long", 3, False, "lost updates: 4 lost", 5.0, "out/check/ada/long.log")]
    sub.seconds = 12.3
    return sub


def test_report_card_says_pass_or_fail_first():
    lines = report.card(graded()).splitlines()
    assert lines[1].startswith("PASS  tutorial") and lines[1].endswith("final value 95")
    assert lines[2].startswith("FAIL  long") and " 0/3 " in lines[2] and lines[2].endswith("lost updates: 4 lost")
    assert lines[-1] == "score 2/5: 1 of 2 checks passed, in 12 s"


def test_json_report():
    data = json.loads(json.dumps(report.as_json(graded())))
    assert (data["student"], data["score"], data["max"]) == ("ada", 2, 5)
    assert [(c["name"], c["passed"], c["earned"]) for c in data["checks"]] == [("tutorial", True, 2), ("long", False, 0)]


def test_class_csv_and_summary():
    cfg = config.parse({"server": [{"name": "tutorial", "points": 2, "time": 5, "kind": "sigterm"},
                                   {"name": "long", "points": 3, "time": 5, "kind": "sigterm"}]})
    other = graded()
    other.student = "bob"
    other.results = [Result("tutorial", 2, True, "", 1), Result("long", 3, True, "", 1)]
    rows = list(csv.reader(io.StringIO(report.class_csv([graded(), other], cfg.server))))
    assert rows[0] == ["student", "tutorial", "long", "total", "max", "seconds", "error"]
    assert rows[1] == ["ada", "2", "0", "2", "5", "12", ""]
    assert rows[2][:5] == ["bob", "2", "3", "5", "5"]
    text = report.class_summary([graded(), other], cfg.server, 90)
    assert "2 submissions in 1.5 min" in text and "full marks: 1" in text and "long           passed by 1/2" in text


def test_paths_shown_as_short_as_they_read(tmp_path, monkeypatch):
    """A class in /tmp, checked from the repository, reads /tmp/class, not ../../tmp/class."""
    (tmp_path / "here" / "class").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "here")
    assert rel(tmp_path / "here" / "class") == "class"
    assert rel(tmp_path / "elsewhere") == str(tmp_path / "elsewhere")


@pytest.mark.parametrize("args, error", [
    (["server", "README.md"], "check: README.md: README.md is not a .py file\n"),
    (["client", "tests/students"], "check: tests/students: no clnt.py in students/, and not one .py but 0\n"),
    (["server", "tests/students/server/good_threading.py", "--json", "/nonexistent/card.json"],
     "check: --json /nonexistent/card.json: no folder /nonexistent to write it in\n"),
    (["class", "tests/students/client", "--kind", "client", "--csv", "/nonexistent/grades.csv"],
     "check: --csv /nonexistent/grades.csv: no folder /nonexistent to write it in\n"),
])
def test_what_cannot_be_run_or_written_is_refused_before_any_lab(args, error):
    """A student's or an instructor's slip gets one line and exit 2 at once: not a card of 13 FAILs, nor a
    traceback after the whole class was graded."""
    r = subprocess.run(CHECK + args, cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stderr, r.stdout) == (2, error, "")


@pytest.mark.parametrize("log, exception", [
    # the tutorial's srvr.py on Python 2.7, in the long check: its thread dies on v = 256
    ("Unhandled exception in thread started by <function serveclient at 0x7f>\nTraceback (most recent call "
     "last):\n  File \"srvr.py\", line 32, in serveclient\n    c.send(chr(v))\nValueError: chr() arg not in "
     "range(256)\n", "ValueError: chr() arg not in range(256)"),
    # two threads' tracebacks interleaved: the first exception line, not a thread's name
    ("Exception in thread Exception in thread Thread-3 (serve):\nTraceback (most recent call last):\n  File "
     "\"t.py\", line 1\nThread-2 (serve):\nTraceback (most recent call last):\nBrokenPipeError: [Errno 32] "
     "Broken pipe\n", "BrokenPipeError: [Errno 32] Broken pipe"),
    # the same, two threads at once, the second's line run into the first's (seen in CI)
    ("Traceback (most recent call last):\n  File \"srvr.py\", line 32, in serveclient\nTraceback (most recent "
     "call last):\nValueError: chr() arg not in range(256)ValueError: chr() arg not in range(256)\n\n",
     "ValueError: chr() arg not in range(256)"),
    ("Traceback (most recent call last):\nValueError: chr() arg not in range(256)ValueError\n: chr() arg\n",
     "ValueError: chr() arg not in range(256)"),
    # cut short when the process ended: nothing to name
    ("the final value of v is 264\nException in thread Thread-3 (serve):\nTraceback (most recent call last):\n"
     "  File \"/usr/lib/python3.11/threading.py\", line 1038, in _bootstrap_inner\n", None),
    ("stopped: the value of v so far is 3\nKeyboardInterrupt: no traceback before it\n", None),
])
def test_a_failed_checks_reason_names_what_the_server_raised(log, exception):
    """A FAIL whose symptom is a hang ("a.b.c did not end") also names the exception in the server's log."""
    assert raised(log) == exception
