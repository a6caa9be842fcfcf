"""The alliance's allocation engine: gacp.scenario/1 in, gacp.allocation/1 out (allocation-v1 contract).

Pure Python over frozen dataclasses; no Django, no I/O. Deterministic: the same scenario gives the same
decision, whatever the order of its lists, apart from stats.solve_seconds (and the status, when a time limit
stops the computation).

    from allocation.solver import solve, canonical_json
    decision = solve(scenario_dict, time_limit=60, progress=print)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from . import decompose, output
from .engine import Clock, Engine
from .model import Scenario, ScenarioError, parse_scenario
from .network import build_network, canonical
from .output import canonical_json

__all__ = ["ScenarioError", "Scenario", "canonical_json", "parse_scenario", "solve"]


def solve(
    doc_or_scenario: dict[str, Any] | Scenario,
    *,
    time_limit: float | None = None,
    progress: Callable[[dict], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """Solve one round and return its gacp.allocation/1 document.

    time_limit: seconds; when exceeded the engine stops raising levels and returns the allocation reached
    so far, with status "feasible" (every constraint still holds; the least-cash and least-co-financing
    tie-breaks are skipped). The same happens, with the reason
    "solver_stopped" in the explanations, if GLOP fails on a level LP after every retry.
    progress: called after each level with {"levels", "frozen", "active", "t"}.
    Raises ScenarioError for an invalid document."""
    started = clock()
    scenario = doc_or_scenario if isinstance(doc_or_scenario, Scenario) else parse_scenario(doc_or_scenario)
    net = build_network(canonical(scenario))
    deadline = started + time_limit if time_limit is not None else float("inf")
    result = Engine(net, Clock(now=clock, deadline=deadline), progress).run()
    lines = decompose.lines(net, result.ra_flow, result.ma_flow)
    return output.build(net, result, lines, solve_seconds=clock() - started)
