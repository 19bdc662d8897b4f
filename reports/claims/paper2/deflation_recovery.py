"""deflation.recovery — with over-parametrisation ``m >= 2r`` the modified gradient flow
(Algorithm 1: re-initialising components below δ1 between geometrically growing epochs) recovers
every component at every size tried, and more often than the same epochs without
re-initialisation on the same initialisations. docs/math.md §6, §11.3; paper 2, abstract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence, clopper_pearson
from .._shared import legend, ok_runs
from ._deflation import MODEL_CHOICE, R5
from ._judging import group_runs, paired_outcomes
from ._recovery import (
    RECOVERY_CALIBRATION,
    RECOVERY_MIN_RATIO,
    RecoveryCase,
    recovered,
    recovery_experiment,
)

claim = declare(
    "deflation.recovery",
    source="Ge et al. 2021 (paper 2), abstract (modified flow recovers all components); docs/math.md §6",
    statement=(
        f"With over-parametrisation m >= {RECOVERY_MIN_RATIO}r (r = 5), the modified gradient "
        "flow (re-initialising components below δ1 between geometrically growing epochs) recovers "
        "every component, ||T - T*||_F <= ε, at every size tried (d up to 40) — rate >= 0.75 per "
        "size and >= 0.9 pooled — and more often than the same epochs without re-initialisation "
        "on the same initialisations. At m = r it does not (reported)."
    ),
    latex=r"m\ge 2r:\ \Pr\big[\|T(W)-T^*\|_F\le\varepsilon\big]\ge 0.75",
    method=(
        "a=(1,.8,.6,.4,.2) (r=5), l=4, random basis; modified_gradient_flow defaults (δ0=1e-3, "
        "δ1=0.1, γ=2, λ=1e-3, t0=1) with ε=1e-2 and 9 epochs (total time 511), against "
        "reinit=False from the same initialisation (paired). Quick: (d,m)=(10,10), 10 seeds "
        "(establishes rates >= 0.5); full: d ∈ {10, 20, 40} x m/r ∈ {2, 4}, 30 seeds each "
        "(per size >= 0.75, pooled 180 runs >= 0.9), plus (40, 5) reported, not judged. "
        "Control: m = r - 1 = 4 (cannot represent 5 directions): the same judge must fail. "
        "The rate against m/r for several d is deflation.m-needed."
    ),
    tolerance=(
        "per size and pooled: 95% Clopper-Pearson lower bound >= the profile's bar (quick 0.5/0.5, "
        "full 0.75/0.9); McNemar exact one-sided p <= 0.05 for modified over no re-init"
    ),
    tolerance_source=RECOVERY_CALIBRATION,
    model_choice=MODEL_CHOICE,
)

claim.experiment(recovery_experiment)

RECOVERY_MIN = {"quick": 0.5, "full": 0.75}
RECOVERY_POOLED_MIN = {"quick": 0.5, "full": 0.9}
RECOVERY_SIZES = {
    "quick": [(10, 10)],
    "full": [(d, k * R5) for d in (10, 20, 40) for k in (2, 4)],
}


@claim.configs
def configs(profile: str) -> list[RecoveryCase]:
    seeds = range(10) if profile == "quick" else range(30)
    cases = [
        RecoveryCase(re, d, m, s)
        for d, m in RECOVERY_SIZES[profile]
        for re in (True, False)
        for s in seeds
    ]
    if profile == "full":  # below the needed over-parametrisation: reported, not judged
        cases += [RecoveryCase(re, 40, R5, s, role="map") for re in (True, False) for s in seeds]
    return cases


@claim.controls
def controls(profile: str) -> dict[str, list[RecoveryCase]]:
    """m = r - 1 components cannot represent r orthogonal directions: recovery is impossible."""
    seeds = range(100, 105) if profile == "quick" else range(100, 115)
    return {
        "m < r": [
            RecoveryCase(re, 10, R5 - 1, s, role="control") for re in (True, False) for s in seeds
        ]
    }


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    return {
        "min_over_parametrisation_m_over_r": RECOVERY_MIN_RATIO,
        "per_size_min_rate": RECOVERY_MIN.get(profile, RECOVERY_MIN["full"]),
        "pooled_min_rate": RECOVERY_POOLED_MIN.get(profile, RECOVERY_POOLED_MIN["full"]),
        "no_reinit": "recovers less often on the same seeds (McNemar)",
    }


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = [(c, m) for c, m in ok_runs(results) if c.role != "map"]
    p_size = float(prediction["per_size_min_rate"])
    p_pool = float(prediction["pooled_min_rate"])
    predicted = (
        f"modified flow: recovery rate >= {p_size:g} at every size and >= {p_pool:g} pooled; "
        "no re-init worse on the same seeds"
    )
    ev = Evidence()
    mod = [(c, m) for c, m in ok if c.reinit]
    cells = group_runs(mod, lambda c: (c.d, c.m))
    for (d, mm), rows in sorted(cells.items()):
        ev.rate_at_least(f"modified d={d} m={mm}", recovered(rows), len(rows), p_size)
    ev.rate_at_least("modified pooled", recovered(mod), len(mod), p_pool)
    a, b = paired_outcomes(
        ok, lambda c: c.reinit, lambda c: (c.d, c.m, c.seed), lambda m: m["success"]
    )
    ev.contrast("modified beats no re-init (paired seeds)", a, b)
    all_rates = {
        f"{'modified' if re else 'no_reinit'} d={d} m={mm}": [
            recovered(rows),
            len(rows),
        ]
        for (re, d, mm), rows in sorted(
            group_runs(ok_runs(results), lambda c: (c.reinit, c.d, c.m)).items()
        )
    }
    measured = "; ".join(f"{k}: {v[0]}/{v[1]}" for k, v in all_rates.items()) or "n/a"
    if len(ok_runs(results)) > len(ok):
        ev.note(
            "Sizes below the needed over-parametrisation (role 'map') are reported, not judged."
        )
    return ev.verdict(predicted=predicted, measured=measured, numbers={"rates": all_rates})


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    data: dict[str, list[Any]] = {"arm": [], "d": [], "m": [], "rate": [], "lo": [], "hi": []}
    cells = group_runs(ok_runs(results), lambda c: (c.reinit, c.d, c.m))
    for (re, d, mm), rows in sorted(cells.items()):
        k = recovered(rows)
        lo, hi = clopper_pearson(k, len(rows))
        for col, v in zip(
            data, ("modified" if re else "no re-init", d, mm, k / len(rows), lo, hi), strict=True
        ):
            data[col].append(v)
    labels = sorted({f"d={d},m={mm}" for d, mm in zip(data["d"], data["m"], strict=True)})
    x = {lab: i for i, lab in enumerate(labels)}
    for arm, off in (("modified", -0.1), ("no re-init", 0.1)):
        idx = [i for i, a in enumerate(data["arm"]) if a == arm]
        if not idx:
            continue
        xs = [x[f"d={data['d'][i]},m={data['m'][i]}"] + off for i in idx]
        r = np.array([data["rate"][i] for i in idx])
        err = [r - [data["lo"][i] for i in idx], [data["hi"][i] for i in idx] - r]
        ax.errorbar(xs, r, yerr=err, fmt="o", capsize=3, label=arm)
    ax.axhline(float(prediction.get("per_size_min_rate", 0.85)), color="k", ls=":", lw=0.8)
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("recovery rate (95% Clopper-Pearson)")
    legend(ax, fontsize=7)
    return data
