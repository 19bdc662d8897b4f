"""Memory cap of the implicit (Gram-form) path: no ``O(d^l)`` and no ``O(m²d)`` allocation (issue 8).

numpy reports its data buffers to :mod:`tracemalloc`, so the traced peak of one call is the memory it
allocates. The bound is **derived** from the algorithm (docs/math.md §2: memory ``O(md + m²)``), by counting the
arrays that can be alive at once in :func:`numerics.models._contractions` / ``_loss_and_grad``:

* ``m×m``: the Gram matrix ``G`` (overwritten by its powers) and the row-block buffer of
  ``_power_inplace`` (at most ``m`` rows): 2 arrays;
* ``m×d``: the unit components ``X`` (homogeneous), ``G^{∘(l-1)} X`` (becomes ``P``), the target's
  contraction, and up to four temporaries of the gradient formula: at most 8 arrays (the coefficient
  model's ``d+1`` columns are covered by using ``d+1``);
* ``m×r``: the correlations ``C = X Uᵀ`` and their power: 4 arrays to be safe;
* 64 KiB for vectors of length ``m`` and small objects.

The sizes are chosen so that an ``O(m²d)`` array (e.g. the ``m×m×d`` broadcast of a naive gradient) or an
``O(d^l)`` array would exceed the bound at least 10-fold; the assertion says by how much it was met.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from numerics.models import hessian_vector_product, loss, loss_and_grad
from numerics.tensors import random_low_rank

SIZES = [(4, 60, 400, 5), (3, 400, 200, 5)]  # (l, d, m, r)


def bound_bytes(m: int, d: int, r: int, itemsize: int) -> int:
    """Derived cap (module docstring): ``itemsize·(2m² + 8m(d+1) + 4mr) + 64 KiB``."""
    return itemsize * (2 * m * m + 8 * m * (d + 1) + 4 * m * r) + 2**16


def traced_peak(fn) -> int:  # type: ignore[no-untyped-def]
    fn()  # warm-up: import-time and first-call caches are not the algorithm's memory
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("model", ["plain", "coefficient", "homogeneous"])
@pytest.mark.parametrize(("order", "d", "m", "r"), SIZES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_and_grad_memory_is_o_md_plus_m2(order, d, m, r, model, dtype):
    target = random_low_rank(r, d, order, rng=0)
    cols = d + 1 if model == "coefficient" else d
    W = (np.random.default_rng(1).standard_normal((m, cols)) / np.sqrt(d)).astype(dtype)
    itemsize = np.dtype(dtype).itemsize
    cap = bound_bytes(m, d, r, itemsize)
    forbidden = min(itemsize * m * m * d, itemsize * d**order)
    assert forbidden >= 10 * cap  # the sizes make either forbidden array obvious
    peak = traced_peak(lambda: loss_and_grad(W, target, model=model))
    # derived bound, no measured margin: peak must stay below the array count of the docstring
    assert peak <= cap, f"peak {peak} B > cap {cap} B (O(m²d) would be {itemsize * m * m * d} B)"
    peak_loss = traced_peak(lambda: loss(W, target, model=model))
    assert peak_loss <= cap, f"loss-only peak {peak_loss} B > cap {cap} B"


def test_hessian_vector_product_memory_is_o_md_plus_m2():
    order, d, m, r = SIZES[0]
    target = random_low_rank(r, d, order, rng=0)
    rng = np.random.default_rng(2)
    W = rng.standard_normal((m, d)) / np.sqrt(d)
    V = rng.standard_normal((m, d))
    # complex128 (16 bytes) gradient plus the complex copy of W and the real result: the same array
    # count at itemsize 16, plus 2 m×d arrays of the complex step itself.
    cap = bound_bytes(m, d, r, 16) + 2 * 16 * m * d
    assert 16 * m * m * d >= 10 * cap
    peak = traced_peak(lambda: hessian_vector_product(W, V, target, model="homogeneous"))
    assert peak <= cap, f"peak {peak} B > cap {cap} B"


def test_cap_detects_an_m2d_allocation():
    """The measurement can fail: an ``m×m×d`` broadcast at these sizes is far above the cap."""
    order, d, m, r = SIZES[0]
    W = np.random.default_rng(1).standard_normal((m, d))

    def naive() -> float:
        diff = W[:, None, :] * W[None, :, :]  # m×m×d
        return float(diff.sum())

    assert traced_peak(naive) > bound_bytes(m, d, r, 8)
