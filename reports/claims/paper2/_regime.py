"""The papers' regime at d >= 1000: the initial-alignment condition and the m that makes it likely
(docs/math.md §11.7).

The decoupled early flow (docs/math.md §6) predicts the fit time of ``e_k`` from the largest initial
squared correlation ``u0_k`` among the components that go to ``e_k``,
``t_k = 1/(8 a_k u0_k) + ln(a_k/(2δ0²))/(4a_k)`` (l = 4). The *initial-alignment condition* is that these
predicted times are in decreasing order of ``a_k``: then the alignments do not decide the order, the
growth terms do. Its probability over the initialisation ``w_i(0) = δ0·uniform(S^{d-1})`` depends on
``(d, m, δ0, a)`` only and is computed here by drawing initialisations (no flow): only the correlations
with ``e_1..e_r`` matter, so a draw is ``m`` Gaussian ``r``-vectors and the ``χ²_{d-r}`` norms of the
rest (exact in distribution). ``m_ia`` is the smallest ``m`` on a grid at which it reaches a target.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["M_GRID", "alignment_condition_probability", "m_ia", "poly_delta0"]

M_GRID = (5, 10, 20, 25, 50, 75, 100, 150, 200, 300, 400, 600, 800)
"""The m at which the condition's probability is evaluated (the smallest that reaches it is m_ia)."""


def poly_delta0(d: int, degree: float) -> float:
    """``δ0 = d^{-degree}`` (δ0 = 1/poly(d))."""
    return float(d) ** (-float(degree))


@functools.lru_cache(maxsize=256)
def alignment_condition_probability(
    d: int, m: int, delta0: float, a: Sequence[float], draws: int = 4000, seed: int = 0
) -> float:
    """Probability that the leading-order predicted fit times (docs/math.md §6) of a random
    initialisation are in decreasing order of ``a`` (``a`` sorted decreasing; a tuple), estimated
    from ``draws`` initialisations drawn from ``seed`` (standard error <= 0.5/sqrt(draws))."""
    av = np.asarray(a, dtype=float)
    r = av.shape[0]
    if not np.all(np.diff(av) < 0):
        raise ValueError(f"a must be strictly decreasing, got {list(a)}")
    rng = np.random.default_rng([seed, d, m])
    ok = 0
    chunk = max(1, 200_000 // (m * r))
    done = 0
    while done < draws:
        n = min(chunk, draws - done)
        g = rng.standard_normal((n, m, r))
        rest = rng.chisquare(d - r, size=(n, m)) if d > r else np.zeros((n, m))
        corr2 = g**2 / ((g**2).sum(axis=-1) + rest)[..., None]
        winner = np.argmax(av * corr2, axis=-1)
        mine = winner[..., None] == np.arange(r)
        u0 = np.where(mine, corr2, 0.0).max(axis=1)
        u0 = np.where(u0 > 0, u0, 1.0 / d)  # a direction no component wins: the mean 1/d
        t = 1.0 / (8 * av * u0) + np.log(av / (2 * delta0**2)) / (4 * av)
        ok += int(np.sum(np.all(np.diff(t, axis=-1) > 0, axis=-1)))
        done += n
    return ok / draws


def m_ia(d: int, delta0: float, a: Sequence[float], target: float = 0.9) -> int:
    """The smallest ``m`` of :data:`M_GRID` at which the initial-alignment condition holds with
    probability ``>= target``; ``ValueError`` if none does."""
    for m in M_GRID:
        if alignment_condition_probability(d, m, delta0, tuple(a)) >= target:
            return m
    raise ValueError(
        f"no m <= {M_GRID[-1]} makes the initial-alignment condition likely at d={d}, "
        f"δ0={delta0:g} (target {target})"
    )


def gumbel_u0_scale(m: int) -> float:
    """``d·u0`` of the best of ``m`` uniform directions, ``2 ln m - ln(π ln m)`` (docs/math.md §11.7)."""
    return 2 * math.log(m) - math.log(math.pi * math.log(m))
