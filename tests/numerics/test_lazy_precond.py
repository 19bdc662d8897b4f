"""The Kronecker preconditioner of :func:`numerics.lazy.lazy_residual`'s CG route (issue 14, item 4)."""

from __future__ import annotations

import pytest

from numerics import gaussian_init
from numerics.lazy import lazy_residual, sym_basis_size
from numerics.tensors import random_low_rank


def test_preconditioned_cg_agrees_with_dense_and_unpreconditioned():
    d, order = 6, 3
    m = 6  # m·d = 36 < D = 56: a well-posed least-squares problem with a nonzero residual
    W0 = gaussian_init(m, d, 1.0, 0)
    target = random_low_rank(2, d, order, rng=1)
    dense = lazy_residual(W0, target, method="dense")
    plain = lazy_residual(W0, target, method="cg", tol=1e-10, preconditioner="none")
    kron = lazy_residual(W0, target, method="cg", tol=1e-10, preconditioner="kronecker")
    assert plain.converged and kron.converged and dense.residual > 0.1
    assert "preconditioner=kronecker" in kron.message and "preconditioner=none" in plain.message
    # the excess over the minimum is ≤ tol²·||Jᵀb||²/λ_min⁺(K) (docstring): far below 1e-8 here
    assert kron.residual == pytest.approx(dense.residual, abs=1e-8)
    assert plain.residual == pytest.approx(dense.residual, abs=1e-8)


def test_kronecker_preconditioner_cuts_iterations_at_the_square_size():
    d, order = 12, 3
    m = sym_basis_size(d, order) // d  # m·d = 360 ≈ D = 364: the nearly singular square case
    W0 = gaussian_init(m, d, 1.0, 0)
    target = random_low_rank(3, d, order, rng=1)
    plain = lazy_residual(W0, target, method="cg", tol=1e-8, preconditioner="none")
    kron = lazy_residual(W0, target, method="cg", tol=1e-8)  # "auto": kronecker
    assert plain.converged and kron.converged and "preconditioner=kronecker" in kron.message
    # measured 2,267 vs ≈ 900 products; the claim is "at least 1.5× fewer" (2.5–2.7× at d = 16, 22)
    assert kron.iterations * 1.5 < plain.iterations


def test_preconditioner_bad_input_and_singular_fallback():
    W0 = gaussian_init(5, 3, 1.0, 0)
    target = random_low_rank(1, 3, 2, rng=0)
    with pytest.raises(ValueError, match="preconditioner"):
        lazy_residual(W0, target, method="cg", preconditioner="jacobi")
    with pytest.raises(ValueError, match="preconditioner"):
        lazy_residual(W0, target, method="cg", preconditioner=None)
    # l = 2, m = 5 > d = 3: G is singular, so is l·G; "kronecker" refuses, "auto" falls back
    with pytest.raises(ValueError, match="singular"):
        lazy_residual(W0, target, method="cg", preconditioner="kronecker")
    res = lazy_residual(W0, target, method="cg")
    assert res.converged and "preconditioner=none" in res.message
