"""The README's rule: every command in README.md and docs/lessons/*.md is run by a test.

The convention (README.md, "How the README is kept true"): a command is a line `$ COMMAND` in a
```console block; the lines after it, up to the next `$ ` line, are what it prints (its stdout and
stderr, with Compose's ` Container ...` progress lines left out), and a last line `[exit N]` its exit
code when that is not 0. What varies from run to run is written as a placeholder:

    <N>    a whole number            <T>    a number such as 3.67
    <IP>   an address such as 10.9.0.21
    <...>  any text on the line; a line of its own: any number of lines

Runs of spaces match runs of spaces. Other blocks are ```text (screens, files) and hold no commands.

COMMANDS names, for each command, the test that runs it: tests/integration/test_readme_live.py runs the
quick ones for real through one helper (readme_run) and checks their output against the block;
the slow ones (replays, benchmarks, the balance table) are run by the tests named. A command in the
docs and not here fails this file, and so does an entry here whose test does not exist or, in
test_readme_live.py, does not name its command.
"""

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs" / "lessons").glob("*.md"))]
INTEGRATION = "tests/integration/test_readme_live.py"
LESSONS = "tests/integration/test_lessons.py"
REPLAY = "tests/integration/test_replay.py"

COMMANDS = {
    # README.md
    "scripts/install-compose": "scripts/test (it runs it first, before pytest)",
    "scripts/build-base": "scripts/test (it runs it first, before pytest)",
    "docker compose up": f"{INTEGRATION}::test_compose_up_runs_the_tutorial_and_ends",
    "scripts/check server tests/students/server/good_threading.py --checks tutorial,contention,sigterm":
        f"{INTEGRATION}::test_checker_card_and_class",
    "scripts/check class tests/students/client --kind client":
        f"{INTEGRATION}::test_checker_card_and_class",
    "cat out/check/grades.csv": f"{INTEGRATION}::test_checker_card_and_class",
    "docker logs $(docker compose ps -aq server)": f"{INTEGRATION}::test_compose_up_runs_the_tutorial_and_ends",
    "scripts/test": "scripts/test (the suite itself)",
    "docker compose --profile more --profile serve --profile ft down -v": f"{INTEGRATION}::test_stop_and_remove",
    "docker compose --profile serve up -d --wait sieved": f"{INTEGRATION}::test_sieve_worker",
    "docker compose run --rm --no-deps client1 python3 -m sieve.primes 1000000 2 --host sieved":
        f"{INTEGRATION}::test_sieve_worker",
    "docker compose stop sieved": f"{INTEGRATION}::test_sieve_worker",
    "docker compose rm -sf sieved": f"{INTEGRATION}::test_sieve_worker",
    "docker compose --profile serve down": f"{INTEGRATION}::test_stop_and_remove",
    "NCLIENTS=8 SCENARIO=many.scn docker compose --profile more up": f"{INTEGRATION}::test_eight_clients",
    "SCENARIO=nope.scn docker compose up": f"{INTEGRATION}::test_common_mistakes_in_compose_up",
    "SERVER_VARIANT=asyncio WAIT=busy docker compose up": f"{INTEGRATION}::test_common_mistakes_in_compose_up",
    "LOCK=maybe scripts/replay scenarios/tutorial.scn": f"{INTEGRATION}::test_bad_setting_in_a_replay",
    "docker compose run --rm client1 python3 clnt.py a.b.d 2000": f"{INTEGRATION}::test_common_mistakes_of_clients",
    "docker compose run --rm --no-deps client1 python3 clnt.py a.b.c 2000 </dev/null":
        f"{INTEGRATION}::test_common_mistakes_of_clients",
    "python3 services/client/clnt.py a.b.c 2000": f"{INTEGRATION}::test_common_mistakes_of_clients",
    "docker compose up -d --wait server": f"{INTEGRATION}::test_pdb_in_a_serving_thread",
    "docker compose run --rm --use-aliases -e BREAKPOINT=on -e NCLIENTS=1 server":
        f"{INTEGRATION}::test_pdb_in_a_serving_thread",
    "docker compose down": f"{INTEGRATION}::test_pdb_in_a_serving_thread",
    "docker compose run --rm --no-deps client1 python3 clnt.py a.b.c 2000": f"{INTEGRATION}::test_pdb_in_a_serving_thread",
    "docker compose run --rm client1 python3 clnt.py a.b.c 2000": f"{INTEGRATION}::test_tutorial_by_hand",
    "docker compose run --rm client2 python3 clnt.py a.b.c 2000": f"{INTEGRATION}::test_tutorial_by_hand",
    "MAX_CLIENTS=300 docker compose up -d --wait server": f"{INTEGRATION}::test_load",
    "docker compose run --rm --no-deps client1 python3 clnt.py a.b.c 2000 --load 250 --ks 40":
        f"{INTEGRATION}::test_load",
    "scripts/replay scenarios/tutorial.scn": f"{REPLAY}::test_the_readmes_replay",
    # docs/lessons
    "LOCK=off RACE_YIELD=on scripts/replay scenarios/contention.scn":
        f"{LESSONS}::test_race_without_the_lock_loses_updates",
    "scripts/race": "tests/integration/test_race_script.py::test_the_table_has_a_row_for_each_measure",
    "WAIT=busy scripts/replay scenarios/tutorial.scn": f"{LESSONS}::test_busy_wait_burns_a_core_while_clients_think",
    "SERVER_VARIANT=asyncio LOCK=off scripts/replay scenarios/*.scn": f"{LESSONS}::test_variant_passes_every_shipped_replay",
    "SERVER_VARIANT=asyncio LOCK=off RACE_YIELD=on scripts/replay scenarios/contention.scn":
        f"{LESSONS}::test_asyncio_loses_updates_with_an_await_in_the_window",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 100000 1": f"{INTEGRATION}::test_sieve_lessons",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 100 1 --as-printed":
        f"{INTEGRATION}::test_sieve_lessons",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 100 2": f"{INTEGRATION}::test_sieve_lessons",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 10000 2": f"{INTEGRATION}::test_sieve_lessons",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 100000 2": f"{INTEGRATION}::test_sieve_lessons",
    "SIEVE_VARIANT=thread docker compose run --rm sieve python3 primes.py 1000000 2": f"{INTEGRATION}::test_sieve_lessons",
    "docker compose run --rm sieve python3 primes.py 1000000 2": f"{INTEGRATION}::test_sieve_lessons",
    "SIEVE_VARIANT=thread SWITCH_INTERVAL=0.1 docker compose run --rm sieve": f"{INTEGRATION}::test_sieve_lessons",
    "SWITCH_INTERVAL=0.00001 docker compose run --rm sieve": f"{INTEGRATION}::test_sieve_lessons",
    "SWITCH_INTERVAL=0 docker compose run --rm sieve": f"{INTEGRATION}::test_sieve_lessons",
    "scripts/balance --quick": "tests/integration/test_lab_sieve_balance.py::test_balance_quick_in_the_lab",
    "scripts/build-ft-base": "scripts/test (it runs it first, before pytest)",
    "docker compose --profile ft run --rm sieve-ft": f"{INTEGRATION}::test_free_threaded_sieve",
    "docker compose run --rm sieve python3 -m bench.sievebench segmented 10000000 2": f"{INTEGRATION}::test_free_threaded_sieve",
    "docker compose --profile ft run --rm sieve-ft python3 -m bench.sievebench segmented 10000000 2":
        f"{INTEGRATION}::test_free_threaded_sieve",
    "scripts/bench --quick": "tests/integration/test_bench.py::test_quick_bench_prints_the_tables",
}

# The commands the docs' prose names, in `code` (a program with its arguments, not a bare `docker compose run`),
# and the test that runs each.
PROSE = {
    "python3 srvr.py 2000": "tests/unit/test_compose_file.py::test_a_b_c_runs_the_tutorials_command",
    "python clnt.py a.b.c 2000": "tests/integration/test_py2.py::test_the_tutorials_session",
    "docker compose logs --no-log-prefix": f"{INTEGRATION}::test_compose_logs_erase_lines_and_sed_strips_them",
    "docker compose up | sed 's/\\x1b\\[2K//'": f"{INTEGRATION}::test_compose_logs_erase_lines_and_sed_strips_them",
    "docker compose up --force-recreate": f"{INTEGRATION}::test_a_reused_server_keeps_every_session_in_its_log",
    "docker compose logs scenario": f"{INTEGRATION}::test_common_mistakes_in_compose_up",
    "scripts/test tests/unit": "scripts/test (its arguments go to pytest; CI runs it with none)",
    "scripts/replay scenarios/*.scn": f"{REPLAY}::test_shipped_scenario_passes",
    "scripts/replay scenarios/contention.scn": f"{REPLAY}::test_shipped_scenario_passes",
    "LOCK=off scripts/replay scenarios/contention.scn": f"{LESSONS}::test_without_the_forced_yield_3_11_loses_nothing",
    "docker compose -f docker-compose.yml -f compose.publish.yml up":
        "tests/integration/test_classroom.py::test_only_the_server_runs_published_on_the_chosen_interface",
    "scripts/bench --report out/bench/bench.json": "tests/integration/test_bench.py::test_report_reprints_the_tables",
}

PLACEHOLDERS = {"<N>": r"\d+", "<T>": r"\d+(?:\.\d+)?", "<IP>": r"\d+\.\d+\.\d+\.\d+", "<...>": r".*"}
ANY_LINES = "<...>"


class Block:
    """A ```console block's command and what it prints, from one of the docs."""

    def __init__(self, path, line, command, expected, exit_code):
        self.path, self.line, self.command, self.expected, self.exit_code = path, line, command, expected, exit_code

    def __repr__(self):
        return f"{self.path.name}:{self.line}: $ {self.command}"


def fences(path):
    """(info string, first line number, lines) of each fenced block in a markdown file."""
    out, info, start, body = [], None, 0, []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if info is None and line.startswith("```"):
            info, start, body = line[3:].strip(), i + 1, []
        elif info is not None and line.startswith("```"):
            out.append((info, start, body))
            info = None
        elif info is not None:
            body.append(line)
    return out


def blocks(paths=DOCS):
    """Every command of the docs, with its expected output, in order."""
    found = []
    for path in paths:
        for info, start, body in fences(path):
            if info.split()[:1] != ["console"]:
                continue
            current = None
            for offset, line in enumerate(body):
                if line.startswith("$ "):
                    current = Block(path, start + offset, line[2:], [], 0)
                    found.append(current)
                elif current is None:
                    raise ValueError(f"{path.name}:{start + offset}: output before any `$ ` command")
                elif m := re.fullmatch(r"\[exit (\d+)\]", line):
                    current.exit_code = int(m.group(1))
                else:
                    current.expected.append(line)
    return found


def line_pattern(line):
    """A line of expected output as a regex: placeholders for what varies, runs of spaces as runs."""
    parts = re.split(r"(<N>|<T>|<IP>|<\.\.\.>| +)", line)
    return "".join(PLACEHOLDERS.get(p, " +" if p and not p.strip() else re.escape(p)) for p in parts)


def pattern(expected):
    """The whole expected output as one regex over the output's lines, each ending in a newline."""
    return re.compile("".join(r"(?:[^\n]*\n)*?" if line == ANY_LINES else line_pattern(line) + r"\n"
                              for line in expected))


def matches(expected, output):
    """Whether output (its lines) is what the expected lines say, placeholders and all."""
    text = "".join(line.rstrip() + "\n" for line in output)
    return pattern([line.rstrip() for line in expected]).fullmatch(text) is not None


def test_placeholders_match_what_varies_and_nothing_else():
    expected = ["server-1    | <IP>:<N> joined: client 1 of 2", "<...>", "waited <T> s"]
    assert matches(expected, ["server-1 | 10.9.0.21:54692 joined: client 1 of 2", "a", "b", "waited 3.67 s"])
    assert matches(expected, ["server-1 | 10.9.0.21:1 joined: client 1 of 2", "waited 3 s"])
    assert not matches(expected, ["server-1 | 10.9.0.21:1 joined: client 2 of 2", "waited 3 s"])
    assert not matches(expected, ["server-1 | 10.9.0.21:1 joined: client 1 of 2", "waited 3 s", "more"])
    assert not matches(["v is <N>"], ["v is 5x"])


def test_every_command_in_the_docs_has_a_test():
    missing = [b for b in blocks() if b.command not in COMMANDS]
    assert not missing, f"commands in the docs that no test runs: add them to COMMANDS: {missing}"


def test_every_registered_command_is_in_the_docs():
    documented = {b.command for b in blocks()}
    assert not [c for c in COMMANDS if c not in documented]


RUNNABLE = re.compile(r"(?:[A-Z_]+=\S* )*(?:docker compose \S+|docker (?!compose)\S+|scripts/[\w-]+|python3?|cat) +\S")


def inline_commands(paths=DOCS):
    """Every command line the docs' prose gives in `code` (a program and its arguments): [(path, command)]."""
    found = []
    for path in paths:
        prose = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
        for m in re.finditer(r"`([^`]+)`", prose):
            command = " ".join(m.group(1).split())  # a span may break across lines
            if RUNNABLE.match(command):
                found.append((path, command))
    return found


def test_every_command_in_the_prose_has_a_test():
    """A command in a sentence is a command too: a test runs it as written, as for the blocks' commands."""
    missing = sorted({c for _, c in inline_commands() if c not in COMMANDS and c not in PROSE})
    assert not missing, f"commands in the docs' prose that no test runs: add them to PROSE: {missing}"
    assert not [c for c in PROSE if c not in {c for _, c in inline_commands()}]


def test_the_tests_named_exist_and_name_their_commands():
    sources = {}
    for command, where in {**COMMANDS, **PROSE}.items():
        if where.startswith("scripts/"):
            assert (ROOT / where.split()[0]).exists(), where
            continue
        path, name = where.split("::")
        if path not in sources:
            text = (ROOT / path).read_text()
            sources[path] = (text, {n.name: n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.FunctionDef)})
        text, functions = sources[path]
        assert name in functions, f"{where}: no such test (for {command!r})"
        if path == INTEGRATION:
            assert repr(command) in text or f'"{command}"' in text, f"{path} does not run {command!r}"


def test_only_console_blocks_hold_commands():
    for path in DOCS:
        for info, start, body in fences(path):
            assert info.split()[:1] in (["console"], ["text"]), f"{path.name}:{start}: a block must be console or text"
            if info.startswith("text"):
                assert not [line for line in body if line.startswith("$ ")], f"{path.name}:{start}: a command in text"


def test_a_command_has_one_expected_output():
    """A command shown twice shows the same output (placeholders and all): the test checks one."""
    seen = {}
    for b in blocks():
        if not b.expected and not b.exit_code:
            continue  # shown to be typed, its screen in a text block
        assert seen.setdefault(b.command, (b.expected, b.exit_code)) == (b.expected, b.exit_code), b


def test_no_issue_numbers():
    for path in DOCS:
        assert not re.search(r"\bissues? \d+|#\d+\b", path.read_text(), re.I), path.name


def test_the_readme_links_every_lesson():
    readme = (ROOT / "README.md").read_text()
    lessons = sorted((ROOT / "docs" / "lessons").glob("*.md"))
    assert lessons
    for lesson in lessons:
        assert f"](docs/lessons/{lesson.name})" in readme, lesson.name


def test_links_between_the_docs_resolve():
    for path in DOCS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text()):
            where = (path.parent / target).resolve()
            assert where.exists(), f"{path.name}: {target}"


def test_the_project_tree_has_every_folder():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not files:
        return  # not a git checkout
    readme = (ROOT / "README.md").read_text()
    tree = readme[readme.index("## Project structure"):].split("```")[1]
    folders = {f.rsplit("/", 1)[0] + "/" for f in files if "/" in f}
    listed = {line.split()[0] for line in tree.splitlines() if line.strip()}
    covered = lambda folder: any(folder.startswith(f) for f in listed)  # tests/students/ lists its own folders
    assert not sorted(f for f in folders if not covered(f)), "folders missing from the README's project structure"


def srvr_line(text):
    """The line number of text in the lab's srvr.py."""
    lines = (ROOT / "services" / "server" / "srvr.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip() == text)


def test_the_pdb_lesson_names_srvr_py_lines_as_they_are():
    """pdb prints /app/server/srvr.py(LINE) with the line it stopped at: the lesson's numbers are srvr.py's."""
    shown = re.findall(r"srvr\.py\((\d+)\)handle\(\)\n-> (.*)", (ROOT / "docs" / "lessons" / "pdb.md").read_text())
    assert shown
    for number, text in shown:
        assert int(number) == srvr_line(text), f"srvr.py has {text!r} on line {srvr_line(text)}, not {number}"
