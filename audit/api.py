"""The audit trail over the API: the entries a person may read, and the public verification of the chain."""
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from alliance.api import ErrorSerializer, Pagination
from audit.filters import AuditEntryFilter
from audit.selectors import actor_shown_to, audit_chain_verify_recent, entries_visible_to, without_personal_fields


class AuditEntryOutputSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    recorded_at = serializers.DateTimeField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    member_state = serializers.CharField(help_text="ISO3 code of the state whose object this is; empty if none.")
    organisation_id = serializers.IntegerField(allow_null=True)
    round_id = serializers.IntegerField(allow_null=True)
    actor_role = serializers.CharField(help_text="The acting person's role, or `system`.")
    actor_organisation = serializers.CharField()
    actor_username = serializers.SerializerMethodField(
        help_text="Shown to the secretariat, the person and their colleagues; null for everyone else.")
    before = serializers.DictField(help_text="The fields that changed, with their old values, and the id.")
    after = serializers.DictField(help_text="The fields that changed, with their new values, and the id.")
    extra = serializers.DictField()
    previous_hash = serializers.CharField()
    hash = serializers.CharField(help_text="SHA-256 of the entry's canonical JSON, which includes previous_hash.")

    def to_representation(self, entry):
        data = super().to_representation(entry)
        if data["actor_username"] is None:  # nor the ids of the people named in the change
            data["before"] = without_personal_fields(data["before"])
            data["after"] = without_personal_fields(data["after"])
        return data

    def get_actor_username(self, entry) -> str | None:
        if "actor_shown" not in self.context:
            self.context["actor_shown"] = actor_shown_to(self.context["request"].user)
        return entry.actor_username if self.context["actor_shown"](entry) else None


@extend_schema_view(get=extend_schema(operation_id="audit_list", tags=["audit"],
                                      responses={200: AuditEntryOutputSerializer(many=True), 400: ErrorSerializer}))
class AuditEntryListApi(generics.ListAPIView):
    """The audit trail, oldest first: every entry for the secretariat; for a ministry its own state's
    objects; for a donor or provider its organisation's; for everyone the decisions of published rounds.
    ``?object=allocation.computerequest:12`` gives one object's history."""

    permission_classes = [AllowAny]
    serializer_class = AuditEntryOutputSerializer
    pagination_class = Pagination
    filterset_class = AuditEntryFilter
    filter_backends = [DjangoFilterBackend]
    ordering = ["sequence"]

    def get_queryset(self):
        return entries_visible_to(self.request.user).order_by("sequence")


class ChainProblemSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(help_text="The first entry that does not hold.")
    kind = serializers.ChoiceField(choices=["edited", "missing", "broken_link", "truncated"])
    message = serializers.CharField()


class AuditVerifyOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["intact", "broken"])
    entries = serializers.IntegerField(help_text="Entries checked.")
    head_sequence = serializers.IntegerField()
    head_hash = serializers.CharField(help_text="Hash of the newest entry: compare it with one you kept earlier.")
    checked_at = serializers.DateTimeField()
    problem = ChainProblemSerializer(allow_null=True, help_text="The first broken link, if any.")


class AuditVerifyApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "audit_verify"

    @extend_schema(operation_id="audit_verify", tags=["audit"], responses={200: AuditVerifyOutputSerializer})
    def get(self, request):
        """Recompute the whole audit chain: ``intact``, or the first edited, deleted or reordered entry. The
        result is reused for up to a minute while no entry is appended (``checked_at`` says when)."""
        report = audit_chain_verify_recent()
        return Response(AuditVerifyOutputSerializer({
            "status": "intact" if report.intact else "broken",
            "entries": report.entries,
            "head_sequence": report.head_sequence,
            "head_hash": report.head_hash,
            "checked_at": report.checked_at,
            "problem": report.problem,
        }).data)
