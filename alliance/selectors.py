"""Site-wide reads for the home page and the public dashboard.

Every figure is computed by the database (``Sum``/``Count`` over ``F`` expressions). Where a figure is
needed under several groupings, one grouped query returns a few hundred aggregated rows (one per round
and state, or per region and hardware) and those are folded in Python: the cost stays one scan of the
big tables however many allocation lines a round has.

Visibility rules, shared by the pages, the open data and anyone else who needs them:

* the dashboard, the awards table and the open data read *published* rounds only: nothing of a round
  that is open, under review, being solved or solved but not yet published appears there;
* capacity counts when it is a lot of a *confirmed* pledge or of a *published* offer (drafts and
  withdrawals are not public commitments);
* allocations count only from the approved run of a published round (``AllocationLine``);
* requested compute counts the requests that run decided on (its ``RequestResult`` rows: requests
  found ineligible, withdrawn or never submitted were not part of the decision);
* income group and region are those *frozen* on the results and lines when the decision was made, so a
  state reclassified later by the World Bank never moves a published figure. Rows stored before the
  classification was frozen fall back to the state's current one.

The home page alone also counts what is pledged to rounds open now (the call for requests is public).
"""
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf

from allocation.models import (
    AllocationLine,
    AllocationRun,
    CapacityLot,
    ComputeRequest,
    HardwareType,
    Offer,
    Pledge,
    RequestResult,
    RequestStatus,
    Round,
    RoundStatus,
    Sector,
)
from allocation.selectors import published_lines
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


# --- Published rounds and their decisions ------------------------------------------------------------


def published_rounds() -> QuerySet[Round]:
    """Published rounds, the most recently published first."""
    return Round.objects.filter(status=RoundStatus.PUBLISHED).select_related("call").order_by("-published_at", "-id")


def published_results(*, round_id: int | None = None) -> QuerySet[RequestResult]:
    """What the approved run of each published round decided, one row per request it decided on."""
    results = RequestResult.objects.filter(run__is_approved=True, run__round__status=RoundStatus.PUBLISHED)
    return results.filter(run__round_id=round_id) if round_id else results


def published_lines_of(*, round_id: int | None = None) -> QuerySet[AllocationLine]:
    lines = published_lines()
    return lines.filter(run__round_id=round_id) if round_id else lines


def published_lots(*, round_id: int | None = None) -> QuerySet[CapacityLot]:
    """Capacity of confirmed pledges and published offers to published rounds (or to one of them)."""
    if round_id:
        in_rounds = Q(pledge__round_id=round_id) | Q(offer__round_id=round_id)
    else:
        in_rounds = Q(pledge__round__status=RoundStatus.PUBLISHED) | Q(offer__round__status=RoundStatus.PUBLISHED)
    return counted_lots().filter(in_rounds)


def frozen(field: str) -> Coalesce:
    """The income group or region frozen on a result or line, else (rows older than the freeze) the
    requesting state's current one."""
    return Coalesce(NullIf(F(field), Value("")), F(f"request__member_state__{field}"))


def _labelled(rows: dict[str, Decimal], choices) -> list[dict]:
    """Rows of a chart in the order of the choices, keeping only those with a value."""
    return [
        {"key": value, "label": label, "value": rows[value]}
        for value, label in choices
        if rows.get(value)
    ]


def pledged_capacity(*, round_id: int | None = None) -> dict:
    """Capacity pledged to published rounds: totals, and h100e-hours by the lots' region and by hardware."""
    lots = published_lots(round_id=round_id)
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
    cash_pledges = Pledge.objects.filter(kind=Pledge.Kind.CASH, status=Pledge.Status.CONFIRMED)
    cash_pledges = (cash_pledges.filter(round_id=round_id) if round_id
                    else cash_pledges.filter(round__status=RoundStatus.PUBLISHED))
    cash = cash_pledges.aggregate(
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


def share(part, whole) -> float | None:
    """``part / whole`` as a float, or None when the whole is zero (a share of nothing is undefined)."""
    return float(part / whole) if whole else None


def percent(part, whole) -> float | None:
    return None if not whole else float(part / whole) * 100


def gini(values) -> float | None:
    """The Gini coefficient of non-negative values: the mean absolute difference between every ordered
    pair, over twice the mean. 0 when all are equal; (n - 1) / n when one holds everything.

    Computed on the sorted values as ``sum((2i - n - 1) x_i) / (n sum(x))``, i = 1..n. None for no
    values or when they sum to zero (the coefficient is undefined)."""
    xs = sorted(float(x) for x in values)
    n, total = len(xs), sum(xs)
    if n == 0 or total <= 0:
        return None
    return sum((2 * i - n - 1) * x for i, x in enumerate(xs, start=1)) / (n * total)


PER_PEOPLE = 1_000_000  # allocation per capita is shown per million inhabitants


@dataclass
class _Tally:
    requested: Decimal = ZERO
    allocated: Decimal = ZERO
    requests: int = 0
    served: int = 0

    def add(self, *, requested=ZERO, allocated=ZERO, requests=0, served=0):
        self.requested += requested
        self.allocated += allocated
        self.requests += requests
        self.served += served

    def row(self, **extra) -> dict:
        return {"requested": self.requested, "allocated": self.allocated, "requests": self.requests,
                "requests_served": self.served, "fulfilment": share(self.allocated, self.requested),
                "fulfilment_pct": percent(self.allocated, self.requested), **extra}


def published_allocations(*, round_id: int | None = None) -> dict:
    """What published rounds (or one of them) decided: totals; requested against allocated by income
    group, region and sector of the requesting state (frozen at decision time); by hardware; a row per
    round; a row per requesting state with its allocation per capita; and the equity indicators.

    Two grouped queries (results and lines, one row per round, state, group, region and sector) do the
    summing; everything else folds those few hundred rows."""
    group_by = {"round": F("run__round_id"), "state": F("request__member_state_id"),
                "frozen_income": frozen("income_group"), "frozen_region": frozen("region"),
                "sector": F("request__sector")}
    decided = (
        published_results(round_id=round_id).values(**group_by)
        .annotate(total=Sum("request__h100e_hours"), requests=Count("id"))
        .order_by()
    )
    given = (
        published_lines_of(round_id=round_id).filter(h100e_hours__gt=0).values(**group_by)
        .annotate(total=Sum("h100e_hours"), requests=Count("request_id", distinct=True))
        .order_by()
    )
    rounds = list(published_rounds().filter(pk=round_id) if round_id else published_rounds())
    rank = {round_.pk: position for position, round_ in enumerate(rounds)}  # 0: the latest

    totals = _Tally()
    by_group, by_region, by_sector = defaultdict(_Tally), defaultdict(_Tally), defaultdict(_Tally)
    per_round, per_state = defaultdict(_Tally), defaultdict(_Tally)
    state_place: dict[int, tuple[int, str, str]] = {}  # state -> (rank of its latest round, group, region)
    region_states: dict[str, set[int]] = defaultdict(set)
    region_state_allocated: dict[tuple[str, int], Decimal] = defaultdict(lambda: ZERO)
    round_states_served: dict[int, set[int]] = defaultdict(set)
    for rows, measure in ((decided, "requested"), (given, "allocated")):
        for row in rows:
            figures = ({"requested": row["total"], "requests": row["requests"]} if measure == "requested"
                       else {"allocated": row["total"], "served": row["requests"]})
            for tally in (totals, by_group[row["frozen_income"]], by_region[row["frozen_region"]],
                          by_sector[row["sector"]], per_round[row["round"]], per_state[row["state"]]):
                tally.add(**figures)
            region_states[row["frozen_region"]].add(row["state"])
            if measure == "allocated":
                region_state_allocated[row["frozen_region"], row["state"]] += row["total"]
                round_states_served[row["round"]].add(row["state"])
            place = (rank.get(row["round"], len(rank)), row["frozen_income"], row["frozen_region"])
            if row["state"] not in state_place or place[0] < state_place[row["state"]][0]:
                state_place[row["state"]] = place

    states = {
        state.pk: state
        for state in MemberState.objects.filter(pk__in=per_state).only("id", "iso3", "name", "population",
                                                                      "population_year")
    }
    state_rows = []
    for state_id, tally in per_state.items():
        state = states[state_id]
        _, income, region = state_place[state_id]
        per_million = (float(tally.allocated) * PER_PEOPLE / state.population) if state.population else None
        state_rows.append(tally.row(
            key=state.iso3, label=state.name, state=state, income_group=income, region=region,
            income_group_label=IncomeGroup(income).label if income in IncomeGroup.values else income,
            region_label=Region(region).label if region in Region.values else region,
            population=state.population, population_year=state.population_year, per_million=per_million,
        ))
    state_rows.sort(key=lambda row: (-(row["per_million"] or 0), row["label"]))

    def paired(table: dict, choices) -> list[dict]:
        return [table[key].row(key=key, label=label) for key, label in choices if key in table]

    region_rows = []
    for key, label in Region.choices:
        if key not in by_region:
            continue
        counted = [states[s] for s in region_states[key] if states[s].population]
        people = sum(state.population for state in counted)
        allocated_counted = sum((region_state_allocated[key, state.pk] for state in counted), ZERO)
        region_rows.append(by_region[key].row(
            key=key, label=label, states=len(region_states[key]), population=people or None,
            share=share(by_region[key].allocated, totals.allocated),
            share_pct=percent(by_region[key].allocated, totals.allocated),
            per_million=float(allocated_counted) * PER_PEOPLE / people if people else None,
        ))

    round_rows = []
    for round_ in rounds:
        tally = per_round.get(round_.pk, _Tally())
        round_rows.append(tally.row(round=round_, states_served=len(round_states_served[round_.pk])))

    low_income = sum((by_group[key].allocated for key in LOW_INCOME_GROUPS if key in by_group), ZERO)
    with_population = [row for row in state_rows if row["per_million"] is not None]
    years = sorted({row["population_year"] for row in with_population})
    return {
        "rounds": round_rows,
        "requested_h100e_hours": totals.requested,
        "allocated_h100e_hours": totals.allocated,
        "fulfilment": share(totals.allocated, totals.requested),
        "requests_decided": totals.requests,
        "requests_served": totals.served,
        "states_requesting": len(per_state),
        "states_served": sum(1 for row in state_rows if row["allocated"] > 0),
        "low_income_allocated_h100e_hours": low_income,
        "low_income_share": share(low_income, totals.allocated),
        "by_income_group": paired(by_group, IncomeGroup.choices),  # poorest first
        "by_region": sorted(region_rows, key=lambda row: -row["requested"]),
        "by_sector": sorted(paired(by_sector, Sector.choices), key=lambda row: -row["requested"]),
        "states": state_rows,  # most per capita first
        "gini_per_capita": gini(row["per_million"] for row in with_population),
        "gini_states": len(with_population),
        "states_without_population": [row["label"] for row in state_rows if row["per_million"] is None],
        "population_years": years,
    }


def allocated_by_hardware(*, round_id: int | None = None) -> list[dict]:
    """Pledged against allocated h100e-hours for each accelerator model, in published rounds."""
    pledged = {
        row["hardware_id"]: row["total"]
        for row in published_lots(round_id=round_id).values("hardware_id").annotate(total=_sum(LOT_H100E_HOURS))
        .order_by()
    }
    allocated = {
        row["lot__hardware_id"]: row["total"]
        for row in published_lines_of(round_id=round_id).values("lot__hardware_id")
        .annotate(total=Sum("h100e_hours")).order_by()
    }
    names = dict(HardwareType.objects.filter(id__in=set(pledged) | set(allocated)).values_list("id", "name"))
    rows = [
        {"key": hardware_id, "label": name, "pledged": pledged.get(hardware_id, ZERO),
         "allocated": allocated.get(hardware_id, ZERO),
         "used": share(allocated.get(hardware_id, ZERO), pledged.get(hardware_id, ZERO))}
        for hardware_id, name in names.items()
    ]
    return sorted(rows, key=lambda row: (-row["pledged"], row["label"]))


def dashboard_figures(*, round_id: int | None = None) -> dict:
    """Everything the public dashboard shows, for every published round or one of them."""
    pledged = pledged_capacity(round_id=round_id)
    allocations = published_allocations(round_id=round_id)
    return {
        "pledged": pledged,
        "allocations": allocations,
        "by_hardware": allocated_by_hardware(round_id=round_id),
        "has_pledges": bool(pledged["lots"] or pledged["cash_usd"]),
        "has_published": bool(allocations["rounds"]),
        "is_empty": not allocations["rounds"],
    }


# --- The awards table ---------------------------------------------------------------------------------

AWARD_ORDERINGS = {
    # key: (ascending order, descending order); ties broken by the request id for a stable order
    "round": (("run__round__published_at", "run__round_id"), ("-run__round__published_at", "-run__round_id")),
    "state": (("request__member_state__name",), ("-request__member_state__name",)),
    "sector": (("request__sector",), ("-request__sector",)),
    "title": (("request__title",), ("-request__title",)),
    "requested": (("requested",), ("-requested",)),
    "allocated": (("allocated",), ("-allocated",)),
    "fulfilment": (("fulfilment",), ("-fulfilment",)),
}
DEFAULT_AWARD_ORDER = "-allocated"


def published_awards(
    *, round_id: int | None = None, text: str = "", region: str = "", income_group: str = "", sector: str = "",
    hardware: str = "", order: str = DEFAULT_AWARD_ORDER,
) -> QuerySet[RequestResult]:
    """Every request a published round decided on, with what it asked for and received, searchable.

    ``text`` matches the title, the state's name or ISO3 code and the ministry; ``region`` and
    ``income_group`` are the frozen ones; ``hardware`` (a hardware key) keeps requests given some of
    that accelerator; ``order`` is a key of ``AWARD_ORDERINGS``, with "-" for descending."""
    lines_of_result = published_lines().filter(run_id=OuterRef("run_id"), request_id=OuterRef("request_id"))
    allocated = lines_of_result.order_by().values("request_id").annotate(total=Sum("h100e_hours")).values("total")
    awards = (
        published_results(round_id=round_id)
        .select_related("run__round__call", "request__member_state", "request__ministry")
        .annotate(
            frozen_income=frozen("income_group"),
            frozen_region=frozen("region"),
            requested=F("request__h100e_hours"),
            allocated=Coalesce(Subquery(allocated, output_field=_H100E_FIELD), ZERO, output_field=_H100E_FIELD),
            fulfilment_pct=ExpressionWrapper(F("fulfilment") * 100, output_field=FloatField()),
        )
    )
    text = text.strip()
    if text:
        awards = awards.filter(
            Q(request__title__icontains=text) | Q(request__member_state__name__icontains=text)
            | Q(request__member_state__iso3__iexact=text) | Q(request__ministry__name__icontains=text)
        )
    if region:
        awards = awards.filter(frozen_region=region)
    if income_group:
        awards = awards.filter(frozen_income=income_group)
    if sector:
        awards = awards.filter(request__sector=sector)
    if hardware:
        awards = awards.filter(Exists(lines_of_result.filter(lot__hardware__key=hardware, h100e_hours__gt=0)))
    descending = order.startswith("-")
    ascending_fields, descending_fields = AWARD_ORDERINGS.get(order.lstrip("-"), AWARD_ORDERINGS["allocated"])
    return awards.order_by(*(descending_fields if descending else ascending_fields), "request_id")


def hardware_of_awards(awards) -> dict[tuple[int, int], list[str]]:
    """The accelerator models each of the given results was allocated, ``{(run_id, request_id): [names]}``:
    one query for a page of the table."""
    pairs = {(award.run_id, award.request_id) for award in awards}
    if not pairs:
        return {}
    names: dict[tuple[int, int], set[str]] = defaultdict(set)
    rows = (
        published_lines()
        .filter(run_id__in={run for run, _ in pairs}, request_id__in={request for _, request in pairs},
                h100e_hours__gt=0)
        .values_list("run_id", "request_id", "lot__hardware__name")
        .distinct()
    )
    for run_id, request_id, name in rows:
        if (run_id, request_id) in pairs:
            names[run_id, request_id].add(name)
    return {pair: sorted(found) for pair, found in names.items()}


def awarded_hardware() -> QuerySet[HardwareType]:
    """Accelerator models that published rounds allocated: the choices of the awards table's filter."""
    return HardwareType.objects.filter(
        Exists(published_lines().filter(lot__hardware_id=OuterRef("pk"), h100e_hours__gt=0))
    ).order_by("name")
