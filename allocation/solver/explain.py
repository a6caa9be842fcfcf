"""Explanations of each request's outcome, as structured fields plus one or two plain English sentences.

The structured part (reason, level, binding constraints with their shadow prices) is what a reviewer
verifies: a constraint is listed when its dual was strictly positive in the LP where the request froze
(see engine.py). The text is rendered from `TEMPLATES` with named parameters only, so a translation is
another template table over the same parameters.

Reasons: demand_met, lot_full, country_budget, cash_pool, no_headroom (blocked by the other requests'
levels alone), not_eligible, no_compatible_lot, below_minimum (deferred), time_limit, solver_stopped.
"""

from __future__ import annotations

from typing import Any

from .engine import (
    BELOW_MINIMUM,
    DEMAND_MET,
    NO_HEADROOM,
    SOLVER_STOPPED,
    TIME_LIMIT,
    EngineResult,
    Outcome,
)
from .network import CASH_POOL, COUNTRY_BUDGET, EXCLUDED, LOT_FULL, NO_COMPATIBLE_LOT, NOT_ELIGIBLE, Network

REGION_NAMES = {
    "EAP": "East Asia and Pacific",
    "ECA": "Europe and Central Asia",
    "LAC": "Latin America and the Caribbean",
    "MNA": "the Middle East and North Africa",
    "NAM": "North America",
    "SAS": "South Asia",
    "SSA": "Sub-Saharan Africa",
}

_RISE = "raising it would have lowered requests with an equal or lower weighted level."
_GOT = "Your request received {pct} of the {asked} h100e-hours asked, at fairness level {level}."
TEMPLATES = {
    DEMAND_MET: "Your request received all of the {asked} h100e-hours asked; it was fully served from "
    "fairness level {level}.",
    LOT_FULL: _GOT + " It could not rise further because the lots it can use ({lots}) were fully "
    "allocated; " + _RISE,
    COUNTRY_BUDGET: _GOT
    + " It could not rise further because {country}'s co-financing budget for this round "
    "(US${budget}) was fully committed; " + _RISE,
    CASH_POOL: _GOT + " It could not rise further because the pooled cash for buying offered capacity "
    "(US${cash}) was fully spent; " + _RISE,
    NO_HEADROOM: _GOT + " It could not rise further without lowering requests with an equal or lower "
    "weighted level.",
    TIME_LIMIT: _GOT + " The engine's time limit stopped the computation at this level; the request might "
    "have risen further.",
    SOLVER_STOPPED: _GOT
    + " The LP solver could not continue past this level, so the computation stopped here; the request "
    "might have risen further.",
    NOT_ELIGIBLE: "Your request was not eligible this round (its review score or policy weight is 0), so it "
    "received no compute.",
    NO_COMPATIBLE_LOT: "No lot in this round matches your request's hardware, regions and the donors' "
    "conditions, so it received no compute.",
    "excluded_" + COUNTRY_BUDGET: "Every lot your request can use requires co-financing, and {country}'s "
    "co-financing budget for this round is US$0, so it received no compute.",
    "excluded_" + CASH_POOL: "The lots your request can use must be bought, and the pool holds no cash this "
    "round, so it received no compute.",
    "excluded_" + LOT_FULL: "The lots your request can use have no capacity this round, so it received no "
    "compute.",
    BELOW_MINIMUM: "Your request was deferred: its fair share ({would} h100e-hours, {would_pct} of the "
    "{asked} asked) fell below its minimum useful size of {minimum} h100e-hours, so that capacity "
    "went to other requests this round.",
}


def _hours(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:,.2f}"


def _pct(f: float) -> str:
    p = 100 * f
    return f"{p:.0f}%" if p >= 10 or p == 0 else f"{p:.2g}%"


def _money(x: float) -> str:
    return f"{x:,.2f}"


def _lots_phrase(net: Network, lot_ids: list[str]) -> str:
    lots = {lot.id: lot for lot in net.scenario.lots}
    names = lot_ids[:3]
    head = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    if len(lot_ids) > 3:
        head = ", ".join(names) + f" and {len(lot_ids) - 3} more"
    kinds = sorted({(lots[i].hardware, lots[i].region) for i in lot_ids})
    where = "; ".join(
        f"{hw.replace('_', ' ')} in {REGION_NAMES.get(region, region)}" for hw, region in kinds[:3]
    )
    return f"{head}, {where}" if len(kinds) <= 3 else head


def binding_entries(net: Network, outcome: Outcome) -> list[dict[str, Any]]:
    """The binding constraints of an outcome as JSON objects; lots of a merged class are listed one by one
    with the class's shadow price (their capacities are one constraint)."""
    sc = net.scenario
    out: list[dict[str, Any]] = []
    for b in outcome.binding:
        if b.kind == "lot":
            for j in net.class_lots[b.index]:
                lot = sc.lots[j]
                out.append(
                    {
                        "constraint": "lot",
                        "id": lot.id,
                        "limit": lot.gpu_hours,
                        "shadow_price": b.shadow_price,
                    }
                )
        elif b.kind == COUNTRY_BUDGET:
            country = sc.countries[b.index]
            out.append(
                {
                    "constraint": COUNTRY_BUDGET,
                    "id": country.iso3,
                    "limit": country.budget_usd,
                    "shadow_price": b.shadow_price,
                }
            )
        else:
            out.append(
                {"constraint": CASH_POOL, "id": None, "limit": sc.cash_usd, "shadow_price": b.shadow_price}
            )
    return out


def explain(net: Network, result: EngineResult, i: int, allocated: float) -> dict[str, Any]:
    """The explanation object of request i, which received `allocated` h100e-hours."""
    sc = net.scenario
    request = sc.requests[i]
    country = sc.countries[int(net.req_country[i])]
    outcome = result.outcomes[i]
    reason = outcome.reason
    binding = binding_entries(net, outcome)
    key = reason
    if reason == EXCLUDED:
        reason = net.excluded_causes[i][0]
        key = "excluded_" + reason
        binding = [
            {
                "constraint": c,
                "id": country.iso3 if c == COUNTRY_BUDGET else None,
                "limit": {COUNTRY_BUDGET: country.budget_usd, CASH_POOL: sc.cash_usd}.get(c),
                "shadow_price": None,
            }
            for c in net.excluded_causes[i]
        ]
    params = {
        "pct": _pct(allocated / request.h100e_hours),
        "asked": _hours(request.h100e_hours),
        "level": "-" if outcome.level is None else f"{outcome.level:.4g}",
        "country": country.iso3,
        "budget": _money(country.budget_usd or 0.0),
        "cash": _money(sc.cash_usd),
        "lots": _lots_phrase(net, [b["id"] for b in binding if b["constraint"] == "lot"])
        if any(b["constraint"] == "lot" for b in binding)
        else "",
        "would": _hours(result.would_have[i]),
        "would_pct": _pct(result.would_have[i] / request.h100e_hours),
        "minimum": _hours(request.min_h100e_hours),
    }
    out: dict[str, Any] = {
        "reason": reason,
        "level": outcome.level,
        "binding": binding,
        "text": TEMPLATES[key].format(**params),
    }
    if reason == BELOW_MINIMUM:
        out["would_have_received_h100e_hours"] = float(result.would_have[i])
        out["min_h100e_hours"] = request.min_h100e_hours
    return out
