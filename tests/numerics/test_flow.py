"""Tests of :mod:`numerics.flow`: monotone loss, exact solution, statuses, events, observers."""

from __future__ import annotations

import numpy as np
import pytest

from numerics.flow import (
    METHODS,
    Trajectory,
    component_fits,
    component_norms,
    gradient_descent,
    gradient_flow,
)
from numerics.models import MODELS, hessian_vector_product, loss, loss_and_grad, pack_coefficient
from numerics.tensors import (
    LowRankTensor,
    orthogonal_tensor,
    random_dense_symmetric,
    random_low_rank,
    random_unit_vectors,
)
from tests.rounding import gamma


def _initial(model: str, m: int, d: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    X = scale * random_unit_vectors(m, d, rng)
    return pack_coefficient(np.full(m, scale), X) if model == "coefficient" else X


# ---------------------------------------------------------------------------------------------
# the loss never increases
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("kind", ["lowrank", "dense"])
def test_loss_never_increases_along_flow(model, kind):
    """``df/dt = -||∇f||² <= 0``: observed losses may rise only by the solver's error.

    Slack (derived): the dense output at an observation time is within the local error of the exact
    flow, ``<= rtol·|y| + atol`` per coordinate; a state error ``δ`` moves the loss by ``<= ||∇f||·||δ||``.
    Two observations each carry such an error, so ``f(t_{k+1}) - f(t_k) <= 2·G·(rtol·||W|| + atol·√n)``
    with ``G`` the largest observed gradient norm, times 10 for the error-estimator's own inaccuracy.
    """
    rng = np.random.default_rng(17)
    d, order = 5, 3
    target = (
        random_low_rank(3, d, order, coeffs=[1.0, 0.7, -0.5], rng=rng)
        if kind == "lowrank"
        else random_dense_symmetric(d, order, rng=rng)
    )
    W0 = _initial(model, 6, d, 0.5, rng)
    rtol, atol = 1e-6, 1e-9

    def gnorm(t, W):
        return np.linalg.norm(loss_and_grad(W, target, model=model, reg=0.05)[1])

    t_eval = np.linspace(0.0, 10.0, 801)  # several observations inside each solver step
    tr = gradient_flow(
        W0,
        target,
        (0.0, 10.0),
        model=model,
        reg=0.05,
        rtol=rtol,
        atol=atol,
        t_eval=t_eval,
        observe={"gnorm": gnorm, "wnorm": lambda t, W: np.linalg.norm(W)},
    )
    assert tr.status == "finished", tr.message
    assert tr.success
    assert tr.nsteps < len(t_eval)  # the dense output was used between steps
    G = tr.observations["gnorm"].max()
    Wn = tr.observations["wnorm"].max()
    slack = 10 * 2 * G * (rtol * Wn + atol * np.sqrt(W0.size))
    rises = np.diff(tr.loss)  # measured: every step decreases (max rise < 0) for all six cases
    assert rises.max() <= slack, f"loss rose by {rises.max():.3g} > slack {slack:.3g}"
    assert tr.loss[-1] < 0.5 * tr.loss[0]  # and it really went down (not a frozen trajectory)


def test_gradient_descent_small_step_decreases_loss():
    """Descent lemma: ``f(W - η∇f) <= f(W) - η(1 - ηL/2)||∇f||²`` when ``ηL < 2``.

    ``L`` at ``W0`` is measured by power iteration on the Hessian; ``η = 0.2/L`` leaves a 10x margin
    for the curvature growing along the path. Slack: the rounding of two computed losses. The Gram
    form ``½(sᵀG^{∘l}s - 2sᵀt + ||T*||²)`` (``s_i = ||w_i||²``, ``|G_ij| <= 1`` for unit rows, ``t_i =
    Σ_k a_k (x_i·u_k)^l``) sums terms of total size ``<= (Σ s_i + Σ|a_k|)²``, each through at most
    ``N = d + l + m + r + 8`` roundings (a dot product, a power, the sums, the three final
    operations), so each loss is within ``γ_N·(||W||_F² + Σ|a_k|)²`` (tests/rounding.py) and a
    difference of two within twice that, with ``||W||_F²`` observed along the path.
    """
    rng = np.random.default_rng(3)
    target = orthogonal_tensor([1.0, 0.6], 6, 4)
    W0 = _initial("homogeneous", 8, 6, 0.5, rng)
    V = rng.standard_normal(W0.shape)
    for _ in range(50):
        V = hessian_vector_product(W0, V, target, model="homogeneous")
        lam = np.linalg.norm(V)
        V /= lam
    step = 0.2 / lam
    mass = {"mass": lambda t, W: float(np.sum(W * W))}
    tr = gradient_descent(W0, target, step=step, n_steps=300, model="homogeneous", observe=mass)
    assert tr.status == "finished", tr.message
    (m, d), a = W0.shape, np.array([1.0, 0.6])
    slack = 2 * gamma(d + 4 + m + a.size + 8) * (tr.observations["mass"].max() + a.sum()) ** 2
    assert np.diff(tr.loss).max() <= slack
    assert tr.loss[-1] < tr.loss[0]
    np.testing.assert_allclose(tr.t, step * np.arange(301), rtol=1e-12)
    assert tr.nsteps == 300 and tr.method == "gd"
    assert tr.loss[-1] == pytest.approx(loss(tr.W, target, model="homogeneous"), rel=1e-12)


def test_gradient_descent_tracks_gradient_flow():
    """Euler's global error is ``O(η)``: at η = 1e-3 the descent loss is within 1e-2 relative of the flow."""
    rng = np.random.default_rng(4)
    target = random_low_rank(2, 4, 3, rng=rng)
    W0 = _initial("plain", 3, 4, 0.6, rng)
    gd = gradient_descent(W0, target, step=1e-3, n_steps=2000, observe_every=500, model="plain")
    fl = gradient_flow(W0, target, (0.0, 2.0), t_eval=gd.t, rtol=1e-9, atol=1e-12, model="plain")
    np.testing.assert_allclose(gd.t, [0.0, 0.5, 1.0, 1.5, 2.0], rtol=1e-12)
    # measured: max relative difference 3.2e-3 here; Euler's O(η·L·t) with L ≈ 5, t = 2 gives 1e-2
    np.testing.assert_allclose(gd.loss, fl.loss, rtol=1e-2)


# ---------------------------------------------------------------------------------------------
# exact solution (scipy's habit: test the integrator against a closed form)
# ---------------------------------------------------------------------------------------------


def test_flow_matches_logistic_closed_form():
    """l = 2, plain model, m = 1, target ``c·u⊗u``, ``w(0) = x0·u``: ``w = x(t)u`` with ``y = x²``
    solving ``y' = 4y(c - y)``, i.e. ``y(t) = c / (1 + (c/y0 - 1) e^{-4ct})`` (logistic)."""
    u = np.array([0.6, 0.0, 0.8])
    c, x0 = 2.0, 0.05
    target = LowRankTensor([c], u[None, :], 2)
    t_eval = np.linspace(0.0, 3.0, 31)
    tr = gradient_flow(
        x0 * u[None, :], target, (0.0, 3.0), t_eval=t_eval, rtol=1e-10, atol=1e-13, model="plain"
    )
    y = c / (1.0 + (c / x0**2 - 1.0) * np.exp(-4.0 * c * t_eval))
    exact_loss = 0.5 * (y - c) ** 2
    # rtol = 1e-10 per step, global error grows at most by the flow's Lipschitz factor: 1e-7 is ample
    np.testing.assert_allclose(tr.loss, exact_loss, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(tr.W[0], np.sqrt(y[-1]) * u, rtol=1e-7)
    np.testing.assert_array_equal(tr.t, t_eval)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_solves_the_closed_form(method):
    u = np.array([1.0, 0.0])
    c, x0 = 1.0, 0.3
    target = LowRankTensor([c], u[None, :], 2)
    tr = gradient_flow(
        x0 * u[None, :], target, (0.0, 1.0), method=method, rtol=1e-8, atol=1e-11, model="plain"
    )
    y1 = c / (1.0 + (c / x0**2 - 1.0) * np.exp(-4.0 * c))
    assert tr.status == "finished" and tr.method == method
    assert tr.t_final == 1.0
    # rtol 1e-8 over 1 time unit: relative error measured <= 7e-8 (RK23; BDF 4.5e-8); bound 1e-5
    assert tr.W[0, 0] ** 2 == pytest.approx(y1, rel=1e-5)
    assert tr.nfev > 0


# ---------------------------------------------------------------------------------------------
# statuses and messages
# ---------------------------------------------------------------------------------------------


def test_flow_converges_to_loss_tol():
    rng = np.random.default_rng(5)
    U = random_unit_vectors(1, 5, rng)
    target = LowRankTensor([1.0], U, 3)
    tr = gradient_flow(
        U + 0.05 * rng.standard_normal((1, 5)), target, (0.0, 100.0), loss_tol=1e-10, model="plain"
    )
    assert tr.status == "converged" and tr.success
    assert "loss_tol=1e-10" in tr.message
    assert tr.t_final < 100.0
    assert loss(tr.W, target, model="plain") <= 1e-10


def test_descent_converges_to_loss_tol():
    rng = np.random.default_rng(6)
    U = random_unit_vectors(1, 4, rng)
    target = LowRankTensor([1.0], U, 3)
    tr = gradient_descent(
        U + 0.05 * rng.standard_normal((1, 4)),
        target,
        step=0.05,
        n_steps=10_000,
        loss_tol=1e-12,
        model="plain",
    )
    assert tr.status == "converged", tr.message
    assert tr.nsteps < 10_000
    assert tr.loss[-1] <= 1e-12 and tr.t[-1] == pytest.approx(tr.nsteps * 0.05)


def test_flow_diverged_when_norm_exceeds_max_norm():
    """Fitting ``8·u^{⊗3}`` with one plain component drives ``||w||`` to 2, beyond ``max_norm = 1.5``."""
    u = np.array([[1.0, 0.0, 0.0]])
    tr = gradient_flow(
        0.5 * u, LowRankTensor([8.0], u, 3), (0.0, 100.0), max_norm=1.5, model="plain"
    )
    assert tr.status == "diverged" and not tr.success
    for part in ("max_norm=1.5", "model='plain'", "method='auto'", "m=1", "d=3", "order=3", "t="):
        assert part in tr.message
    assert np.linalg.norm(tr.W[0]) > 1.5 and tr.t_final < 100.0


def test_descent_with_huge_step_diverges_or_nans():
    u = np.array([[1.0, 0.0, 0.0]])
    target = LowRankTensor([8.0], u, 3)
    tr = gradient_descent(0.5 * u, target, step=10.0, n_steps=100, model="plain")
    assert tr.status == "diverged" and not tr.success
    assert "step=10" in tr.message and "model='plain'" in tr.message and "max_norm" in tr.message
    tr = gradient_descent(0.5 * u, target, step=10.0, n_steps=100, max_norm=1e300, model="plain")
    assert tr.status == "nan" and not tr.success
    assert "step=10" in tr.message and "model='plain'" in tr.message


def test_flow_reports_nan_for_non_finite_gradient():
    """A gradient that overflows at the initial state ends the run at once (no hang) with status nan."""
    u = np.array([[1.0, 0.0, 0.0]])
    target = LowRankTensor([1.0], u, 3)
    tr = gradient_flow(1e200 * u, target, (0.0, 1.0), max_norm=1e300, model="plain")
    assert tr.status == "nan" and not tr.success
    assert "non-finite" in tr.message and "model='plain'" in tr.message
    assert tr.t_final == 0.0
    # float32 gradients overflow at much smaller norms
    tr32 = gradient_flow(
        1e8 * u, target, (0.0, 1.0), max_norm=1e300, dtype=np.float32, model="plain"
    )
    assert tr32.status == "nan" and "non-finite" in tr32.message
    # a finite gradient with an infinite loss: the recorded loss is non-finite
    tr_inf = gradient_flow(1e60 * u, target, (0.0, 1.0), max_norm=1e300, model="plain")
    assert tr_inf.status == "nan" and "non-finite" in tr_inf.message


def test_flow_max_steps():
    u = np.array([[1.0, 0.0]])
    tr = gradient_flow(
        0.5 * u, LowRankTensor([2.0], u, 3), (0.0, 100.0), max_steps=3, model="plain"
    )
    assert tr.status == "max_steps" and tr.nsteps == 3 and not tr.success
    assert "max_steps=3" in tr.message


# ---------------------------------------------------------------------------------------------
# events and observers
# ---------------------------------------------------------------------------------------------


def test_terminal_event_stops_at_root():
    rng = np.random.default_rng(8)
    U = random_unit_vectors(1, 5, rng)
    target = LowRankTensor([1.0], U, 3)

    def low_loss(t, W):
        return loss(W, target, model="plain") - 0.01

    tr = gradient_flow(0.3 * U, target, (0.0, 100.0), events={"low_loss": low_loss}, model="plain")
    assert tr.status == "event" and tr.success
    assert "low_loss" in tr.message
    assert tr.t_events["low_loss"].shape == (1,)
    assert tr.t_final == tr.t_events["low_loss"][0] < 100.0
    # root found by brentq on the dense output (xtol 1e-12): the event function vanishes there up to
    # its slope times xtol plus the dense-output error ~ rtol·f = 1e-8
    assert loss(tr.W, target, model="plain") == pytest.approx(0.01, abs=1e-7)
    assert tr.t[-1] == tr.t_final  # the last observation is at the root


def test_non_terminal_event_is_recorded_and_flow_continues():
    rng = np.random.default_rng(9)
    U = random_unit_vectors(1, 4, rng)
    target = LowRankTensor([1.0], U, 3)

    def crossing(t, W):
        return loss(W, target, model="plain") - 0.01

    crossing.terminal = False  # type: ignore[attr-defined]
    tr = gradient_flow(0.3 * U, target, (0.0, 5.0), events=crossing, model="plain")
    assert tr.status == "finished"
    assert tr.t_events["crossing"].shape == (1,) and 0.0 < tr.t_events["crossing"][0] < 5.0
    assert tr.t_final == 5.0


def test_observers_recorded_at_t_eval_with_right_shapes():
    rng = np.random.default_rng(10)
    target = orthogonal_tensor([1.0, 0.7, 0.4], 8, 4)
    m = 10
    W0 = 0.1 * random_unit_vectors(m, 8, rng)
    t_eval = np.linspace(0.0, 20.0, 41)
    observe = {
        "fits": component_fits(target.components, 4, model="homogeneous"),
        "norms": component_norms,
        "W": lambda t, W: W.copy(),
    }
    tr = gradient_flow(W0, target, (0.0, 20.0), model="homogeneous", t_eval=t_eval, observe=observe)
    assert isinstance(tr, Trajectory)
    np.testing.assert_array_equal(tr.t, t_eval)
    assert tr.loss.shape == (41,)
    assert tr.observations["fits"].shape == (41, 3)
    assert tr.observations["norms"].shape == (41, m)
    assert tr.observations["W"].shape == (41, m, 8)
    # the observed states are the flow's: loss and norms recomputed from them agree
    for k in (0, 20, 40):
        Wk = tr.observations["W"][k]
        assert tr.loss[k] == pytest.approx(loss(Wk, target, model="homogeneous"), rel=1e-12)
        np.testing.assert_allclose(
            tr.observations["norms"][k], np.linalg.norm(Wk, axis=1), rtol=1e-12
        )
    # exact: t_eval[0] = t0, where the dense output is y_old + (terms that all carry the factor
    # (t - t_old) = 0): W0 bit for bit, whatever kernel summed the (zero) terms
    np.testing.assert_array_equal(tr.observations["W"][0], W0)
    np.testing.assert_allclose(tr.observations["W"][-1], tr.W, rtol=1e-12)
    # fits T(W)(e_k^{⊗4}) start at O(δ²) = O(1e-2) and all three components are fitted by t = 20
    assert np.all(np.abs(tr.observations["fits"][0]) <= m * 0.01)
    np.testing.assert_allclose(tr.observations["fits"][-1], [1.0, 0.7, 0.4], atol=0.02)


def test_observers_without_t_eval_see_every_step():
    u = np.array([[1.0, 0.0]])
    tr = gradient_flow(
        0.5 * u,
        LowRankTensor([1.0], u, 3),
        (0.0, 1.0),
        observe={"n": component_norms},
        model="plain",
    )
    assert tr.t.shape == (tr.nsteps + 1,) and tr.t[0] == 0.0 and tr.t[-1] == 1.0
    assert tr.observations["n"].shape == (tr.nsteps + 1, 1)
    assert np.all(np.diff(tr.t) > 0)


def test_descent_observe_every():
    u = np.array([[1.0, 0.0]])
    tr = gradient_descent(
        0.5 * u,
        LowRankTensor([1.0], u, 3),
        step=0.01,
        n_steps=25,
        observe_every=10,
        observe={"n": component_norms},
        model="plain",
    )
    np.testing.assert_allclose(tr.t, [0.0, 0.1, 0.2, 0.25], rtol=1e-12)
    assert tr.observations["n"].shape == (4, 1)


def test_float32_flow_agrees_with_float64():
    rng = np.random.default_rng(12)
    target = random_low_rank(2, 6, 3, rng=rng)
    W0 = _initial("plain", 4, 6, 0.5, rng)
    t64 = gradient_flow(W0, target, (0.0, 2.0), t_eval=[0.0, 1.0, 2.0], model="plain")
    t32 = gradient_flow(
        W0, target, (0.0, 2.0), t_eval=[0.0, 1.0, 2.0], dtype=np.float32, model="plain"
    )
    # float32 gradients (ε = 6e-8) perturb the flow by ~1e-6 relative; 1e-4 as for loss_and_grad
    np.testing.assert_allclose(t32.loss, t64.loss, rtol=1e-4)
