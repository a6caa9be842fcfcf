"""Open data: the allocation lines of the approved run of every published round, and their totals by
income group and region. Public; summed by the database (values and aggregates, never a Python loop over
lines), so it stays fast with millions of lines."""
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, F, Sum
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.api import ErrorSerializer, Pagination
from alliance.cache import public_figures
from allocation.filters import PublishedLineFilter, PublishedSummaryFilter
from allocation.selectors import published_lines

LINE_COLUMNS = {
    "round_id": F("run__round_id"),
    "country": F("request__member_state__iso3"),
    "sector": F("request__sector"),
    "hardware": F("lot__hardware__key"),
}


class PublishedLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    round = serializers.IntegerField(source="round_id")
    run = serializers.IntegerField(source="run_id")
    request = serializers.IntegerField(source="request_id")
    country = serializers.CharField(help_text="ISO3 code of the requesting state.")
    income_group = serializers.CharField()
    region = serializers.CharField()
    sector = serializers.CharField()
    lot = serializers.IntegerField(source="lot_id")
    hardware = serializers.CharField(help_text="Hardware key.")
    gpu_hours = serializers.DecimalField(max_digits=14, decimal_places=4)
    h100e_hours = serializers.DecimalField(max_digits=14, decimal_places=4)
    cofinancing_usd = serializers.DecimalField(max_digits=14, decimal_places=2)


@extend_schema_view(get=extend_schema(operation_id="published_allocations_list", tags=["published"]))
class PublishedAllocationListApi(generics.ListAPIView):
    """Every allocation line of the approved run of each published round: which request got how many
    GPU-hours of which lot, and the co-financing it carries."""

    permission_classes = [AllowAny]
    serializer_class = PublishedLineOutputSerializer
    pagination_class = Pagination
    filterset_class = PublishedLineFilter
    ordering_fields = ["id", "gpu_hours", "h100e_hours", "cofinancing_usd"]
    ordering = ["id"]

    def get_queryset(self):
        return published_lines().values(
            "id", "run_id", "request_id", "lot_id", "gpu_hours", "h100e_hours", "cofinancing_usd", "income_group",
            "region", **LINE_COLUMNS
        )


class SummaryFiguresSerializer(serializers.Serializer):
    lines = serializers.IntegerField()
    requests = serializers.IntegerField()
    countries = serializers.IntegerField()
    gpu_hours = serializers.DecimalField(max_digits=None, decimal_places=4)
    h100e_hours = serializers.DecimalField(max_digits=None, decimal_places=4)
    cofinancing_usd = serializers.DecimalField(max_digits=None, decimal_places=2)
    cash_usd = serializers.DecimalField(max_digits=None, decimal_places=2)


class IncomeGroupFiguresSerializer(SummaryFiguresSerializer):
    income_group = serializers.CharField()


class RegionFiguresSerializer(SummaryFiguresSerializer):
    region = serializers.CharField()


class PublishedSummaryOutputSerializer(serializers.Serializer):
    round = serializers.IntegerField(allow_null=True, help_text="The round summed, or null for every round.")
    totals = SummaryFiguresSerializer()
    by_income_group = IncomeGroupFiguresSerializer(many=True)
    by_region = RegionFiguresSerializer(many=True)


PER_REQUEST = {
    "lines": Count("id"),
    "gpu_hours": Sum("gpu_hours"),
    "h100e_hours": Sum("h100e_hours"),
    "cofinancing_usd": Sum("cofinancing_usd"),
    "cash_usd": Sum("cash_usd"),
}


def _figures() -> dict:
    return {"lines": 0, "requests": 0, "countries": set(), "gpu_hours": Decimal("0"), "h100e_hours": Decimal("0"),
            "cofinancing_usd": Decimal("0"), "cash_usd": Decimal("0")}


def published_summary(lines) -> dict:
    """Totals, and figures by income group and by region, of the given published lines.

    The database sums the lines request by request: one GROUP BY over the lines, however many. Each
    request belongs to one state, and each line carries the income group and region the decision was
    made under, so those per-request subtotals (one row per request, not per line) roll up exactly into
    the groups below, distinct request and country counts included."""
    per_request = list(
        lines.order_by()
        .values("request_id", "income_group", "region", state=F("request__member_state_id"))
        .annotate(**PER_REQUEST)
    )
    totals, by_group, by_region = _figures(), defaultdict(_figures), defaultdict(_figures)
    for row in per_request:
        for figures in (totals, by_group[row["income_group"]], by_region[row["region"]]):
            figures["requests"] += 1
            figures["countries"].add(row["state"])
            for key in PER_REQUEST:
                figures[key] += row[key] or 0

    def counted(figures: dict, **label) -> dict:
        return {**label, **figures, "countries": len(figures["countries"])}

    return {
        "totals": counted(totals),
        "by_income_group": [counted(by_group[key], income_group=key) for key in sorted(by_group)],
        "by_region": [counted(by_region[key], region=key) for key in sorted(by_region)],
    }


class PublishedSummaryApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="published_summary_retrieve", tags=["published"],
        parameters=[OpenApiParameter("round", int, description="Only this round (default: every published round).")],
        responses={200: PublishedSummaryOutputSerializer, 400: ErrorSerializer},
    )
    def get(self, request):
        """Published allocations summed by income group and by region, and in total."""
        filterset = PublishedSummaryFilter(request.query_params, queryset=published_lines())
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        round_id = filterset.form.cleaned_data.get("round")
        summary = {**public_figures(f"summary:{round_id or 'all'}", lambda: published_summary(filterset.qs)),
                   "round": round_id}
        return Response(PublishedSummaryOutputSerializer(summary).data)
