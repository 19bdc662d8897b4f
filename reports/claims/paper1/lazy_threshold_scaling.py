"""lazy.threshold-scaling — at a fixed accuracy ε ∈ {0.1, 0.3} the smallest m whose lazy residual is
<= ε keeps pace with D(d,l)/d ~ d^{l-1}/l! as d grows, so lazy training needs m = Ω(d^{l-1}) (paper 1,
abstract); docs/math.md §4 (lazy regime) and §9.1 (the fixed-accuracy threshold and its bound)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.lazy import lazy_residual, sym_basis_size
from numerics.tensors import LowRankTensor, random_low_rank, random_unit_vectors

from ...registry import RunResult, Verdict, declare
from ...statistics import Check, Evidence, linear_fit
from .._shared import failed_runs, legend, mean_interval, ok_runs

# ε is fixed in advance (the paper's statement is for a fixed accuracy, not exact fitting).
EPSILONS = (0.3, 0.1)
# CG tolerance on the normal equations and the slack of the "residual <= ε" decision, calibrated on
# seeds 1000–1003 (disjoint from the judged seeds 0–4 and the control seeds 100–102): at CG_TOL the
# converged CG bound was within 1.02e-4 of the dense least-squares residual (l=3, d <= 20; l=4, d <= 10;
# m = 0.5–0.95·D/d; 140 cases) and within 3.1e-5 of a 100x tighter CG solve (l=3, d = 32–64; l=4,
# d = 16–24; 24 cases). SOLVER_SLACK is ten times the worst error. Near the threshold the residual falls
# by about d/D per added component, so the slack moves m* by at most ~SOLVER_SLACK·D/d (<= 1 at d = 64).
CG_TOL = 1e-5
SOLVER_SLACK = 1e-3
# "Bounded below": the log-log slope of m*/(D/d) in d. The claim predicts slope >= 0 asymptotically
# (m* ∝ D/d ∝ d^{l-1}); the alternative it excludes is one power of d less (m* = O(d^{l-2}), slope -1).
# The rule decides at the midpoint: the slope's 95% interval must lie above -1/2.
DECAY_BOUND = -0.5
TANGENT_RANK = 2  # the control's target Σ_{i<2} w_i^{⊗l} lies in the tangent space for every m >= 2

claim = declare(
    "lazy.threshold-scaling",
    source="Wang et al. 2020 (paper 1), abstract: lazy training needs m = Ω(d^{l-1})",
    statement=(
        "At a fixed accuracy ε ∈ {0.1, 0.3}, the smallest m whose lazy residual (relative squared "
        "error of the best linearised fit at a random initialisation) is <= ε for a random rank-one "
        "target, m*_ε(d), does not fall behind D(d,l)/d ~ d^{l-1}/l! as d grows: the log-log slope "
        "of m*_ε/(D/d) in d is above -1/2 (95% interval), so m*_ε/d^{l-1} stays bounded below; the "
        "constant at the largest d is reported with its interval."
    ),
    latex=r"\liminf_d m^*_\varepsilon(d)/d^{l-1}>0,\quad \varepsilon\in\{0.1,0.3\}",
    method=(
        "Nested prefixes of one random W (unit rows); lazy residual by numerics.lazy.lazy_residual "
        f"(matrix-free CG, tol {CG_TOL:g}; 'residual <= ε' iff the CG upper bound is <= ε + "
        f"{SOLVER_SLACK:g}, which can only lower m*); m*_ε by a bracket around (1-ε)·D/d and "
        "bisection. Judge: least-squares slope of log(m*/(D/d)) against log d over all seeds with "
        f"its t-interval, per (l, ε); it must lie above {DECAY_BOUND} (midpoint between the claim, "
        "slope >= 0, and the alternative m* = O(d^{l-2}), slope -1). Regime: l = 3, d = 12–32 "
        "(quick) / 12–64 (full) / 64–96 (scale); l = 4, d = 8–20 / 8–24 / 24–32; 8 / 8 / 3 seeds. "
        "Control (must fail): the target Σ_{i<2} w_i^{⊗l} lies in the tangent space, so m* = 2 for "
        "every d and m*/(D/d) decays like d^{-(l-1)}."
    ),
    tolerance=(
        f"95% CI of the slope of log(m*_ε/(D/d)) vs log d above {DECAY_BOUND} for l = 3, 4 and "
        f"ε = 0.1, 0.3 (three-valued: inconclusive if the interval straddles {DECAY_BOUND})"
    ),
    tolerance_source=(
        f"derived (docs/math.md §9.1): {DECAY_BOUND} is the midpoint between the "
        "predicted exponent (m* ∝ d^{{l-1}}, "
        "slope 0 for m*/(D/d)) and one power of d less (slope -1); the solver slack "
        f"{SOLVER_SLACK:g} is calibrated: seeds 1000–1003 (dense reference, l=3 d<=20, l=4 d<=10) "
        "and 1000–1001 (100x tighter CG, l=3 d<=64, l=4 d<=24), largest CG error found 1.02e-4 at "
        f"tol {CG_TOL:g}, slack = 10x that"
    ),
    profiles=("quick", "full", "scale"),
)


@dataclass(frozen=True)
class ThresholdRun:
    """Smallest ``m`` with lazy residual ``<= ε`` for each ε of ``EPSILONS`` (nested prefixes of one
    seeded ``W`` with unit rows). ``target="random"``: a random rank-one unit target (the claim);
    ``"tangent"``: ``Σ_{i<2} w_i^{⊗l}`` built from ``W``'s own first rows, inside the tangent space
    (the negative control: no lower bound)."""

    order: int
    d: int
    seed: int
    target: str = "random"


GRID = {
    "quick": ({3: [12, 16, 24, 32], 4: [8, 10, 12, 16, 20]}, range(8)),
    "full": ({3: [12, 16, 24, 32, 48, 64], 4: [8, 10, 12, 16, 20, 24]}, range(8)),
    "scale": ({3: [64, 80, 96], 4: [24, 28, 32]}, range(3)),
}


@claim.configs
def configs(profile: str) -> list[ThresholdRun]:
    grid, seeds = GRID[profile]
    return [ThresholdRun(l, d, s) for l, ds in grid.items() for d in ds for s in seeds]


@claim.controls
def controls(profile: str) -> dict[str, list[ThresholdRun]]:
    grid, _ = GRID[profile]
    seeds = range(100, 101 if profile == "quick" else 102)
    return {
        "target in the tangent space": [
            ThresholdRun(l, d, s, target="tangent")
            for l, ds in grid.items()
            for d in ds
            for s in seeds
        ]
    }


@claim.experiment
def experiment(cfg: ThresholdRun) -> dict[str, Any]:
    D = sym_basis_size(cfg.d, cfg.order)
    # one above ceil(D/d): the tangent space is all of Sym^l there (AH defective cases included)
    m_hi = -(-D // cfg.d) + 1
    rng = np.random.default_rng([cfg.seed, cfg.order, cfg.d])
    target = random_low_rank(1, cfg.d, cfg.order, rng=rng)
    W = random_unit_vectors(m_hi, cfg.d, rng)
    if cfg.target == "tangent":
        target = LowRankTensor(np.ones(TANGENT_RANK), W[:TANGENT_RANK], cfg.order)
    elif cfg.target != "random":
        raise ValueError(f"target must be 'random' or 'tangent', got {cfg.target!r}")
    residuals: dict[int, float] = {}
    iterations: list[int] = []

    def residual(m: int) -> float:
        """Converged CG upper bound on the lazy residual at the first ``m`` rows."""
        if m not in residuals:
            res = lazy_residual(W[:m], target, method="cg", tol=CG_TOL)
            if not res.converged:
                raise RuntimeError(res.message)
            residuals[m] = res.residual_bound
            iterations.append(res.iterations)
        return residuals[m]

    def below(m: int, eps: float) -> bool:
        # bound <= ε certifies "yes"; bound > ε + slack certifies "no" (CG error <= slack/10, calibrated);
        # in between is called "yes", which can only lower m* (conservative for a lower bound)
        return residual(m) <= eps + SOLVER_SLACK

    top = lazy_residual(W, target, method="cg", tol=CG_TOL, stop_below=min(EPSILONS))
    if not top.residual_bound <= min(EPSILONS):
        raise RuntimeError(f"residual above {min(EPSILONS)} at m=ceil(D/d)+1={m_hi}: {top.message}")
    m_star: dict[str, int] = {}
    lo = 0  # residual(lo) > ε (or lo = 0); m*_ε is non-decreasing as ε decreases
    for eps in sorted(EPSILONS, reverse=True):
        hi = m_hi
        step = max(1, round(0.04 * D / cfg.d))
        guess = min(max(round((1 - eps) * D / cfg.d), lo + 1), hi - 1)
        if guess > lo and guess < hi:
            if below(guess, eps):
                hi = guess
                probe = guess - step
                while probe > lo and below(probe, eps):
                    hi, probe = probe, probe - 2 * step
                lo = max(lo, probe)
            else:
                lo = guess
                probe = guess + step
                while probe < hi and not below(probe, eps):
                    lo, probe = probe, probe + 2 * step
                hi = min(hi, probe) if probe < hi else hi
        while hi - lo > 1:  # invariant: not below at lo (or lo = 0), below at hi
            mid = (lo + hi) // 2
            if below(mid, eps):
                hi = mid
            else:
                lo = mid
        m_star[str(eps)] = hi
        lo = hi - 1
    return {
        "m_star": m_star,
        "D_over_d": D / cfg.d,
        "residuals": {str(m): r for m, r in sorted(residuals.items())},
        "solves": len(iterations),
        "cg_iterations": int(sum(iterations)),
        "max_cg_iterations": int(max(iterations, default=0)),
    }


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    import theory

    grid, _ = GRID[profile]
    out: dict[str, Any] = {"epsilons": list(EPSILONS), "decay_bound": DECAY_BOUND, "orders": {}}
    for l, ds in sorted(grid.items()):
        out["orders"][str(l)] = {
            "d": ds,
            "lazy_threshold": [theory.lazy_threshold(d, l) for d in ds],
            "D_over_d": [theory.sym_dim(d, l) / d for d in ds],
            "asymptotic_constant": 1.0 / math.factorial(l),  # (D/d)/d^{l-1} -> 1/l!
        }
    return out


def _threshold_points(
    results: Sequence[RunResult],
) -> dict[tuple[int, str], list[tuple[int, int, float]]]:
    """``(order, ε) -> [(d, m*, D/d)]`` over the successful runs."""
    pts: dict[tuple[int, str], list[tuple[int, int, float]]] = defaultdict(list)
    for c, mt in ok_runs(results):
        for eps, m in mt["m_star"].items():
            pts[(c.order, eps)].append((c.d, int(m), float(mt["D_over_d"])))
    return pts


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = (
        f"m*_ε/(D/d) does not decay with d (log-log slope 95% CI above {DECAY_BOUND}), so "
        "m*_ε/d^{l-1} stays bounded below, for ε ∈ {0.1, 0.3}"
    )
    ev = Evidence()
    numbers: dict[str, Any] = {"failed_runs": failed_runs(results), "fits": {}}
    summary = []
    for (l, eps), pts in sorted(_threshold_points(results).items()):
        ds = sorted({d for d, _, _ in pts})
        name = f"l={l}, ε={eps}: slope of log(m*/(D/d)) vs log d"
        if len(pts) < 3 or len(ds) < 2:
            ev.add(Check(name, "inconclusive", float("nan"), f"only {len(pts)} runs at d={ds}"))
            continue
        fit = linear_fit([math.log(d) for d, _, _ in pts], [math.log(m / r) for _, m, r in pts])
        ev.interval_beyond(name, fit.ci, DECAY_BOUND, "above")
        d_max = ds[-1]
        at_max = [(m, r) for d, m, r in pts if d == d_max]
        c_mean, c_ci = mean_interval([m / d_max ** (l - 1) for m, _ in at_max])
        rho_mean, rho_ci = mean_interval([m / r for m, r in at_max])
        per_d = {str(d): mean_interval([m / r for dd, m, r in pts if dd == d])[0] for d in ds}
        numbers["fits"][f"{l},{eps}"] = {
            "slope": fit.as_dict(),
            "d_max": d_max,
            "constant_at_d_max": c_mean,
            "constant_ci95": list(c_ci),
            "isotropic_reference_constant": (1 - float(eps))
            * math.comb(d_max + l - 1, l)
            / d_max
            / d_max ** (l - 1),
            "m_star_over_D_over_d_at_d_max": rho_mean,
            "m_star_over_D_over_d_ci95": list(rho_ci),
            "mean_m_star_over_D_over_d": per_d,
            "runs": len(pts),
        }
        summary.append(
            f"l={l}, ε={eps}: slope {fit.slope:+.2f} [{fit.ci[0]:+.2f}, {fit.ci[1]:+.2f}], "
            f"m*/d^{l - 1} = {c_mean:.3g} [{c_ci[0]:.3g}, {c_ci[1]:.3g}] at d={d_max}"
        )
    if not summary and not ev.checks:
        ev.add(Check("runs", "inconclusive", float("nan"), "no run produced metrics"))
    ev.note(
        "The constant m*_ε/d^{l-1} is reported at the largest d with its 95% t-interval over seeds; "
        "m*/(D/d) -> c means m*/d^{l-1} -> c/l!."
    )
    return ev.verdict(predicted=predicted, measured="; ".join(summary) or "n/a", numbers=numbers)


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], figure: Any) -> dict:
    ax1 = figure.add_subplot(1, 2, 1)
    ax2 = figure.add_subplot(1, 2, 2)
    data: dict[str, list[Any]] = {
        "order": [],
        "d": [],
        "seed": [],
        "target": [],
        "eps": [],
        "m_star": [],
        "m_star_over_D_over_d": [],
        "m_star_over_d_pow": [],
    }
    for c, mt in ok_runs(results):
        for eps, m in mt["m_star"].items():
            for k, v in (
                ("order", c.order),
                ("d", c.d),
                ("seed", c.seed),
                ("target", c.target),
                ("eps", float(eps)),
                ("m_star", m),
                ("m_star_over_D_over_d", m / mt["D_over_d"]),
                ("m_star_over_d_pow", m / c.d ** (c.order - 1)),
            ):
                data[k].append(v)
    groups: dict[tuple[int, float], list[int]] = defaultdict(list)
    for i, key in enumerate(zip(data["order"], data["eps"], strict=True)):
        groups[key].append(i)
    for (l, eps), idx in sorted(groups.items()):
        ds = sorted({data["d"][i] for i in idx})
        for ax, col in ((ax1, "m_star_over_D_over_d"), (ax2, "m_star_over_d_pow")):
            means, lows, highs = [], [], []
            for d in ds:
                mean, (lo, hi) = mean_interval([data[col][i] for i in idx if data["d"][i] == d])
                means.append(mean)
                lows.append(mean - lo)
                highs.append(hi - mean)
            ax.errorbar(
                ds,
                means,
                yerr=[lows, highs],
                marker="o" if l == 3 else "s",
                capsize=2,
                label=f"l={l}, ε={eps}",
            )
    for p in prediction.get("orders", {}).values():
        ax2.axhline(p["asymptotic_constant"], ls=":", lw=0.8, color="gray")
    ax1.set_xscale("log")
    ax1.set_xlabel("d")
    ax1.set_ylabel("m*_ε / (D(d,l)/d)  (mean, 95% CI)")
    ax1.set_title("Lazy threshold at fixed ε")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("d")
    ax2.set_ylabel("m*_ε / d^{l-1}  (dotted: 1/l!)")
    legend(ax1, fontsize=6)
    return data
