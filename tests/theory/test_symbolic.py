"""Symbolic identities (exact) and lambdified references vs :mod:`numerics` (Hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.models import hessian_vector_product, loss_and_grad
from numerics.tensors import LowRankTensor
from theory import (
    MODELS,
    gram_gradient,
    lambdify_contractions,
    lambdify_loss_and_grad,
    loss_taylor_coefficients,
    problem_symbols,
    saddle_order_at_zero,
    symbolic_gradient,
    tangent_gram_closed_form,
    tangent_gram_explicit,
    tangent_kernel_reference,
    verify_gram_identity,
    verify_tangent_gram,
    verify_tangent_kernel_action,
)
from theory.symbolic import _expand_zero


# --------------------------------------------------------------------------------------------
# exact identities
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("l", "d", "m", "r"), [(2, 2, 2, 1), (3, 2, 2, 2), (4, 2, 2, 1), (5, 2, 1, 1)]
)
def test_gram_form_loss_and_gradient_are_exact(model: str, l: int, d: int, m: int, r: int) -> None:
    checks = verify_gram_identity(l, d, m, model, r)
    assert [c.name for c in checks] == ["gram-loss", "gram-gradient"]
    for c in checks:
        assert c.zero and c.residual == "0", c


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("l", "d", "m", "r"), [(3, 3, 3, 2), (4, 3, 2, 2), (5, 3, 2, 1), (5, 2, 3, 2)]
)
def test_gram_form_exact_larger(model: str, l: int, d: int, m: int, r: int) -> None:
    for c in verify_gram_identity(l, d, m, model, r):
        assert c.zero, c


def test_a_wrong_closed_form_is_detected() -> None:
    # The proofs must be able to fail. (1) perturb one entry of the homogeneous closed-form gradient
    # by w_00/||w_0|| (the size of a wrong (l-2) coefficient's contribution at l = 3).
    P = problem_symbols(3, 2, 2, "homogeneous", 1)
    correct = gram_gradient(P)
    n0 = sp.sqrt(P.W[0, 0] ** 2 + P.W[0, 1] ** 2)
    zero, _ = _expand_zero(symbolic_gradient(3, 2, 2, "homogeneous", 1)[0, 0] - correct[0, 0], P)
    assert zero
    zero, residual = _expand_zero(
        symbolic_gradient(3, 2, 2, "homogeneous", 1)[0, 0] - (correct[0, 0] + P.W[0, 0] / n0), P
    )
    assert not zero and residual != "0"
    # (2) a tangent Gram formula with (l-2) in place of (l-1)
    a, b, u, v = (sp.Matrix([sp.Symbol(f"{n}_{j}", real=True) for j in range(2)]) for n in "abuv")
    ab = a.dot(b)
    wrong = sp.Rational(1, 3) * (ab**2 * u.dot(v) + (3 - 2) * ab * a.dot(v) * b.dot(u))
    assert sp.expand(tangent_gram_explicit(3, 2) - wrong) != 0
    assert sp.expand(tangent_gram_explicit(3, 2) - tangent_gram_closed_form(3, 2)) == 0


@pytest.mark.parametrize(("l", "d"), [(2, 2), (2, 3), (3, 2), (3, 3), (4, 2), (4, 3)])
def test_tangent_gram_explicit_symmetrisation(l: int, d: int) -> None:
    c = verify_tangent_gram(l, d)
    assert c.zero, c


@pytest.mark.slow
@pytest.mark.parametrize(("l", "d"), [(5, 2), (5, 3), (6, 2)])
def test_tangent_gram_explicit_symmetrisation_larger(l: int, d: int) -> None:
    assert verify_tangent_gram(l, d).zero


@pytest.mark.parametrize(("l", "d", "m"), [(2, 2, 2), (3, 2, 2), (4, 2, 2), (3, 3, 2)])
def test_tangent_kernel_action_closed_form(l: int, d: int, m: int) -> None:
    c = verify_tangent_kernel_action(l, d, m)
    assert c.zero, c


@pytest.mark.parametrize("l", [2, 3, 4, 5])
def test_saddle_order_at_zero(l: int) -> None:
    assert saddle_order_at_zero(l) == l
    assert saddle_order_at_zero(l, 2, 2, "plain", 2) == l
    assert saddle_order_at_zero(l, 2, 1, "coefficient") == l + 1
    assert saddle_order_at_zero(l, 2, 1, "homogeneous") == 2  # expansion along rays t > 0
    # plain: f(tW) - f(0) = -t^l <T(W), T*> + t^{2l} ||T(W)||²/2, nothing else
    coeffs = loss_taylor_coefficients(l, 2, 1, "plain", 1)
    assert sorted(coeffs) == [l, 2 * l]
    P = problem_symbols(l, 2, 1, "plain", 1)
    w, u = P.W[0, :], P.U[0, :]
    assert sp.expand(coeffs[l] + P.c[0] * (w.dot(u)) ** l) == 0
    assert sp.expand(coeffs[2 * l] - (w.dot(w)) ** l / 2) == 0


# --------------------------------------------------------------------------------------------
# lambdified references vs numerics
# --------------------------------------------------------------------------------------------
def _params(model: str, m: int, d: int, rng: np.random.Generator) -> np.ndarray:
    cols = d + 1 if model == "coefficient" else d
    W = rng.standard_normal((m, cols))
    if model == "homogeneous":
        W += np.sign(W) * 0.1  # keep rows away from 0 (the model is not smooth there)
    return W


def _compare(model: str, l: int, d: int, m: int, r: int, seed: int, reg: float) -> None:
    rng = np.random.default_rng(seed)
    W = _params(model, m, d, rng)
    c = rng.standard_normal(r)
    U = rng.standard_normal((r, d))
    ref_loss, ref_grad = lambdify_loss_and_grad(l, d, m, model, r)(W, c, U, reg)
    loss, grad = loss_and_grad(W, LowRankTensor(c, U, l), model=model, reg=reg)
    # Both are float64 sums of O(d^l (m+r)²) terms of size <= B = (1 + max row norm)^{2l}·(1+|c|)²:
    # rounding <= ~1e-13 relative to B at these sizes; we allow 1e-10·B (derived bound, loose).
    B = (1 + max(np.abs(W).sum(axis=1).max(), np.abs(U).sum(axis=1).max())) ** (2 * l) * (
        1 + np.abs(c).sum()
    ) ** 2
    assert abs(loss - ref_loss) <= 1e-10 * B
    np.testing.assert_allclose(grad, ref_grad, rtol=0, atol=1e-10 * B)


# a fixed shape per (model, l) keeps the lambdify builds (≈0.5 s each, cached) bounded
SHAPES = {2: (3, 2, 2), 3: (3, 2, 2), 4: (2, 3, 1), 5: (2, 2, 2)}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("l", [2, 3, 4, 5])
@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1), reg=st.sampled_from([0.0, 0.3]))
def test_lambdified_loss_and_grad_match_numerics(model: str, l: int, seed: int, reg: float) -> None:
    d, m, r = SHAPES[l]
    _compare(model, l, d, m, r, seed, reg)


@settings(max_examples=8)
@given(
    model=st.sampled_from(MODELS),
    l=st.integers(2, 4),
    d=st.integers(1, 3),
    m=st.integers(1, 2),
    r=st.integers(1, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_lambdified_reference_on_random_shapes(
    model: str, l: int, d: int, m: int, r: int, seed: int
) -> None:
    _compare(model, l, d, m, r, seed, 0.1)


@given(l=st.integers(2, 5), r=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=15)
def test_lambdified_contractions_match_low_rank_tensor(l: int, r: int, seed: int) -> None:
    d = 3 if l < 5 else 2
    rng = np.random.default_rng(seed)
    c, U, x = rng.standard_normal(r), rng.standard_normal((r, d)), rng.standard_normal(d)
    value, vector = lambdify_contractions(l, d, r)(c, U, x)
    T = LowRankTensor(c, U, l)
    scale = (1 + np.abs(c).sum()) * (1 + np.abs(U).sum() * np.abs(x).sum()) ** l  # rounding scale
    assert abs(float(T.evaluate(x[None, :])[0]) - value) <= 1e-12 * scale
    np.testing.assert_allclose(
        np.asarray(T.contract(x[None, :]))[0], vector, rtol=0, atol=1e-12 * scale
    )


@given(l=st.integers(2, 4), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=10)
def test_tangent_kernel_is_hessian_at_exact_fit(l: int, seed: int) -> None:
    # At a point with zero residual (T* = T(W)) the Hessian of the plain loss is the Gauss-Newton
    # matrix JᵀJ = K. numerics computes H V by a complex step (exact to rounding): compare K @ vec(V).
    d, m = 2, 2
    rng = np.random.default_rng(seed)
    W, V = rng.standard_normal((m, d)), rng.standard_normal((m, d))
    K = tangent_kernel_reference(l, d, m)(W)
    HV = hessian_vector_product(W, V, LowRankTensor(np.ones(m), W, l), model="plain")
    scale = (1 + np.abs(W).sum()) ** (2 * l - 2) * (1 + np.abs(V).sum())
    np.testing.assert_allclose(HV.ravel(), K @ V.ravel(), rtol=0, atol=1e-11 * scale)
    np.testing.assert_allclose(K, K.T, rtol=0, atol=1e-12 * scale)


def test_tangent_kernel_closed_form_numerically() -> None:
    # the action of docs/math.md §4 written with numpy, against the lambdified explicit JᵀJ
    l, d, m = 3, 3, 2
    rng = np.random.default_rng(5)
    W, V = rng.standard_normal((m, d)), rng.standard_normal((m, d))
    G = W @ W.T
    KV = l * (G ** (l - 1) @ V + ((l - 1) * G ** (l - 2) * (W @ V.T)) @ W)
    np.testing.assert_allclose(
        (tangent_kernel_reference(l, d, m)(W) @ V.ravel()).reshape(m, d), KV, rtol=1e-12, atol=1e-12
    )


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "exc", "name"),
    [
        (lambda: lambdify_loss_and_grad(3, 20, 2, "plain", 1), ValueError, "d"),
        (lambda: lambdify_loss_and_grad(3, 2, 2, "dense", 1), ValueError, "model"),
        (lambda: lambdify_loss_and_grad(1, 2, 2, "plain", 1), ValueError, "l"),
        (lambda: lambdify_loss_and_grad(3, 2, 0, "plain", 1), ValueError, "m"),
        (lambda: verify_gram_identity(5, 4, 8, "coefficient", 8), ValueError, "very long"),
        (lambda: verify_tangent_gram(6, 4), ValueError, "very long"),
        (lambda: verify_gram_identity(3, 1, 2, "homogeneous", 1), ValueError, "d"),
        (lambda: tangent_kernel_reference(5, 4, 6), ValueError, "very long"),
        (
            lambda: lambdify_loss_and_grad(2, 2, 2, "plain", 1)(
                np.zeros((3, 2)), np.ones(1), np.ones((1, 2))
            ),
            ValueError,
            "W",
        ),
    ],
)
def test_bad_input(call, exc, name: str) -> None:
    with pytest.raises(exc, match=name):
        call()


def test_cached_builders_still_reject_equal_hashing_arguments() -> None:
    from theory import symbolic_loss

    symbolic_loss(2, 2, 1)  # populate the cache
    with pytest.raises(TypeError, match="l"):
        symbolic_loss(2.0, 2, 1)
    with pytest.raises(TypeError, match="m"):
        symbolic_loss(2, 2, True)
    with pytest.raises(TypeError, match="model"):
        symbolic_loss(2, 2, 1, ["plain"])


@given(l=st.integers(2, 5), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=8)
def test_tangent_kernel_reference_matches_numerics_lazy(l: int, seed: int) -> None:
    # numerics.lazy.tangent_operator implements the closed form of docs/math.md §4; the reference is the
    # lambdified explicit JᵀJ. Rounding scale as in the Hessian test.
    from numerics.lazy import tangent_operator

    d, m = 2, 3
    rng = np.random.default_rng(seed)
    W, V = rng.standard_normal((m, d)), rng.standard_normal((m, d))
    K = tangent_kernel_reference(l, d, m)(W)
    scale = (1 + np.abs(W).sum()) ** (2 * l - 2) * (1 + np.abs(V).sum())
    np.testing.assert_allclose(
        tangent_operator(W, l) @ V.ravel(), K @ V.ravel(), rtol=0, atol=1e-12 * scale
    )
