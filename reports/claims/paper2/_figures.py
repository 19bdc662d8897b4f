"""Figure helpers of the deflation claims: the judged parts of a verdict, drawn as they decided it.

A claim's ``plot`` receives the prediction and the runs, not the verdict; the helpers here take the
verdict its own ``judge`` returns on the same inputs, so the figure shows exactly the rates (with their
95% Clopper–Pearson intervals, docs/math.md §7.3), the registered bars, the McNemar contrasts (§7.4)
and the tolerance checks (§7.5) that decided it. :func:`order_matrix` counts runs by predicted and
measured fit order (the per-run prediction of docs/math.md §11.2).
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...registry import Verdict
from .._shared import legend

__all__ = [
    "STATUS_COLOURS",
    "checks_panel",
    "evidence_grid",
    "order_matrix",
    "parts_panel",
    "rates_panel",
]

STATUS_COLOURS = {"holds": "#1a7f37", "inconclusive": "#bf8700", "fails": "#cf222e"}
"""Colour of a judged part by its status (the report's verdict colours)."""
_LABEL_WIDTH = 34
"""Characters per line of a part's tick label (longer names wrap)."""


def _label(text: str, width: int = _LABEL_WIDTH) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def rates_panel(
    ax: Any,
    rates: Sequence[Mapping[str, Any]],
    *,
    title: str = "",
    other_bar: tuple[str, float] | None = None,
) -> None:
    """Each judged rate as a row: its estimate (dot, coloured by status), 95% Clopper–Pearson
    interval and registered bar (black tick); the label carries ``k/n``. ``rates``: a verdict's
    ``rates`` records (:meth:`reports.statistics.Rate.as_dict`). ``other_bar``: ``(label, value)``
    of a bar shown beside the registered one on every row (grey, dashed), e.g. the original bar
    of a rate whose bar was lowered after results."""
    n = len(rates)
    for row, r in enumerate(rates):
        y = n - 1 - row
        k, trials = int(r["successes"]), int(r["trials"])
        est = k / trials if trials else float("nan")
        lo, hi = r["ci95"]
        colour = STATUS_COLOURS.get(str(r["status"]), "0.4")
        ax.errorbar(
            est, y, xerr=[[est - lo], [hi - est]], fmt="o", ms=6, capsize=4, color=colour, lw=1.6
        )
        ax.plot([r["threshold"]] * 2, [y - 0.32, y + 0.32], color="k", lw=2.2)
        if other_bar is not None:
            ax.plot([other_bar[1]] * 2, [y - 0.32, y + 0.32], color="0.45", lw=1.6, ls="--")
    ax.set_yticks(
        range(n),
        [_label(f"{r['name']} ({r['successes']}/{r['trials']})") for r in reversed(rates)],
    )
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("rate, 95% Clopper–Pearson interval")
    # legend proxies: a bar tick and one dot per status present
    ax.plot([], [], color="k", lw=2.2, label="registered bar")
    if other_bar is not None:
        ax.plot([], [], color="0.45", lw=1.6, ls="--", label=other_bar[0])
    for status in sorted({str(r["status"]) for r in rates}):
        ax.errorbar([], [], xerr=[], fmt="o", color=STATUS_COLOURS.get(status, "0.4"), label=status)
    legend(ax, fontsize=9, loc="lower left")
    ax.grid(axis="x", color="0.9", lw=0.6)
    if title:
        ax.set_title(title)


def checks_panel(
    ax: Any, checks: Sequence[Mapping[str, Any]], *, title: str = "", clip: float = 2.0
) -> None:
    """Each tolerance check as a horizontal bar of its signed margin (fraction of the tolerance:
    > 0 inside, docs/math.md §7.5), coloured by status, with the tolerance's edge at 0. Margins
    beyond ``±clip`` are drawn at the clip with their value printed."""
    n = len(checks)
    for row, c in enumerate(checks):
        y = n - 1 - row
        margin = float(c["margin"])
        colour = STATUS_COLOURS.get(str(c["status"]), "0.4")
        if not math.isfinite(margin):
            ax.text(0.02, y, "not measured", va="center", color=colour)
            continue
        shown = max(-clip, min(clip, margin))
        ax.barh(y, shown, height=0.5, color=colour)
        if shown != margin:
            ax.text(shown, y + 0.3, f"{margin:.3g}", ha="center", va="bottom", color=colour)
    ax.axvline(0.0, color="k", lw=1.2)
    ax.set_yticks(range(n), [_label(str(c["name"])) for c in reversed(checks)])
    ax.set_ylim(-0.6, n - 0.4)
    lows = [float(c["margin"]) for c in checks if math.isfinite(float(c["margin"]))]
    ax.set_xlim(min([-0.1, *[max(-clip, m) * 1.1 for m in lows]]), 1.05)
    ax.set_xlabel("margin: fraction of the tolerance left (0: at the tolerance)")
    ax.grid(axis="x", color="0.9", lw=0.6)
    if title:
        ax.set_title(title)


def parts_panel(
    ax: Any,
    verdict: Verdict,
    *,
    title: str = "Judged rates against the bars",
    other_bar: tuple[str, float] | None = None,
) -> None:
    """The rates of ``verdict`` (:func:`rates_panel`), with its McNemar contrasts written under the
    axes (discordant pairs, one-sided p against its threshold, status)."""
    rates_panel(ax, verdict.rates, title=title, other_bar=other_bar)
    lines = [
        f"{c['name']}: {c['discordant_a']}:{c['discordant_b']} discordant pairs, "
        f"p = {float(c['p_value']):.2g} (<= {float(c['threshold']):g}): {c['status']}"
        for c in verdict.contrasts
    ]
    if lines:
        ax.set_xlabel(
            "rate, 95% Clopper–Pearson interval\n" + "\n".join(_label(line, 110) for line in lines)
        )


def evidence_grid(
    fig: Any, columns: int = 1, *, rows: int = 2, top: float = 4.4
) -> tuple[list[Any], Any]:
    """Lay ``fig`` out as ``columns`` axes on top (the runs, ``top`` inches high) and one axes
    across the bottom for ``rows`` judged parts (:func:`parts_panel`, :func:`checks_panel`), sized
    to them; the figure stays 10 inches wide."""
    bottom = 1.3 + 0.5 * max(rows, 1)
    fig.set_size_inches(10.0, top + bottom)
    grid = fig.add_gridspec(2, columns, height_ratios=(top, bottom))
    axes = [fig.add_subplot(grid[0, j]) for j in range(columns)]
    return axes, fig.add_subplot(grid[1, :])


def _order_text(order: Sequence[int] | range, r: int = 0) -> str:
    """A fit order as 1-based direction numbers, ``"1 2 3"`` (a-order) or e.g. ``"2 1 3"``; padded
    with ``–`` to ``r`` places where directions were not fitted."""
    return " ".join([str(k + 1) for k in order] + ["–"] * (r - len(order)))


def order_matrix(ax: Any, rows: Sequence[Mapping[str, Any]], title: str) -> dict[str, list[Any]]:
    """Runs counted by (predicted order, measured order), from each run's ``predicted_order`` and
    ``fit_order`` (direction indices in fit order): a green count is runs whose order was the
    predicted one, a red count runs that broke their prediction. Rows: every order of r <= 3
    directions (else those that occur), a-order first; columns: the same, then the measured orders
    that left directions unfitted (``"1 2 –"``)."""
    if not rows:
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"{title}:\nno runs in this profile", ha="center", va="center")
        return {"predicted_order": [], "measured_order": []}
    r = max(len(m["predicted_order"]) for m in rows)
    pairs = [(_order_text(m["predicted_order"]), _order_text(m["fit_order"], r)) for m in rows]
    every = {_order_text(p) for p in itertools.permutations(range(r))} if r <= 3 else set()
    a_order = _order_text(range(r))

    def key(o: str) -> tuple[bool, bool, str]:
        return ("–" in o, o != a_order, o)

    predicted = sorted(every | {p for p, _ in pairs}, key=key)
    measured = sorted(set(predicted) | {m for _, m in pairs}, key=key)
    counts = np.zeros((len(predicted), len(measured)), dtype=int)
    for pred, meas in pairs:
        counts[predicted.index(pred), measured.index(meas)] += 1
    ax.imshow(np.where(counts > 0, 1.0, 0.0), cmap="Blues", vmin=0, vmax=2.5)
    for i, pred in enumerate(predicted):
        for j, meas in enumerate(measured):
            if counts[i, j]:
                colour = "#1a7f37" if pred == meas else "#cf222e"
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=colour, size=12)
    ax.set_xticks(range(len(measured)), measured)
    ax.set_yticks(range(len(predicted)), predicted)
    ax.set_xlabel("measured fit order (direction numbers; –: not fitted)")
    ax.set_ylabel(r"predicted order (from the run's own $W_0$)")
    matched = sum(pred == meas for pred, meas in pairs)
    ax.set_title(f"{title}: {matched}/{len(pairs)} as predicted")
    return {
        "predicted_order": [p for p, _ in pairs],
        "measured_order": [m for _, m in pairs],
    }
