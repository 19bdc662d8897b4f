"""deflation.non-orthogonal (extension) — for random low-rank targets ``Σ c_k u_k^{⊗4}`` (unit
components uniform on the sphere, not orthogonal) with coefficient gaps ``c_{k+1}/c_k <= 0.7`` the
two-homogeneous flow from small initialisation fits the components in decreasing order of ``c_k`` and
reaches a final relative error ``<= 1e-2``. Beyond paper 2's orthogonal setting (docs/math.md §6).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.algorithms import track_flow
from numerics.tensors import random_low_rank

from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence
from .._shared import ok_runs
from ._deflation import MODEL_CHOICE, flow_horizon, init_components
from ._judging import rate_part

NONORTH_ERR = 1e-2

claim = declare(
    "deflation.non-orthogonal",
    source="extension (beyond paper 2's orthogonal setting)",
    statement=(
        "For random low-rank targets Σ c_k u_k^{⊗4} (u_k uniform on the sphere, max coherence "
        "0.6 measured at d = 20) with coefficient gaps c_{k+1}/c_k <= 0.7 the two-homogeneous "
        "gradient flow with small init fits the components in decreasing order of c_k and "
        "reaches a final relative error <= 1e-2."
    ),
    latex=r"T^*=\sum_kc_ku_k^{\otimes 4},\ c=(1,.7,.5,.3):\ t_1<t_2<\dots,\ \|T-T^*\|_F\le 10^{-2}\|T^*\|_F",
    method=(
        "c=(1,.7,.5,.3), l=4, d=50 (full: also d=20), m=50, δ0=1e-3; fit = weight of the "
        "components nearest u_k reaching c_k/2 (numerics.algorithms.attributed_weights); horizon "
        "3x the latest predicted fit time. Quick: 10 seeds (rates >= 0.6); full: 30 seeds per d "
        "(rates >= 0.9). Control: c=(1,.97,.94,.91), δ0=0.1 (no gap, large init)."
    ),
    tolerance=(
        "each rate's 95% Clopper-Pearson lower bound >= the profile's bar (quick 0.6, full 0.9); "
        f"a run recovers when its final relative error <= {NONORTH_ERR:g}"
    ),
    tolerance_source=(
        "derived: the bars are what the seed counts can establish (10/10 -> 0.69, 60/60 -> 0.94); "
        f"the error bound {NONORTH_ERR:g} is the modified flow's ε (docs/math.md §6)"
    ),
    model_choice=MODEL_CHOICE,
)

NONORTH_C = (1.0, 0.7, 0.5, 0.3)
NONORTH_MIN = {"quick": 0.6, "full": 0.9}


@dataclass(frozen=True)
class NonOrthCase:
    """One flow on ``Σ c_k u_k^{⊗4}`` with unit ``u_k`` uniform on the sphere (drawn from ``seed``)."""

    c: tuple[float, ...]
    d: int
    m: int
    delta0: float
    seed: int


@claim.configs
def configs(profile: str) -> list[NonOrthCase]:
    seeds = range(10) if profile == "quick" else range(30)
    cases = [NonOrthCase(NONORTH_C, 50, 50, 1e-3, s) for s in seeds]
    if profile == "full":  # d = 20: coherence up to about 0.6
        cases += [NonOrthCase(NONORTH_C, 20, 50, 1e-3, s) for s in seeds]
    return cases


@claim.controls
def controls(profile: str) -> dict[str, list[NonOrthCase]]:
    """No coefficient gap and large init: the fit times are not separated, order is by chance."""
    seeds = range(300, 310) if profile == "quick" else range(300, 330)
    return {
        "no gap, large init": [NonOrthCase((1.0, 0.97, 0.94, 0.91), 50, 50, 0.1, s) for s in seeds]
    }


@claim.experiment
def experiment(cfg: NonOrthCase) -> dict[str, Any]:
    target = random_low_rank(len(cfg.c), cfg.d, 4, coeffs=cfg.c, rng=cfg.seed)
    W0 = init_components(cfg.m, cfg.d, cfg.delta0, cfg.seed)
    t_end = 2.0 * flow_horizon("homogeneous", cfg.c, W0, target, cfg.delta0)
    tr, traj = track_flow(W0, target, (0.0, t_end), n_obs=101, model="homogeneous")
    coh = target.components @ target.components.T
    rel = float(tr.residual[-1] / target.norm()) if tr.residual is not None else float("nan")
    return {
        "in_order": tr.in_order,
        "kendall_tau": tr.kendall_tau,
        "n_fitted": tr.n_fitted,
        "fit_order": tr.fit_order.tolist(),
        "relative_error": rel,
        "recovered": bool(rel <= NONORTH_ERR),
        "coherence": float(np.max(np.abs(coh - np.eye(len(cfg.c))))),
    }


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    return {
        "order": "decreasing c_k (extension of docs/math.md §6)",
        "min_rate": NONORTH_MIN.get(profile, NONORTH_MIN["full"]),
        "max_relative_error": NONORTH_ERR,
    }


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = ok_runs(results)
    p = float(prediction["min_rate"])
    predicted = (
        f"in order of c_k and final relative error <= {NONORTH_ERR:g}, each at rate >= {p:g}"
    )
    ev = Evidence()
    rows = [m for _, m in ok]
    rate_part(ev, "fitted in decreasing c_k", rows, "in_order", p)
    rate_part(ev, f"final relative error <= {NONORTH_ERR:g}", rows, "recovered", p)
    errs = [m["relative_error"] for m in rows]
    coh = max((m["coherence"] for m in rows), default=float("nan"))
    measured = (
        f"{sum(bool(m['in_order']) for m in rows)}/{len(rows)} in order, "
        f"{sum(bool(m['recovered']) for m in rows)}/{len(rows)} recovered; max coherence {coh:.2f}"
    )
    numbers = {
        "median_relative_error": float(np.median(errs)) if errs else float("nan"),
        "max_coherence": coh,
        "by_d": {
            str(d): [
                sum(bool(m["in_order"]) for c, m in ok if c.d == d),
                sum(c.d == d for c, _ in ok),
            ]
            for d in sorted({c.d for c, _ in ok})
        },
    }
    return ev.verdict(predicted=predicted, measured=measured if rows else "n/a", numbers=numbers)


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {
        "d": [],
        "seed": [],
        "kendall_tau": [],
        "relative_error": [],
        "coherence": [],
    }
    for c, m in ok_runs(results):
        data["d"].append(c.d)
        data["seed"].append(c.seed)
        data["kendall_tau"].append(m["kendall_tau"])
        data["relative_error"].append(m["relative_error"])
        data["coherence"].append(m["coherence"])
    sc = ax.scatter(
        data["coherence"],
        data["kendall_tau"],
        c=np.log10(np.maximum(data["relative_error"], 1e-16)) if data["d"] else None,
        s=12,
    )
    if data["d"]:
        fig.colorbar(sc, ax=ax, label="log10 final relative error")
    ax.set_xlabel("max coherence |<u_j, u_k>|")
    ax.set_ylabel("Kendall τ (fit times vs -c_k)")
    return data
