"""Member states (public reference data) and organisations (members only)."""
import pytest

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def states(db):
    return [
        factories.MemberStateFactory(iso3="MWI", name="Malawi", region="SSA", income_group="LIC"),
        factories.MemberStateFactory(iso3="NER", name="Niger", region="SSA", income_group="LIC"),
        factories.MemberStateFactory(iso3="KEN", name="Kenya", region="SSA", income_group="LMIC",
                                     cofinancing_phase="accelerated"),
        factories.MemberStateFactory(iso3="BRA", name="Brazil", region="LAC", income_group="UMIC",
                                     lending_category="IBRD", cofinancing_phase="self"),
    ]


def test_public_lists_member_states_filtered_by_income_group(api_client, states):
    response = api_client.get("/api/member-states/", {"income_group": "LIC"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {row["iso3"] for row in body["results"]} == {"MWI", "NER"}
    assert all(row["income_group"] == "LIC" for row in body["results"])


def test_member_states_search_order_and_paginate(api_client, states):
    assert [r["iso3"] for r in api_client.get("/api/member-states/", {"search": "ken"}).json()["results"]] == ["KEN"]
    first = api_client.get("/api/member-states/", {"ordering": "iso3", "page_size": 2}).json()
    assert first["count"] == 4 and [r["iso3"] for r in first["results"]] == ["BRA", "KEN"]
    assert first["next"] is not None
    second = api_client.get("/api/member-states/", {"ordering": "iso3", "page_size": 2, "page": 2}).json()
    assert [r["iso3"] for r in second["results"]] == ["MWI", "NER"]
    assert [r["iso3"] for r in api_client.get(
        "/api/member-states/", {"region": "LAC", "cofinancing_phase": "self", "lending_category": "IBRD"}
    ).json()["results"]] == ["BRA"]


def test_member_state_detail_by_iso3_in_any_case(api_client, states):
    response = api_client.get("/api/member-states/ken/")
    assert response.status_code == 200
    assert response.json()["name"] == "Kenya"
    assert response.json()["cofinancing_phase"] == "accelerated"


def test_unknown_member_state_is_404_and_bad_filter_is_400(api_client, states):
    missing = api_client.get("/api/member-states/XYZ/")
    assert missing.status_code == 404 and "XYZ" in missing.json()["message"]
    bad = api_client.get("/api/member-states/", {"income_group": "RICH"})
    assert bad.status_code == 400 and "income_group" in bad.json()
    assert api_client.get("/api/member-states/", {"page": 99}).status_code == 404


def test_anonymous_cannot_list_organisations(api_client, ministry_a):
    response = api_client.get("/api/organisations/")
    assert response.status_code in (401, 403)
    assert "message" in response.json()


def test_a_user_without_membership_cannot_list_organisations(api_for, ministry_a):
    outsider = factories.UserFactory(username="outsider")
    response = api_for(outsider).get("/api/organisations/")
    assert response.status_code == 403
    assert "members" in response.json()["message"]


def test_members_list_organisations_filtered_by_kind_and_state(api_for, ministry_officer_a, ministry_b, donor_org):
    api = api_for(ministry_officer_a)
    everything = api.get("/api/organisations/").json()
    assert everything["count"] == 3
    ministries = api.get("/api/organisations/", {"kind": "ministry"}).json()["results"]
    assert {o["member_state"] for o in ministries} == {"KEN", "NPL"}
    nepal = api.get("/api/organisations/", {"member_state": "npl"}).json()["results"]
    assert [o["name"] for o in nepal] == [ministry_b.name]
    detail = api.get(f"/api/organisations/{donor_org.pk}/")
    assert detail.status_code == 200 and detail.json()["kind"] == "donor"
    assert api.get("/api/organisations/999999/").status_code == 404
