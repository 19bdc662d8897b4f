"""The lazy claims' comparison rules on constructed results (they must be able to fail)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from reports.claims import lazy as L  # noqa: E402
from reports.registry import RunResult  # noqa: E402


def _rr(cfg: object, **metrics: object) -> RunResult:
    return RunResult(config=cfg, metrics=metrics, error=None, wall_time=0.0)


def test_rank_judge_detects_a_wrong_rank() -> None:
    pred = L.rank_predict("quick")
    good = [
        _rr(
            c, rank=pred["dim"][f"{c.order},{c.d},{c.m}"], sigma_last_rel=1e-3, sigma_next_rel=1e-16
        )
        for c in L.rank_configs("quick")
    ]
    assert L.rank_judge(pred, good).status == "holds"
    # a rank of min(m·d, D) in the defective case (3,5,7) — i.e. ignoring AH — must fail
    bad = [
        _rr(r.config, **{**r.metrics, "rank": min(r.config.m * r.config.d, 35)})
        if (r.config.order, r.config.d, r.config.m) == (3, 5, 7)
        else r
        for r in good
    ]
    v = L.rank_judge(pred, bad)
    assert v.status == "fails" and "(3,5,7)" in v.numbers["mismatches"][0]


def _threshold_results(factor: callable) -> list[RunResult]:
    out = []
    for c in L.threshold_configs("quick"):
        D = math.comb(c.d + c.order - 1, c.order)
        out.append(
            _rr(
                c,
                m_star=max(1, round(factor(c.d) * D / c.d)),
                D_over_d=D / c.d,
                curve={"0.5": 0.5},
            )
        )
    return out


def test_threshold_judge_holds_for_D_over_d_and_fails_for_other_growth() -> None:
    pred = L.threshold_predict("quick")
    assert L.threshold_judge(pred, _threshold_results(lambda d: 0.97)).status == "holds"
    # m* growing like d^{l-1}·d^{0.5}/l! instead: slope too large and no collapse
    v = L.threshold_judge(pred, _threshold_results(lambda d: 0.3 * d**0.5))
    assert v.status == "fails" and "slope" in v.reason


def test_exact_threshold_judge_detects_rank_dependence() -> None:
    pred = L.exact_predict("quick")
    cfgs = L.exact_configs("quick")
    good = [
        _rr(c, m_star=pred["threshold"][f"{c.order},{c.d}"], residual_one_below=1e-3) for c in cfgs
    ]
    assert L.exact_judge(pred, good).status == "holds"
    bad = [
        _rr(
            c,
            m_star=pred["threshold"][f"{c.order},{c.d}"] + (1 if c.r == 10 else 0),
            residual_one_below=1e-3,
        )
        for c in cfgs
    ]
    assert L.exact_judge(pred, bad).status == "fails"


def test_sufficiency_judge_fails_when_the_flow_stalls_above_the_threshold() -> None:
    pred = L.sufficiency_predict("quick")
    cfgs = L.sufficiency_configs("quick")

    def runs(final_above: float) -> list[RunResult]:
        out = []
        for c in cfgs:
            m = max(1, math.ceil(c.ratio * math.comb(c.d + c.order - 1, c.order) / c.d))
            above = m >= pred["threshold"][f"{c.order},{c.d}"]
            lazy = 0.0 if above else 0.3
            out.append(
                _rr(
                    c,
                    m=m,
                    lazy_residual=lazy,
                    flow_initial=20.0,
                    flow_final=final_above if above else lazy,
                    flow_t=[0.0, 1.0],
                    flow_residual=[20.0, lazy],
                )
            )
        return out

    assert L.sufficiency_judge(pred, runs(1e-12)).status == "holds"
    assert L.sufficiency_judge(pred, runs(0.05)).status == "fails"


def test_alpha_judge_needs_one_over_alpha() -> None:
    pred = L.alpha_predict("quick")
    al = list(L.ALPHAS)
    good = [
        _rr(
            L.AlphaRun(0),
            alphas=al,
            output_distance=[0.2 / a for a in al],
            param_distance=[0.5 / a for a in al],
        )
    ]
    assert L.alpha_judge(pred, good).status == "holds"
    slow = [
        _rr(
            L.AlphaRun(0),
            alphas=al,
            output_distance=[0.2 / a**0.5 for a in al],
            param_distance=[0.5 / a for a in al],
        )
    ]
    assert L.alpha_judge(pred, slow).status == "fails"


def test_plots_work_without_results() -> None:
    for plot, pred in (
        (L.rank_plot, L.rank_predict("quick")),
        (L.threshold_plot, L.threshold_predict("quick")),
        (L.exact_plot, L.exact_predict("quick")),
        (L.sufficiency_plot, L.sufficiency_predict("quick")),
        (L.alpha_plot, L.alpha_predict("quick")),
    ):
        data = plot(pred, [], Figure())
        assert isinstance(data, dict)
