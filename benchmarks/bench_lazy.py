"""Benchmark of the matrix-free lazy residual (MATH.md §4, issue 5).

Target: the lazy residual at ``l = 3, d = 64, m = D(d,l)/d = 715`` (``m·d = D = 45,760`` unknowns) by
matrix-free CG on the tangent kernel in under a minute on 2 cores. Baseline, measured in the same
process: one dense solve (:func:`numerics.lazy.lazy_residual` with ``method="dense"``: SVD of the
explicit ``D × m·d`` Jacobian) at the largest ``d`` whose Jacobian fits in
:data:`numerics.lazy.DENSE_MAX_ELEMENTS` at ``m = ceil(D/d)``; the matrix-free times are printed as
ratios to it. Also printed: the cost of one kernel product and a converged run at half the threshold.

At ``m·d = D`` the tangent map is square and nearly singular, so CG needs many iterations. The timed
run uses ``--tol`` (default 1e-4 on the normal-equation residual; measured 2026-11-23: 314 products,
2.5 s with one BLAS thread, residual bound 5e-3 — the true residual there is 0). A second run at
tol 1e-8 is capped by ``--budget`` and reports honestly that it did not converge (measured: 8000
products, 54 s, residual bound 2.5e-4, normal residual 5e-6).

BLAS threads matter: on a shared 2-core machine OpenBLAS's own threads contend (measured 2026-11-23:
one kernel product at d=64 took 8 ms with ``OPENBLAS_NUM_THREADS=1`` and 36 ms with 2 threads under
load). ``--threads N`` limits them with threadpoolctl when it is installed.

Usage: ``python -m benchmarks.bench_lazy [--quick] [--threads N] [--budget SECONDS] [--tol TOL]``
(``--quick``: d = 32 instead of 64).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from numerics.lazy import DENSE_MAX_ELEMENTS, lazy_residual, sym_basis_size, tangent_operator
from numerics.tensors import random_low_rank, random_unit_vectors

ORDER = 3
TIME_LIMIT_S = 60.0  # the requirement for d = 64


def _threads(n: int | None) -> Any:
    if n is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("  (threadpoolctl not installed: --threads ignored; set OPENBLAS_NUM_THREADS)")
        return contextlib.nullcontext()
    return threadpool_limits(limits=n)


def _largest_dense_d(order: int) -> int:
    d = 2
    while True:
        nxt = d + 1
        D = sym_basis_size(nxt, order)
        if D * (-(-D // nxt)) * nxt > DENSE_MAX_ELEMENTS:
            return d
        d = nxt


def _problem(d: int, m: int, seed: int = 1) -> tuple[np.ndarray, Any]:
    rng = np.random.default_rng([seed, d])
    target = random_low_rank(1, d, ORDER, rng=rng)
    return random_unit_vectors(m, d, rng), target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_lazy", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="d = 32 instead of 64")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (threadpoolctl)")
    parser.add_argument(
        "--budget", type=float, default=40.0, help="time budget of the tol-1e-8 run at m = D/d (s)"
    )
    parser.add_argument("--tol", type=float, default=1e-4, help="CG tolerance (normal residual)")
    args = parser.parse_args(list(argv or []))
    d = 32 if args.quick else 64
    D = sym_basis_size(d, ORDER)
    m = D // d
    with _threads(args.threads):
        # baseline: one dense solve at the largest size where dense still fits
        d_dense = _largest_dense_d(ORDER)
        D_dense = sym_basis_size(d_dense, ORDER)
        m_dense = math.ceil(D_dense / d_dense)
        W, target = _problem(d_dense, m_dense)
        t0 = time.perf_counter()
        dense = lazy_residual(W, target, method="dense")
        t_dense = time.perf_counter() - t0
        print(
            f"baseline dense solve: l={ORDER}, d={d_dense}, m={m_dense} (J is {D_dense}×{m_dense * d_dense}): "
            f"{t_dense:.2f} s, residual {dense.residual:.3g}"
        )

        W, target = _problem(d, m)
        op = tangent_operator(W, ORDER)
        v = np.random.default_rng(0).standard_normal(op.shape[0])
        op @ v
        t0 = time.perf_counter()
        reps = 10
        for _ in range(reps):
            op @ v
        t_mv = (time.perf_counter() - t0) / reps
        print(
            f"one kernel product at d={d}, m={m} (m·d = {m * d}): {1e3 * t_mv:.1f} ms "
            f"({t_mv / t_dense:.3g} × dense solve)"
        )

        half = m // 2
        t0 = time.perf_counter()
        res_half = lazy_residual(W[:half], target, method="cg", tol=args.tol)
        t_half = time.perf_counter() - t0
        print(
            f"matrix-free CG at m = D/(2d) = {half}: {t_half:.2f} s ({t_half / t_dense:.3g} × dense), "
            f"{res_half.iterations} products, converged={res_half.converged}, residual "
            f"{res_half.residual:.4g} (1 - m·d/D = {1 - half * d / D:.3f})"
        )

        t0 = time.perf_counter()
        res = lazy_residual(W, target, method="cg", tol=args.tol)
        t_full = time.perf_counter() - t0
        verdict = "PASS" if t_full < TIME_LIMIT_S and res.converged else "MISS"
        print(
            f"matrix-free CG at m = D/d = {m} (l={ORDER}, d={d}), tol {args.tol:g}: {t_full:.1f} s "
            f"({t_full / t_dense:.3g} × dense solve at d={d_dense}), {res.iterations} products, "
            f"converged={res.converged}, residual <= {res.residual_bound:.3g}"
        )
        print(
            f"{verdict}: lazy residual at l={ORDER}, d={d}, m=D/d (tol {args.tol:g}) in {t_full:.1f} s "
            f"(limit {TIME_LIMIT_S:g} s)"
        )

        # the same at tol 1e-8, capped by the time budget: m·d = D makes J square and nearly singular
        maxiter = max(1, int(args.budget / (1.5 * t_mv)))  # CG adds ~50% to the products (measured)
        t0 = time.perf_counter()
        tight = lazy_residual(W, target, method="cg", tol=1e-8, maxiter=maxiter)
        t_tight = time.perf_counter() - t0
        state = (
            f"converged, residual {tight.residual:.3g}"
            if tight.converged
            else f"NOT converged within {maxiter} products (budget {args.budget:g} s): residual "
            f"<= {tight.residual_bound:.3g}, normal residual {tight.normal_residual:.2g} > 1e-8"
        )
        print(
            f"matrix-free CG at m = D/d, tol 1e-8: {t_tight:.1f} s ({t_tight / t_dense:.3g} × dense), "
            f"{tight.iterations} products; {state}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
