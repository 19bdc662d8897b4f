"""The runs deflation.norm-correlation and deflation.local-stability share: one two-homogeneous flow
observed along the whole run — norms, angles to the nearest target direction, fits — summarised for
the perpendicular invariant ``||w||^{(l-2)/2}||w_⊥||`` (docs/math.md §12.2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics import gradient_flow
from numerics.tensors import orthogonal_tensor, random_low_rank

from ._deflation import A5, filled_alignment, homogeneous_fit_times, init_components

__all__ = [
    "NORM_CORR_MIN",
    "NORM_FACTORS",
    "TRANSITION",
    "TrajectoryCase",
    "invariant_ratio",
    "max_invariant_growth",
    "trajectory_experiment",
]


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
    W0 = init_components(cfg.m, cfg.d, cfg.delta0, cfg.seed)
    u0 = filled_alignment(W0, target)
    pred = homogeneous_fit_times(cfg.a, u0, cfg.delta0, cfg.order)
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


def max_invariant_growth(factor: float, corr: float = NORM_CORR_MIN, order: int = 4) -> float:
    """Largest pre-alignment growth ``C`` of the invariant for which ``||w|| >= factor·δ0`` still
    implies correlation ``>= corr``: ``C (1/factor)^{l/2} <= sin(arccos corr)``."""
    return math.sqrt(1 - corr**2) * factor ** (order / 2)
