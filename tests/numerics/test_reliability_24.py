"""Regression tests for the numeric faults of issue 24 (items 4, 11, 12, 13 and 17).

Each test reproduces the probe as the issue states it, then checks the fixed behaviour: a correct
number (scale-free where the mathematics is), a reported status, or a ``ValueError`` naming the
parameter. Float comparisons carry the rounding bound they rely on next to them.
"""

from __future__ import annotations

import numpy as np
import pytest

from numerics import DenseTensor, random_dense_symmetric

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
