"""Who reads which entries: the secretariat all; a ministry its own state's objects; a donor or provider
its organisation's; everyone the decisions of published rounds, without names. The same rule for the
API and the pages; verification is public."""
import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse

from allocation import services
from allocation.models import RequestStatus, RoundStatus
from audit.models import AuditEntry
from audit.services import audit_record
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()


@pytest.fixture
def history(small_round, secretariat_officer, ministry_officer_a, ministry_officer_b, donor_officer,
            provider_officer, django_capture_on_commit_callbacks, eager_celery):
    """A published round (with its run), and in an open round: a request of each state, a pledge and an offer."""
    with django_capture_on_commit_callbacks(execute=True):
        run = services.round_enqueue_solve(round_=small_round, user=secretariat_officer)
    run.refresh_from_db()
    services.run_approve(run=run, user=secretariat_officer)
    services.round_publish(round_=small_round, user=secretariat_officer)
    open_round = factories.RoundFactory(status=RoundStatus.OPEN)
    h100 = factories.HardwareTypeFactory()
    request_a = services.request_create(user=ministry_officer_a, round_=open_round, acceptable_hardware=[h100],
                                        title="Kenya triage", abstract="A", sector="health",
                                        h100e_hours=Decimal("100"))
    request_b = services.request_create(user=ministry_officer_b, round_=open_round, acceptable_hardware=[h100],
                                        title="Nepal speech", abstract="B", sector="language",
                                        h100e_hours=Decimal("100"))
    services.request_submit(user=ministry_officer_b, request=request_b)
    pledge = services.pledge_create(user=donor_officer, round_=open_round, kind="cash", cash_usd=Decimal("100"))
    offer = services.offer_create(user=provider_officer, round_=open_round, lots=[{
        "hardware": h100, "region": "SSA", "gpu_hours": Decimal("10"), "available_from": datetime.date(2026, 1, 1),
        "available_until": datetime.date(2026, 2, 1), "value_usd_per_gpu_hour": Decimal("2"),
        "price_usd_per_gpu_hour": Decimal("2.5")}])
    return {"round": small_round, "run": run, "request_a": request_a, "request_b": request_b, "pledge": pledge,
            "offer": offer, "open_round": open_round}


def _entries(client, **params):
    response = client.get("/api/audit/", {"page_size": 500, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _objects(entries):
    return {(e["object_type"], e["object_id"]) for e in entries}


def test_the_secretariat_reads_every_entry(history, api_for, secretariat_officer):
    entries = _entries(api_for(secretariat_officer))
    assert len(entries) == AuditEntry.objects.count()
    assert [e["sequence"] for e in entries] == sorted(e["sequence"] for e in entries)
    assert all(e["actor_username"] is not None for e in entries)


def test_a_ministry_reads_its_own_states_objects_and_published_decisions(history, api_for, ministry_officer_a):
    entries = _entries(api_for(ministry_officer_a))
    objects = _objects(entries)
    assert ("allocation.computerequest", str(history["request_a"].pk)) in objects
    assert ("allocation.computerequest", str(history["request_b"].pk)) not in objects
    assert ("allocation.pledge", str(history["pledge"].pk)) not in objects
    assert ("allocation.offer", str(history["offer"].pk)) not in objects
    assert ("allocation.round", str(history["round"].pk)) in objects  # published: public
    assert {e["member_state"] for e in entries} <= {"KEN", ""}
    assert not any(e["action"] == "review_submit" for e in entries)  # reviews are blind


def test_a_ministry_cannot_read_another_states_request_history(history, api_for, client_for, ministry_officer_b):
    request_a = history["request_a"]
    assert _entries(api_for(ministry_officer_b), object=f"allocation.computerequest:{request_a.pk}") == []
    page = client_for(ministry_officer_b).get(
        reverse("audit-object", args=["allocation.computerequest", request_a.pk]))
    assert page.status_code == 404


def test_a_donor_reads_its_pledges_but_not_offers_or_requests(history, api_for, donor_officer):
    objects = _objects(_entries(api_for(donor_officer)))
    assert ("allocation.pledge", str(history["pledge"].pk)) in objects
    assert ("allocation.offer", str(history["offer"].pk)) not in objects
    assert ("allocation.computerequest", str(history["request_a"].pk)) not in objects


def test_a_provider_reads_its_offers_only(history, api_for, provider_officer):
    objects = _objects(_entries(api_for(provider_officer)))
    assert ("allocation.offer", str(history["offer"].pk)) in objects
    assert ("allocation.pledge", str(history["pledge"].pk)) not in objects


def test_the_public_reads_published_decisions_without_names(history, api_client):
    entries = _entries(api_client)
    assert entries, "the published round's decisions are public"
    assert {e["object_type"] for e in entries} <= {"allocation.round", "allocation.allocationrun"}
    assert {e["round_id"] for e in entries} == {history["round"].pk}
    assert all(e["actor_username"] is None for e in entries)
    actions = {e["action"] for e in entries}
    assert {"round_publish", "run_approve", "run_store", "round_solve"} <= actions
    store = next(e for e in entries if e["action"] == "run_store")
    assert store["extra"]["scenario_sha256"] == history["run"].scenario_sha256
    solve = next(e for e in entries if e["action"] == "round_solve")
    assert "created_by_id" not in solve["after"] and solve["after"]["status"] == "queued"


def test_a_ministry_reads_who_in_its_own_organisation_acted_but_not_the_secretariats_names(
        history, api_for, ministry_officer_a):
    entries = _entries(api_for(ministry_officer_a))
    own = next(e for e in entries if e["action"] == "request_create")
    assert own["actor_username"] == "officer_a"
    publish = next(e for e in entries if e["action"] == "round_publish")
    assert publish["actor_username"] is None and publish["actor_role"] == "secretariat_officer"


def test_a_malformed_object_filter_is_a_400_naming_it(api_for, secretariat_officer):
    response = api_for(secretariat_officer).get("/api/audit/", {"object": "computerequest"})
    assert response.status_code == 400
    assert "object" in response.json()


def test_verification_is_public_and_finds_an_edited_entry(history, api_client, client, tamper):
    response = api_client.get("/api/audit/verify/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "intact" and body["problem"] is None
    assert body["entries"] == AuditEntry.objects.count() == body["head_sequence"]
    assert body["head_hash"] == AuditEntry.objects.order_by("-sequence").first().hash
    page = client.get(reverse("audit-verify"))
    assert page.status_code == 200 and "Intact" in page.content.decode()

    tamper.edit(3, after_json='{"status":"forged"}')
    # The verification of a moment ago is reused (it says when it was made) until its minute is up...
    again = api_client.get("/api/audit/verify/").json()
    assert again["status"] == "intact" and again["checked_at"] == body["checked_at"]
    cache.clear()  # ...which is what expiry does
    body = api_client.get("/api/audit/verify/").json()
    assert body["status"] == "broken"
    assert body["problem"]["sequence"] == 3 and body["problem"]["kind"] == "edited"
    page = client.get(reverse("audit-verify")).content.decode()
    assert "Broken" in page and "entry 3" in page


def test_a_new_entry_makes_the_public_check_recompute(history, api_client, tamper, settings):
    settings.GACP = {**settings.GACP, "AUDIT_VERIFY_SECONDS": 3600}
    assert api_client.get("/api/audit/verify/").json()["status"] == "intact"
    tamper.edit(2, action="forged")
    with transaction.atomic():
        audit_record(action="note", object_type="members.memberstate", object_id=1)
    body = api_client.get("/api/audit/verify/").json()
    assert body["status"] == "broken" and body["problem"]["sequence"] == 2


def test_the_history_page_lists_visible_entries_with_filters(history, client_for, ministry_officer_a):
    client = client_for(ministry_officer_a)
    page = client.get(reverse("audit-list"), {"object_type": "allocation.computerequest",
                                              "object_id": history["request_a"].pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "request_create" in html and f"allocation.computerequest:{history['request_a'].pk}" in html
    other = client.get(reverse("audit-list"), {"object_type": "allocation.computerequest",
                                               "object_id": history["request_b"].pk})
    assert "No entries match" in other.content.decode()


def test_the_history_page_names_a_wrong_filter(client_for, secretariat_officer):
    page = client_for(secretariat_officer).get(reverse("audit-list"), {"member_state": "K3N", "object_id": "5"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "three-letter ISO code" in html and "Choose the type of the object" in html


def test_an_object_history_page_shows_each_change(history, client_for, ministry_officer_b):
    request_b = history["request_b"]
    page = client_for(ministry_officer_b).get(reverse("audit-object", args=["allocation.computerequest", request_b.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "request_create" in html and "request_submit" in html
    assert RequestStatus.SUBMITTED.value in html
