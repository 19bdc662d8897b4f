"""Rounding-error bounds that the tests derive their floating-point tolerances from (float64).

A tolerance taken from these bounds holds on every machine: the bounds do not depend on the order in
which a BLAS kernel sums (OpenBLAS picks Prescott, Haswell or SkylakeX kernels by CPU, each with its
own blocking and FMA use), only on how many roundings a result goes through.

References: N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed. (SIAM 2002):
``γ_n`` (Lemma 3.1), sums and inner products in any order, with or without FMA (§3.1, eq. (3.5)),
first-order perturbation of a quadratic form; backward stability of the SVD (LAPACK Users' Guide,
§4.9: backward error ``p(n)·u·||A||`` with ``p`` a modest polynomial, taken as ``n²`` here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

UNIT_ROUNDOFF = 2.0**-53
"""``u``: every float64 operation returns ``x(1 + δ)`` with ``|δ| <= u`` (round to nearest)."""


def gamma(n: int) -> float:
    """``γ_n = n·u / (1 - n·u)``: ``|Π(1 + δ_i)^{±1} - 1| <= γ_n`` for ``n`` roundings (Higham, Lemma 3.1).

    An inner product of length ``n`` computed in any order satisfies
    ``|fl(xᵀy) - xᵀy| <= γ_n·|x|ᵀ|y|`` (Higham (3.5)).
    """
    if n * UNIT_ROUNDOFF >= 1:
        raise ValueError(f"n·u must be < 1, got n={n}")
    return n * UNIT_ROUNDOFF / (1 - n * UNIT_ROUNDOFF)


def inverse_quadratic_form_rel_error(kappa: float, n: int, entry_roundings: int) -> float:
    """Relative error bound of ``q = gᵀK⁻¹g`` (``K`` symmetric positive definite, ``n × n``) computed
    from entries of ``K`` and ``g`` that each carry ``entry_roundings`` roundings, by an SVD.

    To first order, ``K → K + E`` changes ``q`` by ``-xᵀEx`` with ``x = K⁻¹g``, and
    ``||x||² <= q/λ_min``, so ``|δq| <= ||E||·q/λ_min = κ·(||E||/||K||)·q``; entrywise errors give
    ``||E|| <= √n·γ_k·||K||``, the SVD's backward error ``<= γ_{n²}·||K||``. ``g → g + e`` changes ``q``
    by ``2xᵀe``, and ``|xᵀe| <= ||x||·γ_k·||g||`` with ``||g||² <= λ_max·q``: ``<= 2√κ·γ_k·q``.
    """
    return kappa * (math.sqrt(n) * gamma(entry_roundings) + gamma(n * n)) + 2 * math.sqrt(
        kappa
    ) * gamma(entry_roundings)


def leading_subspace_sin_bound(
    sigma: Sequence[float], shape: tuple[int, int], rank: int, entry_roundings: int
) -> float:
    """Bound on ``sin θ`` between the leading-``rank`` left singular subspace of ``J`` and the one an SVD
    computes from ``fl(J)`` (``inf`` when the singular values give no gap).

    Wedin's theorem: ``sin θ <= ||E|| / gap`` with ``gap = σ_rank(J) - σ_{rank+1}(fl(J) + E_svd)``. The
    perturbation ``E`` is the entrywise error of forming ``J`` (``||E|| <= √cols·γ_k·||J||`` for ``k``
    roundings per entry) plus the SVD's backward error (``<= γ_{rows·cols}·||J||``). ``sigma`` are the
    computed singular values, each within ``||E||`` of the exact ones (Weyl), so the exact gap is at least
    ``σ̂_rank - σ̂_{rank+1} - 2||E||``.
    """
    rows, cols = shape
    s = np.asarray(sigma, dtype=float)
    if rank == 0:
        return 0.0
    err = (math.sqrt(cols) * gamma(entry_roundings) + gamma(rows * cols)) * float(s[0])
    below = float(s[rank]) if rank < s.size else 0.0
    gap = float(s[rank - 1]) - below - 2 * err
    return err / gap if gap > 0 else math.inf


def projection_residual_error(sin_theta: float, rows: int, b_roundings: int) -> float:
    """Bound on ``|computed - exact|`` of ``||(I - P)b||²/||b||²`` for an orthogonal projector ``P``
    computed with subspace error ``sin θ`` (:func:`leading_subspace_sin_bound`), ``b`` of length ``rows``.

    ``||(I - P̂)b||² - ||(I - P)b||² = bᵀ(P - P̂)b`` and ``||P - P̂|| = sin θ`` for projectors of equal rank;
    forming ``b`` (``b_roundings`` per entry), ``Uᵀb``, ``U(Uᵀb)`` and ``r·r`` (``rows`` roundings each)
    adds ``γ_{b_roundings + 3·rows}`` relative to ``||b||² = 1`` (doubled: the error enters ``r`` linearly).
    """
    return sin_theta + 2 * gamma(b_roundings + 3 * rows)
