"""Regression tests for the numeric faults of issue 15 (items 3, 7, 8, 9, 10 and the numeric part of 12).

Each test reproduces the reported input and checks the fixed behaviour: a correct number, a reported
failure (status and message), or a ``ValueError``/``TypeError`` naming the parameter.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

import numerics.lazy as lazy_module
from numerics import (
    DenseTensor,
    LowRankTensor,
    gaussian_init,
    gradient_descent,
    gradient_flow,
    loss,
    loss_and_grad,
    orthogonal_tensor,
    random_dense_symmetric,
    random_low_rank,
    random_unit_vectors,
)
from numerics._validate import MAX_ORDER
from numerics.algorithms import beyond_lazy_descent, modified_gradient_flow
from numerics.lazy import lazy_residual, linearized_flow, tangent_matrix, tangent_operator
from tests.rounding import gamma, inverse_quadratic_form_rel_error

# --------------------------------------------------------------------------------------------------
# item 3: lazy_residual is scale-free and a relative residual lies in [0, 1]


def _reference_residual(W: np.ndarray, target: LowRankTensor) -> tuple[float, float]:
    """``1 - (Jᵀt)ᵀ K⁺ (Jᵀt)/||T*||²`` at unit rows, by a dense pseudo-inverse (an independent route),
    and a bound on its rounding error.

    ``T(W) = J(W)/l`` lies in the tangent span, so the offset drops out (docs/math.md §4). The bound is
    first order in ``u`` (tests/rounding.py, :func:`inverse_quadratic_form_rel_error`): each entry of
    ``K`` and ``Jᵀt`` and ``||T*||²`` goes through at most ``d + 2l + 4`` roundings (``d`` for
    ``w_i·w_j``, the rest for powers, products and the two terms of ``K``), and ``q/||T*||² <= 1``,
    so the absolute error of ``1 - q/||T*||²`` is at most the relative error of ``q`` plus ``γ_3``
    (the division and the subtraction).
    """
    unit = W / np.linalg.norm(W, axis=1, keepdims=True)
    order = target.order
    K = tangent_matrix(unit, order)
    jt = (order * target.contract(unit)).ravel()
    residual = float(1.0 - jt @ np.linalg.pinv(K, rcond=1e-10) @ jt / target.squared_norm)
    kappa = float(np.linalg.cond(K))
    n, d = K.shape[0], W.shape[1]
    bound = inverse_quadratic_form_rel_error(kappa, n, d + 2 * order + 4) + gamma(3)
    return residual, bound


def _dense_model(W: np.ndarray, order: int) -> np.ndarray:
    """``Σ_i w_i^{⊗l}`` as a dense array; works for complex ``W`` (complex step)."""
    out = np.zeros((W.shape[1],) * order, dtype=W.dtype)
    for w in W:
        t = w
        for _ in range(order - 1):
            t = np.multiply.outer(t, w)
        out = out + t
    return out


@pytest.mark.parametrize("order", [3, 4])
@pytest.mark.parametrize("method", ["cg", "dense"])
def test_lazy_residual_is_scale_free(order: int, method: str) -> None:
    """The issue's input (W×100 gave 61.2 at l = 3, 2.9e4 at l = 4, with converged=True)."""
    target = random_low_rank(1, 4, order, rng=1)
    W = np.random.default_rng(0).standard_normal((5, 4))
    expected, bound = _reference_residual(W, target)
    # a relative residual lies in [0, 1]; the reference is computed, so only to within its rounding
    # bound (at l = 3, m·d = D = 20: the exact value is 0 and SkylakeX kernels give -3.1e-15, the
    # bound is 9e-11 for κ(K) = 1845)
    assert -bound <= expected <= 1.0 + bound
    for scale in (1e-6, 1e-3, 1.0, 1e2, 1e3, 1e6):
        res = lazy_residual(W * scale, target, method=method)
        assert res.converged, (scale, res.message)
        # exact: lazy_residual clips its result to [0, 1] (its documented contract), no rounding left
        assert 0.0 <= res.residual <= 1.0, (scale, res.residual)
        # both routes solve the same problem on unit rows, backward stably: each is within the
        # reference's bound of the exact value (the dense route's SVD of J has κ(J) <= κ(K)), and
        # cg's stopping rule adds at most tol²·κ(K) (lazy_residual's docstring; tol = 1e-8).
        # A mistake in the rescaling changes the residual by O(1) (the issue: 61.2 and 2.9e4).
        unit = W / np.linalg.norm(W, axis=1, keepdims=True)
        tol = 2 * bound + 1e-8**2 * np.linalg.cond(tangent_matrix(unit, order))
        assert res.residual == pytest.approx(expected, abs=tol), (scale, res.residual, tol)


def test_lazy_residual_target_scale_and_delta_map_back() -> None:
    """``delta`` is returned in the caller's units: ``T(W0) + J(W0)Δ`` attains the residual.

    ``J(W0)Δ`` is computed by a complex step of the dense model, ``Im T(W0 + ihΔ)/h`` (exact to
    rounding for a polynomial), independently of the kernel route.
    """
    order, d, m = 3, 4, 3  # m·d = 12 < D(4, 3) = 20: a residual strictly inside (0, 1)
    rng = np.random.default_rng(7)
    base_target = random_low_rank(2, d, order, coeffs=[1.0, -0.7], rng=rng)
    W = rng.standard_normal((m, d))
    ref, _ = _reference_residual(W, base_target)
    assert 0.05 < ref < 0.95
    for w_scale, t_scale in ((1e-2, 1.0), (1.0, 1e4), (1e2, 1e-4)):
        target = LowRankTensor(base_target.coeffs * t_scale, base_target.components, order)
        W0 = W * w_scale
        for method in ("cg", "dense"):
            res = lazy_residual(W0, target, method=method, tol=1e-12)
            assert res.residual == pytest.approx(ref, abs=1e-8)
            h = 1e-20 * max(1.0, float(np.max(np.abs(W0))))
            jd = np.imag(_dense_model(W0 + 1j * h * res.delta, order)) / h
            fitted = _dense_model(W0, order) + jd
            t_dense = target.dense()
            attained = float(np.sum((fitted - t_dense) ** 2) / np.sum(t_dense**2))
            # the cancellation T(W0) - T* costs ~ eps·(||T(W0)||/||T*||)² at most
            assert attained == pytest.approx(ref, abs=1e-6), (w_scale, t_scale, method)


def test_lazy_residual_zero_rows_keep_delta_finite() -> None:
    order, d = 3, 4
    target = random_low_rank(1, d, order, rng=3)
    W = np.vstack([random_unit_vectors(3, d, 4), np.zeros((1, d))])
    res = lazy_residual(W, target, method="cg")
    assert np.all(np.isfinite(res.delta))
    assert res.residual == pytest.approx(_reference_residual(W[:3], target)[0], abs=1e-8)


# --------------------------------------------------------------------------------------------------
# item 7: linearized_flow reports a failed solve instead of raising AttributeError


def test_linearized_flow_reports_overflow() -> None:
    target = random_low_rank(1, 4, 3, rng=1)
    flow = linearized_flow(np.full((5, 4), 1e150), target, (0, 1))
    assert flow.status == "failed"
    assert not flow.success
    assert "m=5, d=4, order=3" in flow.message and "overflow" in flow.message
    assert np.all(np.isnan(flow.residual))


def test_linearized_flow_reports_solver_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """The crash itself: ``solve_ivp`` failing before the first ``t_eval`` returns ``y`` as a list."""

    class Failed:
        status = -1
        message = "Required step size is less than spacing between numbers."
        y: list[float] = []
        t = np.array([0.0])

    monkeypatch.setattr(lazy_module, "solve_ivp", lambda *a, **k: Failed())
    target = random_low_rank(1, 4, 3, rng=1)
    flow = linearized_flow(random_unit_vectors(5, 4, 0), target, (0, 1))
    assert flow.status == "failed"
    assert "Required step size" in flow.message and "m=5" in flow.message
    assert np.all(np.isnan(flow.residual))


def test_linearized_flow_max_wall() -> None:
    """A stiff problem (kernel eigenvalues ~1e120) stops at the wall-time limit with a status."""
    target = random_low_rank(1, 4, 3, rng=1)
    start = time.monotonic()
    flow = linearized_flow(np.full((5, 4), 1e30), target, (0, 1e-100), max_wall=0.2)
    assert flow.status == "max_wall" and "max_wall=0.2" in flow.message
    assert time.monotonic() - start < 30  # the unbounded run did not end within 60 s


# --------------------------------------------------------------------------------------------------
# item 8: complex input is refused, not truncated to its real part


def test_complex_input_is_refused() -> None:
    target = random_low_rank(1, 4, 3, rng=1)
    W = np.random.default_rng(0).standard_normal((5, 4))
    with pytest.raises(TypeError, match="W must be a real array"):
        loss_and_grad(W + 1e-3j, target, model="plain")
    with pytest.raises(TypeError, match="W must be a real array"):
        loss(W.astype(complex), target, model="plain")
    with pytest.raises(TypeError, match="W0"):
        gradient_flow(W + 1e-3j, target, (0, 1), model="plain")
    with pytest.raises(TypeError, match="coeffs"):
        LowRankTensor(np.array([1.0 + 0j]), [[1.0, 0.0]], 3)
    with pytest.raises(TypeError, match="components"):
        LowRankTensor([1.0], [[1.0, 1j]], 3)
    with pytest.raises(TypeError, match="array"):
        DenseTensor(np.eye(3) * (1 + 0j))
    with pytest.raises(TypeError, match="W0"):
        lazy_residual(W + 0j, target)
    with pytest.raises(TypeError, match="a"):
        orthogonal_tensor(np.array([1 + 1j]), 3, 3)


# --------------------------------------------------------------------------------------------------
# item 9: work bounded by the order


def test_order_is_bounded() -> None:
    with pytest.raises(ValueError, match=f"order must be <= {MAX_ORDER}"):
        LowRankTensor([1.0], [[0.5, 0.5]], 10**9)
    with pytest.raises(ValueError, match="order"):
        tangent_operator(np.ones((2, 2)), 10**8)
    with pytest.raises(ValueError, match="order"):
        random_dense_symmetric(1, 10**6)
    # the largest order allowed still works
    assert LowRankTensor([1.0], [[0.5, 0.5]], MAX_ORDER).norm_sq() == pytest.approx(
        0.5 ** (MAX_ORDER)
    )


@pytest.mark.parametrize(("d", "order"), [(3, 3), (2, 5), (3, 4)])
def test_dense_symmetric_equals_permutation_average(d: int, order: int) -> None:
    """The coset factorisation gives the average over all ``l!`` permutations of the same draw."""
    T = random_dense_symmetric(d, order, rng=5).array
    g = np.random.default_rng(5).standard_normal((d,) * order)
    ref = sum(g.transpose(p) for p in itertools.permutations(range(order))) / math.factorial(order)
    assert np.max(np.abs(T - ref)) < 1e-14


def test_dense_symmetric_high_order_cheap_cases() -> None:
    """``(2, 10)`` took > 20 s and ``(1, 12)`` exhausted memory (12! permutations); now O(l² d^l)."""
    T = random_dense_symmetric(2, 10, rng=0)
    assert T.order == 10
    one = random_dense_symmetric(1, 12, rng=0)
    assert one.array.shape == (1,) * 12
    assert one.array.item() == pytest.approx(np.random.default_rng(0).standard_normal())


# --------------------------------------------------------------------------------------------------
# item 10: a target whose squared norm underflows is refused, not a ZeroDivisionError


def test_underflowing_target_is_refused() -> None:
    target = LowRankTensor([1e-300], np.eye(1, 5), 3)
    with pytest.raises(ValueError, match="target must be non-zero"):
        beyond_lazy_descent(target, 6, rng=0, model="homogeneous")
    with pytest.raises(ValueError, match="target must be non-zero"):
        beyond_lazy_descent(target, 6, rng=0, model="plain")


# --------------------------------------------------------------------------------------------------
# item 12: size guard, symmetry tolerance, wall-time limits


@pytest.mark.parametrize(
    ("value", "exc"), [(math.inf, TypeError), ("x", TypeError), (0, ValueError)]
)
def test_max_elements_is_validated(value: object, exc: type[Exception]) -> None:
    big = random_low_rank(1, 50, 5, rng=0)  # 50^5 = 3.1e8 entries > 2^24
    with pytest.raises(exc, match="max_elements"):
        big.dense(max_elements=value)  # type: ignore[arg-type]
    with pytest.raises(exc, match="max_elements"):
        random_dense_symmetric(50, 5, max_elements=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("atol", [math.inf, math.nan, -1.0, "x"])
def test_symmetry_atol_is_validated(atol: object) -> None:
    non_symmetric = np.arange(9.0).reshape(3, 3)
    with pytest.raises((ValueError, TypeError), match="symmetry_atol"):
        DenseTensor(non_symmetric, symmetry_atol=atol)  # type: ignore[arg-type]


def test_max_wall_stops_long_horizons() -> None:
    T = orthogonal_tensor([1.0, 0.8], 4, 3)
    W = gaussian_init(3, 4, 0.1, 0)
    traj = gradient_flow(W, T, (0, 1e300), model="plain", max_wall=0.2)
    assert traj.status == "max_wall" and not traj.success
    assert "max_wall=0.2" in traj.message and traj.t_final < 1e300
    gd = gradient_descent(W, T, step=1e-3, n_steps=10**9, model="plain", max_wall=0.2)
    assert gd.status == "max_wall" and gd.nsteps < 10**9
    mgf = modified_gradient_flow(T, 6, gamma=1e200, model="homogeneous", rng=0, max_wall=0.3)
    assert mgf.status == "max_wall" and not mgf.success
    bl = beyond_lazy_descent(
        T, 6, epochs=10**6, eps=1e-12, model="homogeneous", rng=0, max_wall=0.3
    )
    assert bl.status == "max_wall" and bl.epochs_run < 10**6
    assert math.isfinite(bl.relative_error)


@pytest.mark.parametrize(
    ("value", "exc"), [(0, ValueError), (-1, ValueError), (math.inf, ValueError), ("1", TypeError)]
)
def test_max_wall_is_validated(value: object, exc: type[Exception]) -> None:
    T = orthogonal_tensor([1.0], 3, 3)
    W = gaussian_init(2, 3, 0.1, 0)
    with pytest.raises(exc, match="max_wall"):
        gradient_flow(W, T, (0, 1), model="plain", max_wall=value)  # type: ignore[arg-type]
    with pytest.raises(exc, match="max_wall"):
        gradient_descent(W, T, step=0.1, n_steps=1, model="plain", max_wall=value)  # type: ignore[arg-type]
