"""Input validation for :mod:`theory` (kept separate from :mod:`numerics`, which theory never imports).

Every error names the parameter and the value received.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar


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


P = ParamSpec("P")
R = TypeVar("R")


def typed_cache(maxsize: int = 128) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """``functools.lru_cache`` that first type-checks arguments annotated ``int`` and ``str``.

    Without it ``f(3.0)`` or ``f(True)`` would hit the cache entry of ``f(3)`` / ``f(1)`` (equal hashes)
    and never be rejected, and an unhashable argument would raise an error that names no parameter.
    Integer arguments are normalised to ``int`` before the lookup.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            for name, value in bound.arguments.items():
                ann = sig.parameters[name].annotation
                if ann in ("int", int):
                    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                        raise TypeError(f"{name} must be an integer, got {value!r}")
                    bound.arguments[name] = int(value)
                elif ann in ("str", str) and not isinstance(value, str):
                    raise TypeError(f"{name} must be a string, got {value!r}")
                else:
                    try:
                        hash(value)
                    except TypeError:
                        raise TypeError(
                            f"{name} must be hashable, got {type(value).__name__}"
                        ) from None
            return cached(*bound.args, **bound.kwargs)

        wrapper.cache_info = cached.cache_info  # type: ignore[attr-defined]
        wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return wrapper

    return decorate
