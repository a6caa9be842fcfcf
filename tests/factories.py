"""factory-boy factories for the alliance's models: small, valid defaults that tests override."""
import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from allocation.models import (
    Call,
    CapacityLot,
    ComputeRequest,
    HardwareType,
    Offer,
    Pledge,
    Review,
    Round,
    RoundStatus,
    Sector,
)
from members.models import Membership, MemberState, Organisation, OrganisationKind, Role


class MemberStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberState
        django_get_or_create = ("iso3",)

    iso3 = factory.Sequence(lambda n: "X" + chr(65 + (n // 26) % 26) + chr(65 + n % 26))
    name = factory.LazyAttribute(lambda o: f"State {o.iso3}")
    region = "SSA"
    income_group = "LIC"
    lending_category = "IDA"
    cofinancing_phase = "initial"
    years_in_phase = 0


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = OrganisationKind.DONOR


class MinistryFactory(OrganisationFactory):
    kind = OrganisationKind.MINISTRY
    member_state = factory.SubFactory(MemberStateFactory)
    name = factory.LazyAttribute(lambda o: f"Ministry of Digital Affairs of {o.member_state.name}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or "correct-horse-battery-staple")
        if create:
            self.save(update_fields=["password"])

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.DONOR_OFFICER


class HardwareTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HardwareType
        django_get_or_create = ("key",)

    key = "NVIDIA_H100_SXM5_80GB"
    name = "NVIDIA H100 SXM5 80GB"
    manufacturer = "NVIDIA"
    h100e = Decimal("1.000")
    memory_gb = Decimal("80")


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    title = factory.Sequence(lambda n: f"Public-interest AI call {n}")


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Round

    call = factory.SubFactory(CallFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.LazyAttribute(lambda o: f"Round {o.number}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=30))
    submission_deadline = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
    status = RoundStatus.OPEN
    policy = factory.LazyFunction(lambda: __import__("copy").deepcopy(
        __import__("django.conf").conf.settings.GACP["DEFAULT_POLICY"]))


class PledgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pledge

    donor = factory.SubFactory(OrganisationFactory, kind=OrganisationKind.DONOR)
    round = factory.SubFactory(RoundFactory)
    kind = Pledge.Kind.IN_KIND
    status = Pledge.Status.CONFIRMED


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    provider = factory.SubFactory(OrganisationFactory, kind=OrganisationKind.PROVIDER)
    round = factory.SubFactory(RoundFactory)
    status = Offer.Status.PUBLISHED


class CapacityLotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CapacityLot

    pledge = factory.SubFactory(PledgeFactory)
    provider = factory.SubFactory(OrganisationFactory, kind=OrganisationKind.PROVIDER)
    hardware = factory.SubFactory(HardwareTypeFactory)
    region = "SSA"
    gpu_hours = Decimal("1000")
    available_from = datetime.date(2026, 1, 1)
    available_until = datetime.date(2026, 12, 31)
    value_usd_per_gpu_hour = Decimal("2.40")
    price_usd_per_gpu_hour = None


class ComputeRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComputeRequest
        skip_postgeneration_save = True

    round = factory.SubFactory(RoundFactory)
    ministry = factory.SubFactory(MinistryFactory)
    member_state = factory.LazyAttribute(lambda o: o.ministry.member_state)
    title = factory.Sequence(lambda n: f"Clinical triage assistant {n}")
    abstract = "A small open model for triage notes in local languages."
    sector = Sector.HEALTH
    h100e_hours = Decimal("1000")
    min_h100e_hours = Decimal("0")
    local_language = True
    open_weights = True
    params_billion = Decimal("7")

    @factory.post_generation
    def acceptable_hardware(self, create, extracted, **kwargs):
        if not create:
            return
        self.acceptable_hardware.set(extracted if extracted is not None else [HardwareTypeFactory()])


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    request = factory.SubFactory(ComputeRequestFactory)
    reviewer = factory.SubFactory(UserFactory)
    score = Decimal("0.800")
