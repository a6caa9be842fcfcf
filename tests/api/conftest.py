"""Fixtures of the API tests: hardware, rounds in each state, and a published round with its lines."""
from decimal import Decimal

import pytest


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the cache: start every test with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def h100(db):
    from tests import factories

    return factories.HardwareTypeFactory()


@pytest.fixture
def a100(db):
    from tests import factories

    return factories.HardwareTypeFactory(key="NVIDIA_A100_SXM4_80GB", name="NVIDIA A100 SXM4 80GB",
                                         h100e=Decimal("0.317"))


@pytest.fixture
def open_round(db):
    from tests import factories

    return factories.RoundFactory(title="Open round")


@pytest.fixture
def closed_round(db):
    from allocation.models import RoundStatus
    from tests import factories

    return factories.RoundFactory(title="Closed round", status=RoundStatus.CLOSED)


def lot_payload(provider, hardware, /, **overrides) -> dict:
    """A valid capacity lot as the API takes it."""
    payload = {
        "provider": provider.pk,
        "hardware": hardware.key,
        "region": "SSA",
        "gpu_hours": "1000.00",
        "available_from": "2026-01-01",
        "available_until": "2026-12-31",
        "value_usd_per_gpu_hour": "2.40",
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def make_lot_payload():
    return lot_payload


@pytest.fixture
def published_world(db, ministry_a, ministry_b, provider_org, h100, a100):
    """A published round whose approved run gave hours to state A (Kenya, LMIC, SSA), state B (Nepal,
    LMIC, SAS) and state C (Malawi, LIC, SSA), beside a losing run of the same round; and a solved
    (unpublished) round whose run and lines must stay private."""
    from django.utils import timezone

    from allocation.models import (
        AllocationLine,
        AllocationRun,
        RequestResult,
        RequestStatus,
        RoundStatus,
    )
    from tests import factories

    state_c = factories.MemberStateFactory(iso3="MWI", name="Malawi", region="SSA", income_group="LIC")
    ministry_c = factories.MinistryFactory(member_state=state_c, name="Ministry of Health, Malawi")

    def run_for(round_, approved):
        return AllocationRun.objects.create(
            round=round_, status=AllocationRun.Status.SUCCEEDED, output={"status": "optimal"},
            scenario_sha256="a" * 64, is_approved=approved, solver_status="optimal",
        )

    published = factories.RoundFactory(title="Published round", status=RoundStatus.PUBLISHED,
                                       published_at=timezone.now())
    solved = factories.RoundFactory(title="Solved round", status=RoundStatus.SOLVED)
    published_run = run_for(published, approved=True)
    losing_run = run_for(published, approved=False)
    solved_run = run_for(solved, approved=True)

    lot_h100 = factories.CapacityLotFactory(pledge__round=published, provider=provider_org, hardware=h100)
    lot_a100 = factories.CapacityLotFactory(pledge__round=published, provider=provider_org, hardware=a100)
    lot_solved = factories.CapacityLotFactory(pledge__round=solved, provider=provider_org, hardware=h100)

    def request_for(ministry, round_, sector, status):
        return factories.ComputeRequestFactory(ministry=ministry, round=round_, sector=sector, status=status,
                                               score=Decimal("0.800"), acceptable_hardware=[h100, a100])

    req_a = request_for(ministry_a, published, "health", RequestStatus.ALLOCATED)
    req_b = request_for(ministry_b, published, "education", RequestStatus.ALLOCATED)
    req_c = request_for(ministry_c, published, "agriculture", RequestStatus.ALLOCATED)
    req_solved = request_for(ministry_a, solved, "health", RequestStatus.SCORED)

    def line(run, req, lot, gpu_hours, cofinancing):
        h100e = Decimal(gpu_hours) * lot.hardware.h100e
        return AllocationLine.objects.create(run=run, request=req, lot=lot, gpu_hours=Decimal(gpu_hours),
                                             h100e_hours=h100e, cofinancing_usd=Decimal(cofinancing),
                                             cash_usd=Decimal("0"), income_group=req.member_state.income_group,
                                             region=req.member_state.region)

    lines = [
        line(published_run, req_a, lot_h100, "400", "96.00"),
        line(published_run, req_a, lot_a100, "100", "0"),
        line(published_run, req_b, lot_h100, "300", "72.00"),
        line(published_run, req_c, lot_h100, "200", "0"),
        line(losing_run, req_b, lot_h100, "999", "0"),
        line(solved_run, req_solved, lot_solved, "500", "0"),
    ]
    results = {}
    for req, hours in ((req_a, 431.7), (req_b, 300.0), (req_c, 200.0)):
        results[req.pk] = RequestResult.objects.create(
            run=published_run, request=req, weight=1.5, allocated_h100e_hours=hours, fulfilment=hours / 1000,
            deferred=False, cofinancing_usd=Decimal("96.00") if req is req_a else Decimal("0"),
            subsidy_usd=Decimal("0"), reason="fair_share", explanation={"reason": "fair_share", "level": 1},
            income_group=req.member_state.income_group, region=req.member_state.region,
        )
    RequestResult.objects.create(run=solved_run, request=req_solved, weight=1.0, allocated_h100e_hours=500,
                                 fulfilment=0.5, deferred=False, cofinancing_usd=0, subsidy_usd=0,
                                 explanation={})
    return {
        "published": published, "solved": solved, "published_run": published_run, "losing_run": losing_run,
        "solved_run": solved_run, "req_a": req_a, "req_b": req_b, "req_c": req_c, "req_solved": req_solved,
        "state_c": state_c, "lines": lines, "results": results,
    }
