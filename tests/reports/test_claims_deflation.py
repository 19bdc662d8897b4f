"""The deflation claims: registration, configs, and judges that can fail (no experiments run here)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from reports.claims import deflation as D
from reports.registry import RunResult, get_claim

IDS = [
    "deflation.order",
    "deflation.recovery",
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


def test_matrix_judge_fails_off_plateau():
    cfg = D.StaircaseCase((1.0, 0.5, 0.25), 2, 10, 10, 1e-4, 0, model="plain")
    dr = [np.hypot(0.5, 0.25), 0.25, 0.0]
    off = {
        "in_order": True,
        "plateau_residuals": [dr[0] * 1.1, 0.25, 0.0],
        "deflation_residual": dr,
    }
    assert D.matrix_judge(D.matrix_predict("quick"), [_rr(cfg, off)]).status == "fails"


def test_recovery_judge():
    runs = [_rr(D.RecoveryCase(True, 10, 20, s), {"success": True}) for s in range(20)]
    runs += [_rr(D.RecoveryCase(False, 10, 20, s), {"success": s % 2 == 0}) for s in range(20)]
    pred = D.recovery_predict("quick")
    assert D.recovery_judge(pred, runs).status == "holds"
    worse = [_rr(r.config, {"success": r.config.seed > 3}) if r.config.reinit else r for r in runs]
    assert D.recovery_judge(pred, worse).status == "fails"
