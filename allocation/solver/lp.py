"""A thin incremental wrapper around GLOP (OR-Tools' simplex) through MathOpt's proto interface.

The model is handed over once as a ModelProto built from numpy arrays; afterwards bounds, objective
coefficients and single matrix coefficients change, sent as ModelUpdateProto diffs, so that GLOP keeps its
basis and re-solves from it (warm start). GLOP's presolve is switched off because a presolved problem cannot
be warm-started: measured on a 1,000-request round, 579 successive level solves took 6 s without presolve
and 110 s with it. Pricing is Devex by default: steepest-edge norms are recomputed from scratch after every
update, which at 10,000 requests made warm re-solves 2 to 5 times slower. A solve GLOP aborts (ABNORMAL,
or IMPRECISE) reports "failed"; after an abort MathOpt refuses the instance, so the next solve starts
on a fresh one (from scratch). The caller decides how to retry.

GLOP's IMPRECISE verdict (an optimal basis whose final check missed the 1e-6 solution tolerance) is
taken as optimal: its solution still satisfies the constraints to about that tolerance, which the floors'
slack (1e-7 relative, engine.py) and the final trim (decompose.py) absorb.

Sign convention: MathOpt reports, for a maximisation, duals <= 0 on binding `>=` rows and >= 0 on binding
`<=` rows (the change of the objective per unit increase of the row's bound). Callers read them as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.glop import parameters_pb2 as glop_parameters_pb2
from ortools.math_opt import (
    callback_pb2,
    model_parameters_pb2,
    model_pb2,
    model_update_pb2,
    parameters_pb2,
    result_pb2,
    solution_pb2,
)
from ortools.math_opt.core.python import solver as core
from pybind11_abseil.status import StatusNotOk

OPTIMAL = "optimal"
INFEASIBLE = "infeasible"
FAILED = "failed"
TIME_LIMIT = "time_limit"
# GLOP's default (1e-8) is above the 1e-9 slack of the engine's floors: a level LP could overdraw a budget
# row by 5e-9, floors copied from it then made the next LP infeasible (seen on a 200-request round).
PRIMAL_TOLERANCE = 1e-10

_REASONS = {
    result_pb2.TERMINATION_REASON_OPTIMAL: OPTIMAL,
    result_pb2.TERMINATION_REASON_IMPRECISE: OPTIMAL,
    result_pb2.TERMINATION_REASON_INFEASIBLE: INFEASIBLE,
    result_pb2.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED: INFEASIBLE,
}


@dataclass(frozen=True)
class Matrix:
    """A sparse constraint matrix in coordinate form (any order; duplicates are not allowed)."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray


@dataclass
class LpResult:
    status: str
    objective: float
    primal: np.ndarray | None
    duals: np.ndarray | None
    reduced_costs: np.ndarray | None = None
    iterations: int = 0


class GlopModel:
    """An LP `opt c.x s.t. row_lb <= A x <= row_ub, col_lb <= x <= col_ub` kept alive between solves.

    Bounds live in the numpy arrays `col_lb, col_ub, row_lb, row_ub`: change them in place, then call
    `solve`, which sends GLOP only the entries that differ from what it last saw.

    Columns proved irrelevant can be retired (`retire`: fixed at 0 at once) and then dropped by `compact`,
    which starts a smaller instance. (Deleting them from a live instance through MathOpt's update makes
    GLOP re-solve from scratch at every later solve: measured 10 to 20 times slower than keeping them
    fixed.) Indices stay those of the full model: a dropped column reads 0 in primal solutions. `revive`
    brings every column back."""

    def __init__(
        self,
        matrix: Matrix,
        col_lb: np.ndarray,
        col_ub: np.ndarray,
        row_lb: np.ndarray,
        row_ub: np.ndarray,
        objective: np.ndarray,
        maximize: bool,
        primal_tolerance: float = PRIMAL_TOLERANCE,
    ) -> None:
        self.n_cols, self.n_rows = len(col_lb), len(row_lb)
        self.col_lb, self.col_ub = col_lb.astype(float), col_ub.astype(float)
        self.row_lb, self.row_ub = row_lb.astype(float), row_ub.astype(float)
        self.objective = objective.astype(float)
        self.maximize = maximize
        self.primal_tolerance = primal_tolerance
        self.solves = 0
        self.iterations = 0
        self.nonzeros = len(matrix.values)
        self._matrix = matrix
        self.alive_cols = np.ones(self.n_cols, dtype=bool)
        self.retired_cols = np.zeros(self.n_cols, dtype=bool)
        self._first_lb, self._first_ub = self.col_lb.copy(), self.col_ub.copy()
        self._synced = self._snapshot()
        self._solver = self._new_solver()
        self._broken = False
        self._basis: solution_pb2.BasisProto | None = None
        self._start_basis: solution_pb2.BasisProto | None = None
        self._pending: dict[int, float] = {}

    @property
    def matrix(self) -> Matrix:
        """The constraint matrix as it stands (with every coefficient change)."""
        return self._matrix

    @property
    def fresh(self) -> bool:
        """Whether the next solve starts from scratch (no basis from a previous solve)."""
        return self._fresh

    def retire(self, cols: np.ndarray) -> None:
        """Columns fixed at 0 from now on: at once (a bound change: GLOP keeps its basis), and out of the
        instance at the next `compact`."""
        self.col_lb[cols] = self.col_ub[cols] = 0.0
        self.objective[cols] = 0.0
        self.retired_cols[cols] = True

    def compact(self) -> None:
        """A fresh instance without the retired columns. Its first solve starts from the last optimal basis
        less what was dropped: retired columns are nonbasic at their fixed value 0, so the basis stays one
        (3.6 s of a cold solve saved at 10,000 requests); GLOP repairs it if not."""
        basis = self._basis
        self.alive_cols = ~self.retired_cols
        self.restart()
        if basis is not None:
            self._start_basis = solution_pb2.BasisProto(
                variable_status=_restrict(basis.variable_status, self.alive_cols),
                constraint_status=basis.constraint_status,
            )
            self._fresh = False

    def revive(self) -> None:
        """Every column back in the model with its first bounds; a fresh instance if any was gone."""
        cols = np.flatnonzero(self.retired_cols)
        self.col_lb[cols], self.col_ub[cols] = self._first_lb[cols], self._first_ub[cols]
        self.retired_cols[:] = False
        if not self.alive_cols.all():
            self.alive_cols[:] = True
            self.restart()

    def set_coefficients(self, entries: np.ndarray, values: np.ndarray) -> None:
        """Change matrix coefficients (by their index in the Matrix given at construction; 0 removes one).
        GLOP takes the change as an update and keeps its basis."""
        old = self._matrix.values[entries]
        changed = old != values
        for entry, value in zip(entries[changed].tolist(), np.asarray(values)[changed].tolist(), strict=True):
            self._pending[entry] = value
        self._matrix.values[entries] = values

    @property
    def live_cols(self) -> int:
        """Columns not retired."""
        return int((~self.retired_cols).sum())

    @property
    def instance_cols(self) -> int:
        """Columns of the instance GLOP holds."""
        return int(self.alive_cols.sum())

    def _new_solver(self) -> core.Solver:
        """A fresh GLOP instance on the current model (no basis to start from)."""
        self._synced = self._snapshot()
        self._pending = {}
        self._fresh = True
        return core.new(
            parameters_pb2.SOLVER_TYPE_GLOP,
            self._model_proto(self._matrix),
            parameters_pb2.SolverInitializerProto(),
        )

    def _snapshot(self) -> tuple[np.ndarray, ...]:
        return (
            self.col_lb.copy(),
            self.col_ub.copy(),
            self.row_lb.copy(),
            self.row_ub.copy(),
            self.objective.copy(),
            np.array([self.maximize]),
        )

    def _model_proto(self, matrix: Matrix) -> model_pb2.ModelProto:
        cols, rows = np.flatnonzero(self.alive_cols), np.arange(self.n_rows)
        proto = model_pb2.ModelProto()
        proto.variables.ids.extend(cols.tolist())
        proto.variables.lower_bounds.extend(self.col_lb[cols].tolist())
        proto.variables.upper_bounds.extend(self.col_ub[cols].tolist())
        proto.variables.integers.extend([False] * len(cols))
        proto.linear_constraints.ids.extend(rows.tolist())
        proto.linear_constraints.lower_bounds.extend(self.row_lb[rows].tolist())
        proto.linear_constraints.upper_bounds.extend(self.row_ub[rows].tolist())
        keep = self.alive_cols[matrix.cols] & (matrix.values != 0)
        m_rows, m_cols, m_values = matrix.rows[keep], matrix.cols[keep], matrix.values[keep]
        order = np.lexsort((m_cols, m_rows))
        proto.linear_constraint_matrix.row_ids.extend(m_rows[order].tolist())
        proto.linear_constraint_matrix.column_ids.extend(m_cols[order].tolist())
        proto.linear_constraint_matrix.coefficients.extend(m_values[order].tolist())
        proto.objective.maximize = self.maximize
        nz = np.flatnonzero((self.objective != 0) & self.alive_cols)
        proto.objective.linear_coefficients.ids.extend(nz.tolist())
        proto.objective.linear_coefficients.values.extend(self.objective[nz].tolist())
        return proto

    def _update_proto(self) -> model_update_pb2.ModelUpdateProto | None:
        old = self._synced
        update = model_update_pb2.ModelUpdateProto()
        changed = False
        targets = (
            update.variable_updates.lower_bounds,
            update.variable_updates.upper_bounds,
            update.linear_constraint_updates.lower_bounds,
            update.linear_constraint_updates.upper_bounds,
            update.objective_updates.linear_coefficients,
        )
        current = (self.col_lb, self.col_ub, self.row_lb, self.row_ub, self.objective)
        every_row = np.ones(self.n_rows, dtype=bool)
        alive = (self.alive_cols, self.alive_cols, every_row, every_row, self.alive_cols)
        for target, now, before, live in zip(targets, current, old, alive, strict=False):
            idx = np.flatnonzero((now != before) & live)
            if len(idx):
                target.ids.extend(idx.tolist())
                target.values.extend(now[idx].tolist())
                changed = True
        if self._pending:
            entries = np.fromiter(self._pending, dtype=np.int64, count=len(self._pending))
            values = np.fromiter(self._pending.values(), dtype=float, count=len(self._pending))
            rows, cols = self._matrix.rows[entries], self._matrix.cols[entries]
            live = self.alive_cols[cols]
            order = np.lexsort((cols[live], rows[live]))
            target = update.linear_constraint_matrix_updates
            target.row_ids.extend(rows[live][order].tolist())
            target.column_ids.extend(cols[live][order].tolist())
            target.coefficients.extend(values[live][order].tolist())
            self._pending = {}
            changed = changed or bool(live.any())
        if self.maximize != bool(old[5][0]):
            update.objective_updates.direction_update = self.maximize
            changed = True
        return update if changed else None

    def restart(self) -> None:
        """Drop GLOP's state (basis, factorisation) and start again from the current model."""
        self._solver = self._new_solver()
        self._broken = False
        self._basis = self._start_basis = None

    def solve(
        self,
        *,
        primal: bool = False,
        duals: bool = False,
        time_limit: float | None = None,
        dual_simplex: bool = False,
        devex: bool = True,
        presolve: bool = False,
        reduced_costs: bool = False,
    ) -> LpResult:
        """Re-solve from the current basis. Returns the nonzero primal values and/or row duals on request
        (dense arrays), the objective and a status among optimal, infeasible, time_limit, failed.

        devex: Devex pricing (fast warm re-solves) rather than steepest edge (GLOP's default, sturdier:
        it solved a 10,000-request level LP on which Devex aborted). dual_simplex: GLOP's primal simplex has
        been seen to report a feasible LP infeasible (HiGHS found it feasible); callers confirm such a verdict
        with the dual simplex. presolve: GLOP's presolve, a last resort (it solved LPs that failed
        without it, but the next solve then starts from scratch). reduced_costs: also return the columns'
        reduced costs (for a maximisation, <= 0 at a lower bound)."""
        if self._broken:
            self.restart()
        update = self._update_proto()
        if update is not None:
            try:
                if not self._solver.update(update):
                    self.restart()
            except StatusNotOk:
                self.restart()
            self._synced = self._snapshot()
        params = parameters_pb2.SolveParametersProto()
        params.glop.use_preprocessing = presolve
        if devex:
            params.glop.optimization_rule = glop_parameters_pb2.GlopParameters.DEVEX
            params.glop.feasibility_rule = glop_parameters_pb2.GlopParameters.DEVEX
        params.glop.use_dual_simplex = dual_simplex
        params.threads = 1
        params.random_seed = 1
        params.glop.primal_feasibility_tolerance = self.primal_tolerance
        if time_limit is not None and math.isfinite(time_limit):
            params.time_limit.FromNanoseconds(int(max(time_limit, 1e-3) * 1e9))
        model_params = model_parameters_pb2.ModelSolveParametersProto()
        model_params.variable_values_filter.skip_zero_values = True
        model_params.variable_values_filter.filter_by_ids = not primal
        model_params.dual_values_filter.skip_zero_values = True
        model_params.dual_values_filter.filter_by_ids = not duals
        model_params.reduced_costs_filter.skip_zero_values = True
        model_params.reduced_costs_filter.filter_by_ids = not reduced_costs
        if self._start_basis is not None:
            model_params.initial_basis.CopyFrom(self._start_basis)
            self._start_basis = None
        self.solves += 1
        self._fresh = False
        try:
            result = self._solver.solve(
                params, model_params, None, callback_pb2.CallbackRegistrationProto(), None, None
            )
        except StatusNotOk:
            self._broken = True
            return LpResult(status=FAILED, objective=float("nan"), primal=None, duals=None)
        self.iterations += result.solve_stats.simplex_iterations
        status = _REASONS.get(result.termination.reason, FAILED)
        if result.termination.limit == result_pb2.LIMIT_TIME and status != OPTIMAL:
            status = TIME_LIMIT
        if status != OPTIMAL or not result.solutions:
            return LpResult(
                status=status if status != OPTIMAL else FAILED,
                objective=float("nan"),
                primal=None,
                duals=None,
            )
        solution = result.solutions[0]
        self._basis = solution.basis if solution.HasField("basis") else None
        return LpResult(
            status=OPTIMAL,
            objective=solution.primal_solution.objective_value,
            primal=_dense(solution.primal_solution.variable_values, self.n_cols) if primal else None,
            duals=_dense(solution.dual_solution.dual_values, self.n_rows) if duals else None,
            reduced_costs=_dense(solution.dual_solution.reduced_costs, self.n_cols) if reduced_costs else None,
        )


def _restrict(statuses: solution_pb2.SparseBasisStatusVector, keep: np.ndarray) -> solution_pb2.SparseBasisStatusVector:
    """The entries of a basis status vector whose ids are kept."""
    ids = np.asarray(statuses.ids, dtype=np.int64)
    values = np.asarray(statuses.values, dtype=np.int64)
    mask = keep[ids] if len(ids) else np.zeros(0, dtype=bool)
    return solution_pb2.SparseBasisStatusVector(ids=ids[mask].tolist(), values=values[mask].tolist())


def _dense(vector, size: int) -> np.ndarray:
    out = np.zeros(size)
    ids = np.asarray(vector.ids, dtype=np.int64)
    if len(ids):
        out[ids] = np.asarray(vector.values, dtype=float)
    return out
