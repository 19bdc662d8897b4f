"""Lazy (NTK) regime of the plain model: tangent kernel, lazy residual, linearised flow (docs/math.md §4).

The plain model ``T(W) = Σ_i w_i^{⊗l}`` (paper 1, eq. (1) with ``c_i = 1``) has the tangent map
``J(V) = Σ_i l·Sym(w_i^{⊗(l-1)} ⊗ v_i)`` at ``W``. Everything here is computed without a ``d^l`` array:

* the kernel ``K = JᵀJ`` acts on ``V`` (shape ``(m, d)``) by docs/math.md §4's **[derived]** formula
  ``K V = l·[G^{∘(l-1)} V + ((l-1) G^{∘(l-2)} ∘ (W Vᵀ)) W]`` with ``G = W Wᵀ``, cost ``O(m² d)``
  (:func:`tangent_operator`, dense :func:`tangent_matrix`);
* ``Jᵀ T = l·T(w_i^{⊗(l-1)}, ·)`` row by row (the plain gradient, :mod:`numerics.models`);
* for small sizes :func:`tangent_jacobian` writes ``J`` itself in an orthonormal basis of ``Sym^l(R^d)``
  (dimension ``D(d, l) = C(d+l-1, l)``), an independent route used by :func:`tangent_rank` and by the
  dense lazy residual (no squaring of the condition number).

The lazy residual (docs/math.md §4) is ``min_ΔW ||T(W0) + J ΔW - T*||² / ||T*||²``. Since
``J(W0) = l·T(W0)``, the offset ``T(W0)`` always lies in the tangent span: the lazy residual of the plain
model does not depend on ``T(W0)`` nor on the scale of ``W0``, only on the directions of its rows.

The α-scaling comparison (docs/math.md §4, Chizat–Oyallon–Bach) trains ``F_α(W) = ||α(T(W) - T(W0)) - T*||²/(2α²)``,
whose gradient flow is the plain flow towards the target ``T(W0) + T*/α``, and compares its output
``α(T(W) - T(W0))`` with the linearised output ``J0 u(t)``, ``u' = J0ᵀT* - K0 u``, ``u(0) = 0``.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
import scipy.linalg
from scipy.integrate import solve_ivp
from scipy.sparse.linalg import LinearOperator, minres

from ._validate import (
    MAX_OBSERVATIONS,
    as_float_array,
    check_bool,
    check_choice,
    check_int,
    check_max_wall,
    check_order,
    check_real,
)
from .flow import gradient_flow
from .models import _loss_and_grad
from .tensors import (
    DenseTensor,
    LowRankTensor,
    Tensor,
    _binary_exponent,
    _scaled_down,
    _unit_rows,
    int_power,
)

__all__ = [
    "DENSE_MAX_ELEMENTS",
    "PRECONDITIONERS",
    "AlphaComparison",
    "LazyResult",
    "LinearizedFlow",
    "alpha_comparison",
    "lazy_residual",
    "linearized_flow",
    "sym_basis_size",
    "tangent_jacobian",
    "tangent_matrix",
    "tangent_operator",
    "tangent_rank",
    "tangent_singular_values",
]

#: Largest number of entries of the dense Jacobian ``J`` (``D(d, l) × m·d``) or of the dense kernel
#: (``(m·d)²``) that the dense routes build (2**22 doubles = 32 MiB).
DENSE_MAX_ELEMENTS = 2**22


# --------------------------------------------------------------------------------------------------
# validation helpers


def _check_W(W: Any, name: str = "W") -> np.ndarray:
    return as_float_array(W, name, ndim=2)


def _check_target(W: np.ndarray, target: Any) -> Tensor:
    if not isinstance(target, LowRankTensor | DenseTensor):
        raise TypeError(
            f"target must be a LowRankTensor or DenseTensor, got {type(target).__name__}"
        )
    if target.dim != W.shape[1]:
        raise ValueError(
            f"W0 must have d={target.dim} columns (the target dimension), got shape {W.shape}"
        )
    if not target.squared_norm > 0:
        raise ValueError(
            f"target must be a nonzero tensor (the residual is relative to ||T*||²), got ||T*||² = {target.squared_norm!r}"
        )
    return target


def sym_basis_size(d: int, order: int) -> int:
    """``D(d, l) = C(d+l-1, l)``, the dimension of ``Sym^l(R^d)`` (docs/math.md, notation)."""
    d = check_int(d, "d")
    order = check_order(order)
    return math.comb(d + order - 1, order)


def _check_dense(n: int, what: str, max_elements: int) -> None:
    max_elements = check_int(max_elements, "max_elements")
    if n > max_elements:
        raise ValueError(
            f"refusing to build the dense {what}: {n} entries exceed max_elements={max_elements} "
            f"({n * 8 / 2**20:.3g} MiB); use the matrix-free tangent_operator / method='cg' instead"
        )


# --------------------------------------------------------------------------------------------------
# the tangent kernel


def _overflow_error(
    W: np.ndarray, order: int, what: str, power: int, name: str = "W"
) -> ValueError:
    return ValueError(
        f"{name} is too large: the {what} overflows float64 (largest |entry| of {name} "
        f"{float(np.max(np.abs(W))):.3g}, order {order}: its entries grow like ||w_i||^{power})"
    )


def _kernel_factors(W: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """``A = l·G^{∘(l-1)}`` and ``B = l(l-1)·G^{∘(l-2)}`` of the kernel formula."""
    G = W @ W.T
    A = int_power(G, order - 1)
    A *= order
    B = int_power(G, order - 2)
    B *= order * (order - 1)
    return A, B


def _kernel_apply(W: np.ndarray, A: np.ndarray, B: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``K V = A V + (B ∘ (W Vᵀ)) W`` (docs/math.md §4), ``O(m² d)``."""
    C = W @ V.T
    C *= B
    out = A @ V
    out += C @ W
    return out


def tangent_operator(W: Any, order: int) -> LinearOperator:
    """The tangent kernel ``K = JᵀJ`` of the plain model at ``W`` as a matrix-free operator.

    Implements docs/math.md §4's **[derived]** formula
    ``K V = l·[G^{∘(l-1)} V + ((l-1) G^{∘(l-2)} ∘ (W Vᵀ)) W]``, ``G = W Wᵀ``, on ``V`` of shape ``(m, d)``
    flattened row-major (``V.ravel()``). Cost ``O(m² d)`` per product and ``O(m² + md)`` memory; no
    ``d^l`` array is formed.

    Parameters
    ----------
    W : array_like, shape (m, d)
        The point of linearisation (rows ``w_i``).
    order : int
        Tensor order ``l >= 2``.

    Returns
    -------
    scipy.sparse.linalg.LinearOperator
        Symmetric positive semi-definite, shape ``(m·d, m·d)``, float64.

    Raises
    ------
    ValueError
        When the kernel's entries (``~||w_i||^{2(l-1)}``) overflow float64.
    """
    return _kernel_operator(_check_W(W), check_order(order), "W")


def _kernel_operator(W: np.ndarray, order: int, name: str) -> LinearOperator:
    """:func:`tangent_operator` on validated input; ``name`` is the caller's name for ``W``."""
    with np.errstate(over="ignore", invalid="ignore"):
        A, B = _kernel_factors(W, order)
    if not np.all(np.isfinite(A)):
        raise _overflow_error(W, order, "tangent kernel", 2 * (order - 1), name)
    m, d = W.shape

    def matvec(v: np.ndarray) -> np.ndarray:
        return _kernel_apply(W, A, B, np.asarray(v, dtype=np.float64).reshape(m, d)).ravel()

    def matmat(X: np.ndarray) -> np.ndarray:
        return np.column_stack([matvec(X[:, k]) for k in range(X.shape[1])])

    return LinearOperator(
        (m * d, m * d), matvec=matvec, rmatvec=matvec, matmat=matmat, dtype=np.float64
    )


def tangent_matrix(W: Any, order: int, *, max_elements: int = DENSE_MAX_ELEMENTS) -> np.ndarray:
    """The tangent kernel ``K = JᵀJ`` as a dense ``(m·d, m·d)`` matrix (small sizes).

    Entry ``K[(i,a), (j,b)] = l·[G_ij^{l-1} δ_ab + (l-1) G_ij^{l-2} w_ib w_ja]`` (docs/math.md §4), indices
    flattened row-major like :func:`tangent_operator`.

    Parameters
    ----------
    W : array_like, shape (m, d)
    order : int
    max_elements : int
        Refuse (``ValueError``) when ``(m·d)²`` exceeds this. Refused too: a ``W`` whose kernel
        entries (``~||w_i||^{2(l-1)}``) overflow float64.
    """
    W = _check_W(W)
    order = check_order(order)
    m, d = W.shape
    _check_dense((m * d) ** 2, "tangent kernel", max_elements)
    with np.errstate(over="ignore", invalid="ignore"):
        A, B = _kernel_factors(W, order)
    if not np.all(np.isfinite(A)):
        raise _overflow_error(W, order, "tangent kernel", 2 * (order - 1))
    K = A[:, None, :, None] * np.eye(d)[None, :, None, :]
    K += B[:, None, :, None] * W.T[None, :, :, None] * W[:, None, None, :]
    return K.reshape(m * d, m * d)


def _multisets(d: int, degree: int) -> np.ndarray:
    """Exponent vectors ``α`` (``|α| = degree``) of ``d`` variables, shape ``(C(d+degree-1, degree), d)``."""
    rows = []
    for combo in itertools.combinations_with_replacement(range(d), degree):
        a = np.zeros(d, dtype=np.int64)
        for k in combo:
            a[k] += 1
        rows.append(a)
    return np.array(rows, dtype=np.int64).reshape(-1, d)


def _multinomial(alpha: np.ndarray) -> np.ndarray:
    """``|α|! / Π α_k!`` for each row of ``alpha``."""
    total = alpha.sum(axis=1)
    out = np.array([math.factorial(int(t)) for t in total], dtype=np.float64)
    for col in alpha.T:
        out /= np.array([math.factorial(int(a)) for a in col], dtype=np.float64)
    return out


def _monomials(X: np.ndarray, exps: np.ndarray) -> np.ndarray:
    """``x_i^β = Π_k x_ik^{β_k}`` for rows ``x_i`` and exponent rows ``β``: shape ``(n, len(exps))``."""
    out = np.ones((X.shape[0], exps.shape[0]))
    for k in range(X.shape[1]):
        col = exps[:, k]
        for p in np.unique(col):
            if p:
                sel = col == p
                out[:, sel] *= (X[:, k] ** int(p))[:, None]
    return out


def _sym_coordinates(target: Tensor, alphas: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """Coordinates ``sqrt(multinom(α))·T_α`` of a symmetric tensor in the orthonormal basis of ``Sym^l``."""
    if isinstance(target, LowRankTensor):
        entries = _monomials(target.components, alphas).T @ target.coeffs
    else:
        idx = np.array([np.repeat(np.arange(alphas.shape[1]), a) for a in alphas])  # (D, l)
        entries = target.array[tuple(idx.T)]
    return np.sqrt(mult) * entries


def tangent_jacobian(W: Any, order: int, *, max_elements: int = DENSE_MAX_ELEMENTS) -> np.ndarray:
    """The tangent map ``J`` of the plain model as a dense ``(D(d,l), m·d)`` matrix (small sizes).

    Rows are coordinates in the orthonormal basis ``{sqrt(multinom(α))·Sym(e^α)}`` of ``Sym^l(R^d)``,
    in which a symmetric tensor ``T`` has coordinates ``y_α = sqrt(multinom(α))·T_α`` and
    ``||T||_F = ||y||``. Column ``(i, k)`` is ``l·Sym(w_i^{⊗(l-1)} ⊗ e_k)``, whose polynomial
    ``l·(w_i·x)^{l-1} x_k`` gives ``J[α, (i,k)] = l·multinom(α - e_k)·w_i^{α-e_k} / sqrt(multinom(α))``.
    Independent of the kernel formula: ``JᵀJ`` equals :func:`tangent_matrix` (tested).

    Parameters
    ----------
    W : array_like, shape (m, d)
    order : int
    max_elements : int
        Refuse (``ValueError``) when ``D(d,l)·m·d`` exceeds this. Refused too: a ``W`` whose
        entries (``~||w_i||^{l-1}``) overflow float64.
    """
    W = _check_W(W)
    order = check_order(order)
    m, d = W.shape
    D = sym_basis_size(d, order)
    _check_dense(D * m * d, "tangent Jacobian", max_elements)
    alphas = _multisets(d, order)
    betas = _multisets(d, order - 1)
    beta_index = {tuple(b): n for n, b in enumerate(betas)}
    with np.errstate(over="ignore", invalid="ignore"):
        mono = _monomials(W, betas) * _multinomial(betas)[None, :]  # (m, nβ): multinom(β) w^β
    if not np.all(np.isfinite(mono)):
        raise _overflow_error(W, order, "tangent Jacobian", order - 1)
    inv_sqrt = 1.0 / np.sqrt(_multinomial(alphas))
    J = np.zeros((D, m, d))
    for a_idx, alpha in enumerate(alphas):
        for k in np.flatnonzero(alpha):
            beta = alpha.copy()
            beta[k] -= 1
            J[a_idx, :, k] = order * inv_sqrt[a_idx] * mono[:, beta_index[tuple(beta)]]
    return J.reshape(D, m * d)


def tangent_singular_values(
    W: Any, order: int, *, max_elements: int = DENSE_MAX_ELEMENTS
) -> np.ndarray:
    """Singular values of the tangent map ``J`` (:func:`tangent_jacobian`), descending, ``min(D, m·d)`` of them.

    They scale like ``||w_i||^{l-1}``: a ``W`` whose Jacobian overflows float64 is refused
    (``ValueError``), as by :func:`tangent_jacobian`.
    """
    return np.linalg.svd(tangent_jacobian(W, order, max_elements=max_elements), compute_uv=False)


def _rank_tolerance(sigma: np.ndarray, shape: tuple[int, int]) -> float:
    return float(sigma[0] * max(shape) * np.finfo(np.float64).eps) if sigma.size else 0.0


def tangent_rank(
    W: Any, order: int, *, tol: float | None = None, max_elements: int = DENSE_MAX_ELEMENTS
) -> int:
    """Dimension of the tangent space ``span{Sym(w_i^{⊗(l-1)} ⊗ v)}`` at ``W`` (Terracini, docs/math.md §4).

    The rank of the dense tangent map :func:`tangent_jacobian` (``D(d,l) × m·d``, orthonormal
    coordinates, so the condition number is not squared as it would be with ``K = JᵀJ``) by SVD.
    The span depends only on the directions of the nonzero rows (``w_i^{⊗(l-1)}`` scales by
    ``||w_i||^{l-1}``), so the SVD runs at the unit rows ``w_i/||w_i||`` (zero rows stay zero and
    span nothing): the rank is the same at every scale and for rows of very different norms,
    where ``||w_i||^{l-1}`` would underflow or overflow.

    Parameters
    ----------
    W : array_like, shape (m, d)
    order : int
    tol : float, optional
        Singular values (of the tangent map at the unit rows) ``> tol`` count. Default: ``σ_max · max(D, m·d) · ε_float64``, the
        convention of ``numpy.linalg.matrix_rank`` (Golub & Van Loan; Numerical Recipes): the size
        of rounding errors in the SVD of a matrix with that norm. At random unit ``W`` the gap is
        wide: over the 324 cases of ``lazy.tangent-dimension`` (full profile, l <= 5, d <= 9) the
        smallest nonzero singular value was above ``1.9e-6·σ_max`` and the zero ones below
        ``1.8e-16·σ_max`` (measured 2026-11-23).
    max_elements : int
        Size bound of the dense Jacobian.
    """
    W = _check_W(W)
    order = check_order(order)
    unit, _ = _unit_rows(W)
    sigma = tangent_singular_values(unit, order, max_elements=max_elements)
    D = sym_basis_size(W.shape[1], order)
    if tol is None:
        thresh = _rank_tolerance(sigma, (D, W.size))
    else:
        thresh = check_real(tol, "tol", minimum=0.0)
    return int(np.count_nonzero(sigma > thresh))


# --------------------------------------------------------------------------------------------------
# lazy residual


@dataclass(frozen=True)
class LazyResult:
    """Result of :func:`lazy_residual`.

    Attributes
    ----------
    residual : float
        ``min_ΔW ||T(W0) + J ΔW - T*||² / ||T*||²`` (docs/math.md §4); ``nan`` when the iterative solve did not
        converge (see ``converged`` and ``residual_bound``).
    residual_bound : float
        ``||T(W0) + J ΔW - T*||² / ||T*||²`` at the returned ``delta``: an upper bound on the lazy
        residual that is attained by a concrete ``ΔW``, finite even without convergence.
    converged : bool
        Dense solves always converge; iterative solves converge when
        ``||K ΔW - Jᵀb|| <= tol·||Jᵀb||`` (checked after the solve, not taken from the solver's flag).
    iterations : int
        Kernel products of the iterative solver (0 for ``method="dense"``).
    method : str
        ``"dense"``, ``"cg"`` or ``"minres"``.
    normal_residual : float
        ``||K ΔW - Jᵀb|| / ||Jᵀb||`` with ``b = T* - T(W0)`` (0 when ``Jᵀb = 0``).
    delta : ndarray, shape (m, d)
        The displacement ``ΔW`` of the best linearised fit.
    rank : int
        Rank of ``J`` found by the dense solve (``-1`` for iterative methods).
    message : str
        What happened, with the parameters.
    """

    residual: float
    residual_bound: float
    converged: bool
    iterations: int
    method: str
    normal_residual: float
    delta: np.ndarray
    rank: int
    message: str

    def require(self) -> float:
        """The residual, or ``RuntimeError`` with :attr:`message` when the solve did not converge."""
        if not self.converged:
            raise RuntimeError(self.message)
        return self.residual


def _offset_problem(W0: np.ndarray, target: Tensor, order: int) -> tuple[float, np.ndarray]:
    """``||b||²`` and ``g = Jᵀb`` for ``b = T* - T(W0)``: ``g = -∇f_plain(W0)`` (docs/math.md §3–4)."""
    value, grad = _loss_and_grad(W0, target, "plain", 0.0)
    assert grad is not None
    return 2.0 * float(value), -np.asarray(grad, dtype=np.float64)


def _quadratic(b_sq: float, g: np.ndarray, x: np.ndarray, Kx: np.ndarray) -> float:
    """``||J x - b||² = ||b||² - 2 gᵀx + xᵀK x`` (clipped at 0 against rounding)."""
    return max(b_sq - 2.0 * float(np.vdot(g, x)) + float(np.vdot(x, Kx)), 0.0)


def _quadratic_rows(
    t_sq: float, h: np.ndarray, Y: np.ndarray, W: np.ndarray, A: np.ndarray, B: np.ndarray
) -> np.ndarray:
    """:func:`_quadratic` for every row ``y`` of ``Y`` at once (``nan`` for a non-finite row).

    The kernel products of all rows are batched (:func:`_kernel_apply` on a stack), so a long
    ``t_eval`` costs no Python loop per observation time.
    """
    k = Y.shape[0]
    m, d = W.shape
    V = Y.reshape(k, m, d)
    with np.errstate(over="ignore", invalid="ignore"):
        KV = A @ V + (B * (W @ V.transpose(0, 2, 1))) @ W
        values = t_sq - 2.0 * (Y @ h) + np.einsum("ij,ij->i", Y, KV.reshape(k, m * d))
    values = np.maximum(values, 0.0)
    values[~np.all(np.isfinite(Y), axis=1)] = np.nan
    return values


#: preconditioners of the CG route of :func:`lazy_residual`
PRECONDITIONERS = ("auto", "none", "kronecker")


def _kronecker_preconditioner(A: np.ndarray, d: int) -> Any:
    """``r -> (A⁻¹ ⊗ I_d) r``: the inverse of the kernel's first term ``K V ≈ A V`` (None if ``A`` is singular).

    ``K = A ⊗ I_d + N`` with ``A = l·G^{∘(l-1)}`` (docs/math.md §4); dropping the coupling term ``N V =
    (B ∘ (W Vᵀ)) W`` leaves a Kronecker product whose inverse costs one ``m×m`` by ``m×d`` product. Measured
    (l = 3, m = D/d, tol 1e-8): 3,922 → 1,564 CG iterations at d = 16, 9,403 → 3,432 at d = 22; block
    Jacobi (the ``d×d`` diagonal blocks of ``K``) gave 2,434 and 6,504, an exact spectral preconditioner
    on the top 20% of ``K``'s spectrum (an ideal Nyström) 1,886 at d = 16, a Woodbury correction of the
    diagonal blocks' rank-one terms 1,696 and 4,150. At d = 64, m = 715: 3,645 products, 23 s, against 16,062 products, 62 s without (load 2–4). ``K``'s spectrum is spread from its top to a hard
    edge near 0 (a square, random-like ``J``): no cheap preconditioner removes the ``O(m·d)`` iterations.
    """
    m = A.shape[0]
    try:
        factor = scipy.linalg.cho_factor(A, lower=True)
    except np.linalg.LinAlgError:
        return None  # l = 2 with m > d: G is singular
    pivots = np.diag(factor[0]) ** 2
    if not pivots.min() > 1e-12 * pivots.max():
        return None  # numerically singular: the inverse would amplify rounding
    A_inv = scipy.linalg.cho_solve(factor, np.eye(m))

    def apply(r: np.ndarray) -> np.ndarray:
        return (A_inv @ r.reshape(m, d)).ravel()

    return apply


def _cg(
    matvec: Any,
    g: np.ndarray,
    b_sq: float,
    t_sq: float,
    tol: float,
    maxiter: int,
    stop_below: float | None,
    precond: Any = None,
) -> tuple[np.ndarray, int]:
    """(Preconditioned) conjugate gradients on ``K x = g`` from ``x = 0`` (CGLS in kernel form).

    Its iterates minimise ``||J x - b||²`` over growing (preconditioned) Krylov spaces, and satisfy
    ``xᵀKx = gᵀx``, so
    ``(||b||² - gᵀx)/||T*||²`` tracks the residual bound; with ``stop_below`` the loop ends once that
    running value is below it and the exact ``||J x - b||²/||T*||²`` (one more product) confirms it. Returns ``(x, info)``:
    0 converged, 1 maxiter, 2 stopped below, 3 breakdown.
    """
    x = np.zeros_like(g)
    r = g.copy()
    z = r if precond is None else precond(r)
    p = z.copy()
    rz = float(r @ z)
    g_norm = math.sqrt(float(r @ r))
    for _ in range(maxiter):
        Kp = matvec(p)
        pKp = float(p @ Kp)
        if not pKp > 0:
            return x, 3
        step = rz / pKp
        x += step * p
        r -= step * Kp
        if math.sqrt(float(r @ r)) <= tol * g_norm:
            return x, 0
        if stop_below is not None and (b_sq - float(g @ x)) / t_sq <= stop_below:
            # the running value drifts in floating point (lost orthogonality): confirm exactly
            if _quadratic(b_sq, g, x, matvec(x)) / t_sq <= stop_below:
                return x, 2
        z = r if precond is None else precond(r)
        rz_new = float(r @ z)
        p *= rz_new / rz
        p += z
        rz = rz_new
    return x, 1


def _scaled_tensor(target: Tensor, factor: float) -> Tensor:
    if isinstance(target, LowRankTensor):
        return LowRankTensor(target.coeffs * factor, target.components, target.order)
    return DenseTensor(target.array * factor, symmetry_atol=target.symmetry_atol)


_Solver = TypeVar("_Solver", bound=Callable[..., LazyResult])


def _scale_free(solve: _Solver) -> _Solver:
    """Solve the lazy residual problem on unit rows and a unit-norm target (issue 15, item 3).

    The residual depends only on the row directions of ``W0`` (each row's scale is absorbed by its
    displacement, and ``T(W0) = J(W0)/l`` lies in the tangent span) and is relative to ``||T*||²``.
    Solving the scaled problem as given squares ``||W0||^{2(l-1)}`` into the kernel and cancels
    ``||T(W0)||²``-sized terms in the residual, so at ``W0·100`` the result was off by orders of
    magnitude while reporting convergence. Here the solve sees ``W̃ = diag(1/s) W0`` (``s_i = ||w_i||``)
    and ``T*/τ`` (``τ = ||T*||_F``); its displacement ``x`` maps back to the caller's problem as
    ``ΔW = τ·diag(s^{-(l-1)})(x + W̃/l) - W0/l``, so that ``T(W0) + J(W0)ΔW = τ(T(W̃) + J(W̃)x)``.
    """

    @functools.wraps(solve)
    def lazy_residual(W0: Any, target: Tensor, **options: Any) -> LazyResult:
        W0 = _check_W(W0, "W0")
        target = _check_target(W0, target)
        tau = math.sqrt(float(target.squared_norm))
        if not math.isfinite(tau):
            raise ValueError(
                f"target must have a finite norm, got ||T*||² = {target.squared_norm!r} (rescale it)"
            )
        order = target.order
        unit, s = _unit_rows(W0)
        result = solve(unit, _scaled_tensor(target, 1.0 / tau), **options)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            back = np.where(s > 0, tau / np.where(s > 0, s, 1.0) ** (order - 1), 0.0)
            delta = back[:, None] * (result.delta + unit / order) - W0 / order
        residual = result.residual
        if math.isfinite(residual):  # a relative residual lies in [0, 1]; clip rounding
            residual = min(max(residual, 0.0), 1.0)
        return dataclasses.replace(
            result,
            residual=residual,
            delta=delta,
            message=f"{result.message} (solved on unit rows and a unit-norm target)",
        )

    return cast(
        _Solver, lazy_residual
    )  # same signature as ``solve`` (keyword options pass through)


@_scale_free
def lazy_residual(
    W0: Any,
    target: Tensor,
    *,
    method: str = "auto",
    tol: float = 1e-8,
    maxiter: int | None = None,
    stop_below: float | None = None,
    max_elements: int = DENSE_MAX_ELEMENTS,
    preconditioner: str = "auto",
) -> LazyResult:
    """Smallest relative squared error reachable by the linearised plain model at ``W0`` (docs/math.md §4).

    ``residual = min_ΔW ||T(W0) + J ΔW - T*||² / ||T*||²`` — paper 1's lazy (NTK) regime: the linearised
    model fits a generic target only once ``m·d >= D(d, l)``, i.e. ``m = Ω(d^{l-1})``.

    Parameters
    ----------
    W0 : array_like, shape (m, d)
        Initialisation (plain model). Only the row directions matter: ``T(W0) = J(W0)/l`` lies in the
        tangent span, so neither the offset nor the scale of ``W0`` changes the residual. The solve
        runs on unit rows and the unit-norm target ``T*/||T*||`` and maps ``delta`` back, so any
        scale gives the same residual, always in ``[0, 1]``; ``normal_residual`` and ``tol`` refer
        to that normalised problem.
    target : LowRankTensor or DenseTensor
        Nonzero ``T*``.
    method : {"auto", "dense", "cg", "minres"}
        ``"dense"``: least squares on the explicit Jacobian :func:`tangent_jacobian` by SVD (exact to
        rounding; small sizes). ``"cg"`` / ``"minres"``: the normal equations ``K ΔW = Jᵀb``,
        ``b = T* - T(W0)``, solved matrix-free with :func:`tangent_operator` (``O(m² d)`` per iteration);
        ``Jᵀb`` lies in the range of ``K``, so the singular system is consistent. ``"auto"``: dense when
        the Jacobian has at most ``max_elements`` entries, else ``"cg"``.
    tol : float
        Iterative methods: converged when ``||K ΔW - Jᵀb|| <= tol·||Jᵀb||``, checked after the solve.
        The residual then exceeds the true minimum by ``δᵀKδ <= tol²·||Jᵀb||²/λ_min⁺(K)``.
    maxiter : int, optional
        Iteration cap of the iterative methods (default ``10·m·d``).
    stop_below : float, optional
        ``"cg"`` only: stop as soon as the residual bound is ``<= stop_below`` (enough to decide
        "residual <= ε" without converging; the result then has ``converged=False`` and the bound in
        ``residual_bound``).
    max_elements : int
        Size bound of the dense Jacobian for ``"dense"`` and ``"auto"``.
    preconditioner : {"auto", "none", "kronecker"}
        ``"cg"`` only: ``"kronecker"`` preconditions with ``(l·G^{∘(l-1)})⁻¹ ⊗ I_d`` (one extra
        ``O(m²d)`` product per iteration, 2.5–2.7× fewer iterations, see
        :func:`_kronecker_preconditioner`); ``"auto"`` uses it when ``G^{∘(l-1)}`` is positive definite,
        else none.

    Returns
    -------
    LazyResult
        A non-converged iterative solve is reported with ``residual = nan`` and ``converged = False``;
        ``residual_bound`` still holds the (valid) upper bound reached; :meth:`LazyResult.require`
        raises instead.
    """
    W0 = _check_W(W0, "W0")
    target = _check_target(W0, target)
    method = check_choice(method, "method", ("auto", "dense", "cg", "minres"))
    tol = check_real(tol, "tol", minimum=0.0, strict=True)
    max_elements = check_int(max_elements, "max_elements")
    m, d = W0.shape
    order = target.order
    n = m * d
    if maxiter is None:
        maxiter = 10 * n
    maxiter = check_int(maxiter, "maxiter")
    if stop_below is not None:
        stop_below = check_real(stop_below, "stop_below", minimum=0.0)
    preconditioner = check_choice(preconditioner, "preconditioner", PRECONDITIONERS)
    D = sym_basis_size(d, order)
    if method == "auto":
        method = "dense" if D * n <= max_elements else "cg"
    t_sq = float(target.squared_norm)
    params = f"m={m}, d={d}, order={order}, method={method!r}, tol={tol:g}"

    if method == "dense":
        J = tangent_jacobian(W0, order, max_elements=max_elements)
        alphas = _multisets(d, order)
        mult = _multinomial(alphas)
        model = LowRankTensor(np.ones(m), W0, order)
        b = _sym_coordinates(target, alphas, mult) - _sym_coordinates(model, alphas, mult)
        U, sigma, Vt = np.linalg.svd(J, full_matrices=False)
        rank = int(np.count_nonzero(sigma > _rank_tolerance(sigma, J.shape)))
        coef = U[:, :rank].T @ b
        x = Vt[:rank].T @ (coef / sigma[:rank])
        r = b - U[:, :rank] @ coef
        res = float(r @ r) / t_sq
        g = J.T @ b
        Kx = J.T @ (J @ x)
        g_norm = float(np.linalg.norm(g))
        nres = float(np.linalg.norm(Kx - g)) / g_norm if g_norm > 0 else 0.0
        return LazyResult(
            residual=res,
            residual_bound=res,
            converged=True,
            iterations=0,
            method="dense",
            normal_residual=nres,
            delta=x.reshape(m, d),
            rank=rank,
            message=f"dense least squares, rank {rank} of J ({D}×{n}); {params}",
        )

    b_sq, g = _offset_problem(W0, target, order)
    A, B = _kernel_factors(W0, order)
    count = 0

    def matvec(v: np.ndarray) -> np.ndarray:
        nonlocal count
        count += 1
        return _kernel_apply(W0, A, B, v.reshape(m, d)).ravel()

    op = LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=np.float64)
    gv = g.ravel()
    g_norm = float(np.linalg.norm(gv))
    if g_norm == 0.0:
        x = np.zeros(n)
        info = 0
    elif method == "cg":
        precond = None
        if preconditioner != "none":
            precond = _kronecker_preconditioner(A, d)
            if precond is None and preconditioner == "kronecker":
                raise ValueError(
                    f"preconditioner='kronecker' needs l·G^(l-1) positive definite; it is singular "
                    f"at m={m}, d={d}, order={order} (use preconditioner='none' or 'auto')"
                )
        params += f", preconditioner={'kronecker' if precond is not None else 'none'}"
        x, info = _cg(matvec, gv, b_sq, t_sq, tol, maxiter, stop_below, precond)
    else:
        # scipy's MINRES stops on ||r|| <= rtol·(||K||·||x|| + ||g||), weaker than our test: restart
        # from the iterate with a tenfold tighter rtol until ours holds or maxiter is spent.
        x, info, inner_tol = np.zeros(n), 0, tol
        while count < maxiter:
            x, info = minres(op, gv, x0=x, rtol=inner_tol, maxiter=maxiter - count)
            r_norm = float(np.linalg.norm(matvec(x) - gv))
            if r_norm <= tol * g_norm or inner_tol < 1e-15:
                break
            inner_tol /= 10.0
    iterations = count
    Kx = _kernel_apply(W0, A, B, x.reshape(m, d)).ravel()
    nres = float(np.linalg.norm(Kx - gv)) / g_norm if g_norm > 0 else 0.0
    bound = _quadratic(b_sq, gv, x, Kx) / t_sq
    finite = bool(np.all(np.isfinite(x))) and np.isfinite(bound)
    converged = finite and nres <= tol
    if info == 2 and finite and stop_below is not None and bound <= stop_below:
        message = (
            f"cg stopped after {iterations} kernel products: residual bound {bound:.4g} <= "
            f"stop_below={stop_below:g} (not converged: normal residual {nres:.3g}); {params}"
        )
        return LazyResult(
            residual=bound if converged else float("nan"),
            residual_bound=bound,
            converged=converged,
            iterations=iterations,
            method=method,
            normal_residual=nres,
            delta=x.reshape(m, d),
            rank=-1,
            message=message,
        )
    if converged:
        message = f"{method} converged in {iterations} kernel products (normal residual {nres:.2e}); {params}"
    else:
        message = (
            f"{method} did not converge: normal residual {nres:.3g} > tol={tol:g} after {iterations} "
            f"kernel products (solver info {info}, maxiter={maxiter}); residual bound {bound:.4g}; {params}"
        )
    return LazyResult(
        residual=bound if converged else float("nan"),
        residual_bound=bound if finite else float("nan"),
        converged=converged,
        iterations=iterations,
        method=method,
        normal_residual=nres,
        delta=x.reshape(m, d),
        rank=-1,
        message=message,
    )


# --------------------------------------------------------------------------------------------------
# linearised gradient flow


class _WallTimeExceeded(Exception):
    """Raised inside the integrator's right-hand side to stop at ``max_wall``."""


@dataclass(frozen=True)
class LinearizedFlow:
    """Result of :func:`linearized_flow`.

    Attributes
    ----------
    t : ndarray, shape (k,)
        Observation times.
    residual : ndarray, shape (k,)
        ``||T(W0)·[offset] + J Δ(t) - T*||² / ||T*||²`` along the flow.
    delta : ndarray, shape (k, m, d)
        The displacement ``Δ(t) = W(t) - W0`` of the linearised model at the observation times.
    W : ndarray, shape (m, d)
        ``W0 + Δ`` at the final time.
    nfev : int
        Kernel products made by the integrator.
    status : str
        ``"finished"``, ``"failed"`` (solver failure or non-finite state, with the reason and the
        parameters in ``message``) or ``"max_wall"``.
    message : str
    method : str
        Integrator name or ``"exact"``.
    """

    t: np.ndarray
    residual: np.ndarray
    delta: np.ndarray
    W: np.ndarray
    nfev: int
    status: str
    message: str
    method: str

    @property
    def success(self) -> bool:
        return self.status == "finished"


def _exact_linearized_flow(
    W0: np.ndarray,
    target: Tensor,
    te: np.ndarray,
    t0: float,
    include_offset: bool,
    max_elements: int,
    params: str,
) -> LinearizedFlow:
    """``method="exact"`` of :func:`linearized_flow`, scale-free (docs/math.md §9.4).

    ``W̃ = W0/2^e`` (entries below 1) and ``T̃ = T*/2^f`` (largest term below 1) are exact rescalings.
    With the SVD ``J̃ = Σ_k σ̃_k u_k v_kᵀ`` of the tangent map at ``W̃`` — ``J(W0) = 2^{(l-1)e} J̃``, with
    the same singular vectors — and the coordinates ``y`` of ``T̃`` in the orthonormal basis of
    ``Sym^l``, the flow ``Δ' = Jᵀ(b - JΔ)``, ``b = T* - T(W0)``, decouples mode by mode. Since
    ``T(W0) = J(W0) W0/l`` lies in the span of ``J`` (docs/math.md §4), its coordinate on ``u_k`` is
    ``2^{le} q_k`` with ``q_k = σ̃_k (v_kᵀ w̃)/l`` and it has none outside: ``b`` is never formed, so
    ``T*`` is not lost in the cancellation ``T* - T(W0)``. With ``β_k = ỹ_k - 2^{le-f} q_k`` (no
    offset term when ``include_offset`` is False), ``σ_k = 2^{(l-1)e} σ̃_k`` and
    ``x_k(t) = σ_k² (t - t0)``::

        residual(t) = (||y_⊥||² + Σ_k e^{-2 x_k} β_k²) / ||y||²
        Δ(t)        = Σ_k v_k (1 - e^{-x_k}) 2^f β_k / σ_k

    a sum of non-negative terms and a sum whose offset part is ``-(1 - e^{-x_k}) 2^e (v_kᵀw̃)/l``.
    Powers of two are applied with ``ldexp`` (exact), and the products that could overflow while
    the result does not are taken in an order (or through logarithms) that keeps them in range.
    Singular values below the rank tolerance of :func:`lazy_residual`'s dense route count as zero,
    so ``residual(∞)`` is that lazy residual.
    """
    order = target.order
    m, d = W0.shape
    e = int(np.frexp(np.max(np.abs(W0)))[1])
    W_unit = np.ldexp(W0, -e)
    f = _binary_exponent(target)
    J = tangent_jacobian(W_unit, order, max_elements=max_elements)
    alphas = _multisets(d, order)
    y = _sym_coordinates(_scaled_down(target, f), alphas, _multinomial(alphas))
    U, sigma, Vt = np.linalg.svd(J, full_matrices=False)
    rank = int(np.count_nonzero(sigma > _rank_tolerance(sigma, J.shape)))
    U, sigma, Vt = U[:, :rank], sigma[:rank], Vt[:rank]
    y_k = U.T @ y
    y_perp_sq = float(np.sum((y - U @ y_k) ** 2))
    w_k = Vt @ W_unit.ravel()
    dt = te - t0
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        x = np.ldexp(np.outer(dt, sigma * sigma), 2 * (order - 1) * e)  # (k, r)
        decay = np.exp(-x)
        beta_t = decay * y_k  # e^{-x_k} β_k, target part
        grow = -np.expm1(-x)  # 1 - e^{-x_k}
        # target part of Δ's coefficients; for x below 2^-900 (or underflowed) 1 - e^{-x} = x
        tiny = x < 2.0**-900
        coef = np.where(
            tiny,
            np.ldexp(np.outer(dt, sigma * y_k), f + (order - 1) * e),
            np.ldexp(grow * (y_k / sigma), f - (order - 1) * e),
        )
        if include_offset:
            q = sigma * w_k / order
            power = order * e - f  # T(W0)'s coordinates are 2^power·q_k in units of 2^f
            scaled = decay * q
            exact = np.ldexp(scaled, power)  # exact while e^{-x}·q is a normal number
            by_log = np.sign(q) * np.exp(power * math.log(2.0) + np.log(np.abs(q)) - x)
            normal = np.abs(scaled) >= np.finfo(np.float64).tiny
            beta_t = beta_t - np.where(normal, exact, by_log)
            coef = coef - grow * np.ldexp(w_k / order, e)
        residual = (y_perp_sq + np.sum(beta_t * beta_t, axis=1)) / float(y @ y)
        X = coef @ Vt  # (k, n)
    delta = X.reshape(te.size, m, d)
    finite = np.isfinite(residual) & np.all(np.isfinite(X), axis=1)
    if np.all(finite):
        status = "finished"
        message = (
            f"exact solution by the SVD of the dense tangent map at W0/2^{e} (rank {rank}), "
            f"target scaled by 2^{-f}; {params}"
        )
    else:
        status = "failed"
        first = float(te[int(np.argmin(finite))])
        message = (
            f"the linearised flow's residual or displacement exceeds the float64 range at "
            f"t={first:g} (largest |entry| of W0 {float(np.max(np.abs(W0))):.3g}: the residual "
            f"starts near ||T(W0)||²/||T*||²); the finite entries are exact; {params}"
        )
    return LinearizedFlow(
        t=te,
        residual=residual,
        delta=delta,
        W=W0 + delta[-1],
        nfev=0,
        status=status,
        message=message,
        method="exact",
    )


def linearized_flow(
    W0: Any,
    target: Tensor,
    t_span: tuple[float, float],
    *,
    t_eval: Any = None,
    method: str = "RK45",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    include_offset: bool = True,
    max_elements: int = DENSE_MAX_ELEMENTS,
    max_wall: float | None = None,
) -> LinearizedFlow:
    """Gradient flow of the linearised plain model ``T(W0) + J Δ`` (docs/math.md §4).

    ``dΔ/dt = Jᵀ(T* - T(W0) - J Δ) = g - K Δ``, ``Δ(0) = 0``; as ``t → ∞`` its residual decreases to the lazy
    residual of :func:`lazy_residual` (the flow converges to the minimum-norm least-squares solution).

    Parameters
    ----------
    W0 : array_like, shape (m, d)
    target : LowRankTensor or DenseTensor
    t_span : (float, float)
        ``(t0, t1)``, ``t1 > t0``; the flow starts at ``t0``.
    t_eval : array_like, optional
        Increasing observation times in ``t_span`` (default: 51 equally spaced).
    method : str
        A ``scipy.integrate.solve_ivp`` method (``"RK45"``, ``"DOP853"``, ...) on the matrix-free kernel,
        or ``"exact"``: the closed form ``Δ(t) = Σ_k v_k (1 - e^{-σ_k²(t-t0)}) (u_kᵀb)/σ_k`` from the SVD
        of the dense :func:`tangent_jacobian` (small sizes; the reference the integrators are tested
        against). The exact route is scale-free: it works on ``W0`` and ``T*`` divided by powers of
        two and never forms ``b = T* - T(W0)`` (see :func:`_exact_linearized_flow`), so ``W0`` of any
        size gives the flow to rounding; where a returned number itself exceeds the float64 range
        (a residual ``~||T(W0)||²/||T*||²`` above 1e308 at early times) the status is ``"failed"``.
    rtol, atol : float
        Integrator tolerances.
    include_offset : bool
        True: fit ``T* - T(W0)`` (the model starts at ``T(W0)``). False: the centred linearisation of
        docs/math.md §4's α-scaling, ``f_lin(0) = 0`` fitting ``T*``.
    max_elements : int
        Size bound of the dense Jacobian (``D(d,l)·m·d`` entries) for ``method="exact"``.
    max_wall : float, optional
        Wall-time limit in seconds for the integrators (``None``: none). A large ``W0`` makes the
        kernel stiff (eigenvalues ``~||W0||^{2(l-1)}``) and an explicit integrator crawl; past the
        limit the result has status ``"max_wall"`` and ``nan`` beyond the times reached.
    """
    W0 = _check_W(W0, "W0")
    target = _check_target(W0, target)
    try:
        t0, t1 = (check_real(v, "t_span") for v in t_span)
    except (TypeError, ValueError):
        raise ValueError(
            f"t_span must be a pair of finite numbers (t0, t1), got {t_span!r}"
        ) from None
    if not t1 > t0:
        raise ValueError(f"t_span must be non-empty with t1 > t0, got {t_span!r}")
    if t_eval is None:
        te = np.linspace(t0, t1, 51)
    else:
        te = as_float_array(t_eval, "t_eval", ndim=1)
        if np.any(np.diff(te) <= 0) or te[0] < t0 or te[-1] > t1:
            raise ValueError(
                f"t_eval must be strictly increasing within t_span=({t0}, {t1}), got {te!r}"
            )
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {method!r}")
    rtol = check_real(rtol, "rtol", minimum=0.0, strict=True)
    atol = check_real(atol, "atol", minimum=0.0, strict=True)
    max_wall = check_max_wall(max_wall)
    deadline = None if max_wall is None else time.monotonic() + max_wall
    include_offset = check_bool(include_offset, "include_offset")
    order = target.order
    m, d = W0.shape
    n = m * d
    params = f"m={m}, d={d}, order={order}, method={method!r}, rtol={rtol:g}, atol={atol:g}"
    if method == "exact":
        return _exact_linearized_flow(W0, target, te, t0, include_offset, max_elements, params)
    with np.errstate(over="ignore", invalid="ignore"):
        if include_offset:
            b_sq, g = _offset_problem(W0, target, order)
        else:
            # Jᵀ T* = l·T*(w_i^{⊗(l-1)}, ·) row by row (docs/math.md §4)
            g = order * np.atleast_2d(target.contract(W0))
            b_sq = float(target.squared_norm)
        gv = g.ravel()
        # Jᵀ T*, for the residual ||T* - J(W0/l + Δ)||² (T(W0) = J W0/l, docs/math.md §4): once Δ has
        # absorbed the offset no ||T(W0)||²-sized terms cancel, as they did in ||b||² - 2gᵀΔ + ΔᵀKΔ
        h = (order * np.atleast_2d(target.contract(W0))).ravel() if include_offset else gv
        A, B = _kernel_factors(W0, order)
    shift = W0.ravel() / order if include_offset else np.zeros(n)
    t_sq = float(target.squared_norm)
    if not (
        np.isfinite(b_sq)
        and np.all(np.isfinite(gv))
        and np.all(np.isfinite(h))
        and np.all(np.isfinite(A))
    ):
        return LinearizedFlow(
            t=te,
            residual=np.full(te.size, np.nan),
            delta=np.full((te.size, m, d), np.nan),
            W=np.full((m, d), np.nan),
            nfev=0,
            status="failed",
            message=(
                f"the linearised problem overflows at this W0 (largest |entry| "
                f"{float(np.max(np.abs(W0))):.3g}: Jᵀb or the kernel is not finite); {params}"
            ),
            method=method,
        )

    def K(v: np.ndarray) -> np.ndarray:
        return _kernel_apply(W0, A, B, v.reshape(m, d)).ravel()

    nfev = 0
    status, message = "finished", ""
    reached_at = [t0]

    def rhs(t: float, y: np.ndarray) -> np.ndarray:
        nonlocal nfev
        nfev += 1
        if deadline is not None and time.monotonic() > deadline:
            reached_at[0] = t
            raise _WallTimeExceeded
        return gv - K(y)

    try:
        with np.errstate(over="ignore", invalid="ignore"):
            sol = solve_ivp(
                rhs, (t0, t1), np.zeros(n), method=method, t_eval=te, rtol=rtol, atol=atol
            )
    except _WallTimeExceeded:
        return LinearizedFlow(
            t=te,
            residual=np.full(te.size, np.nan),
            delta=np.full((te.size, m, d), np.nan),
            W=np.full((m, d), np.nan),
            nfev=nfev,
            status="max_wall",
            message=f"stopped after max_wall={max_wall:g} s near t={reached_at[0]:g} ({params})",
            method=method,
        )
    except ValueError as exc:
        raise ValueError(
            f"method must be a solve_ivp method or 'exact', got {method!r}: {exc}"
        ) from None
    ys = np.asarray(sol.y, dtype=np.float64)  # a list when solve_ivp failed before t_eval
    got = ys.shape[1] if ys.ndim == 2 and ys.shape[0] == n else 0
    if sol.status < 0 or got != te.size:
        status = "failed"
        reached = float(sol.t[-1]) if np.size(sol.t) else t0
        message = (
            f"solve_ivp failed after t={reached:g} ({got} of {te.size} observation times "
            f"reached; max |Jᵀb| {float(np.max(np.abs(gv))):.3g}): {sol.message} ({params})"
        )
        X = np.full((te.size, n), np.nan)
        if got:
            X[:got] = ys.T
    else:
        X = sol.y.T
        message = f"reached t={t1:g} ({params})"
    residual = _quadratic_rows(t_sq, h, X + shift, W0, A, B) / t_sq
    if status == "finished" and not np.all(np.isfinite(residual)):
        status = "failed"
        message = f"non-finite state in the linearised flow ({params})"
    delta = X.reshape(te.size, m, d)
    return LinearizedFlow(
        t=te,
        residual=residual,
        delta=delta,
        W=W0 + delta[-1],
        nfev=nfev,
        status=status,
        message=message,
        method=method,
    )


# --------------------------------------------------------------------------------------------------
# α-scaling: true flow vs linearised flow


@dataclass(frozen=True)
class AlphaComparison:
    """Result of :func:`alpha_comparison` (docs/math.md §4, lazy scaling).

    Attributes
    ----------
    alphas : ndarray, shape (a,)
        Output scales ``α``.
    output_distance : ndarray, shape (a,)
        ``sup_{t in t} ||α(T(W(t)) - T(W0)) - J0 u(t)||_F`` (absolute; divide by ``target_norm`` for relative).
    param_distance : ndarray, shape (a,)
        ``sup_{t in t} ||W(t) - W0||_F``.
    t : ndarray
        The time grid on which the suprema are taken.
    target_norm : float
        ``||T*||_F``.
    nfev : ndarray of int, shape (a,)
        Gradient evaluations of each true flow (0 for a flow not started).
    status : str
        ``"finished"``, or ``"max_wall"`` when the wall-time limit stopped a true flow: the distances
        of that ``α`` and of the later ones are ``nan`` (a supremum over part of ``[0, t_end]`` is
        not reported as one over all of it).
    message : str
        What happened, with the parameters.
    """

    alphas: np.ndarray
    output_distance: np.ndarray
    param_distance: np.ndarray
    t: np.ndarray
    target_norm: float
    nfev: np.ndarray
    status: str = "finished"
    message: str = ""

    @property
    def success(self) -> bool:
        return self.status == "finished"


def _output_distance_sq(
    alpha: float, W: np.ndarray, W0: np.ndarray, u: np.ndarray, order: int, Ku: np.ndarray
) -> float:
    """``||α(T(W) - T(W0)) - J0 u||²`` in Gram form (docs/math.md §2, §4)."""
    X = np.vstack([W, W0])
    c = np.concatenate([np.ones(W.shape[0]), -np.ones(W0.shape[0])])
    GX = X @ X.T
    f_sq = alpha * alpha * float(c @ int_power(GX, order) @ c)
    P = X @ W0.T  # x_k · w0_i
    cross = alpha * order * float(c @ np.einsum("ki,ki->k", int_power(P, order - 1), X @ u.T))
    lin_sq = float(np.vdot(u, Ku))
    return max(f_sq - 2.0 * cross + lin_sq, 0.0)


def alpha_comparison(
    W0: Any,
    target: LowRankTensor,
    alphas: Any,
    t_end: float,
    *,
    n_times: int = 51,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    max_wall: float | None = None,
) -> AlphaComparison:
    """Distance between the true flow of the centred, scaled objective and the linearised flow.

    docs/math.md §4 [classical, Chizat–Oyallon–Bach]: gradient flow on
    ``F_α(W) = ||α(T(W) - T(W0)) - T*||² / (2α²)`` — which is the plain flow towards the target
    ``T(W0) + T*/α``, run here by :func:`numerics.flow.gradient_flow` — has output ``α(T(W) - T(W0))``
    within ``O(1/α)`` of the linearised output ``J0 u(t)`` (:func:`linearized_flow` with
    ``include_offset=False``, exact solution), and ``sup ||W(t) - W0|| = O(1/α)``.

    Parameters
    ----------
    W0 : array_like, shape (m, d)
    target : LowRankTensor
    alphas : array_like of positive floats
    t_end : float
        Horizon; suprema over ``n_times`` equally spaced times in ``[0, t_end]``.
    n_times : int
        Number of times, ``2 <= n_times <= MAX_OBSERVATIONS``.
    rtol, atol : float
        Tolerances of the true flow (tight: the distances reach ``1e-3``).
    max_wall : float, optional
        Wall-time limit in seconds for the whole comparison, counted from the call (``None``: none);
        past it the result has status ``"max_wall"`` (see :class:`AlphaComparison`).
    """
    wall_start = time.monotonic()
    W0 = _check_W(W0, "W0")
    if not isinstance(target, LowRankTensor):
        raise TypeError(f"target must be a LowRankTensor, got {type(target).__name__}")
    target = _check_target(W0, target)  # type: ignore[assignment]
    al = as_float_array(alphas, "alphas", ndim=1)
    if np.any(al <= 0):
        raise ValueError(f"alphas must be positive, got {al.tolist()}")
    t_end = check_real(t_end, "t_end", minimum=0.0, strict=True)
    n_times = check_int(n_times, "n_times", minimum=2, maximum=MAX_OBSERVATIONS)
    max_wall = check_max_wall(max_wall)
    order = target.order
    m, d = W0.shape
    ts = np.linspace(0.0, t_end, n_times)
    lin = linearized_flow(W0, target, (0.0, t_end), t_eval=ts, method="exact", include_offset=False)
    A, B = _kernel_factors(W0, order)
    Ku = [_kernel_apply(W0, A, B, u) for u in lin.delta]
    out_d, par_d, nfevs = [], [], []
    status = "finished"
    message = (
        f"true flows reached t_end={t_end:g} for {al.size} alphas (m={m}, d={d}, order={order})"
    )
    for alpha in al:
        remaining = None if max_wall is None else max_wall - (time.monotonic() - wall_start)
        if remaining is not None and remaining <= 0:
            status = "max_wall"
            message = (
                f"max_wall={max_wall:g} s spent before the true flow for alpha={alpha:g} started "
                f"(m={m}, d={d}, order={order})"
            )
            break
        shifted = LowRankTensor(
            np.concatenate([np.ones(m), target.coeffs / alpha]),
            np.vstack([W0, target.components]),
            order,
        )
        traj = gradient_flow(
            W0,
            shifted,
            (0.0, t_end),
            t_eval=ts,
            rtol=rtol,
            atol=atol,
            observe={"W": lambda t, W: np.array(W, copy=True)},
            model="plain",
            max_wall=remaining,
        )
        if traj.status == "max_wall":
            status = "max_wall"
            message = (
                f"true flow for alpha={alpha:g} stopped (max_wall={max_wall:g} s): {traj.message}"
            )
            nfevs.append(traj.nfev)
            break
        if not traj.success or traj.observations["W"].shape[0] != ts.size:
            raise RuntimeError(
                f"true flow failed for alpha={alpha:g}: {traj.status}: {traj.message}"
            )
        Ws = traj.observations["W"]
        dist = [
            math.sqrt(_output_distance_sq(float(alpha), Wt, W0, u, order, Kut))
            for Wt, u, Kut in zip(Ws, lin.delta, Ku, strict=True)
        ]
        out_d.append(max(dist))
        par_d.append(float(np.max(np.linalg.norm((Ws - W0).reshape(ts.size, -1), axis=1))))
        nfevs.append(traj.nfev)
    missing = al.size - len(out_d)
    return AlphaComparison(
        alphas=al,
        output_distance=np.array(out_d + [math.nan] * missing),
        param_distance=np.array(par_d + [math.nan] * missing),
        t=ts,
        target_norm=math.sqrt(float(target.squared_norm)),
        nfev=np.array(nfevs + [0] * (al.size - len(nfevs)), dtype=np.int64),
        status=status,
        message=message,
    )
