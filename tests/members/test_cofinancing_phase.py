"""A member state's co-financing phase: the pure rules of members/cofinancing.py on hand-checked cases,
then member_states_load over the real World Bank and Gavi files, with thresholds taken from settings."""
from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from members import cofinancing
from members.models import MemberState, PhaseSource
from members.services import member_state_override_phase, member_states_load

THRESHOLD = 2300.0
YEARS = 8


def derive(income_group, average, history):
    return cofinancing.derive_phase(income_group=income_group, gni_three_year_average=average,
                                    income_history=history, eligibility_threshold=THRESHOLD,
                                    accelerated_years=YEARS)


# --- pure functions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gni", "group"),
    [(None, None), (0, "LIC"), (1020, "LIC"), (1135, "LIC"), (1136, "LMIC"), (4495, "LMIC"), (4496, "UMIC"),
     (13935, "UMIC"), (13936, "HIC")],
)
def test_classify_income_uses_the_fy2026_thresholds_from_settings(gni, group):
    assert cofinancing.classify_income(gni, django_settings.GACP["WB_THRESHOLDS_USD"]) == group


def test_classify_income_follows_the_thresholds_it_is_given():
    assert cofinancing.classify_income(1020, {"LIC": 1000, "LMIC": 4000, "UMIC": 12000}) == "LMIC"


@pytest.mark.parametrize(
    ("values", "average"),
    [([2100, 2200, 2300], 2200), ([None, 2000, 2400], 2200), ([880, 940, 1020], (880 + 940 + 1020) / 3),
     ([100, 2000, 2200, 2400], 2200), ([None, None, None], None), ([], None)],
)
def test_three_year_average_is_the_mean_of_the_known_last_three_years(values, average):
    result = cofinancing.three_year_average(values)

    assert result is None if average is None else result == pytest.approx(average)


def test_a_low_income_state_is_in_initial_self_financing():
    decision = derive("LIC", 800, ["LIC"] * 6)

    assert (decision.phase, decision.years_in_phase, decision.source) == ("initial", 5, "derived")


def test_a_state_that_just_became_low_income_has_zero_years_in_initial():
    assert derive("LIC", 1000, ["LMIC", "LMIC", "LIC"]) == cofinancing.PhaseDecision("initial", 0, "derived")


def test_a_lower_middle_income_state_at_or_below_the_threshold_is_preparatory():
    decision = derive("LMIC", 2200, ["LIC", "LIC", "LMIC", "LMIC", "LMIC"])

    assert (decision.phase, decision.years_in_phase) == ("preparatory", 2)


def test_the_threshold_itself_is_still_eligible():
    assert derive("LMIC", 2300, ["LMIC"]).phase == "preparatory"
    assert derive("LMIC", 2300.5, ["LMIC"]).phase == "self"


def test_a_lower_middle_income_state_above_the_threshold_that_was_low_income_3_years_ago_is_accelerated():
    decision = derive("LMIC", 3000, ["LIC", "LIC", "LIC", "LMIC", "LMIC", "LMIC"])

    assert (decision.phase, decision.years_in_phase) == ("accelerated", 3)


def test_accelerated_transition_ends_in_self_financing_after_the_accelerated_years():
    assert derive("LMIC", 3000, ["LIC"] + ["LMIC"] * 7) == cofinancing.PhaseDecision("accelerated", 7, "derived")
    assert derive("LMIC", 3000, ["LIC"] + ["LMIC"] * 8) == cofinancing.PhaseDecision("self", 0, "derived")
    assert derive("UMIC", 6000, ["LIC"] + ["LMIC"] * 10) == cofinancing.PhaseDecision("self", 2, "derived")


def test_a_state_never_eligible_above_the_threshold_is_self_financing():
    assert derive("LMIC", 3600, ["LMIC"] * 10) == cofinancing.PhaseDecision("self", 0, "derived")
    assert derive("UMIC", None, ["UMIC"] * 3).phase == "self"


def test_a_high_income_state_is_self_financing():
    decision = derive("HIC", 50000, ["UMIC", "HIC", "HIC", "HIC"])

    assert (decision.phase, decision.years_in_phase) == ("self", 2)
    assert derive("HIC", None, []).phase == "self"


KENYA_GAVI = {
    2019: "Preparatory transition phase", 2020: "Preparatory transition phase", 2021: "Preparatory transition phase",
    2022: "Accelerated transition phase", 2023: "Accelerated transition phase", 2024: "Accelerated transition phase",
    2025: "Accelerated transition phase", 2026: "Accelerated transition phase",
}


def test_the_gavi_record_gives_kenya_accelerated_transition_in_2026():
    decision = cofinancing.phase_from_gavi(KENYA_GAVI, 2026)

    assert decision == cofinancing.PhaseDecision("accelerated", 4, "gavi")
    assert cofinancing.phase_from_gavi(KENYA_GAVI, 2021) == cofinancing.PhaseDecision("preparatory", 2, "gavi")


def test_the_gavi_record_says_nothing_for_a_year_it_does_not_list():
    assert cofinancing.phase_from_gavi(KENYA_GAVI, 2030) is None
    assert cofinancing.phase_from_gavi({2026: ""}, 2026) is None


# --- loaded from the real files -------------------------------------------------------------------


@pytest.fixture
def loaded(db):
    assert member_states_load() == 218
    return {state.iso3: state for state in MemberState.objects.all()}


def test_member_states_load_loads_all_218_world_bank_economies(loaded):
    assert len(loaded) == MemberState.objects.count() == 218


def test_income_groups_match_the_world_bank_counts_plus_two_estimated(loaded):
    counts = {}
    for state in loaded.values():
        key = (state.income_group, state.income_group_is_estimated)
        counts[key] = counts.get(key, 0) + 1

    assert counts == {("HIC", False): 87, ("UMIC", False): 54, ("UMIC", True): 1, ("LMIC", False): 50,
                      ("LIC", False): 25, ("LIC", True): 1}
    assert {iso3 for iso3, s in loaded.items() if s.income_group_is_estimated} == {"ETH", "VEN"}


def test_ethiopia_unclassified_by_the_world_bank_is_estimated_low_income_from_its_gni(loaded):
    ethiopia = loaded["ETH"]

    assert (ethiopia.income_group, ethiopia.income_group_is_estimated) == ("LIC", True)
    assert (ethiopia.gni_per_capita_usd, ethiopia.gni_per_capita_year) == (Decimal("1020"), 2022)
    assert ethiopia.gni_three_year_average_usd == Decimal("947")  # (880 + 940 + 1,020) / 3
    # Gavi records Ethiopia as preparatory in 2026, and the record wins over the derivation (initial).
    assert (ethiopia.cofinancing_phase, ethiopia.phase_source) == ("preparatory", PhaseSource.GAVI)


def test_kenya_takes_its_phase_from_the_gavi_record(loaded):
    kenya = loaded["KEN"]

    assert (kenya.income_group, kenya.region, kenya.lending_category) == ("LMIC", "SSA", "Blend")
    assert (kenya.cofinancing_phase, kenya.years_in_phase, kenya.phase_source) == ("accelerated", 4, "gavi")


def test_states_not_in_the_gavi_record_have_a_derived_phase(loaded):
    # Germany: high income; the Philippines: LMIC never low income, average GNI 3,617 above 2,300;
    # Egypt: low income in FY92-FY96, so its accelerated transition ended long ago.
    assert (loaded["DEU"].cofinancing_phase, loaded["DEU"].phase_source) == ("self", "derived")
    assert (loaded["PHL"].cofinancing_phase, loaded["PHL"].years_in_phase) == ("self", 0)
    assert loaded["PHL"].gni_three_year_average_usd == Decimal("3617")
    assert (loaded["EGY"].cofinancing_phase, loaded["EGY"].years_in_phase) == ("self", 22)


def test_raising_the_eligibility_threshold_in_settings_makes_the_philippines_preparatory(loaded, settings):
    settings.GACP = {**settings.GACP, "GAVI_ELIGIBILITY_THRESHOLD_USD": 3700.0}

    member_states_load()

    philippines = MemberState.objects.get(iso3="PHL")
    assert (philippines.cofinancing_phase, philippines.phase_source) == ("preparatory", "derived")
    assert philippines.years_in_phase == 37  # LMIC in every fiscal year FY89-FY26
    assert MemberState.objects.get(iso3="KEN").cofinancing_phase == "accelerated"  # Gavi's record still wins


def test_lowering_the_low_income_threshold_in_settings_reclassifies_only_unclassified_states(loaded, settings):
    settings.GACP = {**settings.GACP, "WB_THRESHOLDS_USD": {**settings.GACP["WB_THRESHOLDS_USD"], "LIC": 1000.0}}

    member_states_load()

    assert MemberState.objects.get(iso3="ETH").income_group == "LMIC"  # GNI 1,020 is now above the LIC bound
    assert MemberState.objects.get(iso3="MWI").income_group == "LIC"  # classified by the World Bank: kept


def test_reloading_keeps_the_secretariats_override(loaded):
    member_state_override_phase(state=loaded["KEN"], phase="preparatory", years_in_phase=1,
                                reason="Debt restructuring agreed with the alliance board.")

    assert member_states_load() == 218

    kenya = MemberState.objects.get(iso3="KEN")
    assert (kenya.cofinancing_phase, kenya.years_in_phase, kenya.phase_source) == ("preparatory", 1, "override")
    assert MemberState.objects.count() == 218
