"""The provider officer's pages: offers for sale, capacity hosted for donors, and the technical feasibility of the
allocation lines approved runs put on its hardware."""
import threading
from decimal import Decimal

import pytest
from django.db import connection

from allocation import services
from allocation.exceptions import InvalidTransition, NotPermitted
from allocation.models import AllocationLine, CapacityLot, Feasibility, Offer, RoundStatus
from members.models import OrganisationKind, Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_round(db):
    return factories.RoundFactory(status=RoundStatus.OPEN, title="Round 9")


@pytest.fixture
def h100(db):
    return factories.HardwareTypeFactory()


@pytest.fixture
def other_provider_officer(db):
    organisation = factories.OrganisationFactory(name="Other Cloud", kind=OrganisationKind.PROVIDER)
    return factories.MembershipFactory(user=factories.UserFactory(username="provider2"), organisation=organisation,
                                       role=Role.PROVIDER_OFFICER).user


def offer_post(round_, *lots):
    data = {"round": round_.pk, "note": "", "lots-TOTAL_FORMS": str(len(lots)), "lots-INITIAL_FORMS": "0",
            "lots-MIN_NUM_FORMS": "1", "lots-MAX_NUM_FORMS": "20"}
    for index, lot in enumerate(lots):
        data.update({f"lots-{index}-{key}": value for key, value in lot.items()})
    return data


def lot(h100, **overrides):
    return {"hardware": h100.pk, "region": "SSA", "gpu_hours": "2000", "price_usd_per_gpu_hour": "2.10",
            "value_usd_per_gpu_hour": "", "available_from": "2026-09-01", "available_until": "2027-02-28",
            **overrides}


# --- home and offers ----------------------------------------------------------------------------------


def test_provider_sees_its_offers_and_the_lots_donors_host_there(client_for, provider_officer, provider_org,
                                                                 donor_org, open_round, h100):
    offer = factories.OfferFactory(provider=provider_org, round=open_round)
    factories.CapacityLotFactory(pledge=None, offer=offer, provider=provider_org, hardware=h100,
                                 gpu_hours=Decimal("3000"), price_usd_per_gpu_hour=Decimal("2.15"))
    pledge = factories.PledgeFactory(donor=donor_org, round=open_round)
    factories.CapacityLotFactory(pledge=pledge, provider=provider_org, hardware=h100, gpu_hours=Decimal("4500"))
    other = factories.OrganisationFactory(name="Elsewhere", kind=OrganisationKind.PROVIDER)
    factories.CapacityLotFactory(pledge=pledge, provider=other, hardware=h100, gpu_hours=Decimal("777"))
    response = client_for(provider_officer).get("/provider/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "3,000 GPU-hours in Sub-Saharan Africa" in page and "2.15" in page
    assert "Donor Agency" in page and "4,500" in page
    assert "777" not in page  # hosted elsewhere
    assert f'action="/provider/offers/{offer.pk}/withdraw/"' in page
    assert 'href="/provider/"' in page  # the navigation's "Offers"


@pytest.mark.parametrize("outsider", ["ministry_officer_a", "donor_officer", "secretariat_officer", "reviewer"])
def test_other_roles_cannot_open_the_provider_portal(request, client_for, outsider, published_small_round):
    client = client_for(request.getfixturevalue(outsider))
    assert client.get("/provider/").status_code == 403
    assert client.get("/provider/offers/new/").status_code == 403
    assert client.get(f"/provider/rounds/{published_small_round.pk}/lines/").status_code == 403
    assert client.post(f"/provider/rounds/{published_small_round.pk}/lines/confirm-all/").status_code == 403
    line = AllocationLine.objects.first()
    assert client.post(f"/provider/lines/{line.pk}/confirm/").status_code == 403
    assert client.post(f"/provider/lines/{line.pk}/flag/", {"note": "x"}).status_code == 403
    assert not AllocationLine.objects.exclude(feasibility=Feasibility.PENDING).exists()


def test_public_is_sent_to_sign_in(client):
    response = client.get("/provider/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_provider_publishes_an_offer_of_two_lots(client_for, provider_officer, provider_org, open_round, h100):
    data = offer_post(open_round, lot(h100), lot(h100, region="MNA", gpu_hours="150", price_usd_per_gpu_hour="0.85",
                                                   value_usd_per_gpu_hour="0.90"))
    response = client_for(provider_officer).post("/provider/offers/new/", data)
    assert response.status_code == 302 and response["Location"] == "/provider/"
    offer = Offer.objects.get(provider=provider_org)
    assert offer.status == Offer.Status.PUBLISHED and offer.round == open_round
    first, second = offer.lots.order_by("id")
    assert (first.gpu_hours, first.price_usd_per_gpu_hour, first.value_usd_per_gpu_hour, first.provider) == (
        Decimal("2000"), Decimal("2.1"), Decimal("2.1"), provider_org)  # value defaults to the price
    assert (second.region, second.price_usd_per_gpu_hour, second.value_usd_per_gpu_hour) == (
        "MNA", Decimal("0.85"), Decimal("0.9"))


def test_offer_mistakes_name_the_lot_and_field(client_for, provider_officer, open_round, h100):
    data = offer_post(open_round, lot(h100), lot(h100, price_usd_per_gpu_hour="", available_until="2020-01-01",
                                                   available_from="2019-01-01"))
    response = client_for(provider_officer).post("/provider/offers/new/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lot 2, Price per GPU-hour (US$): This field is required." in page
    assert "Lot 2, Available until: The window has already ended; capacity must still be usable." in page
    assert Offer.objects.count() == 0 and CapacityLot.objects.count() == 0


def test_provider_withdraws_an_offer_while_the_round_is_open(client_for, provider_officer, provider_org,
                                                            open_round):
    offer = factories.OfferFactory(provider=provider_org, round=open_round)
    response = client_for(provider_officer).post(f"/provider/offers/{offer.pk}/withdraw/", follow=True)
    assert f"Offer {offer.pk} is withdrawn" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN


def test_provider_cannot_withdraw_another_providers_offer(client_for, other_provider_officer, provider_org,
                                                          open_round):
    offer = factories.OfferFactory(provider=provider_org, round=open_round)
    assert client_for(other_provider_officer).post(f"/provider/offers/{offer.pk}/withdraw/").status_code == 404
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PUBLISHED


def test_withdrawing_an_offer_after_the_round_closed_is_refused(client_for, provider_officer, provider_org):
    offer = factories.OfferFactory(provider=provider_org, round=factories.RoundFactory(status=RoundStatus.CLOSED))
    response = client_for(provider_officer).post(f"/provider/offers/{offer.pk}/withdraw/", follow=True)
    assert "it no longer takes this" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PUBLISHED


# --- feasibility ---------------------------------------------------------------------------------------


def test_provider_sees_the_lines_on_its_hardware(client_for, provider_officer, published_small_round):
    response = client_for(provider_officer).get("/provider/")
    decided = response.context["decided"]
    assert [(row["round"], row["lines"], row["pending"]) for row in decided] == [(published_small_round, 2, 2)]
    page = client_for(provider_officer).get(f"/provider/rounds/{published_small_round.pk}/lines/").content.decode()
    assert "Kenya" in page and "Nepal" in page and "Awaiting the provider" in page
    assert "600" in page and "400" in page


def test_provider_confirms_a_line(client_for, provider_officer, published_small_round):
    line = AllocationLine.objects.filter(run=published_small_round.test_run).first()
    response = client_for(provider_officer).post(f"/provider/lines/{line.pk}/confirm/")
    assert response.status_code == 302
    assert response["Location"] == f"/provider/rounds/{published_small_round.pk}/lines/#line-{line.pk}"
    line.refresh_from_db()
    assert line.feasibility == Feasibility.CONFIRMED
    assert line.feasibility_by == provider_officer and line.feasibility_at is not None


def test_provider_flags_a_line_with_a_reason(client_for, provider_officer, published_small_round):
    line = AllocationLine.objects.filter(run=published_small_round.test_run).first()
    client = client_for(provider_officer)
    assert client.get(f"/provider/lines/{line.pk}/flag/").status_code == 200
    response = client.post(f"/provider/lines/{line.pk}/flag/", {"note": "  The cluster is down for maintenance "
                                                                         "until March.  "})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.feasibility == Feasibility.FLAGGED
    assert line.feasibility_note == "The cluster is down for maintenance until March."


def test_a_flag_needs_a_reason(client_for, provider_officer, published_small_round):
    line = AllocationLine.objects.filter(run=published_small_round.test_run).first()
    response = client_for(provider_officer).post(f"/provider/lines/{line.pk}/flag/", {"note": "   "})
    assert response.status_code == 200
    assert ("What prevents this allocation from running: Say what makes this allocation infeasible on your "
            "hardware.") in response.content.decode()
    line.refresh_from_db()
    assert line.feasibility == Feasibility.PENDING


def test_bulk_confirm_confirms_waiting_lines_and_keeps_flags(client_for, provider_officer, published_small_round):
    first, second = AllocationLine.objects.filter(run=published_small_round.test_run).order_by("id")
    services.line_flag_infeasible(user=provider_officer, line=first, note="Wrong memory size")
    response = client_for(provider_officer).post(f"/provider/rounds/{published_small_round.pk}/lines/confirm-all/",
                                                 follow=True)
    assert "1 line(s) confirmed as feasible." in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.feasibility, second.feasibility) == (Feasibility.FLAGGED, Feasibility.CONFIRMED)
    again = client_for(provider_officer).post(f"/provider/rounds/{published_small_round.pk}/lines/confirm-all/",
                                              follow=True)
    assert "No line was waiting for your answer." in again.content.decode()


def test_confirming_twice_is_refused_with_a_message(client_for, provider_officer, published_small_round):
    line = AllocationLine.objects.filter(run=published_small_round.test_run).first()
    services.line_confirm_feasibility(user=provider_officer, line=line)
    response = client_for(provider_officer).post(f"/provider/lines/{line.pk}/confirm/", follow=True)
    assert f"Line {line.pk} is already confirmed as feasible." in response.content.decode()


def test_another_provider_cannot_answer_for_lines_it_does_not_host(client_for, other_provider_officer,
                                                                   published_small_round):
    line = AllocationLine.objects.filter(run=published_small_round.test_run).first()
    client = client_for(other_provider_officer)
    assert client.post(f"/provider/lines/{line.pk}/confirm/").status_code == 404
    assert client.post(f"/provider/lines/{line.pk}/flag/", {"note": "no"}).status_code == 404
    assert client.get(f"/allocation-lines/{line.pk}/").status_code == 404
    response = client.post(f"/provider/rounds/{published_small_round.pk}/lines/confirm-all/", follow=True)
    assert "No line was waiting for your answer." in response.content.decode()
    assert client.get(f"/provider/rounds/{published_small_round.pk}/lines/").context["lines"] == []
    with pytest.raises(NotPermitted):
        services.line_confirm_feasibility(user=other_provider_officer, line=line)
    assert not AllocationLine.objects.exclude(feasibility=Feasibility.PENDING).exists()


def test_lines_of_an_unapproved_run_cannot_be_answered(provider_officer, small_round, secretariat_officer,
                                                       eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.round_enqueue_solve(round_=small_round, user=secretariat_officer)
    line = AllocationLine.objects.filter(run=run).first()
    with pytest.raises(InvalidTransition):
        services.line_confirm_feasibility(user=provider_officer, line=line)
    with pytest.raises(InvalidTransition):
        services.lines_confirm_feasibility(user=provider_officer, round_=small_round)


def test_a_flag_is_read_by_the_secretariat_and_the_receiving_ministry_only(
        client_for, provider_officer, published_small_round, secretariat_officer, ministry_officer_a,
        ministry_officer_b, donor_officer, client):
    kenya_line = AllocationLine.objects.get(run=published_small_round.test_run, request__member_state__iso3="KEN")
    services.line_flag_infeasible(user=provider_officer, line=kenya_line, note="Export controls forbid this region")
    url = f"/allocation-lines/{kenya_line.pk}/"
    for reader in (secretariat_officer, ministry_officer_a, provider_officer):
        response = client_for(reader).get(url)
        assert response.status_code == 200
        assert "Export controls forbid this region" in response.content.decode()
    for outsider in (ministry_officer_b, donor_officer):
        assert client_for(outsider).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_officers_answering_at_once_leave_one_answer(provider_officer, published_small_round):
    line = AllocationLine.objects.filter(run=published_small_round.test_run).first()
    results = []

    def answer(action):
        try:
            action()
            results.append("ok")
        except InvalidTransition:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(lambda: services.line_confirm_feasibility(
        user=provider_officer, line=line),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok", "refused"]
