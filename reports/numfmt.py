"""Numbers and short texts formatted for people: what the report and the verdict reasons print.

The machine-readable values stay exact in ``summary.json`` and ``data/<id>.json``; this module only
decides how they read:

* :func:`number`: 4 significant digits; a non-finite value, or one of sentinel size
  (``|x| >= 1e300``, which claims use for "never reached"), reads ``∞`` / ``-∞``;
* :func:`margin`: a signed fraction of a tolerance (``+0.12``, ``-1.1e+04``, ``-∞``);
* :func:`interval` (fixed decimals) and :func:`interval_sig` (significant digits): the two ends
  with as many digits as it takes to tell them apart, so an interval prints ``1.00–1.00`` only when
  both ends are equal;
* :func:`value`: nested JSON data (dicts, lists, ``None``) on one line, a ``[a, None]`` pair being a
  one-sided (censored) interval ``[a, ∞)``;
* :func:`tidy`: free text from a claim (predicted, measured, reason) with the same rules applied to
  what such text is known to carry (``[3, None]``, a 300-digit number, ``1e+300``, a sentence whose
  last field came out empty);
* :func:`shorten`: a long text cut at a clause boundary, for a table cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["SENTINEL", "interval", "interval_sig", "margin", "number", "shorten", "tidy", "value"]

SENTINEL = 1e300
"""Values at least this large in magnitude are placeholders for "infinite / never reached"."""

INFINITY = "∞"


def _is_real(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def number(x: object, digits: int = 4) -> str:
    """``x`` with ``digits`` significant digits; ``∞``/``-∞`` for infinite or sentinel-size values.

    Integers print in full (up to 15 digits; longer ones as floats), NaN as ``NaN``, anything that is
    not a real number with ``str``.
    """
    if not isinstance(x, int | float) or isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x) if abs(x) < 10**15 else number(float(x), digits)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x) or abs(x) >= SENTINEL:
        return INFINITY if x > 0 else "-" + INFINITY
    return format(x, f".{digits}g")


def margin(m: object) -> str:
    """``+0.12`` / ``-1.1e+04`` / ``-∞``; ``n/a`` when nothing could be judged (None or NaN)."""
    if not _is_real(m) or math.isnan(float(m)):  # type: ignore[arg-type]
        return "n/a"
    m = float(m)  # type: ignore[arg-type]
    if math.isinf(m) or abs(m) >= SENTINEL:
        return ("+" if m > 0 else "-") + INFINITY
    return f"{m:+.2f}" if abs(m) < 100 else f"{m:+.2g}"


def interval(lo: object, hi: object, digits: int = 2, *, sep: str = "–") -> str:
    """``lo–hi`` in fixed-point with at least ``digits`` decimals, more when needed to show the ends
    differ (up to 6 decimals, then 4 significant digits); non-finite ends read ``∞``."""
    if not (_is_real(lo) and _is_real(hi)):
        return f"{value(lo)}{sep}{value(hi)}"
    a, b = float(lo), float(hi)  # type: ignore[arg-type]
    if not (math.isfinite(a) and math.isfinite(b)) or max(abs(a), abs(b)) >= 1e4:
        return f"{number(a)}{sep}{number(b)}"
    for d in range(digits, 7):
        ta, tb = f"{a:.{d}f}", f"{b:.{d}f}"
        if ta != tb or a == b:
            return f"{ta}{sep}{tb}"
    return f"{a:.4g}{sep}{b:.4g}"


def interval_sig(lo: object, hi: object, digits: int = 4, *, sep: str = ", ") -> str:
    """``lo, hi`` with ``digits`` significant digits, more (up to 10) when needed to show the ends
    differ; non-finite or sentinel-size ends read ``∞``."""
    if not (_is_real(lo) and _is_real(hi)):
        return f"{value(lo)}{sep}{value(hi)}"
    a, b = float(lo), float(hi)  # type: ignore[arg-type]
    for d in range(digits, 11):
        ta, tb = number(a, d), number(b, d)
        if ta != tb or a == b:
            break
    return f"{ta}{sep}{tb}"


def value(v: Any, digits: int = 4) -> str:
    """Nested JSON-like data on one line, numbers by :func:`number`; ``[a, None]`` reads ``[a, ∞)``."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if _is_real(v):
        return number(v, digits)
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{k}: {value(x, digits)}" for k, x in v.items()) + "}"
    if isinstance(v, Sequence):
        items = list(v)
        if len(items) == 2 and _is_real(items[0]) and items[1] is None:
            return f"[{number(items[0], digits)}, {INFINITY})"
        return "[" + ", ".join(value(x, digits) for x in items) + "]"
    return str(v)


# what free text from claims is known to carry, and how it should read
_CENSORED = re.compile(r"\[([^\[\],]+), None\]")  # "[3, None]": an interval open above
_LONG_NUMBER = re.compile(r"(?<![\w.])[-+]?\d{16,}(?:\.\d+)?(?![\w.])")  # a float printed in full
_HUGE_EXPONENT = re.compile(r"(?<![\w.])([-+]?)\d+(?:\.\d+)?e\+?3\d\d(?![\w.])")  # 1e+300 ...
_EMPTY_FIELD = re.compile(r"(\S)[ \t]+\.(?=\s|$)")  # "... deviation| ." : the field was empty


def tidy(text: object) -> str:
    """Free text (a verdict's reason, a predicted/measured line) as a reader should see it.

    ``[3, None]`` becomes ``[3, ∞)``; a number printed with 16 or more digits is shortened by
    :func:`number` (``∞`` at sentinel size); ``1e+300`` and the like read ``∞``; a sentence whose
    last field was empty (``"... max |x| ."``) reads ``"... max |x|: none."``.
    """
    s = str(text)
    s = _CENSORED.sub(lambda m: f"[{m[1]}, {INFINITY})", s)
    s = _LONG_NUMBER.sub(lambda m: number(float(m[0])), s)
    s = _HUGE_EXPONENT.sub(lambda m: ("-" if m[1] == "-" else "") + INFINITY, s)
    return _EMPTY_FIELD.sub(lambda m: f"{m[1]}: none.", s)


def shorten(text: object, limit: int = 160) -> str:
    """``text`` on one line, at most ``limit`` characters: whole clauses (``; `` / ``. ``) while they
    fit, else cut at a word boundary; ``…`` marks a cut."""
    s = " ".join(str(text).split())
    if len(s) <= limit:
        return s
    cut = max(s.rfind("; ", 0, limit), s.rfind(". ", 0, limit))
    if cut >= limit // 2:
        return s[:cut].rstrip(" ;.") + " …"
    space = s.rfind(" ", 0, limit - 1)
    return s[: space if space > 0 else limit - 1].rstrip(" ,;:") + " …"
