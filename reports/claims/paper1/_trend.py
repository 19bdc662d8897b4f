"""A rate's trend across an ordered variable: the Cochran–Armitage test (docs/math.md §10.8).

:func:`trend_statistic` gives the test's ``z`` for success counts at scores ``x`` (e.g. ``log d``),
:func:`trend_check` turns a one-sided test into a three-valued part of a verdict (as McNemar's contrast,
docs/math.md §7.4), and :func:`trend_power` is its planned power at calibration rates (exact
enumeration is too large; a seeded Monte Carlo with a stated standard error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from ...statistics import Check

__all__ = ["trend_check", "trend_power", "trend_statistic"]


def trend_statistic(
    successes: Sequence[int], trials: Sequence[int], scores: Sequence[float]
) -> float:
    """Cochran–Armitage ``z`` for a linear trend of the success rate in ``scores`` **[classical]**.

    ``T = Σ x_i (k_i − n_i p̄)``, ``Var T = p̄(1 − p̄)(Σ n_i x_i² − (Σ n_i x_i)²/N)`` under the null of one
    common rate ``p̄ = K/N``; ``z = T/√Var T`` (0 when every run, or none, succeeded: no trend can be
    seen). Negative ``z``: the rate falls as the score grows.
    """
    k = np.asarray(successes, float)
    n = np.asarray(trials, float)
    x = np.asarray(scores, float)
    if not (k.shape == n.shape == x.shape) or k.ndim != 1 or k.size < 2:
        raise ValueError("successes, trials and scores must be 1-d of equal length >= 2")
    if np.any(k < 0) or np.any(k > n) or np.any(n < 1):
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {k} of {n}")
    N, K = float(n.sum()), float(k.sum())
    p = K / N
    var = p * (1 - p) * (float(np.sum(n * x * x)) - float(np.sum(n * x)) ** 2 / N)
    if var <= 0:
        return 0.0
    return float(np.sum(x * (k - n * p)) / math.sqrt(var))


def trend_check(name: str, z: float, direction: str, level: float) -> Check:
    """One-sided trend test as a verdict part: ``direction="decreasing"`` holds when
    ``Φ(z) <= level``, fails when ``z >= 0`` (no decrease at all), inconclusive otherwise;
    ``"increasing"`` mirrors it. Margin as McNemar's (docs/math.md §7.5): ``(log10 level −
    log10 p)/|log10 level|`` when the trend points the predicted way, ``−1 − |z|/10`` when not."""
    if direction not in ("decreasing", "increasing"):
        raise ValueError(f"direction must be 'decreasing' or 'increasing', got {direction!r}")
    if not 0 < level < 0.5:
        raise ValueError(f"level must lie in (0, 0.5), got {level!r}")
    signed = -z if direction == "decreasing" else z
    p = float(stats.norm.sf(signed))
    detail = f"Cochran–Armitage z = {z:+.2f}, one-sided p = {p:.3g} ({direction}, level {level:g})"
    if signed <= 0:
        return Check(name, "fails", -1.0 - abs(z) / 10, detail)
    lt = math.log10(level)
    margin = (lt - math.log10(max(p, 1e-300))) / abs(lt)
    return Check(name, "holds" if p <= level else "inconclusive", margin, detail)


def trend_power(
    rates: Sequence[float],
    trials: Sequence[int],
    scores: Sequence[float],
    direction: str,
    level: float,
    *,
    draws: int = 20000,
    seed: int = 0,
) -> dict[str, float]:
    """Probabilities of the three verdicts of :func:`trend_check` when the true rates are ``rates``.

    Seeded Monte Carlo over ``draws`` binomial samples (standard error ``<= 0.5/√draws``, 0.0035 at
    the default) — the planned power of docs/math.md §7.8 for a trend test.
    """
    gen = np.random.default_rng(seed)
    n = np.asarray(trials, float)
    x = np.asarray(scores, float)
    k = gen.binomial(np.asarray(trials), np.asarray(rates, float), size=(draws, len(trials)))
    N = n.sum()
    p = k.sum(axis=1) / N
    var = p * (1 - p) * (float(np.sum(n * x * x)) - float(np.sum(n * x)) ** 2 / N)
    t = (k * x).sum(axis=1) - p * float(np.sum(n * x))
    z = np.where(var > 0, t / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
    signed = -z if direction == "decreasing" else z
    pv = stats.norm.sf(signed)
    holds = float(np.mean((signed > 0) & (pv <= level)))
    fails = float(np.mean(signed <= 0))
    return {"holds": holds, "fails": fails, "inconclusive": 1.0 - holds - fails}
