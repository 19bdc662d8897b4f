"""Foundation claims' judges (reports/claims/classical/{gram_identity,gradient_check,loss_monotone}.py)
on constructed results.

Each judge holds on values inside its tolerance, fails on values outside it (so the check can fail:
these claims are identities and have no negative-control configuration, see their ``no_control``),
is inconclusive with no metrics, and its margin's sign agrees with its verdict. One slow test re-runs
the held-out calibration quoted in ``foundation.gradient-check``'s ``tolerance_source``.
"""

from __future__ import annotations

import pytest

from reports.catalog import get_claim
from reports.claims.classical import gradient_check, gram_identity, loss_monotone
from reports.registry import RunResult


def _results(configs, metrics):
    return [RunResult(c, m, None, 0.0) for c, m in zip(configs, metrics, strict=True)]


def _gram(loss_err: float, contract_err: float):
    cfgs = gram_identity.configs("quick")[:3]
    m = {"rel_err_loss": 1e-16, "rel_err_contract": 1e-16}
    bad = {"rel_err_loss": loss_err, "rel_err_contract": contract_err}
    return _results(cfgs, [m, bad, m])


def _grad(err: float):
    cfgs = gradient_check.configs("quick")[:2]
    return _results(cfgs, [{"max_rel_err": 1e-13}, {"max_rel_err": err}])


def _mono(inc: float, diss: float, drop: float):
    cfgs = loss_monotone.configs("quick")[:2]
    ok = {"max_rel_increase": -1e-6, "dissipation_rel_err": 1e-6, "rel_drop": 0.5}
    m = {"max_rel_increase": inc, "dissipation_rel_err": diss, "rel_drop": drop}
    return _results(cfgs, [ok, m])


CASES = {
    "foundation.gram-identity": (
        _gram(1e-13, 1e-14),
        [_gram(2e-10, 1e-14), _gram(1e-14, 3e-9)],
    ),
    "foundation.gradient-check": (_grad(5e-13), [_grad(2e-9)]),
    "foundation.loss-monotone": (
        _mono(-1e-7, 5e-5, 0.2),
        [_mono(5e-8, 1e-6, 0.2), _mono(-1e-7, 2e-4, 0.2), _mono(-1e-7, 1e-6, 1e-9)],
    ),
}


@pytest.mark.parametrize("claim_id", sorted(CASES))
def test_judge_holds_fails_and_is_inconclusive(claim_id):
    claim = get_claim(claim_id)
    prediction = claim.predict("quick")
    good, bads = CASES[claim_id]
    v = claim.judge(prediction, good)
    assert v.status == "holds", v.reason
    assert v.margin is not None and 0 <= v.margin <= 1 + 1e3
    assert v.checks and all(c["status"] == "holds" for c in v.checks)
    for bad in bads:
        w = claim.judge(prediction, bad)
        assert w.status == "fails", (claim_id, w.reason)
        assert w.margin is not None and w.margin < 0
    none = claim.judge(prediction, [RunResult(good[0].config, None, "boom", 0.0)])
    assert none.status == "inconclusive" and none.margin is None


def test_margins_are_fractions_of_the_tolerance():
    claim = get_claim("foundation.gradient-check")
    prediction = claim.predict("quick")
    rtol = prediction["rtol"]
    assert claim.judge(prediction, _grad(rtol / 4)).margin == pytest.approx(0.75)
    assert claim.judge(prediction, _grad(3 * rtol)).margin == pytest.approx(-2.0)


@pytest.mark.parametrize(
    "claim_id",
    ["foundation.gram-identity", "foundation.gradient-check", "foundation.loss-monotone"],
)
def test_identities_have_no_control_and_say_why(claim_id):
    claim = get_claim(claim_id)
    assert claim.controls is None and claim.no_control
    assert claim.tolerance_source.startswith(("derived", "calibrated"))


@pytest.mark.slow
def test_gradient_calibration_on_held_out_seeds_reproduces():
    """The tolerance_source quotes 5.4e-13 on seeds 1000-1003, 1010-1013 (not the judged 0-3)."""
    import dataclasses

    judged = {c.seed for c in gradient_check.configs("full")}
    assert judged.isdisjoint(gradient_check.GRAD_CALIBRATION_SEEDS)
    base = [c for c in gradient_check.configs("full") if c.seed == 0]
    worst = max(
        gradient_check.experiment(dataclasses.replace(c, seed=s))["max_rel_err"]
        for c in base
        for s in gradient_check.GRAD_CALIBRATION_SEEDS
    )
    assert worst == pytest.approx(5.4e-13, rel=0.05)
    assert worst * 1000 <= gradient_check.GRAD_RTOL
