"""Builders of small rounds for the solver tests, and a runner of the copied independent checker."""

import copy
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE / "data"
REFERENCE = HERE / "reference"

POLICY = {
    "income_weights": {"LIC": 2.0, "LMIC": 1.5, "UMIC": 1.2, "HIC": 1.0},
    "sector_weights": {"health": 1.25},
    "local_language_bonus": 1.2,
    "open_weights_bonus": 1.1,
    "small_model_bonus": 1.1,
    "small_model_max_params_billion": 10,
    "cofinancing": {
        "initial_share": 0.05,
        "preparatory_growth": 0.15,
        "preparatory_cap": 0.8,
        "accelerated_start_share": 0.2,
        "accelerated_years": 8,
    },
}
HARDWARE = [{"id": "H100", "h100e": 1.0}, {"id": "A100", "h100e": 0.315}, {"id": "B200", "h100e": 2.274}]


def country(iso3, income_group="HIC", phase="self", years=0, budget=None, region="SSA"):
    return {
        "iso3": iso3,
        "income_group": income_group,
        "region": region,
        "cofinancing_phase": phase,
        "years_in_phase": years,
        "budget_usd": budget,
    }


def lot(lot_id, gpu_hours, hardware="H100", region="SSA", value=2.0, price=None, earmark=None):
    out = {
        "id": lot_id,
        "provider": "p1",
        "donor": None if price else "NOR",
        "hardware": hardware,
        "region": region,
        "gpu_hours": gpu_hours,
        "value_usd_per_gpu_hour": value,
        "price_usd_per_gpu_hour": price,
    }
    if earmark is not None:
        out["earmark"] = earmark
    return out


def request(
    req_id, country_iso3, demand, hardware=("H100",), regions=(), score=1.0, minimum=0, sector="science"
):
    """A request whose weight is score * income weight of its country (no sector or bonus factor)."""
    return {
        "id": req_id,
        "country": country_iso3,
        "sector": sector,
        "h100e_hours": demand,
        "min_h100e_hours": minimum,
        "hardware": list(hardware),
        "regions": list(regions),
        "score": score,
        "local_language": False,
        "open_weights": False,
        "params_billion": 70,
    }


def round_doc(lots, countries, requests, cash=0.0, hardware=None):
    return {
        "format": "gacp.scenario/1",
        "name": "test",
        "hardware": copy.deepcopy(hardware or HARDWARE),
        "lots": lots,
        "cash_usd": cash,
        "countries": countries,
        "requests": requests,
        "policy": copy.deepcopy(POLICY),
    }


def load(name):
    return json.loads((DATA / name).read_text())


def run_checker(tmp_path, scenario, output, reference=None):
    """Run the copied independent checker; returns (exit code, last line). With `reference` (a dict of
    request id -> fulfilment) it compares against it instead of solving the reference leximin again."""
    sc, out = tmp_path / "scenario.json", tmp_path / "output.json"
    sc.write_text(json.dumps(scenario))
    out.write_text(json.dumps(output))
    cmd = [sys.executable, str(REFERENCE / "check_allocation.py"), str(sc), str(out)]
    if reference is not None:
        ref = tmp_path / "reference.json"
        ref.write_text(json.dumps({"fulfilment": reference}))
        cmd += ["--reference", str(ref)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REFERENCE)
    lines = proc.stdout.strip().splitlines()
    return proc.returncode, "\n".join(lines)


def leximin_violations(doc, fulfilment, tol=1e-5):
    """The leximin certificate, one LP per request (HiGHS through SciPy, on the copied reference's model):
    request i, at level l_i = f_i / w_i below full demand, must not rise above f_i + tol while every other
    request keeps min(f_j, w_j l_i). Were it possible, the midpoint of the two allocations would raise i and
    lower nobody to or below l_i: a better leximin vector. Unlike `certify` in the reference, the floors are
    exact (neither relaxed nor raised by a margin), so the test is tight. Returns [(id, f_i, best)]."""
    import numpy as np
    from reference_leximin import Model
    from scipy.optimize import linprog
    from scipy.sparse import vstack

    m = Model(doc)
    f = np.array([fulfilment[r["id"]] for r in m.reqs])
    has = np.zeros(len(m.reqs), dtype=bool)
    has[m.pr] = True
    bad = []
    for i in np.flatnonzero(has & (m.w > 0) & (f < 1 - 1e-9)):
        level = f[i] / m.w[i]
        keep = [j for j in range(len(m.reqs)) if j != i and f[j] > 0]
        floor = np.minimum(f[keep], m.w[keep] * level)
        res = linprog(
            -np.asarray(m.Ar[i].todense()).ravel(),
            A_ub=vstack([m.A, -m.Ar[keep]]) if keep else m.A,
            b_ub=np.concatenate([m.b, -floor]),
            bounds=[(0, None)] * len(m.pairs),
            method="highs",
            options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
        )
        if res.status == 0 and -res.fun > f[i] + tol:
            bad.append((m.reqs[i]["id"], float(f[i]), float(-res.fun)))
    return bad
