"""Hardware types, calls, rounds (and the secretariat's actions on them) and allocation runs.

The public sees published rounds and the approved run of each; members of the alliance see every
round; the secretariat sees every run and acts on rounds and runs through the services."""
import math

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    Exists,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.api import EnumField, ErrorSerializer, InputSerializer, Pagination, object_or_404, require_secretariat
from allocation import services
from allocation.filters import HardwareFilter, RoundFilter, RunFilter
from allocation.models import (
    AllocationLine,
    AllocationRun,
    Call,
    HardwareType,
    RequestResult,
    Round,
    RoundStatus,
    Sector,
)
from allocation.selectors import round_access, rounds_visible_to, run_access, runs_visible_to
from members.selectors import is_member

ACTION_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}

# --- Hardware -----------------------------------------------------------------------------------


class HardwareOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = HardwareType
        fields = ["key", "name", "manufacturer", "release_date", "h100e", "memory_gb", "dense_16bit_tflops", "tdp_w"]


@extend_schema_view(get=extend_schema(operation_id="hardware_list", tags=["hardware"]))
class HardwareListApi(generics.ListAPIView):
    """Accelerator types with their compute in H100-equivalents (``h100e``)."""

    permission_classes = [AllowAny]
    serializer_class = HardwareOutputSerializer
    pagination_class = Pagination
    filterset_class = HardwareFilter
    search_fields = ["key", "name", "manufacturer"]
    ordering_fields = ["name", "manufacturer", "h100e", "release_date", "memory_gb"]
    ordering = ["manufacturer", "name"]
    queryset = HardwareType.objects.all()


class HardwareDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="hardware_retrieve", tags=["hardware"],
        parameters=[OpenApiParameter("key", str, OpenApiParameter.PATH, description="Hardware key")],
        responses={200: HardwareOutputSerializer, 404: ErrorSerializer},
    )
    def get(self, request, key):
        hardware = HardwareType.objects.filter(key=key).first()
        if hardware is None:
            raise Http404(f"No hardware type with key {key!r}.")
        return Response(HardwareOutputSerializer(hardware).data)


# --- Calls --------------------------------------------------------------------------------------


def calls_visible_to(user):
    """Members see every call; the public sees calls with at least one published round. Each call
    carries the rounds the person may see as ``visible_rounds``."""
    rounds = rounds_visible_to(user)
    calls = Call.objects.prefetch_related(
        Prefetch("rounds", queryset=rounds.order_by("number"), to_attr="visible_rounds")
    )
    if is_member(user):
        return calls
    return calls.filter(Exists(rounds.filter(call=OuterRef("pk"))))


class CallRoundOutputSerializer(serializers.ModelSerializer):
    status = EnumField(RoundStatus, read_only=True)

    class Meta:
        model = Round
        fields = ["id", "number", "title", "status"]


class CallOutputSerializer(serializers.ModelSerializer):
    rounds = CallRoundOutputSerializer(source="visible_rounds", many=True, read_only=True)

    class Meta:
        model = Call
        fields = ["id", "title", "description", "created_at", "rounds"]


@extend_schema_view(get=extend_schema(operation_id="calls_list", tags=["calls"]))
class CallListApi(generics.ListAPIView):
    """Calls for requests, each with the rounds you may see."""

    permission_classes = [AllowAny]
    serializer_class = CallOutputSerializer
    pagination_class = Pagination
    search_fields = ["title"]
    ordering_fields = ["created_at", "title"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return calls_visible_to(self.request.user)


class CallDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="calls_retrieve", tags=["calls"],
                   responses={200: CallOutputSerializer, 404: ErrorSerializer})
    def get(self, request, call_id: int):
        return Response(CallOutputSerializer(object_or_404(calls_visible_to(request.user), call_id)).data)


# --- Rounds -------------------------------------------------------------------------------------


class FiniteFloatField(serializers.FloatField):
    """A float that is a real number: "nan" and "inf" are refused (they are not JSON)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class CofinancingPolicySerializer(InputSerializer):
    initial_share = FiniteFloatField(help_text="Share paid in the initial phase (0 to 1).")
    preparatory_growth = FiniteFloatField(help_text="Yearly growth of the share in the preparatory phase.")
    preparatory_cap = FiniteFloatField(help_text="Highest share in the preparatory phase (0 to 1).")
    accelerated_start_share = FiniteFloatField(help_text="Share at the start of the accelerated phase.")
    accelerated_years = serializers.IntegerField(help_text="Years from the accelerated phase to self-financing.")


class PolicySerializer(InputSerializer):
    """A round's equity weights and co-financing parameters (the services check their ranges)."""

    income_weights = serializers.DictField(child=FiniteFloatField(),
                                           help_text="A weight for each of LIC, LMIC, UMIC and HIC.")
    sector_weights = serializers.DictField(child=FiniteFloatField(), required=False,
                                           help_text="Weights of favoured sectors; others weigh 1.")
    local_language_bonus = FiniteFloatField()
    open_weights_bonus = FiniteFloatField()
    small_model_bonus = FiniteFloatField()
    small_model_max_params_billion = FiniteFloatField()
    cofinancing = CofinancingPolicySerializer()

    def validate_sector_weights(self, value):
        unknown = sorted(set(value) - set(Sector.values))
        if unknown:
            raise serializers.ValidationError(f"Unknown sectors: {', '.join(unknown)}.")
        return value


@extend_schema_field(PolicySerializer)
class PolicyField(serializers.JSONField):
    """The policy as stored with the round (documented with the policy's shape)."""


class RoundOutputSerializer(serializers.ModelSerializer):
    call_title = serializers.CharField(source="call.title", read_only=True)
    status = EnumField(RoundStatus, read_only=True)
    policy = PolicyField(read_only=True)
    published_run = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The approved run, once the round is published."
    )

    class Meta:
        model = Round
        fields = [
            "id", "call", "call_title", "number", "title", "status", "opens_at", "submission_deadline",
            "published_at", "policy", "published_run",
        ]


def rounds_for(user):
    """The rounds ``user`` may see, each with the id of its published run (if any)."""
    published_run = AllocationRun.objects.filter(
        round=OuterRef("pk"), is_approved=True, round__status=RoundStatus.PUBLISHED
    ).values("id")[:1]
    return rounds_visible_to(user).annotate(published_run=Subquery(published_run))


@extend_schema_view(get=extend_schema(operation_id="rounds_list", tags=["rounds"]))
class RoundListApi(generics.ListAPIView):
    """Rounds of the alliance's calls: the public sees published rounds, members see all."""

    permission_classes = [AllowAny]
    serializer_class = RoundOutputSerializer
    pagination_class = Pagination
    filterset_class = RoundFilter
    search_fields = ["title", "call__title"]
    ordering_fields = ["opens_at", "submission_deadline", "published_at", "number"]
    ordering = ["-opens_at", "-number"]

    def get_queryset(self):
        return rounds_for(self.request.user)


def _round_out(request, round_id) -> Response:
    return Response(RoundOutputSerializer(object_or_404(rounds_for(request.user), round_id)).data)


class RoundDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="rounds_retrieve", tags=["rounds"],
                   responses={200: RoundOutputSerializer, 404: ErrorSerializer})
    def get(self, request, round_id: int):
        return _round_out(request, round_id)


def _round_action(view, request, round_id, service) -> Response:
    require_secretariat(view, request)
    round_ = round_access(request.user, round_id)
    service(round_=round_, user=request.user)
    return _round_out(request, round_.pk)


class RoundCloseApi(APIView):
    @extend_schema(operation_id="rounds_close", tags=["rounds"], request=None,
                   responses={200: RoundOutputSerializer, **ACTION_ERRORS},
                   description="Secretariat: close an open round to requests and pledges.")
    def post(self, request, round_id: int):
        return _round_action(self, request, round_id, services.round_close)


class RoundReopenApi(APIView):
    @extend_schema(operation_id="rounds_reopen", tags=["rounds"], request=None,
                   responses={200: RoundOutputSerializer, **ACTION_ERRORS},
                   description="Secretariat: open a closed round again.")
    def post(self, request, round_id: int):
        return _round_action(self, request, round_id, services.round_reopen)


class RoundPublishApi(APIView):
    @extend_schema(operation_id="rounds_publish", tags=["rounds"], request=None,
                   responses={200: RoundOutputSerializer, **ACTION_ERRORS},
                   description="Secretariat: publish the approved run of a solved round.")
    def post(self, request, round_id: int):
        return _round_action(self, request, round_id, services.round_publish)


class RoundSolveApi(APIView):
    class RoundSolveOutputSerializer(serializers.Serializer):
        run = serializers.IntegerField(help_text="The queued run: follow its progress at /api/runs/{run}/.")
        round = serializers.IntegerField()
        status = serializers.CharField()

    @extend_schema(operation_id="rounds_solve", tags=["rounds"], request=None,
                   responses={202: RoundSolveOutputSerializer, 503: ErrorSerializer, **ACTION_ERRORS},
                   description="Secretariat: freeze the round's scenario into a new run and queue it for the "
                               "engine. The round must be closed (or solved, for a re-run) with every request "
                               "checked and scored. 503 when the task queue cannot be reached (the round is "
                               "left as it was).")
    def post(self, request, round_id: int):
        require_secretariat(self, request)
        round_ = round_access(request.user, round_id)
        run = services.round_enqueue_solve(round_=round_, user=request.user)
        run.refresh_from_db()  # the queue has been asked by now
        if services.run_was_unqueued(run):
            return Response({"message": "Solving is unavailable: the task queue cannot be reached. The run was "
                                        "not started and the round is unchanged; try again later.",
                             "extra": {"run": run.pk, "round": round_.pk}},
                            status=status.HTTP_503_SERVICE_UNAVAILABLE)
        location = reverse("api:run-detail", args=[run.pk])
        return Response({"run": run.pk, "round": round_.pk, "status": run.status},
                        status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class RoundPolicyApi(APIView):
    @extend_schema(operation_id="rounds_policy_update", tags=["rounds"], request=PolicySerializer,
                   responses={200: RoundOutputSerializer, **ACTION_ERRORS},
                   description="Secretariat: replace the round's equity weights and co-financing parameters.")
    def put(self, request, round_id: int):
        require_secretariat(self, request)
        round_ = round_access(request.user, round_id)
        serializer = PolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.round_set_policy(round_=round_, policy=serializer.validated_data, user=request.user)
        return _round_out(request, round_.pk)


# --- Runs ---------------------------------------------------------------------------------------


def runs_with_figures(runs):
    """Runs annotated with their figures, each computed by the database from the run's results."""

    def of_results(expression, output_field, empty):
        subquery = (RequestResult.objects.filter(run=OuterRef("pk")).order_by().values("run")
                    .annotate(value=expression).values("value")[:1])
        if empty is None:
            return Subquery(subquery, output_field=output_field)
        return Coalesce(Subquery(subquery, output_field=output_field), empty, output_field=output_field)

    lines = (AllocationLine.objects.filter(run=OuterRef("pk")).order_by().values("run")
             .annotate(value=Count("id")).values("value")[:1])
    money = DecimalField(max_digits=16, decimal_places=2)
    return runs.annotate(
        figure_requests=of_results(Count("id"), IntegerField(), 0),
        figure_deferred=of_results(Count("id", filter=Q(deferred=True)), IntegerField(), 0),
        figure_allocated_h100e_hours=of_results(Sum("allocated_h100e_hours"), FloatField(), 0.0),
        figure_mean_fulfilment=of_results(Avg("fulfilment"), FloatField(), None),
        figure_cofinancing_usd=of_results(Sum("cofinancing_usd"), money, 0),
        figure_subsidy_usd=of_results(Sum("subsidy_usd"), money, 0),
        figure_lines=Coalesce(Subquery(lines, output_field=IntegerField()), 0),
    )


class RunFiguresSerializer(serializers.Serializer):
    requests = serializers.IntegerField(source="figure_requests")
    deferred = serializers.IntegerField(source="figure_deferred")
    lines = serializers.IntegerField(source="figure_lines")
    allocated_h100e_hours = serializers.FloatField(source="figure_allocated_h100e_hours")
    mean_fulfilment = serializers.FloatField(source="figure_mean_fulfilment", allow_null=True)
    cofinancing_usd = serializers.DecimalField(source="figure_cofinancing_usd", max_digits=None, decimal_places=2)
    subsidy_usd = serializers.DecimalField(source="figure_subsidy_usd", max_digits=None, decimal_places=2)


class RunOutputSerializer(serializers.ModelSerializer):
    status = EnumField(AllocationRun.Status, read_only=True)
    figures = RunFiguresSerializer(source="*", read_only=True)

    class Meta:
        model = AllocationRun
        fields = [
            "id", "round", "status", "is_approved", "created_at", "started_at", "finished_at", "progress",
            "solver_status", "solve_seconds", "levels", "variables", "constraints", "error", "scenario_sha256",
            "figures",
        ]


@extend_schema_view(get=extend_schema(operation_id="rounds_runs_list", tags=["runs"]))
class RoundRunListApi(generics.ListAPIView):
    """The runs of a round: all of them for the secretariat, the approved run of a published round for
    everyone else."""

    permission_classes = [AllowAny]
    serializer_class = RunOutputSerializer
    pagination_class = Pagination
    filterset_class = RunFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AllocationRun.objects.none()
        round_ = round_access(self.request.user, self.kwargs["round_id"])
        return runs_with_figures(runs_visible_to(self.request.user).filter(round=round_))


def _run_out(request, run_id) -> Response:
    return Response(RunOutputSerializer(object_or_404(runs_with_figures(runs_visible_to(request.user)), run_id)).data)


class RunDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="runs_retrieve", tags=["runs"],
                   responses={200: RunOutputSerializer, 404: ErrorSerializer})
    def get(self, request, run_id: int):
        return _run_out(request, run_id)


class RunApproveApi(APIView):
    @extend_schema(operation_id="runs_approve", tags=["runs"], request=None,
                   responses={200: RunOutputSerializer, **ACTION_ERRORS},
                   description="Secretariat: approve a succeeded run of a solved round as its decision.")
    def post(self, request, run_id: int):
        require_secretariat(self, request)
        run = run_access(request.user, run_id)
        services.run_approve(run=run, user=request.user)
        return _run_out(request, run.pk)
