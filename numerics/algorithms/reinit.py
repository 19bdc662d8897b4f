"""Re-initialisation of small components, shared by paper 1's variant and paper 2's modified flow.

**[model choice]** (docs/math.md §5, §6): a component whose norm fell below a threshold is redrawn as
``δ·uniform(S^{d-1})``; paper 1's variant may instead redraw one random component.
"""

from __future__ import annotations

import numpy as np

from .._validate import RNGLike, as_float_array, as_rng, check_real
from ..tensors import random_unit_vectors

__all__ = ["reinitialize"]


def reinitialize(
    W: np.ndarray,
    *,
    threshold: float,
    delta: float,
    rng: RNGLike = None,
    which: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Redraw rows of ``W`` as ``delta·uniform(S^{d-1})``.

    Parameters
    ----------
    W : ndarray, shape (m, d)
        Current components (not modified).
    threshold : float
        Rows with ``||w_i|| < threshold`` are redrawn (ignored when ``which`` is given).
    delta : float
        Norm of the redrawn rows, ``delta > 0``.
    rng : Generator, int or None
    which : ndarray of int, optional
        Explicit row indices to redraw instead of the threshold rule.

    Returns
    -------
    W_new : ndarray, shape (m, d)
        A copy with the redrawn rows.
    indices : ndarray of int
        The rows that were redrawn (sorted).
    """
    W = as_float_array(W, "W", ndim=2)
    threshold = check_real(threshold, "threshold", minimum=0.0)
    delta = check_real(delta, "delta", minimum=0.0, strict=True)
    gen = as_rng(rng)
    if which is None:
        norms = np.sqrt(np.einsum("ij,ij->i", W, W))
        idx = np.flatnonzero(norms < threshold)
    else:
        idx = np.unique(np.asarray(which, dtype=int))
        if idx.size and (idx[0] < 0 or idx[-1] >= W.shape[0]):
            raise ValueError(f"which must index rows 0..{W.shape[0] - 1}, got {idx.tolist()}")
    W_new = np.array(W, copy=True)
    if idx.size:
        W_new[idx] = delta * random_unit_vectors(idx.size, W.shape[1], gen)
    return W_new, idx
