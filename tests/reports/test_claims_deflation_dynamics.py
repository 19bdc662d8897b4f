"""The deflation dynamics claims: registration, controls, and judges that hold, fail or are inconclusive.

Judges are tested on constructed results (no flow is run) except for three tiny smoke runs of the
experiments.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

import theory
from reports.catalog import get_claim
from reports.claims.paper2 import deflation_fit_times as fit_times
from reports.claims.paper2 import deflation_local_stability as local_stability
from reports.claims.paper2 import deflation_norm_correlation as norm_correlation
from reports.claims.paper2 import deflation_regulariser_bias as regulariser
from reports.claims.paper2 import deflation_staircase as staircase
from reports.claims.paper2._deflation import A5
from reports.claims.paper2._fit_times import reduced_fit_times
from reports.claims.paper2._trajectory import NORM_FACTORS, TrajectoryCase, trajectory_experiment
from reports.registry import RunResult

IDS = [
    "deflation.fit-times",
    "deflation.staircase",
    "deflation.regulariser-bias",
    "deflation.norm-correlation",
    "deflation.local-stability",
]
SCALE_IDS = ["deflation.fit-times", "deflation.staircase", "deflation.local-stability"]


def _rr(cfg, metrics):
    return RunResult(config=cfg, metrics=metrics, error=None, wall_time=0.0)


def _margin_agrees(v) -> None:
    if v.status == "holds":
        assert v.margin is not None and v.margin >= 0
    elif v.status == "fails":
        assert v.margin is not None and v.margin < 0


@pytest.mark.parametrize("cid", IDS)
def test_registered_with_configs_controls_and_sources(cid):
    claim = get_claim(cid)
    assert claim.tolerance and claim.method and claim.tolerance_source.startswith("derived")
    assert claim.controls is not None
    for profile in claim.profiles:
        cfgs = claim.configs(profile)
        assert cfgs, profile
        assert len(set(cfgs)) == len(cfgs)  # hashable and distinct
        json.dumps(dataclasses.asdict(cfgs[0]))
        json.dumps(claim.predict(profile))
        controls = claim.controls(profile)
        assert controls
        for ctl in controls.values():
            assert ctl and not set(ctl) & set(cfgs), "control configs must differ from judged ones"
    assert len(claim.configs("full")) >= len(claim.configs("quick"))


def test_scale_profiles():
    for cid in SCALE_IDS:
        claim = get_claim(cid)
        assert "scale" in claim.profiles
        assert all(c.d >= 1000 for c in claim.configs("scale"))
    # the staircase at scale runs where the a-order is likely (docs/math.md §11.7)
    for c in staircase.configs("scale"):
        assert c.model == "homogeneous" and c.delta0 == pytest.approx(c.d**-16.0)
    # fit-times at scale: the corrected prediction inside its regime d·δ0² <= 1, the control beyond
    judged = fit_times.configs("scale")
    assert all(c.correct and c.d * c.delta0**2 <= 1.0 for c in judged)
    control = next(iter(fit_times.controls("scale").values()))
    assert all(c.correct and c.d * c.delta0**2 >= 10.0 for c in control)


# ------------------------------------------------------------------------------------ fit-times
U_ASSIGNED = [[0.4, 0.2], [0.3], [0.35, 0.1], [0.25], [0.3, 0.3]]


def _fit_runs(offset, noise=0.0, law=""):
    """Runs whose fit times are the reduced-flow prediction + offset/(2a_k) (+ alternating noise).

    The constructed reduced-flow prediction is the closed form (no flow is run here).
    """
    out = []
    for j, d0 in enumerate(fit_times.FIT_DELTAS):
        ft = [
            theory.homogeneous_fit_time_next(a, us, d0, 4) + (offset + noise * (-1) ** j) / (2 * a)
            for a, us in zip(A5, U_ASSIGNED, strict=True)
        ]
        red = [
            theory.homogeneous_fit_time_next(a, us, d0, 4)
            for a, us in zip(A5, U_ASSIGNED, strict=True)
        ]
        m = {
            "fit_times": ft,
            "u0": [max(u) for u in U_ASSIGNED],
            "u_assigned": U_ASSIGNED,
            "reduced_fit_times": red,
            "winner_share": [1.0] * 5,
        }
        out.append(
            _rr(fit_times.FitTimeCase("homogeneous", 10, 50, d0, 0, law=law), {**m, "x0": []})
        )
    for d0 in fit_times.PLAIN_DELTAS:
        ft = [theory.plain_escape_time(a, 2 * d0, 4) for a in A5]
        out.append(
            _rr(
                fit_times.FitTimeCase("plain", 10, 20, d0, 0), {"fit_times": ft, "x0": [2 * d0] * 5}
            )
        )
    return out


def test_fit_time_judge_three_ways():
    pred = fit_times.predict("quick")
    good = fit_times.judge(pred, _fit_runs(0.05))
    assert good.status == "holds"
    # a constant offset beyond the next-order tolerance: the constant term is wrong
    bad = fit_times.judge(pred, _fit_runs(2 * pred["reduced_tol"]))
    assert bad.status == "fails"
    # alternating noise: the slope interval straddles 1 ± 0.2% (the next-order check still holds)
    noisy = fit_times.judge(pred, _fit_runs(0.0, noise=0.01))
    assert noisy.status == "inconclusive"
    for v in (good, bad, noisy):
        _margin_agrees(v)


def test_fit_time_judge_leaves_rerouted_directions_out():
    # a direction carried mostly by re-routed components is outside the premise: not judged
    pred = fit_times.predict("quick")
    runs = _fit_runs(0.05)
    moved = []
    for r in runs:
        if r.config.model == "homogeneous":
            m = dict(r.metrics)
            m["fit_times"] = [*m["fit_times"][:4], 0.5 * m["fit_times"][4]]
            m["winner_share"] = [1.0, 1.0, 1.0, 1.0, 0.4]
            moved.append(_rr(r.config, m))
        else:
            moved.append(r)
    v = fit_times.judge(pred, moved)
    assert v.status == "holds" and v.numbers["rerouted"] == len(fit_times.FIT_DELTAS)
    same_without_premise = [
        _rr(r.config, {**r.metrics, "winner_share": [1.0] * 5})
        if r.config.model == "homogeneous"
        else r
        for r in moved
    ]
    assert fit_times.judge(pred, same_without_premise).status == "fails"


def test_fit_time_slope_fails_on_a_wrong_log_law():
    # fit times growing like 1.1·ln(1/δ0)/(2a): the slope interval lies outside 1 ± 0.2%
    pred = fit_times.predict("quick")
    runs = []
    for d0 in fit_times.FIT_DELTAS:
        ft = [1.1 * math.log(1 / d0) / (2 * a) + 1.0 for a in A5]
        m = {
            "fit_times": ft,
            "u0": [0.3] * 5,
            "u_assigned": U_ASSIGNED,
            "reduced_fit_times": ft,
            "winner_share": [1.0] * 5,
            "x0": [],
        }
        runs.append(_rr(fit_times.FitTimeCase("homogeneous", 10, 50, d0, 0), m))
    v = fit_times.judge(pred, runs)
    assert v.status == "fails"
    assert any(c["name"].startswith("δ0-slope") and c["status"] == "fails" for c in v.checks)


# ------------------------------------------------------------------------------- norm-correlation
def _nc_metrics(min_corr, growth=2.0):
    return {
        "factors": list(NORM_FACTORS),
        "min_corr": min_corr,
        "min_corr_transition": min_corr,
        "pairs": [10] * len(NORM_FACTORS),
        "max_invariant_ratio": growth,
    }


def test_norm_correlation_judge():
    pred = norm_correlation.predict("quick")
    cfg = TrajectoryCase(10, 50, 1e-3, 0, factors=norm_correlation.NORM_JUDGED)
    fine = [0.5, 0.8, 0.95, 0.99, 0.9995, 1.0]
    v = norm_correlation.judge(pred, [_rr(cfg, _nc_metrics(fine))])
    assert v.status == "holds"
    worse = [0.5, 0.8, 0.95, 0.99, 0.98, 1.0]  # factor 10 below 0.99
    assert norm_correlation.judge(pred, [_rr(cfg, _nc_metrics(worse))]).status == "fails"
    # the control's thresholds (1.2, 2) judged by the same rule fail
    ctl = TrajectoryCase(10, 50, 1e-3, 0, factors=(1.2, 2.0))
    assert norm_correlation.judge(pred, [_rr(ctl, _nc_metrics(fine))]).status == "fails"
    nothing = [float("nan")] * len(NORM_FACTORS)
    assert norm_correlation.judge(pred, [_rr(cfg, _nc_metrics(nothing))]).status == "inconclusive"
    _margin_agrees(v)


# -------------------------------------------------------------------------------- local-stability
def _ls_metrics(ratios):
    n = len(ratios)
    return {
        "ratio_after_fit": ratios,
        "max_sin_after_fit": [1e-5] * n,
        "predicted_after_fit": [2e-5] * n,
        "invariant_ratio_at_fit": [2.0] * n,
    }


def test_local_stability_judge():
    pred = local_stability.predict("quick")
    cfg = TrajectoryCase(10, 50, 1e-3, 0)
    v = local_stability.judge(pred, [_rr(cfg, _ls_metrics([0.5, 0.9, 1.0]))])
    assert v.status == "holds"
    _margin_agrees(v)
    bad = local_stability.judge(pred, [_rr(cfg, _ls_metrics([0.5, 1.5, float("nan")]))])
    assert bad.status == "fails"
    _margin_agrees(bad)
    none = local_stability.judge(pred, [_rr(cfg, _ls_metrics([float("nan")] * 3))])
    assert none.status == "inconclusive"


# -------------------------------------------------------------------------------------- staircase
def test_staircase_judge_per_regime():
    cfg = staircase.StairCase(staircase.STAIR_A, 4, 20, 40, 1e-4, 0)
    close = staircase.StairCase(staircase.STAIR_CLOSE, 4, 20, 40, staircase.STAIR_CLOSE_DELTA0, 0)
    dr = [math.hypot(0.5, 0.25), 0.25, 0.0]
    ok = {
        "in_order": True,
        "fit_order": [0, 1, 2],
        "fit_times": [5.0, 9.0, 17.0],
        "plateau_residuals": [dr[0] * 1.01, 0.25, 0.0],
        "deflation_residual": dr,
    }
    pred = staircase.predict("quick")
    v = staircase.judge(pred, [_rr(cfg, ok), _rr(close, ok)])
    assert v.status == "holds"
    _margin_agrees(v)
    off = {**ok, "plateau_residuals": [dr[0] * 1.1, 0.25, 0.0]}
    assert staircase.judge(pred, [_rr(cfg, ok), _rr(close, off)]).status == "fails"
    unordered = {**ok, "in_order": False, "fit_order": [1, 0, 2]}
    assert staircase.judge(pred, [_rr(cfg, unordered)]).status == "fails"
    # the last direction not fitted in the window: the plateaus of the fits that happened count
    partial = {
        **ok,
        "in_order": False,
        "fit_order": [0, 1],
        "fit_times": [5.0, 9.0, float("nan")],
        "plateau_residuals": [dr[0] * 1.01, 0.25],
        "deflation_residual": dr[:2],
    }
    v = staircase.judge(pred, [_rr(cfg, partial)])
    assert v.status == "holds" and "did not fit every direction" in v.reason
    assert staircase.judge(pred, []).status == "inconclusive"


def test_staircase_regimes_are_where_the_derived_deviation_is_small():
    # the regimes' leading-order gaps give a two-exponential deviation <= 1% (docs: §staircase)
    for name, devs in staircase.predict("full")[
        "two_exponential_deviation_at_leading_gaps"
    ].items():
        assert max(abs(x) for x in devs) <= 0.01, name


# ------------------------------------------------------------------------------ regulariser-bias
def test_regulariser_judge_uses_a_minus_half_lambda():
    cfg = regulariser.RegCase((1.0, 0.1), 0.3, 10, 30, 1e-3, 0)
    pred = regulariser.predict("quick")
    good = {"final_fits": [0.85, 1e-9], "init_bound": 3e-5}
    v = regulariser.judge(pred, [_rr(cfg, good)])
    assert v.status == "holds"
    _margin_agrees(v)
    assert (
        regulariser.judge(pred, [_rr(cfg, {**good, "final_fits": [1.0, 1e-9]})]).status == "fails"
    )
    assert (
        regulariser.judge(pred, [_rr(cfg, {**good, "final_fits": [0.85, 0.05]})]).status == "fails"
    )
    # the control: the plain model with the same λ learns nothing from δ0 = 1e-3 (fit 0): fails
    ctl = regulariser.RegCase((1.0, 0.1), 0.3, 10, 30, 1e-3, 0, model="plain")
    assert regulariser.judge(pred, [_rr(ctl, {**good, "final_fits": [0.0, 0.0]})]).status == "fails"


def test_regulariser_plain_control_runs_and_fails_for_its_reason():
    """The plain model with λ = 0.3 from δ0 = 1e-3: 4√s·a << λ, so nothing grows (docs/math.md §12.4)."""
    ctl = regulariser.controls("quick")["plain model, same λ"][0]
    m = regulariser.experiment(ctl)
    assert max(m["final_fits"]) < m["init_bound"]
    v = regulariser.judge(regulariser.predict("quick"), [_rr(ctl, m)])
    assert v.status == "fails"


# ---------------------------------------------------------------------------- tiny smoke runs
def test_trajectory_experiment_smoke():
    cfg = TrajectoryCase(6, 12, 1e-2, 0, a=(1.0, 0.5), n_obs=101)
    m = trajectory_experiment(cfg)
    assert len(m["min_corr"]) == len(NORM_FACTORS)
    assert all(math.isfinite(x) for x in m["ratio_after_fit"])
    # the fitted components stay within the predicted distance on this small case
    assert max(m["ratio_after_fit"]) <= 1 + local_stability.predict("quick")["tolerance"]
    assert len(m["decaying_bound_ratio"]) == 2


def test_fit_time_and_stair_experiments_smoke():
    m = fit_times.experiment(fit_times.FitTimeCase("homogeneous", 6, 12, 1e-3, 0, a=(1.0, 0.5)))
    assert np.all(np.isfinite(m["fit_times"]))
    assert len(m["u_assigned"]) == 2 and all(m["u_assigned"])
    s = staircase.experiment(staircase.StairCase((1.0, 0.5), 4, 6, 12, 1e-4, 0))
    assert s["in_order"] and len(s["plateau_residuals"]) == 2


def test_reduced_fit_times_direction_without_winners_is_nan():
    from numerics.tensors import orthogonal_tensor

    target = orthogonal_tensor((1.0, 0.5), 4, 4)
    W0 = 1e-3 * np.array([[0.9, 0.1, 0.3, 0.3], [0.8, -0.2, 0.4, 0.4]])  # both won by e_0
    t = reduced_fit_times(W0, target, (1.0, 0.5), 1e-3)
    assert math.isfinite(t[0]) and math.isnan(t[1])
    # and it agrees with the closed form when the other direction's pull is negligible (<= 2%)
    us = [float((w[0] / np.linalg.norm(w)) ** 2) for w in W0]
    assert t[0] == pytest.approx(theory.homogeneous_fit_time_next(1.0, us, 1e-3, 4), rel=0.02)
