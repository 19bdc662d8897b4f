"""Paper 2 (Ge, Ren, Wang, Zhou, NeurIPS 2021): the dynamics of the deflation process (docs/math.md §6).

Claims (ids ``deflation.*``; derivations in docs/math.md §12):

* ``fit-times`` — t_k = ln(1/δ0)/(2a_k) + C_k: the δ0-slope (interval within 0.2%), the constant
  from the decoupled early flow (next-order term), so the additive prediction's relative error
  shrinks like 1/ln(1/δ0); plain model: escape time ∝ δ0^{-(l-2)} (control: plain runs judged by
  the logarithmic law);
* ``norm-correlation`` — along whole trajectories, ||w|| >= δ1 ⇒ correlation >= 0.99 for
  δ1 ∈ {10, 100}·δ0 (control: δ1 <= 2δ0);
* ``local-stability`` — a fitted component stays within its predicted distance of e_k while the
  later directions are fitted (control: coherent targets);
* ``staircase`` — between fits the residual plateaus at the deflation residual, also for close
  coefficients at tiny δ0 (control: large initialisation);
* ``regulariser-bias`` — fitted values settle at ``a_k - λ/2``; ``a_k <= λ/2`` is not learned
  (control: no regulariser, judged with λ = 0.3).

Shared helpers (initialisation, leading-order predictions, horizons, plateau errors) come from
:mod:`reports.claims.paper2._deflation`. :data:`SCALE_METHOD` is the solver of the plain-model scale runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

import theory
from numerics import gradient_flow
from numerics.algorithms import initial_alignment, track_flow
from numerics.tensors import orthogonal_tensor, random_low_rank

from ._shared import legend
from ..registry import Claim, RunResult, Verdict, register
from ..statistics import Evidence, interval_within, linear_fit
from ._shared import ok_runs as _ok
from .paper2._deflation import (
    A5,
    MODEL_CHOICE,
)
from .paper2._deflation import flow_horizon as _horizon
from .paper2._deflation import homogeneous_fit_times as _homog_pred
from .paper2._deflation import init_components as _init

# ============================================================================ deflation.fit-times
SCALE_METHOD = "auto"
"""Solver of the plain-model scale runs: "auto" (RK45, then matrix-free CVODE once the flow is stiff)."""


@dataclass(frozen=True)
class FitTimeCase:
    """One flow from ``w_i = δ0·uniform(S^{d-1})``.

    ``law``: the prediction the run is judged against — ``"log"`` (two-homogeneous fit time,
    logarithmic in ``δ0``) or ``"power"`` (plain escape time ``∝ δ0^{-(l-2)}``); the negative control
    judges plain-model runs by the ``"log"`` law. ``fits``: integrate up to the predicted fit of the
    first ``fits`` directions only (0: all; scale runs). ``method``: the ODE solver.
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

    @property
    def judged_law(self) -> str:
        return self.law or ("log" if self.model == "homogeneous" else "power")


def _assigned_u0(W0: np.ndarray, target: Any, a: Sequence[float]) -> list[list[float]]:
    """Initial squared correlations of the components going to each ``e_k`` (docs/math.md §6).

    The assignment is :func:`numerics.algorithms.initial_alignment`'s: the ``k`` maximising
    ``a_k <w̄_i, e_k>^{l-2}`` (positive correlations only for odd ``l``).
    """
    E = target.components
    corr = (W0 / np.linalg.norm(W0, axis=1)[:, None]) @ E.T
    score = np.asarray(a)[None, :] * corr ** (target.order - 2)
    winner = np.argmax(score, axis=1)
    grows = score[np.arange(W0.shape[0]), winner] > 0
    return [(corr[(winner == k) & grows, k] ** 2).tolist() for k in range(E.shape[0])]


def _atol(delta0: float, d: int) -> float:
    """Absolute solver tolerance 1e-6 of a typical initial entry δ0/√d (capped at the default 1e-9).

    With the default 1e-9 the early dynamics of entries ~δ0/√d are integrated only to relative
    accuracy 1e-9·√d/δ0 (0.3% at δ0 = 1e-6, d = 10), which biases the fit times at small δ0.
    """
    return min(1e-9, 1e-6 * delta0 / math.sqrt(d))


def reduced_fit_times(
    W0: np.ndarray, target: Any, a: Sequence[float], delta0: float, q: float = 0.5
) -> list[float]:
    """Fit times of the decoupled early dynamics (docs/math.md §12.1).

    Every component follows the two-homogeneous flow with ``R = T*`` (``T(W)`` neglected), which in
    the target basis is the ODE ``dx/dt = l(a∘x^{∘(l-1)} - P x)``, ``P = Σ_j a_j x_j^l``, for its
    coordinates ``x`` (the part outside ``span(E)`` only decays), with ``d ln s/dt = 4P``. Once
    aligned with ``e_k``, ``ln s = ln δ0² + 4a_k t - Λ_i``; the winners of ``e_k`` then saturate
    together by the logistic law: ``t_k = [ln(q a_k/((1-q)δ0²)) - ln Σ_i e^{-Λ_i}]/(4a_k)``. This is
    the next-order term with the other directions' pull kept (the closed form
    :func:`theory.homogeneous_fit_time_next` drops it). Integrated with DOP853 (rtol 1e-10) to
    ``T`` = 4x the slowest leading-order alignment time + 5/min(a), over the directions that have
    winners (the others get NaN).
    """
    from scipy.integrate import solve_ivp

    E = target.components
    order = target.order
    av = np.asarray(a, dtype=float)
    m, r = W0.shape[0], av.shape[0]
    x0 = (W0 / np.linalg.norm(W0, axis=1)[:, None]) @ E.T
    rest0 = np.sqrt(np.maximum(0.0, 1.0 - np.sum(x0**2, axis=1)))
    score = av[None, :] * x0 ** (order - 2)
    win0 = np.argmax(score, axis=1)

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        x = y[: m * r].reshape(m, r)
        P = (av[None, :] * x**order).sum(axis=1)
        dx = order * (av[None, :] * x ** (order - 1) - P[:, None] * x)
        return np.concatenate([dx.ravel(), -order * P * y[m * r : m * (r + 1)], 4 * P])

    u0 = np.array([float(np.max(x0[win0 == k, k] ** 2, initial=0.0)) for k in range(r)])
    won = u0 > 0  # a direction without winners has no prediction (NaN below)
    if not np.any(won):
        return [float("nan")] * r
    align = 1.0 / (order * (order - 2) * av[won] * u0[won] ** ((order - 2) / 2))
    T = 4.0 * float(align.max()) + 5.0 / float(av[won].min())
    y0 = np.concatenate([x0.ravel(), rest0, np.zeros(m)])
    sol = solve_ivp(rhs, (0.0, T), y0, method="DOP853", rtol=1e-10, atol=1e-13)
    if not sol.success:
        raise RuntimeError(f"reduced early flow failed: {sol.message}")
    x = sol.y[: m * r, -1].reshape(m, r)
    log_s = sol.y[m * (r + 1) :, -1]
    final = np.argmax(np.abs(x), axis=1)
    out = []
    for k in range(r):
        mine = (win0 == k) & (final == k) & (score[np.arange(m), win0] > 0)
        if not np.any(mine):
            out.append(float("nan"))
            continue
        lag = 4 * av[k] * T - log_s[mine]
        low = float(lag.min())
        log_sum = -low + math.log(float(np.sum(np.exp(low - lag))))
        out.append(float((math.log(q * av[k] / ((1 - q) * delta0**2)) - log_sum) / (4 * av[k])))
    return out


def initial_winner_share(
    W0: np.ndarray, W: np.ndarray, target: Any, a: Sequence[float]
) -> list[float]:
    """Per direction: the share of its final weight carried by its initial winners.

    The premise of the fit-time predictions is that ``e_k`` is fitted by the components that win it
    at initialisation; components freed by earlier fits can be re-routed to a weak direction.
    """
    E = target.components
    order = target.order
    x0 = (W0 / np.linalg.norm(W0, axis=1)[:, None]) @ E.T
    win0 = np.argmax(np.asarray(a)[None, :] * x0 ** (order - 2), axis=1)
    s = np.sum(W**2, axis=1)
    final = np.argmax(np.abs((W / np.sqrt(np.maximum(s, 1e-300))[:, None]) @ E.T), axis=1)
    out = []
    for k in range(E.shape[0]):
        total = float(s[final == k].sum())
        out.append(
            float(s[(final == k) & (win0 == k)].sum()) / total if total > 0 else float("nan")
        )
    return out


def fit_time_experiment(cfg: FitTimeCase) -> dict[str, Any]:
    target = orthogonal_tensor(cfg.a, cfg.d, cfg.order, basis="random", rng=cfg.seed)
    W0 = _init(cfg.m, cfg.d, cfg.delta0, cfg.seed)
    # plain model: only the first direction's escape time is used (the δ0 slope)
    if cfg.model == "homogeneous" and cfg.fits:
        u0 = initial_alignment(W0, target, model="homogeneous")
        u0 = np.where(np.isfinite(u0), u0, 1.0 / cfg.d)
        t_end = 1.5 * max(_homog_pred(cfg.a, u0, cfg.delta0, cfg.order)[: cfg.fits])
    else:
        t_end = _horizon(cfg.model, cfg.a, W0, target, cfg.delta0, first_only=cfg.model == "plain")
    tr, traj = track_flow(
        W0,
        target,
        (0.0, t_end),
        model=cfg.model,
        n_obs=201 if cfg.curves else 21,
        method=cfg.method,
        atol=_atol(cfg.delta0, cfg.d),
    )
    out: dict[str, Any] = {
        "fit_times": tr.fit_times.tolist(),
        "u0": initial_alignment(W0, target, model="homogeneous").tolist(),
        "u_assigned": _assigned_u0(W0, target, cfg.a),
        "x0": np.abs(W0 @ target.components.T).max(axis=0).tolist(),
        "nfev": traj.nfev,
    }
    if cfg.model == "homogeneous" or cfg.law == "log":
        out["reduced_fit_times"] = reduced_fit_times(W0, target, cfg.a, cfg.delta0)
        out["winner_share"] = initial_winner_share(W0, traj.W, target, cfg.a)
    if cfg.curves:
        out["t"] = tr.t.tolist()
        out["fits"] = tr.fits.tolist()
    return out


FIT_DELTAS = (1e-2, 1e-3, 1e-4, 1e-6, 1e-8)
SLOPE_DELTA_MAX = 1e-3
"""The δ0-slope is fitted on δ0 <= 1e-3 (the asymptotic regime: on the calibration seeds the
δ0 = 1e-2 point still carries the O(1) interaction of overlapping fits, up to 0.4% on the slope)."""
PLAIN_DELTAS = (0.05, 0.1, 0.2)
PLAIN_SCALE = (0.15, 0.2, 0.25)
"""Plain model at d = 1000, m = 200 (m = 1000 cost > 6 CPU-minutes per run): x0 ≈ 0.1 δ0, so the
first escape takes ~12/δ0² (190-550); the neglected self term δ0^6 is 5-40% of the drive 0.01 δ0²
(smaller δ0 would take too long)."""


def fit_time_configs(profile: str) -> list[FitTimeCase]:
    if profile == "quick":
        sizes, seeds = [(10, 50)], [0, 1]
    elif profile == "full":
        sizes, seeds = [(10, 50), (50, 200), (100, 200)], [0, 1, 2]
    else:  # scale: the papers' regime, three leading directions, one seed
        cases = [
            FitTimeCase("homogeneous", d, d, dd, 0, fits=3)
            for d, deltas in ((1000, (1e-3, 1e-4, 1e-6)), (2000, (1e-2, 1e-4)))
            for dd in deltas
        ]
        cases += [FitTimeCase("plain", 1000, 200, dd, 0, method=SCALE_METHOD) for dd in PLAIN_SCALE]
        return cases
    homog = [
        FitTimeCase("homogeneous", d, m, dd, s, curves=(d, m, dd, s) == (10, 50, 1e-3, 0))
        for d, m in sizes
        for dd in FIT_DELTAS
        for s in seeds
    ]
    plain = [FitTimeCase("plain", 10, 20, dd, s) for dd in PLAIN_DELTAS for s in seeds]
    return homog + plain


def fit_time_controls(profile: str) -> dict[str, list[FitTimeCase]]:
    """The logarithmic law is predicted absent for the plain model: its runs judged by that law."""
    seeds = [0] if profile != "full" else [0, 1, 2]
    # scale: the small plain runs (d = 10) serve as the control; the d = 1000 plain runs cost minutes
    return {
        "plain model judged by the log law": [
            FitTimeCase("plain", 10, 20, dd, s, law="log") for dd in PLAIN_DELTAS for s in seeds
        ]
    }


SLOPE_TOL = 0.002
"""|normalised δ0-slope - 1| (docs/math.md §12.1: exact up to O(δ0²/a))."""
REDUCED_TOL = 0.1
"""2a_k |t_meas - t_reduced| (units of ln): fixed before the calibration run, see FIT_CALIBRATION."""
FIT_CALIBRATION = "seeds 1000-1002, (d, m) in {(10,50),(50,200),(100,200)}, δ0 in FIT_DELTAS"
PLAIN_SLOPE_TOL = 0.2
WINNER_SHARE_MIN = 0.9
"""Premise: e_k is fitted by its initial winners (>= 90% of its final weight)."""


def fit_time_predict(profile: str) -> dict[str, Any]:
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
        "slope_tol": SLOPE_TOL,
        "reduced_tol": REDUCED_TOL,
        "plain_slope_tol": PLAIN_SLOPE_TOL,
        "winner_share_min": WINNER_SHARE_MIN,
    }


def _next_order(c: FitTimeCase, m: Mapping[str, Any]) -> list[float]:
    return [
        theory.homogeneous_fit_time_next(ak, us, c.delta0, c.order) if us else float("nan")
        for ak, us in zip(c.a, m["u_assigned"], strict=True)
    ]


def _fit_time_analysis(ok: list[tuple[Any, Mapping[str, Any]]]) -> dict[str, Any]:
    """Per (run, direction) errors of the three predictions, and δ0-slope groups (``log`` law).

    Only directions meeting the premise (fitted by their initial winners) enter the judged errors
    and slopes; the others are counted in ``rerouted``.
    """
    groups: dict[tuple[Any, ...], list[tuple[float, float]]] = {}
    excluded: set[tuple[Any, ...]] = set()
    worst_red, worst_next, worst_lead = 0.0, 0.0, 0.0
    rows, rerouted, missing = [], 0, 0
    for c, m in ok:
        if c.judged_law != "log":
            continue
        lead = _homog_pred(c.a, m["u0"], c.delta0, c.order)
        nxt = _next_order(c, m)
        red = m.get("reduced_fit_times") or [float("nan")] * len(c.a)
        share = m.get("winner_share") or [1.0] * len(c.a)
        for k, ak in enumerate(c.a):
            if c.fits and k >= c.fits:
                continue  # beyond the integration window by design (scale runs)
            key = (c.model, c.d, c.m, c.seed, c.a, c.order, k)
            t = float(m["fit_times"][k])
            if not (math.isfinite(t) and math.isfinite(red[k])):
                missing += 1
                excluded.add(key)
                continue
            if not share[k] >= WINNER_SHARE_MIN:
                rerouted += 1
                excluded.add(key)
                continue
            worst_red = max(worst_red, 2 * ak * abs(t - red[k]))
            if math.isfinite(nxt[k]):
                worst_next = max(worst_next, 2 * ak * abs(t - nxt[k]))
            worst_lead = max(worst_lead, abs(lead[k] / t - 1))
            if c.delta0 <= SLOPE_DELTA_MAX:
                groups.setdefault(key, []).append((math.log(1 / c.delta0), 2 * ak * t))
            rows.append(
                {
                    "d": c.d,
                    "m": c.m,
                    "seed": c.seed,
                    "k": k,
                    "delta0": c.delta0,
                    "t": t,
                    "lead": lead[k],
                    "next": nxt[k],
                    "reduced": red[k],
                    "rel_err_lead": lead[k] / t - 1,
                    "scaled_err_lead": 2 * ak * (lead[k] - t),
                    "scaled_err_reduced": 2 * ak * (red[k] - t),
                }
            )
    return {
        "groups": {k: v for k, v in groups.items() if k not in excluded},
        "worst_reduced": worst_red,
        "worst_next": worst_next,
        "worst_lead": worst_lead,
        "rows": rows,
        "rerouted": rerouted,
        "missing": missing,
    }


def _least_margin(checks: list[Any]) -> Any:
    return min(checks, key=lambda ch: -math.inf if math.isnan(ch.margin) else ch.margin)


def fit_time_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = _ok(results)
    predicted = (
        "two-homogeneous: t_k = ln(1/δ0)/(2a_k) + C_k (slope within "
        f"{SLOPE_TOL:.1%} of 1/(2a_k) on δ0 <= {SLOPE_DELTA_MAX:g}); C_k from the decoupled early "
        f"flow, 2a_k|t - t_red| <= {REDUCED_TOL:g}; plain: log-log slope 2 ± {PLAIN_SLOPE_TOL:g}"
    )
    if not ok:
        return Verdict("inconclusive", "no run produced metrics", predicted, "n/a")
    ev = Evidence()
    an = _fit_time_analysis(ok)
    # (A) δ0-slope of 2a_k t_k against ln(1/δ0), per size: the least favourable (seed, k) group
    slope_checks: dict[tuple[int, int], list[Any]] = {}
    slopes = []
    for key, pts in an["groups"].items():
        if len({p[0] for p in pts}) < 3:
            continue
        fit = linear_fit([p[0] for p in pts], [p[1] for p in pts])
        chk = interval_within(f"δ0-slope d={key[1]} m={key[2]}", fit.ci, 1.0, SLOPE_TOL)
        slope_checks.setdefault((key[1], key[2]), []).append(chk)
        slopes.append({"d": key[1], "m": key[2], "seed": key[3], "k": key[6], **fit.as_dict()})
    for checks in slope_checks.values():
        ev.add(_least_margin(checks))
    # (B) the constant: the next-order term of the decoupled early flow
    if an["rows"]:
        ev.at_most(
            "next-order (reduced flow): max 2a_k|t - t_red|", an["worst_reduced"], REDUCED_TOL
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
                    PLAIN_SLOPE_TOL,
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
    if an["rerouted"] or an["missing"]:
        ev.note(
            f"{an['rerouted']} (run, direction) pair(s) not fitted by their initial winners "
            f"(< {WINNER_SHARE_MIN:.0%} of the final weight; components freed by earlier fits were "
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
        "not_fitted": an["missing"],
        "runs": len(ok),
    }
    return ev.verdict(predicted=predicted, measured=measured, numbers=numbers)


def fit_time_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    """Left: fit curves with predicted fit times. Right: 2a_k(t_lead - t) against ln(1/δ0)."""
    ax = fig.add_subplot(1, 2, 1)
    ok = _ok(results)
    data: dict[str, list[Any]] = {}
    for c, m in ok:
        if not c.curves:
            continue
        t = np.asarray(m["t"])
        fits = np.asarray(m["fits"])
        pred = m.get("reduced_fit_times") or _next_order(c, m)
        for k, ak in enumerate(c.a):
            (line,) = ax.plot(t, fits[:, k], label=f"a={ak:g}")
            ax.axvline(pred[k], color=line.get_color(), ls="--", lw=0.8)
            ax.plot(m["fit_times"][k], ak / 2, "o", color=line.get_color(), ms=4)
        ax.set_title(f"d={c.d}, m={c.m}, δ0={c.delta0:g}; dashed: next-order t_k", fontsize=8)
        break
    ax.set_xlabel("t")
    ax.set_ylabel("T(W)(e_k^{⊗4})")
    legend(ax, fontsize=6)
    ax2 = fig.add_subplot(1, 2, 2)
    rows = _fit_time_analysis(ok)["rows"]
    for r in rows:
        x = math.log(1 / r["delta0"])
        # bar: the next-order prediction of the additive prediction's error ± the tolerance
        ax2.errorbar(
            x,
            r["scaled_err_lead"] - r["scaled_err_reduced"],
            yerr=REDUCED_TOL,
            fmt="none",
            color="0.7",
            lw=0.6,
        )
        ax2.plot(x, r["scaled_err_lead"], ".", ms=3, color=f"C{r['k']}")
    ax2.axhline(0, color="k", lw=0.5)
    ax2.set_xlabel("ln(1/δ0)")
    ax2.set_ylabel("2a_k (t_lead - t): flat = rel. error ∝ 1/ln(1/δ0)")
    ax2.set_title("dots: measured; bars: next-order prediction ± tol", fontsize=8)
    for key in ("d", "m", "seed", "k", "delta0", "t", "lead", "next", "reduced", "rel_err_lead"):
        data[key] = [r[key] for r in rows]
    return data


register(
    Claim(
        id="deflation.fit-times",
        source="docs/math.md §6 [derived, checked by simulation]; Ge et al. 2021 (paper 2)",
        statement=(
            "Two-homogeneous model, orthogonal target, λ=0, small init: a direction fitted by the "
            "components that win it at initialisation is fitted (fit reaches a_k/2) at "
            "t_k = ln(1/δ0)/(2a_k) + C_k + o(1); the constant C_k is the next-order term "
            "[ln(a_k/δ0²) - ln Σ_i e^{-Λ_i}]/(4a_k) (l=4) with Λ_i the growth lag of winner i in the "
            "decoupled early flow, so the additive prediction 1/(8a_k u0) + ln(a_k/(2δ0²))/(4a_k) "
            "has the exact slope and a δ0-independent error: its relative error shrinks like "
            "1/ln(1/δ0). For the plain model the escape time grows like δ0^{-(l-2)}."
        ),
        latex=(
            r"t_k=\frac{\ln(a_k/\delta_0^2)-\ln\sum_{i\to k}e^{-\Lambda_i}}{4a_k}+o(1),"
            r"\ \Lambda_i=\lim_{t\to\infty}\big(4a_kt-\ln(s_i(t)/\delta_0^2)\big);"
            r"\quad t^{\mathrm{plain}}\propto\delta_0^{-(l-2)}"
        ),
        method=(
            "a=(1,.8,.6,.4,.2), l=4, random orthonormal basis, w_i = δ0·uniform(S^{d-1}), "
            "δ0 ∈ {1e-2,1e-3,1e-4,1e-6,1e-8} (solver atol 1e-6·δ0/√d); quick: (d,m)=(10,50), "
            "seeds 0-1; full: (10,50), (50,200), (100,200), seeds 0-2; scale: d=m=1000 (δ0 ∈ {1e-3,1e-4,1e-6}) "
            "and 2000 (δ0 ∈ {1e-2,1e-4}), first three fits, plain model d=1000, m=200, "
            "δ0 ∈ {0.15, 0.2, 0.25}. Fit times by events on RK45's dense output. "
            "Prediction: the decoupled early flow (R = T*) of every component integrated in the "
            "target basis from the same initial directions (DOP853), plus logistic saturation; "
            "the closed form (single-direction lag Λ(u) = (1/u - 1 - ln u)/2) is reported. "
            "Premise, measured per (run, direction): >= 90% of the direction's final weight is "
            "carried by its initial winners (weak directions can be fitted by components freed "
            "from earlier fits; those pairs are reported, not judged). Slope: least-squares fit "
            "of 2a_k t_k on ln(1/δ0) over δ0 <= 1e-3 per (size, seed, k), 95% t-interval. Plain "
            "model: d=10, m=20, δ0 ∈ {0.05,0.1,0.2}, first escape, log-log slope interval. "
            "Control: the plain model's runs judged by the same logarithmic law must fail."
        ),
        tolerance=(
            f"δ0-slope 95% CI within 1 ± {SLOPE_TOL:g} (units of 1/(2a_k)); every judged "
            f"direction 2a_k|t - t_red| <= {REDUCED_TOL:g}; plain log-log slope CI within "
            f"2 ± {PLAIN_SLOPE_TOL:g}"
        ),
        tolerance_source=(
            "derived + calibrated: the slope tolerance 0.2% is derived in docs/math.md §12.1 "
            "(t_k is exactly linear in ln(1/δ0) up to O(δ0²/a_k) and solver "
            "error; fitted on δ0 <= 1e-3, the regime chosen on the calibration seeds, where "
            "δ0 = 1e-2 moved slopes by up to 0.4%); the reduced-flow tolerance 0.1 (units of ln: "
            "< 1.5% of t_k) was fixed before checking it on "
            f"{FIT_CALIBRATION} (disjoint from the judged seeds 0-2): max 2a_k|t - t_red| found "
            "0.036 (largest at δ0 = 1e-2; <= 0.013 at δ0 <= 1e-3); reproduce with "
            "docs/calibrate_deflation_dynamics.py. The plain log-log "
            "tolerance 0.2 is the claim's earlier 10% (not re-derived)"
        ),
        experiment=fit_time_experiment,
        configs=fit_time_configs,
        predict=fit_time_predict,
        judge=fit_time_judge,
        plot=fit_time_plot,
        controls=fit_time_controls,
        profiles=("quick", "full", "scale"),
        model_choice=MODEL_CHOICE,
    )
)


# ============================================================================ deflation.staircase
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


def stair_experiment(cfg: StairCase) -> dict[str, Any]:
    target = orthogonal_tensor(cfg.a, cfg.d, cfg.order, basis="random", rng=cfg.seed)
    W0 = _init(cfg.m, cfg.d, cfg.delta0, cfg.seed)
    a = np.asarray(cfg.a)
    if cfg.model == "homogeneous":
        u0 = initial_alignment(W0, target, model="homogeneous")
        u0 = np.where(np.isfinite(u0), u0, 1.0 / cfg.d)
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
        t_end = _horizon(cfg.model, cfg.a, W0, target, cfg.delta0)
    tr, _ = track_flow(
        W0,
        target,
        (0.0, t_end),
        model=cfg.model,
        n_obs=801,
        method=cfg.method,
        atol=_atol(cfg.delta0, cfg.d),
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


STAIR_A = (1.0, 0.5, 0.25)
STAIR_CLOSE = (1.0, 0.9, 0.8)
STAIR_RTOL = 0.03
"""|plateau/deflation residual - 1| (the statement's tolerance; regimes chosen where the derived
two-exponential deviation, docs/math.md §12.3, is <= 1% at the leading-order gaps)."""


def stair_configs(profile: str) -> list[StairCase]:
    if profile == "scale":
        # the plain model at d >= 1000 runs through method="auto" (stiff after the first fit); with
        # m = 20 one run takes about 6 s at d = 1000 (2026-12-02, one BLAS thread)
        return [
            StairCase(STAIR_A, 4, 1000, 1000, 1e-4, 0, fits=3),
            StairCase(STAIR_A, 4, 2000, 2000, 1e-4, 0, fits=3),
            *(
                StairCase(STAIR_A, 4, d, 20, 0.1, s, model="plain", method=SCALE_METHOD)
                for d in (1000, 2000)
                for s in range(2)
            ),
        ]
    seeds = range(2) if profile == "quick" else range(10)
    cases = [StairCase(STAIR_A, 4, 20, 40, 1e-4, s) for s in seeds]
    cases += [StairCase(STAIR_CLOSE, 4, 20, 40, STAIR_CLOSE_DELTA0, s) for s in seeds]
    if profile == "full":
        cases += [StairCase(STAIR_A, 3, 20, 40, 1e-4, s) for s in seeds]
        cases += [StairCase(A5, 4, 20, 40, 1e-6, s) for s in seeds]
    return cases


STAIR_CLOSE_DELTA0 = 1e-20
"""Chosen on held-out seeds 1000-1004: at 1e-12 one of four exceeded 3% (the gap shrinks with the
random alignment constants); at 1e-20 all were within 0.7%."""
STAIR_LARGE_DELTA0 = 0.3


def stair_controls(profile: str) -> dict[str, list[StairCase]]:
    """Large initialisation (δ0 = 0.3 at d = 20, m = 40: ||T(W0)|| ~ √m·δ0² ≈ 0.6): no deflation."""
    seeds = range(5) if profile == "full" else range(2)
    # scale uses the small control: at d = m = 1000 what matters is ||T(W0)|| ≈ √m·δ0², and
    # δ0 = 0.05 (m·δ0² = 2.5) still left a staircase there (2.4% deviation, measured)
    return {
        "large initialisation": [
            StairCase(STAIR_A, 4, 20, 40, STAIR_LARGE_DELTA0, s) for s in seeds
        ]
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


def stair_predict(profile: str) -> dict[str, Any]:
    regimes = {
        "a=(1,.5,.25), δ0=1e-4": (STAIR_A, 1e-4),
        f"a=(1,.9,.8), δ0={STAIR_CLOSE_DELTA0:g}": (STAIR_CLOSE, STAIR_CLOSE_DELTA0),
        "a=(1,.8,.6,.4,.2), δ0=1e-6": (A5, 1e-6),
    }
    return {
        "plateau": "||Σ_{j>k} a_j e_j^{⊗l}||_F = sqrt(Σ_{j>k} a_j²) after the k-th fit",
        "rtol": STAIR_RTOL,
        "two_exponential_deviation_at_leading_gaps": {
            name: _predicted_deviations(a, _leading_gaps(a, d0))
            for name, (a, d0) in regimes.items()
        },
        "flattest_time": str(theory.plateau_time_expr()),
    }


def _plateau_errors(ok: list[tuple[Any, Mapping[str, Any]]]) -> list[float]:
    errs = []
    for _, m in ok:
        pr = np.asarray(m["plateau_residuals"], dtype=float)[:-1]  # the last plateau is 0 vs 0
        dr = np.asarray(m["deflation_residual"], dtype=float)[:-1]
        if not m["in_order"] or pr.size == 0:
            errs.append(float("inf"))
            continue
        errs.extend(np.abs(pr / dr - 1).tolist())
    return errs


def _stair_regime(c: StairCase) -> str:
    return f"{c.model}, l={c.order}, a={c.a}, δ0={c.delta0:g}"


def stair_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = _ok(results)
    predicted = f"plateaus at the deflation residual within {STAIR_RTOL:.0%}, fits in order"
    if not ok:
        return Verdict("inconclusive", "no run produced metrics", predicted, "n/a")
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
        ev.at_most(f"worst plateau deviation [{name}]", min(worst, 1e300), STAIR_RTOL)
        preds = []
        for c, m in runs:
            ft = np.asarray(m["fit_times"], dtype=float)
            if c.model == "homogeneous" and m["in_order"] and np.all(np.isfinite(ft)):
                preds += [abs(x) for x in _predicted_deviations(c.a, np.diff(ft).tolist())]
        if preds:
            pred_by[name] = max(preds)
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


def stair_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    """One residual curve per regime; dotted: deflation residuals, band: ± the tolerance."""
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {}
    seen: set[str] = set()
    for c, m in _ok(results):
        name = _stair_regime(c)
        if name in seen:
            continue
        seen.add(name)
        (line,) = ax.plot(m["t"], m["residual"], lw=1, label=name)
        for v in m["deflation_residual"][:-1]:
            ax.axhspan(
                v * (1 - STAIR_RTOL), v * (1 + STAIR_RTOL), color=line.get_color(), alpha=0.1
            )
            ax.axhline(v, color=line.get_color(), ls=":", lw=0.6)
        data[f"t[{name}]"] = list(m["t"])
        data[f"residual[{name}]"] = list(m["residual"])
    ax.set_xlabel("t")
    ax.set_ylabel("||T(W) - T*||_F")
    ax.set_title("Residual staircase; bands: deflation residual ± tolerance", fontsize=8)
    legend(ax, fontsize=6)
    return data


register(
    Claim(
        id="deflation.staircase",
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
            "a=(1,.8,.6,.4,.2) at δ0=1e-6); scale: d=m ∈ {1000, 2000}, a=(1,.5,.25), δ0=1e-4, and the "
            "plain model at d ∈ {1000, 2000}, m=20, δ0=0.1 (2 seeds each, method='auto'). "
            "The plateau is the observation (801 per run) between two fits where |d ln||E||/dt| is "
            "smallest; a run out of order or without a plateau counts as a failure. Regimes chosen "
            "where the derived two-exponential deviation is <= 1% at the leading-order gaps. "
            "Control: large initialisation δ0 = 0.3 (m·δ0² = 3.6 > a_1), where no deflation is "
            "predicted, must fail."
        ),
        tolerance=f"|plateau/deflation residual - 1| <= {STAIR_RTOL:.0%} for every plateau but the last, per regime",
        tolerance_source=(
            "derived: the two-exponential plateau model (docs/math.md §12.3) "
            "predicts <= 1% at the judged regimes' leading-order gaps; 3% is the statement's "
            "tolerance, kept from the earlier claim (it leaves room for the gaps' O(1) constants)"
        ),
        experiment=stair_experiment,
        configs=stair_configs,
        predict=stair_predict,
        judge=stair_judge,
        plot=stair_plot,
        controls=stair_controls,
        profiles=("quick", "full", "scale"),
        model_choice=MODEL_CHOICE,
    )
)


# ============================================================================ deflation.regulariser-bias
@dataclass(frozen=True)
class RegCase:
    """Flow with ℓ2 coefficient ``lam``; ``judged_lam`` (control only): the λ the judge predicts with."""

    a: tuple[float, ...]
    lam: float
    d: int
    m: int
    delta0: float
    seed: int
    judged_lam: float | None = None

    @property
    def predicted_lam(self) -> float:
        return self.lam if self.judged_lam is None else self.judged_lam


def reg_experiment(cfg: RegCase) -> dict[str, Any]:
    target = orthogonal_tensor(cfg.a, cfg.d, 4, basis="random", rng=cfg.seed)
    W0 = _init(cfg.m, cfg.d, cfg.delta0, cfg.seed)
    lam = (
        cfg.predicted_lam
    )  # the horizon follows the judged prediction (identical except in controls)
    learned = [x for x in cfg.a if x > lam / 2]
    rate = min(4 * x - 2 * lam for x in learned)
    # fit of the slowest learned direction + 12 e-folds of its approach to equilibrium
    t_end = cfg.d / min(learned) + math.log(1 / cfg.delta0**2) / rate + 12 / rate
    tr, traj = track_flow(
        W0, target, (0.0, t_end), reg=cfg.lam, n_obs=21, exact_fit_times=False, model="homogeneous"
    )
    return {"final_fits": tr.fits[-1].tolist(), "init_bound": cfg.m * cfg.delta0**2, "t_end": t_end}


REG_ATOL = 1e-3


def reg_configs(profile: str) -> list[RegCase]:
    seeds = range(2) if profile == "quick" else range(10)
    cases = [RegCase((1.0, 0.6, 0.3, 0.1), 0.3, 10, 30, 1e-3, s) for s in seeds]
    if profile == "full":
        cases += [RegCase((1.0, 0.5, 0.2), 0.1, 20, 40, 1e-3, s) for s in seeds]
        cases += [RegCase((0.8, 0.4, 0.25), 0.6, 10, 30, 1e-3, s) for s in seeds]
    return cases


def reg_controls(profile: str) -> dict[str, list[RegCase]]:
    """No regulariser (λ = 0) judged with λ = 0.3: no bias and every direction learned."""
    seeds = range(2) if profile == "quick" else range(5)
    return {
        "no regulariser, judged with λ=0.3": [
            RegCase((1.0, 0.6, 0.3, 0.1), 0.0, 10, 30, 1e-3, s, judged_lam=0.3) for s in seeds
        ]
    }


def reg_predict(profile: str) -> dict[str, Any]:
    # reduced weight ODE of an aligned direction (docs/math.md §3.3): ds/dt = 2s(2(a - s) - λ)
    a, s, lam = sp.symbols("a s lam", positive=True)
    rhs = 2 * s * (2 * (a - s) - lam)
    eq = sp.solve(sp.Eq(2 * (a - s) - lam, 0), s)
    # its linear rate at the equilibrium: -(4a - 2λ), so 12 e-folds leave a·e^{-12} ≈ 6e-6·a
    rate = sp.simplify(sp.diff(rhs, s).subs(s, eq[0]))
    return {
        "equilibrium": str(eq[0]),
        "rate_at_equilibrium": str(rate),
        "learned_iff": "a > lam/2",
        "atol": REG_ATOL,
    }


def reg_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = _ok(results)
    predicted = f"fit = a_k - λ/2 (±{REG_ATOL:g}); a_k <= λ/2 stays at its initial scale"
    if not ok:
        return Verdict("inconclusive", "no run produced metrics", predicted, "n/a")
    a_s, lam_s = sp.symbols("a lam", positive=True)
    eq = sp.sympify(prediction["equilibrium"], locals={"a": a_s, "lam": lam_s})
    worst, worst_unlearned, n_learned, n_unlearned = 0.0, 0.0, 0, 0
    for c, m in ok:
        lam = c.predicted_lam
        for ak, fit in zip(c.a, m["final_fits"], strict=True):
            if ak > lam / 2:
                n_learned += 1
                worst = max(worst, abs(fit - float(eq.subs({a_s: ak, lam_s: lam}))))
            else:
                n_unlearned += 1
                worst_unlearned = max(worst_unlearned, fit / m["init_bound"])
    ev = Evidence()
    if n_learned:
        ev.at_most("max |fit - (a_k - λ/2)| over learned directions", worst, REG_ATOL)
    if n_unlearned:
        ev.at_most("max fit/(m·δ0²) over directions with a_k <= λ/2", worst_unlearned, 1.0)
    measured = (
        f"max |fit - (a - λ/2)| = {worst:.1e} ({n_learned} directions); unlearned fit <= "
        f"{worst_unlearned:.2g} x m·δ0² ({n_unlearned} directions)"
    )
    numbers = {
        "max_abs_dev": worst,
        "max_unlearned_over_init_bound": worst_unlearned,
        "learned": n_learned,
        "unlearned": n_unlearned,
    }
    return ev.verdict(predicted=predicted, measured=measured, numbers=numbers)


def reg_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {"a": [], "lam": [], "fit": [], "predicted": []}
    for c, m in _ok(results):
        for ak, fit in zip(c.a, m["final_fits"], strict=True):
            data["a"].append(ak)
            data["lam"].append(c.lam)
            data["fit"].append(fit)
            data["predicted"].append(max(ak - c.lam / 2, 0.0))
    ax.errorbar(
        data["predicted"], data["fit"], yerr=REG_ATOL, fmt="o", ms=3, label="runs (bar: tolerance)"
    )
    lim = max(data["predicted"] + [1e-3])
    ax.plot([0, lim], [0, lim], "k:", lw=0.8)
    ax.set_xlabel("max(a_k - λ/2, 0)")
    ax.set_ylabel("final T(W)(e_k^{⊗4})")
    legend(ax, fontsize=7)
    return data


register(
    Claim(
        id="deflation.regulariser-bias",
        source="docs/math.md §6 [derived]",
        statement=(
            "With ℓ2 regulariser λ, a fitted direction settles at T(W)(e_k^{⊗l}) = a_k - λ/2, and "
            "components with a_k <= λ/2 are never learned."
        ),
        latex=r"T(W)(e_k^{\otimes l})\to (a_k-\lambda/2)_+",
        method=(
            "Two-homogeneous flow, l=4, random basis, a=(1,.6,.3,.1), λ=0.3 (0.1 <= λ/2), d=10, m=30, "
            "δ0=1e-3, run to the fit of the slowest learned direction plus 12 e-folds of its "
            "convergence; quick: 2 seeds; full: 10 seeds, plus (1,.5,.2) with λ=0.1 and "
            "(.8,.4,.25) with λ=0.6. Control: the same target without regulariser (λ = 0) judged "
            "with λ = 0.3 must fail (no bias, and a = 0.1 is learned)."
        ),
        tolerance=(
            f"|fit - (a_k - λ/2)| <= {REG_ATOL:g} for a_k > λ/2; fit <= m·δ0² (its initial upper "
            "bound) for a_k <= λ/2"
        ),
        tolerance_source=(
            "derived: the reduced weight ODE ds/dt = 2s(2(a - s) - λ) approaches a - λ/2 at rate "
            "4a - 2λ (sympy, reg_predict); 12 e-folds after the fit leave <= a·e^{-12} ≈ 6e-6, far "
            "inside 1e-3 (which also covers the solver's tolerance); a direction with a_k <= λ/2 "
            "has ds/dt <= 0 once aligned with e_k, so its fit is expected to stay below its initial "
            "bound m·δ0²"
        ),
        experiment=reg_experiment,
        configs=reg_configs,
        predict=reg_predict,
        judge=reg_judge,
        plot=reg_plot,
        controls=reg_controls,
        model_choice=MODEL_CHOICE,
    )
)


# ============================================================================ trajectories
# deflation.norm-correlation and deflation.local-stability: the perpendicular invariant along whole runs
@dataclass(frozen=True)
class TrajectoryCase:
    """One two-homogeneous flow observed along the whole run (``n_obs`` times).

    ``target``: ``"orthogonal"`` (random orthonormal basis) or ``"coherent"`` (unit components uniform
    on the sphere: the negative control of local stability). ``fits``: integrate to the predicted fit
    of the first ``fits`` directions only (0: all). ``factors``: the norm thresholds ``δ1 = f·δ0`` the
    norm-correlation claim judges for this run.
    """

    d: int
    m: int
    delta0: float
    seed: int
    a: tuple[float, ...] = A5
    order: int = 4
    target: str = "orthogonal"
    fits: int = 0
    factors: tuple[float, ...] = ()
    n_obs: int = 401


NORM_FACTORS = (1.2, 2.0, 3.0, 5.0, 10.0, 100.0)
"""Thresholds δ1/δ0 at which every trajectory's norm/correlation relation is recorded."""
TRANSITION = (0.05, 0.95)
"""A fit transition: some direction's fit fraction T(W)(e_k^{⊗l})/a_k strictly inside this range."""


def _trajectory_target(cfg: TrajectoryCase) -> Any:
    if cfg.target == "orthogonal":
        return orthogonal_tensor(cfg.a, cfg.d, cfg.order, basis="random", rng=cfg.seed)
    if cfg.target == "coherent":
        return random_low_rank(len(cfg.a), cfg.d, cfg.order, coeffs=cfg.a, rng=cfg.seed)
    raise ValueError(f"target must be 'orthogonal' or 'coherent', got {cfg.target!r}")


def trajectory_experiment(cfg: TrajectoryCase) -> dict[str, Any]:
    """Norms, angles to the nearest target direction and fits of every component along the run.

    The angle is computed from the explicit perpendicular part ``w - <w, e_k> e_k`` (accurate to
    rounding, unlike ``sqrt(1 - cos²)``). Summaries only are returned (JSON-sized).
    """
    target = _trajectory_target(cfg)
    E = target.components
    W0 = _init(cfg.m, cfg.d, cfg.delta0, cfg.seed)
    u0 = initial_alignment(W0, target, model="homogeneous")
    u0 = np.where(np.isfinite(u0), u0, 1.0 / cfg.d)
    pred = _homog_pred(cfg.a, u0, cfg.delta0, cfg.order)
    span = 1.5 * max(pred[: cfg.fits] if cfg.fits else pred)
    if cfg.target == "coherent":
        span *= 2.0  # the prediction is for orthogonal targets; leave time for every fit

    def observe(t: float, W: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(W, axis=1)
        proj = W @ E.T
        best = np.argmax(np.abs(proj) / np.maximum(norms, 1e-300)[:, None], axis=1)
        perp = W - proj[np.arange(W.shape[0]), best][:, None] * E[best]
        sin = np.linalg.norm(perp, axis=1) / np.maximum(norms, 1e-300)
        cos = proj / np.maximum(norms, 1e-300)[:, None]
        fits = ((norms[:, None] ** 2) * cos**cfg.order).sum(axis=0)
        # per direction: the weight-averaged perpendicular part of its copies, |Σ s_j ε_j / Σ s_j|
        mean_perp = np.zeros(E.shape[0])
        unit_perp = perp / np.maximum(norms, 1e-300)[:, None]
        for k in range(E.shape[0]):
            mine = best == k
            if np.any(mine):
                weights = norms[mine] ** 2
                mean_perp[k] = np.linalg.norm(weights @ unit_perp[mine]) / weights.sum()
        return np.concatenate([norms, sin, best.astype(float), fits, mean_perp])

    t_eval = np.linspace(0.0, span, cfg.n_obs)
    traj = gradient_flow(
        W0, target, (0.0, span), model="homogeneous", t_eval=t_eval, observe={"s": observe}
    )
    if not traj.success:
        raise RuntimeError(f"gradient flow did not finish for {cfg}: {traj.message}")
    obs = np.asarray(traj.observations["s"])
    m, r = cfg.m, len(cfg.a)
    norms, sin, best = obs[:, :m], obs[:, m : 2 * m], obs[:, 2 * m : 3 * m]
    fits, mean_perp = obs[:, 3 * m : 3 * m + r], obs[:, 3 * m + r :]
    t = np.asarray(traj.t)
    s = norms**2
    bound = (cfg.delta0**2 / np.maximum(s, 1e-300)) ** (cfg.order / 4)
    frac = fits / np.asarray(cfg.a)[None, :]
    transition = np.any((frac > TRANSITION[0]) & (frac < TRANSITION[1]), axis=1)
    min_corr, min_corr_tr, pairs = [], [], []
    for f in NORM_FACTORS:
        big = norms >= f * cfg.delta0
        cos = np.sqrt(np.maximum(0.0, 1.0 - sin**2))
        min_corr.append(float(cos[big].min()) if big.any() else float("nan"))
        tr = big & transition[:, None]
        min_corr_tr.append(float(cos[tr].min()) if tr.any() else float("nan"))
        pairs.append(int(big.sum()))
    # local stability: the dominant component of each direction, from its fit time to the end,
    # against the distance predicted from the state at the fit
    fit_times: list[float] = []
    max_sin_after: list[float] = []
    predicted_after: list[float] = []
    ratio_after: list[float] = []
    c_at_fit: list[float] = []
    series: dict[str, list[float]] = {}
    for k in range(r):
        i = int(np.argmax(s[-1] * np.where(best[-1] == k, 1.0, 0.0)))
        j = np.flatnonzero(frac[:, k] >= 0.5)
        if j.size == 0 or best[-1, i] != k:
            for lst in (fit_times, max_sin_after, predicted_after, ratio_after, c_at_fit):
                lst.append(float("nan"))
            continue
        j0 = int(j[0])
        sin_k = sin[j0:, i]
        # linearised copies of e_k (docs/math.md §12.2): every copy moves
        # by minus the weighted mean perpendicular part, so |ε_i(t)| <= |ε_i(t_k)| + |ε̄(t_k)|
        pred_k = np.full(sin_k.shape, sin_k[0] + mean_perp[j0, k])
        fit_times.append(float(t[j0]))
        max_sin_after.append(float(sin_k.max()))
        predicted_after.append(float(pred_k.max()))
        ratio_after.append(float((sin_k / pred_k).max()))
        c_at_fit.append(float(sin_k[0] / bound[j0, i]))
        series[f"sin_{k}"] = sin[::4, i].tolist()
        series[f"pred_{k}"] = np.where(t >= t[j0], pred_k[0], np.nan)[::4].tolist()
    return {
        "factors": list(NORM_FACTORS),
        "min_corr": min_corr,
        "min_corr_transition": min_corr_tr,
        "pairs": pairs,
        "max_invariant_ratio": float((sin / bound).max()),
        "fit_times": fit_times,
        "max_sin_after_fit": max_sin_after,
        "predicted_after_fit": predicted_after,
        "ratio_after_fit": ratio_after,
        "invariant_ratio_at_fit": c_at_fit,
        "t": t[::4].tolist(),
        **series,
        "nfev": traj.nfev,
    }


def invariant_ratio(metrics: Mapping[str, Any]) -> float:
    """``max sin∠(w_i, e_k) / (δ0²/||w_i||²)^{l/4}`` over the run (docs/math.md §12)."""
    return float(metrics["max_invariant_ratio"])


NORM_CORR_MIN = 0.99
STABILITY_TOL = 0.01
"""Relative slack of the local-stability distance (docs/math.md §12.2)."""


def max_invariant_growth(factor: float, corr: float = NORM_CORR_MIN, order: int = 4) -> float:
    """Largest pre-alignment growth ``C`` of the invariant for which ``||w|| >= factor·δ0`` still
    implies correlation ``>= corr``: ``C (1/factor)^{l/2} <= sin(arccos corr)``."""
    return math.sqrt(1 - corr**2) * factor ** (order / 2)


# ---------------------------------------------------------------------------- norm-correlation
NORM_JUDGED = (10.0, 100.0)
NORM_EDGE = 5.0


def norm_corr_configs(profile: str) -> list[TrajectoryCase]:
    if profile == "quick":
        grid = [(10, 50, s) for s in range(3)]
    else:
        grid = [(10, 50, s) for s in range(10)]
        grid += [(50, 100, s) for s in range(10)]
        grid += [(100, 200, s) for s in range(4)]
    return [TrajectoryCase(d, m, 1e-3, s, factors=NORM_JUDGED) for d, m, s in grid]


def norm_corr_controls(profile: str) -> dict[str, list[TrajectoryCase]]:
    """δ1 ∈ {1.2, 2}·δ0: the derived bound is vacuous there (the relation is predicted absent)."""
    seeds = range(3) if profile == "quick" else range(10)
    return {
        "threshold δ1 <= 2δ0": [TrajectoryCase(10, 50, 1e-3, s, factors=(1.2, 2.0)) for s in seeds]
    }


def norm_corr_predict(profile: str) -> dict[str, Any]:
    alpha = theory.perpendicular_invariant_exponent(4)
    return {
        "invariant": f"||w||^{alpha} ||w_⊥|| grows by a factor C before alignment, then decays (l=4)",
        "bound": "sin∠(w, e_k) <= C (δ0/||w||)^{l/2}",
        "min_correlation": NORM_CORR_MIN,
        "max_C_for_threshold": {
            f"{f:g}": max_invariant_growth(f) for f in (1.2, 2.0, *NORM_JUDGED)
        },
    }


def norm_corr_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = _ok(results)
    need = float(prediction["min_correlation"])
    predicted = (
        f"||w|| >= δ1 ⇒ max_k |<w̄, e_k>| >= {need} along the whole run, whenever the invariant's "
        "growth C <= sin(arccos 0.99)·(δ1/δ0)^2"
    )
    if not ok:
        return Verdict("inconclusive", "no run produced metrics", predicted, "n/a")
    ev = Evidence()
    worst: dict[float, float] = {}
    worst_tr: dict[float, float] = {}
    pairs: dict[float, int] = {}
    edge: list[float] = []
    for c, m in ok:
        for f, mc, mt, n in zip(
            m["factors"], m["min_corr"], m["min_corr_transition"], m["pairs"], strict=True
        ):
            if f == NORM_EDGE and math.isfinite(mc):
                edge.append(mc)
            if f not in c.factors:
                continue
            if math.isfinite(mc):
                worst[f] = min(worst.get(f, 1.0), mc)
            if math.isfinite(mt):
                worst_tr[f] = min(worst_tr.get(f, 1.0), mt)
            pairs[f] = pairs.get(f, 0) + n
    if not worst:
        return Verdict("inconclusive", "no component ever exceeded δ1", predicted, "n/a")
    # judged on 1 - correlation, so that the margin is a fraction of the allowed 1 - 0.99
    for f in sorted(worst):
        ev.at_most(f"1 - min correlation, ||w|| >= {f:g}·δ0 (whole run)", 1 - worst[f], 1 - need)
        if f in worst_tr:
            ev.at_most(
                f"1 - min correlation, ||w|| >= {f:g}·δ0 (during fit transitions)",
                1 - worst_tr[f],
                1 - need,
            )
    growth = max(invariant_ratio(m) for _, m in ok)
    ev.at_most(
        f"invariant growth C vs the largest that δ1 = {min(worst):g}·δ0 tolerates",
        growth,
        max_invariant_growth(min(worst)),
    )
    if edge:
        ev.note(
            f"Edge threshold δ1 = {NORM_EDGE:g}·δ0 (not judged; tolerates C <= "
            f"{max_invariant_growth(NORM_EDGE):.2f}): min correlation {min(edge):.5f}."
        )
    measured = (
        "; ".join(
            f"δ1={f:g}δ0: min corr {worst[f]:.6f} ({pairs[f]} (t, i) pairs)" for f in sorted(worst)
        )
        + f"; invariant growth C <= {growth:.2f}"
    )
    numbers = {
        "min_corr": {f"{f:g}": v for f, v in worst.items()},
        "min_corr_transition": {f"{f:g}": v for f, v in worst_tr.items()},
        "pairs": {f"{f:g}": v for f, v in pairs.items()},
        "max_invariant_growth": growth,
        "edge_min_corr": min(edge) if edge else None,
    }
    return ev.verdict(predicted=predicted, measured=measured, numbers=numbers)


def norm_corr_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {"factor": [], "seed": [], "one_minus_min_corr": []}
    growth = [invariant_ratio(m) for _, m in _ok(results)]
    for c, m in _ok(results):
        for f, mc in zip(m["factors"], m["min_corr"], strict=True):
            if math.isfinite(mc):
                data["factor"].append(f)
                data["seed"].append(c.seed)
                data["one_minus_min_corr"].append(1 - mc)
    ax.scatter(data["factor"], np.asarray(data["one_minus_min_corr"]) + 1e-16, s=10, label="runs")
    if growth:
        f = np.logspace(0, 2.1, 50)
        sin_b = np.minimum(1.0, max(growth) * f ** (-2.0))
        ax.plot(
            f,
            1 - np.sqrt(1 - sin_b**2) + 1e-16,
            "k--",
            lw=0.8,
            label="C_max·(δ0/δ1)², C_max measured",
        )
    ax.axhline(1 - NORM_CORR_MIN, color="k", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("δ1/δ0")
    ax.set_ylabel("1 - min correlation over ||w|| >= δ1 (whole run)")
    legend(ax, fontsize=7)
    return data


register(
    Claim(
        id="deflation.norm-correlation",
        source="Ge et al. 2021 (paper 2): norm/correlation relationship in the proof; docs/math.md §6",
        statement=(
            "Along the whole gradient-flow trajectory (fit transitions included), every component "
            "with ||w|| >= δ1 is >= 0.99-correlated with some e_k, for δ1 = 10·δ0 and δ1 = 100·δ0 "
            "(Algorithm 1's 0.1 at δ0 = 1e-3): sin∠(w, e_k) <= C (δ0/||w||)^{l/2}, from the invariant "
            "||w||^{(l-2)/2}||w_⊥|| which grows by a factor C before alignment and decays after."
        ),
        latex=(
            r"\|w\|\ge\delta_1\ \Rightarrow\ \sin\angle(w,e_k)\le C(\delta_0/\delta_1)^{l/2},"
            r"\ \max_k|\langle\bar w,e_k\rangle|\ge0.99"
        ),
        method=(
            "Two-homogeneous flow, a=(1,.8,.6,.4,.2), l=4, random basis, δ0=1e-3, λ=0, observed at "
            "401 times up to 1.5x the last predicted fit; every (time, component) pair with norm "
            ">= δ1 for δ1/δ0 ∈ {10, 100}; minimum also over the times when some fit fraction is in "
            "(0.05, 0.95); the invariant's growth C = max sin/(δ0/||w||)^2. Quick: d=10, m=50, 3 "
            "seeds; full: (10,50) and (50,100) x 10 seeds, (100,200) x 4. Holds where C <= "
            "0.141·(δ1/δ0)^2; control: δ1 ∈ {1.2, 2}·δ0, where the bound is vacuous, must fail."
        ),
        tolerance=(
            f"1 - min correlation <= {1 - NORM_CORR_MIN:.2f} for each judged δ1 (whole run and "
            "transitions); "
            "measured C <= sin(arccos 0.99)·(δ1/δ0)^2"
        ),
        tolerance_source=(
            "derived: 0.99 is the statement's threshold; the growth C the threshold tolerates "
            "follows from the bound derived in docs/math.md §12.2"
        ),
        experiment=trajectory_experiment,
        configs=norm_corr_configs,
        predict=norm_corr_predict,
        judge=norm_corr_judge,
        plot=norm_corr_plot,
        controls=norm_corr_controls,
        model_choice=MODEL_CHOICE,
    )
)


# ---------------------------------------------------------------------------- local-stability
def local_stab_configs(profile: str) -> list[TrajectoryCase]:
    if profile == "quick":
        return [TrajectoryCase(10, 50, dd, s) for dd in (1e-2, 1e-3) for s in range(2)]
    if profile == "full":
        grid = [(10, 50, dd, s) for dd in (1e-2, 1e-3) for s in range(10)]
        grid += [(50, 100, dd, s) for dd in (1e-2, 1e-3) for s in range(5)]
        grid += [(100, 200, 1e-3, s) for s in range(3)]
        return [TrajectoryCase(d, m, dd, s) for d, m, dd, s in grid]
    return [TrajectoryCase(d, d, 1e-3, 0, fits=3, n_obs=201) for d in (1000, 2000)]


def local_stab_controls(profile: str) -> dict[str, list[TrajectoryCase]]:
    """Coherent targets at d = 10 (coherence ~0.3-0.6; at d = 1000 random directions are nearly
    orthogonal, so the scale profile uses the same small control): later fits move the fitted copy."""
    seeds = range(5) if profile == "full" else range(2)
    return {"coherent target": [TrajectoryCase(10, 50, 1e-3, s, target="coherent") for s in seeds]}


def local_stab_predict(profile: str) -> dict[str, Any]:
    return {
        "invariant": (
            f"||w||^{theory.perpendicular_invariant_exponent(4)} ||w_⊥|| non-increasing after the fit (l=4)"
        ),
        "distance": "sin∠(w_k(t), e_k) <= sin∠(w_k(t_k), e_k)·(s(t_k)/s(t))^{l/4} for t >= t_k",
        "tolerance": STABILITY_TOL,
    }


def local_stab_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = _ok(results)
    predicted = (
        "after its fit the dominant component of e_k stays within "
        f"sin(t_k)·(s(t_k)/s(t))^(l/4) of e_k (x (1 + {STABILITY_TOL:g}))"
    )
    if not ok:
        return Verdict("inconclusive", "no run produced metrics", predicted, "n/a")
    ev = Evidence()
    ratios, devs, preds, cs = [], [], [], []
    missing = 0
    for _, m in ok:
        for ra, dv, pr, cf in zip(
            m["ratio_after_fit"],
            m["max_sin_after_fit"],
            m["predicted_after_fit"],
            m["invariant_ratio_at_fit"],
            strict=True,
        ):
            if not math.isfinite(ra):
                missing += 1
                continue
            ratios.append(ra)
            devs.append(dv)
            preds.append(pr)
            cs.append(cf)
    if not ratios:
        return Verdict("inconclusive", "no direction was fitted", predicted, "n/a")
    worst = max(ratios)
    ev.at_most(
        "max over runs, directions and t >= t_k of deviation/prediction", worst, 1 + STABILITY_TOL
    )
    ev.note(
        f"{sum(r <= 1 + STABILITY_TOL for r in ratios)}/{len(ratios)} fitted directions within "
        "their predicted distance."
    )
    if missing:
        ev.note(f"{missing} direction(s) not fitted (or not won by one component) in the window.")
    i = int(np.argmax(ratios))
    measured = (
        f"worst deviation/prediction {worst:.4f} (deviation {devs[i]:.2e} vs predicted "
        f"{preds[i]:.2e}); largest deviation after a fit {max(devs):.2e} over {len(ratios)} fitted "
        f"directions in {len(ok)} runs; at the fit sin/(δ0²/s)^(l/4) <= {max(cs):.2f}"
    )
    numbers = {
        "max_ratio": worst,
        "max_deviation": max(devs),
        "max_invariant_ratio_at_fit": max(cs),
        "directions": len(ratios),
        "not_fitted": missing,
    }
    return ev.verdict(predicted=predicted, measured=measured, numbers=numbers)


def local_stab_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {}
    for c, m in _ok(results):
        t = np.asarray(m["t"])
        data["t"] = t.tolist()
        for k in range(len(c.a)):
            if f"sin_{k}" not in m:
                continue
            sin = np.asarray(m[f"sin_{k}"], dtype=float)
            pred = np.asarray(m[f"pred_{k}"], dtype=float) * (1 + STABILITY_TOL)
            (line,) = ax.plot(t, sin + 1e-18, lw=1, label=f"e_{k} (a={c.a[k]:g})")
            ax.plot(t, pred, color=line.get_color(), ls="--", lw=0.8)
            ax.axvline(m["fit_times"][k], color=line.get_color(), ls=":", lw=0.7)
            data[f"sin_{k}"] = sin.tolist()
            data[f"predicted_{k}"] = pred.tolist()
        ax.set_title(
            f"d={c.d}, m={c.m}, δ0={c.delta0:g}, seed {c.seed}; dashed: predicted distance",
            fontsize=8,
        )
        break
    ax.set_yscale("log")
    ax.set_xlabel("t (dotted: fit times)")
    ax.set_ylabel("sin∠(dominant w_k, e_k)")
    legend(ax, fontsize=6)
    return data


register(
    Claim(
        id="deflation.local-stability",
        source=(
            "Ge et al. 2021 (paper 2): local stability of fitted components in the proof; "
            "docs/math.md §6"
        ),
        statement=(
            "Two-homogeneous flow, orthogonal target, λ=0, small init: once direction k is fitted, "
            "its dominant component stays within sin∠(w, e_k) <= sin∠(w(t_k), e_k)·(s(t_k)/s(t))^{l/4} "
            "of e_k for the rest of the run, in particular while the later directions are fitted: "
            "the invariant ||w||^{(l-2)/2}||w_⊥|| decays at rate l·s after alignment."
        ),
        latex=(
            r"t\ge t_k:\ \sin\angle(w_k(t),e_k)\le\sin\angle(w_k(t_k),e_k)"
            r"\big(s_k(t_k)/s_k(t)\big)^{l/4}"
        ),
        method=(
            "a=(1,.8,.6,.4,.2), l=4, random basis; dominant component of e_k = the largest "
            "contributor to T(W)(e_k^{⊗4}) at the end; its angle from the explicit perpendicular "
            "part at 401 times from its fit (fit fraction >= 1/2) to 1.5x the last predicted fit. "
            "Quick: d=10, m=50, δ0 ∈ {1e-2, 1e-3}, 2 seeds; full: (10,50) x 10 seeds and (50,100) "
            "x 5 at both δ0, (100,200) x 3 at 1e-3; scale: d=m ∈ {1000, 2000}, δ0=1e-3, first "
            "three fits. Control: coherent targets (unit components uniform on the sphere, d=10), "
            "where the derivation does not apply and later fits move the fitted component, must fail."
        ),
        tolerance=(
            f"max over runs, directions and t >= t_k of deviation/prediction <= 1 + {STABILITY_TOL:g}"
        ),
        tolerance_source=(
            "derived: docs/math.md §12.2 (the invariant is exact for the "
            "reduced dynamics; the neglected cross terms are O(δ0²) and the solver's absolute error "
            "on w_⊥ is <= 1e-3 relative at δ0 >= 1e-3, both far below the 1% allowed)"
        ),
        experiment=trajectory_experiment,
        configs=local_stab_configs,
        predict=local_stab_predict,
        judge=local_stab_judge,
        plot=local_stab_plot,
        controls=local_stab_controls,
        profiles=("quick", "full", "scale"),
        model_choice=MODEL_CHOICE,
    )
)
