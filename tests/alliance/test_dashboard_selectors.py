"""The site-wide figures of the home page and the public dashboard, against numbers computed by hand."""
import datetime
from decimal import Decimal

import pytest

from alliance import selectors
from allocation.models import AllocationLine, AllocationRun, Offer, Pledge, RequestStatus, RoundStatus
from tests import factories
from tests.alliance.conftest import decide, published_round, request_in, run_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def alliance(state_a, state_b, hardware, unpublished_decision):
    """A published round with an approved and a superseded run, an open round, and a solved round that is
    not published (``unpublished_decision``).

    Pledged to the published round: 1,000 GPU-h of H100 (h100e 1.0) in SSA, and an offer of 500 GPU-h of
    B200 (h100e 2.274) in EAP: 1,000 + 1,137 = 2,137 h100e-hours, and US$50,000 in cash. Withdrawn pledges,
    draft and withdrawn offers and anything pledged to other rounds do not count.

    Decided by the approved run, under the classification of the day (Kenya was then low income, and is
    lower-middle income now):
      Kenya  (LIC,  SSA; 50 M people)  asked 1,000, got 300 + 200 = 500   -> 10 per million
      Nepal  (LMIC, SAS; 30 M people)  asked   400, got 100               -> 3.333... per million
      Brazil (UMIC, LAC; 200 M people) asked   600, got 250               -> 1.25 per million
    Allocated 850 of 2,000 asked; LIC + LMIC received 600: a share of 600 / 850.
    """
    h100, b200 = hardware
    state_a.population, state_b.population = 50_000_000, 30_000_000
    for state in (state_a, state_b):
        state.population_year = 2019
        state.save()
    brazil = factories.MemberStateFactory(iso3="BRA", name="Brazil", region="LAC", income_group="UMIC",
                                          population=200_000_000, population_year=2019)
    factories.MemberStateFactory(iso3="FRA", name="France", region="ECA", income_group="HIC", is_member=False)
    published = published_round(title="Round 1")
    open_round = factories.RoundFactory(title="Round 2", status=RoundStatus.OPEN)

    lot_h100 = factories.CapacityLotFactory(pledge=factories.PledgeFactory(round=published), hardware=h100,
                                            region="SSA", gpu_hours=Decimal("1000"))
    lot_b200 = factories.CapacityLotFactory(pledge=None, offer=factories.OfferFactory(round=published),
                                            hardware=b200, region="EAP", gpu_hours=Decimal("500"),
                                            price_usd_per_gpu_hour=Decimal("3.10"))
    # Not counted: a withdrawn pledge, a draft pledge, draft and withdrawn offers, a confirmed pledge to the open
    # round.
    factories.CapacityLotFactory(pledge=factories.PledgeFactory(round=published, status=Pledge.Status.WITHDRAWN),
                                 hardware=h100, gpu_hours=Decimal("700"))
    factories.CapacityLotFactory(pledge=factories.PledgeFactory(round=published, status=Pledge.Status.DRAFT),
                                 hardware=h100, gpu_hours=Decimal("900"))
    for status in (Offer.Status.DRAFT, Offer.Status.WITHDRAWN):
        factories.CapacityLotFactory(pledge=None, offer=factories.OfferFactory(round=published, status=status),
                                     hardware=b200, gpu_hours=Decimal("300"), price_usd_per_gpu_hour=Decimal("3"))
    factories.CapacityLotFactory(pledge=factories.PledgeFactory(round=open_round), hardware=h100,
                                 gpu_hours=Decimal("4444"))
    factories.PledgeFactory(round=published, kind=Pledge.Kind.CASH, cash_usd=Decimal("50000"))
    factories.PledgeFactory(round=published, kind=Pledge.Kind.CASH, cash_usd=Decimal("10000"),
                            status=Pledge.Status.WITHDRAWN)

    kenya = request_in(published, state_a, "1000", sector="health")
    nepal = request_in(published, state_b, "400", sector="education")
    brazil_request = request_in(published, brazil, "600", sector="health")
    request_in(published, state_a, "999", status=RequestStatus.DRAFT)
    request_in(published, state_b, "888", status=RequestStatus.INELIGIBLE)

    approved = run_of(published)
    decide(approved, kenya, [(lot_h100, 300), (lot_b200, 200)], income_group="LIC")
    decide(approved, nepal, [(lot_h100, 100)])
    decide(approved, brazil_request, [(lot_h100, 250)])
    decide(run_of(published, approved=False), kenya, [(lot_h100, 999)])  # a superseded run of the published round
    request_in(open_round, state_a, "123", status=RequestStatus.SUBMITTED)
    return {"published": published, "kenya": kenya, "nepal": nepal, "brazil": brazil_request}


def by_key(rows):
    return {row["key"]: row for row in rows}


# --- Gini, by hand ------------------------------------------------------------------------------------


def test_gini_of_three_states_by_hand():
    # 0, 1 and 2: mean 1; |differences| over the 9 ordered pairs sum to 2 x (1 + 2 + 1) = 8; 8 / (2 x 9 x 1) = 4/9.
    assert selectors.gini([0, 1, 2]) == pytest.approx(4 / 9)
    assert selectors.gini([2, 0, 1]) == pytest.approx(4 / 9)  # order does not matter


def test_gini_is_zero_when_equal_and_highest_when_one_state_has_everything():
    assert selectors.gini([5, 5, 5]) == 0
    assert selectors.gini([0, 0, 9]) == pytest.approx(2 / 3)  # (n - 1) / n
    assert selectors.gini([7]) == 0
    assert selectors.gini([]) is None
    assert selectors.gini([0, 0]) is None  # nobody received anything: undefined


# --- Pledges -----------------------------------------------------------------------------------------


def test_pledged_capacity_counts_confirmed_pledges_and_published_offers_of_published_rounds(alliance):
    pledged = selectors.pledged_capacity()

    assert pledged["h100e_hours"] == Decimal("2137.0")
    assert pledged["donated_h100e_hours"] == Decimal("1000")
    assert pledged["offered_h100e_hours"] == Decimal("1137.0")
    assert pledged["lots"] == 2
    assert pledged["cash_usd"] == Decimal("50000")  # the solved round's 97,531 is not published


def test_pledged_capacity_by_region_and_hardware(alliance):
    pledged = selectors.pledged_capacity()

    assert [(row["key"], row["value"]) for row in pledged["by_region"]] == [
        ("EAP", Decimal("1137.0")), ("SSA", Decimal("1000")),  # largest first
    ]
    assert [(row["label"], row["value"]) for row in pledged["by_hardware"]] == [
        ("NVIDIA B200", Decimal("1137.0")), ("NVIDIA H100 SXM5 80GB", Decimal("1000")),
    ]


def test_pledged_against_allocated_by_hardware(alliance):
    rows = by_key(selectors.allocated_by_hardware())

    h100, b200 = rows[factories.HardwareTypeFactory().pk], rows[factories.HardwareTypeFactory(key="NVIDIA_B200").pk]
    assert (h100["pledged"], h100["allocated"]) == (Decimal("1000"), Decimal("650"))  # 300 + 100 + 250
    assert (b200["pledged"], b200["allocated"]) == (Decimal("1137.0"), Decimal("200"))
    assert h100["used"] == pytest.approx(0.65)


# --- Allocations ---------------------------------------------------------------------------------------


def test_allocations_count_only_the_approved_run_of_published_rounds(alliance):
    allocations = selectors.published_allocations()

    assert allocations["allocated_h100e_hours"] == Decimal("850")
    assert allocations["requested_h100e_hours"] == Decimal("2000")  # only the requests the run decided on
    assert allocations["states_served"] == 3
    assert allocations["requests_served"] == 3
    assert allocations["requests_decided"] == 3
    assert allocations["fulfilment"] == pytest.approx(850 / 2000)


def test_share_reaching_low_and_lower_middle_income_states(alliance):
    allocations = selectors.published_allocations()

    assert allocations["low_income_allocated_h100e_hours"] == Decimal("600")  # Kenya 500 (LIC) + Nepal 100 (LMIC)
    assert allocations["low_income_share"] == pytest.approx(600 / 850)


def test_income_groups_are_those_frozen_at_decision_time(alliance):
    # Kenya is lower-middle income today; the round was decided while it was low income.
    groups = by_key(selectors.published_allocations()["by_income_group"])

    assert list(groups) == ["LIC", "LMIC", "UMIC"]  # poorest first
    assert (groups["LIC"]["requested"], groups["LIC"]["allocated"]) == (Decimal("1000"), Decimal("500"))
    assert (groups["LMIC"]["requested"], groups["LMIC"]["allocated"]) == (Decimal("400"), Decimal("100"))
    assert (groups["UMIC"]["requested"], groups["UMIC"]["allocated"]) == (Decimal("600"), Decimal("250"))


def test_fulfilment_by_income_group(alliance):
    groups = by_key(selectors.published_allocations()["by_income_group"])

    assert groups["LIC"]["fulfilment"] == pytest.approx(0.5)
    assert groups["LMIC"]["fulfilment"] == pytest.approx(0.25)
    assert groups["UMIC"]["fulfilment"] == pytest.approx(250 / 600)
    assert groups["UMIC"]["fulfilment_pct"] == pytest.approx(41.6667, abs=1e-4)


def test_a_reclassified_state_does_not_move_published_figures(alliance, state_a):
    before = by_key(selectors.published_allocations()["by_income_group"])
    state_a.income_group, state_a.region = "UMIC", "EAP"
    state_a.save()

    after = selectors.published_allocations()

    assert by_key(after["by_income_group"]) == before
    assert "EAP" not in by_key(after["by_region"])


def test_allocations_by_region_with_share_and_per_capita(alliance):
    allocations = selectors.published_allocations()

    assert [row["key"] for row in allocations["by_region"]] == ["SSA", "LAC", "SAS"]  # most requested first
    regions = by_key(allocations["by_region"])
    assert {key: (row["requested"], row["allocated"]) for key, row in regions.items()} == {
        "SSA": (Decimal("1000"), Decimal("500")),
        "SAS": (Decimal("400"), Decimal("100")),
        "LAC": (Decimal("600"), Decimal("250")),
    }
    assert regions["SSA"]["share"] == pytest.approx(500 / 850)
    assert regions["SSA"]["per_million"] == pytest.approx(10.0)  # 500 for 50 million people
    assert regions["SAS"]["per_million"] == pytest.approx(100 / 30)
    assert regions["LAC"]["per_million"] == pytest.approx(1.25)
    assert regions["LAC"]["states"] == 1


def test_allocations_by_sector(alliance):
    sectors = by_key(selectors.published_allocations()["by_sector"])

    assert (sectors["health"]["requested"], sectors["health"]["allocated"]) == (Decimal("1600"), Decimal("750"))
    assert (sectors["education"]["requested"], sectors["education"]["allocated"]) == (Decimal("400"), Decimal("100"))


def test_gini_of_allocation_per_capita_across_requesting_states(alliance):
    # Per million people: 10, 3.333... and 1.25 (sum 14.5833...). Sorted 1.25, 3.33, 10:
    # (-2 x 1.25 + 0 x 3.33 + 2 x 10) / (3 x 14.5833) = 17.5 / 43.75 = 0.4.
    allocations = selectors.published_allocations()

    assert allocations["gini_per_capita"] == pytest.approx(0.4)
    assert allocations["gini_states"] == 3
    assert allocations["population_years"] == [2019]
    assert [row["key"] for row in allocations["states"]] == ["KEN", "NPL", "BRA"]  # most per capita first


def test_a_state_without_population_is_left_out_of_the_gini_and_named(alliance, state_b):
    state_b.population = None
    state_b.save()

    allocations = selectors.published_allocations()

    # Kenya 10 and Brazil 1.25: (-1 x 1.25 + 1 x 10) / (2 x 11.25) = 8.75 / 22.5
    assert allocations["gini_per_capita"] == pytest.approx(8.75 / 22.5)
    assert allocations["states_without_population"] == ["Nepal"]


def test_a_row_per_published_round(alliance):
    rows = selectors.published_allocations()["rounds"]

    assert len(rows) == 1
    row = rows[0]
    assert row["round"] == alliance["published"]
    assert (row["requests"], row["requests_served"], row["states_served"]) == (3, 3, 3)
    assert (row["requested"], row["allocated"]) == (Decimal("2000"), Decimal("850"))


def test_round_filter_keeps_one_round(alliance, state_a, hardware):
    second = published_round(title="Round 4")
    lot = factories.CapacityLotFactory(pledge=factories.PledgeFactory(round=second), hardware=hardware[0],
                                       gpu_hours=Decimal("90"))
    decide(run_of(second), request_in(second, state_a, "100"), [(lot, 90)])

    every = selectors.published_allocations()
    one = selectors.published_allocations(round_id=second.pk)

    assert every["allocated_h100e_hours"] == Decimal("940")
    assert one["allocated_h100e_hours"] == Decimal("90")
    assert one["requested_h100e_hours"] == Decimal("100")
    assert [row["round"] for row in one["rounds"]] == [second]
    assert selectors.pledged_capacity(round_id=second.pk)["h100e_hours"] == Decimal("90")
    # Kenya's income group in the second round is its current one (LMIC)
    assert by_key(one["by_income_group"])["LMIC"]["allocated"] == Decimal("90")


def test_unpublished_round_counts_nowhere(unpublished_decision):
    figures = selectors.dashboard_figures()

    assert figures["is_empty"] is True
    assert figures["allocations"]["allocated_h100e_hours"] == 0
    assert figures["pledged"]["h100e_hours"] == 0
    assert figures["pledged"]["cash_usd"] == 0
    assert figures["by_hardware"] == []
    assert selectors.published_awards().count() == 0
    assert selectors.published_allocations(round_id=unpublished_decision.pk)["allocated_h100e_hours"] == 0


def test_a_published_round_without_an_approved_run_allocates_nothing(state_a):
    round_ = published_round()
    request = request_in(round_, state_a, "500")
    decide(run_of(round_, approved=False), request, [(factories.CapacityLotFactory(pledge__round=round_), 400)])

    allocations = selectors.published_allocations()

    assert allocations["allocated_h100e_hours"] == 0
    assert allocations["low_income_share"] is None
    assert allocations["gini_per_capita"] is None
    assert allocations["rounds"][0]["allocated"] == 0


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

    # Kenya, Nepal, Brazil and Chile; France is in the table but not a member.
    assert figures["member_states"] == 4
    assert figures["open_pledged_h100e_hours"] == Decimal("4444")  # the H100 pledge to the open round
    # 3 scored and 1 ineligible in the published round, 1 in the solved round, 1 submitted in the open one
    assert figures["requests_submitted"] == 6
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
            gpu_hours=1, h100e_hours=1, cofinancing_usd=0, cash_usd=0, income_group="LMIC", region="SAS")
        for _ in range(30)
    )

    with django_assert_max_num_queries(14):
        figures = selectors.dashboard_figures()

    assert figures["allocations"]["allocated_h100e_hours"] == Decimal("880")
