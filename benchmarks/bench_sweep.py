"""Sweep throughput of the reports runner: runs per minute on 1 and 2 local workers and on Dask.

The same quick-profile tasks (every config of :data:`CLAIMS`, profile ``quick``) go through
:func:`reports.runner.run_sweep` three times, each into a fresh temporary SQLite store (``fresh=True``,
nothing reused) and each through :func:`reports.runner.make_executor`:

* ``local`` with 1 worker (the baseline, BLAS threads ``= cpus``),
* ``local`` with 2 workers (BLAS threads ``max(1, cpus // 2)`` each),
* ``dask`` with a 2-worker ``LocalCluster`` (one thread per worker, same BLAS threads).

Each executor runs the sweep twice (see :func:`timed_sweep`: cold, then warm). Printed: runs, wall
times, runs per minute (warm), speed-up of 2 local workers over 1, and the Dask overhead ratio
``wall(dask, 2) / wall(local, 2)`` warm (target ``<= 1.3``) and cold (start-up and imports included). Every run must succeed in all three (the results are compared metric by
metric: same code, same seeds, so the same numbers).

Usage: ``python -m benchmarks sweep [--quick]`` (``--quick``: the first two claims only).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks import record
from reports.catalog import get_claim
from reports.registry import RunResult
from reports.runner import make_executor, run_sweep
from reports.store import ResultStore

#: A mix of cheap and flow-heavy quick-profile experiments (about 50 runs).
CLAIMS = (
    "foundation.gram-identity",
    "deflation.order",
    "beyond.bad-local-minima",
    "lazy.nonlinear-sufficiency",
)
OVERHEAD_TARGET = 1.3

Task = tuple[str, Callable[[Any], Mapping[str, Any]], Any]


def quick_tasks(claim_ids: Sequence[str]) -> list[Task]:
    """``(claim_id, experiment, config)`` for every quick-profile config of the claims."""
    tasks: list[Task] = []
    for cid in claim_ids:
        claim = get_claim(cid)
        tasks.extend((cid, claim.experiment, cfg) for cfg in claim.configs("quick"))
    return tasks


def timed_sweep(
    tasks: list[Task], kind: str, workers: int
) -> tuple[float, float, float, list[RunResult]]:
    """``(start-up s, cold sweep s, warm sweep s, results)``: two sweeps through one executor.

    The cold sweep includes the workers' first imports (a forked local pool inherits the parent's
    modules, Dask's spawned workers import numpy/scipy/the package themselves); the warm sweep repeats
    the same tasks (``fresh=True``) in the same workers: the steady-state cost per run.
    """
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore(Path(tmp) / "bench.sqlite")
        try:
            t0 = time.perf_counter()
            with make_executor(kind, workers=workers) as (executor, info):
                t1 = time.perf_counter()
                walls = []
                for _ in range(2):
                    s = time.perf_counter()
                    results = run_sweep(
                        tasks,
                        store=store,
                        executor=executor,
                        blas_threads=info.blas_threads,
                        fresh=True,
                        progress="none",
                    )
                    walls.append(time.perf_counter() - s)
        finally:
            store.close()
    return t1 - t0, walls[0], walls[1], results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three sweeps and print throughput and ratios; returns 1 when a run failed, else 0."""
    parser = argparse.ArgumentParser(
        prog="bench_sweep", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="the first two claims only")
    args = parser.parse_args(list(argv) if argv is not None else None)
    claim_ids = CLAIMS[:2] if args.quick else CLAIMS
    tasks = quick_tasks(claim_ids)
    print(
        f"quick-profile sweep of {len(tasks)} runs ({', '.join(claim_ids)}); {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    setups = [("local", 1), ("local", 2)]
    try:
        import dask.distributed  # noqa: F401

        setups.append(("dask", 2))
    except ImportError:
        print("dask.distributed not installed (extra `dask`): Dask sweep skipped")
    walls: dict[tuple[str, int], tuple[float, float, float]] = {}
    reference: list[RunResult] | None = None
    status = 0
    print(
        f"{'executor':>10} {'workers':>8} {'start [s]':>10} {'cold [s]':>9} {'warm [s]':>9} "
        f"{'runs/min (warm)':>16}"
    )
    for kind, workers in setups:
        start, cold, warm, results = timed_sweep(tasks, kind, workers)
        walls[(kind, workers)] = (start, cold, warm)
        failed = [r for r in results if not r.ok]
        print(
            f"{kind:>10} {workers:>8} {start:>10.2f} {cold:>9.1f} {warm:>9.1f} "
            f"{60 * len(tasks) / warm:>16.1f}"
            + (f"   {len(failed)} FAILED runs: {failed[0].error}" if failed else "")
        )
        if failed:
            status = 1
        if reference is None:
            reference = results
        elif [r.metrics for r in results] != [r.metrics for r in reference]:
            print(f"   {kind} x{workers}: metrics differ from the 1-worker sweep")
            status = 1
    speedup = walls[("local", 1)][2] / walls[("local", 2)][2]
    print(f"2 local workers vs 1 (warm): speed-up {speedup:.2f}x (2 CPUs shared with other users)")
    record("sweep", "local2_speedup", speedup, higher_is_better=True)
    if ("dask", 2) in walls:
        base = walls[("local", 2)]
        dsk = walls[("dask", 2)]
        over = dsk[2] / base[2]
        over_cold = (dsk[0] + dsk[1]) / (base[0] + base[1])
        ok = "PASS" if over <= OVERHEAD_TARGET else "MISS"
        print(
            f"Dask LocalCluster (2 workers) vs local pool (2 workers): overhead {over:.2f}x warm "
            f"({over_cold:.2f}x cold, cluster start-up and worker imports included)   "
            f"target <= {OVERHEAD_TARGET} (warm)   {ok}"
        )
        record("sweep", "dask_overhead", over, higher_is_better=False)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
