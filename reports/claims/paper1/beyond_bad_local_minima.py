"""beyond.bad-local-minima — with m = r plain gradient descent ends, in some seeds, at a spurious local
minimum even for orthogonal targets (end points refined to gradient <= 1e-10 and classified by a
perturbation-escape test), while m = 4r succeeds: paper 1; docs/math.md §5 and §10.3."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.algorithms import classify_end_point, plain_descent_baseline
from numerics.tensors import orthogonal_tensor

from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence, clopper_pearson
from .._shared import legend, no_runs, ok_runs

claim = declare(
    "beyond.bad-local-minima",
    source="Wang et al. 2020 (paper 1): with m = r gradient descent gets stuck even for orthogonal tensors",
    statement=(
        "With m = r, plain gradient descent on ½||Σ w_i^{⊗l} - T*||² from random "
        "initialisation (orthogonal target, l = 3 and 4) ends, in some seeds, at a spurious "
        "local minimum: refined to relative gradient <= 1e-10, no perturbation of size 0.05 "
        "followed by descent lowers the loss; other end points that plain descent only creeps "
        "towards are degenerate saddles that such a perturbation escapes. The counts per class "
        "(success, saddle, spurious_minimum) are reported. With m = 4r gradient descent "
        "succeeds where m = r does not."
    ),
    latex=r"\|\nabla f(W_\infty)\|\le10^{-10},\ \ f(W_\infty+\rho V)\not\to f<f(W_\infty)",
    method=(
        "Orthogonal target Σ_{k<3} e_k^{⊗l}, d = 5; numerics.algorithms.plain_descent_baseline "
        "(init norm s^{1/l}, step 0.05/(l² s^{2-2/l}), 5000 steps), then "
        "numerics.algorithms.classify_end_point: saddle-free Newton with the exact Hessian to "
        "relative gradient <= 1e-10; error <= 0.05: success; otherwise perturb by ρ = 0.05 along "
        "negative-curvature and Hessian-null directions (both signs: the higher-order test) and "
        "8 random ones, 3000 descent steps each; a loss drop > 1e-4·½||T*||² = saddle, none = "
        "spurious minimum (at resolution ρ). Quick: l = 3, m ∈ {3, 12}, 8 seeds; full: "
        "l ∈ {3, 4}, 30 seeds. Control: rank-one target (r = 1, m ∈ {1, 4}), whose only "
        "non-global critical point is the saddle at 0: no spurious minimum, and m = 4 does not "
        "beat m = 1, so the judge must fail."
    ),
    tolerance=(
        "per l: at least one spurious minimum at m = r (existence; counts per class reported "
        "with the exact interval of the spurious fraction); McNemar one-sided p <= 0.05 for "
        "'m = 4r succeeds where m = r does not'"
    ),
    tolerance_source=(
        "derived: existence needs one certified instance; gradient 1e-10 is the issue's "
        "criterion; ρ = 0.05 is the nudge that escaped 4 of 6 'stuck' seeds in the referee's "
        "re-run; drop 1e-4 is far above the rounding of the loss (1e-16) and far below the "
        "loss gap of one missing component (1/3 of ½||T*||² for r = 3)"
    ),
)

CLASSES = ("success", "saddle", "spurious_minimum", "unresolved")
ESCAPE_RHO = 0.05  # perturbation size of the escape test, in units of s^{1/l} (the nudge)


@dataclass(frozen=True)
class PlainRun:
    """Plain gradient descent from random init on an orthogonal target ``Σ_k e_k^{⊗l}``."""

    order: int
    d: int
    r: int
    m: int
    seed: int


@claim.configs
def configs(profile: str) -> list[PlainRun]:
    orders, seeds = ((3,), range(8)) if profile == "quick" else ((3, 4), range(30))
    return [
        PlainRun(order=l, d=5, r=3, m=f * 3, seed=s) for l in orders for f in (1, 4) for s in seeds
    ]


@claim.controls
def controls(profile: str) -> dict[str, list[PlainRun]]:
    orders, seeds = ((3,), range(6)) if profile == "quick" else ((3, 4), range(20))
    return {
        "rank-one target (r = 1): no spurious critical point": [
            PlainRun(order=l, d=5, r=1, m=m, seed=1000 + s)
            for l in orders
            for m in (1, 4)
            for s in seeds
        ]
    }


@claim.experiment
def experiment(cfg: PlainRun) -> dict[str, Any]:
    """End point of plain GD (5000 steps), refined to gradient <= 1e-10 and classified."""
    target = orthogonal_tensor(np.ones(cfg.r), cfg.d, cfg.order)
    res = plain_descent_baseline(target, cfg.m, rng=cfg.seed, model="plain")
    if not np.isfinite(res.relative_error):
        raise RuntimeError(f"numerical failure: {res.message}")
    cls = classify_end_point(
        res.W, target, model="plain", rho=ESCAPE_RHO, rng=np.random.default_rng([cfg.seed, 5])
    )
    return {
        "kind": cls.kind,
        "gd_relative_error": res.relative_error,
        "gd_grad_norm": res.grad_norm,
        "relative_error": cls.relative_error,
        "grad_norm": cls.grad_norm,
        "hessian_min_rel": None if math.isnan(cls.hessian_min) else cls.hessian_min,
        "null_dim": cls.null_dim,
        "escape": cls.escape,
        "escape_drop": cls.escape_drop,
        "success": cls.kind == "success",
    }


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    return {"min_spurious": 1, "p_value": 0.05, "rho": ESCAPE_RHO}


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = (
        "at m = r some end point is a spurious local minimum (escape test at ρ = "
        f"{prediction['rho']}); m = 4r succeeds where m = r does not (McNemar p <= "
        f"{prediction['p_value']})"
    )
    ok = ok_runs(results)
    if not ok:
        return no_runs(predicted)
    groups: dict[tuple[int, int], dict[int, dict[int, Mapping[str, Any]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for c, m in ok:
        groups[(c.order, c.r)][c.m][c.seed] = m
    ev = Evidence()
    numbers: dict[str, Any] = {}
    parts = []
    for (l, r), per_m in sorted(groups.items()):
        counts = {
            f"m={m}": {k: sum(x["kind"] == k for x in runs.values()) for k in CLASSES}
            for m, runs in sorted(per_m.items())
        }
        at_r = per_m.get(r, {})
        n_spur = sum(x["kind"] == "spurious_minimum" for x in at_r.values())
        ev.at_least(f"l={l}: spurious minima found at m=r={r}", n_spur, prediction["min_spurious"])
        if 4 * r in per_m and at_r:
            seeds = sorted(set(at_r) & set(per_m[4 * r]))
            ev.contrast(
                f"l={l}: m=4r succeeds where m=r does not",
                [per_m[4 * r][s]["success"] for s in seeds],
                [at_r[s]["success"] for s in seeds],
                prediction["p_value"],
            )
        n = len(at_r)
        numbers[f"l={l},r={r}"] = {
            "counts": counts,
            "spurious_ci95_at_m_eq_r": list(clopper_pearson(n_spur, n)) if n else None,
            "max_refined_grad_norm": max(x["grad_norm"] for x in at_r.values()) if n else None,
        }
        parts.append(
            f"l={l}: "
            + "; ".join(
                f"{mk}: " + ", ".join(f"{k} {v}" for k, v in c.items() if v)
                for mk, c in counts.items()
            )
        )
    return ev.verdict(predicted, " | ".join(parts), numbers)


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], figure: Any) -> dict:
    ax1, ax2 = figure.subplots(1, 2)
    data: dict[str, list[Any]] = {
        "order": [], "r": [], "m": [], "seed": [], "kind": [], "relative_error": [], "grad_norm": [],
    }  # fmt: skip
    for c, m in ok_runs(results):
        for field_name in ("order", "r", "m", "seed"):
            data[field_name].append(getattr(c, field_name))
        data["kind"].append(m["kind"])
        data["relative_error"].append(m["relative_error"])
        data["grad_norm"].append(m["grad_norm"])
    cells = sorted({(lo, mo) for lo, mo in zip(data["order"], data["m"], strict=True)})
    bottom = np.zeros(len(cells))
    for k, kind in enumerate(CLASSES):
        h = np.array(
            [
                sum(
                    1
                    for l2, m2, kk in zip(data["order"], data["m"], data["kind"], strict=True)
                    if (l2, m2) == cell and kk == kind
                )
                for cell in cells
            ],
            float,
        )
        ax1.bar(range(len(cells)), h, bottom=bottom, color=f"C{k}", label=kind)
        bottom += h
    ax1.set_xticks(range(len(cells)), [f"l={l}\nm={m}" for l, m in cells], fontsize=7)
    ax1.set_ylabel("end points (seeds)")
    ax1.set_title("Plain GD end points, refined and classified")
    legend(ax1, fontsize=6)
    colors = {kind: f"C{k}" for k, kind in enumerate(CLASSES)}
    ax2.scatter(
        np.maximum(data["grad_norm"], 1e-18), data["relative_error"], s=10,
        c=[colors[k] for k in data["kind"]],
    )  # fmt: skip
    ax2.set_xscale("log")
    ax2.set_xlabel("relative gradient (refined; successes as reached)")
    ax2.set_ylabel("relative error")
    return data
