"""Explicit symbolic tensors, losses and gradients for small sizes; Gram-form identities; codegen.

Everything here is built from *explicit* symbolic tensors: the ``d^l`` entries of ``T(W)`` and of the
target ``T* = Σ_k c_k u_k^{⊗l}`` are sympy polynomials in the symbols of a :class:`SymbolicProblem`,
the loss is ``½ Σ_idx (T(W)_idx - T*_idx)² + (λ/2)||W||_F²`` (docs/math.md §3) and the gradient comes from
``sympy.diff``. Against these stand the Gram-form closed forms of docs/math.md §2–4 (the ones
:mod:`numerics` evaluates); :func:`verify_gram_identity`, :func:`verify_tangent_gram` and
:func:`verify_tangent_kernel_action` prove by exact expansion that the differences are 0.

Parametrisations (docs/math.md §3): ``"plain"`` ``Σ_i w_i^{⊗l}``; ``"coefficient"`` ``Σ_i c_i u_i^{⊗l}``
with ``W = [c | U]`` of shape ``(m, d+1)``; ``"homogeneous"`` ``Σ_i ||w_i||^{2-l} w_i^{⊗l}``
[model choice: the two-homogeneous parametrisation].

Practical sizes (measured CPU time on the 2-core dev machine, sympy 1.14, 2026-11-23): an exact
loss-and-gradient proof costs about ``d^l (m+r)² (1 + m·cols)`` term products — ``(l, d, m, r) =
(4, 2, 2, 1)`` 0.1–0.5 s, ``(5, 3, 2, 2)`` homogeneous 1.5 s, ``(5, 4, 3, 2)`` coefficient 4 s,
``(6, 3, 3, 2)`` homogeneous 5 s; requests whose estimate exceeds :data:`MAX_PROOF_COST` (roughly
half a minute and more) raise ``ValueError``. The lambdified references build in 0.2–1.5 s for
``d^l <= 243`` and refuse ``d^l >`` :data:`MAX_EXPLICIT_ENTRIES`. All builders are cached
(``functools.lru_cache``) per size.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from ._checks import check_choice, check_int, check_order, typed_cache

__all__ = [
    "MAX_EXPLICIT_ENTRIES",
    "MAX_PROOF_COST",
    "MODELS",
    "IdentityCheck",
    "SymbolicProblem",
    "gram_gradient",
    "gram_loss",
    "lambdify_contractions",
    "lambdify_loss_and_grad",
    "loss_taylor_coefficients",
    "problem_symbols",
    "saddle_order_at_zero",
    "symbolic_gradient",
    "symbolic_loss",
    "symbolic_model_tensor",
    "tangent_gram_closed_form",
    "tangent_gram_explicit",
    "tangent_kernel_closed_form",
    "tangent_kernel_reference",
    "verify_gram_identity",
    "verify_tangent_gram",
    "verify_tangent_kernel_action",
]

MODELS = ("plain", "coefficient", "homogeneous")

#: Largest number of explicit tensor entries ``d^l`` any builder accepts.
MAX_EXPLICIT_ENTRIES = 1024
#: Largest estimated cost ``d^l (m+r)² (1 + m·cols)`` of an exact proof (about 4 s of CPU per 4e5; beyond 2e6: minutes and more).
MAX_PROOF_COST = 2_000_000


# --------------------------------------------------------------------------------------------
# symbols
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SymbolicProblem:
    """The symbols of one small problem.

    Attributes
    ----------
    l, d, m, r : int
        Order, dimension, number of components, target rank.
    model : str
        Parametrisation (``"plain"``, ``"coefficient"``, ``"homogeneous"``).
    W : sympy.Matrix, shape (m, d) or (m, d+1) for ``"coefficient"``
        Parameters ``w_i_j`` (coefficient model: column 0 holds ``c_i``, the rest ``u_i``), as
        :mod:`numerics.models` packs them.
    c : sympy.Matrix, shape (r, 1)
        Target coefficients ``tc_k``.
    U : sympy.Matrix, shape (r, d)
        Target components ``tu_k_j``.
    lam : sympy.Symbol
        Regularisation coefficient ``λ`` (symbol ``lam``).
    """

    l: int
    d: int
    m: int
    r: int
    model: str
    W: sp.Matrix
    c: sp.Matrix
    U: sp.Matrix
    lam: sp.Symbol

    @property
    def params(self) -> list[sp.Symbol]:
        """The entries of ``W`` in row-major order (the order of gradients and kernels)."""
        return list(self.W)

    @property
    def components(self) -> sp.Matrix:
        """The component rows ``x_i`` that enter ``x_i^{⊗l}`` (``W``, or ``U`` of ``[c | U]``)."""
        return self.W[:, 1:] if self.model == "coefficient" else self.W


def _check_sizes(l: Any, d: Any, m: Any, r: Any, model: Any) -> tuple[int, int, int, int, str]:
    l = check_order(l, "l")
    d = check_int(d, "d", minimum=1)
    m = check_int(m, "m", minimum=1)
    r = check_int(r, "r", minimum=1)
    model = check_choice(model, "model", MODELS)
    if d**l > MAX_EXPLICIT_ENTRIES:
        raise ValueError(
            f"explicit symbolic tensors with d={d}, l={l} have d**l={d**l} entries, more than "
            f"MAX_EXPLICIT_ENTRIES={MAX_EXPLICIT_ENTRIES}: this would take very long; use smaller d or l"
        )
    if m > 16 or r > 16:
        raise ValueError(f"symbolic problems support m <= 16 and r <= 16, got m={m}, r={r}")
    return l, d, m, r, model


@typed_cache(maxsize=128)
def problem_symbols(l: int, d: int, m: int, model: str = "plain", r: int = 1) -> SymbolicProblem:
    """Symbols of a problem with ``m`` components in ``R^d``, order ``l``, rank-``r`` target.

    Parameter symbols are real: ``w_i_j`` (``i < m``, ``j`` < number of columns), ``tc_k``, ``tu_k_j``, ``lam``.
    """
    l, d, m, r, model = _check_sizes(l, d, m, r, model)
    cols = d + 1 if model == "coefficient" else d
    W = sp.Matrix(m, cols, lambda i, j: sp.Symbol(f"w_{i}_{j}", real=True))
    c = sp.Matrix(r, 1, lambda k, _: sp.Symbol(f"tc_{k}", real=True))
    U = sp.Matrix(r, d, lambda k, j: sp.Symbol(f"tu_{k}_{j}", real=True))
    return SymbolicProblem(l, d, m, r, model, W, c, U, sp.Symbol("lam", real=True))


# --------------------------------------------------------------------------------------------
# explicit tensors
# --------------------------------------------------------------------------------------------
def _indices(d: int, l: int) -> list[tuple[int, ...]]:
    return list(itertools.product(range(d), repeat=l))


def _rank_one_sum(coeffs: list[sp.Expr], rows: sp.Matrix, l: int) -> list[sp.Expr]:
    """Entries (row-major over ``d^l`` indices) of ``Σ_i coeffs_i rows_i^{⊗l}``."""
    d = rows.shape[1]
    out = []
    for idx in _indices(d, l):
        out.append(
            sp.Add(*[coeffs[i] * sp.Mul(*[rows[i, p] for p in idx]) for i in range(rows.shape[0])])
        )
    return out


def _norms(P: SymbolicProblem) -> list[sp.Expr]:
    return [sp.sqrt(sum(P.W[i, j] ** 2 for j in range(P.d))) for i in range(P.m)]


def _model_weights(P: SymbolicProblem) -> list[sp.Expr]:
    """``s_i`` with ``T(W) = Σ_i s_i x_i^{⊗l}``, ``x_i`` = :attr:`SymbolicProblem.components` rows."""
    if P.model == "plain":
        return [sp.Integer(1)] * P.m
    if P.model == "coefficient":
        return [P.W[i, 0] for i in range(P.m)]
    return [n ** (2 - P.l) for n in _norms(P)]  # ||w||^{2-l} w^{⊗l} = ||w||² w̄^{⊗l}


@typed_cache(maxsize=64)
def symbolic_model_tensor(l: int, d: int, m: int, model: str = "plain") -> tuple[sp.Expr, ...]:
    """The ``d^l`` entries (row-major multi-indices) of ``T(W)``, explicit (docs/math.md §3)."""
    P = problem_symbols(l, d, m, model, 1)
    return tuple(_rank_one_sum(_model_weights(P), P.components, P.l))


@typed_cache(maxsize=64)
def _target_tensor(l: int, d: int, r: int) -> tuple[sp.Expr, ...]:
    P = problem_symbols(l, d, 1, "plain", r)
    return tuple(_rank_one_sum(list(P.c), P.U, l))


@typed_cache(maxsize=64)
def symbolic_loss(l: int, d: int, m: int, model: str = "plain", r: int = 1) -> sp.Expr:
    """``f = ½ Σ_idx (T(W)_idx - T*_idx)² + (λ/2)||W||_F²`` from explicit tensors (docs/math.md §3), unexpanded.

    In the symbols of ``problem_symbols(l, d, m, model, r)``. Practical for ``d^l <= 1024``.
    """
    l, d, m, r, model = _check_sizes(l, d, m, r, model)
    P = problem_symbols(l, d, m, model, r)
    TW = symbolic_model_tensor(l, d, m, model)
    Tt = _target_tensor(l, d, r)
    data = sp.Add(*[(a - b) ** 2 for a, b in zip(TW, Tt, strict=True)])
    reg = sp.Add(*[w**2 for w in P.W])
    return sp.Rational(1, 2) * data + P.lam / 2 * reg


@typed_cache(maxsize=64)
def symbolic_gradient(l: int, d: int, m: int, model: str = "plain", r: int = 1) -> sp.Matrix:
    """``∇_W f`` by ``sympy.diff`` of :func:`symbolic_loss`, a Matrix shaped like ``W``."""
    P = problem_symbols(l, d, m, model, r)
    f = symbolic_loss(l, d, m, model, r)
    return sp.Matrix(P.W.shape[0], P.W.shape[1], [sp.diff(f, w) for w in P.W])


# --------------------------------------------------------------------------------------------
# Gram-form closed forms (what numerics evaluates)
# --------------------------------------------------------------------------------------------
def _gram_parts(P: SymbolicProblem) -> tuple[list[sp.Expr], sp.Matrix, list[sp.Expr] | None]:
    """``(s, X, n)`` as in ``numerics.models._split``: homogeneous uses ``s = n²``, ``X = W/n``."""
    if P.model == "homogeneous":
        n = _norms(P)
        X = sp.Matrix(P.m, P.d, lambda i, j: P.W[i, j] / n[i])
        return [ni**2 for ni in n], X, n
    return _model_weights(P), P.components, None


def gram_loss(P: SymbolicProblem) -> sp.Expr:
    """Gram form ``½[Σ_ij s_i s_j G_ij^l - 2Σ_ik s_i c_k C_ik^l + Σ_kk' c_k c_k' H_kk'^l] + (λ/2)||W||²`` (docs/math.md §2)."""
    s, X, _ = _gram_parts(P)
    l = P.l
    G, C, H = X * X.T, X * P.U.T, P.U * P.U.T
    model_sq = sp.Add(*[s[i] * s[j] * G[i, j] ** l for i in range(P.m) for j in range(P.m)])
    cross = sp.Add(*[s[i] * P.c[k] * C[i, k] ** l for i in range(P.m) for k in range(P.r)])
    target_sq = sp.Add(*[P.c[k] * P.c[q] * H[k, q] ** l for k in range(P.r) for q in range(P.r)])
    reg = sp.Add(*[w**2 for w in P.W])
    return sp.Rational(1, 2) * (model_sq - 2 * cross + target_sq) + P.lam / 2 * reg


def gram_gradient(P: SymbolicProblem) -> sp.Matrix:
    """Closed-form gradient of docs/math.md §3 via ``P_i = E(x_i^{⊗(l-1)}, ·)`` and ``e_i = E(x_i^{⊗l})``.

    plain ``l P_i + λw_i``; coefficient ``∂_{c_i} = e_i + λc_i``, ``∇_{u_i} = l c_i P_i + λu_i``;
    homogeneous ``||w_i||(l P_i - (l-2) e_i w̄_i) + λw_i``.
    """
    s, X, n = _gram_parts(P)
    l = P.l
    G, C = X * X.T, X * P.U.T
    rows = []
    for i in range(P.m):
        Pi = sp.zeros(1, P.d)
        for j in range(P.m):
            Pi += s[j] * G[i, j] ** (l - 1) * X[j, :]
        for k in range(P.r):
            Pi -= P.c[k] * C[i, k] ** (l - 1) * P.U[k, :]
        ei = (Pi * X[i, :].T)[0, 0]
        if P.model == "plain":
            row = l * Pi
        elif P.model == "coefficient":
            row = sp.Matrix([[ei]]).row_join(l * s[i] * Pi)
        else:
            assert n is not None
            row = n[i] * (l * Pi - (l - 2) * ei * X[i, :])
        rows.append(row + P.lam * P.W[i, :])
    return sp.Matrix.vstack(*rows)


# --------------------------------------------------------------------------------------------
# exact proofs
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdentityCheck:
    """Outcome of an exact symbolic identity check.

    Attributes
    ----------
    name : str
        Which identity (``"gram-loss"``, ``"gram-gradient"``, ``"tangent-gram"``, ``"tangent-kernel"``).
    sizes : tuple of (str, int|str) pairs
        The sizes it was proved for.
    zero : bool
        Whether the expanded difference is exactly 0.
    residual : str
        ``"0"`` or (a prefix of) the non-zero expanded difference.
    seconds : float
        Wall time of the proof.
    """

    name: str
    sizes: tuple[tuple[str, Any], ...]
    zero: bool
    residual: str
    seconds: float


def _norm_symbols(P: SymbolicProblem) -> tuple[dict[sp.Expr, sp.Expr], list[sp.Symbol]]:
    """``sqrt(Σ_j w_ij²) -> ν_i`` (positive): see :func:`verify_gram_identity`."""
    nus = [sp.Symbol(f"nu_{i}", positive=True) for i in range(P.m)]
    sq = [sum(P.W[i, j] ** 2 for j in range(P.d)) for i in range(P.m)]
    return {sq[i]: nus[i] ** 2 for i in range(P.m)}, nus


def _expand_zero(expr: sp.Expr, P: SymbolicProblem | None = None) -> tuple[bool, str]:
    if P is not None and P.model == "homogeneous":
        subs, _ = _norm_symbols(P)
        expr = expr.subs(subs)
    e = sp.expand(expr)
    return e == 0, "0" if e == 0 else str(e)[:200]


def _proof_cost(l: int, d: int, m: int, r: int, cols: int, gradient: bool) -> int:
    return d**l * (m + r) ** 2 * (1 + (m * cols if gradient else 0))


def verify_gram_identity(
    l: int, d: int, m: int, model: str = "plain", r: int = 1, *, gradient: bool = True
) -> tuple[IdentityCheck, ...]:
    """Prove ``explicit loss - Gram-form loss = 0`` (and the same for the gradients) by expansion.

    The explicit side is :func:`symbolic_loss` / :func:`symbolic_gradient` (``sympy.diff``); the
    closed side :func:`gram_loss` / :func:`gram_gradient` (docs/math.md §2–3). For the homogeneous model
    every ``||w_i|| = sqrt(Σ_j w_ij²)`` is replaced by a positive symbol ``ν_i`` after differentiation:
    both sides are then Laurent polynomials in independent symbols ``(W, ν, c, U, λ)``, and a
    difference that vanishes identically in them vanishes at ``ν_i = ||w_i||`` — a sufficient proof.

    Raises ``ValueError`` for ``model="homogeneous"`` with ``d = 1`` (sympy writes ``||w|| = |w|``,
    outside the ν-substitution) and when the estimated cost exceeds :data:`MAX_PROOF_COST`
    (e.g. ``l=5, d=3, m=3``): such a proof would take many minutes.
    """
    l, d, m, r, model = _check_sizes(l, d, m, r, model)
    if model == "homogeneous" and d == 1:
        # sympy turns sqrt(w²) into Abs(w) (and its derivative into sign(w)), which the ν-substitution
        # does not cover: the expansion would report a spurious non-zero difference
        raise ValueError("verify_gram_identity needs d >= 2 for model='homogeneous', got d=1")
    P = problem_symbols(l, d, m, model, r)
    cost = _proof_cost(l, d, m, r, P.W.shape[1], gradient)
    if cost > MAX_PROOF_COST:
        raise ValueError(
            f"exact proof for l={l}, d={d}, m={m}, r={r}, model={model!r}, gradient={gradient} has "
            f"estimated cost {cost} > MAX_PROOF_COST={MAX_PROOF_COST}: this would take very long"
        )
    sizes = (("l", l), ("d", d), ("m", m), ("r", r), ("model", model))
    out = []
    t0 = time.perf_counter()
    zero, res = _expand_zero(symbolic_loss(l, d, m, model, r) - gram_loss(P), P)
    out.append(IdentityCheck("gram-loss", sizes, zero, res, time.perf_counter() - t0))
    if gradient:
        t0 = time.perf_counter()
        diff = symbolic_gradient(l, d, m, model, r) - gram_gradient(P)
        results = [_expand_zero(e, P) for e in diff]
        bad = [res for z, res in results if not z]
        out.append(
            IdentityCheck(
                "gram-gradient", sizes, not bad, bad[0] if bad else "0", time.perf_counter() - t0
            )
        )
    return tuple(out)


def _vec(name: str, d: int) -> sp.Matrix:
    return sp.Matrix(d, 1, lambda j, _: sp.Symbol(f"{name}_{j}", real=True))


def _sym_explicit(vectors: list[sp.Matrix], d: int) -> list[sp.Expr]:
    """Entries of ``Sym(v_1 ⊗ ... ⊗ v_l) = (1/l!) Σ_σ v_σ(1) ⊗ ... ⊗ v_σ(l)``, all permutations."""
    l = len(vectors)
    perms = list(itertools.permutations(range(l)))
    out = []
    for idx in _indices(d, l):
        total = sp.Add(*[sp.Mul(*[vectors[s][idx[p]] for p, s in enumerate(sig)]) for sig in perms])
        out.append(total / math.factorial(l))
    return out


@typed_cache(maxsize=32)
def tangent_gram_explicit(l: int, d: int) -> sp.Expr:
    """``<Sym(a^{⊗(l-1)}⊗u), Sym(b^{⊗(l-1)}⊗v)>`` by explicit symmetrisation over all ``l!`` permutations.

    Symbols ``a_j, b_j, u_j, v_j`` (``j < d``); expanded. Practical for ``d^l · l! <= ~10^5``.
    """
    l = check_order(l, "l", maximum=6)
    d = check_int(d, "d", minimum=1)
    if d**l * math.factorial(l) > 200_000:
        raise ValueError(
            f"explicit symmetrisation with d={d}, l={l} needs d**l * l! = {d**l * math.factorial(l)} "
            "terms (> 200000): this would take very long"
        )
    a, b, u, v = (_vec(n, d) for n in "abuv")
    A = _sym_explicit([a] * (l - 1) + [u], d)
    B = _sym_explicit([b] * (l - 1) + [v], d)
    return sp.expand(sp.Add(*[x * y for x, y in zip(A, B, strict=True)]))


def tangent_gram_closed_form(l: int, d: int) -> sp.Expr:
    """``(1/l)[(a·b)^{l-1}(u·v) + (l-1)(a·b)^{l-2}(a·v)(b·u)]`` (docs/math.md §4 [derived])."""
    l = check_order(l, "l")
    a, b, u, v = (_vec(n, d) for n in "abuv")
    ab, uv, av, bu = (a.dot(b), u.dot(v), a.dot(v), b.dot(u))
    return sp.Rational(1, l) * (ab ** (l - 1) * uv + (l - 1) * ab ** (l - 2) * av * bu)


def verify_tangent_gram(l: int, d: int) -> IdentityCheck:
    """Prove :func:`tangent_gram_explicit` ``-`` :func:`tangent_gram_closed_form` ``= 0`` by expansion."""
    t0 = time.perf_counter()
    zero, res = _expand_zero(tangent_gram_explicit(l, d) - tangent_gram_closed_form(l, d))
    return IdentityCheck("tangent-gram", (("l", l), ("d", d)), zero, res, time.perf_counter() - t0)


@typed_cache(maxsize=32)
def _tangent_kernel_matrix(l: int, d: int, m: int) -> sp.Matrix:
    """``K = JᵀJ`` of the plain model from explicit tensors: ``K[(i,p),(j,q)] = <∂T/∂w_ip, ∂T/∂w_jq>``."""
    P = problem_symbols(l, d, m, "plain", 1)
    T = symbolic_model_tensor(l, d, m, "plain")
    J = [[sp.diff(e, w) for e in T] for w in P.params]
    n = len(J)
    K = sp.zeros(n, n)
    for a in range(n):
        for b in range(a, n):
            K[a, b] = K[b, a] = sp.Add(*[x * y for x, y in zip(J[a], J[b], strict=True)])
    return K


def tangent_kernel_closed_form(l: int, d: int, m: int) -> tuple[sp.Matrix, sp.Matrix]:
    """``(V, K V)`` with ``(K V) = l·[G^{∘(l-1)} V + ((l-1) G^{∘(l-2)} ∘ (W Vᵀ)) W]`` (docs/math.md §4).

    ``V`` is a matrix of symbols ``v_i_j`` shaped like ``W``.
    """
    P = problem_symbols(l, d, m, "plain", 1)
    W = P.W
    V = sp.Matrix(m, d, lambda i, j: sp.Symbol(f"v_{i}_{j}", real=True))
    G, WV = W * W.T, W * V.T
    A = sp.Matrix(m, m, lambda i, j: G[i, j] ** (l - 1))
    B = sp.Matrix(m, m, lambda i, j: (l - 1) * G[i, j] ** (l - 2) * WV[i, j])
    return V, l * (A * V + B * W)


def verify_tangent_kernel_action(l: int, d: int, m: int) -> IdentityCheck:
    """Prove ``K·vec(V)`` (explicit ``JᵀJ``) equals the closed-form action of docs/math.md §4, by expansion."""
    l, d, m, _, _ = _check_sizes(l, d, m, 1, "plain")
    if d**l * (m * d) ** 2 > 100_000:
        raise ValueError(
            f"tangent kernel proof with l={l}, d={d}, m={m} needs {d**l * (m * d) ** 2} products "
            "(> 100000): this would take very long"
        )
    t0 = time.perf_counter()
    K = _tangent_kernel_matrix(l, d, m)
    V, KV = tangent_kernel_closed_form(l, d, m)
    diff = K * sp.Matrix(list(V)) - sp.Matrix(list(KV))
    bad = [r for z, r in (_expand_zero(e) for e in diff) if not z]
    return IdentityCheck(
        "tangent-kernel",
        (("l", l), ("d", d), ("m", m)),
        not bad,
        bad[0] if bad else "0",
        time.perf_counter() - t0,
    )


# --------------------------------------------------------------------------------------------
# Taylor expansion at W = 0
# --------------------------------------------------------------------------------------------
def loss_taylor_coefficients(
    l: int, d: int = 2, m: int = 1, model: str = "plain", r: int = 1
) -> dict[int, sp.Expr]:
    """Coefficients of ``f(tW) - f(0)`` as a polynomial in ``t`` (``λ = 0``), from the explicit loss.

    For ``"plain"`` this is the Taylor expansion at ``W = 0`` grouped by total degree:
    ``-t^l <T(W), T*> + t^{2l} ||T(W)||²/2`` (docs/math.md §5); ``"coefficient"`` starts at degree ``l+1``;
    for ``"homogeneous"`` (not analytic at 0 for odd ``l``) it is the expansion along rays ``t > 0``,
    which starts at degree 2 (two-homogeneity). Returns a new dict (the sympy work is cached).
    """
    return dict(_taylor_coefficients(l, d, m, model, r))


@typed_cache(maxsize=32)
def _taylor_coefficients(
    l: int, d: int, m: int, model: str, r: int
) -> tuple[tuple[int, sp.Expr], ...]:
    l, d, m, r, model = _check_sizes(l, d, m, r, model)
    P = problem_symbols(l, d, m, model, r)
    t = sp.Symbol("t", positive=True)
    f = symbolic_loss(l, d, m, model, r).subs(P.lam, 0)
    scale: dict[sp.Expr, sp.Expr] = {w: t * w for w in P.W}
    if model == "homogeneous":
        # ||w_i|| -> ν_i, then (W, ν) -> (tW, tν): equals f(tW) for t > 0 at ν_i = ||w_i||
        subs, nus = _norm_symbols(P)
        f = f.subs(subs)
        scale.update({nu: t * nu for nu in nus})
    ft = f.subs(scale, simultaneous=True)
    # f at W = 0, where T(0) = 0
    f0 = sp.Rational(1, 2) * sp.Add(*[e**2 for e in _target_tensor(l, d, r)])
    poly = sp.Poly(sp.expand(ft - f0), t)
    return tuple(
        (int(k[0]), sp.factor_terms(v)) for k, v in zip(poly.monoms(), poly.coeffs(), strict=True)
    )


def saddle_order_at_zero(l: int, d: int = 2, m: int = 1, model: str = "plain", r: int = 1) -> int:
    """Lowest non-constant degree of the loss at ``W = 0`` (docs/math.md §5): ``l`` for the plain model.

    0 is then a critical point of order ``l``: gradient and Hessian vanish there for ``l >= 3``
    (a high-order saddle, paper 1). Computed from :func:`loss_taylor_coefficients` (explicit tensors),
    not assumed. Practical for ``d^l <= 256``.
    """
    coeffs = loss_taylor_coefficients(l, d, m, model, r)
    nonzero = [k for k, v in coeffs.items() if k > 0 and v != 0]
    if not nonzero:  # pragma: no cover - would mean the loss is constant along rays
        raise ArithmeticError(
            f"loss is constant along rays for l={l}, d={d}, m={m}, model={model!r}"
        )
    return min(nonzero)


# --------------------------------------------------------------------------------------------
# code generation
# --------------------------------------------------------------------------------------------
LossAndGrad = Callable[..., tuple[float, np.ndarray]]


@typed_cache(maxsize=128)
def lambdify_loss_and_grad(l: int, d: int, m: int, model: str = "plain", r: int = 1) -> LossAndGrad:
    """A numpy function ``(W, c, U, reg=0.0) -> (loss, grad)`` lambdified from the explicit symbolic loss.

    An independent reference for ``numerics.models.loss_and_grad(W, LowRankTensor(c, U, l), model=...,
    reg=reg)``: the loss is ``½||T(W) - T*||_F² + (reg/2)||W||_F²`` summed over the ``d^l`` explicit
    entries and the gradient is ``sympy.diff`` of it (no Gram identity used). ``W`` has shape
    ``(m, d)`` (``(m, d+1)`` packed as ``[c | U]`` for ``"coefficient"``), ``c`` shape ``(r,)``, ``U``
    shape ``(r, d)``. Homogeneous: ``W`` must have no zero row. Build time about a second for
    ``d^l <= 81``; evaluation is ``O(d^l)`` per call.
    """
    l, d, m, r, model = _check_sizes(l, d, m, r, model)
    P = problem_symbols(l, d, m, model, r)
    f = symbolic_loss(l, d, m, model, r)
    grad = symbolic_gradient(l, d, m, model, r)
    args = [*P.W, *P.c, *P.U, P.lam]
    fn = sp.lambdify(args, [f, list(grad)], modules="numpy", cse=True)
    shape = P.W.shape

    def loss_and_grad(W: Any, c: Any, U: Any, reg: float = 0.0) -> tuple[float, np.ndarray]:
        W = np.asarray(W, dtype=float)
        c = np.asarray(c, dtype=float)
        U = np.asarray(U, dtype=float)
        if W.shape != shape or c.shape != (r,) or U.shape != (r, d):
            raise ValueError(
                f"expected W{shape}, c{(r,)}, U{(r, d)}; got W{W.shape}, c{c.shape}, U{U.shape}"
            )
        value, g = fn(*W.ravel(), *c, *U.ravel(), float(reg))
        return float(value), np.asarray(g, dtype=float).reshape(shape)

    loss_and_grad.__doc__ = (
        f"Lambdified loss and gradient: l={l}, d={d}, m={m}, r={r}, model={model!r}."
    )
    return loss_and_grad


@typed_cache(maxsize=64)
def lambdify_contractions(l: int, d: int, r: int = 1) -> Callable[..., tuple[float, np.ndarray]]:
    """``(c, U, x) -> (T*(x^{⊗l}), T*(x^{⊗(l-1)}, ·))`` from the explicit target tensor (docs/math.md §2).

    Contracts the ``d^l`` explicit entries with ``x`` (no Gram identity): a reference for
    ``numerics.tensors.LowRankTensor.evaluate`` / ``.contract``.
    """
    l, d, _, r, _ = _check_sizes(l, d, 1, r, "plain")
    P = problem_symbols(l, d, 1, "plain", r)
    T = _target_tensor(l, d, r)
    x = _vec("x", d)
    idx = _indices(d, l)
    value = sp.Add(*[e * sp.Mul(*[x[p] for p in i]) for e, i in zip(T, idx, strict=True)])
    vector = [
        sp.Add(
            *[
                e * sp.Mul(*[x[p] for p in i[:-1]])
                for e, i in zip(T, idx, strict=True)
                if i[-1] == j
            ]
        )
        for j in range(d)
    ]
    fn = sp.lambdify([*P.c, *P.U, *x], [value, vector], modules="numpy", cse=True)

    def contractions(c: Any, U: Any, xv: Any) -> tuple[float, np.ndarray]:
        c = np.asarray(c, dtype=float)
        U = np.asarray(U, dtype=float)
        xv = np.asarray(xv, dtype=float)
        if c.shape != (r,) or U.shape != (r, d) or xv.shape != (d,):
            raise ValueError(
                f"expected c{(r,)}, U{(r, d)}, x{(d,)}; got {c.shape}, {U.shape}, {xv.shape}"
            )
        v, vec = fn(*c, *U.ravel(), *xv)
        return float(v), np.asarray(vec, dtype=float)

    return contractions


@typed_cache(maxsize=64)
def tangent_kernel_reference(l: int, d: int, m: int) -> Callable[[Any], np.ndarray]:
    """``W -> K`` (shape ``(m·d, m·d)``): the plain model's tangent kernel ``K = JᵀJ``, lambdified.

    ``J`` is the derivative of the explicit ``T(W) = Σ_i w_i^{⊗l}`` (``sympy.diff`` of the ``d^l``
    entries), so ``K[(i,p),(j,q)] = <∂T/∂w_ip, ∂T/∂w_jq>`` with row-major index ``i·d + p``. The action
    on ``V`` (shape ``(m, d)``) is ``(K @ V.ravel()).reshape(m, d)``, which docs/math.md §4 writes as
    ``l·[G^{∘(l-1)} V + ((l-1) G^{∘(l-2)} ∘ (W Vᵀ)) W]``; the tangent-space dimension at ``W`` is
    ``rank K``. Practical for ``d^l (m d)² <= ~10^5``.
    """
    l, d, m, _, _ = _check_sizes(l, d, m, 1, "plain")
    if d**l * (m * d) ** 2 > 400_000:
        raise ValueError(
            f"tangent kernel reference with l={l}, d={d}, m={m} needs {d**l * (m * d) ** 2} products "
            "(> 400000): this would take very long"
        )
    P = problem_symbols(l, d, m, "plain", 1)
    K = _tangent_kernel_matrix(l, d, m)
    fn = sp.lambdify(P.params, K, modules="numpy", cse=True)

    def kernel(W: Any) -> np.ndarray:
        W = np.asarray(W, dtype=float)
        if W.shape != (m, d):
            raise ValueError(f"W must have shape {(m, d)}, got {W.shape}")
        return np.asarray(fn(*W.ravel()), dtype=float)

    return kernel
