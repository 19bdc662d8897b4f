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
from reports.claims.paper2._deflation import SCALE_METHOD
from reports.claims.paper2._recovery import RecoveryCase
from reports.registry import RunResult

IDS = [
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


def _order_runs(n, in_order_rate, plain_in_order, *, rho=0.8, d0_regime=1e-3, match=True):
    """Regime runs for homogeneous and modified, matched runs for all three arms at δ0 = 0.1."""
    a = order._geometric(rho)
    out = []
    for s in range(n):
        good = s < round(in_order_rate * n)
        for v in ("homogeneous", "modified"):
            m = {"in_order": good, "predicted_in_order": True, "matches_prediction": good}
            out.append(_rr(order.OrderCase(v, a, 4, 10, 20, d0_regime, s, role="regime"), m))
        for v in ("homogeneous", "modified"):
            m = {"in_order": good, "predicted_in_order": True, "matches_prediction": good}
            out.append(_rr(order.OrderCase(v, a, 4, 10, 20, 0.1, s, role="matched"), m))
        pm = {
            "in_order": s < plain_in_order,
            "predicted_in_order": False,
            "matches_prediction": match,
        }
        out.append(_rr(order.OrderCase("plain", a, 4, 10, 20, 0.1, s, role="matched"), pm))
    return out


def test_order_judge_holds_fails_inconclusive():
    pred = order.predict("quick")
    v = order.judge(pred, _order_runs(10, 1.0, 2))
    assert v.status == "holds" and v.margin >= 0
    # 1/10 per arm in order: upper bound 0.45 < 0.6 -> fails
    v = order.judge(pred, _order_runs(10, 0.1, 2))
    assert v.status == "fails" and v.margin < 0
    # 17/20 in order: CI 0.62-0.97 is >= 0.6 ... but plain as often in order -> contrast fails
    v = order.judge(pred, _order_runs(10, 1.0, 10))
    assert v.status == "fails"
    # 4 seeds only: 8/8 in order -> CI lower 0.63 >= 0.6, but 4 pairs cannot make McNemar significant
    v = order.judge(pred, _order_runs(4, 1.0, 0))
    assert v.status == "inconclusive"
    # plain fit order not the escape-time order -> fails
    assert order.judge(pred, _order_runs(10, 1.0, 2, match=False)).status == "fails"


def test_order_full_judges_the_delta0_contrast():
    pred = order.predict("full")
    runs = _order_runs(30, 1.0, 5)
    # same in-order outcome at δ0 = 1e-3 and 0.1: the δ0 contrast has no discordant pair -> fails
    v = order.judge(pred, runs)
    assert v.status == "fails"
    assert any("δ0" in c["name"] and c["status"] == "fails" for c in v.contrasts)
    worse = [
        _rr(r.config, {**r.metrics, "in_order": r.config.seed % 3 == 0})
        if r.config.role == "matched" and r.config.variant == "homogeneous"
        else r
        for r in runs
    ]
    v = order.judge(pred, worse)
    assert any("δ0" in c["name"] and c["status"] == "holds" for c in v.contrasts)


def _recovery_runs(n, mod_ok, plain_ok, d=10, m=10):
    runs = [_rr(RecoveryCase(True, d, m, s), {"success": s < mod_ok}) for s in range(n)]
    runs += [_rr(RecoveryCase(False, d, m, s), {"success": s < plain_ok}) for s in range(n)]
    return runs


def test_recovery_judge_every_size_and_contrast():
    pred = recovery.predict("full")
    big = (
        _recovery_runs(30, 30, 10)
        + _recovery_runs(30, 30, 10, d=20)
        + _recovery_runs(30, 29, 10, d=40)
        + _recovery_runs(30, 30, 10, d=20, m=20)
    )
    v = recovery.judge(pred, big)
    assert v.status == "holds" and v.margin >= 0
    # one size at 25/30 (CI 0.65-0.94 straddles 0.75): inconclusive
    assert recovery.judge(pred, big + _recovery_runs(30, 25, 10, d=40, m=20)).status == (
        "inconclusive"
    )
    # one size at 15/30 (upper bound 0.69 < 0.75) fails even though the pool is high
    bad = recovery.judge(pred, big + _recovery_runs(30, 15, 10, d=40, m=20))
    assert bad.status == "fails" and bad.margin < 0
    # no re-init as good as the modified flow: the contrast fails
    assert recovery.judge(pred, _recovery_runs(30, 30, 30)).status == "fails"
    # "map" sizes are not judged
    mapped = big + [
        _rr(RecoveryCase(True, 40, 5, s, role="map"), {"success": False}) for s in range(30)
    ]
    assert recovery.judge(pred, mapped).status == "holds"
    # the control (m < r): nothing recovered -> fails
    ctrl = [_rr(c, {"success": False}) for c in recovery.controls("full")["m < r"]]
    assert recovery.judge(pred, ctrl).status == "fails"


def test_mneeded_judge_and_crossings():
    pred = m_needed.predict("full")
    runs = []
    for d in (10, 20):
        for k, (mod, plain) in {1: (0, 0), 2: (20, 8), 4: (20, 18)}.items():
            role_mod = "judged" if k >= 2 else "map"
            runs += [
                _rr(RecoveryCase(True, d, 5 * k, s, role=role_mod), {"success": s < mod})
                for s in range(20)
            ]
            runs += [
                _rr(RecoveryCase(False, d, 5 * k, s, role="map"), {"success": s < plain})
                for s in range(20)
            ]
    v = m_needed.judge(pred, runs)
    assert v.status == "holds"
    assert v.numbers["crossings"]["modified d=10"] == 2
    assert v.numbers["crossings"]["no_reinit d=10"] is None
    control = [_rr(RecoveryCase(False, 20, 10, s), {"success": s < 10}) for s in range(20)]
    assert m_needed.judge(pred, control).status == "fails"
    few = [_rr(RecoveryCase(True, 10, 10, s), {"success": s < 15}) for s in range(20)]
    assert m_needed.judge(pred, few).status == "inconclusive"  # 15/20: CI 0.51-0.91 vs 0.8


def test_discovery_epoch_range_from_the_formula():
    # a = 1, δ1/δ0 = 100: growth ln(1e4)/4 = 2.30; plus 1/8 (u0 = 1) or 10/8 (u0 = 1/d, d = 10)
    assert epochs.discovery_epoch_range(1.0, 10) == (2, 2)  # 2.43 and 3.55 -> epochs of length 4
    lo, hi = epochs.discovery_epoch_range(0.05, 10)  # 46.1 + 2.5 = 48.6 -> 6; 46.1 + 25 = 71.1 -> 7
    assert (lo, hi) == (6, 7)


def _epoch_runs(slope, inside=True, n=15):
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
                    {"found_epoch": found, "predicted_range": rng, "epochs": n_ep, "success": True},
                )
            )
    return runs


def test_epoch_judge():
    pred = epochs.predict("full")
    assert epochs.judge(pred, _epoch_runs(1.0)).status == "holds"
    assert epochs.judge(pred, _epoch_runs(1.0, inside=False)).status == "fails"
    assert epochs.judge(pred, _epoch_runs(2.0)).status == "fails"  # slope 2 outside 1 ± 0.5


def test_sensitivity_judge():
    pred = sensitivity.predict("full")
    ok = {"success": True, "in_order": True, "redundant_copies": 0}
    grid = [
        _rr(sensitivity.SensitivityCase(d1, g, 10, 20, s), ok)
        for d1 in sensitivity.SENS_DELTA1
        for g in sensitivity.SENS_GAMMA
        for s in range(10)
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
    few = [_rr(sensitivity.SensitivityCase(0.1, 2.0, 10, 20, s), ok) for s in range(5)]
    assert sensitivity.judge(sensitivity.predict("quick"), few).status == "inconclusive"


def test_nonorth_and_matrix_judges():
    pred = nonorth.predict("full")
    cfgs = [
        nonorth.NonOrthCase(nonorth.NONORTH_C, d, 50, 1e-3, s) for d in (50, 20) for s in range(30)
    ]
    good = {"in_order": True, "recovered": True, "relative_error": 1e-4, "coherence": 0.3}
    assert nonorth.judge(pred, [_rr(c, good) for c in cfgs]).status == "holds"
    half = [_rr(c, {**good, "in_order": c.seed % 2 == 0}) for c in cfgs]
    assert nonorth.judge(pred, half).status == "fails"
    mp = matrix.predict("quick")
    mc = [matrix.MatrixCase(matrix.MATRIX_A, 10, 10, 1e-4, s) for s in range(10)]
    ok = {"in_order": True, "plateaus_ok": True, "max_plateau_dev": 0.01}
    assert matrix.judge(mp, [_rr(c, ok) for c in mc]).status == "holds"
    off = [_rr(c, {**ok, "plateaus_ok": c.seed < 2, "max_plateau_dev": 0.1}) for c in mc]
    assert matrix.judge(mp, off).status == "fails"
    assert matrix.judge(mp, [_rr(c, ok) for c in mc[:5]]).status == "inconclusive"


@pytest.mark.parametrize("cid", MIGRATED)
def test_plots_work_without_results(cid):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    claim = get_claim(cid)
    claim.plot(claim.predict("quick"), [], Figure())


def test_order_scale_profile_uses_scale_method():
    claim = get_claim("deflation.order")
    assert "scale" in claim.profiles
    cfgs = claim.configs("scale")
    assert {c.d for c in cfgs} == {1000, 2000}
    assert len(set(cfgs)) == len(cfgs)
    assert {c.variant for c in cfgs} == {"homogeneous", "plain"}
    assert all(c.method == SCALE_METHOD for c in cfgs)
