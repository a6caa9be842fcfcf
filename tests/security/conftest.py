"""The world the permission matrix and the fuzzers act on: objects of every kind, owned by state A
(Kenya), state B (Nepal), the donor and the provider of the cast, in each state of their lives."""
import datetime
from decimal import Decimal

import pytest


@pytest.fixture(autouse=True)
def _fresh_throttles():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _solved_round(ministries, donor_org, provider_org, reviewer, secretariat, capture):
    """A closed round with one donated lot and a scored request of each ministry, solved and approved."""
    from allocation import services
    from allocation.models import RequestStatus, RoundStatus
    from tests import factories

    round_ = factories.RoundFactory(status=RoundStatus.CLOSED)
    h100 = factories.HardwareTypeFactory()
    pledge = factories.PledgeFactory(donor=donor_org, round=round_)
    factories.CapacityLotFactory(pledge=pledge, provider=provider_org, hardware=h100, gpu_hours=Decimal("1000"))
    requests = []
    for ministry in ministries:
        request = factories.ComputeRequestFactory(round=round_, ministry=ministry, h100e_hours=Decimal("600"),
                                                  status=RequestStatus.SCORED, score=Decimal("0.8"),
                                                  acceptable_hardware=[h100])
        factories.ReviewFactory(request=request, reviewer=reviewer, score=Decimal("0.8"))
        requests.append(request)
    with capture(execute=True):
        run = services.round_enqueue_solve(round_=round_, user=secretariat)
    run.refresh_from_db()
    services.run_approve(run=run, user=secretariat)
    return round_, run, requests


@pytest.fixture
def world(db, eager_celery, django_capture_on_commit_callbacks, state_a, state_b, ministry_a, ministry_b,
          donor_org, provider_org, ministry_officer_a, ministry_officer_b, donor_officer, provider_officer,
          reviewer, secretariat_officer):
    from types import SimpleNamespace

    from django.utils import timezone

    from allocation import services
    from allocation.models import AllocationLine, CofinancingObligation, Pledge, RequestStatus, RoundStatus
    from tests import factories

    w = SimpleNamespace(state_a=state_a, state_b=state_b, donor_org=donor_org, provider_org=provider_org,
                        reviewer=reviewer)
    w.h100 = factories.HardwareTypeFactory()
    # published: its run, results and obligations are public; its requests wait for their ministry's answer,
    # and state A appealed the decision on one of them; the donor's pledge went to its lines, which await the
    # provider's answer on their feasibility
    w.published, w.published_run, (w.award_a, w.award_b, w.appealed_a) = _solved_round(
        [ministry_a, ministry_b, ministry_a], donor_org, provider_org, reviewer, secretariat_officer,
        django_capture_on_commit_callbacks)
    services.round_publish(round_=w.published, user=secretariat_officer)
    w.review = w.award_a.reviews.get()
    w.obligation = CofinancingObligation.objects.filter(member_state=state_a, round=w.published).get()
    w.appeal = services.appeal_lodge(user=ministry_officer_a, request=w.appealed_a,
                                     reasons="The lots in our region were left partly unused.")
    w.published_pledge = Pledge.objects.get(round=w.published)
    w.line = AllocationLine.objects.filter(run=w.published_run, request=w.award_a).first()
    # solved and approved, not yet published
    w.solved, w.solved_run, _ = _solved_round([ministry_a], donor_org, provider_org, reviewer, secretariat_officer,
                                              django_capture_on_commit_callbacks)
    # closed, ready to solve; another closed one to reopen
    w.ready = factories.RoundFactory(status=RoundStatus.CLOSED)
    pledge = factories.PledgeFactory(donor=donor_org, round=w.ready)
    factories.CapacityLotFactory(pledge=pledge, provider=provider_org, hardware=w.h100)
    factories.ComputeRequestFactory(round=w.ready, ministry=ministry_a, status=RequestStatus.SCORED,
                                    score=Decimal("0.5"), acceptable_hardware=[w.h100])
    w.closed = factories.RoundFactory(status=RoundStatus.CLOSED)
    # open: drafts of each state, a submitted and an eligible request of state A, a pledge and an offer
    w.open = factories.RoundFactory(status=RoundStatus.OPEN)
    w.draft_a = services.request_create(user=ministry_officer_a, round_=w.open, acceptable_hardware=[w.h100],
                                        title="Triage notes in Swahili", abstract="A", sector="health",
                                        h100e_hours=Decimal("100"))
    w.draft_b = services.request_create(user=ministry_officer_b, round_=w.open, acceptable_hardware=[w.h100],
                                        title="Nepali speech", abstract="B", sector="language",
                                        h100e_hours=Decimal("100"))
    w.submitted_a = factories.ComputeRequestFactory(round=w.open, ministry=ministry_a, status=RequestStatus.SUBMITTED,
                                                    acceptable_hardware=[w.h100])
    w.eligible_a = factories.ComputeRequestFactory(round=w.open, ministry=ministry_a, status=RequestStatus.ELIGIBLE,
                                                   acceptable_hardware=[w.h100])
    w.unassigned_a = factories.ComputeRequestFactory(round=w.open, ministry=ministry_a,
                                                     status=RequestStatus.ELIGIBLE, acceptable_hardware=[w.h100])
    # the reviewer is asked to score the eligible request (not yet the other one)
    (w.assignment,) = services.review_assign(user=secretariat_officer, requests=[w.eligible_a], reviewer=reviewer,
                                             due_date=timezone.localdate() + datetime.timedelta(days=14))
    w.pledge = services.pledge_create(user=donor_officer, round_=w.open, kind="cash", cash_usd=Decimal("1000"))
    w.offer = services.offer_create(user=provider_officer, round_=w.open, lots=[{
        "hardware": w.h100, "region": "SSA", "gpu_hours": Decimal("100"), "available_from": datetime.date(2026, 1, 1),
        "available_until": datetime.date(2026, 6, 30), "value_usd_per_gpu_hour": Decimal("2"),
        "price_usd_per_gpu_hour": Decimal("2.5")}])
    w.users = {"anonymous": None, "ministry_a": ministry_officer_a, "ministry_b": ministry_officer_b,
               "donor": donor_officer, "provider": provider_officer, "reviewer": reviewer,
               "secretariat": secretariat_officer}
    return w
