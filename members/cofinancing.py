"""A member state's Gavi-style co-financing phase, derived from World Bank data.

Pure functions over plain values: the thresholds come in as arguments (from settings.GACP), so the
rules can be tested and reasoned about without a database. The rules, from the allocation contract:

* high-income states, and states never eligible, are fully self-financing (``self``);
* a state in the World Bank's low-income group is in ``initial`` self-financing;
* a state whose three-year average GNI per capita is at or below the eligibility threshold is in
  ``preparatory`` transition;
* a state above the threshold that was eligible enters ``accelerated`` transition and leaves it for
  ``self`` after ``accelerated_years``;
* where Gavi's record lists the state for the year, the recorded phase wins over this derivation.
"""
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GAVI_PHASE_NAMES = {
    "Initial self-financing": "initial",
    "Preparatory transition phase": "preparatory",
    "Accelerated transition phase": "accelerated",
    "Fully self-financing": "self",
}


@dataclass(frozen=True)
class PhaseDecision:
    phase: str
    years_in_phase: int
    source: str  # "gavi" or "derived"


def classify_income(gni_per_capita: float | None, thresholds: Mapping[str, float]) -> str | None:
    """World Bank income group of a GNI per capita (Atlas, US$) under the given upper bounds."""
    if gni_per_capita is None:
        return None
    for group in ("LIC", "LMIC", "UMIC"):
        if gni_per_capita <= thresholds[group]:
            return group
    return "HIC"


def three_year_average(values: Sequence[float | None]) -> float | None:
    """Mean of the known values among the last three years (None when none is known)."""
    known = [v for v in values[-3:] if v is not None]
    return sum(known) / len(known) if known else None


def _trailing_run(values: Sequence[str], predicate) -> int:
    """How many values at the end of the sequence satisfy the predicate."""
    run = 0
    for value in reversed(values):
        if not predicate(value):
            break
        run += 1
    return run


def phase_from_gavi(phases_by_year: Mapping[int, str], year: int) -> PhaseDecision | None:
    """The phase Gavi's record gives for ``year``, with the whole years already spent in it."""
    name = phases_by_year.get(year)
    if not name:
        return None
    phase = GAVI_PHASE_NAMES[name]
    years_known = sorted(y for y in phases_by_year if y <= year)
    history = [GAVI_PHASE_NAMES.get(phases_by_year[y], "") for y in years_known]
    years = _trailing_run(history, lambda p: p == phase) - 1
    return PhaseDecision(phase=phase, years_in_phase=max(years, 0), source="gavi")


def derive_phase(
    *,
    income_group: str | None,
    gni_three_year_average: float | None,
    income_history: Sequence[str],
    eligibility_threshold: float,
    accelerated_years: int,
) -> PhaseDecision:
    """The phase by the contract's rules, from the income group, GNI and the group's history.

    ``income_history`` lists the state's income group codes (LIC/LMIC/UMIC/HIC or "") by fiscal year,
    oldest first, ending with the current year. A state "was eligible" when it was ever low income.
    """
    if income_group == "HIC":
        return PhaseDecision("self", _trailing_run(income_history, lambda g: g == "HIC") - 1 if income_history else 0,
                             "derived")
    if income_group == "LIC":
        return PhaseDecision("initial", max(_trailing_run(income_history, lambda g: g == "LIC") - 1, 0), "derived")
    if gni_three_year_average is not None and gni_three_year_average <= eligibility_threshold:
        years = _trailing_run(income_history, lambda g: g == income_group) - 1
        return PhaseDecision("preparatory", max(years, 0), "derived")
    if "LIC" in income_history:
        years_since_eligible = _trailing_run(income_history, lambda g: g != "LIC")
        if years_since_eligible < accelerated_years:
            return PhaseDecision("accelerated", years_since_eligible, "derived")
        return PhaseDecision("self", years_since_eligible - accelerated_years, "derived")
    return PhaseDecision("self", 0, "derived")
