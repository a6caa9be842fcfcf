"""/api/appeals/: ministries lodge, list and withdraw their state's appeals; the secretariat reviews and
answers; nobody else sees any."""
import pytest

from allocation import services
from allocation.models import Appeal

pytestmark = pytest.mark.django_db

REASONS = "Our request was scored before the ethics approval we attached was read."


@pytest.fixture
def kenya(published_small_round):
    return published_small_round.test_requests[0]


@pytest.fixture
def appeal(kenya, ministry_officer_a):
    return services.appeal_lodge(user=ministry_officer_a, request=kenya, reasons=REASONS)


def test_ministry_lodges_an_appeal(api_for, ministry_officer_a, kenya):
    response = api_for(ministry_officer_a).post("/api/appeals/", {"request": kenya.pk, "reasons": REASONS},
                                                format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "lodged" and body["request"] == kenya.pk and body["member_state"] == "KEN"
    assert body["lodged_by"] == "officer_a" and body["answer"] == "" and body["remedy"] == ""
    assert Appeal.objects.get().pk == body["id"]


def test_a_second_open_appeal_is_refused_with_a_message(api_for, ministry_officer_a, kenya, appeal):
    response = api_for(ministry_officer_a).post("/api/appeals/", {"request": kenya.pk, "reasons": REASONS},
                                                format="json")
    assert response.status_code == 400
    assert "already has an open appeal" in response.json()["message"]
    assert Appeal.objects.count() == 1


def test_short_reasons_are_refused_naming_the_field(api_for, ministry_officer_a, kenya):
    response = api_for(ministry_officer_a).post("/api/appeals/", {"request": kenya.pk, "reasons": "No."},
                                                format="json")
    assert response.status_code == 400 and "reasons" in response.json()


def test_ministry_cannot_appeal_another_states_request(api_for, ministry_officer_b, kenya):
    response = api_for(ministry_officer_b).post("/api/appeals/", {"request": kenya.pk, "reasons": REASONS},
                                                format="json")
    assert response.status_code == 400 and "request" in response.json()  # an unknown id to Nepal
    assert Appeal.objects.count() == 0


def test_ministry_lists_only_its_own_states_appeals(api_for, ministry_officer_a, ministry_officer_b, appeal,
                                                    published_small_round):
    nepal = published_small_round.test_requests[1]
    services.appeal_lodge(user=ministry_officer_b, request=nepal, reasons=REASONS)
    mine = api_for(ministry_officer_a).get("/api/appeals/").json()
    assert [a["id"] for a in mine["results"]] == [appeal.pk]
    assert api_for(ministry_officer_b).get(f"/api/appeals/{appeal.pk}/").status_code == 404


def test_secretariat_lists_all_appeals_and_filters_by_status(api_for, secretariat_officer, appeal):
    api = api_for(secretariat_officer)
    assert api.get("/api/appeals/").json()["count"] == 1
    assert api.get("/api/appeals/", {"status": "upheld"}).json()["count"] == 0


@pytest.mark.parametrize("who", ["donor_officer", "provider_officer", "reviewer"])
def test_other_roles_see_no_appeals(api_for, request, who, appeal):
    api = api_for(request.getfixturevalue(who))
    assert api.get("/api/appeals/").status_code == 403
    assert api.get(f"/api/appeals/{appeal.pk}/").status_code == 403


def test_the_public_sees_no_appeals(api_client, appeal):
    assert api_client.get("/api/appeals/").status_code in (401, 403)
    assert api_client.get(f"/api/appeals/{appeal.pk}/").status_code in (401, 403)


def test_secretariat_reviews_and_upholds_an_appeal(api_for, secretariat_officer, appeal):
    api = api_for(secretariat_officer)
    assert api.post(f"/api/appeals/{appeal.pk}/review/").json()["status"] == "under_review"
    refused = api.post(f"/api/appeals/{appeal.pk}/answer/", {"decision": "upheld", "answer": "Agreed."},
                       format="json")
    assert refused.status_code == 400 and "remedy" in refused.json()
    response = api.post(f"/api/appeals/{appeal.pk}/answer/",
                        {"decision": "upheld", "answer": "Reconsidered in round 2.", "remedy": "reconsider_next_round"},
                        format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "upheld" and body["remedy"] == "reconsider_next_round"
    assert body["answered_by"] == "secretariat" and body["answered_at"]


def test_ministry_cannot_answer_its_own_appeal(api_for, ministry_officer_a, appeal):
    response = api_for(ministry_officer_a).post(f"/api/appeals/{appeal.pk}/answer/",
                                                {"decision": "rejected", "answer": "No."}, format="json")
    assert response.status_code == 403
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.LODGED


def test_ministry_withdraws_its_appeal_and_the_other_state_cannot(api_for, ministry_officer_a, ministry_officer_b,
                                                                   appeal):
    assert api_for(ministry_officer_b).post(f"/api/appeals/{appeal.pk}/withdraw/").status_code == 404
    response = api_for(ministry_officer_a).post(f"/api/appeals/{appeal.pk}/withdraw/")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    again = api_for(ministry_officer_a).post(f"/api/appeals/{appeal.pk}/withdraw/")
    assert again.status_code == 400 and "only an open appeal" in again.json()["message"]


def test_unknown_fields_are_refused(api_for, ministry_officer_a, kenya):
    response = api_for(ministry_officer_a).post(
        "/api/appeals/", {"request": kenya.pk, "reasons": REASONS, "status": "upheld"}, format="json")
    assert response.status_code == 400 and response.json() == {"status": ["Unknown field."]}
