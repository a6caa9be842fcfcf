"""The secretariat's admin: every model's pages open, search and filters work, outsiders are kept out."""
import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from allocation.models import (
    AllocationLine,
    AllocationRun,
    Appeal,
    CofinancingObligation,
    CountryBudget,
    RequestResult,
    ReviewAssignment,
    RoundStatus,
)
from tests import factories

pytestmark = pytest.mark.django_db


REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
APP_MODELS = {"members", "allocation"}


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def every_model(state_a, ministry_officer_a, donor_officer, provider_officer, reviewer):
    """At least one row of every model, so that list columns, filters and change pages all have work."""
    round_ = factories.RoundFactory(status=RoundStatus.PUBLISHED, published_at=timezone.now())
    lot = factories.CapacityLotFactory(pledge__round=round_, pledge__donor=donor_officer.membership.organisation)
    offer_lot = factories.CapacityLotFactory(pledge=None, offer=factories.OfferFactory(round=round_),
                                             price_usd_per_gpu_hour=Decimal("2.5"), region="EAP")
    offer_lot.earmark_countries.add(state_a)
    factories.PledgeFactory(round=round_, kind="cash", cash_usd=Decimal("1000"))
    request = factories.ComputeRequestFactory(round=round_, ministry=ministry_officer_a.membership.organisation,
                                              status="allocated")
    factories.ReviewFactory(request=request, reviewer=reviewer)
    ReviewAssignment.objects.create(request=request, reviewer=reviewer, due_date=datetime.date(2026, 1, 15))
    CountryBudget.objects.create(round=round_, member_state=state_a, budget_usd=Decimal("5000"))
    run = AllocationRun.objects.create(
        round=round_, status="succeeded", output={"status": "optimal", "allocations": []},
        scenario={"format": "gacp.scenario/1", "requests": [{"id": "R1"}]}, scenario_sha256="c" * 64,
        is_approved=True, progress={"levels": 3}, solver_status="optimal", solve_seconds=0.5,
    )
    RequestResult.objects.create(run=run, request=request, weight=1.8, allocated_h100e_hours=600, fulfilment=0.6,
                                 cofinancing_usd=Decimal("100"), subsidy_usd=Decimal("900"),
                                 explanation={"stopped_by": "lot L1 full"})
    AllocationLine.objects.create(run=run, request=request, lot=lot, gpu_hours=600, h100e_hours=600,
                                  cofinancing_usd=Decimal("100"), cash_usd=0)
    CofinancingObligation.objects.create(round=round_, run=run, member_state=state_a, share=Decimal("0.2"),
                                         amount_usd=Decimal("100"), due_date=datetime.date(2026, 1, 31))
    Appeal.objects.create(request=request, lodged_by=ministry_officer_a, reasons="The review missed our data.")
    return {"run": run, "request": request}


def test_every_app_model_is_registered():
    registered = {model for model in admin.site._registry}
    from django.apps import apps

    for label in APP_MODELS:
        for model in apps.get_app_config(label).get_models():
            assert model in registered, f"{model._meta.label} has no admin"
    assert get_user_model() in registered


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED])
def test_changelist_search_and_every_filter_open_for_a_superuser(admin_client, every_model, model, model_admin):
    url = admin_url(model, "changelist")

    response = admin_client.get(url)
    assert response.status_code == 200
    if model._meta.app_label in APP_MODELS:
        assert response.context["cl"].result_count >= 1

    if model_admin.search_fields:
        response = admin_client.get(url, {"q": "zz-no-match"})
        assert response.status_code == 200
        assert response.context["cl"].result_count == 0

    changelist = admin_client.get(url).context["cl"]
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            response = admin_client.get(url + choice["query_string"])
            assert response.status_code == 200, (spec.title, choice["query_string"])
            assert "e=1" not in response.request.get("QUERY_STRING", "")

    if model_admin.date_hierarchy:
        response = admin_client.get(url, {f"{model_admin.date_hierarchy}__year": "2026"})
        assert response.status_code == 200


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED])
def test_change_and_add_pages_open_for_a_superuser(admin_client, every_model, model, model_admin):
    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200

    add = admin_client.get(admin_url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(add.wsgi_request) else 403)


def test_admin_is_branded_for_the_secretariat(admin_client):
    body = admin_client.get(reverse("admin:index")).content.decode()

    assert "GACP secretariat" in body
    assert "css/admin." in body


def test_user_admin_edits_the_persons_place_in_the_alliance(admin_client, ministry_officer_a):
    body = admin_client.get(admin_url(get_user_model(), "change", ministry_officer_a.pk)).content.decode()

    assert "Place in the alliance" in body
    assert "Ministry of ICT, Kenya" in body

    listing = admin_client.get(admin_url(get_user_model(), "changelist"), {"membership__role": "ministry_officer"})
    assert [user.username for user in listing.context["cl"].result_list] == ["officer_a"]


def test_requests_are_found_by_their_scenario_id(admin_client, every_model):
    request = every_model["request"]

    response = admin_client.get(admin_url(request, "changelist"), {"q": request.scenario_id})

    assert list(response.context["cl"].result_list) == [request]


def test_request_filters_by_income_group_of_the_state(admin_client, every_model):
    url = admin_url(every_model["request"], "changelist")

    lmic = admin_client.get(url, {"member_state__income_group__exact": "LMIC"})
    hic = admin_client.get(url, {"member_state__income_group__exact": "HIC"})

    assert lmic.context["cl"].result_count == 1
    assert hic.context["cl"].result_count == 0


def test_runs_are_read_only(admin_client, every_model):
    run = every_model["run"]
    url = admin_url(run, "change", run.pk)

    body = admin_client.get(url).content.decode()
    assert 'name="_save"' not in body
    assert "gacp.scenario/1" in body  # the scenario is shown, pretty-printed
    assert "c" * 64 in body

    response = admin_client.post(url, {"is_approved": ""})
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.is_approved is True


def test_cofinancing_payment_is_recorded_in_the_admin(admin_client, every_model):
    obligation = CofinancingObligation.objects.get()

    response = admin_client.post(admin_url(obligation, "change", obligation.pk),
                                 {"paid_usd": "60.00", "paid_at": "2026-01-15"})

    assert response.status_code == 302
    obligation.refresh_from_db()
    assert obligation.paid_usd == Decimal("60.00")
    assert obligation.amount_usd == Decimal("100")  # read-only: unchanged


def test_a_person_who_is_not_staff_is_sent_away_from_the_admin(client_for, ministry_officer_a):
    response = client_for(ministry_officer_a).get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_public_is_sent_away_from_the_admin(client):
    response = client.get(admin_url(AllocationRun, "changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_round_status_moves_only_through_the_services(admin_client, every_model):
    round_ = factories.RoundFactory(status=RoundStatus.OPEN)
    url = admin_url(round_, "changelist")

    body = admin_client.get(admin_url(round_, "change", round_.pk)).content.decode()
    assert 'name="status"' not in body  # read-only on the form

    response = admin_client.post(url, {"action": "close_rounds", "_selected_action": [round_.pk]}, follow=True)
    round_.refresh_from_db()
    assert round_.status == RoundStatus.CLOSED
    assert "1 round(s) closed." in response.content.decode()

    response = admin_client.post(url, {"action": "publish_rounds", "_selected_action": [round_.pk]}, follow=True)
    round_.refresh_from_db()
    assert round_.status == RoundStatus.CLOSED  # refused: no approved run, and not solved
    assert "Approve one run of the round before publishing it." in response.content.decode()


def test_publishing_an_approved_run_from_the_admin(admin_client, every_model):
    run = every_model["run"]
    round_ = run.round
    round_.status, round_.published_at = RoundStatus.SOLVED, None
    round_.save()
    request = every_model["request"]
    request.status = "scored"
    request.save()

    admin_client.post(admin_url(round_, "changelist"), {"action": "publish_rounds", "_selected_action": [round_.pk]})

    round_.refresh_from_db()
    request.refresh_from_db()
    assert round_.status == RoundStatus.PUBLISHED
    assert round_.published_at is not None
    assert request.status == "allocated"  # the service's own rule, kept by going through it


def test_approving_a_run_from_the_admin(admin_client, every_model):
    old = every_model["run"]
    round_ = old.round
    round_.status, round_.published_at = RoundStatus.SOLVED, None
    round_.save()
    new = AllocationRun.objects.create(round=round_, status="succeeded", output={}, scenario_sha256="e" * 64)

    admin_client.post(admin_url(new, "changelist"), {"action": "approve_run", "_selected_action": [new.pk]})

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_approved, new.is_approved) == (False, True)


def test_an_invalid_policy_is_refused(admin_client, every_model):
    round_ = factories.RoundFactory(status=RoundStatus.OPEN)
    url = admin_url(round_, "change", round_.pk)
    data = {
        "call": round_.call_id, "number": round_.number, "title": round_.title,
        "opens_at_0": "2026-01-01", "opens_at_1": "00:00:00",
        "submission_deadline_0": "2026-03-01", "submission_deadline_1": "00:00:00",
        "policy": '{"income_weights": {"LIC": 2}}',
        "country_budgets-TOTAL_FORMS": "0", "country_budgets-INITIAL_FORMS": "0",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "The policy is not valid" in response.content.decode()
    round_.refresh_from_db()
    assert round_.policy == settings.GACP["DEFAULT_POLICY"]


def test_new_rounds_start_with_the_default_policy(admin_client):
    response = admin_client.get(admin_url(factories.RoundFactory._meta.model, "add"))

    assert response.context["adminform"].form.initial["policy"] == settings.GACP["DEFAULT_POLICY"]
