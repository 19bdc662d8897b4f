"""beyond.epsilon-dependence — with the regulariser scaled with the accuracy, the gradient steps and
the components paper 1's variant needs grow polynomially in 1/ε, with exponents (reported with their
intervals) below 1 and 5: upper-bound checks; docs/math.md §5 and §10.4."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.algorithms import beyond_lazy_descent
from numerics.tensors import random_low_rank

from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence, linear_fit
from .._shared import legend, no_runs, ok_runs, slope_with_interval
from ._variant import MODEL_CHOICE, m_star, rate_plot

DERIVATIONS = "docs/math.md §10"

claim = declare(
    "beyond.epsilon-dependence",
    source="Wang et al. 2020 (paper 1): m and running time polynomial in 1/ε (docs/math.md §5)",
    statement=(
        "With the regulariser scaled with the accuracy (reg = ε/5), the variant (l = 3, r = 3, "
        "d = 20, m = 12) reaches every ε from 0.2 down to 0.01; the gradient steps needed grow "
        "with an exponent in 1/ε whose 95% interval lies below 1, and the smallest successful m "
        "with an exponent below 5 — upper-bound checks of the paper's polynomial dependence."
    ),
    latex=r"\#\mathrm{steps}(\varepsilon)\propto\varepsilon^{-p},\ p\le1;\qquad m^*(\varepsilon)\propto\varepsilon^{-q},\ q\le5",
    method=(
        "beyond_lazy_descent (reinit 'small', 20 epochs × 300 steps, reg = ε/5, record every "
        "step), targets random_low_rank(3, 20, 3). Steps = first step with error <= ε. Quick: "
        "ε ∈ {0.2, 0.05, 0.01}, m ∈ {3, 12}, 8 seeds (rate >= 0.6); full: ε ∈ {0.2, 0.1, 0.05, "
        "0.02, 0.01}, m ∈ {3, 6, 12}, 30 seeds (>= 0.8). Exponents: least-squares slopes of "
        "log steps (successful m = 12 runs) and log m* (level 0.75) on log(1/ε), with "
        "t-intervals. Control: reg fixed at 1e-2, ε ∈ {0.05, 0.002}: the regulariser's bias "
        "(a fitted weight settles at a_k − λ/2, docs/math.md §6) floors the error above 0.002, "
        "so the rate check must fail."
    ),
    tolerance=(
        "per ε: success rate at m = 12 >= 0.6 (quick) / 0.8 (full) by the exact 95% interval; "
        "upper end of the steps exponent's 95% interval <= 1; of m*'s exponent <= 5"
    ),
    tolerance_source=(
        "derived: near a fitted strict minimum gradient descent converges linearly (Hessian "
        f"eigenvalues ~ l·a_k, docs/math.md §3.3), so steps ~ A + B·log(1/ε), {DERIVATIONS} "
        "§epsilon-dependence; 5 is the paper's m = O(ε^{-5}) (docs/math.md §5, unconfirmed); "
        "rates: the evidence rules"
    ),
    model_choice=MODEL_CHOICE + "; reg scaled with ε",
)

# reg = ε/5: the regulariser's bias (≈ reg/2 relative, docs/math.md §6) stays <= ε/10
EPS_REG_RATIO = 0.2
# iterations grow at most like (1/ε)^1 (derived: linear convergence, log(1/ε))
ITER_EXPONENT_MAX = 1.0
# the paper's m = O(ε^{-5}) (secondary descriptions, docs/math.md §5): upper bound
M_EXPONENT_MAX = 5.0


@dataclass(frozen=True)
class EpsRun:
    """The variant (re-initialisation 'small', 20 epochs) at accuracy ``eps``; ``reg_mode="scaled"``:
    ``reg = ε/5``; ``"fixed"``: the default ``reg = 1e-2`` (the control)."""

    order: int
    d: int
    r: int
    m: int
    seed: int
    eps: float
    reg_mode: str = "scaled"


@claim.configs
def configs(profile: str) -> list[EpsRun]:
    if profile == "quick":
        epss, ms, seeds = [0.2, 0.05, 0.01], [3, 12], range(8)
    else:
        epss, ms, seeds = [0.2, 0.1, 0.05, 0.02, 0.01], [3, 6, 12], range(30)
    return [EpsRun(order=3, d=20, r=3, m=m, seed=s, eps=e) for e in epss for m in ms for s in seeds]


@claim.controls
def controls(profile: str) -> dict[str, list[EpsRun]]:
    seeds = range(8) if profile == "quick" else range(20)
    return {
        "regulariser fixed at 1e-2: its bias floors the error above ε = 0.002": [
            EpsRun(order=3, d=20, r=3, m=12, seed=1000 + s, eps=e, reg_mode="fixed")
            for e in (0.05, 0.002)
            for s in seeds
        ]
    }


@claim.experiment
def experiment(cfg: EpsRun) -> dict[str, Any]:
    """Success and the gradient steps taken until the error first fell to ``eps``."""
    target = random_low_rank(cfg.r, cfg.d, cfg.order, rng=cfg.seed)
    reg = EPS_REG_RATIO * cfg.eps if cfg.reg_mode == "scaled" else 1e-2
    res = beyond_lazy_descent(
        target, cfg.m, eps=cfg.eps, reg=reg, epochs=20, record_every=1,
        rng=np.random.default_rng([cfg.seed, cfg.m, 3]), model="homogeneous",
    )  # fmt: skip
    if res.status in ("nan", "diverged"):
        raise RuntimeError(f"numerical failure: {res.message}")
    return {"success": res.success, "n_steps": res.n_steps, "relative_error": res.relative_error}


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    return {
        "iter_exponent_max": ITER_EXPONENT_MAX,
        "m_exponent_max": M_EXPONENT_MAX,
        "min_rate": 0.6 if profile == "quick" else 0.8,
        "m": 12,
    }


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    M = prediction["m"]
    predicted = (
        f"at m = {M} every ε is reached (rate >= {prediction['min_rate']}); iterations grow with "
        f"exponent <= {prediction['iter_exponent_max']:g} in 1/ε, m* with exponent <= "
        f"{prediction['m_exponent_max']:g} (upper bounds, 95% intervals)"
    )
    ok = ok_runs(results)
    if not ok:
        return no_runs(predicted)
    ev = Evidence()
    by: dict[float, dict[int, list[bool]]] = defaultdict(lambda: defaultdict(list))
    x, y = [], []
    for c, m in ok:
        by[c.eps][c.m].append(bool(m["success"]))
        if c.m == M and m["success"]:
            x.append(math.log(1 / c.eps))
            y.append(math.log(max(m["n_steps"], 1)))
    numbers: dict[str, Any] = {"m_star": {}, "median_steps": {}}
    for e, per_m in sorted(by.items(), reverse=True):
        if M in per_m:
            v = per_m[M]
            ev.rate_at_least(f"ε={e:g}: success at m={M}", sum(v), len(v), prediction["min_rate"])
        numbers["m_star"][f"{e:g}"] = m_star(per_m)
    for e in sorted(by, reverse=True):
        st = [m["n_steps"] for c, m in ok if c.eps == e and c.m == M and m["success"]]
        numbers["median_steps"][f"{e:g}"] = float(np.median(st)) if st else None
    measured = ""
    if len(set(x)) >= 2 and len(x) >= 3:
        fit = linear_fit(x, y)
        numbers["iter_exponent"] = fit.as_dict()
        ev.interval_beyond(
            "iterations exponent in 1/ε", fit.ci, prediction["iter_exponent_max"], "below"
        )
        measured += f"iterations ∝ (1/ε)^{fit.slope:.2f} (CI {fit.ci[0]:.2f}–{fit.ci[1]:.2f}); "
    pts = [(e, s["point"]) for e, s in numbers["m_star"].items() if s["point"] is not None]
    if len(pts) >= 3:
        sl, ci_m, numbers["m_exponent"] = slope_with_interval(
            [math.log(1 / float(e)) for e, _ in pts], [math.log(p) for _, p in pts]
        )
        ev.interval_beyond("m* exponent in 1/ε", ci_m, prediction["m_exponent_max"], "below")
        measured += f"m* ∝ (1/ε)^{sl:.2f} (CI {ci_m[0]:.2f}–{ci_m[1]:.2f}); "
    measured += "median steps by ε: " + ", ".join(
        f"{e}: {v}" for e, v in numbers["median_steps"].items()
    )
    ev.note("Exponents are upper-bound checks (the paper's bound is polynomial in 1/ε).")
    return ev.verdict(predicted, measured, numbers)


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], figure: Any) -> dict:
    ax1, ax2 = figure.subplots(1, 2)
    data: dict[str, list[Any]] = {"eps": [], "m": [], "seed": [], "success": [], "n_steps": []}
    for c, m in ok_runs(results):
        data["eps"].append(c.eps)
        data["m"].append(c.m)
        data["seed"].append(c.seed)
        data["success"].append(m["success"])
        data["n_steps"].append(m["n_steps"])
    M = prediction["m"]
    xs = [
        1 / e
        for e, m, s in zip(data["eps"], data["m"], data["success"], strict=True)
        if m == M and s
    ]
    ys = [
        n
        for n, m, s in zip(data["n_steps"], data["m"], data["success"], strict=True)
        if m == M and s
    ]
    ax1.scatter(xs, ys, s=8, label=f"m = {M}, successful runs")
    if len(set(xs)) >= 2 and len(xs) >= 3:
        fit = linear_fit(np.log(xs).tolist(), np.log(ys).tolist())
        g = np.geomspace(min(xs), max(xs), 20)
        for sl, ls in ((fit.slope, "-"), (fit.ci[0], ":"), (fit.ci[1], ":")):
            ax1.plot(g, np.exp(fit.intercept) * g**sl, "k" + ls, lw=0.8)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("1/ε")
    ax1.set_ylabel("gradient steps to reach ε")
    ax1.set_title("slope with its 95% band")
    legend(ax1, fontsize=6)
    per: dict[float, dict[int, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for e, m, s in zip(data["eps"], data["m"], data["success"], strict=True):
        per[e][m].append(bool(s))
    rate_plot(ax2, {(e,): v for e, v in per.items()}, lambda g: f"ε={g[0]:g}")
    legend(ax2, fontsize=6)
    return data
