"""Regression tests for the numeric faults of issue 24 (items 4, 11, 12, 13 and 17).

Each test reproduces the probe as the issue states it, then checks the fixed behaviour: a correct
number (scale-free where the mathematics is), a reported status, or a ``ValueError`` naming the
parameter. Float comparisons carry the rounding bound they rely on next to them.
"""

from __future__ import annotations

import numpy as np
import pytest

from numerics import DenseTensor, LowRankTensor, random_dense_symmetric
from numerics.algorithms import attributed_weights, fit_events, track_flow
from numerics.models import param_shape

EPS = float(np.finfo(np.float64).eps)

# --------------------------------------------------------------------------------------------------
# item 12: the symmetry tolerance of DenseTensor is relative to the array's scale


def test_tiny_non_symmetric_array_is_refused() -> None:
    """The probe: every entry below 1e-10, so an absolute tolerance 1e-10 accepted any array."""
    with pytest.raises(ValueError, match="symmetric"):
        DenseTensor(np.array([[0.0, 1e-11], [0.0, 0.0]]))


@pytest.mark.parametrize("exponent", [-300, -200, -20, 0, 20, 200, 300])
def test_symmetry_check_does_not_depend_on_scale(exponent: int) -> None:
    scale = 10.0**exponent
    symmetric = random_dense_symmetric(3, 3, rng=0).array
    DenseTensor(symmetric * scale)  # averaging leaves asymmetries of a few ulps, far below 1e-10
    skewed = symmetric.copy()
    skewed[0, 1, 2] += 1e-3 * float(np.max(np.abs(symmetric)))
    with pytest.raises(ValueError, match="symmetric"):
        DenseTensor(skewed * scale)


def test_zero_array_is_symmetric() -> None:
    assert DenseTensor(np.zeros((2, 2, 2))).squared_norm == 0.0


# --------------------------------------------------------------------------------------------------
# item 17: components that shrink to zero are attributed nothing


def test_track_flow_with_collapsing_components() -> None:
    """The fuzz's input: reg = 2**40 drives W to zero; the attribution raised "coeffs must not be empty"."""
    target = LowRankTensor([1.137], [[1.0]], 4)
    tracking, traj = track_flow(
        np.array([[-0.0396]]), target, (0.0, 1.0), model="plain", reg=2**40, q=0.5, n_obs=5,
        exact_fit_times=True, max_wall=0.2,
    )  # fmt: skip
    assert traj.status in ("finished", "max_wall")
    # l = 4 is even: a plain component's attributed weight is ||w||^4 >= 0 (no BLAS sum), and the
    # regulariser only shrinks w, so the weight stays below |w0|^4 = 2.46e-6, far below q·a = 0.57
    assert np.all(tracking.fits >= 0.0)
    assert np.all(tracking.fits <= 0.0396**4 * (1 + 1e-6))
    assert tracking.n_fitted == 0


@pytest.mark.parametrize("model", ["plain", "homogeneous", "coefficient"])
def test_attribution_of_zero_components_is_zero(model: str) -> None:
    target = LowRankTensor([1.0, 0.5], np.eye(2, 3), 3)
    W = np.zeros(param_shape(model, 2, 3))
    assert np.array_equal(attributed_weights(W, target, model=model), np.zeros(2))
    events = fit_events(target, model, q=0.5)
    assert [ev(0.0, W) for ev in events.values()] == [-0.5, -0.25]  # 0 - q·a_k, exact in binary


def test_zero_tensor_has_no_unit_form() -> None:
    with pytest.raises(ValueError, match="every component is zero"):
        LowRankTensor([1.0, 2.0], np.zeros((2, 3)), 3).unit_form()
