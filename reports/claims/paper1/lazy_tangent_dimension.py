"""lazy.tangent-dimension — at a random initialisation the tangent space of the plain model has the
dimension Terracini's lemma and the Alexander–Hirschowitz theorem give, ``generic_tangent_dim(d, l, m)``
(``min(m·d, D(d,l))``, one less in the four defective cases; ``m·d − m(m−1)/2`` for ``l = 2``):
docs/math.md §4, the dimension count behind paper 1's lazy lower bound."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from numerics.lazy import tangent_rank, tangent_singular_values
from numerics.tensors import random_unit_vectors

from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence
from .._shared import BAR_COLOR, columns, exact_check, failed_runs, legend, ok_runs

claim = declare(
    "lazy.tangent-dimension",
    source="classical (Terracini's lemma, Alexander–Hirschowitz theorem), docs/math.md §4",
    statement=(
        "At a random initialisation the tangent space span{Sym(w_i^{⊗(l-1)}⊗v)} of the plain model "
        "has dimension min(m·d, D(d,l)) for l >= 3 (one less in the defective cases (4,3,5), "
        "(4,4,9), (4,5,14), (3,5,7)) and m·d - m(m-1)/2 for l = 2, m <= d."
    ),
    latex=r"\dim T_{W_0}=\min(md,\binom{d+l-1}{l})\ (\text{AH exceptions }-1)",
    method=(
        "W with uniform unit rows; rank of the explicit Jacobian in an orthonormal basis of Sym^l "
        "(numerics.lazy.tangent_rank: SVD, tolerance σ_max·max(D, md)·ε_float64). Quick: 17 (l,d,m) "
        "incl. all four defective cases and l=2; full: l=2..5 and d up to 9 around each threshold, 3 seeds."
    ),
    tolerance="exact integer equality with theory.generic_tangent_dim in every case",
    tolerance_source=(
        "derived: an integer identity; the rank cut σ_max·max(D, md)·ε_float64 is the rounding level "
        "of the SVD (numpy.linalg.matrix_rank's convention); the margin is the number of decades "
        "between the cut and the nearest singular value, over the 15.7 decades of float64"
    ),
    no_control=(
        "exact dimension count (Terracini + Alexander–Hirschowitz), checked case by case; the judge "
        "already discriminates: the four defective cases, where the naive min(m·d, D) is wrong by "
        "one, are in every profile, and a rank of min(m·d, D) there fails (tested)"
    ),
    reference=(
        "classical: Terracini's lemma and the Alexander–Hirschowitz theorem (docs/math.md §4), the "
        "dimension count behind paper 1's lazy lower bound"
    ),
    caption=(
        "Left: every measured rank must sit on the prediction (open circles; the four defective "
        "cases, ×, one below min(m·d, D)). Right, judged: the rank cut (red dashed, 1) must separate "
        "the last kept singular value (above) from the first dropped one (below)."
    ),
)

# the Alexander–Hirschowitz defective (l, d, m): the naive min(m·d, D) is one too many there
DEFECTIVE = {(4, 3, 5), (4, 4, 9), (4, 5, 14), (3, 5, 7)}
QUICK_CASES = [
    (2, 3, 1),
    (2, 4, 2),
    (2, 4, 3),
    (2, 5, 6),
    (3, 3, 3),
    (3, 4, 5),
    (3, 5, 6),
    (3, 5, 7),
    (3, 5, 8),
    (3, 6, 9),
    (4, 3, 5),
    (4, 3, 6),
    (4, 4, 9),
    (4, 4, 10),
    (4, 5, 14),
    (4, 5, 15),
    (5, 3, 7),
]


@dataclass(frozen=True)
class RankCase:
    """Tangent rank at ``W`` with ``m`` uniform unit rows in ``R^d`` (seeded)."""

    order: int
    d: int
    m: int
    seed: int


@claim.configs
def configs(profile: str) -> list[RankCase]:
    if profile == "quick":
        return [RankCase(l, d, m, 0) for l, d, m in QUICK_CASES]
    cases = set(QUICK_CASES)
    for l, ds in {2: range(2, 8), 3: range(3, 10), 4: range(3, 7), 5: range(3, 5)}.items():
        for d in ds:
            D = math.comb(d + l - 1, l)
            mid = -(-D // d)
            for m in {1, max(1, mid // 2), max(1, mid - 1), mid, mid + 1, mid + 3}:
                if D * m * d <= 2**22:
                    cases.add((l, d, m))
    return [RankCase(l, d, m, s) for l, d, m in sorted(cases) for s in range(3)]


@claim.experiment
def experiment(cfg: RankCase) -> dict[str, Any]:
    W = random_unit_vectors(
        cfg.m, cfg.d, np.random.default_rng([cfg.seed, cfg.order, cfg.d, cfg.m])
    )
    s = tangent_singular_values(W, cfg.order)
    rank = tangent_rank(W, cfg.order)
    return {
        "rank": rank,
        "sigma_last_rel": float(s[rank - 1] / s[0]),
        "sigma_next_rel": float(s[rank] / s[0]) if rank < s.size else 0.0,
    }


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    import theory

    cases = sorted({(c.order, c.d, c.m) for c in configs(profile)})
    return {
        "dim": {f"{l},{d},{m}": theory.generic_tangent_dim(d, l, m) for l, d, m in cases},
        "D": {f"{l},{d},{m}": theory.sym_dim(d, l) for l, d, m in cases},
    }


def _cut(c: RankCase) -> float:
    """The rank cut of :func:`numerics.lazy.tangent_rank` relative to σ_max: max(D, m·d)·ε_float64."""
    return max(math.comb(c.d + c.order - 1, c.order), c.m * c.d) * float(np.finfo(float).eps)


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = ok_runs(results)
    predicted = "tangent rank = generic_tangent_dim(d, l, m) (AH defective cases one less)"
    wrong = [
        f"(l,d,m)=({c.order},{c.d},{c.m}) seed {c.seed}: {mt['rank']} vs "
        f"{prediction['dim'][f'{c.order},{c.d},{c.m}']}"
        for c, mt in ok
        if mt["rank"] != prediction["dim"][f"{c.order},{c.d},{c.m}"]
    ]
    gap_lo = min((mt["sigma_last_rel"] for _, mt in ok), default=float("nan"))
    gap_hi = max((mt["sigma_next_rel"] for _, mt in ok), default=float("nan"))
    defective = sum(1 for c, _ in ok if (c.order, c.d, c.m) in DEFECTIVE)
    # robustness of the rank decisions: decades between the cut σ_max·max(D, md)·ε and the nearest
    # singular value on either side, as a fraction of the 15.7 decades of float64
    decades = []
    for c, mt in ok:
        cut = _cut(c)
        below = math.log10(cut / mt["sigma_next_rel"]) if mt["sigma_next_rel"] > 0 else math.inf
        decades.append(min(math.log10(mt["sigma_last_rel"] / cut), below))
    robustness = min(decades, default=0.0) / -math.log10(float(np.finfo(float).eps))
    numbers = {
        "cases": len(ok),
        "mismatches": wrong,
        "min_last_nonzero_sigma_rel": gap_lo,
        "max_first_zero_sigma_rel": gap_hi,
        "min_decades_from_cut": min(decades, default=float("nan")),
        "defective_cases_checked": defective,
        "failed_runs": failed_runs(results),
    }
    measured = (
        f"{len(ok) - len(wrong)}/{len(ok)} ranks equal (incl. {defective} defective); "
        f"σ gap {gap_lo:.1e} vs {gap_hi:.1e}"
    )
    ev = Evidence()
    ev.add(
        exact_check(
            "tangent rank = generic_tangent_dim in every case",
            len(ok) - len(wrong),
            len(ok),
            robustness,
            f"{len(ok) - len(wrong)}/{len(ok)} equal; mismatches {wrong[:3]}",
        )
    )
    return ev.verdict(predicted=predicted, measured=measured, numbers=numbers)


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], figure: Any) -> dict:
    ax, ax2 = figure.subplots(1, 2)
    data = columns(
        "order", "d", "m", "seed", "rank", "predicted", "D", "sigma_last_over_cut",
        "sigma_next_over_cut",
    )  # fmt: skip
    ok = sorted(ok_runs(results), key=lambda cm: (cm[0].order, cm[0].d, cm[0].m, cm[0].seed))
    for c, mt in ok:
        key = f"{c.order},{c.d},{c.m}"
        row = (
            c.order, c.d, c.m, c.seed, mt["rank"], prediction["dim"][key], prediction["D"][key],
            mt["sigma_last_rel"] / _cut(c), mt["sigma_next_rel"] / _cut(c),
        )  # fmt: skip
        for k, v in zip(data, row, strict=True):
            data[k].append(v)
    if data["rank"]:
        D = np.array(data["D"], float)
        x = np.array(data["m"]) * np.array(data["d"]) / D
        defective = np.array(
            [
                (l, d, m) in DEFECTIVE
                for l, d, m in zip(data["order"], data["d"], data["m"], strict=True)
            ]
        )
        for l in sorted(set(data["order"])):
            sel = np.array(data["order"]) == l
            ax.scatter(
                x[sel], np.array(data["rank"])[sel] / D[sel], s=18, label=f"measured, $l = {l}$"
            )
        ax.scatter(
            x, np.array(data["predicted"]) / D, s=70, facecolors="none", edgecolors="k", lw=0.8,
            label="predicted (generic_tangent_dim)",
        )  # fmt: skip
        ax.scatter(
            x[defective], np.array(data["predicted"])[defective] / D[defective], marker="x", s=80,
            color=BAR_COLOR, label="defective case (AH: one less)",
        )  # fmt: skip
        xs = np.linspace(0, max(x.max(), 1.0), 50)
        ax.plot(xs, np.minimum(xs, 1.0), "k:", lw=1, label="min(m·d, D)/D")
        idx = np.arange(len(data["rank"]))
        ax2.plot(idx, data["sigma_last_over_cut"], "^", color="tab:blue", label="last kept σ / cut")
        nxt = np.array(data["sigma_next_over_cut"], float)
        has = nxt > 0
        ax2.plot(idx[has], nxt[has], "v", color="tab:orange", label="first dropped σ / cut")
    ax2.axhline(
        1.0,
        color=BAR_COLOR,
        ls="--",
        lw=1.4,
        label=r"the cut $\sigma_{\max}\cdot\max(D, md)\cdot\epsilon_{\mathrm{mach}}$",
    )
    ax2.set_yscale("log")
    ax2.set_xlabel("case (sorted by $l$, $d$, $m$)")
    ax2.set_ylabel("singular value / the rank cut")
    ax2.set_title("Judged: the cut separates kept from dropped")
    legend(ax2, fontsize=9, loc="center right")
    ax.set_xlabel(r"$m d\,/\,D(d,l)$")
    ax.set_ylabel(r"tangent rank $/\,D(d,l)$")
    ax.set_title("Tangent dimension at random init (Terracini + AH)")
    legend(ax, fontsize=9, loc="lower right")
    return data
