"""parse_scenario: every problem at once, each naming the field and the id."""

import pytest
from solver_builders import country, load, lot, request, round_doc

from allocation.solver import ScenarioError, parse_scenario


def problems(doc):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc)
    return info.value.problems


def test_valid_round_parses_into_frozen_dataclasses():
    sc = parse_scenario(load("medium-200x40.json"))
    assert len(sc.requests) == 200 and len(sc.lots) == 40
    with pytest.raises(AttributeError):
        sc.requests[0].score = 0.5


def test_collects_every_problem():
    doc = round_doc(
        [lot("L1", -5), lot("L1", 3)],
        [country("KEN", "XIC"), country("ke")],
        [request("R1", "TZA", 10, hardware=["H900"]), request("R2", "KEN", 10, score=1.5)],
    )
    doc["requests"].append({"id": "R3"})
    doc["format"] = "gacp.scenario/2"
    found = problems(doc)
    assert "format: must be 'gacp.scenario/1', got the string 'gacp.scenario/2'" in found
    assert "lots[L1].gpu_hours: must be >= 0, got -5" in found
    assert "lots[L1].id: duplicate id 'L1'" in found
    assert "countries[KEN].income_group: must be one of LIC, LMIC, UMIC, HIC, got 'XIC'" in found
    assert "countries[ke].iso3: must be three capital letters, got 'ke'" in found
    assert "requests[R1].country: unknown country 'TZA'" in found
    assert "requests[R1].hardware: unknown hardware 'H900'" in found
    assert "requests[R2].score: must be <= 1, got 1.5" in found
    assert "requests[R3].country: missing" in found
    assert "requests[R3].h100e_hours: missing" in found


def test_wrong_types_and_missing_lists():
    doc = round_doc([lot("L1", 10)], [country("KEN")], [request("R1", "KEN", 10)])
    doc["lots"][0]["gpu_hours"] = "ten"
    doc["requests"][0]["local_language"] = 1
    doc["cash_usd"] = True
    del doc["countries"]
    found = problems(doc)
    assert "lots[L1].gpu_hours: must be a number, got the string 'ten'" in found
    assert "requests[R1].local_language: must be true or false, got the number 1" in found
    assert "cash_usd: must be a number, got a boolean" in found
    assert "countries: missing" in found


def test_items_without_id_are_named_by_position():
    doc = round_doc([{"gpu_hours": 3}], [country("KEN")], [])
    assert problems(doc) == ["lots[#0].id: missing"]


def test_minimum_above_demand_and_non_finite_numbers():
    doc = round_doc([lot("L1", float("nan"))], [country("KEN")], [request("R1", "KEN", 10, minimum=20)])
    found = problems(doc)
    assert "lots[L1].gpu_hours: must be a finite number, got nan" in found
    assert "requests[R1].min_h100e_hours: must be <= h100e_hours (10), got 20" in found


def test_not_an_object():
    assert problems([1, 2]) == ["scenario: must be a JSON object, got a list"]
