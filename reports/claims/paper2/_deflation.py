"""The setting every deflation claim shares: coefficients, initialisation, leading-order predictions.

Two-homogeneous model ``T(W) = Σ ||w_i||² w̄_i^{⊗l}`` on an orthogonal target ``Σ a_k e_k^{⊗l}``
from ``w_i(0) = δ0·uniform(S^{d-1})`` (docs/math.md §6); the fit and escape times come from
:mod:`theory` and only set the integration windows and the predicted orders.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

import theory
from numerics.algorithms import initial_alignment
from numerics.tensors import random_unit_vectors

__all__ = [
    "A5",
    "MODEL_CHOICE",
    "R5",
    "SCALE_METHOD",
    "filled_alignment",
    "flow_horizon",
    "homogeneous_fit_times",
    "init_components",
    "plain_escape_times",
    "solver_atol",
]

A5 = (1.0, 0.8, 0.6, 0.4, 0.2)
"""The five-component target of most deflation claims (r = 5, every gap ``a_{k+1}/a_k <= 0.8``)."""
R5 = len(A5)
MODEL_CHOICE = (
    "docs/math.md §6 [model choice]: two-homogeneous model T(W) = Σ ||w_i||² w̄_i^{⊗l}; modified flow = "
    "epochs of length t0·γ^s with re-initialisation of components below δ1 (reconstruction of "
    "Algorithm 1)."
)
SCALE_METHOD = "auto"
"""Integrator of the scale profile's stiff runs: "auto" (RK45, switching to matrix-free CVODE once
the flow is stiff: the plain model after its first fit)."""


def init_components(m: int, d: int, delta0: float, seed: int) -> np.ndarray:
    """``m`` components ``δ0·uniform(S^{d-1})`` drawn from the stream ``[seed, 1]`` (the target uses
    ``seed`` itself), so every arm of a claim with the same seed starts from the same point."""
    return delta0 * random_unit_vectors(m, d, np.random.default_rng([seed, 1]))


def filled_alignment(W0: np.ndarray, target: Any) -> np.ndarray:
    """:func:`numerics.algorithms.initial_alignment` with a direction no component wins set to
    ``1/d`` (the mean squared correlation of a uniform direction), so every direction gets a time."""
    u0 = initial_alignment(W0, target, model="homogeneous")
    return np.where(np.isfinite(u0), u0, 1.0 / target.dim)


def homogeneous_fit_times(a: Sequence[float], u0: Any, delta0: float, order: int) -> list[float]:
    """Leading-order fit time of each direction (:func:`theory.homogeneous_fit_time`); NaN where
    ``u0`` is not finite (no component wins the direction)."""
    return [
        theory.homogeneous_fit_time(float(ak), float(uk), delta0, order)
        if np.isfinite(uk)
        else float("nan")
        for ak, uk in zip(a, u0, strict=True)
    ]


def plain_escape_times(a: Sequence[float], x0: Sequence[float], order: int) -> list[float]:
    """Escape time of each direction for the plain model (:func:`theory.plain_escape_time`),
    ``x0_k = max_i |<w_i(0), e_k>|``."""
    return [
        theory.plain_escape_time(float(ak), float(xk), order) for ak, xk in zip(a, x0, strict=True)
    ]


def flow_horizon(
    model: str,
    a: Sequence[float],
    W0: np.ndarray,
    target: Any,
    delta0: float,
    first_only: bool = False,
) -> float:
    """Integration horizon: 1.5x the latest predicted fit (the prediction only sets the window)."""
    order = target.order
    if model == "plain":
        x0 = np.abs(W0 @ target.components.T).max(axis=0)
        pred = plain_escape_times(a, x0, order)
        return 1.5 * (pred[0] if first_only else max(pred))
    return 1.5 * max(homogeneous_fit_times(a, filled_alignment(W0, target), delta0, order))


def solver_atol(delta0: float, d: int) -> float:
    """Absolute solver tolerance 1e-6 of a typical initial entry δ0/√d (capped at the default 1e-9).

    With the default 1e-9 the early dynamics of entries ~δ0/√d are integrated only to relative
    accuracy 1e-9·√d/δ0 (0.3% at δ0 = 1e-6, d = 10), which biases the fit times at small δ0.
    """
    return min(1e-9, 1e-6 * delta0 / math.sqrt(d))
