"""The platform's door to the engine: a round in the database as a gacp.scenario/1 document.

The document is serialised canonically (sorted keys, one-space indent, UTF-8, final newline) and its
SHA-256 is taken over exactly those bytes, so ``manage.py export_round`` prints a file whose hash
anyone can compare with the published one, and which the engine's CLI re-solves without a database.
"""
import hashlib
import json
from decimal import Decimal

from django.db.models import Q

from allocation.models import (
    CapacityLot,
    ComputeRequest,
    CountryBudget,
    HardwareType,
    Offer,
    Pledge,
    RequestStatus,
    Round,
)

SCENARIO_FORMAT = "gacp.scenario/1"

# Requests in these states take part in a solve; ineligible ones enter with score 0 so that the
# engine's output explains to their ministry that they were not eligible.
SOLVABLE_STATUSES = (RequestStatus.ELIGIBLE, RequestStatus.SCORED, RequestStatus.INELIGIBLE)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def lots_of_round(round_: Round):
    """Capacity that counts in a round: lots of confirmed pledges and of published offers."""
    return CapacityLot.objects.filter(
        Q(pledge__round=round_, pledge__status=Pledge.Status.CONFIRMED)
        | Q(offer__round=round_, offer__status=Offer.Status.PUBLISHED)
    ).order_by("id")


def requests_of_round(round_: Round):
    return (
        ComputeRequest.objects.filter(round=round_, status__in=SOLVABLE_STATUSES)
        .select_related("member_state")
        .prefetch_related("acceptable_hardware")
        .order_by("id")
    )


def build_scenario(round_: Round) -> dict:
    """The gacp.scenario/1 document of a round, as the database holds it now."""
    lots = lots_of_round(round_).select_related("hardware", "provider", "pledge__donor").prefetch_related(
        "earmark_countries"
    )
    requests = list(requests_of_round(round_))
    cash = sum(
        (p.cash_usd for p in round_.pledges.filter(kind=Pledge.Kind.CASH, status=Pledge.Status.CONFIRMED)),
        Decimal("0"),
    )
    budgets = {b.member_state_id: b.budget_usd for b in CountryBudget.objects.filter(round=round_)}

    lot_docs = []
    hardware_ids = set()
    for lot in lots:
        hardware_ids.add(lot.hardware_id)
        doc = {
            "id": lot.scenario_id,
            "provider": lot.provider.name,
            "donor": lot.pledge.donor.name if lot.pledge_id else None,
            "hardware": lot.hardware.key,
            "region": lot.region,
            "gpu_hours": float(lot.gpu_hours),
            "value_usd_per_gpu_hour": float(lot.value_usd_per_gpu_hour),
            "price_usd_per_gpu_hour": _number(lot.price_usd_per_gpu_hour),
        }
        earmark = {}
        if lot.earmark_sectors:
            earmark["sectors"] = sorted(lot.earmark_sectors)
        if lot.earmark_income_groups:
            earmark["income_groups"] = sorted(lot.earmark_income_groups)
        countries = sorted(state.iso3 for state in lot.earmark_countries.all())
        if countries:
            earmark["countries"] = countries
        if earmark:
            doc["earmark"] = earmark
        lot_docs.append(doc)

    request_docs = []
    states = {}
    for request in requests:
        states[request.member_state_id] = request.member_state
        accepted = sorted(request.acceptable_hardware.all(), key=lambda h: h.key)
        hardware_ids.update(h.id for h in accepted)
        score = 0.0 if request.status == RequestStatus.INELIGIBLE else float(request.score or 0)
        request_docs.append({
            "id": request.scenario_id,
            "country": request.member_state.iso3,
            "sector": request.sector,
            "h100e_hours": float(request.h100e_hours),
            "min_h100e_hours": float(request.min_h100e_hours),
            "hardware": [h.key for h in accepted],
            "regions": sorted(request.data_residency_regions or []),
            "score": score,
            "local_language": request.local_language,
            "open_weights": request.open_weights,
            "params_billion": _number(request.params_billion),
        })

    country_docs = [
        {
            "iso3": state.iso3,
            "income_group": state.income_group,
            "region": state.region,
            "cofinancing_phase": state.cofinancing_phase,
            "years_in_phase": state.years_in_phase,
            "budget_usd": _number(budgets.get(state.id)),
        }
        for state in sorted(states.values(), key=lambda s: s.iso3)
    ]
    hardware_docs = [
        {"id": h.key, "h100e": float(h.h100e), "memory_gb": _number(h.memory_gb)}
        for h in HardwareType.objects.filter(id__in=hardware_ids).order_by("key")
    ]
    return {
        "format": SCENARIO_FORMAT,
        "name": f"round-{round_.pk}: {round_}",
        "hardware": hardware_docs,
        "lots": lot_docs,
        "cash_usd": float(cash),
        "countries": country_docs,
        "requests": request_docs,
        "policy": round_.policy,
    }


def scenario_bytes(scenario: dict) -> bytes:
    """The canonical serialisation over which the scenario's SHA-256 is taken."""
    return (json.dumps(scenario, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def scenario_sha256(scenario: dict) -> str:
    return hashlib.sha256(scenario_bytes(scenario)).hexdigest()
