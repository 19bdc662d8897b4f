"""Tests of paper 1's beyond-lazy variant, its baselines and the success criterion (docs/math.md §5)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.algorithms import (
    beyond_lazy_descent,
    fit_succeeded,
    hessian_min_eigenvalue,
    plain_descent_baseline,
    relative_error,
    target_scale,
)
from numerics.models import hessian_vector_product, loss, loss_and_grad, model_tensor
from numerics.tensors import (
    DenseTensor,
    LowRankTensor,
    orthogonal_tensor,
    random_low_rank,
)
from reports.statistics import calibration_estimate, rate_at_least, rate_decision_probabilities


# ---------------------------------------------------------------------------------------------
# success criterion and relative error on constructed cases
# ---------------------------------------------------------------------------------------------
def _target() -> LowRankTensor:
    return orthogonal_tensor([2.0, 1.0], 4, 3)


def test_relative_error_exact_fit_is_zero() -> None:
    t = _target()
    assert relative_error(t, t) == pytest.approx(0.0, abs=1e-7)
    assert fit_succeeded(t, t, 1e-6)


@pytest.mark.parametrize("h", [-0.5, 0.01, 0.2, 1.0])
def test_relative_error_of_scaled_target(h: float) -> None:
    # T = (1+h)T*  =>  ||T - T*||/||T*|| = |h| exactly
    t = _target()
    est = LowRankTensor((1 + h) * t.coeffs, t.components, t.order)
    assert relative_error(est, t) == pytest.approx(abs(h), rel=1e-10)


def test_relative_error_of_zero_and_orthogonal_extra_term() -> None:
    t = _target()  # ||T*||² = 4 + 1 = 5
    zero = LowRankTensor([0.0], np.eye(1, 4), 3)
    assert relative_error(zero, t) == pytest.approx(1.0, rel=1e-12)
    assert not fit_succeeded(zero, t, 0.99)
    # add c·e_3^{⊗3}, orthogonal to T*: error = |c|/sqrt(5)
    c = 0.3
    est = LowRankTensor(np.r_[t.coeffs, c], np.vstack([t.components, np.eye(4)[2]]), t.order)
    assert relative_error(est, t) == pytest.approx(c / math.sqrt(5.0), rel=1e-12)
    assert fit_succeeded(est, t, 0.14)  # 0.134 <= 0.14
    assert not fit_succeeded(est, t, 0.13)


def test_relative_error_matches_dense_route() -> None:
    rng = np.random.default_rng(3)
    t = random_low_rank(3, 5, 3, coeffs=[1.0, -0.5, 2.0], rng=rng)
    est = random_low_rank(4, 5, 3, rng=rng)
    dense = np.linalg.norm(est.dense() - t.dense()) / np.linalg.norm(t.dense())
    assert relative_error(est, t) == pytest.approx(dense, rel=1e-10)
    assert relative_error(DenseTensor(est.dense()), DenseTensor(t.dense())) == pytest.approx(
        dense, rel=1e-10
    )


def test_success_criterion_rejects_bad_input() -> None:
    t = _target()
    with pytest.raises(ValueError, match="eps"):
        fit_succeeded(t, t, 0.0)
    with pytest.raises(ValueError, match="eps"):
        fit_succeeded(t, t, -1.0)
    with pytest.raises(TypeError, match="estimate"):
        relative_error(np.zeros((4, 4, 4)), t)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-zero"):
        relative_error(t, LowRankTensor([0.0], np.eye(1, 4), 3))


def test_target_scale() -> None:
    t = orthogonal_tensor([0.5, 3.0, 1.0], 6, 4, basis="random", rng=1)
    assert target_scale(t) == pytest.approx(3.0, rel=1e-12)
    # two identical components: the spectral norm 2a is seen, not the coefficient a
    u = np.eye(1, 5)
    assert target_scale(LowRankTensor([1.0, 1.0], np.vstack([u, u]), 3)) == pytest.approx(2.0)
    # unnormalised components: scale uses c·||u||^l
    assert target_scale(LowRankTensor([1.0], 2.0 * u, 3)) == pytest.approx(8.0)
    dense = DenseTensor(t.dense())
    assert target_scale(dense) == pytest.approx(math.sqrt(0.25 + 9 + 1), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "exc", "name"),
    [
        ({"m": 0}, ValueError, "m"),
        ({"m": -2}, ValueError, "m"),
        ({"m": 2.5}, TypeError, "m"),
        ({"eps": 0.0}, ValueError, "eps"),
        ({"eps": -0.1}, ValueError, "eps"),
        ({"step": -0.1}, ValueError, "step"),
        ({"step": 0.0}, ValueError, "step"),
        ({"delta": 0.0}, ValueError, "delta"),
        ({"reg": -1.0}, ValueError, "reg"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epoch_steps": 0}, ValueError, "epoch_steps"),
        ({"reinit_threshold": 1e-3}, ValueError, "reinit_threshold"),  # == delta
        ({"reinit_threshold": 0.1}, ValueError, "reinit_threshold"),  # > delta
        ({"reinit": "all"}, ValueError, "reinit"),
        ({"model": "coefficient"}, ValueError, "model"),
        ({"rng": -1}, ValueError, "rng"),
        ({"W0": np.zeros((3, 5))}, ValueError, "W0"),
        ({"eps": float("nan")}, ValueError, "eps"),
    ],
)
def test_beyond_rejects_bad_input(kwargs: dict, exc: type, name: str) -> None:
    args = {"m": 4, "model": "homogeneous", **kwargs}
    m = args.pop("m")
    with pytest.raises(exc, match=name):
        beyond_lazy_descent(_target(), m, **args)


def test_beyond_rejects_bad_target() -> None:
    with pytest.raises(TypeError, match="target"):
        beyond_lazy_descent(np.zeros((3, 3, 3)), 2, model="homogeneous")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-zero"):
        beyond_lazy_descent(LowRankTensor([0.0], np.eye(1, 3), 3), 2, model="homogeneous")


def test_baseline_rejects_bad_input() -> None:
    t = _target()
    for kwargs, name in [
        ({"step": -1.0}, "step"),
        ({"eps": 0.0}, "eps"),
        ({"method": "adam"}, "method"),
        ({"init": 0.0}, "init"),
        ({"gtol": 0.0}, "gtol"),
    ]:
        with pytest.raises(ValueError, match=name):
            plain_descent_baseline(t, 2, **{"model": "plain", **kwargs})
    with pytest.raises(ValueError, match="m"):
        plain_descent_baseline(t, 0, model="plain")


# ---------------------------------------------------------------------------------------------
# the variant: result structure, failure detection, invariance, success where the claim says
# ---------------------------------------------------------------------------------------------
def test_result_structure_and_gram_error_history() -> None:
    t = random_low_rank(2, 8, 3, rng=0)
    res = beyond_lazy_descent(
        t, 6, rng=1, epochs=3, epoch_steps=50, stop_at_eps=False, model="homogeneous"
    )
    assert res.status == "budget"
    assert res.epochs_run == 3 and res.n_steps == 150
    assert res.epoch_errors.shape == (3,)
    assert len(res.reinit_events) == 2 and [e.epoch for e in res.reinit_events] == [1, 2]
    assert np.all(np.diff(res.steps) > 0) and res.steps[-1] == 150
    # history from the loss (Gram form) agrees with the independent inner-product route
    assert res.errors[-1] == pytest.approx(res.relative_error, rel=1e-8, abs=1e-12)
    direct = relative_error(model_tensor(res.W, 3, model="homogeneous"), t)
    # exact: the result's relative_error is this same call on the same W in the same process (one
    # thread count), and components() is model_tensor(W, order, model): bitwise the same computation
    assert res.relative_error == direct
    assert relative_error(res.components(), t) == direct
    s = target_scale(t)
    assert res.step_size == pytest.approx(0.1 / s) and res.reg == pytest.approx(1e-2 * s)
    assert res.W.shape == (6, 8)


def test_divergence_is_reported_with_parameters() -> None:
    t = random_low_rank(2, 6, 3, rng=0)
    res = beyond_lazy_descent(
        t, 4, rng=0, step=50.0, delta=0.5, reinit_threshold=0.1, model="homogeneous"
    )
    assert not res.success
    assert res.status in ("nan", "diverged")
    assert "step=50.0" in res.message


def test_converges_on_easy_problem_and_stops_early() -> None:
    # rank one, m = 4: measured success at seeds 0..24 for d in {4, 8, 16, 32}, l in {3, 4} (100/100)
    t = random_low_rank(1, 10, 4, rng=2)
    res = beyond_lazy_descent(t, 4, rng=0, model="homogeneous")
    assert res.success and res.status == "converged"
    assert res.relative_error <= res.eps
    assert res.n_steps < 20 * 300  # stopped before the budget


@settings(max_examples=8)
@given(
    k=st.sampled_from([-2, -1, 1, 2, 3]),
    seed=st.integers(0, 2**16),
    l=st.sampled_from([3, 4]),
)
def test_scale_equivariance(k: int, seed: int, l: int) -> None:
    # T* -> 4^k T*: the run maps onto itself by W -> 2^k W (powers of 2: exact in floating point),
    # so the relative errors agree to rounding. Fails if any constant were absolute.
    t = random_low_rank(2, 6, l, coeffs=[1.0, 0.7], rng=seed)
    c = 4.0**k
    ts = LowRankTensor(c * t.coeffs, t.components, l)
    kw = {"model": "homogeneous", "epochs": 3, "epoch_steps": 60, "stop_at_eps": False}
    a = beyond_lazy_descent(t, 3, rng=seed, **kw)
    b = beyond_lazy_descent(ts, 3, rng=seed, **kw)
    assert b.relative_error == pytest.approx(a.relative_error, rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(b.W, 2.0**k * a.W, rtol=1e-6, atol=1e-9 * 2.0**k)


# "m = 4r suffices" (beyond.m-vs-d / m-vs-r) is a statement about a success *rate*, so it is a seeded
# rate judged by the exact-interval rule (docs/math.md §7.3), never a property over seeds: at
# r = 2, d = 6, l = 4, seed 531007 the variant with m = 8 stalls at relative error 0.707 (docs/math.md
# §10.6). Calibration (seeds 0-19, disjoint from the judged block 1000-1001): 3476 of 3480 runs succeed.
M4R_BAR = 0.8  # the full-profile bar of beyond.m-vs-d
M4R_CALIBRATION = (3476, 3480)  # successes, runs: r in 1..3, l in 3..4, d in 4..32, seeds 0..19
M4R_RUNS = [
    (r, l, d, seed)
    for r in (1, 2, 3)
    for l in (3, 4)
    for d in (4, 6, 12, 32)
    for seed in (1000, 1001)
]


def test_m_4r_rate_design_decides() -> None:
    """The seeded rate's derived margin: at the calibrated rate (Laplace, docs/math.md §7.8) its 48 runs
    hold with probability > 1 - 1e-7 (any 44 of 48 hold: up to 4 runs may flip on another machine),
    and a variant that succeeds at rate 0.6 would pass with probability < 1e-5."""
    n = len(M4R_RUNS)
    p_hat = calibration_estimate(*M4R_CALIBRATION)
    assert rate_decision_probabilities(p_hat, n, M4R_BAR)["holds"] > 1 - 1e-7
    assert rate_decision_probabilities(0.6, n, M4R_BAR)["holds"] < 1e-5


def test_variant_succeeds_with_m_4r_at_a_rate() -> None:
    """Modest over-parametrisation m = 4r suffices (no d^{l-1}) at a rate >= 0.8 (the defaults:
    20 epochs of 300 steps, eps = 0.05); 48 fixed seeded runs, measured 48 of 48 (2026-12-06)."""
    failures = []
    for r, l, d, seed in M4R_RUNS:
        t = random_low_rank(r, d, l, rng=seed)
        res = beyond_lazy_descent(t, 4 * r, rng=seed + 1, model="homogeneous")
        if not res.success:
            failures.append((r, l, d, seed, round(res.relative_error, 3)))
    n = len(M4R_RUNS)
    rate = rate_at_least("m = 4r succeeds", n - len(failures), n, M4R_BAR)
    assert rate.status == "holds", (rate.describe(), failures)


def test_reinit_escapes_where_plain_epochs_stay_stuck() -> None:
    # m = r = 3, l = 3, d = 50. Without re-initialisation (one epoch, same total steps) the run
    # parks with one direction missing (error ~ sqrt(1/3)); "one-random" re-initialisation escapes.
    # Fixed seeds; measured on seeds 0..5: control errors 0.577, 0.042, 0.817, 0.577, 0.577, 0.574.
    t = random_low_rank(3, 50, 3, rng=100)
    stuck = beyond_lazy_descent(t, 3, rng=0, epochs=1, epoch_steps=3600, model="homogeneous")
    assert stuck.relative_error > 0.5
    esc = beyond_lazy_descent(t, 3, rng=0, reinit="one-random", epochs=12, model="homogeneous")
    assert esc.success
    assert esc.epochs_run >= 2 and esc.epoch_errors[0] > 0.5
    assert len(esc.reinit_events) == esc.epochs_run - 1


# ---------------------------------------------------------------------------------------------
# baselines and the Hessian
# ---------------------------------------------------------------------------------------------
def test_plain_gd_with_m_equal_r_gets_stuck_and_overparametrisation_helps() -> None:
    # Paper 1: with m = r plain GD ends at a non-global critical point even for orthogonal targets.
    # Orthogonal target, r = 3, d = 5, l = 3, 10 fixed seeds. Measured: stuck 8/10 at m = r, 0/10 at
    # m = 4r. Assertions leave margins of 3 seeds and 2 seeds.
    t = orthogonal_tensor(np.ones(3), 5, 3)
    small = [plain_descent_baseline(t, 3, rng=s, model="plain") for s in range(10)]
    big = [plain_descent_baseline(t, 12, rng=s, model="plain") for s in range(10)]
    assert sum(o.stuck for o in small) >= 5
    assert sum(o.stuck for o in big) <= 2
    for o in small:
        if o.stuck:
            assert o.relative_error > 0.5 and o.grad_norm <= 1e-3


def test_baseline_flow_and_gd_agree_on_exact_start() -> None:
    # start at the global minimum: both stay there (error 0, gradient 0)
    t = orthogonal_tensor([1.0, 2.0], 3, 3)
    W0 = np.vstack([1.0 * np.eye(3)[0], 2.0 ** (1 / 3) * np.eye(3)[1]])
    for method in ("gd", "flow"):
        o = plain_descent_baseline(t, 2, W0=W0, method=method, model="plain")
        assert o.success and o.relative_error < 1e-6 and o.critical and not o.stuck


def test_hessian_min_eigenvalue_known_cases() -> None:
    # l = 3, one component at the exact fit of e_1^{⊗3}, d = 2: the loss is ½((w·w)^3 - 2w_1^3 + 1)
    # with Hessian diag(9, 3) at w = e_1 (radial 9a^{4/3}, tangential l·a = 3).
    t = orthogonal_tensor([1.0], 2, 3)
    vals = hessian_min_eigenvalue(np.array([[1.0, 0.0]]), t, k=2, model="plain")
    np.testing.assert_allclose(vals, [3.0, 9.0], rtol=1e-10)
    # W = 0 is a high-order critical point for l >= 3: zero Hessian
    z = hessian_min_eigenvalue(np.zeros((2, 2)), t, k=4, model="plain")
    np.testing.assert_allclose(z, 0.0, atol=1e-12)


def test_hessian_iterative_matches_dense() -> None:
    t = random_low_rank(2, 40, 3, rng=5)
    W = np.random.default_rng(6).standard_normal((6, 40)) * 0.3
    dense = hessian_min_eigenvalue(W, t, k=2, dense_below=10_000, model="plain")
    it = hessian_min_eigenvalue(W, t, k=2, dense_below=0, model="plain")
    np.testing.assert_allclose(it, dense, rtol=1e-6, atol=1e-8)
    # the smallest eigenvalue bounds the Rayleigh quotient from below (gradient direction)
    g = loss_and_grad(W, t, model="plain")[1]
    rq = float(np.vdot(g, hessian_vector_product(W, g, t, model="plain"))) / float(np.vdot(g, g))
    assert dense[0] <= rq + 1e-9


@pytest.mark.parametrize("model", ["plain", "homogeneous"])
def test_baseline_scale_equivariance(model: str) -> None:
    # T* -> 8 T* (l = 3): plain runs map by W -> 2W, homogeneous by W -> sqrt(8) W; same errors
    t = random_low_rank(2, 5, 3, coeffs=[1.0, 0.6], rng=4)
    ts = LowRankTensor(8.0 * t.coeffs, t.components, 3)
    a = plain_descent_baseline(t, 3, model=model, rng=9, n_steps=400)
    b = plain_descent_baseline(ts, 3, model=model, rng=9, n_steps=400)
    assert b.relative_error == pytest.approx(a.relative_error, rel=1e-6)
    assert b.grad_norm == pytest.approx(a.grad_norm, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# end-point classification: refine to a critical point, then escape test
# ---------------------------------------------------------------------------------------------
from numerics.algorithms import classify_end_point, refine_critical_point  # noqa: E402


def test_refine_reaches_the_exact_fit_from_nearby() -> None:
    t = orthogonal_tensor([1.0, 1.0], 4, 3)
    W = np.eye(4)[:2] + 0.05 * np.random.default_rng(0).standard_normal((2, 4))
    cp = refine_critical_point(W, t, model="plain", gtol=1e-10)
    assert cp.converged and cp.grad_norm <= 1e-10
    # the Gram-form error is the square root of a rounded difference: floor ~sqrt(eps_mach) = 1.5e-8
    assert relative_error(model_tensor(cp.W, 3, model="plain"), t) < 1e-7


def test_refine_converges_to_the_degenerate_saddle_of_a_shrinking_component() -> None:
    # T* = e1^{⊗3} + e2^{⊗3}; w1 = e1 fitted, w2 small along e1 (+ noise off e2): w2 feels no residual
    # along e1 and a cubic one along e2 it barely sees, so descent drives it to 0: a critical point
    # with error 1/sqrt(2) and a zero Hessian block (the order-3 saddle at w2 = 0, docs/math.md §5)
    t = orthogonal_tensor([1.0, 1.0], 3, 3)
    W = np.array([[1.0, 0.0, 0.0], [0.02, 0.0, 0.01]])
    cp = refine_critical_point(W, t, model="plain", gtol=1e-10)
    assert cp.converged
    # degenerate (order 6 in w2): gradient 1e-10 is reached while w2 is still ~0.02, so the point is
    # only pinned to the error 1/sqrt(2) up to ||w2||^3/||T*|| ~ 1e-5
    assert np.linalg.norm(cp.W[1]) < 0.022
    err = relative_error(model_tensor(cp.W, 3, model="plain"), t)
    assert err == pytest.approx(1 / math.sqrt(2), abs=1e-4)


def test_classify_saddle_success_and_minimum() -> None:
    t = orthogonal_tensor([1.0, 1.0], 3, 3)
    # the shrinking component: a degenerate saddle, escaped along the Hessian null space / at random
    sad = classify_end_point(
        np.array([[1.0, 0.0, 0.0], [0.02, 0.0, 0.01]]), t, model="plain", rng=0
    )
    assert sad.kind == "saddle" and sad.escape_drop > 1e-4 and sad.null_dim >= 1
    ok = classify_end_point(np.eye(3)[:2], t, model="plain", rng=0)
    assert ok.kind == "success" and ok.relative_error < 1e-12
    # a genuine strict local minimum that is not global: the loss 1/2 (w^3 - 1)^2 has none, so use
    # two components on ONE direction of a rank-2 target with an extra weight: w1 = w2 = 2^{-1/3} e1
    # fits e1 exactly; e2 is missed. Whether that is a minimum is what the escape test decides; it
    # must come out as a non-global critical point (saddle or spurious minimum), never success.
    two = np.array([[2 ** (-1 / 3), 0.0, 0.0], [2 ** (-1 / 3), 0.0, 0.0]])
    res = classify_end_point(two, t, model="plain", rng=0)
    assert res.kind in ("saddle", "spurious_minimum") and res.relative_error > 0.5


def test_classify_rejects_bad_input() -> None:
    t = orthogonal_tensor([1.0], 3, 3)
    W = np.eye(3)[:1]
    with pytest.raises(ValueError, match="rho"):
        classify_end_point(W, t, model="plain", rho=0.0)
    with pytest.raises(ValueError, match="model"):
        classify_end_point(W, t, model="nonsense")
    with pytest.raises(ValueError, match="m·d"):
        refine_critical_point(np.ones((50, 10)), orthogonal_tensor([1.0], 10, 3), model="plain")


def test_two_components_on_one_direction_is_a_spurious_minimum_for_even_order() -> None:
    # l = 4: w1 = w2 = 2^{-1/4} e1 fits e1 exactly and misses e2. Turning a component towards e2
    # by θ loses fit on e1 at order θ² and gains on e2 only at order θ⁴ (even l, positive weights):
    # a (non-strict: weight can move between the two) local minimum that no perturbation escapes
    t = orthogonal_tensor([1.0, 1.0], 3, 4)
    two = np.array([[2 ** (-1 / 4), 0.0, 0.0], [2 ** (-1 / 4), 0.0, 0.0]])
    res = classify_end_point(two, t, model="plain", rng=0)
    assert res.kind == "spurious_minimum"
    assert res.escape_drop <= 1e-12 and res.grad_norm <= 1e-10
    assert res.hessian_min >= -1e-12 and res.null_dim >= 1


# ---------------------------------------------------------------------------------------------
# residual direction of a vanishing component (docs/math.md §10.3): a certified descent direction
# ---------------------------------------------------------------------------------------------
from numerics.algorithms import residual_direction  # noqa: E402


@pytest.mark.parametrize("order", [3, 4])
@pytest.mark.parametrize("model", ["plain", "homogeneous"])
def test_residual_direction_of_a_zero_row_is_the_missing_component(order, model):
    # T* = e1 + e2 + e3 (order l), rows fitting e1 and e2 exactly, row 2 zero: R = e3^{⊗l}, whose
    # maximum over the sphere is R(e3^{⊗l}) = 1 at v = ±e3 (exactly; the sign is + for odd l)
    t = orthogonal_tensor(np.ones(3), 6, order)
    W = np.zeros((3, 6))
    W[0, 0] = W[1, 1] = 1.0
    v, value = residual_direction(W, t, 2, model=model, rng=0)
    # power iterations converge to the fixed point to rounding: |v3| = 1 within 1e-12
    assert value == pytest.approx(1.0, abs=1e-12)
    assert abs(abs(v[2]) - 1.0) <= 1e-12 and (order % 2 == 0 or v[2] > 0)
    # the exact expansion: f(t·v in row 2) = f(0) - t^k R + t^{2k}/2 (k = l plain, 2 homogeneous)
    k = order if model == "plain" else 2
    f0 = loss(W, t, model=model)
    for s in (0.1, 0.3):
        W2 = W.copy()
        W2[2] = s * v
        # both losses are Gram sums of O(1) terms: rounding <= 1e-14
        assert loss(W2, t, model=model) == pytest.approx(f0 - s**k + s ** (2 * k) / 2, abs=1e-13)


def test_residual_direction_dense_target_agrees_with_low_rank():
    t = orthogonal_tensor(np.array([1.0, 0.7]), 4, 3)
    dense = DenseTensor(t.dense())
    W = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    v, value = residual_direction(W, t, 1, model="plain", rng=0)
    assert value == pytest.approx(0.7, abs=1e-12)
    # the dense target is searched over all of R^d instead of the components' span: same maximum
    v2, value2 = residual_direction(W, dense, 1, model="plain", rng=0)
    assert value2 == pytest.approx(value, abs=1e-10)


def test_residual_direction_rejects_a_bad_row():
    t = orthogonal_tensor(np.ones(2), 3, 3)
    with pytest.raises(ValueError, match="row"):
        residual_direction(np.eye(3)[:2], t, 2, model="plain")


def test_a_zero_row_at_even_order_is_a_saddle_not_a_minimum():
    # l = 4, w3 = 0 and e3 missing: f decreases like -t^4 along e3 in row 3, so the point is a
    # saddle; the quartic descent is invisible to the Hessian (cubic null-space test) and slow
    # (escape time ~ c0^{-2}/(8R)), which the residual direction with its derived budget resolves
    t = orthogonal_tensor(np.ones(3), 6, 4)
    W = np.zeros((3, 6))
    W[0, 0] = W[1, 1] = 1.0
    res = classify_end_point(W, t, model="plain", rng=0)
    assert res.kind == "saddle" and res.escape == "residual"
    assert res.escape_error < 0.05  # the descent from there fits the missing direction
