"""The paper-1 variant as several ``beyond.*`` claims use it (docs/math.md §5, §10.2).

The variant is the **[model choice]** reconstruction :func:`numerics.algorithms.beyond_lazy_descent`
(two-homogeneous model, small init, ℓ2 regulariser, epochs with re-initialisation). Here: its texts and
one run of it, with or without re-initialisation, on a fixed budget of gradient steps
(:class:`BudgetRun`, :func:`budget_experiment`), which the m* searches of paper1/_mstar.py and
``beyond.m-equals-r`` repeat over seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.algorithms import beyond_lazy_descent
from numerics.tensors import random_low_rank

MODEL_CHOICE = (
    "docs/math.md §5 [model choice]: paper 1's variant reconstructed as two-homogeneous model, "
    "small init δ·uniform(S^{d-1}), ℓ2 regulariser, epochs of gradient descent with "
    "re-initialisation of small components (numerics.algorithms.beyond_lazy_descent)"
)
EPS = 0.05  # relative accuracy of success, the variant's default

BUDGET_STEPS = 3000  # default budget of a single epoch without re-initialisation


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


def variant_outcome(res: Any) -> dict[str, Any]:
    """Success, final relative error and gradient steps of a ``beyond_lazy_descent`` result; a
    numerical failure (NaN, divergence) raises, so the run is recorded as failed, not as a miss."""
    if res.status in ("nan", "diverged"):
        raise RuntimeError(f"numerical failure: {res.message}")
    return {"success": res.success, "relative_error": res.relative_error, "n_steps": res.n_steps}


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
    return variant_outcome(res) | {"component_steps": cfg.m * res.n_steps}
