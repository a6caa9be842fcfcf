"""Reads of the allocation app, and the one visibility rule shared by pages and API.

``*_visible_to(user)`` return querysets of what a person may see; ``*_access(user, id)`` return one
object or raise ``Http404`` (a person never learns that another state's object exists).
"""
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from allocation.models import (
    AllocationLine,
    AllocationRun,
    CapacityLot,
    ComputeRequest,
    Offer,
    Pledge,
    Review,
    Round,
    RoundStatus,
    Sector,
)
from members.models import Membership, Organisation, OrganisationKind, Role


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

ZERO = Decimal("0")
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
