"""The deflation claims: registration, configs, and judges that can fail (no experiments run here)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import theory
from reports.claims import deflation as D
from reports.registry import RunResult, get_claim

IDS = [
    "deflation.order",
    "deflation.fit-times",
    "deflation.recovery",
    "deflation.staircase",
    "deflation.regulariser-bias",
    "deflation.norm-correlation",
    "deflation.non-orthogonal",
    "deflation.matrix-case",
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


def test_order_judge_fails_when_out_of_order():
    pred = D.order_predict("quick")
    good = [
        _rr(
            D.OrderCase(v, D.A5, 4, 10, 20, 1e-3, s),
            {
                "in_order": True,
                "fit_order": [0, 1, 2, 3, 4],
                "fit_times": [1.0, 2.0, 3.0, 4.0, 5.0],
                "n_fitted": 5,
                "x0": [],
            },
        )
        for v in ("homogeneous", "modified")
        for s in range(5)
    ]
    x0 = [0.3, 0.25, 0.2]  # escape times increase: predicted order 0, 1, 2
    plain = [
        _rr(
            D.OrderCase("plain", D.CLOSE, 4, 10, 20, 0.1, s),
            {"in_order": True, "fit_order": [0, 1, 2], "x0": x0},
        )
        for s in range(5)
    ]
    assert D.order_judge(pred, good + plain).status == "holds"
    bad = [
        _rr(c, {**m, "in_order": False}) if c.variant == "modified" and c.seed < 2 else _rr(c, m)
        for c, m in ((r.config, r.metrics) for r in good)
    ]
    assert D.order_judge(pred, bad + plain).status == "fails"
    wrong_plain = [_rr(r.config, {**r.metrics, "fit_order": [1, 0, 2]}) for r in plain]
    assert D.order_judge(pred, good + wrong_plain).status == "fails"


def _fit_time_results(scale: float):
    """Fabricated runs whose homogeneous fit times are ``scale`` x the theory prediction."""
    out = []
    u0 = [0.5] * 5
    for d0 in (1e-2, 1e-3, 1e-4):
        ft = [scale * theory.homogeneous_fit_time(a, 0.5, d0, 4) for a in D.A5]
        out.append(
            _rr(D.FitTimeCase("homogeneous", 10, 50, d0, 0), {"fit_times": ft, "u0": u0, "x0": []})
        )
    for d0 in (0.05, 0.1, 0.2):
        x0 = [2 * d0] * 5
        ft = [theory.plain_escape_time(a, 2 * d0, 4) for a in D.A5]
        out.append(
            _rr(D.FitTimeCase("plain", 10, 20, d0, 0), {"fit_times": ft, "u0": u0, "x0": x0})
        )
    return out


def test_fit_time_judge_tolerance():
    pred = D.fit_time_predict("quick")
    assert D.fit_time_judge(pred, _fit_time_results(1.05)).status == "holds"
    assert D.fit_time_judge(pred, _fit_time_results(1.3)).status == "fails"


def test_staircase_and_matrix_judges_fail_off_plateau():
    cfg = D.StaircaseCase(D.STAIR_A, 4, 20, 40, 1e-4, 0)
    dr = [np.hypot(0.5, 0.25), 0.25, 0.0]
    ok = {
        "in_order": True,
        "plateau_residuals": [dr[0] * 1.01, 0.25, 0.0],
        "deflation_residual": dr,
    }
    off = {**ok, "plateau_residuals": [dr[0] * 1.1, 0.25, 0.0]}
    pred = D.staircase_predict("quick")
    assert D.staircase_judge(pred, [_rr(cfg, ok)]).status == "holds"
    assert D.staircase_judge(pred, [_rr(cfg, off)]).status == "fails"
    assert D.matrix_judge(D.matrix_predict("quick"), [_rr(cfg, off)]).status == "fails"


def test_regulariser_judge_uses_a_minus_half_lambda():
    cfg = D.RegCase((1.0, 0.1), 0.3, 10, 30, 1e-3, 0)
    pred = D.reg_predict("quick")
    good = {"final_fits": [0.85, 1e-9], "init_bound": 3e-5}
    assert D.reg_judge(pred, [_rr(cfg, good)]).status == "holds"
    assert D.reg_judge(pred, [_rr(cfg, {**good, "final_fits": [1.0, 1e-9]})]).status == "fails"
    assert D.reg_judge(pred, [_rr(cfg, {**good, "final_fits": [0.85, 0.05]})]).status == "fails"


def test_recovery_and_norm_correlation_judges():
    runs = [_rr(D.RecoveryCase(True, 10, 20, s), {"success": True}) for s in range(20)]
    runs += [_rr(D.RecoveryCase(False, 10, 20, s), {"success": s % 2 == 0}) for s in range(20)]
    pred = D.recovery_predict("quick")
    assert D.recovery_judge(pred, runs).status == "holds"
    worse = [_rr(r.config, {"success": r.config.seed > 3}) if r.config.reinit else r for r in runs]
    assert D.recovery_judge(pred, worse).status == "fails"
    nc = D.norm_corr_predict("quick")
    cfg = D.NormCorrCase(10, 20, 0)
    m = {"min_corr_big": 0.999, "n_big": 5, "median_corr_small": 0.5}
    assert D.norm_corr_judge(nc, [_rr(cfg, m)]).status == "holds"
    assert D.norm_corr_judge(nc, [_rr(cfg, {**m, "min_corr_big": 0.9})]).status == "fails"
