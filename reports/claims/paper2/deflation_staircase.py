"""deflation.staircase — with small initialisation, between consecutive fits the residual
``||T(W) - T*||_F`` plateaus at the deflation residual ``||Σ_{j>k} a_j e_j^{⊗l}||_F`` (after k fits the
model is the best rank-k approximation), also for close coefficients once ``ln(1/δ0)`` makes the gaps
long; with a large initialisation there is no staircase. docs/math.md §6, §12.3; paper 2 (gradient
flow follows a deflation process).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import theory
from numerics.algorithms import track_flow
from numerics.tensors import orthogonal_tensor

from ...registered import registration
from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence
from .._shared import legend, no_runs, ok_runs
from ._deflation import (
    A5,
    MODEL_CHOICE,
    filled_alignment,
    flow_horizon,
    init_components,
    reduce_to_span,
    solver_atol,
)
from ._figures import checks_panel, evidence_grid

claim = declare(
    "deflation.staircase",
    source="Ge et al. 2021 (paper 2): gradient flow follows a deflation process; docs/math.md §6",
    statement=(
        "With small initialisation, between consecutive fits the residual ||T(W) - T*||_F "
        "plateaus at the deflation residual ||Σ_{j>k} a_j e_j^{⊗l}||_F within 3% (after k fits "
        "the model is the best rank-k approximation), also for close coefficients "
        "a = (1, .9, .8) once ln(1/δ0) makes the gaps long (δ0 = 1e-20); with a large "
        "initialisation there is no staircase."
    ),
    latex=r"\|T(W(t))-T^*\|_F\approx\Big\|\sum_{j>k}a_je_j^{\otimes l}\Big\|_F\ \text{for } t_k<t<t_{k+1}",
    method=(
        "Two-homogeneous flow, l=4, d=20, m=40, random basis: a=(1,.5,.25) at δ0=1e-4 and the "
        "harder a=(1,.9,.8) at δ0=1e-20 (quick: 2 seeds each; full: 10, plus l=3 and "
        "a=(1,.8,.6,.4,.2) at δ0=1e-12); scale: d ∈ {1000, 2000}, m = m_ia(d) = 50, 150, "
        "a=(1,.5,.25), δ0 = d^{-16} (the regime of docs/math.md §11.7), 2 seeds each; flows "
        "integrated in the span of the target and W0 (exact, docs/math.md §11.7). "
        "The plateau is the observation (801 per run) between two fits where |d ln||E||/dt| is "
        "smallest; a run whose fitted directions are out of a-order, or without a plateau, counts "
        "as a failure (a direction not fitted within the window is reported). Regimes chosen "
        "where the derived two-exponential deviation is <= 1% at the leading-order gaps. "
        "Control: large initialisation δ0 = 0.3 (m·δ0² = 3.6 > a_1), where no deflation is "
        "predicted, must fail."
    ),
    tolerance=(
        "|plateau/deflation residual - 1| <= the registered plateau_rtol (3%) for every plateau but "
        "the last, per regime"
    ),
    tolerance_source=(
        "derived: the two-exponential plateau model (docs/math.md §12.3) "
        "predicts <= 1% at the judged regimes' leading-order gaps; 3% is the statement's "
        "tolerance, kept from the earlier claim (it leaves room for the gaps' O(1) constants)"
    ),
    profiles=("quick", "full", "scale"),
    model_choice=MODEL_CHOICE,
    reference=(
        "paper 2 (arXiv 2106.06573), abstract: gradient flow fits the larger components "
        "first, like tensor deflation; the plateau levels and deviations are derived here "
        "(docs/math.md §6, §12.3)"
    ),
    caption=(
        "Top right: every plateau's deviation from its deflation residual must lie below "
        "the tolerance line; top left: between fits the residual sits in the bands."
    ),
)

STAIR_A = (1.0, 0.5, 0.25)
STAIR_CLOSE = (1.0, 0.9, 0.8)
STAIR_CLOSE_DELTA0 = 1e-20
"""Chosen on held-out seeds 1000-1004: at 1e-12 one of four exceeded 3% (the gap shrinks with the
random alignment constants); at 1e-20 all were within 0.7%."""
STAIR_LARGE_DELTA0 = 0.3


@dataclass(frozen=True)
class StairCase:
    """One flow observed at 801 times for the residual staircase (docs/math.md §6).

    ``fits``: integrate up to the predicted fit of the first ``fits`` directions only (0: all).
    ``method``: the ODE solver (plain-model scale runs use :data:`SCALE_METHOD`).
    """

    a: tuple[float, ...]
    order: int
    d: int
    m: int
    delta0: float
    seed: int
    model: str = "homogeneous"
    fits: int = 0
    method: str = "RK45"


@claim.configs
def configs(profile: str) -> list[StairCase]:
    if profile == "scale":
        # the regime of docs/math.md §11.7: m = m_ia(d) and δ0 = d^-16 make the a-order likely
        # (at m = 50, δ0 = 1e-4 the calibration block went out of order at d = 1000); the plain
        # model's order follows its escape times, not a, so it has no staircase claim at scale
        from ._regime import poly_delta0
        from .deflation_order import scale_m

        return [
            StairCase(STAIR_A, 4, d, scale_m(d), poly_delta0(d, 16), s, fits=3)
            for d in (1000, 2000)
            for s in range(2)
        ]
    seeds = range(2) if profile == "quick" else range(10)
    cases = [StairCase(STAIR_A, 4, 20, 40, 1e-4, s) for s in seeds]
    cases += [StairCase(STAIR_CLOSE, 4, 20, 40, STAIR_CLOSE_DELTA0, s) for s in seeds]
    if profile == "full":
        cases += [StairCase(STAIR_A, 3, 20, 40, 1e-4, s) for s in seeds]
        cases += [StairCase(A5, 4, 20, 40, 1e-12, s) for s in seeds]
    return cases


@claim.controls
def controls(profile: str) -> dict[str, list[StairCase]]:
    """Large initialisation (δ0 = 0.3 at d = 20, m = 40: ||T(W0)|| ~ √m·δ0² ≈ 0.6): no deflation."""
    seeds = range(5) if profile == "full" else range(2)
    # scale uses the small control: at d = m = 1000 what matters is ||T(W0)|| ≈ √m·δ0², and
    # δ0 = 0.05 (m·δ0² = 2.5) still left a staircase there (2.4% deviation, measured)
    return {
        "large initialisation": [
            StairCase(STAIR_A, 4, 20, 40, STAIR_LARGE_DELTA0, s) for s in seeds
        ]
    }


@claim.experiment
def experiment(cfg: StairCase) -> dict[str, Any]:
    target = orthogonal_tensor(cfg.a, cfg.d, cfg.order, basis="random", rng=cfg.seed)
    W0 = init_components(cfg.m, cfg.d, cfg.delta0, cfg.seed)
    a = np.asarray(cfg.a)
    if cfg.model == "homogeneous":
        u0 = filled_alignment(W0, target)
        pred = [
            theory.homogeneous_fit_time(
                float(ak), float(uk), min(cfg.delta0, 0.5 * math.sqrt(ak)), cfg.order
            )
            for ak, uk in zip(a, u0, strict=True)
        ]
        n = cfg.fits or len(a)
        # at least 10/a_min: a large-initialisation control has no meaningful fit-time prediction
        t_end = max(1.5 * max(pred[:n]), 10.0 / float(a[:n].min()))
    else:
        t_end = flow_horizon(cfg.model, cfg.a, W0, target, cfg.delta0)
    W_red, target_red = reduce_to_span(W0, target)  # exact: docs/math.md §11.7
    tr, _ = track_flow(
        W_red,
        target_red,
        (0.0, t_end),
        model=cfg.model,
        n_obs=801,
        method=cfg.method,
        atol=solver_atol(cfg.delta0, cfg.d),
    )
    return {
        "fit_times": tr.fit_times.tolist(),
        "fit_order": tr.fit_order.tolist(),
        "in_order": tr.in_order,
        "plateau_times": tr.plateau_times.tolist(),
        "plateau_residuals": tr.plateau_residuals.tolist(),
        "deflation_residual": tr.deflation_residual.tolist(),
        "t": tr.t[::8].tolist(),
        "residual": (tr.residual[::8] if tr.residual is not None else np.zeros(0)).tolist(),
    }


def _leading_gaps(a: Sequence[float], delta0: float) -> list[float]:
    """Gaps between consecutive fits at leading order: ln(1/δ0)(1/(2a_{k+1}) - 1/(2a_k))."""
    L = math.log(1 / delta0)
    return [L * (1 / (2 * a[k + 1]) - 1 / (2 * a[k])) for k in range(len(a) - 1)]


def _predicted_deviations(a: Sequence[float], gaps: Sequence[float]) -> list[float]:
    return [
        theory.plateau_deviation(a[k], a[k + 1], sum(x * x for x in a[k + 1 :]), g)
        if g > 0
        else float("-inf")
        for k, g in enumerate(gaps)
    ]


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    regimes = {
        "a=(1,.5,.25), δ0=1e-4": (STAIR_A, 1e-4),
        f"a=(1,.9,.8), δ0={STAIR_CLOSE_DELTA0:g}": (STAIR_CLOSE, STAIR_CLOSE_DELTA0),
        "a=(1,.8,.6,.4,.2), δ0=1e-12": (A5, 1e-12),
    }
    return {
        "plateau": "||Σ_{j>k} a_j e_j^{⊗l}||_F = sqrt(Σ_{j>k} a_j²) after the k-th fit",
        "rtol": registration(claim.id).tolerance("plateau_rtol", profile),
        "two_exponential_deviation_at_leading_gaps": {
            name: _predicted_deviations(a, _leading_gaps(a, d0))
            for name, (a, d0) in regimes.items()
        },
        "flattest_time": str(theory.plateau_time_expr()),
    }


def _fitted_in_order(m: Mapping[str, Any]) -> bool:
    """The directions fitted in the window were fitted in decreasing a_k (a sorted decreasing): the
    fit order is ``0, 1, ..., n_fitted - 1``; a direction not fitted in the window is reported."""
    order = list(m["fit_order"])
    return bool(order) and order == list(range(len(order)))


def _plateau_errors(ok: list[tuple[Any, Mapping[str, Any]]]) -> list[float]:
    """Plateau deviations between consecutive fits of every run; a run whose fitted directions are
    out of a-order, or without a plateau, counts as an infinite deviation."""
    errs = []
    for c, m in ok:
        pr = np.asarray(m["plateau_residuals"], dtype=float)
        dr = np.asarray(m["deflation_residual"], dtype=float)
        if len(m["fit_order"]) == len(c.a):  # the last plateau is 0 vs 0
            pr, dr = pr[:-1], dr[:-1]
        if not _fitted_in_order(m) or pr.size == 0:
            errs.append(float("inf"))
            continue
        errs.extend(np.abs(pr / dr - 1).tolist())
    return errs


def _stair_regime(c: StairCase) -> str:
    return f"{c.model}, l={c.order}, a={c.a}, δ0={c.delta0:g}"


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = ok_runs(results)
    rtol = float(prediction["rtol"])
    predicted = f"plateaus at the deflation residual within {rtol:.0%}, fits in order"
    if not ok:
        return no_runs(predicted)
    ev = Evidence()
    regimes: dict[str, list[tuple[Any, Mapping[str, Any]]]] = {}
    for c, m in ok:
        regimes.setdefault(_stair_regime(c), []).append((c, m))
    worst_by: dict[str, float] = {}
    pred_by: dict[str, float] = {}
    for name, runs in regimes.items():
        errs = _plateau_errors(runs)
        worst = max(errs) if errs else float("inf")
        worst_by[name] = worst
        # runs out of order or without a plateau count as an infinite deviation (the judge fails)
        ev.at_most(f"worst plateau deviation [{name}]", min(worst, 1e300), rtol)
        preds = []
        for c, m in runs:
            ft = np.asarray(m["fit_times"], dtype=float)
            if c.model == "homogeneous" and m["in_order"] and np.all(np.isfinite(ft)):
                preds += [abs(x) for x in _predicted_deviations(c.a, np.diff(ft).tolist())]
        if preds:
            pred_by[name] = max(preds)
    unfitted = sum(len(m["fit_order"]) < len(c.a) for c, m in ok)
    if unfitted:
        ev.note(
            f"{unfitted} run(s) did not fit every direction within the window (a direction no "
            "component won, docs/math.md §6): their plateaus between the fits that happened are judged."
        )
    ev.note(
        "Two-exponential model (derived) at the measured gaps: max |predicted deviation| "
        + "; ".join(f"[{k}] {v:.2%}" for k, v in pred_by.items())
        + "."
    )
    measured = "; ".join(f"[{k}] worst {v:.2%}" for k, v in worst_by.items())
    numbers = {
        "worst_by_regime": worst_by,
        "predicted_by_regime": pred_by,
        "runs": len(ok),
        "in_order": sum(bool(m["in_order"]) for _, m in ok),
    }
    return ev.verdict(predicted=predicted, measured=measured, numbers=numbers)


def _regime_label(c: StairCase, sep: str = " ") -> str:
    """A regime as mathtext for the figure: ``a = (1, 0.9, 0.8), δ0 = 1e-20``."""
    a = ", ".join(f"{x:g}" for x in c.a)
    return rf"a = ({a}),{sep}$\delta_0$ = {c.delta0:g}"


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    """Top left: one residual curve per regime; dotted: the deflation residuals, band: ± the
    tolerance. Top right: every plateau's relative deviation from its deflation residual (the judged
    quantity) with the tolerance. Bottom: the judged checks' margins."""
    verdict = judge(prediction, results)
    (ax, ax2), bottom = evidence_grid(fig, 2, rows=len(verdict.checks))
    rtol = float(prediction.get("rtol", 0.03))
    data: dict[str, list[Any]] = {}
    regimes: dict[str, list[tuple[Any, Mapping[str, Any]]]] = {}
    for c, m in ok_runs(results):
        regimes.setdefault(_stair_regime(c), []).append((c, m))
    for j, (name, runs) in enumerate(regimes.items()):
        c, m = runs[0]
        colour = f"C{j}"
        ax.plot(m["t"], m["residual"], lw=1.2, color=colour, label=_regime_label(c))
        for v in m["deflation_residual"][:-1]:
            ax.axhspan(v * (1 - rtol), v * (1 + rtol), color=colour, alpha=0.15)
            ax.axhline(v, color=colour, ls=":", lw=0.8)
        data[f"t[{name}]"] = list(m["t"])
        data[f"residual[{name}]"] = list(m["residual"])
        errs = np.asarray(_plateau_errors(runs), dtype=float)
        shown = np.where(np.isfinite(errs), np.maximum(errs, 1e-12), np.nan)
        ax2.plot(np.full(errs.size, j), shown, "o", ms=5, color=colour)
        if not np.all(np.isfinite(errs)):
            ax2.text(j, rtol, "no plateau / out of order", color="#cf222e", ha="center")
    ax.set_xlabel("t")
    ax.set_ylabel(r"$\|T(W) - T^*\|_F$")
    ax.set_title("Residual staircase (one run per regime)")
    legend(ax, fontsize=9)
    ax2.axhline(rtol, color="k", lw=1.2, label=f"tolerance {rtol:.0%}")
    ax2.set_yscale("log")
    ax2.set_xticks(range(len(regimes)), [_regime_label(r[0][0], "\n") for r in regimes.values()])
    ax2.set_xlim(-0.5, max(len(regimes), 1) - 0.5)
    ax2.set_ylabel(r"plateau deviation $|\,\|T(W) - T^*\|_F / D_k - 1|$")
    ax2.set_title("Every plateau of every run (judged)")
    legend(ax2, fontsize=9)
    checks_panel(
        bottom, verdict.checks, title="Judged checks (margin: share of the tolerance left)"
    )
    return data
