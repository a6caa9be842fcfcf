"""Compute requests of ministries, the secretariat's eligibility decisions and reviewers' scores.

A ministry officer sees and acts on its own state's requests only: another state's request reads as
unknown (404), never as forbidden. Reviewers see submitted requests, the secretariat sees all. Once a
request's round is published, the request carries its result (fulfilment, hours, explanation)."""
from decimal import Decimal

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.api import EnumField, ErrorSerializer, InputSerializer, Pagination, object_or_404, require_role
from allocation import services
from allocation.api.fields import VisibleRequestField, VisibleRoundField
from allocation.filters import RequestFilter, ReviewFilter
from allocation.models import (
    ComputeRequest,
    HardwareType,
    RequestResult,
    RequestStatus,
    Review,
    RoundStatus,
    Sector,
)
from allocation.selectors import request_access, requests_visible_to, reviews_visible_to
from members.models import Region, Role

WRITE_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
READ_ERRORS = {401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
READERS = (Role.MINISTRY_OFFICER, Role.REVIEWER)

# --- Output -------------------------------------------------------------------------------------


class RequestResultOutputSerializer(serializers.ModelSerializer):
    """What the published allocation decided for the request, and why."""

    round = serializers.IntegerField(source="run.round_id", read_only=True)

    class Meta:
        model = RequestResult
        fields = [
            "run", "round", "fulfilment", "allocated_h100e_hours", "deferred", "weight", "cofinancing_usd",
            "subsidy_usd", "reason", "explanation",
        ]


class ComputeRequestOutputSerializer(serializers.ModelSerializer):
    member_state = serializers.SlugRelatedField(slug_field="iso3", read_only=True)
    ministry_name = serializers.CharField(source="ministry.name", read_only=True)
    sector = EnumField(Sector, read_only=True)
    status = EnumField(RequestStatus, read_only=True)
    acceptable_hardware = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)
    data_residency_regions = serializers.ListField(child=EnumField(Region), read_only=True)
    result = serializers.SerializerMethodField(help_text="The published result, once the round is published.")

    class Meta:
        model = ComputeRequest
        fields = [
            "id", "round", "member_state", "ministry", "ministry_name", "title", "abstract", "sector",
            "h100e_hours", "min_h100e_hours", "acceptable_hardware", "data_residency_regions", "local_language",
            "open_weights", "params_billion", "status", "eligibility_note", "score", "submitted_at", "created_at",
            "updated_at", "result",
        ]

    @extend_schema_field(RequestResultOutputSerializer(allow_null=True))
    def get_result(self, compute_request):
        results = getattr(compute_request, "published_results", None)
        if results is None:  # not prefetched
            results = list(_published_results().filter(request=compute_request))
        return RequestResultOutputSerializer(results[0]).data if results else None


def _published_results():
    return RequestResult.objects.filter(run__is_approved=True, run__round__status=RoundStatus.PUBLISHED).select_related(
        "run"
    )


def requests_for(user):
    """The requests ``user`` may see, each with its published result (if any) prefetched."""
    return requests_visible_to(user).prefetch_related(
        Prefetch("results", queryset=_published_results(), to_attr="published_results")
    )


def _request_out(request, request_id, code=status.HTTP_200_OK) -> Response:
    compute_request = object_or_404(requests_for(request.user), request_id)
    return Response(ComputeRequestOutputSerializer(compute_request).data, status=code)


# --- Input --------------------------------------------------------------------------------------


class ComputeRequestFieldsSerializer(InputSerializer):
    """The fields a ministry writes on a draft request."""

    title = serializers.CharField(max_length=200)
    abstract = serializers.CharField()
    sector = EnumField(Sector)
    h100e_hours = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"),
                                           help_text="Size of the request in H100-equivalent hours.")
    min_h100e_hours = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False,
                                               help_text="Smallest useful allocation (0: any amount helps).")
    acceptable_hardware = serializers.SlugRelatedField(
        slug_field="key", queryset=HardwareType.objects.all(), many=True, allow_empty=False,
        help_text="Keys of the hardware types the work can run on.",
    )
    data_residency_regions = serializers.ListField(
        child=EnumField(Region), required=False,
        help_text="Regions where the data may be processed; empty means anywhere.",
    )
    local_language = serializers.BooleanField(required=False)
    open_weights = serializers.BooleanField(required=False)
    params_billion = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=Decimal("0"),
                                              required=False, allow_null=True)


class ComputeRequestCreateInputSerializer(ComputeRequestFieldsSerializer):
    round = VisibleRoundField(help_text="Id of an open round.")


# --- Requests -----------------------------------------------------------------------------------


class ComputeRequestListApi(generics.ListAPIView):
    """Compute requests: a ministry officer's own state's, submitted ones for reviewers, all for the
    secretariat."""

    permission_classes = [IsAuthenticated]
    serializer_class = ComputeRequestOutputSerializer
    pagination_class = Pagination
    filterset_class = RequestFilter
    search_fields = ["title", "abstract"]
    ordering_fields = ["created_at", "submitted_at", "score", "h100e_hours"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return requests_for(self.request.user)

    @extend_schema(operation_id="requests_list", tags=["requests"],
                   responses={200: ComputeRequestOutputSerializer(many=True), **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        require_role(self, request, *READERS, secretariat=True)
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="requests_create", tags=["requests"], request=ComputeRequestCreateInputSerializer,
                   responses={201: ComputeRequestOutputSerializer, **WRITE_ERRORS},
                   description="Ministry officer: draft a request for your state in an open round.")
    def post(self, request, *args, **kwargs):
        require_role(self, request, Role.MINISTRY_OFFICER)
        serializer = ComputeRequestCreateInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        compute_request = services.request_create(user=request.user, round_=fields.pop("round"),
                                                  acceptable_hardware=fields.pop("acceptable_hardware"), **fields)
        return _request_out(request, compute_request.pk, code=status.HTTP_201_CREATED)


class ComputeRequestDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="requests_retrieve", tags=["requests"],
                   responses={200: ComputeRequestOutputSerializer, **READ_ERRORS})
    def get(self, request, request_id: int):
        require_role(self, request, *READERS, secretariat=True)
        return _request_out(request, request_id)

    @extend_schema(operation_id="requests_partial_update", tags=["requests"],
                   request=ComputeRequestFieldsSerializer(partial=True),
                   responses={200: ComputeRequestOutputSerializer, **WRITE_ERRORS},
                   description="Ministry officer: edit a draft of your state.")
    def patch(self, request, request_id: int):
        require_role(self, request, Role.MINISTRY_OFFICER)
        compute_request = request_access(request.user, request_id)
        serializer = ComputeRequestFieldsSerializer(data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        services.request_update(user=request.user, request=compute_request,
                                acceptable_hardware=fields.pop("acceptable_hardware", None), **fields)
        return _request_out(request, compute_request.pk)


def _request_action(view, request, request_id, service) -> Response:
    require_role(view, request, Role.MINISTRY_OFFICER)
    compute_request = request_access(request.user, request_id)
    service(user=request.user, request=compute_request)
    return _request_out(request, compute_request.pk)


class ComputeRequestSubmitApi(APIView):
    @extend_schema(operation_id="requests_submit", tags=["requests"], request=None,
                   responses={200: ComputeRequestOutputSerializer, **WRITE_ERRORS},
                   description="Ministry officer: submit a draft before the round's deadline.")
    def post(self, request, request_id: int):
        return _request_action(self, request, request_id, services.request_submit)


class ComputeRequestWithdrawApi(APIView):
    @extend_schema(operation_id="requests_withdraw", tags=["requests"], request=None,
                   responses={200: ComputeRequestOutputSerializer, **WRITE_ERRORS},
                   description="Ministry officer: withdraw a request before its round is allocated.")
    def post(self, request, request_id: int):
        return _request_action(self, request, request_id, services.request_withdraw)


class ComputeRequestAcceptApi(APIView):
    @extend_schema(operation_id="requests_accept", tags=["requests"], request=None,
                   responses={200: ComputeRequestOutputSerializer, **WRITE_ERRORS},
                   description="Ministry officer: accept the published award of an allocated request.")
    def post(self, request, request_id: int):
        return _request_action(self, request, request_id, services.allocation_accept)


class ComputeRequestDeclineApi(APIView):
    @extend_schema(operation_id="requests_decline", tags=["requests"], request=None,
                   responses={200: ComputeRequestOutputSerializer, **WRITE_ERRORS},
                   description="Ministry officer: decline the published award of an allocated request.")
    def post(self, request, request_id: int):
        return _request_action(self, request, request_id, services.allocation_decline)


class ComputeRequestEligibilityApi(APIView):
    class EligibilityInputSerializer(InputSerializer):
        eligible = serializers.BooleanField()
        note = serializers.CharField(required=False, allow_blank=True, default="",
                                     help_text="Why; required when the request is not eligible.")

    @extend_schema(operation_id="requests_eligibility", tags=["requests"], request=EligibilityInputSerializer,
                   responses={200: ComputeRequestOutputSerializer, **WRITE_ERRORS},
                   description="Secretariat: decide whether a submitted request is eligible.")
    def post(self, request, request_id: int):
        require_role(self, request, secretariat=True)
        compute_request = request_access(request.user, request_id)
        serializer = self.EligibilityInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.request_set_eligibility(user=request.user, request=compute_request,
                                         eligible=serializer.validated_data["eligible"],
                                         note=serializer.validated_data["note"])
        return _request_out(request, compute_request.pk)


# --- Reviews ------------------------------------------------------------------------------------


class ReviewOutputSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "request", "reviewer", "score", "comments", "created_at"]


class ReviewListApi(generics.ListAPIView):
    """Reviews: a reviewer's own, or all of them for the secretariat."""

    class ReviewInputSerializer(InputSerializer):
        request = VisibleRequestField(help_text="Id of an eligible compute request.")
        score = serializers.DecimalField(max_digits=4, decimal_places=3, min_value=Decimal("0"),
                                         max_value=Decimal("1"), help_text="From 0 (worst) to 1 (best).")
        comments = serializers.CharField(required=False, allow_blank=True, default="")

    permission_classes = [IsAuthenticated]
    serializer_class = ReviewOutputSerializer
    pagination_class = Pagination
    filterset_class = ReviewFilter
    ordering_fields = ["created_at", "score"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return reviews_visible_to(self.request.user)

    @extend_schema(operation_id="reviews_list", tags=["reviews"],
                   responses={200: ReviewOutputSerializer(many=True), **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        require_role(self, request, Role.REVIEWER, secretariat=True)
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="reviews_create", tags=["reviews"], request=ReviewInputSerializer,
                   responses={201: ReviewOutputSerializer, **WRITE_ERRORS},
                   description="Reviewer: score an eligible request (once per reviewer).")
    def post(self, request, *args, **kwargs):
        require_role(self, request, Role.REVIEWER, secretariat=True)
        serializer = self.ReviewInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        review = services.review_submit(user=request.user, request=data["request"], score=data["score"],
                                        comments=data["comments"])
        return Response(ReviewOutputSerializer(object_or_404(reviews_visible_to(request.user), review.pk)).data,
                        status=status.HTTP_201_CREATED)


class ReviewDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="reviews_retrieve", tags=["reviews"],
                   responses={200: ReviewOutputSerializer, **READ_ERRORS})
    def get(self, request, review_id: int):
        require_role(self, request, Role.REVIEWER, secretariat=True)
        return Response(ReviewOutputSerializer(object_or_404(reviews_visible_to(request.user), review_id)).data)
