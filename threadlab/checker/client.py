"""The client check: the submission on u.v.w, typed at through a pipe, against the lab's own server.

The lab's srvr.py runs at LOG_LEVEL=DEBUG, so its log has a line for each k it received
("ADDRESS k K -> v V"), and one for how the client went: those are what was sent, byte by byte.
"""

import re
import subprocess
import threading
import time

from common import check as order

from threadlab.checker.run import PORT, CheckFailed, as_text, raised

ENDED = re.compile(r" (sent 0 and left|left without sending k = 0|dropped: .*|closed without sending a byte.*)$", re.M)
NUMBER = re.compile(r"^[+-]?\d+$")
# how a client's own leaving shows in the log: a close with a v unread can reach the server as a reset
LEFT = re.compile(r"sent 0 and left$|left without sending k = 0$|dropped: .*Connection reset by peer$")


def k_session(lab, check):
    lab.lab.env.update(NCLIENTS="1", LOG_LEVEL="DEBUG")
    lab.server = lab.lab.start("server")
    typed = "".join(line + "\n" for line in check.get("input"))
    bound = int(check.time)
    argv = ["docker", "exec", "-i", lab.container("client1"), "timeout", "-k", "2", str(bound),
            lab.python, f"/submission/{lab.sub.entry}", "a.b.c", str(PORT)]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = bytearray(), bytearray()
    readers = [threading.Thread(target=lambda s=s, b=b: b.extend(s.read()), daemon=True)
               for s, b in ((p.stdout, out), (p.stderr, err))]
    for r in readers:
        r.start()
    try:
        p.stdin.write(typed.encode())
        p.stdin.flush()
        if check.get("eof", True):
            p.stdin.close()
    except OSError:
        pass  # it ended before reading all of it: what it did is judged below
    try:
        code = p.wait(timeout=bound + 10)
    except subprocess.TimeoutExpired:
        p.kill()
        code = None
    for r in readers:
        r.join(timeout=5)
    if not p.stdin.closed:
        try:
            p.stdin.close()
        except OSError:
            pass
    stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
    lab.note(f"$ {' '.join(argv[4:])}\n--- typed ---\n{typed}--- its stdout ---\n{stdout}\n--- its stderr ---\n{stderr}")
    lab.note(f"exit code: {code}")
    if code in (None, 124, 137):
        how = "after its input ended" if check.get("eof", True) else "on the 0 (its input still open)"
        raise CheckFailed(f"the client did not end within {bound} s {how}")
    log = server_log(lab)
    sent = received(log)
    went = [m.group(1) for line in log.splitlines() if (m := ENDED.search(line))]
    problems = []
    prompt = check.get("expect_prompt")
    if prompt is not None:
        n = stdout.count(prompt)
        if n < len(check.get("input")):
            problems.append(f"the prompt {prompt!r} came {n} times for {len(check.get('input'))} lines typed"
                            + (f"; it printed {first_line(stdout)!r} first" if stdout.strip() else "; no output"))
    dropped = [w for w in went if w.startswith("dropped")]
    if check.get("expect_sent") is not None:
        if dropped:
            problems.append(f"the server {dropped[0].replace('dropped: ', 'dropped it: ')} (k {sent} before)")
        elif sent != check.get("expect_sent"):
            problems.append(f"the server received k's {sent}, expected {check.get('expect_sent')}, each one byte")
    if check.get("expect_printed") is not None:
        want = check.get("expect_printed")
        text = stdout.replace(prompt or "input k ", "\n")
        numbers = [int(x) for x in re.findall(r"(?<![\w.])-?\d+(?![\w.])", text)]
        if not subsequence(want, numbers):
            problems.append(f"expected it to print the v's {want}, in order; it printed the numbers {numbers[:12]}")
    if check.get("expect_refusals") is not None:
        text = (stdout.replace(prompt or "input k ", "\n") + "\n" + stderr).splitlines()
        said = [x for x in text if x.strip() and not NUMBER.match(x.strip())]
        if len(said) < check.get("expect_refusals"):
            problems.append(f"{len(said)} lines of explanation for {check.get('expect_refusals')} bad lines typed")
    left = check.get("expect_left")
    if left == "0" and "sent 0 and left" not in went:
        problems.append(f"the server did not see a 0: {went[-1] if went else 'it never heard from it'}")
    if left == "any" and not any(map(LEFT.match, went)):
        problems.append(f"the server did not see it leave: {went[-1] if went else 'it never heard from it'}")
    if check.get("expect_clean"):
        if "Traceback" in stdout + stderr:
            problems.append(f"it ended with a traceback: {last_line(stderr or stdout)}")
        elif code != 0:
            problems.append(f"it ended with exit code {code}: {last_line(stderr or stdout) or 'no output'}")
    if problems:
        more = f" (and {len(problems) - 1} more in the log)" if len(problems) > 1 else ""
        exc = raised(stderr)
        hint = f"; it raised {exc}" if exc and exc not in problems[0] else as_text("k", sent)
        raise CheckFailed(problems[0] + more + hint)
    return describe(check, sent, went)


def received(log):
    return [int(m.group(2)) for line in log.splitlines() if (m := order.UPDATE.match(line))]


def server_log(lab, timeout=5):
    """The server's log once it says how the client went (or after timeout): it logs after the client ends."""
    deadline = time.monotonic() + timeout
    while not ENDED.search(log := lab.server_log()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return log


def subsequence(want, got):
    it = iter(got)
    return all(any(g == w for g in it) for w in want)


def first_line(text):
    return next((x for x in text.splitlines() if x.strip()), "")[:60]


def last_line(text):
    lines = [x for x in text.splitlines() if x.strip()]
    return lines[-1].strip()[:100] if lines else ""


def describe(check, sent, went):
    parts = []
    if check.get("expect_prompt") is not None:
        parts.append(f"the prompt {check.get('expect_prompt')!r} before each line")
    if check.get("expect_sent") is not None:
        parts.append(f"the server received {sent}, one byte each")
    if check.get("expect_printed") is not None:
        parts.append(f"it printed the v's {check.get('expect_printed')}")
    if check.get("expect_refusals") is not None:
        parts.append("each bad line refused with a line, nothing sent for it")
    if check.get("expect_left"):
        parts.append(f"the server saw: {went[-1]}")
    return "; ".join(parts) or "it ran"


KINDS = {"session": k_session}
