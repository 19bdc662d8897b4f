"""The beyond-lazy claims' comparison rules on constructed results (they must be able to fail)."""

from __future__ import annotations

import math

import pytest

from reports.catalog import get_claim
from reports.claims.paper1 import beyond_bad_local_minima as BL
from reports.claims.paper1 import beyond_epsilon_dependence as ED
from reports.claims.paper1 import beyond_escape_by_reinit as ER
from reports.claims.paper1 import beyond_saddle_at_zero as SZ
from reports.claims.paper1 import beyond_step_size as SS
from reports.claims.paper1 import beyond_versus_lazy as VL
from reports.registry import RunResult, Verdict

BEYOND = (
    "beyond.versus-lazy",
    "beyond.m-vs-d",
    "beyond.m-vs-r",
    "beyond.bad-local-minima",
    "beyond.saddle-at-zero",
    "beyond.escape-by-reinit",
    "beyond.epsilon-dependence",
    "beyond.step-size",
    "beyond.m-equals-r",
)


def _rr(cfg: object, **metrics: object) -> RunResult:
    return RunResult(config=cfg, metrics=metrics, error=None, wall_time=0.0)


def _sign_ok(v: Verdict) -> None:
    assert v.margin is not None
    if v.status == "holds":
        assert v.margin >= 0
    if v.status == "fails":
        assert v.margin < 0


# ------------------------------------------------------------------------------- versus-lazy
def _versus(n: int, lazy_wins: int, variant_wins: int, d: int = 20) -> list[RunResult]:
    out = []
    for s in range(n):
        var = s < variant_wins
        laz = s >= n - lazy_wins
        for arm, ok in (("variant", var), ("lazy", laz)):
            cfg = VL.LazyVsVariant(order=3, d=d, r=3, m=12, seed=s, arm=arm)
            out.append(_rr(cfg, success=ok, relative_error=0.01 if ok else 0.9, movement=None))
    return out


def test_versus_lazy_judge() -> None:
    pred = VL.predict("full")  # rate >= 0.8
    v = VL.judge(pred, _versus(30, lazy_wins=0, variant_wins=30))
    assert v.status == "holds"
    _sign_ok(v)
    # lazy succeeds as often as the variant: no contrast (the control's situation)
    v = VL.judge(pred, _versus(30, lazy_wins=30, variant_wins=30))
    assert v.status == "fails"
    _sign_ok(v)
    # 2 discordant pairs only: ahead but not significant, and the rate 27/30 is undecided
    v = VL.judge(pred, _versus(30, lazy_wins=28, variant_wins=27))
    assert v.status in ("inconclusive", "fails")
    v = VL.judge(pred, _versus(30, lazy_wins=25, variant_wins=28))
    assert v.status == "inconclusive"


def test_versus_controls_are_above_the_lazy_threshold_and_distinct() -> None:
    import theory

    for profile in ("quick", "full", "scale"):
        cfgs = set(VL.configs(profile))
        for ctl in VL.controls(profile).values():
            assert not cfgs & set(ctl)
            for c in ctl:
                assert c.m > theory.lazy_threshold(c.d, c.order)
        for c in cfgs:
            assert c.m < 0.2 * theory.lazy_threshold(c.d, c.order)
    assert min(c.d for c in VL.configs("scale")) >= 200


# -------------------------------------------------------------------------- bad-local-minima
def _plain(kinds_at_r: list[str], order: int = 3) -> list[RunResult]:
    out = []
    for s, k in enumerate(kinds_at_r):
        cfg = BL.PlainRun(order=order, d=20, r=3, m=3, seed=s)
        out.append(
            _rr(cfg, kind=k, success=k == "success", relative_error=0.5, grad_norm=1e-12, escape="")
        )
    return out


def test_bad_local_minima_judge_counts_minima_not_saddles() -> None:
    pred = BL.predict("full")
    at_r = ["spurious_minimum"] * 2 + ["saddle"] * 6 + ["success"] * 2
    v = BL.judge(pred, _plain(at_r, order=4) + _plain(["saddle"] * 5 + ["success"] * 5))
    assert v.status == "holds"
    _sign_ok(v)
    assert v.numbers["l=4"]["counts"] == {
        "success": 2,
        "saddle": 6,
        "spurious_minimum": 2,
        "unresolved": 0,
    }
    assert v.numbers["l=3"]["counts"]["spurious_minimum"] == 0
    # only (slow) saddles and successes: no spurious minimum exists -> fails, whatever a success
    # contrast would say (the rank-one control's situation)
    v = BL.judge(pred, _plain(["saddle"] * 8 + ["success"] * 2))
    assert v.status == "fails"
    _sign_ok(v)
    # unresolved end points are not minima either
    assert BL.judge(pred, _plain(["unresolved"] * 10)).status == "fails"


def test_bad_local_minima_control_is_rank_one_at_the_same_sizes() -> None:
    for profile in ("quick", "full"):
        cfgs = set(BL.configs(profile))
        for ctl in BL.controls(profile).values():
            assert not cfgs & set(ctl) and all(c.r == c.m == 1 for c in ctl)
            assert {c.d for c in ctl} == {c.d for c in cfgs}
    assert {c.order for c in BL.configs("full")} == {3, 4}
    assert {c.d for c in BL.configs("full")} == {20}


# ---------------------------------------------------------------------------- saddle-at-zero
def test_saddle_experiment_matches_the_symbolic_polynomial() -> None:
    m = SZ.experiment(SZ.RayCase(order=3, d=3, m=2, r=2, seed=0))
    assert m["fitted_order"] == pytest.approx(3.0, abs=0.02)
    assert m["symbolic_lowest_degree"] == 3
    assert m["symbolic_err_ulp"] < 100
    # exact: every term of the plain gradient at W = 0 carries a factor (0·u)^{l-1} = 0, and sums and
    # products of exact zeros are exactly zero in any order (no rounding can make them non-zero)
    assert m["grad_norm_at_zero"] == 0.0
    # from a nonzero base point the loss changes at first order (the control)
    c = SZ.experiment(SZ.RayCase(order=3, d=3, m=2, r=2, seed=0, base=0.5))
    assert c["fitted_order"] == pytest.approx(1.0, abs=0.1)


def test_saddle_judge() -> None:
    pred = {"order": {"3": 3}, "order_tol": 0.02, "symbolic_ulp_tol": 100.0}
    cfg = SZ.RayCase(order=3, d=3, m=2, r=2, seed=0)
    good = [_rr(cfg, fitted_order=3.001, symbolic_err_ulp=2.0)]
    assert SZ.judge(pred, good).status == "holds"
    assert SZ.judge(pred, [_rr(cfg, fitted_order=1.0, symbolic_err_ulp=None)]).status == "fails"
    assert SZ.judge(pred, [_rr(cfg, fitted_order=3.0, symbolic_err_ulp=1e4)]).status == "fails"


# ---------------------------------------------------------------------------- escape-by-reinit
def _escape(k_one: int, k_none: int, n: int = 30, escapes: bool = True) -> list[RunResult]:
    out = []
    for arm, k in (("one-random", k_one), ("small", k_one), ("none", k_none)):
        for s in range(n):
            esc = escapes and arm != "none" and s < k
            cfg = ER.EscapeRun(order=3, d=20, r=3, arm=arm, seed=s)
            # epoch 1 starts with a re-initialisation; the error falls from 0.58 to 0.01 after it
            errs = [0.58, 0.01] if esc else [0.58, 0.58]
            out.append(
                _rr(cfg, success=s < k, relative_error=0.01, epoch_errors=errs,
                    reinits=[[1, 0.58]] if arm != "none" else [], n_reinit=1)
            )  # fmt: skip
    return out


def test_escape_judge() -> None:
    pred = ER.predict("full")
    v = ER.judge(pred, _escape(30, 15))
    assert v.status == "holds"
    _sign_ok(v)
    assert ER.judge(pred, _escape(30, 30)).status == "fails"  # no contrast (control)
    assert ER.judge(pred, _escape(30, 15, escapes=False)).status == "fails"
    assert ER.judge(pred, _escape(27, 25)).status == "inconclusive"


def test_escape_judge_fails_the_over_parametrized_control_with_a_stray_escape() -> None:
    """The replication block's m = 4r control: every run succeeds, one stray escape and one
    discordant pair (1-0). A count of escapes >= 1 let it through as inconclusive; the share of
    runs with an escape fails it."""
    pred = ER.predict("full")
    runs = [r for r in _escape(34, 34, n=34) if r.config.arm != "small"]
    stray = []
    for r in runs:
        esc = r.config.arm == "one-random" and r.config.seed == 0
        none_fails = r.config.arm == "none" and r.config.seed == 0
        stray.append(
            _rr(r.config, success=not none_fails, relative_error=0.01,
                epoch_errors=[0.58, 0.01] if esc else [0.58, 0.58],
                reinits=[[1, 0.58]] if r.config.arm != "none" else [], n_reinit=1)
        )  # fmt: skip
    v = ER.judge(pred, stray)
    assert v.status == "fails"
    (esc_rate,) = [r for r in v.rates if "with an escape" in r["name"]]
    assert (esc_rate["successes"], esc_rate["trials"], esc_rate["status"]) == (1, 34, "fails")


# ------------------------------------------------------------------------ epsilon-dependence
def _eps(
    steps_of_eps: object, rate: int = 34, n: int = 34, m_star: object = None
) -> list[RunResult]:
    """Runs at m = 12 (the first ``rate`` seeds succeed, in ``steps_of_eps(ε)`` steps) and one m*
    block per ε with m* = ``m_star(ε)`` (3 by default)."""
    out = []
    for e in (0.2, 0.1, 0.05, 0.02, 0.01):
        for s in range(n):
            cfg = ED.EpsRun(order=3, d=20, r=3, m=12, seed=s, eps=e)
            steps = steps_of_eps(e) * (1 + 0.01 * s)  # type: ignore[operator]
            out.append(_rr(cfg, success=s < rate, n_steps=int(steps), relative_error=e))
        for b in range(2):
            ms = 3 if m_star is None else m_star(e)  # type: ignore[operator]
            cfg2 = ED.EpsMStar(3, 20, 3, 60_000 + 100 * b, e, 10, 0.8, 512)
            out.append(_rr(cfg2, m_star=ms, censored=False, value=ms, probes=[]))
    return out


def test_epsilon_judge() -> None:
    pred = ED.predict("full")
    v = ED.judge(pred, _eps(lambda e: 50 + 10 * math.log(1 / e)))
    assert v.status == "holds"
    assert v.numbers["m_exponent"]["exponent"]["slope"] == 0.0  # m* = 3 at every ε: flat, exact
    _sign_ok(v)
    v = ED.judge(pred, _eps(lambda e: 10 / e**2))  # steps ∝ ε^{-2}: exponent 2 > 1
    assert v.status == "fails"
    _sign_ok(v)
    # m* ∝ ε^{-2}: exponent 2 > the bound 1
    v = ED.judge(pred, _eps(lambda e: 60.0, m_star=lambda e: round(3 * (0.2 / e) ** 2)))
    assert v.status == "fails"
    assert ED.judge(pred, _eps(lambda e: 60.0, rate=31)).status == "inconclusive"


def test_epsilon_runs_that_miss_eps_count_at_the_cap() -> None:
    # 4 of 34 runs at every ε never reach it: they enter the steps fit at the cap, not dropped
    pred = ED.predict("full")
    runs = _eps(lambda e: 50.0, rate=30)
    v = ED.judge(pred, runs)
    assert v.numbers["censored_runs"]["0.01"] == 4
    assert v.numbers["median_steps"]["0.01"] < pred["cap"]


def test_epsilon_designs_can_exceed_their_bounds() -> None:
    for profile in ("quick", "full"):
        pred = ED.predict(profile)
        big = pred["largest_exponents"]
        assert big["steps"] > pred["steps_exponent_bound"] + 1, profile
        assert big["m_star"] > pred["m_exponent_bound"] + 1, profile


# ---------------------------------------------------------------------------------- step-size
def test_step_judge() -> None:
    pred = SS.predict("full")

    def runs(orders: list[float]) -> list[RunResult]:
        return [
            _rr(
                SS.StepRun(order=3, d=10, r=3, m=6, seed=s),
                order=o,
                errors=[1e-2, 1e-3],
                order_ci=[o - 0.01, o + 0.01],
                steps=[0.02, 0.01],
            )  # fmt: skip
            for s, o in enumerate(orders)
        ]

    v = SS.judge(pred, runs([0.98, 1.01, 0.99, 1.0]))
    assert v.status == "holds"
    _sign_ok(v)
    v = SS.judge(pred, runs([1.98, 1.99, 2.0]))  # Heun: the control's situation
    assert v.status == "fails"
    _sign_ok(v)
    assert SS.judge(pred, runs([0.8, 1.2, 1.0])).status == "inconclusive"


# ----------------------------------------------------------------------------------- registry
def test_claims_registered_with_controls_and_tolerance_sources() -> None:
    for cid in BEYOND:
        c = get_claim(cid)
        assert c.controls is not None, cid
        assert c.tolerance_source.startswith(("derived:", "calibrated:")), cid
        for profile in c.profiles:
            cfgs = set(c.configs(profile))
            for ctl in c.controls(profile).values():
                assert ctl and not cfgs & set(ctl), (cid, profile)
    for cid in ("beyond.m-vs-d", "beyond.m-vs-r", "beyond.escape-by-reinit", "beyond.versus-lazy"):
        assert "[model choice]" in get_claim(cid).model_choice
    assert "scale" in get_claim("beyond.versus-lazy").profiles


def test_plots_render_without_results() -> None:
    from matplotlib.figure import Figure

    for cid in BEYOND:
        c = get_claim(cid)
        pred = {"order": {"3": 3}} if cid == "beyond.saddle-at-zero" else c.predict(c.profiles[0])
        c.plot(pred, [], Figure())
