"""Numbers for people (reports.numfmt) and the verdict texts built with them (reports.statistics)."""

from __future__ import annotations

import math

import pytest

from reports import numfmt
from reports.statistics import Rate, at_least, at_most, interval_within


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0.0014083780827532921, "0.001408"),
        (6.386016201030261e-13, "6.386e-13"),
        (77.0, "77"),
        (12, "12"),
        (10**16, "1e+16"),  # an integer too long to read is shown as a float
        (math.inf, "∞"),
        (-math.inf, "-∞"),
        (1e300, "∞"),  # the sentinel claims use for "never reached"
        (-3.3333333333333337e301, "-∞"),
        (math.nan, "NaN"),
        ("text", "text"),
        (True, "True"),
    ],
)
def test_number(x, text):
    assert numfmt.number(x) == text


def test_margin():
    assert numfmt.margin(0.12) == "+0.12" and numfmt.margin(-0.5) == "-0.50"
    assert numfmt.margin(-11292.0) == "-1.1e+04" and numfmt.margin(166.15) == "+1.7e+02"
    assert numfmt.margin(-3.3333333333333337e301) == "-∞" and numfmt.margin(math.inf) == "+∞"
    assert numfmt.margin(None) == "n/a" and numfmt.margin(math.nan) == "n/a"


def test_interval_shows_a_difference_when_there_is_one():
    assert numfmt.interval(0.6915, 1.0) == "0.69–1.00"
    assert numfmt.interval(0.9951, 1.0) == "0.995–1.000"  # two decimals would read 1.00–1.00
    assert numfmt.interval(0.99999, 1.0) == "0.99999–1.00000"
    assert numfmt.interval(1.0, 1.0) == "1.00–1.00"  # only when both ends are equal
    assert numfmt.interval(0.0, math.inf) == "0–∞"
    assert numfmt.interval_sig(0.999991, 0.999996) == "0.99999, 1"  # 4 digits would read 1, 1
    assert numfmt.interval_sig(1, 1) == "1, 1"
    assert numfmt.interval_sig(-0.05372, 0.09246) == "-0.05372, 0.09246"


def test_value_reads_nested_data_and_censored_intervals():
    assert numfmt.value([3, None]) == "[3, ∞)"  # an interval open above
    assert (
        numfmt.value({"low": 3, "high": None, "p": 0.15701277}) == "{low: 3, high: none, p: 0.157}"
    )
    assert numfmt.value({"δ0=0.0001": 0.0014083780827532921}) == "{δ0=0.0001: 0.001408}"
    assert numfmt.value([1e300, True]) == "[∞, yes]"


def test_tidy_fixes_what_claim_texts_carry():
    staircase_control = (
        "worst plateau deviation [homogeneous, l=4, δ0=0.3]: 1e+300 <= 0.03: fails (margin "
        + "-3" * 1
        + "3" * 300
        + ".00). Two-exponential model (derived) at the measured gaps: max |predicted deviation| ."
    )
    tidied = numfmt.tidy(staircase_control)
    assert "∞ <= 0.03" in tidied and "(margin -∞)" in tidied
    assert tidied.endswith("max |predicted deviation|: none.")
    assert max(len(w) for w in tidied.split()) < 30  # no 300-digit token left
    assert (
        numfmt.tidy("m* by d: 10: 6 [3, None], 40: 6 [6, None]")
        == "m* by d: 10: 6 [3, ∞), 40: 6 [6, ∞)"
    )
    untouched = "slope 0.83 [0.60, 1.07]; 1.5e+30 and seed 123456789012345; ends well."
    assert numfmt.tidy(untouched) == untouched


def test_shorten_cuts_at_a_clause():
    long = "; ".join(f"part {i}: 10/10 (95% CI 0.69–1.00) >= 0.6: holds" for i in range(8))
    short = numfmt.shorten(long, 120)
    assert len(short) <= 120 and short.endswith(" …") and short.startswith("part 0: 10/10")
    assert short[:-2].endswith("holds")  # whole clauses
    assert numfmt.shorten("a short reason", 120) == "a short reason"
    assert numfmt.shorten("x" * 300, 50) == "x" * 49 + " …"  # one word: cut anyway


def test_verdict_parts_print_sentinels_and_close_intervals_for_people():
    never = at_most("worst plateau deviation", 1e300, 0.03)
    assert never.detail == "∞ <= 0.03" and "margin -∞" in never.describe()
    assert len(never.describe()) < 80
    assert at_least("smallest fall", 0.999, 1e-8).describe().endswith("(margin +1e+08)")
    assert (
        at_most("x", 0.00140838, 0.03).detail == "0.00140838 <= 0.03"
    )  # ordinary values as before
    # 4000/4000: the exact lower bound is 0.025**(1/4000) = 0.99908, which two decimals show as 1.00
    assert 0.025 ** (1 / 4000) == pytest.approx(0.99908, abs=1e-5)
    assert "95% CI 0.999–1.000" in Rate("all", 4000, 4000, 0.9).describe()
    assert "95% CI 0.69–1.00" in Rate("r", 10, 10, 0.6).describe()
    tight = interval_within("slope", (0.999991, 0.999996), 1.0, 0.002)
    assert "[0.99999, 1]" in tight.detail  # 4 significant digits would read [1, 1]
