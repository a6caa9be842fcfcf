"""Building published decisions by hand, with numbers simple enough to check on paper."""
from decimal import Decimal

import pytest
from django.utils import timezone

from allocation.models import AllocationLine, AllocationRun, ComputeRequest, RequestResult, RequestStatus, RoundStatus
from tests import factories

SHA = "a" * 64


def published_round(**kwargs):
    return factories.RoundFactory(status=RoundStatus.PUBLISHED, published_at=timezone.now(), **kwargs)


def run_of(round_, *, approved: bool = True) -> AllocationRun:
    return AllocationRun.objects.create(
        round=round_, status=AllocationRun.Status.SUCCEEDED, output={}, scenario_sha256=SHA, is_approved=approved
    )


def request_in(round_, state, hours, status=RequestStatus.SCORED, **kwargs) -> ComputeRequest:
    ministry = state.organisations.filter(kind="ministry").first() or factories.MinistryFactory(member_state=state)
    return factories.ComputeRequestFactory(round=round_, ministry=ministry, h100e_hours=Decimal(hours),
                                           status=status, **kwargs)


def decide(run, request, lots_hours, *, income_group=None, region=None) -> RequestResult:
    """The run's result for ``request`` and its lines (``[(lot, h100e_hours), ...]``), under the income group
    and region given (frozen), by default the state's current ones."""
    income_group = income_group or request.member_state.income_group
    region = region or request.member_state.region
    total = Decimal("0")
    for lot, hours in lots_hours:
        h100e = Decimal(str(hours))
        total += h100e
        AllocationLine.objects.create(
            run=run, request=request, lot=lot, gpu_hours=h100e / lot.hardware.h100e, h100e_hours=h100e,
            cofinancing_usd=Decimal("0"), cash_usd=Decimal("0"), income_group=income_group, region=region,
        )
    return RequestResult.objects.create(
        run=run, request=request, weight=1.0, allocated_h100e_hours=float(total),
        fulfilment=float(total / request.h100e_hours), deferred=not total, cofinancing_usd=Decimal("0"),
        subsidy_usd=Decimal("0"), income_group=income_group, region=region,
    )


@pytest.fixture
def hardware(db):
    h100 = factories.HardwareTypeFactory()
    b200 = factories.HardwareTypeFactory(key="NVIDIA_B200", name="NVIDIA B200", h100e=Decimal("2.274"))
    return h100, b200


@pytest.fixture
def unpublished_decision(db, hardware):
    """A round solved and approved but not published, with a number found nowhere else: 6,543 h100e-hours
    allocated to Chile of 7,777 asked for, from a lot of 8,642 GPU-hours; and a donor's cash of 97,531."""
    chile = factories.MemberStateFactory(iso3="CHL", name="Chile", region="LAC", income_group="HIC",
                                         population=19_000_000, population_year=2019)
    solved = factories.RoundFactory(title="Secret round", status=RoundStatus.SOLVED)
    lot = factories.CapacityLotFactory(pledge=factories.PledgeFactory(round=solved), hardware=hardware[0],
                                       region="LAC", gpu_hours=Decimal("8642"))
    factories.PledgeFactory(round=solved, kind="cash", cash_usd=Decimal("97531"))
    request = request_in(solved, chile, "7777", title="Undisclosed fisheries model")
    decide(run_of(solved), request, [(lot, 6543)])
    return solved
