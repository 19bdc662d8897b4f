"""The figure helpers of reports/claims/_shared.py and the paper-1 claims' figure texts.

A judged interval or rate is coloured by the verdict of the judge's own rule
(:mod:`reports.statistics`); every paper-1 claim cites where in the paper (or the classical
literature) it comes from and says in one line what to look for in its figure (issue 23, item 6).
"""

from __future__ import annotations

import math

import pytest
from matplotlib.figure import Figure

from reports.catalog import all_claims, claim_group
from reports.claims._shared import (
    STATUS_COLOR,
    JudgedInterval,
    JudgedRate,
    intervals_against_bars,
    mark_censored,
    rates_against_bars,
)

PAPER1 = [c for c in all_claims() if claim_group(c) == "paper1"]


def test_paper1_has_its_fourteen_claims():
    assert len(PAPER1) == 14
    assert {c.id.split(".")[0] for c in PAPER1} == {"lazy", "beyond"}


@pytest.mark.parametrize("claim", PAPER1, ids=lambda c: c.id)
def test_paper1_claims_cite_a_reference_and_caption_their_figure(claim):
    assert claim.reference.strip(), f"{claim.id}: empty reference"
    assert claim.caption.strip(), f"{claim.id}: empty caption"
    assert "\n" not in claim.caption, f"{claim.id}: the caption is one line"


@pytest.mark.parametrize(
    ("ci", "bar", "side", "status"),
    [
        ((0.1, 0.4), 0.5, "below", "holds"),
        ((0.4, 0.6), 0.5, "below", "inconclusive"),
        ((0.6, 0.9), 0.5, "below", "fails"),
        ((0.6, 0.9), 0.5, "above", "holds"),
        ((0.1, 0.4), 0.5, "above", "fails"),
        ((-1.05, -0.95), (-1.1, -0.9), "within", "holds"),
        ((-1.15, -0.95), (-1.1, -0.9), "within", "inconclusive"),
        ((-0.85, -0.8), (-1.1, -0.9), "within", "fails"),
        ((math.nan, 0.4), 0.5, "below", "inconclusive"),
    ],
)
def test_an_interval_takes_the_verdict_of_its_rule(ci, bar, side, status):
    assert JudgedInterval("x", 0.0, ci, bar, side).status == status


def test_a_band_needs_two_ends():
    with pytest.raises(ValueError, match="needs a \\(lo, hi\\) bar"):
        _ = JudgedInterval("x", 0.0, (0.0, 1.0), 0.5, "within").status


@pytest.mark.parametrize(
    ("k", "n", "bar", "direction", "status"),
    [
        (12, 12, 0.5, "at_least", "holds"),  # Clopper–Pearson lower end 0.735 >= 0.5
        (6, 12, 0.5, "at_least", "inconclusive"),
        (0, 12, 0.5, "at_least", "fails"),  # upper end 0.265 < 0.5
        (0, 16, 0.5, "at_most", "holds"),  # upper end 0.206 <= 0.5
        (16, 16, 0.5, "at_most", "fails"),
        (3, 7, None, "at_least", "neutral"),
    ],
)
def test_a_rate_takes_the_verdict_of_its_rule(k, n, bar, direction, status):
    assert JudgedRate("x", k, n, bar, direction).status == status


def _colours(ax) -> set[str]:
    from matplotlib.colors import to_hex

    return {to_hex(line.get_color()) for line in ax.get_lines()}


def test_intervals_are_drawn_in_their_verdicts_colour_with_their_bars():
    ax = Figure().add_subplot()
    rows = [
        JudgedInterval("a", 0.2, (0.1, 0.3), 0.5, "below"),
        JudgedInterval("b", 0.7, (0.6, 0.8), 0.5, "below"),
    ]
    intervals_against_bars(ax, rows, xlabel="p", references=[(2.0, "lazy")])
    assert {STATUS_COLOR["holds"], STATUS_COLOR["fails"]} <= _colours(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    lo, hi = ax.get_xlim()
    assert lo < 0.1 and hi > 2.0  # every interval and the reference are in view


def test_nothing_to_draw_still_draws_axes():
    fig = Figure()
    intervals_against_bars(fig.add_subplot(1, 3, 1), [], xlabel="p")
    rates_against_bars(fig.add_subplot(1, 3, 2), [JudgedRate("x", 0, 0, 0.5)], ylabel="rate")
    mark_censored(fig.add_subplot(1, 3, 3), [], [], "C0", "censored")
    assert len(fig.axes) == 3
    assert all(not ax.get_lines() for ax in fig.axes)
