"""The awards table: every request a published round decided on, searchable on the server, paginated."""
from decimal import Decimal

import pytest
from django.urls import reverse

from alliance import views
from tests import factories
from tests.alliance.conftest import decide, published_round, request_in, run_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def awards(state_a, state_b, hardware):
    """Round A: Kenya's health request got 300 H100 + 200 B200 hours of 1,000; Nepal's education request got
    nothing of 400. Round B: Nepal's agriculture request got 90 of 100, on H100. Kenya was low income when
    round A was decided (lower-middle income now)."""
    h100, b200 = hardware
    round_a, round_b = published_round(title="Round A"), published_round(title="Round B")
    lot_h100 = factories.CapacityLotFactory(pledge__round=round_a, hardware=h100, gpu_hours=Decimal("1000"))
    lot_b200 = factories.CapacityLotFactory(pledge__round=round_a, hardware=b200, gpu_hours=Decimal("100"))
    lot_b = factories.CapacityLotFactory(pledge__round=round_b, hardware=h100, gpu_hours=Decimal("90"))
    kenya = request_in(round_a, state_a, "1000", sector="health", title="Swahili clinical notes")
    nepal = request_in(round_a, state_b, "400", sector="education", title="Nepali reading tutor")
    nepal_b = request_in(round_b, state_b, "100", sector="agriculture", title="Crop disease detector")
    run_a = run_of(round_a)
    decide(run_a, kenya, [(lot_h100, 300), (lot_b200, 200)], income_group="LIC")
    decide(run_a, nepal, [])
    decide(run_of(round_b), nepal_b, [(lot_b, 90)])
    return {"round_a": round_a, "round_b": round_b, "kenya": kenya, "nepal": nepal, "nepal_b": nepal_b}


def titles(response) -> list[str]:
    return [row["award"].request.title for row in response.context["rows"]]


def test_awards_table_lists_every_decided_request_with_its_figures(client, awards):
    response = client.get(reverse("awards"))

    assert response.status_code == 200
    assert titles(response) == ["Swahili clinical notes", "Crop disease detector", "Nepali reading tutor"]
    first = response.context["rows"][0]
    assert first["award"].requested == Decimal("1000")
    assert first["award"].allocated == Decimal("500")
    assert first["award"].fulfilment_pct == pytest.approx(50.0)
    assert first["award"].frozen_income == "LIC"  # as decided, not today's LMIC
    assert first["hardware"] == ["NVIDIA B200", "NVIDIA H100 SXM5 80GB"]
    body = response.content.decode()
    assert "Ministry of Digital Affairs of Kenya" in body or awards["kenya"].ministry.name in body
    assert "3 awards found; showing 1 to 3." in body
    assert 'role="search"' in body and '<label for="id_q">' in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "swahili"}, ["Swahili clinical notes"]),
        ({"q": "NPL"}, ["Crop disease detector", "Nepali reading tutor"]),  # ISO3 code
        ({"q": "nepal"}, ["Crop disease detector", "Nepali reading tutor"]),  # state or ministry name
        ({"region": "SSA"}, ["Swahili clinical notes"]),
        ({"income_group": "LIC"}, ["Swahili clinical notes"]),
        ({"income_group": "LMIC"}, ["Crop disease detector", "Nepali reading tutor"]),
        ({"sector": "agriculture"}, ["Crop disease detector"]),
        ({"hardware": "NVIDIA_B200"}, ["Swahili clinical notes"]),
        ({"q": "nepal", "order": "title"}, ["Crop disease detector", "Nepali reading tutor"]),
        ({"order": "fulfilment"}, ["Nepali reading tutor", "Swahili clinical notes", "Crop disease detector"]),
        ({"order": "-requested"}, ["Swahili clinical notes", "Nepali reading tutor", "Crop disease detector"]),
        ({"q": "no such words"}, []),
    ],
)
def test_awards_search_and_filters(client, awards, query, expected):
    response = client.get(reverse("awards"), query)

    assert response.status_code == 200
    assert titles(response) == expected


def test_awards_filter_by_round(client, awards):
    response = client.get(reverse("awards"), {"round": awards["round_b"].pk})

    assert titles(response) == ["Crop disease detector"]


def test_awards_refuse_an_unknown_value_and_name_the_field(client, awards):
    response = client.get(reverse("awards"), {"sector": "astrology", "q": "swahili"})

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_sector-error"' in body and "Select a valid choice." in body
    assert titles(response) == ["Swahili clinical notes"]  # the valid fields still apply


def test_awards_never_show_an_unpublished_round(client, awards, unpublished_decision):
    response = client.get(reverse("awards"), {"q": "fisheries"})
    assert titles(response) == []
    response = client.get(reverse("awards"), {"round": unpublished_decision.pk})
    body = response.content.decode()
    assert "Undisclosed fisheries model" not in body and "6,543" not in body and "Secret round" not in body
    assert "Choose one of the published rounds" in body


def test_awards_are_paginated(client, awards, state_a, hardware, monkeypatch):
    monkeypatch.setattr(views, "AWARDS_PER_PAGE", 2)

    first = client.get(reverse("awards"), {"order": "title"})
    second = client.get(reverse("awards"), {"order": "title", "page": 2})

    assert titles(first) == ["Crop disease detector", "Nepali reading tutor"]
    assert titles(second) == ["Swahili clinical notes"]
    assert 'href="?order=title&amp;page=2"' in first.content.decode()


def test_awards_page_without_published_rounds(client, unpublished_decision):
    response = client.get(reverse("awards"))

    assert response.status_code == 200
    assert "No round has been published yet." in response.content.decode()
