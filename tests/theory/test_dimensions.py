"""sym_dim, generic_tangent_dim, lazy_threshold (docs/math.md §4) against independent counts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from theory import (
    AH_DEFECTIVE,
    generic_tangent_dim,
    lazy_threshold,
    sym_dim,
    tangent_kernel_reference,
)


@pytest.mark.parametrize("d", [1, 2, 3, 5])
@pytest.mark.parametrize("l", [1, 2, 3, 4, 6])
def test_sym_dim_counts_sorted_multi_indices(d: int, l: int) -> None:
    # independent count: a symmetric tensor is determined by its entries at sorted multi-indices
    assert sym_dim(d, l) == sum(1 for _ in itertools.combinations_with_replacement(range(d), l))


def _numerical_rank(K: np.ndarray) -> tuple[int, float]:
    """Rank of a PSD matrix and the gap (ratio of the singular values around the cut)."""
    s = np.linalg.svd(K, compute_uv=False)
    s = s / s[0]
    rank = int(np.sum(s > 1e-9))
    gap = s[rank - 1] / max(s[rank], 1e-300) if rank < len(s) else np.inf
    return rank, gap


# (l, d, m): generic cases, l = 2 below and above d, and the AH defective case (4, 3, 5)
RANK_CASES = [
    (2, 3, 1),
    (2, 3, 2),
    (2, 3, 4),
    (3, 2, 1),
    (3, 2, 2),
    (3, 3, 2),
    (3, 3, 4),
    (4, 2, 3),
    (4, 3, 4),
    (4, 3, 5),
    (4, 3, 6),
    (5, 2, 3),
]


@pytest.mark.parametrize(("l", "d", "m"), RANK_CASES)
def test_generic_tangent_dim_is_rank_of_tangent_kernel_at_random_point(
    l: int, d: int, m: int
) -> None:
    # The tangent space at W is the range of J, whose dimension is rank(JᵀJ); at a random Gaussian
    # W (seed fixed) it is the generic dimension with probability 1. The rank decision needs a clear
    # spectral gap: measured gaps are > 1e5 at these sizes, we require > 1e4.
    K = tangent_kernel_reference(l, d, m)(
        np.random.default_rng(1234 + l * 100 + d * 10 + m).standard_normal((m, d))
    )
    rank, gap = _numerical_rank(K)
    assert gap > 1e4, (l, d, m, gap)
    assert rank == generic_tangent_dim(d, l, m)


@pytest.mark.slow
@pytest.mark.parametrize(("l", "d", "m"), [(3, 5, 7), (3, 5, 6), (3, 4, 5), (4, 4, 9)])
def test_generic_tangent_dim_rank_larger(l: int, d: int, m: int) -> None:
    K = tangent_kernel_reference(l, d, m)(np.random.default_rng(7).standard_normal((m, d)))
    rank, gap = _numerical_rank(K)
    assert gap > 1e4, (l, d, m, gap)
    assert rank == generic_tangent_dim(d, l, m)


def test_defective_cases_are_one_below_expected() -> None:
    for l, d, m in AH_DEFECTIVE:
        assert generic_tangent_dim(d, l, m) == min(m * d, sym_dim(d, l)) - 1
        assert m * d >= sym_dim(d, l)  # all four are at or above the "filling" size


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 6, 7, 10])
@pytest.mark.parametrize("l", [2, 3, 4, 5])
def test_lazy_threshold_is_the_smallest_filling_m(d: int, l: int) -> None:
    m = lazy_threshold(d, l)
    full = sym_dim(d, l)
    assert generic_tangent_dim(d, l, m) == full
    if m > 1:
        assert generic_tangent_dim(d, l, m - 1) < full
    assert m * d >= full


def test_lazy_threshold_known_values() -> None:
    assert lazy_threshold(4, 2) == 4  # l = 2: m = d
    assert lazy_threshold(5, 3) == 8  # ceil(35/5) = 7 is AH-defective
    assert lazy_threshold(3, 4) == 6  # ceil(15/3) = 5 is AH-defective
    assert lazy_threshold(6, 3) == 10  # ceil(56/6) = 10


def test_lazy_threshold_log_log_slope_tends_to_l_minus_1() -> None:
    # m*(d) ≈ D(d,l)/d = Π_{j=1}^{l-1}(d+j)/l!, so the slope between d and 2d is
    # Σ_j log2((2d+j)/(d+j)) = (l-1) - l(l-1)/(4 d ln 2) + O((l/d)²) [derived]. Margin 0.005 covers the
    # O((l/d)²) ≈ 4e-4 term and the ceil() rounding (relative 1/m* < 1e-3 at d = 200).
    d = 200
    for l in (3, 4, 5):
        slope = np.log(lazy_threshold(2 * d, l) / lazy_threshold(d, l)) / np.log(2)
        expected = (l - 1) - l * (l - 1) / (4 * d * np.log(2))
        assert abs(slope - expected) < 0.005, (l, slope, expected)


@pytest.mark.parametrize(
    ("call", "exc"),
    [
        (lambda: sym_dim(0, 3), ValueError),
        (lambda: sym_dim(2.5, 3), TypeError),
        (lambda: generic_tangent_dim(3, 1, 2), ValueError),
        (lambda: generic_tangent_dim(3, 3, 0), ValueError),
        (lambda: lazy_threshold(3, True), TypeError),
    ],
)
def test_bad_input(call, exc) -> None:
    with pytest.raises(exc):
        call()
