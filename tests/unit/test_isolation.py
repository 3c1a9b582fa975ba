"""The tests run on the lab's defaults: what a caller exported, or keeps in .env, does not reach them."""

import json
import os
import subprocess
import sys

from threadlab.lab import ROOT, Lab

PROBE = ("import json, os, runpy; runpy.run_path('tests/conftest.py'); "
         "print(json.dumps({k: os.environ.get(k) for k in ('LOCK', 'SERVER_VARIANT', 'PORT', 'LAB_NET', "
         "'COMPOSE_FILE', 'REPLAY_NET', 'LAB_ENV_FILE', 'HOME')}))")


def test_a_callers_settings_are_dropped():
    """LOCK=off, SERVER_VARIANT, PORT, LAB_NET, COMPOSE_FILE and REPLAY_NET exported by the caller are gone."""
    caller = dict(os.environ, LOCK="off", SERVER_VARIANT="asyncio", PORT="2999", LAB_NET="10.9.0",
                  COMPOSE_FILE="compose.publish.yml", REPLAY_NET="10.9.0")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=caller, capture_output=True, text=True,
                         check=True, timeout=30).stdout
    seen = json.loads(out)
    assert seen.pop("HOME") == os.environ.get("HOME")  # the rest of the environment is left alone
    assert seen == {"LOCK": None, "SERVER_VARIANT": None, "PORT": None, "LAB_NET": None, "COMPOSE_FILE": None,
                    "REPLAY_NET": None, "LAB_ENV_FILE": os.devnull}


def test_labs_the_tests_start_read_no_env_file():
    """Every compose command of a test's lab names an empty env file, so a .env beside the compose file is not read."""
    command = Lab("threadlab-probe", "10.9.250").command("config")
    at = command.index("--env-file")
    assert command[at + 1] == os.devnull
