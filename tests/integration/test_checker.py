"""scripts/check on students of our own (tests/students/): each verdict, and above all no false PASS.

Every run of the checker here starts at once, in the module's first test (the classes, the hostile
server, one student's own check), every submission in a lab of its own (threadlab-check-NNN-*,
10.9.100-199); each test then reads its run's results. On a loaded 2-core machine this module is
the suite's slowest. Nothing here sleeps for readiness: the checker polls.
"""

import csv
import json
import os
import re
import signal
import subprocess

import pytest

from threadlab.checker import config
from threadlab.lab import ROOT, engine_keeps

CHECK = [str(ROOT / "scripts" / "check")]
STUDENTS = ROOT / "tests" / "students"
SERVER = [c.name for c in config.load().server]
CLIENT = [c.name for c in config.load().client]


class Run:
    """scripts/check started now, with CHECK_OUT=out; result() waits for it: (CompletedProcess-like, out)."""

    def __init__(self, args, out):
        self.out = out
        self.p = subprocess.Popen(CHECK + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=dict(os.environ, CHECK_OUT=str(out)))
        self.done = None

    def result(self, timeout=1800):
        if self.done is None:
            stdout, stderr = self.p.communicate(timeout=timeout)
            self.done = subprocess.CompletedProcess(self.p.args, self.p.returncode, stdout, stderr)
        return self.done

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)  # the checker takes its labs down on Ctrl-C
            try:
                self.p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.p.kill()


BEFORE = set()  # the checker's things on this machine before this module's runs started


def leftovers():
    """Containers or networks of the checker still on this machine."""
    ps = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True).stdout
    nets = subprocess.run(["docker", "network", "ls", "--format", "{{.Name}}"], capture_output=True, text=True).stdout
    return [n for n in (ps + nets).split() if n.startswith("threadlab-check-")]


def broken(work, name, line, instead):
    """good_threading.py with one slip of a student's: its line replaced by instead, written as work/name.py."""
    text = (STUDENTS / "server" / "good_threading.py").read_text()
    assert text.count(line) == 1, line
    (work / f"{name}.py").write_text(text.replace(line, instead))
    return str(work / f"{name}.py")


@pytest.fixture(scope="module")
def runs(docker_engine, tmp_path_factory):
    """Every checker run of this module, started together: one after another they took 13 minutes, most of
    it a broken submission waiting out a check's bound, which costs no CPU. {name: (Run, its folder)}."""
    work = tmp_path_factory.mktemp("checker")
    specs = {
        "servers": ["class", str(STUDENTS / "server"), "--kind", "server", "--csv", str(work / "servers.csv"),
                    "--jobs", "3"],
        "clients": ["class", str(STUDENTS / "client"), "--kind", "client", "--csv", str(work / "clients.csv")],
        "hostile": ["server", str(STUDENTS / "hostile" / "hostile.py"), "--checks", "tutorial,sigterm",
                    "--json", str(work / "hostile.json")],
        "single": ["server", str(STUDENTS / "server" / "good_threading.py"), "--checks", "tutorial,sigterm",
                   "--json", "-"],
        "loopback": ["server", broken(work, "loopback", 'create_server(("", ', 'create_server(("127.0.0.1", '),
                     "--checks", "tutorial",
                     "--json", str(work / "loopback.json")],
        "text_v": ["server", broken(work, "text_v", "sendall(bytes([now % 256]))", "sendall(str(now % 256).encode())"),
                   "--checks", "tutorial",
                   "--json", str(work / "text_v.json")],
        "tutorial 2.7": ["server", str(ROOT / "services" / "tutorial" / "srvr.py"), "--python", "2.7",
                         "--checks", "tutorial,many,long,more-clients,sigterm", "--json", str(work / "tutorial.json")],
        "tutorial client 2.7": ["client", str(ROOT / "services" / "tutorial" / "clnt.py"), "--python", "2.7",
                                "--json", str(work / "tutorial-client.json")],
    }
    started = {}
    BEFORE.update(leftovers())  # another session's, or a network the engine could not remove: not this module's
    try:
        for name, args in specs.items():
            started[name] = (Run(args, work / name), work)
        yield started
    finally:
        for r, _ in started.values():
            r.stop()


def graded(runs, kind):
    r, work = runs[kind + "s"]
    done = r.result()
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {row["student"]: row for row in csv.DictReader((work / f"{kind}s.csv").open())}
    failed = {s: {c for c in (SERVER if kind == "server" else CLIENT) if row[c] == "0"} for s, row in rows.items()}
    return done, rows, failed, r.out


@pytest.fixture(scope="module")
def servers(runs):
    return graded(runs, "server")


@pytest.fixture(scope="module")
def clients(runs):
    return graded(runs, "client")


@pytest.mark.parametrize("student", ["good_threading", "good_selectors", "lab_threading", "lab_asyncio"])
def test_correct_servers_score_full_marks(servers, student):
    """Our correct servers (a thread per client; one thread with selectors) and the lab's threading and
    asyncio servers pass every check."""
    _, rows, failed, _ = servers
    assert failed[student] == set(), rows[student]
    assert rows[student]["total"] == rows[student]["max"]


def test_no_lock_with_a_yield_loses_updates(servers):
    """No lock and a yield between the read and the write of v: contention loses updates and fails."""
    _, _, failed, out = servers
    assert "contention" in failed["nolock_yield"]
    assert "lost updates" in (out / "nolock_yield" / "contention.log").read_text()
    assert not failed["nolock_yield"] & {"sigterm", "rude-peers"}


def test_no_lock_without_a_yield_passes_on_311(servers):
    """A bare unlocked `v += k` loses nothing on CPython 3.11 (no thread switch inside it): the checker,
    looking from outside, cannot fail it. docs/checker.md says so; this pins it down."""
    _, _, failed, _ = servers
    assert failed["nolock_plain"] == set()


def test_the_tutorials_thread_program_fails_what_it_never_did(servers):
    """SERVER_VARIANT=thread is the tutorial's _thread srvr.py line for line: it accepts exactly NCLIENTS
    connections, so a third client, a rude peer or a flood takes a place; every other check passes."""
    _, rows, failed, _ = servers
    assert "more-clients" in failed["lab_thread"], rows["lab_thread"]
    assert failed["lab_thread"] <= {"more-clients", "rude-peers", "flood"}, rows["lab_thread"]


def test_no_mod_256_fails_past_255(servers):
    """bytes([v]) raises past 255: long fails, and so does everything whose total passes 255 (many.scn ends at
    300), nothing else."""
    _, _, failed, _ = servers
    assert "long" in failed["nomod"]
    assert failed["nomod"] <= {"long", "many", "contention", "flood"}


def test_crash_on_a_probe_fails_only_the_rude_peers(servers):
    _, _, failed, out = servers
    assert failed["probe_crash"] == {"rude-peers"}
    assert "probe" in (out / "probe_crash" / "rude-peers.log").read_text()


def test_a_fixed_two_connections_fail_the_checks_with_more(servers):
    """The tutorial's shape with two clients hard-wired: fine with two clients, a failure with more."""
    _, _, failed, _ = servers
    assert {"more-clients", "many", "contention"} <= failed["fixed_two"]
    assert not failed["fixed_two"] & {"tutorial", "long", "bad-input", "final-line"}


def test_no_false_pass(servers):
    """The worst bug is a PASS for a server that is not right: one that dies at once scores 0 on every
    check; one that echoes k and prints a made-up total passes nothing that looks at v."""
    _, rows, failed, out = servers
    assert failed["crash"] == set(SERVER) and rows["crash"]["total"] == "0"
    assert "the server ended before it listened" in (out / "crash" / "tutorial.log").read_text()
    assert set(SERVER) - failed["liar"] <= {"sigterm"}


def test_class_outputs(servers):
    """The class run: a progress line per student with its count, the CSV, a summary, and the logs kept."""
    r, rows, _, out = servers
    n = len(rows)
    assert f"{n}/{n}  " in r.stdout and "1/" in r.stdout
    assert "scores out of" in r.stdout and "passed by" in r.stdout
    for student in rows:
        assert sorted(p.stem for p in (out / student).glob("*.log")) == sorted(SERVER)
        data = json.loads((out / student / "report.json").read_text())
        assert data["score"] == int(rows[student]["total"])


def test_clients(clients):
    """The correct client passes all, and so does one that leaves by a reset; text for a byte fails one-byte;
    not refusing fails bad-input alone; one that sends nothing fails every check (no false PASS)."""
    _, rows, failed, out = clients
    assert failed["good"] == set()
    assert failed["abort_on_eof"] == set()  # the server logged a reset: a close with a v unread gives one too
    assert "one-byte" in failed["text_k"] and {"prompt", "leave-eof"}.isdisjoint(failed["text_k"])
    card = {c["name"]: c for c in json.loads((out / "text_k" / "report.json").read_text())["checks"]}
    assert card["one-byte"]["reason"].endswith("; every k is a digit's code (53 is '5'): k sent as text, not one byte?")
    assert failed["no_refuse"] == {"bad-input"}
    assert failed["silent"] == set(CLIENT) and rows["silent"]["total"] == "0"


def test_the_tutorials_own_server_on_python_2_7_and_its_real_faults(runs):
    """The tutorial's srvr.py as printed, under Python 2.7: its session passes; it serves exactly two clients and
    sends v with chr(), and the card says so, naming the exception where the symptom is a hang."""
    run, work = runs["tutorial 2.7"]
    r = run.result()
    assert r.returncode == 1, r.stdout + r.stderr
    assert "as srvr (Python 2.7)" in r.stderr
    checks = {c["name"]: c for c in json.loads((work / "tutorial.json").read_text())["checks"]}
    assert {n for n, c in checks.items() if c["passed"]} == {"tutorial", "sigterm"}
    assert checks["many"]["reason"].startswith("expected the final value 300, got ")
    assert checks["more-clients"]["reason"].startswith("expected the final value 7, got ")
    assert checks["long"]["reason"].endswith("; the server raised ValueError: chr() arg not in range(256)")


def test_the_tutorials_own_client_on_python_2_7_and_its_real_faults(runs):
    """The tutorial's clnt.py as printed, under Python 2.7: prompt, bytes, v's and 0 right; a line that is not a
    number and the end of its input each end it with a traceback, which the card names."""
    run, work = runs["tutorial client 2.7"]
    assert run.result().returncode == 1, run.result().stdout + run.result().stderr
    checks = {c["name"]: c for c in json.loads((work / "tutorial-client.json").read_text())["checks"]}
    assert {n for n, c in checks.items() if c["passed"]} == {"prompt", "one-byte", "prints-v", "leave-0"}
    assert checks["bad-input"]["reason"].endswith("; it raised ValueError: invalid literal for int() with base 10: 'abc'")
    assert checks["leave-eof"]["reason"] == "it ended with a traceback: EOFError: EOF when reading a line"


def test_a_server_on_loopback_only_is_told_why_no_client_reached_it(runs):
    """Listening on 127.0.0.1 is listening, for /proc/net/tcp, but no client host gets in: the check says so,
    where it said "a.b.c did not end" after its bound."""
    run, work = runs["loopback"]
    assert run.result().returncode == 1, run.result().stdout + run.result().stderr
    (check,) = json.loads((work / "loopback.json").read_text())["checks"]
    assert check["reason"].startswith("the server listens on port 2000 of 127.0.0.1 only")


def test_a_server_sending_v_as_text_gets_a_hint(runs):
    """v as str(v).encode(): the lab's client reads its first digit's code, and the card says what that looks like."""
    run, work = runs["text_v"]
    assert run.result().returncode == 1, run.result().stdout + run.result().stderr
    (check,) = json.loads((work / "text_v.json").read_text())["checks"]
    # the first problem is "no serial order fits" or "lost updates", as the digits fall; the hint follows either
    hint = re.search(r"; every v is a digit's code \((\d+) is '(\d)'\): v sent as text, not one byte\?", check["reason"])
    assert hint and chr(int(hint[1])) == hint[2], check["reason"]


def test_hostile_server_fails_and_the_checker_goes_on(runs):
    """A server that forks to the pids limit, eats memory to the memory limit and writes garbage fails
    its checks within their bounds; the checker reports and exits 1."""
    run, work = runs["hostile"]
    r = run.result()
    assert r.returncode == 1, r.stdout + r.stderr
    data = json.loads((work / "hostile.json").read_text())
    assert [c["passed"] for c in data["checks"]] == [False, False] and data["score"] == 0
    assert r.stdout.splitlines()[1].startswith("FAIL  tutorial")


def test_single_submission_card_and_json(runs):
    """A student checking their own work: the card (PASS/FAIL first), the JSON, exit 0 when all pass."""
    r = runs["single"][0].result()
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[1].startswith("PASS  tutorial") and lines[2].startswith("PASS  sigterm")
    assert lines[3].startswith("score 3/3")
    data = json.loads(r.stdout[r.stdout.index("{"):])
    assert data["score"] == data["max"] == 3


def test_python_27_refuses_in_one_line_without_its_image(tmp_path):
    """--python 2.7 with no Python 2.7 image nor base (CHECK_PY2 names two that are not here): one line, exit 2."""
    r = subprocess.run(CHECK + ["server", str(STUDENTS / "server" / "good_threading.py"), "--python", "2.7"],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, CHECK_OUT=str(tmp_path), CHECK_PY2="threadlab-none:2.7,threadlab-none-base"))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "no Python 2.7 here: the image threadlab-none-base is missing" in r.stderr


def test_nothing_left_behind(runs):
    """Once every run of the module has ended, no container or network its runs made is left."""
    for r, _ in runs.values():
        r.result()
    left = sorted(set(leftovers()) - BEFORE)
    kept = [n for n in left if engine_keeps(n)]  # Docker's stale endpoints: the checker did remove the lab
    assert [n for n in left if n not in kept] == [], f"kept by the engine, not a failure: {kept}"
