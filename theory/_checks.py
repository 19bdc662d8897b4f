"""Input validation for :mod:`theory` (kept separate from :mod:`numerics`, which theory never imports).

Every error names the parameter and the value received.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence


def check_int(value: object, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` in ``[minimum, maximum]``, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and int(value) > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return int(value)


def check_order(
    value: object, name: str = "l", *, minimum: int = 2, maximum: int | None = None
) -> int:
    """Tensor order ``l >= minimum`` (2 unless stated)."""
    return check_int(value, name, minimum=minimum, maximum=maximum)


def check_positive(value: object, name: str) -> float:
    """A finite real number ``> 0``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x) or not x > 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return x


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """A string option from a fixed set."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value
