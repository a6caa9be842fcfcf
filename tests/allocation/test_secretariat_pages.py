"""The secretariat's pages: calls and rounds, eligibility, reviewer assignments, policy, comparing runs,
approving and publishing, and the co-financing ledger. Each asserts the status, what the page says and what
the database holds; outsiders (the public, ministries, reviewers, donors) are refused by guessing ids."""
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from allocation import services
from allocation.models import (
    AllocationRun,
    Call,
    CofinancingObligation,
    ComputeRequest,
    RequestStatus,
    ReviewAssignment,
    Round,
    RoundStatus,
)
from members.models import OrganisationKind, Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_round(db):
    return factories.RoundFactory(status=RoundStatus.OPEN, call=factories.CallFactory(title="Health AI call"))


@pytest.fixture
def submitted(open_round, ministry_a, ministry_b):
    """Two submitted requests of the open round: Kenya's in health, Nepal's in education."""
    kenya = factories.ComputeRequestFactory(round=open_round, ministry=ministry_a, status=RequestStatus.SUBMITTED,
                                            title="Maternal triage", submitted_at=timezone.now())
    nepal = factories.ComputeRequestFactory(round=open_round, ministry=ministry_b, status=RequestStatus.SUBMITTED,
                                            title="Reading tutor", sector="education", submitted_at=timezone.now())
    return kenya, nepal


@pytest.fixture
def two_runs(secretariat_officer, small_round, eager_celery, django_capture_on_commit_callbacks):
    """small_round solved twice: first with the default policy (both requests get 2/3), then with the weight of
    Nepal's sector (education) doubled to 2.5. By hand: 900·f_K + 600·f_N = 1000 with f_N = 2·f_K gives
    f_K = 1000/2100 = 0.4762 (428.6 h) and f_N = 0.9524 (571.4 h)."""
    kenya, nepal = small_round.test_requests
    ComputeRequest.objects.filter(pk=nepal.pk).update(sector="education")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.round_enqueue_solve(round_=small_round, user=secretariat_officer)
    small_round.refresh_from_db()
    policy = {**small_round.policy, "sector_weights": {**small_round.policy["sector_weights"], "education": 2.5}}
    services.round_set_policy(round_=small_round, policy=policy, user=secretariat_officer)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.round_enqueue_solve(round_=small_round, user=secretariat_officer)
    first.refresh_from_db()
    second.refresh_from_db()
    small_round.refresh_from_db()
    assert first.status == second.status == AllocationRun.Status.SUCCEEDED
    return first, second


# --- Who may open the pages -----------------------------------------------------------------------


def _secretariat_urls(round_, request, run, assignment=None, obligation=None):
    urls = [
        "/secretariat/", "/secretariat/calls/new/", f"/secretariat/calls/{round_.call_id}/rounds/new/",
        f"/secretariat/rounds/{round_.pk}/", f"/secretariat/rounds/{round_.pk}/eligibility/",
        f"/secretariat/rounds/{round_.pk}/reviews/", f"/secretariat/rounds/{round_.pk}/policy/",
        f"/secretariat/rounds/{round_.pk}/compare/", f"/secretariat/runs/{run.pk}/approve/",
        f"/secretariat/rounds/{round_.pk}/publish/", "/secretariat/cofinancing/",
    ]
    if obligation:
        urls.append(f"/secretariat/cofinancing/{obligation.pk}/payment/")
    return urls


def test_public_is_sent_to_sign_in_from_every_secretariat_page(client, small_round, two_runs):
    for url in _secretariat_urls(small_round, small_round.test_requests[0], two_runs[0]):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/accounts/login/"), url


@pytest.mark.parametrize("role", ["ministry_officer_a", "reviewer", "donor_officer", "provider_officer"])
def test_other_roles_cannot_open_the_secretariat_pages(request, client_for, role, small_round, two_runs):
    client = client_for(request.getfixturevalue(role))
    for url in _secretariat_urls(small_round, small_round.test_requests[0], two_runs[0]):
        assert client.get(url).status_code == 403, url


def test_ministry_cannot_decide_eligibility_by_guessing_a_request_id(client_for, ministry_officer_a, submitted):
    kenya, nepal = submitted
    response = client_for(ministry_officer_a).post(f"/secretariat/requests/{nepal.pk}/eligibility/",
                                                   {"decision": "eligible"})
    assert response.status_code == 403
    nepal.refresh_from_db()
    assert nepal.status == RequestStatus.SUBMITTED


def test_ministry_cannot_close_approve_publish_or_record_a_payment(client_for, ministry_officer_a, small_round,
                                                                   two_runs):
    first, second = two_runs
    services.run_approve(run=second)
    services.round_publish(round_=small_round)
    obligation = CofinancingObligation.objects.get(run=second, member_state__iso3="KEN")
    client = client_for(ministry_officer_a)
    assert client.post(f"/secretariat/runs/{first.pk}/approve/").status_code == 403
    assert client.post(f"/secretariat/rounds/{small_round.pk}/close/").status_code == 403
    assert client.post(f"/secretariat/cofinancing/{obligation.pk}/payment/",
                       {"amount_usd": "1", "paid_on": "2026-01-01"}).status_code == 403
    obligation.refresh_from_db()
    first.refresh_from_db()
    assert obligation.paid_usd == 0 and not first.is_approved


def test_unknown_ids_are_not_found(client_for, secretariat_officer):
    client = client_for(secretariat_officer)
    for url in ("/secretariat/rounds/999999/", "/secretariat/rounds/999999/eligibility/",
                "/secretariat/runs/999999/approve/", "/secretariat/cofinancing/999999/payment/",
                "/secretariat/calls/999999/rounds/new/"):
        assert client.get(url).status_code == 404, url


# --- Home -----------------------------------------------------------------------------------------


def test_home_shows_each_round_with_its_counts_and_what_needs_doing(client_for, secretariat_officer, submitted,
                                                                     small_round):
    page = client_for(secretariat_officer).get("/secretariat/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Health AI call" in text
    # small_round: 1,000 h100e-hours pledged (1,000 GPU-hours of H100) against 1,500 requested
    entry = next(r for call in page.context["calls"] for r in call["rounds"] if r["round"] == small_round)
    assert entry["pledged"] == Decimal("1000") and entry["requested"] == Decimal("1500")
    assert round(entry["coverage_pct"]) == 67
    assert "1,500" in text and "pledges cover 67 %" in text
    kinds = {(item["round"].pk, item["kind"]) for item in page.context["todo"]}
    assert (submitted[0].round_id, "eligibility") in kinds  # two submitted requests to check
    assert (small_round.pk, "solve") in kinds  # closed, everything scored
    assert "2 submitted requests to check for eligibility" in text


def test_home_lists_overdue_cofinancing(client_for, secretariat_officer, small_round, two_runs):
    services.run_approve(run=two_runs[1])
    services.round_publish(round_=small_round)
    CofinancingObligation.objects.filter(run=two_runs[1], member_state__iso3="KEN").update(
        due_date=timezone.localdate() - datetime.timedelta(days=3))
    page = client_for(secretariat_officer).get("/secretariat/")
    assert page.context["overdue_totals"]["overdue_count"] == 1
    assert [o.member_state.iso3 for o in page.context["overdue"]] == ["KEN"]
    assert "1 obligation is overdue" in page.content.decode()


# --- Calls and rounds -----------------------------------------------------------------------------


def test_secretariat_creates_a_call_then_opens_its_first_round(client_for, secretariat_officer):
    client = client_for(secretariat_officer)
    response = client.post("/secretariat/calls/new/", {"title": "Climate models 2027", "description": "Floods."})
    call = Call.objects.get(title="Climate models 2027")
    assert response.status_code == 302 and response.url == f"/secretariat/calls/{call.pk}/rounds/new/"
    form_page = client.get(response.url)
    assert form_page.context["form"].initial["number"] == 1
    deadline = (timezone.now() + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    opens = timezone.now().strftime("%Y-%m-%dT%H:%M")
    response = client.post(response.url, {"number": 1, "title": "Round 1", "opens_at": opens,
                                           "submission_deadline": deadline, "policy_from": "default"})
    round_ = Round.objects.get(call=call)
    assert response.status_code == 302 and response.url == f"/secretariat/rounds/{round_.pk}/"
    assert round_.status == RoundStatus.OPEN
    from django.conf import settings

    assert round_.policy == settings.GACP["DEFAULT_POLICY"]


def test_a_new_round_copies_the_previous_rounds_policy(client_for, secretariat_officer, open_round):
    policy = {**open_round.policy, "income_weights": {"LIC": 3.0, "LMIC": 2.0, "UMIC": 1.2, "HIC": 1.0}}
    services.round_set_policy(round_=open_round, policy=policy, user=secretariat_officer)
    client = client_for(secretariat_officer)
    url = f"/secretariat/calls/{open_round.call_id}/rounds/new/"
    form = client.get(url).context["form"]
    assert form.initial["policy_from"] == str(open_round.pk)
    assert form.initial["number"] == open_round.number + 1
    deadline = (timezone.now() + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    client.post(url, {"number": open_round.number + 1, "title": "Next", "opens_at": timezone.now().strftime(
        "%Y-%m-%dT%H:%M"), "submission_deadline": deadline, "policy_from": str(open_round.pk)})
    new = Round.objects.get(call=open_round.call, number=open_round.number + 1)
    assert new.policy["income_weights"]["LIC"] == 3.0


def test_round_form_names_the_field_of_each_mistake(client_for, secretariat_officer, open_round):
    client = client_for(secretariat_officer)
    opens = timezone.now().strftime("%Y-%m-%dT%H:%M")
    earlier = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/secretariat/calls/{open_round.call_id}/rounds/new/", {
        "number": open_round.number, "title": "", "opens_at": opens, "submission_deadline": earlier,
        "policy_from": "default"})
    assert response.status_code == 200  # the form again, with the mistakes named
    errors = response.context["form"].errors
    assert errors["number"] == [f"The call already has a round {open_round.number}."]
    assert "title" in errors
    assert errors["submission_deadline"] == ["The submission deadline must come after the opening."]
    assert Round.objects.filter(call=open_round.call).count() == 1
    assert 'href="#id_submission_deadline"' in response.content.decode()  # the error summary links to the field


def test_only_the_secretariat_creates_calls_and_rounds_through_the_services(ministry_officer_a):
    from allocation.exceptions import NotPermitted

    with pytest.raises(NotPermitted):
        services.call_create(title="Mine", user=ministry_officer_a)
    with pytest.raises(NotPermitted):
        services.round_create(call=factories.CallFactory(), number=1, title="R", opens_at=timezone.now(),
                              submission_deadline=timezone.now() + datetime.timedelta(days=1),
                              user=ministry_officer_a)
    assert not Round.objects.exists()


def test_secretariat_moves_the_deadline_of_an_open_round(client_for, secretariat_officer, open_round):
    new = (timezone.now() + datetime.timedelta(days=90)).replace(second=0, microsecond=0)
    response = client_for(secretariat_officer).post(f"/secretariat/rounds/{open_round.pk}/deadline/",
                                                    {"submission_deadline": new.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    open_round.refresh_from_db()
    assert open_round.submission_deadline == new


def test_a_deadline_in_the_past_is_refused_with_the_way_to_stop_submissions(client_for, secretariat_officer,
                                                                             open_round):
    before = open_round.submission_deadline
    past = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(secretariat_officer).post(f"/secretariat/rounds/{open_round.pk}/deadline/",
                                                    {"submission_deadline": past})
    assert response.status_code == 200  # the form again, with the mistakes named
    assert "close the round instead" in response.content.decode()
    open_round.refresh_from_db()
    assert open_round.submission_deadline == before


def test_the_deadline_of_a_solved_round_cannot_change(secretariat_officer, small_round, two_runs):
    from allocation.exceptions import InvalidTransition

    with pytest.raises(InvalidTransition):
        services.round_set_deadline(round_=small_round, user=secretariat_officer,
                                    submission_deadline=timezone.now() + datetime.timedelta(days=5))


def test_secretariat_closes_and_reopens_a_round(client_for, secretariat_officer, open_round):
    client = client_for(secretariat_officer)
    response = client.post(f"/secretariat/rounds/{open_round.pk}/close/", follow=True)
    open_round.refresh_from_db()
    assert open_round.status == RoundStatus.CLOSED
    assert "The round is closed" in response.content.decode()
    response = client.post(f"/secretariat/rounds/{open_round.pk}/close/", follow=True)
    assert "The round is closed, under review; it must be open for requests and pledges." in response.content.decode()
    client.post(f"/secretariat/rounds/{open_round.pk}/reopen/")
    open_round.refresh_from_db()
    assert open_round.status == RoundStatus.OPEN


# --- Eligibility ----------------------------------------------------------------------------------


def test_eligibility_queue_filters_by_status_sector_and_search(client_for, secretariat_officer, submitted):
    kenya, nepal = submitted
    client = client_for(secretariat_officer)
    url = f"/secretariat/rounds/{kenya.round_id}/eligibility/"
    assert [r["request"] for r in client.get(url).context["rows"]] == [kenya, nepal]
    assert [r["request"] for r in client.get(url, {"sector": "education"}).context["rows"]] == [nepal]
    assert [r["request"] for r in client.get(url, {"q": "Kenya"}).context["rows"]] == [kenya]
    assert [r["request"] for r in client.get(url, {"q": f"R{nepal.pk}"}).context["rows"]] == [nepal]
    assert list(client.get(url, {"status": "decided"}).context["rows"]) == []


def test_one_click_makes_a_request_eligible(client_for, secretariat_officer, submitted):
    kenya, _ = submitted
    url = f"/secretariat/rounds/{kenya.round_id}/eligibility/?sector=health"
    response = client_for(secretariat_officer).post(f"/secretariat/requests/{kenya.pk}/eligibility/",
                                                    {"decision": "eligible", "note": "", "next": url})
    assert response.status_code == 302 and response.url == url
    kenya.refresh_from_db()
    assert kenya.status == RequestStatus.ELIGIBLE


def test_not_eligible_needs_a_reason_which_the_ministry_then_reads(client_for, secretariat_officer,
                                                                    ministry_officer_b, submitted):
    _, nepal = submitted
    client = client_for(secretariat_officer)
    response = client.post(f"/secretariat/requests/{nepal.pk}/eligibility/", {"decision": "ineligible", "note": " "})
    assert response.status_code == 200  # the form again, with the mistakes named
    assert "Say why the request is not eligible" in response.content.decode()
    nepal.refresh_from_db()
    assert nepal.status == RequestStatus.SUBMITTED
    client.post(f"/secretariat/requests/{nepal.pk}/eligibility/",
                {"decision": "ineligible", "note": "Commercial product, not public-interest research."})
    nepal.refresh_from_db()
    assert nepal.status == RequestStatus.INELIGIBLE
    assert nepal.eligibility_note == "Commercial product, not public-interest research."
    ministry_view = client_for(ministry_officer_b).get(f"/api/requests/{nepal.pk}/").json()
    assert ministry_view["eligibility_note"] == "Commercial product, not public-interest research."


def test_an_offsite_next_address_is_ignored(client_for, secretariat_officer, submitted):
    kenya, _ = submitted
    response = client_for(secretariat_officer).post(f"/secretariat/requests/{kenya.pk}/eligibility/",
                                                    {"decision": "eligible", "next": "https://evil.example/"})
    assert response.url == f"/secretariat/rounds/{kenya.round_id}/eligibility/"


# --- Reviewers ------------------------------------------------------------------------------------


@pytest.fixture
def eligible(secretariat_officer, submitted):
    for request in submitted:
        services.request_set_eligibility(user=secretariat_officer, request=request, eligible=True)
    return submitted


@pytest.fixture
def reviewer_two(secretariat_org):
    return factories.MembershipFactory(user=factories.UserFactory(username="reviewer2", first_name="Amina",
                                                                  last_name="Diallo"),
                                       organisation=secretariat_org, role=Role.REVIEWER).user


def test_secretariat_assigns_a_reviewer_to_several_requests(client_for, secretariat_officer, reviewer, eligible):
    kenya, nepal = eligible
    due = timezone.localdate() + datetime.timedelta(days=10)
    response = client_for(secretariat_officer).post(
        f"/secretariat/rounds/{kenya.round_id}/reviews/assign/",
        {"requests": [kenya.pk, nepal.pk], "reviewer": reviewer.pk, "due_date": due.isoformat()}, follow=True)
    assert response.status_code == 200
    assert "is assigned 2 requests, due" in response.content.decode()
    assignments = ReviewAssignment.objects.order_by("request_id")
    assert [(a.request, a.reviewer, a.due_date, a.assigned_by) for a in assignments] == [
        (kenya, reviewer, due, secretariat_officer), (nepal, reviewer, due, secretariat_officer)]


def test_assigning_twice_or_without_a_choice_is_refused_by_name(client_for, secretariat_officer, reviewer, eligible):
    kenya, nepal = eligible
    services.review_assign(user=secretariat_officer, requests=[kenya], reviewer=reviewer,
                           due_date=timezone.localdate())
    url = f"/secretariat/rounds/{kenya.round_id}/reviews/assign/"
    client = client_for(secretariat_officer)
    response = client.post(url, {"requests": [nepal.pk, kenya.pk], "reviewer": reviewer.pk,
                                 "due_date": timezone.localdate().isoformat()})
    assert response.status_code == 200  # the form again, with the mistakes named
    assert f"is already assigned to R{kenya.pk}" in response.content.decode()
    assert ReviewAssignment.objects.count() == 1  # all or nothing: Nepal's was not assigned either
    response = client.post(url, {"due_date": "2000-01-01"})
    errors = response.context["form"].errors
    assert errors["requests"] == ["Choose at least one request."]
    assert errors["reviewer"] == ["Choose a reviewer."]
    assert errors["due_date"] == ["The due date is in the past."]


def test_a_reviewer_based_in_the_requesting_state_cannot_review_it(secretariat_officer, state_a, eligible):
    from django.core.exceptions import ValidationError

    office = factories.OrganisationFactory(name="Nairobi review office", kind=OrganisationKind.SECRETARIAT,
                                           member_state=state_a)
    local = factories.MembershipFactory(user=factories.UserFactory(username="nairobi"), organisation=office,
                                        role=Role.REVIEWER).user
    kenya, nepal = eligible
    with pytest.raises(ValidationError, match="based in Kenya"):
        services.review_assign(user=secretariat_officer, requests=[kenya], reviewer=local,
                               due_date=timezone.localdate())
    assert services.review_assign(user=secretariat_officer, requests=[nepal], reviewer=local,
                                  due_date=timezone.localdate())


def test_only_reviewers_can_be_assigned_and_only_eligible_requests(secretariat_officer, ministry_officer_a,
                                                                   reviewer, submitted):
    from django.core.exceptions import ValidationError

    from allocation.exceptions import InvalidTransition

    kenya, _ = submitted
    with pytest.raises(InvalidTransition, match="reviewers are assigned to eligible requests"):
        services.review_assign(user=secretariat_officer, requests=[kenya], reviewer=reviewer,
                               due_date=timezone.localdate())
    services.request_set_eligibility(user=secretariat_officer, request=kenya, eligible=True)
    with pytest.raises(ValidationError, match="is not a reviewer"):
        services.review_assign(user=secretariat_officer, requests=[kenya], reviewer=ministry_officer_a,
                               due_date=timezone.localdate())


def test_review_board_shows_mean_spread_and_missing(client_for, secretariat_officer, reviewer, reviewer_two,
                                                     eligible):
    kenya, nepal = eligible
    third = factories.MembershipFactory(user=factories.UserFactory(username="reviewer3"),
                                        organisation=reviewer.membership.organisation, role=Role.REVIEWER).user
    services.review_assign(user=secretariat_officer, requests=[kenya], reviewer=reviewer,
                           due_date=timezone.localdate())
    services.review_assign(user=secretariat_officer, requests=[kenya], reviewer=reviewer_two,
                           due_date=timezone.localdate())
    services.review_assign(user=secretariat_officer, requests=[kenya, nepal], reviewer=third,
                           due_date=timezone.localdate())
    services.review_submit(user=reviewer, request=kenya, score=Decimal("0.6"))
    services.review_submit(user=reviewer_two, request=kenya, score=Decimal("0.9"))
    page = client_for(secretariat_officer).get(f"/secretariat/rounds/{kenya.round_id}/reviews/")
    rows = {row["request"].pk: row for row in page.context["board"]}
    assert rows[kenya.pk]["count"] == 2
    assert rows[kenya.pk]["mean"] == Decimal("0.75")
    assert rows[kenya.pk]["spread"] == Decimal("0.3")
    assert rows[kenya.pk]["missing"] == 1  # the third reviewer has not scored
    assert (rows[nepal.pk]["count"], rows[nepal.pk]["mean"], rows[nepal.pk]["missing"]) == (0, None, 1)
    missing = client_for(secretariat_officer).get(f"/secretariat/rounds/{kenya.round_id}/reviews/?show=missing")
    assert {row["request"].pk for row in missing.context["board"]} == {kenya.pk, nepal.pk}
    unscored = client_for(secretariat_officer).get(f"/secretariat/rounds/{kenya.round_id}/reviews/?show=unscored")
    assert [row["request"].pk for row in unscored.context["board"]] == [nepal.pk]


def test_unassign_before_the_review_but_not_after(client_for, secretariat_officer, reviewer, reviewer_two, eligible):
    kenya, _ = eligible
    first, = services.review_assign(user=secretariat_officer, requests=[kenya], reviewer=reviewer,
                                    due_date=timezone.localdate())
    second, = services.review_assign(user=secretariat_officer, requests=[kenya], reviewer=reviewer_two,
                                     due_date=timezone.localdate())
    services.review_submit(user=reviewer, request=kenya, score=Decimal("0.7"))
    client = client_for(secretariat_officer)
    response = client.post(f"/secretariat/assignments/{first.pk}/unassign/", follow=True)
    assert "a submitted review stays" in response.content.decode()
    client.post(f"/secretariat/assignments/{second.pk}/unassign/")
    assert list(ReviewAssignment.objects.all()) == [first]


# --- Policy ---------------------------------------------------------------------------------------


def _policy_data(policy, **changes):
    data = {f"income_{group}": weight for group, weight in policy["income_weights"].items()}
    data.update({f"sector_{sector}": weight for sector, weight in policy["sector_weights"].items()})
    for key in ("local_language_bonus", "open_weights_bonus", "small_model_bonus", "small_model_max_params_billion"):
        data[key] = policy[key]
    data.update(policy["cofinancing"])
    data.update(changes)
    return data


def test_secretariat_changes_an_equity_weight_kept_with_the_round(client_for, secretariat_officer, open_round):
    other = factories.RoundFactory()
    client = client_for(secretariat_officer)
    response = client.post(f"/secretariat/rounds/{open_round.pk}/policy/",
                           _policy_data(open_round.policy, income_LIC="3.5", sector_science="0.8"))
    assert response.status_code == 302
    open_round.refresh_from_db()
    other.refresh_from_db()
    assert open_round.policy["income_weights"]["LIC"] == 3.5
    assert open_round.policy["sector_weights"]["science"] == 0.8
    assert "public_services" not in open_round.policy["sector_weights"]  # left empty: weight 1
    assert other.policy["income_weights"]["LIC"] == 2.0  # another round keeps its own


def test_policy_mistakes_are_named_field_by_field(client_for, secretariat_officer, open_round):
    before = dict(open_round.policy)
    response = client_for(secretariat_officer).post(
        f"/secretariat/rounds/{open_round.pk}/policy/",
        _policy_data(open_round.policy, income_LIC="0", initial_share="1.5", accelerated_years="0",
                     sector_health="abc"))
    assert response.status_code == 200  # the form again, with the mistakes named
    errors = response.context["form"].errors
    assert errors["income_LIC"] == ["Must be greater than 0."]
    assert errors["initial_share"] == ["A share is between 0 and 1."]
    assert errors["accelerated_years"] == ["Must be at least 1 year."]
    assert errors["sector_health"] == ["Enter a number."]
    text = response.content.decode()
    assert '<a href="#id_income_LIC">Low income</a>: Must be greater than 0.' in text
    open_round.refresh_from_db()
    assert open_round.policy == before


def test_the_policy_of_a_published_round_is_shown_read_only(client_for, secretariat_officer, small_round, two_runs):
    services.run_approve(run=two_runs[1])
    services.round_publish(round_=small_round)
    client = client_for(secretariat_officer)
    page = client.get(f"/secretariat/rounds/{small_round.pk}/policy/")
    assert page.context["editable"] is False
    assert "<form method=\"post\" class=\"form policy-form\"" not in page.content.decode()
    assert ("Sector weight: Education", "2.5") in page.context["policy_rows"]
    response = client.post(f"/secretariat/rounds/{small_round.pk}/policy/",
                           _policy_data(small_round.policy, income_LIC="9"), follow=True)
    assert "its policy can no longer change" in response.content.decode()
    small_round.refresh_from_db()
    assert small_round.policy["income_weights"]["LIC"] == 2.0


# --- Comparing, approving, publishing -------------------------------------------------------------


def test_comparison_shows_what_changed_for_whom_biggest_change_first(client_for, secretariat_officer, small_round,
                                                                      two_runs):
    first, second = two_runs
    kenya, nepal = small_round.test_requests
    page = client_for(secretariat_officer).get(f"/secretariat/rounds/{small_round.pk}/compare/?a={first.pk}"
                                               f"&b={second.pk}")
    assert page.status_code == 200
    comparison = page.context["comparison"]
    rows = comparison["rows"]
    assert [row["request"] for row in rows] == [nepal, kenya]  # +28.6 points, then -19.0
    assert rows[0]["a"].fulfilment == pytest.approx(2 / 3, abs=1e-4)
    assert rows[0]["b"].fulfilment == pytest.approx(1000 / 1050, abs=1e-4)
    assert rows[1]["b"].fulfilment == pytest.approx(1000 / 2100, abs=1e-4)
    assert rows[0]["diff_pp"] == pytest.approx(100 * (1000 / 1050 - 2 / 3), abs=0.01)
    assert comparison["changed"] == 2
    assert comparison["policy"] == [{"key": "sector_weights.education", "a": 1.25, "b": 2.5,
                                     "label": "Sector weight: Education", "a_text": "1.25", "b_text": "2.5"}]
    states = {group["key"].iso3: group for group in comparison["by_state"]}
    assert states["KEN"]["a"] == pytest.approx(600, abs=0.1) and states["KEN"]["b"] == pytest.approx(428.57, abs=0.1)
    (lmic,) = comparison["by_income_group"]  # both states are lower-middle income: the total stays 1,000 h
    assert lmic["a"] == pytest.approx(1000, abs=0.1) and lmic["b"] == pytest.approx(1000, abs=0.1)
    text = page.content.decode()
    assert "+28.6" in text and "-19" in text
    by_state = client_for(secretariat_officer).get(f"/secretariat/rounds/{small_round.pk}/compare/?a={first.pk}"
                                                   f"&b={second.pk}&sort=state")
    assert [row["request"] for row in by_state.context["page"]] == [kenya, nepal]


def test_comparison_defaults_to_the_last_two_runs_and_refuses_a_foreign_run(client_for, secretariat_officer,
                                                                            small_round, two_runs):
    client = client_for(secretariat_officer)
    page = client.get(f"/secretariat/rounds/{small_round.pk}/compare/")
    assert (page.context["run_a"], page.context["run_b"]) == two_runs
    other = factories.RoundFactory(status=RoundStatus.CLOSED)
    response = client.get(f"/secretariat/rounds/{other.pk}/compare/?a={two_runs[0].pk}&b={two_runs[1].pk}")
    assert response.status_code == 200 and "needs two succeeded runs" in response.content.decode()


def test_approve_asks_for_confirmation_then_approves(client_for, secretariat_officer, small_round, two_runs):
    first, second = two_runs
    client = client_for(secretariat_officer)
    confirm = client.get(f"/secretariat/runs/{second.pk}/approve/")
    assert confirm.status_code == 200
    assert confirm.context["summary"]["served"] == 2
    assert confirm.context["summary"]["hours"] == pytest.approx(1000, abs=0.1)
    second.refresh_from_db()
    assert not second.is_approved  # looking is not approving
    client.post(f"/secretariat/runs/{second.pk}/approve/")
    second.refresh_from_db()
    assert second.is_approved
    client.post(f"/secretariat/runs/{first.pk}/approve/")  # the secretariat changes its mind
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_approved and not second.is_approved


def test_publish_needs_an_approved_run_then_publishes(client_for, secretariat_officer, small_round, two_runs):
    client = client_for(secretariat_officer)
    response = client.post(f"/secretariat/rounds/{small_round.pk}/publish/", follow=True)
    assert "Approve one run of the round before publishing it." in response.content.decode()
    small_round.refresh_from_db()
    assert small_round.status == RoundStatus.SOLVED
    services.run_approve(run=two_runs[1], user=secretariat_officer)
    assert client.get(f"/secretariat/rounds/{small_round.pk}/publish/").context["can_publish"] is True
    client.post(f"/secretariat/rounds/{small_round.pk}/publish/")
    small_round.refresh_from_db()
    assert small_round.status == RoundStatus.PUBLISHED and small_round.published_at is not None
    assert set(small_round.requests.values_list("status", flat=True)) == {RequestStatus.ALLOCATED}


# --- Co-financing ledger --------------------------------------------------------------------------


@pytest.fixture
def published(secretariat_officer, small_round, two_runs):
    services.run_approve(run=two_runs[1])
    services.round_publish(round_=small_round)
    return two_runs[1]


def test_ledger_lists_only_what_published_decisions_made_owed(client_for, secretariat_officer, published):
    page = client_for(secretariat_officer).get("/secretariat/cofinancing/")
    obligations = list(page.context["page"])
    assert {o.run_id for o in obligations} == {published.pk}  # not the obligations of the run not approved
    assert CofinancingObligation.objects.exclude(run=published).exists()
    totals = page.context["totals"]
    assert totals["count"] == len(obligations)
    assert totals["amount"] == sum(o.amount_usd for o in obligations)
    assert totals["paid"] == 0 and totals["overdue_count"] == 0


def test_overdue_is_computed_from_today_and_filtered(client_for, secretariat_officer, published):
    kenya = CofinancingObligation.objects.get(run=published, member_state__iso3="KEN")
    nepal = CofinancingObligation.objects.get(run=published, member_state__iso3="NPL")
    CofinancingObligation.objects.filter(pk=kenya.pk).update(due_date=timezone.localdate() - datetime.timedelta(1))
    client = client_for(secretariat_officer)
    assert list(client.get("/secretariat/cofinancing/?status=overdue").context["page"]) == [kenya]
    assert list(client.get("/secretariat/cofinancing/?status=due").context["page"]) == [nepal]
    assert list(client.get("/secretariat/cofinancing/?state=npl").context["page"]) == [nepal]
    totals = client.get("/secretariat/cofinancing/").context["totals"]
    assert totals["overdue"] == kenya.amount_usd and totals["overdue_count"] == 1
    assert "Overdue" in client.get("/secretariat/cofinancing/").content.decode()


def test_secretariat_records_a_payment_and_the_obligation_is_paid(client_for, secretariat_officer, published):
    kenya = CofinancingObligation.objects.get(run=published, member_state__iso3="KEN")
    client = client_for(secretariat_officer)
    half = (kenya.amount_usd / 2).quantize(Decimal("0.01"))
    url = f"/secretariat/cofinancing/{kenya.pk}/payment/"
    response = client.post(url, {"amount_usd": str(half), "paid_on": timezone.localdate().isoformat(),
                                 "next": "/secretariat/cofinancing/?state=KEN"})
    assert response.status_code == 302 and response.url == "/secretariat/cofinancing/?state=KEN"
    kenya.refresh_from_db()
    assert kenya.paid_usd == half and kenya.paid_at == timezone.localdate()
    client.post(url, {"amount_usd": str(kenya.amount_usd - half), "paid_on": timezone.localdate().isoformat()})
    assert list(client.get("/secretariat/cofinancing/?status=paid").context["page"]) == [kenya]


def test_payment_mistakes_are_named(client_for, secretariat_officer, published):
    kenya = CofinancingObligation.objects.get(run=published, member_state__iso3="KEN")
    url = f"/secretariat/cofinancing/{kenya.pk}/payment/"
    client = client_for(secretariat_officer)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(url, {"amount_usd": str(kenya.amount_usd + 1), "paid_on": tomorrow})
    assert response.status_code == 200  # the form again, with the mistakes named
    errors = response.context["form"].errors
    assert errors["amount_usd"][0].startswith("The payment exceeds what is outstanding")
    assert errors["paid_on"] == ["The payment date is in the future."]
    response = client.post(url, {"amount_usd": "-5", "paid_on": ""})
    assert response.context["form"].errors == {"amount_usd": ["A payment must be a positive amount."],
                                               "paid_on": ["Give the date of the payment."]}
    kenya.refresh_from_db()
    assert kenya.paid_usd == 0


def test_an_obligation_of_a_run_not_approved_has_no_payment_page(client_for, secretariat_officer, published):
    stray = CofinancingObligation.objects.exclude(run=published).first()
    assert client_for(secretariat_officer).get(f"/secretariat/cofinancing/{stray.pk}/payment/").status_code == 404


def test_after_a_refused_decision_the_next_one_returns_to_the_filtered_queue(client_for, secretariat_officer,
                                                                           submitted):
    _, nepal = submitted
    client = client_for(secretariat_officer)
    queue = f"/secretariat/rounds/{nepal.round_id}/eligibility/?status=submitted"
    page = client.post(f"/secretariat/requests/{nepal.pk}/eligibility/",
                       {"decision": "ineligible", "note": "", "next": queue + f"#request-{nepal.pk}"})
    assert f'name="next" value="{queue}#request-{nepal.pk}"' in page.content.decode().replace("&amp;", "&")
    assert f'action="/secretariat/rounds/{nepal.round_id}/eligibility/"' in page.content.decode()
    response = client.post(f"/secretariat/requests/{nepal.pk}/eligibility/",
                           {"decision": "ineligible", "note": "Out of scope.", "next": f"{queue}#request-{nepal.pk}"})
    assert response.url == f"{queue}#request-{nepal.pk}"


def test_a_refused_decision_shows_the_queue_as_it_was_filtered(client_for, secretariat_officer, submitted):
    kenya, nepal = submitted
    client = client_for(secretariat_officer)
    queue = f"/secretariat/rounds/{nepal.round_id}/eligibility/?sector=education"
    page = client.post(f"/secretariat/requests/{nepal.pk}/eligibility/",
                       {"decision": "ineligible", "note": "", "next": queue})
    assert [row["request"] for row in page.context["rows"]] == [nepal]
    assert page.context["rows"][0]["form"].errors["note"]
