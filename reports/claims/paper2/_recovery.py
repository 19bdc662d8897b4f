"""The runs deflation.recovery and deflation.m-needed share: Algorithm 1 with and without
re-initialisation on ``a = (1, .8, .6, .4, .2)`` from one initialisation per seed (docs/math.md §6,
§11.3), and the calibration both claims' bars come from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.algorithms import initial_alignment, modified_gradient_flow
from numerics.tensors import orthogonal_tensor

from ._deflation import A5, init_components, solver_atol

__all__ = [
    "RECOVERY_MIN_RATIO",
    "RecoveryCase",
    "recovered",
    "recovery_experiment",
]

RECOVERY_MIN_RATIO = 2
"""Over-parametrisation m/r the recovery claim needs (found on seeds 1000-1031 in issue 13; the
measured law is deflation.m-star-law)."""


@dataclass(frozen=True)
class RecoveryCase:
    """``reinit``: the modified flow (True) or the same epochs without re-initialisation (False).

    ``role``: "judged" (the over-parametrised regime of the claim), "map" (reported) or "control"
    (``m < r``: recovery impossible).
    """

    reinit: bool
    d: int
    m: int
    seed: int
    eps: float = 1e-2
    max_epochs: int = 9
    role: str = "judged"
    delta0: float = 1e-3


def recovery_experiment(cfg: RecoveryCase) -> dict[str, Any]:
    """Algorithm 1 (δ1 = 0.1, γ = 2, t0 = 1, λ = 1e-3) with integrator "auto", stopping at ε inside an
    epoch (:func:`numerics.algorithms.modified_gradient_flow`, ``stop_when_fitted``)."""
    target = orthogonal_tensor(A5, cfg.d, 4, basis="random", rng=cfg.seed)
    W0 = init_components(cfg.m, cfg.d, cfg.delta0, cfg.seed)
    won = np.isfinite(initial_alignment(W0, target, model="homogeneous"))
    res = modified_gradient_flow(
        target,
        cfg.m,
        delta0=cfg.delta0,
        eps=cfg.eps,
        max_epochs=cfg.max_epochs,
        reinit=cfg.reinit,
        W0=W0,
        rng=cfg.seed,
        model="homogeneous",
        n_obs=2,
        method="auto",
        stop_when_fitted=True,
        atol=solver_atol(cfg.delta0, cfg.d),
    )
    missed = int(np.sum(np.abs(res.epochs[-1].fits - np.asarray(A5)) > np.asarray(A5) / 2))
    return {
        "success": res.success,
        "error": res.error,
        "relative_error": res.relative_error,
        "epochs": len(res.epochs),
        "missed_components": missed,
        "all_directions_won": bool(np.all(won)),
        "directions_won": int(np.sum(won)),
        "status": res.status,
        "nfev": res.nfev,
    }


def recovered(rows: Sequence[tuple[Any, Mapping[str, Any]]]) -> int:
    """How many of the ``(config, metrics)`` runs recovered every component."""
    return sum(bool(m["success"]) for _, m in rows)
