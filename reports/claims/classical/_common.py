"""Helpers shared by the classical claims (``foundation.*`` and ``theory.*``).

The three models and their plot markers, random parameters, the worst-error verdict of the identity
checks, and predictions tabulated per config (docs/math.md §2–3, §7).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from numerics.models import param_shape

from ...registered import seedless
from ...registry import RunResult, Verdict
from ...statistics import Evidence
from ...store import config_json

__all__ = [
    "MODELS",
    "MODEL_MARKERS",
    "by_config",
    "fmt_error",
    "predicted_rows",
    "random_params",
    "scatter_by_model",
    "worst_error_verdict",
]

MODELS = ("plain", "coefficient", "homogeneous")
"""The three parametrisations of docs/math.md §3."""
MODEL_MARKERS = {"plain": "o", "coefficient": "s", "homogeneous": "^"}


def random_params(model: str, m: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Parameters of ``model`` with ``m`` components in dimension ``d``, entries ``N(0, 1/d)``."""
    return rng.standard_normal(param_shape(model, m, d)) / np.sqrt(d)


def scatter_by_model(
    ax: Any,
    data: Mapping[str, Sequence[Any]],
    x: str,
    y: str,
    label: str = "{model}",
    floor: float | None = None,
) -> None:
    """One scatter series per model (markers :data:`MODEL_MARKERS`) from the columns ``x``, ``y``.

    ``data["model"]`` names each row's model; with ``floor``, values below it (exact zeros on a log
    axis) are drawn at ``floor``.
    """
    for model, marker in MODEL_MARKERS.items():
        idx = [i for i, name in enumerate(data["model"]) if name == model]
        ys = [data[y][i] for i in idx]
        if floor is not None:
            ys = [max(v, floor) for v in ys]
        ax.scatter([data[x][i] for i in idx], ys, marker=marker, label=label.format(model=model))


def fmt_error(x: float) -> str:
    """A relative error as shown in the verdicts (``1.23e-14``)."""
    return f"{x:.2e}"


def worst_error_verdict(
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
        measured=f"max rel. error {fmt_error(worst)} over {cases} cases",
        numbers=numbers,
    )


def _prediction_key(config: Any) -> str:
    """The JSON key of ``config``'s setting: its seeds do not enter the prediction, so the judged,
    calibration and replication blocks (seeds moved by an offset) look up the same entry."""
    return config_json(seedless(config))


def by_config(cases: Iterable[Any], value: Callable[[Any], Any]) -> dict[str, Any]:
    """``{setting: value(case)}``: a seed-free prediction tabulated per config setting (JSON keys).

    Raises ``ValueError`` when two cases that differ only in their seeds get different values (a
    prediction that depends on the seed cannot be looked up on another seed block).
    """
    table: dict[str, Any] = {}
    for c in cases:
        key, v = _prediction_key(c), value(c)
        if key in table and table[key] != v:
            raise ValueError(
                f"the prediction for {c!r} depends on its seed: {table[key]!r} != {v!r}"
            )
        table[key] = v
    return table


def predicted_rows(
    results: Sequence[RunResult], prediction: Mapping[str, Any], *keys: str
) -> list[tuple[Any, ...]]:
    """``(config, metrics, prediction[key][config], ...)`` for each run that produced metrics.

    ``keys`` name tables of the prediction built with :func:`by_config`.
    """
    return [
        (r.config, r.metrics, *(prediction[k][_prediction_key(r.config)] for k in keys))
        for r in results
        if r.ok and r.metrics is not None
    ]
