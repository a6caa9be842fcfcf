"""The contract's rules (allocation-v1): compatibility, weight, co-financing share and lot value.

The arithmetic follows the contract's reference implementation operation by operation, so that the
weights and shares the engine reports agree with an independent checker to the last bit.
"""

from __future__ import annotations

from .model import Country, Lot, Policy, Request


def compatible(request: Request, country: Country, lot: Lot) -> bool:
    """Request r may use lot l when l's hardware is acceptable to r, l's region is one of r's regions
    (or r names none), and l's earmark admits r's sector, income group and country."""
    if lot.hardware not in request.hardware:
        return False
    if request.regions and lot.region not in request.regions:
        return False
    return admits(lot, request.sector, country)


def admits(lot: Lot, sector: str, country: Country) -> bool:
    """Whether every condition the donor placed on the lot holds for a request of this sector and country."""
    earmark = lot.earmark
    if earmark is None:
        return True
    if earmark.sectors and sector not in earmark.sectors:
        return False
    if earmark.income_groups and country.income_group not in earmark.income_groups:
        return False
    return not (earmark.countries and country.iso3 not in earmark.countries)


def weight(request: Request, country: Country, policy: Policy) -> float:
    """w_r = score * income weight * sector weight * bonuses (local language, open weights, small model)."""
    w = request.score * policy.income_weights.get(country.income_group, 1.0)
    w *= policy.sector_weights.get(request.sector, 1.0)
    if request.local_language:
        w *= policy.local_language_bonus
    if request.open_weights:
        w *= policy.open_weights_bonus
    if request.params_billion is not None and request.params_billion <= policy.small_model_max_params_billion:
        w *= policy.small_model_bonus
    return w


def cofinancing_share(country: Country, policy: Policy) -> float:
    """The share of the value received that the country co-finances, by its phase (Gavi's four phases)."""
    cf = policy.cofinancing
    phase, years = country.cofinancing_phase, country.years_in_phase
    if phase == "initial":
        return cf.initial_share
    if phase == "preparatory":
        return min(cf.preparatory_cap, cf.initial_share * (1 + cf.preparatory_growth) ** years)
    if phase == "accelerated":
        s0, n = cf.accelerated_start_share, cf.accelerated_years
        return min(1.0, s0 + (1 - s0) * years / n)
    return 1.0


def is_priced(lot: Lot) -> bool:
    """A lot bought with pooled cash. A price of 0 counts as no price: nothing is paid from the pool, and,
    as in the reference, co-financing is then charged on the market value."""
    return bool(lot.price_usd_per_gpu_hour)


def price(lot: Lot) -> float:
    """Pooled cash paid per GPU-hour (0 for in-kind donations)."""
    return lot.price_usd_per_gpu_hour if is_priced(lot) else 0.0


def value(lot: Lot) -> float:
    """The value per GPU-hour on which co-financing is charged: the price when bought, else market value."""
    return lot.price_usd_per_gpu_hour if is_priced(lot) else lot.value_usd_per_gpu_hour
