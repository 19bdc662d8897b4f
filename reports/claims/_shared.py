"""Judging and plotting helpers shared by every claim file (the one place for them).

The figure helpers (:func:`intervals_against_bars`, :func:`rates_against_bars`,
:func:`mark_censored`) draw the quantity a judge decides on against the bar it is judged by
(docs/math.md §7), each interval coloured by the verdict of the same rule the judge applies.

Helpers shared only by the claims of one paper live beside them (``paper1/_*.py``,
``paper2/_*.py``, ``classical/_*.py``); the evidence rules themselves are :mod:`reports.statistics`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

from ..registry import RunResult, Verdict
from ..statistics import Check, Rate, interval_beyond, interval_within, linear_fit

__all__ = [
    "BAR_COLOR",
    "STATUS_COLOR",
    "JudgedInterval",
    "JudgedRate",
    "check_profile",
    "columns",
    "exact_check",
    "failed_runs",
    "intervals_against_bars",
    "legend",
    "loglog_slope",
    "mark_censored",
    "mean_interval",
    "no_runs",
    "ok_runs",
    "rates_against_bars",
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


# ------------------------------------------------------------------------------------------- figures
BAR_COLOR = "#cf222e"
"""The colour of every judged bar (and, lightly shaded, of its failing side)."""
STATUS_COLOR = {"holds": "#1a7f37", "inconclusive": "#9a6700", "fails": "#cf222e"}
"""Colour of an interval or rate by the verdict its rule gives it."""


@dataclass(frozen=True)
class JudgedInterval:
    """One judged 95% interval: ``ci`` must lie above or below ``bar`` (a number), or inside the band
    ``bar = (lo, hi)`` (``side="within"``). ``points``: values drawn on the same row for context
    (e.g. the per-target estimates behind a mean)."""

    label: str
    estimate: float
    ci: tuple[float, float]
    bar: float | tuple[float, float]
    side: Literal["above", "below", "within"]
    points: tuple[float, ...] = ()

    @property
    def bar_values(self) -> tuple[float, ...]:
        """The bar's one or two ends."""
        return tuple(self.bar) if isinstance(self.bar, tuple) else (float(self.bar),)

    @property
    def status(self) -> str:
        """The verdict of the judge's own rule (:func:`reports.statistics.interval_within` or
        :func:`~reports.statistics.interval_beyond`) on this row."""
        if isinstance(self.bar, tuple):
            lo, hi = self.bar
            return interval_within("", self.ci, 0.5 * (lo + hi), 0.5 * (hi - lo)).status
        if self.side == "within":
            raise ValueError(f"side='within' needs a (lo, hi) bar, got {self.bar!r}")
        return interval_beyond("", self.ci, float(self.bar), self.side).status


def _failing_spans(
    row: JudgedInterval, left: float, right: float
) -> tuple[tuple[float, float], ...]:
    if row.side == "within":
        b_lo, b_hi = row.bar_values
        return ((left, b_lo), (b_hi, right))
    bar = row.bar_values[0]
    return ((left, bar),) if row.side == "above" else ((bar, right),)


def _x_range(
    rows: Sequence[JudgedInterval], references: Sequence[tuple[float, str]]
) -> tuple[float, float]:
    """An x range holding every interval, bar, point and reference, with room on the failing side of
    every bar so that its shading shows."""
    values = [v for r in rows for v in (*r.ci, *r.bar_values, *r.points) if math.isfinite(v)]
    values += [x for x, _ in references]
    lo, hi = min(values), max(values)
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    lefts = [min(r.bar_values) - 0.2 * span for r in rows if r.side != "below"]
    rights = [max(r.bar_values) + 0.2 * span for r in rows if r.side != "above"]
    return min([lo - 0.08 * span, *lefts]), max([hi + 0.08 * span, *rights])


def intervals_against_bars(
    ax: Any,
    rows: Sequence[JudgedInterval],
    *,
    xlabel: str,
    references: Sequence[tuple[float, str]] = (),
    title: str = "",
) -> None:
    """One row per judged interval, top to bottom: the 95% interval and its estimate, coloured by the
    verdict of its rule (:data:`STATUS_COLOR`), against its bar (red dashed, the failing side
    shaded). ``references``: ``(x, label)`` drawn as grey dotted lines across every row (a
    prediction, the paper's exponent), for context only."""
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    if not rows:
        ax.set_yticks([])
        return
    left, right = _x_range(rows, references)
    half = 0.32  # half the height of a row
    for i, row in enumerate(rows):
        y = -i
        for j, b in enumerate(row.bar_values):
            label = "bar (judged)" if i == 0 and j == 0 else None
            ax.plot([b, b], [y - half, y + half], color=BAR_COLOR, ls="--", lw=1.4, label=label)
        for a, b in _failing_spans(row, left, right):
            ax.fill_between([a, b], y - half, y + half, color=BAR_COLOR, alpha=0.07, lw=0)
        color = STATUS_COLOR[row.status]
        if row.points:
            ax.plot(row.points, [y] * len(row.points), "o", ms=4, color="0.55", zorder=2)
        c_lo, c_hi = row.ci
        if math.isfinite(c_lo) and math.isfinite(c_hi):
            ax.plot(
                [c_lo, c_hi], [y, y], color=color, lw=3, solid_capstyle="butt", zorder=3,
                label="95% CI (colour: its verdict)" if i == 0 else None,
            )  # fmt: skip
        if math.isfinite(row.estimate):
            ax.plot([row.estimate], [y], "o", color=color, ms=7, zorder=4)
    for x, label in references:
        ax.axvline(x, color="0.4", ls=":", lw=1.0)
        ax.annotate(
            label, (x, 0.99), xycoords=("data", "axes fraction"), rotation=90, va="top",
            ha="right", fontsize=9, color="0.3",
        )  # fmt: skip
    ax.set_xlim(left, right)
    ax.set_ylim(-len(rows) + 0.5, 0.5)
    ax.set_yticks([-i for i in range(len(rows))], [r.label for r in rows])
    legend(ax, loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=9)


@dataclass(frozen=True)
class JudgedRate:
    """A success count judged against ``bar`` in ``direction`` (as
    :class:`reports.statistics.Rate`); ``bar=None``: shown, not judged."""

    label: str
    successes: int
    trials: int
    bar: float | None = None
    direction: Literal["at_least", "at_most"] = "at_least"

    @property
    def status(self) -> str:
        """The verdict of :class:`reports.statistics.Rate`'s rule, or ``"neutral"`` without a bar."""
        if self.bar is None:
            return "neutral"
        return Rate(self.label, self.successes, self.trials, self.bar, self.direction).status


def rates_against_bars(
    ax: Any, rows: Sequence[JudgedRate], *, ylabel: str, title: str = ""
) -> None:
    """Each rate with its exact 95% interval (docs/math.md §7.3), annotated ``k/n``, coloured by the
    verdict of its rule, and, where it is judged, its bar as a red dashed segment."""
    for i, row in enumerate(rows):
        if row.trials == 0:
            continue
        rate = Rate(row.label, row.successes, row.trials, 0.5)  # its interval; 0.5: any valid bar
        lo, hi = rate.ci95
        color = STATUS_COLOR.get(row.status, "#0969da")
        ax.plot([i, i], [lo, hi], color=color, lw=3, solid_capstyle="butt")
        ax.plot([i], [rate.estimate], "o", color=color, ms=7)
        ax.annotate(
            f"{row.successes}/{row.trials}", (i, hi), textcoords="offset points", xytext=(0, 4),
            ha="center", fontsize=9,
        )  # fmt: skip
        if row.bar is not None:
            ax.plot([i - 0.3, i + 0.3], [row.bar, row.bar], color=BAR_COLOR, ls="--", lw=1.4)
    ax.set_xticks(range(len(rows)), [r.label for r in rows])
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_ylim(-0.05, 1.12)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


def mark_censored(
    ax: Any, xs: Sequence[float], ys: Sequence[float], color: Any, label: str
) -> None:
    """Cells censored at their ceiling (docs/math.md §7.11): open triangles pointing up at
    ``(x, ceiling)`` — the true value is at least there."""
    if xs:
        ax.scatter(
            xs, ys, marker="^", s=70, facecolors="none", edgecolors=color, linewidths=1.5,
            zorder=5, label=label,
        )  # fmt: skip
