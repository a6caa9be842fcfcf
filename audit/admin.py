"""The audit trail in the back office: read-only (entries are append-only; nobody adds, edits or deletes).

``AuditedAdminMixin`` puts the changes made in the back office's own forms in the trail, as the services do
for theirs: every model admin of the alliance's objects uses it."""
import json

from django.contrib import admin
from django.db import transaction
from django.utils.html import format_html

from audit.models import AuditEntry
from audit.services import audit_fields, audit_record
from audit.tracking import TRACKED, label_of


class AuditedAdminMixin:
    """Records what an add, change or delete form (with its inlines) and the delete action change: one entry
    per object, with the user who made it, its fields before and after, in the transaction of the change.
    Objects of models outside ``audit.tracking.TRACKED`` (bulk rows) are left out, as everywhere."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _record(request, obj, "admin_change" if change else "admin_add")

    def delete_model(self, request, obj):
        _record_deletion(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                _record_deletion(request, obj)
            super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        for doomed in formset.deleted_forms:
            if doomed.instance.pk is not None:
                _record_deletion(request, doomed.instance)
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            _record(request, obj, "admin_add")
        for obj, _fields in formset.changed_objects:
            _record(request, obj, "admin_change")


def _tracked(obj) -> bool:
    return label_of(type(obj)) in TRACKED


def _record(request, obj, action: str) -> None:
    if _tracked(obj):
        audit_record(action=action, actor=request.user, obj=obj, only_if_changed=action == "admin_change")


def _record_deletion(request, obj) -> None:
    if _tracked(obj):
        audit_record(action="admin_delete", actor=request.user, obj=obj, before=audit_fields(obj))


def _pretty(text: str) -> str:
    return format_html("<pre>{}</pre>", json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True))


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("sequence", "recorded_at", "action", "object_type", "object_id", "member_state",
                    "actor_username", "actor_role")
    list_filter = ("action", "object_type", "actor_role")
    search_fields = ("object_id", "actor_username", "member_state", "hash")
    ordering = ("-sequence",)
    show_full_result_count = False
    fields = ("sequence", "recorded_at", "action", "object_type", "object_id", "member_state", "organisation_id",
              "round_id", "actor_id", "actor_username", "actor_role", "actor_organisation_id", "actor_organisation",
              "before_pretty", "after_pretty", "extra_pretty", "previous_hash", "hash")
    readonly_fields = fields

    @admin.display(description="before")
    def before_pretty(self, entry):
        return _pretty(entry.before_json)

    @admin.display(description="after")
    def after_pretty(self, entry):
        return _pretty(entry.after_json)

    @admin.display(description="extra")
    def extra_pretty(self, entry):
        return _pretty(entry.extra_json)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
