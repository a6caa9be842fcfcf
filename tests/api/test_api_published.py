"""Open data: lines of approved runs of published rounds, and their totals computed by the database."""
from decimal import Decimal

import pytest

from allocation.models import AllocationLine
from tests import factories

pytestmark = pytest.mark.django_db


def test_public_sees_only_lines_of_the_approved_run_of_published_rounds(api_client, published_world):
    response = api_client.get("/api/published/allocations/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert {row["id"] for row in body["results"]} == {line.pk for line in published_world["lines"][:4]}
    first = body["results"][0]
    assert first == {
        "id": published_world["lines"][0].pk, "round": published_world["published"].pk,
        "run": published_world["published_run"].pk, "request": published_world["req_a"].pk, "country": "KEN",
        "income_group": "LMIC", "region": "SSA", "sector": "health", "lot": published_world["lines"][0].lot_id,
        "hardware": "NVIDIA_H100_SXM5_80GB", "gpu_hours": "400.0000", "h100e_hours": "400.0000",
        "cofinancing_usd": "96.00",
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"country": "ken"}, 2),
        ({"income_group": "LIC"}, 1),
        ({"sector": "education"}, 1),
        ({"hardware": "NVIDIA_A100_SXM4_80GB"}, 1),
        ({"region": "SAS"}, 1),
        ({"round": 999999}, 0),
    ],
)
def test_published_lines_filter(api_client, published_world, params, expected):
    response = api_client.get("/api/published/allocations/", params)
    assert response.status_code == 200
    assert response.json()["count"] == expected


def test_published_lines_filter_by_round_and_refuse_bad_values(api_client, published_world):
    response = api_client.get("/api/published/allocations/", {"round": published_world["published"].pk})
    assert response.json()["count"] == 4
    assert api_client.get("/api/published/allocations/", {"round": published_world["solved"].pk}).json()["count"] == 0
    bad = api_client.get("/api/published/allocations/", {"round": "first", "income_group": "RICH"})
    assert bad.status_code == 400 and {"round", "income_group"} <= set(bad.json())


def test_summary_sums_by_income_group_and_region(api_client, published_world):
    response = api_client.get("/api/published/summary/")
    assert response.status_code == 200
    body = response.json()
    assert body["round"] is None
    totals = body["totals"]
    assert (totals["lines"], totals["requests"], totals["countries"]) == (4, 3, 3)
    assert Decimal(totals["gpu_hours"]) == Decimal("1000")
    assert Decimal(totals["h100e_hours"]) == Decimal("931.7")
    assert Decimal(totals["cofinancing_usd"]) == Decimal("168")
    by_group = {row["income_group"]: row for row in body["by_income_group"]}
    assert set(by_group) == {"LIC", "LMIC"}
    assert (by_group["LMIC"]["requests"], by_group["LMIC"]["countries"]) == (2, 2)
    assert Decimal(by_group["LIC"]["h100e_hours"]) == Decimal("200")
    by_region = {row["region"]: row for row in body["by_region"]}
    assert Decimal(by_region["SAS"]["gpu_hours"]) == Decimal("300")
    assert Decimal(by_region["SSA"]["h100e_hours"]) == Decimal("631.7")


def test_summary_of_one_round_and_of_nothing(api_client, published_world):
    one = api_client.get("/api/published/summary/", {"round": published_world["published"].pk}).json()
    assert one["round"] == published_world["published"].pk and one["totals"]["lines"] == 4
    empty = api_client.get("/api/published/summary/", {"round": published_world["solved"].pk}).json()
    assert empty["totals"]["lines"] == 0 and Decimal(empty["totals"]["h100e_hours"]) == 0
    assert empty["by_income_group"] == [] and empty["by_region"] == []
    assert api_client.get("/api/published/summary/", {"round": "x"}).status_code == 400


def test_summary_is_one_query_however_many_lines(api_client, published_world,
                                                               django_assert_num_queries):
    run, template = published_world["published_run"], published_world["lines"][0]
    extra = factories.ComputeRequestFactory(round=published_world["published"], ministry=template.request.ministry)
    AllocationLine.objects.bulk_create([
        AllocationLine(run=run, request=extra, lot=factories.CapacityLotFactory(pledge=template.lot.pledge),
                       gpu_hours=1, h100e_hours=1, cofinancing_usd=0, cash_usd=0, income_group="LMIC",
                       region="SSA")
        for _ in range(30)
    ])
    with django_assert_num_queries(1):
        body = api_client.get("/api/published/summary/").json()
    assert body["totals"]["lines"] == 34


def test_open_data_keeps_the_classification_the_decision_was_made_under(api_client, published_world):
    """A state reclassified after publication does not move its past allocations to another group."""
    state = published_world["state_c"]
    state.income_group = "LMIC"
    state.save()
    rows = api_client.get("/api/published/allocations/", {"country": "MWI"}).json()["results"]
    assert rows and {row["income_group"] for row in rows} == {"LIC"}
    summary = api_client.get("/api/published/summary/").json()
    assert "LIC" in {row["income_group"] for row in summary["by_income_group"]}
