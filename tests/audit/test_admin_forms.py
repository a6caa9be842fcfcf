"""Changes made in the back office's own forms go into the audit trail like the services' changes: who made
them, the fields before and after, one entry per object (inline rows included), and the chain still verifies."""
import datetime
import json

import pytest
from django.urls import reverse

from allocation.models import HardwareType
from audit.models import AuditEntry
from audit.selectors import audit_chain_verify
from members.models import Membership, Organisation, OrganisationKind, Role
from tests import factories

pytestmark = pytest.mark.django_db


def form_data(response) -> dict:
    """The POST data of an admin add or change page as the browser would send it unchanged: the main form
    and every inline formset with its management form."""
    data = {}

    def add(form):
        for name in form.fields:
            key, value = form.add_prefix(name), form[name].value()
            if value is None or value == "" or value is False:
                continue
            if value is True:
                data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(item) for item in value]
            elif isinstance(value, datetime.datetime):
                data[f"{key}_0"], data[f"{key}_1"] = value.date().isoformat(), value.time().isoformat()
            elif isinstance(value, datetime.date):
                data[key] = value.isoformat()
            else:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[formset.management_form.add_prefix(key)] = value
        for form in formset.forms:
            add(form)
    return data


def entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("sequence"))


def test_a_change_form_edit_is_recorded_with_before_and_after(admin_client, admin_user):
    hardware = factories.HardwareTypeFactory()
    url = reverse("admin:allocation_hardwaretype_change", args=[hardware.pk])
    data = form_data(admin_client.get(url))
    data["name"] = "NVIDIA H100 (SXM5, 80 GB)"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    (entry,) = entries("admin_change")
    assert entry.object_type == "allocation.hardwaretype"
    assert entry.object_id == str(hardware.pk)
    assert entry.actor_username == admin_user.username
    assert json.loads(entry.before_json)["name"] == "NVIDIA H100 SXM5 80GB"
    assert json.loads(entry.after_json)["name"] == "NVIDIA H100 (SXM5, 80 GB)"
    assert audit_chain_verify().intact


def test_saving_a_form_unchanged_records_nothing(admin_client):
    hardware = factories.HardwareTypeFactory()
    url = reverse("admin:allocation_hardwaretype_change", args=[hardware.pk])
    assert admin_client.post(url, form_data(admin_client.get(url))).status_code == 302
    assert entries("admin_change") == []


def test_an_added_object_is_recorded_with_every_field(admin_client):
    url = reverse("admin:allocation_hardwaretype_add")
    data = form_data(admin_client.get(url))
    data.update(key="AMD_MI325X", name="AMD Instinct MI325X", manufacturer="AMD", h100e="1.321")
    assert admin_client.post(url, data).status_code == 302
    (entry,) = entries("admin_add")
    created = HardwareType.objects.get(key="AMD_MI325X")
    assert entry.object_id == str(created.pk)
    assert json.loads(entry.after_json)["h100e"] == "1.321"


def test_a_deletion_is_recorded_with_what_was_deleted(admin_client):
    hardware = factories.HardwareTypeFactory()
    url = reverse("admin:allocation_hardwaretype_delete", args=[hardware.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not HardwareType.objects.filter(pk=hardware.pk).exists()
    (entry,) = entries("admin_delete")
    assert entry.object_id == str(hardware.pk)
    assert json.loads(entry.before_json)["key"] == "NVIDIA_H100_SXM5_80GB"
    assert audit_chain_verify().intact


def test_the_delete_action_records_each_object(admin_client):
    first = factories.HardwareTypeFactory(key="A", name="A")
    second = factories.HardwareTypeFactory(key="B", name="B")
    url = reverse("admin:allocation_hardwaretype_changelist")
    response = admin_client.post(url, {"action": "delete_selected", "_selected_action": [first.pk, second.pk],
                                       "post": "yes"})
    assert response.status_code == 302
    assert sorted(e.object_id for e in entries("admin_delete")) == sorted([str(first.pk), str(second.pk)])


def test_inline_rows_are_recorded_one_by_one(admin_client):
    secretariat = factories.OrganisationFactory(kind=OrganisationKind.SECRETARIAT, name="Secretariat")
    leaving = factories.MembershipFactory(organisation=secretariat, role=Role.SECRETARIAT_OFFICER,
                                          user__username="leaving")
    staying = factories.MembershipFactory(organisation=secretariat, role=Role.SECRETARIAT_OFFICER,
                                          user__username="staying")
    url = reverse("admin:members_organisation_change", args=[secretariat.pk])
    data = form_data(admin_client.get(url))
    rows = {data[f"memberships-{i}-id"]: i for i in range(2)}
    data[f"memberships-{rows[str(leaving.pk)]}-DELETE"] = "on"
    data[f"memberships-{rows[str(staying.pk)]}-role"] = Role.REVIEWER
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    assert not Membership.objects.filter(pk=leaving.pk).exists()
    (deleted,) = entries("admin_delete")
    assert (deleted.object_type, deleted.object_id) == ("members.membership", str(leaving.pk))
    (changed,) = entries("admin_change")
    assert (changed.object_type, changed.object_id) == ("members.membership", str(staying.pk))
    assert json.loads(changed.before_json)["role"] == Role.SECRETARIAT_OFFICER
    assert json.loads(changed.after_json)["role"] == Role.REVIEWER
    assert Organisation.objects.filter(pk=secretariat.pk).exists()
    assert audit_chain_verify().intact
