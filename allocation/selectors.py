"""Reads of the allocation app, and the one visibility rule shared by pages and API.

``*_visible_to(user)`` return querysets of what a person may see; ``*_access(user, id)`` return one
object or raise ``Http404`` (a person never learns that another state's object exists).
"""
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from allocation.models import (
    AllocationLine,
    AllocationRun,
    Appeal,
    CapacityLot,
    CofinancingObligation,
    ComputeRequest,
    Offer,
    Pledge,
    RequestResult,
    RequestStatus,
    Review,
    Round,
    RoundStatus,
)
from members.models import Membership, MemberState, Organisation, Region, Role


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
        raise PermissionDenied("Only the secretariat may open this page.")


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
