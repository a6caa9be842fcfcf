"""Reads of the allocation app, and the one visibility rule shared by pages and API.

``*_visible_to(user)`` return querysets of what a person may see; ``*_access(user, id)`` return one
object or raise ``Http404`` (a person never learns that another state's object exists).
"""
from django.db.models import Prefetch, QuerySet
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
)
from members.models import Membership, Role


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
