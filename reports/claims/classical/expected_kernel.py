"""theory.expected-kernel — the expected lazy-regime tangent kernel (docs/math.md §4).

``E K(x, y) = m l² σ^{2(l-1)} ρ P_l(ρ)`` with ``P_l`` derived by :func:`theory.expected_ntk_poly` from
bivariate Gaussian moments, against Monte Carlo over the initialisation ``w_i ~ N(0, σ²I)``. Negative
control: Rademacher entries (same variance, other fourth moments), where the formula does not apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from theory import expected_ntk, expected_ntk_poly
from theory.kernel import RHO, SIGMA, M

from ...registered import registration
from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence
from .._shared import check_profile, columns, legend, no_runs, sympy_text
from ._common import by_config, predicted_rows

REGISTERED = registration("theory.expected-kernel")  # tolerances fixed in reports/registered.toml
KERNEL_N_SE = REGISTERED.tolerance("standard_errors")

claim = declare(
    "theory.expected-kernel",
    source="derived (docs/math.md §4, expected lazy-regime kernel)",
    statement=(
        "For w_i ~ N(0, σ²I) and unit x, y with ρ = x·y, the expected tangent kernel of the plain model "
        "is E K(x, y) = m l² σ^{2(l-1)} ρ P_l(ρ), with P_l(ρ) = E[Z1^{l-1} Z2^{l-1}] derived from the "
        "bivariate Gaussian moment generating function (P_2 = ρ, P_3 = 1 + 2ρ², P_4 = 9ρ + 6ρ³)."
    ),
    latex=r"\mathbb E\,K(x,y)=m\,l^2\sigma^{2(l-1)}\rho\,P_l(\rho),\quad P_l(\rho)=\mathbb E[Z_1^{l-1}Z_2^{l-1}]",
    method=(
        "Monte Carlo over the initialisation: n independent draws of W (m = 4, d = 8, σ = 0.8), K(x, y) "
        "evaluated directly for a random orthonormal pair giving x·y = ρ; quick: l = 2..4, two ρ, n = 4e4; "
        "full: l = 2..5, six ρ, two seeds, n = 4e5. Control: Rademacher entries ±σ (same variance, "
        "other fourth moments) at l = 3, 4, where the Gaussian-moment formula does not apply: the same "
        "judge must fail."
    ),
    tolerance=(
        f"|MC mean - exact| <= {KERNEL_N_SE} standard errors (sample estimate) in every case: under the "
        "CLT a false failure has probability about 7e-6 per case"
    ),
    tolerance_source=(
        f"derived: CLT for a Monte Carlo mean; P(|Z| > {KERNEL_N_SE}) = 6.8e-6 per case, below 3.3e-4 "
        "over the full profile's 48 cases (union bound)"
    ),
    reference=(
        "docs/math.md §4: the expected lazy-regime kernel, from Gaussian moments "
        "(Isserlis'/Wick's theorem)"
    ),
    caption=("Every case's Monte Carlo error, in standard errors, must stay below the dashed bar."),
)


@dataclass(frozen=True)
class KernelCase:
    """Monte Carlo of ``K(x, y)`` over ``w_i ~ N(0, σ²I_d)``, ``m`` components, unit ``x, y`` with ``x·y = ρ``."""

    l: int
    d: int
    m: int
    sigma: float
    rho: float
    n_samples: int
    seed: int
    init: str = "gaussian"  # "rademacher" (entries ±σ): the negative control, same variance


@claim.configs
def configs(profile: str) -> list[KernelCase]:
    seeds: tuple[int, ...]
    if check_profile(profile) == "quick":
        grid = [(l, rho) for l in (2, 3, 4) for rho in (0.3, -0.7)]
        n, seeds = 40_000, (0,)
    else:
        grid = [(l, rho) for l in (2, 3, 4, 5) for rho in (-0.9, -0.4, 0.1, 0.2, 0.6, 0.95)]
        n, seeds = 400_000, (0, 1)
    return [
        KernelCase(l, d=8, m=4, sigma=0.8, rho=rho, n_samples=n, seed=1000 * l + 10 * i + s)
        for i, (l, rho) in enumerate(grid)
        for s in seeds
    ]


@claim.controls
def controls(profile: str) -> dict[str, list[KernelCase]]:
    """Rademacher entries ±σ: same variance, other fourth moments, so E K differs for l >= 3.

    P_l is derived from Gaussian moments (docs/math.md §4); for l = 2 only second moments enter and
    the formula holds for any law, hence the control uses l = 3, 4 only (derivation:
    docs/math.md §8).
    """
    seeds = (0,) if check_profile(profile) == "quick" else (0, 1)
    n = 40_000 if profile == "quick" else 400_000
    return {
        "rademacher initialisation": [
            KernelCase(l, 8, 4, 0.8, rho, n, seed=5000 + 1000 * l + 10 * i + s, init="rademacher")
            for i, (l, rho) in enumerate((l, rho) for l in (3, 4) for rho in (0.3, -0.7))
            for s in seeds
        ]
    }


@claim.experiment
def experiment(cfg: KernelCase) -> dict[str, Any]:
    """Sample ``K(x, y) = l² Σ_i (w_i·x)^{l-1}(w_i·y)^{l-1}(x·y)``; mean and standard error."""
    rng = np.random.default_rng(cfg.seed)
    # random orthonormal pair (e, f), x = e, y = ρe + sqrt(1-ρ²)f
    Q, _ = np.linalg.qr(rng.standard_normal((cfg.d, 2)))
    x = Q[:, 0]
    y = cfg.rho * Q[:, 0] + np.sqrt(1 - cfg.rho**2) * Q[:, 1]
    total = np.empty(cfg.n_samples)
    chunk = 20_000
    for start in range(0, cfg.n_samples, chunk):
        k = min(chunk, cfg.n_samples - start)
        if cfg.init == "gaussian":
            W = cfg.sigma * rng.standard_normal((k, cfg.m, cfg.d))
        elif cfg.init == "rademacher":
            W = cfg.sigma * rng.choice([-1.0, 1.0], size=(k, cfg.m, cfg.d))
        else:
            raise ValueError(f"init must be 'gaussian' or 'rademacher', got {cfg.init!r}")
        total[start : start + k] = (
            cfg.l**2
            * np.sum((W @ x) ** (cfg.l - 1) * (W @ y) ** (cfg.l - 1), axis=1)
            * cfg.rho  # x·y = ρ exactly by construction (avoids rounding at ρ = 0)
        )
    mean = float(total.mean())
    se = float(total.std(ddof=1) / np.sqrt(cfg.n_samples))
    if not (np.isfinite(mean) and np.isfinite(se)):
        raise ArithmeticError(f"non-finite Monte Carlo estimate for {cfg}")
    return {"mc_mean": mean, "mc_se": se}


def _kernel_value(c: KernelCase) -> float:
    return float(expected_ntk(c.l).subs({M: c.m, SIGMA: c.sigma, RHO: c.rho}))


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    cases = [*configs(profile), *controls(profile)["rademacher initialisation"]]
    return {
        "P_l": {str(l): str(expected_ntk_poly(l)) for l in sorted({c.l for c in cases})},
        "expected": by_config(cases, _kernel_value),
        "n_se": KERNEL_N_SE,
    }


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    predicted = "E K = m l² σ^{2(l-1)} ρ P_l(ρ), " + ", ".join(
        f"P_{k} = {sympy_text(v)}" for k, v in prediction["P_l"].items()
    )
    pairs = predicted_rows(results, prediction, "expected")
    if not pairs:
        return no_runs(predicted)
    z = [
        abs(m["mc_mean"] - e) / m["mc_se"]
        if m["mc_se"] > 0
        else (0.0 if m["mc_mean"] == e else np.inf)
        for _, m, e in pairs
    ]
    worst = int(np.argmax(z))
    numbers = {"max_z": float(z[worst]), "cases": len(pairs), "n_se": prediction["n_se"]}
    ev = Evidence()
    ev.at_most(
        f"largest |MC mean - exact| in standard errors ({len(pairs)} cases)",
        float(z[worst]),
        prediction["n_se"],
    )
    c, m, e = pairs[worst]
    ev.note(f"Worst case {c}: MC {m['mc_mean']:.5g} ± {m['mc_se']:.2g} vs exact {e:.5g}.")
    return ev.verdict(
        predicted=predicted,
        measured=f"max |MC - exact| = {z[worst]:.2f} standard errors over {len(pairs)} cases",
        numbers=numbers,
    )


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    data = columns("l", "rho", "seed", "exact", "mc_mean", "mc_se", "z")
    for c, m, e in predicted_rows(results, prediction, "expected"):
        data["l"].append(c.l)
        data["rho"].append(c.rho)
        data["seed"].append(c.seed)
        data["exact"].append(e)
        data["mc_mean"].append(m["mc_mean"])
        data["mc_se"].append(m["mc_se"])
        data["z"].append(abs(m["mc_mean"] - e) / m["mc_se"] if m["mc_se"] > 0 else 0.0)
    ax = fig.add_subplot(1, 1, 1)
    cases = list(range(len(data["z"])))
    for l in sorted(set(data["l"])):
        idx = [i for i in cases if data["l"][i] == l]
        ax.scatter(idx, [data["z"][i] for i in idx], s=40, label=f"l={l}", zorder=3)
    ax.axhline(prediction["n_se"], color="r", ls="--", label=f"bar: {prediction['n_se']:g} se")
    ax.set_xticks(cases, [f"l={l}\nρ={r:g}" for l, r in zip(data["l"], data["rho"], strict=True)])
    ax.set_ylim(0, max([prediction["n_se"], *data["z"]]) * 1.15)
    ax.set_xlabel("case")
    ax.set_ylabel("|Monte Carlo mean - exact E K| / standard error")
    ax.set_title("Expected NTK vs Monte Carlo, in standard errors (docs/math.md §4)")
    legend(ax)
    return data
