"""The audit trail in the back office: read-only (entries are append-only; nobody adds, edits or deletes)."""
import json

from django.contrib import admin
from django.utils.html import format_html

from audit.models import AuditEntry


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
