"""Tiny fake claims for the reports tests (module-level, so process pools can pickle them).

They are built by :func:`make_claim` and NOT registered globally: tests that need them in the
registry use ``monkeypatch.setitem(REGISTRY, ...)`` so the real registry stays untouched.
"""

from __future__ import annotations

import functools
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
    ``marker_dir``: if set, each execution appends a line to ``marker_dir/<x>.txt``; ``error_text``:
    the failure's message (default: "simulated divergence at x=...")."""

    x: int
    seed: int = 0
    fail: bool = False
    delay: float = 0.0
    marker_dir: str = ""
    error_text: str = ""


def noisy_square(cfg: FakeConfig) -> dict[str, Any]:
    """``x² + N(0, 1)·1e-3`` drawn from ``seed``; raises for ``fail``; records executions."""
    if cfg.marker_dir:
        with open(os.path.join(cfg.marker_dir, f"{cfg.x}.txt"), "a") as fh:
            fh.write(f"{os.getpid()}\n")
    if cfg.delay:
        time.sleep(cfg.delay)
    if cfg.fail:
        raise FloatingPointError(cfg.error_text or f"simulated divergence at x={cfg.x}")
    noise = float(np.random.default_rng(cfg.seed).standard_normal())
    return {"value": cfg.x**2 + 1e-3 * noise, "x": cfg.x}


def unsorted_metrics(cfg: FakeConfig) -> dict[str, Any]:
    """Metrics whose keys are not in sorted order, nested too (a judge listing them in iteration
    order would word its reason differently for fresh and stored runs if the runner did not hand
    both over in the stored form)."""
    return {"by_eps": {"0.3": cfg.x, "0.1": -cfg.x}, "b": np.float64(cfg.x), "a": [np.int64(1)]}


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


def _broken_plot(
    prediction: Mapping[str, Any],
    results: Sequence[RunResult],
    fig: Any,
    message: str = "plot is broken",
) -> dict:
    raise RuntimeError(message)


def _failing_predict(message: str, profile: str) -> dict:
    raise ValueError(message)


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
    texts: Mapping[str, str] | None = None,
    error_text: str = "",
    plot_error: str = "",
    predict_error: str = "",
) -> Claim:
    """A fake claim over ``x = 0..n-1``; configs with ``x in failing`` raise in the experiment.

    ``controls``: ``{name: xs}`` negative-control configs (run by the same experiment and ``judge``);
    control configs with ``x in control_failing`` raise. ``texts`` replaces the claim's texts
    (``source``, ``statement``, ``latex``, ``method``, ``tolerance``, ``tolerance_source``);
    ``error_text``, ``plot_error`` and ``predict_error`` are the messages of the failing runs, of a
    plot that raises (implies ``broken_plot``) and of a ``predict`` that raises.
    """

    def control_configs(profile: str) -> dict[str, list[FakeConfig]]:
        return {
            k: [FakeConfig(x, seed=100 + x, fail=x in control_failing) for x in xs]
            for k, xs in (controls or {}).items()
        }

    def configs(profile: str) -> list[FakeConfig]:
        k = n if profile == "quick" else 2 * n
        return [FakeConfig(x, seed=x, fail=x in failing, error_text=error_text) for x in range(k)]

    plot: Any = _plot
    if broken_plot or plot_error:
        plot = functools.partial(_broken_plot, message=plot_error or "plot is broken")
    described = {
        "source": "extension (test fixture)",
        "statement": f"fake statement of {claim_id}",
        "latex": r"y = x^2",
        "method": "evaluate x² with tiny seeded noise",
        "tolerance": "fake tolerance: |y - x²| <= 1e-2",
        "tolerance_source": "derived: test fixture",
        **(texts or {}),
    }
    return Claim(
        id=claim_id,
        experiment=noisy_square,
        configs=configs,
        predict=(
            functools.partial(_failing_predict, predict_error)
            if predict_error
            else lambda profile: {"formula": "x^2"}
        ),
        judge=judge if judge is not None else _judge_by(judge_status),
        plot=plot,
        model_choice=model_choice,
        controls=control_configs if controls else None,
        **described,
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
