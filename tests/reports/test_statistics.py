"""The evidence rules (reports/statistics.py, docs/math.md §7) against scipy and hand-computed values.

Exact Clopper–Pearson intervals, the three-valued rule exactly at its edges, McNemar p-values as
binomial tail sums, signed margins that agree with statuses (Hypothesis), slope t-intervals, the
combination of parts into a verdict, and input errors that name the parameter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from reports.registry import Verdict
from reports.statistics import (
    Check,
    Contrast,
    ControlResult,
    Evidence,
    Rate,
    at_least,
    at_most,
    clopper_pearson,
    combine_status,
    exact,
    interval_beyond,
    interval_within,
    linear_fit,
    mcnemar_p_value,
    paired_contrast,
    rate_at_least,
    rate_at_most,
    within,
    worst_of,
)


# ------------------------------------------------------------------------------------- intervals
@pytest.mark.parametrize(
    "k, n", [(0, 1), (1, 1), (0, 6), (6, 6), (3, 10), (17, 20), (29, 30), (50, 100), (1, 400)]
)
def test_clopper_pearson_matches_scipy_exact(k, n):
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
    lo, hi = clopper_pearson(k, n)
    assert lo == pytest.approx(ci.low, abs=1e-12) and hi == pytest.approx(ci.high, abs=1e-12)


@pytest.mark.parametrize("n", [1, 6, 10, 20, 30])
def test_clopper_pearson_all_or_nothing_by_hand(n):
    # k = n: P(Bin(n, p) >= n) = p^n = 0.025 at the lower bound; k = 0 mirrors it
    lo, hi = clopper_pearson(n, n)
    assert lo == pytest.approx(0.025 ** (1 / n), rel=1e-10) and hi == 1.0
    lo, hi = clopper_pearson(0, n)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / n), rel=1e-10)


def test_clopper_pearson_quoted_sample_sizes():
    # the figures quoted in the claims' briefs: 30/30 -> 0.884, 20/20 -> 0.832, 10/10 -> 0.692, 6/6 -> 0.541
    for n, bound in ((30, 0.884), (20, 0.832), (10, 0.692), (6, 0.541)):
        assert round(clopper_pearson(n, n)[0], 3) == bound


def test_clopper_pearson_middle_case_by_hand():
    # k=1, n=2: the lower bound solves P(X >= 1) = 1-(1-p)^2 = 0.025, the upper P(X <= 1) = 1-p^2 = 0.025
    lo, hi = clopper_pearson(1, 2)
    assert lo == pytest.approx(1 - math.sqrt(0.975), rel=1e-10)
    assert hi == pytest.approx(math.sqrt(0.975), rel=1e-10)


def test_no_trials_is_the_whole_interval_and_inconclusive():
    assert clopper_pearson(0, 0) == (0.0, 1.0)
    r = rate_at_least("nothing", 0, 0, 0.5)
    assert r.status == "inconclusive" and r.margin == -1.0


# --------------------------------------------------------------------------- three-valued rule
def test_rate_at_least_exactly_at_its_edges():
    lo, hi = clopper_pearson(10, 10)
    at_edge = rate_at_least("r", 10, 10, lo)  # lower bound == threshold: holds with margin 0
    assert at_edge.status == "holds" and at_edge.margin == 0.0
    above = rate_at_least("r", 10, 10, math.nextafter(lo, 1.0))
    assert above.status == "inconclusive" and above.margin < 0
    lo, hi = clopper_pearson(2, 10)
    at_upper = rate_at_least("r", 2, 10, hi)  # upper == threshold: not "< p", so inconclusive
    assert at_upper.status == "inconclusive"
    beyond = rate_at_least("r", 2, 10, math.nextafter(hi, 1.0))
    assert beyond.status == "fails" and beyond.margin < 0


def test_rate_at_most_exactly_at_its_edges():
    lo, hi = clopper_pearson(0, 10)
    assert rate_at_most("r", 0, 10, hi).status == "holds"
    assert rate_at_most("r", 0, 10, hi).margin == 0.0
    assert rate_at_most("r", 0, 10, math.nextafter(hi, 0.0)).status == "inconclusive"
    lo, hi = clopper_pearson(8, 10)
    assert rate_at_most("r", 8, 10, lo).status == "inconclusive"  # lo == p is not "> p"
    failing = rate_at_most("r", 8, 10, math.nextafter(lo, 0.0))
    assert failing.status == "fails" and failing.margin < 0


def test_rate_margin_by_hand():
    lo, hi = clopper_pearson(20, 20)
    assert rate_at_least("r", 20, 20, 0.8).margin == pytest.approx((lo - 0.8) / 0.8)
    lo, hi = clopper_pearson(1, 20)
    assert rate_at_least("r", 1, 20, 0.5).margin == pytest.approx((hi - 0.5) / 0.5)  # fails
    assert rate_at_most("r", 1, 20, 0.5).margin == pytest.approx((0.5 - hi) / 0.5)  # holds


def test_rate_record_has_the_public_fields():
    rec = rate_at_least("in order", 9, 10, 0.5).as_dict()
    assert {"name", "successes", "trials", "ci95", "threshold", "status", "margin"} <= set(rec)
    assert rec["successes"] == 9 and rec["trials"] == 10 and len(rec["ci95"]) == 2
    assert "9/10" in rate_at_least("in order", 9, 10, 0.5).describe()


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(0, 60),
    frac=st.floats(0, 1),
    p=st.floats(0.01, 0.99),
    direction=st.sampled_from(["at_least", "at_most"]),
)
def test_rate_margin_sign_agrees_with_status(n, frac, p, direction):
    k = round(frac * n)
    r = Rate("r", k, n, p, direction)
    lo, hi = r.ci95
    assert 0.0 <= lo <= k / max(n, 1) <= hi <= 1.0 or n == 0
    assert (r.margin >= 0) == (r.status == "holds")
    # the rule itself, restated
    if direction == "at_least":
        expected = "holds" if lo >= p else "fails" if hi < p else "inconclusive"
    else:
        expected = "holds" if hi <= p else "fails" if lo > p else "inconclusive"
    assert r.status == (expected if n else "inconclusive")


# ------------------------------------------------------------------------------------ McNemar
def _upper_tail(a: int, n: int) -> float:
    return sum(math.comb(n, j) for j in range(a, n + 1)) / 2**n


@pytest.mark.parametrize(
    "a, b, hand",
    [(3, 0, 1 / 8), (5, 1, 7 / 64), (6, 0, 1 / 64), (2, 2, 11 / 16), (0, 4, 1.0), (0, 0, 1.0)],
)
def test_mcnemar_p_value_by_hand(a, b, hand):
    assert mcnemar_p_value(a, b) == pytest.approx(hand, rel=1e-12)


@pytest.mark.parametrize("a, b", [(7, 2), (12, 3), (4, 9), (20, 20)])
def test_mcnemar_p_value_is_the_binomial_tail(a, b):
    assert mcnemar_p_value(a, b) == pytest.approx(_upper_tail(a, a + b), rel=1e-10)


def test_contrast_rule_and_margins():
    significant = Contrast("c", 6, 0, 10)  # p = 1/64 <= 0.05
    assert significant.status == "holds"
    assert significant.margin == pytest.approx(
        (math.log10(0.05) - math.log10(1 / 64)) / abs(math.log10(0.05))
    )
    ahead = Contrast("c", 3, 0, 10)  # p = 1/8: ahead, not significant
    assert ahead.status == "inconclusive" and ahead.margin < 0
    tie = Contrast("c", 2, 2, 10)
    assert tie.status == "fails" and tie.margin == -1.0
    behind = Contrast("c", 1, 5, 8)
    assert behind.status == "fails" and behind.margin == pytest.approx(-1.0 - 4 / 8)
    assert Contrast("c", 0, 0, 0).status == "inconclusive"
    assert Contrast("c", 0, 0, 5).status == "fails"  # all pairs concordant: a does not beat b


def test_contrast_exactly_at_its_threshold():
    p = mcnemar_p_value(5, 0)  # 1/32
    at_edge = Contrast("c", 5, 0, 5, threshold=p)
    assert at_edge.status == "holds" and at_edge.margin == pytest.approx(0.0, abs=1e-15)
    assert Contrast("c", 5, 0, 5, threshold=math.nextafter(p, 0.0)).status == "inconclusive"


def test_paired_contrast_counts_discordant_pairs():
    a = [True, True, True, False, True, False]
    b = [True, False, False, False, False, True]
    c = paired_contrast("modified vs plain", a, b)
    assert (c.discordant_a, c.discordant_b, c.pairs) == (3, 1, 6)
    rec = c.as_dict()
    assert {"name", "discordant_a", "discordant_b", "p_value", "threshold"} <= set(rec)
    assert rec["p_value"] == pytest.approx(_upper_tail(3, 4))


@settings(max_examples=200, deadline=None)
@given(
    a=st.integers(0, 30),
    b=st.integers(0, 30),
    extra=st.integers(0, 10),
    threshold=st.floats(0.001, 0.49),
)
def test_contrast_margin_sign_agrees_with_status(a, b, extra, threshold):
    c = Contrast("c", a, b, a + b + extra, threshold)
    assert (c.margin >= 0) == (c.status == "holds")
    if c.status == "fails":
        assert a <= b


# ------------------------------------------------------------------------------------- checks
def test_within_and_bounds_at_their_edges():
    assert within("w", 1.5, 1.0, 0.5).status == "holds"
    assert within("w", 1.5, 1.0, 0.5).margin == 0.0
    assert within("w", 1.75, 1.0, 0.5).margin == pytest.approx(-0.5)
    assert within("w", 2.5, 2.0, 0.25, relative=True).status == "holds"  # exactly at the edge
    assert within("w", 2.75, 2.0, 0.25, relative=True).margin == pytest.approx(-0.5)
    assert at_most("m", 2.0, 2.0).status == "holds" and at_most("m", 2.0, 2.0).margin == 0.0
    assert at_most("m", 3.0, 2.0).margin == pytest.approx(-0.5)
    assert at_least("l", -1.0, -2.0).margin == pytest.approx(0.5)  # fraction of |bound|
    assert at_least("l", 1.0, 2.0).status == "fails"
    nan = within("w", float("nan"), 1.0, 0.5)
    assert nan.status == "inconclusive" and math.isnan(nan.margin)


def test_interval_within_three_valued():
    edge = interval_within("s", (1.75, 2.25), 2.0, 0.25)  # exactly the band (binary fractions)
    assert edge.status == "holds" and edge.margin == 0.0
    straddle = interval_within("s", (1.625, 2.125), 2.0, 0.25)
    assert straddle.status == "inconclusive" and straddle.margin == pytest.approx(-0.5)
    outside = interval_within("s", (2.75, 3.0), 2.0, 0.25)
    assert outside.status == "fails" and outside.margin == pytest.approx(-2.0)


def test_interval_beyond_three_valued():
    assert interval_beyond("b", (0.5, 0.9), 0.5, "above").status == "holds"  # lo == bound
    assert interval_beyond("b", (0.4, 0.9), 0.5, "above").status == "inconclusive"
    assert interval_beyond("b", (0.1, 0.4), 0.5, "above").margin == pytest.approx(-0.2)
    assert interval_beyond("b", (0.1, 0.5), 0.5, "below").status == "holds"  # hi == bound
    assert interval_beyond("b", (0.6, 0.7), 0.5, "below").status == "fails"


@settings(max_examples=200, deadline=None)
@given(
    lo=st.floats(-5, 5),
    width=st.floats(0, 3),
    center=st.floats(-5, 5),
    tol=st.floats(0.01, 3),
    side=st.sampled_from(["above", "below"]),
)
def test_check_margins_agree_with_statuses(lo, width, center, tol, side):
    ci = (lo, lo + width)
    for c in (
        interval_within("w", ci, center, tol),
        interval_beyond("b", ci, center if center != 0 else 1.0, side),
        within("p", lo, center, tol),
    ):
        assert (c.margin >= 0) == (c.status == "holds") or c.status == "inconclusive"
        if c.status == "fails":
            assert c.margin < 0
        if c.status == "holds":
            assert c.margin >= 0


def test_check_refuses_inconsistent_margins():
    with pytest.raises(ValueError, match="negative margin"):
        Check("c", "holds", -0.1, "")
    with pytest.raises(ValueError, match="non-negative margin"):
        Check("c", "fails", 0.0, "")
    with pytest.raises(ValueError, match="NaN margin"):
        Check("c", "holds", float("nan"), "")


def test_exact_and_worst_of():
    assert exact("ids", 0, 12).status == "holds" and exact("ids", 0, 12).margin == 1.0
    bad = exact("ids", 3, 12)
    assert bad.status == "fails" and bad.margin == pytest.approx(-0.25)
    assert exact("ids", 0, 0).status == "inconclusive"
    parts = [within(f"case {i}", v, 0.0, 1.0) for i, v in enumerate((0.2, 0.7, 0.5))]
    w = worst_of("every case", parts)
    assert w.status == "holds" and w.margin == pytest.approx(0.3) and "case 1" in w.detail
    parts.append(within("case 3", 1.5, 0.0, 1.0))
    assert worst_of("every case", parts).status == "fails"
    assert worst_of("every case", parts).margin == pytest.approx(-0.5)
    mixed = worst_of("x", [within("a", 0.1, 0.0, 1.0), within("b", float("nan"), 0.0, 1.0)])
    assert mixed.status == "inconclusive" and mixed.margin == pytest.approx(0.9)


# ------------------------------------------------------------------------------------- slopes
def test_linear_fit_against_a_hand_computed_t_interval():
    x = [0.0, 1.0, 2.0, 3.0]
    y = [0.1, 1.1, 1.9, 3.2]
    n = 4
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((xi - mx) ** 2 for xi in x)
    sxy = sum((xi - mx) * (yi - my) for xi, yi in zip(x, y, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    sse = sum((yi - intercept - slope * xi) ** 2 for xi, yi in zip(x, y, strict=True))
    se = math.sqrt(sse / (n - 2) / sxx)
    # Student t with 2 degrees of freedom has the closed-form quantile (2p-1)/sqrt(2p(1-p)): 4.3027
    t975_2 = 0.95 / math.sqrt(2 * 0.975 * 0.025)
    fit = linear_fit(x, y)
    assert fit.slope == pytest.approx(slope, rel=1e-12)
    assert fit.intercept == pytest.approx(intercept, rel=1e-12)
    assert fit.stderr == pytest.approx(se, rel=1e-10)
    assert fit.ci[0] == pytest.approx(slope - t975_2 * se, rel=1e-9)
    assert fit.ci[1] == pytest.approx(slope + t975_2 * se, rel=1e-9)
    assert fit.n == 4 and fit.as_dict()["ci95"] == list(fit.ci)


def test_linear_fit_exact_line_has_zero_width():
    fit = linear_fit([1, 2, 3, 4], [3, 5, 7, 9])
    assert fit.slope == pytest.approx(2.0) and fit.ci[1] - fit.ci[0] == pytest.approx(0, abs=1e-12)


# ------------------------------------------------------------------------------------ evidence
def test_evidence_combines_parts_into_a_verdict():
    ev = Evidence()
    ev.rate_at_least("in order", 20, 20, 0.8)
    ev.contrast("modified vs plain", [True] * 8, [False] * 8)
    ev.within("slope", 2.02, 2.0, 0.1)
    ev.note("the quick profile can establish rate >= 0.8.")
    v = ev.verdict(predicted="p", measured="m", numbers={"k": 1})
    assert isinstance(v, Verdict) and v.status == "holds"
    lo = clopper_pearson(20, 20)[0]
    margins = [(lo - 0.8) / 0.8, Contrast("c", 8, 0, 8).margin, (0.1 - 0.02) / 0.1]
    assert v.margin == pytest.approx(min(margins))
    assert [r["name"] for r in v.rates] == ["in order"]
    assert v.contrasts[0]["discordant_a"] == 8 and v.checks[0]["name"] == "slope"
    assert "20/20" in v.reason and "quick profile can establish" in v.reason
    assert v.numbers == {"k": 1}


def test_evidence_status_is_fails_then_inconclusive_then_holds():
    ev = Evidence()
    ev.within("ok", 1.0, 1.0, 0.1)
    ev.rate_at_least("unsure", 7, 10, 0.6)  # CI 0.35-0.93 straddles 0.6
    assert ev.status == "inconclusive"
    v = ev.verdict("p", "m")
    assert v.status == "inconclusive" and v.margin is not None and v.margin < 0
    ev.at_most("too big", 3.0, 2.0)
    v = ev.verdict("p", "m")
    assert v.status == "fails" and v.margin == pytest.approx(-0.5)
    empty = Evidence().verdict("p", "m")
    assert empty.status == "inconclusive" and empty.margin is None
    assert combine_status([]) == "inconclusive"
    assert combine_status(["holds", "holds"]) == "holds"
    with pytest.raises(ValueError, match="status"):
        combine_status(["maybe"])  # type: ignore[list-item]


def test_evidence_add_accepts_only_parts():
    ev = Evidence()
    ev.add(rate_at_least("r", 5, 5, 0.5))
    ev.add(Contrast("c", 3, 0, 3))
    ev.add(at_most("m", 1.0, 2.0))
    assert (len(ev.rates), len(ev.contrasts), len(ev.checks)) == (1, 1, 1)
    with pytest.raises(TypeError, match="part"):
        ev.add("not a part")  # type: ignore[arg-type]


def test_control_result_record():
    c = ControlResult("large init", "fails", "rate 0/10 < 0.8", -0.9, runs=10, runs_failed=0)
    assert c.discriminates and not ControlResult("x", "holds", "r").discriminates
    assert {"name": "large init", "verdict": "fails", "reason": "rate 0/10 < 0.8"}.items() <= (
        c.as_dict().items()
    )


# -------------------------------------------------------------------------------- input errors
@pytest.mark.parametrize(
    "call, exc, name",
    [
        (lambda: clopper_pearson(-1, 5), ValueError, "successes"),
        (lambda: clopper_pearson(6, 5), ValueError, "successes"),
        (lambda: clopper_pearson(1.5, 5), TypeError, "successes"),
        (lambda: clopper_pearson(True, 5), TypeError, "successes"),
        (lambda: clopper_pearson(1, -5), ValueError, "trials"),
        (lambda: clopper_pearson(1, 5, level=1.5), ValueError, "level"),
        (lambda: rate_at_least("r", 1, 5, 1.0), ValueError, "threshold"),
        (lambda: rate_at_most("r", 1, 5, "0.5"), TypeError, "threshold"),
        (lambda: Rate("r", 1, 5, 0.5, "sideways"), ValueError, "direction"),  # type: ignore[arg-type]
        (lambda: mcnemar_p_value(-1, 2), ValueError, "discordant_a"),
        (lambda: Contrast("c", 3, 3, 5), ValueError, "pairs"),
        (lambda: Contrast("c", 1, 0, 5, threshold=0.5), ValueError, "threshold"),
        (lambda: paired_contrast("c", [True], [True, False]), ValueError, "length"),
        (lambda: within("w", 1.0, 1.0, 0.0), ValueError, "tol"),
        (lambda: within("w", "1", 1.0, 0.1), TypeError, "measured"),
        (lambda: within("w", 1.0, 0.0, 0.1, relative=True), ValueError, "predicted"),
        (lambda: at_most("m", 1.0, 0.0), ValueError, "bound"),
        (lambda: at_least("m", None, 1.0), TypeError, "value"),
        (lambda: interval_within("s", (2.0, 1.0), 1.5, 0.1), ValueError, "ci"),
        (lambda: interval_within("s", (1.0,), 1.5, 0.1), TypeError, "ci"),
        (lambda: interval_beyond("s", (1.0, 2.0), 1.5, "left"), ValueError, "side"),  # type: ignore[arg-type]
        (lambda: exact("e", 3, 2), ValueError, "failures"),
        (lambda: worst_of("w", []), ValueError, "checks"),
        (lambda: linear_fit([1, 2], [1, 2]), ValueError, "3 points"),
        (lambda: linear_fit([1, 1, 1], [1, 2, 3]), ValueError, "x must"),
        (lambda: linear_fit([1, 2, 3], [1, np.nan, 3]), ValueError, "finite"),
        (lambda: linear_fit([1, 2, 3], [1, 2]), ValueError, "equal length"),
    ],
)
def test_bad_input_names_the_parameter(call, exc, name):
    with pytest.raises(exc, match=name):
        call()


# ------------------------------------------------------------------ planned power (docs/math.md §7.8)
from reports.statistics import (  # noqa: E402
    calibration_estimate,
    homogeneity_p_value,
    rate_decision_probabilities,
    rate_power,
    trials_for_power,
)


def _brute_force_probabilities(p: float, n: int, bar: float, direction: str) -> dict[str, float]:
    """Sum the binomial pmf over every count, judged by Rate itself (scipy's binomtest interval)."""
    from scipy import stats as st

    out = {"holds": 0.0, "fails": 0.0, "inconclusive": 0.0}
    for k in range(n + 1):
        out[Rate("r", k, n, bar, direction).status] += float(st.binom.pmf(k, n, p))  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("direction", ["at_least", "at_most"])
@pytest.mark.parametrize(
    ("p", "n", "bar"), [(0.95, 40, 0.9), (0.6, 25, 0.5), (0.1, 30, 0.2), (0.5, 12, 0.5)]
)
def test_decision_probabilities_match_the_rule_count_by_count(p, n, bar, direction):
    got = rate_decision_probabilities(p, n, bar, direction)
    want = _brute_force_probabilities(p, n, bar, direction)
    for verdict in want:
        # sums of at most n + 1 pmf terms in [0, 1]: rounding <= (n + 1)·2⁻⁵² ≈ 1e-14
        assert got[verdict] == pytest.approx(want[verdict], abs=1e-12)


def test_power_at_the_all_success_boundary():
    # docs/math.md §7.3: with k = n the lower bound is 0.025^{1/n}; >= 0.9 needs n >= 36
    assert rate_power(1.0, 35, 0.9) == 0.0  # no count can clear the bar: an exact zero, no rounding
    assert rate_power(1.0, 36, 0.9) == pytest.approx(1.0, abs=1e-12)


def test_power_of_a_rate_below_the_bar_is_the_probability_of_failing():
    probs = rate_decision_probabilities(0.5, 60, 0.9)
    assert rate_power(0.5, 60, 0.9) == pytest.approx(probs["fails"], abs=1e-15)
    assert probs["fails"] > 0.99  # 0.5 is far below 0.9: 60 runs miss it almost surely


@pytest.mark.parametrize(
    ("p", "bar", "power"), [(0.99, 0.9, 0.9), (0.93, 0.5, 0.8), (0.3, 0.6, 0.9)]
)
def test_trials_for_power_is_the_first_n_reaching_it(p, bar, power):
    n = trials_for_power(p, bar, power)
    assert n is not None
    assert rate_power(p, n, bar) >= power
    assert all(rate_power(p, m, bar) < power for m in range(1, n))


def test_trials_for_power_says_none_when_unaffordable():
    assert trials_for_power(0.905, 0.9, 0.9, max_trials=300) is None


def test_rate_records_expected_and_power():
    r = Rate(
        "x", 40, 40, 0.9, expected=calibration_estimate(20, 20), expected_source="seeds 900-919"
    )
    d = r.as_dict()
    assert d["expected"] == pytest.approx(21 / 22, abs=1e-15)
    assert d["power"] == pytest.approx(rate_power(21 / 22, 40, 0.9), abs=1e-15)
    assert d["power_of"] == "holds"
    assert Rate("y", 3, 4, 0.5).as_dict()["power"] is None  # unplanned: no power claimed


def test_calibration_estimate_is_laplace():
    assert calibration_estimate(0, 0) == 0.5
    assert calibration_estimate(20, 20) == 21 / 22
    with pytest.raises(ValueError, match="successes"):
        calibration_estimate(3, 2)


def test_homogeneity_detects_disagreeing_blocks():
    # the seed blocks of issue 20: 19/20 on one block, 7/20 on another
    assert homogeneity_p_value(19, 20, 7, 20) < 1e-3
    assert homogeneity_p_value(10, 20, 10, 20) == pytest.approx(1.0, abs=1e-12)
    assert homogeneity_p_value(3, 10, 7, 12) == pytest.approx(
        homogeneity_p_value(7, 12, 3, 10), abs=1e-15
    )
    assert homogeneity_p_value(0, 0, 3, 5) == 1.0
