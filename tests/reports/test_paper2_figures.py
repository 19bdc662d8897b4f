"""The paper-2 claims' report texts and figures: every claim cites where in paper 2 (or elsewhere) its
statement comes from and says what to look for in its figure; every figure draws with no runs; the
judged-parts panel draws each rate's registered bar and Clopper–Pearson interval where they are."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.figure import Figure

from reports.artifacts import draw_figure
from reports.catalog import all_claims, claim_group
from reports.claims.paper2._figures import checks_panel, order_matrix, rates_panel
from reports.render import SUMMARY_REFERENCE_CHARACTERS
from reports.statistics import Evidence

matplotlib.use("Agg")

PAPER2 = sorted((c for c in all_claims() if claim_group(c) == "paper2"), key=lambda c: c.id)
CAPTION_MAX = 300
"""A caption is one line under the figure: at most this many characters."""


def test_paper2_has_its_thirteen_claims():
    assert len(PAPER2) == 13
    assert all(c.id.startswith("deflation.") for c in PAPER2)


@pytest.mark.parametrize("claim", PAPER2, ids=lambda c: c.id)
def test_reference_says_where_the_statement_comes_from(claim):
    ref = " ".join(claim.reference.split())
    assert ref, f"{claim.id}: empty reference"
    assert "paper 2" in ref, f"{claim.id}: the reference must place the claim against paper 2"
    assert "docs/math.md §" in ref, f"{claim.id}: the reference must cite the derivation's section"
    # the summary table shows the reference up to its first ": ": that head must say where, uncut
    head = ref.split(": ", 1)[0]
    assert head != ref and len(head) <= SUMMARY_REFERENCE_CHARACTERS, f"{claim.id}: {head!r}"


@pytest.mark.parametrize("claim", PAPER2, ids=lambda c: c.id)
def test_caption_is_one_line_saying_what_to_look_for(claim):
    caption = claim.caption.strip()
    assert caption, f"{claim.id}: empty caption"
    assert "\n" not in caption
    assert len(caption) <= CAPTION_MAX, f"{claim.id}: caption of {len(caption)} characters"


@pytest.mark.parametrize("claim", PAPER2, ids=lambda c: c.id)
def test_figure_draws_without_runs(claim):
    figure = draw_figure(claim.plot, claim.predict("quick"), [])
    assert figure.error == ""
    assert figure.png is not None and figure.png.startswith(b"\x89PNG")


def test_rates_panel_draws_each_bar_and_interval_at_its_value():
    ev = Evidence()
    ev.rate_at_least("first", 9, 10, 0.6)
    ev.rate_at_least("second", 3, 10, 0.9)
    rates = ev.verdict(predicted="", measured="").rates
    fig = Figure()
    ax = fig.add_subplot()
    rates_panel(ax, rates)
    bars = sorted(
        float(line.get_xdata()[0])
        for line in ax.get_lines()
        if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]
    )
    assert bars == [0.6, 0.9]
    # each interval's caps sit at its Clopper–Pearson bounds
    caps = sorted(
        round(float(x), 12)
        for line in ax.get_lines()
        if line.get_marker() == "|"
        for x in line.get_xdata()
    )
    bounds = sorted(round(float(b), 12) for r in rates for b in r["ci95"])
    assert caps == bounds
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["second (3/10)", "first (9/10)"]  # first rate on top


def test_checks_panel_clips_and_prints_a_large_margin():
    ev = Evidence()
    ev.at_most("small", 0.5, 1.0)  # margin 0.5
    ev.at_most("far out", 100.0, 1.0)  # margin -99: drawn at the clip, value printed
    checks = ev.verdict(predicted="", measured="").checks
    fig = Figure()
    ax = fig.add_subplot()
    checks_panel(ax, checks, clip=2.0)
    widths = sorted(round(p.get_width(), 12) for p in ax.patches)
    assert widths == [-2.0, 0.5]
    assert any(t.get_text() == f"{checks[1]['margin']:.3g}" for t in ax.texts)


def test_order_matrix_counts_runs_by_predicted_and_measured_order():
    runs = [
        {"predicted_order": [0, 1, 2], "fit_order": [0, 1, 2]},
        {"predicted_order": [0, 1, 2], "fit_order": [0, 1]},  # third direction never fitted
        {"predicted_order": [1, 0, 2], "fit_order": [1, 0, 2]},
        {"predicted_order": [1, 0, 2], "fit_order": [1, 0, 2]},
    ]
    fig = Figure()
    ax = fig.add_subplot()
    data = order_matrix(ax, runs, "test")
    rows = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text() for t in ax.get_xticklabels()]
    assert rows == [
        "1 2 3",
        "1 3 2",
        "2 1 3",
        "2 3 1",
        "3 1 2",
        "3 2 1",
    ]  # every order, a-order first
    assert cols == [*rows, "1 2 –"]  # then the incomplete measured order
    cells = {
        (cols[round(t.get_position()[0])], rows[round(t.get_position()[1])]): t for t in ax.texts
    }
    assert {k: t.get_text() for k, t in cells.items()} == {
        ("1 2 3", "1 2 3"): "1",
        ("1 2 –", "1 2 3"): "1",
        ("2 1 3", "2 1 3"): "2",
    }
    assert cells[("1 2 –", "1 2 3")].get_color() == "#cf222e"  # broke its prediction
    assert cells[("2 1 3", "2 1 3")].get_color() == "#1a7f37"
    assert ax.get_title() == "test: 3/4 as predicted"
    assert data["measured_order"] == ["1 2 3", "1 2 –", "2 1 3", "2 1 3"]
