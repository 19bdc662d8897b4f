"""Benchmark of the matrix-free lazy residual (docs/math.md §4, issue 5).

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

Across ``d`` (issue 8, benchmark 4): at ``m = D/(2d)`` (half the lazy threshold, where CG converges
well), time and traced peak memory (tracemalloc) of the matrix-free CG residual and of the dense
solve, for ``d`` from 8 up to 64; the dense solve only where its Jacobian fits under ``DENSE_MAX_ELEMENTS``, and the bytes it
would need otherwise. The two residuals must agree where both run (printed).

Usage: ``python -m benchmarks.bench_lazy [--quick] [--threads N] [--budget SECONDS] [--tol TOL]
[--no-across]`` (``--quick``: d = 32 instead of 64, and the sweep across d stops at 32).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks import record
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


def _timed_and_traced(fn: Any) -> tuple[Any, float, float]:
    """``(result, seconds, traced peak bytes)``: one untraced timed call, then one traced call."""
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, seconds, float(peak)


def _across_d(d_max: int, tol: float) -> None:
    """Matrix-free CG vs dense solve at m = D/(2d), time and memory, across d (issue 8, benchmark 4)."""
    print(
        f"lazy residual across d (l={ORDER}, m = D/(2d), rank-one target): matrix-free CG vs dense"
    )
    print(
        f"  {'d':>3} {'m':>5} {'m·d':>7} | {'CG s':>7} {'CG MiB':>8} | {'dense s':>8} {'dense MiB':>10} | ratio t, mem"
    )
    last_ratio: tuple[float, float] | None = None
    for d in [d for d in (8, 12, 16, 20, 22, 32, 48, 64) if d <= d_max]:
        D = sym_basis_size(d, ORDER)
        m = max(1, D // (2 * d))
        W, target = _problem(d, m)
        cg, t_cg, mem_cg = _timed_and_traced(
            lambda W=W, target=target: lazy_residual(W, target, method="cg", tol=tol)
        )
        line = f"  {d:>3} {m:>5} {m * d:>7} | {t_cg:>7.3f} {mem_cg / 2**20:>8.2f} | "
        if D * m * d <= DENSE_MAX_ELEMENTS:
            dense, t_dn, mem_dn = _timed_and_traced(
                lambda W=W, target=target: lazy_residual(W, target, method="dense")
            )
            last_ratio = (t_dn / t_cg, mem_dn / mem_cg)
            line += (
                f"{t_dn:>8.3f} {mem_dn / 2**20:>10.2f} | dense/CG {last_ratio[0]:.3g}×, {last_ratio[1]:.3g}×"
                f"  (residuals {cg.residual:.4f} vs {dense.residual:.4f})"
            )
        else:
            line += (
                f"dense refused: J would need {8 * D * m * d / 2**30:.2f} GiB "
                f"(cap DENSE_MAX_ELEMENTS = {DENSE_MAX_ELEMENTS:.3g} entries)"
            )
        print(line)
    if last_ratio is not None:
        record("lazy", "dense_over_cg_time_largest_dense_d", last_ratio[0])
        record("lazy", "dense_over_cg_memory_largest_dense_d", last_ratio[1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_lazy", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="d = 32 instead of 64")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (threadpoolctl)")
    parser.add_argument(
        "--budget", type=float, default=40.0, help="time budget of the tol-1e-8 run at m = D/d (s)"
    )
    parser.add_argument("--tol", type=float, default=1e-4, help="CG tolerance (normal residual)")
    parser.add_argument("--no-across", action="store_true", help="skip the sweep across d")
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
        if not args.no_across:
            _across_d(d, args.tol)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
