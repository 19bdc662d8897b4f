"""Reproducible numbers (issue 11, item 6): ``summary.json`` without its timing and provenance fields
is byte-identical for ``--workers 1``, ``--workers 2`` and ``--executor dask --workers 2``, each on a
fresh database (quick profile).

Every run executes with one BLAS thread whatever the worker count (``reports.runner.RUN_BLAS_THREADS``),
and no claim stores a wall time among its numbers. Slow: three sweeps. The claims default to a subset
that covers every area, including the two whose last digits used to depend on the BLAS thread count;
``OVERTENSOR_REPRO_CLAIMS="all"`` (or a space-separated list of ids) chooses others.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reports.catalog import all_claims
from reports.cli import main

DEFAULT_CLAIMS = (
    "foundation.loss-monotone",
    "theory.expected-kernel",
    "theory.saddle-order",
    "theory.symbolic-identities",
    "lazy.rank-independence",
    "lazy.threshold-scaling",
    "deflation.order",
    "beyond.m-vs-d",
)
TIMING_FIELDS = ("run_time_s", "runs_cached")  # per claim; "provenance" at the top level


def _claims() -> list[str]:
    chosen = os.environ.get("OVERTENSOR_REPRO_CLAIMS", "").split()
    if chosen == ["all"]:
        return [c.id for c in all_claims() if "quick" in c.profiles]
    return chosen or list(DEFAULT_CLAIMS)


def stripped_summary(path: Path) -> str:
    """``summary.json`` without provenance and per-claim timing fields, re-serialised canonically."""
    data = json.loads(path.read_text())
    data.pop("provenance", None)
    for claim in data["claims"]:
        for key in TIMING_FIELDS:
            claim.pop(key, None)
    return json.dumps(data, indent=2, sort_keys=True)


def _report(tmp_path: Path, name: str, *extra: str) -> str:
    out = tmp_path / name
    code = main(
        [
            "report",
            "--profile",
            "quick",
            "--out",
            str(out),
            "--db",
            str(tmp_path / f"{name}.sqlite"),  # a fresh database for each sweep
            *extra,
            "--claims",
            *_claims(),
        ]
    )
    assert code in (0, 1, 3)
    return stripped_summary(out / "summary.json")


@pytest.mark.slow
def test_summary_is_byte_identical_across_workers_and_executors(tmp_path):
    pytest.importorskip("dask.distributed")
    one = _report(tmp_path, "w1", "--workers", "1")
    two = _report(tmp_path, "w2", "--workers", "2")
    dask = _report(tmp_path, "dask2", "--executor", "dask", "--workers", "2")
    assert one == two, "summary.json differs between --workers 1 and --workers 2"
    assert one == dask, "summary.json differs between the local pool and Dask"


def test_stripped_summary_drops_only_timing_and_provenance(tmp_path):
    doc = {
        "profile": "quick",
        "claims": [{"id": "a", "margin": 0.5, "run_time_s": 1.0, "runs_cached": 3}],
        "provenance": {"wall_time_s": 2.0},
    }
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(doc))
    assert json.loads(stripped_summary(path)) == {
        "profile": "quick",
        "claims": [{"id": "a", "margin": 0.5}],
    }
