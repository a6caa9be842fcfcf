"""REST API of the members app: member states (public reference data) and organisations (members)."""
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.api import EnumField, ErrorSerializer, Pagination
from members import selectors
from members.filters import MemberStateFilter, OrganisationFilter
from members.models import (
    CofinancingPhase,
    IncomeGroup,
    LendingCategory,
    MemberState,
    Organisation,
    OrganisationKind,
    PhaseSource,
    Region,
)


class MemberStateOutputSerializer(serializers.ModelSerializer):
    region = EnumField(Region, read_only=True)
    income_group = EnumField(IncomeGroup, read_only=True)
    lending_category = EnumField(LendingCategory, read_only=True)
    cofinancing_phase = EnumField(CofinancingPhase, read_only=True)
    phase_source = EnumField(PhaseSource, read_only=True)

    class Meta:
        model = MemberState
        fields = [
            "iso3", "name", "region", "income_group", "income_group_is_estimated", "lending_category",
            "gni_per_capita_usd", "gni_per_capita_year", "gni_three_year_average_usd", "is_member",
            "cofinancing_phase", "years_in_phase", "phase_source", "phase_override_reason",
        ]


@extend_schema_view(get=extend_schema(operation_id="member_states_list", tags=["member states"]))
class MemberStateListApi(generics.ListAPIView):
    """Every member state with its income group, region, lending category and co-financing phase."""

    permission_classes = [AllowAny]
    serializer_class = MemberStateOutputSerializer
    pagination_class = Pagination
    filterset_class = MemberStateFilter
    search_fields = ["name", "iso3"]
    ordering_fields = ["name", "iso3", "gni_per_capita_usd", "income_group", "region"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.member_states()


class MemberStateDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="member_states_retrieve", tags=["member states"],
        parameters=[OpenApiParameter("iso3", str, OpenApiParameter.PATH, description="ISO 3166-1 alpha-3 code")],
        responses={200: MemberStateOutputSerializer, 404: ErrorSerializer},
    )
    def get(self, request, iso3):
        return Response(MemberStateOutputSerializer(selectors.member_state_get(iso3)).data)


class OrganisationOutputSerializer(serializers.ModelSerializer):
    kind = EnumField(OrganisationKind, read_only=True)
    member_state = serializers.SlugRelatedField(slug_field="iso3", read_only=True, allow_null=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "member_state", "website"]


class MembersOnly(IsAuthenticated):
    message = "Only members of the alliance may see its organisations."

    def has_permission(self, request, view):
        return super().has_permission(request, view) and selectors.is_member(request.user)


@extend_schema_view(get=extend_schema(operation_id="organisations_list", tags=["organisations"]))
class OrganisationListApi(generics.ListAPIView):
    """Ministries, donors, providers and the secretariat (members of the alliance only)."""

    permission_classes = [MembersOnly]
    serializer_class = OrganisationOutputSerializer
    pagination_class = Pagination
    filterset_class = OrganisationFilter
    search_fields = ["name"]
    ordering_fields = ["name", "kind"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.organisations_visible_to(self.request.user)


class OrganisationDetailApi(APIView):
    permission_classes = [MembersOnly]

    @extend_schema(
        operation_id="organisations_retrieve", tags=["organisations"],
        responses={200: OrganisationOutputSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, organisation_id: int):
        organisation = selectors.organisation_access(request.user, organisation_id)
        return Response(OrganisationOutputSerializer(organisation).data)
