"""deflation.m-needed — the modified flow needs over-parametrisation ``m >= 2r`` to recover every
component of ``a = (1, .8, .6, .4, .2)``, and the needed ``m/r`` does not grow with ``d`` over
``d ∈ {10, 20, 40}``; without re-initialisation ``m/r = 2`` is not enough (the recovery rate against
``m/r``, with where it crosses the bar). docs/math.md §6, §11.3; paper 2, over-parametrised
modified flow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence, clopper_pearson
from .._shared import legend, ok_runs
from ._deflation import MODEL_CHOICE, R5
from ._judging import group_runs
from ._recovery import (
    RECOVERY_CALIBRATION,
    RECOVERY_MIN_RATIO,
    RecoveryCase,
    recovered,
    recovery_experiment,
)

claim = declare(
    "deflation.m-needed",
    source="Ge et al. 2021 (paper 2): over-parametrised modified flow; docs/math.md §6",
    statement=(
        "The modified flow needs over-parametrisation m >= 2r to recover every component of "
        "a=(1,.8,.6,.4,.2) at d = 10, 20, 40 (recovery rate >= 0.8 at m/r ∈ {2, 4, 8}); the "
        "needed m/r does not grow with d over this range. Without re-initialisation m/r = 2 is "
        "not enough at d <= 20 (the control)."
    ),
    latex=r"\Pr[\text{recovery}]\ \text{vs}\ m/r,\ \text{crossing at } m/r\le 2",
    method=(
        "recovery_experiment (deflation.recovery's runs) for d ∈ {10, 20, 40}, m/r ∈ {1, 2, 4, 8}, "
        "both arms, 20 seeds per cell (quick: d=10, m/r ∈ {1, 2}, 6 seeds, bar 0.5); the modified "
        "flow at m/r >= 2 is judged, everything else is mapped with its exact interval; the crossing "
        "is the smallest m/r from which every larger cell's lower bound clears the bar. Controls: "
        "m = r - 1 (impossible); in full also the flow without re-initialisation at m/r = 2, d = 20."
    ),
    tolerance=(
        "every judged cell: 95% Clopper-Pearson lower bound >= the bar (quick 0.5, full 0.8: "
        "20/20 -> 0.83)"
    ),
    tolerance_source=RECOVERY_CALIBRATION,
    model_choice=MODEL_CHOICE,
)

claim.experiment(recovery_experiment)

MNEEDED_RATIOS = {"quick": (1, 2), "full": (1, 2, 4, 8)}
MNEEDED_DS = {"quick": (10,), "full": (10, 20, 40)}
MNEEDED_MIN = {"quick": 0.5, "full": 0.8}


@claim.configs
def configs(profile: str) -> list[RecoveryCase]:
    """Both arms over m/r for several d; the modified flow at m/r >= 2 is judged, the rest mapped."""
    seeds = range(400, 406) if profile == "quick" else range(400, 420)
    return [
        RecoveryCase(re, d, k * R5, s, role="judged" if re and k >= RECOVERY_MIN_RATIO else "map")
        for d in MNEEDED_DS[profile]
        for k in MNEEDED_RATIOS[profile]
        for re in (True, False)
        for s in seeds
    ]


@claim.controls
def controls(profile: str) -> dict[str, list[RecoveryCase]]:
    """m = r - 1 cannot represent r directions; in full also: without re-initialisation m/r = 2
    does not suffice at d = 20 (a direction no component wins stays unfitted, docs/math.md §6)."""
    seeds = range(500, 506) if profile == "quick" else range(500, 520)
    out = {"m < r": [RecoveryCase(True, 10, R5 - 1, s) for s in seeds]}
    if profile != "quick":
        out["no re-init at m/r = 2"] = [
            RecoveryCase(False, 20, RECOVERY_MIN_RATIO * R5, s) for s in seeds
        ]
    return out


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    return {
        "crossing_m_over_r": RECOVERY_MIN_RATIO,
        "min_rate": MNEEDED_MIN.get(profile, MNEEDED_MIN["full"]),
        "rule": "recovery rate >= min_rate in every judged cell (m/r >= crossing)",
    }


def _crossings(ok: Sequence[tuple[Any, Mapping[str, Any]]], p: float) -> dict[str, Any]:
    """Per arm and d: the smallest m/r from which every larger m/r has a CP lower bound >= p."""
    cells = group_runs(list(ok), lambda c: (c.reinit, c.d, c.m // R5))
    out: dict[str, Any] = {}
    for re, d in sorted({(re, d) for re, d, _ in cells}):
        ratios = sorted(k for rr, dd, k in cells if (rr, dd) == (re, d))
        above = [
            clopper_pearson(recovered(cells[(re, d, k)]), len(cells[(re, d, k)]))[0] >= p
            for k in ratios
        ]
        cross = None
        for i, k in enumerate(ratios):
            if all(above[i:]):
                cross = k
                break
        out[f"{'modified' if re else 'no_reinit'} d={d}"] = cross
    return out


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = ok_runs(results)
    p = float(prediction["min_rate"])
    predicted = (
        f"recovery rate >= {p:g} at every m/r >= {prediction['crossing_m_over_r']} (every d)"
    )
    ev = Evidence()
    judged = [(c, m) for c, m in ok if c.role != "map"]
    for (d, k), rows in sorted(group_runs(judged, lambda c: (c.d, c.m // R5)).items()):
        ev.rate_at_least(f"d={d} m/r={k}", recovered(rows), len(rows), p)
    cross = _crossings(ok, p)
    rates = {
        f"{'modified' if re else 'no_reinit'} d={d} m/r={k}": [
            recovered(rows),
            len(rows),
        ]
        for (re, d, k), rows in sorted(group_runs(ok, lambda c: (c.reinit, c.d, c.m // R5)).items())
    }
    measured = "crossing m/r (CP lower bound >= bar): " + ", ".join(
        f"{k}: {'never' if v is None else v}" for k, v in cross.items()
    )
    return ev.verdict(
        predicted=predicted, measured=measured, numbers={"rates": rates, "crossings": cross}
    )


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {
        "arm": [],
        "d": [],
        "m_over_r": [],
        "rate": [],
        "lo": [],
        "hi": [],
    }
    cells = group_runs(ok_runs(results), lambda c: (c.reinit, c.d, c.m // R5))
    for re, d in sorted({(re, d) for re, d, _ in cells}):
        ks = sorted(k for rr, dd, k in cells if (rr, dd) == (re, d))
        rs, lo, hi = [], [], []
        for k in ks:
            rows = cells[(re, d, k)]
            n = recovered(rows)
            a, b = clopper_pearson(n, len(rows))
            rs.append(n / len(rows))
            lo.append(n / len(rows) - a)
            hi.append(b - n / len(rows))
            for col, v in zip(
                data, ("modified" if re else "no re-init", d, k, n / len(rows), a, b), strict=True
            ):
                data[col].append(v)
        ax.errorbar(
            np.asarray(ks) * (1.03 if re else 0.97),
            rs,
            yerr=[lo, hi],
            fmt="o-" if re else "s--",
            capsize=3,
            label=f"{'modified' if re else 'no re-init'}, d={d}",
        )
    ax.axhline(float(prediction.get("min_rate", 0.8)), color="k", ls=":", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("over-parametrisation m/r")
    ax.set_ylabel("recovery rate (95% Clopper-Pearson)")
    ax.set_ylim(-0.05, 1.05)
    legend(ax, fontsize=6)
    return data
