"""The beyond-lazy claims' comparison rules on constructed results (they must be able to fail)."""

from __future__ import annotations

import pytest

from reports.claims import beyond as B
from reports.registry import RunResult, get_claim


def _rr(cfg: object, **metrics: object) -> RunResult:
    return RunResult(config=cfg, metrics=metrics, error=None, wall_time=0.0)


def _variant_results(m_star: dict[tuple[int, int], int], key: str) -> list[RunResult]:
    """Runs that succeed exactly for m >= m_star[(order, d or r)], 5 seeds each."""
    out = []
    for (l, x), ms in m_star.items():
        for m in (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64):
            for s in range(5):
                cfg = B.VariantRun(
                    order=l, d=x if key == "d" else 20, r=x if key == "r" else 2, m=m, seed=s
                )
                out.append(_rr(cfg, success=m >= ms, relative_error=0.01 if m >= ms else 0.5))
    return out


PRED_D = {
    "lazy_threshold": {"3,10": 22, "3,40": 287, "3,160": 4347},
    "lazy_slope": {"3": 1.9},
    "max_slope": 0.3,
    "r": 2,
}


def test_m_vs_d_judge_holds_for_flat_and_fails_for_linear_growth() -> None:
    flat = _variant_results({(3, 10): 4, (3, 40): 4, (3, 160): 6}, "d")
    assert B.mvd_judge(PRED_D, flat).status == "holds"
    linear = _variant_results({(3, 10): 2, (3, 40): 8, (3, 160): 32}, "d")  # slope 1
    v = B.mvd_judge(PRED_D, linear)
    assert v.status == "fails" and v.numbers["slope"]["3"] == pytest.approx(1.0)


def test_m_vs_d_judge_needs_a_90_percent_m() -> None:
    res = [
        _rr(B.VariantRun(order=3, d=10, r=2, m=m, seed=s), success=s < 4, relative_error=0.1)
        for m in (2, 4)
        for s in range(5)
    ]  # 80% success at every m
    assert B.mvd_judge(PRED_D, res).status == "inconclusive"


def test_m_vs_r_judge_fails_above_the_paper_bound() -> None:
    pred = B.mvr_predict("quick")
    ok = _variant_results({(3, 1): 1, (3, 2): 2, (3, 4): 4}, "r")  # m* = r
    v = B.mvr_judge(pred, ok)
    assert v.status == "holds" and v.numbers["exponent"]["3"] == pytest.approx(1.0)
    # r = 1 needs m = 2 > 1^{7.5} = 1
    bad = _variant_results({(3, 1): 2, (3, 2): 3, (3, 4): 8}, "r")
    assert B.mvr_judge(pred, bad).status == "fails"


def test_bad_local_minima_judge() -> None:
    pred = B.plain_predict("quick")

    def runs(stuck_at_r: int, stuck_at_4r: int) -> list[RunResult]:
        out = []
        for m, n_stuck in ((3, stuck_at_r), (12, stuck_at_4r)):
            for s in range(10):
                st = s < n_stuck
                out.append(
                    _rr(
                        B.PlainRun(order=3, d=5, r=3, m=m, seed=s),
                        stuck=st,
                        relative_error=0.58 if st else 0.01,
                        grad_norm=1e-4,
                        hessian_min_rel=0.0,
                    )
                )
        return out

    assert B.plain_judge(pred, runs(6, 0)).status == "holds"
    assert B.plain_judge(pred, runs(1, 0)).status == "fails"  # 10% < 20% at m = r
    assert B.plain_judge(pred, runs(6, 6)).status == "fails"  # no improvement with m


def test_escape_judge() -> None:
    pred = B.escape_predict("quick")

    def runs(p_one: int, p_none: int) -> list[RunResult]:
        out = []
        for arm, k in (("one-random", p_one), ("small", p_one), ("none", p_none)):
            for s in range(10):
                esc = [(0.58, 0.01)] if (arm != "none" and s < k) else []
                out.append(
                    _rr(
                        B.EscapeRun(order=3, d=20, r=3, arm=arm, seed=s),
                        success=s < k,
                        relative_error=0.01,
                        epoch_errors=[0.58, 0.01],
                        n_reinit=1,
                        escapes=esc,
                    )
                )
        return out

    assert B.escape_judge(pred, runs(10, 5)).status == "holds"
    assert B.escape_judge(pred, runs(6, 5)).status == "fails"


def test_saddle_experiment_recovers_order() -> None:
    # independent of the judge: the fitted order is l for l = 3 (theory: saddle of order l at 0)
    m = B.ray_experiment(B.RayCase(order=3, d=4, m=2, r=2, seed=0))
    assert m["fitted_order"] == pytest.approx(3.0, abs=0.05)
    assert m["grad_norm_at_zero"] == 0.0


def test_claims_registered_with_model_choice() -> None:
    for cid in ("beyond.m-vs-d", "beyond.m-vs-r", "beyond.escape-by-reinit"):
        assert "[model choice]" in get_claim(cid).model_choice
    for cid in ("beyond.bad-local-minima", "beyond.saddle-at-zero"):
        assert get_claim(cid).id == cid
