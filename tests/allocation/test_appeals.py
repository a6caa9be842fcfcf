"""Appeals: a ministry lodges one against a published decision and follows it on its request's page; the
secretariat takes it under review and answers it. The published allocation never changes."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from allocation import services
from allocation.exceptions import InvalidTransition, NotPermitted
from allocation.models import AllocationLine, Appeal, RequestResult, RequestStatus
from tests import factories

pytestmark = pytest.mark.django_db

REASONS = "The reviewers scored our maternal health work without the pilot results we attached."


@pytest.fixture
def kenya(published_small_round):
    return published_small_round.test_requests[0]


@pytest.fixture
def appeal(kenya, ministry_officer_a):
    return services.appeal_lodge(user=ministry_officer_a, request=kenya, reasons=REASONS)


# --- Services -----------------------------------------------------------------------------------


def test_ministry_lodges_an_appeal_on_a_published_decision(appeal, kenya, ministry_officer_a):
    assert appeal.status == Appeal.Status.LODGED and appeal.request == kenya
    assert appeal.lodged_by == ministry_officer_a and appeal.reasons == REASONS


def test_only_one_open_appeal_per_request(appeal, kenya, ministry_officer_a):
    with pytest.raises(InvalidTransition, match="already has an open appeal"):
        services.appeal_lodge(user=ministry_officer_a, request=kenya, reasons=REASONS)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds the rule too
        Appeal.objects.create(request=kenya, reasons=REASONS)
    assert Appeal.objects.count() == 1


def test_a_new_appeal_may_follow_an_answered_one(appeal, kenya, ministry_officer_a, secretariat_officer):
    services.appeal_answer(user=secretariat_officer, appeal=appeal, upheld=False, answer="The scores stand.")
    second = services.appeal_lodge(user=ministry_officer_a, request=kenya, reasons=REASONS + " New evidence.")
    assert second.status == Appeal.Status.LODGED and Appeal.objects.count() == 2


def test_no_appeal_before_the_round_is_published(small_round, ministry_officer_a):
    with pytest.raises(InvalidTransition, match="once the round's decision is published"):
        services.appeal_lodge(user=ministry_officer_a, request=small_round.test_requests[0], reasons=REASONS)
    assert Appeal.objects.count() == 0


def test_no_appeal_after_the_window_closes(kenya, published_small_round, ministry_officer_a, settings):
    settings.GACP = {**settings.GACP, "APPEAL_WINDOW_DAYS": 30}
    published_small_round.published_at = timezone.now() - datetime.timedelta(days=31)
    published_small_round.save(update_fields=["published_at"])
    with pytest.raises(InvalidTransition, match="The appeal window closed on"):
        services.appeal_lodge(user=ministry_officer_a, request=kenya, reasons=REASONS)


def test_another_state_cannot_appeal_a_request(kenya, ministry_officer_b):
    with pytest.raises(NotPermitted):
        services.appeal_lodge(user=ministry_officer_b, request=kenya, reasons=REASONS)
    assert Appeal.objects.count() == 0


def test_an_appeal_needs_reasons(kenya, ministry_officer_a):
    with pytest.raises(ValidationError) as error:
        services.appeal_lodge(user=ministry_officer_a, request=kenya, reasons="   too short ")
    assert "reasons" in error.value.message_dict


def test_only_the_secretariat_answers(appeal, ministry_officer_a, reviewer):
    for user in (ministry_officer_a, reviewer):
        with pytest.raises(NotPermitted):
            services.appeal_answer(user=user, appeal=appeal, upheld=True, answer="Yes.",
                                   remedy=Appeal.Remedy.RECONSIDER_NEXT_ROUND)
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.LODGED


def test_upholding_records_the_remedy_and_leaves_the_allocation_alone(appeal, kenya, secretariat_officer,
                                                                      published_small_round):
    lines_before = list(AllocationLine.objects.values_list("request_id", "lot_id", "gpu_hours"))
    results_before = list(RequestResult.objects.values_list("request_id", "allocated_h100e_hours"))
    services.appeal_start_review(user=secretariat_officer, appeal=appeal)
    with pytest.raises(ValidationError) as error:
        services.appeal_answer(user=secretariat_officer, appeal=appeal, upheld=True, answer="Agreed.")
    assert "remedy" in error.value.message_dict
    services.appeal_answer(user=secretariat_officer, appeal=appeal, upheld=True,
                           answer="The pilot results were missed; the request is reconsidered in round 2.",
                           remedy=Appeal.Remedy.RECONSIDER_NEXT_ROUND)
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.UPHELD and appeal.answered_by == secretariat_officer
    assert appeal.remedy == "reconsider_next_round" and appeal.answered_at and appeal.review_started_at
    assert list(AllocationLine.objects.values_list("request_id", "lot_id", "gpu_hours")) == lines_before
    assert list(RequestResult.objects.values_list("request_id", "allocated_h100e_hours")) == results_before
    kenya.refresh_from_db()
    assert kenya.status == RequestStatus.ALLOCATED
    with pytest.raises(InvalidTransition):
        services.appeal_answer(user=secretariat_officer, appeal=appeal, upheld=False, answer="Changed our mind.")


def test_ministry_withdraws_its_open_appeal_but_not_an_answered_one(appeal, ministry_officer_a, ministry_officer_b,
                                                                    secretariat_officer):
    with pytest.raises(NotPermitted):
        services.appeal_withdraw(user=ministry_officer_b, appeal=appeal)
    services.appeal_withdraw(user=ministry_officer_a, appeal=appeal)
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.WITHDRAWN and appeal.withdrawn_at
    with pytest.raises(InvalidTransition):
        services.appeal_answer(user=secretariat_officer, appeal=appeal, upheld=False, answer="Too late.")


# --- Pages: the ministry --------------------------------------------------------------------------


def test_request_page_offers_the_appeal_form_within_the_window(client_for, ministry_officer_a, kenya):
    page = client_for(ministry_officer_a).get(f"/ministry/requests/{kenya.pk}/").content.decode()
    assert f'action="/ministry/requests/{kenya.pk}/appeal/"' in page
    assert "Appeal this decision" in page


def test_ministry_lodges_an_appeal_from_the_request_page(client_for, ministry_officer_a, kenya):
    client = client_for(ministry_officer_a)
    response = client.post(f"/ministry/requests/{kenya.pk}/appeal/", {"reasons": REASONS}, follow=True)
    page = response.content.decode()
    assert "Your appeal is lodged." in page
    appeal = Appeal.objects.get()
    assert appeal.request == kenya and appeal.status == Appeal.Status.LODGED
    assert "status-pill--lodged" in page and "Appeal this decision" not in page  # one open appeal at a time
    assert "Your appeals" in client.get("/ministry/").content.decode()


def test_a_too_short_appeal_is_refused_with_the_field_named(client_for, ministry_officer_a, kenya):
    response = client_for(ministry_officer_a).post(f"/ministry/requests/{kenya.pk}/appeal/", {"reasons": "Unfair."})
    assert response.status_code == 400
    page = response.content.decode()
    assert "at least 20 characters" in page and 'href="#id_reasons"' in page
    assert Appeal.objects.count() == 0


def test_ministry_cannot_appeal_or_withdraw_for_another_state(client_for, ministry_officer_b, kenya, appeal):
    client = client_for(ministry_officer_b)
    assert client.post(f"/ministry/requests/{kenya.pk}/appeal/", {"reasons": REASONS}).status_code == 404
    assert client.post(f"/ministry/appeals/{appeal.pk}/withdraw/").status_code == 404
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.LODGED and Appeal.objects.count() == 1


def test_ministry_withdraws_its_appeal_from_the_page(client_for, ministry_officer_a, appeal):
    response = client_for(ministry_officer_a).post(f"/ministry/appeals/{appeal.pk}/withdraw/", follow=True)
    assert "Your appeal is withdrawn." in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.WITHDRAWN


def test_ministry_reads_the_answer_on_its_request_page(client_for, ministry_officer_a, appeal, kenya,
                                                        secretariat_officer):
    services.appeal_answer(user=secretariat_officer, appeal=appeal, upheld=True, answer="Reconsidered in round 2.",
                           remedy=Appeal.Remedy.RECONSIDER_NEXT_ROUND)
    page = client_for(ministry_officer_a).get(f"/ministry/requests/{kenya.pk}/").content.decode()
    assert "Reconsidered in round 2." in page and "Reconsideration in the next round" in page
    assert "status-pill--upheld" in page


# --- Pages: the secretariat -----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ministry_officer_a", "donor_officer", "reviewer"])
def test_only_the_secretariat_opens_the_appeals_queue(client_for, request, who, appeal):
    client = client_for(request.getfixturevalue(who))
    assert client.get("/secretariat/appeals/").status_code == 403
    assert client.get(f"/secretariat/appeals/{appeal.pk}/").status_code == 403
    response = client.post(f"/secretariat/appeals/{appeal.pk}/", {"decision": "rejected", "answer": "No."})
    assert response.status_code == 403
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.LODGED


def test_anonymous_public_is_sent_to_sign_in_from_the_queue(client):
    response = client.get("/secretariat/appeals/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_secretariat_sees_the_queue_and_answers_an_appeal(client_for, secretariat_officer, appeal, kenya):
    client = client_for(secretariat_officer)
    queue = client.get("/secretariat/appeals/").content.decode()
    assert kenya.title in queue and f'href="/secretariat/appeals/{appeal.pk}/"' in queue
    page = client.get(f"/secretariat/appeals/{appeal.pk}/").content.decode()
    assert REASONS in page and "Your request received 600 of the 900 h100e-hours" in page
    client.post(f"/secretariat/appeals/{appeal.pk}/review/")
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.UNDER_REVIEW
    refused = client.post(f"/secretariat/appeals/{appeal.pk}/", {"decision": "upheld", "answer": "Agreed."})
    assert refused.status_code == 400
    assert "Say what the secretariat will do about an upheld appeal." in refused.content.decode()
    response = client.post(f"/secretariat/appeals/{appeal.pk}/",
                           {"decision": "rejected", "answer": "The scores followed the call's criteria."})
    assert response.status_code == 302 and response["Location"] == "/secretariat/appeals/"
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.REJECTED and appeal.remedy == ""
    assert appeal.answer == "The scores followed the call's criteria."
    assert kenya.title not in client.get("/secretariat/appeals/").content.decode()  # no longer open
    assert kenya.title in client.get("/secretariat/appeals/?status=answered").content.decode()


def test_an_unknown_appeal_is_not_found(client_for, secretariat_officer):
    assert client_for(secretariat_officer).get("/secretariat/appeals/999999/").status_code == 404


def test_the_secretariat_navigation_links_the_queue(client_for, secretariat_officer):
    factories.RoundFactory()
    page = client_for(secretariat_officer).get("/").content.decode()
    assert 'href="/secretariat/appeals/"' in page
