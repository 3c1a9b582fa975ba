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
