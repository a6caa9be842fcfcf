"""Deeper generated rounds: many distinct weights over scarce, partly earmarked, partly priced supply, with
country budgets and minimum sizes, so that the leximin passes several levels. Each decision must keep every
constraint, use compatible pairs only, equal plain water-filling (an independent progressive filling with
no duals, no aggregation and no shortcuts), and pass the leximin certificate: no request can be raised
without lowering one at a lower or equal weighted level (one LP per request, HiGHS through SciPy at
tolerances of 1e-10), to 1e-5 of fulfilment."""

import sys

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from solver_builders import HERE, POLICY, leximin_violations
from test_solver_properties import assert_feasible

from allocation.solver import solve

sys.path.insert(0, str(HERE.parents[2] / "benchmarks"))
from solver import plain_water_filling  # noqa: E402

SETTINGS = settings(
    derandomize=True,
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HARDWARE = [{"id": "H100", "h100e": 1.0}, {"id": "A100", "h100e": 0.315}, {"id": "B200", "h100e": 2.274}]
GROUPS = ["LIC", "LMIC", "UMIC", "HIC"]
PHASES = ["initial", "preparatory", "accelerated", "self"]


def deep_round(seed: int, *, minimums: bool = False) -> dict:
    """12 to 40 requests with scores spread over [0.2, 1] (nearly all weights distinct), 6 to 14 lots whose
    capacity covers 30 % to 80 % of demand, 2 to 4 countries with budgets, a cash pool below the priced
    supply."""
    rng = np.random.default_rng(seed)
    n_requests, n_lots, n_countries = int(rng.integers(12, 41)), int(rng.integers(6, 15)), int(rng.integers(2, 5))
    countries = [
        {
            "iso3": f"C{chr(65 + i)}X",
            "income_group": str(rng.choice(GROUPS)),
            "region": "SSA",
            "cofinancing_phase": str(rng.choice(PHASES)),
            "years_in_phase": int(rng.integers(0, 10)),
            "budget_usd": [None, round(float(rng.uniform(50, 2000)), 1), round(float(rng.uniform(2000, 20000)), 1)][
                int(rng.integers(3))
            ],
        }
        for i in range(n_countries)
    ]
    requests = []
    for i in range(n_requests):
        demand = round(float(rng.uniform(20, 600)), 1)
        requests.append(
            {
                "id": f"R{i:02d}",
                "country": countries[int(rng.integers(n_countries))]["iso3"],
                "sector": str(rng.choice(["health", "science", "education"])),
                "h100e_hours": demand,
                "min_h100e_hours": round(demand * float(rng.choice([0, 0, 0.25, 0.5])), 1) if minimums else 0,
                "hardware": sorted(
                    str(h) for h in rng.choice(["H100", "A100", "B200"], int(rng.integers(1, 3)), replace=False)
                ),
                "regions": sorted(str(g) for g in rng.choice(["SSA", "NAM"], int(rng.integers(0, 3)), replace=False)),
                "score": round(float(rng.uniform(0.2, 1.0)), 3),
                "local_language": bool(rng.random() < 0.3),
                "open_weights": bool(rng.random() < 0.5),
                "params_billion": [3, 70, None][int(rng.integers(3))],
            }
        )
    total = sum(r["h100e_hours"] for r in requests) * float(rng.uniform(0.3, 0.8))
    shares = rng.dirichlet(np.full(n_lots, 0.7))
    lots = []
    for j in range(n_lots):
        hw = HARDWARE[int(rng.integers(len(HARDWARE)))]
        priced = bool(rng.random() < 0.35)
        lot = {
            "id": f"L{j}",
            "provider": "p",
            "donor": None if priced else "NOR",
            "hardware": hw["id"],
            "region": str(rng.choice(["SSA", "NAM"])),
            "gpu_hours": round(float(total * shares[j] / hw["h100e"]), 1),
            "value_usd_per_gpu_hour": round(float(rng.uniform(0.5, 4)), 2),
            "price_usd_per_gpu_hour": round(float(rng.uniform(0.5, 4)), 2) if priced else None,
        }
        if not priced and rng.random() < 0.3:
            lot["earmark"] = [{"income_groups": ["LIC", "LMIC"]}, {"sectors": ["health"]}][int(rng.integers(2))]
        lots.append(lot)
    priced_value = sum(x["gpu_hours"] * (x["price_usd_per_gpu_hour"] or 0) for x in lots)
    return {
        "format": "gacp.scenario/1",
        "name": f"deep-{seed}",
        "hardware": HARDWARE,
        "lots": lots,
        "cash_usd": round(priced_value * float(rng.uniform(0.2, 0.9)), 2),
        "countries": countries,
        "requests": requests,
        "policy": POLICY,
    }


def vector(out):
    return {r["id"]: r["fulfilment"] for r in out["requests"]}


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_deep_rounds_equal_plain_water_filling_and_pass_the_certificate(seed):
    doc = deep_round(seed)
    out = solve(doc)
    assert out["status"] == "optimal"
    assert_feasible(doc, out)
    ours = vector(out)
    plain, _, finished = plain_water_filling(doc, time_limit=120)
    assert finished
    assert max(abs(ours[k] - plain[k]) for k in ours) <= 1e-5
    assert leximin_violations(doc, ours) == []


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_deep_rounds_with_minimums_keep_every_constraint_and_pass_the_certificate(seed):
    """With minimum sizes the deferred requests get nothing; the others form the leximin of the round
    without the deferred ones, so the certificate holds for them in that round."""
    doc = deep_round(seed, minimums=True)
    out = solve(doc)
    assert out["status"] == "optimal"
    assert_feasible(doc, out)
    deferred = {r["id"] for r in out["requests"] if r["deferred"]}
    for r in out["requests"]:
        assert not (r["id"] in deferred and r["allocated_h100e_hours"] > 0)
    kept = dict(doc, requests=[r for r in doc["requests"] if r["id"] not in deferred])
    assert leximin_violations(kept, vector(out)) == []


def test_deep_rounds_pass_several_levels_and_stop_for_several_reasons():
    outs = [solve(deep_round(seed)) for seed in range(12)]
    levels = [out["stats"]["levels"] for out in outs]
    assert min(levels) >= 2
    assert sum(levels) / len(levels) >= 3
    reasons = {r["explanation"]["reason"] for out in outs for r in out["requests"]}
    assert {"lot_full", "country_budget", "cash_pool", "demand_met"} <= reasons
