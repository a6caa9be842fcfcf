"""Query-string filters of the audit trail (API and page). A value that does not fit is a 400 (API) or a
message beside the field (page), naming the parameter."""
import re

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from allocation.filters import IdField
from audit.models import AuditEntry

OBJECT_RE = re.compile(r"^(?P<type>[a-z_]+\.[a-z_]+):(?P<id>[A-Za-z0-9_-]{1,64})$")


class ObjectField(forms.CharField):
    """``app_label.model:id``, e.g. ``allocation.computerequest:12``."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        match = OBJECT_RE.match(value.strip())
        if match is None:
            raise forms.ValidationError(
                _("Name an object as type:id, for example allocation.computerequest:12."), code="invalid")
        return match.group("type"), match.group("id")


@extend_schema_field(OpenApiTypes.STR)
class ObjectFilter(django_filters.Filter):
    field_class = ObjectField

    def filter(self, qs, value):
        if not value:
            return qs
        object_type, object_id = value
        return qs.filter(object_type=object_type, object_id=object_id)


@extend_schema_field(OpenApiTypes.INT)
class IntFilter(django_filters.NumberFilter):
    field_class = IdField  # 64 bits at most: a larger number is a 400, not an overflow


class AuditEntryFilter(django_filters.FilterSet):
    object = ObjectFilter(label=_("Object (type:id)"), help_text="An object as type:id, e.g. "
                          "allocation.computerequest:12: its whole history.")
    object_type = django_filters.CharFilter(label=_("Object type"), max_length=64)
    object_id = django_filters.CharFilter(label=_("Object id"), max_length=64)
    action = django_filters.CharFilter(label=_("Action"), max_length=64)
    member_state = django_filters.CharFilter(label=_("Member state (ISO3)"), lookup_expr="iexact", max_length=3)
    round = IntFilter(field_name="round_id", label=_("Round id"), min_value=1)
    after = IntFilter(field_name="sequence", lookup_expr="gt", label=_("After entry number"), min_value=0)

    class Meta:
        model = AuditEntry
        fields = ["object", "object_type", "object_id", "action", "member_state", "round", "after"]
