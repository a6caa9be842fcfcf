#!/usr/bin/env python3
# Copied from shared/tools: the alliance's independent checker of the allocation-v1 contract (test oracle).
"""Independent reference for gacp.scenario/1: weights, co-financing shares, compatibility, and the
weighted leximin (progressive filling) of fulfilment f_r / w_r, solved with HiGHS through SciPy.

It exists to check the project's engine from outside: `check_allocation.py` compares an engine's output with it.
It ignores min_h100e_hours (the continuous relaxation): on scenarios without minimums it is the exact
answer, elsewhere an upper bound.
"""
import json
import sys
import time

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, diags, vstack

TOL = 1e-7
DEBUG = bool(__import__("os").environ.get("REF_DEBUG"))


def cofinancing_share(country, policy):
    cf = policy.get("cofinancing", {})
    phase, years = country.get("cofinancing_phase", "self"), country.get("years_in_phase", 0)
    if phase == "initial":
        return cf.get("initial_share", 0.05)
    if phase == "preparatory":
        grown = cf.get("initial_share", 0.05) * (1 + cf.get("preparatory_growth", 0.15)) ** years
        return min(cf.get("preparatory_cap", 1.0), grown)
    if phase == "accelerated":
        s0, n = cf.get("accelerated_start_share", 0.2), cf.get("accelerated_years", 8)
        return min(1.0, s0 + (1 - s0) * years / n)
    return 1.0


def weight(req, country, policy):
    w = req["score"] * policy.get("income_weights", {}).get(country["income_group"], 1.0)
    w *= policy.get("sector_weights", {}).get(req["sector"], 1.0)
    if req.get("local_language"):
        w *= policy.get("local_language_bonus", 1.0)
    if req.get("open_weights"):
        w *= policy.get("open_weights_bonus", 1.0)
    p = req.get("params_billion")
    if p is not None and p <= policy.get("small_model_max_params_billion", 0):
        w *= policy.get("small_model_bonus", 1.0)
    return w


def compatible(req, country, lot):
    if lot["hardware"] not in req["hardware"]:
        return False
    if req.get("regions") and lot["region"] not in req["regions"]:
        return False
    em = lot.get("earmark") or {}
    if em.get("sectors") and req["sector"] not in em["sectors"]:
        return False
    if em.get("income_groups") and country["income_group"] not in em["income_groups"]:
        return False
    if em.get("countries") and req["country"] not in em["countries"]:
        return False
    return True


class Model:
    def __init__(self, sc):
        self.sc = sc
        pol = sc["policy"]
        self.h = {hw["id"]: hw["h100e"] for hw in sc["hardware"]}
        self.countries = {c["iso3"]: c for c in sc["countries"]}
        self.reqs = sc["requests"]
        self.lots = sc["lots"]
        self.share = {c: cofinancing_share(v, pol) for c, v in self.countries.items()}
        self.w = np.array([weight(r, self.countries[r["country"]], pol) for r in self.reqs])
        self.D = np.array([float(r["h100e_hours"]) for r in self.reqs])
        pairs = [(i, j) for i, r in enumerate(self.reqs) for j, l in enumerate(self.lots)
                 if compatible(r, self.countries[r["country"]], l)]
        self.pairs = pairs
        self.pr = np.array([p[0] for p in pairs], dtype=int)
        self.pl = np.array([p[1] for p in pairs], dtype=int)
        self.hk = np.array([self.h[self.lots[j]["hardware"]] for j in self.pl])
        n, m, K = len(self.reqs), len(self.lots), len(pairs)
        rows = []
        b = []
        # lot capacity
        rows.append(coo_matrix((np.ones(K), (self.pl, np.arange(K))), shape=(m, K)))
        b += [float(l["gpu_hours"]) for l in self.lots]
        # demand
        rows.append(coo_matrix((self.hk, (self.pr, np.arange(K))), shape=(n, K)))
        b += list(self.D)
        # cash
        price = np.array([self.lots[j].get("price_usd_per_gpu_hour") or 0.0 for j in self.pl])
        rows.append(coo_matrix((price, (np.zeros(K, dtype=int), np.arange(K))), shape=(1, K)))
        b.append(float(self.sc.get("cash_usd") or 0.0))
        # budgets
        value = np.array([self.lot_value(self.lots[j]) for j in self.pl])
        cidx = {c: i for i, c in enumerate(self.countries)}
        kc = np.array([cidx[self.reqs[i]["country"]] for i in self.pr], dtype=int)
        sh = np.array([self.share[self.reqs[i]["country"]] for i in self.pr])
        rows.append(coo_matrix((sh * value, (kc, np.arange(K))), shape=(len(cidx), K)))
        for c in self.countries.values():
            bud = c.get("budget_usd")
            b.append(float("inf") if bud is None else float(bud))
        A = vstack(rows).tocsr()
        b = np.array(b)
        finite = np.isfinite(b)
        A, b = A[finite], b[finite]
        # work in fulfilment units (y_k = x_k * h / D_r) with every row scaled to a right side of 1,
        # so that the LP tolerances are relative ones
        self.xscale = self.D[self.pr] / self.hk
        A = A @ diags(self.xscale)
        rs = np.where(b > 0, 1.0 / np.where(b > 0, b, 1.0), 1.0)
        self.A = (diags(rs) @ A).tocsr()
        self.b = b * rs
        self.Ar = coo_matrix((np.ones(K), (self.pr, np.arange(K))), shape=(n, K)).tocsr()  # f_r = Ar @ y
        self.D1 = np.ones(n)

    @staticmethod
    def lot_value(lot):
        return lot.get("price_usd_per_gpu_hour") or lot.get("value_usd_per_gpu_hour") or 0.0

    def leximin(self):
        n, K = len(self.reqs), len(self.pairs)
        has_pair = np.zeros(n, dtype=bool)
        has_pair[self.pr] = True
        active = {i for i in range(n) if has_pair[i] and self.w[i] > 0 and self.D[i] > 0}
        f = np.zeros(n)
        frozen = {i: 0.0 for i in range(n) if i not in active}
        levels = 0
        x = np.zeros(K)
        while active:
            levels += 1
            act = sorted(active)
            tcap = min(1.0 / self.w[i] for i in act)
            # variables: x (K), t
            A_lvl = self._level_rows(act, self.w[act])
            A_fix, b_fix = self._frozen_rows(frozen)
            A = vstack([self._pad(self.A, 1), A_lvl, A_fix]).tocsr()
            c = np.zeros(K + 1)
            c[-1] = -1
            for slack in (1e-7, 1e-6, 1e-5, 1e-4):
                bb = np.concatenate([self.b, np.zeros(len(act)), b_fix * (1 - slack)])
                res = linprog(c, A_ub=A, b_ub=bb, bounds=[(0, None)] * K + [(0, tcap)], method="highs")
                if res.status == 0:
                    break
            if res.status != 0:
                raise RuntimeError(f"level LP failed: {res.message}")
            t = res.x[-1]
            # blocked detection: one max-sum-of-slack LP marks the clearly free requests, then each
            # remaining candidate is tested alone (max a_i with every other request kept at its level)
            sat = {i for i in act if self.w[i] * t >= 1 - 1e-9}
            cand = set(act) - sat
            free = set()
            if cand:
                cl = sorted(cand)
                eps = 1e-3
                A_c = self._level_rows(cl, None, extra=len(cl), eps=eps)
                b_c = -self.w[cl] * t
                others = sorted(sat)
                A_o = self._level_rows(others, None, extra=len(cl), zero=True) if others else None
                b_o = -self.w[others] * t if others else np.zeros(0)
                A_fix, b_fix = self._frozen_rows(frozen, extra=len(cl))
                parts = [self._pad(self.A, len(cl)), A_c] + ([A_o] if others else []) + [A_fix]
                c2 = np.concatenate([np.zeros(K), -np.ones(len(cl))])
                r2 = linprog(c2, A_ub=vstack(parts).tocsr(), b_ub=np.concatenate([self.b, b_c, b_o, b_fix]),
                             bounds=[(0, None)] * K + [(0, 1)] * len(cl), method="highs")
                if r2.status == 0:
                    free = {cl[q] for q in range(len(cl)) if r2.x[K + q] > 0.5}
                headroom = {}
                for i in sorted(cand - free):
                    keep = [j for j in act if j != i]
                    A_fx, b_fx = self._frozen_rows(frozen, extra=0)
                    ci = -np.asarray(self.Ar[i].todense()).ravel()
                    for slack in (1e-7, 1e-5, 1e-4):
                        b_k = -self.w[keep] * t * (1 - slack)
                        r3 = linprog(ci, A_ub=vstack([self.A, -self.Ar[keep], A_fx]).tocsr(),
                                     b_ub=np.concatenate([self.b, b_k, b_fx * (1 - slack)]),
                                     bounds=[(0, None)] * K, method="highs")
                        if r3.status == 0:
                            break
                    if r3.status != 0:
                        print(f"reference: test LP failed for {self.reqs[i]['id']}: {r3.message}", file=sys.stderr)
                        headroom[i] = 0.0
                        continue
                    headroom[i] = -r3.fun - self.w[i] * t
                    if headroom[i] > max(1e-5, 1e-4 * self.w[i] * t):
                        free.add(i)
                if DEBUG:
                    print(f"t={t:.5f} act={len(act)} sat={len(sat)} cand={len(cand)} free={len(free)} "
                          f"blocked={[(self.reqs[i]['id'], round(headroom.get(i, -1), 6)) for i in sorted(cand - free)]} sat={[self.reqs[i]['id'] for i in sat]}", file=sys.stderr)
                if not sat and free >= cand:
                    # numerically every request could still rise: freeze the one with least headroom
                    low = min(headroom, key=headroom.get) if headroom else min(cand, key=lambda i: self.w[i])
                    free.discard(low)
            for i in act:
                if i in free:
                    continue
                frozen[i] = min(1.0, self.w[i] * t)
                active.discard(i)
        for i, v in frozen.items():
            f[i] = v
        return f, levels, x

    def _pad(self, A, extra):
        from scipy.sparse import hstack, csr_matrix
        return hstack([A, csr_matrix((A.shape[0], extra))])

    def _level_rows(self, idx, coef, extra=1, eps=None, zero=False):
        """rows: coef_i * t - a_i <= 0 (with t as the one extra var), or for the slack LP:
        -a_i + eps*D_i*s_i <= -w_i D_i t  (eps given), or -a_i <= -w_i D_i t (zero=True)."""
        from scipy.sparse import hstack, csr_matrix
        sub = -self.Ar[idx]
        if coef is not None:
            tail = csr_matrix(np.asarray(coef).reshape(-1, 1))
            return hstack([sub, tail])
        if zero:
            return hstack([sub, csr_matrix((len(idx), extra))])
        tail = coo_matrix((eps * np.ones(len(idx)), (np.arange(len(idx)), np.arange(len(idx)))), shape=(len(idx), extra))
        return hstack([sub, tail])

    def _frozen_rows(self, frozen, extra=1):
        from scipy.sparse import hstack, csr_matrix
        idx = [i for i, v in frozen.items() if v > 0]
        if not idx:
            return csr_matrix((0, len(self.pairs) + extra)), np.zeros(0)
        sub = -self.Ar[idx]
        b = -np.array([frozen[i] * (1 - 1e-9) for i in idx])
        return hstack([sub, csr_matrix((len(idx), extra))]), b


def main():
    sc = json.load(open(sys.argv[1]))
    t0 = time.time()
    m = Model(sc)
    f, levels, _ = m.leximin()
    out = {"fulfilment": {r["id"]: float(f[i]) for i, r in enumerate(m.reqs)},
           "weight": {r["id"]: float(m.w[i]) for i, r in enumerate(m.reqs)},
           "share": m.share, "levels": levels, "pairs": len(m.pairs), "seconds": time.time() - t0}
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()


def certify(m, f, tol=1e-5):
    """Bertsekas-Gallager test of weighted max-min fairness: no request i can rise above f_i unless some
    request j at a normalised level f_j/w_j <= f_i/w_i falls. Returns the list of violations."""
    from scipy.sparse import csr_matrix
    n, K = len(m.reqs), len(m.pairs)
    has = np.zeros(n, dtype=bool)
    has[m.pr] = True
    bad = []
    for i in range(n):
        if not has[i] or m.w[i] <= 0 or f[i] >= 1 - 1e-9:
            continue
        lvl = f[i] / m.w[i]
        # nobody may end below min(own level, i's level): a point that raises i so is a leximin improvement
        keep = [j for j in range(n) if j != i and f[j] > 0]
        floor = [min(f[j], m.w[j] * lvl * (1 + 2e-3)) for j in keep]
        A = vstack([m.A, -m.Ar[keep]]) if keep else m.A
        b = np.concatenate([m.b, -np.array([fl * (1 - 1e-7) for fl in floor])])
        c = -np.asarray(m.Ar[i].todense()).ravel()
        r = linprog(c, A_ub=A, b_ub=b, bounds=[(0, None)] * K, method="highs")
        if r.status == 0 and -r.fun > f[i] + tol:
            bad.append((m.reqs[i]["id"], f[i], -r.fun))
    return bad


def cheapest(m, f, slack=1e-6, floor=2e-6):
    """Least pooled cash, then least co-financing owed, over allocations that give every request at
    least its fulfilment f (the spec's tie-breaks). Returns (cash_usd, cofinancing_usd)."""
    K = len(m.pairs)
    keep = [i for i in range(len(m.reqs)) if f[i] > 0]
    A = vstack([m.A, -m.Ar[keep]]) if keep else m.A
    b = np.concatenate([m.b, -np.array([f[i] * (1 - slack) - floor for i in keep])])
    price = np.array([m.lots[j].get("price_usd_per_gpu_hour") or 0.0 for j in m.pl]) * m.xscale
    owed = np.array([m.lot_value(m.lots[j]) * m.share[m.reqs[i]["country"]] for i, j in zip(m.pr, m.pl)]) * m.xscale
    r = linprog(price, A_ub=A, b_ub=b, bounds=[(0, None)] * K, method="highs")
    if r.status != 0:
        return None, None
    cash = r.fun
    A2 = vstack([A, coo_matrix(price.reshape(1, -1))])
    b2 = np.concatenate([b, [cash * (1 + 1e-7) + 1e-6]])
    r2 = linprog(owed, A_ub=A2, b_ub=b2, bounds=[(0, None)] * K, method="highs")
    return cash, (r2.fun if r2.status == 0 else None)
