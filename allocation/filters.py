"""Query-string filters of the allocation API. A value that does not fit (an unknown status, a
non-numeric id) is a 400 naming the parameter."""
import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from allocation.models import (
    AllocationLine,
    AllocationRun,
    ComputeRequest,
    HardwareType,
    Offer,
    Pledge,
    Review,
    Round,
    RoundStatus,
    Sector,
)
from members.models import IncomeGroup, Region


class IdField(forms.IntegerField):
    """An integer that fits a database id (64 bits): a larger one is a 400, never an overflow in the database."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An integer id: "abc", "1.5" or a number past 64 bits is a 400 naming the parameter."""

    field_class = IdField


class HardwareFilter(django_filters.FilterSet):
    manufacturer = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = HardwareType
        fields = ["manufacturer"]


class RoundFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RoundStatus.choices)
    call = IdFilter(field_name="call_id", label="Call id")

    class Meta:
        model = Round
        fields = ["status", "call"]


class RunFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AllocationRun.Status.choices)

    class Meta:
        model = AllocationRun
        fields = ["status", "is_approved"]


class PledgeFilter(django_filters.FilterSet):
    round = IdFilter(field_name="round_id", label="Round id")

    class Meta:
        model = Pledge
        fields = ["round", "kind", "status"]


class OfferFilter(django_filters.FilterSet):
    round = IdFilter(field_name="round_id", label="Round id")

    class Meta:
        model = Offer
        fields = ["round", "status"]


class RequestFilter(django_filters.FilterSet):
    round = IdFilter(field_name="round_id", label="Round id")
    member_state = django_filters.CharFilter(
        field_name="member_state__iso3", lookup_expr="iexact", label="ISO3 code of the requesting state"
    )

    class Meta:
        model = ComputeRequest
        fields = ["round", "status", "sector", "member_state"]


class ReviewFilter(django_filters.FilterSet):
    request = IdFilter(field_name="request_id", label="Compute request id")

    class Meta:
        model = Review
        fields = ["request"]


class PublishedLineFilter(django_filters.FilterSet):
    round = IdFilter(field_name="run__round_id", label="Round id")
    country = django_filters.CharFilter(
        field_name="request__member_state__iso3", lookup_expr="iexact", label="ISO3 code of the requesting state"
    )
    income_group = django_filters.ChoiceFilter(
        field_name="income_group", choices=IncomeGroup.choices
    )
    region = django_filters.ChoiceFilter(field_name="region", choices=Region.choices)
    sector = django_filters.ChoiceFilter(field_name="request__sector", choices=Sector.choices)
    hardware = django_filters.CharFilter(field_name="lot__hardware__key", label="Hardware key")

    class Meta:
        model = AllocationLine
        fields = ["round", "country", "income_group", "region", "sector", "hardware"]


class PublishedSummaryFilter(django_filters.FilterSet):
    round = IdFilter(field_name="run__round_id", label="Round id")

    class Meta:
        model = AllocationLine
        fields = ["round"]
