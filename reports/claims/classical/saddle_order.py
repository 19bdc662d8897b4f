"""theory.saddle-order — the order of the saddle of the loss at ``W = 0`` (docs/math.md §5).

The loss at ``W = 0`` starts at degree ``l`` (plain model), ``l + 1`` (coefficient model) and 2 along
rays (two-homogeneous model) — Wang et al. 2020 (paper 1): 0 is a high-order saddle of the plain
objective. Symbolic Taylor expansion (:func:`theory.saddle_order_at_zero`) against the log-log slope
of ``f(tW) - f(0)`` computed by :func:`numerics.models.loss`. Negative control: the same measurement
around a random (regular) point, where the lowest degree is 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.models import loss as numeric_loss
from numerics.tensors import LowRankTensor
from theory import saddle_order_at_zero

from ...registered import registration
from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence
from .._shared import check_profile, columns, legend, no_runs, ok_runs
from ._common import MODELS, random_params, scatter_by_model

REGISTERED = registration("theory.saddle-order")  # tolerances fixed in reports/registered.toml
SADDLE_SLOPE_TOL = REGISTERED.tolerance("slope")
SADDLE_CALIBRATION = (
    "calibrated: the full profile's 108 cases with held-out seeds 100·l + {50..52, 60..62, 70..72} "
    "(324 cases, disjoint from the judged seeds 100·l + {0, 1, 2}), worst |slope - degree| = 1.5e-3; "
    "tolerance 1e-2 (6.7x that; distinct degrees differ by >= 1). The same calibration with the "
    "earlier floor 1e-10·f(0) found 0.77 (walks stopped before the slopes settled), so the floor was "
    "lowered to 1e-13·f(0) before judging"
)
_SADDLE_LEVEL = 1e-6  # start measuring once |f(tW) - f(0)| <= this · f(0)
_SADDLE_FLOOR = 1e-13  # never use a |Δ| below this · f(0) (rounding of Δ is ~1e-16·f(0))
_SADDLE_STEP = 2**0.5  # ratio between successive t (keeps Δ(t)/Δ(t/step) <= 2^{l/2})

claim = declare(
    "theory.saddle-order",
    source="Wang et al. 2020 (paper 1): 0 is a high-order saddle of the plain objective (docs/math.md §5)",
    statement=(
        "The Taylor expansion of the plain objective at W = 0 starts at degree l (f(tW) - f(0) = "
        "-t^l <T(W), T*> + O(t^{2l})), so 0 is a saddle of order l; the coefficient model starts at "
        "degree l + 1 and the two-homogeneous model at degree 2 along rays."
    ),
    latex=r"f(tW)-f(0)=-t^l\langle T(W),T^*\rangle+\tfrac{t^{2l}}2\|T(W)\|_F^2",
    method=(
        "prediction: sympy expansion of the explicit loss in t; measurement: numerics.models.loss at "
        "tW over a geometric grid of t for random W and a random rank-r target, once |f(tW)-f(0)| <= 1e-6 f(0) "
        "(steps of √2 in t) and two successive slopes agree within 1e-3 (floor 1e-13 f(0)). Control: "
        "the same measurement around a random point W0 (a regular point, lowest degree 1) must fail."
    ),
    tolerance=(f"|log(Δ(t)/Δ(t/√2))/log(√2) - degree| <= {SADDLE_SLOPE_TOL} in every case"),
    tolerance_source=SADDLE_CALIBRATION,
    model_choice="two-homogeneous parametrisation (docs/math.md §3.3), for the degree-2 rows",
    reference=(
        "docs/math.md §5: the lowest degree of the loss's Taylor expansion at W = 0 (paper 1: 0 "
        "is a high-order saddle of the plain objective)"
    ),
    caption=(
        "Every point must lie on the dashed diagonal: the measured log-log slope of f(tW) - f(0) "
        "equals the symbolic lowest degree."
    ),
)


@dataclass(frozen=True)
class SaddleCase:
    """Slope of ``|f(tW) - f(0)|`` at small ``t`` for a random ``W`` and random rank-``r`` target."""

    model: str
    l: int
    d: int
    m: int
    r: int
    seed: int
    around: str = "zero"  # "random": expand around a random W0 instead (the negative control)


@claim.configs
def configs(profile: str) -> list[SaddleCase]:
    orders = (2, 3, 4, 5) if check_profile(profile) == "quick" else (2, 3, 4, 5, 6, 7)
    seeds = (0,) if profile == "quick" else (0, 1, 2)
    sizes = [(4, 3, 2)] if profile == "quick" else [(4, 3, 2), (10, 20, 3)]
    return [
        SaddleCase(model, l, d, m, r, seed=100 * l + s)
        for model in MODELS
        for l in orders
        for d, m, r in sizes
        for s in seeds
    ]


@claim.controls
def controls(profile: str) -> dict[str, list[SaddleCase]]:
    """Expansion around a random (regular) point: the lowest degree there is 1, not the saddle's
    (docs/math.md §8)."""
    seeds = (0,) if check_profile(profile) == "quick" else (0, 1, 2)
    return {
        "around a random point": [
            SaddleCase(model, l, 4, 3, 2, seed=100 * l + 90 + s, around="random")
            for model in MODELS
            for l in (3, 4)
            for s in seeds
        ]
    }


@claim.experiment
def experiment(cfg: SaddleCase) -> dict[str, Any]:
    """Local log-log slope of ``Δ(t) = f(W0 + tW) - f(W0)`` between ``t`` and ``t/√2`` (numerics.models.loss).

    ``W0 = 0`` (``around="zero"``, the claim) or a random point (``around="random"``, the control:
    a regular point, where the slope is 1). ``t`` is divided by ``√2`` until
    ``|Δ(t)| <= 1e-6·f(W0)``, and further while two successive slopes disagree by more than 1e-3
    (skipping an accidental cancellation of the leading terms), never using ``|Δ| < 1e-13·f(W0)``.
    Errors: rounding of ``Δ`` is ``~1e-16·f(W0)``, i.e. ``<= 1e-3`` relative at the floor; the
    next-order term shrinks by ``√2^k`` per step. The tolerance is calibrated on held-out seeds
    (:data:`SADDLE_CALIBRATION`).
    """
    rng = np.random.default_rng(cfg.seed)
    W = random_params(cfg.model, cfg.m, cfg.d, rng)
    U = rng.standard_normal((cfg.r, cfg.d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    target = LowRankTensor(rng.uniform(0.5, 1.5, cfg.r), U, cfg.l)
    if cfg.around == "zero":
        W0 = np.zeros_like(W)
    elif cfg.around == "random":
        W0 = rng.standard_normal(W.shape) / np.sqrt(cfg.d)
    else:
        raise ValueError(f"around must be 'zero' or 'random', got {cfg.around!r}")
    f0 = numeric_loss(W0, target, model=cfg.model)  # at W0 = 0: ½||T*||² (T(0) = 0)
    q = _SADDLE_STEP

    def delta(t: float) -> float:
        return abs(numeric_loss(W0 + t * W, target, model=cfg.model) - f0)

    def slope(a: float, b: float) -> float:
        return float(np.log(a / b) / np.log(q))

    t = 1.0
    while delta(t) > _SADDLE_LEVEL * f0 and t > 1e-12:
        t /= q
    d1, d2, d3 = delta(t), delta(t / q), delta(t / q**2)
    while abs(slope(d1, d2) - slope(d2, d3)) > 1e-3:
        d4 = delta(t / q**3)
        if d4 <= _SADDLE_FLOOR * f0:
            break
        t /= q
        d1, d2, d3 = d2, d3, d4
    if not (d3 > _SADDLE_FLOOR * f0):
        raise ArithmeticError(
            f"|f(tW) - f(0)| fell below {_SADDLE_FLOOR:g}·f(0) at t={t:g} for {cfg}"
        )
    return {
        "t": t,
        "delta_rel": d3 / f0,
        "slope": slope(d2, d3),
        "previous_slope": slope(d1, d2),
        "f0": f0,
    }


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    orders = sorted({c.l for c in configs(profile)})
    # symbolic Taylor expansion at 0 (small explicit case; the order does not depend on d, m, r)
    return {
        model: {str(l): saddle_order_at_zero(l, 2, 1, model, 1) for l in orders} for model in MODELS
    }


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = "lowest degree at 0: " + "; ".join(
        f"{model} " + ",".join(f"l={l}:{k}" for l, k in orders.items())
        for model, orders in prediction.items()
    )
    ok = ok_runs(results)
    if not ok:
        return no_runs(predicted)
    errs = [(abs(m["slope"] - prediction[c.model][str(c.l)]), c, m["slope"]) for c, m in ok]
    worst = max(errs, key=lambda e: e[0])
    numbers = {"max_abs_slope_error": worst[0], "cases": len(ok), "tol": SADDLE_SLOPE_TOL}
    ev = Evidence()
    ev.at_most(f"largest |slope - degree| ({len(ok)} cases)", worst[0], SADDLE_SLOPE_TOL)
    ev.note(f"Worst case {worst[1]}: slope {worst[2]:.4f}.")
    return ev.verdict(
        predicted=predicted,
        measured=f"max |slope - predicted degree| = {worst[0]:.2e} over {len(ok)} cases",
        numbers=numbers,
    )


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    data = columns("model", "l", "d", "seed", "predicted", "slope")
    for c, m in ok_runs(results):
        data["model"].append(c.model)
        data["l"].append(c.l)
        data["d"].append(c.d)
        data["seed"].append(c.seed)
        data["predicted"].append(prediction[c.model][str(c.l)])
        data["slope"].append(m["slope"])
    ax = fig.add_subplot(1, 1, 1)
    scatter_by_model(ax, data, "predicted", "slope")
    lo, hi = 1, max(data["predicted"] or [2]) + 1
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="slope = degree")
    ax.set_xlabel("symbolic lowest degree at W = 0")
    ax.set_ylabel("measured log-log slope of f(tW) - f(0)")
    ax.set_title("Order of the saddle at 0 (docs/math.md §5)")
    legend(ax)
    return data
