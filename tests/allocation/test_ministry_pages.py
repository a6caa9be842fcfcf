"""The ministry portal: the state's home, drafting, editing, submitting and withdrawing requests, and reading
and answering a published award. Each page checked for what it shows, what the database holds afterwards,
and who is refused."""
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from allocation.models import CofinancingObligation, ComputeRequest, RequestStatus, RoundStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def h100(db):
    return factories.HardwareTypeFactory()


@pytest.fixture
def a100(db):
    return factories.HardwareTypeFactory(key="NVIDIA_A100_SXM4_80GB", name="NVIDIA A100 SXM4 80GB",
                                         h100e=Decimal("0.317"))


@pytest.fixture
def open_round(db):
    return factories.RoundFactory(title="Round open now")


def form_data(hardware, **overrides) -> dict:
    data = {
        "title": "Swahili health assistant", "abstract": "A small open model answering clinicians in Swahili.",
        "sector": "health", "acceptable_hardware": [h.pk for h in hardware], "size_unit": "h100e",
        "size": "1200", "min_size": "300", "data_residency_regions": ["SSA"], "local_language": "on",
        "open_weights": "on", "params_billion": "7",
    }
    data.update(overrides)
    return data


def draft(ministry, round_, hardware, **fields):
    return factories.ComputeRequestFactory(ministry=ministry, round=round_, acceptable_hardware=hardware, **fields)


# --- Who sees the portal --------------------------------------------------------------------------


def test_anonymous_public_is_sent_to_sign_in(client):
    response = client.get("/ministry/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["donor_officer", "provider_officer", "secretariat_officer", "reviewer"])
def test_other_roles_cannot_open_the_ministry_portal(client_for, request, who):
    assert client_for(request.getfixturevalue(who)).get("/ministry/").status_code == 403


def test_ministry_home_shows_its_own_requests_and_open_rounds_only(client_for, ministry_officer_a, ministry_a,
                                                                   ministry_b, open_round, h100):
    draft(ministry_a, open_round, [h100], title="Kenyan maternal health triage")
    draft(ministry_b, open_round, [h100], title="Nepali flood early warning")
    factories.RoundFactory(title="Round already closed", status=RoundStatus.CLOSED)
    page = client_for(ministry_officer_a).get("/ministry/").content.decode()
    assert "Kenyan maternal health triage" in page
    assert "Nepali flood early warning" not in page
    assert f'href="/ministry/rounds/{open_round.pk}/requests/new/"' in page
    assert "Round already closed" not in page  # not open for requests
    assert 'href="/ministry/"' in page  # the navigation's entry for ministry officers


def test_cofinancing_panel_shows_phase_share_and_obligations(client_for, ministry_officer_a, published_small_round):
    kenya = CofinancingObligation.objects.get(member_state__iso3="KEN")
    assert kenya.amount_usd == Decimal("864.00")
    page = client_for(ministry_officer_a).get("/ministry/").content.decode()
    assert "Accelerated transition" in page
    assert "4 years in this phase" in page
    assert "60 %" in page  # 0.2 + 0.8 x 4/8
    assert "864.00" in page
    assert "overdue" not in page.split('id="cofinancing-title"')[1].split("</table>")[0].replace(
        "Overdue", "")  # due in 180 days


def test_an_unpaid_obligation_past_its_due_date_is_overdue(client_for, ministry_officer_a, published_small_round):
    CofinancingObligation.objects.filter(member_state__iso3="KEN").update(
        due_date=timezone.localdate() - datetime.timedelta(days=1), paid_usd=Decimal("100.00"))
    page = client_for(ministry_officer_a).get("/ministry/").content.decode()
    assert "status-pill--overdue" in page
    assert "US$764" in page  # outstanding and overdue: 864 - 100


def test_awards_waiting_for_an_answer_are_listed(client_for, ministry_officer_a, published_small_round):
    kenya = published_small_round.test_requests[0]
    page = client_for(ministry_officer_a).get("/ministry/").content.decode()
    assert "Awards waiting for your answer" in page
    assert f'href="/ministry/requests/{kenya.pk}/"' in page


# --- Drafting and editing -------------------------------------------------------------------------


def test_ministry_drafts_a_request_in_an_open_round(client_for, ministry_officer_a, open_round, h100, a100):
    response = client_for(ministry_officer_a).post(f"/ministry/rounds/{open_round.pk}/requests/new/",
                                                   form_data([h100, a100]))
    request = ComputeRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/ministry/requests/{request.pk}/"
    assert request.status == RequestStatus.DRAFT and request.member_state.iso3 == "KEN"
    assert request.h100e_hours == Decimal("1200.00") and request.min_h100e_hours == Decimal("300.00")
    assert set(request.acceptable_hardware.all()) == {h100, a100}
    assert request.data_residency_regions == ["SSA"] and request.local_language and request.open_weights


def test_a_size_in_gpu_hours_is_converted_by_the_server(client_for, ministry_officer_a, open_round, h100, a100):
    client_for(ministry_officer_a).post(f"/ministry/rounds/{open_round.pk}/requests/new/",
                                        form_data([a100], size_unit=str(a100.pk), size="5000", min_size="1000"))
    request = ComputeRequest.objects.get()
    assert request.h100e_hours == Decimal("1585.00")  # 5,000 GPU-hours x 0.317
    assert request.min_h100e_hours == Decimal("317.00")


def test_the_form_names_each_mistake(client_for, ministry_officer_a, open_round, h100):
    response = client_for(ministry_officer_a).post(
        f"/ministry/rounds/{open_round.pk}/requests/new/",
        form_data([], title="", size="100", min_size="200", data_residency_regions=["XXX"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Choose at least one acceptable hardware type." in page
    assert "The smallest useful size cannot exceed the size requested." in page
    assert 'href="#id_title"' in page  # the error summary links to the field
    assert "Select a valid choice. XXX is not one of the available choices." in page
    assert ComputeRequest.objects.count() == 0


def test_the_form_explains_hardware_factors_and_shows_round_capacity(client_for, ministry_officer_a, open_round,
                                                                     h100, a100, provider_org):
    factories.CapacityLotFactory(pledge__round=open_round, provider=provider_org, hardware=a100, region="SAS",
                                 gpu_hours=Decimal("2000"))
    page = client_for(ministry_officer_a).get(f"/ministry/rounds/{open_round.pk}/requests/new/").content.decode()
    assert "NVIDIA A100 SXM4 80GB (factor 0.317)" in page
    assert 'data-h100e="0.317"' in page
    assert "634" in page  # 2,000 GPU-hours x 0.317 of A100 in South Asia
    assert "js/request_form" in page


def test_ministry_cannot_draft_in_a_closed_round(client_for, ministry_officer_a, h100):
    closed = factories.RoundFactory(status=RoundStatus.CLOSED)
    response = client_for(ministry_officer_a).post(f"/ministry/rounds/{closed.pk}/requests/new/", form_data([h100]))
    assert response.status_code == 404
    assert ComputeRequest.objects.count() == 0


def test_donor_cannot_draft_a_request(client_for, donor_officer, open_round, h100):
    response = client_for(donor_officer).post(f"/ministry/rounds/{open_round.pk}/requests/new/", form_data([h100]))
    assert response.status_code == 403
    assert ComputeRequest.objects.count() == 0


def test_ministry_edits_its_draft(client_for, ministry_officer_a, ministry_a, open_round, h100, a100):
    request = draft(ministry_a, open_round, [h100])
    client = client_for(ministry_officer_a)
    assert 'value="1000.00"' in client.get(f"/ministry/requests/{request.pk}/edit/").content.decode()
    response = client.post(f"/ministry/requests/{request.pk}/edit/",
                           form_data([a100], title="Revised title", size="800", min_size=""))
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.title == "Revised title" and request.h100e_hours == Decimal("800.00")
    assert request.min_h100e_hours == Decimal("0.00")
    assert list(request.acceptable_hardware.all()) == [a100]


def test_a_submitted_request_cannot_be_edited(client_for, ministry_officer_a, ministry_a, open_round, h100):
    request = draft(ministry_a, open_round, [h100], status=RequestStatus.SUBMITTED)
    response = client_for(ministry_officer_a).post(f"/ministry/requests/{request.pk}/edit/",
                                                   form_data([h100], title="Changed"), follow=True)
    assert "Only a draft can be edited" in response.content.decode()
    request.refresh_from_db()
    assert request.title != "Changed"


def test_ministry_cannot_read_another_states_request(client_for, ministry_officer_a, ministry_b, open_round, h100):
    nepal = draft(ministry_b, open_round, [h100], title="Nepali flood early warning")
    client = client_for(ministry_officer_a)
    for path in ("", "edit/", "submit/", "withdraw/", "accept/", "decline/"):
        assert client.get(f"/ministry/requests/{nepal.pk}/{path}").status_code == 404
    for path in ("edit/", "submit/", "withdraw/"):
        assert client.post(f"/ministry/requests/{nepal.pk}/{path}", form_data([h100])).status_code == 404
    nepal.refresh_from_db()
    assert nepal.status == RequestStatus.DRAFT and nepal.title == "Nepali flood early warning"
    assert client.get("/ministry/requests/999999/").status_code == 404


# --- Submitting and withdrawing -------------------------------------------------------------------


def test_ministry_submits_a_draft_after_confirming(client_for, ministry_officer_a, ministry_a, open_round, h100):
    request = draft(ministry_a, open_round, [h100])
    client = client_for(ministry_officer_a)
    confirm = client.get(f"/ministry/requests/{request.pk}/submit/").content.decode()
    assert "Submit this request?" in confirm
    request.refresh_from_db()
    assert request.status == RequestStatus.DRAFT  # a GET changes nothing
    response = client.post(f"/ministry/requests/{request.pk}/submit/", follow=True)
    assert "The request is submitted." in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED and request.submitted_at is not None


def test_submitting_after_the_deadline_is_refused_with_a_message(client_for, ministry_officer_a, ministry_a, h100):
    late = factories.RoundFactory(opens_at=timezone.now() - datetime.timedelta(days=10),
                                  submission_deadline=timezone.now() - datetime.timedelta(minutes=1))
    request = draft(ministry_a, late, [h100])
    response = client_for(ministry_officer_a).post(f"/ministry/requests/{request.pk}/submit/", follow=True)
    assert "The round&#x27;s submission deadline has passed." in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.DRAFT


def test_ministry_withdraws_a_submitted_request(client_for, ministry_officer_a, ministry_a, open_round, h100):
    request = draft(ministry_a, open_round, [h100], status=RequestStatus.SUBMITTED)
    response = client_for(ministry_officer_a).post(f"/ministry/requests/{request.pk}/withdraw/", follow=True)
    assert "The request is withdrawn." in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN


# --- A published award --------------------------------------------------------------------------


def test_detail_of_a_published_award_explains_it_in_plain_words(client_for, ministry_officer_a,
                                                                published_small_round):
    kenya = published_small_round.test_requests[0]
    assert kenya.status == RequestStatus.ALLOCATED
    page = client_for(ministry_officer_a).get(f"/ministry/requests/{kenya.pk}/").content.decode()
    assert 'id="award-hours">600<' in page
    assert "Your request received 600 of the 900 h100e-hours it asked for (67%)." in page
    assert "the capacity it can use was fully allocated: NVIDIA H100 SXM5 80GB (Sub-Saharan Africa)" in page
    assert "What would change it" in page
    assert "Provider Cloud" in page  # the line's provider
    assert "US$864" in page  # the state's co-financing for it
    assert "60 % of the value received" in page
    assert f'href="/ministry/requests/{kenya.pk}/accept/"' in page


def test_ministry_accepts_an_award(client_for, ministry_officer_a, published_small_round):
    kenya = published_small_round.test_requests[0]
    client = client_for(ministry_officer_a)
    confirm = client.get(f"/ministry/requests/{kenya.pk}/accept/").content.decode()
    assert "Accept this award?" in confirm and "600 h100e-hours" in confirm
    response = client.post(f"/ministry/requests/{kenya.pk}/accept/", follow=True)
    assert "The award is accepted." in response.content.decode()
    kenya.refresh_from_db()
    assert kenya.status == RequestStatus.ACCEPTED
    again = client.post(f"/ministry/requests/{kenya.pk}/decline/", follow=True).content.decode()
    assert "The award was already accepted." in again
    kenya.refresh_from_db()
    assert kenya.status == RequestStatus.ACCEPTED


def test_ministry_declines_an_award(client_for, ministry_officer_b, published_small_round):
    nepal = published_small_round.test_requests[1]
    client_for(ministry_officer_b).post(f"/ministry/requests/{nepal.pk}/decline/")
    nepal.refresh_from_db()
    assert nepal.status == RequestStatus.DECLINED


def test_ministry_cannot_accept_another_states_award(client_for, ministry_officer_b, published_small_round):
    kenya = published_small_round.test_requests[0]
    assert client_for(ministry_officer_b).post(f"/ministry/requests/{kenya.pk}/accept/").status_code == 404
    kenya.refresh_from_db()
    assert kenya.status == RequestStatus.ALLOCATED
