"""deflation.fit-times — two-homogeneous model, orthogonal target, small initialisation: a direction
fitted by the components that win it at initialisation is fitted at ``t_k = ln(1/δ0)/(2a_k) + C_k``,
with ``C_k`` the next-order term of the decoupled early flow, so the additive prediction's relative
error shrinks like ``1/ln(1/δ0)``; the plain model's escape time grows like ``δ0^{-(l-2)}`` (control:
plain runs judged by the logarithmic law). docs/math.md §6, §12.1; paper 2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

import theory
from numerics.algorithms import initial_alignment, track_flow
from numerics.tensors import orthogonal_tensor

from ...registered import registration
from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence, interval_within, linear_fit
from .._shared import legend, no_runs, ok_runs
from ._deflation import (
    A5,
    MODEL_CHOICE,
    filled_alignment,
    flow_horizon,
    homogeneous_fit_times,
    init_components,
    reduce_to_span,
    solver_atol,
)
from ._figures import checks_panel, evidence_grid
from ._fit_times import (
    SLOPE_DELTA_MAX,
    alignment_times,
    assigned_u0,
    fit_time_analysis,
    initial_winner_share,
    next_order_fit_times,
    reduced_fit_times,
)

FIT_CALIBRATION = "seeds 1000-1002, (d, m) in {(10,50),(50,200),(100,200)}, δ0 in FIT_DELTAS"


claim = declare(
    "deflation.fit-times",
    source="docs/math.md §6 [derived, checked by simulation]; Ge et al. 2021 (paper 2)",
    statement=(
        "Two-homogeneous model, orthogonal target, λ=0, small init: a direction fitted by the "
        "components that win it at initialisation is fitted (fit reaches a_k/2) at "
        "t_k = ln(1/δ0)/(2a_k) + C_k + o(1); the constant C_k is the next-order term "
        "[ln(a_k/δ0²) - ln Σ_i e^{-Λ_i}]/(4a_k) (l=4) with Λ_i the growth lag of winner i in the "
        "decoupled early flow, so the additive prediction 1/(8a_k u0) + ln(a_k/(2δ0²))/(4a_k) "
        "has the exact slope and a δ0-independent error: its relative error shrinks like "
        "1/ln(1/δ0). The decoupled flow drops the model's own weights, an error that grows like "
        "d·δ0² (not with m); with its first correction (docs/math.md §12.1) the prediction holds "
        "at d ∈ {1000, 2000} for d·δ0² <= 1, and fails beyond (d·δ0² = 40, the control). "
        "For the plain model the escape time grows like δ0^{-(l-2)}."
    ),
    latex=(
        r"t_k=\frac{\ln(a_k/\delta_0^2)-\ln\sum_{i\to k}e^{-\Lambda_i-\Delta_i}}{4a_k}+o(1),"
        r"\ \Delta_i=4\!\int(\textstyle\sum_js_j\langle\bar w_i,\bar w_j\rangle^l-S_k)\,dt=O(d\delta_0^2);"
        r"\quad t^{\mathrm{plain}}\propto\delta_0^{-(l-2)}"
    ),
    method=(
        "a=(1,.8,.6,.4,.2), l=4, random orthonormal basis, w_i = δ0·uniform(S^{d-1}), "
        "δ0 ∈ {1e-2,1e-3,1e-4,1e-6,1e-8} (solver atol 1e-6·δ0/√d); quick: (d,m)=(10,50), "
        "seeds 0-1; full: (10,50), (50,200), (100,200), seeds 0-2; scale: d ∈ {1000, 2000}, m=50, "
        "δ0 ∈ {2e-2, 1e-32, 1e-48, 1e-64} (d·δ0² 0.4-0.8 and negligible), seeds 0-1, first three "
        "fits, with the first weight correction. Flows integrated in the span of the target and W0 (exact, "
        "docs/math.md §11.7). Fit times by events on RK45's dense output. "
        "Prediction: the decoupled early flow (R = T*) of every component integrated in the "
        "target basis from the same initial directions (DOP853), plus logistic saturation; "
        "the closed form (single-direction lag Λ(u) = (1/u - 1 - ln u)/2) is reported. "
        "Premises, per (run, direction): >= the registered share (0.99) of the direction's "
        "final weight is carried by its initial winners, and its best winner is aligned "
        "(<w̄, e_k>² >= 1/2 in the decoupled direction flow) before the predicted fit that "
        "precedes it (pairs outside are reported, not judged). "
        "Slope: least-squares fit of 2a_k t_k on ln(1/δ0) over δ0 <= 1e-3 per (size, seed, k), 95% "
        "t-interval. Plain model: d=10, m=20, δ0 ∈ {0.05,0.1,0.2}, first escape, log-log slope "
        "interval (quick/full). Controls: the plain model's runs judged by the logarithmic law "
        "(quick/full); scale: d = 1000, m = 50, δ0 = 0.2 (d·δ0² = 40), beyond the first correction."
    ),
    tolerance=(
        "δ0-slope 95% CI within 1 ± the registered slope_tol (0.002, units of 1/(2a_k)); every "
        "judged direction 2a_k|t - t_red| <= reduced_tol (0.1); plain log-log slope CI within "
        "2 ± plain_slope_tol (0.2)"
    ),
    tolerance_source=(
        "derived + calibrated: the slope tolerance 0.2% is derived in docs/math.md §12.1 "
        "(t_k is exactly linear in ln(1/δ0) up to O(δ0²/a_k) and solver "
        "error; fitted on δ0 <= 1e-3, the regime chosen on the calibration seeds, where "
        "δ0 = 1e-2 moved slopes by up to 0.4%); the reduced-flow tolerance 0.1 (units of ln: "
        "< 1.5% of t_k) was fixed before checking it on "
        f"{FIT_CALIBRATION} (disjoint from the judged seeds 0-2): max 2a_k|t - t_red| found "
        "0.036; at d = 1000-2000 the decoupled error grew like d·δ0² (0.015-0.19 for d·δ0² = "
        "0.4-3.6) and the first correction brought it to <= 0.04 (docs/math.md §12.1). The premise "
        "share 0.99 and the scale design were set after issue 22's full and scale runs (history). "
        "The plain log-log tolerance 0.2 is the claim's earlier 10% (not re-derived)"
    ),
    profiles=("quick", "full", "scale"),
    model_choice=MODEL_CHOICE,
    reference=(
        "not a statement of paper 2 (arXiv 2106.06573): derived here for the "
        "two-homogeneous flow the paper studies (docs/math.md §6, §12.1 [derived], "
        "checked by simulation)"
    ),
    caption=(
        "Middle: every judged 2a_k|t - t_red| must lie below the tolerance line; right: "
        "every δ0-slope interval inside the grey band; bottom: every check's margin must be "
        "positive."
    ),
)

FIT_DELTAS = (1e-2, 1e-3, 1e-4, 1e-6, 1e-8)
PLAIN_DELTAS = (0.05, 0.1, 0.2)
SCALE_DS, SCALE_M, SCALE_CONTROL_DELTA0 = (1000, 2000), 50, 0.2
SCALE_DELTAS = (2e-2, 1e-32, 1e-48, 1e-64)
"""Scale: δ0 = 2e-2 tests the weight correction (d·δ0² = 0.4, 0.8); the slope uses 1e-32..1e-64, where
the growth phase is long enough for every direction to align before the preceding fit (the decoupled
premise; at d = 1000-2000 the weak directions' alignment takes 20-100 time units)."""


@dataclass(frozen=True)
class FitTimeCase:
    """One flow from ``w_i = δ0·uniform(S^{d-1})``.

    ``law``: the prediction the run is judged against — ``"log"`` (two-homogeneous fit time,
    logarithmic in ``δ0``) or ``"power"`` (plain escape time ``∝ δ0^{-(l-2)}``); the negative control
    judges plain-model runs by the ``"log"`` law. ``fits``: integrate up to the predicted fit of the
    first ``fits`` directions only (0: all; scale runs). ``method``: the ODE solver. ``correct``: the
    prediction includes the first weight correction (docs/math.md §12.1; scale).
    """

    model: str
    d: int
    m: int
    delta0: float
    seed: int
    a: tuple[float, ...] = A5
    order: int = 4
    curves: bool = False
    law: str = ""
    fits: int = 0
    method: str = "RK45"
    correct: bool = False

    @property
    def judged_law(self) -> str:
        return self.law or ("log" if self.model == "homogeneous" else "power")


@claim.configs
def configs(profile: str) -> list[FitTimeCase]:
    if profile == "quick":
        sizes, seeds = [(10, 50)], [0, 1]
    elif profile == "full":
        sizes, seeds = [(10, 50), (50, 200), (100, 200)], [0, 1, 2]
    else:  # scale: the papers' regime, three leading directions, with the weight correction
        return [
            FitTimeCase("homogeneous", d, SCALE_M, dd, s, fits=3, correct=True)
            for d in SCALE_DS
            for dd in SCALE_DELTAS
            for s in (0, 1)
        ]
    homog = [
        FitTimeCase("homogeneous", d, m, dd, s, curves=(d, m, dd, s) == (10, 50, 1e-3, 0))
        for d, m in sizes
        for dd in FIT_DELTAS
        for s in seeds
    ]
    plain = [FitTimeCase("plain", 10, 20, dd, s) for dd in PLAIN_DELTAS for s in seeds]
    return homog + plain


@claim.controls
def controls(profile: str) -> dict[str, list[FitTimeCase]]:
    """The logarithmic law is predicted absent for the plain model: its runs judged by that law."""
    if profile == "scale":
        return {
            "beyond the weight correction (d·δ0² = 40)": [
                FitTimeCase(
                    "homogeneous", 1000, SCALE_M, SCALE_CONTROL_DELTA0, s, fits=3, correct=True
                )
                for s in (0, 1)
            ]
        }
    seeds = [0] if profile != "full" else [0, 1, 2]
    return {
        "plain model judged by the log law": [
            FitTimeCase("plain", 10, 20, dd, s, law="log") for dd in PLAIN_DELTAS for s in seeds
        ]
    }


@claim.experiment
def experiment(cfg: FitTimeCase) -> dict[str, Any]:
    target = orthogonal_tensor(cfg.a, cfg.d, cfg.order, basis="random", rng=cfg.seed)
    W0 = init_components(cfg.m, cfg.d, cfg.delta0, cfg.seed)
    # plain model: only the first direction's escape time is used (the δ0 slope)
    if cfg.model == "homogeneous" and cfg.fits:
        u0 = filled_alignment(W0, target)
        t_end = 1.5 * max(homogeneous_fit_times(cfg.a, u0, cfg.delta0, cfg.order)[: cfg.fits])
    else:
        t_end = flow_horizon(
            cfg.model, cfg.a, W0, target, cfg.delta0, first_only=cfg.model == "plain"
        )
    W_red, target_red = reduce_to_span(W0, target)  # exact: docs/math.md §11.7
    tr, traj = track_flow(
        W_red,
        target_red,
        (0.0, t_end),
        model=cfg.model,
        n_obs=201 if cfg.curves else 21,
        method=cfg.method,
        atol=solver_atol(cfg.delta0, cfg.d),
    )
    out: dict[str, Any] = {
        "fit_times": tr.fit_times.tolist(),
        "u0": initial_alignment(W0, target, model="homogeneous").tolist(),
        "u_assigned": assigned_u0(W0, target, cfg.a),
        "x0": np.abs(W0 @ target.components.T).max(axis=0).tolist(),
        "nfev": traj.nfev,
    }
    if cfg.model == "homogeneous" or cfg.law == "log":
        out["reduced_fit_times"] = reduced_fit_times(
            W0, target, cfg.a, cfg.delta0, weight_correction=cfg.correct
        )
        out["winner_share"] = initial_winner_share(W_red, traj.W, target_red, cfg.a)
        out["alignment_times"] = alignment_times(W0, target, cfg.a)
    if cfg.curves:
        out["t"] = tr.t.tolist()
        out["fits"] = tr.fits.tolist()
    return out


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    reg = registration(claim.id)
    a, u0, d0 = sp.symbols("a u0 delta0", positive=True)
    expr = theory.homogeneous_fit_time_expr(a, u0, d0, 4)
    x = sp.Symbol("x", positive=True)
    # d t / d ln(1/δ0) from the symbolic expression (prediction of the log-dependence)
    slope = sp.simplify(sp.diff(expr.subs(d0, sp.exp(-x)), x))
    return {
        "homogeneous_fit_time_l4": str(expr),
        "next_order_closed_form": (
            "[ln(q a/((1-q)δ0²)) - ln Σ_i exp(-Λ_l(u_i))]/(4a), Λ_4(u) = "
            f"{theory.homogeneous_lag_expr(4)}"
        ),
        "next_order_reduced_flow": "same with Λ_i from the decoupled early flow (R = T*)",
        "homogeneous_slope_dt_dln(1/delta0)": str(slope),
        "plain_loglog_slope": 4 - 2,
        "slope_tol": reg.tolerance("slope_tol", profile),
        "reduced_tol": reg.tolerance("reduced_tol", profile),
        "plain_slope_tol": reg.tolerance("plain_slope_tol", profile),
        "winner_share_min": reg.tolerance("winner_share_min", profile),
    }


def _least_margin(checks: list[Any]) -> Any:
    return min(checks, key=lambda ch: -math.inf if math.isnan(ch.margin) else ch.margin)


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = ok_runs(results)
    slope_tol, reduced_tol = float(prediction["slope_tol"]), float(prediction["reduced_tol"])
    plain_tol, share_min = (
        float(prediction["plain_slope_tol"]),
        float(prediction["winner_share_min"]),
    )
    predicted = (
        "two-homogeneous: t_k = ln(1/δ0)/(2a_k) + C_k (slope within "
        f"{slope_tol:.1%} of 1/(2a_k) on δ0 <= {SLOPE_DELTA_MAX:g}); C_k from the decoupled early "
        f"flow, 2a_k|t - t_red| <= {reduced_tol:g}; plain: log-log slope 2 ± {plain_tol:g}"
    )
    if not ok:
        return no_runs(predicted)
    ev = Evidence()
    an = fit_time_analysis(ok, share_min)
    # (A) δ0-slope of 2a_k t_k against ln(1/δ0), per size: the least favourable (seed, k) group
    slope_checks: dict[tuple[int, int], list[Any]] = {}
    slopes = []
    for key, pts in an["groups"].items():
        if len({p[0] for p in pts}) < 3:
            continue
        fit = linear_fit([p[0] for p in pts], [p[1] for p in pts])
        chk = interval_within(f"δ0-slope d={key[1]} m={key[2]}", fit.ci, 1.0, slope_tol)
        slope_checks.setdefault((key[1], key[2]), []).append(chk)
        slopes.append({"d": key[1], "m": key[2], "seed": key[3], "k": key[6], **fit.as_dict()})
    for checks in slope_checks.values():
        ev.add(_least_margin(checks))
    # (B) the constant: the next-order term of the decoupled early flow
    if an["rows"]:
        ev.at_most(
            "next-order (reduced flow): max 2a_k|t - t_red|", an["worst_reduced"], reduced_tol
        )
    # plain model: escape time ∝ δ0^{-(l-2)} (first direction)
    plain: dict[tuple[int, int, int], list[tuple[float, float]]] = {}
    for c, m in ok:
        if c.judged_law == "power" and math.isfinite(m["fit_times"][0]):
            plain.setdefault((c.d, c.m, c.seed), []).append(
                (math.log(1 / c.delta0), math.log(m["fit_times"][0]))
            )
    plain_checks = []
    for (d, mm, _seed), pts in plain.items():
        if len(pts) >= 3:
            fit = linear_fit([p[0] for p in pts], [p[1] for p in pts])
            plain_checks.append(
                interval_within(
                    f"plain log-log slope d={d} m={mm}",
                    fit.ci,
                    float(prediction["plain_loglog_slope"]),
                    plain_tol,
                )
            )
    if plain_checks:
        ev.add(_least_margin(plain_checks))
    if not (slope_checks or an["rows"] or plain_checks):
        return Verdict("inconclusive", "no fitted direction met the premise", predicted, "n/a")
    by_delta: dict[float, list[float]] = {}
    for r in an["rows"]:
        by_delta.setdefault(r["delta0"], []).append(abs(r["rel_err_lead"]))
    lead_by_delta = {f"{k:g}": float(np.median(v)) for k, v in sorted(by_delta.items())}
    shrink = None
    medians = {d0: float(np.median(v)) for d0, v in by_delta.items()}
    pts = [(math.log(math.log(1 / d0)), math.log(v)) for d0, v in sorted(medians.items()) if v > 0]
    if len(pts) >= 3:
        shrink = linear_fit([p[0] for p in pts], [p[1] for p in pts])
    if slope_checks:
        ev.note(
            "The slope interval bounds the δ0-dependence of the additive prediction's error "
            "t_lead - t, so its relative error shrinks like 1/ln(1/δ0) (median by δ0: "
            f"{ {k: round(v, 4) for k, v in lead_by_delta.items()} }"
            + (
                f"; log-log slope against ln(1/δ0) {shrink.slope:.2f}, 95% CI "
                f"[{shrink.ci[0]:.2f}, {shrink.ci[1]:.2f}], -1 asymptotically)."
                if shrink
                else ")."
            )
        )
    ev.note(
        f"Closed-form next-order term (other directions' pull dropped): max 2a_k|t - t_next| = "
        f"{an['worst_next']:.3f} (reported, not judged)."
    )
    if an["late_aligned"]:
        ev.note(
            f"{an['late_aligned']} (run, direction) pair(s) still aligning when the preceding "
            "direction was predicted fitted (the residual then changes along it, outside the "
            "decoupled premise, docs/math.md §12.1): reported, not judged."
        )
    if an["rerouted"] or an["missing"]:
        ev.note(
            f"{an['rerouted']} (run, direction) pair(s) not fitted by their initial winners "
            f"(< {share_min:.0%} of the final weight; components freed by earlier fits were "
            f"re-routed) and {an['missing']} not fitted in the window: outside the premise, not judged."
        )
    measured = (
        f"max 2a_k|t - t_red| = {an['worst_reduced']:.4f}; closed form {an['worst_next']:.3f}; "
        f"additive prediction max rel. error {an['worst_lead']:.1%}; {len(slopes)} δ0-slope "
        f"groups; {an['rerouted']} re-routed (run, direction) pairs"
    )
    numbers = {
        "max_reduced_scaled_error": an["worst_reduced"],
        "max_closed_form_scaled_error": an["worst_next"],
        "max_rel_err_lead": an["worst_lead"],
        "median_rel_err_lead_by_delta0": lead_by_delta,
        "rel_err_lead_loglog_slope": shrink.as_dict() if shrink else None,
        "slopes": slopes,
        "rerouted": an["rerouted"],
        "late_aligned": an["late_aligned"],
        "not_fitted": an["missing"],
        "runs": len(ok),
    }
    return ev.verdict(predicted=predicted, measured=measured, numbers=numbers)


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    """Top: one run's fit curves with the reduced-flow fit times (dashed); every judged
    (run, direction)'s 2a_k|t - t_red| against ln(1/δ0) with the tolerance; every δ0-slope group's
    slope of 2a_k t_k on ln(1/δ0) (95% interval) against the band 1 ± slope_tol. Bottom: the judged
    checks' margins."""
    verdict = judge(prediction, results)
    (ax, ax2, ax3), bottom = evidence_grid(fig, 3, rows=len(verdict.checks))
    ok = ok_runs(results)
    for c, m in ok:
        if not c.curves:
            continue
        t = np.asarray(m["t"])
        fits = np.asarray(m["fits"])
        pred = m.get("reduced_fit_times") or next_order_fit_times(c, m)
        for k, ak in enumerate(c.a):
            (line,) = ax.plot(t, fits[:, k], label=f"$a_{k + 1}$ = {ak:g}")
            ax.axvline(pred[k], color=line.get_color(), ls="--", lw=0.8)
            ax.plot(m["fit_times"][k], ak / 2, "o", color=line.get_color(), ms=4)
        ax.set_title(f"d={c.d}, m={c.m}, $\\delta_0$={c.delta0:g}")
        break
    ax.set_xlabel("t (dashed: reduced-flow fit times)")
    ax.set_ylabel(r"fit of $e_k$: $T(W)(e_k^{\otimes 4})$")
    legend(ax, fontsize=9, loc="lower right")
    rows = fit_time_analysis(ok, float(prediction.get("winner_share_min", 0.99)))["rows"]
    reduced_tol = float(prediction.get("reduced_tol", 0.1))
    for k in sorted({r["k"] for r in rows}):
        mine = [r for r in rows if r["k"] == k]
        ax2.plot(
            [math.log(1 / r["delta0"]) for r in mine],
            [max(abs(r["scaled_err_reduced"]), 1e-8) for r in mine],
            "o",
            ms=4,
            color=f"C{k}",
            label=f"k = {k + 1}",
        )
    ax2.axhline(reduced_tol, color="k", lw=1.2, label="tolerance")
    ax2.set_yscale("log")
    ax2.set_xlabel(r"$\ln(1/\delta_0)$")
    ax2.set_ylabel(r"$2a_k\,|t_k - t_k^{\mathrm{red}}|$ (judged)")
    ax2.set_title("Reduced-flow fit times")
    legend(ax2, fontsize=9, loc="lower right", ncols=2)
    slope_tol = float(prediction.get("slope_tol", 0.002))
    slopes = sorted(verdict.numbers.get("slopes", []), key=lambda g: (g["d"], g["seed"], g["k"]))
    for j, g in enumerate(slopes):
        lo, hi = g["ci95"]
        ax3.errorbar(
            j,
            g["slope"] - 1,
            yerr=[[g["slope"] - lo], [hi - g["slope"]]],
            fmt="o",
            ms=3,
            color=f"C{g['k']}",
            capsize=2,
        )
    ax3.axhspan(-slope_tol, slope_tol, color="0.85", label=f"1 ± {slope_tol:g}")
    ax3.set_xlabel("(size, seed, direction) group")
    ax3.set_ylabel(r"slope of $2a_k t_k$ on $\ln(1/\delta_0)$, minus 1")
    ax3.set_title(r"$\delta_0$-slope, 95% interval")
    legend(ax3, fontsize=9)
    checks_panel(
        bottom, verdict.checks, title="Judged checks (margin: share of the tolerance left)"
    )
    data: dict[str, list[Any]] = {}
    for key in ("d", "m", "seed", "k", "delta0", "t", "lead", "next", "reduced", "rel_err_lead"):
        data[key] = [r[key] for r in rows]
    return data
