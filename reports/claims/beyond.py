"""Paper 1 (Wang, Wu, Lee, Ma, Ge, NeurIPS 2020): beyond lazy training (docs/math.md §5).

* ``beyond.versus-lazy`` — on the same targets and the same ``m`` (well below ``D/d``), nonlinear
  lazy-regime training (output scale α) stalls at the lazy residual while the variant fits;
  control: above ``D/d`` lazy training fits too;
* ``beyond.m-vs-d`` — in the regime where ``m`` matters (the variant without re-initialisation, a
  fixed budget of gradient steps) a fixed ``m = 4r`` succeeds at every ``d`` while ``m = r`` often
  fails; control: with re-initialisation ``m = r`` suffices;
* ``beyond.m-vs-r`` — in the same regime, the growth exponent of the smallest successful ``m`` in
  ``r`` (with its interval) against the paper's ``2.5l`` (an upper-bound check);
* ``beyond.bad-local-minima`` — end points of plain gradient descent at ``m = r``, refined to gradient
  ``<= 1e-10`` and classified by a perturbation-escape test: ``success``, ``saddle``,
  ``spurious_minimum``;
* ``beyond.saddle-at-zero`` — the plain loss along rays from 0 against the symbolic Taylor polynomial
  of :mod:`theory`;
* ``beyond.escape-by-reinit`` — re-initialisation escapes the plateaus that plain epochs stay on;
* ``beyond.epsilon-dependence`` — iterations and ``m`` needed against ``1/ε`` (exponents with
  intervals);
* ``beyond.step-size`` — the fixed-step variant converges to the gradient flow at first order.

The variant is the **[model choice]** reconstruction :func:`numerics.algorithms.beyond_lazy_descent`
(two-homogeneous model, small init, ℓ2 regulariser, epochs with re-initialisation). Derivations of the
predictions first made here: docs/math.md §10.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from numerics import gaussian_init
from numerics.algorithms import (
    beyond_lazy_descent,
    classify_end_point,
    hessian_min_eigenvalue,
    plain_descent_baseline,
    target_scale,
)
from numerics.flow import gradient_descent, gradient_flow
from numerics.lazy_training import lazy_training_descent, stable_step
from numerics.models import loss, loss_and_grad, model_tensor
from numerics.tensors import inner, orthogonal_tensor, random_low_rank, random_unit_vectors

from ..registry import Claim, RunResult, Verdict, register
from ..statistics import Evidence, clopper_pearson, linear_fit
from ._shared import legend

MODEL_CHOICE = (
    "docs/math.md §5 [model choice]: paper 1's variant reconstructed as two-homogeneous model, "
    "small init δ·uniform(S^{d-1}), ℓ2 regulariser, epochs of gradient descent with "
    "re-initialisation of small components (numerics.algorithms.beyond_lazy_descent)"
)
EPS = 0.05  # relative accuracy of success, the variant's default
DERIVATIONS = "docs/math.md §10"


def _ok(results: Sequence[RunResult]) -> list[tuple[Any, Mapping[str, Any]]]:
    return [(r.config, r.metrics) for r in results if r.ok and r.metrics is not None]


def _slope(x: Sequence[float], y: Sequence[float]) -> tuple[float, tuple[float, float], dict]:
    """Least-squares slope with its 95% t-interval; constant ``y`` has slope 0 exactly (zero width)."""
    if float(np.ptp(np.asarray(y, float))) == 0.0:
        return 0.0, (0.0, 0.0), {"slope": 0.0, "ci95": [0.0, 0.0], "n": len(y), "flat": True}
    fit = linear_fit(list(x), list(y))
    return fit.slope, fit.ci, fit.as_dict()


def _no_runs(predicted: str) -> Verdict:
    return Verdict("inconclusive", "no run produced metrics", predicted, "n/a")


# --------------------------------------------------------------------------------------------
# beyond.versus-lazy
# --------------------------------------------------------------------------------------------
LAZY_ALPHA = 100.0  # output scale: parameters move O(1/α) (docs/math.md §4, lazy scaling)
LAZY_STEPS = 2000  # gradient steps of the lazy arm, step = stable_step/2


@dataclass(frozen=True)
class LazyVsVariant:
    """One arm on one target: ``arm="lazy"`` (nonlinear training in the lazy scaling) or ``"variant"``.

    Both arms see the same target (``random_low_rank(r, d, order, rng=seed)``) and the same ``m``.
    """

    order: int
    d: int
    r: int
    m: int
    seed: int
    arm: str  # "lazy" or "variant"


def versus_experiment(cfg: LazyVsVariant) -> dict[str, Any]:
    """Final relative error of the arm; the lazy arm also reports its parameter movement."""
    target = random_low_rank(cfg.r, cfg.d, cfg.order, rng=cfg.seed)
    if cfg.arm == "variant":
        res = beyond_lazy_descent(
            target, cfg.m, rng=np.random.default_rng([cfg.seed, cfg.m, 1]), model="homogeneous"
        )
        if res.status in ("nan", "diverged"):
            raise RuntimeError(f"numerical failure: {res.message}")
        return {
            "success": res.success,
            "relative_error": res.relative_error,
            "n_steps": res.n_steps,
            "movement": None,
        }
    if cfg.arm != "lazy":
        raise ValueError(f"arm must be 'lazy' or 'variant', got {cfg.arm!r}")
    W0 = gaussian_init(
        cfg.m, cfg.d, 1.0 / math.sqrt(cfg.d), np.random.default_rng([cfg.seed, cfg.m, 2])
    )
    lazy = lazy_training_descent(
        W0,
        target,
        LAZY_ALPHA,
        step=0.5 * stable_step(W0, cfg.order),
        n_steps=LAZY_STEPS,
        observe_every=LAZY_STEPS // 4,
        residual_tol=EPS**2,
    )
    if lazy.status not in ("finished", "converged"):
        raise RuntimeError(f"lazy training failed: {lazy.message}")
    err = float(lazy.final_relative_error)
    return {
        "success": bool(err <= EPS),
        "relative_error": err,
        "n_steps": int(lazy.nsteps),
        "movement": float(lazy.max_movement),
    }


def versus_configs(profile: str) -> list[LazyVsVariant]:
    if profile == "quick":
        ds, seeds = [20], range(10)
    elif profile == "full":
        ds, seeds = [20, 50], range(30)
    else:  # scale: the papers' regime, d >= 200 (no d^l array anywhere)
        ds, seeds = [200, 1000, 2000], range(20)
    return [
        LazyVsVariant(order=3, d=d, r=3, m=12, seed=s, arm=arm)
        for d in ds
        for s in seeds
        for arm in ("variant", "lazy")
    ]


def versus_controls(profile: str) -> dict[str, list[LazyVsVariant]]:
    n = 10 if profile == "quick" else 20
    # d = 6, l = 3: D/d = 56/6 ≈ 9.3 and m·d = 180 >= D: the tangent space is all of Sym^3(R^6)
    return {
        "m above D/d (d=6, m=30): lazy fits too": [
            LazyVsVariant(order=3, d=6, r=3, m=30, seed=1000 + s, arm=arm)
            for s in range(n)
            for arm in ("variant", "lazy")
        ]
    }


def versus_predict(profile: str) -> dict[str, Any]:
    import theory

    ds = sorted({c.d for c in versus_configs(profile)} | {6})
    return {
        "eps": EPS,
        "lazy_threshold": {str(d): float(theory.lazy_threshold(d, 3)) for d in ds},
        "p_value": 0.05,
        "min_variant_rate": 0.6 if profile == "quick" else 0.8,
    }


def versus_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = (
        f"variant succeeds (rate >= {prediction['min_variant_rate']}) and beats lazy training at "
        f"the same m (McNemar p <= {prediction['p_value']})"
    )
    ok = _ok(results)
    if not ok:
        return _no_runs(predicted)
    by: dict[tuple[int, int, int], dict[str, bool]] = defaultdict(dict)
    errs: dict[tuple[int, str], list[float]] = defaultdict(list)
    moves: list[float] = []
    for c, m in ok:
        by[(c.d, c.m, c.seed)][c.arm] = bool(m["success"])
        errs[(c.d, c.arm)].append(float(m["relative_error"]))
        if m.get("movement") is not None:
            moves.append(float(m["movement"]))
    ev = Evidence()
    numbers: dict[str, Any] = {}
    for d in sorted({k[0] for k in by}):
        pairs = [v for k, v in by.items() if k[0] == d and {"lazy", "variant"} <= set(v)]
        var = [p["variant"] for p in pairs]
        laz = [p["lazy"] for p in pairs]
        ms = sorted({k[1] for k in by if k[0] == d})
        ev.rate_at_least(
            f"d={d}: variant success", sum(var), len(var), prediction["min_variant_rate"]
        )
        ev.contrast(f"d={d}, m={ms}: variant beats lazy", var, laz, prediction["p_value"])
        numbers[f"d={d}"] = {
            "m": ms,
            "lazy_threshold": prediction["lazy_threshold"].get(str(d)),
            "variant_success": [sum(var), len(var)],
            "lazy_success": [sum(laz), len(laz)],
            "lazy_error_median": float(np.median(errs[(d, "lazy")])) if errs[(d, "lazy")] else None,
            "variant_error_median": (
                float(np.median(errs[(d, "variant")])) if errs[(d, "variant")] else None
            ),
        }
    numbers["lazy_max_movement"] = max(moves) if moves else None
    measured = "; ".join(
        f"{k}: variant {v['variant_success'][0]}/{v['variant_success'][1]}, lazy "
        f"{v['lazy_success'][0]}/{v['lazy_success'][1]} (median lazy error {v['lazy_error_median']:.3g})"
        for k, v in numbers.items()
        if k.startswith("d=")
    )
    return ev.verdict(predicted, measured, numbers)


def versus_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {"d": [], "m": [], "seed": [], "arm": [], "relative_error": []}
    for c, m in _ok(results):
        data["d"].append(c.d)
        data["m"].append(c.m)
        data["seed"].append(c.seed)
        data["arm"].append(c.arm)
        data["relative_error"].append(m["relative_error"])
    ds = sorted(set(data["d"]))
    for k, arm in enumerate(("variant", "lazy")):
        for j, d in enumerate(ds):
            ys = [
                e
                for e, a, dd in zip(data["relative_error"], data["arm"], data["d"], strict=True)
                if a == arm and dd == d
            ]
            n, s = len(ys), sum(y <= EPS for y in ys)
            lo, hi = clopper_pearson(s, n)
            x = j + 0.2 * (k - 0.5)
            rate = s / n if n else np.nan
            ax.errorbar(
                [x], [rate], yerr=[[rate - lo], [hi - rate]] if n else None, fmt="o" if k else "s",
                color="C1" if k else "C0", capsize=3, label=arm if j == 0 else None,
            )  # fmt: skip
    ax.set_xticks(range(len(ds)), [f"d={d}" for d in ds])
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel(f"success rate (error <= {EPS}), 95% CI")
    ax.set_title("Same targets, same m: the variant against lazy training (α = 100)")
    legend(ax, fontsize=7)
    return data


register(
    Claim(
        id="beyond.versus-lazy",
        source="Wang et al. 2020 (paper 1): the variant needs far fewer components than lazy training",
        statement=(
            "On the same random rank-3 targets (l = 3) and the same m = 12, far below the lazy "
            "threshold D(d,l)/d, nonlinear gradient descent in the lazy scaling (output scale "
            "α = 100) stalls at a relative error near 1 while the variant reaches ε = 0.05; with m "
            "above D/d lazy training fits as well."
        ),
        latex=r"m=12\ll D(d,3)/d:\ \ \mathrm{err}_{\text{lazy}}\gg\varepsilon\ge\mathrm{err}_{\text{variant}}",
        method=(
            "Arms on the same target and m: 'variant' = beyond_lazy_descent (defaults, "
            "ε = 0.05); 'lazy' = numerics.lazy_training.lazy_training_descent of "
            "F_α(W) = ||α(T(W) − T(W0)) − T*||²/(2α²) (plain model, W0 ~ N(0, 1/d), α = 100, "
            "step = stable_step(W0)/2, 2000 steps, stop at error ε). Paired by seed; McNemar exact "
            "one-sided. Quick: d = 20 (D/d = 77), 10 seeds (can establish variant rate >= 0.6); "
            "full: d ∈ {20, 50} (D/d = 77, 442), 30 seeds (>= 0.8); scale: d ∈ {200, 1000, 2000} "
            "(D/d = 6767 to 1.3e6), 20 seeds. Control: d = 6, m = 30 (m·d = 180 >= D = 56, above the "
            "lazy threshold 9.3), where lazy training reaches ε too, so the contrast must fail."
        ),
        tolerance=(
            "per d: variant success rate >= 0.6 (quick) / 0.8 (full, scale) by the exact 95% "
            "interval, and McNemar one-sided p <= 0.05 for 'variant succeeds where lazy does not'"
        ),
        tolerance_source=(
            "derived: the rates and the McNemar level are the evidence rules (reports/statistics.py); "
            "ε = 0.05 is the variant's documented default accuracy (docs/math.md §5)"
        ),
        experiment=versus_experiment,
        configs=versus_configs,
        predict=versus_predict,
        judge=versus_judge,
        plot=versus_plot,
        model_choice=MODEL_CHOICE,
        controls=versus_controls,
        profiles=("quick", "full", "scale"),
    )
)


# --------------------------------------------------------------------------------------------
# the regime where m matters: the variant without re-initialisation, a fixed step budget
# --------------------------------------------------------------------------------------------
BUDGET_STEPS = 3000  # gradient steps (flow time 300/s) of the no-reinit arm
# Control arm: 'one-random' re-initialisation redraws the missing component with probability ~1/m
# per epoch and gives it the right sign (odd l) about half the time, so m = r fails with probability
# ≈ (1 - 1/(2m))^epochs: 2.6% at m = 3 over 20 epochs (1 of 20 quick control runs failed that way),
# 7e-4 over 40 epochs (derivations: docs/math.md §10)
CONTROL_EPOCHS = 40
M_STAR_LEVEL = 0.75  # m* = smallest m from which the success rate stays >= 0.75


@dataclass(frozen=True)
class BudgetRun:
    """The variant with ``m`` components on ``random_low_rank(r, d, order, rng=seed)``.

    ``reinit="none"``: one epoch of ``epochs·epoch_steps`` steps (no re-initialisation);
    ``"one-random"`` / ``"small"``: ``epochs`` epochs of ``epoch_steps`` steps with that rule. The
    algorithm's randomness is seeded by ``(seed, m, 1)``: independent across ``m``.
    """

    order: int
    d: int
    r: int
    m: int
    seed: int
    reinit: str = "none"
    epochs: int = 1
    epoch_steps: int = BUDGET_STEPS


def budget_experiment(cfg: BudgetRun) -> dict[str, Any]:
    """Success, final error and the resource used: steps and component-steps ``m × steps``."""
    target = random_low_rank(cfg.r, cfg.d, cfg.order, rng=cfg.seed)
    gen = np.random.default_rng([cfg.seed, cfg.m, 1])
    if cfg.reinit == "none":
        res = beyond_lazy_descent(
            target, cfg.m, rng=gen, epochs=1, epoch_steps=cfg.epochs * cfg.epoch_steps,
            model="homogeneous",
        )  # fmt: skip
    else:
        res = beyond_lazy_descent(
            target, cfg.m, rng=gen, epochs=cfg.epochs, epoch_steps=cfg.epoch_steps,
            reinit=cfg.reinit, model="homogeneous",
        )  # fmt: skip
    if res.status in ("nan", "diverged"):
        raise RuntimeError(f"numerical failure: {res.message}")
    return {
        "success": res.success,
        "relative_error": res.relative_error,
        "n_steps": res.n_steps,
        "component_steps": cfg.m * res.n_steps,
    }


def _rates(
    results: Sequence[RunResult], key: tuple[str, ...]
) -> dict[tuple, dict[int, list[bool]]]:
    out: dict[tuple, dict[int, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for cfg, met in _ok(results):
        out[tuple(getattr(cfg, k) for k in key)][cfg.m].append(bool(met["success"]))
    return out


def m_star(per_m: Mapping[int, Sequence[bool]], level: float = M_STAR_LEVEL) -> dict[str, Any]:
    """Smallest ``m`` from which the success rate stays ``>= level``, with an interval.

    ``point``: from the rates; ``low``: the smallest ``m`` from which every 95% interval's upper end is
    ``>= level`` (no smaller ``m`` is compatible with m*); ``high``: the smallest ``m`` from which every
    interval's lower end is ``>= level`` (``None``: not established with these seeds).
    """
    ms = sorted(per_m)

    def first(pred: Any) -> int | None:
        for i, m in enumerate(ms):
            if all(pred(per_m[mm]) for mm in ms[i:]):
                return m
        return None

    return {
        "point": first(lambda v: sum(v) / len(v) >= level),
        "low": first(lambda v: clopper_pearson(sum(v), len(v))[1] >= level),
        "high": first(lambda v: clopper_pearson(sum(v), len(v))[0] >= level),
        "rates": {
            str(m): [sum(per_m[m]), len(per_m[m]), *clopper_pearson(sum(per_m[m]), len(per_m[m]))]
            for m in ms
        },
    }


def _m_matters(
    ev: Evidence, groups: Mapping[tuple, Mapping[int, Sequence[bool]]], r_of: Any, factor: int
) -> None:
    """Pooled paired contrast: ``m = factor·r`` beats ``m = r`` on the same (group, seed) targets."""
    a: list[bool] = []
    b: list[bool] = []
    for g, per_m in groups.items():
        r = r_of(g)
        if r in per_m and factor * r in per_m:
            n = min(len(per_m[r]), len(per_m[factor * r]))
            a += list(per_m[factor * r][:n])
            b += list(per_m[r][:n])
    ev.contrast(f"m = {factor}r beats m = r (pooled, paired by target)", a, b, 0.05)


def _rate_plot(ax: Any, groups: Mapping[tuple, Mapping[int, Sequence[bool]]], label: Any) -> None:
    for k, (g, per_m) in enumerate(sorted(groups.items())):
        ms = sorted(per_m)
        rate = np.array([sum(per_m[m]) / len(per_m[m]) for m in ms])
        ci = np.array([clopper_pearson(sum(per_m[m]), len(per_m[m])) for m in ms])
        x = np.array(ms, float) * (1 + 0.03 * k)
        ax.errorbar(
            x, rate, yerr=[rate - ci[:, 0], ci[:, 1] - rate], marker="o", ms=3, capsize=2,
            label=label(g),
        )  # fmt: skip
    ax.axhline(M_STAR_LEVEL, color="k", ls=":", lw=0.8, label=f"m* level {M_STAR_LEVEL}")
    ax.set_xscale("log")
    ms_all = sorted({m for per_m in groups.values() for m in per_m})
    if ms_all:
        from matplotlib.ticker import NullFormatter

        ax.set_xticks(ms_all, [str(m) for m in ms_all], fontsize=7)
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("components m")
    ax.set_ylabel("success rate, 95% CI")


# --------------------------------------------------------------------------------------------
# beyond.m-vs-d
# --------------------------------------------------------------------------------------------
MVD_FAR_BELOW = 0.1  # m = 4r at most a tenth of the lazy threshold D/d at the largest d


def mvd_configs(profile: str) -> list[BudgetRun]:
    if profile == "quick":
        ds, ms, seeds = [10, 40, 160], [3, 6, 12], range(10)
    else:
        ds, ms, seeds = [10, 20, 50, 100, 200], [3, 4, 6, 8, 12], range(30)
    return [BudgetRun(order=3, d=d, r=3, m=m, seed=s) for d in ds for m in ms for s in seeds]


def mvd_controls(profile: str) -> dict[str, list[BudgetRun]]:
    ds, seeds = ([10, 40], range(10)) if profile == "quick" else ([10, 50], range(20))
    return {
        "with re-initialisation ('one-random', 40 epochs × 300): m = r suffices": [
            BudgetRun(
                order=3,
                d=d,
                r=3,
                m=m,
                seed=1000 + s,
                reinit="one-random",
                epochs=CONTROL_EPOCHS,
                epoch_steps=300,
            )  # fmt: skip
            for d in ds
            for m in (3, 12)
            for s in seeds
        ]
    }


def mvd_predict(profile: str) -> dict[str, Any]:
    import theory

    ds = sorted({c.d for c in mvd_configs(profile)})
    return {
        "lazy_threshold": {str(d): float(theory.lazy_threshold(d, 3)) for d in ds},
        "sufficient_m_factor": 4,
        "min_rate": 0.6 if profile == "quick" else 0.8,
        "far_below": MVD_FAR_BELOW,
    }


def mvd_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    f = prediction["sufficient_m_factor"]
    predicted = (
        f"m = {f}r succeeds at every d (rate >= {prediction['min_rate']}) while m = r does not "
        f"(McNemar); {f}r <= {prediction['far_below']}·D/d at the largest d"
    )
    groups = _rates(results, ("d", "r"))
    if not groups:
        return _no_runs(predicted)
    ev = Evidence()
    numbers: dict[str, Any] = {"m_star": {}}
    for (d, r), per_m in sorted(groups.items()):
        if f * r in per_m:
            v = per_m[f * r]
            ev.rate_at_least(f"d={d}: success at m={f * r}", sum(v), len(v), prediction["min_rate"])
        numbers["m_star"][str(d)] = m_star(per_m)
    _m_matters(ev, groups, lambda g: g[1], f)
    d_max, r0 = max(groups)
    lazy = prediction["lazy_threshold"].get(str(d_max))
    if lazy:
        ev.at_most(f"{f}r / (D/d) at d={d_max}", f * r0 / lazy, prediction["far_below"])
    steps = [m["component_steps"] for c, m in _ok(results) if m["success"]]
    numbers["median_component_steps_of_successes"] = float(np.median(steps)) if steps else None
    measured = "m* (level 0.75) [interval] by d: " + ", ".join(
        f"{d}: {v['point']} [{v['low']}, {v['high']}]" for d, v in numbers["m_star"].items()
    )
    ev.note(
        "Resource: a run costs m × steps component-gradient evaluations (budget 3000 steps; "
        "successes stop early)."
    )
    return ev.verdict(predicted, measured, numbers)


def mvd_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    groups = _rates(results, ("d", "r"))
    _rate_plot(ax, groups, lambda g: f"d={g[0]}")
    ax.set_title("Variant without re-initialisation, 3000 steps (l = 3, r = 3)")
    legend(ax, fontsize=7)
    data: dict[str, list[Any]] = {"d": [], "m": [], "successes": [], "trials": []}
    for (d, _), per_m in sorted(groups.items()):
        for m, v in sorted(per_m.items()):
            data["d"].append(d)
            data["m"].append(m)
            data["successes"].append(sum(v))
            data["trials"].append(len(v))
    return data


register(
    Claim(
        id="beyond.m-vs-d",
        source="Wang et al. 2020 (paper 1), abstract: m = O*(r^{2.5l} log d), unlike the lazy d^{l-1}",
        statement=(
            "In the regime where m matters (the variant without re-initialisation, 3000 gradient "
            "steps; l = 3, r = 3 random targets), m = 4r = 12 components succeed at every d up to "
            "200 while m = r fails in a large fraction of seeds; 12 is below a tenth of the lazy "
            "threshold D(d,3)/d (6767 at d = 200). The smallest successful m (level 0.75) is "
            "reported per d with its interval."
        ),
        latex=r"\Pr[\mathrm{success}\mid m=4r]\ge p\ \ \forall d\le 200,\qquad 4r\ll D(d,l)/d",
        method=(
            "numerics.algorithms.beyond_lazy_descent with epochs=1, epoch_steps=3000 (no "
            "re-initialisation; other constants default), ε = 0.05; targets random_low_rank(3, d, 3, "
            "rng=seed), algorithm seeded by (seed, m, 1). Quick: d ∈ {10, 40, 160}, m ∈ {3, 6, 12}, "
            "10 seeds (can establish rate >= 0.6); full: d ∈ {10, 20, 50, 100, 200}, "
            "m ∈ {3, 4, 6, 8, 12}, 30 seeds (>= 0.8). Control: the same targets' distribution with "
            "re-initialisation ('one-random', 40 epochs × 300 steps), where m = r suffices, so the "
            "contrast m = 4r vs m = r must fail. Resource: m × steps."
        ),
        tolerance=(
            "per d: success rate at m = 4r >= 0.6 (quick) / 0.8 (full) by the exact 95% interval; "
            "pooled McNemar one-sided p <= 0.05 for 'm = 4r succeeds where m = r does not'; "
            f"4r/(D/d) <= {MVD_FAR_BELOW} at the largest d"
        ),
        tolerance_source=(
            "derived: rates and McNemar level are the evidence rules (reports/statistics.py); the "
            "'a tenth of D/d' margin is fixed in advance (the lazy threshold is 2–3 orders larger "
            "at d >= 100, docs/math.md §4)"
        ),
        experiment=budget_experiment,
        configs=mvd_configs,
        predict=mvd_predict,
        judge=mvd_judge,
        plot=mvd_plot,
        model_choice=MODEL_CHOICE + "; here without re-initialisation (epochs=1)",
        controls=mvd_controls,
    )
)


# --------------------------------------------------------------------------------------------
# beyond.m-vs-r
# --------------------------------------------------------------------------------------------
def mvr_configs(profile: str) -> list[BudgetRun]:
    if profile == "quick":
        rs, seeds = [2, 3, 4], range(10)
        grid = {r: [r, 2 * r, 4 * r] for r in rs}
    else:
        rs, seeds = [2, 3, 4, 6, 8], range(20)
        base = [2, 3, 4, 6, 8, 12, 16, 24, 32, 48]
        grid = {r: sorted({m for m in base if r <= m <= 6 * r} | {4 * r}) for r in rs}
    return [BudgetRun(order=3, d=30, r=r, m=m, seed=s) for r in rs for m in grid[r] for s in seeds]


def mvr_controls(profile: str) -> dict[str, list[BudgetRun]]:
    seeds = range(10) if profile == "quick" else range(20)
    return {
        "with re-initialisation ('one-random', 40 epochs × 300): m = r suffices": [
            BudgetRun(
                order=3,
                d=30,
                r=r,
                m=m,
                seed=1000 + s,
                reinit="one-random",
                epochs=CONTROL_EPOCHS,
                epoch_steps=300,
            )  # fmt: skip
            for r in (2, 3)
            for m in (r, 4 * r)
            for s in seeds
        ]
    }


def mvr_predict(profile: str) -> dict[str, Any]:
    return {"paper_exponent": 2.5 * 3, "order": 3}


def mvr_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    bound = prediction["paper_exponent"]
    predicted = (
        f"growth exponent of m*(r) at most {bound:g} = 2.5l (upper-bound check: the paper's "
        "O*(r^{2.5l}) hides constants, so only the exponent is testable); m = 4r beats m = r"
    )
    groups = _rates(results, ("r", "d"))
    if not groups:
        return _no_runs(predicted)
    ev = Evidence()
    stars = {g: m_star(per_m) for g, per_m in sorted(groups.items())}
    numbers: dict[str, Any] = {"m_star": {str(g[0]): s for g, s in stars.items()}}
    pts = [(g[0], s["point"]) for g, s in stars.items() if s["point"] is not None]
    if len(pts) >= 3 and len({r for r, _ in pts}) >= 2:
        slope, ci, numbers["exponent"] = _slope(
            [math.log(r) for r, _ in pts], [math.log(m) for _, m in pts]
        )
        ev.interval_beyond("growth exponent of m*(r) <= 2.5l", ci, bound, "below")
        measured = f"exponent {slope:.2f} (95% CI {ci[0]:.2f}–{ci[1]:.2f}); "
    else:
        measured = "exponent not estimable (fewer than 3 r with m*); "
    _m_matters(ev, groups, lambda g: g[0], 4)
    measured += "m* by r: " + ", ".join(
        f"{r}: {v['point']} [{v['low']}, {v['high']}]" for r, v in numbers["m_star"].items()
    )
    ev.note("Upper-bound check only: an exponent below 2.5l is consistent with the paper's bound.")
    return ev.verdict(predicted, measured, numbers)


def mvr_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax1, ax2 = fig.subplots(1, 2)
    groups = _rates(results, ("r", "d"))
    _rate_plot(ax1, groups, lambda g: f"r={g[0]}")
    ax1.set_title("no re-init, 3000 steps, d = 30", fontsize=9)
    legend(ax1, fontsize=6)
    data: dict[str, list[Any]] = {"r": [], "m_star": [], "m_star_low": [], "m_star_high": []}
    for (r, _), per_m in sorted(groups.items()):
        s = m_star(per_m)
        data["r"].append(r)
        data["m_star"].append(s["point"])
        data["m_star_low"].append(s["low"])
        data["m_star_high"].append(s["high"])
    rs = np.array(data["r"], float)
    pt = np.array([np.nan if v is None else v for v in data["m_star"]], float)
    lo = np.array([np.nan if v is None else v for v in data["m_star_low"]], float)
    hi = np.array([np.nan if v is None else v for v in data["m_star_high"]], float)
    if rs.size:
        ax2.errorbar(
            rs, pt, yerr=[np.nan_to_num(pt - lo), np.nan_to_num(hi - pt)], marker="o", capsize=3,
            label="m* (level 0.75), interval",
        )  # fmt: skip
        ax2.plot(rs, rs, "k:", lw=0.8, label="m = r")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("rank r")
    ax2.set_ylabel("m*")
    legend(ax2, fontsize=6)
    return data


register(
    Claim(
        id="beyond.m-vs-r",
        source="Wang et al. 2020 (paper 1), abstract: m = O*(r^{2.5l} log d)",
        statement=(
            "In the regime where m matters (the variant without re-initialisation, 3000 steps, "
            "l = 3, d = 30), the smallest m that succeeds (rate >= 0.75) grows with r with an "
            "exponent whose 95% interval lies below 2.5l = 7.5 — an upper-bound check, since the "
            "paper's O*(r^{2.5l}) hides constants — and m = 4r succeeds where m = r fails."
        ),
        latex=r"m^*(r)\propto r^{p},\quad \mathrm{CI}_{95}(p)\subset(-\infty,\,2.5\,l]",
        method=(
            "As beyond.m-vs-d at d = 30. Quick: r ∈ {2, 3, 4}, m ∈ {r, 2r, 4r}, 10 seeds; full: "
            "r ∈ {2, 3, 4, 6, 8}, m ∈ {2, 3, 4, 6, 8, 12, 16, 24, 32, 48} ∩ [r, 6r] ∪ {4r}, 20 "
            "seeds. m*(r) = smallest m from which the success rate stays >= 0.75, interval from the "
            "exact intervals of the rates; exponent = least-squares slope of log m* on log r with "
            "its t-interval. Control: re-initialisation ('one-random', 40 × 300 steps) at "
            "r ∈ {2, 3}, where m = r suffices: the contrast must fail."
        ),
        tolerance=(
            "upper end of the exponent's 95% interval <= 2.5l = 7.5; pooled McNemar one-sided "
            "p <= 0.05 for 'm = 4r succeeds where m = r does not'"
        ),
        tolerance_source=(
            "derived: 2.5l is the paper's exponent (docs/math.md §5); the interval and the McNemar "
            "level are the evidence rules (reports/statistics.py)"
        ),
        experiment=budget_experiment,
        configs=mvr_configs,
        predict=mvr_predict,
        judge=mvr_judge,
        plot=mvr_plot,
        model_choice=MODEL_CHOICE + "; here without re-initialisation (epochs=1)",
        controls=mvr_controls,
    )
)


# --------------------------------------------------------------------------------------------
# beyond.bad-local-minima
# --------------------------------------------------------------------------------------------
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


def plain_experiment(cfg: PlainRun) -> dict[str, Any]:
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


def plain_configs(profile: str) -> list[PlainRun]:
    orders, seeds = ((3,), range(8)) if profile == "quick" else ((3, 4), range(30))
    return [
        PlainRun(order=l, d=5, r=3, m=f * 3, seed=s) for l in orders for f in (1, 4) for s in seeds
    ]


def plain_controls(profile: str) -> dict[str, list[PlainRun]]:
    orders, seeds = ((3,), range(6)) if profile == "quick" else ((3, 4), range(20))
    return {
        "rank-one target (r = 1): no spurious critical point": [
            PlainRun(order=l, d=5, r=1, m=m, seed=1000 + s)
            for l in orders
            for m in (1, 4)
            for s in seeds
        ]
    }


def plain_predict(profile: str) -> dict[str, Any]:
    return {"min_spurious": 1, "p_value": 0.05, "rho": ESCAPE_RHO}


def plain_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = (
        "at m = r some end point is a spurious local minimum (escape test at ρ = "
        f"{prediction['rho']}); m = 4r succeeds where m = r does not (McNemar p <= "
        f"{prediction['p_value']})"
    )
    ok = _ok(results)
    if not ok:
        return _no_runs(predicted)
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


def plain_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax1, ax2 = fig.subplots(1, 2)
    data: dict[str, list[Any]] = {
        "order": [], "r": [], "m": [], "seed": [], "kind": [], "relative_error": [], "grad_norm": [],
    }  # fmt: skip
    for c, m in _ok(results):
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


register(
    Claim(
        id="beyond.bad-local-minima",
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
        experiment=plain_experiment,
        configs=plain_configs,
        predict=plain_predict,
        judge=plain_judge,
        plot=plain_plot,
        controls=plain_controls,
    )
)


# --------------------------------------------------------------------------------------------
# beyond.saddle-at-zero
# --------------------------------------------------------------------------------------------
RAY_SIZES = {2: 3, 3: 3, 4: 3, 5: 2, 6: 2}  # d per order: d^l <= 243 for the explicit sympy loss
# |numeric - symbolic| in units of eps_mach·f(0): two loss values, each a Gram sum of (m + r)² = 16
# terms of size <= ~f(0), round to <= 2·16 ulp of f(0); the symbolic polynomial in double adds a few
SYMBOLIC_ULP_TOL = 100.0
ORDER_TOL = 0.02  # |fitted order - l| on t-values where the next term is <= 1e-3 of the first


@dataclass(frozen=True)
class RayCase:
    """The plain loss along a random ray ``t ↦ f(W0 + tV)`` (``base = 0``: the ray from 0)."""

    order: int
    d: int
    m: int
    r: int
    seed: int
    base: float = 0.0  # norm of the rows of the base point W0 (the control uses a nonzero one)


def ray_times(order: int, a: float, b: float) -> np.ndarray:
    """9 points over half a decade below ``t_hi = (2e-3·|a|/b)^{1/l}``, where the ``t^{2l}`` term of
    ``-t^l a + t^{2l} b/2`` is at most 1e-3 of the ``t^l`` term (``a = <T(V),T*>``, ``b = ||T(V)||²``)."""
    hi = (2e-3 * abs(a) / b) ** (1.0 / order)
    return np.geomspace(hi / 10**0.5, hi, 9)


def _symbolic_ray(order: int, d: int, m: int, r: int, V: np.ndarray, c: np.ndarray, U: np.ndarray):
    """Coefficients ``{k: value}`` of ``f(tV) - f(0)`` from :func:`theory.loss_taylor_coefficients`
    (explicit ``d^l`` tensors in sympy, no Gram identity) evaluated at ``V`` and the target ``(c, U)``."""
    import sympy as sp

    import theory

    P = theory.problem_symbols(order, d, m, "plain", r)
    values = {
        **{s: float(v) for s, v in zip(list(P.W), V.ravel(), strict=True)},
        **{s: float(v) for s, v in zip(list(P.c), c, strict=True)},
        **{s: float(v) for s, v in zip(list(P.U), U.ravel(), strict=True)},
    }
    coeffs = theory.loss_taylor_coefficients(order, d, m, "plain", r)
    return {k: float(sp.sympify(e).xreplace(values)) for k, e in coeffs.items()}


def ray_experiment(cfg: RayCase) -> dict[str, Any]:
    """Fitted lowest order of ``f(W0 + tV) - f(W0)`` and, from 0, its distance to the symbolic polynomial."""
    rng = np.random.default_rng(cfg.seed)
    target = random_low_rank(cfg.r, cfg.d, cfg.order, coeffs=1.0 + rng.random(cfg.r), rng=rng)
    V = random_unit_vectors(cfg.m, cfg.d, rng)
    W0 = cfg.base * random_unit_vectors(cfg.m, cfg.d, rng) if cfg.base else np.zeros_like(V)
    f0 = loss(W0, target, model="plain")
    tv = model_tensor(V, cfg.order, model="plain")
    a, b = inner(tv, target), inner(tv, tv)
    ts = ray_times(cfg.order, a, b)
    diffs = np.array([loss(W0 + t * V, target, model="plain") - f0 for t in ts])
    fit = linear_fit(np.log(ts), np.log(np.abs(diffs)))
    out: dict[str, Any] = {"fitted_order": fit.slope, "symbolic_err_ulp": None}
    if not cfg.base:
        coeffs = _symbolic_ray(
            cfg.order, cfg.d, cfg.m, cfg.r, V, np.asarray(target.coeffs), target.components
        )
        symbolic = np.array([sum(v * t**k for k, v in coeffs.items()) for t in ts])
        ulp = np.finfo(float).eps * f0
        out["symbolic_err_ulp"] = float(np.max(np.abs(diffs - symbolic)) / ulp)
        out["symbolic_lowest_degree"] = min(k for k, v in coeffs.items() if v != 0)
        g0 = loss_and_grad(np.zeros_like(V), target, model="plain")[1]
        out["grad_norm_at_zero"] = float(np.linalg.norm(g0))
        out["hessian_min_at_zero"] = float(
            hessian_min_eigenvalue(np.zeros_like(V), target, k=1, model="plain")[0]
        )
    return out


def ray_configs(profile: str) -> list[RayCase]:
    orders = [2, 3, 4, 5] if profile == "quick" else [2, 3, 4, 5, 6]
    seeds = range(2) if profile == "quick" else range(10)
    return [RayCase(order=l, d=RAY_SIZES[l], m=2, r=2, seed=s) for l in orders for s in seeds]


def ray_controls(profile: str) -> dict[str, list[RayCase]]:
    return {
        "ray from a random nonzero point (order 1, not l)": [
            RayCase(order=l, d=RAY_SIZES[l], m=2, r=2, seed=100 + s, base=0.5)
            for l in (3, 4)
            for s in range(2)
        ]
    }


def ray_predict(profile: str) -> dict[str, Any]:
    import theory

    orders = sorted({c.order for c in ray_configs(profile)} | {3, 4})
    return {
        "order": {str(l): int(theory.saddle_order_at_zero(l)) for l in orders},
        "order_tol": ORDER_TOL,
        "symbolic_ulp_tol": SYMBOLIC_ULP_TOL,
    }


def ray_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = (
        "f(tV) - f(0) = Θ(t^l): lowest degree "
        + ", ".join(f"{o} (l={l})" for l, o in prediction["order"].items())
        + "; numerics equal the symbolic Taylor polynomial"
    )
    ok = _ok(results)
    if not ok:
        return _no_runs(predicted)
    ev = Evidence()
    worst = max(
        ok, key=lambda cm: abs(cm[1]["fitted_order"] - prediction["order"][str(cm[0].order)])
    )
    c, m = worst
    ev.within(
        f"fitted order (worst case l={c.order}, seed {c.seed})",
        m["fitted_order"], prediction["order"][str(c.order)], prediction["order_tol"],
    )  # fmt: skip
    sym = [m["symbolic_err_ulp"] for _, m in ok if m.get("symbolic_err_ulp") is not None]
    if sym:
        ev.at_most(
            "max distance to the symbolic polynomial (ulp of f(0))",
            max(sym),
            prediction["symbolic_ulp_tol"],
        )
    numbers = {
        "fitted": {f"l={c.order},seed={c.seed},base={c.base}": m["fitted_order"] for c, m in ok},
        "max_symbolic_err_ulp": max(sym) if sym else None,
        "grad_norm_at_zero_max": max(
            (m["grad_norm_at_zero"] for _, m in ok if "grad_norm_at_zero" in m), default=None
        ),
    }
    measured = (
        f"max |fitted order - l| = {abs(m['fitted_order'] - prediction['order'][str(c.order)]):.1e}; "
        "numerics vs symbolic polynomial: max distance "
        + (f"{max(sym):.2g} ulp of f(0)" if sym else "n/a")
    )
    return ev.verdict(predicted, measured, numbers)


def ray_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {"order": [], "seed": [], "fitted_order": [], "predicted": []}
    for cfg, met in _ok(results):
        data["order"].append(cfg.order)
        data["seed"].append(cfg.seed)
        data["fitted_order"].append(met["fitted_order"])
        data["predicted"].append(prediction["order"][str(cfg.order)])
    ax.scatter(data["order"], data["fitted_order"], label="fitted order of f(tV) - f(0)")
    ls = sorted(set(data["order"]))
    ax.errorbar(
        ls, [prediction["order"][str(l)] for l in ls], yerr=ORDER_TOL, fmt="r_", capsize=4,
        label=f"theory.saddle_order_at_zero ± {ORDER_TOL}",
    )  # fmt: skip
    ax.set_xlabel("tensor order l")
    ax.set_ylabel("order of the loss change along rays from 0")
    ax.set_title("0 is a saddle of order l of the plain loss")
    legend(ax, fontsize=7)
    return data


register(
    Claim(
        id="beyond.saddle-at-zero",
        source="Wang et al. 2020 (paper 1): 0 is a high-order saddle of the plain objective",
        statement=(
            "Along random rays from W = 0 the plain loss computed by numerics (Gram form) equals the "
            "polynomial -t^l<T(V),T*> + t^{2l}||T(V)||²/2 that theory derives symbolically from the "
            "explicit tensors, and it changes at order t^l (the lowest degree of that expansion)."
        ),
        latex=r"f(tV)-f(0)=-t^l\langle T(V),T^*\rangle+\tfrac{t^{2l}}{2}\|T(V)\|_F^2",
        method=(
            "Random rank-2 target (coefficients in [1,2)), random V with unit rows (m = 2), d = 3 "
            "(l <= 4) or 2 (l >= 5) so that sympy's explicit loss (theory.loss_taylor_coefficients, "
            "no Gram identity) is small; f(tV) - f(0) by numerics.models.loss at 9 t over the half "
            "decade below the t where the t^{2l} term is 1e-3 of the t^l term; its log-log slope "
            "(order) and its distance (in ulp of f(0)) to the symbolic polynomial at the same V "
            "and target. Quick: l ∈ {2..5}, 2 seeds; full: l ∈ {2..6}, 10 seeds. Control: rays "
            "from a random nonzero point (rows of norm 0.5), where the loss changes at order 1, so "
            "the order check must fail. (theory.saddle-order checks the symbolic degree against "
            "numerics on larger random W; this claim adds the value-by-value comparison.)"
        ),
        tolerance=(
            f"|fitted order - l| <= {ORDER_TOL}; max |numerics - symbolic polynomial| <= "
            f"{SYMBOLIC_ULP_TOL:g}·eps_mach·f(0)"
        ),
        tolerance_source=(
            "derived: on the chosen t the t^{2l} term is <= 1e-3 of the t^l term, bending the "
            "log-log slope by <= l·1e-3 <= 0.006 (< 0.02); f(tV) - f(0) is the difference of two "
            "Gram sums of (m+r)² = 16 terms of size <= ~f(0): rounding <= ~32 ulp of f(0), "
            "tolerance 100 ulp (a first version bounded the error relative to Δ with a wrong lower "
            "bound on Δ for l >= 5; it failed at 8.6e-9 > 1e-9 and was replaced by this derivation)"
        ),
        experiment=ray_experiment,
        configs=ray_configs,
        predict=ray_predict,
        judge=ray_judge,
        plot=ray_plot,
        controls=ray_controls,
    )
)


# --------------------------------------------------------------------------------------------
# beyond.escape-by-reinit
# --------------------------------------------------------------------------------------------
ESCAPE_DROP = 0.1  # an epoch transition is an escape when the error falls by at least this much


@dataclass(frozen=True)
class EscapeRun:
    """Variant with ``m`` components (``m = 0``: ``m = r``) and a re-initialisation rule, or
    ``arm="none"`` (one long epoch, same step budget)."""

    order: int
    d: int
    r: int
    arm: str  # "one-random", "small" or "none"
    seed: int
    epochs: int = 20
    epoch_steps: int = 300
    m: int = 0


def escape_experiment(cfg: EscapeRun) -> dict[str, Any]:
    """Epoch-end error staircase and escapes (re-inits followed by an error drop >= ESCAPE_DROP)."""
    target = random_low_rank(cfg.r, cfg.d, cfg.order, rng=cfg.seed)
    rng = cfg.seed + 1_000_003
    m = cfg.m or cfg.r
    if cfg.arm == "none":
        res = beyond_lazy_descent(
            target, m, rng=rng, epochs=1, epoch_steps=cfg.epochs * cfg.epoch_steps,
            model="homogeneous",
        )  # fmt: skip
    else:
        res = beyond_lazy_descent(
            target, m, rng=rng, reinit=cfg.arm, epochs=cfg.epochs, epoch_steps=cfg.epoch_steps,
            model="homogeneous",
        )  # fmt: skip
    if res.status in ("nan", "diverged"):
        raise RuntimeError(f"numerical failure: {res.message}")
    e = res.epoch_errors
    escapes = [
        (ev.error_before, float(e[ev.epoch]))
        for ev in res.reinit_events
        if ev.indices and e[ev.epoch] <= ev.error_before - ESCAPE_DROP
    ]
    return {
        "success": res.success,
        "relative_error": res.relative_error,
        "epoch_errors": e.tolist(),
        "n_reinit": sum(1 for ev in res.reinit_events if ev.indices),
        "escapes": escapes,
    }


def escape_configs(profile: str) -> list[EscapeRun]:
    ds, seeds = ([20], range(10)) if profile == "quick" else ([20, 50], range(30))
    return [
        EscapeRun(order=3, d=d, r=3, arm=arm, seed=s)
        for d in ds
        for arm in ("one-random", "small", "none")
        for s in seeds
    ]


def escape_controls(profile: str) -> dict[str, list[EscapeRun]]:
    seeds = range(10) if profile == "quick" else range(20)
    return {
        "over-parametrized m = 4r: no plateau to escape": [
            EscapeRun(order=3, d=20, r=3, arm=arm, seed=1000 + s, m=12)
            for arm in ("one-random", "none")
            for s in seeds
        ]
    }


def escape_predict(profile: str) -> dict[str, Any]:
    return {
        "min_rate": 0.6 if profile == "quick" else 0.8,
        "escape_drop": ESCAPE_DROP,
        "p_value": 0.05,
    }


def escape_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = (
        f"'one-random' re-init succeeds (rate >= {prediction['min_rate']}), beats the equally long "
        f"run without re-init (McNemar p <= {prediction['p_value']}), and escapes occur"
    )
    ok = _ok(results)
    if not ok:
        return _no_runs(predicted)
    by: dict[tuple[int, str], dict[int, Mapping[str, Any]]] = defaultdict(dict)
    for cfg, met in ok:
        by[(cfg.d, cfg.arm)][cfg.seed] = met
    ev = Evidence()
    numbers: dict[str, Any] = {}
    parts = []
    for d in sorted({k[0] for k in by}):
        one, none = by.get((d, "one-random"), {}), by.get((d, "none"), {})
        seeds = sorted(set(one) & set(none))
        a = [bool(one[s]["success"]) for s in seeds]
        b = [bool(none[s]["success"]) for s in seeds]
        ev.rate_at_least(f"d={d}: 'one-random' success", sum(a), len(a), prediction["min_rate"])
        ev.contrast(f"d={d}: 'one-random' beats 'none'", a, b, prediction["p_value"])
        n_esc = sum(len(m["escapes"]) for m in one.values())
        ev.at_least(f"d={d}: escapes observed ('one-random')", n_esc, 1)
        rates = {
            arm: [sum(bool(m["success"]) for m in by[(d, arm)].values()), len(by[(d, arm)])]
            for arm in ("one-random", "small", "none")
            if (d, arm) in by
        }
        numbers[f"d={d}"] = {"success": rates, "escapes_one_random": n_esc}
        parts.append(
            f"d={d}: "
            + ", ".join(f"{arm} {k}/{n}" for arm, (k, n) in rates.items())
            + f"; {n_esc} escapes"
        )
    return ev.verdict(predicted, "; ".join(parts), numbers)


def escape_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax1, ax2 = fig.subplots(1, 2)
    data: dict[str, list[Any]] = {"d": [], "arm": [], "seed": [], "epoch": [], "error": []}
    shown = 0
    succ: dict[tuple[int, str], list[bool]] = defaultdict(list)
    for cfg, met in _ok(results):
        succ[(cfg.d, cfg.arm)].append(bool(met["success"]))
        for k, err in enumerate(met["epoch_errors"]):
            data["d"].append(cfg.d)
            data["arm"].append(cfg.arm)
            data["seed"].append(cfg.seed)
            data["epoch"].append(k)
            data["error"].append(err)
        if cfg.arm == "one-random" and met["escapes"] and shown < 6:
            ax1.step(
                range(len(met["epoch_errors"])), met["epoch_errors"], where="post", marker="o",
                ms=3, label=f"d={cfg.d}, seed {cfg.seed}",
            )  # fmt: skip
            shown += 1
    ax1.axhline(EPS, color="k", ls=":", label="ε = 0.05")
    ax1.set_yscale("log")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("relative error at epoch end")
    ax1.set_title("Error staircase (m = r = 3, l = 3)")
    legend(ax1, fontsize=6)
    for k, (_, v) in enumerate(sorted(succ.items())):
        lo, hi = clopper_pearson(sum(v), len(v))
        rate = sum(v) / len(v)
        ax2.errorbar([k], [rate], yerr=[[rate - lo], [hi - rate]], fmt="o", capsize=3)
    ax2.set_xticks(range(len(succ)), [f"d={d}\n{a}" for d, a in sorted(succ)], fontsize=6)
    ax2.set_ylabel("success rate, 95% CI")
    ax2.set_ylim(-0.05, 1.05)
    return data


register(
    Claim(
        id="beyond.escape-by-reinit",
        source="Wang et al. 2020 (paper 1): re-initialisation in the variant (docs/math.md §5, [model choice])",
        statement=(
            "At m = r (l = 3, r = 3) re-initialising one random component between epochs lets the "
            "variant escape the plateaus where gradient descent parks (a target direction left "
            "without a component): escapes (an error drop >= 0.1 after a re-initialisation) occur, "
            "and it succeeds where an equally long run without re-initialisation does not."
        ),
        latex=r"\mathrm{err}_{s+1}\le\mathrm{err}_s-0.1\ \text{after an escaping re-init}",
        method=(
            "m = r = 3, l = 3, random incoherent targets; arms on the same targets: "
            "reinit='one-random', reinit='small' (20 epochs × 300 steps, reported) and 'none' (one "
            "epoch of 6000 steps). Escape = re-init event after which the epoch-end error is lower "
            "by >= 0.1. Quick: d = 20, 10 seeds (can establish rate >= 0.6); full: d ∈ {20, 50}, "
            "30 seeds (>= 0.8). Control: m = 4r = 12, where the run without re-initialisation "
            "already succeeds: no contrast and nothing to escape, so the judge must fail."
        ),
        tolerance=(
            "per d: 'one-random' success rate >= 0.6 (quick) / 0.8 (full) by the exact 95% "
            "interval; McNemar one-sided p <= 0.05 for 'one-random succeeds where none does not'; "
            "at least one escape"
        ),
        tolerance_source=(
            "derived: rates and McNemar level are the evidence rules (reports/statistics.py); the "
            "0.1 drop is a third of the error of one missing component of a rank-3 target "
            "(1/sqrt(3) ≈ 0.58 → 0), fixed in advance"
        ),
        experiment=escape_experiment,
        configs=escape_configs,
        predict=escape_predict,
        judge=escape_judge,
        plot=escape_plot,
        model_choice=MODEL_CHOICE,
        controls=escape_controls,
    )
)


# --------------------------------------------------------------------------------------------
# beyond.epsilon-dependence
# --------------------------------------------------------------------------------------------
EPS_REG_RATIO = (
    0.2  # reg = ε/5: the regulariser's bias (≈ reg/2 relative, docs/math.md §6) stays <= ε/10
)
ITER_EXPONENT_MAX = (
    1.0  # iterations grow at most like (1/ε)^1 (derived: linear convergence, log(1/ε))
)
M_EXPONENT_MAX = (
    5.0  # the paper's m = O(ε^{-5}) (secondary descriptions, docs/math.md §5): upper bound
)


@dataclass(frozen=True)
class EpsRun:
    """The variant (re-initialisation 'small', 20 epochs) at accuracy ``eps``; ``reg_mode="scaled"``:
    ``reg = ε/5``; ``"fixed"``: the default ``reg = 1e-2`` (the control)."""

    order: int
    d: int
    r: int
    m: int
    seed: int
    eps: float
    reg_mode: str = "scaled"


def eps_experiment(cfg: EpsRun) -> dict[str, Any]:
    """Success and the gradient steps taken until the error first fell to ``eps``."""
    target = random_low_rank(cfg.r, cfg.d, cfg.order, rng=cfg.seed)
    reg = EPS_REG_RATIO * cfg.eps if cfg.reg_mode == "scaled" else 1e-2
    res = beyond_lazy_descent(
        target, cfg.m, eps=cfg.eps, reg=reg, epochs=20, record_every=1,
        rng=np.random.default_rng([cfg.seed, cfg.m, 3]), model="homogeneous",
    )  # fmt: skip
    if res.status in ("nan", "diverged"):
        raise RuntimeError(f"numerical failure: {res.message}")
    return {"success": res.success, "n_steps": res.n_steps, "relative_error": res.relative_error}


def eps_configs(profile: str) -> list[EpsRun]:
    if profile == "quick":
        epss, ms, seeds = [0.2, 0.05, 0.01], [3, 12], range(8)
    else:
        epss, ms, seeds = [0.2, 0.1, 0.05, 0.02, 0.01], [3, 6, 12], range(30)
    return [EpsRun(order=3, d=20, r=3, m=m, seed=s, eps=e) for e in epss for m in ms for s in seeds]


def eps_controls(profile: str) -> dict[str, list[EpsRun]]:
    seeds = range(8) if profile == "quick" else range(20)
    return {
        "regulariser fixed at 1e-2: its bias floors the error above ε = 0.002": [
            EpsRun(order=3, d=20, r=3, m=12, seed=1000 + s, eps=e, reg_mode="fixed")
            for e in (0.05, 0.002)
            for s in seeds
        ]
    }


def eps_predict(profile: str) -> dict[str, Any]:
    return {
        "iter_exponent_max": ITER_EXPONENT_MAX,
        "m_exponent_max": M_EXPONENT_MAX,
        "min_rate": 0.6 if profile == "quick" else 0.8,
        "m": 12,
    }


def eps_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    M = prediction["m"]
    predicted = (
        f"at m = {M} every ε is reached (rate >= {prediction['min_rate']}); iterations grow with "
        f"exponent <= {prediction['iter_exponent_max']:g} in 1/ε, m* with exponent <= "
        f"{prediction['m_exponent_max']:g} (upper bounds, 95% intervals)"
    )
    ok = _ok(results)
    if not ok:
        return _no_runs(predicted)
    ev = Evidence()
    by: dict[float, dict[int, list[bool]]] = defaultdict(lambda: defaultdict(list))
    x, y = [], []
    for c, m in ok:
        by[c.eps][c.m].append(bool(m["success"]))
        if c.m == M and m["success"]:
            x.append(math.log(1 / c.eps))
            y.append(math.log(max(m["n_steps"], 1)))
    numbers: dict[str, Any] = {"m_star": {}, "median_steps": {}}
    for e, per_m in sorted(by.items(), reverse=True):
        if M in per_m:
            v = per_m[M]
            ev.rate_at_least(f"ε={e:g}: success at m={M}", sum(v), len(v), prediction["min_rate"])
        numbers["m_star"][f"{e:g}"] = m_star(per_m)
    for e in sorted(by, reverse=True):
        st = [m["n_steps"] for c, m in ok if c.eps == e and c.m == M and m["success"]]
        numbers["median_steps"][f"{e:g}"] = float(np.median(st)) if st else None
    measured = ""
    if len(set(x)) >= 2 and len(x) >= 3:
        fit = linear_fit(x, y)
        numbers["iter_exponent"] = fit.as_dict()
        ev.interval_beyond(
            "iterations exponent in 1/ε", fit.ci, prediction["iter_exponent_max"], "below"
        )
        measured += f"iterations ∝ (1/ε)^{fit.slope:.2f} (CI {fit.ci[0]:.2f}–{fit.ci[1]:.2f}); "
    pts = [(e, s["point"]) for e, s in numbers["m_star"].items() if s["point"] is not None]
    if len(pts) >= 3:
        sl, ci_m, numbers["m_exponent"] = _slope(
            [math.log(1 / float(e)) for e, _ in pts], [math.log(p) for _, p in pts]
        )
        ev.interval_beyond("m* exponent in 1/ε", ci_m, prediction["m_exponent_max"], "below")
        measured += f"m* ∝ (1/ε)^{sl:.2f} (CI {ci_m[0]:.2f}–{ci_m[1]:.2f}); "
    measured += "median steps by ε: " + ", ".join(
        f"{e}: {v}" for e, v in numbers["median_steps"].items()
    )
    ev.note("Exponents are upper-bound checks (the paper's bound is polynomial in 1/ε).")
    return ev.verdict(predicted, measured, numbers)


def eps_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax1, ax2 = fig.subplots(1, 2)
    data: dict[str, list[Any]] = {"eps": [], "m": [], "seed": [], "success": [], "n_steps": []}
    for c, m in _ok(results):
        data["eps"].append(c.eps)
        data["m"].append(c.m)
        data["seed"].append(c.seed)
        data["success"].append(m["success"])
        data["n_steps"].append(m["n_steps"])
    M = prediction["m"]
    xs = [
        1 / e
        for e, m, s in zip(data["eps"], data["m"], data["success"], strict=True)
        if m == M and s
    ]
    ys = [
        n
        for n, m, s in zip(data["n_steps"], data["m"], data["success"], strict=True)
        if m == M and s
    ]
    ax1.scatter(xs, ys, s=8, label=f"m = {M}, successful runs")
    if len(set(xs)) >= 2 and len(xs) >= 3:
        fit = linear_fit(np.log(xs).tolist(), np.log(ys).tolist())
        g = np.geomspace(min(xs), max(xs), 20)
        for sl, ls in ((fit.slope, "-"), (fit.ci[0], ":"), (fit.ci[1], ":")):
            ax1.plot(g, np.exp(fit.intercept) * g**sl, "k" + ls, lw=0.8)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("1/ε")
    ax1.set_ylabel("gradient steps to reach ε")
    ax1.set_title("slope with its 95% band")
    legend(ax1, fontsize=6)
    per: dict[float, dict[int, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for e, m, s in zip(data["eps"], data["m"], data["success"], strict=True):
        per[e][m].append(bool(s))
    _rate_plot(ax2, {(e,): v for e, v in per.items()}, lambda g: f"ε={g[0]:g}")
    legend(ax2, fontsize=6)
    return data


register(
    Claim(
        id="beyond.epsilon-dependence",
        source="Wang et al. 2020 (paper 1): m and running time polynomial in 1/ε (docs/math.md §5)",
        statement=(
            "With the regulariser scaled with the accuracy (reg = ε/5), the variant (l = 3, r = 3, "
            "d = 20, m = 12) reaches every ε from 0.2 down to 0.01; the gradient steps needed grow "
            "with an exponent in 1/ε whose 95% interval lies below 1, and the smallest successful m "
            "with an exponent below 5 — upper-bound checks of the paper's polynomial dependence."
        ),
        latex=r"\#\mathrm{steps}(\varepsilon)\propto\varepsilon^{-p},\ p\le1;\qquad m^*(\varepsilon)\propto\varepsilon^{-q},\ q\le5",
        method=(
            "beyond_lazy_descent (reinit 'small', 20 epochs × 300 steps, reg = ε/5, record every "
            "step), targets random_low_rank(3, 20, 3). Steps = first step with error <= ε. Quick: "
            "ε ∈ {0.2, 0.05, 0.01}, m ∈ {3, 12}, 8 seeds (rate >= 0.6); full: ε ∈ {0.2, 0.1, 0.05, "
            "0.02, 0.01}, m ∈ {3, 6, 12}, 30 seeds (>= 0.8). Exponents: least-squares slopes of "
            "log steps (successful m = 12 runs) and log m* (level 0.75) on log(1/ε), with "
            "t-intervals. Control: reg fixed at 1e-2, ε ∈ {0.05, 0.002}: the regulariser's bias "
            "(a fitted weight settles at a_k − λ/2, docs/math.md §6) floors the error above 0.002, "
            "so the rate check must fail."
        ),
        tolerance=(
            "per ε: success rate at m = 12 >= 0.6 (quick) / 0.8 (full) by the exact 95% interval; "
            "upper end of the steps exponent's 95% interval <= 1; of m*'s exponent <= 5"
        ),
        tolerance_source=(
            "derived: near a fitted strict minimum gradient descent converges linearly (Hessian "
            f"eigenvalues ~ l·a_k, docs/math.md §3.3), so steps ~ A + B·log(1/ε), {DERIVATIONS} "
            "§epsilon-dependence; 5 is the paper's m = O(ε^{-5}) (docs/math.md §5, unconfirmed); "
            "rates: the evidence rules"
        ),
        experiment=eps_experiment,
        configs=eps_configs,
        predict=eps_predict,
        judge=eps_judge,
        plot=eps_plot,
        model_choice=MODEL_CHOICE + "; reg scaled with ε",
        controls=eps_controls,
    )
)


# --------------------------------------------------------------------------------------------
# beyond.step-size
# --------------------------------------------------------------------------------------------
STEP_GRID = (0.04, 0.02, 0.01, 0.005, 0.0025)  # steps in units of 1/s
STEP_HORIZON = 3.0  # flow time in units of 1/s
ORDER_TOL_STEP = 0.1  # |measured order - 1|, calibrated (see tolerance_source)


@dataclass(frozen=True)
class StepRun:
    """The variant's fixed-step iteration (``scheme="euler"``: gradient descent) against the flow."""

    order: int
    d: int
    r: int
    m: int
    seed: int
    scheme: str = "euler"  # or "heun" (second order: the control)


def _heun(W0: np.ndarray, target: Any, eta: float, n: int, reg: float) -> np.ndarray:
    """Heun's method (explicit trapezoid, second order) for ``dW/dt = -∇f(W)``."""
    W = np.array(W0, dtype=float, copy=True)
    for _ in range(n):
        g1 = loss_and_grad(W, target, model="homogeneous", reg=reg)[1]
        g2 = loss_and_grad(W - eta * g1, target, model="homogeneous", reg=reg)[1]
        W = W - 0.5 * eta * (g1 + g2)
    return W


def step_experiment(cfg: StepRun) -> dict[str, Any]:
    """Errors ``||W_η(T) - W(T)||/||W(T)||`` over the step grid and the fitted order (slope)."""
    from numerics import sphere_init

    target = random_low_rank(cfg.r, cfg.d, cfg.order, rng=cfg.seed)
    s = target_scale(target)
    W0 = sphere_init(cfg.m, cfg.d, 0.3 * math.sqrt(s), np.random.default_rng([cfg.seed, 2]))
    lam, t_end = 1e-2 * s, STEP_HORIZON / s
    ref = gradient_flow(
        W0, target, (0.0, t_end), model="homogeneous", reg=lam, method="DOP853", rtol=1e-12,
        atol=1e-14,
    )  # fmt: skip
    if not ref.success:
        raise RuntimeError(f"reference flow failed: {ref.message}")
    errs = []
    for st in STEP_GRID:
        eta = st / s
        n = round(t_end / eta)
        if cfg.scheme == "euler":
            W = gradient_descent(W0, target, step=eta, n_steps=n, model="homogeneous", reg=lam).W
        elif cfg.scheme == "heun":
            W = _heun(W0, target, eta, n, lam)
        else:
            raise ValueError(f"scheme must be 'euler' or 'heun', got {cfg.scheme!r}")
        errs.append(float(np.linalg.norm(W - ref.W) / np.linalg.norm(ref.W)))
    fit = linear_fit(np.log(STEP_GRID).tolist(), np.log(errs).tolist())
    return {"steps": list(STEP_GRID), "errors": errs, "order": fit.slope, "order_ci": list(fit.ci)}


def step_configs(profile: str) -> list[StepRun]:
    seeds = range(3) if profile == "quick" else range(10)
    return [StepRun(order=3, d=10, r=3, m=6, seed=s) for s in seeds]


def step_controls(profile: str) -> dict[str, list[StepRun]]:
    seeds = range(3) if profile == "quick" else range(5)
    return {
        "Heun's second-order scheme (order 2, not 1)": [
            StepRun(order=3, d=10, r=3, m=6, seed=s, scheme="heun") for s in seeds
        ]
    }


def step_predict(profile: str) -> dict[str, Any]:
    return {"order": 1.0, "tol": ORDER_TOL_STEP, "max_error_at_smallest_step": 1e-2}


def step_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = (
        f"global error ∝ η^{prediction['order']:g} (measured order within ± {prediction['tol']}), "
        f"error at the smallest step <= {prediction['max_error_at_smallest_step']:g}"
    )
    ok = _ok(results)
    if not ok:
        return _no_runs(predicted)
    orders = np.array([m["order"] for _, m in ok])
    ev = Evidence()
    n = orders.size
    mean = float(orders.mean())
    if n >= 2:
        half = float(stats.t.ppf(0.975, n - 1) * orders.std(ddof=1) / math.sqrt(n))
        ci = (mean - half, mean + half)
    else:
        ci = tuple(ok[0][1]["order_ci"])
    ev.interval_within(
        "order of convergence to the flow", ci, prediction["order"], prediction["tol"]
    )
    worst = max(m["errors"][-1] for _, m in ok)
    ev.at_most(
        "largest error at the smallest step", worst, prediction["max_error_at_smallest_step"]
    )
    numbers = {
        "orders": orders.tolist(),
        "mean_order": mean,
        "ci95": list(ci),
        "worst_error": worst,
    }
    measured = f"order {mean:.3f} (95% CI {ci[0]:.3f}–{ci[1]:.3f}, {n} targets)"
    return ev.verdict(predicted, measured, numbers)


def step_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {"seed": [], "scheme": [], "step": [], "error": []}
    for c, m in _ok(results):
        for st, e in zip(m["steps"], m["errors"], strict=True):
            data["seed"].append(c.seed)
            data["scheme"].append(c.scheme)
            data["step"].append(st)
            data["error"].append(e)
        ax.plot(
            m["steps"],
            m["errors"],
            marker="o",
            ms=3,
            label=f"seed {c.seed}: order {m['order']:.2f}",
        )
    g = np.array(STEP_GRID)
    if data["error"]:
        e0 = max(data["error"])
        for p, ls in ((1 - ORDER_TOL_STEP, ":"), (1 + ORDER_TOL_STEP, ":")):
            ax.plot(g, e0 * (g / g.max()) ** p, "k" + ls, lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step η (units of 1/s)")
    ax.set_ylabel("||W_η(T) - W(T)|| / ||W(T)||")
    ax.set_title(f"Fixed step vs flow at T = {STEP_HORIZON}/s (dotted: order 1 ± {ORDER_TOL_STEP})")
    legend(ax, fontsize=6)
    return data


register(
    Claim(
        id="beyond.step-size",
        source="classical (Euler's method) applied to the variant's fixed-step iteration (docs/math.md §5)",
        statement=(
            "The variant's fixed-step gradient descent (homogeneous model, ℓ2 regulariser) "
            "converges to its gradient flow as the step shrinks, at first order: the global error "
            "at a fixed flow time is proportional to the step."
        ),
        latex=r"\|W_\eta(T)-W(T)\|=C\,\eta+O(\eta^2)",
        method=(
            "Random rank-3 target, l = 3, d = 10, m = 6, W0 = sphere_init(norm 0.3·√s), "
            "reg = 1e-2·s, horizon T = 3/s; gradient descent with η ∈ {0.04, …, 0.0025}/s "
            "(numerics.flow.gradient_descent) against gradient_flow (DOP853, rtol 1e-12); "
            "order = slope of log error on log η per target; the mean over targets with its "
            "t-interval. Quick: 3 targets; full: 10. Control: Heun's method (second order) on "
            "the same problem, whose order is 2, so the order check must fail."
        ),
        tolerance=(
            f"95% interval of the mean order within 1 ± {ORDER_TOL_STEP}; error at the smallest "
            "step <= 1e-2"
        ),
        tolerance_source=(
            "calibrated: seeds 1000–1004 (not judged), per-target slope intervals within "
            "[0.963, 1.024]: worst edge 0.037 from 1; tolerance 0.1 fixed from that"
        ),
        experiment=step_experiment,
        configs=step_configs,
        predict=step_predict,
        judge=step_judge,
        plot=step_plot,
        model_choice=MODEL_CHOICE + "; one epoch, no re-initialisation",
        controls=step_controls,
    )
)
