"""Comparing two reports (``overtensor diff A B``): what changed between two ``summary.json`` files.

``A`` and ``B`` are ``summary.json`` files or report directories holding one (``A`` the baseline,
say the quick report of the main branch; ``B`` the new one). The comparison, claim by claim id
(docs/cli.md, "Comparing reports"):

* **added / removed** claims, with their verdicts;
* **verdict changes** — and the replication verdict's, when both reports ran ``--replicate`` —
  ordered ``holds`` < ``inconclusive`` < ``fails`` (as the exit code orders them): a move to the
  right is a *regression* (``holds -> inconclusive``, ``holds -> fails``, ``inconclusive ->
  fails``), to the left an *improvement*;
* **margin changes** larger than ``margin_threshold`` (default :data:`MARGIN_THRESHOLD`; margins
  are fractions of the tolerance, docs/math.md §7), and a margin that appears or disappears;
* **changed bars**: what a verdict was judged against — the judged rates' and contrasts'
  thresholds (a rate's bar lowered for ``at_least``, or a contrast's p-value threshold raised, is
  marked *loosened*), the claim's tolerance text, and its registration (registered bars,
  tolerances, rates and seed blocks, docs/math.md §7.10);
* **warnings**: different profiles (their verdicts are not comparable), one report replicated and
  not the other.

:func:`diff_summaries` returns a :class:`SummaryDiff` (text with :meth:`SummaryDiff.text`, JSON
with :meth:`SummaryDiff.as_dict`); its :attr:`~SummaryDiff.exit_code` is 0 without a verdict
regression and 1 with one (what CI gates on). An unreadable file is a :class:`DiffError` (a
``ValueError``; the command line's exit 2). This module reads JSON only (a leaf of ``reports``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MARGIN_THRESHOLD",
    "BarChange",
    "DiffError",
    "MarginChange",
    "SummaryDiff",
    "VerdictChange",
    "diff_summaries",
    "read_summary",
]

MARGIN_THRESHOLD = 0.1
"""Default smallest margin change reported (the report's close-call width, docs/math.md §7)."""

_RANK = {"holds": 0, "inconclusive": 1, "fails": 2}


class DiffError(ValueError):
    """A file that is not a report's summary (the message names it)."""


def read_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``summary.json`` at ``path`` (a file, or a report directory holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / "summary.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        where = "no summary.json in that directory" if p.name == "summary.json" else "no such file"
        raise DiffError(f"{os.fspath(path)!r}: {where}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiffError(f"{os.fspath(p)!r}: cannot read it: {exc}") from None
    except json.JSONDecodeError as exc:
        raise DiffError(f"{os.fspath(p)!r}: not JSON: {exc}") from None
    claims = data.get("claims") if isinstance(data, dict) else None
    if not isinstance(claims, list) or not all(
        isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("verdict"), str)
        for c in claims
    ):
        raise DiffError(
            f"{os.fspath(p)!r}: not an overtensor summary.json (no 'claims' list of objects with "
            "'id' and 'verdict')"
        )
    return data


@dataclass(frozen=True)
class VerdictChange:
    id: str
    before: str
    after: str
    part: str = "verdict"  # or "replication verdict"

    @property
    def direction(self) -> str:
        """``"regression"``, ``"improvement"`` or ``"change"`` (an unknown verdict)."""
        a, b = _RANK.get(self.before), _RANK.get(self.after)
        if a is None or b is None:
            return "change"
        return "regression" if b > a else "improvement"


@dataclass(frozen=True)
class MarginChange:
    id: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass(frozen=True)
class BarChange:
    id: str
    what: str
    before: Any
    after: Any
    direction: str = "changed"  # "loosened", "tightened" or "changed"


@dataclass(frozen=True)
class SummaryDiff:
    """Everything that changed from report ``a`` to report ``b`` (module docstring)."""

    a: Mapping[str, Any]
    b: Mapping[str, Any]
    margin_threshold: float
    added: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    verdicts: tuple[VerdictChange, ...] = ()
    margins: tuple[MarginChange, ...] = ()
    bars: tuple[BarChange, ...] = ()
    warnings: tuple[str, ...] = ()
    compared: int = 0
    labels: tuple[str, str] = field(default=("A", "B"))

    @property
    def regressions(self) -> list[VerdictChange]:
        return [v for v in self.verdicts if v.direction == "regression"]

    @property
    def exit_code(self) -> int:
        """0 without a verdict regression, 1 with one."""
        return 1 if self.regressions else 0

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.verdicts or self.margins or self.bars)

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` output."""
        return {
            "a": dict(self.a),
            "b": dict(self.b),
            "margin_threshold": self.margin_threshold,
            "compared": self.compared,
            "warnings": list(self.warnings),
            "added": [{"id": i, "verdict": v} for i, v in self.added],
            "removed": [{"id": i, "verdict": v} for i, v in self.removed],
            "verdict_changes": [{**asdict(v), "direction": v.direction} for v in self.verdicts],
            "margin_changes": [{**asdict(m), "delta": m.delta} for m in self.margins],
            "bar_changes": [asdict(b) for b in self.bars],
            "regressions": len(self.regressions),
            "exit_code": self.exit_code,
        }

    def text(self) -> str:
        """The plain-text output of ``overtensor diff``."""
        return "\n".join(self._lines())

    def _lines(self) -> Iterator[str]:
        la, lb = self.labels
        for label, side in ((la, self.a), (lb, self.b)):
            yield (
                f"{label}: {side['path']} (profile {side['profile']}, commit {side['commit']}, "
                f"{side['claims']} claim(s), generated {side['generated']})"
            )
        for w in self.warnings:
            yield f"warning: {w}"
        if self.unchanged:
            yield (
                f"no changes in {self.compared} claim(s): same verdicts, margins within "
                f"{self.margin_threshold:g}, same bars"
            )
        if self.verdicts:
            yield f"verdict changes ({len(self.verdicts)}):"
            for v in self.verdicts:
                part = "" if v.part == "verdict" else f" ({v.part})"
                yield f"  {v.direction:<11}  {v.id}{part}: {v.before} -> {v.after}"
        if self.margins:
            yield f"margin changes larger than {self.margin_threshold:g} ({len(self.margins)}):"
            for m in self.margins:
                delta = "" if m.delta is None else f" ({m.delta:+.3g})"
                yield f"  {m.id}: {_num(m.before)} -> {_num(m.after)}{delta}"
        if self.bars:
            yield f"changed bars ({len(self.bars)}):"
            for b in self.bars:
                how = "" if b.direction == "changed" else f" ({b.direction})"
                yield f"  {b.id}: {b.what}: {_num(b.before)} -> {_num(b.after)}{how}"
        for title, items in (("added", self.added), ("removed", self.removed)):
            if items:
                yield f"{title} ({len(items)}): " + ", ".join(f"{i} ({v})" for i, v in items)
        n = len(self.regressions)
        yield (f"{n} verdict regression(s): exit 1" if n else "no verdict regression: exit 0")


def _num(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _margin(claim: Mapping[str, Any]) -> float | None:
    m = claim.get("margin")
    if isinstance(m, bool) or not isinstance(m, int | float) or not math.isfinite(m):
        return None
    return float(m)


def _rate_bar(rate: Mapping[str, Any], key: str) -> str | None:
    value = rate.get(key)
    if value is None:
        return None
    op = "<=" if rate.get("direction") == "at_most" else ">="
    return f"{op} {value:g}" if isinstance(value, int | float) else f"{op} {value}"


def _bars(claim: Mapping[str, Any]) -> dict[str, tuple[Any, str | None]]:
    """What a claim was judged against: ``{description: (value, how a larger value reads)}``.

    The second element says what a *larger* value does: ``"loosened"`` or ``"tightened"``
    (None: neither, e.g. a text).
    """
    out: dict[str, tuple[Any, str | None]] = {}
    for r in claim.get("rates") or []:
        if isinstance(r, Mapping) and "name" in r:
            larger = "tightened" if r.get("direction", "at_least") == "at_least" else "loosened"
            out[f"rate {r['name']!r} bar"] = (r.get("threshold"), larger)
            out[f"rate {r['name']!r} direction"] = (r.get("direction"), None)
    for x in claim.get("contrasts") or []:
        if isinstance(x, Mapping) and "name" in x:
            out[f"contrast {x['name']!r} p-value threshold"] = (x.get("threshold"), "loosened")
    if "tolerance" in claim:
        out["tolerance"] = (claim.get("tolerance"), None)
    reg = claim.get("registered")
    if isinstance(reg, Mapping):
        for name, value in (reg.get("tolerances") or {}).items():
            out[f"registered tolerance {name!r}"] = (value, None)
        prof = reg.get("profile")
        if isinstance(prof, Mapping):
            for name, value in (prof.get("bars") or {}).items():
                out[f"registered bar {name!r}"] = (value, None)
            for name, value in (prof.get("tolerances") or {}).items():
                out[f"registered tolerance {name!r} (profile)"] = (value, None)
            for key in ("seeds", "calibration_seeds"):  # "" for a deterministic claim: none
                out[f"registered {key.replace('_', ' ')}"] = (prof.get(key) or None, None)
            for r in prof.get("rates") or []:
                if isinstance(r, Mapping) and "name" in r:
                    out[f"registered rate {r['name']!r}"] = (_rate_bar(r, "bar"), None)
            for cname, rates in (prof.get("controls") or {}).items():
                for r in rates or []:
                    if isinstance(r, Mapping) and "name" in r:
                        what = f"registered control {cname!r} rate {r['name']!r}"
                        out[what] = (_rate_bar(r, "bar"), None)
    return out


def _bar_changes(cid: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> list[BarChange]:
    before, after = _bars(a), _bars(b)
    changes = []
    for what in sorted(set(before) | set(after)):
        (va, larger), (vb, _) = before.get(what, (None, None)), after.get(what, (None, None))
        if va == vb:
            continue
        direction = "changed"
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (va, vb))
        if numbers and larger is not None:
            smaller = "loosened" if larger == "tightened" else "tightened"
            direction = larger if vb > va else smaller
        changes.append(BarChange(cid, what, va, vb, direction))
    return changes


def _side(path: str, summary: Mapping[str, Any]) -> dict[str, Any]:
    found = summary.get("provenance")
    prov: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    commit = str(prov.get("git_commit", "unknown"))
    short = commit[:12] + commit[40:] if len(commit) >= 40 else commit
    return {
        "path": path,
        "profile": summary.get("profile"),
        "commit": short,
        "generated": prov.get("generated", "unknown"),
        "claims": len(summary["claims"]),
    }


def diff_summaries(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    *,
    margin_threshold: float = MARGIN_THRESHOLD,
    paths: Sequence[str] = ("A", "B"),
) -> SummaryDiff:
    """What changed from summary ``a`` to summary ``b`` (module docstring).

    ``paths`` name the two reports in the output. ``margin_threshold`` must be a finite number
    >= 0 (``ValueError`` otherwise).
    """
    if (
        isinstance(margin_threshold, bool)
        or not isinstance(margin_threshold, int | float)
        or not math.isfinite(margin_threshold)
        or margin_threshold < 0
    ):
        raise ValueError(f"margin_threshold must be a finite number >= 0, got {margin_threshold!r}")
    ca = {c["id"]: c for c in a["claims"]}
    cb = {c["id"]: c for c in b["claims"]}
    warnings = []
    if a.get("profile") != b.get("profile"):
        warnings.append(
            f"the profiles differ ({a.get('profile')} vs {b.get('profile')}): sizes, seeds and bars "
            "differ, so verdicts and margins are not comparable"
        )
    common = [cid for cid in ca if cid in cb]
    rep_a = {cid for cid in common if isinstance(ca[cid].get("replication"), Mapping)}
    rep_b = {cid for cid in common if isinstance(cb[cid].get("replication"), Mapping)}
    if rep_a != rep_b:
        warnings.append(
            "one report was run with --replicate and the other not (or on other claims)"
        )
    verdicts, margins, bars = [], [], []
    for cid in sorted(common):
        x, y = ca[cid], cb[cid]
        if x["verdict"] != y["verdict"]:
            verdicts.append(VerdictChange(cid, x["verdict"], y["verdict"]))
        if cid in rep_a and cid in rep_b:
            ra, rb = str(x["replication"].get("verdict")), str(y["replication"].get("verdict"))
            if ra != rb:
                verdicts.append(VerdictChange(cid, ra, rb, "replication verdict"))
        ma, mb = _margin(x), _margin(y)
        if (ma is None) != (mb is None) or (
            ma is not None and mb is not None and abs(mb - ma) > margin_threshold
        ):
            margins.append(MarginChange(cid, ma, mb))
        bars += _bar_changes(cid, x, y)
    pa, pb = (str(p) for p in paths)
    return SummaryDiff(
        a=_side(pa, a),
        b=_side(pb, b),
        margin_threshold=float(margin_threshold),
        added=tuple((cid, cb[cid]["verdict"]) for cid in sorted(set(cb) - set(ca))),
        removed=tuple((cid, ca[cid]["verdict"]) for cid in sorted(set(ca) - set(cb))),
        verdicts=tuple(verdicts),
        margins=tuple(margins),
        bars=tuple(bars),
        warnings=tuple(warnings),
        compared=len(common),
    )
