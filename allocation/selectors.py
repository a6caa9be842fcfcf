"""Reads of the allocation app, and the one visibility rule shared by pages and API.

``*_visible_to(user)`` return querysets of what a person may see; ``*_access(user, id)`` return one
object or raise ``Http404`` (a person never learns that another state's object exists).
"""
import datetime
from collections import defaultdict
from decimal import Decimal

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

from allocation.models import (
    ZERO,
    AllocationLine,
    AllocationRun,
    Call,
    CapacityLot,
    CofinancingObligation,
    ComputeRequest,
    Offer,
    Pledge,
    RequestStatus,
    Review,
    ReviewAssignment,
    Round,
    RoundStatus,
)
from members.models import IncomeGroup, Membership, Role


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
