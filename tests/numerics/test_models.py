"""Tests of :mod:`numerics.models`: gradients, Hessian-vector products, dense references, invariances.

Finite-difference error analysis (used by the gradient and Hessian-vector-product tests)
---------------------------------------------------------------------------------------
Let ``φ(t) = f(W + tV)``. For the plain and coefficient models ``φ`` is a polynomial, and for the
homogeneous model ``||w||^{2-l} = (w·w)^{(2-l)/2}`` is analytic while ``Re(w·w) > 0``; so ``φ`` extends
to the complex disc ``|t| <= ρ``. If ``|φ| <= M`` there, Cauchy's estimate gives ``|φ'''| <= 3!·M/(ρ-h)³``
on ``|t| <= h``, and the central difference ``(φ(h) - φ(-h))/(2h)`` has

* truncation error ``<= h²/6 · max|φ'''| <= h²·M/(ρ-h)³``;
* rounding error ``<= κ·ε·M/h``, where ``κ·ε·M`` bounds the absolute rounding error of one computed
  loss. The Gram form sums ``O(m² + mr)`` terms of ``O(l + d)`` flops each; with ``m, r, d <= 4`` and
  ``l <= 5`` the standard bound ``γ_n = nε/(1-nε)`` gives ``n < 100``, so ``κ = 100``.

``M`` is bounded without any tuning (see :func:`disc_bound`): on the disc every row moves by at most
``ρ`` (``V`` is a coordinate direction or has unit Frobenius norm), ``|Σ z²| <= Σ|z|²`` for the
complexified residual, ``||x^{⊗l}||_F = ||x||^l``, and for the homogeneous model
``Re(w·w) >= ||w||² - 2ρ||w|| - ρ²``. The step ``h = (κερ³/2)^{1/3}`` minimises the sum; with
``ρ = 0.1`` it is ``h ≈ 2.2e-6`` and the total bound is ``≈ 1.6e-8·M``.

For the Hessian-vector product the same argument is applied to ``ψ(t) = ∂_e f(W + tV)``: by Cauchy in the
coordinate ``e`` (radius ``ρ``) ``|ψ| <= M₂/ρ`` on ``|t| <= ρ``, where ``M₂`` bounds ``|f|`` with rows
moved by ``2ρ``; hence truncation ``<= h²·M₂/(ρ(ρ-h)³)`` and rounding ``<= κ·ε·M₂/(ρh)``.

A wrong gradient (a missing factor ``l``, a wrong sign, a missing regulariser) is off by ``O(|∇f|)``,
which is orders of magnitude above these bounds.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.models import (
    MODELS,
    hessian_vector_product,
    loss,
    loss_and_grad,
    model_tensor,
    pack_coefficient,
    param_shape,
    unpack_coefficient,
)
from numerics.tensors import (
    DenseTensor,
    LowRankTensor,
    random_dense_symmetric,
    random_low_rank,
)

EPS = np.finfo(np.float64).eps
KAPPA = 100.0  # rounding-error multiplier of one loss evaluation (module docstring)
RHO = 0.1  # radius of the complex disc used in the Cauchy estimates
H_FD = (KAPPA * EPS * RHO**3 / 2) ** (1 / 3)  # ≈ 2.2e-6, minimises h²/ρ³ + κε/h


# ---------------------------------------------------------------------------------------------
# problem generation
# ---------------------------------------------------------------------------------------------


def make_params(rng: np.random.Generator, model: str, m: int, d: int) -> np.ndarray:
    """Parameters with row norms in [0.8, 1.5] (the homogeneous model needs rows away from 0)."""
    X = rng.standard_normal((m, d))
    X *= (rng.uniform(0.8, 1.5, m) / np.linalg.norm(X, axis=1))[:, None]
    if model == "coefficient":
        return pack_coefficient(rng.uniform(-1.5, 1.5, m), X)
    return X


def make_target(rng: np.random.Generator, kind: str, r: int, d: int, order: int):
    if kind == "lowrank":
        return random_low_rank(r, d, order, coeffs=rng.uniform(-2.0, 2.0, r), rng=rng)
    return random_dense_symmetric(d, order, rng=rng)


problems = st.fixed_dictionaries(
    {
        "order": st.integers(2, 5),
        "d": st.integers(1, 4),
        "m": st.integers(1, 4),
        "r": st.integers(1, 3),
        "model": st.sampled_from(MODELS),
        "reg": st.one_of(st.just(0.0), st.floats(0.0, 2.0)),
        "kind": st.sampled_from(["lowrank", "dense"]),
        "seed": st.integers(0, 2**32 - 1),
    }
)


def build(p: dict) -> tuple[np.ndarray, LowRankTensor | DenseTensor]:
    rng = np.random.default_rng(p["seed"])
    W = make_params(rng, p["model"], p["m"], p["d"])
    return W, make_target(rng, p["kind"], p["r"], p["d"], p["order"])


def disc_bound(W: np.ndarray, target, model: str, reg: float, rho: float) -> float:
    """Upper bound of ``|f|`` when every row of ``W`` (and each ``c_i``) moves by a complex ``|Δ| <= rho``."""
    order = target.order
    if model == "coefficient":
        c, X = W[:, 0], W[:, 1:]
    else:
        c, X = np.ones(W.shape[0]), W
    n = np.linalg.norm(X, axis=1)
    if model == "plain":
        rows = (n + rho) ** order
    elif model == "coefficient":
        rows = (np.abs(c) + rho) * (n + rho) ** order
    else:
        re_ww = n**2 - 2 * rho * n - rho**2
        assert np.all(re_ww > 0), "rows too short for the homogeneous disc"
        rows = (n + rho) ** order * re_ww ** (-(order - 2) / 2)
    if isinstance(target, LowRankTensor):
        t_norm = float(
            np.sum(np.abs(target.coeffs) * np.linalg.norm(target.components, axis=1) ** order)
        )
    else:
        t_norm = target.norm()
    return 0.5 * (float(np.sum(rows)) + t_norm) ** 2 + 0.5 * reg * (np.linalg.norm(W) + rho) ** 2


# ---------------------------------------------------------------------------------------------
# dense reference, written independently of the Gram form
# ---------------------------------------------------------------------------------------------


def outer_power(x: np.ndarray, order: int) -> np.ndarray:
    t = x
    for _ in range(order - 1):
        t = np.multiply.outer(t, x)
    return t


def contract(E: np.ndarray, x: np.ndarray, k: int) -> np.ndarray:
    """``E(x, ..., x, ·, ...)`` with ``k`` copies of ``x`` contracted into the leading axes."""
    for _ in range(k):
        E = np.tensordot(x, E, axes=(0, 0))
    return E


def dense_model(W: np.ndarray, order: int, model: str) -> np.ndarray:
    """``T(W)`` as a dense array: plain ``Σ w^{⊗l}``, coefficient ``Σ c u^{⊗l}``, homogeneous ``Σ ||w||^{2-l} w^{⊗l}``."""
    d = W.shape[1] - (model == "coefficient")
    T = np.zeros((d,) * order)
    for row in W:
        if model == "plain":
            T += outer_power(row, order)
        elif model == "coefficient":
            T += row[0] * outer_power(row[1:], order)
        else:
            T += np.linalg.norm(row) ** (2 - order) * outer_power(row, order)
    return T


def dense_loss_and_grad(
    W: np.ndarray, T_star: np.ndarray, model: str, reg: float
) -> tuple[float, np.ndarray]:
    """``½||T(W) - T*||² + λ/2||W||²`` and its gradient by the chain rule on the dense residual.

    ``∂f/∂θ = <E, ∂T/∂θ> + λθ``; for a symmetric ``E``, ``<E, ∂(x^{⊗l})/∂x [v]> = l·E(x^{⊗(l-1)}, v)``, and
    for the homogeneous model ``∂||w||^{2-l}/∂w = (2-l)||w||^{-l} w``.
    """
    order = T_star.ndim
    E = dense_model(W, order, model) - T_star
    value = 0.5 * float(np.sum(E * E)) + 0.5 * reg * float(np.sum(W * W))
    G = np.zeros_like(W)
    for i, row in enumerate(W):
        if model == "plain":
            G[i] = order * contract(E, row, order - 1)
        elif model == "coefficient":
            c, u = row[0], row[1:]
            G[i, 0] = contract(E, u, order)
            G[i, 1:] = order * c * contract(E, u, order - 1)
        else:
            nw = np.linalg.norm(row)
            G[i] = (2 - order) * nw ** (-order) * contract(E, row, order) * row
            G[i] += order * nw ** (2 - order) * contract(E, row, order - 1)
    return value, G + reg * W


# ---------------------------------------------------------------------------------------------
# finite differences
# ---------------------------------------------------------------------------------------------


@given(problems)
def test_gradient_matches_central_differences(p):
    W, target = build(p)
    model, reg = p["model"], p["reg"]
    _, grad = loss_and_grad(W, target, model=model, reg=reg)
    M = disc_bound(W, target, model, reg, RHO)
    h = H_FD
    bound = h**2 * M / (RHO - h) ** 3 + KAPPA * EPS * M / h  # module docstring
    fd = np.empty_like(W)
    for idx in np.ndindex(W.shape):
        E = np.zeros_like(W)
        E[idx] = h
        fd[idx] = (
            loss(W + E, target, model=model, reg=reg) - loss(W - E, target, model=model, reg=reg)
        ) / (2 * h)
    err = np.max(np.abs(fd - grad))
    assert err <= bound, f"max |FD - grad| = {err:.3g} > derived bound {bound:.3g} ({p})"


@given(problems)
def test_hessian_vector_product_matches_central_differences(p):
    W, target = build(p)
    model, reg = p["model"], p["reg"]
    rng = np.random.default_rng(p["seed"] + 1)
    V = rng.standard_normal(W.shape)
    V /= np.linalg.norm(V)  # unit Frobenius norm: every row moves by at most |t| (module docstring)
    hv = hessian_vector_product(W, V, target, model=model, reg=reg)
    M2 = disc_bound(W, target, model, reg, 2 * RHO)
    h = H_FD
    bound = h**2 * M2 / (RHO * (RHO - h) ** 3) + KAPPA * EPS * M2 / (RHO * h)
    g_plus = loss_and_grad(W + h * V, target, model=model, reg=reg)[1]
    g_minus = loss_and_grad(W - h * V, target, model=model, reg=reg)[1]
    fd = (g_plus - g_minus) / (2 * h)
    err = np.max(np.abs(fd - hv))
    assert err <= bound, f"max |FD - HVP| = {err:.3g} > derived bound {bound:.3g} ({p})"


@given(problems)
def test_hessian_is_symmetric(p):
    """``<A, ∇²f B> = <B, ∇²f A>``; the complex step is exact to rounding, so the bound is rounding-level."""
    W, target = build(p)
    rng = np.random.default_rng(p["seed"] + 2)
    A, B = rng.standard_normal((2, *W.shape))
    ha = hessian_vector_product(W, A, target, model=p["model"], reg=p["reg"])
    hb = hessian_vector_product(W, B, target, model=p["model"], reg=p["reg"])
    lhs, rhs = np.vdot(B, ha), np.vdot(A, hb)
    # both sides are sums of O(m d) products of O(1)·|H| terms: rounding <= 1e-12·(|A||H A|+|B||H B|)
    scale = np.linalg.norm(A) * np.linalg.norm(hb) + np.linalg.norm(B) * np.linalg.norm(ha)
    assert abs(lhs - rhs) <= 1e-12 * scale + 1e-300


# ---------------------------------------------------------------------------------------------
# Gram form == dense einsum reference
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("kind", ["lowrank", "dense"])
@pytest.mark.parametrize(
    ("order", "d", "m", "r"), [(2, 5, 3, 2), (3, 4, 5, 3), (4, 3, 4, 2), (5, 3, 2, 3)]
)
@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_gram_form_equals_dense_reference(model, kind, order, d, m, r, reg):
    rng = np.random.default_rng(1000 * order + 10 * d + m)
    W = make_params(rng, model, m, d)
    target = make_target(rng, kind, r, d, order)
    value, grad = loss_and_grad(W, target, model=model, reg=reg)
    ref_value, ref_grad = dense_loss_and_grad(W, target.dense(), model, reg)
    # rtol 1e-10 (the bound); gradient entries near 0 are compared at 1e-10·max|∇f|
    assert value == pytest.approx(ref_value, rel=1e-10)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-10 * np.max(np.abs(ref_grad)))
    assert loss(W, target, model=model, reg=reg) == pytest.approx(ref_value, rel=1e-10)


@pytest.mark.parametrize("model", MODELS)
def test_model_tensor_equals_dense_model(model):
    rng = np.random.default_rng(7)
    W = make_params(rng, model, 4, 3)
    T = model_tensor(W, 3, model=model)
    np.testing.assert_allclose(T.dense(), dense_model(W, 3, model), rtol=1e-12, atol=1e-12)


def test_loss_at_exact_fit_is_zero_and_gradient_vanishes():
    rng = np.random.default_rng(3)
    U = rng.standard_normal((3, 5))
    target = LowRankTensor(np.ones(3), U, 3)
    value, grad = loss_and_grad(U, target, model="plain")
    # exact cancellation up to rounding of sums of O(1) terms
    assert abs(value) <= 1e-12 * target.squared_norm
    assert np.max(np.abs(grad)) <= 1e-12 * target.squared_norm


def test_pack_unpack_roundtrip_and_param_shape():
    c = np.array([1.0, -2.0])
    U = np.arange(6.0).reshape(2, 3)
    W = pack_coefficient(c, U)
    assert W.shape == param_shape("coefficient", 2, 3) == (2, 4)
    c2, U2 = unpack_coefficient(W)
    np.testing.assert_array_equal(c2, c)
    np.testing.assert_array_equal(U2, U)
    assert param_shape("plain", 2, 3) == param_shape("homogeneous", 2, 3) == (2, 3)


def test_homogeneous_zero_row_contributes_nothing():
    """A zero row has ``||w||² = 0`` weight: same loss as without it, zero gradient on it."""
    rng = np.random.default_rng(11)
    target = random_low_rank(2, 4, 4, rng=rng)
    W = make_params(rng, "homogeneous", 3, 4)
    W0 = np.vstack([W, np.zeros(4)])
    v, g = loss_and_grad(W, target, model="homogeneous")
    v0, g0 = loss_and_grad(W0, target, model="homogeneous")
    assert v0 == pytest.approx(v, rel=1e-14)
    np.testing.assert_allclose(g0[:3], g, rtol=1e-13, atol=1e-15)
    # exact: the homogeneous gradient row is n_i·(l·P_i - (l-2)·e_i·x_i) with n_i = ||w_i|| = 0 and a
    # finite bracket, and 0·x = 0 in IEEE arithmetic whatever kernel computed the bracket
    np.testing.assert_array_equal(g0[3], 0.0)


# ---------------------------------------------------------------------------------------------
# invariances
# ---------------------------------------------------------------------------------------------


def _rotate_params(W: np.ndarray, Q: np.ndarray, model: str) -> np.ndarray:
    if model == "coefficient":
        return np.column_stack([W[:, 0], W[:, 1:] @ Q.T])
    return W @ Q.T


def _rotate_target(target, Q: np.ndarray):
    if isinstance(target, LowRankTensor):
        return LowRankTensor(target.coeffs, target.components @ Q.T, target.order)
    A = target.array
    for _ in range(A.ndim):  # apply Q on every axis; the axes cycle back to the original order
        A = np.tensordot(A, Q, axes=(0, 1))
    return DenseTensor(A)


@given(problems)
def test_rotation_invariance(p):
    """``f(WQᵀ; Q·T*) = f(W; T*)`` and ``∇f`` rotates with ``W`` (docs/math.md §3: f depends on Gram data only)."""
    W, target = build(p)
    model, reg = p["model"], p["reg"]
    d = target.dim
    q, rr = np.linalg.qr(np.random.default_rng(p["seed"] + 3).standard_normal((d, d)))
    Q = q * np.sign(np.diag(rr))
    v, g = loss_and_grad(W, target, model=model, reg=reg)
    vr, gr = loss_and_grad(
        _rotate_params(W, Q, model), _rotate_target(target, Q), model=model, reg=reg
    )
    M = disc_bound(W, target, model, reg, 0.0)
    # exact in exact arithmetic: differences are rounding, <= κ·ε·M (module docstring; κ = 100)
    assert abs(vr - v) <= KAPPA * EPS * M
    np.testing.assert_allclose(gr, _rotate_params(g, Q, model), rtol=0, atol=KAPPA * EPS * M)


@given(problems)
def test_permutation_invariance(p):
    W, target = build(p)
    model, reg = p["model"], p["reg"]
    perm = np.random.default_rng(p["seed"] + 4).permutation(W.shape[0])
    v, g = loss_and_grad(W, target, model=model, reg=reg)
    vp, gp = loss_and_grad(W[perm], target, model=model, reg=reg)
    M = disc_bound(W, target, model, reg, 0.0)
    # only the summation order changes: rounding <= κ·ε·M
    assert abs(vp - v) <= KAPPA * EPS * M
    np.testing.assert_allclose(gp, g[perm], rtol=0, atol=KAPPA * EPS * M)


def test_permuting_target_terms_changes_nothing():
    rng = np.random.default_rng(5)
    target = random_low_rank(4, 6, 3, coeffs=rng.uniform(0.5, 2.0, 4), rng=rng)
    perm = np.array([2, 0, 3, 1])
    permuted = LowRankTensor(target.coeffs[perm], target.components[perm], 3)
    W = make_params(rng, "plain", 5, 6)
    v, g = loss_and_grad(W, target, model="plain")
    vp, gp = loss_and_grad(W, permuted, model="plain")
    assert vp == pytest.approx(v, rel=1e-13)
    np.testing.assert_allclose(gp, g, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# float32 path
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_float32_agrees_with_float64(model):
    rng = np.random.default_rng(21)
    d, m, order = 20, 50, 4
    target = random_low_rank(5, d, order, rng=rng)
    W = make_params(rng, model, m, d) * 0.8
    v64, g64 = loss_and_grad(W, target, model=model, reg=0.1)
    v32, g32 = loss_and_grad(W.astype(np.float32), target, model=model, reg=0.1)
    assert g32.dtype == np.float32
    # float32 ε = 6e-8; sums of m = 50 terms of degree 2l = 8 lose ~ sqrt(m)·2l·ε ≈ 3e-6 typically;
    # 1e-4 (the bound) is a 30x margin over that estimate.
    assert v32 == pytest.approx(v64, rel=1e-4)
    assert np.linalg.norm(g32 - g64) <= 1e-4 * np.linalg.norm(g64)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def target3():
    return random_low_rank(2, 3, 3, rng=0)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"W": np.ones((2, 4))}, ValueError, "W"),  # wrong number of columns
        ({"W": np.ones(3)}, ValueError, "W"),
        ({"W": np.ones((0, 3))}, ValueError, "W"),
        ({"W": np.array([[1.0, np.nan, 0.0]])}, ValueError, "W"),
        ({"W": np.array([[1.0, np.inf, 0.0]])}, ValueError, "W"),
        ({"W": [["a", "b", "c"]]}, TypeError, "W"),
        ({"model": "linear"}, ValueError, "model"),
        ({"model": None}, ValueError, "model"),
        ({"reg": -0.1}, ValueError, "reg"),
        ({"reg": np.nan}, ValueError, "reg"),
        ({"reg": "0.1"}, TypeError, "reg"),
        ({"target": np.ones((3, 3, 3))}, TypeError, "target"),
    ],
)
def test_loss_and_grad_rejects_bad_input(target3, kwargs, exc, match):
    args = {"W": np.ones((2, 3)), "target": target3, "model": "plain", "reg": 0.0} | kwargs
    for fn in (loss_and_grad, loss):
        with pytest.raises(exc, match=match):
            fn(args["W"], args["target"], model=args["model"], reg=args["reg"])


def test_coefficient_model_needs_d_plus_one_columns(target3):
    with pytest.raises(ValueError, match="W"):
        loss_and_grad(np.ones((2, 3)), target3, model="coefficient")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"V": np.ones((2, 2))}, "V"),
        ({"V": np.full((2, 3), np.nan)}, "V"),
        ({"h": 0.0}, "h"),
        ({"h": 1e-3}, "h"),
    ],
)
def test_hessian_vector_product_rejects_bad_input(target3, kwargs, match):
    args = {"V": np.ones((2, 3)), "h": 1e-30} | kwargs
    with pytest.raises(ValueError, match=match):
        hessian_vector_product(np.ones((2, 3)), args["V"], target3, h=args["h"], model="plain")


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((np.ones((2, 3)), 1), ValueError, "order"),
        ((np.ones((2, 3)), 2.5), TypeError, "order"),
        ((np.ones(3), 3), ValueError, "W"),
        ((np.array([[np.nan, 1.0]]), 3), ValueError, "W"),
    ],
)
def test_model_tensor_rejects_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        model_tensor(*args, model="plain")


def test_model_tensor_rejects_bad_model_and_short_coefficient_rows():
    with pytest.raises(ValueError, match="model"):
        model_tensor(np.ones((2, 3)), 3, model="nope")
    with pytest.raises(ValueError, match="W"):
        model_tensor(np.ones((2, 1)), 3, model="coefficient")


def test_pack_coefficient_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="c"):
        pack_coefficient(np.ones(3), np.ones((2, 4)))
    with pytest.raises(ValueError, match="U"):
        pack_coefficient(np.ones(2), np.ones(4))
    with pytest.raises(ValueError, match="model"):
        param_shape("bogus", 2, 3)


# ---------------------------------------------------------------------------------------------
# in-place blocked powers (the large-m path)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_power_inplace_over_several_blocks(k):
    from numerics.models import _power_inplace

    a = np.random.default_rng(k).standard_normal((37, 11))
    ref = a**k
    out = _power_inplace(a, k, block_bytes=5 * 11 * 8)  # 5 rows per block, last block short
    assert out is a
    np.testing.assert_allclose(a, ref, rtol=1e-14, atol=0)


@pytest.mark.parametrize("model", MODELS)
def test_large_m_uses_several_blocks_and_matches_dense(model):
    """m = 800 > 4 MiB / (8 m) rows per block: the Gram powers are computed over several row blocks."""
    rng = np.random.default_rng(99)
    W = make_params(rng, model, 800, 3) / 3.0
    target = make_target(rng, "lowrank", 2, 3, 3)
    value, grad = loss_and_grad(W, target, model=model, reg=0.1)
    ref_value, ref_grad = dense_loss_and_grad(W, target.dense(), model, 0.1)
    assert value == pytest.approx(ref_value, rel=1e-10)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-10 * np.max(np.abs(ref_grad)))
    assert loss(W, target, model=model, reg=0.1) == pytest.approx(ref_value, rel=1e-10)
