"""The lazy threshold at a fixed accuracy, m*_ε(d) (docs/math.md §9.1), as two claims run it.

``lazy.threshold-scaling`` judges it; ``beyond.m-vs-d`` runs it as its crossed control ("crossed: lazy
m*(d)": the variant's judge applied to the lazy threshold must fail). :class:`ThresholdRun` carries the
solver tolerances registered for ``lazy.threshold-scaling`` (``reports/registered.toml``), so a changed
tolerance never reuses stored runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.lazy import lazy_residual, sym_basis_size
from numerics.tensors import random_low_rank, random_unit_vectors

from ...registered import registration

LAZY_ID = "lazy.threshold-scaling"
EPSILONS = (0.3, 0.1)  # the fixed accuracies of the statement (residual = squared relative error)


@dataclass(frozen=True)
class ThresholdRun:
    """Smallest ``m`` with lazy residual ``<= ε`` for each ε of ``EPSILONS`` (nested prefixes of one
    seeded ``W`` with unit rows) for a random target of rank ``rank`` (unit coefficients; the
    threshold does not depend on it, docs/math.md §4).

    ``cg_tol``: normal-equation tolerance of the conjugate-gradient solves; ``slack``: the decision
    "residual <= ε" is "CG bound <= ε + slack" (calibrated, docs/math.md §9.1).
    """

    order: int
    d: int
    seed: int
    cg_tol: float
    slack: float
    rank: int = 1


def threshold_run(order: int, d: int, seed: int, rank: int = 1) -> ThresholdRun:
    """A :class:`ThresholdRun` with the solver tolerances registered for ``lazy.threshold-scaling``."""
    reg = registration(LAZY_ID)
    return ThresholdRun(
        order, d, seed, reg.tolerance("cg_tol"), reg.tolerance("solver_slack"), rank
    )


def lazy_threshold_experiment(cfg: ThresholdRun) -> dict[str, Any]:
    """m*_ε for each ε by a bracket around ``(1 − ε)·D/d`` and bisection (docs/math.md §9.1)."""
    D = sym_basis_size(cfg.d, cfg.order)
    # one above ceil(D/d): the tangent space is all of Sym^l there (AH defective cases included)
    m_hi = -(-D // cfg.d) + 1
    rng = np.random.default_rng([cfg.seed, cfg.order, cfg.d])
    target = random_low_rank(cfg.rank, cfg.d, cfg.order, rng=rng)
    W = random_unit_vectors(m_hi, cfg.d, rng)
    residuals: dict[int, float] = {}
    iterations: list[int] = []

    def residual(m: int) -> float:
        """Converged CG upper bound on the lazy residual at the first ``m`` rows."""
        if m not in residuals:
            res = lazy_residual(W[:m], target, method="cg", tol=cfg.cg_tol)
            if not res.converged:
                raise RuntimeError(res.message)
            residuals[m] = res.residual_bound
            iterations.append(res.iterations)
        return residuals[m]

    def below(m: int, eps: float) -> bool:
        # bound <= ε certifies "yes"; bound > ε + slack certifies "no" (CG error <= slack/10, calibrated);
        # in between is called "yes", which can only lower m* (conservative for a lower bound)
        return residual(m) <= eps + cfg.slack

    top = lazy_residual(W, target, method="cg", tol=cfg.cg_tol, stop_below=min(EPSILONS))
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
