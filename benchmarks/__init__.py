"""Benchmarks that print ratios against baselines measured in the same process (not timed tests).

Each module ``benchmarks/bench_<name>.py`` exposes ``main(argv) -> int``; ``python -m benchmarks`` runs
them all (see :mod:`benchmarks.__main__`), ``python -m benchmarks <name>`` runs one.
"""

from __future__ import annotations

import pkgutil

__all__ = ["available"]


def available() -> list[str]:
    """Names ``<name>`` of the modules ``bench_<name>`` in this package, sorted."""
    return sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules(__path__)
        if info.name.startswith("bench_")
    )
