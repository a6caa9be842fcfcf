"""Pledges of donors and offers of providers, each with nested capacity lots.

A donor officer sees and withdraws its own organisation's pledges, a provider officer its own offers;
the secretariat reads all of them; anyone else is refused (403), and another donor's pledge reads as
unknown (404)."""
from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from alliance.api import EnumField, ErrorSerializer, InputSerializer, Pagination, object_or_404, require_role
from allocation import services
from allocation.api.fields import VisibleRoundField
from allocation.filters import OfferFilter, PledgeFilter
from allocation.models import CapacityLot, HardwareType, Offer, Pledge, Sector
from allocation.selectors import offer_access, offers_visible_to, pledge_access, pledges_visible_to
from members.models import IncomeGroup, MemberState, Organisation, Region, Role

WRITE_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
READ_ERRORS = {401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}

# --- Lots ---------------------------------------------------------------------------------------


class LotInputSerializer(InputSerializer):
    """What every capacity lot states: hardware, where it runs, how many GPU-hours and when."""

    hardware = serializers.SlugRelatedField(slug_field="key", queryset=HardwareType.objects.all(),
                                            help_text="Hardware key, as listed at /api/hardware/.")
    region = EnumField(Region, help_text="Region where the capacity runs.")
    gpu_hours = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"))
    available_from = serializers.DateField()
    available_until = serializers.DateField()
    value_usd_per_gpu_hour = serializers.DecimalField(max_digits=8, decimal_places=4, min_value=Decimal("0"))
    earmark_sectors = serializers.ListField(child=EnumField(Sector), required=False)
    earmark_income_groups = serializers.ListField(child=EnumField(IncomeGroup), required=False)
    earmark_countries = serializers.SlugRelatedField(
        slug_field="iso3", queryset=MemberState.objects.all(), many=True, required=False,
        help_text="ISO3 codes of the only states this capacity may go to (empty: any).",
    )


class PledgeLotInputSerializer(LotInputSerializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all(),
                                                  help_text="Id of the provider organisation hosting the capacity.")


class OfferLotInputSerializer(LotInputSerializer):
    price_usd_per_gpu_hour = serializers.DecimalField(max_digits=8, decimal_places=4, min_value=Decimal("0.0001"))


class LotOutputSerializer(serializers.ModelSerializer):
    provider_name = serializers.CharField(source="provider.name", read_only=True)
    hardware = serializers.SlugRelatedField(slug_field="key", read_only=True)
    region = EnumField(Region, read_only=True)
    h100e_hours = serializers.DecimalField(max_digits=None, decimal_places=3, read_only=True)
    earmark_sectors = serializers.ListField(child=EnumField(Sector), read_only=True)
    earmark_income_groups = serializers.ListField(child=EnumField(IncomeGroup), read_only=True)
    earmark_countries = serializers.SlugRelatedField(slug_field="iso3", many=True, read_only=True)

    class Meta:
        model = CapacityLot
        fields = [
            "id", "provider", "provider_name", "hardware", "region", "gpu_hours", "h100e_hours", "available_from",
            "available_until", "value_usd_per_gpu_hour", "price_usd_per_gpu_hour", "earmark_sectors",
            "earmark_income_groups", "earmark_countries",
        ]


# --- Pledges ------------------------------------------------------------------------------------


class PledgeOutputSerializer(serializers.ModelSerializer):
    donor_name = serializers.CharField(source="donor.name", read_only=True)
    kind = EnumField(Pledge.Kind, read_only=True)
    status = EnumField(Pledge.Status, read_only=True)
    lots = LotOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Pledge
        fields = ["id", "donor", "donor_name", "round", "kind", "status", "cash_usd", "note", "created_at", "lots"]


def pledges_for(user):
    return pledges_visible_to(user).prefetch_related("lots__earmark_countries")


class PledgeListApi(generics.ListAPIView):
    """Pledges: a donor officer's own organisation's, or all of them for the secretariat."""

    class PledgeInputSerializer(InputSerializer):
        round = VisibleRoundField(help_text="Id of an open round.")
        kind = EnumField(Pledge.Kind)
        cash_usd = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False,
                                            default=Decimal("0"), help_text="For a cash pledge: the amount.")
        note = serializers.CharField(required=False, allow_blank=True, default="")
        lots = PledgeLotInputSerializer(many=True, required=False, help_text="For an in-kind pledge: its lots.")

        def validate(self, data):
            if data["kind"] == Pledge.Kind.IN_KIND and data.get("cash_usd"):
                raise serializers.ValidationError({"cash_usd": ["An in-kind pledge carries no cash; pledge cash "
                                                                "separately."]})
            return data

    permission_classes = [IsAuthenticated]
    serializer_class = PledgeOutputSerializer
    pagination_class = Pagination
    filterset_class = PledgeFilter
    search_fields = ["note", "donor__name"]
    ordering_fields = ["created_at", "cash_usd"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return pledges_for(self.request.user)

    @extend_schema(operation_id="pledges_list", tags=["pledges"], responses={200: PledgeOutputSerializer(many=True),
                                                                             **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        require_role(self, request, Role.DONOR_OFFICER, secretariat=True)
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="pledges_create", tags=["pledges"], request=PledgeInputSerializer,
                   responses={201: PledgeOutputSerializer, **WRITE_ERRORS},
                   description="Donor officer: pledge in-kind capacity lots, or cash, to an open round. All or "
                               "nothing: one refused lot leaves no pledge behind.")
    def post(self, request, *args, **kwargs):
        require_role(self, request, Role.DONOR_OFFICER)
        serializer = self.PledgeInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        pledge = services.pledge_create(user=request.user, round_=data["round"], kind=data["kind"],
                                        cash_usd=data["cash_usd"], lots=data.get("lots", []), note=data["note"])
        output = PledgeOutputSerializer(object_or_404(pledges_for(request.user), pledge.pk)).data
        return Response(output, status=status.HTTP_201_CREATED)


class PledgeDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="pledges_retrieve", tags=["pledges"],
                   responses={200: PledgeOutputSerializer, **READ_ERRORS})
    def get(self, request, pledge_id: int):
        require_role(self, request, Role.DONOR_OFFICER, secretariat=True)
        return Response(PledgeOutputSerializer(object_or_404(pledges_for(request.user), pledge_id)).data)


class PledgeWithdrawApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="pledges_withdraw", tags=["pledges"], request=None,
                   responses={200: PledgeOutputSerializer, **WRITE_ERRORS},
                   description="Donor officer: withdraw one of your organisation's pledges while its round is open.")
    def post(self, request, pledge_id: int):
        require_role(self, request, Role.DONOR_OFFICER)
        pledge = pledge_access(request.user, pledge_id)
        services.pledge_withdraw(user=request.user, pledge=pledge)
        return Response(PledgeOutputSerializer(object_or_404(pledges_for(request.user), pledge.pk)).data)


# --- Offers -------------------------------------------------------------------------------------


class OfferOutputSerializer(serializers.ModelSerializer):
    provider_name = serializers.CharField(source="provider.name", read_only=True)
    status = EnumField(Offer.Status, read_only=True)
    lots = LotOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Offer
        fields = ["id", "provider", "provider_name", "round", "status", "note", "created_at", "lots"]


def offers_for(user):
    return offers_visible_to(user).select_related("provider").prefetch_related(
        "lots__provider", "lots__earmark_countries"
    )


class OfferListApi(generics.ListAPIView):
    """Offers of capacity for sale: a provider officer's own, or all of them for the secretariat."""

    class OfferInputSerializer(InputSerializer):
        round = VisibleRoundField(help_text="Id of an open round.")
        note = serializers.CharField(required=False, allow_blank=True, default="")
        lots = OfferLotInputSerializer(many=True, allow_empty=False)

    permission_classes = [IsAuthenticated]
    serializer_class = OfferOutputSerializer
    pagination_class = Pagination
    filterset_class = OfferFilter
    search_fields = ["note"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return offers_for(self.request.user)

    @extend_schema(operation_id="offers_list", tags=["offers"], responses={200: OfferOutputSerializer(many=True),
                                                                           **READ_ERRORS})
    def get(self, request, *args, **kwargs):
        require_role(self, request, Role.PROVIDER_OFFICER, secretariat=True)
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="offers_create", tags=["offers"], request=OfferInputSerializer,
                   responses={201: OfferOutputSerializer, **WRITE_ERRORS},
                   description="Provider officer: offer capacity for sale in an open round, each lot priced per "
                               "GPU-hour.")
    def post(self, request, *args, **kwargs):
        require_role(self, request, Role.PROVIDER_OFFICER)
        serializer = self.OfferInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        offer = services.offer_create(user=request.user, round_=data["round"], lots=data["lots"], note=data["note"])
        output = OfferOutputSerializer(object_or_404(offers_for(request.user), offer.pk)).data
        return Response(output, status=status.HTTP_201_CREATED)


class OfferDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="offers_retrieve", tags=["offers"],
                   responses={200: OfferOutputSerializer, **READ_ERRORS})
    def get(self, request, offer_id: int):
        require_role(self, request, Role.PROVIDER_OFFICER, secretariat=True)
        return Response(OfferOutputSerializer(object_or_404(offers_for(request.user), offer_id)).data)


class OfferWithdrawApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="offers_withdraw", tags=["offers"], request=None,
                   responses={200: OfferOutputSerializer, **WRITE_ERRORS},
                   description="Provider officer: withdraw one of your offers while its round is open.")
    def post(self, request, offer_id: int):
        require_role(self, request, Role.PROVIDER_OFFICER)
        offer = offer_access(request.user, offer_id)
        services.offer_withdraw(user=request.user, offer=offer)
        return Response(OfferOutputSerializer(object_or_404(offers_for(request.user), offer.pk)).data)
