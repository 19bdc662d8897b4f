"""Symmetric tensors without ``d^l`` arrays: low-rank (Gram form) and small dense ones.

Every identity used here is classical (docs/math.md §2):

* ``<x^{⊗l}, y^{⊗l}> = (x·y)^l``;
* ``T(x^{⊗l}) = Σ_k c_k (u_k·x)^l`` and ``T(x^{⊗(l-1)}, ·) = Σ_k c_k (u_k·x)^{l-1} u_k``;
* ``<Σ_k c_k u_k^{⊗l}, Σ_j b_j v_j^{⊗l}> = cᵀ (U Vᵀ)^{∘l} b``.

A low-rank tensor of rank ``r`` in ``R^d`` costs ``O(rd)`` memory; inner products between two of them cost
``O(r r' d)``. :meth:`LowRankTensor.dense` materialises the ``d^l`` array only below a size bound
(:data:`MAX_DENSE_ELEMENTS`) and otherwise raises instead of allocating gigabytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ._validate import (
    RNGLike,
    as_float_array,
    as_rng,
    check_choice,
    check_int,
    check_order,
    check_real,
    check_size,
)

__all__ = [
    "MAX_DENSE_ELEMENTS",
    "DenseTensor",
    "LowRankTensor",
    "Tensor",
    "distance",
    "inner",
    "int_power",
    "orthogonal_tensor",
    "random_dense_symmetric",
    "random_low_rank",
    "random_unit_vectors",
]

#: Largest number of entries :meth:`LowRankTensor.dense` will allocate (8 * 2**24 bytes = 128 MiB).
MAX_DENSE_ELEMENTS = 2**24


def int_power(a: np.ndarray, k: int) -> np.ndarray:
    """Elementwise ``a**k`` for a small non-negative integer ``k`` by repeated multiplication.

    ``a ** 3.0`` with a float exponent goes through ``pow`` and is several times slower than two
    multiplications (docs/math.md §2, performance note).
    """
    if k == 0:
        return np.ones_like(a)
    out = a.copy() if k == 1 else a * a
    for _ in range(k - 2):
        out *= a
    return out


def _unit_rows(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(W / ||w_i||, ||w_i||)`` row by row without overflow (zero rows stay zero, norm 0)."""
    unit, peak, inner_norm = _unit_rows_parts(W)
    return unit, peak * inner_norm


def _unit_rows_parts(W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit rows and ``||w_i|| = peak_i·inner_i`` as two factors, neither of which overflows.

    ``peak_i = max_j |w_ij|`` and ``inner_i = ||w_i/peak_i|| in [1, sqrt(d)]``: the norm itself
    overflows for rows near the float range, its factors do not.
    """
    peak = np.max(np.abs(W), axis=1)
    safe = np.where(peak > 0, peak, 1.0)
    scaled = W / safe[:, None]
    inner_norm = np.linalg.norm(scaled, axis=1)
    unit = scaled / np.where(inner_norm > 0, inner_norm, 1.0)[:, None]
    return unit, peak, inner_norm


def _check_dense_size(d: int, order: int, max_elements: object) -> None:
    # an int >= 1: ``inf`` or a string would bypass the guard or fail in the comparison
    max_elements = check_int(max_elements, "max_elements")
    n = d**order
    if n > max_elements:
        raise ValueError(
            f"refusing to materialise a dense tensor with d={d}, order={order}: "
            f"{n} entries ({n * 8 / 2**30:.3g} GiB) exceed max_elements={max_elements}"
        )


class _SymmetricTensorMixin:
    """Contractions and norms shared by both tensor kinds, on top of ``evaluate_and_contract``."""

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def evaluate_and_contract(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def norm_sq(self) -> float:
        raise NotImplementedError

    def evaluate(self, x: Any) -> np.ndarray:
        """``T(x^{⊗l})`` for a vector (returns a scalar) or for the rows of a matrix."""
        xs = _as_points(x, self.dim)
        values = self.evaluate_and_contract(xs)[0]
        return values[0] if np.ndim(x) == 1 else values

    def contract(self, x: Any) -> np.ndarray:
        """``T(x^{⊗(l-1)}, ·)`` for a vector or for the rows of a matrix."""
        xs = _as_points(x, self.dim)
        out = self.evaluate_and_contract(xs)[1]
        return out[0] if np.ndim(x) == 1 else out

    @cached_property
    def squared_norm(self) -> float:
        """``||T||_F²``, computed once and cached (the tensor is immutable)."""
        return self.norm_sq()

    def norm(self) -> float:
        """Frobenius norm ``||T||_F``."""
        return math.sqrt(max(self.norm_sq(), 0.0))


@dataclass(frozen=True, eq=False)
class LowRankTensor(_SymmetricTensorMixin):
    """Symmetric tensor ``T = Σ_k c_k u_k^{⊗l}`` kept as its coefficients and components.

    Parameters
    ----------
    coeffs : array_like, shape (r,)
        Coefficients ``c_k`` (any real sign).
    components : array_like, shape (r, d)
        Components ``u_k`` as rows (not necessarily unit vectors).
    order : int
        Tensor order ``l >= 2``.
    """

    coeffs: np.ndarray
    components: np.ndarray
    order: int

    def __post_init__(self) -> None:
        order = check_order(self.order, "order")
        coeffs = as_float_array(self.coeffs, "coeffs", ndim=1, copy=True)
        comps = as_float_array(self.components, "components", ndim=2, copy=True)
        if comps.shape[0] != coeffs.shape[0]:
            raise ValueError(
                f"components must have one row per coefficient: coeffs has {coeffs.shape[0]}, "
                f"components has shape {comps.shape}"
            )
        if comps.shape[1] < 1:
            raise ValueError(f"components must have at least one column, got shape {comps.shape}")
        coeffs.flags.writeable = False
        comps.flags.writeable = False
        object.__setattr__(self, "coeffs", coeffs)
        object.__setattr__(self, "components", comps)
        object.__setattr__(self, "order", order)

    @property
    def rank(self) -> int:
        """Number of terms ``r`` (an upper bound on the symmetric rank)."""
        return int(self.coeffs.shape[0])

    @property
    def dim(self) -> int:
        """Ambient dimension ``d``."""
        return int(self.components.shape[1])

    def evaluate_and_contract(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``T(x_i^{⊗l})`` and ``T(x_i^{⊗(l-1)}, ·)`` for the rows ``x_i`` of ``x`` (shape (n, d)).

        Shares the correlation matrix ``C = X Uᵀ`` between the two; cost ``O(n r d)``.
        Works for complex ``x`` (complex-step derivatives): no conjugation anywhere.
        """
        u = self.components
        if x.dtype != u.dtype and x.dtype in (np.float32, np.complex64):
            u = u.astype(np.float32)
        corr = x @ u.T
        p = int_power(corr, self.order - 1)
        p *= self.coeffs.astype(p.real.dtype, copy=False)
        contraction = p @ u
        values = np.einsum("ij,ij->i", p, corr)
        return values, contraction

    def norm_sq(self) -> float:
        """``||T||_F² = cᵀ (U Uᵀ)^{∘l} c`` in ``O(r² d)``."""
        return float(inner(self, self))

    def dense(self, max_elements: int = MAX_DENSE_ELEMENTS) -> np.ndarray:
        """The ``d^l`` array; refuses when it would have more than ``max_elements`` entries."""
        _check_dense_size(self.dim, self.order, max_elements)
        out = np.zeros((self.dim,) * self.order)
        for c, u in zip(self.coeffs, self.components, strict=True):
            t = u
            for _ in range(self.order - 1):
                t = np.multiply.outer(t, u)
            out += c * t
        return out

    def is_orthogonal(self, atol: float = 1e-10) -> bool:
        """True when the components are pairwise orthogonal (orthogonally decomposable tensor)."""
        g = self.components @ self.components.T
        return bool(np.allclose(g - np.diag(np.diag(g)), 0.0, atol=atol))

    def unit_form(self) -> LowRankTensor:
        """The same tensor with unit components: ``c_k ||u_k||^l (u_k/||u_k||)^{⊗l}`` (zero rows dropped).

        ``ValueError`` when every component is zero: the zero tensor has no term left.
        """
        n = np.linalg.norm(self.components, axis=1)
        keep = n > 0
        if not np.any(keep):
            raise ValueError(
                "the tensor has no unit form: every component is zero (it is the zero tensor)"
            )
        return LowRankTensor(
            self.coeffs[keep] * n[keep] ** self.order,
            self.components[keep] / n[keep, None],
            self.order,
        )


@dataclass(frozen=True, eq=False)
class DenseTensor(_SymmetricTensorMixin):
    """A symmetric tensor stored as a dense ``d^l`` array (small ``d`` only).

    Parameters
    ----------
    array : array_like, shape (d,)*l
        Must be symmetric under every permutation of its axes (checked to ``symmetry_atol``).
    symmetry_atol : float
        Tolerance of the symmetry check relative to the largest ``|entry|``: the array is accepted
        when no swap of two axes changes an entry by more than ``symmetry_atol·max|entry|``, at any
        scale of the array.
    """

    array: np.ndarray
    symmetry_atol: float = 1e-10

    def __post_init__(self) -> None:
        atol = check_real(self.symmetry_atol, "symmetry_atol", minimum=0.0)
        arr = as_float_array(self.array, "array", copy=True)
        if arr.ndim < 2:
            raise ValueError(f"array must have order >= 2, got ndim={arr.ndim}")
        if len(set(arr.shape)) != 1:
            raise ValueError(f"array must have equal dimensions (d,)*l, got shape {arr.shape}")
        check_order(arr.ndim, "array.ndim")
        # relative to the largest entry, so that the check does not depend on the array's units
        # (an absolute floor accepted any array whose entries were all below it: issue 24, item 12)
        scale = float(np.max(np.abs(arr)))
        # Adjacent transpositions generate the symmetric group: checking them is enough.
        for k in range(arr.ndim - 1):
            axes = list(range(arr.ndim))
            axes[k], axes[k + 1] = axes[k + 1], axes[k]
            gap = float(np.max(np.abs(arr - arr.transpose(axes))))
            if gap > atol * scale:
                raise ValueError(
                    f"array must be a symmetric tensor to symmetry_atol={atol!r} (relative to the "
                    f"largest |entry|, {scale:.3g}); it changes when axes {k} and {k + 1} are "
                    f"swapped (max difference {gap:.3g})"
                )
        arr.flags.writeable = False
        object.__setattr__(self, "array", arr)

    @property
    def order(self) -> int:
        """Tensor order ``l``."""
        return int(self.array.ndim)

    @property
    def dim(self) -> int:
        """Ambient dimension ``d``."""
        return int(self.array.shape[0])

    @classmethod
    def _trusted(cls, array: np.ndarray, symmetry_atol: float) -> DenseTensor:
        """A tensor from an array already known to be symmetric (an exact rescaling of a checked one)."""
        out = object.__new__(cls)
        array.flags.writeable = False
        object.__setattr__(out, "array", array)
        object.__setattr__(out, "symmetry_atol", symmetry_atol)
        return out

    def evaluate_and_contract(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``T(x_i^{⊗l})`` and ``T(x_i^{⊗(l-1)}, ·)`` for rows of ``x`` by successive contraction."""
        n, d = x.shape
        arr = self.array
        if x.dtype in (np.float32, np.complex64):
            arr = arr.astype(np.float32)
        # R_i = T(x_i, ..., x_i, ·, ..., ·): contract one axis at a time.
        r = x @ arr.reshape(d, -1)  # (n, d^{l-1})
        for _ in range(self.order - 2):
            r = np.einsum("nk,nkj->nj", x, r.reshape(n, d, -1))
        values = np.einsum("ij,ij->i", r, x)
        return values, r

    def norm_sq(self) -> float:
        """``||T||_F²``."""
        return float(np.vdot(self.array, self.array))

    def dense(self, max_elements: int = MAX_DENSE_ELEMENTS) -> np.ndarray:
        """The stored array (read-only)."""
        return self.array


Tensor = LowRankTensor | DenseTensor


def _as_points(x: Any, d: int) -> np.ndarray:
    if isinstance(x, np.ndarray) and np.iscomplexobj(x):
        arr = x
    else:
        arr = as_float_array(x, "x", ndim=(1, 2))
    arr = np.atleast_2d(arr)
    if arr.shape[1] != d:
        raise ValueError(f"x must have {d} columns (the tensor dimension), got shape {arr.shape}")
    return arr


def _check_pair(a: Any, b: Any) -> None:
    for name, t in (("a", a), ("b", b)):
        if not isinstance(t, LowRankTensor | DenseTensor):
            raise TypeError(
                f"{name} must be a LowRankTensor or DenseTensor, got {type(t).__name__}"
            )
    if a.order != b.order or a.dim != b.dim:
        raise ValueError(
            f"tensors must have the same order and dimension, got (order={a.order}, d={a.dim}) "
            f"and (order={b.order}, d={b.dim})"
        )


def inner(a: Tensor, b: Tensor) -> float:
    """Frobenius inner product ``<A, B>`` without forming ``d^l`` arrays for low-rank operands.

    Low-rank/low-rank uses ``cᵀ (U Vᵀ)^{∘l} b`` (docs/math.md §2); low-rank/dense uses ``Σ_k c_k B(u_k^{⊗l})``;
    dense/dense uses the flattened dot product.
    """
    _check_pair(a, b)
    if isinstance(a, LowRankTensor) and isinstance(b, LowRankTensor):
        g = int_power(a.components @ b.components.T, a.order)
        return float(a.coeffs @ g @ b.coeffs)
    if isinstance(a, LowRankTensor):
        return float(a.coeffs @ b.evaluate_and_contract(a.components)[0])
    if isinstance(b, LowRankTensor):
        return float(b.coeffs @ a.evaluate_and_contract(b.components)[0])
    return float(np.vdot(a.array, b.array))


def _binary_exponent(t: Tensor) -> int:
    """An ``E`` with every term of ``t`` (``|c_k|·||u_k||^l``, or every dense entry) below ``2^E``."""
    if isinstance(t, DenseTensor):
        return int(np.frexp(np.max(np.abs(t.array)))[1])
    _, mantissa, exponent = _unit_terms(t)
    live = mantissa != 0
    return int(np.max(exponent[live])) if np.any(live) else np.iinfo(np.int32).min


def _unit_terms(t: LowRankTensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit components ``ū_k`` and ``c_k·||u_k||^l = μ_k·2^{e_k}`` (``|μ_k| < 1``), without overflow."""
    unit, peak, inner_norm = _unit_rows_parts(t.components)
    c_m, c_e = np.frexp(t.coeffs)
    p_m, p_e = np.frexp(peak)
    i_m, i_e = np.frexp(inner_norm)
    mantissa = c_m * int_power(p_m * i_m, t.order)  # |.| in [2^{-2l-1}, 1), 0 for a zero term
    exponent = c_e.astype(np.int64) + t.order * (p_e.astype(np.int64) + i_e)
    return unit, mantissa, exponent


def _scaled_down(t: Tensor, k: int) -> Tensor:
    """``t / 2^k`` (exact but for underflow), low-rank terms in unit form."""
    if isinstance(t, DenseTensor):
        return DenseTensor._trusted(np.ldexp(t.array, -k), t.symmetry_atol)
    unit, mantissa, exponent = _unit_terms(t)
    return LowRankTensor(np.ldexp(mantissa, exponent - k), unit, t.order)


def distance(a: Tensor, b: Tensor) -> float:
    """``||A - B||_F`` by the Gram identity ``<A, A> - 2<A, B> + <B, B>`` (docs/math.md §2), no ``d^l`` array.

    Scale-free: both tensors are divided by a power of two ``2^k`` (exact) that brings their largest
    term (``|c_k|·||u_k||^l`` in unit form, or the largest dense entry) into ``[1/2, 1)``, and the
    result is multiplied back, so coefficients or components anywhere in the float range give the
    distance to rounding instead of ``inf - inf = nan``. The squared difference is clipped at 0
    before the square root: rounding can make it slightly negative at a perfect fit.

    Raises
    ------
    ValueError
        When the distance itself exceeds the float64 range.
    """
    _check_pair(a, b)
    k = max(_binary_exponent(a), _binary_exponent(b))
    if k == np.iinfo(np.int32).min:  # both are low-rank tensors with only zero terms
        return 0.0
    sa, sb = _scaled_down(a, k), _scaled_down(b, k)
    sq = inner(sa, sa) - 2.0 * inner(sa, sb) + inner(sb, sb)
    try:
        return math.ldexp(math.sqrt(max(sq, 0.0)), k)
    except OverflowError:
        raise ValueError(
            f"the distance of a and b exceeds the float64 range (their largest terms are near "
            f"2^{k}); rescale them"
        ) from None


def random_unit_vectors(n: int, d: int, rng: RNGLike = None) -> np.ndarray:
    """``n`` independent points uniform on the sphere ``S^{d-1}``, as rows (normalised Gaussians)."""
    n = check_int(n, "n")
    d = check_int(d, "d")
    check_size(n, d, "n, d")
    g = as_rng(rng).standard_normal((n, d))
    norms = np.linalg.norm(g, axis=1, keepdims=True)
    while np.any(norms == 0):  # probability zero, but keep the result on the sphere
        g[norms[:, 0] == 0] = 1.0
        norms = np.linalg.norm(g, axis=1, keepdims=True)
    return g / norms


def orthogonal_tensor(
    a: Any,
    d: int,
    order: int,
    basis: str | np.ndarray = "standard",
    rng: RNGLike = None,
) -> LowRankTensor:
    """Orthogonally decomposable target ``T* = Σ_k a_k e_k^{⊗l}`` (docs/math.md §1, paper 2).

    Parameters
    ----------
    a : array_like, shape (r,)
        Positive coefficients ``a_k`` (paper 2 orders them ``a_1 >= a_2 >= ...``; any order is kept).
    d : int
        Dimension, ``d >= r``.
    order : int
        Tensor order ``l >= 2``.
    basis : {"standard", "random"} or array of shape (r, d)
        ``"standard"``: ``e_k`` is the k-th standard basis vector; ``"random"``: the first ``r`` rows of a
        Haar-random orthogonal matrix (QR of a Gaussian); an array: orthonormal rows given explicitly.
    rng : Generator, int or None
        Randomness for ``basis="random"``.
    """
    coeffs = as_float_array(a, "a", ndim=1)
    if np.any(coeffs <= 0):
        raise ValueError(f"a must be positive, got {coeffs.tolist()}")
    d = check_int(d, "d")
    order = check_order(order)
    r = coeffs.shape[0]
    if r > d:
        raise ValueError(f"an orthogonal tensor needs d >= r = len(a): got d={d}, len(a)={r}")
    check_size(r, d, "d and len(a)")
    if isinstance(basis, str):
        check_choice(basis, "basis", ("standard", "random"))
        if basis == "standard":
            comps = np.eye(r, d)
        else:
            q, rr = np.linalg.qr(as_rng(rng).standard_normal((d, r)))
            comps = (q * np.sign(np.diag(rr))).T
    else:
        comps = as_float_array(basis, "basis", shape=(r, d))
        if not np.allclose(comps @ comps.T, np.eye(r), atol=1e-10):
            raise ValueError("basis must have orthonormal rows (basis @ basis.T == I)")
    return LowRankTensor(coeffs, comps, order)


def random_low_rank(
    r: int,
    d: int,
    order: int,
    *,
    coeffs: Any = None,
    rng: RNGLike = None,
) -> LowRankTensor:
    """Random incoherent low-rank target ``Σ_k c_k u_k^{⊗l}`` with ``u_k`` uniform on ``S^{d-1}``.

    Independent uniform directions are incoherent: ``|u_j·u_k| = O(sqrt(log r / d))``.
    ``coeffs`` defaults to all ones.
    """
    r = check_int(r, "r")
    d = check_int(d, "d")
    order = check_order(order)
    check_size(r, d, "r, d")
    c = np.ones(r) if coeffs is None else as_float_array(coeffs, "coeffs", shape=(r,))
    return LowRankTensor(c, random_unit_vectors(r, d, rng), order)


def random_dense_symmetric(
    d: int, order: int, rng: RNGLike = None, max_elements: int = MAX_DENSE_ELEMENTS
) -> DenseTensor:
    """A dense symmetric tensor with Gaussian entries, symmetrised over all axis permutations (small ``d``).

    The average over the ``l!`` permutations is taken as a product of ``l - 1`` coset averages,
    ``Sym_k = (1/k) Σ_{i<k} (i k) ∘ Sym_{k-1}`` (each ``σ ∈ S_k`` is uniquely ``(i k)∘τ``, ``τ ∈ S_{k-1}``):
    ``O(l² d^l)`` work instead of ``O(l! d^l)``, and the ``d^l`` size guard bounds it.
    """
    d = check_int(d, "d")
    order = check_order(order)
    _check_dense_size(d, order, max_elements)
    sym = as_rng(rng).standard_normal((d,) * order)
    for k in range(1, order):
        # symmetric in axes 0..k-1 -> symmetric in axes 0..k
        acc = sym.copy()
        for i in range(k):
            acc += np.swapaxes(sym, i, k)
        sym = acc / (k + 1)
    return DenseTensor(sym)
