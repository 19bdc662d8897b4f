"""deflation.recovery — with over-parametrisation ``m >= 2r`` the modified gradient flow
(Algorithm 1: re-initialising components below δ1 between geometrically growing epochs) recovers
every component at every size tried, and more often than the same epochs without
re-initialisation on the same initialisations. docs/math.md §6, §11.3; paper 2, abstract.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ...registered import registration
from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence, clopper_pearson
from .._shared import legend, ok_runs
from ._deflation import MODEL_CHOICE, R5
from ._figures import evidence_grid, parts_panel
from ._judging import group_runs, paired_outcomes
from ._recovery import RECOVERY_MIN_RATIO, RecoveryCase, recovered, recovery_experiment
from ._regime import poly_delta0

claim = declare(
    "deflation.recovery",
    source="Ge et al. 2021 (paper 2), abstract (modified flow recovers all components); docs/math.md §6",
    statement=(
        f"With over-parametrisation m >= {RECOVERY_MIN_RATIO}r (r = 5) at d >= 20, and m >= 4r at "
        "d = 10 (where m*/r is largest, deflation.m-star-law), the modified gradient "
        "flow (re-initialising components below δ1 between geometrically growing epochs) recovers "
        "every component, ||T - T*||_F <= ε, at every size tried — d ∈ {10, 20, 40} in full with "
        "rate >= 0.85 per size and >= 0.95 pooled (the registered bars), and at d ∈ {1000, 2000} with "
        "m = m_ia(d) components and δ0 = d^{-2} (docs/math.md §11.7) with rate >= 0.6 per size — "
        "and more often than the same epochs without re-initialisation on the same initialisations."
    ),
    latex=r"m\ge 2r:\ \Pr\big[\|T(W)-T^*\|_F\le\varepsilon\big]\ge 0.85",
    method=(
        "a=(1,.8,.6,.4,.2) (r=5), l=4, random basis; modified_gradient_flow defaults (δ0=1e-3, "
        "δ1=0.1, γ=2, λ=1e-3, t0=1) with ε=1e-2 and 9 epochs (total time 511), integrator 'auto', "
        "stopping at ε inside an epoch; paired with reinit=False from the same initialisation at "
        "m/r = 2. Quick: (d,m)=(10,10), 20 seeds; full: (10, 20), (20, 10), (20, 20), (40, 10), "
        "(40, 20), 70 seeds each (pooled 350), and (10, 10) reported with 30 seeds (its rate, about "
        "0.86 on the calibration block, sits on the bar: no affordable n decides it); scale: d ∈ {1000, 2000}, m = m_ia(d) = 50, 150 (the order claim's "
        "regime), δ0 = d^{-2}, epochs until the weakest direction can be found (docs/math.md §11.4), "
        "16 seeds each, no paired arm. Control: m = r - 1 = 4 (cannot represent 5 directions). The "
        "law m*(d, r) is deflation.m-star-law."
    ),
    tolerance=(
        "per size and pooled: 95% Clopper-Pearson lower bound >= the registered bar (quick 0.6; "
        "full 0.85 per size, 0.95 pooled; scale 0.6); McNemar exact one-sided p <= 0.05 for "
        "modified over no re-init (quick, full)"
    ),
    tolerance_source=(
        "calibrated: the bars of the first registration (quick 0.6, full 0.85/0.95), lowered after results in "
        "49bd9d8 and restored here (history in reports/registered.toml); sizes planned by the power "
        "rule from the calibration block (seeds + 500000); scale bar 0.6: what 16 runs per size can "
        "establish at the affordable cost (~30 s a run at d = 2000)"
    ),
    model_choice=MODEL_CHOICE,
    profiles=("quick", "full", "scale"),
    reference=(
        "paper 2 (arXiv 2106.06573), abstract: a slightly modified gradient flow provably "
        "follows a deflation process and recovers all components of an orthogonally "
        "decomposable tensor; Tensor Deflation Processa [model choice] (docs/math.md §6, "
        "§11.3)"
    ),
    caption=(
        "Bottom: every judged recovery rate's 95% interval must lie right of its black "
        "registered bar; top: the rates per size, the no-re-init arm on the same seeds "
        "below them."
    ),
)

claim.experiment(recovery_experiment)

RECOVERY_SIZES = {
    "quick": [(10, 10)],
    "full": [(10, 20), (20, 10), (20, 20), (40, 10), (40, 20)],
}
MAP_SIZES = {"quick": [], "full": [(10, 10)]}
MAP_SEEDS = 30
SEEDS = {"quick": 20, "full": 70}
PAIRED_SEEDS = {"quick": 20, "full": 30}
SCALE_DS, SCALE_DEGREE, SCALE_SEEDS = (1000, 2000), 2, 16


def _scale_epochs(d: int, delta0: float) -> int:
    """Epochs for the weakest direction (a = 0.2) to be found from u0 = 1/d (docs/math.md §11.4), plus 3."""
    need = d / (8 * 0.2) + math.log(0.1**2 / delta0**2) / (4 * 0.2)
    return math.ceil(math.log2(need)) + 3


@claim.configs
def configs(profile: str) -> list[RecoveryCase]:
    if profile == "scale":
        from .deflation_order import scale_m

        return [
            RecoveryCase(
                True,
                d,
                scale_m(d),
                s,
                max_epochs=_scale_epochs(d, poly_delta0(d, SCALE_DEGREE)),
                delta0=poly_delta0(d, SCALE_DEGREE),
            )
            for d in SCALE_DS
            for s in range(SCALE_SEEDS)
        ]
    cases = [
        RecoveryCase(True, d, m, s)
        for d, m in RECOVERY_SIZES[profile]
        for s in range(SEEDS[profile])
    ]
    cases += [
        RecoveryCase(False, d, m, s, role="paired")
        for d, m in RECOVERY_SIZES[profile]
        if m == RECOVERY_MIN_RATIO * R5
        for s in range(PAIRED_SEEDS[profile])
    ]
    cases += [
        RecoveryCase(True, d, m, s, role="map")
        for d, m in MAP_SIZES[profile]
        for s in range(MAP_SEEDS)
    ]
    return cases


@claim.controls
def controls(profile: str) -> dict[str, list[RecoveryCase]]:
    """m = r - 1 components cannot represent r orthogonal directions: recovery is impossible."""
    d = 1000 if profile == "scale" else 10
    n = 12 if profile == "scale" else 10
    return {"m < r": [RecoveryCase(True, d, R5 - 1, 100 + s, role="control") for s in range(n)]}


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    reg = registration(claim.id)
    return {
        "min_over_parametrisation_m_over_r": RECOVERY_MIN_RATIO,
        "per_size_min_rate": reg.bar(profile, "per_size"),
        "pooled_min_rate": reg.bar(profile, "pooled"),
        "no_reinit": "recovers less often on the same seeds (McNemar)",
    }


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = ok_runs(results)
    p_size = float(prediction["per_size_min_rate"])
    p_pool = float(prediction["pooled_min_rate"])
    predicted = (
        f"modified flow: recovery rate >= {p_size:g} at every size and >= {p_pool:g} pooled; "
        "no re-init worse on the same seeds"
    )
    ev = Evidence()
    mod = [(c, m) for c, m in ok if c.reinit and c.role != "map"]
    cells = group_runs(mod, lambda c: (c.d, c.m))
    for (d, mm), rows in sorted(cells.items()):
        ev.rate_at_least(f"modified d={d} m={mm}", recovered(rows), len(rows), p_size)
    if len(cells) > 1:
        ev.rate_at_least("modified pooled", recovered(mod), len(mod), p_pool)
    if any(not c.reinit for c, _ in ok):
        a, b = paired_outcomes(
            [(c, m) for c, m in ok if c.role != "map"],
            lambda c: c.reinit,
            lambda c: (c.d, c.m, c.seed),
            lambda m: m["success"],
        )
        ev.contrast("modified beats no re-init (paired seeds)", a, b)
    else:
        ev.note("No run without re-initialisation among these runs: no paired contrast.")
    all_rates = {
        f"{'modified' if re else 'no_reinit'} d={d} m={mm}": [recovered(rows), len(rows)]
        for (re, d, mm), rows in sorted(group_runs(ok, lambda c: (c.reinit, c.d, c.m)).items())
    }
    measured = "; ".join(f"{k}: {v[0]}/{v[1]}" for k, v in all_rates.items()) or "n/a"
    if any(c.role == "map" for c, _ in ok):
        ev.note("(10, 10) is reported, not judged: its rate sits on the bar (docs/math.md §11.3).")
    return ev.verdict(predicted=predicted, measured=measured, numbers={"rates": all_rates})


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    """Top: recovery rate per size and arm (95% Clopper–Pearson) with the registered bars. Bottom:
    the judged rates against their bars and the paired contrast."""
    verdict = judge(prediction, results)
    (ax,), bottom = evidence_grid(fig, rows=len(verdict.rates))
    data: dict[str, list[Any]] = {"arm": [], "d": [], "m": [], "rate": [], "lo": [], "hi": []}
    cells = group_runs(ok_runs(results), lambda c: (c.reinit, c.d, c.m))
    for (re, d, mm), rows in sorted(cells.items()):
        k = recovered(rows)
        lo, hi = clopper_pearson(k, len(rows))
        for col, v in zip(
            data, ("modified" if re else "no re-init", d, mm, k / len(rows), lo, hi), strict=True
        ):
            data[col].append(v)
    labels = sorted({f"d={d}, m={mm}" for d, mm in zip(data["d"], data["m"], strict=True)})
    x = {lab: i for i, lab in enumerate(labels)}
    for arm, off in (("modified", -0.1), ("no re-init", 0.1)):
        idx = [i for i, a in enumerate(data["arm"]) if a == arm]
        if not idx:
            continue
        xs = [x[f"d={data['d'][i]}, m={data['m'][i]}"] + off for i in idx]
        r = np.array([data["rate"][i] for i in idx])
        err = [r - [data["lo"][i] for i in idx], [data["hi"][i] for i in idx] - r]
        ax.errorbar(xs, r, yerr=err, fmt="o", capsize=3, label=arm)
    ax.axhline(
        float(prediction.get("per_size_min_rate", 0.85)), color="k", lw=1.2, label="per-size bar"
    )
    ax.axhline(
        float(prediction.get("pooled_min_rate", 0.95)),
        color="k",
        ls="--",
        lw=1.0,
        label="pooled bar",
    )
    ax.set_title("Recovery rate per size and arm")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("recovery rate, 95% Clopper–Pearson")
    legend(ax, fontsize=9, loc="lower left", ncols=2)
    parts_panel(bottom, verdict)
    return data
