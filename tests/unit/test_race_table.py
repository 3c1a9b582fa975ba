"""threadlab.race: the table's figures and the rows of interpreters that are not built (no Docker needed)."""

from threadlab import race


def test_lost_counts_the_difference_with_its_share():
    assert race.lost({"sent": 8000, "final": 7959}) == "41 of 8 000 (0.51 %)"
    assert race.lost({"sent": 1_000_000, "final": 1_000_000}) == "0 of 1 000 000"
    assert race.lost({"sent": 254, "final": None}) == "no final value"


def test_every_interpreter_missing_is_a_row_naming_its_build_script(monkeypatch):
    monkeypatch.setattr(race, "image_exists", lambda tag: False)
    rows, raw = race.measure(quick=True, say=lambda m: None)
    assert raw == {}
    assert [r[1] for r in rows] == ["not built: scripts/build-base", "not built: scripts/build-ft-base",
                                    "not built: scripts/build-py2-base"]
    text = race.table(rows)
    assert text.splitlines()[0] == "| interpreter | what ran | lost updates |"
    assert "| CPython 3.13, free-threaded build | not built: scripts/build-ft-base |  |" in text


def test_the_scenario_is_contention_scn_for_any_length():
    assert race.scenario(2000) == "u.v.w: 2000*1 0\nx.y.z: 2000*1 0\nr.s.t: 2000*1 0\no.p.q: 2000*1 0\n"


def test_the_tutorials_server_rows_run_unlocked_py_three_ways(monkeypatch):
    """On 2.7: the loop, then the tutorial's srvr.py (unlocked.py, v mod 256), 2 x 4000 k's, without its lock at
    CHECK_INTERVAL=1, without it at the default interval, with it at 1 (--quick: 1000 k's)."""
    monkeypatch.setattr(race, "image_exists", lambda tag: tag == "threadlab-py2-base")
    calls = []

    def run_in(image, mount, python, code, *args, timeout=180):
        calls.append(args)
        n = 2 * args[0]
        return {"interpreter": "CPython 2.7.18, GIL on", "sent": n, "final": n - 1, "seconds": 1.0}

    monkeypatch.setattr(race, "run_in", run_in)
    for quick, nks in ((False, 4000), (True, 1000)):
        calls.clear()
        rows, raw = race.measure(quick=quick, say=lambda m: None)
        assert calls[1:] == [(nks, "1", "off"), (nks, "", "off"), (nks, "1", "on")]
        assert list(raw) == ["2.7 loop", "2.7 server", "2.7 server, default interval", "2.7 server, LOCK=on"]
        assert rows[-3][1].startswith("the tutorial's srvr.py without lines 26 and 28, CHECK_INTERVAL=1 (unlocked.py: "
                                      f"v sent mod 256), its clnt.py twice x {race.number(nks)} k's of 1")
        assert rows[-1][2] == f"1 of {race.number(2 * nks)} ({100 / (2 * nks):.2g} %)"
