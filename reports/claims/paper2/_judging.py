"""Judging helpers of the deflation claims: rates over groups of runs, outcomes of paired arms.

The evidence rules themselves (exact intervals, McNemar) are :mod:`reports.statistics`
(docs/math.md §7.3, §7.4).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from ...statistics import Evidence, Rate

__all__ = ["group_runs", "original_bar_note", "paired_outcomes", "rate_part"]

Run = tuple[Any, Mapping[str, Any]]


def rate_part(
    ev: Evidence, name: str, rows: Sequence[Mapping[str, Any]], key: str, p: float
) -> None:
    """``ev.rate_at_least`` on the fraction of ``rows`` whose ``key`` is true; nothing if no rows."""
    if rows:
        ev.rate_at_least(name, sum(bool(m[key]) for m in rows), len(rows), p)


def group_runs(ok: Sequence[Run], key: Callable[[Any], Hashable]) -> dict[Any, list[Run]]:
    """``(config, metrics)`` pairs grouped by ``key(config)``, in the order they come."""
    out: dict[Any, list[Run]] = {}
    for c, m in ok:
        out.setdefault(key(c), []).append((c, m))
    return out


def paired_outcomes(
    ok: Sequence[Run],
    arm: Callable[[Any], bool],
    match: Callable[[Any], Hashable],
    outcome: Callable[[Mapping[str, Any]], Any],
) -> tuple[list[bool], list[bool]]:
    """Outcomes of the two arms on matched keys (``arm(c)`` True/False, ``match(c)`` the pairing key)."""
    a = {match(c): bool(outcome(m)) for c, m in ok if arm(c)}
    b = {match(c): bool(outcome(m)) for c, m in ok if not arm(c)}
    keys = sorted(set(a) & set(b), key=repr)
    return [a[k] for k in keys], [b[k] for k in keys]


def original_bar_note(
    ev: Evidence, name: str, rows: Sequence[Mapping[str, Any]], key: str, original: float | None
) -> None:
    """Where a bar was lowered after results were seen (a history entry), the same rate judged
    under the original bar, as a note beside the registered verdict (issue 22: show both). The
    registered bar decides; the note shows what the original would have said."""
    if original is None or not rows:
        return
    rate = Rate(name, sum(bool(m[key]) for m in rows), len(rows), original)
    ev.note(f"Under the original bar {original:g} (lowered after results): {rate.describe()}.")
