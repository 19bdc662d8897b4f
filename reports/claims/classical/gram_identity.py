"""foundation.gram-identity — the Gram-form loss equals the dense loss (docs/math.md §2).

The loss computed in Gram form (no ``d^l`` array, :func:`numerics.models.loss`) equals the loss
computed from dense arrays, for the plain, coefficient and two-homogeneous models and for low-rank and
dense targets; the Gram-form contraction ``T*(x^{⊗(l-1)}, ·)`` equals the dense contraction. The dense
reference values are built here from first principles (outer products), not with
:meth:`numerics.tensors.LowRankTensor.dense`, so the two routes are independent.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.models import loss
from numerics.tensors import DenseTensor, LowRankTensor, random_dense_symmetric, random_low_rank

from ...registered import registration
from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence
from .._shared import columns, legend, no_runs, ok_runs
from ._common import MODELS, random_params, scatter_by_model, worst_error_verdict

REGISTERED = registration("foundation.gram-identity")  # tolerances fixed in reports/registered.toml
GRAM_RTOL = REGISTERED.tolerance("rtol")

claim = declare(
    "foundation.gram-identity",
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
    reference=(
        "classical: ⟨u^{⊗l}, v^{⊗l}⟩ = ⟨u, v⟩^l, so the loss is a polynomial in Gram matrices "
        "(docs/math.md §2)"
    ),
    caption=(
        "Every point (Gram-form loss or contraction against the dense computation) must lie below"
        " the dashed tolerance; exact zeros are drawn at 1e-18."
    ),
)


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


@claim.configs
def configs(profile: str) -> list[GramCase]:
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


@claim.experiment
def experiment(cfg: GramCase) -> dict[str, Any]:
    """Gram-form loss vs dense loss, and Gram-form contraction vs dense contraction."""
    rng = np.random.default_rng(cfg.seed)
    W = random_params(cfg.model, cfg.m, cfg.d, rng)
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


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    return {"relative_error": 0.0, "rtol": GRAM_RTOL}


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = ok_runs(results)
    predicted = f"identical up to rounding (rtol {prediction['rtol']:g})"
    if not ok:
        return no_runs(predicted)
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
    return worst_error_verdict(ev, bad, worst, len(ok), predicted, numbers)


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    config_keys = ("order", "d", "model", "target", "seed")
    metric_keys = ("dense_elements", "rel_err_loss", "rel_err_contract")
    data = columns(*config_keys, *metric_keys)
    for cfg, m in ok_runs(results):
        for key in config_keys:
            data[key].append(getattr(cfg, key))
        for key in metric_keys:
            data[key].append(m[key])
    floor = 1e-18  # exact zeros drawn at the floor of the log axis
    scatter_by_model(ax, data, "dense_elements", "rel_err_loss", "loss, {model}", floor)
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
    legend(ax)
    return data
