"""Input validation shared by the public functions of :mod:`numerics`.

Inputs are validated once at the public boundary; hot loops never re-check them.
Every error names the parameter and the value received.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

RNGLike = np.random.Generator | int | None


def as_rng(rng: object, name: str = "rng") -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from ``rng`` (SPEC 7: Generator, int seed or None)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        if rng is not None and int(rng) < 0:
            raise ValueError(f"{name} must be a non-negative integer seed, got {rng!r}")
        return np.random.default_rng(None if rng is None else int(rng))
    raise TypeError(f"{name} must be a numpy.random.Generator, an int seed or None, got {rng!r}")


def check_int(value: object, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` in ``[minimum, maximum]``, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and int(value) > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return int(value)


#: Largest number of observation times a caller may ask for (each one is a row of an array).
MAX_OBSERVATIONS = 10**7


#: Largest tensor order accepted anywhere in :mod:`numerics`. The cost of the Gram-form algebra grows
#: with the order (``int_power`` multiplies ``l`` times; symmetrising a dense tensor costs ``l² d^l``),
#: and the papers' regimes are ``l = 3, 4``: an order like ``10**9`` would only hang.
MAX_ORDER = 64


def check_order(value: object, name: str = "order") -> int:
    """Tensor order ``2 <= l <= MAX_ORDER``."""
    order = check_int(value, name, minimum=2)
    if order > MAX_ORDER:
        raise ValueError(
            f"{name} must be <= {MAX_ORDER} (the cost grows with the order), got {value!r}"
        )
    return order


def check_real(
    value: object,
    name: str,
    *,
    minimum: float | None = None,
    strict: bool = False,
    maximum: float | None = None,
) -> float:
    """Return a finite float, optionally bounded below (``strict``: ``> minimum``) and above."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if minimum is not None:
        if strict and not x > minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value!r}")
        if not strict and not x >= minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and x > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return x


def reject_complex(value: object, name: str) -> None:
    """``TypeError`` naming ``name`` when ``value`` holds complex numbers.

    ``np.asarray(z, dtype=float)`` would keep only the real part (with a mere ``ComplexWarning``):
    a silently different problem. Complex-step derivatives stay internal (``models.py``).
    """
    if isinstance(value, complex | np.complexfloating):
        raise TypeError(f"{name} must be a real array or number, got the complex number {value!r}")
    if isinstance(value, np.ndarray):
        kind = value.dtype.kind
    elif isinstance(value, list | tuple):
        try:
            kind = np.asarray(value).dtype.kind
        except (TypeError, ValueError):
            return  # ragged or odd input: the conversion below reports it
    else:
        return
    if kind == "c":
        raise TypeError(f"{name} must be a real array, got an array of dtype complex")


def check_bool(value: object, name: str) -> bool:
    """A flag: ``bool`` or ``numpy.bool_`` only (an array's truth value is ambiguous or an error)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


#: Largest number of entries of an array drawn from a size given by the caller (``m·d``):
#: 2**31 doubles = 16 GiB, beyond any use here; larger sizes fail with a message, not MemoryError.
MAX_DRAW_ELEMENTS = 2**31


def check_size(rows: int, cols: int, names: str) -> None:
    """Refuse ``rows × cols`` arrays above :data:`MAX_DRAW_ELEMENTS` entries, naming ``names``."""
    if rows * cols > MAX_DRAW_ELEMENTS:
        raise ValueError(
            f"{names} ask for a {rows} × {cols} array ({rows * cols * 8 / 2**30:.3g} GiB of float64), "
            f"more than MAX_DRAW_ELEMENTS={MAX_DRAW_ELEMENTS}"
        )


def check_max_wall(value: object, name: str = "max_wall") -> float | None:
    """A wall-time limit in seconds: ``None`` (no limit) or a finite number ``> 0``."""
    if value is None:
        return None
    return check_real(value, name, minimum=0.0, strict=True)


def as_float_array(
    value: object,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: tuple[int | None, ...] | None = None,
    dtype: np.dtype | type = np.float64,
    allow_empty: bool = False,
    copy: bool = False,
) -> np.ndarray:
    """Convert to a finite real float array, checking dimension and shape.

    ``shape`` entries that are ``None`` are free.
    """
    reject_complex(value, name)
    try:
        arr = np.array(value, dtype=dtype, copy=copy) if copy else np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real array, got {type(value).__name__}: {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have ndim in {allowed}, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape, strict=True)
        ):
            want = tuple("*" if s is None else s for s in shape)
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
    return arr


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """A string option from a fixed set."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value
