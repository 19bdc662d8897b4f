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

from ...registered import registration
from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence, clopper_pearson
from .._shared import BAR_COLOR, columns, legend, no_runs, ok_runs

REG = registration("beyond.bad-local-minima")
ESCAPE_RHO = REG.tolerance("escape_rho")  # perturbation size of the escape test, units of s^{1/l}
MIN_COUNT = int(REG.tolerance("min_spurious"))

claim = declare(
    "beyond.bad-local-minima",
    source="Wang et al. 2020 (paper 1): with m = r gradient descent gets stuck even for orthogonal tensors",
    statement=(
        "With m = r = 3, plain gradient descent on ½||Σ w_i^{⊗l} - T*||² from random "
        "initialisation (orthogonal target Σ_k e_k^{⊗l}, d = 20, l = 3 and 4) ends, in some seeds, "
        "at a spurious local minimum: refined to relative gradient <= 1e-10, the point has error "
        "> 0.05 and no perturbation of size ρ (along the residual direction of a vanishing "
        "component, the Hessian's negative and null directions with both signs, and random "
        "directions) followed by descent lowers the loss. At least one such end point is found "
        "(l = 3 and 4 pooled); the counts per class (success, saddle, spurious_minimum, "
        "unresolved) are reported per l."
    ),
    latex=r"\|\nabla f(W_\infty)\|\le10^{-10},\ \ f(W_\infty+\rho V)\not\to f<f(W_\infty)",
    method=(
        "Orthogonal target Σ_{k<3} e_k^{⊗l}; numerics.algorithms.plain_descent_baseline (init norm "
        "s^{1/l}, step 0.05/(l² s^{2-2/l}), 5000 steps), then numerics.algorithms."
        "classify_end_point: saddle-free Newton with the exact Hessian to relative gradient <= "
        "1e-10; error <= 0.05: success; otherwise perturb by ρ: (0) a component of norm <= ρ "
        "is replaced by ρ·v along the residual's top direction v (a certified descent direction "
        "when R(v^{⊗l}) > 0: the exact expansion at a zero row, docs/math.md §10.3), descent for "
        "four times the derived escape time; (a) negative-curvature and (b) Hessian-null "
        "directions with both signs, (c) 8 random ones, 3000 descent steps each; a loss drop > "
        "1e-4·½||T*||² = saddle, none = spurious minimum (at resolution ρ). Quick (smoke test): "
        "l = 3, d = 5, 6 seeds; full: l ∈ {3, 4}, d = 20, 40 seeds. Control (must fail): rank-one target "
        "(r = m = 1, at the same l and d), whose only non-global critical point is the saddle at 0 "
        "(reached by plain descent from a negative start at l = 3: a slow saddle the classifier "
        "must call a saddle): no spurious minimum exists."
    ),
    tolerance=(
        f"at least {MIN_COUNT} spurious local minimum among the end points at m = r (l pooled); "
        "counts per class reported with the exact interval of the spurious fraction"
    ),
    tolerance_source=(
        "derived: existence needs one certified instance (a refined critical point that no "
        f"perturbation of size ρ = {ESCAPE_RHO:g} escapes; docs/math.md §10.3); gradient 1e-10 is "
        "the classifier's criterion; drop 1e-4 is far above the rounding of the loss (1e-16) and "
        "far below the loss gap of one missing component (1/3 of ½||T*||²); the power of the "
        "existence check (1 − (1 − p)^n at the calibration estimate p) is registered in "
        "reports/registered.toml"
    ),
    reference=(
        "paper 1: with m = r gradient descent gets stuck in bad local minima even for orthogonal "
        "tensors (docs/math.md §5, which records no section number); abstract: over-"
        "parametrization lets the optimizer avoid bad local optima"
    ),
    caption=(
        "Left, judged: the spurious-minimum count at m = r must reach the red dashed bar. Right: each "
        "end point's refined gradient and error, the classifier's two cuts dotted and dashed."
    ),
)

CLASSES = ("success", "saddle", "spurious_minimum", "unresolved")
GRAD_CRITERION = 1e-10  # classify_end_point's default gtol: refined to this relative gradient
SUCCESS_ERROR = 0.05  # classify_end_point's default eps: the success error


@dataclass(frozen=True)
class PlainRun:
    """Plain gradient descent from random init on an orthogonal target ``Σ_k e_k^{⊗l}``."""

    order: int
    d: int
    r: int
    m: int
    seed: int


# orders, d, seeds, control seeds (quick: a smoke test at d = 5, where minima are frequent and cheap)
GRID = {"quick": ((3,), 5, 6, 4), "full": ((3, 4), 20, 40, 20)}


@claim.configs
def configs(profile: str) -> list[PlainRun]:
    orders, d, n, _ = GRID[profile]
    return [PlainRun(order=l, d=d, r=3, m=3, seed=s) for l in orders for s in range(n)]


@claim.controls
def controls(profile: str) -> dict[str, list[PlainRun]]:
    _, d, _, n = GRID[profile]  # the control at the claim's orders and d
    return {
        "rank-one target (r = 1): no spurious critical point": [
            PlainRun(order=l, d=d, r=1, m=1, seed=1000 + s)
            for l in GRID[profile][0]
            for s in range(n)
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
        "grad_norm": None if math.isnan(cls.grad_norm) else cls.grad_norm,
        "hessian_min_rel": None if math.isnan(cls.hessian_min) else cls.hessian_min,
        "null_dim": cls.null_dim,
        "escape": cls.escape,
        "escape_drop": cls.escape_drop,
        "success": cls.kind == "success",
    }


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    return {"min_spurious": MIN_COUNT, "rho": ESCAPE_RHO}


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = (
        f"at least {prediction['min_spurious']} end point at m = r is a spurious local minimum "
        f"(escape test at ρ = {prediction['rho']}); counts per class reported"
    )
    ok = ok_runs(results)
    if not ok:
        return no_runs(predicted)
    per_l: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for c, m in ok:
        if c.m == c.r:
            per_l[c.order].append(m)
    ev = Evidence()
    numbers: dict[str, Any] = {}
    parts = []
    total = 0
    for l, runs in sorted(per_l.items()):
        counts = {k: sum(x["kind"] == k for x in runs) for k in CLASSES}
        n, n_spur = len(runs), counts["spurious_minimum"]
        total += n_spur
        grads = [x["grad_norm"] for x in runs if x["grad_norm"] is not None]
        numbers[f"l={l}"] = {
            "counts": counts,
            "spurious_ci95": list(clopper_pearson(n_spur, n)),
            "max_refined_grad_norm": max(grads) if grads else None,
            "escapes": {
                e: sum(x["escape"] == e for x in runs if x["kind"] == "saddle")
                for e in ("residual", "negative-curvature", "null-space", "random")
            },
        }
        parts.append(f"l={l}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    ev.at_least("spurious local minima found at m = r", total, prediction["min_spurious"])
    return ev.verdict(predicted, " | ".join(parts), numbers)


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], figure: Any) -> dict:
    ax1, ax2 = figure.subplots(1, 2)
    data = columns("order", "r", "m", "seed", "kind", "relative_error", "grad_norm")
    for c, m in ok_runs(results):
        grad = m["grad_norm"] if m["grad_norm"] is not None else float("nan")
        row = (c.order, c.r, c.m, c.seed, m["kind"], m["relative_error"], grad)
        for key, v in zip(data, row, strict=True):
            data[key].append(v)
    cells = sorted({(lo, mo) for lo, mo in zip(data["order"], data["m"], strict=True)})
    width = 0.8 / max(len(cells), 1)
    for j, cell in enumerate(cells):
        kinds = [
            k
            for l2, m2, k in zip(data["order"], data["m"], data["kind"], strict=True)
            if (l2, m2) == cell
        ]
        counts = [kinds.count(kind) for kind in CLASSES]
        x = np.arange(len(CLASSES)) + (j - (len(cells) - 1) / 2) * width
        bars = ax1.bar(x, counts, width * 0.9, color=[f"C{k}" for k in range(len(CLASSES))])
        ax1.bar_label(bars, [f"{n}" if len(cells) == 1 else f"{n} ($l={cell[0]}$)" for n in counts])
    need = prediction.get("min_spurious", MIN_COUNT)
    k_spur = CLASSES.index("spurious_minimum")
    ax1.plot(
        [k_spur - 0.45, k_spur + 0.45], [need, need], color=BAR_COLOR, ls="--", lw=1.6,
        label=f"judged: at least {need} (orders pooled)",
    )  # fmt: skip
    ax1.set_xticks(range(len(CLASSES)), [k.replace("_", " ") for k in CLASSES])
    ax1.set_ylim(0, max([need, *[data["kind"].count(k) for k in CLASSES]]) * 1.25 + 0.5)
    ax1.set_ylabel("end points at $m = r$ (seeds)")
    ax1.set_title("Judged: spurious minima at $m = r$")
    legend(ax1, fontsize=9, loc="upper right")
    for k, kind in enumerate(CLASSES):
        pts = [
            (g, e)
            for g, e, kk in zip(
                data["grad_norm"], data["relative_error"], data["kind"], strict=True
            )
            if kk == kind
        ]
        if pts:
            g, e = zip(*pts, strict=True)
            ax2.scatter(np.fmax(g, 1e-18), e, s=30, color=f"C{k}", label=kind.replace("_", " "))
    ax2.axvline(
        GRAD_CRITERION, color="0.4", ls=":", lw=1, label=r"refined: $\|\nabla f\|$ criterion"
    )
    ax2.axhline(
        SUCCESS_ERROR, color="0.4", ls="--", lw=1, label=f"success: error <= {SUCCESS_ERROR:g}"
    )
    ax2.set_xscale("log")
    ax2.set_xlabel("relative gradient at the refined end point (successes: as reached)")
    ax2.set_ylabel(r"relative error $\|T - T^*\|_F / \|T^*\|_F$")
    ax2.set_title("How each end point was classified")
    legend(ax2, fontsize=9, loc="center right")
    return data
