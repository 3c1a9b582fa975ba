"""Every test session starts from the lab's defaults, whatever the caller has exported.

A caller's LOCK=off, SERVER_VARIANT or PORT, or a .env file beside the compose
file, would otherwise reach the servers the tests start and silently change
what is tested. Subprocesses find the lab's code
as the hosts do: services/ (and the host side, threadlab/) on PYTHONPATH.
"""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# every setting the compose file reads, the server's and sieve's own, and Compose's
SETTINGS = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
PREFIXES = ("COMPOSE_", "REPLAY_", "BENCH_", "BALANCE_", "SIEVE_", "CHECK_")

for name in list(os.environ):
    if name in SETTINGS or name.startswith(PREFIXES):
        del os.environ[name]
os.environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{ROOT / 'services'}"
os.environ["LAB_ENV_FILE"] = os.devnull  # and not a .env a person keeps for docker compose up (threadlab.lab)
