"""check.py: rebuilding one serial order from what the clients saw, v mod 256."""

import random

import pytest
from common import check


def serial_run(nclients, nk, seed, kmax=255, lose=None):
    """What nclients see from a serial server that takes nk random k's: (echoes, final v).

    lose: the number of one update that is echoed but then lost (overwritten), as in a race.
    """
    rng = random.Random(seed)
    echoes = {f"c{i}": [] for i in range(nclients)}
    names = list(echoes)
    v = 0
    for i in range(nk):
        k = rng.randint(1, kmax)
        echoes[rng.choice(names)].append((k, (v + k) % 256))
        if i != lose:
            v += k
    return echoes, v


def test_no_echoes_is_the_empty_order():
    """Clients that sent nothing fit the empty order."""
    assert check.serial_order({"a": [], "b": []}) == []


def test_interleaved_clients():
    """The tutorial's two clients, interleaved, come back in the server's order with true v's."""
    echoes = {
        "u.v.w": [(5, 5), (12, 26), (7, 33)],
        "x.y.z": [(9, 14), (3, 36), (21, 57)],
    }
    assert check.serial_order(echoes) == [
        ("u.v.w", 5, 5), ("x.y.z", 9, 14), ("u.v.w", 12, 26), ("u.v.w", 7, 33),
        ("x.y.z", 3, 36), ("x.y.z", 21, 57),
    ]


def test_wraps_past_255():
    """Echoes that wrap (v mod 256) are rebuilt into the exact v's, which keep growing."""
    echoes = {
        "a": [(200, 200), (100, 300 % 256)],
        "b": [(255, 555 % 256), (250, 805 % 256)],
    }
    order = check.serial_order(echoes)
    assert [tv for _, _, tv in order] == [200, 300, 555, 805]


def test_wrap_with_ambiguous_echoes():
    """When two clients' next echoes both fit mod 256, the check backtracks to the order that works."""
    # The server took a's 1 (v 1), b's 255 (v 256), b's 1 (v 257), a's 255 (v 512). After v = 1 both
    # a's (255, 0) and b's (255, 0) fit; taking a's first (v 256) leads nowhere.
    echoes = {"a": [(1, 1), (255, 0)], "b": [(255, 0), (1, 1)]}
    assert check.serial_order(echoes) == [("a", 1, 1), ("b", 255, 256), ("b", 1, 257), ("a", 255, 512)]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("kmax", [255, 1], ids=["k up to 255", "k all 1"])
def test_long_serial_runs_of_8_clients(seed, kmax):
    """16000 k's from 8 clients, wrapping many times, fit one order whose last v is the exact total."""
    echoes, final = serial_run(8, 16000, seed, kmax)
    order = check.serial_order(echoes)
    assert len(order) == 16000
    assert order[-1][2] == final
    for client, es in echoes.items():
        assert [(k, tv % 256) for c, k, tv in order if c == client] == es


def test_lost_update_fails():
    """Two clients whose k's were both added to v = 0 (one update lost) fit no order."""
    with pytest.raises(check.OrderError, match=r"\ba's echo #1 \(k 5, v 5\)|\bb's echo #1 \(k 3, v 3\)"):
        check.serial_order({"a": [(5, 5)], "b": [(3, 3)]})


@pytest.mark.parametrize("offender, other", [("a", "b"), ("b", "a")])
def test_echo_out_of_order_within_a_client_fails(offender, other):
    """A client whose echoes come back swapped fits no order; the message names that client."""
    echoes = {other: [(1, 1), (1, 3)], offender: [(1, 4), (1, 2)]}
    with pytest.raises(check.OrderError) as e:
        check.serial_order(echoes)
    assert f"{offender}'s echo #1 (k 1, v 4) would need v 2" in str(e.value)


@pytest.mark.parametrize("offender, other", [("a", "b"), ("b", "a")])
def test_wrong_v_fails(offender, other):
    """One wrong v fits no order; the message names that client's echo."""
    echoes = {other: [(1, 1), (1, 4)], offender: [(1, 2), (1, 50)]}
    with pytest.raises(check.OrderError) as e:
        check.serial_order(echoes)
    assert f"{offender}'s echo #2 (k 1, v 50) would need v 3" in str(e.value)


def test_duplicate_echo_fails():
    """The same (k, v) echoed to two clients (one update seen twice) fits no order."""
    echoes = {"a": [(1, 1), (1, 2)], "b": [(1, 2)]}
    with pytest.raises(check.OrderError, match=r"(a's echo #2|b's echo #1) \(k 1, v 2\)"):
        check.serial_order(echoes)


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_one_wrong_v_in_a_long_run_is_named(seed):
    """In 16000 wrapping echoes from 8 clients, one corrupted v is found and named by client and echo #."""
    echoes, _ = serial_run(8, 16000, seed)
    rng = random.Random(seed)
    client = rng.choice(sorted(echoes))
    n = rng.randrange(len(echoes[client]))
    k, v = echoes[client][n]
    echoes[client][n] = (k, (v + rng.randint(1, 255)) % 256)
    with pytest.raises(check.OrderError) as e:
        check.serial_order(echoes)
    assert f"{client}'s echo #{n + 1} (k {k}, " in str(e.value)


@pytest.mark.parametrize("lose", [1, 7999, 15998])
def test_one_lost_update_in_a_long_run_fails(lose):
    """In 16000 echoes from 8 clients, one update that was echoed and then lost fits no order."""
    echoes, _ = serial_run(8, 16000, seed=lose, lose=lose)
    with pytest.raises(check.OrderError):
        check.serial_order(echoes)


TUTORIAL = {"u.v.w": [(5, 5), (12, 26), (7, 33), (30, 66)], "x.y.z": [(9, 14), (3, 36), (21, 87), (8, 95)]}


def test_verify_passes_a_good_session():
    """A session whose echoes fit, whose final value is their sum, and whose expectations hold has no problems."""
    assert check.verify(TUTORIAL, 95, expect_final=95, expect_v={"u.v.w": [5, 26, 33, 66]}) == []


@pytest.mark.parametrize("echoes, final, kwargs, problem", [
    (TUTORIAL, 90, {}, "lost updates: the acknowledged k's add up to 95, the server's final value is 90: 5 lost"),
    (TUTORIAL, 99, {}, "the server's final value 99 is more than"),
    (TUTORIAL, None, {}, "the server printed no final value"),
    (TUTORIAL, 95, {"expect_final": 96}, "expected the final value 96, got 95"),
    (TUTORIAL, 95, {"expect_v": {"x.y.z": [14, 36, 88, 95]}}, "x.y.z: expected v's [14, 36, 88, 95]"),
    ({**TUTORIAL, "x.y.z": [(3, 36), (9, 14), (21, 87), (8, 95)]}, 95, {}, "no serial order fits"),
    ({"u.v.w": [(5, 5), (3, 8)], "x.y.z": [(3, 8)]}, 11, {}, "no serial order fits"),
], ids=["lost update", "extra update", "no final value", "wrong final value", "wrong echo expected",
        "echo out of order", "duplicate echo"])
def test_verify_names_the_problem(echoes, final, kwargs, problem):
    """Each kind of bad session is reported in one line saying what is wrong."""
    problems = check.verify(echoes, final, **kwargs)
    assert any(p.startswith(problem) for p in problems), problems
    assert all("\n" not in p for p in problems)


def test_gives_up_on_hopelessly_ambiguous_echoes():
    """1000 clients all sending k = 1, shuffled: the search stops within its budget and says why."""
    rng = random.Random(2)
    echoes, v = {c: [] for c in range(1000)}, 0
    for _ in range(20000):
        v += 1
        echoes[rng.randrange(1000)].append((1, v % 256))
    with pytest.raises(check.OrderError, match="undecided"):
        check.serial_order(echoes)


LOG = """a.b.c listening on port 2000 for 2 clients (threading)
10.9.0.21:5000 joined: client 1 of 2
10.9.0.21:5000 k 200 -> v 200
10.9.0.22:6000 k 100 -> v 300
10.9.0.21:5000 k 7 -> v 307
"""
CONNECTIONS = {"10.9.0.21:5000": [(200, 200), (7, 307 % 256)], "10.9.0.22:6000": [(100, 300 % 256)]}


@pytest.mark.parametrize("log, connections, problem", [
    (LOG, CONNECTIONS, None),
    (LOG.replace("v 307", "v 306"), CONNECTIONS, "the server's updates break the chain: 10.9.0.21:5000 added 7"),
    (LOG, {**CONNECTIONS, "10.9.0.22:6000": [(100, 45)]}, "10.9.0.22:6000: its 1 echoes are not its 1 updates"),
    (LOG, {**CONNECTIONS, "10.9.0.23:7000": [(1, 1)]}, "10.9.0.23:7000: its 1 echoes are not its 0 updates"),
    (LOG.replace("10.9.0.22:6000 k 100 -> v 300\n", ""), CONNECTIONS, "the server's updates break the chain"),
], ids=["good", "lost update", "wrong echo", "unknown client", "missing update"])
def test_verify_log(log, connections, problem):
    """The server's record of updates must chain from 0, and each client's echoes must be its updates mod 256."""
    problems = check.verify_log(log, connections)
    assert problems == [] if problem is None else problems[0].startswith(problem), problems
