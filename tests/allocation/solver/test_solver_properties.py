"""Invariants over generated rounds (Hypothesis), checked against the copied reference implementation:
constraints hold, only compatible pairs are used, and the fulfilment vector is the weighted leximin."""

from collections import defaultdict

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_leximin import Model, certify, compatible
from solver_builders import POLICY

from allocation.solver import solve

SETTINGS = settings(
    derandomize=True,
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
GROUPS = ["LIC", "LMIC", "UMIC", "HIC"]
PHASES = ["initial", "preparatory", "accelerated", "self"]


def amount(lo, hi):
    return st.integers(lo * 10, hi * 10).map(lambda v: v / 10)


@st.composite
def rounds(draw, minimums=False):
    n_countries = draw(st.integers(1, 3))
    countries = [
        {
            "iso3": f"C{chr(65 + i)}X",
            "income_group": draw(st.sampled_from(GROUPS)),
            "region": "SSA",
            "cofinancing_phase": draw(st.sampled_from(PHASES)),
            "years_in_phase": draw(st.integers(0, 9)),
            "budget_usd": draw(st.one_of(st.none(), st.just(0.0), amount(1, 3000))),
        }
        for i in range(n_countries)
    ]
    lots = []
    for j in range(draw(st.integers(1, 5))):
        priced = draw(st.booleans())
        lot = {
            "id": f"L{j}",
            "provider": "p",
            "donor": None if priced else "NOR",
            "hardware": draw(st.sampled_from(["H100", "A100"])),
            "region": draw(st.sampled_from(["SSA", "NAM"])),
            "gpu_hours": draw(amount(0, 800)),
            "value_usd_per_gpu_hour": draw(amount(0, 4)),
            "price_usd_per_gpu_hour": draw(amount(1, 4)) if priced else None,
        }
        if draw(st.integers(0, 3)) == 0:
            lot["earmark"] = {"income_groups": ["LIC", "LMIC"]}
        lots.append(lot)
    requests = []
    for i in range(draw(st.integers(1, 12))):
        demand = draw(amount(10, 1500))
        requests.append(
            {
                "id": f"R{i:02d}",
                "country": draw(st.sampled_from(countries))["iso3"],
                "sector": draw(st.sampled_from(["health", "science"])),
                "h100e_hours": demand,
                "min_h100e_hours": round(demand * draw(st.sampled_from([0, 0, 0.3, 0.6])), 1)
                if minimums
                else 0,
                "hardware": draw(
                    st.lists(st.sampled_from(["H100", "A100"]), min_size=1, max_size=2, unique=True)
                ),
                "regions": draw(st.lists(st.sampled_from(["SSA", "NAM"]), max_size=2, unique=True)),
                "score": draw(st.sampled_from([0.0, 0.3, 0.55, 0.8, 1.0])),
                "local_language": draw(st.booleans()),
                "open_weights": draw(st.booleans()),
                "params_billion": draw(st.sampled_from([3, 70, None])),
            }
        )
    return {
        "format": "gacp.scenario/1",
        "name": "generated",
        "hardware": [{"id": "H100", "h100e": 1.0}, {"id": "A100", "h100e": 0.315}],
        "lots": lots,
        "cash_usd": draw(st.one_of(st.just(0.0), amount(1, 2000))),
        "countries": countries,
        "requests": requests,
        "policy": POLICY,
    }


def assert_feasible(doc, out):
    """Every constraint holds in the emitted numbers, to 1e-9 relative."""
    lots = {x["id"]: x for x in doc["lots"]}
    reqs = {x["id"]: x for x in doc["requests"]}
    countries = {x["iso3"]: x for x in doc["countries"]}
    share = {c["iso3"]: c["cofinancing_share"] for c in out["countries"]}
    used, got, owed = defaultdict(float), defaultdict(float), defaultdict(float)
    cash = 0.0
    for a in out["allocations"]:
        r, lot = reqs[a["request"]], lots[a["lot"]]
        assert a["gpu_hours"] > 0
        assert compatible(r, countries[r["country"]], lot)
        used[lot["id"]] += a["gpu_hours"]
        got[r["id"]] += a["h100e_hours"]
        cash += a["cash_usd"]
        value = lot["price_usd_per_gpu_hour"] or lot["value_usd_per_gpu_hour"]
        owed[r["country"]] += a["gpu_hours"] * value * share[r["country"]]
    for lid, u in used.items():
        assert u <= lots[lid]["gpu_hours"] * (1 + 1e-9)
    for rid, g in got.items():
        assert g <= reqs[rid]["h100e_hours"] * (1 + 1e-9)
    assert cash <= doc["cash_usd"] * (1 + 1e-9) + 1e-9
    for iso, v in owed.items():
        budget = countries[iso]["budget_usd"]
        assert budget is None or v <= budget * (1 + 1e-9) + 1e-9
    for r in out["requests"]:
        assert 0.0 <= r["fulfilment"] <= 1.0 + 1e-9
        mn = reqs[r["id"]]["min_h100e_hours"]
        assert r["allocated_h100e_hours"] == 0 or r["allocated_h100e_hours"] >= mn * (1 - 1e-6)


@SETTINGS
@given(rounds())
def test_generated_rounds_reach_the_reference_leximin(doc):
    out = solve(doc)
    assert out["status"] == "optimal"
    assert_feasible(doc, out)
    m = Model(doc)
    ours = np.array([{r["id"]: r["fulfilment"] for r in out["requests"]}[r["id"]] for r in m.reqs])
    reference, _, _ = m.leximin()
    assert np.max(np.abs(ours - reference)) <= 1e-3
    # Leximin certificate: nobody can rise without lowering someone at an equal or lower weighted level.
    assert certify(m, ours, tol=1e-4) == []


@SETTINGS
@given(rounds(minimums=True))
def test_generated_rounds_with_minimums_keep_every_constraint(doc):
    out = solve(doc)
    assert out["status"] == "optimal"
    assert_feasible(doc, out)
    for r in out["requests"]:
        assert not (r["deferred"] and r["allocated_h100e_hours"] > 0)
