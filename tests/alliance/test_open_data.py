"""Open data downloads: each table read back with pandas and compared with the database; the dictionary; the
licence; file names; published rounds only; and the population reference data behind per-capita figures."""
import io
import json
from decimal import Decimal

import pandas as pd
import pytest
from django.urls import reverse

from alliance import opendata, views
from allocation.models import AllocationLine, CapacityLot, RequestResult
from members.models import MemberState
from members.services import member_states_load
from tests import factories
from tests.alliance.conftest import decide, published_round, request_in, run_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(state_a, state_b, hardware, unpublished_decision):
    """One published round: Kenya got 300 H100 + 200 B200 h100e-hours of 1,000, Nepal 100 of 400; a US$50,000
    cash pledge; the lots: 1,000 GPU-h of H100 pledged in kind, 100 GPU-h of B200 offered at US$3.10."""
    h100, b200 = hardware
    round_ = published_round(title="Round 1")
    lot_h100 = factories.CapacityLotFactory(pledge=factories.PledgeFactory(round=round_), hardware=h100,
                                            gpu_hours=Decimal("1000"))
    lot_b200 = factories.CapacityLotFactory(pledge=None, offer=factories.OfferFactory(round=round_), hardware=b200,
                                            region="EAP", gpu_hours=Decimal("100"),
                                            price_usd_per_gpu_hour=Decimal("3.10"))
    factories.PledgeFactory(round=round_, kind="cash", cash_usd=Decimal("50000"))
    run = run_of(round_)
    decide(run, request_in(round_, state_a, "1000", title="Swahili clinical notes"),
           [(lot_h100, 300), (lot_b200, 200)], income_group="LIC")
    decide(run, request_in(round_, state_b, "400", title="Nepali reading tutor"), [(lot_h100, 100)])
    return round_


def download(client, table, extension, **params):
    response = client.get(reverse("open-data-download", args=[table, extension]), params)
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else b"".join(response)
    return response, body


def test_allocations_csv_matches_the_database(client, published):
    response, body = download(client, "allocations", "csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    frame = pd.read_csv(io.BytesIO(body), dtype={"h100e_hours": str, "gpu_hours": str})
    assert list(frame.columns) == opendata.TABLES["allocations"].names
    lines = AllocationLine.objects.filter(run__round=published, run__is_approved=True).order_by("pk")
    assert list(frame["line_id"]) == [line.pk for line in lines]
    assert [Decimal(value) for value in frame["h100e_hours"]] == [line.h100e_hours for line in lines]
    assert sum(Decimal(value) for value in frame["h100e_hours"]) == Decimal("600")
    assert list(frame["income_group"]) == ["LIC", "LIC", "LMIC"]  # frozen: Kenya is LMIC today
    assert set(frame["country_iso3"]) == {"KEN", "NPL"}
    assert set(frame["hardware"]) == {"NVIDIA_H100_SXM5_80GB", "NVIDIA_B200"}


def test_requests_json_matches_the_database_and_carries_its_dictionary_and_licence(client, published):
    response, body = download(client, "requests", "json")

    assert response["Content-Type"] == "application/json"
    document = json.loads(body)
    assert document["licence"] == "CC BY 4.0"
    assert "The World Bank" in document["attribution"] and "Epoch AI" in document["attribution"]
    assert [column["column"] for column in document["columns"]] == opendata.TABLES["requests"].names
    frame = pd.DataFrame(document["rows"])
    results = RequestResult.objects.filter(run__round=published).order_by("pk")
    assert list(frame["request_id"]) == [result.request_id for result in results]
    assert list(frame["requested_h100e_hours"]) == [1000.0, 400.0]
    assert list(frame["allocated_h100e_hours"]) == [500.0, 100.0]
    assert list(frame["fulfilment"]) == [0.5, 0.25]
    assert list(frame["country"]) == ["Kenya", "Nepal"]


def test_lots_and_pledges_csv(client, published):
    _, lots_body = download(client, "lots", "csv")
    _, pledges_body = download(client, "pledges", "csv")

    lots = pd.read_csv(io.BytesIO(lots_body))
    assert sorted(lots["h100e_hours"]) == [227.4, 1000.0]  # 100 x 2.274 and 1,000 x 1.0
    assert set(lots["round_id"]) == {published.pk}
    offered = lots[lots["offer_id"].notna()].iloc[0]
    assert offered["price_usd_per_gpu_hour"] == 3.1 and offered["available_from"] == "2026-01-01"
    assert len(lots) == CapacityLot.objects.filter(pledge__round=published).count() + 1
    pledges = pd.read_csv(io.BytesIO(pledges_body))
    assert sorted(pledges["kind"]) == ["cash", "in_kind"]
    assert pledges["cash_usd"].sum() == 50000


def test_xlsx_has_the_table_and_a_data_dictionary_sheet(client, published):
    response, body = download(client, "allocations", "xlsx")

    assert response["Content-Type"] == views.FORMATS["xlsx"]
    sheets = pd.read_excel(io.BytesIO(body), sheet_name=None)
    assert list(sheets) == ["allocations", "data dictionary"]
    assert sheets["allocations"]["h100e_hours"].sum() == 600
    assert list(sheets["allocations"].columns) == opendata.TABLES["allocations"].names
    dictionary = sheets["data dictionary"]
    assert set(opendata.TABLES["allocations"].names) <= set(dictionary["column"])
    assert (dictionary["table"] == "licence").any()


def test_workbook_of_every_table(client, published):
    _, body = download(client, "everything", "xlsx")

    sheets = pd.read_excel(io.BytesIO(body), sheet_name=None)
    assert list(sheets) == ["allocations", "requests", "pledges", "lots", "states", "data dictionary"]
    assert len(sheets["requests"]) == 2
    assert len(sheets["states"]) == MemberState.objects.count()


def test_file_names_carry_the_round_and_the_date(client, published):
    response, _ = download(client, "allocations", "csv", round=published.pk)
    day = published.published_at.date().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="gacp-allocations-round-{published.pk}-{day}.csv"'

    response, _ = download(client, "requests", "xlsx")
    assert "gacp-requests-all-rounds-" in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('.xlsx"')


def test_round_filter_of_a_download(client, published, state_a, hardware):
    other = published_round(title="Round 2")
    lot = factories.CapacityLotFactory(pledge__round=other, hardware=hardware[0], gpu_hours=Decimal("90"))
    decide(run_of(other), request_in(other, state_a, "100"), [(lot, 90)])

    _, every = download(client, "allocations", "csv")
    _, one = download(client, "allocations", "csv", round=other.pk)

    assert pd.read_csv(io.BytesIO(every))["h100e_hours"].sum() == 690
    assert list(pd.read_csv(io.BytesIO(one))["h100e_hours"]) == [90]


@pytest.mark.parametrize("table", ["allocations", "requests", "pledges", "lots"])
@pytest.mark.parametrize("extension", ["csv", "json"])
def test_downloads_never_include_an_unpublished_round(client, published, unpublished_decision, table, extension):
    _, body = download(client, table, extension)

    text = body.decode()
    for secret in ("6543", "7777", "8642", "97531", "Undisclosed fisheries model"):
        assert secret not in text, (table, secret)


def test_asking_for_an_unpublished_round_is_a_404(client, unpublished_decision):
    url = reverse("open-data-download", args=["allocations", "csv"])

    response = client.get(url, {"round": unpublished_decision.pk})

    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/open-data/secrets.csv", "/open-data/allocations.exe", "/open-data/everything.csv"])
def test_unknown_tables_and_formats_are_404(client, path):
    assert client.get(path).status_code == 404


def test_an_empty_table_downloads_with_its_header(client, db):
    _, body = download(client, "allocations", "csv")
    assert body.decode().strip() == ",".join(opendata.TABLES["allocations"].names)
    _, body = download(client, "allocations", "json")
    assert json.loads(body)["rows"] == []


def test_a_workbook_too_long_for_a_sheet_is_refused_with_a_reason(client, published, monkeypatch):
    monkeypatch.setattr(opendata, "EXCEL_MAX_ROWS", 2)

    response = client.get(reverse("open-data-download", args=["allocations", "xlsx"]))

    assert response.status_code == 422
    body = response.content.decode()
    assert "The allocations table has 3 rows" in body and "download it as CSV" in body


def test_open_data_page_lists_every_table_with_its_dictionary_and_licence(client, published):
    response = client.get(reverse("open-data"))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'rel="license"' in body and "CC BY 4.0" in body
    for table in opendata.TABLES.values():
        for extension in ("csv", "json", "xlsx"):
            assert reverse("open-data-download", args=[table.key, extension]) in body
        assert f'id="dictionary-{table.key}"' in body
        for column in table.columns:
            assert f"<code>{column.name}</code>" in body


def test_open_data_page_with_a_round_links_round_downloads(client, published):
    body = client.get(reverse("open-data"), {"round": published.pk}).content.decode()

    assert f'{reverse("open-data-download", args=["allocations", "csv"])}?round={published.pk}' in body
    assert f'{reverse("open-data-download", args=["states", "csv"])}"' in body  # states are not by round


# --- Population, for allocation per capita ---------------------------------------------------------------


def test_reference_data_loads_world_bank_population(db):
    member_states_load()

    kenya = MemberState.objects.get(iso3="KEN")
    assert (kenya.population, kenya.population_year) == (52_573_973, 2019)  # WDI SP.POP.TOTL, 2019
    assert MemberState.objects.filter(population__isnull=False).count() == 216
    assert set(MemberState.objects.filter(population__isnull=True).values_list("iso3", flat=True)) == {"CHI", "TWN"}
