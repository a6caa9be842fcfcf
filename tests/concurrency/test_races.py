"""Two people (or two workers) doing the same thing at the same moment: the database ends as if one of
them had done it alone. Every state change here takes a row lock or a compare-and-set; these tests
would fail (double acceptance, two runs, a deadlock, a lost update) without them."""
import datetime
import threading
from decimal import Decimal

import pytest

from tests.concurrency.conftest import run_together, unexpected

pytestmark = [pytest.mark.integration]

THREADS = 8


def _solve(round_, no_dispatch):
    from allocation import services

    run = services.round_enqueue_solve(round_=round_)
    return services.run_execute(run_id=run.id)


@pytest.fixture
def published_round(postgres, small_round, no_dispatch):
    from allocation import services

    run = _solve(small_round, no_dispatch)
    services.run_approve(run=run)
    services.round_publish(round_=small_round)
    return small_round


def test_concurrent_answers_to_one_award_record_exactly_one(published_round, ministry_officer_a):
    from allocation import services
    from allocation.exceptions import InvalidTransition
    from allocation.models import ComputeRequest, RequestStatus

    kenya = published_round.test_requests[0]
    assert ComputeRequest.objects.get(pk=kenya.pk).status == RequestStatus.ALLOCATED
    actions = [
        (lambda: services.allocation_accept(user=ministry_officer_a, request=kenya)) if i % 2 == 0
        else (lambda: services.allocation_decline(user=ministry_officer_a, request=kenya))
        for i in range(THREADS)
    ]

    outcomes = run_together(actions)

    assert unexpected(outcomes, InvalidTransition) == []
    winners = [o.value for o in outcomes if o.ok]
    assert len(winners) == 1
    final = ComputeRequest.objects.get(pk=kenya.pk)
    assert final.status == winners[0].status
    assert final.status in (RequestStatus.ACCEPTED, RequestStatus.DECLINED)


def test_concurrent_acceptances_of_one_award_accept_it_once(published_round, ministry_officer_a):
    from allocation import services
    from allocation.exceptions import InvalidTransition
    from allocation.models import ComputeRequest, RequestStatus

    kenya = published_round.test_requests[0]
    outcomes = run_together([lambda: services.allocation_accept(user=ministry_officer_a, request=kenya)] * THREADS)

    assert unexpected(outcomes, InvalidTransition) == []
    assert sum(o.ok for o in outcomes) == 1
    assert ComputeRequest.objects.get(pk=kenya.pk).status == RequestStatus.ACCEPTED
    refusals = {o.error.message for o in outcomes if not o.ok}
    assert refusals == {"The award was already accepted."}


def test_concurrent_approvals_of_different_runs_leave_exactly_one_approved(postgres, small_round, no_dispatch):
    """Each thread approves another run of the same round, one of them already the approved one: the
    approvals serialise on the round (no deadlock between the run locks) and one run stays approved."""
    from allocation import services
    from allocation.models import AllocationRun, Round, RoundStatus

    runs = [_solve(small_round, no_dispatch) for _ in range(THREADS)]
    services.run_approve(run=runs[0])

    outcomes = run_together([lambda run=run: services.run_approve(run=run) for run in runs])

    assert unexpected(outcomes) == []
    approved = list(AllocationRun.objects.filter(round=small_round, is_approved=True))
    assert len(approved) == 1
    assert Round.objects.get(pk=small_round.pk).status == RoundStatus.SOLVED


def test_concurrent_publications_publish_a_round_once(postgres, small_round, no_dispatch):
    from allocation import services
    from allocation.exceptions import InvalidTransition
    from allocation.models import ComputeRequest, RequestStatus, Round, RoundStatus

    run = _solve(small_round, no_dispatch)
    services.run_approve(run=run)

    outcomes = run_together([lambda: services.round_publish(round_=small_round)] * THREADS)

    assert unexpected(outcomes, InvalidTransition) == []
    winners = [o.value for o in outcomes if o.ok]
    assert len(winners) == 1
    round_ = Round.objects.get(pk=small_round.pk)
    assert round_.status == RoundStatus.PUBLISHED
    assert round_.published_at == winners[0].published_at  # stamped once, by the one publication
    statuses = set(ComputeRequest.objects.filter(round=small_round).values_list("status", flat=True))
    assert statuses == {RequestStatus.ALLOCATED}


def test_concurrent_solve_clicks_start_one_run(postgres, small_round, no_dispatch):
    from allocation import services
    from allocation.exceptions import InvalidTransition
    from allocation.models import AllocationRun, Round, RoundStatus

    outcomes = run_together([lambda: services.round_enqueue_solve(round_=small_round)] * THREADS)

    assert unexpected(outcomes, InvalidTransition) == []
    assert sum(o.ok for o in outcomes) == 1
    runs = list(AllocationRun.objects.filter(round=small_round))
    assert len(runs) == 1
    assert no_dispatch == [runs[0].id]  # handed to the queue once
    assert Round.objects.get(pk=small_round.pk).status == RoundStatus.SOLVING


def test_duplicate_deliveries_of_one_run_store_its_lines_once(postgres, small_round, no_dispatch):
    """The same run executed by several workers at once (a redelivered task while the first still runs):
    one set of lines, results and obligations, and no lot given more than it holds."""
    from django.db.models import Sum

    from allocation import services
    from allocation.models import (
        AllocationLine,
        AllocationRun,
        CapacityLot,
        CofinancingObligation,
        RequestResult,
        Round,
        RoundStatus,
    )

    run = services.round_enqueue_solve(round_=small_round)
    outcomes = run_together([lambda: services.run_execute(run_id=run.id)] * 4)

    assert unexpected(outcomes) == []
    run.refresh_from_db()
    assert run.status == AllocationRun.Status.SUCCEEDED
    assert AllocationLine.objects.filter(run=run).count() == 2  # Kenya and Nepal, one lot
    assert RequestResult.objects.filter(run=run).count() == 2
    assert CofinancingObligation.objects.filter(run=run).count() == 2
    assert Round.objects.get(pk=small_round.pk).status == RoundStatus.SOLVED
    for lot in CapacityLot.objects.filter(allocation_lines__run=run).distinct():
        given = AllocationLine.objects.filter(run=run, lot=lot).aggregate(total=Sum("gpu_hours"))["total"]
        assert given <= lot.gpu_hours


def test_concurrent_payments_never_exceed_what_is_owed(published_round):
    """Eight payments of US$300 race against an obligation: only as many as fit are recorded."""
    from django.core.exceptions import ValidationError

    from allocation import services
    from allocation.models import CofinancingObligation

    obligation = CofinancingObligation.objects.filter(round=published_round).order_by("id").first()
    CofinancingObligation.objects.filter(pk=obligation.pk).update(amount_usd=Decimal("1000.00"))
    outcomes = run_together([
        lambda: services.obligation_record_payment(obligation=obligation, amount_usd=Decimal("300"),
                                                   paid_on=datetime.date(2026, 7, 1))
    ] * THREADS)

    assert unexpected(outcomes, ValidationError) == []
    assert sum(o.ok for o in outcomes) == 3
    obligation.refresh_from_db()
    assert obligation.paid_usd == Decimal("900.00")


def test_concurrent_reviews_of_one_request_keep_every_score_in_its_mean(postgres, ministry_a, secretariat_org):
    """Reviewers scoring the same request at once: the request's score is the mean of all their reviews
    (no review lost to another's update)."""
    from allocation import services
    from allocation.models import ComputeRequest, RequestStatus, Review
    from members.models import Role
    from tests import factories

    request = factories.ComputeRequestFactory(ministry=ministry_a, status=RequestStatus.ELIGIBLE)
    reviewers = [
        factories.MembershipFactory(organisation=secretariat_org, role=Role.REVIEWER).user for _ in range(THREADS)
    ]
    scores = [Decimal("0.1") * (i + 1) for i in range(THREADS)]

    outcomes = run_together([
        lambda user=user, score=score: services.review_submit(user=user, request=request, score=score)
        for user, score in zip(reviewers, scores, strict=True)
    ])

    assert unexpected(outcomes) == []
    assert Review.objects.filter(request=request).count() == THREADS
    final = ComputeRequest.objects.get(pk=request.pk)
    assert final.score == (sum(scores) / THREADS).quantize(Decimal("0.001"))
    assert final.status == RequestStatus.SCORED


def test_one_reviewer_submitting_twice_at_once_records_one_review(postgres, ministry_a, reviewer):
    from allocation import services
    from allocation.exceptions import InvalidTransition
    from allocation.models import RequestStatus, Review
    from tests import factories

    request = factories.ComputeRequestFactory(ministry=ministry_a, status=RequestStatus.ELIGIBLE)
    outcomes = run_together(
        [lambda: services.review_submit(user=reviewer, request=request, score=Decimal("0.5"))] * THREADS
    )

    assert unexpected(outcomes, InvalidTransition) == []
    assert Review.objects.filter(request=request).count() == 1


def test_concurrent_budget_settings_for_one_state_keep_one_budget(postgres, small_round, state_a):
    from allocation import services
    from allocation.models import CountryBudget

    amounts = [Decimal(1000 * (i + 1)) for i in range(THREADS)]
    outcomes = run_together([
        lambda amount=amount: services.country_budget_set(round_=small_round, member_state=state_a,
                                                          budget_usd=amount)
        for amount in amounts
    ])

    assert unexpected(outcomes) == []  # no IntegrityError from two inserts of the same budget
    budgets = list(CountryBudget.objects.filter(round=small_round, member_state=state_a))
    assert len(budgets) == 1
    assert budgets[0].budget_usd in amounts


# --- A change racing a round's transition -------------------------------------------------------------


class Paused:
    """Holds a service inside its transaction at a chosen point until the other side has had its chance.

    ``reached`` is set when the paused thread gets there; the thread then waits for ``go`` (or gives up
    after ``patience`` seconds: when the other side is correctly blocked by a lock, it never says go)."""

    def __init__(self, patience: float = 3.0):
        self.reached = threading.Event()
        self.go = threading.Event()
        self.patience = patience

    def __call__(self):
        self.reached.set()
        self.go.wait(self.patience)


def test_a_withdrawal_racing_a_solve_never_leaves_a_withdrawn_request_in_the_run(
    postgres, small_round, ministry_officer_a, no_dispatch, monkeypatch
):
    """The solve has frozen the scenario but not yet committed; the ministry withdraws one of its requests
    now. The withdrawal must wait for the solve and then be refused (the round is being allocated), never
    succeed while the frozen scenario still holds the request."""
    from allocation import scenario as scenario_doc
    from allocation import services
    from allocation.exceptions import InvalidTransition
    from allocation.models import AllocationRun, ComputeRequest, RequestStatus

    kenya = small_round.test_requests[0]
    pause = Paused()
    real_build = scenario_doc.build_scenario

    def build_then_pause(round_):
        document = real_build(round_)
        pause()
        return document

    monkeypatch.setattr(scenario_doc, "build_scenario", build_then_pause)

    def withdraw():
        pause.reached.wait(10)
        try:
            return services.request_withdraw(user=ministry_officer_a, request=kenya)
        finally:
            pause.go.set()

    solve, withdrawal = run_together([lambda: services.round_enqueue_solve(round_=small_round), withdraw])

    assert solve.ok, solve.error
    assert isinstance(withdrawal.error, InvalidTransition), withdrawal
    run = AllocationRun.objects.get(round=small_round)
    frozen = {doc["id"] for doc in run.scenario["requests"]}
    assert kenya.scenario_id in frozen
    assert ComputeRequest.objects.get(pk=kenya.pk).status == RequestStatus.SCORED


def _hold_round_lock_while(round_, change):
    """Run ``change`` in another thread while this thread closes ``round_`` and holds it, uncommitted,
    for a moment: the change must wait for the close and then see the round closed."""
    from django.db import transaction

    from allocation import services

    pause = Paused()

    def close():
        with transaction.atomic():
            services.round_close(round_=round_)
            pause()

    def other():
        pause.reached.wait(10)
        try:
            return change()
        finally:
            pause.go.set()

    return run_together([close, other])


def test_a_request_submitted_while_the_round_closes_is_refused(postgres, ministry_officer_a):
    from allocation import services
    from allocation.exceptions import InvalidTransition
    from allocation.models import ComputeRequest, RequestStatus
    from tests import factories

    round_ = factories.RoundFactory()
    request = factories.ComputeRequestFactory(round=round_, ministry=ministry_officer_a.membership.organisation)

    closing, submission = _hold_round_lock_while(
        round_, lambda: services.request_submit(user=ministry_officer_a, request=request)
    )

    assert closing.ok, closing.error
    assert isinstance(submission.error, InvalidTransition), submission
    assert ComputeRequest.objects.get(pk=request.pk).status == RequestStatus.DRAFT


def test_a_pledge_made_while_the_round_closes_is_refused(postgres, donor_officer, provider_org):
    from allocation import services
    from allocation.exceptions import InvalidTransition
    from allocation.models import Pledge
    from tests import factories

    round_ = factories.RoundFactory()

    closing, pledge = _hold_round_lock_while(
        round_, lambda: services.pledge_create(user=donor_officer, round_=round_, kind=Pledge.Kind.CASH,
                                               cash_usd=Decimal("50000"))
    )

    assert closing.ok, closing.error
    assert isinstance(pledge.error, InvalidTransition), pledge
    assert not Pledge.objects.filter(round=round_).exists()


def test_an_offer_made_while_the_round_closes_is_refused(postgres, provider_officer):
    from allocation import services
    from allocation.exceptions import InvalidTransition
    from allocation.models import CapacityLot, Offer
    from tests import factories

    round_ = factories.RoundFactory()
    lot = {"hardware": factories.HardwareTypeFactory(), "region": "SSA", "gpu_hours": Decimal("500"),
           "available_from": datetime.date(2026, 1, 1), "available_until": datetime.date(2026, 6, 30),
           "value_usd_per_gpu_hour": Decimal("2.40"), "price_usd_per_gpu_hour": Decimal("2.10")}

    closing, offer = _hold_round_lock_while(
        round_, lambda: services.offer_create(user=provider_officer, round_=round_, lots=[lot])
    )

    assert closing.ok, closing.error
    assert isinstance(offer.error, InvalidTransition), offer
    assert not Offer.objects.filter(round=round_).exists()
    assert not CapacityLot.objects.filter(offer__round=round_).exists()


def test_stale_recovery_never_fails_a_run_that_has_finished(postgres, small_round, no_dispatch):
    """The beat job lists stale runs, then fails them one by one; a run that finished in between keeps
    its result and its round stays solved."""
    from allocation import services
    from allocation.models import AllocationRun, Round, RoundStatus

    run = _solve(small_round, no_dispatch)
    services._run_fail(run.id, "No worker finished the run in time.")

    run.refresh_from_db()
    assert run.status == AllocationRun.Status.SUCCEEDED
    assert run.error == ""
    assert Round.objects.get(pk=small_round.pk).status == RoundStatus.SOLVED
