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

from ._deflation import A5, init_components

__all__ = [
    "RECOVERY_CALIBRATION",
    "RECOVERY_MIN_RATIO",
    "RecoveryCase",
    "recovered",
    "recovery_experiment",
]

RECOVERY_MIN_RATIO = 2
"""Over-parametrisation m/r the recovery claim needs (calibrated: see RECOVERY_CALIBRATION)."""
RECOVERY_CALIBRATION = (
    "calibrated: seeds 1000-1031 (disjoint from the judged 0-29, the m-needed 400-419 and the "
    "controls), the smallest m/r in {1, 2, 4, 8} where the modified flow recovered at every d in "
    "{10, 20, 40}: value found 2 (1000-1011: 12/12 at each d; 1012-1031: 19/20, 20/20, 20/20; m/r = 4: "
    "32/32 at each d; m = r: 0/12, 4/12, 8/12). Bars: below the calibrated rate (about 0.97 at "
    "m/r = 2) by the 95% interval half-width of the judged sizes: per size 0.75 (28/30 -> 0.78), "
    "pooled 0.9 (177/180 -> 0.95); quick 0.5 (9/10 -> 0.56)"
)


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


def recovery_experiment(cfg: RecoveryCase) -> dict[str, Any]:
    target = orthogonal_tensor(A5, cfg.d, 4, basis="random", rng=cfg.seed)
    W0 = init_components(cfg.m, cfg.d, 1e-3, cfg.seed)
    won = np.isfinite(initial_alignment(W0, target, model="homogeneous"))
    res = modified_gradient_flow(
        target,
        cfg.m,
        eps=cfg.eps,
        max_epochs=cfg.max_epochs,
        reinit=cfg.reinit,
        W0=W0,
        rng=cfg.seed,
        model="homogeneous",
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
