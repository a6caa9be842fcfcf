"""Compute requests: a ministry sees and edits only its own state's (another's is a 404), reviewers see
submitted ones, the secretariat decides eligibility; results appear once the round is published."""
from decimal import Decimal

import pytest

from allocation.models import ComputeRequest, RequestStatus, Review
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft_a(ministry_a, open_round, h100):
    return factories.ComputeRequestFactory(ministry=ministry_a, round=open_round, title="Kenyan triage",
                                           acceptable_hardware=[h100])


@pytest.fixture
def submitted_a(ministry_a, open_round, h100):
    return factories.ComputeRequestFactory(ministry=ministry_a, round=open_round, status=RequestStatus.SUBMITTED,
                                           acceptable_hardware=[h100])


def request_payload(round_, **overrides):
    payload = {
        "round": round_.pk, "title": "Maize disease model", "abstract": "Fine-tune a small vision model.",
        "sector": "agriculture", "h100e_hours": "2000", "min_h100e_hours": "500",
        "acceptable_hardware": ["NVIDIA_H100_SXM5_80GB"], "data_residency_regions": ["SSA"],
        "local_language": False, "open_weights": True, "params_billion": "3",
    }
    payload.update(overrides)
    return payload


def test_ministry_drafts_a_request_for_its_state(api_for, ministry_officer_a, ministry_a, state_a, open_round, h100):
    response = api_for(ministry_officer_a).post("/api/requests/", request_payload(open_round), format="json")
    assert response.status_code == 201, response.json()
    saved = ComputeRequest.objects.get()
    assert (saved.member_state, saved.ministry, saved.status, saved.created_by) == (
        state_a, ministry_a, RequestStatus.DRAFT, ministry_officer_a)
    assert saved.h100e_hours == Decimal("2000") and list(saved.acceptable_hardware.all()) == [h100]
    body = response.json()
    assert body["member_state"] == "KEN" and body["status"] == "draft" and body["result"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min_h100e_hours": "3000"}, "min_h100e_hours"),
        ({"h100e_hours": "-10"}, "h100e_hours"),
        ({"h100e_hours": "0"}, "h100e_hours"),
        ({"h100e_hours": "lots"}, "h100e_hours"),
        ({"acceptable_hardware": ["NO_SUCH_GPU"]}, "acceptable_hardware"),
        ({"acceptable_hardware": []}, "acceptable_hardware"),
        ({"acceptable_hardware": "NVIDIA_H100_SXM5_80GB"}, "acceptable_hardware"),
        ({"sector": "astrology"}, "sector"),
        ({"data_residency_regions": ["MARS"]}, "data_residency_regions"),
        ({"open_weights": "perhaps"}, "open_weights"),
        ({"params_billion": "-1"}, "params_billion"),
        ({"title": ""}, "title"),
        ({"round": "abc"}, "round"),
        ({"status": "allocated"}, "status"),
    ],
)
def test_bad_requests_are_400s_naming_the_field(api_for, ministry_officer_a, open_round, h100, change, field):
    response = api_for(ministry_officer_a).post("/api/requests/", request_payload(open_round, **change),
                                                format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not ComputeRequest.objects.exists()


def test_a_request_body_that_is_not_an_object_is_a_400(api_for, ministry_officer_a):
    response = api_for(ministry_officer_a).post("/api/requests/", [1, 2], format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_only_ministry_officers_draft_requests(api_for, donor_officer, secretariat_officer, reviewer, open_round, h100):
    for user in (donor_officer, secretariat_officer, reviewer):
        response = api_for(user).post("/api/requests/", request_payload(open_round), format="json")
        assert response.status_code == 403
        assert "ministry officer" in response.json()["message"]
    assert not ComputeRequest.objects.exists()


def test_ministry_edits_its_draft(api_for, ministry_officer_a, draft_a, a100):
    response = api_for(ministry_officer_a).patch(
        f"/api/requests/{draft_a.pk}/", {"title": "Triage v2", "acceptable_hardware": [a100.key]}, format="json"
    )
    assert response.status_code == 200
    draft_a.refresh_from_db()
    assert draft_a.title == "Triage v2"
    assert list(draft_a.acceptable_hardware.all()) == [a100]


def test_a_patch_breaking_a_rule_leaves_the_draft_unchanged(api_for, ministry_officer_a, draft_a):
    response = api_for(ministry_officer_a).patch(
        f"/api/requests/{draft_a.pk}/", {"title": "Shrunk", "h100e_hours": "10", "min_h100e_hours": "20"},
        format="json",
    )
    assert response.status_code == 400 and "min_h100e_hours" in response.json()
    draft_a.refresh_from_db()
    assert draft_a.title == "Kenyan triage" and draft_a.h100e_hours == Decimal("1000")


def test_a_submitted_request_can_no_longer_be_edited(api_for, ministry_officer_a, submitted_a):
    response = api_for(ministry_officer_a).patch(f"/api/requests/{submitted_a.pk}/", {"title": "Late"},
                                                 format="json")
    assert response.status_code == 400
    assert response.json()["extra"] == {"status": "submitted"}


def test_ministry_b_cannot_read_patch_or_submit_ministry_as_request(api_for, ministry_officer_b, draft_a):
    api = api_for(ministry_officer_b)
    assert api.get(f"/api/requests/{draft_a.pk}/").status_code == 404
    patched = api.patch(f"/api/requests/{draft_a.pk}/", {"title": "Hijacked"}, format="json")
    assert patched.status_code == 404
    assert api.post(f"/api/requests/{draft_a.pk}/submit/").status_code == 404
    assert api.post(f"/api/requests/{draft_a.pk}/withdraw/").status_code == 404
    assert api.get("/api/requests/").json()["count"] == 0
    draft_a.refresh_from_db()
    assert (draft_a.title, draft_a.status) == ("Kenyan triage", RequestStatus.DRAFT)


def test_unknown_and_malformed_request_ids_are_404s(api_for, ministry_officer_a):
    api = api_for(ministry_officer_a)
    assert api.get("/api/requests/999999/").status_code == 404
    assert api.get(f"/api/requests/{10**30}/").status_code == 404
    assert api.post("/api/requests/abc/submit/").status_code == 404


def test_ministry_submits_and_withdraws_its_request(api_for, ministry_officer_a, draft_a):
    api = api_for(ministry_officer_a)
    response = api.post(f"/api/requests/{draft_a.pk}/submit/")
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    draft_a.refresh_from_db()
    assert draft_a.status == RequestStatus.SUBMITTED and draft_a.submitted_at is not None
    assert api.post(f"/api/requests/{draft_a.pk}/submit/").status_code == 400
    assert api.post(f"/api/requests/{draft_a.pk}/withdraw/").status_code == 200
    draft_a.refresh_from_db()
    assert draft_a.status == RequestStatus.WITHDRAWN


def test_ministry_lists_only_its_own_states_requests(api_for, ministry_officer_a, ministry_b, draft_a, open_round,
                                                    h100):
    factories.ComputeRequestFactory(ministry=ministry_b, round=open_round, acceptable_hardware=[h100])
    listed = api_for(ministry_officer_a).get("/api/requests/").json()["results"]
    assert [r["id"] for r in listed] == [draft_a.pk]


def test_reviewers_see_submitted_requests_not_drafts(api_for, reviewer, draft_a, submitted_a):
    api = api_for(reviewer)
    assert [r["id"] for r in api.get("/api/requests/").json()["results"]] == [submitted_a.pk]
    assert api.get(f"/api/requests/{draft_a.pk}/").status_code == 404
    assert api.get("/api/requests/", {"status": "submitted", "member_state": "ken"}).json()["count"] == 1


def test_donors_and_the_public_cannot_read_requests(api_client, api_for, donor_officer, submitted_a):
    assert api_for(donor_officer).get("/api/requests/").status_code == 403
    assert api_for(donor_officer).get(f"/api/requests/{submitted_a.pk}/").status_code == 403
    assert api_client.get("/api/requests/").status_code in (401, 403)


def test_secretariat_decides_eligibility(api_for, secretariat_officer, submitted_a):
    api = api_for(secretariat_officer)
    refused = api.post(f"/api/requests/{submitted_a.pk}/eligibility/", {"eligible": False}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()
    missing = api.post(f"/api/requests/{submitted_a.pk}/eligibility/", {"note": "fine"}, format="json")
    assert missing.status_code == 400 and "eligible" in missing.json()
    submitted_a.refresh_from_db()
    assert submitted_a.status == RequestStatus.SUBMITTED

    response = api.post(f"/api/requests/{submitted_a.pk}/eligibility/", {"eligible": True, "note": "In scope"},
                        format="json")
    assert response.status_code == 200
    submitted_a.refresh_from_db()
    assert (submitted_a.status, submitted_a.eligibility_note) == (RequestStatus.ELIGIBLE, "In scope")


def test_only_the_secretariat_decides_eligibility(api_for, ministry_officer_a, reviewer, submitted_a):
    for user in (ministry_officer_a, reviewer):
        response = api_for(user).post(f"/api/requests/{submitted_a.pk}/eligibility/", {"eligible": True},
                                      format="json")
        assert response.status_code == 403
    submitted_a.refresh_from_db()
    assert submitted_a.status == RequestStatus.SUBMITTED


def test_a_published_request_carries_its_result_and_can_be_accepted(api_for, ministry_officer_a, published_world):
    req_a = published_world["req_a"]
    api = api_for(ministry_officer_a)
    body = api.get(f"/api/requests/{req_a.pk}/").json()
    assert body["result"]["run"] == published_world["published_run"].pk
    assert body["result"]["allocated_h100e_hours"] == pytest.approx(431.7)
    assert body["result"]["fulfilment"] == pytest.approx(0.4317)
    assert body["result"]["explanation"]["reason"] == "fair_share"
    unpublished = api.get(f"/api/requests/{published_world['req_solved'].pk}/").json()
    assert unpublished["result"] is None

    response = api.post(f"/api/requests/{req_a.pk}/accept/")
    assert response.status_code == 200
    req_a.refresh_from_db()
    assert req_a.status == RequestStatus.ACCEPTED
    again = api.post(f"/api/requests/{req_a.pk}/decline/")
    assert again.status_code == 400 and "already accepted" in again.json()["message"]


def test_ministry_declines_an_award(api_for, ministry_officer_b, published_world):
    req_b = published_world["req_b"]
    response = api_for(ministry_officer_b).post(f"/api/requests/{req_b.pk}/decline/")
    assert response.status_code == 200
    req_b.refresh_from_db()
    assert req_b.status == RequestStatus.DECLINED
    assert api_for(ministry_officer_b).post(f"/api/requests/{published_world['req_a'].pk}/accept/").status_code == 404


# --- Reviews ------------------------------------------------------------------------------------


@pytest.fixture
def eligible_a(ministry_a, open_round, h100):
    return factories.ComputeRequestFactory(ministry=ministry_a, round=open_round, status=RequestStatus.ELIGIBLE,
                                           acceptable_hardware=[h100])


def test_reviewer_scores_an_eligible_request(api_for, reviewer, eligible_a):
    response = api_for(reviewer).post("/api/reviews/", {"request": eligible_a.pk, "score": "0.750",
                                                        "comments": "Sound plan"}, format="json")
    assert response.status_code == 201
    review = Review.objects.get()
    assert (review.reviewer, review.score, review.comments) == (reviewer, Decimal("0.750"), "Sound plan")
    eligible_a.refresh_from_db()
    assert (eligible_a.status, eligible_a.score) == (RequestStatus.SCORED, Decimal("0.750"))
    assert response.json()["reviewer"] == "reviewer"


def test_a_reviewer_reviews_once_and_lists_its_own_reviews(api_for, reviewer, secretariat_officer, eligible_a):
    api = api_for(reviewer)
    assert api.post("/api/reviews/", {"request": eligible_a.pk, "score": "0.5"}, format="json").status_code == 201
    twice = api.post("/api/reviews/", {"request": eligible_a.pk, "score": "0.9"}, format="json")
    assert twice.status_code == 400 and "already reviewed" in twice.json()["message"]
    other = factories.ReviewFactory(request=eligible_a, reviewer=factories.UserFactory(username="someone"))
    mine = api.get("/api/reviews/").json()["results"]
    assert [r["score"] for r in mine] == ["0.500"]
    assert api.get(f"/api/reviews/{other.pk}/").status_code == 404
    assert api_for(secretariat_officer).get("/api/reviews/", {"request": eligible_a.pk}).json()["count"] == 2


@pytest.mark.parametrize(("payload", "field"), [({"score": "1.5"}, "score"), ({"score": "high"}, "score"),
                                                 ({"request": 999999, "score": "0.5"}, "request")])
def test_bad_reviews_are_400s_naming_the_field(api_for, reviewer, eligible_a, payload, field):
    response = api_for(reviewer).post("/api/reviews/", {"request": eligible_a.pk, **payload}, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Review.objects.exists()


def test_reviewing_a_draft_or_by_a_ministry_is_refused(api_for, reviewer, ministry_officer_a, eligible_a, draft_a):
    assert api_for(reviewer).post("/api/reviews/", {"request": draft_a.pk, "score": "0.5"},
                                  format="json").status_code == 400
    response = api_for(ministry_officer_a).post("/api/reviews/", {"request": eligible_a.pk, "score": "1"},
                                                format="json")
    assert response.status_code == 403
    assert not Review.objects.exists()
