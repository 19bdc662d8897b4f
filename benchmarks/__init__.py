"""Benchmarks that print ratios against baselines measured in the same process (not timed tests).

Each module ``benchmarks/bench_<name>.py`` exposes ``main(argv) -> int``; ``python -m benchmarks`` runs
them all (see :mod:`benchmarks.__main__`), ``python -m benchmarks <name>`` runs one.
"""

from __future__ import annotations

import pkgutil
import time
from collections.abc import Callable

__all__ = ["RECORDS", "available", "best_of", "record"]

#: Ratios recorded by the modules during this process: ``{module: {name: (value, higher_is_better)}}``;
#: :mod:`benchmarks.__main__` prints them as a table, writes them as JSON and checks them against
#: ``benchmarks/thresholds.json``.
RECORDS: dict[str, dict[str, tuple[float, bool]]] = {}


def record(module: str, name: str, value: float, *, higher_is_better: bool = True) -> None:
    """Record a ratio measured against a same-process baseline (for the table and the threshold check)."""
    RECORDS.setdefault(module, {})[name] = (float(value), bool(higher_is_better))


def available() -> list[str]:
    """Names ``<name>`` of the modules ``bench_<name>`` in this package, sorted."""
    return sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules(__path__)
        if info.name.startswith("bench_")
    )


def best_of(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls of ``fn`` (seconds): the least disturbed by other load."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
