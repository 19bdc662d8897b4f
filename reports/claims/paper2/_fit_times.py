"""The predictions of deflation.fit-times and their comparison with the runs (docs/math.md §12.1).

The next-order prediction integrates the decoupled early flow of every component; it rests on a
premise measured per (run, direction): the direction is fitted by the components that win it at
initialisation. :func:`fit_time_analysis` compares the leading-order, closed-form and reduced-flow
predictions with the measured fit times of the directions that meet the premise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

import theory

from ._deflation import homogeneous_fit_times

__all__ = [
    "SLOPE_DELTA_MAX",
    "alignment_times",
    "assigned_u0",
    "fit_time_analysis",
    "initial_winner_share",
    "next_order_fit_times",
    "reduced_fit_times",
]

SLOPE_DELTA_MAX = 1e-3
"""The δ0-slope is fitted on δ0 <= 1e-3 (the asymptotic regime: on the calibration seeds the
δ0 = 1e-2 point still carries the O(1) interaction of overlapping fits, up to 0.4% on the slope)."""


def assigned_u0(W0: np.ndarray, target: Any, a: Sequence[float]) -> list[list[float]]:
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


def reduced_fit_times(
    W0: np.ndarray,
    target: Any,
    a: Sequence[float],
    delta0: float,
    q: float = 0.5,
    *,
    weight_correction: bool = False,
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

    ``weight_correction``: the first correction in the initial weights (docs/math.md §12.1, "the
    pull of the weights"): the decoupled flow drops the model's own term ``T(W)(w̄_i^{⊗l}) =
    Σ_j s_j <w̄_i, w̄_j>^l`` from ``d ln s_i/dt``; the logistic saturation restores it for the aligned
    winners only (their effective weight ``S_k = δ0² Σ_j e^{4a_k t - Λ_j}``). The remainder, mostly
    each component's own weight during its alignment, lengthens its lag by
    ``Δ_i = 4∫_0^T (Σ_j s_j <w̄_i, w̄_j>^l - S_k) dt`` with the decoupled ``s_j``: of order
    ``δ0² · (alignment time) ∝ δ0² d``. Computed on 1001 points of the dense output (trapezoid).
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
    sol = solve_ivp(
        rhs, (0.0, T), y0, method="DOP853", rtol=1e-10, atol=1e-13, dense_output=weight_correction
    )
    if not sol.success:
        raise RuntimeError(f"reduced early flow failed: {sol.message}")
    x = sol.y[: m * r, -1].reshape(m, r)
    log_s = sol.y[m * (r + 1) :, -1]
    final = np.argmax(np.abs(x), axis=1)
    groups = [(win0 == k) & (final == k) & (score[np.arange(m), win0] > 0) for k in range(r)]
    lags = [4 * av[k] * T - log_s[mine] for k, mine in enumerate(groups)]
    extra = (
        _weight_lag(sol, W0, E, av, order, groups, lags, delta0, T)
        if weight_correction
        else np.zeros(m)
    )
    out = []
    for k in range(r):
        mine = groups[k]
        if not np.any(mine):
            out.append(float("nan"))
            continue
        lag = lags[k] + extra[mine]
        low = float(lag.min())
        log_sum = -low + math.log(float(np.sum(np.exp(low - lag))))
        out.append(float((math.log(q * av[k] / ((1 - q) * delta0**2)) - log_sum) / (4 * av[k])))
    return out


def _weight_lag(
    sol: Any,
    W0: np.ndarray,
    E: np.ndarray,
    av: np.ndarray,
    order: int,
    groups: Sequence[np.ndarray],
    lags: Sequence[np.ndarray],
    delta0: float,
    T: float,
    cut: float = 1e-3,
) -> np.ndarray:
    """``Δ_i = 4∫_0^{t_c} (Σ_j s_j <w̄_i, w̄_j>^l - S_k(i)) dt`` on the decoupled trajectory (see
    :func:`reduced_fit_times`), up to the time ``t_c`` at which the winners' effective weight
    ``S_k`` reaches ``cut·a_k`` (later the integrand is that weight times the winners' remaining
    misalignment: the neglected tail is ``O(cut)`` in the lag). The parts of the ``w̄_j`` outside
    ``span(E)`` keep their initial directions and only shrink, so ``<w̄_i, w̄_j> = x_i·x_j + ρ_i ρ_j
    C_ij`` with ``C`` the cosines of the initial outside parts and ``ρ`` their tracked norms."""
    m, r = W0.shape[0], av.shape[0]
    unit = W0 / np.linalg.norm(W0, axis=1)[:, None]
    outside = unit - (unit @ E.T) @ E
    hat = outside / np.maximum(np.linalg.norm(outside, axis=1), 1e-300)[:, None]
    cos = hat @ hat.T
    t_cut = np.zeros(m)
    log_eff0 = np.full(m, -np.inf)  # ln(Σ_j e^{-Λ_j}) of the component's group
    rate = np.zeros(m)
    for k, mine in enumerate(groups):
        if np.any(mine):
            low = float(lags[k].min())
            lse = -low + math.log(float(np.sum(np.exp(low - lags[k]))))
            t_cut[mine] = (math.log(cut * av[k] / delta0**2) - lse) / (4 * av[k])
            log_eff0[mine] = lse
            rate[mine] = 4 * av[k]
    member = np.isfinite(log_eff0)
    cap = np.where(member, rate / 4, float(av.max()))
    ts = np.linspace(0.0, min(T, float(t_cut[member].max())) if np.any(member) else 0.0, 1001)
    vals = np.zeros((ts.size, m))
    for j0 in range(0, ts.size, 200):
        tt = ts[j0 : j0 + 200]
        Y = sol.sol(tt)
        X = Y[: m * r].T.reshape(tt.size, m, r)
        rho = Y[m * r : m * (r + 1)].T
        L = Y[m * (r + 1) :].T
        G = np.einsum("tir,tjr->tij", X, X) + rho[:, :, None] * rho[:, None, :] * cos
        live = tt[:, None] <= t_cut[None, :]
        eff = np.exp(np.minimum(rate[None, :] * tt[:, None] + log_eff0[None, :], 700.0))
        # the other components' weights saturate (logistically, at their direction's a_k): a
        # direction fitted earlier pulls with weight a_k, not with its unbounded decoupled weight
        own = np.exp(np.minimum(L, 700.0))
        grown = np.where(member[None, :], eff, own) * delta0**2
        weights = own / (1.0 + grown / cap[None, :])
        pull = np.einsum("tij,tj->ti", G**order, weights)
        vals[j0 : j0 + tt.size] = np.where(live & member[None, :], pull - eff, 0.0)
    return np.asarray(4.0 * delta0**2 * np.trapezoid(vals, ts, axis=0), dtype=float)


def alignment_times(
    W0: np.ndarray, target: Any, a: Sequence[float], level: float = 0.5
) -> list[float]:
    """Per direction: when the best of its initial winners is aligned (``<w̄, e_k>² >= level``) in
    the decoupled direction flow (docs/math.md §12.1); NaN without winners.

    The decoupled prediction assumes ``R = T*`` while a direction's winners align; a direction
    fitted earlier changes ``R`` along itself, so the premise is that a direction is aligned
    before the fit that precedes it (:func:`fit_time_analysis`). The direction flow does not depend
    on δ0; integrated with DOP853 (rtol 1e-9) to the same horizon as :func:`reduced_fit_times`.
    """
    from scipy.integrate import solve_ivp

    E = target.components
    order = target.order
    av = np.asarray(a, dtype=float)
    m, r = W0.shape[0], av.shape[0]
    x0 = (W0 / np.linalg.norm(W0, axis=1)[:, None]) @ E.T
    score = av[None, :] * x0 ** (order - 2)
    win0 = np.argmax(score, axis=1)
    mine = [(win0 == k) & (score[np.arange(m), win0] > 0) for k in range(r)]
    u0 = np.array([float(np.max(x0[g, k] ** 2, initial=0.0)) for k, g in enumerate(mine)])
    won = u0 > 0
    if not np.any(won):
        return [float("nan")] * r
    align = 1.0 / (order * (order - 2) * av[won] * u0[won] ** ((order - 2) / 2))
    T = 4.0 * float(align.max()) + 5.0 / float(av[won].min())

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        x = y.reshape(m, r)
        P = (av[None, :] * x**order).sum(axis=1)
        return (order * (av[None, :] * x ** (order - 1) - P[:, None] * x)).ravel()

    sol = solve_ivp(
        rhs, (0.0, T), x0.ravel(), method="DOP853", rtol=1e-9, atol=1e-12, dense_output=True
    )
    if not sol.success:
        raise RuntimeError(f"decoupled direction flow failed: {sol.message}")
    ts = np.linspace(0.0, T, 4001)
    X = sol.sol(ts).T.reshape(ts.size, m, r)
    out = []
    for k, g in enumerate(mine):
        if not np.any(g):
            out.append(float("nan"))
            continue
        u = np.max(X[:, g, k] ** 2, axis=1)
        hit = np.flatnonzero(u >= level)
        if hit.size == 0:
            out.append(float("nan"))
        elif hit[0] == 0:
            out.append(0.0)
        else:
            i = int(hit[0])
            frac = (level - u[i - 1]) / (u[i] - u[i - 1])
            out.append(float(ts[i - 1] + frac * (ts[i] - ts[i - 1])))
    return out


def _aligned_before_previous_fit(k: int, red: Sequence[float], align: Sequence[float]) -> bool:
    """Premise of the decoupled prediction: direction k's winners are aligned before the predicted
    fit that precedes k's (the first fitted direction has none)."""
    earlier = [t for j, t in enumerate(red) if j != k and math.isfinite(t) and t < red[k]]
    return not earlier or (math.isfinite(align[k]) and align[k] <= max(earlier))


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


def next_order_fit_times(c: Any, m: Mapping[str, Any]) -> list[float]:
    """Closed-form next-order fit times (:func:`theory.homogeneous_fit_time_next`) from the run's
    assigned initial correlations; NaN for a direction no component won."""
    return [
        theory.homogeneous_fit_time_next(ak, us, c.delta0, c.order) if us else float("nan")
        for ak, us in zip(c.a, m["u_assigned"], strict=True)
    ]


def fit_time_analysis(ok: list[tuple[Any, Mapping[str, Any]]], share_min: float) -> dict[str, Any]:
    """Per (run, direction) errors of the three predictions, and δ0-slope groups (``log`` law).

    Only directions meeting the premises — fitted by their initial winners (at least ``share_min``
    of the final weight) and aligned before the predicted fit that precedes theirs (when
    ``alignment_times`` were measured) — enter the judged errors and slopes; the others are counted
    in ``rerouted`` and ``late_aligned``.
    """
    groups: dict[tuple[Any, ...], list[tuple[float, float]]] = {}
    excluded: set[tuple[Any, ...]] = set()
    worst_red, worst_next, worst_lead = 0.0, 0.0, 0.0
    rows, rerouted, missing, late = [], 0, 0, 0
    for c, m in ok:
        if c.judged_law != "log":
            continue
        lead = homogeneous_fit_times(c.a, m["u0"], c.delta0, c.order)
        nxt = next_order_fit_times(c, m)
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
            if not share[k] >= share_min:
                rerouted += 1
                excluded.add(key)
                continue
            align = m.get("alignment_times")
            if align is not None and not _aligned_before_previous_fit(k, red, align):
                late += 1
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
        "late_aligned": late,
    }
