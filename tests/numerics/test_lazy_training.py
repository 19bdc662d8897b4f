"""Tests of numerics.lazy_training: nonlinear training in the lazy scaling (docs/math.md §4).

Independent routes: a dense reference (the ``d^l`` array of ``α(T(W) − T(W0)) − T*`` and its
contraction, integrated by ``solve_ivp`` / iterated by hand) on tiny sizes, and the linearised flow of
:mod:`numerics.lazy`, which the nonlinear flow must approach like ``1/α``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from numerics.lazy import lazy_residual, linearized_flow, tangent_matrix
from numerics.lazy_training import (
    LazyTraining,
    lazy_training_descent,
    lazy_training_flow,
    scaled_residual,
    stable_step,
)
from numerics.tensors import DenseTensor, LowRankTensor, random_low_rank, random_unit_vectors


def _dense_model(W: np.ndarray, order: int) -> np.ndarray:
    return LowRankTensor(np.ones(W.shape[0]), W, order).dense()


def _dense_output_error(W: np.ndarray, W0: np.ndarray, T: np.ndarray, alpha: float) -> np.ndarray:
    order = T.ndim
    return alpha * (_dense_model(W, order) - _dense_model(W0, order)) - T


def _dense_grad(W: np.ndarray, W0: np.ndarray, T: np.ndarray, alpha: float) -> np.ndarray:
    """``∇F_α = (1/α)·l·E(w_i^{⊗(l-1)}, ·)`` with the dense ``E = α(T(W) − T(W0)) − T*``."""
    E = _dense_output_error(W, W0, T, alpha)
    order = T.ndim
    out = np.empty_like(W)
    for i, w in enumerate(W):
        v = E
        for _ in range(order - 1):
            v = v @ w
        out[i] = order * v / alpha
    return out


def _problem(order: int, d: int, m: int, r: int, seed: int) -> tuple[np.ndarray, LowRankTensor]:
    rng = np.random.default_rng([seed, order, d, m, r])
    target = random_low_rank(r, d, order, rng=rng)
    return random_unit_vectors(m, d, rng), target


# ------------------------------------------------------------------------------------ residual
@pytest.mark.parametrize("order,d,m", [(2, 3, 2), (3, 4, 5), (4, 3, 3), (5, 3, 2)])
def test_scaled_residual_matches_dense(order: int, d: int, m: int) -> None:
    W0, target = _problem(order, d, m, 2, 0)
    rng = np.random.default_rng(1)
    T = target.dense()
    for alpha, scale in ((1.0, 0.3), (30.0, 1e-2), (1e4, 1e-5)):
        W = W0 + scale * rng.standard_normal(W0.shape)
        ref = float(np.sum(_dense_output_error(W, W0, T, alpha) ** 2)) / target.squared_norm
        got = scaled_residual(W, W0, target, alpha)
        # both are sums of O(d^l) terms of size ~||T*||²: 1e-11 relative is 1e4·ε_float64·d^l
        assert got == pytest.approx(ref, rel=1e-11, abs=1e-11)
    assert scaled_residual(W0, W0, target, 7.0) == pytest.approx(1.0, rel=1e-15)


def test_scaled_residual_is_accurate_where_the_plain_gram_form_cancels() -> None:
    # α = 1e6, W − W0 ~ 1e-6: the plain Gram form of ||α(T(W) − T(W0)) − T*||² subtracts numbers of
    # size α²m² ~ 1e15 and loses everything; the factored form must still match the dense route.
    W0, target = _problem(3, 4, 6, 1, 2)
    rng = np.random.default_rng(3)
    W = W0 + 1e-6 * rng.standard_normal(W0.shape)
    alpha = 1e6
    ref = float(np.sum(_dense_output_error(W, W0, target.dense(), alpha) ** 2))
    ref /= target.squared_norm
    # dense route: α(T(W) − T(W0)) is formed from entries of size 1 differing by 1e-6, so it carries
    # relative rounding ~ε/1e-6 ≈ 2e-10 on the O(1) output: 1e-8 is a safe bound for the comparison
    assert scaled_residual(W, W0, target, alpha) == pytest.approx(ref, rel=1e-8)


# ------------------------------------------------------------------------------------ flow
@pytest.mark.parametrize("order,d,m,alpha", [(3, 3, 2, 1.0), (3, 3, 4, 20.0), (4, 3, 2, 5.0)])
def test_flow_matches_dense_reference(order: int, d: int, m: int, alpha: float) -> None:
    W0, target = _problem(order, d, m, 1, 4)
    T = target.dense()
    te = np.linspace(0.0, 3.0, 7)
    ref = solve_ivp(
        lambda t, y: -_dense_grad(y.reshape(m, d), W0, T, alpha).ravel(),
        (0.0, 3.0),
        W0.ravel(),
        t_eval=te,
        method="DOP853",
        rtol=1e-12,
        atol=1e-14,
    )
    assert ref.success
    got = lazy_training_flow(W0, target, alpha, 3.0, t_eval=te, rtol=1e-11, atol=1e-13)
    assert isinstance(got, LazyTraining) and got.success and got.status == "finished"
    np.testing.assert_allclose(got.t, te)
    Ws = ref.y.T.reshape(te.size, m, d)
    res_ref = [
        float(np.sum(_dense_output_error(W, W0, T, alpha) ** 2)) / target.squared_norm for W in Ws
    ]
    mov_ref = [np.linalg.norm(W - W0) / np.linalg.norm(W0) for W in Ws]
    # both integrators run at rtol <= 1e-11 on states of size 1; the output error is α times the
    # state error: 1e-7 leaves room for the accumulated local errors over a few hundred steps
    np.testing.assert_allclose(got.residual, res_ref, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got.movement, mov_ref, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(got.relative_error, np.sqrt(got.residual))
    np.testing.assert_allclose(got.W, Ws[-1], atol=1e-8)
    # movement exact: the state observed at t0 is W0 bit for bit (the dense output at t_old adds terms
    # that all carry the factor t - t_old = 0), so W - W0 = 0 exactly
    assert got.residual[0] == pytest.approx(1.0) and got.movement[0] == 0.0


def test_flow_approaches_the_linearised_flow_like_one_over_alpha() -> None:
    # docs/math.md §4 (Chizat–Oyallon–Bach): sup_t |residual_α − residual_lin| and sup_t movement are
    # O(1/α). Below the threshold (m = 8 < D/d = 56/6) so the residual stalls at a positive value.
    W0, target = _problem(3, 6, 8, 1, 5)
    te = np.linspace(0.0, 10.0, 21)
    lin = linearized_flow(W0, target, (0.0, 10.0), t_eval=te, method="exact", include_offset=False)
    gaps, moves = [], []
    alphas = (10.0, 100.0, 1000.0)
    for alpha in alphas:
        run = lazy_training_flow(W0, target, alpha, 10.0, t_eval=te)
        assert run.success
        gaps.append(float(np.max(np.abs(run.residual - lin.residual))))
        moves.append(run.max_movement)
    # each tenfold increase of α divides both by 10 up to the O(1/α²) correction: >= 7 allows a 30%
    # correction at α = 10 (a slope of -1/2, the weakest competing rate, would give 3.2)
    for k in range(2):
        assert gaps[k] / gaps[k + 1] >= 7.0, gaps
        assert moves[k] / moves[k + 1] >= 7.0, moves
    # and the movement is that of the linearised displacement u(t)/α
    u_norm = max(float(np.linalg.norm(u)) for u in lin.delta) / float(np.linalg.norm(W0))
    assert alphas[-1] * moves[-1] == pytest.approx(u_norm, rel=0.01)
    # below the threshold the residual stays above the lazy residual (the tangent projection)
    lazy = lazy_residual(W0, target, method="dense").residual
    assert lazy > 0.005
    assert np.all(lin.residual >= lazy * (1 - 1e-9))


def test_residual_tol_stops_the_flow() -> None:
    W0, target = _problem(3, 4, 12, 1, 6)  # m·d = 48 > D = 20: the target is reachable
    run = lazy_training_flow(W0, target, 100.0, 200.0, residual_tol=1e-4)
    assert run.status == "converged" and run.success
    assert run.t[-1] < 200.0
    assert run.final_residual <= 1e-4 * 1.01  # tested on the plain loss: rounding only
    assert run.final_residual > 1e-6  # it stopped when it crossed, not much later


# ------------------------------------------------------------------------------------ descent
def test_descent_matches_dense_iteration() -> None:
    W0, target = _problem(3, 3, 3, 2, 7)
    T = target.dense()
    alpha, step = 10.0, 0.5 * stable_step(W0, 3)
    W = W0.copy()
    for _ in range(25):
        W = W - step * _dense_grad(W, W0, T, alpha)
    run = lazy_training_descent(W0, target, alpha, step=step, n_steps=25, observe_every=5)
    assert run.method == "gd" and run.status == "finished" and run.nsteps == 25
    np.testing.assert_allclose(run.t, step * np.arange(0, 26, 5))
    np.testing.assert_allclose(run.W, W, atol=1e-12)
    ref = float(np.sum(_dense_output_error(W, W0, T, alpha) ** 2)) / target.squared_norm
    assert run.final_residual == pytest.approx(ref, rel=1e-9)


def test_stable_step_is_two_over_the_top_kernel_eigenvalue() -> None:
    for m, d in ((3, 4), (20, 6)):  # dense branch (m·d <= 64) and Lanczos branch
        W0, _ = _problem(3, d, m, 1, 8)
        lam = np.linalg.eigvalsh(tangent_matrix(W0, 3))[-1]
        assert stable_step(W0, 3) == pytest.approx(2.0 / lam, rel=1e-6)


def test_descent_below_the_stable_step_stays_lazy_and_above_it_leaves() -> None:
    W0, target = _problem(3, 4, 12, 1, 9)
    h = stable_step(W0, 3)
    good = lazy_training_descent(W0, target, 100.0, step=0.9 * h, n_steps=3000)
    assert good.final_residual < 1e-3
    assert good.max_movement < 0.01  # O(1/α): the linearised displacement is O(1)·||W0||
    # above it the top kernel mode is multiplied by |1 − 1.3·2| = 1.6 per step until the nonlinearity
    # stops it: the run leaves the O(1/α) neighbourhood of W0 (measured: movement 0.13 vs 0.001)
    bad = lazy_training_descent(W0, target, 100.0, step=1.3 * h, n_steps=300)
    assert bad.max_movement > 10 * good.max_movement


# ------------------------------------------------------------------------------------ validation
def test_input_validation_names_the_parameter() -> None:
    W0, target = _problem(3, 3, 2, 1, 10)
    with pytest.raises(ValueError, match="alpha"):
        lazy_training_flow(W0, target, 0.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        lazy_training_descent(W0, target, -1.0, step=0.1, n_steps=2)
    with pytest.raises(TypeError, match="alpha"):
        lazy_training_flow(W0, target, "big", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="t_end"):
        lazy_training_flow(W0, target, 1.0, 0.0)
    with pytest.raises(ValueError, match="method"):
        lazy_training_flow(W0, target, 1.0, 1.0, method="Euler")
    with pytest.raises(ValueError, match="residual_tol"):
        lazy_training_flow(W0, target, 1.0, 1.0, residual_tol=0.0)
    with pytest.raises(ValueError, match="step"):
        lazy_training_descent(W0, target, 1.0, step=0.0, n_steps=2)
    with pytest.raises(ValueError, match="n_steps"):
        lazy_training_descent(W0, target, 1.0, step=0.1, n_steps=0)
    with pytest.raises(TypeError, match="LowRankTensor"):
        lazy_training_flow(W0, DenseTensor(target.dense()), 1.0, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="columns"):
        lazy_training_flow(np.ones((2, 4)), target, 1.0, 1.0)
    with pytest.raises(ValueError, match="W0 must be nonzero"):
        lazy_training_flow(np.zeros((2, 3)), target, 1.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        lazy_training_flow(np.full((2, 3), np.nan), target, 1.0, 1.0)
    with pytest.raises(ValueError, match="nonzero tensor"):
        lazy_training_flow(W0, LowRankTensor(np.zeros(1), np.ones((1, 3)), 3), 1.0, 1.0)
    with pytest.raises(ValueError, match="shape"):
        scaled_residual(np.ones((3, 3)), W0, target, 1.0)
    with pytest.raises(ValueError, match="nonzero"):
        stable_step(np.zeros((2, 3)), 3)
