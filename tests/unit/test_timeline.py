"""threadlab.timeline: which updates were lost, from hand-made echoes and from simulated races; the SVG."""

import random
import xml.etree.ElementTree as ET

from threadlab import timeline


def result(clients, final, starts=None):
    """A replay result as scripts/replay writes it: clients {host: [(k, v, t), ...]}."""
    return {"scenario": "scenarios/x.scn", "final": final, "clients": {
        h: {"echoes": [[k, v % 256] for k, v, _ in e], "t": [t for _, _, t in e], "start": (starts or {}).get(h, 100.0)}
        for h, e in clients.items()}}


def lost(clients, final, **kw):
    ups = timeline.updates(result(clients, final, **kw))
    found = timeline.lost_updates(ups, final)
    return None if found is None else sorted((ups[i]["host"], ups[i]["k"]) for i in found)


def test_the_tutorials_disaster_loses_the_9():
    """v is 12; client 0 reads it for k = 3, client 1 reads it too and writes 21; client 0 writes 15 over it."""
    clients = {"u.v.w": [(5, 5, 0.1), (7, 12, 0.2), (3, 15, 0.5)], "x.y.z": [(9, 21, 0.4)]}
    assert lost(clients, 15) == [("x.y.z", 9)]


def test_the_other_order_loses_the_3():
    """The same two reads of 12, the writes the other way round: 21 stands, the 3 is lost."""
    clients = {"u.v.w": [(5, 5, 0.1), (7, 12, 0.2), (3, 15, 0.4)], "x.y.z": [(9, 21, 0.5)]}
    assert lost(clients, 21) == [("u.v.w", 3)]


def test_a_serial_session_loses_nothing():
    clients = {"u.v.w": [(5, 5, 0.1), (3, 20, 0.3)], "x.y.z": [(12, 17, 0.2), (1, 21, 0.4)]}
    assert lost(clients, 21) == []


def test_equal_ks_written_twice_lose_one():
    """Both read 12 and wrote 13; the next read 13: one of the two 1's is lost, the later echo counts as kept."""
    clients = {"u.v.w": [(12, 12, 0.1), (1, 13, 0.2)], "x.y.z": [(1, 13, 0.3), (1, 14, 0.4)]}
    assert lost(clients, 14) == [("u.v.w", 1)]


def test_echoes_past_255_are_unwrapped_by_the_chain():
    """600 serial k's of 1 from two clients, v mod 256 on the wire: none lost; drop one write, and it is found."""
    a, b = [], []
    for n in range(1, 601):
        (a if n % 2 else b).append((1, n, n / 1000))
    assert lost({"u.v.w": a, "x.y.z": b}, 600) == []
    # the 301st update's write is overwritten: the 302nd read 300 as well and wrote 301; from there on all is one less
    racy_a = [(1, n - (n > 301), n / 1000) for _, n, _ in a]
    racy_b = [(1, n - (n > 301), n / 1000) for _, n, _ in b]
    assert lost({"u.v.w": racy_a, "x.y.z": racy_b}, 599) == [("u.v.w", 1)]


def test_clients_started_apart_are_aligned_by_their_start():
    """t counts from each client's own start: u.v.w started 1 s later, so its echo at t 0.1 came after x.y.z's at 0.5."""
    clients = {"u.v.w": [(3, 15, 0.1)], "x.y.z": [(12, 12, 0.2), (9, 21, 0.5)]}
    assert lost(clients, 15, starts={"u.v.w": 101.0, "x.y.z": 100.0}) == [("x.y.z", 9)]


def test_unresolved_when_no_writer_fits_or_no_final_value():
    clients = {"u.v.w": [(5, 5, 0.1)], "x.y.z": [(9, 9, 0.2)]}
    assert lost(clients, 7) is None  # no echo of 7
    assert lost(clients, None) is None


def simulate(rng, nclients, nks, kmax):
    """A server without the lock: each update reads v, then later writes read + k, steps picked at random.

    Returns the replay result and the truly lost updates, {(host, n)}: those off the chain of whose write each
    read saw, from the final write back to 0.
    """
    hosts = [f"h{i}" for i in range(nclients)]
    plans = {h: [rng.randint(1, kmax) for _ in range(nks)] for h in hosts}
    pos, reading = dict.fromkeys(hosts, 0), {}
    v, writer, saw, echoes, step = 0, None, {}, {h: [] for h in hosts}, 0
    while any(pos[h] < nks for h in hosts):
        h = rng.choice([h for h in hosts if pos[h] < nks])
        step += 1
        if h not in reading:
            reading[h] = (v, writer)  # the read, and whose write it saw
        else:
            r, w = reading.pop(h)
            k = plans[h][pos[h]]
            v, writer = r + k, (h, pos[h])
            saw[writer] = w
            echoes[h].append((k, v, step / 1000))
            pos[h] += 1
    chain, u = set(), writer
    while u is not None:
        chain.add(u)
        u = saw[u]
    truly = {(h, n) for h in hosts for n in range(nks)} - chain
    return result(echoes, v), truly, echoes


def test_simulated_races_lose_exactly_what_the_final_value_misses():
    """Below 256 the chain always resolves and its lost k's add up to the acknowledged sum minus the final value;
    where no two updates wrote the same value they are exactly the truly lost ones. (Where two did, 3 after 6 and 9
    after 0 both writing 9, say, which of them was overwritten is a guess, and so is how many k's that was.)"""
    rng = random.Random(12)
    exact = 0
    for _ in range(300):
        res, truly, echoes = simulate(rng, rng.randint(2, 4), rng.randint(1, 8), 9)
        ups = timeline.updates(res)
        found = timeline.lost_updates(ups, res["final"])
        assert found is not None
        assert sum(ups[i]["k"] for i in found) == sum(u["k"] for u in ups) - res["final"]
        written = [v for e in echoes.values() for _, v, _ in e]
        if len(set(written)) == len(written):
            exact += 1
            assert {(ups[i]["host"], ups[i]["n"]) for i in found} == truly
    assert exact > 50


def test_simulated_long_races_past_255():
    """Thousands of k's of 1 with v far past 255, as the contention scenario has them: resolved, the count exact."""
    rng = random.Random(7)
    for _ in range(5):
        res, truly, _ = simulate(rng, 4, 500, 1)
        ups = timeline.updates(res)
        found = timeline.lost_updates(ups, res["final"])
        assert found is not None and len(found) == len(truly) == 2000 - res["final"]


def test_svg_draws_a_row_per_host_and_the_lost_in_red():
    res = result({"u.v.w": [(5, 5, 0.1), (7, 12, 0.2), (3, 15, 0.5)], "x.y.z": [(9, 21, 0.4)]}, 15)
    doc = ET.fromstring(timeline.svg(res))
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in doc.iter(ns + "text")]
    assert "u.v.w" in texts and "x.y.z" in texts
    assert any("1 updates lost (9 of the sum), in red" in (t or "") for t in texts)
    red = [p for p in doc.iter(ns + "path") if p.get("stroke") == timeline.LOST]
    assert len(red) == 1 and red[0].get("d").count("M") == 1
    kept = [p for p in doc.iter(ns + "path") if p.get("stroke") == timeline.KEPT]
    assert sum(p.get("d").count("M") for p in kept) == 3


def test_svg_without_a_resolved_chain_says_so():
    res = result({"u.v.w": [(5, 5, 0.1)]}, 7)
    assert "the echoes do not settle which" in timeline.svg(res)
    assert timeline.LOST not in timeline.svg(res).split("</text>")[-1]


def test_tick_step_is_round():
    assert timeline.tick_step(4.7) == 0.5
    assert timeline.tick_step(2) == 0.2
    assert timeline.tick_step(0.03) == 0.005
    assert timeline.tick_step(60) == 10
