"""Reads of the allocation app, and the one visibility rule shared by pages and API.

``*_visible_to(user)`` return querysets of what a person may see; ``*_access(user, id)`` return one
object or raise ``Http404`` (a person never learns that another state's object exists).
"""
import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from allocation.models import (
    ZERO,
    AllocationLine,
    AllocationRun,
    Appeal,
    Call,
    CapacityLot,
    CofinancingObligation,
    ComputeRequest,
    Offer,
    Pledge,
    RequestResult,
    RequestStatus,
    Review,
    ReviewAssignment,
    Round,
    RoundStatus,
    Sector,
)
from members.models import IncomeGroup, Membership, MemberState, Organisation, OrganisationKind, Region, Role


def membership_of(user) -> Membership | None:
    if not user or not user.is_authenticated:
        return None
    return Membership.objects.select_related("organisation__member_state").filter(user=user).first()


def is_secretariat(user) -> bool:
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    membership = membership_of(user)
    return membership is not None and membership.role == Role.SECRETARIAT_OFFICER


def is_reviewer(user) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role in (Role.REVIEWER, Role.SECRETARIAT_OFFICER)


def _get_or_404(queryset: QuerySet, pk):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {queryset.model._meta.verbose_name} with id {pk!r} is visible to you.") from None


def rounds_visible_to(user) -> QuerySet[Round]:
    """The public sees published rounds; every member of the alliance sees all rounds."""
    rounds = Round.objects.select_related("call")
    if membership_of(user) is None and not (user and user.is_authenticated and user.is_superuser):
        return rounds.filter(status=RoundStatus.PUBLISHED)
    return rounds


def round_access(user, round_id) -> Round:
    return _get_or_404(rounds_visible_to(user), round_id)


def requests_visible_to(user) -> QuerySet[ComputeRequest]:
    """A ministry officer sees its own state's requests; reviewers and the secretariat see all
    submitted ones; donors and providers see none individually (they see published results)."""
    requests = ComputeRequest.objects.select_related("round__call", "member_state", "ministry").prefetch_related(
        "acceptable_hardware"
    )
    if is_secretariat(user):
        return requests
    membership = membership_of(user)
    if membership is None:
        return requests.none()
    if membership.role == Role.MINISTRY_OFFICER:
        return requests.filter(member_state_id=membership.organisation.member_state_id)
    if membership.role == Role.REVIEWER:
        return requests.exclude(status__in=["draft", "withdrawn"])
    return requests.none()


def request_access(user, request_id) -> ComputeRequest:
    return _get_or_404(requests_visible_to(user), request_id)


def pledges_visible_to(user) -> QuerySet[Pledge]:
    pledges = Pledge.objects.select_related("donor", "round__call").prefetch_related(
        Prefetch("lots", queryset=CapacityLot.objects.select_related("hardware", "provider"))
    )
    if is_secretariat(user):
        return pledges
    membership = membership_of(user)
    if membership is None or membership.role != Role.DONOR_OFFICER:
        return pledges.none()
    return pledges.filter(donor_id=membership.organisation_id)


def pledge_access(user, pledge_id) -> Pledge:
    return _get_or_404(pledges_visible_to(user), pledge_id)


def offers_visible_to(user) -> QuerySet[Offer]:
    offers = Offer.objects.select_related("provider", "round__call").prefetch_related(
        Prefetch("lots", queryset=CapacityLot.objects.select_related("hardware"))
    )
    if is_secretariat(user):
        return offers
    membership = membership_of(user)
    if membership is None or membership.role != Role.PROVIDER_OFFICER:
        return offers.none()
    return offers.filter(provider_id=membership.organisation_id)


def offer_access(user, offer_id) -> Offer:
    return _get_or_404(offers_visible_to(user), offer_id)


def reviews_visible_to(user) -> QuerySet[Review]:
    reviews = Review.objects.select_related("request", "reviewer")
    if is_secretariat(user):
        return reviews
    membership = membership_of(user)
    if membership is not None and membership.role == Role.REVIEWER:
        return reviews.filter(reviewer=user)
    return reviews.none()


def runs_visible_to(user) -> QuerySet[AllocationRun]:
    runs = AllocationRun.objects.select_related("round__call")
    if is_secretariat(user):
        return runs
    return runs.filter(is_approved=True, round__status=RoundStatus.PUBLISHED)


def run_access(user, run_id) -> AllocationRun:
    return _get_or_404(runs_visible_to(user), run_id)


def approved_run(round_: Round) -> AllocationRun | None:
    return round_.runs.filter(is_approved=True).first()


def latest_run(round_: Round) -> AllocationRun | None:
    return round_.runs.order_by("-created_at", "-id").first()


def published_lines() -> QuerySet[AllocationLine]:
    """Every allocation line of the approved run of a published round: the public record."""
    return AllocationLine.objects.filter(run__is_approved=True, run__round__status=RoundStatus.PUBLISHED)


# --- Donor and provider portals -------------------------------------------------------------------
#
# A donor officer sees its own organisation's pledges and, once a round is published, where their
# capacity went; a provider officer sees its own offers, the in-kind lots hosted at its data centres and
# the allocation lines of approved runs that run on its hardware. Requests appear to both as the open
# data shows them (id, state, sector, income group), never with a ministry's draft text.

_DECIMAL_SUM = DecimalField(max_digits=28, decimal_places=4)


def _sum(field: str) -> Coalesce:
    return Coalesce(Sum(field), ZERO, output_field=_DECIMAL_SUM)


def _organisation_access(user, role: str, kind: str) -> Organisation:
    membership = membership_of(user)
    if membership is None or membership.role != role or membership.organisation.kind != kind:
        raise PermissionDenied(f"Only a {Role(role).label.lower()} may open this page.")
    return membership.organisation


def donor_access(user) -> Organisation:
    """The donor organisation ``user`` acts for, or PermissionDenied (403)."""
    return _organisation_access(user, Role.DONOR_OFFICER, OrganisationKind.DONOR)


def provider_access(user) -> Organisation:
    """The provider organisation ``user`` acts for, or PermissionDenied (403)."""
    return _organisation_access(user, Role.PROVIDER_OFFICER, OrganisationKind.PROVIDER)


def earmark_labels(lot: CapacityLot) -> list[str]:
    """A lot's earmarks in words: the sectors, income groups and states it may go to (empty: unrestricted)."""
    from members.models import IncomeGroup

    labels = [str(Sector(key).label) for key in lot.earmark_sectors or [] if key in Sector.values]
    labels += [str(IncomeGroup(key).label) for key in lot.earmark_income_groups or [] if key in IncomeGroup.values]
    labels += [state.name for state in lot.earmark_countries.all()]
    return labels


def open_rounds() -> QuerySet[Round]:
    """Rounds that take pledges and offers now, the soonest deadline first."""
    return Round.objects.filter(status=RoundStatus.OPEN).select_related("call").order_by("submission_deadline", "id")


def decided_run(round_: Round) -> AllocationRun | None:
    """The approved run of a published round: the decision donors may read; None before publication."""
    if round_.status != RoundStatus.PUBLISHED:
        return None
    return approved_run(round_)


def _pool_cash(run: AllocationRun) -> Decimal:
    """The pooled cash the run's scenario held (what the engine could spend)."""
    return Decimal(str((run.scenario or {}).get("cash_usd", 0) or 0))


def cash_share(pledge: Pledge, run: AllocationRun | None) -> Decimal:
    """A cash pledge's share of the round's pool: the pool is spent as one, so each purchase is paid by the
    donors in proportion to what they put in."""
    if run is None or pledge.kind != Pledge.Kind.CASH or pledge.status != Pledge.Status.CONFIRMED:
        return ZERO
    pool = _pool_cash(run)
    return min(pledge.cash_usd / pool, Decimal(1)) if pool > 0 else ZERO


def pledge_lines(pledge: Pledge, run: AllocationRun | None) -> QuerySet[AllocationLine]:
    """The lines of the decided run paid by the pledge: its own lots' for capacity in kind; every purchase
    from the pool for cash."""
    lines = AllocationLine.objects.select_related(
        "request__member_state", "lot__hardware", "lot__provider"
    ).order_by("request_id", "lot_id")
    if run is None or pledge.status != Pledge.Status.CONFIRMED:
        return lines.none()
    if pledge.kind == Pledge.Kind.IN_KIND:
        return lines.filter(run=run, lot__pledge=pledge)
    return lines.filter(run=run, cash_usd__gt=0)


def donor_pledges_by_round(donor: Organisation) -> list[dict]:
    """The donor's pledges, grouped by round (newest first), with what each put in and what published rounds
    drew from it."""
    pledges = list(
        Pledge.objects.filter(donor=donor).select_related("round__call").prefetch_related(
            Prefetch("lots", queryset=CapacityLot.objects.select_related("hardware", "provider")
                     .prefetch_related("earmark_countries"))
        ).order_by("-round__opens_at", "-round_id", "-created_at", "-id")
    )
    runs = {}
    for round_ in {p.round for p in pledges}:
        runs[round_.pk] = decided_run(round_)
    run_ids = [run.pk for run in runs.values() if run is not None]
    used_by_lot = {
        row["lot_id"]: row
        for row in AllocationLine.objects.filter(run_id__in=run_ids, lot__pledge__donor=donor)
        .values("lot_id").annotate(gpu_hours=_sum("gpu_hours"), h100e_hours=_sum("h100e_hours")).order_by()
    }
    spent_by_run = {
        row["run_id"]: row
        for row in AllocationLine.objects.filter(run_id__in=run_ids, cash_usd__gt=0)
        .values("run_id").annotate(cash_usd=_sum("cash_usd"), gpu_hours=_sum("gpu_hours"),
                                   h100e_hours=_sum("h100e_hours")).order_by()
    }
    groups: dict[int, dict] = {}
    for pledge in pledges:
        run = runs[pledge.round_id]
        group = groups.setdefault(pledge.round_id, {
            "round": pledge.round, "run": run, "pledges": [],
            "gpu_hours": ZERO, "h100e_hours": ZERO, "cash_usd": ZERO,
            "used_h100e_hours": ZERO, "spent_usd": ZERO,
        })
        row = {"pledge": pledge, "lots": [], "used_gpu_hours": ZERO, "used_h100e_hours": ZERO, "spent_usd": ZERO,
               "gpu_hours": ZERO, "h100e_hours": ZERO, "published": run is not None,
               "withdrawable": pledge.status == Pledge.Status.CONFIRMED and pledge.round.status == RoundStatus.OPEN}
        for lot in pledge.lots.all():
            used = used_by_lot.get(lot.pk, {"gpu_hours": ZERO, "h100e_hours": ZERO})
            row["lots"].append({"lot": lot, "used_gpu_hours": used["gpu_hours"],
                                "used_h100e_hours": used["h100e_hours"], "earmarks": earmark_labels(lot)})
            row["gpu_hours"] += lot.gpu_hours
            row["h100e_hours"] += lot.h100e_hours
            row["used_gpu_hours"] += used["gpu_hours"]
            row["used_h100e_hours"] += used["h100e_hours"]
        if pledge.kind == Pledge.Kind.CASH and run is not None:
            share = cash_share(pledge, run)
            spent = spent_by_run.get(run.pk, {"cash_usd": ZERO, "gpu_hours": ZERO, "h100e_hours": ZERO})
            row["share"] = share
            row["spent_usd"] = spent["cash_usd"] * share
            row["used_h100e_hours"] = spent["h100e_hours"] * share
        if pledge.status == Pledge.Status.CONFIRMED:
            group["gpu_hours"] += row["gpu_hours"]
            group["h100e_hours"] += row["h100e_hours"]
            group["cash_usd"] += pledge.cash_usd if pledge.kind == Pledge.Kind.CASH else ZERO
            group["used_h100e_hours"] += row["used_h100e_hours"]
            group["spent_usd"] += row["spent_usd"]
        group["pledges"].append(row)
    return list(groups.values())


def _grouped(lines: QuerySet[AllocationLine], key: str, share: Decimal | None) -> dict[str, dict]:
    factor = Decimal(1) if share is None else share
    rows = {}
    for row in lines.values(key).annotate(
        gpu_hours=_sum("gpu_hours"), h100e_hours=_sum("h100e_hours"), cash_usd=_sum("cash_usd"),
        requests=Count("request_id", distinct=True),
    ).order_by():
        rows[row[key]] = {"gpu_hours": row["gpu_hours"] * factor, "h100e_hours": row["h100e_hours"] * factor,
                          "cash_usd": row["cash_usd"] * factor, "requests": row["requests"]}
    return rows


def pledge_breakdown(pledge: Pledge) -> dict:
    """Where a pledge went in its round's published decision: by state, sector and income group (the group
    frozen on each line when the decision was made), per lot, and what remains unused.

    Capacity in kind: the lines drawn on the pledge's own lots. Cash: every purchase made with the pooled
    cash, scaled by the pledge's share of the pool (``cash_share``)."""
    from members.models import IncomeGroup, MemberState

    run = decided_run(pledge.round)
    lines = pledge_lines(pledge, run)
    is_cash = pledge.kind == Pledge.Kind.CASH
    share = cash_share(pledge, run) if is_cash else None
    totals = lines.aggregate(gpu_hours=_sum("gpu_hours"), h100e_hours=_sum("h100e_hours"),
                             cash_usd=_sum("cash_usd"), requests=Count("request_id", distinct=True),
                             states=Count("request__member_state_id", distinct=True))
    factor = share if is_cash else Decimal(1)

    by_state = _grouped(lines, "request__member_state_id", share)
    states = MemberState.objects.in_bulk(list(by_state))
    countries = sorted(
        ({"key": states[pk].iso3, "code": states[pk].iso3, "label": states[pk].name, **figures}
         for pk, figures in by_state.items()),
        key=lambda row: (-row["h100e_hours"], row["label"]),
    )
    by_sector = _grouped(lines, "request__sector", share)
    sectors = sorted(
        ({"key": key, "label": Sector(key).label, **figures} for key, figures in by_sector.items()),
        key=lambda row: (-row["h100e_hours"], row["key"]),
    )
    by_group = _grouped(lines, "income_group", share)
    income_groups = [
        {"key": key, "label": label, **by_group[key]} for key, label in IncomeGroup.choices if key in by_group
    ]
    unknown_group = by_group.get("")
    if unknown_group:
        income_groups.append({"key": "", "label": "—", **unknown_group})

    lots = []
    if is_cash:  # the offered lots the pool bought from
        bought = _grouped(lines, "lot_id", share)
        offered = CapacityLot.objects.filter(pk__in=list(bought)).select_related("hardware", "provider")
        for lot in sorted(offered, key=lambda lot: -bought[lot.pk]["cash_usd"]):
            lots.append({"lot": lot, **bought[lot.pk]})
        spent = totals["cash_usd"] * factor
        remaining_usd = max(pledge.cash_usd - spent, ZERO) if pledge.status == Pledge.Status.CONFIRMED else ZERO
        pledged = {"cash_usd": pledge.cash_usd, "gpu_hours": None, "h100e_hours": None}
        remaining = {"cash_usd": remaining_usd, "gpu_hours": None, "h100e_hours": None}
    else:
        used = _grouped(lines, "lot_id", None)
        pledged = {"cash_usd": None, "gpu_hours": ZERO, "h100e_hours": ZERO}
        remaining = {"cash_usd": None, "gpu_hours": ZERO, "h100e_hours": ZERO}
        for lot in pledge.lots.select_related("hardware", "provider").prefetch_related("earmark_countries"):
            figures = used.get(lot.pk, {"gpu_hours": ZERO, "h100e_hours": ZERO, "cash_usd": ZERO, "requests": 0})
            left = max(lot.gpu_hours - figures["gpu_hours"], ZERO)
            lots.append({"lot": lot, **figures, "remaining_gpu_hours": left, "earmarks": earmark_labels(lot),
                         "remaining_h100e_hours": left * lot.hardware.h100e,
                         "used_share": figures["gpu_hours"] / lot.gpu_hours if lot.gpu_hours else None})
            pledged["gpu_hours"] += lot.gpu_hours
            pledged["h100e_hours"] += lot.h100e_hours
            remaining["gpu_hours"] += left
            remaining["h100e_hours"] += left * lot.hardware.h100e
    used_totals = {"gpu_hours": totals["gpu_hours"] * factor, "h100e_hours": totals["h100e_hours"] * factor,
                   "cash_usd": totals["cash_usd"] * factor}
    if is_cash:
        used_share = used_totals["cash_usd"] / pledge.cash_usd if pledge.cash_usd else None
    else:
        used_share = used_totals["gpu_hours"] / pledged["gpu_hours"] if pledged["gpu_hours"] else None
    return {
        "pledge": pledge,
        "run": run,
        "is_published": run is not None,
        "is_cash": is_cash,
        "share": share,
        "share_pct": share * 100 if share is not None else None,
        "pool_usd": _pool_cash(run) if run is not None and is_cash else None,
        "pool_spent_usd": totals["cash_usd"] if is_cash else None,
        "pledged": pledged,
        "used": used_totals,
        "remaining": remaining,
        "used_share": used_share,
        "requests": totals["requests"],
        "states": totals["states"],
        "lots": lots,
        "by_country": countries,
        "by_sector": sectors,
        "by_income_group": income_groups,
    }


def pledge_statement_rows(pledge: Pledge) -> list[dict]:
    """One row per allocation line paid by the pledge (cash: its share of each purchase), for the statement."""
    run = decided_run(pledge.round)
    share = cash_share(pledge, run) if pledge.kind == Pledge.Kind.CASH else Decimal(1)
    rows = []
    for line in pledge_lines(pledge, run):
        rows.append({
            "round": pledge.round.number,
            "run": line.run_id,
            "lot": line.lot.scenario_id,
            "hardware": line.lot.hardware.key,
            "provider": line.lot.provider.name,
            "hardware_region": line.lot.region,
            "request": line.request.scenario_id,
            "country_iso3": line.request.member_state.iso3,
            "country": line.request.member_state.name,
            "sector": line.request.sector,
            "income_group": line.income_group,
            "gpu_hours": line.gpu_hours * share,
            "h100e_hours": line.h100e_hours * share,
            "cash_usd": line.cash_usd * share,
        })
    return rows


def offers_of(provider: Organisation) -> list[Offer]:
    return list(
        Offer.objects.filter(provider=provider).select_related("round__call").prefetch_related(
            Prefetch("lots", queryset=CapacityLot.objects.select_related("hardware"))
        ).order_by("-round__opens_at", "-round_id", "-created_at", "-id")
    )


def hosted_lots(provider: Organisation) -> QuerySet[CapacityLot]:
    """Capacity donors pledged in kind at the provider's data centres."""
    return CapacityLot.objects.filter(provider=provider, pledge__isnull=False).select_related(
        "hardware", "pledge__donor", "pledge__round__call"
    ).order_by("-pledge__round__opens_at", "pledge__donor__name", "id")


def lots_used(lot_ids: list[int]) -> dict[int, Decimal]:
    """GPU-hours of each lot used by the decided (approved, published) run of its round."""
    return {
        row["lot_id"]: row["gpu_hours"]
        for row in published_lines().filter(lot_id__in=lot_ids).values("lot_id")
        .annotate(gpu_hours=_sum("gpu_hours")).order_by()
    }


def provider_decided_rounds(provider: Organisation) -> list[dict]:
    """Rounds whose approved run (solved or published) put lines on the provider's hardware, with how many
    lines await the provider, are confirmed or flagged."""
    from allocation.models import Feasibility

    rows = (
        AllocationLine.objects.filter(run__is_approved=True, lot__provider=provider,
                                      run__round__status__in=[RoundStatus.SOLVED, RoundStatus.PUBLISHED])
        .values("run__round_id", "run_id", "feasibility")
        .annotate(lines=Count("id"), gpu_hours=_sum("gpu_hours"))
        .order_by()
    )
    by_round: dict[int, dict] = {}
    for row in rows:
        entry = by_round.setdefault(row["run__round_id"], {
            "run_id": row["run_id"], "lines": 0, "gpu_hours": ZERO,
            **{status: 0 for status in Feasibility.values},
        })
        entry["lines"] += row["lines"]
        entry["gpu_hours"] += row["gpu_hours"]
        entry[row["feasibility"]] += row["lines"]
    rounds = Round.objects.filter(pk__in=list(by_round)).select_related("call").order_by("-opens_at", "-id")
    return [{"round": round_, **by_round[round_.pk]} for round_ in rounds]


def provider_lines(provider: Organisation, round_: Round) -> QuerySet[AllocationLine]:
    """The lines of the round's approved run on the provider's hardware (none before approval)."""
    return AllocationLine.objects.filter(
        run__round=round_, run__is_approved=True, lot__provider=provider,
        run__round__status__in=[RoundStatus.SOLVED, RoundStatus.PUBLISHED],
    ).select_related("lot__hardware", "lot__pledge__donor", "lot__offer", "request__member_state",
                     "feasibility_by").order_by("feasibility", "lot_id", "request_id")


def provider_line_access(user, line_id) -> AllocationLine:
    """A line of an approved run on the provider's own hardware, or 404."""
    provider = provider_access(user)
    return _get_or_404(
        AllocationLine.objects.filter(run__is_approved=True, lot__provider=provider).select_related(
            "run__round", "lot__hardware", "request__member_state"), line_id)


def lines_feasibility_visible_to(user) -> QuerySet[AllocationLine]:
    """Who reads a line's feasibility and the provider's note: the secretariat (every line), the hosting
    provider (its lines of approved runs) and the ministry of the receiving state (its lines in published
    decisions)."""
    lines = AllocationLine.objects.select_related(
        "run__round__call", "lot__hardware", "lot__provider", "request__member_state", "feasibility_by"
    )
    if is_secretariat(user):
        return lines
    membership = membership_of(user)
    if membership is None:
        return lines.none()
    if membership.role == Role.PROVIDER_OFFICER:
        return lines.filter(run__is_approved=True, lot__provider_id=membership.organisation_id)
    if membership.role == Role.MINISTRY_OFFICER:
        return lines.filter(run__is_approved=True, run__round__status=RoundStatus.PUBLISHED,
                            request__member_state_id=membership.organisation.member_state_id)
    return lines.none()


def line_feasibility_access(user, line_id) -> AllocationLine:
    return _get_or_404(lines_feasibility_visible_to(user), line_id)


def flagged_lines_visible_to(user) -> QuerySet[AllocationLine]:
    """Lines a provider flagged as infeasible, as ``user`` may see them (secretariat: all; a ministry: its own
    state's in published decisions)."""
    from allocation.models import Feasibility

    return lines_feasibility_visible_to(user).filter(feasibility=Feasibility.FLAGGED)

# --- The secretariat's pages: overview, eligibility, reviews, run comparison, co-financing ledger --------

LEDGER_STATUSES = ("due", "overdue", "paid")


def secretariat_overview(*, today: datetime.date | None = None) -> dict:
    """Calls with their rounds (requests by status, pledged and requested h100e-hours, runs), what the
    secretariat has to do next in each round, and the co-financing that is overdue."""
    today = today or timezone.localdate()
    rounds = list(Round.objects.select_related("call").order_by("call_id", "number"))
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    requested: dict[int, Decimal] = defaultdict(Decimal)
    for row in ComputeRequest.objects.order_by().values("round_id", "status").annotate(
        n=Count("id"), hours=Sum("h100e_hours")
    ):
        counts[row["round_id"]][row["status"]] = row["n"]
        if row["status"] not in (RequestStatus.DRAFT, RequestStatus.WITHDRAWN):
            requested[row["round_id"]] += row["hours"] or ZERO
    pledged = _pledged_h100e_hours_by_round()
    open_assignments = _open_assignments().order_by().values("request__round_id").annotate(
        n=Count("id"), late=Count("id", filter=Q(due_date__lt=today))
    )
    missing = {row["request__round_id"]: row for row in open_assignments}
    unassigned = dict(
        ComputeRequest.objects.filter(status=RequestStatus.ELIGIBLE, assignments__isnull=True).order_by()
        .values("round_id").annotate(n=Count("id")).values_list("round_id", "n")
    )
    approved = set(AllocationRun.objects.filter(is_approved=True).values_list("round_id", flat=True))
    runs = dict(
        AllocationRun.objects.order_by().values("round_id").annotate(n=Count("id")).values_list("round_id", "n")
    )
    now = timezone.now()
    calls: dict[int, dict] = {}
    todo = []
    for round_ in rounds:
        by_status = counts.get(round_.pk, {})
        entry = {
            "round": round_,
            "counts": [(RequestStatus(s).label, s, by_status[s]) for s in RequestStatus.values if by_status.get(s)],
            "total": sum(n for s, n in by_status.items() if s != RequestStatus.DRAFT),
            "requested": requested.get(round_.pk, ZERO),
            "pledged": pledged.get(round_.pk, ZERO),
            "coverage_pct": (100 * pledged.get(round_.pk, ZERO) / requested[round_.pk]) if requested.get(round_.pk)
            else None,
            "runs": runs.get(round_.pk, 0),
            "has_approved": round_.pk in approved,
        }
        calls.setdefault(round_.call_id, {"call": round_.call, "rounds": []})["rounds"].append(entry)
        todo += _round_todo(round_, by_status, missing.get(round_.pk), unassigned.get(round_.pk, 0),
                            round_.pk in approved, now)
    for call in Call.objects.filter(rounds__isnull=True):
        calls[call.pk] = {"call": call, "rounds": []}
    overdue = ledger_obligations(status="overdue", today=today)
    return {
        "calls": sorted(calls.values(), key=lambda c: c["call"].created_at, reverse=True),
        "todo": todo,
        "overdue": list(overdue.select_related("member_state", "round__call")[:10]),
        "overdue_totals": ledger_totals(overdue, today=today),
    }


def _round_todo(round_: Round, by_status: dict, missing: dict | None, unassigned: int, approved: bool, now) -> list:
    """The next steps of one round, most urgent first: each a kind (for the page's wording) and a count."""
    steps = []
    if by_status.get(RequestStatus.SUBMITTED):
        steps.append(("eligibility", by_status[RequestStatus.SUBMITTED]))
    if unassigned:
        steps.append(("assign", unassigned))
    if missing:
        steps.append(("reviews", missing["n"]))
        if missing["late"]:
            steps.append(("reviews_late", missing["late"]))
    if round_.status == RoundStatus.OPEN and round_.submission_deadline <= now:
        steps.append(("close", 0))
    waiting = by_status.get(RequestStatus.SUBMITTED, 0) + by_status.get(RequestStatus.ELIGIBLE, 0)
    if round_.status == RoundStatus.CLOSED and not waiting:
        steps.append(("solve", 0))
    if round_.status == RoundStatus.SOLVED:
        steps.append(("publish", 0) if approved else ("approve", 0))
    return [{"round": round_, "kind": kind, "count": count} for kind, count in steps]


def _pledged_h100e_hours_by_round() -> dict[int, Decimal]:
    """H100e-hours of confirmed pledges and published offers, by round."""
    hours = ExpressionWrapper(F("gpu_hours") * F("hardware__h100e"), output_field=DecimalField(max_digits=28,
                                                                                              decimal_places=5))
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for key, status in (("pledge", Pledge.Status.CONFIRMED), ("offer", Offer.Status.PUBLISHED)):
        rows = CapacityLot.objects.filter(**{f"{key}__status": status}).order_by().values(f"{key}__round_id").annotate(
            total=Sum(hours))
        for row in rows:
            totals[row[f"{key}__round_id"]] += row["total"] or ZERO
    return totals


def _open_assignments() -> QuerySet["ReviewAssignment"]:
    """Assignments whose reviewer has not scored the request yet."""
    done = Review.objects.filter(request_id=OuterRef("request_id"), reviewer_id=OuterRef("reviewer_id"))
    return ReviewAssignment.objects.filter(~Exists(done), request__status__in=REVIEWABLE_STATUSES)


REVIEWABLE_STATUSES = (RequestStatus.ELIGIBLE, RequestStatus.SCORED)


def eligibility_queue(round_: Round, *, status: str = "", sector: str = "", income_group: str = "",
                      query: str = "") -> QuerySet[ComputeRequest]:
    """The round's submitted requests and those already decided, oldest submission first, filtered."""
    requests = ComputeRequest.objects.filter(round=round_).exclude(
        status__in=[RequestStatus.DRAFT, RequestStatus.WITHDRAWN]
    ).select_related("member_state", "ministry").order_by("submitted_at", "id")
    if status == "decided":
        requests = requests.exclude(status=RequestStatus.SUBMITTED)
    elif status:
        requests = requests.filter(status=status)
    if sector:
        requests = requests.filter(sector=sector)
    if income_group:
        requests = requests.filter(member_state__income_group=income_group)
    if query:
        text = Q(title__icontains=query) | Q(member_state__name__icontains=query) | Q(member_state__iso3__iexact=query)
        if query.upper().startswith("R") and query[1:].isdigit():
            text |= Q(pk=int(query[1:]))
        requests = requests.filter(text)
    return requests


def reviewers() -> QuerySet:
    """The people who may be assigned reviews, with the number of reviews they still owe."""
    from django.contrib.auth import get_user_model

    done = Review.objects.filter(request_id=OuterRef("request_id"), reviewer_id=OuterRef("reviewer_id"))
    owed = ReviewAssignment.objects.filter(reviewer_id=OuterRef("pk"), request__status__in=REVIEWABLE_STATUSES).filter(
        ~Exists(done)).order_by().values("reviewer_id").annotate(n=Count("id")).values("n")
    return (
        get_user_model().objects.filter(membership__role=Role.REVIEWER, is_active=True)
        .select_related("membership__organisation")
        .annotate(owed=Coalesce(Subquery(owed, output_field=IntegerField()), 0))
        .order_by("last_name", "first_name", "username")
    )


def review_board(round_: Round, *, status: str = "") -> list[dict]:
    """Every eligible or scored request of the round with its assignments and the scores collected:
    mean, spread (highest minus lowest), and the reviews still missing."""
    requests = ComputeRequest.objects.filter(round=round_, status__in=REVIEWABLE_STATUSES).select_related(
        "member_state").prefetch_related(
        Prefetch("assignments", queryset=ReviewAssignment.objects.select_related("reviewer")),
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
    ).order_by("id")
    today = timezone.localdate()
    board = []
    for request in requests:
        reviews = {review.reviewer_id: review for review in request.reviews.all()}
        scores = [review.score for review in reviews.values()]
        assignments = [
            {"assignment": a, "review": reviews.get(a.reviewer_id), "late": a.reviewer_id not in reviews
             and a.due_date < today}
            for a in request.assignments.all()
        ]
        assigned = {a.reviewer_id for a in request.assignments.all()}
        row = {
            "request": request,
            "assignments": assignments,
            "unassigned_reviews": [review for reviewer_id, review in reviews.items() if reviewer_id not in assigned],
            "count": len(scores),
            "mean": sum(scores) / len(scores) if scores else None,
            "spread": max(scores) - min(scores) if scores else None,
            "missing": sum(1 for a in assignments if a["review"] is None),
        }
        if status == "missing" and not row["missing"]:
            continue
        if status == "unassigned" and assignments:
            continue
        if status == "unscored" and scores:
            continue
        board.append(row)
    return board


def assignments_of(user) -> list[dict]:
    """A reviewer's assignments, those still to do first (by due date), each with its review if done."""
    assignments = ReviewAssignment.objects.filter(reviewer=user).select_related(
        "request__member_state", "request__round__call").order_by("due_date", "request_id")
    reviews = {r.request_id: r for r in Review.objects.filter(reviewer=user)}
    today = timezone.localdate()
    rows = [{"assignment": a, "request": a.request, "review": reviews.get(a.request_id),
             "late": a.request_id not in reviews and a.due_date < today,
             "open": a.request_id not in reviews and a.request.status in REVIEWABLE_STATUSES}
            for a in assignments]
    return sorted(rows, key=lambda row: not row["open"])


def assignment_access(user, request_id) -> "ReviewAssignment":
    """The person's own assignment to review a request, or 404: a reviewer reads only what is assigned."""
    assignments = ReviewAssignment.objects.select_related(
        "request__member_state", "request__round__call", "request__ministry"
    ).filter(reviewer_id=getattr(user, "pk", None))
    try:
        return assignments.get(request_id=request_id)
    except (ReviewAssignment.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No review of request {request_id!r} is assigned to you.") from None


def review_assignment_access(user, assignment_id) -> "ReviewAssignment":
    queryset = ReviewAssignment.objects.select_related("request__round", "reviewer")
    return _get_or_404(queryset if is_secretariat(user) else queryset.none(), assignment_id)


def succeeded_runs(round_: Round) -> QuerySet[AllocationRun]:
    return round_.runs.filter(status=AllocationRun.Status.SUCCEEDED).order_by("created_at", "id")


def _flatten(policy: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in (policy or {}).items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def policy_differences(policy_a: dict, policy_b: dict) -> list[dict]:
    """Every policy value that differs between two policies, as dotted keys (``income_weights.LIC``);
    a value absent on one side is None there."""
    flat_a, flat_b = _flatten(policy_a), _flatten(policy_b)
    return [{"key": key, "a": flat_a.get(key), "b": flat_b.get(key)}
            for key in sorted(set(flat_a) | set(flat_b)) if flat_a.get(key) != flat_b.get(key)]


COMPARISON_SORTS = {
    "change": lambda row: (-(abs(row["diff"]) if row["diff"] is not None else 2), row["request"].pk),
    "diff": lambda row: (row["diff"] if row["diff"] is not None else 2, row["request"].pk),
    "-diff": lambda row: (-(row["diff"] if row["diff"] is not None else -2), row["request"].pk),
    "state": lambda row: (row["request"].member_state.name, row["request"].pk),
    "income_group": lambda row: (INCOME_ORDER.get(row["income_group"], 9), row["request"].pk),
    "a": lambda row: (row["a"].fulfilment if row["a"] else -1, row["request"].pk),
    "b": lambda row: (row["b"].fulfilment if row["b"] else -1, row["request"].pk),
    "request": lambda row: row["request"].pk,
}
INCOME_ORDER = {group: index for index, group in enumerate(IncomeGroup.values)}


def run_comparison(run_a: AllocationRun, run_b: AllocationRun, *, sort: str = "change") -> dict:
    """Two runs of a round side by side: per request (fulfilment a and b, difference), per state and per
    income group (allocated and fulfilment), the policy values that differ, and how the rest of the two
    scenarios differ (requests, lots, cash)."""
    results_a = {r.request_id: r for r in run_a.results.all()}
    results_b = {r.request_id: r for r in run_b.results.all()}
    requests = ComputeRequest.objects.filter(pk__in=set(results_a) | set(results_b)).select_related("member_state")
    rows = []
    for request in requests:
        a, b = results_a.get(request.pk), results_b.get(request.pk)
        rows.append({
            "request": request,
            "income_group": (a or b).income_group or request.member_state.income_group,
            "a": a,
            "b": b,
            "diff": b.fulfilment - a.fulfilment if a and b else None,
            "hours_diff": b.allocated_h100e_hours - a.allocated_h100e_hours if a and b else None,
            "a_pct": 100 * a.fulfilment if a else None,
            "b_pct": 100 * b.fulfilment if b else None,
            "diff_pp": 100 * (b.fulfilment - a.fulfilment) if a and b else None,
        })
    rows.sort(key=COMPARISON_SORTS.get(sort, COMPARISON_SORTS["change"]))
    scenario_a, scenario_b = run_a.scenario or {}, run_b.scenario or {}
    lots_a = {lot["id"]: lot for lot in scenario_a.get("lots", [])}
    lots_b = {lot["id"]: lot for lot in scenario_b.get("lots", [])}
    requests_a = {r["id"]: r for r in scenario_a.get("requests", [])}
    requests_b = {r["id"]: r for r in scenario_b.get("requests", [])}
    return {
        "rows": rows,
        "changed": sum(1 for row in rows if row["diff"] is not None and abs(row["diff"]) >= 0.0005),
        "by_state": _comparison_totals(rows, lambda row: row["request"].member_state),
        "by_income_group": _comparison_totals(rows, lambda row: row["income_group"],
                                              order=lambda key: INCOME_ORDER.get(key, 9)),
        "policy": policy_differences(scenario_a.get("policy", {}), scenario_b.get("policy", {})),
        "same_scenario": run_a.scenario_sha256 == run_b.scenario_sha256,
        "requests_only_a": sorted(set(requests_a) - set(requests_b), key=lambda i: int(i[1:])),
        "requests_only_b": sorted(set(requests_b) - set(requests_a), key=lambda i: int(i[1:])),
        "requests_rescored": sorted((i for i in set(requests_a) & set(requests_b)
                                     if requests_a[i].get("score") != requests_b[i].get("score")),
                                    key=lambda i: int(i[1:])),
        "lots_changed": lots_a != lots_b,
        "cash_a": scenario_a.get("cash_usd"),
        "cash_b": scenario_b.get("cash_usd"),
    }


def _comparison_totals(rows: list[dict], key, order=None) -> list[dict]:
    totals: dict = {}
    for row in rows:
        group = totals.setdefault(key(row), {"key": key(row), "requests": 0, "requested": 0.0, "a": 0.0, "b": 0.0,
                                             "cofinancing_a": ZERO, "cofinancing_b": ZERO})
        group["requests"] += 1
        group["requested"] += float(row["request"].h100e_hours)
        if row["a"]:
            group["a"] += row["a"].allocated_h100e_hours
            group["cofinancing_a"] += row["a"].cofinancing_usd
        if row["b"]:
            group["b"] += row["b"].allocated_h100e_hours
            group["cofinancing_b"] += row["b"].cofinancing_usd
    for group in totals.values():
        group["fulfilment_a"] = group["a"] / group["requested"] if group["requested"] else 0.0
        group["fulfilment_b"] = group["b"] / group["requested"] if group["requested"] else 0.0
        group["diff"] = group["fulfilment_b"] - group["fulfilment_a"]
        group["hours_diff"] = group["b"] - group["a"]
        group["a_pct"], group["b_pct"] = 100 * group["fulfilment_a"], 100 * group["fulfilment_b"]
        group["diff_pp"] = 100 * group["diff"]
    ordered = sorted(totals.values(), key=lambda g: order(g["key"]) if order else (-abs(g["diff"]), str(g["key"])))
    return ordered


def ledger_obligations(*, round_id=None, iso3: str = "", status: str = "", today: datetime.date | None = None
                       ) -> QuerySet[CofinancingObligation]:
    """What member states owe: the obligations of the approved run of each published round (those of runs
    that were not approved were never owed), filtered by round, state and status (due, overdue, paid)."""
    today = today or timezone.localdate()
    obligations = CofinancingObligation.objects.filter(
        run__is_approved=True, round__status=RoundStatus.PUBLISHED
    ).select_related("member_state", "round__call").order_by("due_date", "member_state__name", "id")
    if round_id:
        obligations = obligations.filter(round_id=round_id)
    if iso3:
        obligations = obligations.filter(member_state__iso3=iso3.upper())
    paid = Q(paid_usd__gte=F("amount_usd"))
    if status == "paid":
        obligations = obligations.filter(paid)
    elif status == "overdue":
        obligations = obligations.exclude(paid).filter(due_date__lt=today)
    elif status == "due":
        obligations = obligations.exclude(paid).filter(due_date__gte=today)
    return obligations


def ledger_totals(obligations: QuerySet[CofinancingObligation], *, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    outstanding = ExpressionWrapper(F("amount_usd") - F("paid_usd"), output_field=DecimalField(max_digits=16,
                                                                                              decimal_places=2))
    totals = obligations.order_by().aggregate(
        count=Count("id"),
        amount=Coalesce(Sum("amount_usd"), ZERO, output_field=DecimalField(max_digits=16, decimal_places=2)),
        paid=Coalesce(Sum("paid_usd"), ZERO, output_field=DecimalField(max_digits=16, decimal_places=2)),
        overdue=Coalesce(Sum(outstanding, filter=Q(due_date__lt=today, paid_usd__lt=F("amount_usd"))), ZERO,
                         output_field=DecimalField(max_digits=16, decimal_places=2)),
        overdue_count=Count("id", filter=Q(due_date__lt=today, paid_usd__lt=F("amount_usd"))),
    )
    totals["outstanding"] = totals["amount"] - totals["paid"]
    return totals


def ledger_obligation_access(user, obligation_id) -> CofinancingObligation:
    """One obligation of the ledger, for the secretariat only."""
    queryset = ledger_obligations().select_related("member_state", "round__call")
    return _get_or_404(queryset if is_secretariat(user) else queryset.none(), obligation_id)


def run_summary(run: AllocationRun) -> dict:
    """A run's figures for the secretariat's approval: requests served, hours, fulfilment, co-financing."""
    results = run.results.order_by()
    totals = results.aggregate(
        requests=Count("id"),
        served=Count("id", filter=Q(allocated_h100e_hours__gt=0)),
        deferred=Count("id", filter=Q(deferred=True)),
        hours=Coalesce(Sum("allocated_h100e_hours"), 0.0),
        cofinancing=Coalesce(Sum("cofinancing_usd"), ZERO, output_field=DecimalField(max_digits=16,
                                                                                    decimal_places=2)),
        subsidy=Coalesce(Sum("subsidy_usd"), ZERO, output_field=DecimalField(max_digits=16, decimal_places=2)),
    )
    requested = ComputeRequest.objects.filter(results__run=run).order_by().aggregate(
        total=Coalesce(Sum("h100e_hours"), ZERO))["total"]
    totals["requested"] = requested
    totals["fulfilment"] = totals["hours"] / float(requested) if requested else None
    return totals

# --- Ministry portal ----------------------------------------------------------------------------
# A ministry officer's view of its own state: requests by round, open rounds, awards waiting for an
# answer, each request's published outcome and the state's co-financing.


def ministry_access(user) -> Organisation:
    """The ministry on whose behalf ``user`` acts, or PermissionDenied (the portal has no other reader)."""
    membership = membership_of(user)
    if membership is None or membership.role != Role.MINISTRY_OFFICER:
        raise PermissionDenied("Only ministry officers of member states have a ministry portal.")
    return membership.organisation


def ministry_request_access(user, request_id) -> ComputeRequest:
    """One of the officer's own state's requests: PermissionDenied for other roles, 404 for another
    state's request (its existence is not revealed)."""
    ministry_access(user)
    return request_access(user, request_id)


def published_results() -> QuerySet[RequestResult]:
    """Results of the approved run of published rounds: what ministries are told."""
    return RequestResult.objects.filter(run__is_approved=True, run__round__status=RoundStatus.PUBLISHED).select_related(
        "run"
    )


def ministry_requests(user) -> QuerySet[ComputeRequest]:
    """The state's requests, newest round first, each with its published result (if any) prefetched as
    ``published_results``."""
    return requests_visible_to(user).prefetch_related(
        Prefetch("results", queryset=published_results(), to_attr="published_results")
    ).order_by("-round__opens_at", "-round__number", "-created_at", "-id")


def rounds_open_for_requests(now=None) -> QuerySet[Round]:
    """Rounds taking requests now: open, and before their submission deadline."""
    now = now or timezone.now()
    return Round.objects.select_related("call").filter(
        status=RoundStatus.OPEN, opens_at__lte=now, submission_deadline__gt=now
    ).order_by("submission_deadline", "id")


def open_round_access(user, round_id) -> Round:
    """A round the officer can draft a request in now (404 otherwise)."""
    ministry_access(user)
    return _get_or_404(rounds_open_for_requests(), round_id)


def awards_awaiting_answer(user) -> QuerySet[ComputeRequest]:
    return ministry_requests(user).filter(status=RequestStatus.ALLOCATED, round__status=RoundStatus.PUBLISHED)


def round_capacity(round_: Round) -> list[dict]:
    """The capacity of a round by hardware and region (h100e-hours), to help a ministry choose its
    acceptable hardware and data residency: ``[{hardware, region, region_label, h100e_hours}]``."""
    from allocation.scenario import lots_of_round

    rows: dict[tuple, Decimal] = {}
    names = {}
    for lot in lots_of_round(round_).select_related("hardware"):
        key = (lot.hardware.key, lot.region)
        names[lot.hardware.key] = lot.hardware.name
        rows[key] = rows.get(key, Decimal("0")) + lot.h100e_hours
    return [
        {"hardware": hw, "hardware_name": names[hw], "region": region, "region_label": Region(region).label,
         "h100e_hours": hours}
        for (hw, region), hours in sorted(rows.items(), key=lambda item: (-item[1], item[0]))
    ]


def _policy_for_share(state: MemberState) -> tuple[dict, Round | None]:
    """The policy whose co-financing parameters apply to the state now: the soonest open round's, else
    the latest published round's, else the alliance's default."""
    current = rounds_open_for_requests().first() or Round.objects.filter(status=RoundStatus.PUBLISHED).order_by(
        "-published_at"
    ).first()
    return (current.policy, current) if current else (settings.GACP["DEFAULT_POLICY"], None)


def cofinancing_share_of(state: MemberState, policy: dict) -> float:
    """The share of the value received that the state co-finances under ``policy`` (the contract's rule,
    computed by the engine's own function)."""
    from allocation.solver.model import Cofinancing, Country, Policy
    from allocation.solver.rules import cofinancing_share

    fields = {name for name in Cofinancing.__dataclass_fields__}
    cofinancing = Cofinancing(**{k: float(v) for k, v in policy.get("cofinancing", {}).items() if k in fields})
    country = Country(iso3=state.iso3, income_group=state.income_group, region=state.region,
                      cofinancing_phase=state.cofinancing_phase, years_in_phase=float(state.years_in_phase),
                      budget_usd=None)
    return cofinancing_share(country, Policy(cofinancing=cofinancing))


def state_cofinancing(state: MemberState, today=None) -> dict:
    """The state's co-financing: phase, years in it, the share it pays now, and its obligations with
    what is owed, paid, outstanding and overdue."""
    today = today or timezone.localdate()
    policy, policy_round = _policy_for_share(state)
    obligations = list(
        CofinancingObligation.objects.filter(member_state=state, run__is_approved=True,
                                             round__status=RoundStatus.PUBLISHED)
        .select_related("round__call").order_by("due_date", "id")
    )
    rows = [{"obligation": o, "outstanding_usd": o.outstanding_usd, "share_pct": round(o.share * 100, 4),
             "overdue": o.outstanding_usd > 0 and o.due_date < today} for o in obligations]
    share = cofinancing_share_of(state, policy)
    return {
        "state": state,
        "phase": state.get_cofinancing_phase_display(),
        "phase_code": state.cofinancing_phase,
        "years_in_phase": state.years_in_phase,
        "share": share,
        "share_pct": round(share * 100, 4),
        "policy_round": policy_round,
        "obligations": rows,
        "owed_usd": sum((o.amount_usd for o in obligations), Decimal("0")),
        "paid_usd": sum((o.paid_usd for o in obligations), Decimal("0")),
        "outstanding_usd": sum((r["outstanding_usd"] for r in rows), Decimal("0")),
        "overdue_usd": sum((r["outstanding_usd"] for r in rows if r["overdue"]), Decimal("0")),
    }


def request_outcome(compute_request: ComputeRequest) -> dict | None:
    """What the published decision gave a request: its result, allocation lines (lot, provider,
    hardware, region), the state's obligation for the round and the explanation in plain words. None
    before the round is published (or when the request took no part in the decision)."""
    from allocation.explanations import explain_result

    result = published_results().filter(request=compute_request).first()
    if result is None:
        return None
    lines = list(
        AllocationLine.objects.filter(run=result.run, request=compute_request)
        .select_related("lot__hardware", "lot__provider").order_by("-h100e_hours", "lot_id")
    )
    obligation = CofinancingObligation.objects.filter(run=result.run, member_state=compute_request.member_state).first()
    share = obligation.share if obligation else None
    if share is None:
        country = next((c for c in (result.run.output or {}).get("countries", [])
                        if c.get("iso3") == compute_request.member_state.iso3), None)
        share = Decimal(repr(country["cofinancing_share"])) if country else None
    return {
        "result": result,
        "run": result.run,
        "lines": lines,
        "gpu_hours": sum((line.gpu_hours for line in lines), Decimal("0")),
        "obligation": obligation,
        "share": share,
        "explanation": explain_result(result),
    }


# --- Appeals ------------------------------------------------------------------------------------


def appeals_visible_to(user) -> QuerySet[Appeal]:
    """A ministry officer sees its own state's appeals; the secretariat sees all; nobody else sees any."""
    appeals = Appeal.objects.select_related("request__round__call", "request__member_state", "lodged_by",
                                            "answered_by")
    if is_secretariat(user):
        return appeals
    membership = membership_of(user)
    if membership is not None and membership.role == Role.MINISTRY_OFFICER:
        return appeals.filter(request__member_state_id=membership.organisation.member_state_id)
    return appeals.none()


def appeal_access(user, appeal_id) -> Appeal:
    return _get_or_404(appeals_visible_to(user), appeal_id)


def secretariat_access(user) -> None:
    """PermissionDenied unless ``user`` is the secretariat (its officers and superusers)."""
    if not is_secretariat(user):
        raise PermissionDenied(gettext("Only the secretariat may open this page."))


APPEAL_QUEUES = {
    "open": Appeal.OPEN_STATUSES,
    "answered": Appeal.ANSWERED_STATUSES,
    "withdrawn": (Appeal.Status.WITHDRAWN,),
}


def appeals_queue(user, queue: str = "open") -> QuerySet[Appeal]:
    """The secretariat's queue: open appeals oldest first (answered and withdrawn ones newest first)."""
    secretariat_access(user)
    appeals = appeals_visible_to(user)
    if queue == "open":
        return appeals.filter(status__in=APPEAL_QUEUES["open"]).order_by("lodged_at", "id")
    if queue in APPEAL_QUEUES:
        return appeals.filter(status__in=APPEAL_QUEUES[queue]).order_by("-answered_at", "-lodged_at", "-id")
    return appeals.order_by("-lodged_at", "-id")
