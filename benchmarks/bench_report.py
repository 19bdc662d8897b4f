"""Cached report against a fresh one: wall time of ``overtensor report`` over a store it filled before.

The same quick-profile report (every claim, or the foundation claims with ``--quick``) is written three
times into one temporary results store, each by its own ``python -m reports report`` process (what a
user runs: interpreter start, imports and claim loading included):

1. **fresh**: an empty store: every run, figure and formula is computed;
2. **runs cached**: the runs stored, the store's ``artifacts`` table emptied: every figure and formula
   drawn again (what a report over stored runs cost before figures and math were cached, issue 19);
3. **cached**: runs, figures and formulas all stored (best of two).

Printed: wall and CPU time (user + sys of the process and its workers) of each, and the ratios
``fresh / cached`` and ``runs cached / cached``, recorded as ``cached_vs_fresh`` and
``cached_vs_runs_cached`` (higher is better). The three ``summary.json`` must agree on every verdict
and number (timing fields aside), or the benchmark fails. PASS when the cached report of the whole
quick registry takes < 10 s (issue 19's target on the 2-core machine; CPU time is printed too, since
wall time on a shared machine also measures the other users).

Usage: ``python -m benchmarks report [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import record

TARGET_S = 10.0
QUICK_CLAIMS = ("foundation.gram-identity", "foundation.gradient-check", "foundation.loss-monotone")
TIMING_FIELDS = ("runs_cached", "run_time_s")


def timed_report(db: Path, out: Path, claims: Sequence[str]) -> tuple[float, float, dict[str, Any]]:
    """``(wall s, CPU s, summary.json)`` of one ``report --profile quick`` in a new process."""
    argv = [sys.executable, "-m", "reports", "report", "--profile", "quick"]
    argv += ["--db", str(db), "--out", str(out)]
    if claims:
        argv += ["--claims", *claims]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1, 3):  # holds / fails / inconclusive are all reports
        raise RuntimeError(f"report exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall, cpu, json.loads((out / "summary.json").read_text())


def verdicts(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The claims' verdicts and numbers without the fields that differ between runs of one report."""
    return [{k: v for k, v in c.items() if k not in TIMING_FIELDS} for c in summary["claims"]]


def main(argv: Sequence[str] | None = None) -> int:
    """Write the three reports, print their times and the ratios; 1 when their verdicts differ."""
    parser = argparse.ArgumentParser(
        prog="bench_report", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="the three foundation claims only")
    args = parser.parse_args(list(argv) if argv is not None else None)
    claims = QUICK_CLAIMS if args.quick else ()
    what = ", ".join(claims) if claims else "the whole quick registry"
    print(f"quick report of {what}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "results.sqlite"
        fresh = timed_report(db, Path(tmp) / "fresh", claims)
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM artifacts")
        conn.close()
        runs_cached = timed_report(db, Path(tmp) / "runs-cached", claims)
        cached = min(
            (timed_report(db, Path(tmp) / f"cached-{i}", claims) for i in range(2)),
            key=lambda r: r[0],
        )
    rows = [("fresh", fresh), ("runs cached, figures drawn", runs_cached), ("cached", cached)]
    print(f"{'report':>28} {'wall [s]':>9} {'CPU [s]':>8}")
    for name, (wall, cpu, _) in rows:
        print(f"{name:>28} {wall:>9.2f} {cpu:>8.2f}")
    over_fresh = fresh[0] / cached[0]
    over_runs = runs_cached[0] / cached[0]
    print(
        f"fresh / cached: {over_fresh:.1f}x; runs cached (figures drawn) / cached: {over_runs:.2f}x"
    )
    record("report", "cached_vs_fresh", over_fresh, higher_is_better=True)
    record("report", "cached_vs_runs_cached", over_runs, higher_is_better=True)
    status = 0
    if not verdicts(fresh[2]) == verdicts(runs_cached[2]) == verdicts(cached[2]):
        print("the three reports' verdicts or numbers differ")
        status = 1
    if not claims:
        ok = "PASS" if cached[0] < TARGET_S else "MISS"
        print(
            f"cached report {cached[0]:.2f} s (CPU {cached[1]:.2f} s)   target < {TARGET_S} s   {ok}"
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
