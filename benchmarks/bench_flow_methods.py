"""Benchmark of the integrators behind the deflation sweeps: which is fastest at matched accuracy?

Problem (docs/math.md §6, ``deflation.fit-times``): ``T* = Σ_k a_k e_k^{⊗4}``, ``a = (1, .8, .6, .4, .2)``, random
orthonormal basis, two-homogeneous model, ``w_i = δ0·uniform(S^{d-1})`` with ``δ0 = 1e-3``, run past the
last fit. Quantity of interest: the five fit times (fit ``T(W)(e_k^{⊗4})`` reaches ``a_k/2``).

Reference fit times: DOP853 at ``rtol = 1e-10, atol = 1e-13``. For each method the benchmark walks a
ladder of accuracies — ``rtol ∈ {1e-3, 1e-4, 1e-5, 1e-6, 1e-8}`` (``atol = rtol·1e-3``) for ``solve_ivp``'s
RK45, DOP853 and LSODA, step ``η ∈ {0.1, ..., 0.001}`` for fixed-step gradient descent (fits observed every ``≈ 0.01`` time
units, fit times interpolated; a ladder stops once one setting takes over ``LADDER_BUDGET_S``)
— and reports the cheapest setting whose fit times are all within ``FIT_TOL`` (relative) of the reference:
gradient evaluations, wall time, and the ratio of wall times to RK45's measured in the same process.
``"auto"`` (the default of :func:`numerics.flow.gradient_flow`: RK45 until the flow turns stiff) is the
regression guard of issue 14: on these non-stiff flows it must cost what RK45 costs.

Sizes: ``(d, m) = (20, 40)`` with all four methods, and ``(100, 200)`` (the full-profile sweep size) without
LSODA: LSODA's stiff mode builds a finite-difference Jacobian of the ``m·d``-dimensional system, ``m·d``
gradient evaluations each (``numerics.flow``'s docstring measured 20,601 evaluations and 68 s at
``(100, 200)``), so it is capped to the small size.

Usage: ``python -m benchmarks.bench_flow_methods [--quick]`` (``--quick``: the small size only).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks import record
from numerics.algorithms import track_components, track_flow
from numerics.algorithms.tracking import tracking_observers
from numerics.flow import gradient_descent
from numerics.tensors import orthogonal_tensor, random_unit_vectors

A5 = np.array([1.0, 0.8, 0.6, 0.4, 0.2])
DELTA0 = 1e-3
FIT_TOL = 1e-3  # relative fit-time accuracy that counts as "matched"
RTOLS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-8)
STEPS = (0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)
LADDER_BUDGET_S = 60.0  # stop climbing a ladder once one setting took longer than this


@dataclass(frozen=True)
class Row:
    method: str
    setting: str
    nfev: int
    wall: float
    max_rel_err: float


def _problem(d: int, m: int) -> tuple[object, np.ndarray, float]:
    target = orthogonal_tensor(A5, d, 4, basis="random", rng=0)
    W0 = DELTA0 * random_unit_vectors(m, d, 1)
    return target, W0, 40.0 if d <= 20 else 45.0


def _flow(target, W0, t_end, method: str, rtol: float, atol: float):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    tr, traj = track_flow(
        W0, target, (0.0, t_end), method=method, rtol=rtol, atol=atol, n_obs=11, model="homogeneous"
    )
    # gradient-equivalent evaluations: an implicit method's Jacobian-vector products cost one each
    return tr.fit_times, traj.nfev + traj.nhvp, time.perf_counter() - t0


def _gd(target, W0, t_end, step: float):  # type: ignore[no-untyped-def]
    obs = {"fits": tracking_observers(target, "homogeneous")["fits"]}
    t0 = time.perf_counter()
    traj = gradient_descent(
        W0,
        target,
        step=step,
        n_steps=int(np.ceil(t_end / step)),
        model="homogeneous",
        observe=obs,
        observe_every=max(1, round(0.01 / step)),
    )
    tr = track_components(traj.t, traj.observations["fits"], A5)
    return tr.fit_times, traj.nfev, time.perf_counter() - t0


def _cheapest(rows: list[Row]) -> Row | None:
    good = [r for r in rows if r.max_rel_err <= FIT_TOL]
    return min(good, key=lambda r: r.wall) if good else None


def run_size(d: int, m: int, methods: Sequence[str]) -> list[Row]:
    target, W0, t_end = _problem(d, m)
    ref, _, _ = _flow(target, W0, t_end, "DOP853", 1e-10, 1e-13)
    if not np.all(np.isfinite(ref)):
        raise RuntimeError(f"reference run did not fit every component by t={t_end} (d={d}, m={m})")
    best: list[Row] = []
    for method in methods:
        ladder: list[Row] = []
        settings = STEPS if method == "gd" else RTOLS
        for s in settings:
            if method == "gd":
                ft, nfev, wall = _gd(target, W0, t_end, s)
                label = f"step={s:g}"
            else:
                ft, nfev, wall = _flow(target, W0, t_end, method, s, s * 1e-3)
                label = f"rtol={s:g}"
            err = float(np.max(np.abs(ft / ref - 1))) if np.all(np.isfinite(ft)) else np.inf
            ladder.append(Row(method, label, nfev, wall, err))
            if err <= FIT_TOL or wall > LADDER_BUDGET_S:
                break  # the ladder is ordered from cheapest to most accurate
        row = _cheapest(ladder)
        best.append(row if row is not None else ladder[-1])
    return best


def _print(d: int, m: int, rows: list[Row]) -> None:
    base = next((r for r in rows if r.method == "RK45"), None)
    print(
        f"\n(d, m) = ({d}, {m}), l = 4, two-homogeneous, δ0 = {DELTA0:g}; matched: fit times within {FIT_TOL:g}"
    )
    print(
        f"{'method':>8} {'setting':>12} {'grad evals':>11} {'wall [s]':>9} {'max rel err':>12} {'wall / RK45':>12}"
    )
    for r in rows:
        ratio = r.wall / base.wall if base is not None and base.wall > 0 else float("nan")
        flag = "" if r.max_rel_err <= FIT_TOL else "  (not matched at the finest setting)"
        print(
            f"{r.method:>8} {r.setting:>12} {r.nfev:>11} {r.wall:>9.3f} {r.max_rel_err:>12.2e} "
            f"{ratio:>12.2f}{flag}"
        )
    good = [r for r in rows if r.max_rel_err <= FIT_TOL]
    if good:
        win = min(good, key=lambda r: r.wall)
        print(f"fastest accurate: {win.method} ({win.setting})")
    if base is not None:
        # > 1: the default (RK45) is cheaper; unmatched methods are recorded at their finest setting
        for r in rows:
            if r.method != "RK45":
                record("flow_methods", f"{r.method}_over_rk45_nfev_d{d}", r.nfev / base.nfev)
                record("flow_methods", f"{r.method}_over_rk45_wall_d{d}", r.wall / base.wall)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table and ratios; returns 0."""
    parser = argparse.ArgumentParser(
        prog="bench_flow_methods", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="only the small size (20, 40)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    # "auto" (the default since issue 14) must cost what RK45 costs on these non-stiff flows
    sizes: list[tuple[int, int, tuple[str, ...]]] = [
        (20, 40, ("RK45", "auto", "DOP853", "LSODA", "gd"))
    ]
    if not args.quick:
        sizes.append(
            (100, 200, ("RK45", "auto", "DOP853", "gd"))
        )  # LSODA capped: see the module docstring
    for d, m, methods in sizes:
        _print(d, m, run_size(d, m, methods))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
