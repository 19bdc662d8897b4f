"""Run the benchmarks: ``python -m benchmarks [NAME ...] [--list] [OPTIONS]``.

* no ``NAME``: every module ``benchmarks/bench_*.py``, in alphabetical order;
* ``NAME`` (``gradient`` or ``bench_gradient``): only those;
* ``--list``: print the available names and exit;
* ``--json PATH`` (or ``--json=PATH``): where to write the recorded ratios as JSON (default
  ``.overtensor-cache/bench.json``);
* ``--check``: compare the recorded ratios with ``benchmarks/thresholds.json`` and exit 1 when one
  regressed by more than 30% (a higher-is-better ratio below 0.7× its threshold value, a lower-is-better
  one above 1.3×); ratios not measured in this run are listed as such;
* ``--update-thresholds``: write the recorded ratios into ``benchmarks/thresholds.json`` (merged);
* every other option (e.g. ``--quick``) is passed on to each module's ``main(argv)``.

After the modules ran, the ratios they recorded (:func:`benchmarks.record`) are printed as a table.

Exit status: 0 when every module's ``main`` returned 0, 1 when one returned non-zero or raised (the
others still run) or, with ``--check``, a ratio regressed; 2 for an unknown name. Slowness alone never
fails a benchmark: modules print PASS/MISS; only ``--check`` turns a >30% ratio regression into exit 1.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import RECORDS, available

THRESHOLDS = Path(__file__).with_name("thresholds.json")
DEFAULT_JSON = Path(".overtensor-cache") / "bench.json"
TOLERANCE = 0.30  # a ratio may regress by 30% before --check fails


def _pop_value(args: list[str], flag: str) -> str | None:
    """Remove ``flag VALUE`` or ``flag=VALUE`` from ``args``; return VALUE (None when absent)."""
    for i, a in enumerate(args):
        if a == flag:
            if i + 1 >= len(args):
                raise SystemExit(f"{flag} needs a value")
            value = args[i + 1]
            del args[i : i + 2]
            return value
        if a.startswith(flag + "="):
            del args[i]
            return a.split("=", 1)[1]
    return None


def check_ratios(
    records: dict[str, dict[str, tuple[float, bool]]],
    thresholds: dict[str, dict[str, Any]],
    tolerance: float = TOLERANCE,
) -> list[dict[str, Any]]:
    """One row per threshold and per recorded ratio: value, limit and status (ok/REGRESSED/not measured/no threshold).

    A threshold entry is ``{"value": v, "higher_is_better": bool}``; the limit is ``(1 - tolerance)·v`` for
    higher-is-better ratios and ``(1 + tolerance)·v`` otherwise.
    """
    rows = []
    for module, entries in sorted(thresholds.items()):
        if module.startswith("_"):  # "_about": documentation
            continue
        for name, th in sorted(entries.items()):
            base, higher = float(th["value"]), bool(th.get("higher_is_better", True))
            limit = base * (1 - tolerance) if higher else base * (1 + tolerance)
            got = records.get(module, {}).get(name)
            if got is None:
                status, value = "not measured", None
            else:
                value = got[0]
                bad = value < limit if higher else value > limit
                status = "REGRESSED" if bad else "ok"
            rows.append(
                {
                    "module": module,
                    "name": name,
                    "value": value,
                    "threshold": base,
                    "limit": limit,
                    "higher_is_better": higher,
                    "status": status,
                }
            )
    for module, entries in sorted(records.items()):
        for name, (value, higher) in sorted(entries.items()):
            if name not in thresholds.get(module, {}):
                rows.append(
                    {
                        "module": module,
                        "name": name,
                        "value": value,
                        "threshold": None,
                        "limit": None,
                        "higher_is_better": higher,
                        "status": "no threshold",
                    }
                )
    return rows


def _print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("no ratios recorded")
        return
    print(f"{'module':<14} {'ratio':<34} {'value':>9} {'threshold':>10} {'limit':>9}  status")
    for r in rows:

        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:.3g}"

        arrow = ">=" if r["higher_is_better"] else "<="
        print(
            f"{r['module']:<14} {r['name']:<34} {fmt(r['value']):>9} {fmt(r['threshold']):>10} "
            f"{arrow}{fmt(r['limit']):>7}  {r['status']}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    json_path = Path(_pop_value(args, "--json") or DEFAULT_JSON)
    check = "--check" in args
    update = "--update-thresholds" in args
    args = [a for a in args if a not in ("--check", "--update-thresholds")]
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
    thresholds = json.loads(THRESHOLDS.read_text()) if THRESHOLDS.is_file() else {}
    rows = check_ratios(RECORDS, thresholds)
    print(f"=== ratios (threshold check: regression > {TOLERANCE:.0%} fails with --check)")
    _print_table(rows)
    out = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": os.getloadavg()[0],
        },
        "modules": wanted,
        "options": options,
        "exit": status,
        "ratios": rows,
    }
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"ratios written to {json_path}")
    if update:
        for mod_name, entries in RECORDS.items():
            for name, (value, higher) in entries.items():
                thresholds.setdefault(mod_name, {})[name] = {
                    "value": round(value, 4),
                    "higher_is_better": higher,
                }
        THRESHOLDS.write_text(json.dumps(thresholds, indent=2, sort_keys=True) + "\n")
        print(f"thresholds updated in {THRESHOLDS}")
    if check and any(r["status"] == "REGRESSED" for r in rows):
        print("threshold check: FAILED (a ratio regressed by more than 30%)")
        return 1
    if check:
        print("threshold check: passed")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
