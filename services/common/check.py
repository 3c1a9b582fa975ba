"""Checks on what clients saw: does every echo fit one serial order of all k's?

The server adds each k to v under a lock, so the updates happen one at a
time in some order, and each client's echo is v just after its own k. Sorted
by that true v, each v is the previous v plus its own k, starting from 0.

The wire carries v mod 256, so past 255 the true v's are not sorted by their
echoes. The check rebuilds them: each client's echoes come in the order it
sent its k's, so at any point only the next echo of each client can be the
next update. It walks forward from v = 0, taking a client whose next echo is
(v + k) mod 256, and backtracks where two clients' next echoes both fit, trying first the client
furthest behind in its own echoes. With no v past 255 this is the same as
sorting the echoes by v. Hundreds of clients at once (or many all sending
the same k) make the echoes ambiguous mod 256; the search then gives up after a bounded number of
steps and says so: a thousand clients at once are checked against the
server's own record instead (verify_log).
"""

import random
import re


class OrderError(ValueError):
    """No serial order fits the echoes; the message names the first offending echo."""


def serial_order(echoes):
    """One serial order of every (k, v) echo, as [(client, k, true v), ...].

    echoes maps each client to its [(k, v), ...] in the order it saw them,
    v as received (mod 256). Raises OrderError when no order fits.
    """
    clients = sorted(echoes)
    queues = [list(echoes[c]) for c in clients]
    total = sum(len(q) for q in queues)
    # A position (how far each client has got) is known by a sum of random weights, so
    # that dead ends can be remembered without copying positions: 1000 clients stay fast.
    rng = random.Random(0)
    weights = [rng.getrandbits(64) for _ in queues]
    pos = [0] * len(queues)
    heads = {}  # v mod 256 -> clients whose next echo fits there: (v + k) % 256 == echo
    state = {"v": 0, "key": 0}

    def need(i):
        k, got = queues[i][pos[i]]
        return (got - k) % 256

    def take(i):
        heads[need(i)].discard(i)
        state["v"] += queues[i][pos[i]][0]
        state["key"] += weights[i]
        pos[i] += 1
        if pos[i] < len(queues[i]):
            heads.setdefault(need(i), set()).add(i)

    def undo(i):
        if pos[i] < len(queues[i]):
            heads[need(i)].discard(i)
        pos[i] -= 1
        state["v"] -= queues[i][pos[i]][0]
        state["key"] -= weights[i]
        heads.setdefault(need(i), set()).add(i)

    def fits():
        # Most likely first: the client furthest behind in its own echoes.
        return sorted((i for i in heads.get(state["v"] % 256, ()) if state["key"] + weights[i] not in dead),
                      key=lambda i: (pos[i] / len(queues[i]), i))

    for i, q in enumerate(queues):
        if q:
            heads.setdefault(need(i), set()).add(i)
    dead = set()  # keys of positions known to lead nowhere
    path, alternatives = [], []
    deepest = None  # (positions, v) where the walk got furthest, for the error message
    budget = 20 * total + 100_000  # steps: echoes this ambiguous mod 256 are not worth an endless search
    while len(path) < total:
        budget -= 1
        if budget < 0:
            raise OrderError(f"undecided: no serial order found within {20 * total + 100_000} steps; with "
                             "hundreds of clients at once, or equal k's, the echoes are ambiguous mod 256 "
                             "(check.verify_log checks such a load against the server's log)")
        options = fits()
        while not options:
            dead.add(state["key"])
            if deepest is None or len(path) > deepest[0]:
                deepest = (len(path), list(pos), state["v"])
            if not path:
                raise OrderError(_stuck(clients, queues, *deepest[1:]))
            undo(path.pop())
            options = [i for i in alternatives.pop() if state["key"] + weights[i] not in dead]
        take(options[0])
        path.append(options[0])
        alternatives.append(options[1:])
    order, seen, v = [], [0] * len(queues), 0
    for i in path:
        k = queues[i][seen[i]][0]
        seen[i] += 1
        v += k
        order.append((clients[i], k, v))
    return order


def _stuck(clients, queues, positions, v):
    # At the deepest dead end no client's next echo fits, and any of them may be the wrong one: name them all.
    misfits = []
    for i, q in enumerate(queues):
        if positions[i] < len(q):
            k, got = q[positions[i]]
            misfits.append(f"{clients[i]}'s echo #{positions[i] + 1} (k {k}, v {got}) would need v {(v + k) % 256}")
    return f"no serial order fits: after v = {v}, " + "; ".join(misfits)


def verify(echoes, final, expect_final=None, expect_v=None):
    """What is wrong with a session, as one-line problems: [] when it passes.

    echoes maps each client to the (k, v)'s it got back; final is the value
    the server printed (None if it printed none). The server's final value
    must equal the sum of the acknowledged k's, every echo must fit one
    serial order, and the scenario's expectations must hold.
    """
    problems = []
    acknowledged = sum(k for e in echoes.values() for k, _ in e)
    if final is None:
        problems.append("the server printed no final value")
    elif final < acknowledged:
        problems.append(f"lost updates: the acknowledged k's add up to {acknowledged}, "
                        f"the server's final value is {final}: {acknowledged - final} lost")
    elif final > acknowledged:
        problems.append(f"the server's final value {final} is more than the acknowledged k's "
                        f"add up to ({acknowledged})")
    try:
        serial_order(echoes)
    except OrderError as e:
        problems.append(str(e))
    if expect_final is not None and final is not None and final != expect_final:
        problems.append(f"expected the final value {expect_final}, got {final}")
    for client, want in (expect_v or {}).items():
        got = [v for _, v in echoes.get(client, [])]
        if got != want:
            at = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
            problems.append(f"{client}: expected v's {want}, got {got} (first difference at echo #{at + 1})")
    return problems


UPDATE = re.compile(r"^(\S+) k (\d+) -> v (\d+)$")


def verify_log(log_text, connections):
    """What is wrong with a session, against the server's record of every update: [] when it passes.

    log_text is the server's log at LOG_LEVEL=DEBUG: a line "ADDRESS k K -> v V"
    for each update, written under the lock, in the order they happened, with
    the exact v. connections maps each client's address (as the server names
    it) to the (k, v) echoes it got. The updates must make one chain from 0
    (each v the one before plus its k), and each client's echoes must be its
    updates in order, mod 256. Unlike serial_order, this stays exact and
    linear with a thousand clients at once, whose echoes alone are ambiguous.
    """
    problems, updates, v = [], {}, 0
    for line in log_text.splitlines():
        m = UPDATE.match(line)
        if not m:
            continue
        who, k, new = m.group(1), int(m.group(2)), int(m.group(3))
        if new != v + k and not problems:
            problems.append(f"the server's updates break the chain: {who} added {k} to {v} and got {new}")
        v = new
        updates.setdefault(who, []).append((k, new % 256))
    for who, echoes in connections.items():
        got = [tuple(e) for e in echoes]
        if updates.get(who, []) != got:
            problems.append(f"{who}: its {len(got)} echoes are not its {len(updates.get(who, []))} updates "
                            "in the server's log")
            break
    return problems
