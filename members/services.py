"""State changes of the members app: loading the reference data, organisations, people, phases."""
import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from alliance.exceptions import ApplicationError
from audit.services import audit_record
from members import cofinancing
from members.models import (
    CofinancingPhase,
    Membership,
    MemberState,
    Organisation,
    PhaseSource,
    Region,
)

DATA_DIR = settings.BASE_DIR / "data"

REGION_CODES = {label: code for code, label in [
    ("EAP", "East Asia & Pacific"),
    ("ECA", "Europe & Central Asia"),
    ("LAC", "Latin America & Caribbean"),
    ("MNA", "Middle East, North Africa, Afghanistan & Pakistan"),
    ("NAM", "North America"),
    ("SAS", "South Asia"),
    ("SSA", "Sub-Saharan Africa"),
]}
POPULATION_FILE = "wb_population_2019.csv"  # WDI SP.POP.TOTL; optional: without it populations stay empty
HISTORY_CODES = {"L": "LIC", "LM": "LMIC", "LM*": "LMIC", "UM": "UMIC", "H": "HIC"}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


@transaction.atomic
def member_states_load(*, data_dir: Path = DATA_DIR) -> int:
    """Create or update every economy of the World Bank FY2026 classification as a member state,
    with its GNI per capita, population, income history and co-financing phase. Returns the number loaded.

    States whose phase the secretariat has overridden keep their override."""
    gacp = settings.GACP
    classes = _read_csv(data_dir / "wb_class_fy2026.csv")
    gni = {row["iso3"]: row for row in _read_csv(data_dir / "wb_gni_per_capita_atlas_2020_2022.csv")}
    gavi = {row["iso3"]: row for row in _read_csv(data_dir / "gavi_cofinancing_phase_by_country_2019_2026.csv")}
    population_path = data_dir / POPULATION_FILE
    population = {row["iso3"]: row for row in _read_csv(population_path)} if population_path.exists() else {}
    history: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in _read_csv(data_dir / "wb_income_group_history_fy1989_fy2026.csv"):
        history[row["iso3"]].append((int(row["fiscal_year_end"]), HISTORY_CODES.get(row["income_code_raw"], "")))

    loaded = 0
    for row in classes:
        iso3 = row["iso3"]
        region = REGION_CODES.get(row["region"])
        if region is None:
            raise ApplicationError(f"wb_class_fy2026.csv: unknown region {row['region']!r} for {iso3}")
        gni_row = gni.get(iso3, {})
        yearly = [_number(gni_row.get(f"gni_pc_atlas_usd_{y}", "")) for y in (2020, 2021, 2022)]
        latest = _number(gni_row.get("latest_value_usd", ""))
        average = cofinancing.three_year_average(yearly)
        income_group = row["income_group_code"] or cofinancing.classify_income(latest, gacp["WB_THRESHOLDS_USD"])
        estimated = not row["income_group_code"]
        groups = [group for _, group in sorted(history.get(iso3, []))]
        decision = None
        if iso3 in gavi:
            phases = {int(key[-4:]): value for key, value in gavi[iso3].items() if key.startswith("phase_")}
            decision = cofinancing.phase_from_gavi(phases, gacp["COFINANCING_YEAR"])
        if decision is None:
            decision = cofinancing.derive_phase(
                income_group=income_group,
                gni_three_year_average=average,
                income_history=groups,
                eligibility_threshold=gacp["GAVI_ELIGIBILITY_THRESHOLD_USD"],
                accelerated_years=gacp["DEFAULT_POLICY"]["cofinancing"]["accelerated_years"],
            )
        state = MemberState.objects.filter(iso3=iso3).first() or MemberState(iso3=iso3)
        state.name = row["economy"]
        state.region = Region(region)
        state.income_group = income_group or ""
        state.income_group_is_estimated = estimated
        state.lending_category = row["lending_category"]
        state.gni_per_capita_usd = Decimal(str(round(latest))) if latest is not None else None
        state.gni_per_capita_year = int(gni_row["latest_year"]) if gni_row.get("latest_year") else None
        state.gni_three_year_average_usd = Decimal(str(round(average))) if average is not None else None
        people = population.get(iso3, {})
        state.population = int(people["population"]) if people.get("population") else None
        state.population_year = int(people["year"]) if state.population is not None else None
        if state.phase_source != PhaseSource.OVERRIDE:
            state.cofinancing_phase = decision.phase
            state.years_in_phase = decision.years_in_phase
            state.phase_source = decision.source
        state.full_clean()
        state.save()
        audit_record(action="member_state_load", obj=state, only_if_changed=True)
        loaded += 1
    return loaded


@transaction.atomic
def member_state_override_phase(
    *, state: MemberState, phase: str, years_in_phase: int, reason: str, user=None
) -> MemberState:
    """The secretariat sets a state's co-financing phase by hand; the reason is kept."""
    if phase not in CofinancingPhase.values:
        raise ApplicationError(f"Unknown co-financing phase {phase!r}.", {"phase": CofinancingPhase.values})
    if not reason.strip():
        raise ApplicationError("An override of the co-financing phase needs a reason.", {"field": "reason"})
    if years_in_phase < 0:
        raise ApplicationError("Years in phase cannot be negative.", {"field": "years_in_phase"})
    state.cofinancing_phase = phase
    state.years_in_phase = years_in_phase
    state.phase_source = PhaseSource.OVERRIDE
    state.phase_override_reason = reason.strip()
    state.full_clean()
    state.save()
    audit_record(action="member_state_override_phase", actor=user, obj=state)
    return state


@transaction.atomic
def organisation_create(
    *, name: str, kind: str, member_state: MemberState | None = None, website: str = "", user=None
) -> Organisation:
    organisation = Organisation(name=name, kind=kind, member_state=member_state, website=website)
    organisation.full_clean()
    organisation.save()
    audit_record(action="organisation_create", actor=user, obj=organisation)
    return organisation


@transaction.atomic
def person_create(
    *, username: str, password: str, organisation: Organisation, role: str, email: str = "",
    first_name: str = "", last_name: str = "", user=None,
) -> Membership:
    """A user account with its membership of one organisation in one role."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ApplicationError(f"The username {username!r} is taken.", {"field": "username"})
    person = user_model(username=username, email=email, first_name=first_name, last_name=last_name)
    validate_password(password, person)
    person.set_password(password)
    person.full_clean()
    person.save()
    membership = Membership(user=person, organisation=organisation, role=role)
    membership.full_clean()
    membership.save()
    audit_record(action="person_create", actor=user, obj=person,
                 extra={"organisation": organisation.pk, "role": role})
    return membership
