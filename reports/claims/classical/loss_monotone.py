"""foundation.loss-monotone — gradient flow is a descent flow with exact energy dissipation.

Along :func:`numerics.flow.gradient_flow` the loss never increases, and
``f(0) - f(T) = ∫_0^T ||∇f||² dt`` (classical; the gradients are those of docs/math.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import simpson

from numerics.flow import gradient_flow
from numerics.models import loss_and_grad
from numerics.tensors import orthogonal_tensor

from ...registered import registration
from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence
from .._shared import columns, legend, no_runs, ok_runs
from ._common import MODELS, fmt_error, random_params

REGISTERED = registration("foundation.loss-monotone")  # tolerances fixed in reports/registered.toml
MONO_INCREASE_TOL = REGISTERED.tolerance("increase")  # 10x the integrator's rtol (1e-9)
DISSIPATION_RTOL = REGISTERED.tolerance(
    "dissipation_rtol"
)  # Simpson's rule, O(dt^4): calibrated, see the claim's tolerance_source

claim = declare(
    "foundation.loss-monotone",
    source="classical (gradient flow is a descent flow)",
    statement=(
        "Along the gradient flow dW/dt = -∇f(W) the loss never increases, and the loss lost "
        "equals the integral of the squared gradient norm."
    ),
    latex=(
        r"\frac{d}{dt}f(W(t))=-\|\nabla f(W(t))\|_F^2\le 0,\qquad "
        r"f(W(0))-f(W(T))=\int_0^T\|\nabla f(W(t))\|_F^2\,dt"
    ),
    method=(
        "numerics.flow.gradient_flow (RK45, rtol 1e-9, atol 1e-12) on an orthogonal target "
        "with a = linspace(1, 0.5, r) in a random basis, from W0 = 0.5·N(0, 1/d); loss and "
        "||∇f||² observed on a uniform grid; the integral by Simpson's rule."
    ),
    tolerance=(
        f"largest increase between consecutive observations <= {MONO_INCREASE_TOL:g}·f(0) "
        f"(integrator error); |f(0)-f(T) - ∫||∇f||²| / (f(0)-f(T)) <= {DISSIPATION_RTOL:g} "
        "(quadrature error of Simpson's rule on the grid); the loss must fall by more than "
        f"{MONO_INCREASE_TOL:g}·f(0)"
    ),
    tolerance_source=(
        "calibrated: the dissipation tolerance on the full grid at held-out seeds 1000-1001 (72 "
        "flows; judged seeds 0-1): worst 1.06e-5, tolerance 1e-4 (9.4x); the increase tolerance "
        "is derived: 10x the integrator's rtol 1e-9 (the loss's error between observations)"
    ),
    no_control=(
        "a theorem about every gradient flow (df/dt = -||∇f||²): no configuration makes it false; "
        "that the judge fails on a rising loss or a broken energy identity is tested on "
        "constructed results (tests/reports/test_claims_foundation.py)"
    ),
    model_choice="the two-homogeneous parametrisation T(W) = Σ ||w_i||² w̄_i^{⊗l} (docs/math.md §3.3)",
    reference=(
        "classical: along dW/dt = -∇f(W), df/dt = -||∇f||² (energy dissipation); gradients of "
        "docs/math.md §3"
    ),
    caption=(
        "Left: no loss curve may rise. Right: the judged energy-dissipation error of each flow "
        "must stay below the dashed tolerance."
    ),
)


@dataclass(frozen=True)
class FlowCase:
    """Gradient flow on an orthogonal target ``Σ_k a_k e_k^{⊗l}`` from a random start of scale ``init``."""

    order: int
    d: int
    m: int
    r: int
    model: str
    reg: float
    init: float
    t_end: float
    n_obs: int
    seed: int


@claim.configs
def configs(profile: str) -> list[FlowCase]:
    if profile == "quick":
        return [
            FlowCase(
                order, d=6, m=8, r=3, model=model, reg=0.0, init=0.5, t_end=10.0, n_obs=401, seed=0
            )
            for order in (3, 4)
            for model in MODELS
        ]
    return [
        FlowCase(
            order, d=d, m=m, r=4, model=model, reg=reg, init=0.5, t_end=30.0, n_obs=2001, seed=s
        )
        for order in (2, 3, 4)
        for d, m in ((8, 12), (20, 40))
        for model in MODELS
        for reg in (0.0, 0.05)
        for s in (0, 1)
    ]


@claim.experiment
def experiment(cfg: FlowCase) -> dict[str, Any]:
    """Loss along ``gradient_flow`` at ``n_obs`` times, and ``∫||∇f||² dt`` by Simpson's rule."""
    rng = np.random.default_rng(cfg.seed)
    a = np.linspace(1.0, 0.5, cfg.r)
    target = orthogonal_tensor(a, cfg.d, cfg.order, basis="random", rng=rng)
    W0 = cfg.init * random_params(cfg.model, cfg.m, cfg.d, rng)

    def grad_sq(t: float, W: np.ndarray) -> float:
        g = loss_and_grad(W, target, model=cfg.model, reg=cfg.reg)[1]
        return float(np.sum(g * g))

    t_eval = np.linspace(0.0, cfg.t_end, cfg.n_obs)
    traj = gradient_flow(
        W0,
        target,
        (0.0, cfg.t_end),
        model=cfg.model,
        reg=cfg.reg,
        t_eval=t_eval,
        rtol=1e-9,
        atol=1e-12,
        observe={"grad_sq": grad_sq},
    )
    if not traj.success or len(traj.t) != cfg.n_obs:
        raise RuntimeError(f"gradient flow did not finish ({traj.status}): {traj.message}")
    f = np.asarray(traj.loss)
    gsq = np.asarray(traj.observations["grad_sq"])
    dissipated = float(simpson(gsq, x=traj.t))
    drop = float(f[0] - f[-1])
    step = max(1, cfg.n_obs // 50)
    return {
        "loss0": float(f[0]),
        "loss_end": float(f[-1]),
        "max_rel_increase": float(np.max(np.diff(f)) / f[0]),
        "rel_drop": drop / float(f[0]),
        "dissipation_rel_err": abs(drop - dissipated) / max(drop, 1e-300),
        "t": traj.t[::step].tolist(),
        "loss": f[::step].tolist(),
        "nfev": traj.nfev,
    }


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    return {
        "max_rel_increase": 0.0,
        "increase_tol": MONO_INCREASE_TOL,
        "dissipation_rtol": DISSIPATION_RTOL,
    }


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = ok_runs(results)
    predicted = "df/dt = -||∇f||² <= 0: never increases; drop = ∫||∇f||²"
    if not ok:
        return no_runs(predicted)
    inc = max(m["max_rel_increase"] for _, m in ok)
    diss = max(m["dissipation_rel_err"] for _, m in ok)
    drop = min(m["rel_drop"] for _, m in ok)
    numbers = {
        "max_rel_increase": inc,
        "max_dissipation_rel_err": diss,
        "min_rel_drop": drop,
        "runs": len(ok),
    }
    rose = (
        f"rose by at most {fmt_error(inc)}·f(0)"
        if inc > 0
        else f"never rose (largest step {inc:+.1e}·f(0))"
    )
    ev = Evidence()
    ev.at_most("largest increase between observations / f(0)", inc, prediction["increase_tol"])
    ev.at_most("|f(0)-f(T) - ∫||∇f||²| / (f(0)-f(T))", diss, prediction["dissipation_rtol"])
    # the loss must fall by more than the integrator's error level, or "never rose" says nothing
    ev.at_least("smallest fall (f(0)-f(T))/f(0)", drop, prediction["increase_tol"])
    return ev.verdict(
        predicted=predicted,
        measured=f"loss {rose}; dissipation error {fmt_error(diss)}",
        numbers=numbers,
    )


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax, ax2 = fig.subplots(1, 2, width_ratios=(3, 2))
    data = columns("run", "order", "model", "t", "loss_over_loss0")
    per_run = columns("flow", "dissipation_rel_err", "max_rel_increase")
    for i, (cfg, m) in enumerate(ok_runs(results)):
        rel = [v / m["loss0"] for v in m["loss"]]
        ax.plot(m["t"], rel, lw=1, label=f"l={cfg.order}, {cfg.model}" if i < 8 else None)
        n = len(rel)
        data["run"] += [i] * n
        data["order"] += [cfg.order] * n
        data["model"] += [cfg.model] * n
        data["t"] += list(m["t"])
        data["loss_over_loss0"] += rel
        per_run["flow"].append(i)
        per_run["dissipation_rel_err"].append(m["dissipation_rel_err"])
        per_run["max_rel_increase"].append(m["max_rel_increase"])
    ax.set_yscale("log")
    ax.set_xlabel("t")
    ax.set_ylabel("f(W(t)) / f(W(0))")
    ax.set_title("Loss along gradient flow")
    if data["run"]:
        legend(ax)
    # the judged energy identity, flow by flow, against its tolerance
    ax2.scatter(per_run["flow"], per_run["dissipation_rel_err"], color="k", zorder=3)
    ax2.axhline(prediction["dissipation_rtol"], color="r", ls="--", label="tolerance")
    ax2.set_yscale("log")
    ax2.set_xlabel("flow")
    ax2.set_ylabel("|f(0) - f(T) - ∫||∇f||² dt| / (f(0) - f(T))")
    ax2.set_title("Judged: energy dissipation error")
    legend(ax2)
    return {**data, **per_run}
