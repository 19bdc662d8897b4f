"""Foundation claims: the facts every other claim's numbers rest on (docs/math.md §2–3).

* ``foundation.gram-identity`` — the Gram-form loss (docs/math.md §2) equals the loss computed from the
  dense ``d^l`` arrays, and ``T*(x^{⊗(l-1)}, ·)`` equals the dense contraction.
* ``foundation.gradient-check`` — the analytic gradients of docs/math.md §3 (all three models) match
  fourth-order central finite differences of the loss.
* ``foundation.loss-monotone`` — along :func:`numerics.flow.gradient_flow` the loss never increases,
  and ``f(0) - f(T) = ∫_0^T ||∇f||² dt`` (energy dissipation of a gradient flow).

The dense reference values are built here from first principles (outer products), not with
:meth:`numerics.tensors.LowRankTensor.dense`, so the two routes are independent.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import simpson

from numerics.flow import gradient_flow
from numerics.models import loss, loss_and_grad, param_shape
from numerics.tensors import (
    DenseTensor,
    LowRankTensor,
    orthogonal_tensor,
    random_dense_symmetric,
    random_low_rank,
)

from ..registry import Claim, RunResult, Verdict, register
from ..statistics import Evidence
from ._shared import legend

MODELS = ("plain", "coefficient", "homogeneous")


def _ok_metrics(results: Sequence[RunResult]) -> list[tuple[Any, Mapping[str, Any]]]:
    return [(r.config, r.metrics) for r in results if r.ok and r.metrics is not None]


def _fmt(x: float) -> str:
    return f"{x:.2e}"


def _worst_error_verdict(
    ev: Evidence,
    bad: Sequence[Any],
    worst: float,
    cases: int,
    predicted: str,
    numbers: Mapping[str, Any],
) -> Verdict:
    """The verdict of ``ev``, naming the first case over the tolerance (``bad``), if any."""
    if bad:
        ev.note(f"{len(bad)} case(s) exceed the tolerance, e.g. {bad[0]}.")
    return ev.verdict(
        predicted=predicted,
        measured=f"max rel. error {_fmt(worst)} over {cases} cases",
        numbers=numbers,
    )


def _random_params(model: str, m: int, d: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(param_shape(model, m, d)) / np.sqrt(d)


def _scaled_components(W: np.ndarray, model: str) -> tuple[np.ndarray, np.ndarray]:
    """``(s, X)`` with ``T(W) = Σ_i s_i x_i^{⊗l}`` (docs/math.md §3), computed here independently."""
    if model == "plain":
        return np.ones(W.shape[0]), W
    if model == "coefficient":
        return W[:, 0], W[:, 1:]
    norms = np.linalg.norm(W, axis=1)
    return norms**2, W / norms[:, None]


def _dense(coeffs: np.ndarray, X: np.ndarray, order: int) -> np.ndarray:
    """``Σ_i c_i x_i^{⊗l}`` as a dense array, by explicit outer products (small ``d`` only)."""
    out = np.zeros((X.shape[1],) * order)
    for c, x in zip(coeffs, X, strict=True):
        out += c * functools.reduce(np.multiply.outer, [x] * order)
    return out


def _dense_target(target: LowRankTensor | DenseTensor) -> np.ndarray:
    if isinstance(target, DenseTensor):
        return np.asarray(target.array)
    return _dense(np.asarray(target.coeffs), np.asarray(target.components), target.order)


# --------------------------------------------------------------------------------------------
# foundation.gram-identity
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GramCase:
    """One random problem: order ``l``, dimension ``d``, ``m`` components, target rank ``r``."""

    order: int
    d: int
    m: int
    r: int
    model: str
    target: str  # "lowrank" (random coefficients and directions) or "dense" (symmetrised Gaussian)
    reg: float
    seed: int


def gram_experiment(cfg: GramCase) -> dict[str, Any]:
    """Gram-form loss vs dense loss, and Gram-form contraction vs dense contraction."""
    rng = np.random.default_rng(cfg.seed)
    W = _random_params(cfg.model, cfg.m, cfg.d, rng)
    target: LowRankTensor | DenseTensor
    if cfg.target == "dense":
        target = random_dense_symmetric(cfg.d, cfg.order, rng=rng)
    else:
        target = random_low_rank(
            cfg.r, cfg.d, cfg.order, coeffs=rng.standard_normal(cfg.r), rng=rng
        )
    gram = loss(W, target, model=cfg.model, reg=cfg.reg)
    s, X = _scaled_components(W, cfg.model)
    T_star = _dense_target(target)
    E = _dense(s, X, cfg.order) - T_star
    dense = 0.5 * float(np.sum(E * E)) + 0.5 * cfg.reg * float(np.sum(W * W))
    x = rng.standard_normal(cfg.d)
    x /= np.linalg.norm(x)
    contracted = T_star
    for _ in range(cfg.order - 1):
        contracted = contracted @ x  # contract the last axis each time
    gram_contract = np.asarray(target.contract(x)).reshape(-1)
    return {
        "loss_gram": gram,
        "loss_dense": dense,
        "rel_err_loss": abs(gram - dense) / abs(dense),
        "rel_err_contract": float(
            np.linalg.norm(gram_contract - contracted) / np.linalg.norm(contracted)
        ),
        "dense_elements": cfg.d**cfg.order,
    }


def gram_configs(profile: str) -> list[GramCase]:
    if profile == "quick":
        shapes = [(2, 4), (3, 4), (4, 3)]
        seeds = [0]
    else:
        shapes = [(2, 8), (3, 4), (3, 10), (4, 3), (4, 7), (5, 5)]
        seeds = [0, 1, 2]
    return [
        GramCase(order, d, m=5, r=3, model=model, target=kind, reg=0.1, seed=seed)
        for order, d in shapes
        for model in MODELS
        for kind in ("lowrank", "dense")
        for seed in seeds
    ]


GRAM_RTOL = 1e-10


def gram_predict(profile: str) -> dict[str, Any]:
    return {"relative_error": 0.0, "rtol": GRAM_RTOL}


def gram_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = _ok_metrics(results)
    predicted = f"identical up to rounding (rtol {prediction['rtol']:g})"
    if not ok:
        return Verdict("inconclusive", "no run produced metrics", predicted, "n/a")
    worst_loss = max(m["rel_err_loss"] for _, m in ok)
    worst_contract = max(m["rel_err_contract"] for _, m in ok)
    worst = max(worst_loss, worst_contract)
    numbers = {
        "max_rel_err_loss": worst_loss,
        "max_rel_err_contract": worst_contract,
        "cases": len(ok),
    }
    ev = Evidence()
    ev.at_most(
        f"largest relative error over {len(ok)} cases (loss)", worst_loss, prediction["rtol"]
    )
    ev.at_most(
        f"largest relative error over {len(ok)} cases (contraction)",
        worst_contract,
        prediction["rtol"],
    )
    bad = [c for c, m in ok if max(m["rel_err_loss"], m["rel_err_contract"]) > prediction["rtol"]]
    return _worst_error_verdict(ev, bad, worst, len(ok), predicted, numbers)


def _model_markers() -> dict[str, str]:
    return {"plain": "o", "coefficient": "s", "homogeneous": "^"}


def gram_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {
        "order": [],
        "d": [],
        "model": [],
        "target": [],
        "seed": [],
        "dense_elements": [],
        "rel_err_loss": [],
        "rel_err_contract": [],
    }
    for cfg, m in _ok_metrics(results):
        for key in ("order", "d", "model", "target", "seed"):
            data[key].append(getattr(cfg, key))
        for key in ("dense_elements", "rel_err_loss", "rel_err_contract"):
            data[key].append(m[key])
    floor = 1e-18  # exact zeros drawn at the floor of the log axis
    for model, marker in _model_markers().items():
        idx = [i for i, mm in enumerate(data["model"]) if mm == model]
        ax.scatter(
            [data["dense_elements"][i] for i in idx],
            [max(data["rel_err_loss"][i], floor) for i in idx],
            marker=marker,
            label=f"loss, {model}",
        )
    ax.scatter(
        data["dense_elements"],
        [max(v, floor) for v in data["rel_err_contract"]],
        marker="x",
        color="k",
        label="contraction",
    )
    ax.axhline(prediction["rtol"], color="r", ls="--", label=f"rtol {prediction['rtol']:g}")
    if not data["model"]:  # no successful run: give the empty log axes a range
        ax.set_xlim(1, 1e4)
        ax.set_ylim(floor, 1.0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("dense array size d^l")
    ax.set_ylabel("relative error, Gram form vs dense\n(exact zeros drawn at 1e-18)")
    ax.set_title("Gram identities (docs/math.md §2)")
    legend(ax, fontsize=7)
    return data


register(
    Claim(
        id="foundation.gram-identity",
        source="classical (docs/math.md §2)",
        statement=(
            "The loss computed in Gram form (no d^l array) equals the loss computed from dense "
            "arrays, for the plain, coefficient and two-homogeneous models, low-rank and dense "
            "targets; the Gram-form contraction T*(x^{⊗(l-1)}, ·) equals the dense contraction."
        ),
        latex=(
            r"\Big\|\sum_i w_i^{\otimes l}-T^*\Big\|_F^2=\sum_{ij}G_{ij}^l-2\sum_{ik}c_kC_{ik}^l"
            r"+\sum_{kk'}c_kc_{k'}H_{kk'}^l,\quad G=WW^\top,\ C=WU^\top,\ H=UU^\top"
        ),
        method=(
            "Random W (entries N(0, 1/d)) and a random target (rank-3 with N(0,1) coefficients, "
            "or a symmetrised Gaussian dense tensor), λ = 0.1; numerics.models.loss against "
            "½||Σ s_i x_i^{⊗l} - T*||² + (λ/2)||W||² built here by explicit outer products; "
            "contraction against repeated dense matrix-vector products with a random unit x."
        ),
        tolerance=f"relative error <= {GRAM_RTOL:g} in every case (loss and contraction)",
        tolerance_source=(
            "derived: floating-point rounding. Both routes sum at most m² + 2mr + r² = 64 Gram terms "
            "(each with relative error <= (l + 2)ε) or d^l <= 3125 dense terms, ε = 2.2e-16; on these "
            "configurations (||T(W)||² + ||T*||²)/||T(W) - T*||² <= 1.42 (no cancellation), so the "
            "relative error is below (64·7 + 3125)·ε·1.42 ≈ 1.1e-12; the tolerance 1e-10 is ~100x "
            "that bound"
        ),
        no_control=(
            "an algebraic identity (docs/math.md §2): no configuration makes it false; that the judge "
            "fails on a wrong value is tested on constructed results (tests/reports/test_claims_foundation.py)"
        ),
        experiment=gram_experiment,
        configs=gram_configs,
        predict=gram_predict,
        judge=gram_judge,
        plot=gram_plot,
    )
)


# --------------------------------------------------------------------------------------------
# foundation.gradient-check
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GradCase:
    """Random point ``W`` and target; ``directions`` random unit directions ``V``; step ``h``."""

    order: int
    d: int
    m: int
    r: int
    model: str
    reg: float
    h: float
    directions: int
    seed: int


def gradient_experiment(cfg: GradCase) -> dict[str, Any]:
    """``<∇f(W), V>`` vs the 4th-order central difference ``(f(-2h) - 8f(-h) + 8f(h) - f(2h))/12h``."""
    rng = np.random.default_rng(cfg.seed)
    W = _random_params(cfg.model, cfg.m, cfg.d, rng)
    target = random_low_rank(cfg.r, cfg.d, cfg.order, coeffs=1.0 + rng.random(cfg.r), rng=rng)
    _, grad = loss_and_grad(W, target, model=cfg.model, reg=cfg.reg)
    gnorm = float(np.linalg.norm(grad))
    errors = []
    for _ in range(cfg.directions):
        V = rng.standard_normal(W.shape)
        V /= np.linalg.norm(V)

        def f(t: float, V: np.ndarray = V) -> float:
            return loss(W + t * V, target, model=cfg.model, reg=cfg.reg)

        h = cfg.h
        fd = (f(-2 * h) - 8 * f(-h) + 8 * f(h) - f(2 * h)) / (12 * h)
        errors.append(abs(fd - float(np.sum(grad * V))) / gnorm)
    return {"grad_norm": gnorm, "max_rel_err": max(errors), "rel_errs": errors}


def gradient_configs(profile: str) -> list[GradCase]:
    shapes = [(2, 5), (3, 5), (4, 4)] if profile == "quick" else [(2, 20), (3, 15), (4, 10), (5, 8)]
    seeds = [0] if profile == "quick" else [0, 1, 2, 3]
    m = 4 if profile == "quick" else 12
    return [
        GradCase(order, d, m=m, r=3, model=model, reg=reg, h=1e-3, directions=3, seed=seed)
        for order, d in shapes
        for model in MODELS
        for reg in (0.0, 0.1)
        for seed in seeds
    ]


GRAD_RTOL = 1e-9
GRAD_CALIBRATION_SEEDS = tuple(range(1000, 1004)) + tuple(range(1010, 1014))
"""Held-out seeds (the judged ones are 0-3): the full grid at these seeds, 192 cases, gave a worst
relative error of 5.4e-13 (2026-12-02); ``tests/reports/test_claims_foundation.py`` re-runs it (slow)."""


def gradient_predict(profile: str) -> dict[str, Any]:
    return {"rtol": GRAD_RTOL}


def gradient_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = _ok_metrics(results)
    predicted = f"directional derivatives agree (rel. to ||∇f||, rtol {prediction['rtol']:g})"
    if not ok:
        return Verdict("inconclusive", "no run produced metrics", predicted, "n/a")
    worst = max(m["max_rel_err"] for _, m in ok)
    numbers = {"max_rel_err": worst, "cases": len(ok)}
    ev = Evidence()
    ev.at_most(f"largest |FD - <∇f,V>|/||∇f|| over {len(ok)} cases", worst, prediction["rtol"])
    bad = [c for c, m in ok if m["max_rel_err"] > prediction["rtol"]]
    return _worst_error_verdict(ev, bad, worst, len(ok), predicted, numbers)


def gradient_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {
        "case": [],
        "order": [],
        "model": [],
        "reg": [],
        "max_rel_err": [],
    }
    for i, (cfg, m) in enumerate(_ok_metrics(results)):
        data["case"].append(i)
        data["order"].append(cfg.order)
        data["model"].append(cfg.model)
        data["reg"].append(cfg.reg)
        data["max_rel_err"].append(m["max_rel_err"])
    for model, marker in _model_markers().items():
        idx = [i for i, mm in enumerate(data["model"]) if mm == model]
        ax.scatter(
            [data["case"][i] for i in idx],
            [max(data["max_rel_err"][i], 1e-18) for i in idx],
            marker=marker,
            label=model,
        )
    ax.axhline(prediction["rtol"], color="r", ls="--", label=f"rtol {prediction['rtol']:g}")
    ax.set_yscale("log")
    ax.set_xlabel("case (order, model, λ, seed)")
    ax.set_ylabel("|FD - <∇f, V>| / ||∇f||")
    ax.set_title("Analytic gradient vs 4th-order central differences")
    legend(ax, fontsize=7)
    return data


register(
    Claim(
        id="foundation.gradient-check",
        source="docs/math.md §3 (gradients of the three models)",
        statement=(
            "The Gram-form gradients of the plain, coefficient and two-homogeneous losses "
            "(with and without the ℓ2 regulariser) are the derivatives of the loss."
        ),
        latex=(
            r"\nabla f=l\big[G^{\circ(l-1)}W-(C^{\circ(l-1)}\mathrm{diag}(c))U\big]+\lambda W,"
            r"\quad \langle\nabla f,V\rangle=\tfrac{d}{dt}f(W+tV)\big|_{t=0}"
        ),
        method=(
            "Random W (N(0, 1/d) entries), rank-3 target with coefficients in [1, 2); for 3 random "
            "unit directions V, the 4th-order central difference with h = 1e-3 of t ↦ f(W + tV) "
            "(numerics.models.loss) against <∇f, V> (numerics.models.loss_and_grad)."
        ),
        tolerance=(
            f"|FD - <∇f,V>| / ||∇f||_F <= {GRAD_RTOL:g} in every case (truncation O(h⁴) plus "
            "rounding O(ε f / h))"
        ),
        tolerance_source=(
            "calibrated: the full grid at held-out seeds 1000-1003 and 1010-1013 (192 cases, judged "
            "seeds 0-3) gave a worst error of 5.4e-13; the tolerance 1e-9 is > 1000x that (rounding "
            "alone is ~ε f/h ≈ 2e-13·f)"
        ),
        no_control=(
            "a calculus identity (the derivative of the loss): no configuration makes it false; that "
            "the judge fails on a wrong gradient is tested on constructed results "
            "(tests/reports/test_claims_foundation.py)"
        ),
        experiment=gradient_experiment,
        configs=gradient_configs,
        predict=gradient_predict,
        judge=gradient_judge,
        plot=gradient_plot,
        model_choice="the two-homogeneous parametrisation T(W) = Σ ||w_i||² w̄_i^{⊗l} (docs/math.md §3.3)",
    )
)


# --------------------------------------------------------------------------------------------
# foundation.loss-monotone
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlowCase:
    """Gradient flow on an orthogonal target ``Σ_k a_k e_k^{⊗l}`` from a random start of scale ``init``."""

    order: int
    d: int
    m: int
    r: int
    model: str
    reg: float
    init: float
    t_end: float
    n_obs: int
    seed: int


def monotone_experiment(cfg: FlowCase) -> dict[str, Any]:
    """Loss along ``gradient_flow`` at ``n_obs`` times, and ``∫||∇f||² dt`` by Simpson's rule."""
    rng = np.random.default_rng(cfg.seed)
    a = np.linspace(1.0, 0.5, cfg.r)
    target = orthogonal_tensor(a, cfg.d, cfg.order, basis="random", rng=rng)
    W0 = cfg.init * _random_params(cfg.model, cfg.m, cfg.d, rng)

    def grad_sq(t: float, W: np.ndarray) -> float:
        g = loss_and_grad(W, target, model=cfg.model, reg=cfg.reg)[1]
        return float(np.sum(g * g))

    t_eval = np.linspace(0.0, cfg.t_end, cfg.n_obs)
    traj = gradient_flow(
        W0,
        target,
        (0.0, cfg.t_end),
        model=cfg.model,
        reg=cfg.reg,
        t_eval=t_eval,
        rtol=1e-9,
        atol=1e-12,
        observe={"grad_sq": grad_sq},
    )
    if not traj.success or len(traj.t) != cfg.n_obs:
        raise RuntimeError(f"gradient flow did not finish ({traj.status}): {traj.message}")
    f = np.asarray(traj.loss)
    gsq = np.asarray(traj.observations["grad_sq"])
    dissipated = float(simpson(gsq, x=traj.t))
    drop = float(f[0] - f[-1])
    step = max(1, cfg.n_obs // 50)
    return {
        "loss0": float(f[0]),
        "loss_end": float(f[-1]),
        "max_rel_increase": float(np.max(np.diff(f)) / f[0]),
        "rel_drop": drop / float(f[0]),
        "dissipation_rel_err": abs(drop - dissipated) / max(drop, 1e-300),
        "t": traj.t[::step].tolist(),
        "loss": f[::step].tolist(),
        "nfev": traj.nfev,
    }


def monotone_configs(profile: str) -> list[FlowCase]:
    if profile == "quick":
        return [
            FlowCase(
                order, d=6, m=8, r=3, model=model, reg=0.0, init=0.5, t_end=10.0, n_obs=401, seed=0
            )
            for order in (3, 4)
            for model in MODELS
        ]
    return [
        FlowCase(
            order, d=d, m=m, r=4, model=model, reg=reg, init=0.5, t_end=30.0, n_obs=2001, seed=s
        )
        for order in (2, 3, 4)
        for d, m in ((8, 12), (20, 40))
        for model in MODELS
        for reg in (0.0, 0.05)
        for s in (0, 1)
    ]


MONO_INCREASE_TOL = 1e-8  # 10x the integrator's rtol (1e-9)
DISSIPATION_RTOL = 1e-4  # Simpson's rule, O(dt^4): calibrated, see the claim's tolerance_source


def monotone_predict(profile: str) -> dict[str, Any]:
    return {
        "max_rel_increase": 0.0,
        "increase_tol": MONO_INCREASE_TOL,
        "dissipation_rtol": DISSIPATION_RTOL,
    }


def monotone_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = _ok_metrics(results)
    predicted = "df/dt = -||∇f||² <= 0: never increases; drop = ∫||∇f||²"
    if not ok:
        return Verdict("inconclusive", "no run produced metrics", predicted, "n/a")
    inc = max(m["max_rel_increase"] for _, m in ok)
    diss = max(m["dissipation_rel_err"] for _, m in ok)
    drop = min(m["rel_drop"] for _, m in ok)
    numbers = {
        "max_rel_increase": inc,
        "max_dissipation_rel_err": diss,
        "min_rel_drop": drop,
        "runs": len(ok),
    }
    rose = (
        f"rose by at most {_fmt(inc)}·f(0)"
        if inc > 0
        else f"never rose (largest step {inc:+.1e}·f(0))"
    )
    ev = Evidence()
    ev.at_most("largest increase between observations / f(0)", inc, prediction["increase_tol"])
    ev.at_most("|f(0)-f(T) - ∫||∇f||²| / (f(0)-f(T))", diss, prediction["dissipation_rtol"])
    # the loss must fall by more than the integrator's error level, or "never rose" says nothing
    ev.at_least("smallest fall (f(0)-f(T))/f(0)", drop, prediction["increase_tol"])
    return ev.verdict(
        predicted=predicted,
        measured=f"loss {rose}; dissipation error {_fmt(diss)}",
        numbers=numbers,
    )


def monotone_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {
        "run": [],
        "order": [],
        "model": [],
        "t": [],
        "loss_over_loss0": [],
    }
    for i, (cfg, m) in enumerate(_ok_metrics(results)):
        rel = [v / m["loss0"] for v in m["loss"]]
        ax.plot(m["t"], rel, lw=1, label=f"l={cfg.order}, {cfg.model}" if i < 8 else None)
        n = len(rel)
        data["run"] += [i] * n
        data["order"] += [cfg.order] * n
        data["model"] += [cfg.model] * n
        data["t"] += list(m["t"])
        data["loss_over_loss0"] += rel
    ax.set_yscale("log")
    ax.set_xlabel("t")
    ax.set_ylabel("f(W(t)) / f(W(0))")
    ax.set_title("Loss along gradient flow")
    if data["run"]:
        legend(ax, fontsize=7)
    return data


register(
    Claim(
        id="foundation.loss-monotone",
        source="classical (gradient flow is a descent flow)",
        statement=(
            "Along the gradient flow dW/dt = -∇f(W) the loss never increases, and the loss lost "
            "equals the integral of the squared gradient norm."
        ),
        latex=(
            r"\frac{d}{dt}f(W(t))=-\|\nabla f(W(t))\|_F^2\le 0,\qquad "
            r"f(W(0))-f(W(T))=\int_0^T\|\nabla f(W(t))\|_F^2\,dt"
        ),
        method=(
            "numerics.flow.gradient_flow (RK45, rtol 1e-9, atol 1e-12) on an orthogonal target "
            "with a = linspace(1, 0.5, r) in a random basis, from W0 = 0.5·N(0, 1/d); loss and "
            "||∇f||² observed on a uniform grid; the integral by Simpson's rule."
        ),
        tolerance=(
            f"largest increase between consecutive observations <= {MONO_INCREASE_TOL:g}·f(0) "
            f"(integrator error); |f(0)-f(T) - ∫||∇f||²| / (f(0)-f(T)) <= {DISSIPATION_RTOL:g} "
            "(quadrature error of Simpson's rule on the grid); the loss must fall by more than "
            f"{MONO_INCREASE_TOL:g}·f(0)"
        ),
        tolerance_source=(
            "calibrated: the dissipation tolerance on the full grid at held-out seeds 1000-1001 (72 "
            "flows; judged seeds 0-1): worst 1.06e-5, tolerance 1e-4 (9.4x); the increase tolerance "
            "is derived: 10x the integrator's rtol 1e-9 (the loss's error between observations)"
        ),
        no_control=(
            "a theorem about every gradient flow (df/dt = -||∇f||²): no configuration makes it false; "
            "that the judge fails on a rising loss or a broken energy identity is tested on "
            "constructed results (tests/reports/test_claims_foundation.py)"
        ),
        experiment=monotone_experiment,
        configs=monotone_configs,
        predict=monotone_predict,
        judge=monotone_judge,
        plot=monotone_plot,
        model_choice="the two-homogeneous parametrisation T(W) = Σ ||w_i||² w̄_i^{⊗l} (docs/math.md §3.3)",
    )
)
