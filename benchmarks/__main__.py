"""Run the benchmarks: ``python -m benchmarks [NAME ...] [--list] [OPTIONS]``.

* no ``NAME``: every module ``benchmarks/bench_*.py``, in alphabetical order;
* ``NAME`` (``gradient`` or ``bench_gradient``): only those;
* ``--list``: print the available names and exit;
* every other option (e.g. ``--quick``) is passed on to each module's ``main(argv)``.

Exit status: 0 when every module's ``main`` returned 0, 1 when one returned non-zero or raised (the
others still run), 2 for an unknown name. Slowness never fails a benchmark: modules print PASS/MISS.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from collections.abc import Sequence

from . import available


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names = [a for a in args if not a.startswith("-")]
    options = [a for a in args if a.startswith("-") and a != "--list"]
    known = available()
    if "--list" in args:
        print("\n".join(known))
        return 0
    wanted = [n.removeprefix("bench_") for n in names] or known
    unknown = [n for n in wanted if n not in known]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {known}", file=sys.stderr)
        return 2
    status = 0
    for name in wanted:
        print(f"=== bench_{name} {' '.join(options)}".rstrip(), flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"{__package__}.bench_{name}")
            rc = module.main(options)
        except SystemExit as exc:  # argparse in a module rejecting an option
            rc = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            traceback.print_exc()
            rc = 1
        print(f"=== bench_{name}: exit {rc} after {time.perf_counter() - t0:.1f} s\n", flush=True)
        if rc:
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
