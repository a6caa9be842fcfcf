"""The site-wide figures of the home page and the public dashboard, against numbers computed by hand."""
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from alliance import selectors
from allocation.models import (
    AllocationLine,
    AllocationRun,
    ComputeRequest,
    Offer,
    Pledge,
    RequestStatus,
    RoundStatus,
)
from tests import factories

pytestmark = pytest.mark.django_db

SHA = "a" * 64


def published_round(**kwargs):
    return factories.RoundFactory(status=RoundStatus.PUBLISHED, published_at=timezone.now(), **kwargs)


def run_of(round_, *, approved: bool) -> AllocationRun:
    return AllocationRun.objects.create(
        round=round_, status=AllocationRun.Status.SUCCEEDED, output={}, scenario_sha256=SHA, is_approved=approved
    )


def line(run, request, lot, h100e_hours) -> AllocationLine:
    h100e = Decimal(str(h100e_hours))
    return AllocationLine.objects.create(
        run=run, request=request, lot=lot, gpu_hours=h100e / lot.hardware.h100e, h100e_hours=h100e,
        cofinancing_usd=Decimal("0"), cash_usd=Decimal("0"),
    )


def request_in(round_, state, hours, status=RequestStatus.SCORED) -> ComputeRequest:
    ministry = state.organisations.filter(kind="ministry").first() or factories.MinistryFactory(member_state=state)
    return factories.ComputeRequestFactory(round=round_, ministry=ministry, h100e_hours=Decimal(hours),
                                           status=status)


@pytest.fixture
def hardware():
    h100 = factories.HardwareTypeFactory()
    b200 = factories.HardwareTypeFactory(key="NVIDIA_B200", name="NVIDIA B200", h100e=Decimal("2.274"))
    return h100, b200


@pytest.fixture
def alliance(state_a, state_b, hardware):
    """A published round with an approved and an unapproved run, an open round, a solved round.

    Pledged: 1,000 GPU-h of H100 (h100e 1.0) in SSA + 500 GPU-h of B200 (h100e 2.274) in EAP
    = 1,000 + 1,137 = 2,137 h100e-hours; withdrawn pledges and draft/withdrawn offers do not count.
    Allocated by the approved run of the published round: Kenya (LMIC, SSA) 300 + 200, Nepal (LMIC, SAS) 100,
    Brazil (UMIC, LAC) 250 = 850, of which LIC+LMIC 600: a share of 600 / 850.
    """
    h100, b200 = hardware
    brazil = factories.MemberStateFactory(iso3="BRA", name="Brazil", region="LAC", income_group="UMIC")
    factories.MemberStateFactory(iso3="FRA", name="France", region="ECA", income_group="HIC", is_member=False)
    published = published_round(title="Round 1")
    open_round = factories.RoundFactory(title="Round 2", status=RoundStatus.OPEN)
    solved = factories.RoundFactory(title="Round 3", status=RoundStatus.SOLVED)

    lot_h100 = factories.CapacityLotFactory(pledge=factories.PledgeFactory(round=published), hardware=h100,
                                            region="SSA", gpu_hours=Decimal("1000"))
    offer = factories.OfferFactory(round=open_round)
    lot_b200 = factories.CapacityLotFactory(pledge=None, offer=offer, hardware=b200, region="EAP",
                                            gpu_hours=Decimal("500"), price_usd_per_gpu_hour=Decimal("3.10"))
    # Not counted: a withdrawn pledge, a draft pledge, a draft offer and a withdrawn offer.
    factories.CapacityLotFactory(pledge=factories.PledgeFactory(round=published, status=Pledge.Status.WITHDRAWN),
                                 hardware=h100, gpu_hours=Decimal("700"))
    factories.CapacityLotFactory(pledge=factories.PledgeFactory(round=open_round, status=Pledge.Status.DRAFT),
                                 hardware=h100, gpu_hours=Decimal("900"))
    for status in (Offer.Status.DRAFT, Offer.Status.WITHDRAWN):
        factories.CapacityLotFactory(pledge=None, offer=factories.OfferFactory(round=open_round, status=status),
                                     hardware=b200, gpu_hours=Decimal("300"), price_usd_per_gpu_hour=Decimal("3"))
    factories.PledgeFactory(round=published, kind=Pledge.Kind.CASH, cash_usd=Decimal("50000"))
    factories.PledgeFactory(round=open_round, kind=Pledge.Kind.CASH, cash_usd=Decimal("10000"),
                            status=Pledge.Status.WITHDRAWN)

    kenya = request_in(published, state_a, "1000")
    nepal = request_in(published, state_b, "400")
    brazil_request = request_in(published, brazil, "600")
    request_in(published, state_a, "999", status=RequestStatus.DRAFT)
    request_in(published, state_b, "888", status=RequestStatus.WITHDRAWN)

    approved = run_of(published, approved=True)
    line(approved, kenya, lot_h100, 300)
    line(approved, kenya, lot_b200, 200)
    line(approved, nepal, lot_h100, 100)
    line(approved, brazil_request, lot_h100, 250)
    line(run_of(published, approved=False), kenya, lot_h100, 999)  # a superseded run of the published round

    unpublished_request = request_in(solved, brazil, "5000")
    line(run_of(solved, approved=True), unpublished_request, lot_h100, 5000)  # approved, not yet published
    request_in(open_round, state_a, "123", status=RequestStatus.SUBMITTED)
    return {"published": published, "kenya": kenya, "nepal": nepal, "brazil": brazil_request}


def by_key(rows):
    return {row["key"]: row for row in rows}


def test_pledged_capacity_counts_confirmed_pledges_and_published_offers(alliance):
    pledged = selectors.pledged_capacity()

    assert pledged["h100e_hours"] == Decimal("2137.0")
    assert pledged["donated_h100e_hours"] == Decimal("1000")
    assert pledged["offered_h100e_hours"] == Decimal("1137.0")
    assert pledged["lots"] == 2
    assert pledged["cash_usd"] == Decimal("50000")


def test_pledged_capacity_by_region_and_hardware(alliance):
    pledged = selectors.pledged_capacity()

    assert [(row["key"], row["value"]) for row in pledged["by_region"]] == [
        ("EAP", Decimal("1137.0")), ("SSA", Decimal("1000")),  # largest first
    ]
    assert [(row["label"], row["value"]) for row in pledged["by_hardware"]] == [
        ("NVIDIA B200", Decimal("1137.0")), ("NVIDIA H100 SXM5 80GB", Decimal("1000")),  # largest first
    ]


def test_allocations_count_only_the_approved_run_of_published_rounds(alliance):
    allocations = selectors.published_allocations()

    assert allocations["allocated_h100e_hours"] == Decimal("850")
    assert allocations["requested_h100e_hours"] == Decimal("2000")  # drafts and withdrawals left out
    assert allocations["states_served"] == 3
    assert allocations["requests_served"] == 3
    assert allocations["low_income_allocated_h100e_hours"] == Decimal("600")
    assert allocations["low_income_share"] == pytest.approx(600 / 850)
    assert allocations["fulfilment"] == pytest.approx(850 / 2000)


def test_allocations_by_income_group_and_region_of_the_requesting_state(alliance):
    allocations = selectors.published_allocations()

    groups = by_key(allocations["by_income_group"])
    assert set(groups) == {"LMIC", "UMIC"}
    assert (groups["LMIC"]["requested"], groups["LMIC"]["allocated"]) == (Decimal("1400"), Decimal("600"))
    assert (groups["UMIC"]["requested"], groups["UMIC"]["allocated"]) == (Decimal("600"), Decimal("250"))
    assert groups["UMIC"]["fulfilment"] == pytest.approx(250 / 600)

    assert [row["key"] for row in allocations["by_region"]] == ["SSA", "LAC", "SAS"]  # most requested first
    regions = by_key(allocations["by_region"])
    assert {key: (row["requested"], row["allocated"]) for key, row in regions.items()} == {
        "SSA": (Decimal("1000"), Decimal("500")),
        "SAS": (Decimal("400"), Decimal("100")),
        "LAC": (Decimal("600"), Decimal("250")),
    }


def test_a_row_per_published_round(alliance):
    rows = selectors.published_allocations()["rounds"]

    assert len(rows) == 1
    row = rows[0]
    assert row["round"] == alliance["published"]
    assert row["has_approved_run"] is True
    assert (row["requests"], row["requests_served"], row["states_served"]) == (3, 3, 3)
    assert (row["requested_h100e_hours"], row["allocated_h100e_hours"]) == (Decimal("2000"), Decimal("850"))


def test_a_published_round_without_an_approved_run_allocates_nothing(state_a):
    round_ = published_round()
    request = request_in(round_, state_a, "500")
    line(run_of(round_, approved=False), request, factories.CapacityLotFactory(pledge__round=round_), 400)

    allocations = selectors.published_allocations()

    assert allocations["allocated_h100e_hours"] == 0
    assert allocations["low_income_share"] is None
    assert allocations["rounds"][0]["has_approved_run"] is False
    assert allocations["rounds"][0]["requested_h100e_hours"] == Decimal("500")


def test_dashboard_figures_when_nothing_exists(db):
    figures = selectors.dashboard_figures()

    assert figures["is_empty"] is True
    assert figures["has_published"] is False
    assert figures["pledged"]["h100e_hours"] == 0
    assert figures["allocations"]["allocated_h100e_hours"] == 0
    assert figures["allocations"]["by_income_group"] == []
    assert figures["allocations"]["low_income_share"] is None


def test_home_figures(alliance):
    figures = selectors.home_figures()

    # Kenya, Nepal and Brazil; France is in the table but not a member.
    assert figures["member_states"] == 3
    assert figures["open_pledged_h100e_hours"] == Decimal("1137.0")  # the B200 offer of the open round
    assert figures["requests_submitted"] == 5  # 3 scored + 1 in the solved round + 1 submitted in the open one
    assert figures["published_allocations"] == 3
    assert figures["published_rounds"] == 1
    assert [r.title for r in figures["open_rounds"]] == ["Round 2"]


def test_dashboard_reads_take_a_fixed_number_of_queries(alliance, django_assert_max_num_queries, hardware):
    # Many more lines in the approved run must not mean more queries.
    run = AllocationRun.objects.get(round=alliance["published"], is_approved=True)
    lot = factories.CapacityLotFactory(pledge__round=alliance["published"], hardware=hardware[0])
    AllocationLine.objects.bulk_create(
        AllocationLine(run=run, request=alliance["nepal"], lot=factories.CapacityLotFactory(
            pledge=lot.pledge, hardware=hardware[0], available_from=datetime.date(2026, 1, 1)),
            gpu_hours=1, h100e_hours=1, cofinancing_usd=0, cash_usd=0)
        for _ in range(30)
    )

    with django_assert_max_num_queries(12):
        figures = selectors.dashboard_figures()

    assert figures["allocations"]["allocated_h100e_hours"] == Decimal("880")
