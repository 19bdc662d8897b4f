"""Paper 1's lower bound: the lazy (NTK) regime needs ``m = Ω(d^{l-1})`` (docs/math.md §4).

* ``lazy.tangent-dimension`` — at random init the tangent rank is Terracini/Alexander–Hirschowitz's
  ``generic_tangent_dim(d, l, m)`` (defective cases and ``l = 2`` included);
* ``lazy.threshold-scaling`` — at a fixed accuracy ε ∈ {0.1, 0.3} the smallest ``m`` with lazy residual
  ``<= ε`` keeps pace with ``D(d,l)/d ~ d^{l-1}/l!`` as ``d`` grows (control: a target inside the
  tangent space, where no lower bound exists);
* ``lazy.rank-independence`` — the exact threshold (residual 0) does not depend on the target's rank;
* ``lazy.nonlinear-sufficiency`` — the nonlinear flow in the lazy scaling reaches the target above the
  threshold while the parameters move ``O(1/α)``, and stalls at the lazy residual below it (control:
  below the threshold the reach rule fails);
* ``lazy.alpha-scaling`` — the true flow of the centred scaled objective approaches the linearised flow
  like ``1/α`` (Chizat–Oyallon–Bach).

Measurements come from :mod:`numerics.lazy` and :mod:`numerics.lazy_training`, predictions from
:mod:`theory` (``sym_dim``, ``generic_tangent_dim``, ``lazy_threshold``); verdicts are built with
:class:`reports.statistics.Evidence`. BLAS threads are whatever the runner sets.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from numerics.flow import gradient_flow
from numerics.init import sphere_init
from numerics.lazy import (
    alpha_comparison,
    lazy_residual,
    linearized_flow,
    sym_basis_size,
    tangent_operator,
    tangent_rank,
    tangent_singular_values,
)
from numerics.lazy_training import lazy_training_flow
from numerics.tensors import LowRankTensor, int_power, random_low_rank, random_unit_vectors

from ..registry import Claim, RunResult, Verdict, register
from ..statistics import Check, Evidence, linear_fit
from ._shared import legend


def _ok(results: Sequence[RunResult]) -> list[tuple[Any, Mapping[str, Any]]]:
    return [(r.config, r.metrics) for r in results if r.ok and r.metrics is not None]


def _loglog_slope(x: Any, y: Any) -> float:
    """Least-squares slope of ``log y`` against ``log x``."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def _failed(results: Sequence[RunResult]) -> list[str]:
    return [f"{r.config}: {r.error}" for r in results if not r.ok]


# --------------------------------------------------------------------------------------------
# lazy.tangent-dimension
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RankCase:
    """Tangent rank at ``W`` with ``m`` uniform unit rows in ``R^d`` (seeded)."""

    order: int
    d: int
    m: int
    seed: int


def rank_experiment(cfg: RankCase) -> dict[str, Any]:
    W = random_unit_vectors(
        cfg.m, cfg.d, np.random.default_rng([cfg.seed, cfg.order, cfg.d, cfg.m])
    )
    s = tangent_singular_values(W, cfg.order)
    rank = tangent_rank(W, cfg.order)
    return {
        "rank": rank,
        "sigma_last_rel": float(s[rank - 1] / s[0]),
        "sigma_next_rel": float(s[rank] / s[0]) if rank < s.size else 0.0,
    }


_RANK_QUICK = [
    (2, 3, 1),
    (2, 4, 2),
    (2, 4, 3),
    (2, 5, 6),
    (3, 3, 3),
    (3, 4, 5),
    (3, 5, 6),
    (3, 5, 7),
    (3, 5, 8),
    (3, 6, 9),
    (4, 3, 5),
    (4, 3, 6),
    (4, 4, 9),
    (4, 4, 10),
    (4, 5, 14),
    (4, 5, 15),
    (5, 3, 7),
]


def rank_configs(profile: str) -> list[RankCase]:
    if profile == "quick":
        return [RankCase(l, d, m, 0) for l, d, m in _RANK_QUICK]
    cases = set(_RANK_QUICK)
    for l, ds in {2: range(2, 8), 3: range(3, 10), 4: range(3, 7), 5: range(3, 5)}.items():
        for d in ds:
            D = math.comb(d + l - 1, l)
            mid = -(-D // d)
            for m in {1, max(1, mid // 2), max(1, mid - 1), mid, mid + 1, mid + 3}:
                if D * m * d <= 2**22:
                    cases.add((l, d, m))
    return [RankCase(l, d, m, s) for l, d, m in sorted(cases) for s in range(3)]


def rank_predict(profile: str) -> dict[str, Any]:
    import theory

    cases = sorted({(c.order, c.d, c.m) for c in rank_configs(profile)})
    return {
        "dim": {f"{l},{d},{m}": theory.generic_tangent_dim(d, l, m) for l, d, m in cases},
        "D": {f"{l},{d},{m}": theory.sym_dim(d, l) for l, d, m in cases},
    }


def _exact_check(name: str, n_ok: int, n: int, robustness: float, detail: str) -> Check:
    """An exact-equality part: fails (margin −fraction wrong) unless every case matches; when all match,
    the margin is ``robustness`` in [0, 1] (how far the underlying numerical decision is from its cut)."""
    if n == 0:
        return Check(name, "inconclusive", float("nan"), "no case measured")
    if n_ok < n:
        return Check(name, "fails", -(n - n_ok) / n, detail)
    return Check(name, "holds", float(min(max(robustness, 0.0), 1.0)), detail)


def rank_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = _ok(results)
    predicted = "tangent rank = generic_tangent_dim(d, l, m) (AH defective cases one less)"
    wrong = [
        f"(l,d,m)=({c.order},{c.d},{c.m}) seed {c.seed}: {mt['rank']} vs "
        f"{prediction['dim'][f'{c.order},{c.d},{c.m}']}"
        for c, mt in ok
        if mt["rank"] != prediction["dim"][f"{c.order},{c.d},{c.m}"]
    ]
    gap_lo = min((mt["sigma_last_rel"] for _, mt in ok), default=float("nan"))
    gap_hi = max((mt["sigma_next_rel"] for _, mt in ok), default=float("nan"))
    defective = sum(1 for c, _ in ok if (c.order, c.d, c.m) in _AH)
    # robustness of the rank decisions: decades between the cut σ_max·max(D, md)·ε and the nearest
    # singular value on either side, as a fraction of the 15.7 decades of float64
    decades = []
    for c, mt in ok:
        cut = max(math.comb(c.d + c.order - 1, c.order), c.m * c.d) * float(np.finfo(float).eps)
        below = math.log10(cut / mt["sigma_next_rel"]) if mt["sigma_next_rel"] > 0 else math.inf
        decades.append(min(math.log10(mt["sigma_last_rel"] / cut), below))
    robustness = min(decades, default=0.0) / -math.log10(float(np.finfo(float).eps))
    numbers = {
        "cases": len(ok),
        "mismatches": wrong,
        "min_last_nonzero_sigma_rel": gap_lo,
        "max_first_zero_sigma_rel": gap_hi,
        "min_decades_from_cut": min(decades, default=float("nan")),
        "defective_cases_checked": defective,
        "failed_runs": _failed(results),
    }
    measured = (
        f"{len(ok) - len(wrong)}/{len(ok)} ranks equal (incl. {defective} defective); "
        f"σ gap {gap_lo:.1e} vs {gap_hi:.1e}"
    )
    ev = Evidence()
    ev.add(
        _exact_check(
            "tangent rank = generic_tangent_dim in every case",
            len(ok) - len(wrong),
            len(ok),
            robustness,
            f"{len(ok) - len(wrong)}/{len(ok)} equal; mismatches {wrong[:3]}",
        )
    )
    return ev.verdict(predicted=predicted, measured=measured, numbers=numbers)


_AH = {(4, 3, 5), (4, 4, 9), (4, 5, 14), (3, 5, 7)}


def rank_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {
        "order": [],
        "d": [],
        "m": [],
        "seed": [],
        "rank": [],
        "predicted": [],
        "D": [],
    }
    for c, mt in _ok(results):
        key = f"{c.order},{c.d},{c.m}"
        for k, v in (
            ("order", c.order),
            ("d", c.d),
            ("m", c.m),
            ("seed", c.seed),
            ("rank", mt["rank"]),
            ("predicted", prediction["dim"][key]),
            ("D", prediction["D"][key]),
        ):
            data[k].append(v)
    if data["rank"]:
        x = np.array(data["m"]) * np.array(data["d"]) / np.array(data["D"])
        y = np.array(data["rank"]) / np.array(data["D"])
        ax.scatter(x, y, c=data["order"], s=14, label="measured rank / D")
        xs = np.linspace(0, max(x.max(), 1.0), 50)
        ax.plot(xs, np.minimum(xs, 1.0), "r--", lw=1, label="min(m·d, D)/D")
    ax.set_xlabel("m·d / D(d,l)")
    ax.set_ylabel("tangent rank / D(d,l)")
    ax.set_title("Tangent dimension at random init (Terracini + AH)")
    if data["rank"]:
        legend(ax, fontsize=7)
    return data


register(
    Claim(
        id="lazy.tangent-dimension",
        source="classical (Terracini's lemma, Alexander–Hirschowitz theorem), docs/math.md §4",
        statement=(
            "At a random initialisation the tangent space span{Sym(w_i^{⊗(l-1)}⊗v)} of the plain model "
            "has dimension min(m·d, D(d,l)) for l >= 3 (one less in the defective cases (4,3,5), "
            "(4,4,9), (4,5,14), (3,5,7)) and m·d - m(m-1)/2 for l = 2, m <= d."
        ),
        latex=r"\dim T_{W_0}=\min(md,\binom{d+l-1}{l})\ (\text{AH exceptions }-1)",
        method=(
            "W with uniform unit rows; rank of the explicit Jacobian in an orthonormal basis of Sym^l "
            "(numerics.lazy.tangent_rank: SVD, tolerance σ_max·max(D, md)·ε_float64). Quick: 17 (l,d,m) "
            "incl. all four defective cases and l=2; full: l=2..5 and d up to 9 around each threshold, 3 seeds."
        ),
        tolerance="exact integer equality with theory.generic_tangent_dim in every case",
        tolerance_source=(
            "derived: an integer identity; the rank cut σ_max·max(D, md)·ε_float64 is the rounding level "
            "of the SVD (numpy.linalg.matrix_rank's convention); the margin is the number of decades "
            "between the cut and the nearest singular value, over the 15.7 decades of float64"
        ),
        no_control=(
            "exact dimension count (Terracini + Alexander–Hirschowitz), checked case by case; the judge "
            "already discriminates: the four defective cases, where the naive min(m·d, D) is wrong by "
            "one, are in every profile, and a rank of min(m·d, D) there fails (tested)"
        ),
        experiment=rank_experiment,
        configs=rank_configs,
        predict=rank_predict,
        judge=rank_judge,
        plot=rank_plot,
    )
)


# --------------------------------------------------------------------------------------------
# lazy.threshold-scaling
# --------------------------------------------------------------------------------------------
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


def threshold_experiment(cfg: ThresholdRun) -> dict[str, Any]:
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


_THRESHOLD_GRID = {
    "quick": ({3: [12, 16, 24, 32], 4: [8, 10, 12, 16, 20]}, range(8)),
    "full": ({3: [12, 16, 24, 32, 48, 64], 4: [8, 10, 12, 16, 20, 24]}, range(8)),
    "scale": ({3: [64, 80, 96], 4: [24, 28, 32]}, range(3)),
}


def threshold_configs(profile: str) -> list[ThresholdRun]:
    grid, seeds = _THRESHOLD_GRID[profile]
    return [ThresholdRun(l, d, s) for l, ds in grid.items() for d in ds for s in seeds]


def threshold_controls(profile: str) -> dict[str, list[ThresholdRun]]:
    grid, _ = _THRESHOLD_GRID[profile]
    seeds = range(100, 101 if profile == "quick" else 102)
    return {
        "target in the tangent space": [
            ThresholdRun(l, d, s, target="tangent")
            for l, ds in grid.items()
            for d in ds
            for s in seeds
        ]
    }


def threshold_predict(profile: str) -> dict[str, Any]:
    import theory

    grid, _ = _THRESHOLD_GRID[profile]
    out: dict[str, Any] = {"epsilons": list(EPSILONS), "decay_bound": DECAY_BOUND, "orders": {}}
    for l, ds in sorted(grid.items()):
        out["orders"][str(l)] = {
            "d": ds,
            "lazy_threshold": [theory.lazy_threshold(d, l) for d in ds],
            "D_over_d": [theory.sym_dim(d, l) / d for d in ds],
            "asymptotic_constant": 1.0 / math.factorial(l),  # (D/d)/d^{l-1} -> 1/l!
        }
    return out


def _mean_interval(values: Sequence[float]) -> tuple[float, tuple[float, float]]:
    """Mean with its two-sided 95% Student-t interval (a single value: the interval is that value)."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return mean, (mean, mean)
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, (mean - half, mean + half)


def _threshold_points(
    results: Sequence[RunResult],
) -> dict[tuple[int, str], list[tuple[int, int, float]]]:
    """``(order, ε) -> [(d, m*, D/d)]`` over the successful runs."""
    pts: dict[tuple[int, str], list[tuple[int, int, float]]] = defaultdict(list)
    for c, mt in _ok(results):
        for eps, m in mt["m_star"].items():
            pts[(c.order, eps)].append((c.d, int(m), float(mt["D_over_d"])))
    return pts


def threshold_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = (
        f"m*_ε/(D/d) does not decay with d (log-log slope 95% CI above {DECAY_BOUND}), so "
        "m*_ε/d^{l-1} stays bounded below, for ε ∈ {0.1, 0.3}"
    )
    ev = Evidence()
    numbers: dict[str, Any] = {"failed_runs": _failed(results), "fits": {}}
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
        c_mean, c_ci = _mean_interval([m / d_max ** (l - 1) for m, _ in at_max])
        rho_mean, rho_ci = _mean_interval([m / r for m, r in at_max])
        per_d = {str(d): _mean_interval([m / r for dd, m, r in pts if dd == d])[0] for d in ds}
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


def threshold_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax1 = fig.add_subplot(1, 2, 1)
    ax2 = fig.add_subplot(1, 2, 2)
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
    for c, mt in _ok(results):
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
                mean, (lo, hi) = _mean_interval([data[col][i] for i in idx if data["d"][i] == d])
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


register(
    Claim(
        id="lazy.threshold-scaling",
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
        experiment=threshold_experiment,
        configs=threshold_configs,
        predict=threshold_predict,
        judge=threshold_judge,
        plot=threshold_plot,
        controls=threshold_controls,
        profiles=("quick", "full", "scale"),
    )
)


# --------------------------------------------------------------------------------------------
# lazy.rank-independence
# --------------------------------------------------------------------------------------------
# "Residual 0". Dense least squares gives <= 1e-27 at full rank (measured). The threshold must sit near
# rounding: in the defective case (4,4,9) the tangent space is the hyperplane orthogonal to Q² (Q the
# quadric through the 9 points), so a rank-one target u^{⊗4} has residual Q(u)^4/||Q²||², whose law has a
# fat tail at 0 (P(< z) ∝ z^{1/4}); measured 1.3e-13 for one seed, which a 1e-9 threshold called 0.
ZERO = 1e-20


@dataclass(frozen=True)
class ExactThresholdRun:
    """Smallest ``m`` with lazy residual ``<= ZERO`` (dense) for a random rank-``r`` target
    (``target="random"``), or for ``Σ_{i<r} w_i^{⊗l}`` built from ``W``'s own first rows
    (``"tangent"``: inside the tangent space from ``m = r`` on — the negative control)."""

    order: int
    d: int
    r: int
    seed: int
    target: str = "random"


def exact_threshold_experiment(cfg: ExactThresholdRun) -> dict[str, Any]:
    D = sym_basis_size(cfg.d, cfg.order)
    m_max = -(-D // cfg.d) + 3
    rng = np.random.default_rng([cfg.seed, cfg.order, cfg.d, cfg.r])
    target = random_low_rank(cfg.r, cfg.d, cfg.order, rng=rng)
    W = random_unit_vectors(m_max, cfg.d, rng)
    if cfg.target == "tangent":
        target = LowRankTensor(np.ones(cfg.r), W[: cfg.r], cfg.order)
    elif cfg.target != "random":
        raise ValueError(f"target must be 'random' or 'tangent', got {cfg.target!r}")

    def res(m: int) -> float:
        return lazy_residual(W[:m], target, method="dense").residual

    if res(m_max) > ZERO:
        raise RuntimeError(f"residual above {ZERO} at m={m_max} for {cfg}")
    lo, hi = 0, m_max
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if res(mid) <= ZERO:
            hi = mid
        else:
            lo = mid
    below = res(hi - 1) if hi > 1 else float("nan")
    return {"m_star": hi, "residual_at_m_star": res(hi), "residual_one_below": below}


def exact_configs(profile: str) -> list[ExactThresholdRun]:
    if profile == "quick":
        grid = {3: [4, 5, 6, 8], 4: [3, 4, 5]}
        ranks, seeds = [1, 3, 10], range(1)
    else:
        grid = {3: [4, 5, 6, 8, 10, 12, 14], 4: [3, 4, 5, 6, 7, 8], 2: [3, 5, 8]}
        ranks, seeds = [1, 2, 5, 20], range(3)
    return [
        ExactThresholdRun(l, d, r, s)
        for l, ds in grid.items()
        for d in ds
        for r in ranks
        for s in seeds
    ]


def exact_controls(profile: str) -> dict[str, list[ExactThresholdRun]]:
    return {
        "target in the tangent space (threshold = its rank)": [
            ExactThresholdRun(l, d, r, 100, target="tangent")
            for l, d in ((3, 6), (4, 4))
            for r in (2, 3)
        ]
    }


def exact_predict(profile: str) -> dict[str, Any]:
    import theory

    pairs = sorted({(c.order, c.d) for c in exact_configs(profile)})
    return {"threshold": {f"{l},{d}": theory.lazy_threshold(d, l) for l, d in pairs}}


def exact_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = "m* = theory.lazy_threshold(d, l) for every rank r"
    ok = _ok(results)
    by_pair: dict[str, set[int]] = defaultdict(set)
    ranks: dict[str, set[int]] = defaultdict(set)
    wrong = []
    for c, mt in ok:
        key = f"{c.order},{c.d}"
        by_pair[key].add(int(mt["m_star"]))
        ranks[key].add(c.r)
        if mt["m_star"] != prediction["threshold"][key]:
            wrong.append(f"(l,d)=({key}), r={c.r}, seed {c.seed}: m*={mt['m_star']}")
    min_below = min(
        (mt["residual_one_below"] for _, mt in ok if np.isfinite(mt["residual_one_below"])),
        default=float("nan"),
    )
    max_at = max((mt.get("residual_at_m_star", 0.0) for _, mt in ok), default=float("nan"))
    # robustness: decades between the cut ZERO and the residuals on either side of m*, over the 20
    # decades of the cut
    decades = min(
        math.log10(min_below / ZERO) if min_below > 0 else -math.inf,
        math.log10(ZERO / max_at) if max_at > 0 else math.inf,
    )
    rank_dependent = [k for k, v in by_pair.items() if len(v) > 1]
    numbers = {
        "m_star_by_pair": {k: sorted(v) for k, v in by_pair.items()},
        "ranks": {k: sorted(v) for k, v in ranks.items()},
        "mismatches": wrong,
        "rank_dependent_pairs": rank_dependent,
        "min_residual_one_below": min_below,
        "max_residual_at_m_star": max_at,
        "failed_runs": _failed(results),
    }
    measured = (
        f"{len(ok) - len(wrong)}/{len(ok)} thresholds equal to the prediction; residual one below "
        f"m* >= {min_below:.1e}, at m* <= {max_at:.1e}"
    )
    ev = Evidence()
    ev.add(
        _exact_check(
            "m* = lazy_threshold(d, l) for every rank and seed",
            len(ok) - len(wrong),
            len(ok),
            decades / -math.log10(ZERO) if math.isfinite(decades) else 1.0,
            f"{len(ok) - len(wrong)}/{len(ok)} equal; rank-dependent at {rank_dependent}; "
            f"mismatches {wrong[:3]}",
        )
    )
    return ev.verdict(predicted=predicted, measured=measured, numbers=numbers)


def exact_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {
        "order": [],
        "d": [],
        "r": [],
        "seed": [],
        "m_star": [],
        "predicted": [],
    }
    for c, mt in _ok(results):
        for k, v in (
            ("order", c.order),
            ("d", c.d),
            ("r", c.r),
            ("seed", c.seed),
            ("m_star", mt["m_star"]),
            ("predicted", prediction["threshold"][f"{c.order},{c.d}"]),
        ):
            data[k].append(v)
    if data["r"]:
        ax.scatter(
            data["r"], np.array(data["m_star"]) / np.array(data["predicted"]), c=data["order"]
        )
    ax.axhline(1.0, color="r", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("target rank r")
    ax.set_ylabel("measured m* / theory.lazy_threshold")
    ax.set_title("Exact lazy threshold does not depend on r")
    return data


register(
    Claim(
        id="lazy.rank-independence",
        source="Wang et al. 2020 (paper 1): lazy lower bound for generic targets; docs/math.md §4 consequence",
        statement=(
            "The smallest m at which the linearised model fits a random target exactly is "
            "lazy_threshold(d, l) = ceil(D(d,l)/d) (+1 in the defective cases), whatever the target's rank r."
        ),
        latex=r"m^*(d,l,r)=\lceil D(d,l)/d\rceil\ \ \forall r",
        method=(
            f"Residual 0 means <= {ZERO:g} (dense least squares, exact to rounding ~1e-27; rank-one targets "
            "in the defective cases have residuals with a fat tail at 0, so the cut sits near rounding); bisection on "
            "nested prefixes of one random W with unit rows; random rank-r targets (unit coefficients). "
            "Quick: l=3, d ∈ {4,5,6,8}, l=4, d ∈ {3,4,5}, r ∈ {1,3,10}; full: l=2,3,4 up to d=14 (l=3), "
            "8 (l=4), r ∈ {1,2,5,20}, 3 seeds. Control (must fail): targets Σ_{i<r} w_i^{⊗l} inside the "
            "tangent space (r = 2, 3 at (l,d) = (3,6), (4,4)), whose threshold is r."
        ),
        tolerance="exact equality of m* with theory.lazy_threshold for every rank and seed",
        tolerance_source=(
            f"derived: 'residual 0' is <= {ZERO:g}, seven decades above the rounding of dense least "
            "squares (~(D·ε_float64)² ≈ 1e-27) and below the smallest non-zero residuals of the defective "
            "cases (fat tail at 0, docs/math.md §4); the margin counts the decades between the cut and the "
            "residuals on either side of m*"
        ),
        experiment=exact_threshold_experiment,
        configs=exact_configs,
        controls=exact_controls,
        predict=exact_predict,
        judge=exact_judge,
        plot=exact_plot,
    )
)


# --------------------------------------------------------------------------------------------
# lazy.nonlinear-sufficiency
# --------------------------------------------------------------------------------------------
NL_ALPHAS = (10.0, 100.0, 1000.0)
# "reaches the target": final residual <= REACH_EPS at every α. Derived: t_end is where the exact
# linearised flow is within REACH_EPS/10 of its limit (0 above the threshold); the nonlinear output
# differs from the linearised one by sup||f_α − f_lin|| = O(1/α) (docs/math.md §4, measured
# 0.2/α·||T*|| at α >= 3), i.e. <= (0.2/10)² = 4e-4 in squared relative terms at the smallest α = 10:
# 1e-4 + 4e-4 <= REACH_EPS = 1e-3.
REACH_EPS = 1e-3
# "stalls at the lazy residual": |final residual at α = 1000 − lazy residual| <= STALL_TOL·lazy residual.
# Derived: t_end also puts the linearised flow within STALL_TOL/4·lazy of the lazy residual, and the
# O(1/α) bound gives |‖f_α−T*‖² − ‖f_lin−T*‖²| <= 2‖f_lin−T*‖·δ + δ² with δ = 0.2/1000·||T*||, i.e.
# <= 4e-4·sqrt(lazy), below 3/4 of STALL_TOL·lazy for any lazy residual >= 0.003.
STALL_TOL = 0.01
MOVEMENT_BOUND = (
    -0.5
)  # slope of log(max movement) vs log α: midpoint between "no decay" (0) and 1/α (-1)
# The comparison needs the linearised flow to have converged; runs whose (exact) linearised flow needs
# t > T_CAP for that (a tiny λ_min⁺ with weight on its mode: about 1 in 8 seeds below the threshold)
# are not run and not judged — decided from W0 and T* before any nonlinear run, and reported.
T_CAP = 100.0


@dataclass(frozen=True)
class NonlinearRun:
    """Nonlinear gradient flow of ``F_α`` (lazy scaling) with ``m = ceil(ratio·D/d)`` unit-norm rows and a
    random rank-one target, for every α of ``NL_ALPHAS``. ``rule`` says which rule the judge applies:
    ``"reach"`` (the run must reach the target) or ``"stall"`` (it must stop at the lazy residual)."""

    order: int
    d: int
    ratio: float
    seed: int
    rule: str


def nonlinear_experiment(cfg: NonlinearRun) -> dict[str, Any]:
    if cfg.rule not in ("reach", "stall"):
        raise ValueError(f"rule must be 'reach' or 'stall', got {cfg.rule!r}")
    D = sym_basis_size(cfg.d, cfg.order)
    m = max(1, math.ceil(cfg.ratio * D / cfg.d))
    rng = np.random.default_rng([cfg.seed, cfg.order, cfg.d, round(100 * cfg.ratio)])
    target = random_low_rank(1, cfg.d, cfg.order, rng=rng)
    W0 = sphere_init(m, cfg.d, 1.0, rng)
    lazy = lazy_residual(W0, target, method="dense").residual  # the tangent projection
    # t_end: first time the exact linearised flow is within REACH_EPS/10 + STALL_TOL/4·lazy of its
    # limit (the same criterion for every rule, so a control differs from a judged run only in m)
    grid = np.geomspace(1e-3, T_CAP, 400)
    lin = linearized_flow(
        W0, target, (0.0, T_CAP), t_eval=grid, method="exact", include_offset=False
    )
    close = lin.residual - lazy <= REACH_EPS / 10 + STALL_TOL / 4 * lazy
    base = {"m": m, "md_over_D": m * cfg.d / D, "lazy_residual": lazy, "alphas": list(NL_ALPHAS)}
    if not np.any(close):
        return base | {
            "skipped": True,
            "linear_gap_at_cap": float(lin.residual[-1] - lazy),
            "t_end": T_CAP,
        }
    t_end = float(grid[int(np.argmax(close))])
    t_eval = np.linspace(0.0, t_end, 41)
    final, movement, nfev = [], [], []
    trajectory: dict[str, list[float]] = {}
    for alpha in NL_ALPHAS:
        run = lazy_training_flow(W0, target, alpha, t_end, t_eval=t_eval)
        if not run.success:
            raise RuntimeError(run.message)
        final.append(run.final_residual)
        movement.append(run.max_movement)
        nfev.append(run.nfev)
        if alpha == NL_ALPHAS[-1]:
            trajectory = {"t": run.t.tolist(), "residual": run.residual.tolist()}
    return base | {
        "skipped": False,
        "t_end": t_end,
        "linear_residual_at_t_end": float(lin.residual[int(np.argmax(close))]),
        "final_residual": final,
        "max_movement": movement,
        "nfev": nfev,
        "trajectory": trajectory,
    }


_NL_GRID = {
    "quick": ([(3, 6), (4, 4)], range(5)),
    "full": ([(3, 6), (3, 8), (4, 4), (4, 5)], range(8)),
}
NL_ABOVE, NL_BELOW = 2.0, 0.5  # m/(D/d) above and below the threshold


def nonlinear_configs(profile: str) -> list[NonlinearRun]:
    pairs, seeds = _NL_GRID[profile]
    return [
        NonlinearRun(l, d, ratio, s, rule)
        for l, d in pairs
        for ratio, rule in ((NL_ABOVE, "reach"), (NL_BELOW, "stall"))
        for s in seeds
    ]


def nonlinear_controls(profile: str) -> dict[str, list[NonlinearRun]]:
    pairs, _ = _NL_GRID[profile]
    seeds = range(8)  # 0/n fails "rate >= 0.5" once n >= 6 judged runs (a few are not judged)
    return {
        "below the threshold, judged by the reach rule": [
            NonlinearRun(l, d, NL_BELOW, 100 + s, "reach") for l, d in pairs for s in seeds
        ]
    }


def nonlinear_predict(profile: str) -> dict[str, Any]:
    import theory

    pairs, _ = _NL_GRID[profile]
    return {
        "threshold": {f"{l},{d}": theory.lazy_threshold(d, l) for l, d in pairs},
        "D_over_d": {f"{l},{d}": theory.sym_dim(d, l) / d for l, d in pairs},
        "reach_eps": REACH_EPS,
        "stall_tol": STALL_TOL,
        "movement_slope": -1.0,
        "rate_threshold": _nl_rate_threshold(profile),
    }


def _nl_rate_threshold(profile: str) -> float:
    """What the profile's seed count can establish: 8/8 -> CP lower bound 0.63; 28/28 -> 0.88."""
    return 0.5 if profile == "quick" else 0.8


def nonlinear_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    p = float(prediction.get("rate_threshold", 0.8))
    predicted = (
        f"reach rule: residual <= {REACH_EPS:g} at every α (rate >= {p:g}) and max ||W−W0||/||W0|| "
        f"decays in α (slope CI below {MOVEMENT_BOUND}); stall rule: final residual within "
        f"{STALL_TOL:.0%} of the lazy residual at α = {NL_ALPHAS[-1]:g} (rate >= {p:g})"
    )
    ok = _ok(results)
    ev = Evidence()
    skipped = [f"{c}" for c, mt in ok if mt.get("skipped")]
    reach = [(c, mt) for c, mt in ok if c.rule == "reach" and not mt.get("skipped")]
    stall = [(c, mt) for c, mt in ok if c.rule == "stall" and not mt.get("skipped")]
    numbers: dict[str, Any] = {"failed_runs": _failed(results), "not_judged": skipped}
    if skipped:
        ev.note(
            f"{len(skipped)} run(s) not judged: their linearised flow does not converge by t = "
            f"{T_CAP:g} (decided before any nonlinear run)."
        )
    parts = []
    if not reach and not stall:
        ev.add(Check("runs", "inconclusive", float("nan"), "no run produced metrics"))
    if reach:
        hits = [max(mt["final_residual"]) <= REACH_EPS for _, mt in reach]
        ev.rate_at_least(
            f"reach rule: residual <= {REACH_EPS:g} at every α", sum(hits), len(hits), p
        )
        slopes = [_loglog_slope(mt["alphas"], mt["max_movement"]) for _, mt in reach]
        mean, ci = _mean_interval(slopes)
        ev.interval_beyond(
            "reach rule: mean slope of log max movement vs log α", ci, MOVEMENT_BOUND, "below"
        )
        worst = max(max(mt["final_residual"]) for _, mt in reach)
        numbers |= {
            "reach_successes": sum(hits),
            "reach_runs": len(hits),
            "worst_final_residual_reach": worst,
            "movement_slopes": slopes,
            "movement_slope_mean": mean,
            "movement_slope_ci95": list(ci),
            "max_movement_at_largest_alpha": max(mt["max_movement"][-1] for _, mt in reach),
        }
        parts.append(
            f"reach: {sum(hits)}/{len(hits)} at <= {REACH_EPS:g} (worst {worst:.1e}); movement slope "
            f"{mean:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"
        )
    if stall:
        rel = [
            abs(mt["final_residual"][-1] - mt["lazy_residual"]) / mt["lazy_residual"]
            for _, mt in stall
        ]
        good = [r <= STALL_TOL for r in rel]
        ev.rate_at_least(
            f"stall rule: within {STALL_TOL:.0%} of the lazy residual at α={NL_ALPHAS[-1]:g}",
            sum(good),
            len(good),
            p,
        )
        numbers |= {
            "stall_successes": sum(good),
            "stall_runs": len(good),
            "stall_relative_errors": rel,
            "lazy_residuals_below": [mt["lazy_residual"] for _, mt in stall],
        }
        parts.append(
            f"stall: {sum(good)}/{len(good)} within {STALL_TOL:.0%} (worst {max(rel):.1e}; lazy "
            f"residuals {min(mt['lazy_residual'] for _, mt in stall):.2f}–"
            f"{max(mt['lazy_residual'] for _, mt in stall):.2f})"
        )
    if p < 0.8:
        ev.note(f"The quick profile can establish rates >= {p:g}; full establishes >= 0.8.")
    return ev.verdict(predicted=predicted, measured="; ".join(parts) or "n/a", numbers=numbers)


def nonlinear_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax1 = fig.add_subplot(1, 2, 1)
    ax2 = fig.add_subplot(1, 2, 2)
    data: dict[str, list[Any]] = {
        "order": [],
        "d": [],
        "ratio": [],
        "seed": [],
        "rule": [],
        "alpha": [],
        "final_residual": [],
        "max_movement": [],
        "lazy_residual": [],
    }
    for c, mt in _ok(results):
        if mt.get("skipped"):
            continue
        for a, r, mv in zip(mt["alphas"], mt["final_residual"], mt["max_movement"], strict=True):
            for k, v in (
                ("order", c.order),
                ("d", c.d),
                ("ratio", c.ratio),
                ("seed", c.seed),
                ("rule", c.rule),
                ("alpha", a),
                ("final_residual", r),
                ("max_movement", mv),
                ("lazy_residual", mt["lazy_residual"]),
            ):
                data[k].append(v)
        color = "tab:blue" if c.ratio >= 1 else "tab:red"
        tr = mt["trajectory"]
        if tr:
            ax1.plot(tr["t"], np.maximum(tr["residual"], 1e-16), color=color, lw=0.8)
            if c.ratio < 1:
                ax1.axhline(mt["lazy_residual"], color=color, ls=":", lw=0.6)
        ax2.plot(mt["alphas"], mt["max_movement"], "o-", color=color, lw=0.8, ms=3)
    ax1.axhline(REACH_EPS, color="k", ls="--", lw=0.8, label=f"reach: {REACH_EPS:g}")
    ax1.set_yscale("log")
    ax1.set_xlabel("t")
    ax1.set_ylabel(f"residual at α={NL_ALPHAS[-1]:g} (dotted: lazy residual)")
    ax1.set_title("Blue above, red below the threshold")
    a = np.array(NL_ALPHAS)
    ax2.plot(a, 0.1 * a[0] / a, "k--", lw=0.8, label="∝ 1/α")
    slopes = [
        _loglog_slope(mt["alphas"], mt["max_movement"])
        for c, mt in _ok(results)
        if c.rule == "reach" and not mt.get("skipped")
    ]
    if slopes:
        mean, (lo, hi) = _mean_interval(slopes)
        ax2.set_title(f"reach runs: slope {mean:.3f} [{lo:.3f}, {hi:.3f}] (95% CI)", fontsize=8)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("α")
    ax2.set_ylabel("max_t ||W(t) − W0|| / ||W0||")
    legend(ax1, fontsize=6)
    legend(ax2, fontsize=6)
    return data


register(
    Claim(
        id="lazy.nonlinear-sufficiency",
        source=(
            "Wang et al. 2020 (paper 1): at m = Ω(d^{l-1}) gradient descent converges near its "
            "initialisation (NTK argument); lazy scaling: Chizat, Oyallon, Bach, docs/math.md §4"
        ),
        statement=(
            "The nonlinear gradient flow of the plain model in the lazy scaling, F_α(W) = "
            "||α(T(W) − T(W0)) − T*||²/(2α²), with m = 2·D(d,l)/d unit-norm components reaches a random "
            f"rank-one target (relative squared residual <= {REACH_EPS:g}) at every α ∈ {{10, 100, 1000}} "
            "while its relative parameter movement max_t ||W(t) − W0||/||W0|| decays with α; with "
            "m = D/(2d) (below the threshold) it stalls at the lazy residual given by the tangent "
            "projection."
        ),
        latex=r"m\ge m^*:\ \|f_\alpha(t_{end})-T^*\|^2\le 10^{-3}\|T^*\|^2,\ \ \|W-W_0\|/\|W_0\|=O(1/\alpha)",
        method=(
            "numerics.lazy_training.lazy_training_flow (RK45, rtol 1e-9) up to t_end, the first time the "
            "exact linearised flow is within 1e-4 + 0.25%·lazy of its limit (runs needing t_end > "
            f"{T_CAP:g} are reported and not judged); lazy residual by dense least squares "
            "(numerics.lazy.lazy_residual). Reach rule on m = ceil(2·D/d) runs: residual <= "
            f"{REACH_EPS:g} at every α, and the mean over seeds of the log-log slope of the movement in α "
            f"has its 95% t-interval below {MOVEMENT_BOUND}. Stall rule on m = ceil(D/(2d)) runs: final "
            f"residual at α = 1000 within {STALL_TOL:.0%} of the lazy residual. Regime: quick (l,d) ∈ "
            "{(3,6), (4,4)}, 5 seeds per rule (rates >= 0.5 can be established); full adds (3,8), (4,5), "
            "8 seeds (32 runs per rule, rates >= 0.8). Control (must fail): m = D/(2d), below the "
            "threshold, judged by the reach rule."
        ),
        tolerance=(
            f"reach: residual <= {REACH_EPS:g}; stall: |residual − lazy| <= {STALL_TOL:g}·lazy; rates "
            f"with exact 95% intervals against 0.5 (quick) / 0.8 (full); movement slope CI below "
            f"{MOVEMENT_BOUND}"
        ),
        tolerance_source=(
            "derived (docs/math.md §9.2): t_end puts the exact linearised flow within 1e-4 + 0.25%·lazy of its limit; the "
            "nonlinear output is within 0.2/α·||T*|| of the linearised one (docs/math.md §4, lazy scaling), so "
            f"(0.2/10)² = 4e-4 <= {REACH_EPS:g} at α = 10 and 2·0.2/1000 <= {STALL_TOL:g}·lazy at α = "
            f"1000; {MOVEMENT_BOUND} is the midpoint between no decay (0) and the predicted 1/α (-1)"
        ),
        experiment=nonlinear_experiment,
        configs=nonlinear_configs,
        predict=nonlinear_predict,
        judge=nonlinear_judge,
        plot=nonlinear_plot,
        controls=nonlinear_controls,
    )
)


# --------------------------------------------------------------------------------------------
# lazy.alpha-scaling
# --------------------------------------------------------------------------------------------
ALPHAS = (1.0, 3.0, 10.0, 30.0, 100.0)
MATH_MD_DISTANCES = (0.178, 0.066, 0.020, 0.0066, 0.0020)  # docs/math.md §4, seed not recorded
# |slope + 1| over α >= 3. Derived: distance = C1/α + C2/α² + ..., so the local log-log slope is
# -1 - (C2/C1)/α + O(α^{-2}); docs/math.md §4's distances (0.066, 0.020, 0.0066, 0.0020 at α = 3..100)
# give C2/C1 ≈ 0.2, i.e. a slope within 0.07 of -1 at α = 3 and 0.002 at α = 100.
ALPHA_SLOPE_TOL = 0.1


@dataclass(frozen=True)
class AlphaRun:
    """True vs linearised flow at docs/math.md's size (l=3, d=6, m=20, t_end=5), one seed.

    ``centred=False`` (the negative control) trains the un-centred ``||αT(W) − T*||²/(2α²)`` instead,
    whose output ``αT(W)`` starts at ``αT(W0) ≠ 0``: it does not approach the linearised flow."""

    seed: int
    order: int = 3
    d: int = 6
    m: int = 20
    t_end: float = 5.0
    centred: bool = True


def _uncentred_distances(W0: np.ndarray, target: LowRankTensor, t_end: float) -> dict[str, Any]:
    """sup_t ||αT(W(t)) − J0 u(t)|| and sup_t ||W(t) − W0|| for the un-centred objective (Gram form,
    docs/math.md §2, §4: ⟨T(W), J0 u⟩ = l Σ_ij (w_j·w0_i)^{l-1}(w_j·u_i), ||J0 u||² = uᵀK0 u)."""
    order = target.order
    ts = np.linspace(0.0, t_end, 51)
    lin = linearized_flow(W0, target, (0.0, t_end), t_eval=ts, method="exact", include_offset=False)
    K0 = tangent_operator(W0, order)
    out, par = [], []
    for alpha in ALPHAS:
        scaled = LowRankTensor(target.coeffs / alpha, target.components, order)
        traj = gradient_flow(
            W0,
            scaled,
            (0.0, t_end),
            model="plain",
            t_eval=ts,
            rtol=1e-9,
            atol=1e-12,
            observe={"W": lambda t, W: np.array(W, copy=True)},
        )
        if not traj.success:
            raise RuntimeError(f"un-centred flow failed at alpha={alpha:g}: {traj.message}")
        dist = []
        for W, u in zip(traj.observations["W"], lin.delta, strict=True):
            f_sq = alpha * alpha * float(np.sum(int_power(W @ W.T, order)))
            cross = alpha * order * float(np.sum(int_power(W @ W0.T, order - 1) * (W @ u.T)))
            lin_sq = float(u.ravel() @ K0.matvec(u.ravel()))
            dist.append(math.sqrt(max(f_sq - 2.0 * cross + lin_sq, 0.0)))
        out.append(max(dist))
        par.append(max(float(np.linalg.norm(W - W0)) for W in traj.observations["W"]))
    return {"alphas": list(ALPHAS), "output_distance": out, "param_distance": par}


def alpha_experiment(cfg: AlphaRun) -> dict[str, Any]:
    rng = np.random.default_rng([cfg.seed, cfg.order, cfg.d, cfg.m])
    target = random_low_rank(1, cfg.d, cfg.order, rng=rng)
    W = random_unit_vectors(cfg.m, cfg.d, rng)
    if not cfg.centred:
        return _uncentred_distances(W, target, cfg.t_end)
    res = alpha_comparison(W, target, list(ALPHAS), cfg.t_end)
    return {
        "alphas": res.alphas.tolist(),
        "output_distance": res.output_distance.tolist(),
        "param_distance": res.param_distance.tolist(),
    }


def alpha_configs(profile: str) -> list[AlphaRun]:
    return [AlphaRun(s) for s in range(1 if profile == "quick" else 6)]


def alpha_controls(profile: str) -> dict[str, list[AlphaRun]]:
    return {"un-centred objective ||αT(W) − T*||²/(2α²)": [AlphaRun(100, centred=False)]}


def alpha_predict(profile: str) -> dict[str, Any]:
    return {
        "slope": -1.0,
        "alphas": list(ALPHAS),
        "math_md_output_distance": list(MATH_MD_DISTANCES),
        "math_md_slope": _loglog_slope(ALPHAS[1:], MATH_MD_DISTANCES[1:]),
    }


def alpha_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = f"distances ∝ 1/α (slope -1; docs/math.md's numbers: slope {prediction['math_md_slope']:.3f})"
    ok = _ok(results)
    ev = Evidence()
    if not ok:
        ev.add(Check("runs", "inconclusive", float("nan"), "no run produced metrics"))
    fits: dict[str, list[dict[str, Any]]] = {"output": [], "param": []}
    for c, mt in ok:
        x = [math.log(a) for a in mt["alphas"][1:]]
        for kind, key in (("output", "output_distance"), ("param", "param_distance")):
            fit = linear_fit(x, [math.log(v) for v in mt[key][1:]])
            ev.interval_within(
                f"seed {c.seed}: slope of log sup {kind} distance vs log α (α >= 3)",
                fit.ci,
                -1.0,
                ALPHA_SLOPE_TOL,
            )
            fits[kind].append(fit.as_dict())
    scaled = [mt["alphas"][-1] * mt["output_distance"][-1] for _, mt in ok]
    numbers = {
        "output_fits": fits["output"],
        "param_fits": fits["param"],
        "alpha_times_distance_at_100": scaled,
        "distances": [mt["output_distance"] for _, mt in ok],
        "failed_runs": _failed(results),
    }
    so = [f["slope"] for f in fits["output"]]
    sp = [f["slope"] for f in fits["param"]]
    measured = (
        f"output slopes {min(so, default=math.nan):.3f}…{max(so, default=math.nan):.3f}, parameter "
        f"slopes {min(sp, default=math.nan):.3f}…{max(sp, default=math.nan):.3f}; α·distance at α=100: "
        f"{min(scaled, default=math.nan):.3f}…{max(scaled, default=math.nan):.3f} (docs/math.md: 0.20)"
    )
    return ev.verdict(predicted=predicted, measured=measured, numbers=numbers)


def alpha_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {
        "seed": [],
        "alpha": [],
        "output_distance": [],
        "param_distance": [],
    }
    for c, mt in _ok(results):
        ax.plot(mt["alphas"], mt["output_distance"], "o-", color="tab:blue", lw=0.8)
        ax.plot(mt["alphas"], mt["param_distance"], "s:", color="tab:green", lw=0.8)
        for a, o, p in zip(mt["alphas"], mt["output_distance"], mt["param_distance"], strict=True):
            data["seed"].append(c.seed)
            data["alpha"].append(a)
            data["output_distance"].append(o)
            data["param_distance"].append(p)
    ax.plot(
        prediction["alphas"],
        prediction["math_md_output_distance"],
        "k--",
        label="docs/math.md numbers",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("α")
    ax.set_ylabel("sup_t distance (blue: outputs, green: parameters)")
    ax.set_title("True vs linearised flow: O(1/α)")
    legend(ax, fontsize=7)
    return data


register(
    Claim(
        id="lazy.alpha-scaling",
        source="classical (Chizat, Oyallon, Bach: On Lazy Training), docs/math.md §4",
        statement=(
            "Gradient flow on F_α(W) = ||α(T(W) − T(W0)) − T*||²/(2α²) stays within O(1/α) of the "
            "linearised flow: sup_{t<=t_end} ||α(T(W)−T(W0)) − f_lin|| and sup ||W(t) − W0|| both "
            "decrease like 1/α."
        ),
        latex=r"\sup_{t\le t_{end}}\|f_\alpha(t)-f_{lin}(t)\|=O(1/\alpha)",
        method=(
            "numerics.lazy.alpha_comparison: the true flow is numerics.flow.gradient_flow (RK45, "
            "rtol 1e-9, atol 1e-12) towards T(W0) + T*/α; f_lin is the exact linearised flow; "
            "suprema over 51 times in [0, 5]; l=3, d=6, m=20, unit rows, random rank-one unit target; "
            "α ∈ {1, 3, 10, 30, 100}. Quick: 1 seed; full: 6 seeds. Control (must fail): the un-centred "
            "objective ||αT(W) − T*||²/(2α²), whose output starts at αT(W0)."
        ),
        tolerance=(
            f"95% t-interval of the least-squares slope of log distance vs log α over α >= 3 within "
            f"-1 ± {ALPHA_SLOPE_TOL} (every seed, outputs and parameters)"
        ),
        tolerance_source=(
            "derived: distance = C1/α + C2/α² + ..., so the local slope is -1 - (C2/C1)/α; docs/math.md "
            "§4's distances give C2/C1 ≈ 0.2, a bias <= 0.07 at α = 3"
        ),
        controls=alpha_controls,
        experiment=alpha_experiment,
        configs=alpha_configs,
        predict=alpha_predict,
        judge=alpha_judge,
        plot=alpha_plot,
    )
)
