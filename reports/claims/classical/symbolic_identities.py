"""theory.symbolic-identities — explicit symbolic tensors equal the Gram-form closed forms (docs/math.md §2–4).

Explicit symbolic tensors against the Gram-form closed forms used by :mod:`numerics`: the loss and its
``sympy.diff`` gradient (three models), the tangent Gram formula by explicit symmetrisation, and the
tangent-kernel action ``JᵀJ``; the verdict comes from exact expansion (every difference ``== 0``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from theory import verify_gram_identity, verify_tangent_gram, verify_tangent_kernel_action

from ...registry import RunResult, Verdict, declare
from ...statistics import Evidence
from .._shared import check_profile, columns, no_runs, ok_runs
from ._common import MODELS

claim = declare(
    "theory.symbolic-identities",
    source="classical / derived (docs/math.md §2–4)",
    statement=(
        "For small sizes, the loss and gradient computed from explicit symbolic d^l tensors (gradient "
        "by sympy.diff) equal the Gram-form closed forms used by numerics for the plain, coefficient "
        "and two-homogeneous models; the tangent Gram <Sym(a^{⊗(l-1)}⊗u), Sym(b^{⊗(l-1)}⊗v)> from "
        "explicit symmetrisation equals (1/l)[(a·b)^{l-1}(u·v)+(l-1)(a·b)^{l-2}(a·v)(b·u)]; and JᵀJ "
        "acts as l[G^{∘(l-1)}V + ((l-1)G^{∘(l-2)}∘(WVᵀ))W]."
    ),
    latex=(
        r"\langle \mathrm{Sym}(a^{\otimes(l-1)}\otimes u),\mathrm{Sym}(b^{\otimes(l-1)}\otimes v)\rangle"
        r"=\tfrac1l\big[(a\cdot b)^{l-1}(u\cdot v)+(l-1)(a\cdot b)^{l-2}(a\cdot v)(b\cdot u)\big]"
    ),
    method=(
        "sympy: explicit tensors over all d^l multi-indices (symmetrisation over all l! permutations), "
        "differences expanded exactly; homogeneous norms replaced by positive symbols ν_i after "
        "differentiation (a sufficient proof). quick: l = 2..4 at d = 2; full: up to l = 5, d = 3, m = 3."
    ),
    tolerance="exact: every expanded difference must be the integer 0 (no numerical tolerance)",
    tolerance_source="derived: exact rational arithmetic (sympy.expand), so no tolerance is needed",
    no_control=(
        "exact identities proved by symbolic expansion: a wrong closed form leaves a non-zero "
        "expanded difference (tests/theory check that), so no configuration is needed to show the "
        "check can fail"
    ),
    model_choice="two-homogeneous parametrisation Σ_i ||w_i||^{2-l} w_i^{⊗l} (docs/math.md §3.3)",
    reference=(
        "docs/math.md §2–4: Gram forms, gradients, tangent Gram matrix and tangent-kernel action,"
        " proved by exact expansion"
    ),
    caption=(
        "Every bar must be green: that identity's symbolic difference expanded to exactly 0 (bar "
        "length: seconds the proof took)."
    ),
)


@dataclass(frozen=True)
class IdentityCase:
    """One exact identity: ``kind`` in {"gram", "tangent-gram", "tangent-kernel"} at sizes (l, d, m, r)."""

    deterministic: ClassVar[bool] = True  # draws no random numbers

    kind: str
    l: int
    d: int
    m: int = 1
    r: int = 1
    model: str = "plain"


@claim.configs
def configs(profile: str) -> list[IdentityCase]:
    if check_profile(profile) == "quick":
        gram = [(2, 2, 2, 1), (3, 2, 2, 1), (4, 2, 2, 1)]
        tg = [(2, 2), (3, 2), (4, 2)]
        tk = [(3, 2, 2)]
    else:
        gram = [(2, 3, 2, 2), (3, 3, 3, 2), (4, 3, 2, 2), (5, 2, 3, 2), (5, 3, 2, 1)]
        tg = [(2, 3), (3, 3), (4, 3), (5, 2), (5, 3), (6, 2)]
        tk = [(2, 3, 2), (3, 3, 2), (4, 2, 3), (5, 2, 2)]
    cases = [IdentityCase("gram", l, d, m, r, model) for l, d, m, r in gram for model in MODELS]
    cases += [IdentityCase("tangent-gram", l, d) for l, d in tg]
    cases += [IdentityCase("tangent-kernel", l, d, m) for l, d, m in tk]
    return cases


@claim.experiment
def experiment(cfg: IdentityCase) -> dict[str, Any]:
    """Prove the identity by exact expansion; report whether each difference is 0."""
    if cfg.kind == "gram":
        checks = verify_gram_identity(cfg.l, cfg.d, cfg.m, cfg.model, cfg.r)
    elif cfg.kind == "tangent-gram":
        checks = (verify_tangent_gram(cfg.l, cfg.d),)
    elif cfg.kind == "tangent-kernel":
        checks = (verify_tangent_kernel_action(cfg.l, cfg.d, cfg.m),)
    else:
        raise ValueError(f"unknown identity kind {cfg.kind!r}")
    return {  # no timings: stored metrics must not depend on the machine (docs/math.md §7)
        "identities": [c.name for c in checks],
        "zero": [bool(c.zero) for c in checks],
        "residual": [c.residual for c in checks],
    }


@claim.predict
def predict(profile: str) -> dict[str, Any]:
    return {"difference": "0", "rule": "sympy.expand(explicit - closed form) == 0"}


@claim.judge
def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    ok = ok_runs(results)
    predicted = "explicit - closed form expands to exactly 0"
    if not ok:
        return no_runs(predicted)
    n = sum(len(m["zero"]) for _, m in ok)
    bad = [
        (c, name, res)
        for c, m in ok
        for name, z, res in zip(m["identities"], m["zero"], m["residual"], strict=True)
        if not z
    ]
    numbers = {"identities": n, "nonzero": len(bad)}
    ev = Evidence()
    ev.exact("explicit - closed form expands to 0", len(bad), n, "identities")
    if bad:
        c, name, res = bad[0]
        ev.note(f"First non-zero: {name} at {c} leaves {res[:80]}.")
    return ev.verdict(
        predicted=predicted,
        measured=f"{n - len(bad)} of {n} differences are exactly 0",
        numbers=numbers,
    )


@claim.plot
def plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    config_keys = ("kind", "model", "l", "d", "m", "r")
    data = columns(*config_keys, "zero", "seconds")
    for r in results:  # seconds: the run's wall time (never stored in the metrics)
        if not (r.ok and r.metrics is not None):
            continue
        for key in config_keys:
            data[key].append(getattr(r.config, key))
        data["zero"].append(all(r.metrics["zero"]))
        data["seconds"].append(r.wall_time)
    ax = fig.add_subplot(1, 1, 1)
    labels = [
        f"{k}: {mo}, l={l}, d={d}, m={m}"
        for k, mo, l, d, m in zip(
            data["kind"], data["model"], data["l"], data["d"], data["m"], strict=True
        )
    ]
    colors = ["tab:green" if z else "tab:red" for z in data["zero"]]
    ax.barh(range(len(labels)), data["seconds"], color=colors)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("seconds for the exact proof (green: difference == 0)")
    ax.set_title("Symbolic identities (docs/math.md §2–4)")
    return data
