"""One loss+gradient evaluation: our implicit Gram form vs the ways a researcher would write it by hand.

Problem: plain model ``T(W) = Σ_i w_i^{⊗l}`` (docs/math.md §3.1), target a random rank-5 tensor, loss
``½||T(W) - T*||_F²`` and its gradient ``l·E(w_i^{⊗(l-1)}, ·)``. Competitors, timed interleaved in one process
(best of N, the machine is shared):

* **implicit** — :func:`numerics.models.loss_and_grad` (Gram form, docs/math.md §2, ``O(m²d)``);
* **dense einsum** — ``T(W) = einsum('ia,ib,ic(,id)->abc(d)')``, residual, gradient
  ``l·einsum(E, w_i, ..., w_i)`` (``numpy.einsum(optimize=True)``): ``d^l`` and ``m·d^{l-1}`` arrays;
* **TensorLy** — ``tensorly.cp_to_tensor`` reconstruction, Frobenius loss, gradient by its formula
  ``l·unfold(E, 0) · khatri_rao([Wᵀ]*(l-1))`` (the MTTKRP of CP-ALS; extra ``bench``);
* **PyTorch autograd** (CPU, float64) on the same implicit formula ``½Σ G^{∘l} - Σ C^{∘l}c + ½||T*||²``
  (optional: skipped with a message when torch is not installed; it is not a dependency).

Sizes ``(l, d, m) ∈ {(3, 50, 100), (4, 30, 100), (4, 1000, 2000), (3, 4000, 4000)}``. The dense baselines run
only where their arrays fit in ``DENSE_BUDGET_B`` (otherwise "does not fit" with the bytes they would need).
At the large sizes the implicit gradient's achieved GFLOP/s (flop count of
:func:`benchmarks.bench_gradient.gram_flops`, ``≈ 3m²d``) is compared with ``numpy.matmul`` on a square
product of the same flop count (the hardware floor); target ``>= 0.7``.

Usage: ``python -m benchmarks peers [--quick]`` (``--quick``: the two small sizes only).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmarks import record
from benchmarks.bench_gradient import gram_flops
from numerics.models import loss_and_grad
from numerics.tensors import LowRankTensor, random_low_rank

SIZES = [(3, 50, 100), (4, 30, 100), (4, 1000, 2000), (3, 4000, 4000)]
RANK = 5
DENSE_BUDGET_B = (
    2 * 2**30
)  # dense baselines only below 2 GiB of arrays (shared 2-core, 23 GB machine)
FLOOR_TARGET = 0.7

Impl = Callable[[np.ndarray], tuple[float, np.ndarray]]


def dense_bytes(order: int, d: int, m: int) -> int:
    """Bytes of the dense baselines' arrays: ``T(W)``, ``T*``, the residual (``d^l`` each) and ``m·d^{l-1}``."""
    return 8 * (3 * d**order + m * d ** (order - 1))


def implicit(target: LowRankTensor) -> Impl:
    return lambda W: loss_and_grad(W, target, model="plain")


def dense_einsum(T_star: np.ndarray) -> Impl:
    order = T_star.ndim
    letters = "abcdefgh"[:order]
    build = ",".join(f"i{c}" for c in letters) + "->" + letters
    grad_spec = letters + "," + ",".join(f"i{c}" for c in letters[:-1]) + "->i" + letters[-1]

    def fn(W: np.ndarray) -> tuple[float, np.ndarray]:
        E = np.einsum(build, *([W] * order), optimize=True)
        E -= T_star
        value = 0.5 * float(np.vdot(E, E))
        return value, order * np.einsum(grad_spec, E, *([W] * (order - 1)), optimize=True)

    return fn


def tensorly_impl(T_star: np.ndarray) -> Impl | None:
    try:
        import tensorly as tl
        from tensorly.tenalg import khatri_rao
    except ImportError:
        return None
    tl.set_backend("numpy")
    order = T_star.ndim

    def fn(W: np.ndarray) -> tuple[float, np.ndarray]:
        m = W.shape[0]
        factors = [W.T] * order
        E = tl.cp_to_tensor((np.ones(m), factors)) - T_star
        value = 0.5 * float(tl.norm(E, 2) ** 2)
        grad = order * (tl.unfold(E, 0) @ khatri_rao(factors[1:]))  # (d, m): MTTKRP
        return value, grad.T

    return fn


def torch_impl(target: LowRankTensor) -> Impl | None:
    try:
        import torch
    except ImportError:
        return None
    order = target.order
    U = torch.from_numpy(np.array(target.components))
    c = torch.from_numpy(np.array(target.coeffs))
    t_sq = target.squared_norm

    def fn(W: np.ndarray) -> tuple[float, np.ndarray]:
        Wt = torch.from_numpy(W).requires_grad_(True)
        G = Wt @ Wt.T
        C = Wt @ U.T
        value = 0.5 * (G**order).sum() - ((C**order) @ c).sum() + 0.5 * t_sq
        value.backward()
        assert Wt.grad is not None
        return float(value), Wt.grad.numpy()

    return fn


def _time(fn: Impl, W: np.ndarray) -> float:
    t0 = time.perf_counter()
    fn(W)
    return time.perf_counter() - t0


def _rel_diff(a: tuple[float, np.ndarray], b: tuple[float, np.ndarray]) -> float:
    return max(
        abs(a[0] - b[0]) / max(abs(b[0]), 1e-300),
        float(np.max(np.abs(a[1] - b[1])) / max(np.max(np.abs(b[1])), 1e-300)),
    )


def compare(order: int, d: int, m: int, repeats: int) -> dict[str, Any]:
    """Times (best of interleaved rounds) of every competitor that fits, and their agreement with ours."""
    rng = np.random.default_rng(0)
    target = random_low_rank(RANK, d, order, rng=rng)
    W = rng.standard_normal((m, d)) / np.sqrt(d)
    need = dense_bytes(order, d, m)
    fns: dict[str, Impl | None] = {"implicit": implicit(target)}
    if need <= DENSE_BUDGET_B:
        T_star = target.dense(max_elements=d**order)
        fns["dense einsum"] = dense_einsum(T_star)
        fns["TensorLy"] = tensorly_impl(T_star)
    fns["PyTorch autograd"] = torch_impl(target)
    ready = {k: f for k, f in fns.items() if f is not None}
    ref = ready["implicit"](W)
    diffs = {k: _rel_diff(f(W), ref) for k, f in ready.items()}  # also the warm-up
    best = dict.fromkeys(ready, np.inf)
    for _ in range(repeats):
        for k, f in ready.items():
            best[k] = min(best[k], _time(f, W))
    return {
        "size": (order, d, m),
        "times": best,
        "diffs": diffs,
        "dense_bytes": need,
        "missing": [k for k, f in fns.items() if f is None],
    }


def floor_fraction(order: int, d: int, m: int, t_grad: float, repeats: int) -> tuple[float, float]:
    """Achieved GFLOP/s of the implicit gradient and the matmul rate of a same-flop square product."""
    flops = gram_flops(m, d, RANK, order)
    n = round((flops / 2) ** (1 / 3))
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    A @ B
    t_mm = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        A @ B
        t_mm = min(t_mm, time.perf_counter() - t0)
    return flops / t_grad / 1e9, 2 * n**3 / t_mm / 1e9


def _fmt_t(t: float) -> str:
    return f"{t * 1e3:10.2f} ms" if t < 10 else f"{t:10.1f} s "


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and print times, ratios and PASS/MISS; returns 0."""
    parser = argparse.ArgumentParser(
        prog="bench_peers", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="only the two small sizes")
    args = parser.parse_args(list(argv) if argv is not None else None)
    sizes = SIZES[:2] if args.quick else SIZES
    print(
        f"one loss+gradient, plain model, rank-{RANK} target, float64; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'(l, d, m)':>16} {'method':>18} {'time':>13} {'vs implicit':>12} {'max rel diff':>13}")
    for order, d, m in sizes:
        res = compare(order, d, m, 2 if order * d * m > 10**6 else 10)
        t_ours = res["times"]["implicit"]
        label = f"({order}, {d}, {m})"
        for k, t in res["times"].items():
            ratio = "" if k == "implicit" else f"{t / t_ours:10.1f}x"
            print(f"{label:>16} {k:>18} {_fmt_t(t)} {ratio:>12} {res['diffs'][k]:13.1e}")
            if k != "implicit" and (order, d, m) == (4, 30, 100):
                key = "dense_speedup" if k == "dense einsum" else k.split()[0].lower() + "_speedup"
                record("peers", key, t / t_ours, higher_is_better=True)
        if res["dense_bytes"] > DENSE_BUDGET_B:
            print(
                f"{label:>16} {'dense, TensorLy':>18}  does not fit: needs {res['dense_bytes'] / 1e9:.3g} GB "
                f"(budget {DENSE_BUDGET_B / 2**30:.0f} GiB)"
            )
        for k in res["missing"]:
            why = (
                "torch not installed (optional, not a dependency)"
                if "Torch" in k
                else "not installed"
            )
            print(f"{label:>16} {k:>18}  skipped: {why}")
        if d * m >= 10**6:
            rate, mm = floor_fraction(order, d, m, t_ours, 2)
            frac = rate / mm
            print(
                f"{label:>16} {'GFLOP/s':>18} implicit {rate:6.1f}, matmul {mm:6.1f}: fraction {frac:.2f}"
                f"   target >= {FLOOR_TARGET}   {'PASS' if frac >= FLOOR_TARGET else 'MISS'}"
            )
            record("peers", f"floor_fraction_l{order}_d{d}_m{m}", frac, higher_is_better=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
