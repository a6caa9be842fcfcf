"""Every public service that changes state leaves an audit entry: each is driven once, and a service
that the table below does not know fails the test (a new service must record its changes, and be added
here). A second check reads the source: every service run in a transaction calls ``audit_record``."""
import datetime
import inspect
from decimal import Decimal

import pytest
from django.utils import timezone

from allocation import reference
from allocation import services as allocation_services
from allocation.models import AllocationLine, AllocationRun, CofinancingObligation, RequestStatus, RoundStatus
from audit.models import AuditEntry
from audit.selectors import audit_chain_verify
from members import services as member_services
from tests import factories

pytestmark = pytest.mark.django_db

MODULES = (allocation_services, member_services, reference)
# public functions that change nothing
READ_ONLY = {"policy_validate", "appeal_refusal", "appeal_window_closes", "run_was_unqueued"}
# services that reach audit_record through a helper of their module
DELEGATES = {"run_execute": ("_claim_run", "_run_fail", "_run_store"), "runs_fail_stale": ("_run_fail",),
             "line_confirm_feasibility": ("_audit_line",), "line_flag_infeasible": ("_audit_line",)}


def public_functions():
    for module in MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                yield name, function


class World:
    """The cast and the objects a service needs, made on demand."""

    def __init__(self, request):
        self.pytest_request = request

    def __getattr__(self, name):
        return self.pytest_request.getfixturevalue(name)

    def open_round(self):
        return factories.RoundFactory(status=RoundStatus.OPEN)

    def compute_request(self, status=RequestStatus.DRAFT, **kwargs):
        return factories.ComputeRequestFactory(ministry=self.ministry_a, status=status,
                                               acceptable_hardware=[factories.HardwareTypeFactory()], **kwargs)

    def queued_run(self):
        return allocation_services.round_enqueue_solve(round_=self.small_round, user=self.secretariat_officer)

    def solved_run(self):
        run = self.queued_run()
        return allocation_services.run_execute(run_id=run.pk)

    def published_round(self):
        run = self.solved_run()
        allocation_services.run_approve(run=run, user=self.secretariat_officer)
        return allocation_services.round_publish(round_=self.small_round, user=self.secretariat_officer)


def _lot():
    return {"hardware": factories.HardwareTypeFactory(), "region": "SSA", "gpu_hours": Decimal("100"),
            "available_from": datetime.date(2026, 1, 1), "available_until": datetime.date(2026, 6, 30),
            "value_usd_per_gpu_hour": Decimal("2.00"), "price_usd_per_gpu_hour": Decimal("2.50")}


def _stale(w):
    run = w.queued_run()
    AllocationRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    return lambda: allocation_services.runs_fail_stale()


def _policy_change(w):
    round_ = w.open_round()
    policy = {**round_.policy, "open_weights_bonus": 1.3}
    return lambda: allocation_services.round_set_policy(round_=round_, policy=policy, user=w.secretariat_officer)


def _answer(w, service, user_fixture):
    w.published_round()
    request = next(r for r in w.small_round.test_requests if r.ministry == getattr(w, user_fixture).membership
                   .organisation)
    return lambda: service(user=getattr(w, user_fixture), request=request)


def _payment(w):
    w.solved_run()
    obligation = CofinancingObligation.objects.first()
    return lambda: allocation_services.obligation_record_payment(
        obligation=obligation, amount_usd=Decimal("1.00"), paid_on=datetime.date(2026, 3, 1),
        user=w.secretariat_officer)


def _kenya_request(w):
    return next(r for r in w.small_round.test_requests if r.ministry == w.ministry_a)


def _appeal(w, act):
    w.published_round()
    appeal = allocation_services.appeal_lodge(user=w.ministry_officer_a, request=_kenya_request(w),
                                              reasons="The H200 lots in our region were left unused.")
    return lambda: act(appeal)


def _approved_line(w):
    run = w.solved_run()
    allocation_services.run_approve(run=run, user=w.secretariat_officer)
    return AllocationLine.objects.filter(run=run).first()


def _assignment(w):
    request = w.compute_request(RequestStatus.ELIGIBLE)
    return allocation_services.review_assign(user=w.secretariat_officer, requests=[request], reviewer=w.reviewer,
                                             due_date=timezone.localdate() + datetime.timedelta(days=7))[0]


# name -> (driver returning the call to make, the actions it must record)
DRIVERS = {
    "call_create": (lambda w: lambda: allocation_services.call_create(title="Call", user=w.secretariat_officer),
                    ["call_create"]),
    "round_create": (lambda w: lambda: allocation_services.round_create(
        call=factories.CallFactory(), number=7, title="Round 7", opens_at=timezone.now(),
        submission_deadline=timezone.now() + datetime.timedelta(days=9), user=w.secretariat_officer),
        ["round_create"]),
    "round_set_policy": (_policy_change, ["round_set_policy"]),
    "round_close": (lambda w: (lambda r: lambda: allocation_services.round_close(
        round_=r, user=w.secretariat_officer))(w.open_round()), ["round_close"]),
    "round_reopen": (lambda w: (lambda r: lambda: allocation_services.round_reopen(
        round_=r, user=w.secretariat_officer))(factories.RoundFactory(status=RoundStatus.CLOSED)), ["round_reopen"]),
    "country_budget_set": (lambda w: (lambda r: lambda: allocation_services.country_budget_set(
        round_=r, member_state=w.state_a, budget_usd=Decimal("500"), user=w.secretariat_officer))(w.open_round()),
        ["country_budget_set"]),
    "pledge_create": (lambda w: (lambda r: lambda: allocation_services.pledge_create(
        user=w.donor_officer, round_=r, kind="cash", cash_usd=Decimal("1000")))(w.open_round()), ["pledge_create"]),
    "pledge_withdraw": (lambda w: (lambda p: lambda: allocation_services.pledge_withdraw(
        user=w.donor_officer, pledge=p))(factories.PledgeFactory(donor=w.donor_org, kind="cash",
                                                                  cash_usd=Decimal("5"))), ["pledge_withdraw"]),
    "offer_create": (lambda w: (lambda r: lambda: allocation_services.offer_create(
        user=w.provider_officer, round_=r, lots=[_lot()]))(w.open_round()), ["offer_create"]),
    "offer_withdraw": (lambda w: (lambda o: lambda: allocation_services.offer_withdraw(
        user=w.provider_officer, offer=o))(factories.OfferFactory(provider=w.provider_org)), ["offer_withdraw"]),
    "request_create": (lambda w: (lambda r: lambda: allocation_services.request_create(
        user=w.ministry_officer_a, round_=r, acceptable_hardware=[factories.HardwareTypeFactory()], title="T",
        abstract="A", sector="health", h100e_hours=Decimal("100")))(w.open_round()), ["request_create"]),
    "request_update": (lambda w: (lambda q: lambda: allocation_services.request_update(
        user=w.ministry_officer_a, request=q, title="Renamed"))(w.compute_request()), ["request_update"]),
    "request_submit": (lambda w: (lambda q: lambda: allocation_services.request_submit(
        user=w.ministry_officer_a, request=q))(w.compute_request()), ["request_submit"]),
    "request_withdraw": (lambda w: (lambda q: lambda: allocation_services.request_withdraw(
        user=w.ministry_officer_a, request=q))(w.compute_request()), ["request_withdraw"]),
    "request_set_eligibility": (lambda w: (lambda q: lambda: allocation_services.request_set_eligibility(
        user=w.secretariat_officer, request=q, eligible=True))(w.compute_request(RequestStatus.SUBMITTED)),
        ["request_set_eligibility"]),
    "review_submit": (lambda w: (lambda q: lambda: allocation_services.review_submit(
        user=w.reviewer, request=q, score=Decimal("0.7")))(w.compute_request(RequestStatus.ELIGIBLE)),
        ["review_submit", "request_score"]),
    "round_enqueue_solve": (lambda w: lambda: w.queued_run(), ["round_solve"]),
    "run_execute": (lambda w: (lambda run: lambda: allocation_services.run_execute(run_id=run.pk))(w.queued_run()),
                    ["run_start", "run_store"]),
    "runs_fail_stale": (_stale, ["run_fail"]),
    "run_approve": (lambda w: (lambda run: lambda: allocation_services.run_approve(
        run=run, user=w.secretariat_officer))(w.solved_run()), ["run_approve"]),
    "round_publish": (lambda w: (lambda run: (allocation_services.run_approve(run=run, user=w.secretariat_officer),
                                              lambda: allocation_services.round_publish(
                                                  round_=w.small_round, user=w.secretariat_officer))[1])(
        w.solved_run()), ["round_publish"]),
    "allocation_accept": (lambda w: _answer(w, allocation_services.allocation_accept, "ministry_officer_a"),
                          ["allocation_accept"]),
    "allocation_decline": (lambda w: _answer(w, allocation_services.allocation_decline, "ministry_officer_b"),
                           ["allocation_decline"]),
    "obligation_record_payment": (_payment, ["obligation_record_payment"]),
    "member_states_load": (lambda w: lambda: member_services.member_states_load(), ["member_state_load"]),
    "member_state_override_phase": (lambda w: lambda: member_services.member_state_override_phase(
        state=w.state_a, phase="preparatory", years_in_phase=1, reason="Debt crisis", user=w.secretariat_officer),
        ["member_state_override_phase"]),
    "organisation_create": (lambda w: lambda: member_services.organisation_create(
        name="New donor", kind="donor", user=w.secretariat_officer), ["organisation_create"]),
    "person_create": (lambda w: lambda: member_services.person_create(
        username="newcomer", password="a-long-passphrase-2026", organisation=w.donor_org, role="donor_officer",
        user=w.secretariat_officer), ["person_create"]),
    "hardware_types_load": (lambda w: lambda: reference.hardware_types_load(), ["hardware_type_load"]),
    "round_set_deadline": (lambda w: (lambda r: lambda: allocation_services.round_set_deadline(
        round_=r, submission_deadline=timezone.now() + datetime.timedelta(days=40), user=w.secretariat_officer))(
        w.open_round()), ["round_set_deadline"]),
    "review_assign": (lambda w: (lambda q: lambda: allocation_services.review_assign(
        user=w.secretariat_officer, requests=[q], reviewer=w.reviewer,
        due_date=timezone.localdate() + datetime.timedelta(days=7)))(w.compute_request(RequestStatus.ELIGIBLE)),
        ["review_assign"]),
    "review_unassign": (lambda w: (lambda a: lambda: allocation_services.review_unassign(
        user=w.secretariat_officer, assignment=a))(_assignment(w)), ["review_unassign"]),
    "appeal_lodge": (lambda w: (w.published_round(), lambda: allocation_services.appeal_lodge(
        user=w.ministry_officer_a, request=_kenya_request(w), reasons="Our H200 lots were left unused."))[1],
        ["appeal_lodge"]),
    "appeal_withdraw": (lambda w: _appeal(w, lambda a: allocation_services.appeal_withdraw(
        user=w.ministry_officer_a, appeal=a)), ["appeal_withdraw"]),
    "appeal_start_review": (lambda w: _appeal(w, lambda a: allocation_services.appeal_start_review(
        user=w.secretariat_officer, appeal=a)), ["appeal_start_review"]),
    "appeal_answer": (lambda w: _appeal(w, lambda a: allocation_services.appeal_answer(
        user=w.secretariat_officer, appeal=a, upheld=False, answer="The lots were earmarked for health.")),
        ["appeal_answer"]),
    "line_confirm_feasibility": (lambda w: (lambda line: lambda: allocation_services.line_confirm_feasibility(
        user=w.provider_officer, line=line))(_approved_line(w)), ["line_confirm_feasibility"]),
    "line_flag_infeasible": (lambda w: (lambda line: lambda: allocation_services.line_flag_infeasible(
        user=w.provider_officer, line=line, note="The cluster is down for maintenance in March."))(
        _approved_line(w)), ["line_flag_infeasible"]),
    "lines_confirm_feasibility": (lambda w: (_approved_line(w), lambda: allocation_services.lines_confirm_feasibility(
        user=w.provider_officer, round_=w.small_round))[1], ["lines_confirm_feasibility"]),
}


def test_every_public_service_is_known():
    unknown = sorted(name for name, _ in public_functions() if name not in DRIVERS and name not in READ_ONLY)
    assert not unknown, (f"Services without an audit check: {unknown}. Record their changes with audit_record "
                         "(see audit/services.py) and add a driver to DRIVERS in this file.")


@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_the_service_leaves_an_audit_entry(name, request, eager_celery, django_capture_on_commit_callbacks):
    world = World(request)
    driver, actions = DRIVERS[name]
    act = driver(world)
    last = AuditEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    act()
    recorded = list(AuditEntry.objects.filter(sequence__gt=last).values_list("action", flat=True))
    assert recorded, f"{name} changed state without an audit entry"
    assert set(actions) <= set(recorded), (name, recorded)
    assert audit_chain_verify().intact


def test_every_service_in_a_transaction_calls_audit_record():
    """Read the source: a service under @transaction.atomic writes its own entry (or names its helper)."""
    missing = []
    for name, function in public_functions():
        source = inspect.getsource(function)
        if "@transaction.atomic" not in source and name not in DELEGATES:
            continue
        helpers = DELEGATES.get(name, ())
        if "audit_record(" not in source and not all(helper + "(" in source for helper in helpers or ("?",)):
            missing.append(name)
    for helpers in DELEGATES.values():
        for helper in helpers:
            assert "audit_record(" in inspect.getsource(getattr(allocation_services, helper)), helper
    assert not missing, f"services changing state without audit_record: {missing}"
