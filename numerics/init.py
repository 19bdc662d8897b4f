"""Initialisations used throughout the suite (docs/math.md §3–§6).

Two schemes cover every experiment:

* :func:`gaussian_init` — i.i.d. Gaussian entries ``W_ij ~ N(0, std²)`` (the lazy / NTK analyses of
  docs/math.md §4, and the incremental-learning experiments of the small-initialisation literature);
* :func:`sphere_init` — every row of norm exactly ``norm`` with a direction uniform on ``S^{d-1}``
  (``w_i = δ0·uniform(S^{d-1})``, the deflation analysis and Algorithm 1 of docs/math.md §5–§6).

Both take ``rng`` as a :class:`numpy.random.Generator`, an integer seed or ``None`` (SPEC 7).
"""

from __future__ import annotations

import numpy as np

from ._validate import RNGLike, as_rng, check_int, check_real, check_size
from .tensors import random_unit_vectors

__all__ = ["gaussian_init", "sphere_init"]


def gaussian_init(m: int, d: int, std: float, rng: RNGLike = None) -> np.ndarray:
    """``(m, d)`` array of i.i.d. ``N(0, std²)`` entries; each row has ``E||w_i||² = d·std²``.

    Parameters
    ----------
    m, d : int
        Number of components and dimension (both ``>= 1``).
    std : float
        Standard deviation of every entry, finite and ``> 0``.
    rng : Generator, int or None
    """
    m = check_int(m, "m")
    d = check_int(d, "d")
    check_size(m, d, "m, d")
    std = check_real(std, "std", minimum=0.0, strict=True)
    return std * as_rng(rng).standard_normal((m, d))


def sphere_init(m: int, d: int, norm: float, rng: RNGLike = None) -> np.ndarray:
    """``(m, d)`` array whose rows have norm ``norm`` and directions uniform on ``S^{d-1}``.

    Parameters
    ----------
    m, d : int
        Number of components and dimension (both ``>= 1``).
    norm : float
        Row norm ``δ0``, finite and ``> 0``.
    rng : Generator, int or None
    """
    m = check_int(m, "m")
    d = check_int(d, "d")
    check_size(m, d, "m, d")
    norm = check_real(norm, "norm", minimum=0.0, strict=True)
    return norm * random_unit_vectors(m, d, rng)
