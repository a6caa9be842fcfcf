"""The reviewer's pages: the requests assigned to them and the scoring form. A reviewer scores only what is
assigned; the request's score becomes the mean of its reviews and the request becomes scored."""
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from allocation import services
from allocation.models import RequestStatus, Review, RoundStatus
from members.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned(secretariat_officer, reviewer, ministry_a, ministry_b):
    """Two eligible requests of a closed round: Kenya's assigned to the reviewer, Nepal's to nobody."""
    round_ = factories.RoundFactory(status=RoundStatus.CLOSED)
    kenya = factories.ComputeRequestFactory(round=round_, ministry=ministry_a, status=RequestStatus.ELIGIBLE,
                                            title="Maternal triage")
    nepal = factories.ComputeRequestFactory(round=round_, ministry=ministry_b, status=RequestStatus.ELIGIBLE)
    services.review_assign(user=secretariat_officer, requests=[kenya], reviewer=reviewer,
                           due_date=timezone.localdate() + datetime.timedelta(days=7))
    return kenya, nepal


def test_reviewer_sees_the_requests_assigned_to_them(client_for, reviewer, assigned):
    kenya, nepal = assigned
    page = client_for(reviewer).get("/reviews/")
    assert page.status_code == 200
    assert [row["request"] for row in page.context["rows"]] == [kenya]
    assert page.context["to_do"] == 1
    assert "Maternal triage" in page.content.decode()
    assert 'href="/reviews/"' in page.content.decode()  # the "My reviews" entry of the navigation


def test_reviewer_scores_an_assigned_request_which_becomes_scored(client_for, reviewer, assigned):
    kenya, _ = assigned
    client = client_for(reviewer)
    form = client.get(f"/reviews/requests/{kenya.pk}/")
    assert form.status_code == 200 and "Submit the score" in form.content.decode()
    response = client.post(f"/reviews/requests/{kenya.pk}/", {"score": "0.85", "comments": "Strong and feasible."})
    assert response.status_code == 302 and response.url == "/reviews/"
    kenya.refresh_from_db()
    assert kenya.status == RequestStatus.SCORED and kenya.score == Decimal("0.850")
    review = Review.objects.get(request=kenya, reviewer=reviewer)
    assert (review.score, review.comments) == (Decimal("0.850"), "Strong and feasible.")
    assert client.get("/reviews/").context["to_do"] == 0


def test_the_request_score_is_the_mean_of_its_reviews(client_for, secretariat_officer, reviewer, secretariat_org,
                                                      assigned):
    kenya, _ = assigned
    second = factories.MembershipFactory(user=factories.UserFactory(username="second"), organisation=secretariat_org,
                                         role=Role.REVIEWER).user
    services.review_assign(user=secretariat_officer, requests=[kenya], reviewer=second,
                           due_date=timezone.localdate())
    client_for(reviewer).post(f"/reviews/requests/{kenya.pk}/", {"score": "0.6"})
    client_for(second).post(f"/reviews/requests/{kenya.pk}/", {"score": "0.9"})
    kenya.refresh_from_db()
    assert kenya.score == Decimal("0.750")


def test_a_score_outside_zero_to_one_is_refused_with_the_field_named(client_for, reviewer, assigned):
    kenya, _ = assigned
    client = client_for(reviewer)
    for value, message in (("1.2", "The score is between 0 and 1."), ("", "Give a score between 0 and 1."),
                           ("abc", "The score is a number between 0 and 1, such as 0.75."),
                           ("0.12345", "Give the score with at most 3 decimals.")):
        response = client.post(f"/reviews/requests/{kenya.pk}/", {"score": value})
        assert response.status_code == 200  # the form again, with the mistakes named
        assert response.context["form"].errors["score"] == [message]
    kenya.refresh_from_db()
    assert kenya.status == RequestStatus.ELIGIBLE and not Review.objects.exists()


def test_a_reviewer_cannot_score_twice(client_for, reviewer, assigned):
    kenya, _ = assigned
    client = client_for(reviewer)
    client.post(f"/reviews/requests/{kenya.pk}/", {"score": "0.5"})
    response = client.post(f"/reviews/requests/{kenya.pk}/", {"score": "0.9"}, follow=True)
    assert "You have already reviewed this request." in response.content.decode()
    assert Review.objects.get().score == Decimal("0.500")


def test_reviewer_cannot_open_or_score_a_request_not_assigned_to_them(client_for, reviewer, assigned):
    _, nepal = assigned
    client = client_for(reviewer)
    assert client.get(f"/reviews/requests/{nepal.pk}/").status_code == 404
    assert client.post(f"/reviews/requests/{nepal.pk}/", {"score": "0.9"}).status_code == 404
    assert client.get("/reviews/requests/999999/").status_code == 404
    nepal.refresh_from_db()
    assert nepal.status == RequestStatus.ELIGIBLE and not Review.objects.exists()


@pytest.mark.parametrize("role", ["ministry_officer_a", "donor_officer", "provider_officer"])
def test_other_roles_have_no_reviews_page_and_score_nothing(request, client_for, role, assigned):
    kenya, _ = assigned
    client = client_for(request.getfixturevalue(role))
    assert client.get("/reviews/").status_code == 403
    assert client.post(f"/reviews/requests/{kenya.pk}/", {"score": "1"}).status_code == 404
    assert not Review.objects.exists()


def test_public_is_sent_to_sign_in(client, assigned):
    kenya, _ = assigned
    assert client.get("/reviews/").url.startswith("/accounts/login/")
    assert client.get(f"/reviews/requests/{kenya.pk}/").url.startswith("/accounts/login/")


def test_a_request_found_ineligible_after_assignment_is_no_longer_scored(client_for, secretariat_officer, reviewer,
                                                                          assigned):
    kenya, _ = assigned
    services.request_set_eligibility(user=secretariat_officer, request=kenya, eligible=False, note="Duplicate.")
    client = client_for(reviewer)
    page = client.get(f"/reviews/requests/{kenya.pk}/")
    assert "it is no longer reviewed" in page.content.decode()
    response = client.post(f"/reviews/requests/{kenya.pk}/", {"score": "0.9"}, follow=True)
    assert f"R{kenya.pk} is not eligible; it is no longer reviewed." in response.content.decode()
    assert not Review.objects.exists()
    assert client.get("/reviews/").context["to_do"] == 0
