"""``manage.py load_demo``: the demo alliance on an empty database, its rules and its round's scenario.

The demo is loaded once for the module inside a transaction that is rolled back at its end (each test
runs in a savepoint of it), with a fast password hasher: the real one costs ~0.3 s per demo user."""
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model, password_validation
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from allocation import demo
from allocation.models import CapacityLot, ComputeRequest, Pledge, RequestStatus, Review, Round, RoundStatus
from allocation.scenario import build_scenario, lots_of_round
from members.models import Membership, Organisation, OrganisationKind, Role

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def demo_output(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER), transaction.atomic():
        out = StringIO()
        call_command("load_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def loaded(demo_output, db):
    return demo_output


@pytest.fixture
def round_one(loaded):
    return Round.objects.get(call__title=demo.CALL_TITLE, number=1)


def organisations(kind):
    return Organisation.objects.filter(kind=kind)


def test_load_demo_creates_the_cast_of_the_alliance(loaded):
    assert organisations(OrganisationKind.SECRETARIAT).get().name == "GACP Secretariat"
    assert organisations(OrganisationKind.MINISTRY).count() == 30
    assert organisations(OrganisationKind.DONOR).count() == 10
    assert organisations(OrganisationKind.PROVIDER).count() == 2
    assert Membership.objects.filter(role=Role.REVIEWER).count() == 3
    assert Membership.objects.filter(role=Role.SECRETARIAT_OFFICER).count() == 1
    kenya = Organisation.objects.get(member_state__iso3="KEN", kind=OrganisationKind.MINISTRY)
    assert kenya.name == "Ministry of Information, Communications and the Digital Economy of Kenya"
    assert kenya.memberships.get().user.username == "ministry-ken"


def test_the_requesting_states_span_income_groups_and_regions(loaded):
    states = [o.member_state for o in organisations(OrganisationKind.MINISTRY).select_related("member_state")]
    groups = {s.income_group for s in states}
    regions = {s.region for s in states}

    assert groups == {"LIC", "LMIC", "UMIC", "HIC"}
    assert {"SSA", "SAS", "EAP", "LAC", "MNA", "ECA"} <= regions
    assert sum(s.income_group == "HIC" for s in states) == 2


def test_round_one_is_closed_with_every_request_decided_and_every_eligible_one_scored(round_one):
    requests = ComputeRequest.objects.filter(round=round_one)

    assert round_one.status == RoundStatus.CLOSED
    assert requests.count() == 120
    assert set(requests.values_list("status", flat=True)) == {RequestStatus.SCORED, RequestStatus.INELIGIBLE}
    assert 3 <= requests.filter(status=RequestStatus.INELIGIBLE).count() <= 8
    assert not requests.filter(status=RequestStatus.INELIGIBLE, eligibility_note="").exists()
    for request in requests.filter(status=RequestStatus.SCORED).prefetch_related("reviews"):
        reviews = list(request.reviews.all())
        assert 1 <= len(reviews) <= 3
        mean = sum(r.score for r in reviews) / len(reviews)
        assert request.score == mean.quantize(Decimal("0.001"))
    assert not Review.objects.filter(request__status=RequestStatus.INELIGIBLE).exists()


def test_round_one_has_sectors_minimum_sizes_residency_and_hardware_like_the_medium_scenario(round_one):
    requests = list(ComputeRequest.objects.filter(round=round_one).prefetch_related("acceptable_hardware"))
    sizes = sorted(float(r.h100e_hours) for r in requests)

    assert {r.sector for r in requests} >= {"health", "education", "justice", "agriculture", "climate", "language"}
    assert 2_000 <= sizes[len(sizes) // 2] <= 10_000
    assert sizes[-1] <= 110_000
    assert 15 <= sum(r.min_h100e_hours > 0 for r in requests) <= 60
    assert 20 <= sum(not r.data_residency_regions for r in requests) <= 80
    assert all(1 <= len(r.acceptable_hardware.all()) <= 4 for r in requests)
    assert any(r.local_language for r in requests) and any(not r.open_weights for r in requests)
    assert any("Swahili clinical triage" in r.title for r in requests)
    assert any("Hausa maths tutor" in r.title for r in requests)


def test_supply_is_between_40_and_60_percent_of_eligible_demand(round_one):
    lots = CapacityLot.objects.filter(id__in=[lot.id for lot in lots_of_round(round_one)]).select_related("hardware")
    donated = sum(lot.h100e_hours for lot in lots if lot.pledge_id)
    offered = sum(lot.h100e_hours for lot in lots if lot.offer_id)
    demand = sum(r.h100e_hours for r in ComputeRequest.objects.filter(round=round_one, status=RequestStatus.SCORED))

    assert 0.40 <= donated / demand <= 0.60
    assert (donated + offered) / demand <= 0.65
    assert round_one.pledges.filter(kind=Pledge.Kind.CASH).count() == 3
    assert round_one.offers.count() == 2
    assert all(lot.price_usd_per_gpu_hour for lot in lots if lot.offer_id)
    assert any(lot.earmark_income_groups for lot in lots) and any(lot.earmark_sectors for lot in lots)
    assert round_one.country_budgets.count() == 10


def test_round_two_is_open_with_drafts_submissions_pledges_and_an_offer(loaded):
    round_two = Round.objects.get(call__title=demo.CALL_TITLE, number=2)
    statuses = list(round_two.requests.values_list("status", flat=True))

    assert round_two.status == RoundStatus.OPEN
    assert RequestStatus.DRAFT in statuses and RequestStatus.SUBMITTED in statuses
    assert round_two.requests.filter(member_state__iso3="KEN", status=RequestStatus.DRAFT).exists()
    assert round_two.pledges.count() >= 2
    assert round_two.offers.count() == 1


def test_demo_users_authenticate_with_the_printed_password(loaded):
    lines = loaded.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("---")) + 1
    usernames = [line.split()[0] for line in lines[start:lines.index("", start)]]

    assert f"password for all: {demo.DEMO_PASSWORD}" in loaded
    assert len(usernames) == get_user_model().objects.count() == 47
    assert {"secretariat", "reviewer1", "reviewer3", "ministry-ken", "donor-jpn", "provider-nrc", "admin"} <= set(
        usernames)
    for username in usernames:
        assert authenticate(username=username, password=demo.DEMO_PASSWORD) is not None, username
    assert authenticate(username="ministry-ken", password="wrong-password-2026") is None


def test_the_demo_password_passes_the_password_validators(loaded):
    for user in get_user_model().objects.all():
        password_validation.validate_password(demo.DEMO_PASSWORD, user)


def test_every_role_has_a_demo_user_and_the_secretariat_can_use_the_admin(loaded):
    roles = set(Membership.objects.values_list("role", flat=True))
    secretariat = get_user_model().objects.get(username="secretariat")
    admin = get_user_model().objects.get(username="admin")

    assert roles == set(Role.values)
    assert secretariat.is_staff and not secretariat.is_superuser
    assert secretariat.has_perm("allocation.view_computerequest")
    assert not secretariat.has_perm("allocation.change_computerequest")
    assert admin.is_staff and admin.is_superuser


def test_load_demo_prints_the_figures(loaded):
    assert "Demo alliance loaded." in loaded
    for label in ["requesting states", "donors", "pledged h100e-hours", "demand h100e-hours", "requests"]:
        assert label in loaded


def test_loading_the_demo_twice_changes_nothing(loaded):
    counts = [model.objects.count() for model in (get_user_model(), Organisation, ComputeRequest, CapacityLot,
                                                  Pledge, Review, Round)]
    out = StringIO()

    call_command("load_demo", stdout=out)

    assert "already loaded" in out.getvalue()
    assert [model.objects.count() for model in (get_user_model(), Organisation, ComputeRequest, CapacityLot,
                                                Pledge, Review, Round)] == counts
    with pytest.raises(demo.DemoAlreadyLoaded):
        demo.demo_load()


def test_the_request_plan_is_deterministic(loaded):
    first, second = demo._Builder(), demo._Builder()
    first.reference_data()
    second.reference_data()

    assert first.request_plans(120, flagships=True) == second.request_plans(120, flagships=True)


def test_round_one_scenario_is_well_formed(round_one):
    scenario = build_scenario(round_one)
    hardware = {h["id"] for h in scenario["hardware"]}
    lot_ids = [lot["id"] for lot in scenario["lots"]]
    countries = {c["iso3"] for c in scenario["countries"]}

    assert scenario["format"] == "gacp.scenario/1"
    assert len(scenario["requests"]) == 120
    assert len(lot_ids) == CapacityLot.objects.filter(pledge__round=round_one).count() + CapacityLot.objects.filter(
        offer__round=round_one).count()
    assert len(set(lot_ids)) == len(lot_ids)
    assert len({r["id"] for r in scenario["requests"]}) == 120
    assert all(set(r["hardware"]) <= hardware and r["hardware"] for r in scenario["requests"])
    assert all(lot["hardware"] in hardware for lot in scenario["lots"])
    assert all(h["h100e"] > 0 for h in scenario["hardware"])
    assert {r["country"] for r in scenario["requests"]} == countries
    assert len(countries) == 30
    assert scenario["cash_usd"] > 0
    assert sum(1 for c in scenario["countries"] if c["budget_usd"] is not None) == 10
    assert sum(r["score"] == 0 for r in scenario["requests"]) == round_one.requests.filter(
        status=RequestStatus.INELIGIBLE).count()
    assert all(0 < r["score"] <= 1 for r in scenario["requests"] if r["score"])
    assert all(0 <= r["min_h100e_hours"] <= r["h100e_hours"] for r in scenario["requests"])


@pytest.mark.slow
def test_round_one_allocation_is_interesting(round_one):
    """Some requests met in full, many in part, some deferred (run once the engine exists)."""
    solver = pytest.importorskip("allocation.solver")
    output = solver.solve(build_scenario(round_one), time_limit=120, progress=lambda progress: None)
    eligible = {r.scenario_id for r in round_one.requests.filter(status=RequestStatus.SCORED)}
    fulfilment = [r["fulfilment"] for r in output["requests"] if r["id"] in eligible]

    assert output["status"] in ("optimal", "feasible")
    assert sum(f >= 0.999 for f in fulfilment) >= 5
    assert sum(0.001 < f < 0.999 for f in fulfilment) >= 40
    assert sum(f <= 0.001 for f in fulfilment) >= 3
