"""Stiff gradient flows (plain model, small initialisation): the default ``method="auto"`` against LSODA.

Problem (issue 14; the symmetric analogue of Razin, Maman & Cohen's incremental-learning experiment,
docs/math.md §6): plain model, ``l = 4``, ``d = 10``, ``m = 50``, ``W0 = σ·N(0, 1)``, target
``Σ_k a_k u_k^{⊗4}`` with ``a = (0.566, 0.530, 0.359, 0.278, 0.189)`` on 5 random unit directions, flow to
``t = 2e4`` (``σ = 5e-3``) or ``2e6`` (``σ = 5e-4``), outputs at 3,000 geometric times. Fit time of
component ``k``: the first output time at which the summed weight ``Σ ||w_i||^4`` of the rows nearest
``u_k`` (largest ``|cos|``) reaches ``a_k/2``.

Targets (thresholds in ``benchmarks/thresholds.json``):

(i) ``σ = 5e-3``: fit times within 1% of the reference — scipy LSODA with its finite-difference dense
    Jacobian at ``rtol = 1e-8`` — and wall time ≤ 0.5 × that LSODA run, in the same process;
(ii) ``σ = 5e-4`` costs at most 2× ``σ = 5e-3`` (wall time and gradient-equivalent evaluations
    ``nfev + nhvp``);
(iii) ``--scale``: ``d = 1000``, ``m = 2000``, orthogonal target ``a = (1, .8, .6, .4, .2)``,
    ``σ = 5e-3/√(d/10)``: time to the third fit (a terminal event) < 10 min, peak RSS < 2 GB. Takes
    ~10 minutes: not part of the default run.

Also printed: the Hessian-vector product of the plain model, analytic Gram form vs complex step
(time per product, ratio), and, for the flow of (i), ``jacobian="analytic"`` vs the default ``"dq"`` and
``precondition=False`` vs the default row-block preconditioner.

Usage: ``python -m benchmarks.bench_stiff [--quick] [--rk45] [--scale] [--threads=N]`` (``--quick``: skip
(ii); ``--rk45``: also time RK45 on (i), ~40 s).
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks import best_of, record
from numerics import LowRankTensor, gaussian_init, orthogonal_tensor, random_unit_vectors
from numerics.flow import Trajectory, gradient_flow
from numerics.models import _PlainHessian, hessian_vector_product

A_RMC = np.array([0.566, 0.530, 0.359, 0.278, 0.189])
A5 = np.array([1.0, 0.8, 0.6, 0.4, 0.2])
FIT_TOL = 0.01  # target (i): fit times within 1% of the reference
WALL_RATIO_TARGET = 0.5  # target (i): wall ≤ 0.5 × LSODA-dense
COST_RATIO_TARGET = 2.0  # target (ii): σ = 5e-4 costs ≤ 2 × σ = 5e-3


def nearest_weights(directions: np.ndarray, order: int) -> Any:
    """Observer: per direction ``u_k``, the summed ``||w_i||^order`` of the rows nearest ``u_k``."""
    U = directions / np.linalg.norm(directions, axis=1, keepdims=True)

    def weights(t: float, W: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(W, axis=1)
        nearest = np.argmax(np.abs(W @ U.T) / np.maximum(norms, 1e-300)[:, None], axis=1)
        return np.bincount(nearest, weights=norms**order, minlength=U.shape[0])

    return weights


def fit_times(tr: Trajectory, a: np.ndarray) -> np.ndarray:
    """First observation time at which each component's weight reaches ``a_k/2`` (nan: never)."""
    w = tr.observations["weights"]
    out = np.full(len(a), np.nan)
    for k in range(len(a)):
        hit = np.nonzero(w[:, k] >= a[k] / 2)[0]
        if hit.size:
            out[k] = tr.t[hit[0]]
    return out


def small_problem(sigma: float, seed: int = 0) -> tuple[LowRankTensor, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    U = random_unit_vectors(5, 10, rng)
    W0 = gaussian_init(50, 10, sigma, rng)
    return LowRankTensor(A_RMC, U, 4), W0, (2e4 if sigma >= 1e-3 else 2e6)


def run_small(sigma: float, method: str, **kw: Any) -> tuple[Trajectory, np.ndarray, float]:
    target, W0, t_end = small_problem(sigma)
    t_eval = np.geomspace(1.0, t_end, 3000)
    start = time.perf_counter()
    tr = gradient_flow(
        W0,
        target,
        (0.0, t_end),
        model="plain",
        method=method,
        t_eval=t_eval,
        observe={"weights": nearest_weights(target.components, 4)},
        **kw,
    )
    wall = time.perf_counter() - start
    if not tr.success:
        raise RuntimeError(f"{method} failed: {tr.message}")
    return tr, fit_times(tr, A_RMC), wall


def _line(name: str, tr: Trajectory, ft: np.ndarray, wall: float, ref: np.ndarray) -> str:
    err = float(np.max(np.abs(ft / ref - 1)))
    return (
        f"{name:>22} {wall:>8.2f} {tr.nfev:>7} {tr.nhvp:>7} {err:>10.2e}  "
        f"switch t={tr.switch_t if tr.switch_t is None else round(tr.switch_t, 1)}"
    )


def bench_hvp() -> None:
    print("\nHessian-vector product, plain model, l = 4, rank-5 target (best of 5):")
    print(
        f"{'(d, m)':>12} {'complex step':>13} {'analytic':>10} {'analytic, cached G':>19} {'speed-up':>9}"
    )
    rng = np.random.default_rng(0)
    for d, m in ((100, 200), (400, 800)):
        target = LowRankTensor(A5, random_unit_vectors(5, d, 1), 4)
        W = gaussian_init(m, d, 0.1, rng)
        V = rng.standard_normal((m, d))
        cs = best_of(lambda W=W, V=V, t=target: hessian_vector_product(W, V, t, model="plain"), 5)
        an = best_of(
            lambda W=W, V=V, t=target: hessian_vector_product(
                W, V, t, model="plain", method="analytic"
            ),
            5,
        )
        op = _PlainHessian(W, target, 0.0)
        cached = best_of(lambda op=op, V=V: op(V), 5)
        print(
            f"{str((d, m)):>12} {cs * 1e3:>10.2f} ms {an * 1e3:>7.2f} ms {cached * 1e3:>16.2f} ms "
            f"{cs / an:>8.2f}x"
        )
        record("stiff", f"hvp_analytic_speedup_d{d}", cs / an)


def bench_small(quick: bool, rk45: bool) -> int:
    print("\nTarget (i): plain model, l = 4, d = 10, m = 50, σ = 5e-3, t to 2e4 (3,000 outputs)")
    ref_tr, ref, ref_wall = run_small(5e-3, "LSODA", rtol=1e-8, atol=1e-12)
    print(f"{'method':>22} {'wall [s]':>8} {'nfev':>7} {'nhvp':>7} {'fit err':>10}")
    print(_line("LSODA rtol=1e-8 (ref)", ref_tr, ref, ref_wall, ref))
    print(f"reference fit times: {np.round(ref, 1)}")
    tr, ft, wall = run_small(5e-3, "auto")
    print(_line("auto (default)", tr, ft, wall, ref))
    tr_an, ft_an, wall_an = run_small(5e-3, "auto", jacobian="analytic")
    print(_line("jacobian='analytic'", tr_an, ft_an, wall_an, ref))
    tr_np, ft_np, wall_np = run_small(5e-3, "auto", precondition=False)
    print(_line("precondition=False", tr_np, ft_np, wall_np, ref))
    if rk45:
        tr_rk, ft_rk, wall_rk = run_small(5e-3, "RK45")
        print(_line("RK45", tr_rk, ft_rk, wall_rk, ref))
        record("stiff", "rk45_over_auto_wall", wall_rk / wall)
    err = float(np.max(np.abs(ft / ref - 1)))
    ratio = wall / ref_wall
    ok_i = err <= FIT_TOL and ratio <= WALL_RATIO_TARGET
    print(
        f"(i) fit times within {err:.2%} of the reference (target {FIT_TOL:.0%}), wall {ratio:.3f} × "
        f"LSODA-dense (target ≤ {WALL_RATIO_TARGET}): {'PASS' if ok_i else 'MISS'}"
    )
    record("stiff", "auto_over_lsoda_wall", ratio, higher_is_better=False)
    # deterministic: gradient-equivalent evaluations (nfev + nhvp) against LSODA's
    record(
        "stiff", "auto_over_lsoda_evals", (tr.nfev + tr.nhvp) / ref_tr.nfev, higher_is_better=False
    )
    record("stiff", "auto_fit_rel_err", err, higher_is_better=False)
    record("stiff", "analytic_over_dq_wall", wall_an / wall, higher_is_better=False)
    record(
        "stiff",
        "unpreconditioned_over_default_evals",
        (tr_np.nfev + tr_np.nhvp) / (tr.nfev + tr.nhvp),
    )
    if quick:
        return 0
    print("\nTarget (ii): σ = 5e-4, t to 2e6 (escape times ×100)")
    tr2, ft2, wall2 = run_small(5e-4, "auto")
    cost1, cost2 = tr.nfev + tr.nhvp, tr2.nfev + tr2.nhvp
    print(
        f"auto: wall {wall2:.2f} s, nfev {tr2.nfev}, nhvp {tr2.nhvp}, fit times {np.round(ft2, 0)}; "
        f"switch t={tr2.switch_t}"
    )
    ok_ii = wall2 / wall <= COST_RATIO_TARGET and cost2 / cost1 <= COST_RATIO_TARGET
    print(
        f"(ii) σ=5e-4 / σ=5e-3: wall {wall2 / wall:.2f}×, evaluations (nfev + nhvp) "
        f"{cost2 / cost1:.2f}× (target ≤ {COST_RATIO_TARGET}): {'PASS' if ok_ii else 'MISS'}"
    )
    record("stiff", "small_init_cost_ratio_wall", wall2 / wall, higher_is_better=False)
    record("stiff", "small_init_cost_ratio_evals", cost2 / cost1, higher_is_better=False)
    return 0


def bench_scale(
    d: int = 1000, m: int = 2000, dtype: Any = np.float64, max_wall: float = 1800.0
) -> int:
    """Target (iii): the plain model at scale from small initialisation, to the third fit."""
    sigma = 5e-3 / np.sqrt(d / 10)
    target = orthogonal_tensor(A5, d, 4, basis="random", rng=0)
    W0 = gaussian_init(m, d, sigma, 1)
    E = target.components

    def third_fit(t: float, W: np.ndarray) -> float:
        return float(np.sum((W @ E[2]) ** 4) - A5[2] / 2)

    def fits(t: float, W: np.ndarray) -> np.ndarray:
        return np.sum((W @ E.T) ** 4, axis=0)

    print(
        f"\nTarget (iii): plain model, l = 4, d = {d}, m = {m}, σ = {sigma:.3g}, a = {A5.tolist()}, "
        f"{np.dtype(dtype).name}, to the third fit (terminal event)"
    )
    t_eval = np.geomspace(10.0, 2e5, 200)
    start = time.perf_counter()
    tr = gradient_flow(
        W0,
        target,
        (0.0, 2e5),
        model="plain",
        t_eval=t_eval,
        events={"third_fit": third_fit},
        observe={"fits": fits},
        dtype=dtype,
        max_wall=max_wall,
        progress=True,
    )
    wall = time.perf_counter() - start
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    F = tr.observations["fits"]
    firsts = [
        float(tr.t[np.argmax(F[:, k] >= A5[k] / 2)]) if np.any(F[:, k] >= A5[k] / 2) else np.nan
        for k in range(3)
    ]
    ok = tr.status == "event" and wall < 600 and rss_gb < 2.0
    print(
        f"status {tr.status}: {tr.message}\nwall {wall:.0f} s, nfev {tr.nfev}, nhvp {tr.nhvp}, steps "
        f"{tr.nsteps}, switch t={tr.switch_t}, first outputs past a_k/2: {firsts}, peak RSS "
        f"{rss_gb:.2f} GB (targets: third fit < 600 s, < 2 GB): {'PASS' if ok else 'MISS'}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the tables and ratios; returns 0."""
    parser = argparse.ArgumentParser(
        prog="bench_stiff", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="target (i) only")
    parser.add_argument("--rk45", action="store_true", help="also time RK45 on (i) (~40 s)")
    parser.add_argument("--scale", action="store_true", help="target (iii) only (~10 min)")
    parser.add_argument("--float32", action="store_true", help="(iii) with float32 gradients")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads")
    parser.add_argument("--max-wall", type=float, default=1800.0, help="(iii): give up after [s]")
    args = parser.parse_args(list(argv) if argv is not None else None)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.threads):
        if args.scale:
            dtype = np.float32 if args.float32 else np.float64
            return bench_scale(dtype=dtype, max_wall=args.max_wall)
        bench_hvp()
        return bench_small(args.quick, args.rk45)


if __name__ == "__main__":
    raise SystemExit(main())
