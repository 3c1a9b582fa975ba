"""Checks on what clients saw: does every echo fit one serial order of all k's?

The server adds each k to v under a lock, so the updates happen one at a
time in some order, and each client's echo is v just after its own k. Sorted
by that true v, each v is the previous v plus its own k, starting from 0.

The wire carries v mod 256, so past 255 the true v's are not sorted by their
echoes. The check rebuilds them: each client's echoes come in the order it
sent its k's, so at any point only the next echo of each client can be the
next update. It walks forward from v = 0, taking a client whose next echo is
(v + k) mod 256, and backtracks where two clients' next echoes both fit.
With no v past 255 this is the same as sorting the echoes by v.
"""


class OrderError(ValueError):
    """No serial order fits the echoes; the message names each client's next echo where the order stops."""


def serial_order(echoes):
    """One serial order of every (k, v) echo, as [(client, k, true v), ...].

    echoes maps each client to its [(k, v), ...] in the order it saw them,
    v as received (mod 256). Raises OrderError when no order fits.
    """
    clients = sorted(echoes)
    queues = [list(echoes[c]) for c in clients]
    total = sum(len(q) for q in queues)
    dead = set()  # positions (one index per client) known to lead nowhere
    path = []  # (client index, k, true v)
    stack = [(tuple(0 for _ in queues), 0, 0)]  # (positions, v, next client index to try)
    best = (0, None)  # the deepest point reached, for the error message
    while stack:
        positions, v, first = stack.pop()
        if len(path) == total:
            return [(clients[i], k, tv) for i, k, tv in path]
        for i in range(first, len(queues)):
            if positions[i] < len(queues[i]):
                k, got = queues[i][positions[i]]
                if (v + k) % 256 == got:
                    after = positions[:i] + (positions[i] + 1,) + positions[i + 1:]
                    if after in dead:
                        continue
                    stack.append((positions, v, i + 1))
                    stack.append((after, v + k, 0))
                    path.append((i, k, v + k))
                    break
        else:
            dead.add(positions)
            if len(path) >= best[0]:
                best = (len(path), (positions, v))
            if path:
                path.pop()
    raise OrderError(_stuck(clients, queues, *best[1]))


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
