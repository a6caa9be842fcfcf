"""The allocation services: every state change checked against the database it leaves behind."""
import datetime
import hashlib
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from alliance.exceptions import ApplicationError
from allocation import scenario, services
from allocation.exceptions import InvalidTransition, NotPermitted, RoundNotReady
from allocation.models import (
    AllocationLine,
    AllocationRun,
    CapacityLot,
    CofinancingObligation,
    ComputeRequest,
    Pledge,
    RequestResult,
    RequestStatus,
    Review,
    RoundStatus,
)
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_round():
    return factories.RoundFactory(status=RoundStatus.OPEN)


@pytest.fixture
def h100():
    return factories.HardwareTypeFactory()


def lot_spec(provider, hardware, **overrides):
    spec = {
        "provider": provider, "hardware": hardware, "region": "SSA", "gpu_hours": Decimal("500"),
        "available_from": datetime.date(2026, 1, 1), "available_until": datetime.date(2026, 6, 30),
        "value_usd_per_gpu_hour": Decimal("2.40"),
    }
    spec.update(overrides)
    return spec


def draft(user, round_, hardware, **fields):
    values = {"title": "Maternal health triage", "abstract": "Triage notes in Swahili.", "sector": "health",
              "h100e_hours": Decimal("1200"), "min_h100e_hours": Decimal("100"), "local_language": True,
              "open_weights": True, "params_billion": Decimal("7")}
    values.update(fields)
    return services.request_create(user=user, round_=round_, acceptable_hardware=[hardware], **values)


# --- pledges and offers --------------------------------------------------------------------------


def test_donor_pledges_in_kind_lots_to_an_open_round(donor_officer, provider_org, open_round, h100, state_a):
    pledge = services.pledge_create(
        user=donor_officer, round_=open_round, kind=Pledge.Kind.IN_KIND,
        lots=[lot_spec(provider_org, h100), lot_spec(provider_org, h100, region="SAS", earmark_countries=[state_a],
                                                     earmark_income_groups=["LIC", "LMIC"])],
    )
    assert pledge.donor == donor_officer.membership.organisation
    assert pledge.lots.count() == 2
    earmarked = pledge.lots.get(region="SAS")
    assert list(earmarked.earmark_countries.values_list("iso3", flat=True)) == ["KEN"]


def test_pledge_with_one_bad_lot_leaves_nothing_behind(donor_officer, provider_org, open_round, h100):
    with pytest.raises(ValidationError) as error:
        services.pledge_create(
            user=donor_officer, round_=open_round, kind=Pledge.Kind.IN_KIND,
            lots=[lot_spec(provider_org, h100), lot_spec(provider_org, h100, gpu_hours=Decimal("-5"))],
        )
    assert "lots[1].gpu_hours" in error.value.message_dict
    assert Pledge.objects.count() == 0
    assert CapacityLot.objects.count() == 0


def test_lot_window_must_end_after_it_starts(donor_officer, provider_org, open_round, h100):
    with pytest.raises(ValidationError) as error:
        services.pledge_create(user=donor_officer, round_=open_round, kind=Pledge.Kind.IN_KIND, lots=[
            lot_spec(provider_org, h100, available_until=datetime.date(2025, 1, 1))])
    assert "lots[0].available_until" in error.value.message_dict


def test_cash_pledge_needs_a_positive_amount(donor_officer, open_round):
    with pytest.raises(ValidationError) as error:
        services.pledge_create(user=donor_officer, round_=open_round, kind=Pledge.Kind.CASH, cash_usd=Decimal("0"))
    assert "cash_usd" in error.value.message_dict
    pledge = services.pledge_create(user=donor_officer, round_=open_round, kind=Pledge.Kind.CASH,
                                    cash_usd=Decimal("250000"))
    assert pledge.cash_usd == Decimal("250000")


def test_ministry_cannot_pledge(ministry_officer_a, open_round):
    with pytest.raises(NotPermitted):
        services.pledge_create(user=ministry_officer_a, round_=open_round, kind=Pledge.Kind.CASH,
                               cash_usd=Decimal("10"))


def test_closed_round_takes_no_pledges(donor_officer, provider_org, h100):
    round_ = factories.RoundFactory(status=RoundStatus.CLOSED)
    with pytest.raises(InvalidTransition):
        services.pledge_create(user=donor_officer, round_=round_, kind=Pledge.Kind.IN_KIND,
                               lots=[lot_spec(provider_org, h100)])
    assert Pledge.objects.count() == 0


def test_donor_cannot_withdraw_another_donors_pledge(donor_officer, open_round):
    other = factories.PledgeFactory(round=open_round)
    with pytest.raises(NotPermitted):
        services.pledge_withdraw(user=donor_officer, pledge=other)
    other.refresh_from_db()
    assert other.status == Pledge.Status.CONFIRMED


def test_provider_offer_lots_carry_the_provider_and_a_price(provider_officer, provider_org, open_round, h100):
    offer = services.offer_create(user=provider_officer, round_=open_round, lots=[
        {k: v for k, v in lot_spec(provider_org, h100, price_usd_per_gpu_hour=Decimal("2.10")).items()
         if k != "provider"}])
    lot = offer.lots.get()
    assert lot.provider == provider_org
    assert lot.price_usd_per_gpu_hour == Decimal("2.10")
    with pytest.raises(ValidationError) as error:
        services.offer_create(user=provider_officer, round_=open_round, lots=[
            {k: v for k, v in lot_spec(provider_org, h100).items() if k != "provider"}])
    assert "lots[0].price_usd_per_gpu_hour" in error.value.message_dict


def test_database_refuses_a_donated_lot_with_a_price(provider_org, h100):
    pledge = factories.PledgeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CapacityLot.objects.create(pledge=pledge, provider=provider_org, hardware=h100, region="SSA",
                                   gpu_hours=1, available_from=datetime.date(2026, 1, 1),
                                   available_until=datetime.date(2026, 2, 1), value_usd_per_gpu_hour=1,
                                   price_usd_per_gpu_hour=2)


# --- requests ------------------------------------------------------------------------------------


def test_ministry_drafts_edits_and_submits_a_request_for_its_state(ministry_officer_a, open_round, h100):
    request = draft(ministry_officer_a, open_round, h100)
    assert request.member_state.iso3 == "KEN" and request.status == RequestStatus.DRAFT
    services.request_update(user=ministry_officer_a, request=request, h100e_hours=Decimal("1500"))
    services.request_submit(user=ministry_officer_a, request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED
    assert request.h100e_hours == Decimal("1500")
    assert request.submitted_at is not None


def test_minimum_cannot_exceed_size(ministry_officer_a, open_round, h100):
    with pytest.raises(ValidationError) as error:
        draft(ministry_officer_a, open_round, h100, h100e_hours=Decimal("100"), min_h100e_hours=Decimal("200"))
    assert "min_h100e_hours" in error.value.message_dict
    assert ComputeRequest.objects.count() == 0


def test_request_needs_acceptable_hardware(ministry_officer_a, open_round):
    with pytest.raises(ValidationError) as error:
        services.request_create(user=ministry_officer_a, round_=open_round, acceptable_hardware=[],
                                title="x", abstract="y", sector="health", h100e_hours=Decimal("10"))
    assert "acceptable_hardware" in error.value.message_dict
    assert ComputeRequest.objects.count() == 0


def test_unknown_residency_region_is_refused(ministry_officer_a, open_round, h100):
    with pytest.raises(ValidationError) as error:
        draft(ministry_officer_a, open_round, h100, data_residency_regions=["SSA", "MARS"])
    assert "data_residency_regions" in error.value.message_dict


def test_ministry_cannot_touch_another_states_request(ministry_officer_a, ministry_officer_b, open_round, h100):
    request = draft(ministry_officer_a, open_round, h100)
    with pytest.raises(NotPermitted):
        services.request_update(user=ministry_officer_b, request=request, title="Hijacked")
    with pytest.raises(NotPermitted):
        services.request_submit(user=ministry_officer_b, request=request)
    request.refresh_from_db()
    assert request.title == "Maternal health triage" and request.status == RequestStatus.DRAFT


def test_submitted_request_cannot_be_edited_but_can_be_withdrawn(ministry_officer_a, open_round, h100):
    request = draft(ministry_officer_a, open_round, h100)
    services.request_submit(user=ministry_officer_a, request=request)
    with pytest.raises(InvalidTransition):
        services.request_update(user=ministry_officer_a, request=request, title="Changed")
    services.request_withdraw(user=ministry_officer_a, request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN


def test_submission_after_the_deadline_is_refused(ministry_officer_a, h100):
    round_ = factories.RoundFactory(opens_at=timezone.now() - datetime.timedelta(days=10),
                                    submission_deadline=timezone.now() - datetime.timedelta(days=1))
    request = draft(ministry_officer_a, round_, h100)
    with pytest.raises(InvalidTransition, match="deadline"):
        services.request_submit(user=ministry_officer_a, request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.DRAFT


def test_ineligible_decision_needs_a_reason(secretariat_officer, ministry_officer_a, open_round, h100):
    request = draft(ministry_officer_a, open_round, h100)
    services.request_submit(user=ministry_officer_a, request=request)
    with pytest.raises(ValidationError):
        services.request_set_eligibility(user=secretariat_officer, request=request, eligible=False)
    services.request_set_eligibility(user=secretariat_officer, request=request, eligible=False,
                                     note="Commercial product, not public-interest research.")
    request.refresh_from_db()
    assert request.status == RequestStatus.INELIGIBLE


def test_only_the_secretariat_decides_eligibility(ministry_officer_a, open_round, h100):
    request = draft(ministry_officer_a, open_round, h100)
    services.request_submit(user=ministry_officer_a, request=request)
    with pytest.raises(NotPermitted):
        services.request_set_eligibility(user=ministry_officer_a, request=request, eligible=True)


def test_request_score_is_the_mean_of_its_reviews(secretariat_officer, reviewer, ministry_officer_a, open_round, h100):
    request = draft(ministry_officer_a, open_round, h100)
    services.request_submit(user=ministry_officer_a, request=request)
    services.request_set_eligibility(user=secretariat_officer, request=request, eligible=True)
    services.review_submit(user=reviewer, request=request, score=Decimal("0.9"))
    services.review_submit(user=secretariat_officer, request=request, score=Decimal("0.6"))
    request.refresh_from_db()
    assert request.status == RequestStatus.SCORED
    assert request.score == Decimal("0.750")
    with pytest.raises(InvalidTransition):
        services.review_submit(user=reviewer, request=request, score=Decimal("0.1"))
    assert Review.objects.filter(request=request).count() == 2


def test_review_score_outside_the_unit_interval_is_refused(secretariat_officer, reviewer, ministry_officer_a,
                                                          open_round, h100):
    request = draft(ministry_officer_a, open_round, h100)
    services.request_submit(user=ministry_officer_a, request=request)
    services.request_set_eligibility(user=secretariat_officer, request=request, eligible=True)
    with pytest.raises(ValidationError) as error:
        services.review_submit(user=reviewer, request=request, score=Decimal("1.5"))
    assert "score" in error.value.message_dict
    assert Review.objects.count() == 0


# --- rounds, policy and scenario -----------------------------------------------------------------


def test_policy_with_a_share_above_one_is_refused(secretariat_officer, open_round):
    policy = json.loads(json.dumps(open_round.policy))
    policy["cofinancing"]["initial_share"] = 1.5
    with pytest.raises(ApplicationError) as error:
        services.round_set_policy(round_=open_round, policy=policy, user=secretariat_officer)
    assert "cofinancing.initial_share" in error.value.extra
    open_round.refresh_from_db()
    assert open_round.policy["cofinancing"]["initial_share"] == 0.05


def test_round_closes_once(secretariat_officer, open_round):
    services.round_close(round_=open_round, user=secretariat_officer)
    open_round.refresh_from_db()
    assert open_round.status == RoundStatus.CLOSED
    with pytest.raises(InvalidTransition):
        services.round_close(round_=open_round, user=secretariat_officer)


def test_solving_refuses_a_round_with_undecided_requests(secretariat_officer, ministry_officer_a, open_round, h100):
    request = draft(ministry_officer_a, open_round, h100)
    services.request_submit(user=ministry_officer_a, request=request)
    services.round_close(round_=open_round, user=secretariat_officer)
    with pytest.raises(RoundNotReady, match=request.scenario_id):
        services.round_enqueue_solve(round_=open_round, user=secretariat_officer)
    open_round.refresh_from_db()
    assert open_round.status == RoundStatus.CLOSED
    assert AllocationRun.objects.count() == 0


def test_scenario_of_a_round_follows_the_contract(small_round, state_a):
    services.country_budget_set(round_=small_round, member_state=state_a, budget_usd=Decimal("500"))
    document = scenario.build_scenario(small_round)
    assert document["format"] == "gacp.scenario/1"
    assert [h["id"] for h in document["hardware"]] == ["NVIDIA_H100_SXM5_80GB"]
    assert [lot["gpu_hours"] for lot in document["lots"]] == [1000.0]
    assert document["lots"][0]["price_usd_per_gpu_hour"] is None
    assert {r["country"]: r["h100e_hours"] for r in document["requests"]} == {"KEN": 900.0, "NPL": 600.0}
    countries = {c["iso3"]: c for c in document["countries"]}
    assert countries["KEN"]["budget_usd"] == 500.0 and countries["NPL"]["budget_usd"] is None
    assert countries["KEN"]["cofinancing_phase"] == "accelerated"
    digest = hashlib.sha256(scenario.scenario_bytes(document)).hexdigest()
    assert scenario.scenario_sha256(document) == digest


def test_ineligible_requests_enter_the_scenario_with_score_zero(small_round):
    kenya = small_round.test_requests[0]
    ComputeRequest.objects.filter(pk=kenya.pk).update(status=RequestStatus.INELIGIBLE)
    document = scenario.build_scenario(small_round)
    assert {r["id"]: r["score"] for r in document["requests"]}[kenya.scenario_id] == 0.0


# --- solving, approval, publication, answers -----------------------------------------------------


def solve(round_, user, captured):
    with captured(execute=True):
        run = services.round_enqueue_solve(round_=round_, user=user)
    run.refresh_from_db()
    return run


def test_solve_stores_the_decision_and_obligations(secretariat_officer, small_round, eager_celery,
                                                   django_capture_on_commit_callbacks):
    run = solve(small_round, secretariat_officer, django_capture_on_commit_callbacks)
    assert run.status == AllocationRun.Status.SUCCEEDED, run.error
    small_round.refresh_from_db()
    assert small_round.status == RoundStatus.SOLVED
    assert run.scenario_sha256 == scenario.scenario_sha256(run.scenario)
    kenya, nepal = small_round.test_requests
    results = {r.request_id: r for r in RequestResult.objects.filter(run=run)}
    assert results[kenya.pk].allocated_h100e_hours == pytest.approx(600, rel=1e-6)
    assert results[nepal.pk].allocated_h100e_hours == pytest.approx(400, rel=1e-6)
    assert results[kenya.pk].fulfilment == pytest.approx(2 / 3, rel=1e-6)
    # Kenya: accelerated, 4 years of 8 -> share 0.2 + 0.8 * 4/8 = 0.6 of 600 GPU-h x US$2.40 = US$864.00
    obligation = CofinancingObligation.objects.get(run=run, member_state__iso3="KEN")
    assert obligation.share == Decimal("0.600000")
    assert obligation.amount_usd == Decimal("864.00")
    assert AllocationLine.objects.filter(run=run).count() == 2


def test_country_budget_caps_what_a_state_receives(secretariat_officer, small_round, state_a, eager_celery,
                                                   django_capture_on_commit_callbacks):
    # Kenya may owe at most US$288: 288 / (0.6 * 2.40) = 200 GPU-hours; Nepal takes the remaining 600 of its 600.
    services.country_budget_set(round_=small_round, member_state=state_a, budget_usd=Decimal("288"))
    run = solve(small_round, secretariat_officer, django_capture_on_commit_callbacks)
    kenya, nepal = small_round.test_requests
    results = {r.request_id: r for r in RequestResult.objects.filter(run=run)}
    assert results[kenya.pk].allocated_h100e_hours == pytest.approx(200, rel=1e-5)
    assert results[nepal.pk].allocated_h100e_hours == pytest.approx(600, rel=1e-5)
    assert results[kenya.pk].reason == "country_budget"


def test_publish_then_ministry_accepts_its_award_once(secretariat_officer, ministry_officer_a, small_round,
                                                     eager_celery, django_capture_on_commit_callbacks):
    run = solve(small_round, secretariat_officer, django_capture_on_commit_callbacks)
    with pytest.raises(InvalidTransition):
        services.round_publish(round_=small_round, user=secretariat_officer)
    services.run_approve(run=run, user=secretariat_officer)
    services.round_publish(round_=small_round, user=secretariat_officer)
    small_round.refresh_from_db()
    assert small_round.status == RoundStatus.PUBLISHED and small_round.published_at is not None
    kenya = small_round.test_requests[0]
    services.allocation_accept(user=ministry_officer_a, request=kenya)
    kenya.refresh_from_db()
    assert kenya.status == RequestStatus.ACCEPTED
    with pytest.raises(InvalidTransition, match="already"):
        services.allocation_decline(user=ministry_officer_a, request=kenya)


def test_ministry_cannot_answer_another_states_award(secretariat_officer, ministry_officer_b, small_round,
                                                     eager_celery, django_capture_on_commit_callbacks):
    run = solve(small_round, secretariat_officer, django_capture_on_commit_callbacks)
    services.run_approve(run=run, user=secretariat_officer)
    services.round_publish(round_=small_round, user=secretariat_officer)
    with pytest.raises(NotPermitted):
        services.allocation_accept(user=ministry_officer_b, request=small_round.test_requests[0])


def test_a_solving_round_cannot_be_solved_again(secretariat_officer, small_round, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.round_enqueue_solve(round_=small_round, user=secretariat_officer)
    with pytest.raises(InvalidTransition):
        services.round_enqueue_solve(round_=small_round, user=secretariat_officer)
    assert AllocationRun.objects.filter(round=small_round).count() == 1


def test_executing_a_run_twice_stores_one_decision(secretariat_officer, small_round,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = services.round_enqueue_solve(round_=small_round, user=secretariat_officer)
    services.run_execute(run_id=run.id)
    services.run_execute(run_id=run.id)
    assert AllocationLine.objects.filter(run=run).count() == 2
    assert RequestResult.objects.filter(run=run).count() == 2


def test_payment_beyond_what_is_owed_is_refused(secretariat_officer, small_round, eager_celery,
                                                django_capture_on_commit_callbacks):
    solve(small_round, secretariat_officer, django_capture_on_commit_callbacks)
    obligation = CofinancingObligation.objects.get(member_state__iso3="KEN")
    services.obligation_record_payment(obligation=obligation, amount_usd=Decimal("800"),
                                       paid_on=datetime.date(2026, 12, 1), user=secretariat_officer)
    with pytest.raises(ValidationError):
        services.obligation_record_payment(obligation=obligation, amount_usd=Decimal("100"),
                                           paid_on=datetime.date(2026, 12, 2), user=secretariat_officer)
    obligation.refresh_from_db()
    assert obligation.paid_usd == Decimal("800.00") and obligation.outstanding_usd == Decimal("64.00")


def test_reviewer_of_the_requesting_state_cannot_score_its_request(ministry_a, state_a):
    from allocation.exceptions import NotPermitted
    from allocation.models import RequestStatus
    from members.models import Role

    colleague = factories.MembershipFactory(user=factories.UserFactory(username="kenyan_reviewer"),
                                            organisation=ministry_a, role=Role.REVIEWER).user
    request = factories.ComputeRequestFactory(ministry=ministry_a, status=RequestStatus.ELIGIBLE)

    with pytest.raises(NotPermitted, match="requesting ministry"):
        services.review_submit(user=colleague, request=request, score=Decimal("0.9"))
    request.refresh_from_db()
    assert request.status == RequestStatus.ELIGIBLE
    assert not request.reviews.exists()
