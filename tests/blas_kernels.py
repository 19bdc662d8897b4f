"""Run the fast numerics tests once per OpenBLAS kernel family (``tox -e blas``).

OpenBLAS picks its kernels by CPU (``DYNAMIC_ARCH``): Prescott (SSE3), Haswell (AVX2, FMA) and, on a
CPU with AVX-512, SkylakeX. Each blocks and fuses its sums differently, so the last bits of a BLAS
result differ between them; a test whose tolerance is not derived from a rounding bound that holds
for every summation order (tests/rounding.py) passes under one and fails under another.
``OPENBLAS_CORETYPE`` forces the family; SkylakeX is run only where ``/proc/cpuinfo`` lists
``avx512f`` (forcing it elsewhere would crash on an illegal instruction). Each run first checks the
kernel family that OpenBLAS reports (an x86-64 build reports Prescott as its alias "Katmai"), so a
forced type that did not take effect is an error, not a silent rerun of the default kernels.

Usage: ``python tests/blas_kernels.py [pytest args]`` (default: ``tests/numerics``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPORT_KERNEL = (
    "import numpy, threadpoolctl; "
    "print(' '.join(sorted({str(i.get('architecture')) "
    "for i in threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas'})))"
)
# the names OpenBLAS reports for a forced core type
REPORTED_AS = {"Prescott": {"Prescott", "Katmai"}, "Haswell": {"Haswell"}, "SkylakeX": {"SkylakeX"}}


def has_avx512() -> bool:
    """``avx512f`` among the CPU flags (Linux ``/proc/cpuinfo``; False where it cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.startswith("flags") and "avx512f" in line.split() for line in text.splitlines())


def core_types() -> list[str]:
    return ["Prescott", "Haswell"] + (["SkylakeX"] if has_avx512() else [])


def main(argv: list[str]) -> int:
    args = argv or ["tests/numerics"]
    if not has_avx512():
        print("no avx512f in /proc/cpuinfo: SkylakeX kernels skipped", flush=True)
    failed = []
    for core in core_types():
        env = {**os.environ, "OPENBLAS_CORETYPE": core, "CI": "true"}
        reported = subprocess.run(
            [sys.executable, "-c", REPORT_KERNEL],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        print(
            f"== OPENBLAS_CORETYPE={core}: OpenBLAS reports {reported or 'no OpenBLAS'}", flush=True
        )
        if not reported:
            print("numpy does not use OpenBLAS here: nothing to vary", flush=True)
            return 0
        if not set(reported) <= REPORTED_AS[core]:
            print(f"OPENBLAS_CORETYPE={core} did not take effect", flush=True)
            return 2
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], env=env
        )
        if run.returncode != 0:
            failed.append(core)
    if failed:
        print(f"failed under OPENBLAS_CORETYPE={', '.join(failed)}", flush=True)
        return 1
    print(f"passed under OPENBLAS_CORETYPE={', '.join(core_types())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
