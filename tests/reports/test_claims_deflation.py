"""The deflation claims: registration, configs, and judges that can fail (no experiments run here)."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from reports.catalog import get_claim
from reports.claims.paper2 import deflation_algorithm_sensitivity as sensitivity
from reports.claims.paper2 import deflation_epochs as epochs
from reports.claims.paper2 import deflation_m_needed as m_needed
from reports.claims.paper2 import deflation_matrix_case as matrix
from reports.claims.paper2 import deflation_non_orthogonal as nonorth
from reports.claims.paper2 import deflation_order as order
from reports.claims.paper2 import deflation_recovery as recovery
from reports.claims.paper2._recovery import RecoveryCase
from reports.registry import RunResult

IDS = [
    "deflation.m-star-law",
    "deflation.order",
    "deflation.fit-times",
    "deflation.recovery",
    "deflation.staircase",
    "deflation.regulariser-bias",
    "deflation.norm-correlation",
    "deflation.non-orthogonal",
    "deflation.matrix-case",
    "deflation.m-needed",
    "deflation.epochs",
    "deflation.algorithm-sensitivity",
]
MIGRATED = [
    "deflation.order",
    "deflation.recovery",
    "deflation.non-orthogonal",
    "deflation.matrix-case",
    "deflation.m-needed",
    "deflation.epochs",
    "deflation.algorithm-sensitivity",
]


def _rr(cfg, metrics):
    return RunResult(config=cfg, metrics=metrics, error=None, wall_time=0.0)


@pytest.mark.parametrize("cid", IDS)
def test_registered_with_configs_for_both_profiles(cid):
    claim = get_claim(cid)
    for profile in ("quick", "full"):
        cfgs = claim.configs(profile)
        assert cfgs, profile
        assert len(set(cfgs)) == len(cfgs)  # hashable and distinct
        json.dumps(dataclasses.asdict(cfgs[0]))
        json.dumps(claim.predict(profile))
    assert len(claim.configs("full")) >= len(claim.configs("quick"))
    assert claim.tolerance and claim.method


# ---------------------------------------------------------------- the migrated claims (evidence rules)


@pytest.mark.parametrize("cid", MIGRATED)
def test_controls_exist_distinct_and_tolerance_sourced(cid):
    claim = get_claim(cid)
    assert claim.tolerance_source.startswith(("derived:", "calibrated:"))
    for profile in ("quick", "full"):
        judged = set(claim.configs(profile))
        controls = claim.controls(profile)
        assert controls, profile
        for cfgs in controls.values():
            assert cfgs and not (set(cfgs) & judged)


def _order_runs(
    n, a_order, per_run=1.0, plain_in_order=2, plain_match=True, rho=0.8, n_matched=None
):
    """Regime runs (homogeneous, modified) and matched runs (homogeneous, plain at δ0 = 0.1)."""
    a = order._geometric(rho)
    out = []
    for s in range(n):
        good = s < round(a_order * n)
        match = s < round(per_run * n)
        m = {
            "in_order": good,
            "predicted_in_order": True,
            "matches_prediction": match,
            "leading_in_order": True,
        }
        for v in ("homogeneous", "modified"):
            out.append(_rr(order.OrderCase(v, a, 4, 10, 20, 1e-6, s), m))
    for s in range(n if n_matched is None else n_matched):
        hm = {
            "in_order": s < n // 2,
            "predicted_in_order": True,
            "matches_prediction": True,
            "leading_in_order": True,
        }
        out.append(_rr(order.OrderCase("homogeneous", a, 4, 10, 20, 0.1, s, role="matched"), hm))
        pm = {
            "in_order": s < plain_in_order,
            "predicted_in_order": False,
            "matches_prediction": plain_match,
            "leading_in_order": False,
        }
        out.append(_rr(order.OrderCase("plain", a, 4, 10, 20, 0.1, s, role="matched"), pm))
    return out


def test_order_judge_holds_fails_inconclusive():
    pred = order.predict("full")  # bars 0.9 (registered)
    v = order.judge(pred, _order_runs(100, 1.0))
    assert v.status == "holds" and v.margin >= 0, v.reason
    # a-order 20/100: fails
    assert order.judge(pred, _order_runs(100, 0.2)).status == "fails"
    # runs in a-order but not in their predicted order (per-run rate 50/100): fails
    assert order.judge(pred, _order_runs(100, 1.0, per_run=0.5)).status == "fails"
    # 92/100 in a-order: CI 0.85-0.96 straddles 0.9 -> inconclusive
    assert order.judge(pred, _order_runs(100, 0.92)).status == "inconclusive"
    # plain as often in a-order as homogeneous on the matched runs: the McNemar contrast fails
    assert order.judge(pred, _order_runs(100, 1.0, plain_in_order=60)).status == "fails"
    # plain not in its escape-time order: fails
    assert order.judge(pred, _order_runs(100, 1.0, plain_match=False)).status == "fails"


def test_order_prediction_table_counts_the_runs_predicted_out_of_order():
    rows = [
        {"predicted_in_order": p, "in_order": m}
        for p, m in [(True, True), (True, True), (False, False), (True, False), (False, True)]
    ]
    assert order._prediction_table(rows) == {"pp": 2, "pn": 1, "np": 1, "nn": 1}


def test_order_scale_profile_is_the_initial_alignment_regime():
    claim = get_claim("deflation.order")
    cfgs = claim.configs("scale")
    assert {c.d for c in cfgs} == {1000, 2000}
    assert {c.variant for c in cfgs} == {"homogeneous"}
    for c in cfgs:  # δ0 = d^-16 and m = m_ia(d): the condition has probability >= 0.9 there
        assert c.delta0 == pytest.approx(c.d**-16.0)
        assert order.scale_m(c.d) == c.m
    controls = claim.controls("scale")["m far below m_ia(d)"]
    assert all(c.m < order.scale_m(c.d) // 5 for c in controls)
    assert not set(controls) & set(cfgs)


def _recovery_runs(n, mod_ok, plain_ok, d=10, m=10):
    runs = [_rr(RecoveryCase(True, d, m, s), {"success": s < mod_ok}) for s in range(n)]
    runs += [
        _rr(RecoveryCase(False, d, m, s, role="paired"), {"success": s < plain_ok})
        for s in range(n)
    ]
    return runs


def test_recovery_judge_every_size_and_contrast():
    pred = recovery.predict("full")  # registered: 0.85 per size, 0.95 pooled
    big = []
    for d in (10, 20, 40):
        for m in (10, 20):
            big += _recovery_runs(70, 70, 30, d=d, m=m)
    v = recovery.judge(pred, big)
    assert v.status == "holds" and v.margin >= 0, v.reason
    # one size at 60/70 (CI 0.75-0.93 straddles 0.85): inconclusive
    worse = [
        _rr(r.config, {"success": r.config.seed < 60})
        if (r.config.reinit and (r.config.d, r.config.m) == (40, 20))
        else r
        for r in big
    ]
    assert recovery.judge(pred, worse).status == "inconclusive"
    # one size at 40/70 (upper bound < 0.85) fails
    bad = [
        _rr(r.config, {"success": r.config.seed < 40})
        if (r.config.reinit and (r.config.d, r.config.m) == (40, 20))
        else r
        for r in big
    ]
    assert recovery.judge(pred, bad).status == "fails"
    # no re-init as good as the modified flow: the contrast fails
    assert recovery.judge(pred, _recovery_runs(70, 70, 70)).status == "fails"
    # the control (m < r): nothing recovered -> fails
    ctrl = [_rr(c, {"success": False}) for c in recovery.controls("full")["m < r"]]
    assert recovery.judge(pred, ctrl).status == "fails"


def test_recovery_history_records_the_bars_lowered_after_results():
    from reports.registered import registration

    reg = registration("deflation.recovery")
    lowered = [c for c in reg.history if c.commit.startswith("49bd9d8")]
    assert lowered and lowered[0].results_seen
    assert reg.changed_after_results
    # the registered full bars are the first registration's, not the lowered ones
    assert reg.bar("full", "per_size") == 0.85 and reg.bar("full", "pooled") == 0.95


def test_mneeded_judge_per_d_and_control():
    pred = m_needed.predict("full")
    runs = [
        _rr(RecoveryCase(True, d, 10, 400 + s), {"success": True})
        for d in (10, 20, 40)
        for s in range(50)
    ]
    runs += [
        _rr(RecoveryCase(False, 10, 20, 400 + s, role="map"), {"success": s < 3}) for s in range(10)
    ]
    v = m_needed.judge(pred, runs)
    assert v.status == "holds", v.reason
    control = [
        _rr(c, {"success": c.seed % 2 == 0})
        for c in m_needed.controls("full")["no re-init at m/r = 2"]
    ]
    assert m_needed.judge(pred, control).status == "fails"  # 15/30 vs 0.8
    few = [_rr(RecoveryCase(True, 10, 10, 400 + s), {"success": s < 40}) for s in range(50)]
    assert m_needed.judge(pred, few).status == "inconclusive"  # 40/50: CI 0.66-0.90 vs 0.8


def test_discovery_epoch_range_from_the_formula():
    # a = 1, δ1/δ0 = 100: growth ln(1e4)/4 = 2.30; plus 1/8 (u0 = 1) or 10/8 (u0 = 1/d, d = 10)
    assert epochs.discovery_epoch_range(1.0, 10) == (2, 2)  # 2.43 and 3.55 -> epochs of length 4
    lo, hi = epochs.discovery_epoch_range(0.05, 10)  # 46.1 + 2.5 = 48.6 -> 6; 46.1 + 25 = 71.1 -> 7
    assert (lo, hi) == (6, 7)


def _epoch_runs(slope, inside=True, n=25, success=True):
    runs = []
    for am in (0.2, 0.1, 0.05, 0.025):
        a = epochs._epoch_coeffs(am)
        rng = [list(epochs.discovery_epoch_range(x, 10)) for x in a]
        found = [r[0] if inside else r[0] - 1 for r in rng]
        for s in range(n):
            n_ep = 4 + slope * math.log2(1 / am) + (s % 2)
            runs.append(
                _rr(
                    epochs.EpochCase(am, 10, 20, s),
                    {
                        "found_epoch": found,
                        "predicted_range": rng,
                        "epochs": n_ep,
                        "success": success,
                    },
                )
            )
    return runs


def test_epoch_judge_rates_and_the_reported_slope():
    pred = epochs.predict("full")
    assert epochs.judge(pred, _epoch_runs(1.0)).status == "holds"
    assert epochs.judge(pred, _epoch_runs(1.0, inside=False)).status == "fails"
    assert epochs.judge(pred, _epoch_runs(1.0, success=False)).status == "fails"
    # the slope is reported, not judged: slope 2 does not change the verdict, but is quoted
    v = epochs.judge(pred, _epoch_runs(2.0))
    assert v.status == "holds" and "slope 2.00" in v.reason


def test_sensitivity_judge():
    pred = sensitivity.predict("full")
    ok = {"success": True, "in_order": True, "redundant_copies": 0}
    grid = [
        _rr(sensitivity.SensitivityCase(d1, g, 10, 20, s), ok)
        for d1 in sensitivity.SENS_DELTA1
        for g in sensitivity.SENS_GAMMA
        for s in range(18)
    ]
    pair = [
        _rr(
            sensitivity.SensitivityCase(d1, g, 10, 10, s, role="contrast"),
            {**ok, "success": d1 == 0.3 or s < 5},
        )
        for d1 in (0.01, 0.3)
        for g in sensitivity.SENS_GAMMA
        for s in range(10)
    ]
    assert sensitivity.judge(pred, grid + pair).status == "holds"
    no_effect = [_rr(r.config, ok) for r in pair]  # δ1 makes no difference at m = 2r
    assert sensitivity.judge(pred, grid + no_effect).status == "fails"
    control = [
        _rr(sensitivity.SensitivityCase(0.1, 2.0, 10, 4, s), {**ok, "success": False})
        for s in range(20)
    ]
    assert sensitivity.judge(pred, control).status == "fails"
    few = [_rr(sensitivity.SensitivityCase(0.1, 2.0, 10, 20, s), ok) for s in range(4)]
    assert sensitivity.judge(sensitivity.predict("quick"), few).status == "inconclusive"


def test_nonorth_and_matrix_judges():
    pred = nonorth.predict("full")
    cfgs = [
        nonorth.NonOrthCase(nonorth.NONORTH_C, rho, 20, 40, 1e-3, s)
        for rho in (0.3, 0.5)
        for s in range(50)
    ]
    good = {"in_order": True, "relative_error": 1e-4, "coherence": 0.5, "kendall_tau": 1.0}
    assert nonorth.judge(pred, [_rr(c, good) for c in cfgs]).status == "holds"
    half = [_rr(c, {**good, "in_order": c.seed % 2 == 0}) for c in cfgs]
    assert nonorth.judge(pred, half).status == "fails"
    # the error threshold is the registered tolerance (1e-2): 2e-2 fails
    far = [_rr(c, {**good, "relative_error": 2e-2}) for c in cfgs]
    assert nonorth.judge(pred, far).status == "fails"
    mp = matrix.predict("quick")
    mc = [matrix.MatrixCase(matrix.MATRIX_A, 10, 10, 1e-4, s) for s in range(20)]
    ok = {"in_order": True, "max_plateau_dev": 0.01}
    assert matrix.judge(mp, [_rr(c, ok) for c in mc]).status == "holds"
    off = [_rr(c, {**ok, "max_plateau_dev": 0.01 if c.seed < 4 else 0.1}) for c in mc]
    assert matrix.judge(mp, off).status == "fails"
    assert matrix.judge(mp, [_rr(c, ok) for c in mc[:5]]).status == "inconclusive"


def test_nonorth_targets_have_the_prescribed_coherence():
    import numpy as np

    T = nonorth.coherent_target(nonorth.NONORTH_C, 20, 0.5, 3)
    G = T.components @ T.components.T
    # unit components, every pairwise inner product 0.5 (rounding of a QR factor: 1e-12)
    np.testing.assert_allclose(G, 0.5 + 0.5 * np.eye(4), atol=1e-12)


def test_matrix_case_prints_the_tolerance_it_judges():
    claim = get_claim("deflation.matrix-case")
    rtol = matrix.predict("full")["plateau_rtol"]
    assert f"{rtol:.1%}" in claim.tolerance  # "2.5%", not a rounded "2%"


@pytest.mark.parametrize("cid", MIGRATED)
def test_plots_work_without_results(cid):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    claim = get_claim(cid)
    claim.plot(claim.predict("quick"), [], Figure())


def test_sensitivity_quick_shows_the_original_bar_beside_the_lowered_one():
    """The quick bar was lowered after results (0.7 -> 0.5, history): the registered bar decides, the
    verdict under the original bar is shown beside it (issue 22)."""
    pred = sensitivity.predict("quick")
    assert pred["min_rate"] == 0.5 and pred["original_bar"] == 0.7
    ok = {"success": True, "in_order": True, "redundant_copies": 0}
    runs = [
        _rr(sensitivity.SensitivityCase(d1, 2.0, 10, 20, s), ok)
        for d1 in (0.01, 0.3)
        for s in range(8)
    ]
    v = sensitivity.judge(pred, runs)
    assert v.status == "holds"  # 16/16: CI lower 0.79 >= 0.5
    assert (
        "Under the original bar 0.7" in v.reason
        and "inconclusive" not in v.reason.split("Under")[0]
    )
    assert sensitivity.predict("full")["original_bar"] is None
