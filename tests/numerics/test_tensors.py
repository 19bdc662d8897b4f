"""Tests of :mod:`numerics.tensors`: Gram identities (docs/math.md §2) against dense references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numerics.tensors import (
    MAX_DENSE_ELEMENTS,
    DenseTensor,
    LowRankTensor,
    distance,
    inner,
    int_power,
    orthogonal_tensor,
    random_dense_symmetric,
    random_low_rank,
    random_unit_vectors,
)


def outer_power(x: np.ndarray, order: int) -> np.ndarray:
    t = x
    for _ in range(order - 1):
        t = np.multiply.outer(t, x)
    return t


def dense_reference(coeffs, comps, order) -> np.ndarray:
    """``Σ_k c_k u_k^{⊗l}`` by einsum over a stacked outer product (independent of ``.dense()``)."""
    letters = "abcdefgh"[:order]
    spec = ",".join(f"k{ch}" for ch in letters)
    return np.einsum(f"k,{spec}->{letters}", coeffs, *([comps] * order))


def contract_all_but_one(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    for _ in range(A.ndim - 1):
        A = np.tensordot(A, x, axes=(A.ndim - 1, 0))
    return A


small = st.fixed_dictionaries(
    {
        "order": st.integers(2, 5),
        "d": st.integers(1, 4),
        "r": st.integers(1, 4),
        "seed": st.integers(0, 2**32 - 1),
    }
)


# ---------------------------------------------------------------------------------------------
# Gram identities vs dense arrays
# ---------------------------------------------------------------------------------------------


@given(small)
def test_low_rank_identities_match_dense(p):
    rng = np.random.default_rng(p["seed"])
    order, d, r = p["order"], p["d"], p["r"]
    c = rng.uniform(-2, 2, r)
    U = rng.standard_normal((r, d))
    T = LowRankTensor(c, U, order)
    A = dense_reference(c, U, order)
    np.testing.assert_allclose(T.dense(), A, rtol=1e-12, atol=1e-12 * np.max(np.abs(A)))
    X = rng.standard_normal((3, d))
    vals, contr = T.evaluate_and_contract(X)
    ref_vals = np.array([np.sum(A * outer_power(x, order)) for x in X])
    ref_contr = np.array([contract_all_but_one(A, x) for x in X])
    scale = np.sum(np.abs(c)) * np.max(np.linalg.norm(U, axis=1) * 3) ** order  # |terms| bound
    # rounding of O(r + d^l) products of size <= scale: 1e-12·scale is > 1000 ε·scale
    np.testing.assert_allclose(vals, ref_vals, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(contr, ref_contr, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(T.evaluate(X[0]), ref_vals[0], rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(T.contract(X[0]), ref_contr[0], rtol=0, atol=1e-12 * scale)
    assert np.ndim(T.evaluate(X[0])) == 0 and T.contract(X[0]).shape == (d,)
    assert T.evaluate(X).shape == (3,) and T.contract(X).shape == (3, d)
    # norms and inner products
    ref_sq = float(np.sum(A * A))
    assert T.norm_sq() == pytest.approx(ref_sq, rel=1e-10, abs=1e-12 * scale**2)
    assert T.squared_norm == pytest.approx(ref_sq, rel=1e-10, abs=1e-12 * scale**2)
    assert T.norm() == pytest.approx(np.sqrt(ref_sq), rel=1e-10, abs=1e-6 * scale)
    S = LowRankTensor(rng.uniform(-1, 1, 2), rng.standard_normal((2, d)), order)
    ref_inner = float(np.sum(A * S.dense()))
    D = DenseTensor(S.dense())
    for a, b in ((T, S), (S, T), (T, D), (D, T)):
        assert inner(a, b) == pytest.approx(ref_inner, rel=1e-10, abs=1e-12 * scale**2)
    assert inner(D, D) == pytest.approx(float(np.sum(S.dense() ** 2)), rel=1e-12)


@given(small)
def test_dense_tensor_contractions_match_definition(p):
    rng = np.random.default_rng(p["seed"])
    T = random_dense_symmetric(p["d"], p["order"], rng=rng)
    X = rng.standard_normal((2, p["d"]))
    vals, contr = T.evaluate_and_contract(X)
    ref_vals = np.array([np.sum(T.array * outer_power(x, p["order"])) for x in X])
    ref_contr = np.array([contract_all_but_one(T.array, x) for x in X])
    scale = np.sum(np.abs(T.array)) * np.max(np.abs(X)) ** p["order"]
    np.testing.assert_allclose(vals, ref_vals, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(contr, ref_contr, rtol=0, atol=1e-13 * scale)
    assert T.norm() == pytest.approx(np.linalg.norm(T.array.ravel()), rel=1e-13)
    assert T.squared_norm == pytest.approx(np.sum(T.array**2), rel=1e-13)
    assert T.order == p["order"] and T.dim == p["d"]


def test_random_dense_symmetric_is_symmetric():
    T = random_dense_symmetric(3, 4, rng=1)
    for perm in itertools.permutations(range(4)):
        np.testing.assert_allclose(T.array.transpose(perm), T.array, rtol=0, atol=1e-15)


def test_int_power_matches_power():
    a = np.random.default_rng(0).standard_normal((4, 5))
    for k in range(6):
        np.testing.assert_allclose(int_power(a, k), a**k, rtol=1e-14, atol=0)
    b = a.copy()
    int_power(a, 1)[0, 0] = 99.0  # returns a copy, never a view
    np.testing.assert_array_equal(a, b)


def test_unit_form_is_the_same_tensor():
    rng = np.random.default_rng(2)
    T = LowRankTensor([1.0, -0.5, 2.0], rng.standard_normal((3, 4)) * [[2.0], [0.5], [0.0]], 3)
    Tu = T.unit_form()
    assert Tu.rank == 2  # the zero row is dropped
    np.testing.assert_allclose(np.linalg.norm(Tu.components, axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(Tu.dense(), T.dense(), rtol=1e-12, atol=1e-12)


def test_low_rank_tensor_is_immutable_copy():
    c = np.array([1.0, 2.0])
    U = np.eye(2)
    T = LowRankTensor(c, U, 3)
    c[0] = 5.0
    assert T.coeffs[0] == 1.0
    with pytest.raises(ValueError):
        T.components[0, 0] = 3.0


# ---------------------------------------------------------------------------------------------
# orthogonal and random targets
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("basis", ["standard", "random"])
def test_orthogonal_tensor_identities(basis):
    a = np.array([1.0, 0.8, 0.6, 0.4])
    d, order = 6, 4
    T = orthogonal_tensor(a, d, order, basis=basis, rng=3)
    E = T.components
    np.testing.assert_allclose(E @ E.T, np.eye(4), atol=1e-12)
    assert T.is_orthogonal()
    if basis == "standard":
        np.testing.assert_array_equal(E, np.eye(4, d))
    # T(e_k^{⊗l}) = a_k, T(e_k^{⊗(l-1)}, ·) = a_k e_k, ||T||² = Σ a_k² (orthonormality)
    np.testing.assert_allclose(T.evaluate(E), a, rtol=1e-12)
    np.testing.assert_allclose(T.contract(E), a[:, None] * E, rtol=1e-12, atol=1e-12)
    assert T.squared_norm == pytest.approx(np.sum(a**2), rel=1e-12)
    A = T.dense()
    assert float(np.sum(A * A)) == pytest.approx(np.sum(a**2), rel=1e-12)


def test_orthogonal_tensor_random_basis_depends_on_seed_only():
    a = [1.0, 0.5]
    T1 = orthogonal_tensor(a, 5, 3, basis="random", rng=42)
    T2 = orthogonal_tensor(a, 5, 3, basis="random", rng=np.random.default_rng(42))
    T3 = orthogonal_tensor(a, 5, 3, basis="random", rng=43)
    np.testing.assert_array_equal(T1.components, T2.components)
    assert not np.allclose(T1.components, T3.components)


def test_orthogonal_tensor_explicit_basis():
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))[0]
    T = orthogonal_tensor([2.0, 1.0], 4, 3, basis=q[:2])
    np.testing.assert_array_equal(T.components, q[:2])
    with pytest.raises(ValueError, match="basis"):
        orthogonal_tensor([2.0, 1.0], 4, 3, basis=np.ones((2, 4)))
    with pytest.raises(ValueError, match="basis"):
        orthogonal_tensor([2.0, 1.0], 4, 3, basis=np.eye(3, 4))


def test_is_orthogonal_detects_non_orthogonal():
    assert not LowRankTensor([1.0, 1.0], [[1.0, 0.0], [1.0, 1.0]], 3).is_orthogonal()


def test_random_low_rank_and_unit_vectors():
    T = random_low_rank(5, 40, 3, rng=0)
    np.testing.assert_allclose(np.linalg.norm(T.components, axis=1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(T.coeffs, np.ones(5))
    assert T.rank == 5 and T.dim == 40 and T.order == 3
    # incoherence: |u_j·u_k| <= sqrt(2 log(r²·100)/d) with probability >= 99% for uniform directions
    # (sub-Gaussian tail of a coordinate of a uniform unit vector, union over r² pairs); seed fixed.
    G = T.components @ T.components.T
    off = np.abs(G[~np.eye(5, dtype=bool)])
    assert off.max() <= np.sqrt(2 * np.log(25 * 100) / 40)
    c = random_low_rank(3, 4, 2, coeffs=[1.0, 2.0, 3.0], rng=1).coeffs
    np.testing.assert_array_equal(c, [1.0, 2.0, 3.0])
    X = random_unit_vectors(1000, 3, rng=5)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-14)
    # uniform on S²: mean 0, E[x xᵀ] = I/3; Monte-Carlo sd of each entry <= 1/sqrt(1000) ≈ 0.032,
    # 0.1 is a 3-sigma margin (derived)
    assert np.max(np.abs(X.mean(axis=0))) <= 0.1
    assert np.max(np.abs(X.T @ X / 1000 - np.eye(3) / 3)) <= 0.1
    np.testing.assert_array_equal(
        random_unit_vectors(3, 4, rng=9), random_unit_vectors(3, 4, rng=9)
    )


# ---------------------------------------------------------------------------------------------
# dense materialisation bound and symmetry check
# ---------------------------------------------------------------------------------------------


def test_dense_refuses_above_bound_with_clear_message():
    T = random_low_rank(2, 1000, 4, rng=0)  # 10^12 entries
    with pytest.raises(ValueError, match=r"refusing to materialise.*d=1000, order=4.*max_elements"):
        T.dense()
    small = random_low_rank(2, 4, 3, rng=0)
    with pytest.raises(ValueError, match="max_elements=63"):
        small.dense(max_elements=63)
    assert small.dense(max_elements=64).shape == (4, 4, 4)
    assert MAX_DENSE_ELEMENTS == 2**24
    with pytest.raises(ValueError, match="max_elements"):
        random_dense_symmetric(100, 4)


def test_dense_tensor_symmetry_check():
    A = random_dense_symmetric(3, 3, rng=0).array.copy()
    A[0, 1, 2] += 1e-3
    with pytest.raises(ValueError, match="symmetric"):
        DenseTensor(A)
    B = random_dense_symmetric(3, 3, rng=0).array.copy()
    B[0, 1, 2] += 1e-13  # below the default tolerance 1e-10·max|A|
    DenseTensor(B)
    with pytest.raises(ValueError, match="symmetric"):
        DenseTensor(B, symmetry_atol=1e-15)
    with pytest.raises(ValueError, match="symmetric"):
        DenseTensor(np.arange(4.0).reshape(2, 2))


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        (([1.0], [[1.0, 0.0]], 1), ValueError, "order"),
        (([1.0], [[1.0, 0.0]], 2.0), TypeError, "order"),
        (([1.0, 2.0], [[1.0, 0.0]], 3), ValueError, "components"),
        (([1.0], [1.0, 0.0], 3), ValueError, "components"),
        (([[1.0]], [[1.0, 0.0]], 3), ValueError, "coeffs"),
        (([np.nan], [[1.0, 0.0]], 3), ValueError, "coeffs"),
        (([1.0], [[np.inf, 0.0]], 3), ValueError, "components"),
        (([], np.zeros((0, 2)), 3), ValueError, "coeffs"),
        (([1.0], np.zeros((1, 0)), 3), ValueError, "components"),
    ],
)
def test_low_rank_tensor_rejects_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        LowRankTensor(*args)


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.ones(3), "order"),
        (np.ones((2, 3)), "equal dimensions"),
        (np.full((2, 2), np.nan), "array"),
        (np.zeros((0, 0)), "array"),
    ],
)
def test_dense_tensor_rejects_bad_input(array, match):
    with pytest.raises(ValueError, match=match):
        DenseTensor(array)


def test_evaluate_rejects_bad_points():
    T = random_low_rank(2, 3, 3, rng=0)
    D = random_dense_symmetric(3, 3, rng=0)
    for t in (T, D):
        with pytest.raises(ValueError, match="x"):
            t.evaluate(np.ones(4))
        with pytest.raises(ValueError, match="x"):
            t.contract(np.ones((2, 2)))
        with pytest.raises(ValueError, match="x"):
            t.evaluate([np.nan, 0.0, 0.0])
        with pytest.raises(ValueError, match="x"):
            t.evaluate(np.ones((1, 1, 3)))


def test_inner_rejects_mismatch():
    with pytest.raises(ValueError, match="same order"):
        inner(random_low_rank(1, 3, 3, rng=0), random_low_rank(1, 3, 4, rng=0))
    with pytest.raises(ValueError, match="dimension"):
        inner(random_low_rank(1, 3, 3, rng=0), random_low_rank(1, 4, 3, rng=0))
    with pytest.raises(TypeError, match="b"):
        inner(random_low_rank(1, 3, 3, rng=0), np.ones((3, 3, 3)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"a": [1.0, -1.0]}, ValueError, "a"),
        ({"a": [1.0, 0.0]}, ValueError, "a"),
        ({"a": [[1.0]]}, ValueError, "a"),
        ({"a": [np.nan]}, ValueError, "a"),
        ({"d": 0}, ValueError, "d"),
        ({"d": 1}, ValueError, "d >= r"),
        ({"d": 2.5}, TypeError, "d"),
        ({"order": 1}, ValueError, "order"),
        ({"basis": "haar"}, ValueError, "basis"),
        ({"basis": np.eye(2, 4)[:, :3]}, ValueError, "basis"),
        ({"basis": "random", "rng": "seed"}, TypeError, "rng"),
        ({"basis": "random", "rng": -1}, ValueError, "rng"),
    ],
)
def test_orthogonal_tensor_rejects_bad_input(kwargs, exc, match):
    args = {"a": [1.0, 0.5], "d": 4, "order": 3} | kwargs
    with pytest.raises(exc, match=match):
        orthogonal_tensor(**args)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((0, 3, 3), {}, ValueError, "r"),
        ((2, 0, 3), {}, ValueError, "d"),
        ((2, -3, 3), {}, ValueError, "d"),
        ((2, 3, 1), {}, ValueError, "order"),
        ((2, 3, 3), {"coeffs": [1.0]}, ValueError, "coeffs"),
        ((2, 3, 3), {"coeffs": [1.0, np.inf]}, ValueError, "coeffs"),
        ((2, 3, 3), {"rng": 1.5}, TypeError, "rng"),
        ((True, 3, 3), {}, TypeError, "r"),
    ],
)
def test_random_low_rank_rejects_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        random_low_rank(*args, **kwargs)


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [((0, 3), ValueError, "n"), ((3, 0), ValueError, "d"), ((3.0, 2), TypeError, "n")],
)
def test_random_unit_vectors_rejects_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        random_unit_vectors(*args)


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [((0, 3), ValueError, "d"), ((3, 1), ValueError, "order"), ((3, 3, "x"), TypeError, "rng")],
)
def test_random_dense_symmetric_rejects_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        random_dense_symmetric(*args)


def test_distance_matches_dense_frobenius_norm_and_rejects_non_tensors():
    rng = np.random.default_rng(7)
    a = random_low_rank(3, 4, 3, coeffs=[1.0, -0.5, 2.0], rng=rng)
    b = random_dense_symmetric(4, 3, rng=rng)
    expected = np.linalg.norm(a.dense() - b.dense())
    assert distance(a, b) == pytest.approx(expected, rel=1e-12)
    assert distance(b, a) == pytest.approx(expected, rel=1e-12)
    assert distance(a, a) == pytest.approx(0.0, abs=1e-7)  # sqrt of rounding ~1e-15·||a||²
    with pytest.raises(TypeError, match="b must be"):
        distance(a, a.dense())
