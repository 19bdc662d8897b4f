"""beyond.epsilon-dependence — with the regulariser scaled with the accuracy, paper 1's variant reaches
every ε from 0.2 to 0.01; the gradient steps it needs and the smallest m at which it reaches a fixed
success rate grow polynomially in 1/ε, with exponents (reported with their intervals) below bounds the
design can test: upper-bound checks of the paper's polynomial dependence; docs/math.md §5, §10.4, §10.7."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.algorithms import beyond_lazy_descent
from numerics.tensors import random_low_rank

from ...registered import registration
from ...registry import RunResult, Verdict, declare
from ...statistics import Check, Evidence, linear_fit
from .._shared import (
    BAR_COLOR,
    JudgedInterval,
    JudgedRate,
    columns,
    intervals_against_bars,
    legend,
    no_runs,
    ok_runs,
    rates_against_bars,
)
from ._mstar import (
    N_SEEDS,
    MStarPoint,
    exponent_fit,
    largest_exponent,
    passes_needed,
    search_m_star,
)
from ._variant import MODEL_CHOICE

REG = registration("beyond.epsilon-dependence")
STEPS_BOUND = REG.tolerance("steps_exponent_bound")
M_BOUND = REG.tolerance("m_exponent_bound")
EPS_REG_RATIO = REG.tolerance("reg_per_eps")  # reg = ε/5: the regulariser's bias stays <= ε/10
EPOCHS, EPOCH_STEPS = 20, 300
CAP = EPOCHS * EPOCH_STEPS  # steps of a run that does not reach ε: censored there

claim = declare(
    "beyond.epsilon-dependence",
    source="Wang et al. 2020 (paper 1): m and running time polynomial in 1/ε (docs/math.md §5)",
    statement=(
        "With the regulariser scaled with the accuracy (reg = ε/5), the variant (l = 3, r = 3, "
        "d = 20) reaches every ε from 0.2 down to 0.01 at m = 12 in a registered fraction of seeds; "
        "the gradient steps to reach ε grow with an exponent in 1/ε whose 95% interval lies below "
        f"{STEPS_BOUND:g}, and the smallest m reaching the success level with an exponent below "
        f"{M_BOUND:g} (the paper's m = O(ε^{{-5}}) a fortiori) — upper-bound checks of the paper's "
        "polynomial dependence, no cell censored."
    ),
    latex=(
        r"\#\mathrm{steps}(\varepsilon)\propto\varepsilon^{-p},\ p\le1;"
        r"\qquad m^*(\varepsilon)\propto\varepsilon^{-q},\ q\le1\le5"
    ),
    method=(
        "beyond_lazy_descent (re-initialisation 'small', 20 epochs × 300 steps, reg = ε/5, error "
        "checked every step), targets random_low_rank(3, 20, 3). Steps = first step with error "
        f"<= ε; a run that never reaches ε enters the steps fit at the cap {CAP} (censored, "
        "counted against). m*(ε): smallest m whose success rate over a seed block reaches the "
        "registered level, by doubling from m = 3 and bisection up to the ceiling "
        f"{int(REG.tolerance('ceiling', 'quick'))} (quick) / {int(REG.tolerance('ceiling', 'full'))} "
        "(full; a censored block fails the claim). Quick: ε ∈ {{0.2, 0.05, 0.01}}, 20 seeds at "
        "m = 12, 1 block of 5 seeds for m*; full: ε ∈ {0.2, 0.1, 0.05, 0.02, 0.01}, 55 seeds, 2 "
        "blocks of 10. Exponents: least-squares slopes of log steps (every m = 12 run) and log m* "
        "(every block) on log(1/ε), with t-intervals. Control: reg fixed at 1e-2, ε ∈ {0.05, "
        "0.002}: the regulariser's bias (a fitted weight settles at a_k − λ/2, docs/math.md §6) "
        "floors the error above 0.002, so the rate check must fail."
    ),
    tolerance=(
        "per ε: success rate at m = 12 >= the registered bar by the exact 95% interval; upper "
        f"end of the steps exponent's 95% interval <= {STEPS_BOUND:g}; of m*'s exponent <= "
        f"{M_BOUND:g}; no censored m* block"
    ),
    tolerance_source=(
        "derived: near a fitted strict minimum gradient descent converges linearly (Hessian "
        "eigenvalues ~ l·a_k, docs/math.md §3.3), so steps ~ A + B·log(1/ε), docs/math.md §10.4; "
        f"m* does not depend on ε once reg ∝ ε; {M_BOUND:g} is the largest m*-exponent bound this "
        "grid and ceiling can falsify (docs/math.md §10.7), the paper's 5 (docs/math.md §5, "
        "unconfirmed) holds a fortiori; rates: the evidence rules; registered in "
        "reports/registered.toml"
    ),
    model_choice=MODEL_CHOICE + "; reg scaled with ε",
    reference=(
        "paper 1: m and the running time polynomial in 1/ε; secondary descriptions give m = "
        "O(r^{2.5l} ε^{-5} log(d/ε)) (docs/math.md §5: [paper]/secondary, constants unconfirmed); "
        "abstract: m = O*(r^{2.5l} log d)"
    ),
    caption=(
        "Judged: each ε's success rate must clear its red dashed bar (left); the exponents of the "
        "steps (middle, against the red dashed bar's slope) and of m* in 1/ε must lie below their "
        "bars (right), no m* block censored."
    ),
)

M_RATE = 12  # m of the rate and steps runs (4r)
GRID: dict[str, dict[str, Any]] = {
    "quick": {"eps": [0.2, 0.05, 0.01], "seeds": 20, "blocks": 1, "control": (16, 8)},
    "full": {"eps": [0.2, 0.1, 0.05, 0.02, 0.01], "seeds": 55, "blocks": 2, "control": (34, 12)},
}
BLOCK0 = 60_000  # m* block b starts at BLOCK0 + 100·b


def _ceiling(profile: str) -> int:
    """The registered ceiling of the m* search (large enough for exponents above bound + 1)."""
    return int(REG.tolerance("ceiling", profile))


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


@dataclass(frozen=True)
class EpsMStar:
    """m* at accuracy ``eps`` of the seed block ``seed, …, seed + block_size − 1`` (runs as
    :class:`EpsRun`), by :func:`~reports.claims.paper1._mstar.search_m_star` from ``r`` to ``ceiling``."""

    order: int
    d: int
    r: int
    seed: int
    eps: float
    block_size: int
    level: float
    ceiling: int


@claim.configs
def configs(profile: str) -> list[EpsRun | EpsMStar]:
    g = GRID[profile]
    level = REG.bar(profile, "m_star_level")
    runs: list[EpsRun | EpsMStar] = [
        EpsRun(order=3, d=20, r=3, m=M_RATE, seed=s, eps=e)
        for e in g["eps"]
        for s in range(g["seeds"])
    ]
    runs += [
        EpsMStar(3, 20, 3, BLOCK0 + 100 * b, e, N_SEEDS[profile], level, _ceiling(profile))
        for e in g["eps"]
        for b in range(g["blocks"])
    ]
    return runs


@claim.controls
def controls(profile: str) -> dict[str, list[EpsRun]]:
    n_reached, n_floor = GRID[profile]["control"]
    return {
        "regulariser fixed at 1e-2: its bias floors the error above ε = 0.002": [
            EpsRun(order=3, d=20, r=3, m=M_RATE, seed=1000 + s, eps=e, reg_mode="fixed")
            for e, n in ((0.05, n_reached), (0.002, n_floor))
            for s in range(n)
        ]
    }


def _run(cfg: EpsRun) -> dict[str, Any]:
    target = random_low_rank(cfg.r, cfg.d, cfg.order, rng=cfg.seed)
    if cfg.reg_mode not in ("scaled", "fixed"):
        raise ValueError(f"reg_mode must be 'scaled' or 'fixed', got {cfg.reg_mode!r}")
    reg = EPS_REG_RATIO * cfg.eps if cfg.reg_mode == "scaled" else 1e-2
    res = beyond_lazy_descent(
        target, cfg.m, eps=cfg.eps, reg=reg, epochs=EPOCHS, epoch_steps=EPOCH_STEPS,
        record_every=1, rng=np.random.default_rng([cfg.seed, cfg.m, 3]), model="homogeneous",
    )  # fmt: skip
    if res.status in ("nan", "diverged"):
        raise RuntimeError(f"numerical failure: {res.message}")
    return {"success": res.success, "n_steps": res.n_steps, "relative_error": res.relative_error}


@claim.experiment
def experiment(cfg: EpsRun | EpsMStar) -> dict[str, Any]:
    """An :class:`EpsRun`: success and the gradient steps until the error first fell to ``eps``. An
    :class:`EpsMStar`: m* of the block (None when censored) and its probes."""
    if isinstance(cfg, EpsRun):
        return _run(cfg)
    need = passes_needed(cfg.level, cfg.block_size)
    counts: dict[int, int] = {}

    def passes(m: int) -> bool:
        k = 0
        for i in range(cfg.block_size):
            k += bool(_run(EpsRun(cfg.order, cfg.d, cfg.r, m, cfg.seed + i, cfg.eps))["success"])
            if k >= need or k + (cfg.block_size - 1 - i) < need:
                break
        counts[m] = k
        return k >= need

    res = search_m_star(passes, cfg.r, cfg.ceiling)
    return {
        "m_star": res.m_star,
        "censored": res.censored,
        "value": res.value,
        "probes": [[m, ok, counts[m]] for m, ok in res.probes],
    }


def design_largest_exponents(profile: str) -> dict[str, float]:
    """The largest exponents this profile's grid can produce (docs/math.md §10.7): steps between 1
    and the cap, m* between r = 3 and the ceiling."""
    inv = [1 / e for e in GRID[profile]["eps"]]
    n = len(inv)
    return {
        "steps": largest_exponent(inv, [1] * n, [CAP] * n),
        "m_star": largest_exponent(inv, [3] * n, [_ceiling(profile)] * n),
    }


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    return {
        "steps_exponent_bound": STEPS_BOUND,
        "m_exponent_bound": M_BOUND,
        "paper_m_exponent": 5.0,
        "min_rate": REG.bar(profile, "success_rate"),
        "level": REG.bar(profile, "m_star_level"),
        "ceiling": _ceiling(profile),
        "cap": CAP,
        "m": M_RATE,
        "largest_exponents": design_largest_exponents(profile),
    }


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    M = prediction["m"]
    predicted = (
        f"at m = {M} every ε is reached (rate >= {prediction['min_rate']:g}); steps grow with "
        f"exponent <= {prediction['steps_exponent_bound']:g} in 1/ε, m* with exponent <= "
        f"{prediction['m_exponent_bound']:g} (upper bounds, 95% intervals; the paper's "
        f"{prediction['paper_m_exponent']:g} a fortiori); no censored m* block"
    )
    ok = ok_runs(results)
    if not ok:
        return no_runs(predicted)
    ev = Evidence()
    by: dict[float, list[bool]] = defaultdict(list)
    steps: dict[float, list[int]] = defaultdict(list)
    stars: list[MStarPoint] = []
    for c, m in ok:
        if isinstance(c, EpsMStar):
            stars.append(MStarPoint("m*", 1 / c.eps, int(m["value"]), bool(m["censored"])))
        elif c.m == M:
            by[c.eps].append(bool(m["success"]))
            steps[c.eps].append(int(m["n_steps"]) if m["success"] else prediction["cap"])
    numbers: dict[str, Any] = {"median_steps": {}, "m_star": {}, "censored_runs": {}}
    for e in sorted(by, reverse=True):
        v = by[e]
        ev.rate_at_least(f"ε={e:g}: success at m={M}", sum(v), len(v), prediction["min_rate"])
        numbers["median_steps"][f"{e:g}"] = float(np.median(steps[e]))
        numbers["censored_runs"][f"{e:g}"] = len(v) - sum(v)
    measured = ""
    x = [math.log(1 / e) for e in steps for _ in steps[e]]
    y = [math.log(max(n, 1)) for e in steps for n in steps[e]]
    if len(set(x)) >= 2 and len(x) >= 3:
        fit = linear_fit(x, y)
        numbers["steps_exponent"] = fit.as_dict()
        ev.interval_beyond(
            "steps exponent in 1/ε", fit.ci, prediction["steps_exponent_bound"], "below"
        )
        measured += f"steps ∝ (1/ε)^{fit.slope:.2f} [{fit.ci[0]:.2f}, {fit.ci[1]:.2f}]; "
    if stars:
        fit_m = exponent_fit(stars)
        numbers["m_exponent"] = fit_m
        numbers["m_star"] = {f"{1 / p.x:g}": p.value for p in stars}
        ev.exact("m* blocks censored at the ceiling", sum(p.censored for p in stars), len(stars))
        if fit_m["estimable"]:
            e_ = fit_m["exponent"]
            ev.interval_beyond(
                "m* exponent in 1/ε", tuple(e_["ci95"]), prediction["m_exponent_bound"], "below"
            )
            measured += f"m* ∝ (1/ε)^{e_['slope']:.2f} [{e_['ci95'][0]:.2f}, {e_['ci95'][1]:.2f}]; "
        else:
            ev.add(Check("m* exponent in 1/ε", "inconclusive", float("nan"), "too few blocks"))
    measured += "median steps by ε: " + ", ".join(
        f"{e}: {v:g}" for e, v in numbers["median_steps"].items()
    )
    largest = prediction.get("largest_exponents", {})
    ev.note(
        "Upper-bound checks (the paper's bound is polynomial in 1/ε); this design can produce "
        f"exponents up to {largest.get('steps', float('nan')):.2f} (steps) and "
        f"{largest.get('m_star', float('nan')):.2f} (m*)."
    )
    return ev.verdict(predicted, measured, numbers)


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], figure: Any) -> dict:
    ax1, ax2, ax3 = figure.subplots(1, 3, gridspec_kw={"width_ratios": [2, 3, 2]})
    data = columns("kind", "eps", "seed", "success", "value")
    M = prediction.get("m", M_RATE)
    cap = prediction.get("cap", CAP)
    by: dict[float, list[bool]] = defaultdict(list)
    xs, ys, stars = [], [], []
    for c, m in ok_runs(results):
        if isinstance(c, EpsMStar):
            stars.append(MStarPoint("m*", 1 / c.eps, int(m["value"]), bool(m["censored"])))
            row = ("m_star", c.eps, c.seed, not m["censored"], m["value"])
        else:
            n = m["n_steps"] if m["success"] else cap
            if c.m == M and c.reg_mode == "scaled":
                by[c.eps].append(bool(m["success"]))
                xs.append(1 / c.eps)
                ys.append(max(n, 1))
            row = ("steps", c.eps, c.seed, m["success"], n)
        for k, v in zip(data, row, strict=True):
            data[k].append(v)
    rates_against_bars(
        ax1,
        [
            JudgedRate(f"{e:g}", sum(v), len(v), prediction.get("min_rate"))
            for e, v in sorted(by.items(), reverse=True)
        ],
        ylabel=f"success rate at $m = {M}$ (exact 95% CI)",
        title="Judged: every $\\varepsilon$ reached",
    )
    ax1.set_xlabel(r"accuracy $\varepsilon$")
    rows = []
    reached = [(x, y) for x, y in zip(xs, ys, strict=True) if y < cap]
    missed = [(x, y) for x, y in zip(xs, ys, strict=True) if y >= cap]
    for pts, marker, label in (
        (reached, "o", "run: first step with error $\\leq \\varepsilon$"),
        (missed, "^", f"run censored at the cap {cap}"),
    ):
        if pts:
            ax2.scatter(
                *zip(*pts, strict=True), s=14, marker=marker, color="C0", alpha=0.7, label=label
            )
    if len(set(xs)) >= 2 and len(xs) >= 3:
        fit = linear_fit(np.log(xs).tolist(), np.log(ys).tolist())
        g = np.geomspace(min(xs), max(xs), 20)
        ax2.plot(
            g, np.exp(fit.intercept) * g**fit.slope, "k-", lw=1, label="least-squares power law"
        )
        bound = prediction.get("steps_exponent_bound", STEPS_BOUND)
        y0 = np.exp(fit.intercept) * g[0] ** fit.slope
        ax2.plot(
            g,
            y0 * (g / g[0]) ** bound,
            color=BAR_COLOR,
            ls="--",
            lw=1,
            label=rf"$\propto (1/\varepsilon)^{{{bound:g}}}$: the bar",
        )
        rows.append(JudgedInterval("steps", fit.slope, fit.ci, bound, "below"))
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel(r"$1/\varepsilon$")
    ax2.set_ylabel(r"gradient steps to reach $\varepsilon$")
    ax2.set_title(f"Steps at $m = {M}$")
    legend(ax2, fontsize=9, loc="upper left")
    fit_m: dict[str, Any] = exponent_fit(stars) if stars else {"estimable": False}
    if fit_m["estimable"]:
        e_ = fit_m["exponent"]
        n_cens = sum(p.censored for p in stars)
        label = f"$m^*$ ({n_cens}/{len(stars)} censored)"
        rows.append(
            JudgedInterval(
                label,
                e_["slope"],
                tuple(e_["ci95"]),
                prediction.get("m_exponent_bound", M_BOUND),
                "below",
            )
        )
    intervals_against_bars(
        ax3, rows, xlabel=r"exponent in $1/\varepsilon$ (95% CI)",
        references=[(prediction.get("paper_m_exponent", 5.0), "paper: $m = O(\\varepsilon^{-5})$")],
        title="Judged: exponents below their bars",
    )  # fmt: skip
    return data
