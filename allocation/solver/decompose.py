"""From network flows back to allocation lines x[r, l], then a final trim that makes every constraint hold
in the emitted floating-point numbers.

Any split is valid: every request entering a middle node may use every class leaving it, and shares its
country (so co-financing is unchanged); every lot of a class is interchangeable. Splits are made by the
"north-west corner" rule (pour in id order), which is deterministic and gives at most
|in| + |out| - 1 lines per node.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .network import Network

DROP = 1e-9


def pour(inflow: np.ndarray, outflow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """North-west corner split of min(sum in, sum out): pairs (i, j, amount) with sum_j = inflow_i and
    sum_i = outflow_j (up to the smaller total), filled in index order."""
    ca, cb = np.cumsum(inflow), np.cumsum(outflow)
    if not len(ca) or not len(cb):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    total = min(ca[-1], cb[-1])
    cuts = np.unique(np.minimum(np.concatenate([ca, cb]), total))
    cuts = cuts[cuts > 0]
    prev = np.concatenate([[0.0], cuts[:-1]])
    mid = (prev + cuts) / 2
    i = np.minimum(np.searchsorted(ca, mid, side="right"), len(ca) - 1)
    j = np.minimum(np.searchsorted(cb, mid, side="right"), len(cb) - 1)
    return i, j, cuts - prev


def class_flows(net: Network, ra_flow: np.ndarray, ma_flow: np.ndarray) -> dict[int, dict[int, float]]:
    """GPU-hours each request draws from each lot class: direct arcs plus the split of each middle node."""
    out: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    direct = (net.ra_cls >= 0) & (ra_flow > 0)
    for r, c, x in zip(net.ra_req[direct], net.ra_cls[direct], ra_flow[direct], strict=True):
        out[int(c)][int(r)] += float(x)
    via = (net.ra_mid >= 0) & (ra_flow > 0)
    ins: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for r, m, y in zip(net.ra_req[via], net.ra_mid[via], ra_flow[via], strict=True):
        ins[int(m)].append((int(r), float(y)))
    outs: dict[int, list[tuple[int, float]]] = defaultdict(list)
    carry = ma_flow > 0
    for m, c, z in zip(net.ma_mid[carry], net.ma_cls[carry], ma_flow[carry], strict=True):
        outs[int(m)].append((int(c), float(z)))
    for m in sorted(ins.keys() & outs.keys()):
        reqs, amounts_in = zip(*sorted(ins[m]), strict=True)
        classes, amounts_out = zip(*sorted(outs[m]), strict=True)
        i, j, amount = pour(np.array(amounts_in), np.array(amounts_out))
        for a, b, x in zip(i, j, amount, strict=True):
            out[classes[b]][reqs[a]] += float(x)
    return out


def lines(net: Network, ra_flow: np.ndarray, ma_flow: np.ndarray) -> list[tuple[int, int, float]]:
    """Allocation lines (request, lot, GPU-hours), split over each class's lots in id order, trimmed."""
    sc = net.scenario
    result = []
    for c, by_req in sorted(class_flows(net, ra_flow, ma_flow).items()):
        reqs = sorted(by_req)
        lots = net.class_lots[c]
        i, j, amount = pour(
            np.array([by_req[r] for r in reqs]), np.array([sc.lots[k].gpu_hours for k in lots])
        )
        result.extend((reqs[a], lots[b], float(x)) for a, b, x in zip(i, j, amount, strict=True))
    return trim(net, result)


def trim(net: Network, raw: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Scale lines down, never up, until lot capacity, demand, cash and every budget hold exactly as the
    emitted numbers add up (LP solutions satisfy them only to the solver's tolerance); merge duplicates and
    drop lines below 1e-9 of their lot's capacity."""
    sc = net.scenario
    merged: dict[tuple[int, int], float] = defaultdict(float)
    for r, lot, x in raw:
        merged[(r, lot)] += x
    keys = sorted(merged)
    if not keys:
        return []
    req = np.array([k[0] for k in keys])
    lot = np.array([k[1] for k in keys])
    x = np.array([merged[k] for k in keys])
    cap = np.array([sc.lots[j].gpu_hours for j in lot])
    h = net.cls_h[net.lot_class[lot]]
    price = net.cls_price[net.lot_class[lot]]
    owed = net.share[net.req_country[req]] * net.cls_value[net.lot_class[lot]]
    x = _fit(x, lot, x, np.array([lt.gpu_hours for lt in sc.lots]))
    x = _fit(x, req, x * h, net.demand)
    x = _fit(x, (price <= 0).astype(np.int64), x * price, np.array([sc.cash_usd, np.inf]))
    x = _fit(x, net.req_country[req], x * owed, net.budget)
    keep = x > DROP * np.maximum(cap, 1.0)
    return [(int(r), int(j), float(v)) for r, j, v in zip(req[keep], lot[keep], x[keep], strict=True)]


def _fit(x: np.ndarray, group: np.ndarray, use: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Scale each group's lines so that the sum of `use` over the group stays within its limit, with a
    margin of 1e-12 against rounding in the sums a reader will compute."""
    total = np.bincount(group, weights=use, minlength=len(limit))
    over = total > limit
    factor = np.ones(len(limit))
    factor[over] = limit[over] / total[over] * (1 - 1e-12)
    return x * factor[group]
