"""Judging and plotting helpers shared by every claim file (the one place for them).

Helpers shared only by the claims of one paper live beside them (``paper1/_*.py``,
``paper2/_*.py``, ``classical/_*.py``); the evidence rules themselves are :mod:`reports.statistics`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from ..registry import RunResult, Verdict
from ..statistics import Check, linear_fit

__all__ = [
    "check_profile",
    "columns",
    "exact_check",
    "failed_runs",
    "legend",
    "loglog_slope",
    "mean_interval",
    "no_runs",
    "ok_runs",
    "slope_with_interval",
    "sympy_text",
]


def ok_runs(results: Sequence[RunResult]) -> list[tuple[Any, Mapping[str, Any]]]:
    """``(config, metrics)`` of the runs that produced metrics, in config order."""
    return [(r.config, r.metrics) for r in results if r.ok and r.metrics is not None]


def failed_runs(results: Sequence[RunResult]) -> list[str]:
    """``"config: error"`` of every failed run."""
    return [f"{r.config}: {r.error}" for r in results if not r.ok]


def no_runs(predicted: str) -> Verdict:
    """The verdict when no run produced metrics: inconclusive, with no margin."""
    return Verdict("inconclusive", "no run produced metrics", predicted, "n/a")


def slope_with_interval(
    x: Sequence[float], y: Sequence[float]
) -> tuple[float, tuple[float, float], dict[str, Any]]:
    """Least-squares slope with its 95% t-interval (:func:`reports.statistics.linear_fit`).

    Constant ``y`` has slope 0 exactly (an interval of zero width).
    """
    if float(np.ptp(np.asarray(y, float))) == 0.0:
        return 0.0, (0.0, 0.0), {"slope": 0.0, "ci95": [0.0, 0.0], "n": len(y), "flat": True}
    fit = linear_fit(list(x), list(y))
    return fit.slope, fit.ci, fit.as_dict()


def loglog_slope(x: Any, y: Any) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (no interval)."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def mean_interval(values: Sequence[float] | np.ndarray) -> tuple[float, tuple[float, float]]:
    """Mean with its two-sided 95% Student-t interval (a single value: the interval is that value)."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return mean, (mean, mean)
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, (mean - half, mean + half)


def exact_check(name: str, n_ok: int, n: int, robustness: float, detail: str) -> Check:
    """An exact-equality part: fails (margin −fraction wrong) unless every case matches; when all match,
    the margin is ``robustness`` in [0, 1] (how far the underlying numerical decision is from its cut)."""
    if n == 0:
        return Check(name, "inconclusive", float("nan"), "no case measured")
    if n_ok < n:
        return Check(name, "fails", -(n - n_ok) / n, detail)
    return Check(name, "holds", float(min(max(robustness, 0.0), 1.0)), detail)


LEGEND_MIN_FONTSIZE = 9.0
"""Smallest legend font size (points) :func:`legend` draws: smaller requests are raised to it."""


def legend(ax: Any, **kwargs: Any) -> None:
    """``ax.legend(**kwargs)`` when the axes has labelled artists; nothing on an empty figure.

    A claim's ``plot`` must render even when no run succeeded; matplotlib warns on a legend
    without labelled artists, so the legend is left out then. A numeric ``fontsize`` below
    :data:`LEGEND_MIN_FONTSIZE` is raised to it (the report's figures are read at 1:1 on a page).
    """
    handles, _ = ax.get_legend_handles_labels()
    if not handles:
        return
    size = kwargs.get("fontsize")
    if isinstance(size, int | float) and not isinstance(size, bool):
        kwargs["fontsize"] = max(float(size), LEGEND_MIN_FONTSIZE)
    ax.legend(**kwargs)


def check_profile(profile: str, profiles: Sequence[str] = ("quick", "full")) -> str:
    """``profile`` if it is one of ``profiles``; ``ValueError`` naming the allowed ones otherwise."""
    if profile not in profiles:
        raise ValueError(f"profile must be {' or '.join(map(repr, profiles))}, got {profile!r}")
    return profile


def columns(*names: str) -> dict[str, list[Any]]:
    """An empty ``{column: []}`` table, the data a ``plot`` fills and returns (written as CSV)."""
    return {name: [] for name in names}


_SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SYMPY_NAMES = {"delta0": "δ0", "rho": "ρ", "sigma": "σ", "lambda": "λ", "gamma": "γ", "log": "ln"}


def sympy_text(expr: object) -> str:
    """A sympy expression (or its ``str``) as a formula for people: ``delta0**2*(q - 1)`` reads
    ``δ0²·(q - 1)`` (integer powers as superscripts, ``*`` as ``·``, the symbols' Greek names,
    ``log`` as ``ln``). For the texts a verdict shows; the exact expression stays in the prediction.
    """
    text = re.sub(r"\b(" + "|".join(_SYMPY_NAMES) + r")\b", lambda m: _SYMPY_NAMES[m[1]], str(expr))
    text = re.sub(r"\*\*(\d+)", lambda m: m[1].translate(_SUPERSCRIPT_DIGITS), text)
    text = re.sub(r"\*\*\(([^()]+)\)", r"^(\1)", text)
    return text.replace("*", "·")
