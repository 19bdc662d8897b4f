"""Tests of the stiff integrator (:mod:`numerics.stiff`), ``method="auto"``/``"CVODE"`` in
:func:`numerics.flow.gradient_flow`, and the Gram-form Hessian-vector product."""

from __future__ import annotations

import numpy as np
import pytest

from numerics import gaussian_init
from numerics.flow import component_fits, gradient_flow
from numerics.models import (
    hessian_operator,
    hessian_vector_product,
    loss_and_grad,
)
from numerics.tensors import (
    LowRankTensor,
    orthogonal_tensor,
    random_dense_symmetric,
    random_low_rank,
    random_unit_vectors,
)

# ---------------------------------------------------------------------------------------------
# Hessian-vector products
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize("kind", ["lowrank", "dense"])
def test_analytic_hvp_matches_complex_step_and_finite_differences(order, kind):
    rng = np.random.default_rng(order)
    d, m = 5, 6
    target = (
        random_low_rank(3, d, order, rng=1)
        if kind == "lowrank"
        else random_dense_symmetric(d, order, rng=2)
    )
    W = rng.standard_normal((m, d))
    V = rng.standard_normal((m, d))
    analytic = hessian_vector_product(W, V, target, model="plain", reg=0.3, method="analytic")
    complex_step = hessian_vector_product(W, V, target, model="plain", reg=0.3)
    scale = np.max(np.abs(complex_step))
    # both exact up to rounding: a few ulps of the largest entry (measured ≤ 3e-16 relative)
    np.testing.assert_allclose(analytic, complex_step, rtol=0, atol=1e-12 * scale)
    eps = 1e-5
    g_plus = loss_and_grad(W + eps * V, target, model="plain", reg=0.3)[1]
    g_minus = loss_and_grad(W - eps * V, target, model="plain", reg=0.3)[1]
    central = (g_plus - g_minus) / (2 * eps)
    # central difference: truncation O(eps²·|∇⁴f|) ≈ 1e-10·scale, rounding O(u/eps) ≈ 1e-11·scale
    np.testing.assert_allclose(analytic, central, rtol=0, atol=1e-7 * scale)


def test_hessian_operator_reuses_the_point_and_is_linear():
    rng = np.random.default_rng(0)
    target = random_low_rank(2, 4, 4, rng=3)
    W = rng.standard_normal((5, 4))
    op = hessian_operator(W, target, model="plain")
    V1, V2 = rng.standard_normal((2, 5, 4))
    np.testing.assert_allclose(op(V1 + 2 * V2), op(V1) + 2 * op(V2), atol=1e-10)
    np.testing.assert_allclose(
        op(V1), hessian_vector_product(W, V1, target, model="plain"), atol=1e-10
    )
    # other models: complex step (the default "auto")
    op_h = hessian_operator(W, target, model="homogeneous")
    np.testing.assert_allclose(
        op_h(V1), hessian_vector_product(W, V1, target, model="homogeneous"), atol=1e-12
    )


def test_analytic_hvp_float32_close_to_float64():
    rng = np.random.default_rng(1)
    target = random_low_rank(2, 6, 4, rng=4)
    W = rng.standard_normal((7, 6))
    V = rng.standard_normal((7, 6))
    h64 = hessian_operator(W, target, model="plain", method="analytic")(V)
    h32 = hessian_operator(W.astype(np.float32), target, model="plain", method="analytic")(V)
    # float32 rounding (6e-8) times the condition of a few products: 1e-4 relative is generous
    np.testing.assert_allclose(h32, h64, rtol=0, atol=1e-4 * np.max(np.abs(h64)))


def test_hvp_bad_inputs():
    target = random_low_rank(2, 3, 3, rng=0)
    W = np.ones((2, 3))
    with pytest.raises(ValueError, match="method"):
        hessian_vector_product(W, W, target, model="plain", method="newton")
    with pytest.raises(ValueError, match="model='plain' only"):
        hessian_vector_product(W, W, target, model="homogeneous", method="analytic")
    with pytest.raises(ValueError, match="method"):
        hessian_operator(W, target, model="plain", method=3)
    with pytest.raises(ValueError, match="model='plain' only"):
        hessian_operator(np.ones((2, 4)), target, model="coefficient", method="analytic")
    with pytest.raises(ValueError, match="V"):
        hessian_operator(W, target, model="plain")(np.ones((3, 3)))


# ---------------------------------------------------------------------------------------------
# CVODE against RK45 at tight tolerance
# ---------------------------------------------------------------------------------------------


def _small(model: str):
    target = orthogonal_tensor([1.0, 0.7], 3, 4, basis="random", rng=0)
    W0 = 0.3 * random_unit_vectors(4, 3, 1)
    return target, W0


@pytest.mark.parametrize("model", ["plain", "homogeneous"])
@pytest.mark.parametrize("jacobian", ["auto", "analytic", "dq"])
def test_cvode_matches_rk45(model, jacobian):
    if jacobian == "analytic" and model != "plain":
        pytest.skip("the Gram-form Hessian is the plain model's")
    target, W0 = _small(model)
    t_eval = np.linspace(0.0, 4.0, 9)
    fits = component_fits(target.components, 4, model=model)
    common = dict(model=model, t_eval=t_eval, observe={"fits": fits})
    ref = gradient_flow(W0, target, (0.0, 4.0), method="RK45", rtol=1e-11, atol=1e-14, **common)
    tr = gradient_flow(
        W0, target, (0.0, 4.0), method="CVODE", rtol=1e-9, atol=1e-12, jacobian=jacobian, **common
    )
    assert tr.status == "finished" and tr.method == "CVODE" and tr.t_final == 4.0
    assert tr.nhvp > 0 and tr.nfev > 0
    np.testing.assert_array_equal(tr.t, t_eval)  # exact: the requested times are returned as given
    # BDF at rtol 1e-9 over a few time constants: global error measured ≤ 3e-8; bound 1e-6
    np.testing.assert_allclose(tr.W, ref.W, rtol=0, atol=1e-6)
    np.testing.assert_allclose(tr.loss, ref.loss, rtol=0, atol=1e-6 * ref.loss[0])
    np.testing.assert_allclose(tr.observations["fits"], ref.observations["fits"], atol=1e-6)


@pytest.mark.parametrize("method", ["CVODE", "auto"])
def test_cvode_events_match_rk45(method):
    target, W0 = _small("plain")
    level = 0.5 * float(gradient_flow(W0, target, (0.0, 1e-3), model="plain").loss[0])

    def half_loss(t, W):
        return loss_and_grad(W, target, model="plain")[0] - level

    def passing(t, W):
        return loss_and_grad(W, target, model="plain")[0] - 1.5 * level

    passing.terminal = False  # type: ignore[attr-defined]
    events = {"half": half_loss, "passing": passing}
    ref = gradient_flow(
        W0, target, (0.0, 50.0), events=events, model="plain", method="RK45", rtol=1e-11, atol=1e-14
    )
    tr = gradient_flow(
        W0, target, (0.0, 50.0), events=events, model="plain", method=method, rtol=1e-9, atol=1e-12
    )
    assert ref.status == tr.status == "event"
    # event times: the states agree to ~1e-7 (above), the loss slope is O(1): 1e-5 is ample
    assert tr.t_final == pytest.approx(ref.t_final, rel=1e-5)
    np.testing.assert_allclose(tr.t_events["passing"], ref.t_events["passing"], rtol=1e-5)
    assert half_loss(tr.t_final, tr.W) == pytest.approx(0.0, abs=1e-6 * level)


def test_preconditioner_changes_cost_not_result():
    target, W0 = _stiff_problem()
    common = dict(model="plain", method="CVODE", rtol=1e-8, atol=1e-11)
    on = gradient_flow(W0, target, (0.0, 3e4), **common)
    off = gradient_flow(W0, target, (0.0, 3e4), precondition=False, **common)
    assert on.status == off.status == "finished"
    # both at rtol 1e-8 through the same sharp transitions: states agree to ~1e-6 (measured ≤ 1e-7)
    np.testing.assert_allclose(on.W, off.W, atol=1e-5)
    assert on.nhvp < off.nhvp  # the point of it: fewer Krylov iterations


def test_cvode_float32_close_to_float64():
    target, W0 = _small("plain")
    ref = gradient_flow(W0, target, (0.0, 4.0), model="plain", method="CVODE")
    tr = gradient_flow(W0, target, (0.0, 4.0), model="plain", method="CVODE", dtype=np.float32)
    assert tr.status == "finished" and tr.W.dtype == np.float64
    # float32 gradients: errors of order 1e-7 relative per evaluation, the flow contracts; 1e-4
    np.testing.assert_allclose(tr.W, ref.W, atol=1e-4)


# ---------------------------------------------------------------------------------------------
# the auto switch
# ---------------------------------------------------------------------------------------------


def _stiff_problem():
    """Plain model from small init (docs/math.md §6): stiff after the first fit."""
    rng = np.random.default_rng(0)
    U = random_unit_vectors(3, 6, rng)
    target = LowRankTensor([0.6, 0.45, 0.3], U, 4)
    return target, gaussian_init(12, 6, 5e-3, rng)


def test_auto_switches_on_a_stiff_flow_and_agrees_with_cvode():
    target, W0 = _stiff_problem()
    t_eval = np.geomspace(1.0, 3e4, 60)
    fits = component_fits(target.components, 4, model="plain")
    tr = gradient_flow(W0, target, (0.0, 3e4), model="plain", t_eval=t_eval, observe={"fits": fits})
    assert tr.method == "auto" and tr.status == "finished"
    assert tr.switch_t is not None and 0 < tr.switch_t < 3e4
    assert "CVODE" in tr.message
    ref = gradient_flow(
        W0, target, (0.0, 3e4), model="plain", method="CVODE", rtol=1e-9, atol=1e-12,
        t_eval=t_eval, observe={"fits": fits},
    )  # fmt: skip
    # rtol 1e-6 against 1e-9; fits are O(1) at the end, the transitions sharp in log time: 1e-3
    np.testing.assert_allclose(tr.observations["fits"][-1], ref.observations["fits"][-1], atol=1e-3)
    # the explicit method alone (6 evaluations a step, stability-bounded) does not get there with
    # twice auto's evaluation budget
    budget = 2 * (tr.nfev + tr.nhvp) // 6
    rk = gradient_flow(W0, target, (0.0, 3e4), model="plain", method="RK45", max_steps=budget)
    assert rk.status == "max_steps" and rk.t_final < 3e4


def test_auto_stays_explicit_on_a_non_stiff_flow():
    """Two-homogeneous deflation, three fits by t ≈ 12 (not stiff): identical to RK45, step for step
    (measured: the test fires at t ≈ 27, once RK45's steps are bounded by the minimum's curvature)."""
    target = orthogonal_tensor([1.0, 0.8, 0.6], 8, 4, basis="random", rng=0)
    W0 = 1e-3 * random_unit_vectors(16, 8, 1)
    auto = gradient_flow(W0, target, (0.0, 20.0), model="homogeneous")
    rk = gradient_flow(W0, target, (0.0, 20.0), model="homogeneous", method="RK45")
    assert auto.switch_t is None and auto.nhvp == 0
    assert auto.nfev == rk.nfev and auto.nsteps == rk.nsteps
    # exact: "auto" runs RK45's steps itself here (no switch), the same operations in the same process
    np.testing.assert_array_equal(auto.W, rk.W)


def test_auto_after_convergence_costs_no_more_than_rk45():
    """Once converged, RK45's step is bounded by stability (the Hessian at the minimum): the
    stiffness test may switch; the run must not cost more than RK45 and must agree with it."""
    target = orthogonal_tensor([1.0, 0.8, 0.6], 8, 4, basis="random", rng=0)
    W0 = 1e-3 * random_unit_vectors(16, 8, 1)
    auto = gradient_flow(W0, target, (0.0, 60.0), model="homogeneous")
    rk = gradient_flow(W0, target, (0.0, 60.0), model="homogeneous", method="RK45")
    assert auto.nfev + auto.nhvp <= rk.nfev
    # both at rtol 1e-6 near a minimum (contracting): states agree to ~1e-6 of their O(1) norm
    np.testing.assert_allclose(auto.W, rk.W, atol=1e-4)


# ---------------------------------------------------------------------------------------------
# progress, max_wall, bad inputs
# ---------------------------------------------------------------------------------------------


def test_progress_bar_shows_flow_time_and_events(capsys):
    target, W0 = _small("plain")

    def ev(t, W):
        return t - 1.0

    ev.terminal = False  # type: ignore[attr-defined]
    tr = gradient_flow(W0, target, (0.0, 2.0), model="plain", progress=True, events={"one": ev})
    err = capsys.readouterr().err
    assert tr.status == "finished"
    assert "flow time" in err and "/2" in err and "one=1" in err


def test_max_wall_stops_with_status():
    target, W0 = _stiff_problem()
    tr = gradient_flow(W0, target, (0.0, 3e4), model="plain", max_wall=1e-9)
    assert tr.status == "max_wall" and not tr.success
    assert "max_wall=1e-09" in tr.message and tr.t_final < 3e4 and tr.nsteps == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"jacobian": "exact"}, ValueError, "jacobian"),
        ({"jacobian": None}, ValueError, "jacobian"),
        ({"jacobian": "analytic", "model": "homogeneous"}, ValueError, "model='plain' only"),
        ({"progress": "yes"}, TypeError, "progress"),
        ({"progress": 1}, TypeError, "progress"),
        ({"precondition": "yes"}, TypeError, "precondition"),
        ({"precondition": None}, TypeError, "precondition"),
        ({"max_wall": 0.0}, ValueError, "max_wall"),
        ({"max_wall": -5}, ValueError, "max_wall"),
        ({"max_wall": "1"}, TypeError, "max_wall"),
        ({"max_wall": float("nan")}, ValueError, "max_wall"),
        ({"method": "cvode"}, ValueError, "method"),
    ],
)
def test_new_parameters_bad_input(kwargs, error, match):
    target, W0 = _small("plain")
    kwargs = {"model": "plain", **kwargs}
    with pytest.raises(error, match=match):
        gradient_flow(W0, target, (0.0, 1.0), **kwargs)


def test_missing_sksundae_gives_a_clear_message(monkeypatch):
    import sys

    from numerics.stiff import require_sksundae

    monkeypatch.setitem(sys.modules, "sksundae", None)  # makes `import sksundae` raise ImportError
    with pytest.raises(ImportError, match="pip install scikit-sundae"):
        require_sksundae()
    target, W0 = _small("plain")
    with pytest.raises(ImportError, match="scikit-sundae"):
        gradient_flow(W0, target, (0.0, 1.0), model="plain", method="CVODE")
    # explicit methods never need it
    assert gradient_flow(W0, target, (0.0, 1.0), model="plain", method="RK45").success
