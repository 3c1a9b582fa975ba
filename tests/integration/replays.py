"""scripts/replay runs for the integration tests, each in a lab of its own, so that several can run at once."""

import json
import os
import subprocess

from threadlab.lab import ROOT

REPLAY = [str(ROOT / "scripts" / "replay")]


class Replay:
    """scripts/replay over scenarios, with settings for the server, started now in project `project` on net."""

    def __init__(self, project, net, scenarios, out, **settings):
        self.project, self.net, self.out = project, net, out
        self.proc = subprocess.Popen(REPLAY + [str(s) for s in scenarios], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, REPLAY_PROJECT=project, REPLAY_NET=net,
                                              REPLAY_OUT=str(out), **settings))
        self.ended = None

    def result(self, timeout=600):
        """(exit code, what it printed on stdout and stderr, its results by scenario name), once it has ended."""
        if self.ended is None:
            out, err = self.proc.communicate(timeout=timeout)
            results = {p.stem: json.loads(p.read_text()) for p in self.out.glob("*.json")}
            self.ended = self.proc.returncode, out + err, results
        return self.ended

    def stop(self):
        """Stop it if it still runs: scripts/replay takes SIGTERM as Ctrl-C and tears its lab down."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.communicate(timeout=60)
