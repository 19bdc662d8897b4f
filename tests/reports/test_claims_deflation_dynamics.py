"""The deflation dynamics claims: registration, configs, and judges that can fail (no experiments run)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import theory
from reports.claims import deflation_dynamics as D
from reports.registry import RunResult, get_claim

IDS = [
    "deflation.fit-times",
    "deflation.staircase",
    "deflation.regulariser-bias",
    "deflation.norm-correlation",
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


def test_staircase_judge_fails_off_plateau():
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


def test_regulariser_judge_uses_a_minus_half_lambda():
    cfg = D.RegCase((1.0, 0.1), 0.3, 10, 30, 1e-3, 0)
    pred = D.reg_predict("quick")
    good = {"final_fits": [0.85, 1e-9], "init_bound": 3e-5}
    assert D.reg_judge(pred, [_rr(cfg, good)]).status == "holds"
    assert D.reg_judge(pred, [_rr(cfg, {**good, "final_fits": [1.0, 1e-9]})]).status == "fails"
    assert D.reg_judge(pred, [_rr(cfg, {**good, "final_fits": [0.85, 0.05]})]).status == "fails"


def test_norm_correlation_judge():
    nc = D.norm_corr_predict("quick")
    cfg = D.NormCorrCase(10, 20, 0)
    m = {"min_corr_big": 0.999, "n_big": 5, "median_corr_small": 0.5}
    assert D.norm_corr_judge(nc, [_rr(cfg, m)]).status == "holds"
    assert D.norm_corr_judge(nc, [_rr(cfg, {**m, "min_corr_big": 0.9})]).status == "fails"
