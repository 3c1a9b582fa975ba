"""The checks as data: load and validate checks.toml, so that a typo is one line, not a wrong grade."""

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from common import scenario

from threadlab.lab import CLIENTS, ROOT

DEFAULT = Path(__file__).resolve().parents[1] / "checks.toml"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*$")
HOSTS = set(CLIENTS.values())
COMMON = {"name", "points", "time", "kind"}
# kind -> {key: (type, required)}; a key not listed is an error
SERVER_KINDS = {
    "scenario": {"file": (str, False), "scenario": (str, False), "nclients": (int, False), "final_line": (bool, False)},
    "rude": {"file": (str, False), "scenario": (str, False)},
    "lost": {"file": (str, False), "scenario": (str, False), "how": (str, True)},
    "sigterm": {},
    "flood": {"connections": (int, True)},
    "threads": {"file": (str, False), "scenario": (str, False)},
}
CLIENT_KINDS = {
    "session": {"input": (list, True), "eof": (bool, False), "expect_prompt": (str, False),
                "expect_sent": (list, False), "expect_printed": (list, False), "expect_refusals": (int, False),
                "expect_left": (str, False), "expect_clean": (bool, False)},
}
KINDS = {"server": SERVER_KINDS, "client": CLIENT_KINDS}
SCENARIO_KINDS = {"scenario", "rude", "lost", "threads"}  # these need a scenario
# hosts a kind uses of its own, which its scenario must leave free
OWN_HOSTS = {"rude": {"r.s.t"}, "lost": {"l.m.n"}, "threads": {"d.e.f"}}


class ConfigError(ValueError):
    """A bad checks file: the message names the file, the check and what is wrong."""


@dataclass
class Check:
    name: str
    points: int
    time: float
    kind: str
    params: dict = field(default_factory=dict)
    scenario: object = None  # a common.scenario.Scenario, for the kinds that play one
    scenario_text: str = None

    def get(self, key, default=None):
        return self.params.get(key, default)


@dataclass
class Config:
    path: str
    start_timeout: float
    server: list
    client: list

    def checks(self, kind, only=None):
        """The checks of a kind ("server" or "client"), in order; only: the names to keep."""
        checks = getattr(self, kind)
        if only:
            unknown = [n for n in only if n not in {c.name for c in checks}]
            if unknown:
                raise ConfigError(f"{self.path}: no {kind} check named {', '.join(unknown)} "
                                  f"(there are {', '.join(c.name for c in checks)})")
            checks = [c for c in checks if c.name in only]
        return checks


def load(path=DEFAULT):
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None
    return parse(data, str(path))


def parse(data, path="<checks>"):
    unknown = set(data) - {"settings", "server", "client"}
    if unknown:
        raise ConfigError(f"{path}: unknown table {', '.join(sorted(unknown))} (settings, server, client)")
    settings = data.get("settings", {})
    extra = set(settings) - {"start_timeout"}
    if extra:
        raise ConfigError(f"{path}: [settings] has unknown key {', '.join(sorted(extra))} (start_timeout)")
    start_timeout = settings.get("start_timeout", 10)
    if not isinstance(start_timeout, (int, float)) or isinstance(start_timeout, bool) or start_timeout <= 0:
        raise ConfigError(f"{path}: [settings] start_timeout must be a number of seconds above 0")
    lists = {}
    for side in ("server", "client"):
        tables = data.get(side, [])
        if not isinstance(tables, list):
            raise ConfigError(f"{path}: write each {side} check as a [[{side}]] table")
        checks, names = [], set()
        for i, table in enumerate(tables, 1):
            check = _check(table, side, f"{path}: {side} check {table.get('name', f'#{i}')!s}")
            if check.name in names:
                raise ConfigError(f"{path}: two {side} checks named {check.name}")
            names.add(check.name)
            checks.append(check)
        lists[side] = checks
    return Config(path, float(start_timeout), lists["server"], lists["client"])


def _check(table, side, where):
    missing = [k for k in ("name", "points", "time", "kind") if k not in table]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    name, points, time, kind = table["name"], table["points"], table["time"], table["kind"]
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(f"{where}: a name is letters, digits, - and _, not {name!r}")
    if not isinstance(points, int) or isinstance(points, bool) or points < 0:
        raise ConfigError(f"{where}: points must be a whole number, at least 0, not {points!r}")
    if not isinstance(time, (int, float)) or isinstance(time, bool) or time <= 0:
        raise ConfigError(f"{where}: time must be a number of seconds above 0, not {time!r}")
    kinds = KINDS[side]
    if kind not in kinds:
        raise ConfigError(f"{where}: unknown kind {kind!r} (a {side} check is {', '.join(kinds)})")
    params = {k: v for k, v in table.items() if k not in COMMON}
    allowed = kinds[kind]
    for key, value in params.items():
        if key not in allowed:
            raise ConfigError(f"{where}: kind {kind} has no key {key!r} "
                              f"({', '.join(allowed) or 'it takes none'})")
        want = allowed[key][0]
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: {key} must be a {want.__name__}, not {value!r}")
    for key, (_, required) in allowed.items():
        if required and key not in params:
            raise ConfigError(f"{where}: kind {kind} needs {key}")
    check = Check(name, points, float(time), kind, params)
    if kind in SCENARIO_KINDS:
        _scenario(check, where)
    if kind == "lost" and params["how"] not in ("kill", "disconnect"):
        raise ConfigError(f"{where}: how is kill or disconnect, not {params['how']!r}")
    if kind == "flood" and not 1 <= params["connections"] <= 4000:
        raise ConfigError(f"{where}: connections must be from 1 to 4000")
    if kind == "session":
        _session(params, where)
    return check


def _scenario(check, where):
    file, text = check.get("file"), check.get("scenario")
    if (file is None) == (text is None):
        raise ConfigError(f"{where}: give the scenario as file = \"scenarios/X.scn\" or scenario = \"...\", one of them")
    try:
        if file is not None:
            full = Path(file) if Path(file).is_absolute() else ROOT / file
            check.scenario_text = full.read_text(encoding="utf-8")
            check.scenario = scenario.parse(check.scenario_text, file)
        else:
            check.scenario_text = text
            check.scenario = scenario.parse(text, f"{check.name} (inline)")
    except OSError as e:
        raise ConfigError(f"{where}: {file}: {e.strerror}") from None
    except scenario.ScenarioError as e:
        raise ConfigError(f"{where}: {e}") from None
    hosts = set(check.scenario.hosts)
    if hosts - HOSTS:
        raise ConfigError(f"{where}: {', '.join(sorted(hosts - HOSTS))} is not a client host of the lab")
    taken = hosts & OWN_HOSTS.get(check.kind, set())
    if taken:
        raise ConfigError(f"{where}: kind {check.kind} uses {', '.join(sorted(taken))} itself: "
                          "leave it out of the scenario")
    n = check.get("nclients")
    if n is not None and n < 1:
        raise ConfigError(f"{where}: nclients must be at least 1")


def _session(params, where):
    if not all(isinstance(x, str) for x in params["input"]):
        raise ConfigError(f"{where}: input is a list of lines (strings)")
    for key in ("expect_sent", "expect_printed"):
        if key in params and not all(isinstance(x, int) and not isinstance(x, bool) for x in params[key]):
            raise ConfigError(f"{where}: {key} is a list of whole numbers")
    if params.get("expect_left", "0") not in ("0", "any"):
        raise ConfigError(f"{where}: expect_left is \"0\" or \"any\"")
