"""The m*(d, r) search of deflation.m-star-law: the smallest m at which Algorithm 1 (or the same epochs
without re-initialisation) recovers every component at the rate fixed in advance (docs/math.md §11.6).

One run is one search for one cell (arm, d, r): doubling ``m = r, 2r, 4r, ...`` until the rate is
reached, then bisection on the integers between the last m that missed it and the first that reached it.
At each m the same ``n`` targets and initial streams are tried (common random numbers across m), with
curtailment: the trials stop as soon as the rate is decided (``k`` successes, or more than ``n - k``
failures), which gives the same decision as running all ``n``. A cell whose doubling passes the ceiling
without reaching the rate is *censored*: m* >= ceiling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.algorithms import modified_gradient_flow
from numerics.tensors import orthogonal_tensor, random_unit_vectors

__all__ = [
    "MStarCase",
    "coefficients",
    "epoch_budget",
    "largest_exponent",
    "m_star_experiment",
    "search_grid_ceiling",
]

DELTA0, DELTA1, EPS, REG_DEFAULT = 1e-3, 0.1, 1e-2, 1e-3
A_MAX, A_MIN = 1.0, 0.2


def coefficients(r: int) -> tuple[float, ...]:
    """``a_k`` evenly spaced from 1 down to 0.2 (``r = 5``: the deflation claims' ``(1, .8, .6, .4, .2)``)."""
    if r == 1:
        return (A_MAX,)
    return tuple(round(A_MAX - (A_MAX - A_MIN) * k / (r - 1), 12) for k in range(r))


def epoch_budget(d: int, delta1: float = DELTA1) -> int:
    """Epochs of Algorithm 1 (t0 = 1, γ = 2) for the weakest direction to be found (docs/math.md §11.4):
    the first epoch longer than ``d/(8 a_min) + ln(δ1²/δ0²)/(4 a_min)`` (alignment from ``u0 = 1/d``
    plus growth from δ0 to δ1), plus two more for the saturation to ε."""
    need = d / (8 * A_MIN) + math.log(delta1**2 / DELTA0**2) / (4 * A_MIN)
    return math.ceil(math.log2(need)) + 3


@dataclass(frozen=True)
class MStarCase:
    """One m* search for the cell ``(arm, d, r)``.

    ``arm``: "modified" (Algorithm 1) or "no_reinit" (the same epochs without re-initialisation);
    ``reg``: the ℓ2 coefficient λ (the control sets it above ``2 a_min``, where the weakest direction is
    never learned, docs/math.md §6); ``trials``/``needed``: the rate fixed in advance
    (``needed`` of ``trials`` runs recover); ``ceiling``: the largest m tried, as a multiple of r;
    ``seed``: the search's block (target and initialisation of trial i at size m come from
    ``[seed, i]`` and ``[seed, i, m]``).
    """

    arm: str
    d: int
    r: int
    seed: int
    trials: int = 10
    needed: int = 8
    ceiling: int = 64
    reg: float = REG_DEFAULT


def search_grid_ceiling(cfg: MStarCase) -> int:
    return cfg.ceiling * cfg.r


def _trial(cfg: MStarCase, m: int, i: int) -> bool:
    a = coefficients(cfg.r)
    target = orthogonal_tensor(
        a, cfg.d, 4, basis="random", rng=np.random.default_rng([cfg.seed, i])
    )
    W0 = DELTA0 * random_unit_vectors(m, cfg.d, np.random.default_rng([cfg.seed, i, m]))
    res = modified_gradient_flow(
        target,
        m,
        delta0=DELTA0,
        delta1=DELTA1,
        eps=EPS,
        reg=cfg.reg,
        max_epochs=epoch_budget(cfg.d),
        reinit=cfg.arm != "no_reinit",
        W0=W0,
        rng=np.random.default_rng([cfg.seed, i, m, 1]),
        model="homogeneous",
        n_obs=2,
        method="auto",
        stop_when_fitted=True,
    )
    return bool(res.success)


def _rate_reached(cfg: MStarCase, m: int, log: list[dict[str, Any]]) -> bool:
    """Trials at ``m`` until the rate is decided (curtailed); appends ``{m, successes, runs}``."""
    ok = fail = 0
    for i in range(cfg.trials):
        if _trial(cfg, m, i):
            ok += 1
        else:
            fail += 1
        if ok >= cfg.needed or fail > cfg.trials - cfg.needed:
            break
    log.append({"m": m, "successes": ok, "runs": ok + fail})
    return ok >= cfg.needed


def m_star_experiment(cfg: MStarCase) -> dict[str, Any]:
    """Doubling from ``m = r`` up to the ceiling, then integer bisection (module docstring)."""
    if cfg.arm not in ("modified", "no_reinit"):
        raise ValueError(f"arm must be 'modified' or 'no_reinit', got {cfg.arm!r}")
    log: list[dict[str, Any]] = []
    ceiling = search_grid_ceiling(cfg)
    m_fail, m_pass = cfg.r - 1, None
    m = cfg.r
    while m <= ceiling:
        if _rate_reached(cfg, m, log):
            m_pass = m
            break
        m_fail = m
        m *= 2
    if m_pass is None:
        return {
            "m_star": None,
            "censored": True,
            "ceiling": ceiling,
            "log": log,
            "runs": sum(e["runs"] for e in log),
        }
    while m_pass - m_fail > 1:
        mid = (m_fail + m_pass) // 2
        if _rate_reached(cfg, mid, log):
            m_pass = mid
        else:
            m_fail = mid
    return {
        "m_star": m_pass,
        "censored": False,
        "ceiling": ceiling,
        "log": log,
        "runs": sum(e["runs"] for e in log),
    }


def largest_exponent(xs: Sequence[float], r_of: Sequence[int], ceiling: int) -> float:
    """The largest least-squares exponent of m* against ``xs`` that the design can produce.

    Every cell's m* lies between its floor ``r`` (fewer components cannot represent r directions)
    and its ceiling ``ceiling·r``; the least-squares slope of ``ln m*`` on ``ln x`` is linear in the
    ``ln m*``, so its largest value puts the cells left of the mean ``ln x`` at their floor and the
    others at their ceiling.
    """
    lx = np.log(np.asarray(xs, dtype=float))
    lo = np.log(np.asarray(r_of, dtype=float))
    hi = np.log(float(ceiling) * np.asarray(r_of, dtype=float))
    centred = lx - lx.mean()
    y = np.where(centred > 0, hi, lo)
    return float(centred @ y / (centred @ centred))
