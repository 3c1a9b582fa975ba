"""The lab's lifecycle, timed: the offline base, the images, up to healthy, the demo, the test suite.

    base    scripts/build-base making a base from Debian's packages (mmdebstrap), under a tag of
            its own that is removed after, so that the lab's threadlab-base:3.11 is left alone
    ft-base scripts/build-ft-base making the free-threaded base, once: timed when this run makes it,
            with the seconds of each phase the script prints (build root, compile, image)
    build   `docker compose build` of every host's image, with --no-cache (cold), then again (warm)
    demo    the README's `docker compose up`, with warm images, until it ends by itself
    up      `docker compose up -d --wait` of every host (idle), warm images: timed by bench_main
    suite   the whole test suite, `python -m pytest -q`, as scripts/test runs it
"""

import os
import re
import subprocess
import sys
import time

from threadlab.lab import ROOT, Lab

PROBE_BASE = "threadlab-bench-base:probe"
FT_BASE = "threadlab-base:ft"


def timed(cmd, timeout, env=None):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    return time.perf_counter() - t0, r


def base():
    """Seconds for scripts/build-base to make a base image from Debian's packages."""
    subprocess.run(["docker", "rmi", "-f", PROBE_BASE], capture_output=True)
    try:
        seconds, r = timed(["scripts/build-base"], 900, env=dict(os.environ, BASE_IMAGE=PROBE_BASE))
        if r.returncode != 0:
            return {"error": ((r.stdout + r.stderr).strip().splitlines() or ["failed"])[-1]}
        made = re.search(r"made .* in \d+ s \((\d+) MB\)", r.stdout)
        return {"seconds": seconds, "mb": int(made.group(1)) if made else None, "output": r.stdout.strip()}
    finally:
        subprocess.run(["docker", "rmi", "-f", PROBE_BASE], capture_output=True)


def have_ft_base(image=FT_BASE):
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def ft_phases(output):
    """scripts/build-ft-base's phases and their seconds, from its lines "build-ft-base: PHASE in N s"."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^build-ft-base: (.+) in (\d+) s$", output, re.M)}


def ft_base(image=FT_BASE):
    """The free-threaded base for sieve-ft: {"here": True}, or made now by scripts/build-ft-base, timed.

    image: another tag times a build without touching the lab's base (the caller removes it).
    """
    if have_ft_base(image):
        return {"here": True}
    seconds, r = timed(["scripts/build-ft-base"], 3600, env=dict(os.environ, FT_BASE_IMAGE=image))
    if r.returncode != 0:
        return {"error": ((r.stdout + r.stderr).strip().splitlines() or ["failed"])[-1]}
    made = re.search(r"\((\d+) MB\)", r.stdout)
    return {"seconds": seconds, "mb": int(made.group(1)) if made else None, "phases": ft_phases(r.stdout),
            "output": r.stdout.strip()}


def build(project, net):
    """Seconds to build every host's image: cold (--no-cache), then warm."""
    lab = Lab(project, net)
    cold, r = timed(lab.command("build", "--no-cache"), 900, env=lab.env)
    if r.returncode != 0:
        return {"error": r.stderr.strip()[-500:]}
    warm, r = timed(lab.command("build"), 900, env=lab.env)
    images = len(lab.compose("config", "--services").stdout.split())
    return {"cold_seconds": cold, "warm_seconds": warm, "images": images}


def demo(project, net):
    """Seconds for the README's `docker compose up` (warm images) to run the tutorial and end by itself."""
    lab = Lab(project, net, profiles=())
    lab.down()
    try:
        lab.compose("build", timeout=600)
        seconds, r = timed(lab.command("--ansi", "never", "up"), 300, env=lab.env)
        ok = r.returncode == 0 and "the final value of v is 95" in r.stdout and "there are 78498 primes" in r.stdout
        return {"seconds": seconds, "ok": ok, **({} if ok else {"output": (r.stdout + r.stderr)[-2000:]})}
    finally:
        lab.down()


def other_labs(mine):
    """Compose projects named threadlab-* with containers up, other than mine."""
    out = subprocess.run(["docker", "ps", "--format", '{{.Label "com.docker.compose.project"}}'],
                         capture_output=True, text=True).stdout.split()
    return sorted({p for p in out if p.startswith("threadlab") and p != mine})


def suite(mine):
    """Seconds for the whole test suite and its summary line; skipped while other labs are up: it would time their load too."""
    busy = other_labs(mine)
    if busy:
        return {"skipped": f"not run: {', '.join(busy)} up (another run of the tests or scripts?)"}
    seconds, r = timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], 1800)
    summary = (r.stdout.strip().splitlines() or [""])[-1].strip("= ")
    return {"seconds": seconds, "ok": r.returncode == 0, "summary": summary}
