"""The alliance's example rounds: the expected fulfilment, and the independent checker's verdict."""

import pytest
from solver_builders import load

from allocation.solver import solve

ROUNDS = ["small-30x8", "medium-200x40"]


@pytest.mark.parametrize("name", ROUNDS)
def test_fulfilment_matches_expected_vector(name):
    expected = load(f"{name}.expected.json")
    out = solve(load(f"{name}.json"))
    got = {r["id"]: r["fulfilment"] for r in out["requests"]}
    assert out["status"] == "optimal"
    assert set(got) == set(expected["fulfilment"])
    worst = max(abs(got[k] - v) for k, v in expected["fulfilment"].items())
    assert worst <= expected["tolerance"]


@pytest.mark.parametrize("name", ROUNDS)
def test_checker_accepts_output(name, checker):
    scenario = load(f"{name}.json")
    code, text = checker(scenario, solve(scenario), reference=load(f"{name}.expected.json")["fulfilment"])
    assert code == 0, text
    assert text.splitlines()[-1].startswith("ok")


def test_checker_accepts_round_with_minimum_sizes(checker):
    """The checker verifies every constraint (minimums included) and that pooled cash, then co-financing
    owed, are the least that reach the engine's own vector."""
    scenario = load("minimums-150x30.json")
    out = solve(scenario)
    assert out["status"] == "optimal"
    assert any(r["deferred"] for r in out["requests"])
    code, text = checker(scenario, out, reference=load("minimums-150x30.reference.json")["fulfilment"])
    assert code == 0, text


def test_deferred_requests_get_nothing_and_kept_ones_reach_their_minimum():
    scenario = load("minimums-150x30.json")
    minimum = {r["id"]: r["min_h100e_hours"] for r in scenario["requests"]}
    for r in solve(scenario)["requests"]:
        if r["deferred"]:
            assert r["allocated_h100e_hours"] == 0
            assert r["explanation"]["reason"] == "below_minimum"
            assert 0 < r["explanation"]["would_have_received_h100e_hours"] < minimum[r["id"]]
        elif r["allocated_h100e_hours"] > 0:
            assert r["allocated_h100e_hours"] >= minimum[r["id"]] * (1 - 1e-6)
