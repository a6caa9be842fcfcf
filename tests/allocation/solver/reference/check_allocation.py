#!/usr/bin/env python3
# Copied from shared/tools: the alliance's independent checker of the allocation-v1 contract (test oracle).
"""Check an engine's gacp.allocation/1 output against its gacp.scenario/1 input, independently.

    check_allocation.py SCENARIO.json OUTPUT.json [--tol 1e-3] [--no-optimality]

Hard checks (any failure exits 1): every allocation is a compatible pair; lot capacity, demand, cash,
country co-financing budgets and minimum viable sizes hold; reported h100e, fulfilment, weights and
co-financing shares agree with the scenario's rules. Optimality (scenarios without minimums): the
engine's fulfilment vector equals the reference leximin within --tol. Prints one summary line last.
"""
import argparse
import json
import sys
from collections import defaultdict

from reference_leximin import Model, cheapest, compatible, cofinancing_share, weight

REL = 1e-6


def fail(msgs, m):
    msgs.append(m)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("output")
    ap.add_argument("--tol", type=float, default=5e-3)
    ap.add_argument("--no-optimality", action="store_true")
    ap.add_argument("--reference", help="a saved reference output (its 'fulfilment'), instead of solving again")
    a = ap.parse_args()
    sc = json.load(open(a.scenario))
    out = json.load(open(a.output))
    errs = []
    if out.get("format") != "gacp.allocation/1":
        fail(errs, f"format is {out.get('format')!r}")
    pol = sc["policy"]
    countries = {c["iso3"]: c for c in sc["countries"]}
    reqs = {r["id"]: r for r in sc["requests"]}
    lots = {l["id"]: l for l in sc["lots"]}
    h = {x["id"]: x["h100e"] for x in sc["hardware"]}
    used = defaultdict(float)
    got = defaultdict(float)
    cash = 0.0
    cof = defaultdict(float)
    for al in out.get("allocations", []):
        r, l = reqs.get(al.get("request")), lots.get(al.get("lot"))
        if r is None or l is None:
            fail(errs, f"unknown request/lot in {al}")
            continue
        g = float(al["gpu_hours"])
        if g < -REL:
            fail(errs, f"negative allocation {al}")
        if not compatible(r, countries[r["country"]], l):
            fail(errs, f"incompatible pair {r['id']}->{l['id']}")
        he = g * h[l["hardware"]]
        if abs(float(al.get("h100e_hours", he)) - he) > REL * max(1, he) + 1e-6:
            fail(errs, f"h100e_hours wrong for {r['id']}->{l['id']}: {al.get('h100e_hours')} vs {he}")
        used[l["id"]] += g
        got[r["id"]] += he
        if l.get("price_usd_per_gpu_hour"):
            cash += g * l["price_usd_per_gpu_hour"]
        cof[r["country"]] += g * Model.lot_value(l) * cofinancing_share(countries[r["country"]], pol)
    for lid, u in used.items():
        cap = float(lots[lid]["gpu_hours"])
        if u > cap * (1 + REL) + 1e-6:
            fail(errs, f"lot {lid} over capacity: {u} > {cap}")
    for rid, v in got.items():
        r = reqs[rid]
        if v > r["h100e_hours"] * (1 + REL) + 1e-6:
            fail(errs, f"request {rid} over demand: {v} > {r['h100e_hours']}")
        mn = float(r.get("min_h100e_hours") or 0)
        if v > 1e-6 and v < mn * (1 - REL) - 1e-6:
            fail(errs, f"request {rid} below its minimum: {v} < {mn}")
    cash_avail = float(sc.get("cash_usd") or 0)
    if cash > cash_avail * (1 + REL) + 1e-6:
        fail(errs, f"cash overspent: {cash} > {cash_avail}")
    for c, v in cof.items():
        bud = countries[c].get("budget_usd")
        if bud is not None and v > bud * (1 + REL) + 1e-4:
            fail(errs, f"country {c} co-financing {v} over budget {bud}")
    rep = {x["id"]: x for x in out.get("requests", [])}
    if set(rep) != set(reqs):
        fail(errs, f"requests section lists {len(rep)} of {len(reqs)} requests")
    for rid, r in reqs.items():
        x = rep.get(rid)
        if not x:
            continue
        w = weight(r, countries[r["country"]], pol)
        if abs(float(x.get("weight", -1)) - w) > 1e-6 * max(1, w):
            fail(errs, f"weight of {rid}: {x.get('weight')} vs {w}")
        fr = got[rid] / r["h100e_hours"] if r["h100e_hours"] else 0
        if abs(float(x.get("fulfilment", -1)) - fr) > 1e-6:
            fail(errs, f"fulfilment of {rid}: {x.get('fulfilment')} vs {fr}")
    for c in out.get("countries", []):
        if c.get("iso3") in countries:
            s = cofinancing_share(countries[c["iso3"]], pol)
            if abs(float(c.get("cofinancing_share", -1)) - s) > 1e-9:
                fail(errs, f"co-financing share of {c['iso3']}: {c.get('cofinancing_share')} vs {s}")
    gap = None
    has_min = any(float(r.get("min_h100e_hours") or 0) > 0 for r in reqs.values())
    m = Model(sc)
    eng = [got[r["id"]] / r["h100e_hours"] for r in m.reqs]
    ratio = None
    if a.reference or not a.no_optimality:
        if a.reference:
            saved = json.load(open(a.reference))["fulfilment"]
            fref = [saved[r["id"]] for r in m.reqs]
        else:
            fref, _, _ = m.leximin()
        if not has_min and not a.no_optimality:
            gap = max((abs(e - f) for e, f in zip(eng, fref)), default=0.0)
            if gap > a.tol:
                worst = max(range(len(eng)), key=lambda i: abs(eng[i] - fref[i]))
                fail(errs, f"not leximin: max |f - f_ref| = {gap:.4g} (request {m.reqs[worst]['id']}: "
                           f"{eng[worst]:.4f} vs {fref[worst]:.4f})")
        wsum_ref = sum(w * f for w, f in zip(m.w, fref))
        ratio = sum(w * e for w, e in zip(m.w, eng)) / wsum_ref if wsum_ref else 1.0
    if not errs and not a.no_optimality:
        min_cash, min_owed = cheapest(m, eng, slack=1e-9, floor=1e-9)
        owed = sum(cof.values())
        if min_cash is not None and cash > min_cash * (1 + 1e-3) + 10.0:
            fail(errs, f"spends {cash:.2f} of pooled cash where {min_cash:.2f} reaches the same fulfilment")
        elif min_owed is not None and owed > min_owed * (1 + 1e-3) + 10.0:
            fail(errs, f"leaves {owed:.2f} of co-financing owed where {min_owed:.2f} reaches the same fulfilment")
    for e in errs[:20]:
        print("FAIL:", e)
    status = "ok" if not errs else f"{len(errs)} failures"
    print(f"{status}: requests={len(reqs)} lots={len(lots)} max_gap={gap if gap is None else round(gap, 6)} "
          f"weighted_fulfilment_vs_leximin={ratio if ratio is None else round(ratio, 4)}")
    sys.exit(1 if errs else 0)


if __name__ == "__main__":
    main()
