"""Appeals: a ministry officer lodges an appeal against the published decision on one of its state's
requests, follows it and may withdraw it; the secretariat takes it under review and answers it.

A ministry officer sees its own state's appeals only (another state's appeal reads as unknown, 404); the
secretariat sees all; nobody else sees any. Answering never changes a published allocation: an upheld appeal
records what the secretariat will do (``remedy``)."""
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.api import EnumField, ErrorSerializer, InputSerializer, Pagination, object_or_404, require_role
from allocation import services
from allocation.api.fields import VisibleRequestField
from allocation.models import Appeal
from allocation.selectors import appeals_visible_to
from members.models import Role

WRITE_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
READ_ERRORS = {401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


class AppealOutputSerializer(serializers.ModelSerializer):
    status = EnumField(Appeal.Status, read_only=True)
    remedy = serializers.CharField(read_only=True, help_text="What the secretariat will do about an upheld appeal: "
                                   + ", ".join(f"`{v}`" for v in Appeal.Remedy.values) + "; empty otherwise.")
    request_title = serializers.CharField(source="request.title", read_only=True)
    member_state = serializers.CharField(source="request.member_state.iso3", read_only=True)
    round = serializers.IntegerField(source="request.round_id", read_only=True)
    lodged_by = serializers.CharField(source="lodged_by.username", read_only=True, allow_null=True, default=None)
    answered_by = serializers.CharField(source="answered_by.username", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Appeal
        fields = [
            "id", "request", "request_title", "member_state", "round", "reasons", "status", "answer", "remedy",
            "lodged_by", "lodged_at", "review_started_at", "answered_by", "answered_at", "withdrawn_at",
        ]


def _appeal_out(request, appeal_id, code=status.HTTP_200_OK) -> Response:
    return Response(AppealOutputSerializer(object_or_404(appeals_visible_to(request.user), appeal_id)).data,
                    status=code)


class AppealListApi(generics.ListAPIView):
    """Appeals: a ministry officer's own state's, or all of them for the secretariat."""

    class AppealLodgeInputSerializer(InputSerializer):
        request = VisibleRequestField(help_text="Id of one of your state's requests in a published round.")
        reasons = serializers.CharField(max_length=5000, help_text="Why the decision should be reconsidered "
                                        f"(at least {services.APPEAL_MIN_REASONS} characters).")

    permission_classes = [IsAuthenticated]
    serializer_class = AppealOutputSerializer
    pagination_class = Pagination
    filterset_fields = ["status"]
    ordering_fields = ["lodged_at", "answered_at"]
    ordering = ["-lodged_at", "-id"]

    def get_queryset(self):
        return appeals_visible_to(self.request.user)

    @extend_schema(operation_id="appeals_list", tags=["appeals"],
                   responses={200: AppealOutputSerializer(many=True), **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        require_role(self, request, Role.MINISTRY_OFFICER, secretariat=True)
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="appeals_create", tags=["appeals"], request=AppealLodgeInputSerializer,
                   responses={201: AppealOutputSerializer, **WRITE_ERRORS},
                   description="Ministry officer: appeal the published decision on one of your state's requests, "
                               "within the appeal window after the round's publication (one open appeal per "
                               "request).")
    def post(self, request, *args, **kwargs):
        require_role(self, request, Role.MINISTRY_OFFICER)
        serializer = self.AppealLodgeInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        appeal = services.appeal_lodge(user=request.user, request=serializer.validated_data["request"],
                                       reasons=serializer.validated_data["reasons"])
        return _appeal_out(request, appeal.pk, code=status.HTTP_201_CREATED)


class AppealDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="appeals_retrieve", tags=["appeals"],
                   responses={200: AppealOutputSerializer, **READ_ERRORS})
    def get(self, request, appeal_id: int):
        require_role(self, request, Role.MINISTRY_OFFICER, secretariat=True)
        return _appeal_out(request, appeal_id)


class AppealWithdrawApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="appeals_withdraw", tags=["appeals"], request=None,
                   responses={200: AppealOutputSerializer, **WRITE_ERRORS},
                   description="Ministry officer: withdraw one of your state's appeals before it is answered.")
    def post(self, request, appeal_id: int):
        require_role(self, request, Role.MINISTRY_OFFICER)
        appeal = object_or_404(appeals_visible_to(request.user), appeal_id)
        services.appeal_withdraw(user=request.user, appeal=appeal)
        return _appeal_out(request, appeal.pk)


class AppealReviewApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="appeals_review", tags=["appeals"], request=None,
                   responses={200: AppealOutputSerializer, **WRITE_ERRORS},
                   description="Secretariat: take a lodged appeal under review.")
    def post(self, request, appeal_id: int):
        require_role(self, request, secretariat=True)
        appeal = object_or_404(appeals_visible_to(request.user), appeal_id)
        services.appeal_start_review(user=request.user, appeal=appeal)
        return _appeal_out(request, appeal.pk)


class AppealAnswerApi(APIView):
    class AppealAnswerInputSerializer(InputSerializer):
        decision = serializers.ChoiceField(choices=["upheld", "rejected"])
        answer = serializers.CharField(max_length=5000, help_text="The answer the ministry reads.")
        remedy = serializers.ChoiceField(choices=Appeal.Remedy.choices, required=False, allow_blank=True, default="",
                                         help_text="Required when the appeal is upheld: what the secretariat will do.")

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="appeals_answer", tags=["appeals"], request=AppealAnswerInputSerializer,
                   responses={200: AppealOutputSerializer, **WRITE_ERRORS},
                   description="Secretariat: uphold or reject an open appeal with a written answer. The published "
                               "allocation is not changed; an upheld appeal records the remedy.")
    def post(self, request, appeal_id: int):
        require_role(self, request, secretariat=True)
        appeal = object_or_404(appeals_visible_to(request.user), appeal_id)
        serializer = self.AppealAnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.appeal_answer(user=request.user, appeal=appeal, upheld=data["decision"] == "upheld",
                               answer=data["answer"], remedy=data["remedy"])
        return _appeal_out(request, appeal.pk)
