"""Pledges of donors and offers of providers, with nested lots: own organisation only, all or nothing."""
import pytest

from allocation.models import CapacityLot, Offer, Pledge
from members.models import OrganisationKind, Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_donor_officer(db):
    other = factories.OrganisationFactory(name="Other Donor", kind=OrganisationKind.DONOR)
    return factories.MembershipFactory(user=factories.UserFactory(username="donor2"), organisation=other,
                                       role=Role.DONOR_OFFICER).user


def pledge_payload(round_, lots, **overrides):
    return {"round": round_.pk, "kind": "in_kind", "note": "Two lots", "lots": lots, **overrides}


def test_donor_pledges_in_kind_lots(api_for, donor_officer, donor_org, provider_org, open_round, h100, state_a,
                                    make_lot_payload):
    lots = [make_lot_payload(provider_org, h100, earmark_sectors=["health"], earmark_countries=["KEN"]),
            make_lot_payload(provider_org, h100, gpu_hours="250.50", region="SAS")]
    response = api_for(donor_officer).post("/api/pledges/", pledge_payload(open_round, lots), format="json")
    assert response.status_code == 201, response.json()
    pledge = Pledge.objects.get()
    assert (pledge.donor, pledge.round, pledge.kind, pledge.created_by) == (donor_org, open_round, "in_kind",
                                                                           donor_officer)
    assert sorted(str(lot.gpu_hours) for lot in pledge.lots.all()) == ["1000.00", "250.50"]
    earmarked = pledge.lots.get(region="SSA")
    assert list(earmarked.earmark_countries.values_list("iso3", flat=True)) == ["KEN"]
    body = response.json()
    assert body["id"] == pledge.pk and len(body["lots"]) == 2
    assert {lot["h100e_hours"] for lot in body["lots"]} == {"1000.000", "250.500"}


def test_donor_pledges_cash(api_for, donor_officer, open_round):
    response = api_for(donor_officer).post(
        "/api/pledges/", {"round": open_round.pk, "kind": "cash", "cash_usd": "50000.00"}, format="json"
    )
    assert response.status_code == 201
    pledge = Pledge.objects.get()
    assert pledge.kind == "cash" and str(pledge.cash_usd) == "50000.00" and not pledge.lots.exists()


def test_a_pledge_with_one_bad_lot_leaves_nothing_behind(api_for, donor_officer, provider_org, donor_org,
                                                         open_round, h100, make_lot_payload):
    lots = [make_lot_payload(provider_org, h100),
            make_lot_payload(provider_org, h100, available_from="2026-12-31", available_until="2026-01-01"),
            make_lot_payload(donor_org, h100)]
    response = api_for(donor_officer).post("/api/pledges/", pledge_payload(open_round, lots), format="json")
    assert response.status_code == 400
    body = response.json()
    assert "lots[1].available_until" in body and "lots[2].provider" in body
    assert not Pledge.objects.exists()
    assert not CapacityLot.objects.exists()


@pytest.mark.parametrize(
    ("lot_change", "field"),
    [
        ({"hardware": "NO_SUCH_GPU"}, "hardware"),
        ({"gpu_hours": "-5"}, "gpu_hours"),
        ({"gpu_hours": "many"}, "gpu_hours"),
        ({"region": "MARS"}, "region"),
        ({"available_from": "yesterday"}, "available_from"),
        ({"earmark_sectors": ["astrology"]}, "earmark_sectors"),
        ({"earmark_countries": ["XXX"]}, "earmark_countries"),
        ({"provider": "abc"}, "provider"),
        ({"colour": "green"}, "colour"),
    ],
)
def test_bad_lots_are_400s_naming_the_field(api_for, donor_officer, provider_org, open_round, h100,
                                            make_lot_payload, lot_change, field):
    lots = [make_lot_payload(provider_org, h100), make_lot_payload(provider_org, h100, **lot_change)]
    response = api_for(donor_officer).post("/api/pledges/", pledge_payload(open_round, lots), format="json")
    assert response.status_code == 400
    assert field in response.json()["lots"]["1"]  # errors of a list are keyed by position
    assert not Pledge.objects.exists() and not CapacityLot.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "cash"}, "cash_usd"),
        ({"kind": "cash", "cash_usd": "-1"}, "cash_usd"),
        ({"kind": "in_kind"}, "lots"),
        ({"kind": "in_kind", "cash_usd": "10", "lots": []}, "cash_usd"),
        ({"kind": "gift"}, "kind"),
        ({"kind": "cash", "cash_usd": "10", "round": 999999}, "round"),
        ({"kind": "cash", "cash_usd": "10", "round": "one"}, "round"),
        ({"kind": "cash", "cash_usd": "10", "lots": "many"}, "lots"),
    ],
)
def test_bad_pledges_are_400s_naming_the_field(api_for, donor_officer, open_round, payload, field):
    response = api_for(donor_officer).post("/api/pledges/", {"round": open_round.pk, **payload}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Pledge.objects.exists()


def test_pledging_to_a_closed_round_is_refused(api_for, donor_officer, closed_round):
    response = api_for(donor_officer).post(
        "/api/pledges/", {"round": closed_round.pk, "kind": "cash", "cash_usd": "10"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["extra"] == {"status": "closed"}


def test_only_donor_officers_pledge(api_client, api_for, ministry_officer_a, provider_officer, secretariat_officer,
                                    open_round):
    payload = {"round": open_round.pk, "kind": "cash", "cash_usd": "10"}
    for user in (ministry_officer_a, provider_officer, secretariat_officer):
        response = api_for(user).post("/api/pledges/", payload, format="json")
        assert response.status_code == 403
        assert "donor officer" in response.json()["message"]
    assert api_client.post("/api/pledges/", payload, format="json").status_code in (401, 403)
    assert not Pledge.objects.exists()


def test_donor_sees_only_its_own_pledges(api_for, donor_officer, other_donor_officer, donor_org, open_round):
    mine = factories.PledgeFactory(donor=donor_org, round=open_round, kind="cash", cash_usd=10)
    theirs = factories.PledgeFactory(donor=other_donor_officer.membership.organisation, round=open_round,
                                     kind="cash", cash_usd=20)
    api = api_for(donor_officer)
    assert [p["id"] for p in api.get("/api/pledges/").json()["results"]] == [mine.pk]
    assert api.get(f"/api/pledges/{mine.pk}/").status_code == 200
    response = api.get(f"/api/pledges/{theirs.pk}/")
    assert response.status_code == 404
    response = api.post(f"/api/pledges/{theirs.pk}/withdraw/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Pledge.Status.CONFIRMED


def test_secretariat_reads_all_pledges_and_others_are_refused(api_client, api_for, secretariat_officer,
                                                              ministry_officer_a, donor_org, open_round):
    pledge = factories.PledgeFactory(donor=donor_org, round=open_round, kind="cash", cash_usd=10)
    listed = api_for(secretariat_officer).get("/api/pledges/", {"kind": "cash"}).json()["results"]
    assert [p["id"] for p in listed] == [pledge.pk]
    assert api_for(ministry_officer_a).get("/api/pledges/").status_code == 403
    assert api_for(ministry_officer_a).get(f"/api/pledges/{pledge.pk}/").status_code == 403
    assert api_client.get("/api/pledges/").status_code in (401, 403)


def test_donor_withdraws_its_pledge(api_for, donor_officer, donor_org, open_round):
    pledge = factories.PledgeFactory(donor=donor_org, round=open_round, kind="cash", cash_usd=10)
    response = api_for(donor_officer).post(f"/api/pledges/{pledge.pk}/withdraw/")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.WITHDRAWN
    again = api_for(donor_officer).post(f"/api/pledges/{pledge.pk}/withdraw/")
    assert again.status_code == 400 and "already withdrawn" in again.json()["message"]


def test_provider_offers_priced_lots(api_for, provider_officer, provider_org, open_round, h100, make_lot_payload):
    lot = make_lot_payload(provider_org, h100, price_usd_per_gpu_hour="2.1000")
    del lot["provider"]
    response = api_for(provider_officer).post("/api/offers/", {"round": open_round.pk, "lots": [lot]}, format="json")
    assert response.status_code == 201, response.json()
    offer = Offer.objects.get()
    assert offer.provider == provider_org and offer.status == Offer.Status.PUBLISHED
    saved = offer.lots.get()
    assert str(saved.price_usd_per_gpu_hour) == "2.1000" and saved.provider == provider_org
    assert response.json()["lots"][0]["price_usd_per_gpu_hour"] == "2.1000"


@pytest.mark.parametrize(
    ("lot_change", "field"),
    [({"price_usd_per_gpu_hour": None}, "price_usd_per_gpu_hour"), ({"price_usd_per_gpu_hour": "0"},
                                                                    "price_usd_per_gpu_hour"),
     ({"provider": 1}, "provider")],
)
def test_bad_offer_lots_are_refused(api_for, provider_officer, provider_org, open_round, h100, make_lot_payload,
                                    lot_change, field):
    lot = make_lot_payload(provider_org, h100, price_usd_per_gpu_hour="2.10")
    del lot["provider"]
    lot.update(lot_change)
    response = api_for(provider_officer).post("/api/offers/", {"round": open_round.pk, "lots": [lot]}, format="json")
    assert response.status_code == 400
    assert field in response.json()["lots"]["0"]
    assert not Offer.objects.exists() and not CapacityLot.objects.exists()


def test_provider_sees_and_withdraws_only_its_own_offers(api_for, provider_officer, provider_org, donor_officer,
                                                         open_round):
    mine = factories.OfferFactory(provider=provider_org, round=open_round)
    theirs = factories.OfferFactory(round=open_round)
    api = api_for(provider_officer)
    assert [o["id"] for o in api.get("/api/offers/").json()["results"]] == [mine.pk]
    assert api.get(f"/api/offers/{theirs.pk}/").status_code == 404
    assert api.post(f"/api/offers/{theirs.pk}/withdraw/").status_code == 404
    response = api.post(f"/api/offers/{mine.pk}/withdraw/")
    assert response.status_code == 200
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == (Offer.Status.WITHDRAWN, Offer.Status.PUBLISHED)
    assert api_for(donor_officer).get("/api/offers/").status_code == 403
    assert api_for(donor_officer).post(f"/api/offers/{mine.pk}/withdraw/").status_code == 403
