"""The gacp.allocation/1 document, and its canonical JSON form.

Every figure is computed from the emitted allocation lines, so that a reader who adds them up finds the
reported totals. Shadow prices are duals of the level LP (objective: the fairness level t) at the level
where the constraint first bound, in level units per unit of the resource: per GPU-hour for a lot, per US$
for a country's co-financing budget and for the pooled cash. They are 0 for constraints that never bound.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from . import explain
from .engine import EngineResult
from .network import Network

OUTPUT_FORMAT = "gacp.allocation/1"


def build(
    net: Network, result: EngineResult, lines: list[tuple[int, int, float]], solve_seconds: float
) -> dict[str, Any]:
    """Assemble the output document from the trimmed allocation lines and the engine's records."""
    sc = net.scenario
    n, n_countries = net.n_requests, len(sc.countries)
    allocated, cofin, value_in = np.zeros(n), np.zeros(n), np.zeros(n)
    used = np.zeros(len(sc.lots))
    country_cofin = np.zeros(n_countries)
    spent = 0.0
    allocations = []
    for r, j, g in lines:
        c = net.lot_class[j]
        k = net.req_country[r]
        h = g * net.cls_h[c]
        owed = float(net.share[k] * g * net.cls_value[c])
        cash = float(g * net.cls_price[c])
        allocations.append(
            {
                "request": sc.requests[r].id,
                "lot": sc.lots[j].id,
                "gpu_hours": g,
                "h100e_hours": float(h),
                "cofinancing_usd": owed,
                "cash_usd": cash,
            }
        )
        allocated[r] += h
        cofin[r] += owed
        value_in[r] += g * net.cls_value[c]
        used[j] += g
        country_cofin[k] += owed
        spent += cash
    requests = []
    for i, req in enumerate(sc.requests):
        requests.append(
            {
                "id": req.id,
                "weight": float(net.weight[i]),
                "allocated_h100e_hours": float(allocated[i]),
                "fulfilment": float(allocated[i] / req.h100e_hours),
                "deferred": bool(result.deferred[i]),
                "cofinancing_usd": float(cofin[i]),
                "subsidy_usd": float(value_in[i] - cofin[i]),
                "explanation": explain.explain(net, result, i, float(allocated[i])),
            }
        )
    lots = [
        {
            "id": lot.id,
            "used_gpu_hours": float(used[j]),
            "shadow_price": float(result.class_shadow[net.lot_class[j]]),
            "binding_level": _maybe(result.class_level[net.lot_class[j]]),
        }
        for j, lot in enumerate(sc.lots)
    ]
    countries = [
        {
            "iso3": c.iso3,
            "cofinancing_share": float(net.share[k]),
            "cofinancing_usd": float(country_cofin[k]),
            "budget_usd": c.budget_usd,
            "shadow_price": float(result.country_shadow[k]),
        }
        for k, c in enumerate(sc.countries)
    ]
    return {
        "format": OUTPUT_FORMAT,
        "scenario": sc.name,
        "status": result.status,
        "allocations": allocations,
        "requests": requests,
        "lots": lots,
        "countries": countries,
        "cash": {"available_usd": sc.cash_usd, "spent_usd": spent, "shadow_price": float(result.cash_shadow)},
        "stats": {
            "solve_seconds": solve_seconds,
            "levels": result.levels,
            "variables": result.variables,
            "constraints": result.constraints,
            "solver": "glop",
            "lp_solves": result.lp_solves,
            "deferral_rounds": result.deferral_rounds,
            "simplex_iterations": result.simplex_iterations,
            "retired_arcs": result.retired_arcs,
            "lot_classes": net.n_classes,
            "middle_nodes": net.n_middle,
        },
    }


def _maybe(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def canonical_json(output: dict[str, Any]) -> str:
    """The published form of a decision: sorted keys, indent 1, trailing newline, without
    stats.solve_seconds, so that a re-run can be compared byte for byte."""
    doc = dict(output)
    if isinstance(doc.get("stats"), dict):
        doc["stats"] = {k: v for k, v in doc["stats"].items() if k != "solve_seconds"}
    return json.dumps(doc, sort_keys=True, indent=1, allow_nan=False) + "\n"
