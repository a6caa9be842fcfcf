"""Small rounds whose answers are worked out by hand, one per constraint and per explanation reason.

Unless stated otherwise a request's weight is its country's income weight (LIC 2, HIC 1): score 1, sector
without weight, no bonus. "Self" countries co-finance the whole value of what they receive."""

import pytest
from solver_builders import country, lot, request, round_doc

from allocation.solver import solve


def by_id(out):
    return {r["id"]: r for r in out["requests"]}


def test_two_requests_share_one_lot_in_proportion_to_weight():
    # f_A = 2t, f_B = t; 2t*1000 + t*1000 = 300 GPU-hours of H100 (h100e 1) -> t = 0.1: A 200, B 100.
    doc = round_doc(
        [lot("L1", 300)],
        [country("AAA", "LIC"), country("BBB", "HIC")],
        [request("RA", "AAA", 1000), request("RB", "BBB", 1000)],
    )
    out = solve(doc)
    got = by_id(out)
    assert got["RA"]["allocated_h100e_hours"] == pytest.approx(200, rel=1e-6)
    assert got["RB"]["allocated_h100e_hours"] == pytest.approx(100, rel=1e-6)
    assert got["RA"]["weight"] == 2.0 and got["RB"]["weight"] == 1.0
    for r in got.values():
        assert r["explanation"]["reason"] == "lot_full"
        assert r["explanation"]["level"] == pytest.approx(0.1, rel=1e-6)
        assert [b["id"] for b in r["explanation"]["binding"]] == ["L1"]
        assert "L1" in r["explanation"]["text"]
    # dt/dcap = 1 / (w_A D_A + w_B D_B) = 1/3000 level per GPU-hour.
    assert out["lots"][0]["shadow_price"] == pytest.approx(1 / 3000, rel=1e-6)
    assert out["lots"][0]["used_gpu_hours"] == pytest.approx(300, rel=1e-6)
    # self-financing: 1 * 2 US$ per GPU-hour.
    assert got["RA"]["cofinancing_usd"] == pytest.approx(400, rel=1e-6)
    assert got["RA"]["subsidy_usd"] == pytest.approx(0, abs=1e-6)


def test_country_budget_stops_request_at_budget_over_share_times_value():
    # share 1, value 2 US$/GPU-hour, budget 100 US$ -> 50 GPU-hours = 50 h100e-hours of the 1000 asked.
    doc = round_doc([lot("L1", 1000)], [country("KEN", budget=100.0)], [request("R1", "KEN", 1000)])
    out = solve(doc)
    r = by_id(out)["R1"]
    assert r["allocated_h100e_hours"] == pytest.approx(50, rel=1e-6)
    assert r["explanation"]["reason"] == "country_budget"
    budget = [b for b in r["explanation"]["binding"] if b["constraint"] == "country_budget"]
    # t = f / w = budget / (share * value * D): dt/dbudget = 1 / (1 * 2 * 1000).
    assert budget[0]["id"] == "KEN" and budget[0]["shadow_price"] == pytest.approx(5e-4, rel=1e-6)
    assert out["countries"][0]["cofinancing_usd"] <= 100.0
    assert "KEN" in r["explanation"]["text"]


def test_cash_pool_stops_request_at_cash_over_price():
    # price 2 US$/GPU-hour, 50 US$ of pooled cash -> 25 GPU-hours; co-financing is charged on the price.
    doc = round_doc(
        [lot("L1", 1000, price=2.0, value=2.2)], [country("KEN")], [request("R1", "KEN", 1000)], cash=50.0
    )
    out = solve(doc)
    r = by_id(out)["R1"]
    assert r["allocated_h100e_hours"] == pytest.approx(25, rel=1e-6)
    assert r["explanation"]["reason"] == "cash_pool"
    assert out["cash"]["spent_usd"] == pytest.approx(50, rel=1e-6)
    assert out["cash"]["spent_usd"] <= 50.0
    assert r["cofinancing_usd"] == pytest.approx(50, rel=1e-6)


def test_earmark_excludes_other_income_groups():
    doc = round_doc(
        [lot("L1", 100, earmark={"income_groups": ["LIC"]})],
        [country("AAA", "LIC"), country("BBB", "HIC")],
        [request("RA", "AAA", 50), request("RB", "BBB", 50)],
    )
    got = by_id(solve(doc))
    assert got["RA"]["fulfilment"] == pytest.approx(1.0)
    assert got["RB"]["fulfilment"] == 0
    assert got["RB"]["explanation"]["reason"] == "no_compatible_lot"


def test_region_excludes_lots_elsewhere():
    doc = round_doc(
        [lot("L1", 100, region="SSA")], [country("KEN")], [request("R1", "KEN", 50, regions=["NAM"])]
    )
    r = by_id(solve(doc))["R1"]
    assert r["allocated_h100e_hours"] == 0
    assert r["explanation"]["reason"] == "no_compatible_lot"


def test_score_zero_is_not_eligible():
    doc = round_doc([lot("L1", 100)], [country("KEN")], [request("R1", "KEN", 50, score=0.0)])
    r = by_id(solve(doc))["R1"]
    assert r["weight"] == 0 and r["allocated_h100e_hours"] == 0
    assert r["explanation"]["reason"] == "not_eligible"


def test_minimum_size_defers_the_lower_weight_request():
    # Continuous: 2t*100 + t*100 = 100 -> A 66.7, B 33.3 < 60: B is deferred; A alone then gets its 100.
    doc = round_doc(
        [lot("L1", 100)],
        [country("AAA", "LIC"), country("BBB", "HIC")],
        [request("RA", "AAA", 100, minimum=60), request("RB", "BBB", 100, minimum=60)],
    )
    got = by_id(solve(doc))
    assert got["RA"]["allocated_h100e_hours"] == pytest.approx(100, rel=1e-6)
    assert not got["RA"]["deferred"]
    assert got["RB"]["deferred"] and got["RB"]["allocated_h100e_hours"] == 0
    assert got["RB"]["explanation"]["reason"] == "below_minimum"
    assert got["RB"]["explanation"]["would_have_received_h100e_hours"] == pytest.approx(100 / 3, rel=1e-6)
    assert "deferred" in got["RB"]["explanation"]["text"]


def test_small_request_is_fully_served():
    doc = round_doc([lot("L1", 1000)], [country("KEN")], [request("R1", "KEN", 100)])
    r = by_id(solve(doc))["R1"]
    assert r["fulfilment"] == pytest.approx(1.0, rel=1e-6)
    assert r["explanation"]["reason"] == "demand_met"
    assert r["explanation"]["level"] == pytest.approx(1.0)


def test_saturated_request_frees_capacity_for_the_rest():
    # A (w 2, 100 asked) is full at t = 0.5 using 100; B (w 0.1) then rises until 100 + 0.1 t 1000 = 300:
    # t = 2, B gets 200 of 1000.
    doc = round_doc(
        [lot("L1", 300)],
        [country("AAA", "LIC"), country("BBB", "HIC")],
        [request("RA", "AAA", 100), request("RB", "BBB", 1000, score=0.1)],
    )
    got = by_id(solve(doc))
    assert got["RA"]["explanation"]["reason"] == "demand_met"
    assert got["RA"]["explanation"]["level"] == pytest.approx(0.5)
    assert got["RB"]["allocated_h100e_hours"] == pytest.approx(200, rel=1e-6)
    assert got["RB"]["explanation"]["level"] == pytest.approx(2.0, rel=1e-6)


def test_donated_capacity_is_used_before_pooled_cash():
    doc = round_doc(
        [lot("L1", 100), lot("L2", 100, price=1.0)], [country("KEN")], [request("R1", "KEN", 50)], cash=1000.0
    )
    out = solve(doc)
    assert by_id(out)["R1"]["fulfilment"] == pytest.approx(1.0)
    assert out["cash"]["spent_usd"] == pytest.approx(0, abs=1e-6)
    assert {a["lot"] for a in out["allocations"]} == {"L1"}


def test_least_cofinancing_prefers_cheaper_hardware_per_h100e_hour():
    # A100: 1.3 US$ / 0.315 h100e = 4.13 US$ per h100e-hour; H100: 2.4 US$.
    # 100 h100e-hours from H100: 240 US$.
    doc = round_doc(
        [lot("L1", 1000, hardware="A100", value=1.3), lot("L2", 1000, value=2.4)],
        [country("KEN")],
        [request("R1", "KEN", 100, hardware=["A100", "H100"])],
    )
    out = solve(doc)
    assert {a["lot"] for a in out["allocations"]} == {"L2"}
    assert by_id(out)["R1"]["cofinancing_usd"] == pytest.approx(240, rel=1e-6)


def test_zero_budget_excludes_before_any_lp():
    doc = round_doc([lot("L1", 100)], [country("KEN", budget=0.0)], [request("R1", "KEN", 50)])
    r = by_id(solve(doc))["R1"]
    assert r["allocated_h100e_hours"] == 0
    assert r["explanation"]["reason"] == "country_budget"
    assert "US$0" in r["explanation"]["text"]


def test_initial_phase_pays_initial_share():
    doc = round_doc([lot("L1", 100)], [country("KEN", "LIC", phase="initial")], [request("R1", "KEN", 50)])
    out = solve(doc)
    assert out["countries"][0]["cofinancing_share"] == 0.05
    assert by_id(out)["R1"]["cofinancing_usd"] == pytest.approx(0.05 * 2.0 * 50, rel=1e-6)
    assert by_id(out)["R1"]["subsidy_usd"] == pytest.approx(0.95 * 2.0 * 50, rel=1e-6)


def test_identical_lots_merge_and_fill_in_id_order():
    doc = round_doc([lot("L2", 100), lot("L1", 100)], [country("KEN")], [request("R1", "KEN", 150)])
    out = solve(doc)
    assert out["stats"]["lot_classes"] == 1
    used = {x["id"]: x["used_gpu_hours"] for x in out["lots"]}
    assert used["L1"] == pytest.approx(100) and used["L2"] == pytest.approx(50)


def test_middle_node_network_matches_the_reference(checker):
    # Three requests of one country and three distinct lots of one bucket: joined through a middle node.
    lots = [lot("L1", 60, value=1.0), lot("L2", 50, value=2.0), lot("L3", 40, value=3.0)]
    reqs = [
        request(f"R{i}", "KEN", d, score=s) for i, (d, s) in enumerate([(100, 1.0), (80, 0.5), (30, 0.8)])
    ]
    doc = round_doc(lots, [country("KEN", budget=200.0)], reqs)
    out = solve(doc)
    assert out["stats"]["middle_nodes"] == 1
    code, text = checker(doc, out)
    assert code == 0, text
