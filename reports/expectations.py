"""Expected verdicts (``--expect FILE``): which claims are expected not to hold, as pytest's xfail.

The file is TOML; each key is a claim id or a glob over ids, each value a verdict or a table with a
verdict and a reason (docs/cli.md, "Expected verdicts")::

    "deflation.order" = "fails"
    "beyond.*" = { verdict = "inconclusive", reason = "the variant needs the full profile" }

**Which entry applies.** A claim gets the most specific entry whose key matches its id: an exact id
beats every glob; among globs, the one with more literal characters wins (``*`` and ``?`` count
nothing, a bracket expression ``[...]`` counts one), so ``"deflation.m-*"`` beats
``"deflation.*"``, which beats ``"*"``. Two matching globs equally specific that expect different
verdicts are an error (the file does not say which applies). A claim that no key matches is
expected to hold.

**Strict.** A claim's (effective) verdict must *equal* its expectation: a claim expected to fail
that holds is a mismatch too (like pytest's ``xfail(strict=True)``). With ``--replicate`` the
effective verdict is the worse of the two blocks' verdicts (fails > inconclusive > holds), as for
the exit code. The command exits 0 when every verdict matches, 1 otherwise (the mismatches listed).

Every problem with the file — not TOML, an unknown verdict, an unknown field, a key that matches
no registered claim, an ambiguous pair — is an :class:`ExpectationError` (a ``ValueError``; exit 2)
naming the file, the line where it can be found, and the key.

This module knows nothing of claims but their ids and verdicts (a leaf of ``reports``).
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "VERDICTS",
    "Comparison",
    "Expectation",
    "ExpectationError",
    "ExpectationReport",
    "Expectations",
    "compare",
    "compare_outcomes",
    "effective_verdict",
    "load_expectations",
    "specificity",
]

VERDICTS = ("holds", "fails", "inconclusive")
_SEVERITY = {"holds": 0, "inconclusive": 1, "fails": 2}  # as reports.render.exit_code
_FIELDS = ("verdict", "reason")
_GLOB = re.compile(r"\[[^\]]*\]|[*?]")


class ExpectationError(ValueError):
    """An expectations file that cannot be used (the message names the file, line and key)."""


def specificity(pattern: str) -> tuple[int, int]:
    """``(exact, literal characters)`` of a key: the larger applies (module docstring)."""
    if not _GLOB.search(pattern):
        return (1, len(pattern))
    return (0, len(_GLOB.sub("", pattern)) + pattern.count("["))


@dataclass(frozen=True)
class Expectation:
    """One entry of the file: its key, the expected verdict, why, and where it is written."""

    pattern: str
    verdict: str
    reason: str = ""
    line: int | None = None

    def matches(self, claim_id: str) -> bool:
        return fnmatch.fnmatchcase(claim_id, self.pattern)

    def where(self, path: str) -> str:
        return f"{path}, line {self.line}" if self.line else path


@dataclass(frozen=True)
class Comparison:
    """One claim's verdict against what was expected of it."""

    claim_id: str
    actual: str
    expected: str
    pattern: str | None = None
    """The key that applied; None: no key matched, so the claim is expected to hold."""
    reason: str = ""

    @property
    def matches(self) -> bool:
        return self.actual == self.expected

    def as_dict(self) -> dict[str, Any]:
        """The claim's ``expected`` record in summary.json."""
        return {
            "verdict": self.expected,
            "reason": self.reason,
            "pattern": self.pattern,
            "matches": self.matches,
        }

    def why(self) -> str:
        """Where the expectation comes from: ``key: reason``, or that no key matched."""
        why = f"{self.pattern}" if self.pattern else "no entry: must hold"
        return f"{why}: {self.reason}" if self.reason else why

    def describe(self) -> str:
        """One line: ``id: expected fails (key: reason), got holds``."""
        return f"{self.claim_id}: expected {self.expected} ({self.why()}), got {self.actual}"


@dataclass(frozen=True)
class Expectations:
    """The entries of an expectations file (:func:`load_expectations`)."""

    path: str
    entries: tuple[Expectation, ...] = ()

    def for_claim(self, claim_id: str) -> Expectation | None:
        """The entry that applies to ``claim_id`` (module docstring), or None."""
        found = [e for e in self.entries if e.matches(claim_id)]
        if not found:
            return None
        best = max(specificity(e.pattern) for e in found)
        top = [e for e in found if specificity(e.pattern) == best]
        if len({(e.verdict, e.reason) for e in top}) > 1:
            keys = " and ".join(f"{e.pattern!r} ({e.where(self.path)})" for e in top)
            raise ExpectationError(
                f"{self.path}: {claim_id!r} is matched by {keys}, equally specific, expecting "
                "different verdicts: add an entry for the id, or make one pattern more specific"
            )
        return top[0]

    def check_known(self, claim_ids: Iterable[str]) -> None:
        """:class:`ExpectationError` for a key that matches none of ``claim_ids`` (a typo, or a claim
        file not loaded), and for an ambiguous pair (:meth:`for_claim`)."""
        ids = sorted(claim_ids)
        for e in self.entries:
            if not any(e.matches(cid) for cid in ids):
                close = difflib.get_close_matches(e.pattern, ids, n=2, cutoff=0.6)
                hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
                if "." not in e.pattern and not _GLOB.search(e.pattern):
                    hint += f" (a whole area is written {e.pattern + '.*'!r})"
                raise ExpectationError(
                    f"{e.where(self.path)}: key {e.pattern!r} matches no registered claim{hint} "
                    "(a claim from a file needs --load)"
                )
        for cid in ids:
            self.for_claim(cid)


def _line_of(text: str, key: str) -> int | None:
    """The first line of ``text`` that writes ``key`` (quoted or bare; else its last part, as under
    a ``[table]`` header), for messages."""
    leaf = key.rsplit(".", 1)[-1]
    forms = {f'"{key}"', f"'{key}'", key}
    leaf_forms = {f'"{leaf}"', f"'{leaf}'", leaf}
    fallback = None
    for number, line in enumerate(text.splitlines(), start=1):
        head = line.split("=", 1)[0].strip()
        if head in forms:
            return number
        if fallback is None and head in leaf_forms:
            fallback = number
    return fallback


def _entries(table: Mapping[str, Any], prefix: str, text: str, path: str) -> Iterable[Expectation]:
    for raw_key, value in table.items():
        key = f"{prefix}{raw_key}"
        line = _line_of(text, key)
        where = f"{path}, line {line}" if line else path
        if isinstance(value, dict) and "verdict" not in value:
            # an unquoted dotted key (deflation.order = "fails") is a nested table in TOML
            if not value:
                raise ExpectationError(f"{where}: key {key!r} has no verdict")
            yield from _entries(value, f"{key}.", text, path)
            continue
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(_FIELDS))
            if unknown:
                raise ExpectationError(
                    f"{where}: key {key!r}: unknown field(s) {', '.join(map(repr, unknown))}; an "
                    "expectation is a verdict, or a table {verdict = ..., reason = ...}"
                )
            verdict, reason = value["verdict"], value.get("reason", "")
        else:
            verdict, reason = value, ""
        if not isinstance(verdict, str) or verdict not in VERDICTS:
            close = difflib.get_close_matches(str(verdict), VERDICTS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ExpectationError(
                f"{where}: key {key!r}: unknown verdict {verdict!r}, expected one of "
                f"{', '.join(VERDICTS)}{hint}"
            )
        if not isinstance(reason, str):
            raise ExpectationError(f"{where}: key {key!r}: reason must be a string, got {reason!r}")
        pattern = key.lower()
        if not pattern or any(ch.isspace() for ch in pattern):
            raise ExpectationError(f"{where}: key {key!r} is not a claim id or a glob over ids")
        yield Expectation(pattern, verdict, reason, line)


def load_expectations(path: str | os.PathLike[str]) -> Expectations:
    """Read an expectations file (module docstring); :class:`ExpectationError` when it is bad."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ExpectationError(f"--expect {name!r}: cannot read it: {why}") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationError(f"{name}: not valid TOML: {exc}") from None
    entries = tuple(_entries(table, "", text, name))
    seen: dict[str, Expectation] = {}
    for e in entries:
        if e.pattern in seen:  # "Deflation.Order" and "deflation.order"
            raise ExpectationError(
                f"{e.where(name)}: key {e.pattern!r} is given twice (also {seen[e.pattern].where(name)})"
            )
        seen[e.pattern] = e
    return Expectations(name, entries)


def effective_verdict(verdict: str, replication: str | None = None) -> str:
    """The verdict compared with the expectation: the worse of the two blocks' (module docstring)."""
    if replication is None:
        return verdict
    return max(verdict, replication, key=lambda v: _SEVERITY.get(v, 1))


@dataclass(frozen=True)
class ExpectationReport:
    """Every compared claim of a run, and the exit code they give (0: all as expected, else 1)."""

    path: str
    comparisons: tuple[Comparison, ...]

    @property
    def mismatches(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.matches]

    @property
    def exit_code(self) -> int:
        return 1 if self.mismatches else 0

    def for_claim(self, claim_id: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.claim_id == claim_id), None)

    def as_dict(self) -> dict[str, Any]:
        """summary.json's ``expectations``."""
        return {
            "file": self.path,
            "exit_code": self.exit_code,
            "as_expected": len(self.comparisons) - len(self.mismatches),
            "mismatches": [
                {"id": c.claim_id, "actual": c.actual, **c.as_dict()} for c in self.mismatches
            ],
        }

    def summary_line(self) -> str:
        n, bad = len(self.comparisons), len(self.mismatches)
        return f"{self.path}: {n - bad} of {n} claim(s) as expected" + (
            f", {bad} mismatch(es):" if bad else ""
        )


def compare(expectations: Expectations, verdicts: Sequence[tuple[str, str]]) -> ExpectationReport:
    """Each ``(claim id, effective verdict)`` against the entry that applies (or "holds")."""
    out = []
    for claim_id, actual in verdicts:
        e = expectations.for_claim(claim_id)
        if e is None:
            out.append(Comparison(claim_id, actual, "holds"))
        else:
            out.append(Comparison(claim_id, actual, e.verdict, e.pattern, e.reason))
    return ExpectationReport(expectations.path, tuple(out))


def compare_outcomes(
    expectations: Expectations | None, outcomes: Sequence[Any]
) -> ExpectationReport | None:
    """:func:`compare` for :class:`reports.runner.ClaimOutcome` objects (None without a file): each
    claim's effective verdict, the worse block's with ``--replicate``."""
    if expectations is None:
        return None
    verdicts = []
    for o in outcomes:
        again = None if o.replication is None else str(o.replication["verdict"])
        verdicts.append((o.claim.id, effective_verdict(o.verdict.status, again)))
    return compare(expectations, verdicts)
