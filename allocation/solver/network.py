"""The round as an aggregated flow network: an exact, smaller reformulation of the pairs x[r, l].

Lot classes. Lots with the same (hardware, region, earmark, price, value) are interchangeable for every
request: same compatibility, same h100e per GPU-hour, same cash and same co-financing per GPU-hour. They
are merged into one class whose capacity is their sum; any split of a class's flow over its lots is
feasible (`decompose` fills them in id order).

Middle nodes. Every compatible pair (r, l) goes through a bucket (hardware, region) that both share.
Within a bucket, the classes a request may use depend only on its country and sector (earmarks), so the
requests of one country that are admitted to the same set S of classes of the bucket are joined to a
middle node m = (country, S) by one arc each, and m to each class of S by one arc. Every path r -> m -> c
is a compatible pair, every compatible pair has such a path, and the co-financing of a path depends only on
(country, class), which m fixes: so the network carries exactly the allocations x[r, l]. It has
|R_m| + |S| arcs instead of |R_m| * |S| per node; a node is only made when that is smaller, otherwise the
requests get direct arcs to the classes.

Exclusions known before any LP: a class with no capacity, a priced class when the pool holds no cash, and
for a country whose co-financing budget is 0 every class it would owe something on, can carry nothing; such
arcs are left out, and requests left without any arc are frozen at 0 with that cause.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from . import rules
from .model import Lot, Scenario

ACTIVE = "active"
NOT_ELIGIBLE = "not_eligible"
NO_COMPATIBLE_LOT = "no_compatible_lot"
EXCLUDED = "excluded"

LOT_FULL = "lot_full"
CASH_POOL = "cash_pool"
COUNTRY_BUDGET = "country_budget"


@dataclass(frozen=True)
class Network:
    """Requests, lots and countries in id order, the lot classes, and the arcs of the flow network.

    Request arcs ra_* go from request ra_req to a middle node ra_mid (ra_cls = -1) or straight to a class
    ra_cls (ra_mid = -1); ra_h is the h100e per GPU-hour of the hardware they carry. Middle arcs ma_* go
    from middle node ma_mid to class ma_cls. Flows are in GPU-hours."""

    scenario: Scenario
    weight: np.ndarray
    demand: np.ndarray
    minimum: np.ndarray
    req_country: np.ndarray
    share: np.ndarray
    budget: np.ndarray
    status: tuple[str, ...]
    excluded_causes: dict[int, tuple[str, ...]]
    class_lots: tuple[tuple[int, ...], ...]
    cls_cap: np.ndarray
    cls_h: np.ndarray
    cls_price: np.ndarray
    cls_value: np.ndarray
    mid_country: np.ndarray
    ra_req: np.ndarray
    ra_mid: np.ndarray
    ra_cls: np.ndarray
    ra_h: np.ndarray
    ma_mid: np.ndarray
    ma_cls: np.ndarray
    lot_class: np.ndarray = field(repr=False)

    @property
    def n_requests(self) -> int:
        return len(self.demand)

    @property
    def n_classes(self) -> int:
        return len(self.cls_cap)

    @property
    def n_middle(self) -> int:
        return len(self.mid_country)


def canonical(scenario: Scenario) -> Scenario:
    """The scenario with hardware, lots, countries and requests in id order, so that the order of the input
    lists cannot change the decision."""
    return Scenario(
        name=scenario.name,
        cash_usd=scenario.cash_usd,
        policy=scenario.policy,
        hardware=tuple(sorted(scenario.hardware, key=lambda h: h.id)),
        lots=tuple(sorted(scenario.lots, key=lambda lot: lot.id)),
        countries=tuple(sorted(scenario.countries, key=lambda c: c.iso3)),
        requests=tuple(sorted(scenario.requests, key=lambda r: r.id)),
    )


def _class_key(lot: Lot) -> tuple:
    em = lot.earmark
    earmark = (
        None
        if em is None
        else (tuple(sorted(em.sectors)), tuple(sorted(em.income_groups)), tuple(sorted(em.countries)))
    )
    return (lot.hardware, lot.region, earmark, rules.price(lot), rules.value(lot))


def build_network(scenario: Scenario) -> Network:
    """Aggregate a canonical scenario (see `canonical`) into lot classes, middle nodes and arcs."""
    sc = scenario
    h100e = {h.id: h.h100e for h in sc.hardware}
    countries = {c.iso3: i for i, c in enumerate(sc.countries)}
    share = np.array([rules.cofinancing_share(c, sc.policy) for c in sc.countries])
    budget = np.array([np.inf if c.budget_usd is None else c.budget_usd for c in sc.countries])

    classes: dict[tuple, list[int]] = {}
    for j, lot in enumerate(sc.lots):
        classes.setdefault(_class_key(lot), []).append(j)
    class_lots = tuple(tuple(v) for v in classes.values())
    first = [sc.lots[lots[0]] for lots in class_lots]
    cls_cap = np.array([sum(sc.lots[j].gpu_hours for j in lots) for lots in class_lots])
    cls_price = np.array([rules.price(lot) for lot in first])
    cls_value = np.array([rules.value(lot) for lot in first])
    lot_class = np.empty(len(sc.lots), dtype=np.int64)
    for c, lots in enumerate(class_lots):
        lot_class[list(lots)] = c
    buckets: dict[tuple[str, str], list[int]] = defaultdict(list)
    for c, lot in enumerate(first):
        buckets[(lot.hardware, lot.region)].append(c)
    all_regions = sorted({lot.region for lot in sc.lots})

    weight = np.array([rules.weight(r, sc.countries[countries[r.country]], sc.policy) for r in sc.requests])
    req_country = np.array([countries[r.country] for r in sc.requests], dtype=np.int64)

    def causes(c: int, k: int) -> tuple[str, ...]:
        """Why class c can carry nothing to country k (empty when it can)."""
        out = []
        if cls_cap[c] <= 0:
            out.append(LOT_FULL)
        if cls_price[c] > 0 and sc.cash_usd <= 0:
            out.append(CASH_POOL)
        if budget[k] <= 0 and share[k] * cls_value[c] > 0:
            out.append(COUNTRY_BUDGET)
        return tuple(out)

    admitted: dict[tuple, tuple[tuple[int, ...], frozenset[str], bool]] = {}

    def bucket_classes(
        sector: str, k: int, bucket: tuple[str, str]
    ) -> tuple[tuple[int, ...], frozenset[str], bool]:
        key = (sector, k, bucket)
        if key not in admitted:
            country = sc.countries[k]
            ok = [c for c in buckets.get(bucket, ()) if rules.admits(first[c], sector, country)]
            why = {c: causes(c, k) for c in ok}
            admitted[key] = (
                tuple(c for c in ok if not why[c]),
                frozenset(x for v in why.values() for x in v),
                bool(ok),
            )
        return admitted[key]

    groups: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
    status, excluded = [], {}
    for i, r in enumerate(sc.requests):
        if weight[i] <= 0:
            status.append(NOT_ELIGIBLE)
            continue
        k = req_country[i]
        any_compatible, why = False, set()
        reachable = []
        for hw in dict.fromkeys(r.hardware):
            for region in dict.fromkeys(r.regions or all_regions):
                usable, cause, compatible = bucket_classes(r.sector, k, (hw, region))
                any_compatible |= compatible
                why |= cause
                if usable:
                    reachable.append(usable)
        if reachable:
            status.append(ACTIVE)
            for usable in reachable:
                groups[(k, usable)].append(i)
        elif any_compatible:
            status.append(EXCLUDED)
            excluded[i] = tuple(c for c in (COUNTRY_BUDGET, CASH_POOL, LOT_FULL) if c in why)
        else:
            status.append(NO_COMPATIBLE_LOT)

    ra, ma, mid_country = [], [], []
    for (k, usable), members in groups.items():
        h = h100e[first[usable[0]].hardware]
        n_r, n_c = len(members), len(usable)
        if n_r * n_c > n_r + n_c + 1:
            m = len(mid_country)
            mid_country.append(k)
            ra.extend((i, m, -1, h) for i in members)
            ma.extend((m, c) for c in usable)
        else:
            ra.extend((i, -1, c, h) for i in members for c in usable)
    ra_arr = np.array(ra, dtype=float).reshape(-1, 4)
    ma_arr = np.array(ma, dtype=np.int64).reshape(-1, 2)
    return Network(
        scenario=sc,
        weight=weight,
        demand=np.array([r.h100e_hours for r in sc.requests]),
        minimum=np.array([r.min_h100e_hours for r in sc.requests]),
        req_country=req_country,
        share=share,
        budget=budget,
        status=tuple(status),
        excluded_causes=excluded,
        class_lots=class_lots,
        cls_cap=cls_cap,
        cls_h=np.array([h100e[lot.hardware] for lot in first]),
        cls_price=cls_price,
        cls_value=cls_value,
        mid_country=np.array(mid_country, dtype=np.int64),
        ra_req=ra_arr[:, 0].astype(np.int64),
        ra_mid=ra_arr[:, 1].astype(np.int64),
        ra_cls=ra_arr[:, 2].astype(np.int64),
        ra_h=ra_arr[:, 3],
        ma_mid=ma_arr[:, 0],
        ma_cls=ma_arr[:, 1],
        lot_class=lot_class,
    )
