"""Hardware, calls and rounds: who sees which round, and the secretariat's actions on rounds and runs."""
import copy
from decimal import Decimal

import pytest
from django.conf import settings

from allocation.models import AllocationRun, RequestStatus, Round, RoundStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_public_lists_hardware_with_h100e_factor(api_client, h100, a100):
    response = api_client.get("/api/hardware/", {"ordering": "h100e"})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["key"], r["h100e"]) for r in rows] == [(a100.key, "0.317"), (h100.key, "1.000")]
    assert api_client.get(f"/api/hardware/{a100.key}/").json()["name"] == a100.name
    assert api_client.get("/api/hardware/NO_SUCH_GPU/").status_code == 404


def test_anonymous_sees_only_published_rounds_and_their_calls(api_client, open_round, published_world):
    response = api_client.get("/api/rounds/")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [published_world["published"].pk]
    assert api_client.get(f"/api/rounds/{open_round.pk}/").status_code == 404
    assert api_client.get(f"/api/rounds/{published_world['solved'].pk}/").status_code == 404
    calls = api_client.get("/api/calls/").json()["results"]
    assert [c["id"] for c in calls] == [published_world["published"].call_id]
    assert [r["id"] for r in calls[0]["rounds"]] == [published_world["published"].pk]
    assert api_client.get(f"/api/calls/{open_round.call_id}/").status_code == 404


def test_members_see_every_round_with_status_deadlines_and_policy(api_for, ministry_officer_a, open_round,
                                                                 closed_round):
    api = api_for(ministry_officer_a)
    listed = api.get("/api/rounds/", {"status": "open"}).json()["results"]
    assert [r["id"] for r in listed] == [open_round.pk]
    detail = api.get(f"/api/rounds/{closed_round.pk}/").json()
    assert detail["status"] == "closed"
    assert detail["submission_deadline"] and detail["opens_at"]
    assert detail["policy"]["income_weights"]["LIC"] == 2.0
    assert detail["published_run"] is None
    by_call = api.get("/api/rounds/", {"call": open_round.call_id}).json()["results"]
    assert [r["id"] for r in by_call] == [open_round.pk]
    assert api.get("/api/rounds/", {"call": "abc"}).status_code == 400


def test_secretariat_closes_and_reopens_a_round(api_for, secretariat_officer, open_round):
    api = api_for(secretariat_officer)
    response = api.post(f"/api/rounds/{open_round.pk}/close/")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    open_round.refresh_from_db()
    assert open_round.status == RoundStatus.CLOSED
    response = api.post(f"/api/rounds/{open_round.pk}/reopen/")
    assert response.status_code == 200
    open_round.refresh_from_db()
    assert open_round.status == RoundStatus.OPEN


def test_closing_a_closed_round_is_a_400_naming_the_status(api_for, secretariat_officer, closed_round):
    response = api_for(secretariat_officer).post(f"/api/rounds/{closed_round.pk}/close/")
    assert response.status_code == 400
    assert response.json()["extra"] == {"status": "closed"}


def test_only_the_secretariat_acts_on_rounds(api_client, api_for, ministry_officer_a, donor_officer, open_round):
    for user in (ministry_officer_a, donor_officer):
        response = api_for(user).post(f"/api/rounds/{open_round.pk}/close/")
        assert response.status_code == 403
        assert "secretariat" in response.json()["message"]
    assert api_client.post(f"/api/rounds/{open_round.pk}/close/").status_code in (401, 403)
    open_round.refresh_from_db()
    assert open_round.status == RoundStatus.OPEN


def test_solving_an_open_round_is_refused(api_for, secretariat_officer, open_round):
    response = api_for(secretariat_officer).post(f"/api/rounds/{open_round.pk}/solve/")
    assert response.status_code == 400
    assert response.json()["extra"]["status"] == "open"
    assert not AllocationRun.objects.exists()


def test_solving_a_round_with_unchecked_requests_names_them(api_for, secretariat_officer, closed_round,
                                                            ministry_a, h100):
    waiting = factories.ComputeRequestFactory(round=closed_round, ministry=ministry_a,
                                              status=RequestStatus.SUBMITTED, acceptable_hardware=[h100])
    response = api_for(secretariat_officer).post(f"/api/rounds/{closed_round.pk}/solve/")
    assert response.status_code == 400
    assert f"R{waiting.pk}" in response.json()["message"]
    closed_round.refresh_from_db()
    assert closed_round.status == RoundStatus.CLOSED
    assert not AllocationRun.objects.exists()


def test_solving_a_ready_round_queues_a_run_after_commit(api_for, secretariat_officer, closed_round, ministry_a,
                                                         provider_org, h100, django_capture_on_commit_callbacks):
    factories.ComputeRequestFactory(round=closed_round, ministry=ministry_a, status=RequestStatus.SCORED,
                                    score=Decimal("0.9"), acceptable_hardware=[h100])
    factories.CapacityLotFactory(pledge__round=closed_round, provider=provider_org, hardware=h100)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_for(secretariat_officer).post(f"/api/rounds/{closed_round.pk}/solve/")
    assert response.status_code == 202
    run = AllocationRun.objects.get()
    assert response.json() == {"run": run.pk, "round": closed_round.pk, "status": "queued"}
    assert response["Location"] == f"/api/runs/{run.pk}/"
    assert len(callbacks) == 1
    closed_round.refresh_from_db()
    assert closed_round.status == RoundStatus.SOLVING
    assert run.scenario is not None and len(run.scenario_sha256) == 64


def test_secretariat_replaces_the_policy(api_for, secretariat_officer, open_round):
    policy = copy.deepcopy(settings.GACP["DEFAULT_POLICY"])
    policy["income_weights"]["LIC"] = 3.0
    response = api_for(secretariat_officer).put(f"/api/rounds/{open_round.pk}/policy/", policy, format="json")
    assert response.status_code == 200
    open_round.refresh_from_db()
    assert open_round.policy["income_weights"]["LIC"] == 3.0
    assert response.json()["policy"]["income_weights"]["LIC"] == 3.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p["income_weights"].pop("HIC"), "income_weights"),
        (lambda p: p["income_weights"].update(LIC=-1), "income_weights"),
        (lambda p: p["cofinancing"].update(initial_share=1.5), "cofinancing.initial_share"),
        (lambda p: p.update(open_weights_bonus="lots"), "open_weights_bonus"),
        (lambda p: p["sector_weights"].update(astrology=2), "sector_weights"),
        (lambda p: p.update(surprise=1), "surprise"),
        (lambda p: p.update(small_model_bonus="nan"), "small_model_bonus"),
        (lambda p: p.pop("cofinancing"), "cofinancing"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_key(api_for, secretariat_officer, open_round, change, field):
    policy = copy.deepcopy(settings.GACP["DEFAULT_POLICY"])
    change(policy)
    response = api_for(secretariat_officer).put(f"/api/rounds/{open_round.pk}/policy/", policy, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body or field in body.get("extra", {}), body
    assert Round.objects.get(pk=open_round.pk).policy == settings.GACP["DEFAULT_POLICY"]


def test_secretariat_sees_every_run_with_figures(api_for, secretariat_officer, published_world):
    response = api_for(secretariat_officer).get(f"/api/rounds/{published_world['published'].pk}/runs/")
    assert response.status_code == 200
    runs = {r["id"]: r for r in response.json()["results"]}
    assert set(runs) == {published_world["published_run"].pk, published_world["losing_run"].pk}
    figures = runs[published_world["published_run"].pk]["figures"]
    assert figures["requests"] == 3 and figures["lines"] == 4
    assert figures["allocated_h100e_hours"] == pytest.approx(931.7)
    assert figures["cofinancing_usd"] == "96.00"


def test_public_sees_only_the_approved_run_of_a_published_round(api_client, published_world):
    response = api_client.get(f"/api/rounds/{published_world['published'].pk}/runs/")
    assert [r["id"] for r in response.json()["results"]] == [published_world["published_run"].pk]
    assert api_client.get(f"/api/runs/{published_world['published_run'].pk}/").status_code == 200
    assert api_client.get(f"/api/runs/{published_world['losing_run'].pk}/").status_code == 404
    assert api_client.get(f"/api/runs/{published_world['solved_run'].pk}/").status_code == 404
    assert api_client.get(f"/api/rounds/{published_world['solved'].pk}/runs/").status_code == 404
    detail = api_client.get(f"/api/rounds/{published_world['published'].pk}/").json()
    assert detail["published_run"] == published_world["published_run"].pk


def test_secretariat_approves_a_run_and_publishes_the_round(api_for, secretariat_officer, published_world):
    solved, run = published_world["solved"], published_world["solved_run"]
    run.is_approved = False
    run.save()
    api = api_for(secretariat_officer)
    response = api.post(f"/api/runs/{run.pk}/approve/")
    assert response.status_code == 200 and response.json()["is_approved"] is True
    run.refresh_from_db()
    assert run.is_approved

    response = api.post(f"/api/rounds/{solved.pk}/publish/")
    assert response.status_code == 200
    assert response.json()["published_run"] == run.pk
    solved.refresh_from_db()
    assert solved.status == RoundStatus.PUBLISHED and solved.published_at is not None
    published_world["req_solved"].refresh_from_db()
    assert published_world["req_solved"].status == RequestStatus.ALLOCATED


def test_approving_a_run_of_a_published_round_is_refused(api_for, secretariat_officer, published_world):
    losing = published_world["losing_run"]
    response = api_for(secretariat_officer).post(f"/api/runs/{losing.pk}/approve/")
    assert response.status_code == 400
    losing.refresh_from_db()
    assert not losing.is_approved


def test_others_cannot_approve_runs(api_for, reviewer, published_world):
    run = published_world["solved_run"]
    response = api_for(reviewer).post(f"/api/runs/{run.pk}/approve/")
    assert response.status_code == 403
