"""Tiny fake claims for the reports tests (module-level, so process pools can pickle them).

They are built by :func:`make_claim` and NOT registered globally: tests that need them in the
registry use ``monkeypatch.setitem(REGISTRY, ...)`` so the real registry stays untouched.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reports.registry import Claim, RunResult, Verdict


@dataclass(frozen=True)
class FakeConfig:
    """``x``: input; ``seed``: randomness; ``fail``: raise in the experiment; ``delay``: sleep (s);
    ``marker_dir``: if set, each execution appends a line to ``marker_dir/<x>.txt``."""

    x: int
    seed: int = 0
    fail: bool = False
    delay: float = 0.0
    marker_dir: str = ""


def noisy_square(cfg: FakeConfig) -> dict[str, Any]:
    """``x² + N(0, 1)·1e-3`` drawn from ``seed``; raises for ``fail``; records executions."""
    if cfg.marker_dir:
        with open(os.path.join(cfg.marker_dir, f"{cfg.x}.txt"), "a") as fh:
            fh.write(f"{os.getpid()}\n")
    if cfg.delay:
        time.sleep(cfg.delay)
    if cfg.fail:
        raise FloatingPointError(f"simulated divergence at x={cfg.x}")
    noise = float(np.random.default_rng(cfg.seed).standard_normal())
    return {"value": cfg.x**2 + 1e-3 * noise, "x": cfg.x}


_MARGIN = {"holds": 0.5, "fails": -0.5}


def _judge_by(status: str):
    def judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
        ok = [r for r in results if r.ok]
        return Verdict(
            status,  # type: ignore[arg-type]
            f"fake judge says {status}",
            "x²",
            f"{len(ok)} ok runs",
            {"ok_runs": len(ok)},
            margin=_MARGIN.get(status),
        )

    return judge


def evidence_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    """A judge built with :class:`reports.statistics.Evidence`: the effect is "x < 10".

    Parts: a rate (ok runs >= 0.1), a paired contrast (x < 10 vs never, threshold 0.1) and a check
    (largest x <= 9.5); on controls with x >= 10 the check and the contrast fail.
    """
    from reports.statistics import Evidence

    ok = [r for r in results if r.ok and r.metrics is not None]
    xs = [r.config.x for r in ok]
    ev = Evidence()
    ev.rate_at_least("runs with metrics", len(ok), len(results), 0.1)
    ev.contrast("x below 10 vs never", [x < 10 for x in xs], [False] * len(xs), threshold=0.1)
    ev.at_most("largest x", float(max(xs, default=float("nan"))), 9.5)
    return ev.verdict(predicted="x < 10", measured=f"xs {xs}", numbers={"n": len(xs)})


def _plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    ax = fig.add_subplot(1, 1, 1)
    xs = [r.config.x for r in results if r.ok and r.metrics is not None]
    ys = [r.metrics["value"] for r in results if r.ok and r.metrics is not None]
    ax.plot(xs, ys, "o")
    return {"x": xs, "value": ys}


def _broken_plot(prediction: Mapping[str, Any], results: Sequence[RunResult], fig: Any) -> dict:
    raise RuntimeError("plot is broken")


def make_claim(
    claim_id: str,
    *,
    judge_status: str = "holds",
    failing: Sequence[int] = (),
    n: int = 4,
    broken_plot: bool = False,
    model_choice: str = "",
    controls: Mapping[str, Sequence[int]] | None = None,
    control_failing: Sequence[int] = (),
    judge: Any = None,
) -> Claim:
    """A fake claim over ``x = 0..n-1``; configs with ``x in failing`` raise in the experiment.

    ``controls``: ``{name: xs}`` negative-control configs (run by the same experiment and ``judge``);
    control configs with ``x in control_failing`` raise.
    """

    def control_configs(profile: str) -> dict[str, list[FakeConfig]]:
        return {
            k: [FakeConfig(x, seed=100 + x, fail=x in control_failing) for x in xs]
            for k, xs in (controls or {}).items()
        }

    def configs(profile: str) -> list[FakeConfig]:
        k = n if profile == "quick" else 2 * n
        return [FakeConfig(x, seed=x, fail=x in failing) for x in range(k)]

    return Claim(
        id=claim_id,
        source="extension (test fixture)",
        statement=f"fake statement of {claim_id}",
        latex=r"y = x^2",
        method="evaluate x² with tiny seeded noise",
        tolerance="fake tolerance: |y - x²| <= 1e-2",
        experiment=noisy_square,
        configs=configs,
        predict=lambda profile: {"formula": "x^2"},
        judge=judge if judge is not None else _judge_by(judge_status),
        plot=_broken_plot if broken_plot else _plot,
        model_choice=model_choice,
        tolerance_source="derived: test fixture",
        controls=control_configs if controls else None,
    )


def seed_rate_judge(prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Verdict:
    """A rate judge: a run succeeds when its seed is not a multiple of 4 (so the rate depends on the
    seed block only through which seeds it holds); "rate >= 0.5" with the exact-interval rule."""
    from reports.statistics import Evidence

    ok = [r for r in results if r.ok and r.metrics is not None]
    ev = Evidence()
    ev.rate_at_least(
        "seed not a multiple of 4", sum(r.config.seed % 4 != 0 for r in ok), len(results), 0.5
    )
    return ev.verdict(predicted="rate >= 0.5", measured=f"{len(ok)} runs")
