"""One component against an orthogonal target: shared by ``theory.escape-time`` and
``theory.homogeneous-growth`` (docs/math.md §6).

Both claims start a single component on (or near) the axis ``e_1`` of a target
``T* = Σ_k a_k e_k^{⊗l}`` whose first coefficient dominates, integrate the gradient flow until the
component fits a given level (an event of :func:`numerics.flow.gradient_flow`), and judge the fit time
against a closed form tabulated per config; their controls are a subset of the judged grid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from numerics.flow import Trajectory, gradient_flow
from numerics.tensors import LowRankTensor, orthogonal_tensor

from .._shared import check_profile

__all__ = ["axis_target", "control_subset", "fit_event", "start_on_axis"]

C = TypeVar("C")


def axis_target(a: float, d: int, order: int) -> LowRankTensor:
    """``T* = Σ_k a_k e_k^{⊗l}`` with ``a_1 = a`` and ``a_{k+1} = a/2^k`` (``k = 1..d-1``)."""
    coeffs = [a] + [a * 0.5 ** (k + 1) for k in range(d - 1)]
    return orthogonal_tensor(coeffs, d, order)


def start_on_axis(radius: float, d: int, angle: float = 0.0) -> np.ndarray:
    """One component ``radius·(cos θ e_1 + sin θ e_2)`` as a ``(1, d)`` parameter array."""
    W0 = np.zeros((1, d))
    W0[0, 0] = radius * np.cos(angle)
    W0[0, 1] = radius * np.sin(angle)
    return W0


def fit_event(
    W0: np.ndarray,
    target: LowRankTensor,
    horizon: float,
    model: str,
    fitted: Callable[[float, np.ndarray], float],
    config: Any,
) -> Trajectory:
    """The flow from ``W0`` up to the first root of ``fitted`` (DOP853, rtol 1e-10, atol 1e-14).

    Raises
    ------
    ArithmeticError
        No root before ``horizon`` (the message names ``config``).
    """
    traj = gradient_flow(
        W0,
        target,
        (0.0, horizon),
        model=model,
        method="DOP853",
        rtol=1e-10,
        atol=1e-14,
        events={"fit": fitted},
    )
    if traj.status != "event" or len(traj.t_events["fit"]) == 0:
        raise ArithmeticError(
            f"no fit before t={horizon:g} for {config}: {traj.status}: {traj.message}"
        )
    return traj


def control_subset(judged: Sequence[C], profile: str) -> list[C]:
    """The judged grid's configs a control re-runs: the first two (quick), every third (full)."""
    return list(judged[:2] if check_profile(profile) == "quick" else judged[::3])
