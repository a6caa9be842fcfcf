"""The engine's shortcuts and escape hatches: each gives what the plain method gives."""

import json
import time

import numpy as np
import pytest
from solver_builders import country, load, lot, request, round_doc

from allocation.solver import canonical_json, engine, solve
from allocation.solver import lp as lpmod
from allocation.solver.model import parse_scenario
from allocation.solver.network import build_network, canonical


def fulfilment(out):
    return {r["id"]: r["fulfilment"] for r in out["requests"]}


def only_cost_failures(text):
    """Every constraint holds; only the least-cash / least-co-financing tie-breaks may be missing."""
    failures = [line for line in text.splitlines() if line.startswith("FAIL")]
    return all("of pooled cash" in x or "co-financing owed" in x for x in failures)


def test_per_request_test_lps_give_the_same_vector_as_dual_freezing(monkeypatch):
    """With no dual ever counted as positive, every freeze goes through the per-request test LP."""
    doc = load("small-30x8.json")
    fast = fulfilment(solve(doc))
    monkeypatch.setattr(engine, "DUAL_EPS", float("inf"))
    slow = solve(doc)
    assert slow["stats"]["lp_solves"] > 2 * solve(doc)["stats"]["levels"]
    for rid, f in fulfilment(slow).items():
        assert f == pytest.approx(fast[rid], abs=1e-6)


def test_test_lp_skips_a_request_that_can_still_rise():
    # RA can only use L1 (10 GPU-hours): blocked at t = 0.01; RB has L2 (1000) to itself: free.
    doc = round_doc(
        [lot("L1", 10), lot("L2", 1000, hardware="A100")],
        [country("KEN")],
        [request("RA", "KEN", 1000), request("RB", "KEN", 1000, hardware=["A100"])],
    )
    net = build_network(canonical(parse_scenario(doc)))
    eng = engine.Engine(net, engine.Clock(now=time.perf_counter))
    eng.lp.reset(np.zeros(2, dtype=bool))
    eng.lp.glop.col_ub[eng.lp.tcol] = 0.01
    assert eng._solve(duals=True).objective == pytest.approx(0.01)
    # RB is tested first (larger "dual"), found free, then RA is found blocked.
    assert list(eng._test_blocked(np.array([0, 1]), np.array([0.0, 1.0]), 0.01)) == [0]


def test_saturation_search_matches_one_breakpoint_per_lp():
    """Many requests that are fully served at different levels: the galloping search over breakpoints
    gives the same vector as the checker's reference, which moves one level at a time."""
    lots = [lot("L1", 6000)]
    reqs = [request(f"R{i:02d}", "KEN", 500 - 15 * i, score=0.05 + 0.03 * i) for i in range(30)]
    doc = round_doc(lots, [country("KEN")], reqs)
    out = solve(doc)
    from reference_leximin import Model

    m = Model(doc)
    reference, _, _ = m.leximin()
    ours = np.array([fulfilment(out)[r["id"]] for r in m.reqs])
    assert np.max(np.abs(ours - reference)) <= 1e-6
    assert sum(r["explanation"]["reason"] == "demand_met" for r in out["requests"]) == 18
    assert out["stats"]["lp_solves"] < 18


def test_progress_reports_each_level_as_json():
    seen = []
    out = solve(load("small-30x8.json"), progress=seen.append)
    assert len(seen) == out["stats"]["levels"]
    assert set(seen[-1]) == {"levels", "frozen", "active", "t"}
    assert seen[-1]["active"] == 0
    json.dumps(seen)


class SteppingClock:
    """A clock that advances `step` seconds each time it is read."""

    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


@pytest.mark.parametrize("limit", [0.5, 8.0])
def test_time_limit_returns_a_feasible_allocation(limit, checker):
    """Past the limit the engine skips the tie-break LPs too: constraints hold, costs need not be least."""
    doc = load("medium-200x40.json")
    out = solve(doc, time_limit=limit, clock=SteppingClock(1.0))
    assert out["status"] == "feasible"
    reasons = {r["explanation"]["reason"] for r in out["requests"]}
    assert "time_limit" in reasons
    _, text = checker(doc, out, reference=fulfilment(out))
    assert only_cost_failures(text), text


def test_time_limit_with_minimum_sizes_keeps_minimums(checker):
    doc = load("minimums-150x30.json")
    out = solve(doc, time_limit=6.0, clock=SteppingClock(1.0))
    assert out["status"] == "feasible"
    _, text = checker(doc, out, reference=fulfilment(out))
    assert only_cost_failures(text), text


def test_a_generous_time_limit_changes_nothing():
    doc = load("small-30x8.json")
    assert canonical_json(solve(doc, time_limit=600)) == canonical_json(solve(doc))


def failing_after(monkeypatch, n_ok, *, tie_breaks_fail):
    """Make GLOP fail on every solve after the first n_ok (level LPs only, or tie-breaks too)."""
    real = lpmod.GlopModel.solve
    calls = {"n": 0}

    def flaky(self, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_ok and (self.maximize or tie_breaks_fail):
            return lpmod.LpResult(status=lpmod.FAILED, objective=float("nan"), primal=None, duals=None)
        return real(self, **kwargs)

    monkeypatch.setattr(lpmod.GlopModel, "solve", flaky)


@pytest.mark.parametrize("tie_breaks_fail", [False, True])
def test_solver_failure_returns_a_feasible_allocation(monkeypatch, checker, tie_breaks_fail):
    doc = load("medium-200x40.json")
    failing_after(monkeypatch, 12, tie_breaks_fail=tie_breaks_fail)
    out = solve(doc)
    assert out["status"] == "feasible"
    assert "solver_stopped" in {r["explanation"]["reason"] for r in out["requests"]}
    assert sum(r["allocated_h100e_hours"] for r in out["requests"]) > 0
    code, text = checker(doc, out, reference=fulfilment(out))
    if tie_breaks_fail:
        assert only_cost_failures(text), text
    else:
        assert code == 0, text


@pytest.mark.parametrize("compact", [0.0, 1.0])
def test_reduced_cost_fixing_and_compaction_keep_the_vector(monkeypatch, compact):
    """Arcs retired by their reduced costs, and instances rebuilt without them (never, or after every level
    that retires something), give the vector of the engine that keeps every arc, to GLOP's tolerances
    (different LPs stop at different vertices; the floors carry 1e-7 relative slack)."""
    doc = load("medium-200x40.json")
    pruned = fulfilment(solve(doc))
    monkeypatch.setattr(engine, "COMPACT", compact)
    other = fulfilment(solve(doc))
    monkeypatch.setattr(engine, "RC_EPS", float("inf"))
    kept = fulfilment(solve(doc))
    for rid, f in kept.items():
        assert pruned[rid] == pytest.approx(f, abs=1e-5)
        assert other[rid] == pytest.approx(f, abs=1e-5)


def test_reduced_cost_fixing_retires_arcs_and_compaction_shrinks_the_lp(monkeypatch):
    doc = load("medium-200x40.json")
    net = build_network(canonical(parse_scenario(doc)))
    monkeypatch.setattr(engine, "COMPACT", 1.0)
    eng = engine.Engine(net, engine.Clock(now=time.perf_counter))
    result = eng.run()
    g = eng.lp.glop
    assert result.status == "optimal"
    assert g.retired_cols[: eng.lp.n_arcs].sum() > 0
    assert g.instance_cols < g.n_cols
    # Retired arcs carry nothing in the decision.
    flows = np.concatenate([result.ra_flow, result.ma_flow])
    assert np.all(flows[g.retired_cols[: eng.lp.n_arcs]] == 0)


def test_tie_breaks_relax_their_floors_when_glop_finds_them_infeasible(monkeypatch, checker):
    """On large rounds GLOP may call the 1e-9 floors infeasible in the least-cash LP: the tie-breaks are
    then solved again with floors 1e-7 below the vector, and the decision stays optimal."""
    doc = load("medium-200x40.json")
    real = engine.Engine._minimise
    calls = {"n": 0}

    def flaky(self, cost, *, primal=False):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(self, cost, primal=primal)

    monkeypatch.setattr(engine.Engine, "_minimise", flaky)
    out = solve(doc)
    assert out["status"] == "optimal"
    assert calls["n"] == 3
    code, text = checker(doc, out, reference=load("medium-200x40.expected.json")["fulfilment"])
    assert code == 0, text
