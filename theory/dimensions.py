"""Dimension counts for the lazy (NTK) regime: docs/math.md §4.

* ``D(d, l) = C(d+l-1, l)``: the dimension of ``Sym^l(R^d)`` [classical].
* Terracini + Alexander–Hirschowitz [classical]: at a generic ``W0`` the tangent space
  ``span{Sym(w_i^{⊗(l-1)} ⊗ v)}`` of the plain model has dimension ``min(m·d, D(d, l))`` for ``l >= 3``,
  one less in the four defective cases ``(l, d, m) = (4, 3, 5), (4, 4, 9), (4, 5, 14), (3, 5, 7)``;
  for ``l = 2`` it is ``m·d - m(m-1)/2`` for ``m <= d`` and ``D(d, 2)`` for ``m >= d``.
* The lazy threshold ``m*(d, l)``: the smallest ``m`` whose generic tangent space is all of
  ``Sym^l(R^d)``; below it a generic target is not reachable by the linearised model from small init.

These are exact integer formulas (no sympy work); every size is practical.
"""

from __future__ import annotations

import math

from ._checks import check_int, check_order

__all__ = ["AH_DEFECTIVE", "generic_tangent_dim", "lazy_threshold", "sym_dim"]

#: Alexander–Hirschowitz defective cases ``(l, d, m)`` with ``l >= 3`` (d = number of variables = n+1).
AH_DEFECTIVE: frozenset[tuple[int, int, int]] = frozenset(
    {(4, 3, 5), (4, 4, 9), (4, 5, 14), (3, 5, 7)}
)


def sym_dim(d: int, l: int) -> int:
    """``D(d, l) = C(d+l-1, l)``, the dimension of the symmetric tensors ``Sym^l(R^d)`` (docs/math.md, notation).

    Parameters
    ----------
    d : int
        Dimension, ``d >= 1``.
    l : int
        Order, ``l >= 1`` (``l = 1`` gives ``d``).

    Examples
    --------
    >>> sym_dim(3, 3)
    10
    """
    d = check_int(d, "d", minimum=1)
    l = check_order(l, "l", minimum=1)
    return math.comb(d + l - 1, l)


def generic_tangent_dim(d: int, l: int, m: int) -> int:
    """Dimension of the plain model's tangent space at a generic ``W`` with ``m`` components (docs/math.md §4).

    ``min(m·d, D(d, l))`` for ``l >= 3`` (Terracini's lemma with the Alexander–Hirschowitz theorem),
    minus one in the defective cases :data:`AH_DEFECTIVE`; for ``l = 2`` the tangent space
    ``{Σ_i (w_i v_iᵀ + v_i w_iᵀ)}`` has dimension ``m·d - m(m-1)/2`` for ``m <= d`` and ``D(d, 2)``
    for ``m >= d`` [classical].

    Parameters
    ----------
    d, l, m : int
        Dimension ``d >= 1``, order ``l >= 2``, number of components ``m >= 1``.
    """
    d = check_int(d, "d", minimum=1)
    l = check_order(l, "l")
    m = check_int(m, "m", minimum=1)
    full = sym_dim(d, l)
    if l == 2:
        return m * d - m * (m - 1) // 2 if m <= d else full
    dim = min(m * d, full)
    if (l, d, m) in AH_DEFECTIVE:
        dim -= 1
    return dim


def lazy_threshold(d: int, l: int) -> int:
    """``m*(d, l)``: the smallest ``m`` with ``generic_tangent_dim(d, l, m) == sym_dim(d, l)`` (docs/math.md §4).

    Below it the linearised (lazy) model at a generic small initialisation cannot reach a generic
    target. For ``l >= 3`` it is ``ceil(D(d, l)/d)`` (plus one in the defective cases
    ``(l, d) = (4, 3), (4, 4), (4, 5), (3, 5)``); for ``l = 2`` it is ``d``. It grows like
    ``d^{l-1}/l!`` and does not depend on the target's rank.
    """
    d = check_int(d, "d", minimum=1)
    l = check_order(l, "l")
    full = sym_dim(d, l)
    m = max(1, -(-full // d) - 1)  # start just below ceil(D/d): the tangent dimension is <= m·d
    while generic_tangent_dim(d, l, m) < full:
        m += 1
    return m
