"""The README's and the lessons' quick commands, run as written, their output checked against the docs.

One helper (readme_run) runs a command line of the docs with bash, as a person types it, in a lab of
its own: COMPOSE_PROJECT_NAME threadlab-test-readme-I and LAB_NET 10.9.(70+I), never 10.9.0 (a
person's lab), and no .env (COMPOSE_ENV_FILES). check() compares what it printed with the block of the
docs (tests/unit/test_readme.py: placeholders for what varies), this lab's addresses read as the docs'
10.9.0. The groups of commands below run side by side, each in its own lab, in one fixture; each test
checks its commands' results. tests/unit/test_readme.py checks that every command here is in the docs.
"""

import fcntl
import importlib.util
import os
import re
import shutil
import subprocess
import threading

import pytest

from threadlab.lab import ERASE, ROOT, Terminal

spec = importlib.util.spec_from_file_location("readme_blocks", ROOT / "tests" / "unit" / "test_readme.py")
readme = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme)

PROGRESS = re.compile(r"^ *(Container|Network|Volume) \S+ +\w+|^Going to remove |^\[\+\] ")
REPLAY_NET = "10.9.79"  # the LOCK=maybe replay's own lab


class ReadmeLab:
    def __init__(self, i):
        self.project, self.net = f"threadlab-test-readme-{i}", f"10.9.{70 + i}"
        self.check_out = f"/tmp/{self.project}-check"  # the checker's out/check/: not a person's
        self.env = dict(os.environ, COMPOSE_PROJECT_NAME=self.project, LAB_NET=self.net,
                        COMPOSE_ENV_FILES=os.devnull, REPLAY_PROJECT="threadlab-test-readme-replay",
                        REPLAY_NET=REPLAY_NET, REPLAY_OUT=f"/tmp/{self.project}-replay",
                        CHECK_OUT=self.check_out)

    def clean(self, text):
        """What a person reads: no escapes, no Compose progress lines, the docs' addresses and names."""
        lines = [ERASE.sub("", line).replace("\r", "") for line in text.splitlines()]
        text = "\n".join(line for line in lines if not PROGRESS.search(line))
        text = text.replace(f"{self.net}.", "10.9.0.").replace(f"{REPLAY_NET}.", "10.9.3.")
        text = text.replace("threadlab-test-readme-replay", "threadlab-replay")
        text = text.replace(f"/tmp/{self.project}-replay/", "out/replay/")
        return text.replace(self.check_out, "out/check").splitlines()

    def run(self, command, timeout=180, raw=False, **env):
        """readme_run: the command line as written, in bash, in this lab; (exit code, lines), raw: as printed."""
        r = subprocess.run(["bash", "-c", command], cwd=ROOT, env=dict(self.env, **env), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return r.returncode, r.stdout.splitlines() if raw else self.clean(r.stdout)

    def terminal(self, command):
        return Terminal(["bash", "-c", command], self.env)

    def down(self):
        shutil.rmtree(self.check_out, ignore_errors=True)
        subprocess.run(["docker", "compose", "--profile", "more", "--profile", "serve", "--profile", "ft",
                        "down", "-v", "--remove-orphans", "--timeout", "2"], cwd=ROOT, env=self.env,
                       capture_output=True)


def expected(command):
    found = [b for b in readme.blocks() if b.command == command]
    assert found, f"{command!r} is in no block of the docs"
    return found[0]


def grouped(lines):
    """{host: its lines} for Compose's `host-1 | line`; Compose's own lines under ""."""
    groups = {}
    for line in lines:
        host, bar, rest = line.partition("|")
        groups.setdefault(host.strip() if bar else "", []).append(line)
    return groups


def unordered(want, got):
    """Each wanted line (but <...>) is some line of got, one each, in any order; the lines of got left over."""
    left = list(got)
    for line in want:
        if line != readme.ANY_LINES:
            hit = next((g for g in left if readme.matches([line], [g])), None)
            assert hit is not None, "\n".join(["wanted", line, "in", *got])
            left.remove(hit)
    return left


SESSION = re.compile(r"(\S+:\d+) (joined|sent 0 and left)")


def session_matches(want, got):
    """A server's session: its first line and its last two in place; the joins and leaves between in any
    order, but each address's join before its leave. Which client joins first, and whether one leaves
    before the other joins, is up to when each client's container starts."""
    assert len(want) == len(got) and readme.matches(want[:1] + want[-2:], got[:1] + got[-2:]), \
        "\n".join(["wanted", *want, "got", *got])
    assert unordered(want[1:-2], got[1:-2]) == []
    seen = [m.groups() for m in map(SESSION.search, got) if m]
    for i, (address, what) in enumerate(seen):
        if what != "joined":
            assert (address, "joined") in seen[:i], "\n".join(["left before it joined", *got])


def check(results, command, interleaved=False, anywhere=False, session=None):
    """The command's real output and exit code are what its block in the docs says.

    interleaved: each host's lines in order, Compose's own in any order. anywhere: each line of the
    block but <...> is some line of the output, in any order (the hosts' lines race). session: the
    host whose lines are a server's session (session_matches), "" when they are all the output.
    """
    code, lines = results[command]
    block = expected(command)
    assert code == block.exit_code, (block, code, lines)
    if anywhere:
        unordered(block.expected, lines)
        return lines
    want, got = grouped(block.expected), grouped(lines)
    if not interleaved:
        want, got = {"": block.expected}, {"": lines}
    # hosts' lines interleave differently each run: each host's in order, Compose's own in any order
    assert sorted(want) == sorted(got), (sorted(want), sorted(got))
    for host in want:
        if host == session:
            session_matches(want[host], got[host])
        elif host or not interleaved:
            assert readme.matches(want[host], got[host]), "\n".join([f"{host}: wanted", *want[host], "got", *got[host]])
        else:
            assert sorted(want[host]) == sorted(got[host]), (want[host], got[host])
    return lines


def pdb_session(lab):
    """The pdb lesson: the server in the foreground, a client typing 5 then 0; the server's screen."""
    server = lab.terminal("docker compose run --rm --use-aliases -e BREAKPOINT=on -e NCLIENTS=1 server")
    server.expect("for 1 client ", timeout=120)
    client = lab.terminal("docker compose run --rm --no-deps client1 python3 clnt.py a.b.c 2000")
    client.expect("input k ", timeout=120)
    client.type("5\n")
    server.expect("(Pdb) ")
    for keys in ["p k", "n", "p tally.v", "n"]:
        server.type(keys + "\n")
        server.expect("(Pdb) ")
    server.type("c\n")
    client.expect("input k ")
    client.type("0\n")
    client.expect("sent 0, leaving")
    server.expect("the final value of v is 5")
    codes = client.close(), server.close()
    return codes, lab.clean(server.screen[server.screen.index("a.b.c listening"):])


def by_hand(lab):
    """The tutorial by hand: two people type at u.v.w and x.y.z; the server's last line."""
    uvw = lab.terminal("docker compose run --rm client1 python3 clnt.py a.b.c 2000")
    uvw.expect("input k ", timeout=120)
    xyz = lab.terminal("docker compose run --rm client2 python3 clnt.py a.b.c 2000")
    xyz.expect("input k ", timeout=120)
    screens = []
    for term, keys in [(uvw, "5"), (xyz, "9"), (uvw, "abc"), (xyz, "250"), (uvw, "12")]:
        term.type(keys + "\n")
        screens.append(term.expect("input k "))
    uvw.type("0\n")
    uvw.expect("sent 0, leaving")
    xyz.type("\x04")  # Ctrl-D
    xyz.expect("end of input: sending 0 and leaving")
    codes = uvw.close(), xyz.close()
    last = lab.run("docker logs $(docker compose ps -aq server)")[1][-1]
    return codes, uvw.screen, last


SIEVE = [
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 100000 1",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 100 1 --as-printed",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 100 2",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 10000 2",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 100000 2",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 1000000 2",
    "docker compose run --rm sieve python3 primes.py 1000000 2",
    "SIEVE_VARIANT=thread SWITCH_INTERVAL=0.1 docker compose run --rm sieve",
    "SWITCH_INTERVAL=0.00001 docker compose run --rm sieve",
    "SWITCH_INTERVAL=0 docker compose run --rm sieve",
    "docker compose run --rm sieve python3 -m bench.sievebench segmented 10000000 2",
]
NO_PATH = {"PYTHONPATH": ""}  # a person's shell: not the suite's services/ on the path


def group_compose_up(lab, out):
    logs = "docker logs $(docker compose ps -aq server)"
    for command in ["docker compose up", logs]:
        out[command] = lab.run(command)
    for command in ["docker compose up", "docker compose up --force-recreate"]:  # the log of a reused host, then fresh
        lab.run(command)
        out[f"{logs} after {command}"] = lab.run(logs)
    for command in ["docker compose logs --no-log-prefix", "docker compose up | sed 's/\\x1b\\[2K//'"]:
        out[command] = lab.run(command, raw=True)
    for command in ["SCENARIO=nope.scn docker compose up", "docker compose logs scenario",
                    "SERVER_VARIANT=asyncio WAIT=busy docker compose up"]:
        out[command] = lab.run(command)
    out["LOCK=maybe scripts/replay scenarios/tutorial.scn"] = lab.run("LOCK=maybe scripts/replay scenarios/tutorial.scn")


def group_sieve(lab, out):
    for command in SIEVE:
        out[command] = lab.run(command)


def group_clients(lab, out):
    for command in ["docker compose --profile ft run --rm sieve-ft",
                    "docker compose --profile ft run --rm sieve-ft python3 -m bench.sievebench segmented 10000000 2",
                    "docker compose run --rm client1 python3 clnt.py a.b.d 2000"]:
        out[command] = lab.run(command)
    lab.down()
    command = "docker compose run --rm --no-deps client1 python3 clnt.py a.b.c 2000 </dev/null"
    out[command] = lab.run(command)
    out["python3 services/client/clnt.py a.b.c 2000"] = lab.run("python3 services/client/clnt.py a.b.c 2000", **NO_PATH)


def group_worker_and_load(lab, out):
    for command in ["docker compose --profile serve up -d --wait sieved",
                    "docker compose run --rm --no-deps client1 python3 -m sieve.primes 1000000 2 --host sieved",
                    "docker compose stop sieved"]:
        out[command] = lab.run(command)
    out["after stop"] = lab.run("docker compose ps -a --format '{{.Service}} {{.State}}'")
    out["docker compose rm -sf sieved"] = lab.run("docker compose rm -sf sieved")
    out["after rm"] = lab.run("docker compose ps -a --format '{{.Service}} {{.State}}'")
    for command in ["MAX_CLIENTS=300 docker compose up -d --wait server",
                    "docker compose run --rm --no-deps client1 python3 clnt.py a.b.c 2000 --load 250 --ks 40"]:
        out[command] = lab.run(command)
    lab.run("docker compose --profile serve up -d --wait sieved")
    out["docker compose --profile serve down"] = lab.run("docker compose --profile serve down")
    out["after serve down"] = lab.run("docker compose ps -a -q")
    lab.run("docker compose --profile serve up -d --wait server sieved")
    command = "docker compose --profile more --profile serve --profile ft down -v"
    out[command] = lab.run(command)
    out["after down -v"] = lab.run(f"docker ps -aq --filter label=com.docker.compose.project={lab.project}; "
                                   f"docker network ls -q --filter name={lab.project}_")


def group_eight(lab, out):
    command = "NCLIENTS=8 SCENARIO=many.scn docker compose --profile more up"
    out[command] = lab.run(command, timeout=240)


def group_pdb(lab, out):
    out["docker compose up -d --wait server"] = lab.run("docker compose up -d --wait server")
    command = "docker compose run --rm --use-aliases -e BREAKPOINT=on -e NCLIENTS=1 server"
    out["in use"] = lab.run(command, timeout=60)
    out["docker compose down"] = lab.run("docker compose down")
    out["pdb"] = pdb_session(lab)


def group_by_hand(lab, out):
    out["by hand"] = by_hand(lab)


CHECKS = "scripts/check server tests/students/server/good_threading.py --checks tutorial,contention,sigterm"
CLASS = "scripts/check class tests/students/client --kind client"
GRADES = "cat out/check/grades.csv"


def group_checker(lab, out):
    """The checker's commands; the class's CSV read where this lab's checker wrote it (CHECK_OUT)."""
    for command in [CHECKS, CLASS]:
        out[command] = lab.run(command)
    out[GRADES] = lab.run(GRADES.replace("out/check", lab.check_out))


GROUPS = [group_checker, group_compose_up, group_sieve, group_clients, group_worker_and_load, group_eight, group_pdb, group_by_hand]


@pytest.fixture(scope="module")
def results(docker_engine):
    """Every group's commands, run side by side, each group in its own lab: {command: (exit code, lines)}."""
    with open("/tmp/threadlab-test-readme.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # one session at a time on 10.9.70-79
        labs = [ReadmeLab(i) for i in range(len(GROUPS))]
        for lab in labs:
            lab.down()
        subprocess.run(["docker", "compose", "build", "-q"], cwd=ROOT, env=labs[0].env, check=True,
                       capture_output=True, timeout=600)
        out, errors = {}, {}

        def run(group, lab):
            try:
                group(lab, out)
            except Exception as e:  # reported by the tests of that group
                errors[group.__name__] = e

        threads = [threading.Thread(target=run, args=(g, lab)) for g, lab in zip(GROUPS, labs) if g is not group_checker]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # the checker after the others: its checks have time bounds, and seven labs beside it load the machine
            run(group_checker, labs[GROUPS.index(group_checker)])
            out["errors"] = errors
            yield out
        finally:
            for lab in labs:
                lab.down()


def ok(results, *names):
    assert not results["errors"], results["errors"]
    missing = [n for n in names if n not in results]
    assert not missing, missing


def test_compose_up_runs_the_tutorial_and_ends(results):
    """`docker compose up` prints the Expected result and ends; the server's own log is the clean text."""
    ok(results, "docker compose up")
    check(results, "docker compose up", interleaved=True, session="server-1")
    check(results, "docker logs $(docker compose ps -aq server)", session="")


def test_a_reused_server_keeps_every_session_in_its_log(results):
    """The README: up again reuses a.b.c and its log, so the log holds each session; --force-recreate starts one
    afresh."""
    logs = "docker logs $(docker compose ps -aq server)"
    finals = lambda command: [line for line in results[f"{logs} after {command}"][1] if "the final value" in line]
    assert finals("docker compose up") == ["the final value of v is 95"] * 2
    assert finals("docker compose up --force-recreate") == ["the final value of v is 95"]


def test_compose_logs_erase_lines_and_sed_strips_them(results):
    """The README: Compose's logs start lines with ESC[2K even with --no-log-prefix; piped through its sed, up
    prints clean lines."""
    ok(results, "docker compose logs --no-log-prefix", "docker compose up | sed 's/\\x1b\\[2K//'")
    assert any(line.startswith("\x1b[2K") for line in results["docker compose logs --no-log-prefix"][1])
    code, lines = results["docker compose up | sed 's/\\x1b\\[2K//'"]
    assert code == 0 and not any("\x1b[2K" in line for line in lines)
    assert "server-1    | the final value of v is 95" in lines


def test_checker_card_and_class(results):
    """A student's report card as the README shows it; a class's lines (in the order students finish),
    summary and CSV."""
    ok(results)
    check(results, CHECKS)
    check(results, CLASS, anywhere=True)
    check(results, GRADES)


def test_common_mistakes_in_compose_up(results):
    ok(results)
    check(results, "SCENARIO=nope.scn docker compose up", anywhere=True)
    check(results, "SERVER_VARIANT=asyncio WAIT=busy docker compose up", anywhere=True)
    # the README's table: in run, only Compose's line shows; the scenario host's log has the reason
    assert results["docker compose logs scenario"][1] == ["scenario-1  | scenario: scenarios/nope.scn: No such file or directory"]


def test_bad_setting_in_a_replay(results):
    ok(results)
    check(results, "LOCK=maybe scripts/replay scenarios/tutorial.scn")


def test_common_mistakes_of_clients(results):
    ok(results)
    check(results, "docker compose run --rm client1 python3 clnt.py a.b.d 2000")
    check(results, "docker compose run --rm --no-deps client1 python3 clnt.py a.b.c 2000 </dev/null")
    check(results, "python3 services/client/clnt.py a.b.c 2000")


def test_sieve_lessons(results):
    """The sieve and balance lessons' commands: the tutorial's counts, each thread's share, the refusals."""
    ok(results)
    for command in SIEVE:
        lines = check(results, command)
        if "--as-printed" not in command and "SWITCH_INTERVAL=0 " not in command and "bench" not in command:
            shares = [int(n) for n in re.findall(r"processed (\d+) values", "\n".join(lines))]
            n = int(re.search(r"primes\.py (\d+)", command).group(1)) if "primes.py" in command else 1000000
            assert sum(shares) == int(n ** 0.5) - 1, (command, lines)


def test_free_threaded_sieve(results):
    ok(results)
    check(results, "docker compose --profile ft run --rm sieve-ft")
    check(results, "docker compose --profile ft run --rm sieve-ft python3 -m bench.sievebench segmented 10000000 2")
    check(results, "docker compose run --rm sieve python3 -m bench.sievebench segmented 10000000 2")


def test_sieve_worker(results):
    """The worker answers a client host; `stop sieved` and `rm -sf sieved` touch the worker alone."""
    ok(results)
    check(results, "docker compose --profile serve up -d --wait sieved")
    check(results, "docker compose run --rm --no-deps client1 python3 -m sieve.primes 1000000 2 --host sieved")
    check(results, "docker compose stop sieved")
    assert "sieved exited" in results["after stop"][1] and "client1 exited" not in results["after stop"][1]
    check(results, "docker compose rm -sf sieved")
    assert not [line for line in results["after rm"][1] if line.startswith("sieved")]


def test_stop_and_remove(results):
    """`--profile serve down` takes the whole lab down; naming every profile leaves nothing behind."""
    ok(results)
    check(results, "docker compose --profile serve down")
    assert results["after serve down"] == (0, [])
    check(results, "docker compose --profile more --profile serve --profile ft down -v")
    assert results["after down -v"] == (0, [])


def test_load(results):
    ok(results)
    check(results, "MAX_CLIENTS=300 docker compose up -d --wait server")
    check(results, "docker compose run --rm --no-deps client1 python3 clnt.py a.b.c 2000 --load 250 --ks 40")


def test_eight_clients(results):
    ok(results)
    check(results, "NCLIENTS=8 SCENARIO=many.scn docker compose --profile more up", anywhere=True)


def test_pdb_in_a_serving_thread(results):
    """The lesson's commands: a second a.b.c fails while one is up; after `docker compose down` the session
    in pdb is the lesson's screen, with srvr.py's own line numbers."""
    ok(results, "pdb")
    check(results, "docker compose up -d --wait server")
    results["docker compose run --rm --use-aliases -e BREAKPOINT=on -e NCLIENTS=1 server"] = results["in use"]
    check(results, "docker compose run --rm --use-aliases -e BREAKPOINT=on -e NCLIENTS=1 server")
    check(results, "docker compose down")
    assert expected("docker compose run --rm --no-deps client1 python3 clnt.py a.b.c 2000").exit_code == 0
    codes, screen = results["pdb"]
    assert codes == (0, 0)
    lesson = (ROOT / "docs" / "lessons" / "pdb.md").read_text()
    shown = lesson[lesson.index("```text\na.b.c listening"):].split("```")[1].splitlines()[1:]
    mask = lambda lines: [re.sub(r"\d+\.\d+|:\d+ ", "<T>", line.rstrip()) for line in lines if line.strip()]
    assert mask(screen) == mask(shown), "\n".join(screen)
    for number, text in re.findall(r"srvr\.py\((\d+)\)handle\(\)\n-> (.*)", "\n".join(screen)):
        assert int(number) == readme.srvr_line(text)


def lab_screen(screen):
    """A terminal's screen as its lines, without Compose's progress and escapes."""
    return [line for line in ReadmeLab(0).clean(screen) if line.strip()]


def test_tutorial_by_hand(results):
    """Two people type into clients on u.v.w and x.y.z at the `input k ` prompt; the server prints the exact total."""
    ok(results, "by hand")
    assert expected("docker compose run --rm client1 python3 clnt.py a.b.c 2000").expected == []
    assert expected("docker compose run --rm client2 python3 clnt.py a.b.c 2000").expected == []
    codes, screen, last = results["by hand"]
    assert codes == (0, 0)
    assert last == "the final value of v is 276"
    lesson = (ROOT / "README.md").read_text()
    shown = lesson[lesson.index("```text\ninput k 5"):].split("```")[1].removeprefix("text").strip()
    assert shown in "\n".join(lab_screen(screen)), screen
