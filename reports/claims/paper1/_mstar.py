"""m*: the smallest number of components that reaches a fixed success rate (docs/math.md §10.7).

Shared by the claims that measure scaling laws of m* (``beyond.m-vs-d``, ``beyond.m-vs-r``,
``beyond.epsilon-dependence``) and by the crossed controls of the separation (``lazy.threshold-scaling``
applied to the variant's m*(d), ``beyond.m-vs-d`` applied to the lazy threshold):

* :func:`search_m_star` — doubling from a start, then bisection, up to a stated ceiling; a search that
  does not pass at the ceiling is *censored* (m* >= ceiling) and is never dropped;
* :class:`MStarSearch` / :func:`m_star_experiment` — one seed block of the variant (``arm="reinit"``,
  the reconstruction with re-initialisation) or of its ablation (``arm="none"``, one epoch of the same
  number of steps), m* at a success level over the block's seeds;
* :func:`exponent_fit` — the least-squares exponent of m* against a variable (log-log) with its
  t-interval, censored cells at their ceiling; :func:`largest_exponent` — the largest exponent a design
  (grid, start, ceiling) can produce, which a registry test compares with the bound it is judged against;
* :func:`draw_series` — the figure of a law: each series' m* per cell with its censored cells, and the
  judged exponent interval of each series.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...registered import registration
from ...registry import RunResult
from ...statistics import Check, Evidence, linear_fit
from .._shared import JudgedInterval, failed_runs, mark_censored
from ._lazythreshold import ThresholdRun, lazy_threshold_experiment
from ._variant import BudgetRun, budget_experiment

ARMS = ("reinit", "none")
ARM_LABEL = {
    "reinit": "variant (re-initialisation 'small')",
    "none": "ablation (no re-initialisation)",
}
EPOCHS, EPOCH_STEPS = 20, 300  # the variant's defaults; the ablation runs one epoch of 6000 steps


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`search_m_star`.

    ``m_star``: the smallest probed ``m`` that passes with the ``m`` below it failing (None when
    censored); ``censored``: no ``m <= ceiling`` passed; ``probes``: ``(m, passed)`` in probe order.
    """

    m_star: int | None
    censored: bool
    probes: tuple[tuple[int, bool], ...]

    @property
    def value(self) -> int:
        """m* for a fit: the ceiling-bounded value (the ceiling itself when censored)."""
        if self.m_star is not None:
            return self.m_star
        return max(m for m, _ in self.probes)


def search_m_star(passes: Callable[[int], bool], start: int, ceiling: int) -> SearchResult:
    """Smallest ``m`` in ``[start, ceiling]`` with ``passes(m)``, by doubling then bisection.

    Probes ``start, 2·start, 4·start, …`` while they are below ``ceiling``, then ``ceiling`` itself;
    the first passing probe ``hi`` and the last failing one ``lo`` are then bisected to the smallest
    passing ``m`` (``passes`` is assumed non-decreasing in ``m``: docs/math.md §10.7). When no probe
    passes, the search is *censored*: ``m* >= ceiling``.

    Parameters
    ----------
    passes : callable(int) -> bool
        Whether ``m`` components reach the success level.
    start, ceiling : int
        ``1 <= start <= ceiling``.
    """
    for value, name in ((start, "start"), (ceiling, "ceiling")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if start > ceiling:
        raise ValueError(f"start must be <= ceiling, got start={start}, ceiling={ceiling}")
    probes: list[tuple[int, bool]] = []

    def probe(m: int) -> bool:
        ok = bool(passes(m))
        probes.append((m, ok))
        return ok

    lo, hi = start - 1, None  # invariant: lo fails (or lo = start - 1), hi passes
    m = start
    while hi is None:
        if probe(m):
            hi = m
        elif m >= ceiling:
            return SearchResult(None, True, tuple(probes))
        else:
            lo, m = m, min(2 * m, ceiling)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if probe(mid):
            hi = mid
        else:
            lo = mid
    return SearchResult(hi, False, tuple(probes))


@dataclass(frozen=True)
class MStarSearch:
    """m* of one seed block: the smallest ``m`` whose success rate over the block reaches ``level``.

    The block is the seeds ``seed, seed + 1, …, seed + block_size - 1``; each seed fixes the target
    ``random_low_rank(r, d, order, rng=seed)`` and, with ``m``, the algorithm's randomness (as
    :class:`~reports.claims.paper1._variant.BudgetRun`). ``arm="reinit"``: the variant with
    re-initialisation ('small', 20 epochs × 300 steps); ``"none"``: the ablation, one epoch of 6000
    steps. ``m`` is searched from ``start`` (0: ``r``) up to ``ceiling`` (:func:`search_m_star`).
    """

    arm: str
    order: int
    d: int
    r: int
    seed: int
    block_size: int
    level: float
    ceiling: int
    start: int = 0


def budget_run(cfg: MStarSearch, m: int, seed: int) -> BudgetRun:
    """The single run of arm ``cfg.arm`` with ``m`` components on the target of ``seed``."""
    if cfg.arm not in ARMS:
        raise ValueError(f"arm must be one of {ARMS}, got {cfg.arm!r}")
    return BudgetRun(
        order=cfg.order,
        d=cfg.d,
        r=cfg.r,
        m=m,
        seed=seed,
        reinit="small" if cfg.arm == "reinit" else "none",
        epochs=EPOCHS,
        epoch_steps=EPOCH_STEPS,
    )


def passes_needed(level: float, block_size: int) -> int:
    """Successes out of ``block_size`` that reach the success rate ``level``: ``ceil(level·n)``."""
    return math.ceil(level * block_size - 1e-9)


def m_star_experiment(cfg: MStarSearch) -> dict[str, Any]:
    """m* of the block (None when censored), every probe's successes, and the runs made."""
    if not 0.0 < cfg.level <= 1.0:
        raise ValueError(f"level must lie in (0, 1], got {cfg.level!r}")
    if cfg.block_size < 1:
        raise ValueError(f"block_size must be positive, got {cfg.block_size!r}")
    need = passes_needed(cfg.level, cfg.block_size)
    counts: dict[int, int] = {}
    steps = 0

    def passes(m: int) -> bool:
        nonlocal steps
        k = 0
        for i in range(cfg.block_size):
            out = budget_experiment(budget_run(cfg, m, cfg.seed + i))
            k += bool(out["success"])
            steps += int(out["component_steps"])
            # stop once the outcome is decided either way (the count is then a bound)
            if k >= need or k + (cfg.block_size - 1 - i) < need:
                break
        counts[m] = k
        return k >= need

    start = cfg.start or cfg.r
    res = search_m_star(passes, start, cfg.ceiling)
    return {
        "m_star": res.m_star,
        "censored": res.censored,
        "value": res.value,
        "probes": [[m, ok, counts[m]] for m, ok in res.probes],
        "component_steps": steps,
    }


# ----------------------------------------------------------------------------------------------- laws
@dataclass(frozen=True)
class MStarPoint:
    """One m* measurement of a series: at ``x`` (d, r or 1/ε), ``value`` (the ceiling if censored)."""

    series: str
    x: float
    value: int
    censored: bool


def exponent_fit(points: Sequence[MStarPoint]) -> dict[str, Any]:
    """The exponent ``p`` of ``m* ∝ x^p``: least-squares slope of ``log m*`` on ``log x`` with its 95%
    t-interval (docs/math.md §7.3's slope rule), censored cells at their ceiling; and the law in
    ``log x``: the slope ``b`` of ``m* = a + b·log x`` with its interval.

    Constant ``m*`` gives slope 0 with an interval of zero width. Needs at least 3 points at 2 or more
    distinct ``x``; otherwise ``{"estimable": False}``.
    """
    xs = [math.log(p.x) for p in points]
    if len(points) < 3 or len(set(xs)) < 2:
        return {"estimable": False, "n": len(points)}
    logs = [math.log(p.value) for p in points]
    vals = [float(p.value) for p in points]
    out: dict[str, Any] = {"estimable": True, "n": len(points)}
    for key, ys in (("exponent", logs), ("log_slope", vals)):
        if float(np.ptp(ys)) == 0.0:
            out[key] = {"slope": 0.0, "ci95": [0.0, 0.0], "flat": True}
        else:
            fit = linear_fit(xs, ys)
            out[key] = {"slope": fit.slope, "ci95": list(fit.ci), "intercept": fit.intercept}
    out["censored"] = sum(p.censored for p in points)
    return out


def law_evidence(
    groups: Mapping[str, Sequence[MStarPoint]],
    results: Sequence[RunResult],
    prediction: Mapping[str, Any],
) -> tuple[Evidence, dict[str, Any]]:
    """The start of an m*-law judge: its :class:`Evidence` (an inconclusive part when no run produced
    metrics) and its numbers (per-series entries to fill, failed runs, the largest exponent the
    design can produce)."""
    ev = Evidence()
    numbers: dict[str, Any] = {
        "series": {},
        "failed_runs": failed_runs(results),
        "largest_exponent": prediction.get("largest_exponent"),
    }
    if not groups:
        ev.add(Check("runs", "inconclusive", float("nan"), "no run produced metrics"))
    return ev, numbers


def judge_exponent(
    ev: Evidence, name: str, points: Sequence[MStarPoint], bound: float, law: str, censored: str
) -> tuple[dict[str, Any], int]:
    """Judge one series of an m* law (docs/math.md §10.7): no cell censored (``censored`` names that
    part), and the exponent's 95% interval below ``bound`` (``law`` names it; inconclusive with too
    few cells). Returns the :func:`exponent_fit` and the number of censored cells."""
    fit = exponent_fit(points)
    n_censored = sum(p.censored for p in points)
    ev.exact(censored, n_censored, len(points), "cells")
    if fit["estimable"]:
        ev.interval_beyond(f"{name}: {law}", tuple(fit["exponent"]["ci95"]), bound, "below")
    else:
        ev.add(Check(f"{name}: exponent", "inconclusive", float("nan"), "too few cells"))
    return fit, n_censored


def largest_exponent(
    xs: Sequence[float], lows: Sequence[float], highs: Sequence[float], copies: int = 1
) -> float:
    """The largest least-squares exponent of ``m*`` on ``x`` that a design can produce.

    Cell ``i`` (at ``xs[i]``, ``copies`` blocks each) can give any m* in ``[lows[i], highs[i]]`` (its
    start and its ceiling). The slope of ``log m*`` on ``log x`` is linear in the ``log m*``, so its
    maximum over that box is at the vertex with the ceiling wherever ``log x`` is above its mean and
    the start elsewhere (docs/math.md §10.7). ``copies`` does not change the value (every block of a
    cell takes the same extreme); it is accepted to mirror the design.
    """
    if not (len(xs) == len(lows) == len(highs)) or len(set(xs)) < 2:
        raise ValueError("xs, lows and highs must have equal length with at least 2 distinct xs")
    if copies < 1:
        raise ValueError(f"copies must be positive, got {copies!r}")
    lx = np.log(np.asarray(xs, float))
    dev = lx - lx.mean()
    y = np.where(dev > 0, np.log(np.asarray(highs, float)), np.log(np.asarray(lows, float)))
    return float(np.sum(dev * y) / np.sum(dev * dev))


def search_points(
    results: Sequence[Any], x_of: Callable[[Any], float], series_of: Callable[[Any], str]
) -> list[MStarPoint]:
    """The m* points of :class:`MStarSearch` runs that produced metrics (censored ones included)."""
    out = []
    for r in results:
        if r.ok and r.metrics is not None and isinstance(r.config, MStarSearch):
            m = r.metrics
            out.append(
                MStarPoint(
                    series_of(r.config), x_of(r.config), int(m["value"]), bool(m["censored"])
                )
            )
    return out


def series(points: Sequence[MStarPoint]) -> dict[str, list[MStarPoint]]:
    """Points grouped by series, in first-seen order."""
    out: dict[str, list[MStarPoint]] = {}
    for p in points:
        out.setdefault(p.series, []).append(p)
    return out


def cells(points: Sequence[MStarPoint]) -> Mapping[float, list[MStarPoint]]:
    """Points of one series grouped by ``x`` (sorted)."""
    out: dict[float, list[MStarPoint]] = {}
    for p in sorted(points, key=lambda p: p.x):
        out.setdefault(p.x, []).append(p)
    return out


def separation_experiment(cfg: Any) -> dict[str, Any]:
    """One run of either side of the separation: :class:`MStarSearch` (the variant or its ablation) or
    :class:`~reports.claims.paper1._lazythreshold.ThresholdRun` (the lazy threshold). The claims of both
    sides use it, so each can run the other side as its crossed control."""
    if isinstance(cfg, MStarSearch):
        return m_star_experiment(cfg)
    if isinstance(cfg, ThresholdRun):
        return lazy_threshold_experiment(cfg)
    raise TypeError(f"config must be an MStarSearch or a ThresholdRun, got {type(cfg).__name__}")


MVD_ID = "beyond.m-vs-d"
N_SEEDS = {"quick": 5, "full": 10, "scale": 10}
"""Seeds of one m* block per profile (the success rate at each probed m is over these)."""


def variant_search(arm: str, order: int, d: int, r: int, seed: int, profile: str) -> MStarSearch:
    """The m* search of ``beyond.m-vs-d`` (its registered success level and ceiling under
    ``profile``) for one seed block starting at ``seed``."""
    reg = registration(MVD_ID)
    return MStarSearch(
        arm=arm,
        order=order,
        d=d,
        r=r,
        seed=seed,
        block_size=N_SEEDS[profile],
        level=reg.bar(profile, "m_star_level"),
        ceiling=int(reg.tolerance("ceiling", profile)),
    )


def draw_series(
    ax: Any, groups: Mapping[str, Sequence[MStarPoint]], bound: float, data: dict[str, list[Any]]
) -> tuple[list[JudgedInterval], dict[str, tuple[float, float]]]:
    """Draw each series' m* per cell (median and range over blocks, the series side by side) and its
    censored cells (open triangles at the ceiling); append ``(series, x, m*, censored)`` to the four
    columns of ``data``. Returns the judged rows (each estimable series' exponent interval against
    ``bound``, :func:`exponent_fit`) and the first ``(x, median m*)`` of each series."""
    rows: list[JudgedInterval] = []
    firsts: dict[str, tuple[float, float]] = {}
    for k, (name, ps) in enumerate(groups.items()):
        short = name.split(" (")[0]  # "variant", "l=3, variant", "lazy ε=0.1"
        shift = 1 + 0.03 * k  # series side by side
        xs, med, lo, hi = [], [], [], []
        for x, cps in cells(ps).items():
            vals = [p.value for p in cps]
            xs.append(x * shift)
            med.append(float(np.median(vals)))
            lo.append(med[-1] - min(vals))
            hi.append(max(vals) - med[-1])
        firsts[name] = (xs[0], med[0])
        ax.errorbar(
            xs, med, yerr=[lo, hi], marker="os^v"[k % 4], color=f"C{k}", capsize=3,
            label=f"{short}: median, range",
        )  # fmt: skip
        cens = [p for p in ps if p.censored]
        mark_censored(
            ax, [p.x * shift for p in cens], [p.value for p in cens], f"C{k}",
            rf"{short}: censored ($m^*\geq$ ceiling)",
        )  # fmt: skip
        for p in ps:
            for key, v in zip(data, (p.series, p.x, p.value, p.censored), strict=True):
                data[key].append(v)
        fit = exponent_fit(ps)
        if fit["estimable"]:
            e = fit["exponent"]
            rows.append(JudgedInterval(short, e["slope"], tuple(e["ci95"]), bound, "below"))
    return rows, firsts
