"""Weighted lexicographic max-min fulfilment (progressive filling) on the aggregated network, with GLOP.

Notation: requests r with demand D_r (h100e-hours) and weight w_r; fulfilment f_r = a_r / D_r where a_r is
the h100e-hours r receives. Progressive filling raises a level t; every active request needs
f_r >= min(1, w_r t); a request stops (freezes) when a constraint prevents it from rising further without
lowering a request whose level is equal or lower. The engine's level LP, over the network of `network.py`:

    max t  s.t.  capacity (sum of arcs into class c <= cap_c), conservation at middle nodes,
                 f_r = sum_arcs h x / D_r,  f_r - w_r t >= 0 (level row, active r),  f_r in [lo_r, 1],
                 cash (sum price x <= cash), co-financing (share_k sum value x <= budget_k).

Shortcuts, each exact:
1. Bulk freezing by duals. If the level row of an active request has a strictly positive dual at the
   optimum t*, complementary slackness makes the row tight in every optimal solution: the request cannot
   exceed w_r t* while the others hold theirs, so it is frozen at w_r t*. All such rows are frozen at once;
   re-solving then either raises t or exposes further positive duals (the duals of the active rows sum,
   weighted by w_r, to 1 while t is not at a bound). Only if none is positive does a per-request test LP
   decide (`_test_blocked`).
2. Demand saturation without one LP per breakpoint. f_r = min(1, w_r t) bends at t = 1/w_r. With the
   breakpoints g_1 < g_2 < ... of the active requests, P(k) = "every active request can have
   f_r >= min(1, w_r g_k)" is monotone in k; one LP, max t with groups <= k fixed at 1 and the other active
   requests free to exceed their demand, tests P(k) (t* >= g_k), proves P for every breakpoint up to t*,
   and, when t* < g_{k+1}, is the level LP itself. The search jumps from one such t* to the next, with
   warm-started LPs that change bounds only (`_search`): 92 LPs for a 10,000-request round, where
   galloping then bisection over k took 254.
3. Floors are frozen with a slack (f_r >= f*_r (1 - 1e-9) - 1e-11), so that floors copied from one solution
   stay feasible in every later re-solve. The slack is kept that small on purpose: every later level LP
   may use what the slack frees, and rounds with strong leverage (hardware factors 0.126 to 2.274, prices,
   budgets) turn a slack of 1e-7 into gaps of 1e-5 in the fulfilment of requests frozen later (measured
   against an exact LP certificate); at 1e-9 the gaps stay below 1e-6.
4. Tie-breaks on the vector f*: minimise pooled cash with every f_r at its floor or above, then minimise
   co-financing owed with cash <= min_cash (1 + 1e-6) + 1e-12 of the pool, never above the pool (the
   contract allows 0.1 %; a bound of 1e-9 made GLOP fail the second LP of large rounds and retry).
5. Minimum useful sizes: solve the continuous leximin, defer the lowest-weight requests with
   0 < a_r < min_r (the lowest eighth of them, at least one), fix them at 0 and solve again, until none
   is left; the kept ones are held at or above their minimum in the tie-break LPs.
6. Reduced-cost fixing (`_prune`): after each level, arcs with a strictly negative reduced cost at the
   level's optimum are fixed at 0 for the rest of the run (complementary slackness: every allocation that
   reaches the leximin vector is optimal in that level LP); when the arcs left are fewer than COMPACT of
   those GLOP holds, it starts a smaller instance from the last basis (lp.GlopModel.compact).
7. Cold solves (the first LP, and any after a failure) use the dual simplex: 3.7 s instead of 14 s
   for the first level LP of a 10,000-request round. Warm re-solves stay with the primal simplex (Devex),
   whose basis stays feasible when levels freeze; the dual simplex was 15 times slower there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import lp as lpmod
from .network import ACTIVE, CASH_POOL, COUNTRY_BUDGET, LOT_FULL, Network

SLACK = 1e-9
FLOOR_ABS = 1e-11
TIE_SLACK = 1e-7
CASH_TIE = 1e-6
DUAL_EPS = 1e-9
RC_EPS = 1e-7
COMPACT = 0.6
MIN_REL_TOL = 1e-7
REACH_TOL = 1e-9
REACH_REL = 1e-7

DEMAND_MET = "demand_met"
NO_HEADROOM = "no_headroom"
TIME_LIMIT = "time_limit"
SOLVER_STOPPED = "solver_stopped"
BELOW_MINIMUM = "below_minimum"

Progress = Callable[[dict], None]


@dataclass(frozen=True)
class Binding:
    """A constraint with a positive dual in the LP where a request froze. kind is "lot" (index of a lot
    class), "country_budget" (index of a country) or "cash_pool"; shadow_price is the rise of the level t per
    extra GPU-hour of the lot, or per extra US$ of budget or pooled cash."""

    kind: str
    index: int
    shadow_price: float


@dataclass
class Outcome:
    """Why a request ended where it did: its level t at freezing, the reason, the binding constraints."""

    level: float | None = None
    reason: str = ""
    binding: tuple[Binding, ...] = ()


@dataclass
class EngineResult:
    status: str
    fulfilment: np.ndarray
    ra_flow: np.ndarray
    ma_flow: np.ndarray
    outcomes: list[Outcome]
    deferred: np.ndarray
    would_have: np.ndarray
    class_shadow: np.ndarray
    class_level: np.ndarray
    country_shadow: np.ndarray
    cash_shadow: float
    levels: int = 0
    lp_solves: int = 0
    variables: int = 0
    constraints: int = 0
    deferral_rounds: int = 0
    simplex_iterations: int = 0
    retired_arcs: int = 0


def floor_of(f: np.ndarray, slack: float | None = None) -> np.ndarray:
    """The floor a frozen fulfilment keeps in later LPs: slightly below it, relatively and absolutely, since
    GLOP's tolerances are absolute in its scaled units and small fulfilments would otherwise be held above
    what the solution that set them achieved."""
    slack = SLACK if slack is None else slack
    return np.maximum(f * (1 - slack) - FLOOR_ABS * slack / SLACK, 0.0)


class StopFilling(Exception):
    """Stop raising and keep the last committed levels; `reason` is TIME_LIMIT or SOLVER_STOPPED (GLOP
    failed on every attempt, or reported the committed levels infeasible)."""

    def __init__(self, reason: str = SOLVER_STOPPED) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Clock:
    """Wall-clock budget; `now` is injected so that the algorithm itself reads no clock."""

    now: Callable[[], float]
    deadline: float = math.inf

    def remaining(self) -> float:
        left = self.deadline - self.now()
        if left <= 0:
            raise StopFilling(TIME_LIMIT)
        return left


class LevelLP:
    """The level LP of the module docstring, built once from the network and re-solved incrementally.

    Columns: request arcs, middle arcs, t. Rows: class capacities, middle conservation, one row per request
    with an arc, cash, budgets. A request's row reads f_r - c_r t, where f_r = sum_arcs h x / D_r is its
    fulfilment and c_r is w_r while it is active (the level row f_r - w_r t >= 0) and 0 once it is frozen or
    saturated (then the row bounds f_r between its floor and 1). Freezing changes c_r in place, which GLOP
    takes without losing its basis: one row and no column per request, where a fulfilment column with a
    definition row and a level row took 8,400 columns and 16,800 rows more at 10,000 requests.

    Scaling (GLOP misjudged feasibility with GPU-hour columns, whose coefficients spanned 1e-8 to 4): a
    request arc's unit is the request's demand (D_r / h GPU-hours), a middle arc's the least of the class
    capacity and the demand of the node's requests (what it can carry at most);
    capacity, cash and budget rows are divided by their right side, conservation rows by their largest
    coefficient. Costs and flows are converted back with `arc_unit`."""

    def __init__(self, net: Network) -> None:
        self.net = net
        kr, km = len(net.ra_req), len(net.ma_mid)
        self.n_arcs = kr + km
        self.req = np.flatnonzero(np.array(net.status) == ACTIVE)
        n_lp = len(self.req)
        self.slot = np.full(net.n_requests, -1, dtype=np.int64)
        self.slot[self.req] = np.arange(n_lp)
        self.tcol = self.n_arcs
        self.arc_cls = np.concatenate([net.ra_cls, net.ma_cls])
        self.arc_country = np.concatenate([net.req_country[net.ra_req], net.mid_country[net.ma_mid]])
        self._build()

    def _build(self) -> None:
        net, n_arcs = self.net, self.n_arcs
        kr = len(net.ra_req)
        n_lp = len(self.req)
        carried = self.arc_cls >= 0
        used_cls = np.unique(self.arc_cls[carried])
        self.cap_row = np.full(net.n_classes, -1, dtype=np.int64)
        self.cap_row[used_cls] = np.arange(len(used_cls))
        row = len(used_cls)
        self.mid_row = row + np.arange(net.n_middle)
        row += net.n_middle
        self.qrow = row + np.arange(n_lp)
        row += n_lp
        priced = carried & (net.cls_price[np.maximum(self.arc_cls, 0)] > 0)
        self.cash_row = row if priced.any() else -1
        row += int(priced.any())
        owed = np.where(
            carried, net.share[self.arc_country] * net.cls_value[np.maximum(self.arc_cls, 0)], 0.0
        )
        budgeted = carried & np.isfinite(net.budget[self.arc_country]) & (owed > 0)
        countries = np.unique(self.arc_country[budgeted])
        self.budget_row = np.full(len(net.budget), -1, dtype=np.int64)
        self.budget_row[countries] = row + np.arange(len(countries))
        row += len(countries)
        self.n_rows = row
        req_unit = net.demand[net.ra_req] / net.ra_h
        via = net.ra_mid >= 0
        mid_demand = np.bincount(net.ra_mid[via], weights=req_unit[via], minlength=net.n_middle)
        mid_unit = np.minimum(net.cls_cap[net.ma_cls], mid_demand[net.ma_mid])
        self.arc_unit = np.concatenate([req_unit, mid_unit])
        self.cash_cost = np.where(priced, net.cls_price[np.maximum(self.arc_cls, 0)], 0.0) * self.arc_unit
        self.owed_cost = owed * self.arc_unit

        arcs = np.arange(n_arcs)
        ra = np.arange(kr)
        via_mid = net.ra_mid >= 0
        cls = self.arc_cls[carried]
        parts = [
            (self.cap_row[cls], arcs[carried], 1.0 / net.cls_cap[cls]),
            (self.mid_row[net.ra_mid[via_mid]], ra[via_mid], np.ones(via_mid.sum())),
            (self.mid_row[net.ma_mid], kr + np.arange(len(net.ma_mid)), -np.ones(len(net.ma_mid))),
            (self.qrow[self.slot[net.ra_req]], ra, net.ra_h / net.demand[net.ra_req]),
            (self.qrow, np.full(n_lp, self.tcol), -net.weight[self.req]),
            (
                np.full(priced.sum(), self.cash_row),
                arcs[priced],
                net.cls_price[self.arc_cls[priced]] / max(net.scenario.cash_usd, 1e-300),
            ),
            (
                self.budget_row[self.arc_country[budgeted]],
                arcs[budgeted],
                owed[budgeted] / net.budget[self.arc_country[budgeted]],
            ),
        ]
        rows = np.concatenate([p[0] for p in parts]).astype(np.int64)
        cols = np.concatenate([p[1] for p in parts]).astype(np.int64)
        self.t_entry = np.flatnonzero(cols == self.tcol)  # t's coefficient in each request's row, slot order
        values = np.concatenate([np.asarray(p[2], dtype=float) for p in parts])
        is_arc = cols < n_arcs
        values[is_arc] *= self.arc_unit[cols[is_arc]]
        conservation = (
            (rows >= self.mid_row[0]) & (rows < self.mid_row[0] + net.n_middle) if net.n_middle else None
        )
        if conservation is not None:
            biggest = np.zeros(self.n_rows)
            np.maximum.at(biggest, rows[conservation], np.abs(values[conservation]))
            values[conservation] /= biggest[rows[conservation]]
        matrix = lpmod.Matrix(rows=rows, cols=cols, values=values)
        n_cols = n_arcs + 1
        row_lb = np.full(self.n_rows, -np.inf)
        row_ub = np.ones(self.n_rows)
        row_lb[self.mid_row] = row_ub[self.mid_row] = 0.0
        row_lb[self.qrow] = 0.0
        row_ub[self.qrow] = np.inf
        objective = np.zeros(n_cols)
        objective[self.tcol] = 1.0
        self.glop = lpmod.GlopModel(
            matrix, np.zeros(n_cols), np.full(n_cols, np.inf), row_lb, row_ub, objective, maximize=True
        )
        self.t_cap = float(np.max(1.0 / net.weight[self.req])) if n_lp else 0.0

    @property
    def n_cols(self) -> int:
        return self.glop.n_cols

    def reset(self, deferred: np.ndarray) -> None:
        """Every request active from f = 0, except the deferred ones, held at 0."""
        g = self.glop
        g.revive()
        keep = ~deferred[self.req]
        self.level_rows(np.arange(len(self.req)), keep)
        g.row_lb[self.qrow] = 0.0
        g.row_ub[self.qrow] = np.where(keep, np.inf, 0.0)
        g.col_lb[self.tcol], g.col_ub[self.tcol] = 0.0, self.t_cap
        if self.cash_row >= 0:
            g.row_ub[self.cash_row] = 1.0
        g.objective[:] = 0.0
        g.objective[self.tcol] = 1.0
        g.maximize = True

    def level_rows(self, slots: np.ndarray, on: np.ndarray | bool) -> None:
        """Make the rows of these requests level rows (c_r = w_r) where `on`, fulfilment rows (c_r = 0)
        elsewhere."""
        weights = self.net.weight[self.req[slots]]
        self.glop.set_coefficients(self.t_entry[slots], np.where(on, -weights, 0.0))

    def floors(self, slots: np.ndarray, values: np.ndarray) -> None:
        """Freeze: the level row becomes value (1 - SLACK) - FLOOR_ABS <= f_r <= 1."""
        self.level_rows(slots, False)
        self.glop.row_lb[self.qrow[slots]] = floor_of(values)
        self.glop.row_ub[self.qrow[slots]] = 1.0

    def fulfilment_objective(self, slot: int) -> tuple[np.ndarray, np.ndarray]:
        """The arc columns and coefficients of f_r, for the request in `slot`."""
        m = self.glop.matrix
        entries = np.flatnonzero((m.rows == self.qrow[slot]) & (m.cols < self.n_arcs))
        return m.cols[entries], m.values[entries]

    def duals(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Level-row duals (>= 0 when binding) and resource shadow prices in natural units: per GPU-hour of
        each class, per US$ of each country's budget, per US$ of pooled cash."""
        net = self.net
        level = np.maximum(-d[self.qrow], 0.0)
        cls = np.zeros(net.n_classes)
        has = self.cap_row >= 0
        cls[has] = np.where(d[self.cap_row[has]] > DUAL_EPS, d[self.cap_row[has]], 0.0) / net.cls_cap[has]
        budget = np.zeros(len(net.budget))
        hasb = self.budget_row >= 0
        db = d[self.budget_row[hasb]]
        budget[hasb] = np.where(db > DUAL_EPS, db, 0.0) / net.budget[hasb]
        cash = 0.0
        if self.cash_row >= 0 and d[self.cash_row] > DUAL_EPS:
            cash = d[self.cash_row] / net.scenario.cash_usd
        return level, cls, budget, cash


class Reach:
    """Which lot classes each request can reach, through direct arcs or its middle nodes."""

    def __init__(self, net: Network) -> None:
        self.net = net
        order = np.argsort(net.ma_mid, kind="stable")
        self.ma_cls = net.ma_cls[order]
        counts = np.bincount(net.ma_mid, minlength=net.n_middle)
        self.count = counts
        self.start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)

    def pairs(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (request, class) pairs reachable by the requests in `mask`, sorted by request then class."""
        net = self.net
        sel = mask[net.ra_req]
        direct = sel & (net.ra_cls >= 0)
        via = sel & (net.ra_mid >= 0)
        rr, mm = net.ra_req[via], net.ra_mid[via]
        counts = self.count[mm]
        total = int(counts.sum())
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        r = np.concatenate([net.ra_req[direct], np.repeat(rr, counts)])
        c = np.concatenate([net.ra_cls[direct], self.ma_cls[np.repeat(self.start[mm], counts) + offsets]])
        order = np.lexsort((c, r))
        return r[order], c[order]


@dataclass
class _State:
    """Progress of one leximin run: per request fulfilment and outcome, the committed level."""

    f: np.ndarray
    outcomes: list[Outcome]
    active: np.ndarray
    t: float = 0.0
    levels: int = 0
    class_shadow: np.ndarray = field(default_factory=lambda: np.zeros(0))
    class_level: np.ndarray = field(default_factory=lambda: np.zeros(0))
    country_shadow: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cash_shadow: float = 0.0
    stopped: str = ""


class Engine:
    """Runs the leximin, the minimum-size deferrals and the tie-breaks on one network."""

    def __init__(self, net: Network, clock: Clock, progress: Progress | None = None) -> None:
        self.net = net
        self.clock = clock
        self.progress = progress
        self.lp = LevelLP(net)
        self.reach = Reach(net)
        self.last_primal: np.ndarray | None = None

    def run(self) -> EngineResult:
        net = self.net
        n = net.n_requests
        deferred = np.zeros(n, dtype=bool)
        would_have = np.zeros(n)
        rounds = 0
        while True:
            state = self._leximin(deferred)
            got = state.f * net.demand
            short = (got > REACH_TOL * net.demand) & (got < net.minimum * (1 - MIN_REL_TOL)) & ~deferred
            if not short.any():
                break
            idx = np.flatnonzero(short)
            if not state.stopped:
                order = np.lexsort((idx, state.f[idx], net.weight[idx]))
                idx = idx[order[: max(1, math.ceil(len(idx) / 8))]]
            deferred[idx] = True
            would_have[idx] = got[idx]
            rounds += 1
            if state.stopped:
                state.f[idx] = 0.0
                break
        for i in np.flatnonzero(deferred):
            state.outcomes[i] = Outcome(level=None, reason=BELOW_MINIMUM)
            state.f[i] = 0.0
        flows = None if state.stopped == TIME_LIMIT else self._tie_breaks(state.f, deferred)
        status = "optimal" if flows is not None and not state.stopped else "feasible"
        if flows is None:
            flows = self._fallback_flows(deferred)
        ra_flow, ma_flow = flows
        return EngineResult(
            status=status,
            fulfilment=state.f,
            ra_flow=ra_flow,
            ma_flow=ma_flow,
            outcomes=state.outcomes,
            deferred=deferred,
            would_have=would_have,
            class_shadow=state.class_shadow,
            class_level=state.class_level,
            country_shadow=state.country_shadow,
            cash_shadow=state.cash_shadow,
            levels=state.levels,
            lp_solves=self.lp.glop.solves,
            variables=self.lp.n_cols,
            constraints=self.lp.n_rows,
            deferral_rounds=rounds,
            simplex_iterations=self.lp.glop.iterations,
            retired_arcs=int(self.lp.glop.retired_cols[: self.lp.n_arcs].sum()),
        )

    # -- the leximin ---------------------------------------------------------------------------------

    def _leximin(self, deferred: np.ndarray) -> _State:
        net, lp = self.net, self.lp
        lp.reset(deferred)
        n = net.n_requests
        outcomes = [Outcome() for _ in range(n)]
        for i, status in enumerate(net.status):
            if status != ACTIVE:
                outcomes[i] = Outcome(level=0.0, reason=status)
        active = np.zeros(n, dtype=bool)
        active[lp.req] = ~deferred[lp.req]
        state = _State(
            f=np.zeros(n),
            outcomes=outcomes,
            active=active,
            class_shadow=np.zeros(net.n_classes),
            class_level=np.full(net.n_classes, np.nan),
            country_shadow=np.zeros(len(net.budget)),
        )
        try:
            while state.active.any():
                self._level(state)
                self._report(state)
        except StopFilling as stop:
            self._stop(state, stop.reason)
        return state

    def _level(self, state: _State) -> None:
        """Find the next level (with the saturations it passes), then freeze the requests it blocks."""
        net, lp = self.net, self.lp
        act = np.flatnonzero(state.active)
        bp = 1.0 / net.weight[act]
        groups = np.unique(bp)
        result, k = self._search(act, bp, groups)
        t = result.objective
        self.last_primal = result.primal
        if k > 0:
            sat = act[bp <= groups[k - 1]]
            state.f[sat] = 1.0
            state.active[sat] = False
            for i in sat:
                state.outcomes[i] = Outcome(level=float(1.0 / net.weight[i]), reason=DEMAND_MET)
        rest = np.flatnonzero(state.active)
        state.t = max(state.t, t)
        if not len(rest):
            state.levels += 1
            return
        level, cls, budget, cash = lp.duals(result.duals)
        blocked = rest[level[lp.slot[rest]] > DUAL_EPS]
        if not len(blocked):
            blocked = self._test_blocked(rest, level[lp.slot[rest]], t)
        values = np.minimum(1.0, net.weight[blocked] * t)
        lp.floors(lp.slot[blocked], values)
        state.f[blocked] = values
        state.active[blocked] = False
        state.levels += 1
        self._record(state, blocked, t, cls, budget, cash)
        self._prune(result, state)

    def _prune(self, result: lpmod.LpResult, state: _State) -> None:
        """Shrink the LP after a level: an arc with a strictly negative reduced cost at the level's optimum
        carries nothing in any later LP.

        Why: every allocation that reaches the leximin vector gives every request at least what it has at
        this level (frozen requests keep their values, active ones rise), so with t = t* it is an optimal
        solution of this level LP; by complementary slackness with the level's optimal duals, it puts no
        flow on an arc whose reduced cost is nonzero. The same holds for the tie-break LPs, whose solutions
        reach the vector."""
        lp = self.lp
        g = lp.glop
        if result.reduced_costs is None or result.primal is None:
            return
        arcs = np.arange(lp.n_arcs)
        rc = result.reduced_costs[: lp.n_arcs]
        dead = ~g.retired_cols[arcs] & (rc < -RC_EPS) & (result.primal[: lp.n_arcs] <= 0.0)
        g.retire(arcs[dead])
        if g.live_cols < COMPACT * g.instance_cols:
            g.compact()

    def _search(self, act: np.ndarray, bp: np.ndarray, groups: np.ndarray) -> tuple[lpmod.LpResult, int]:
        """Largest k such that every active request reaches min(1, w_r g_k) (groups[k-1] = g_k, g_0 = 0);
        returns the level LP solved with groups <= k saturated, and k.

        Probe k solves max t with the groups <= k held at 1 and every other active request at f_r >= w_r t
        with no upper bound (`_probe`). Its optimum t_k is a lower bound on the true level: capping the
        probe's allocations at the demands gives every active request min(1, w_r t_k). So t_k >= g_{k+1}
        shows that every group with a breakpoint up to t_k saturates, and the search jumps there at once;
        t_k < g_{k+1} means that nobody is served beyond its demand, so the probe is the level LP itself,
        with optimal duals for it. t_k < g_k, or no solution (only numerically: every jump is proved),
        shows that k fails, and bisection takes over; lo is the largest k known to hold, hi the least
        known to fail. Jumps only rise, so each probe warm-starts from a nearby basis and no probe past
        the answer is wasted."""
        lo, hi = 0, len(groups) + 1
        k = 0
        while True:
            result = self._probe(act, bp, groups, k)
            reached = result.status == lpmod.OPTIMAL and (
                k == 0 or result.objective >= groups[k - 1] * (1 - REACH_REL)
            )
            if not reached:
                if k == 0:
                    raise StopFilling
                hi = k
                k = max((lo + hi) // 2, lo)
                continue
            lo = k
            if k == len(groups) or k + 1 == hi or result.objective < groups[k] * (1 - REACH_REL):
                return result, k
            passed = int(np.searchsorted(groups, result.objective / (1 - REACH_REL), side="right"))
            k = min(max(passed, k + 1), hi - 1)

    def _probe(self, act: np.ndarray, bp: np.ndarray, groups: np.ndarray, k: int) -> lpmod.LpResult:
        """The level LP with the active requests of breakpoint <= g_k held at 1 and the others free to
        exceed their demand (see `_search`)."""
        lp = self.lp
        g = lp.glop
        slots = lp.slot[act]
        sat = bp <= groups[k - 1] if k > 0 else np.zeros(len(act), dtype=bool)
        lp.level_rows(slots, ~sat)
        g.row_lb[lp.qrow[slots]] = np.where(sat, 1.0 - SLACK, 0.0)
        g.row_ub[lp.qrow[slots]] = np.where(sat, 1.0, np.inf)
        return self._solve(duals=True, primal=True, reduced_costs=True)

    # Escalation on trouble, per attempt: (Devex pricing, presolve). A failed attempt leaves GLOP's
    # instance unusable, so every retry starts from scratch on a fresh one.
    _ATTEMPTS = ((True, False), (False, False), (False, True))

    def _solve(
        self, *, duals: bool = False, primal: bool = False, limited: bool = True, reduced_costs: bool = False
    ) -> lpmod.LpResult:
        """Solve the LP as it stands: primal simplex with Devex pricing, then, if GLOP fails, steepest edge
        from scratch, then GLOP's presolve. An infeasible verdict is confirmed by the dual simplex (see
        lp.GlopModel.solve). Raises StopFilling when time is up or every attempt fails."""
        cold = self.lp.glop.fresh
        for n, (devex, presolve) in enumerate(self._ATTEMPTS):
            dual = cold and n == 0
            result = self._attempt(
                duals, primal, limited, reduced_costs, devex=devex and not dual, presolve=presolve, dual_simplex=dual
            )
            if result.status == lpmod.INFEASIBLE:
                result = self._attempt(duals, primal, limited, reduced_costs, devex=False, dual_simplex=True)
            if result.status != lpmod.FAILED:
                return result
        raise StopFilling

    def _attempt(
        self,
        duals: bool,
        primal: bool,
        limited: bool,
        reduced_costs: bool = False,
        *,
        devex: bool,
        dual_simplex: bool = False,
        presolve: bool = False,
    ) -> lpmod.LpResult:
        time_left = self.clock.remaining() if limited else None
        result = self.lp.glop.solve(
            duals=duals,
            primal=primal,
            time_limit=time_left,
            dual_simplex=dual_simplex,
            devex=devex,
            presolve=presolve,
            reduced_costs=reduced_costs,
        )
        if result.status == lpmod.TIME_LIMIT and limited:
            raise StopFilling(TIME_LIMIT)
        return result

    def _test_blocked(self, rest: np.ndarray, level_duals: np.ndarray, t: float) -> np.ndarray:
        """Degenerate case: no level row has a positive dual. Test candidates one at a time, by LP: max f_r
        with t fixed at t* and everyone else held at its level; r is blocked when it cannot exceed w_r t*.
        Returns the first blocked request found, or, when numerically every one could still rise, the one
        with the least headroom."""
        net, lp = self.net, self.lp
        g = lp.glop
        g.col_lb[lp.tcol] = g.col_ub[lp.tcol] = t
        g.objective[lp.tcol] = 0.0
        headroom = {}
        try:
            for i in rest[np.lexsort((rest, -level_duals))]:
                cols, coefs = lp.fulfilment_objective(lp.slot[i])
                g.objective[cols] = coefs
                result = self._solve()
                g.objective[cols] = 0.0
                target = min(1.0, net.weight[i] * t)
                headroom[int(i)] = result.objective - target
                if result.objective <= target * (1 + 1e-7) + 1e-9:
                    return np.array([i])
        finally:
            g.objective[lp.tcol] = 1.0
            g.col_lb[lp.tcol], g.col_ub[lp.tcol] = 0.0, lp.t_cap
        return np.array([min(headroom, key=lambda i: (headroom[i], i))])

    def _record(
        self, state: _State, blocked: np.ndarray, t: float, cls: np.ndarray, budget: np.ndarray, cash: float
    ) -> None:
        """Store the level, reason and binding constraints of the requests frozen by one LP, and the shadow
        prices of the constraints that bind here for the first time."""
        net = self.net
        first = (cls > 0) & np.isnan(state.class_level)
        state.class_shadow[first] = cls[first]
        state.class_level[first] = t
        newb = (budget > 0) & (state.country_shadow == 0)
        state.country_shadow[newb] = budget[newb]
        if cash > 0 and state.cash_shadow == 0:
            state.cash_shadow = cash
        mask = np.zeros(net.n_requests, dtype=bool)
        mask[blocked] = True
        r, c = self.reach.pairs(mask)
        k = net.req_country[r]
        terms = np.stack([cls[c], cash * net.cls_price[c], budget[k] * net.share[k] * net.cls_value[c]])
        route = terms.sum(axis=0)
        bounds = np.searchsorted(r, blocked)
        ends = np.searchsorted(r, blocked, side="right")
        for i, a, b in zip(blocked, bounds, ends, strict=True):
            state.outcomes[i] = self._outcome(int(i), t, c[a:b], terms[:, a:b], route[a:b], cls, budget, cash)

    def _outcome(
        self,
        i: int,
        t: float,
        c: np.ndarray,
        terms: np.ndarray,
        route: np.ndarray,
        cls: np.ndarray,
        budget: np.ndarray,
        cash: float,
    ) -> Outcome:
        net = self.net
        k = int(net.req_country[i])
        binding = [Binding("lot", int(j), float(cls[j])) for j in np.unique(c[cls[c] > 0])]
        if budget[k] > 0:
            binding.append(Binding(COUNTRY_BUDGET, k, float(budget[k])))
        if cash > 0 and (net.cls_price[c] > 0).any():
            binding.append(Binding(CASH_POOL, -1, float(cash)))
        reason = NO_HEADROOM
        if len(route) and route.max() > 0:
            cheapest = int(np.argmin(np.where(route > 0, route, np.inf)))
            reason = (LOT_FULL, CASH_POOL, COUNTRY_BUDGET)[int(np.argmax(terms[:, cheapest]))]
        return Outcome(level=float(t), reason=reason, binding=tuple(binding))

    def _report(self, state: _State) -> None:
        if self.progress is not None:
            n_active = int(state.active.sum())
            self.progress(
                {
                    "levels": state.levels,
                    "frozen": int(len(self.lp.req) - n_active),
                    "active": n_active,
                    "t": float(state.t),
                }
            )

    def _stop(self, state: _State, reason: str) -> None:
        """Time is up: freeze the active requests at the last committed level (a point every LP so far
        has shown feasible)."""
        net, lp = self.net, self.lp
        state.stopped = reason
        rest = np.flatnonzero(state.active)
        values = np.minimum(1.0, net.weight[rest] * state.t)
        lp.floors(lp.slot[rest], values)
        state.f[rest] = values
        state.active[rest] = False
        for i in rest:
            state.outcomes[i] = Outcome(level=state.t, reason=reason)

    # -- tie-breaks ------------------------------------------------------------------------------------

    def _fallback_flows(self, deferred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """When the time limit stopped filling (no tie-breaks then: they could overrun it) or the tie-break
        LPs failed: the flows of the last level LP (every constraint and every committed floor holds
        in it), with deferred requests' arcs emptied; none at all before the first level."""
        lp, net = self.lp, self.net
        kr = len(net.ra_req)
        if self.last_primal is None:
            return np.zeros(kr), np.zeros(len(net.ma_mid))
        x = np.maximum(self.last_primal[: lp.n_arcs], 0.0) * lp.arc_unit
        x[:kr][deferred[net.ra_req]] = 0.0
        return x[:kr], x[kr:]

    def _tie_breaks(self, f: np.ndarray, deferred: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Least pooled cash, then least co-financing owed, among allocations with every f_r at least
        f*_r (1 - SLACK) (and at or above its minimum when kept) and every request at f*_r = 0 held at 0.
        Nobody can exceed f*_r where that would need a resource: the leximin would have given it. If GLOP
        finds these floors infeasible (its tolerances, on large rounds), they are relaxed to TIE_SLACK.
        Returns the arc flows."""
        net, lp = self.net, self.lp
        g = lp.glop
        fs = f[lp.req]
        need = np.where(fs > 0, net.minimum[lp.req] / net.demand[lp.req], 0.0)
        g.row_ub[lp.qrow] = np.where(fs > 0, 1.0, 0.0)
        g.col_lb[lp.tcol] = g.col_ub[lp.tcol] = 0.0
        g.maximize = False
        for slack in (SLACK, TIE_SLACK):
            g.row_lb[lp.qrow] = np.minimum(fs, np.maximum(floor_of(fs, slack), need))
            if lp.cash_row >= 0:
                g.row_ub[lp.cash_row] = 1.0
            try:
                cash = self._minimise(lp.cash_cost)
                if cash is None:
                    continue
                if lp.cash_row >= 0:
                    g.row_ub[lp.cash_row] = min(1.0, cash * (1 + CASH_TIE) / net.scenario.cash_usd + 1e-12)
                second = self._minimise(lp.owed_cost, primal=True)
            except StopFilling:
                continue
            if second is None:
                continue
            x = np.maximum(second[: lp.n_arcs], 0.0) * lp.arc_unit
            kr = len(net.ra_req)
            return x[:kr], x[kr:]
        return None

    def _minimise(self, cost: np.ndarray, *, primal: bool = False) -> float | np.ndarray | None:
        """Minimise a cost over the arcs, normalised to a largest coefficient of 1 (GLOP reports raw costs
        of 1e5 per unit as imprecise). Returns the minimum (or the primal solution), None on failure."""
        g = self.lp.glop
        scale = float(cost.max()) if len(cost) and cost.max() > 0 else 1.0
        g.objective[:] = 0.0
        g.objective[: self.lp.n_arcs] = cost / scale
        result = self._solve(primal=primal, limited=False)
        if result.status != lpmod.OPTIMAL:
            return None
        return result.primal if primal else result.objective * scale
