"""The parsed allocation round: frozen dataclasses and the gacp.scenario/1 reader.

`parse_scenario(doc)` turns a decoded JSON document into a `Scenario`, or raises `ScenarioError` with
every problem it found, one message per problem, each naming the field and the id:
``requests[R17].hardware: unknown hardware 'H900'``. Items without a usable id are named by position
(``lots[#3].id: missing``). Unknown extra fields are ignored, so that later minor versions stay readable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

SCENARIO_FORMAT = "gacp.scenario/1"
INCOME_GROUPS = ("LIC", "LMIC", "UMIC", "HIC")
PHASES = ("initial", "preparatory", "accelerated", "self")


class ScenarioError(ValueError):
    """A scenario that cannot be solved; `problems` holds one message per problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Hardware:
    id: str
    h100e: float
    memory_gb: float | None = None


@dataclass(frozen=True)
class Earmark:
    """Donor conditions on the requesting side; an empty tuple places no condition."""

    sectors: tuple[str, ...] = ()
    income_groups: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lot:
    id: str
    provider: str
    donor: str | None
    hardware: str
    region: str
    gpu_hours: float
    value_usd_per_gpu_hour: float
    price_usd_per_gpu_hour: float | None
    earmark: Earmark | None = None


@dataclass(frozen=True)
class Country:
    iso3: str
    income_group: str
    region: str
    cofinancing_phase: str
    years_in_phase: float
    budget_usd: float | None


@dataclass(frozen=True)
class Request:
    id: str
    country: str
    sector: str
    h100e_hours: float
    min_h100e_hours: float
    hardware: tuple[str, ...]
    regions: tuple[str, ...]
    score: float
    local_language: bool
    open_weights: bool
    params_billion: float | None


@dataclass(frozen=True)
class Cofinancing:
    initial_share: float = 0.05
    preparatory_growth: float = 0.15
    preparatory_cap: float = 1.0
    accelerated_start_share: float = 0.2
    accelerated_years: float = 8.0


@dataclass(frozen=True)
class Policy:
    """Weights and co-financing parameters; absent keys take these defaults (those of the contract's
    reference implementation), absent income groups and sectors weigh 1."""

    income_weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    sector_weights: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    local_language_bonus: float = 1.0
    open_weights_bonus: float = 1.0
    small_model_bonus: float = 1.0
    small_model_max_params_billion: float = 0.0
    cofinancing: Cofinancing = Cofinancing()


@dataclass(frozen=True)
class Scenario:
    name: str
    hardware: tuple[Hardware, ...]
    lots: tuple[Lot, ...]
    cash_usd: float
    countries: tuple[Country, ...]
    requests: tuple[Request, ...]
    policy: Policy


class _Reader:
    """Field readers that record a problem and return None instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def number(
        self,
        obj: Mapping[str, Any],
        key: str,
        where: str,
        *,
        minimum: float | None = None,
        strict: bool = False,
        maximum: float | None = None,
        nullable: bool = False,
        required: bool = True,
        default: float | None = None,
    ) -> float | None:
        """A finite JSON number (never a boolean) within the given bounds."""
        field = f"{where}.{key}" if where else key
        if key not in obj:
            if required:
                self.problem(field, "missing")
            return default
        value = obj[key]
        if value is None:
            if not nullable:
                self.problem(field, "must be a number, got null")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(field, f"must be a number, got {_kind(value)}")
            return None
        if not math.isfinite(value):
            self.problem(field, f"must be a finite number, got {value}")
            return None
        if minimum is not None and (value <= minimum if strict else value < minimum):
            self.problem(field, f"must be {'>' if strict else '>='} {_num(minimum)}, got {_num(value)}")
            return None
        if maximum is not None and value > maximum:
            self.problem(field, f"must be <= {_num(maximum)}, got {_num(value)}")
            return None
        return float(value)

    def string(
        self,
        obj: Mapping[str, Any],
        key: str,
        where: str,
        *,
        nullable: bool = False,
        choices: tuple[str, ...] | None = None,
    ) -> str | None:
        field = f"{where}.{key}" if where else key
        if key not in obj:
            self.problem(field, "missing")
            return None
        value = obj[key]
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value:
            self.problem(field, f"must be a non-empty string, got {_kind(value)}")
            return None
        if choices is not None and value not in choices:
            self.problem(field, f"must be one of {', '.join(choices)}, got {value!r}")
            return None
        return value

    def boolean(self, obj: Mapping[str, Any], key: str, where: str) -> bool | None:
        field = f"{where}.{key}" if where else key
        if key not in obj:
            self.problem(field, "missing")
            return None
        if not isinstance(obj[key], bool):
            self.problem(field, f"must be true or false, got {_kind(obj[key])}")
            return None
        return obj[key]

    def strings(
        self, obj: Mapping[str, Any], key: str, where: str, *, required: bool = True, non_empty: bool = False
    ) -> tuple[str, ...] | None:
        field = f"{where}.{key}" if where else key
        if key not in obj:
            if required:
                self.problem(field, "missing")
            return None if required else ()
        value = obj[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(field, f"must be a list of non-empty strings, got {_kind(value)}")
            return None
        if non_empty and not value:
            self.problem(field, "must not be empty")
            return None
        return tuple(value)

    def items(self, doc: Mapping[str, Any], key: str, id_key: str) -> list[tuple[str, Mapping[str, Any]]]:
        """The objects of a top-level list, each with the name used in messages; duplicates reported."""
        if key not in doc:
            self.problem(key, "missing")
            return []
        value = doc[key]
        if not isinstance(value, list):
            self.problem(key, f"must be a list, got {_kind(value)}")
            return []
        seen: set[str] = set()
        out = []
        for pos, item in enumerate(value):
            if not isinstance(item, dict):
                self.problem(f"{key}[#{pos}]", f"must be an object, got {_kind(item)}")
                continue
            ident = item.get(id_key)
            if not isinstance(ident, str) or not ident:
                self.problem(
                    f"{key}[#{pos}].{id_key}",
                    "missing" if ident is None else f"must be a non-empty string, got {_kind(ident)}",
                )
                continue
            if ident in seen:
                self.problem(f"{key}[{ident}].{id_key}", f"duplicate id {ident!r}")
                continue
            seen.add(ident)
            out.append((f"{key}[{ident}]", item))
        return out


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {_num(value)}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    return "a list" if isinstance(value, list) else "an object"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def parse_scenario(doc: Any) -> Scenario:
    """Validate a gacp.scenario/1 document and return it as frozen dataclasses.

    Raises ScenarioError listing every problem found (never only the first)."""
    rd = _Reader()
    if not isinstance(doc, dict):
        raise ScenarioError([f"scenario: must be a JSON object, got {_kind(doc)}"])
    if doc.get("format") != SCENARIO_FORMAT:
        rd.problem("format", f"must be {SCENARIO_FORMAT!r}, got {_kind(doc.get('format'))}")
    name = doc.get("name", "")
    if not isinstance(name, str):
        rd.problem("name", f"must be a string, got {_kind(name)}")
        name = ""
    hardware = _hardware(rd, doc)
    countries = _countries(rd, doc)
    known_hw, known_countries = _ids(doc, "hardware", "id"), _ids(doc, "countries", "iso3")
    lots = _lots(rd, doc, known_hw)
    requests = _requests(rd, doc, known_hw, known_countries)
    cash = rd.number(doc, "cash_usd", "", minimum=0.0)
    policy = _policy(rd, doc)
    if rd.problems:
        raise ScenarioError(rd.problems)
    return Scenario(
        name=name,
        hardware=hardware,
        lots=lots,
        cash_usd=float(cash or 0.0),
        countries=countries,
        requests=requests,
        policy=policy,
    )


def _ids(doc: Mapping[str, Any], key: str, id_key: str) -> set[str]:
    """The ids listed under doc[key], valid items or not, so that one bad item does not make every
    reference to it a second problem."""
    items = doc.get(key)
    if not isinstance(items, list):
        return set()
    return {item[id_key] for item in items if isinstance(item, dict) and isinstance(item.get(id_key), str)}


def _hardware(rd: _Reader, doc: Mapping[str, Any]) -> tuple[Hardware, ...]:
    out = []
    for where, item in rd.items(doc, "hardware", "id"):
        mark = len(rd.problems)
        h100e = rd.number(item, "h100e", where, minimum=0.0, strict=True)
        memory = rd.number(item, "memory_gb", where, minimum=0.0, nullable=True, required=False)
        if len(rd.problems) == mark:
            out.append(Hardware(id=item["id"], h100e=h100e, memory_gb=memory))
    return tuple(out)


def _countries(rd: _Reader, doc: Mapping[str, Any]) -> tuple[Country, ...]:
    out = []
    for where, item in rd.items(doc, "countries", "iso3"):
        mark = len(rd.problems)
        iso3 = item["iso3"]
        if not (len(iso3) == 3 and iso3.isascii() and iso3.isalpha() and iso3.isupper()):
            rd.problem(f"{where}.iso3", f"must be three capital letters, got {iso3!r}")
        country = Country(
            iso3=iso3,
            income_group=rd.string(item, "income_group", where, choices=INCOME_GROUPS),
            region=rd.string(item, "region", where),
            cofinancing_phase=rd.string(item, "cofinancing_phase", where, choices=PHASES),
            years_in_phase=rd.number(item, "years_in_phase", where, minimum=0.0),
            budget_usd=rd.number(item, "budget_usd", where, minimum=0.0, nullable=True),
        )
        if len(rd.problems) == mark:
            out.append(country)
    return tuple(out)


def _lots(rd: _Reader, doc: Mapping[str, Any], known_hw: set[str]) -> tuple[Lot, ...]:
    out = []
    for where, item in rd.items(doc, "lots", "id"):
        mark = len(rd.problems)
        hardware = rd.string(item, "hardware", where)
        if hardware is not None and hardware not in known_hw:
            rd.problem(f"{where}.hardware", f"unknown hardware {hardware!r}")
        lot = Lot(
            id=item["id"],
            provider=rd.string(item, "provider", where),
            donor=rd.string(item, "donor", where, nullable=True),
            hardware=hardware,
            region=rd.string(item, "region", where),
            gpu_hours=rd.number(item, "gpu_hours", where, minimum=0.0),
            value_usd_per_gpu_hour=rd.number(item, "value_usd_per_gpu_hour", where, minimum=0.0),
            price_usd_per_gpu_hour=rd.number(
                item, "price_usd_per_gpu_hour", where, minimum=0.0, nullable=True
            ),
            earmark=_earmark(rd, item, where),
        )
        if len(rd.problems) == mark:
            out.append(lot)
    return tuple(out)


def _earmark(rd: _Reader, item: Mapping[str, Any], where: str) -> Earmark | None:
    raw = item.get("earmark")
    if raw is None:
        return None
    field = f"{where}.earmark"
    if not isinstance(raw, dict):
        rd.problem(field, f"must be an object or null, got {_kind(raw)}")
        return None
    parts = {
        key: rd.strings(raw, key, field, required=False) for key in ("sectors", "income_groups", "countries")
    }
    bad = [g for g in parts["income_groups"] or () if g not in INCOME_GROUPS]
    if bad:
        rd.problem(f"{field}.income_groups", f"must be among {', '.join(INCOME_GROUPS)}, got {bad[0]!r}")
    return Earmark(**{key: value or () for key, value in parts.items()})


def _requests(
    rd: _Reader, doc: Mapping[str, Any], known_hw: set[str], known_countries: set[str]
) -> tuple[Request, ...]:
    out = []
    for where, item in rd.items(doc, "requests", "id"):
        mark = len(rd.problems)
        country = rd.string(item, "country", where)
        if country is not None and country not in known_countries:
            rd.problem(f"{where}.country", f"unknown country {country!r}")
        hardware = rd.strings(item, "hardware", where, non_empty=True)
        for hw in hardware or ():
            if hw not in known_hw:
                rd.problem(f"{where}.hardware", f"unknown hardware {hw!r}")
        demand = rd.number(item, "h100e_hours", where, minimum=0.0, strict=True)
        minimum = rd.number(item, "min_h100e_hours", where, minimum=0.0)
        if demand is not None and minimum is not None and minimum > demand:
            rd.problem(
                f"{where}.min_h100e_hours", f"must be <= h100e_hours ({_num(demand)}), got {_num(minimum)}"
            )
        request = Request(
            id=item["id"],
            country=country,
            sector=rd.string(item, "sector", where),
            h100e_hours=demand,
            min_h100e_hours=minimum,
            hardware=hardware,
            regions=rd.strings(item, "regions", where),
            score=rd.number(item, "score", where, minimum=0.0, maximum=1.0),
            local_language=rd.boolean(item, "local_language", where),
            open_weights=rd.boolean(item, "open_weights", where),
            params_billion=rd.number(item, "params_billion", where, minimum=0.0, nullable=True),
        )
        if len(rd.problems) == mark:
            out.append(request)
    return tuple(out)


def _policy(rd: _Reader, doc: Mapping[str, Any]) -> Policy:
    raw = doc.get("policy")
    if not isinstance(raw, dict):
        rd.problem("policy", "missing" if raw is None else f"must be an object, got {_kind(raw)}")
        return Policy()
    mark = len(rd.problems)
    defaults, base = Policy(), Cofinancing()
    numbers = {
        key: rd.number(raw, key, "policy", minimum=0.0, required=False, default=getattr(defaults, key))
        for key in (
            "local_language_bonus",
            "open_weights_bonus",
            "small_model_bonus",
            "small_model_max_params_billion",
        )
    }
    cof = raw.get("cofinancing", {})
    if not isinstance(cof, dict):
        rd.problem("policy.cofinancing", f"must be an object, got {_kind(cof)}")
        cof = {}
    where = "policy.cofinancing"
    cofinancing = Cofinancing(
        initial_share=rd.number(
            cof, "initial_share", where, minimum=0.0, maximum=1.0, required=False, default=base.initial_share
        ),
        preparatory_growth=rd.number(
            cof, "preparatory_growth", where, minimum=0.0, required=False, default=base.preparatory_growth
        ),
        preparatory_cap=rd.number(
            cof,
            "preparatory_cap",
            where,
            minimum=0.0,
            maximum=1.0,
            required=False,
            default=base.preparatory_cap,
        ),
        accelerated_start_share=rd.number(
            cof,
            "accelerated_start_share",
            where,
            minimum=0.0,
            maximum=1.0,
            required=False,
            default=base.accelerated_start_share,
        ),
        accelerated_years=rd.number(
            cof,
            "accelerated_years",
            where,
            minimum=0.0,
            strict=True,
            required=False,
            default=base.accelerated_years,
        ),
    )
    policy = Policy(
        income_weights=MappingProxyType(_weights(rd, raw, "income_weights", INCOME_GROUPS)),
        sector_weights=MappingProxyType(_weights(rd, raw, "sector_weights", None)),
        cofinancing=cofinancing,
        **numbers,
    )
    return policy if len(rd.problems) == mark else defaults


def _weights(
    rd: _Reader, raw: Mapping[str, Any], key: str, allowed: tuple[str, ...] | None
) -> dict[str, float]:
    value = raw.get(key, {})
    field = f"policy.{key}"
    if not isinstance(value, dict):
        rd.problem(field, f"must be an object, got {_kind(value)}")
        return {}
    out = {}
    for name in value:
        if allowed is not None and name not in allowed:
            rd.problem(f"{field}.{name}", f"unknown key, must be one of {', '.join(allowed)}")
            continue
        number = rd.number(value, name, field, minimum=0.0)
        if number is not None:
            out[name] = number
    return out
