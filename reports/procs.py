"""Worker processes: how many may be started, and making sure none outlives the report.

* :func:`max_workers` bounds ``--workers`` (and Dask's ``n_workers``) before anything is spawned:
  ``--workers 100000`` forked hundreds of processes and computed nothing.
* :func:`worker_init` runs in every local pool worker: it restores the default ``SIGTERM`` action
  (so terminating a worker ends it quietly) and starts a daemon thread that ends the worker as soon
  as its parent process is gone — a main process killed by ``SIGKILL`` or ``SIGTERM`` no longer
  leaves its workers running, re-parented to ``init``, until their current run ends.
* :func:`terminate_pool` ends a pool's workers at once when the main process is interrupted
  (``SIGINT``/``SIGTERM``): their unfinished runs are dropped; finished ones are already stored.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor

__all__ = [
    "MAX_WORKERS_PER_CPU",
    "PARENT_POLL_S",
    "check_workers",
    "max_workers",
    "terminate_pool",
    "worker_init",
]

#: ``--workers`` may be at most this many times the CPU count (more processes than that only add
#: memory and context switches: every run is CPU-bound).
MAX_WORKERS_PER_CPU = 4

#: Seconds between two checks of a worker's parent process.
PARENT_POLL_S = 0.25


def max_workers(cpus: int | None = None) -> int:
    """The largest accepted worker count: ``MAX_WORKERS_PER_CPU × cpu_count``."""
    if cpus is None:
        cpus = os.cpu_count() or 1
    return MAX_WORKERS_PER_CPU * max(1, cpus)


def check_workers(workers: object, name: str = "workers") -> int | None:
    """``None`` (default: CPU count) or a positive int ``<= max_workers()``; ``ValueError`` otherwise."""
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"{name} must be a positive integer, got {workers!r}")
    limit = max_workers()
    if workers > limit:
        raise ValueError(
            f"{name} must be <= {limit} ({MAX_WORKERS_PER_CPU} × {os.cpu_count() or 1} CPUs), got "
            f"{workers}: more processes than that only compete for the same cores"
        )
    return workers


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent:  # re-parented: the main process is gone
            os._exit(1)


def worker_init() -> None:
    """Initializer of the local pool's workers (see the module docstring)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()
    threading.Thread(
        target=_watch_parent, args=(parent,), name="overtensor-parent-watch", daemon=True
    ).start()


def terminate_pool(pool: ProcessPoolExecutor) -> None:
    """Drop queued runs and end ``pool``'s worker processes now (interrupted sweep)."""
    procs = dict(getattr(pool, "_processes", None) or {})  # pid -> Process (CPython's pool)
    pool.shutdown(wait=False, cancel_futures=True)
    procs.update(getattr(pool, "_processes", None) or {})  # any started while shutting down
    for proc in procs.values():
        try:
            proc.terminate()
        except (OSError, ValueError):  # already gone
            pass
    deadline = time.monotonic() + 5.0
    for proc in procs.values():
        proc.join(timeout=max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=1.0)
    # The pool's own manager thread joins the same processes; when it reaps one first, this
    # thread's join returns early and sees it "alive" until that thread records its exit code.
    settle = time.monotonic() + 2.0
    while any(p.exitcode is None for p in procs.values()) and time.monotonic() < settle:
        time.sleep(0.005)
