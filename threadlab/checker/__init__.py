"""The instructor's checker (issue 13): grade a student's srvr.py or clnt.py, or a class of them, in the lab.

scripts/check server FILE_OR_DIR [--json OUT] [--python 3|2.7] [--checks A,B] [--config TOML]
scripts/check client FILE_OR_DIR [--json OUT] [--python 3|2.7] [--checks A,B] [--config TOML]
scripts/check class DIR --kind server|client --csv OUT.csv [--jobs N] [--python ...] [--checks ...]

The checks are data, threadlab/checks.toml. Each submission gets a lab of its own (project
threadlab-check-NNN-STUDENT on 10.9.NNN.0/24, NNN from 100 to 199), brought up once; each check
starts a fresh server in it. Each check's output is kept in out/check/STUDENT/CHECK.log
(CHECK_OUT names another folder). docs/checker.md says how to grade a class.
"""

import shutil
import time
from pathlib import Path

from threadlab.checker import client, server
from threadlab.checker.run import CheckLab, Result, SubmissionError

KINDS = {"server": server.KINDS, "client": client.KINDS}


def check_submission(sub, config, checks, out_root, on_check=None, stop=None):
    """Run every check on one submission, in its own lab; fill sub.results; never raises for the submission's faults."""
    out = Path(out_root) / sub.student
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    start = time.monotonic()
    lab = None

    def fail_rest(reason):
        done = {r.name for r in sub.results}
        for c in checks:
            if c.name not in done:
                sub.results.append(Result(c.name, c.points, False, reason, 0.0))
                if on_check:
                    on_check(sub.results[-1])

    try:
        if sub.error:
            raise SubmissionError(sub.error)
        lab = CheckLab(sub, config, out)
        lab.up()
        for c in checks:
            if stop is not None and stop.is_set():
                raise SubmissionError("not run: the checker was interrupted")
            sub.results.append(lab.run(c, KINDS[sub.kind][c.kind]))
            if on_check:
                on_check(sub.results[-1])
    except SubmissionError as e:
        sub.error = sub.error or str(e)
        fail_rest(str(e))
    except Exception as e:  # the checker's own trouble: this submission's row says so, the class goes on
        sub.error = f"checker: {type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"
        fail_rest(sub.error)
    finally:
        if lab:
            lab.down()
        sub.seconds = time.monotonic() - start
    return sub
