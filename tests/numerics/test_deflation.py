"""Tests of numerics.algorithms.deflation: the modified gradient flow (docs/math.md §6, [model choice])."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.algorithms import modified_gradient_flow
from numerics.algorithms.tracking import track_flow
from numerics.models import model_tensor
from numerics.tensors import DenseTensor, orthogonal_tensor, random_low_rank, random_unit_vectors

A5 = np.array([1.0, 0.8, 0.6, 0.4, 0.2])


@pytest.fixture(scope="module")
def run5():
    T = orthogonal_tensor(A5, 10, 4, basis="random", rng=0)
    return T, modified_gradient_flow(T, 20, rng=0, model="homogeneous")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gamma": 1.0}, "gamma must be > 1"),
        ({"gamma": 0.5}, "gamma must be > 1"),
        ({"delta0": 1e-2, "delta1": 1e-2}, "delta1 must be > delta0"),
        ({"delta0": 1e-2, "delta1": 1e-3}, "delta1 must be > delta0"),
        ({"eps": 0.0}, "eps must be > 0"),
        ({"eps": -1.0}, "eps must be > 0"),
        ({"delta0": 0.0}, "delta0 must be > 0"),
        ({"t0": 0.0}, "t0 must be > 0"),
        ({"reg": -1.0}, "reg must be >= 0"),
        ({"model": "coefficient"}, "model must be one of"),
        ({"max_epochs": 0}, "max_epochs must be >= 1"),
        ({"method": "Euler"}, "method must be one of"),
    ],
)
def test_bad_parameters(kwargs, match):
    T = orthogonal_tensor([1.0, 0.5], 4, 4)
    with pytest.raises(ValueError, match=match):
        modified_gradient_flow(T, 5, **{"model": "homogeneous", **kwargs})


def test_bad_target_and_m():
    T = orthogonal_tensor([1.0, 0.5], 4, 4)
    with pytest.raises(ValueError, match="m must be >= 1"):
        modified_gradient_flow(T, 0, model="homogeneous")
    with pytest.raises(TypeError, match="m must be an integer"):
        modified_gradient_flow(T, 2.5, model="homogeneous")
    with pytest.raises(TypeError, match="target must be a LowRankTensor"):
        modified_gradient_flow(DenseTensor(np.zeros((3, 3, 3))), 5, model="homogeneous")
    N = random_low_rank(2, 4, 4, rng=0)
    with pytest.raises(ValueError, match="orthogonally decomposable"):
        modified_gradient_flow(N, 5, model="homogeneous")
    with pytest.raises(ValueError, match="W0 must have shape"):
        modified_gradient_flow(T, 5, W0=np.zeros((4, 4)), model="homogeneous")


# ---------------------------------------------------------------- bookkeeping


def test_epoch_bookkeeping(run5):
    T, res = run5
    eps = res.params["eps"]
    delta1 = res.params["delta1"]
    assert res.epochs[0].reinitialized.size == 0
    t = 0.0
    for s, ep in enumerate(res.epochs):
        assert ep.epoch == s
        assert ep.length == pytest.approx(1.0 * 2.0**s)
        assert ep.t_start == pytest.approx(t)
        t += ep.length
        if s > 0:
            # exactly the components below δ1 at the end of the previous epoch were redrawn
            prev = res.epochs[s - 1]
            assert ep.reinitialized.tolist() == np.flatnonzero(prev.norms < delta1).tolist()
    assert res.total_time == pytest.approx(t)
    # stopped at the first epoch with error <= eps
    assert res.success and res.status == "converged"
    assert res.epochs[-1].error <= eps
    assert all(ep.error > eps for ep in res.epochs[:-1])
    # error and relative error against the dense arrays (independent route), fits against T*(e_k)
    dense_err = np.linalg.norm(model_tensor(res.W, 4, model="homogeneous").dense() - T.dense())
    assert res.error == pytest.approx(dense_err, rel=1e-8, abs=1e-12)
    assert res.relative_error == pytest.approx(dense_err / np.linalg.norm(T.dense()), rel=1e-8)
    # converged within eps: every direction is fitted to within eps (|fit_k - a_k| <= ||E||_F)
    np.testing.assert_array_less(np.abs(res.epochs[-1].fits - A5), eps)
    # concatenated history is time-ordered, and its last residual is the final error
    assert np.all(np.diff(res.t) > 0)
    assert res.residual[-1] == pytest.approx(res.error, rel=1e-8)
    assert res.fits.shape == (res.t.size, 5)


def test_reinitialised_rows_are_redrawn_at_delta0():
    """Rows below δ1 are redrawn at norm δ0 before epoch 1; large rows are kept (W0 given)."""
    T = orthogonal_tensor([1.0, 0.5], 3, 4)
    W0 = np.array([[1.0, 0.0, 0.0], [0.0, 1e-3, 0.0], [0.0, 0.0, 1e-3]])
    res = modified_gradient_flow(
        T, 3, W0=W0, t0=1e-3, gamma=1.5, max_epochs=2, rng=1, model="homogeneous"
    )
    assert res.epochs[0].reinitialized.size == 0
    assert res.epochs[1].reinitialized.tolist() == [1, 2]
    # during a short epoch the redrawn rows (norm δ0 = 1e-3) barely move: still tiny after it
    assert np.all(res.epochs[1].norms[1:] < 2e-3)
    assert res.epochs[1].norms[0] > 0.5


def test_no_reinit_is_plain_flow_over_same_epochs():
    T = orthogonal_tensor([1.0, 0.5], 5, 4, basis="random", rng=2)
    res = modified_gradient_flow(
        T, 6, rng=3, reinit=False, max_epochs=4, eps=1e-8, model="homogeneous"
    )
    assert all(ep.reinitialized.size == 0 for ep in res.epochs)
    assert res.status == "max_epochs" and not res.success
    assert "max_epochs=4" in res.message and "delta0" in res.message


def test_reproducible_with_seed():
    T = orthogonal_tensor([1.0, 0.5], 5, 4)
    r1 = modified_gradient_flow(T, 6, rng=7, max_epochs=3, model="homogeneous")
    r2 = modified_gradient_flow(T, 6, rng=7, max_epochs=3, model="homogeneous")
    # exact: the same computation from the same seed in the same process (same BLAS thread count)
    np.testing.assert_array_equal(r1.W, r2.W)


def test_numerical_failure_reported():
    # a step budget far too small for epoch 0: the failure is reported with the parameters
    T = orthogonal_tensor([1.0, 0.5], 5, 4)
    res = modified_gradient_flow(T, 6, rng=1, max_steps=2, max_epochs=3, model="homogeneous")
    assert not res.success
    assert res.status == "max_steps" and len(res.epochs) == 1
    assert "epoch 0" in res.message and "delta1" in res.message


# ---------------------------------------------------------------- claims in miniature


def test_norm_correlation(run5):
    """docs/math.md §6: every component with ||w|| >= δ1 is >= 0.99-correlated with some e_k."""
    _, res = run5
    for ep in res.epochs:
        big = ep.norms >= res.params["delta1"]
        assert np.all(ep.correlations[big] >= 0.99)


def test_modified_flow_fits_in_order(run5):
    _, res = run5
    tr = res.track()
    assert tr.in_order


def test_matrix_and_random_basis_l3():
    for order, a in ((2, [1.0, 0.5]), (3, [1.0, 0.5, 0.25])):
        T = orthogonal_tensor(a, 6, order, basis="random", rng=order)
        res = modified_gradient_flow(T, 12, rng=order, eps=1e-2, model="homogeneous")
        assert res.success, res.message


@given(
    a1=st.floats(0.5, 1.5),
    lam=st.floats(0.05, 0.4),
    d=st.integers(3, 8),
    m=st.integers(8, 20),
    log_delta0=st.floats(-3.0, -2.0),
    seed=st.integers(0, 2**16),
)
def test_regulariser_bias_hypothesis(a1, lam, d, m, log_delta0, seed):
    """docs/math.md §6: with λ the fitted value settles at a_k - λ/2; a_k <= λ/2 is never learned.

    Target a = (a1, λ/2·0.8) (the second is below λ/2); l = 4, random basis. Margins: the learned fit
    is within 1e-3 of a1 - λ/2 (its approach is exponential at rate >= 2(2a1 - λ) >= 1.2, t_end gives
    >= 10 e-folds beyond the fit time); the unlearned fit stays <= m δ0², the largest initial value
    (derived: no component grows in a direction where R < λ/2).
    """
    a = np.array([a1, 0.4 * lam])
    delta0 = 10.0**log_delta0
    T = orthogonal_tensor(a, d, 4, basis="random", rng=seed)
    W0 = delta0 * random_unit_vectors(m, d, seed + 1)
    rate = 4 * a1 - 2 * lam
    t_end = d / (a1) + np.log(a1 / delta0**2) / rate + 10.0 / rate
    tr, traj = track_flow(
        W0, T, (0.0, t_end), reg=lam, n_obs=11, exact_fit_times=False, model="homogeneous"
    )
    assert traj.success, traj.message
    assert abs(tr.fits[-1, 0] - (a1 - lam / 2)) < 1e-3
    assert tr.fits[-1, 1] <= m * delta0**2
