"""Paper 1's scaling laws: the m* search, exponents and what a design can produce, the crossed controls
of the separation, and the trend at m = r (docs/math.md §10.2, §10.7, §10.8). Judges are fed
constructed results that must hold, fail or count a censored cell against the claim."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.catalog import all_claims
from reports.claims.paper1 import _mstar as M
from reports.claims.paper1 import beyond_bad_local_minima as BL
from reports.claims.paper1 import beyond_m_equals_r as ER
from reports.claims.paper1 import beyond_m_vs_d as MD
from reports.claims.paper1 import beyond_m_vs_r as MR
from reports.claims.paper1 import lazy_threshold_scaling as TS
from reports.claims.paper1._lazythreshold import ThresholdRun
from reports.claims.paper1._trend import trend_check, trend_power, trend_statistic
from reports.registered import CALIBRATION_OFFSET, POWER_TARGET, registration, shift_seeds
from reports.registry import RunResult


def _rr(cfg: object, **metrics: object) -> RunResult:
    return RunResult(config=cfg, metrics=metrics, error=None, wall_time=0.0)


def _search(cfg: M.MStarSearch, value: int, censored: bool = False) -> RunResult:
    return _rr(cfg, m_star=None if censored else value, censored=censored, value=value, probes=[])


# ------------------------------------------------------------------------------------ the search
@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(1, 20),
    extra=st.integers(0, 300),
    threshold=st.integers(1, 400),
)
def test_search_finds_the_smallest_passing_m_or_is_censored(start, extra, threshold):
    ceiling = start + extra
    res = M.search_m_star(lambda m: m >= threshold, start, ceiling)
    probed = [m for m, _ in res.probes]
    assert all(start <= m <= ceiling for m in probed)
    assert len(set(probed)) == len(probed)  # nothing probed twice
    if threshold > ceiling:
        assert res.censored and res.m_star is None and res.value == ceiling
        assert max(probed) == ceiling  # the ceiling itself was tried
    else:
        assert not res.censored and res.m_star == max(threshold, start) == res.value
    # doubling (log2(ceiling/start) + 1 probes) then bisection of a gap below the ceiling
    assert len(probed) <= math.ceil(math.log2(ceiling / start)) + math.ceil(math.log2(ceiling)) + 2


def test_search_refuses_bad_bounds():
    with pytest.raises(ValueError, match="start"):
        M.search_m_star(lambda m: True, 0, 5)
    with pytest.raises(ValueError, match="start must be <= ceiling"):
        M.search_m_star(lambda m: True, 6, 5)


def test_passes_needed_is_the_ceiling_of_level_times_n():
    assert M.passes_needed(0.8, 10) == 8
    assert M.passes_needed(0.6, 5) == 3
    assert M.passes_needed(0.75, 10) == 8


def test_m_star_experiment_on_a_small_case():
    # real runs: d = 10, a block of 3 seeds, level 2/3: m* is found between r and the ceiling, and the
    # probes' counts are consistent with the pass rule
    cfg = M.MStarSearch("reinit", 3, 10, 3, 900_000, 3, 0.6, 24)
    out = M.m_star_experiment(cfg)
    assert not out["censored"] and 3 <= out["m_star"] <= 24
    for _m, ok, k in out["probes"]:
        assert ok == (k >= M.passes_needed(0.6, 3))
    assert [m for m, ok, _ in out["probes"] if ok and m == out["m_star"]]


# -------------------------------------------------------------------------------- the exponents
def test_exponent_fit_recovers_a_power_law_and_a_flat_one():
    pts = [M.MStarPoint("s", d, round(2 * d**0.5), False) for d in (16, 64, 256, 1024)]
    fit = M.exponent_fit(pts)
    assert fit["exponent"]["slope"] == pytest.approx(0.5, abs=0.01)
    flat = [M.MStarPoint("s", d, 3, False) for d in (10, 20, 50)]
    assert M.exponent_fit(flat)["exponent"] == {"slope": 0.0, "ci95": [0.0, 0.0], "flat": True}
    assert not M.exponent_fit(flat[:2])["estimable"]


def test_largest_exponent_is_the_maximum_over_every_extreme_design():
    # brute force over every assignment of start/ceiling to the cells (the slope is linear in the
    # log m*, so its maximum over the box is at a vertex)
    xs, lows, highs = [10, 20, 50, 100, 200], [3] * 5, [256] * 5
    lx = np.log(xs)
    best = max(
        np.polyfit(
            lx, np.log([h if pick else lo for pick, lo, h in zip(p, lows, highs, strict=True)]), 1
        )[0]
        for p in itertools.product((0, 1), repeat=5)
    )
    assert M.largest_exponent(xs, lows, highs) == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "largest", "bound"),
    [
        *[
            (f"beyond.m-vs-d[{p}]", MD.design_largest_exponent(p), MD.BOUND)
            for p in ("quick", "full", "scale")
        ],
        *[
            (f"beyond.m-vs-r[{p}]", MR.design_largest_exponent(p), MR.BOUND)
            for p in ("quick", "full")
        ],
    ],
)
def test_designs_can_produce_exponents_beyond_their_bounds(name, largest, bound):
    """A law judged as 'exponent below a bound' must be able to fail: the grid, start and ceiling
    can produce an exponent above bound + 1 (docs/math.md §10.7)."""
    assert largest > bound + 1, f"{name}: largest producible exponent {largest:.2f} vs {bound}"


def test_the_paper_r_bound_itself_cannot_be_reached_and_is_not_judged():
    # 2.5l = 7.5 at l = 3: an exponent above it over r in [1, 8] needs m*(8)/m*(1) > 8^8.5
    assert MR.design_largest_exponent("full") < 2.5 * 3
    assert MR.BOUND < 2.5 * 3


# ---------------------------------------------------------------------------------- m-vs-d judge
def _mvd(value_of, arms=M.ARMS, censored_at=None):
    out = []
    for cfg in MD.configs("full"):
        if cfg.arm not in arms:
            continue
        v = value_of(cfg.d)
        cens = censored_at is not None and cfg.d == censored_at
        out.append(_search(cfg, cfg.ceiling if cens else v, cens))
    return out


def test_m_vs_d_holds_for_logarithmic_growth_and_fails_for_a_power():
    pred = MD.predict("full")
    v = MD.judge(pred, _mvd(lambda d: 3 + round(math.log(d) / 2)))
    assert v.status == "holds" and v.margin >= 0
    series = v.numbers["series"][M.ARM_LABEL["none"]]
    assert series["fit"]["exponent"]["ci95"][1] < 0.5
    v = MD.judge(pred, _mvd(lambda d: max(3, round(d**0.8))))
    assert v.status == "fails" and v.margin < 0


def test_m_vs_d_counts_a_censored_cell_against_the_claim():
    pred = MD.predict("full")
    v = MD.judge(pred, _mvd(lambda d: 3, censored_at=200))
    assert v.status == "fails"
    assert "censored" in v.reason


def test_m_vs_d_crossed_control_lazy_threshold_fails():
    # the lazy threshold m*_ε ~ (1 - ε)·D/d grows like d²: the variant's judge must fail it
    pred = MD.predict("full")
    cfgs = [c for cs in MD.controls("full").values() for c in cs]
    assert list(MD.controls("full")) == [MD.CROSSED]
    assert all(isinstance(c, ThresholdRun) for c in cfgs)
    runs = []
    for c in cfgs:
        D_d = math.comb(c.d + 2, 3) / c.d
        runs.append(_rr(c, m_star={"0.3": round(0.7 * D_d), "0.1": round(0.9 * D_d)}, D_over_d=D_d))
    v = MD.judge(pred, runs)
    assert v.status == "fails" and v.margin < 0


def test_lazy_judge_on_the_variant_is_the_other_crossed_control():
    # lazy.threshold-scaling's judge on the variant's flat m*(d) fails (m*/(D/d) ~ d^{-2})
    pred = TS.predict("full")
    runs = [_search(c, 3) for cs in TS.controls("full").values() for c in cs]
    assert TS.judge(pred, runs).status == "fails"
    # and on m* that keeps pace with D/d it holds (the claim's own situation, for contrast)
    keep = []
    for c in TS.configs("full"):
        D_d = math.comb(c.d + c.order - 1, c.order) / c.d
        keep.append(_rr(c, m_star={"0.3": round(0.7 * D_d), "0.1": round(0.9 * D_d)}, D_over_d=D_d))
    assert TS.judge(pred, keep).status == "holds"


# ---------------------------------------------------------------------------------- m-vs-r judge
def test_m_vs_r_judges_the_testable_bound_and_counts_censoring():
    pred = MR.predict("full")
    cfgs = MR.configs("full")
    v = MR.judge(pred, [_search(c, c.r + (c.r > 3)) for c in cfgs])
    assert v.status == "holds"
    v = MR.judge(pred, [_search(c, min(c.ceiling, c.r**3)) for c in cfgs])  # exponent 3 > 2
    assert v.status == "fails"
    last = cfgs[-1]
    runs = [_search(c, c.r) for c in cfgs[:-1]] + [_search(last, last.ceiling, censored=True)]
    assert MR.judge(pred, runs).status == "fails"


def test_m_vs_r_crossed_control_lazy_exceeds_the_ceiling():
    pred = MR.predict("full")
    runs = [
        _rr(c, m_star={"0.3": 301, "0.1": 387}, D_over_d=442.0)
        for cs in MR.controls("full").values()
        for c in cs
    ]
    v = MR.judge(pred, runs)
    assert v.status == "fails" and "censored" in v.reason


# ------------------------------------------------------------------------------- trend at m = r
def test_trend_statistic_by_hand():
    # two groups, scores 0 and 1: z is the two-proportion statistic with the pooled variance
    k, n = [15, 5], [20, 20]
    p = 20 / 40
    z = (5 - 20 * p) / math.sqrt(p * (1 - p) * (20 - 20**2 / 40))
    assert trend_statistic(k, n, [0.0, 1.0]) == pytest.approx(z)
    assert trend_statistic([20, 20], [20, 20], [0.0, 1.0]) == 0.0
    with pytest.raises(ValueError):
        trend_statistic([3, 30], [20, 20], [0.0, 1.0])


def test_trend_check_is_three_valued():
    assert trend_check("t", -3.0, "decreasing", 0.05).status == "holds"
    assert trend_check("t", -1.0, "decreasing", 0.05).status == "inconclusive"
    assert trend_check("t", 0.5, "decreasing", 0.05).status == "fails"
    assert trend_check("t", 0.5, "increasing", 0.05).status == "inconclusive"
    with pytest.raises(ValueError, match="direction"):
        trend_check("t", 0.0, "down", 0.05)


def test_trend_power_matches_the_normal_approximation():
    # a large design: power ~ Φ(|μ|/σ - z_{0.95}) within Monte Carlo error
    xs = [0.0, 1.0]
    pw = trend_power([0.6, 0.4], [200, 200], xs, "decreasing", 0.05, draws=20000)
    diff, se = 0.2, math.sqrt(2 * 0.5 * 0.5 / 200)
    from scipy import stats

    assert pw["holds"] == pytest.approx(stats.norm.cdf(diff / se - 1.645), abs=0.02)


def _mer(rates):
    out = []
    for c in ER.configs("full"):
        k = rates[c.d]
        out.append(_rr(c, success=(c.seed - ER.SEED0) < k, relative_error=0.1, n_steps=10))
    return out


def test_m_equals_r_judge_and_its_control():
    pred = ER.predict("full")
    v = ER.judge(pred, _mer({10: 22, 20: 18, 50: 16, 100: 14, 200: 7}))
    assert v.status == "holds" and v.numbers["trend_z"] < -1.645
    assert v.numbers["rates"]["200"]["successes"] == 7
    # rising or flat (the over-parametrised control's situation): fails
    assert ER.judge(pred, _mer({10: 28, 20: 25, 50: 27, 100: 25, 200: 33})).status == "fails"
    assert ER.judge(pred, _mer(dict.fromkeys((10, 20, 50, 100, 200), 20))).status == "fails"


def test_m_equals_r_trend_has_its_planned_power():
    for profile in ("quick", "full"):
        p = ER.planned_trend_power(profile)
        assert p["claim"]["holds"] >= POWER_TARGET[profile], (profile, p)
        assert p["control"]["fails"] >= POWER_TARGET[profile], (profile, p)


# ------------------------------------------------------------------------- bad local minima power
def test_bad_local_minima_existence_has_its_planned_power():
    """Existence (at least one certified spurious minimum in n runs) at the calibrated rate p̂:
    power 1 - (1 - p̂)^n (docs/math.md §10.3)."""
    reg = registration("beyond.bad-local-minima")
    for profile in ("quick", "full"):
        k = reg.tolerance("calibration_spurious", profile)
        n_cal = reg.tolerance("calibration_trials", profile)
        p = (k + 1) / (n_cal + 2)
        n = len(BL.configs(profile))
        assert 1 - (1 - p) ** n >= POWER_TARGET[profile], profile


# --------------------------------------------------------------------------------- seed fields
def test_only_seeds_move_with_the_seed_blocks():
    """Every paper-1 config field whose name contains 'seed' is a seed: moving a block by the
    calibration offset changes those fields and nothing else (a size named '*seed*' would grow)."""
    for claim in all_claims():
        if not claim.id.startswith(("lazy.", "beyond.")):
            continue
        for profile in claim.profiles:
            cfgs = list(claim.configs(profile))
            if claim.controls is not None:
                cfgs += [c for cs in claim.controls(profile).values() for c in cs]
            for cfg in cfgs[:50]:
                moved = shift_seeds(cfg, CALIBRATION_OFFSET)
                for f in dataclasses.fields(cfg):
                    a, b = getattr(cfg, f.name), getattr(moved, f.name)
                    if "seed" in f.name:
                        assert b == a + CALIBRATION_OFFSET, (claim.id, f.name)
                        assert f.name in ("seed",) or f.name.endswith("_seed"), (claim.id, f.name)
                    else:
                        assert a == b
