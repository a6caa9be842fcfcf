"""Site-wide reads for the home page and the public dashboard.

Every figure is computed by the database (``Sum``/``Count`` over ``F`` expressions). Where a figure is
needed under several groupings, one grouped query returns a few hundred aggregated rows (one per round
and state, or per region and hardware) and those are folded in Python: the cost stays one scan of the
big tables however many allocation lines a round has.

Visibility rules, shared by the pages and anyone else who needs them:

* capacity counts when it is a lot of a *confirmed* pledge or of a *published* offer (drafts and
  withdrawals are not public commitments), in any round;
* allocations count only from the approved run of a *published* round;
* requested compute counts the requests of published rounds that were submitted and not withdrawn.
"""
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from allocation.models import (
    AllocationLine,
    AllocationRun,
    CapacityLot,
    ComputeRequest,
    HardwareType,
    Offer,
    Pledge,
    RequestStatus,
    Round,
    RoundStatus,
)
from members.models import IncomeGroup, MemberState, Region

ZERO = Decimal("0")
LOW_INCOME_GROUPS = (IncomeGroup.LIC, IncomeGroup.LMIC)
NOT_SUBMITTED = (RequestStatus.DRAFT, RequestStatus.WITHDRAWN)

# gpu_hours (14, 2) times h100e (7, 3): exact in PostgreSQL; SQLite rounds to these places on the way out.
_H100E_FIELD = DecimalField(max_digits=28, decimal_places=3)
LOT_H100E_HOURS = ExpressionWrapper(F("gpu_hours") * F("hardware__h100e"), output_field=_H100E_FIELD)


def _sum(expression, **extra) -> Coalesce:
    return Coalesce(Sum(expression, **extra), ZERO, output_field=_H100E_FIELD)


def counted_lots() -> QuerySet[CapacityLot]:
    """Lots that count as capacity put in the pool: of confirmed pledges and of published offers."""
    return CapacityLot.objects.filter(
        Q(pledge__status=Pledge.Status.CONFIRMED) | Q(offer__status=Offer.Status.PUBLISHED)
    )


def published_runs() -> dict[int, int]:
    """The approved run of every published round, as ``{run_id: round_id}`` (one per round)."""
    return dict(
        AllocationRun.objects.filter(is_approved=True, round__status=RoundStatus.PUBLISHED).values_list(
            "id", "round_id"
        )
    )


def home_figures() -> dict:
    """The four live figures of the home page, and the rounds open now."""
    run_ids = list(published_runs())
    allocated_requests = (
        AllocationLine.objects.filter(run_id__in=run_ids, h100e_hours__gt=0)
        .values("request_id")
        .distinct()
        .count()
        if run_ids
        else 0
    )
    open_lots = counted_lots().filter(
        Q(pledge__round__status=RoundStatus.OPEN) | Q(offer__round__status=RoundStatus.OPEN)
    )
    open_rounds = list(
        Round.objects.filter(status=RoundStatus.OPEN).select_related("call").order_by("submission_deadline")[:3]
    )
    return {
        "member_states": MemberState.objects.filter(is_member=True).count(),
        "open_pledged_h100e_hours": open_lots.aggregate(total=_sum(LOT_H100E_HOURS))["total"],
        "requests_submitted": ComputeRequest.objects.exclude(status__in=NOT_SUBMITTED).count(),
        "published_allocations": allocated_requests,
        "published_rounds": Round.objects.filter(status=RoundStatus.PUBLISHED).count(),
        "open_rounds": open_rounds,
    }


def _labelled(rows: dict[str, Decimal], choices) -> list[dict]:
    """Rows of a chart in the order of the choices, keeping only those with a value."""
    return [
        {"key": value, "label": label, "value": rows[value]}
        for value, label in choices
        if rows.get(value)
    ]


def pledged_capacity() -> dict:
    """Capacity in the pool: totals, and h100e-hours by the lots' region and by hardware."""
    lots = counted_lots()
    totals = lots.aggregate(
        donated=_sum(LOT_H100E_HOURS, filter=Q(pledge__isnull=False)),
        offered=_sum(LOT_H100E_HOURS, filter=Q(offer__isnull=False)),
        lots=Count("id"),
    )
    by_region = {
        row["region"]: row["total"]
        for row in lots.values("region").annotate(total=_sum(LOT_H100E_HOURS)).order_by()
    }
    by_hardware_rows = lots.values("hardware_id").annotate(total=_sum(LOT_H100E_HOURS)).order_by()
    by_hardware_totals = {row["hardware_id"]: row["total"] for row in by_hardware_rows if row["total"]}
    hardware = HardwareType.objects.filter(id__in=by_hardware_totals).only("id", "name")
    by_hardware = sorted(
        ({"key": hw.pk, "label": hw.name, "value": by_hardware_totals[hw.pk]} for hw in hardware),
        key=lambda row: (-row["value"], row["label"]),
    )
    cash = Pledge.objects.filter(kind=Pledge.Kind.CASH, status=Pledge.Status.CONFIRMED).aggregate(
        total=Coalesce(Sum("cash_usd"), ZERO, output_field=DecimalField(max_digits=18, decimal_places=2))
    )["total"]
    by_region_rows = sorted(_labelled(by_region, Region.choices), key=lambda row: -row["value"])
    return {
        "h100e_hours": totals["donated"] + totals["offered"],
        "donated_h100e_hours": totals["donated"],
        "offered_h100e_hours": totals["offered"],
        "lots": totals["lots"],
        "cash_usd": cash,
        "by_region": by_region_rows,  # largest first
        "by_hardware": by_hardware,  # largest first
    }


def _fulfilment(allocated: Decimal, requested: Decimal) -> float | None:
    return float(allocated / requested) if requested else None


def published_allocations() -> dict:
    """What published rounds gave: totals, requested against allocated by income group and by region
    of the requesting state, the share reaching LIC and LMIC states, and a row per published round."""
    runs = published_runs()
    rounds = list(
        Round.objects.filter(status=RoundStatus.PUBLISHED).select_related("call").order_by("-published_at", "-id")
    )
    allocated_rows = (
        AllocationLine.objects.filter(run_id__in=list(runs), h100e_hours__gt=0)
        .values("run_id", "request__member_state_id")
        .annotate(total=Sum("h100e_hours"), requests=Count("request_id", distinct=True))
        .order_by()
        if runs
        else []
    )
    requested_rows = (
        ComputeRequest.objects.filter(round__status=RoundStatus.PUBLISHED)
        .exclude(status__in=NOT_SUBMITTED)
        .values("round_id", "member_state_id")
        .annotate(total=Sum("h100e_hours"), requests=Count("id"))
        .order_by()
    )

    # Fold the aggregated rows (at most rounds x states of them) by state and by round.
    state_allocated: dict[int, Decimal] = defaultdict(lambda: ZERO)
    state_requested: dict[int, Decimal] = defaultdict(lambda: ZERO)
    per_round = defaultdict(lambda: {"allocated": ZERO, "requested": ZERO, "requests": 0, "served": 0,
                                     "states": set()})
    for row in allocated_rows:
        round_id, state_id = runs[row["run_id"]], row["request__member_state_id"]
        state_allocated[state_id] += row["total"]
        per_round[round_id]["allocated"] += row["total"]
        per_round[round_id]["served"] += row["requests"]
        per_round[round_id]["states"].add(state_id)
    for row in requested_rows:
        state_requested[row["member_state_id"]] += row["total"]
        per_round[row["round_id"]]["requested"] += row["total"]
        per_round[row["round_id"]]["requests"] += row["requests"]

    states = MemberState.objects.filter(id__in=set(state_allocated) | set(state_requested)).values_list(
        "id", "income_group", "region"
    )
    group_of = {state_id: (income, region) for state_id, income, region in states}
    by_group = {key: {"requested": ZERO, "allocated": ZERO} for key in IncomeGroup.values}
    by_region = {key: {"requested": ZERO, "allocated": ZERO} for key in Region.values}
    for measure, totals in (("requested", state_requested), ("allocated", state_allocated)):
        for state_id, amount in totals.items():
            income, region = group_of[state_id]
            by_group[income][measure] += amount
            by_region[region][measure] += amount

    allocated = sum(state_allocated.values(), ZERO)
    requested = sum(state_requested.values(), ZERO)
    low_income = sum((by_group[key]["allocated"] for key in LOW_INCOME_GROUPS), ZERO)

    def paired(table, choices):
        return [
            {"key": key, "label": label, **table[key], "fulfilment": _fulfilment(table[key]["allocated"],
                                                                                  table[key]["requested"])}
            for key, label in choices
            if table[key]["requested"] or table[key]["allocated"]
        ]

    round_rows = []
    for round_ in rounds:
        figures = per_round.get(round_.pk, {"allocated": ZERO, "requested": ZERO, "requests": 0, "served": 0,
                                            "states": set()})
        round_rows.append({
            "round": round_,
            "has_approved_run": round_.pk in runs.values(),
            "requests": figures["requests"],
            "requests_served": figures["served"],
            "states_served": len(figures["states"]),
            "requested_h100e_hours": figures["requested"],
            "allocated_h100e_hours": figures["allocated"],
            "fulfilment": _fulfilment(figures["allocated"], figures["requested"]),
        })

    return {
        "rounds": round_rows,
        "requested_h100e_hours": requested,
        "allocated_h100e_hours": allocated,
        "fulfilment": _fulfilment(allocated, requested),
        "states_served": sum(1 for amount in state_allocated.values() if amount > 0),
        "requests_served": sum(row["requests_served"] for row in round_rows),
        "low_income_allocated_h100e_hours": low_income,
        "low_income_share": float(low_income / allocated) if allocated else None,
        "by_income_group": paired(by_group, IncomeGroup.choices),  # poorest first
        "by_region": sorted(paired(by_region, Region.choices), key=lambda row: -row["requested"]),
    }


def dashboard_figures() -> dict:
    """Everything the public dashboard shows: ``{"pledged": ..., "allocations": ..., "is_empty": ...}``."""
    pledged = pledged_capacity()
    allocations = published_allocations()
    return {
        "pledged": pledged,
        "allocations": allocations,
        "has_pledges": bool(pledged["lots"] or pledged["cash_usd"]),
        "has_published": bool(allocations["rounds"]),
        "is_empty": not (pledged["lots"] or pledged["cash_usd"] or allocations["rounds"]),
    }
