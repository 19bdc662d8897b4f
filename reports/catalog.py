"""The claims known to this process, and choosing among them (sits above loading).

:func:`all_claims` and :func:`get_claim` import the built-in claims (:mod:`reports.claims`) and the
``overtensor.claims`` entry points once, then read :data:`reports.registry.REGISTRY`.

Selecting claims (``--claims``/``-k`` of the command line, ``claims=``/``keyword=`` of the API,
docs/cli.md "Selecting claims") is done here, once, by :func:`select_claims`:

* a **pattern** is a claim id (``deflation.order``), an **area** — the part of the id before its
  first dot (``deflation``) — or a **group**, the folder of the file that declared the claim
  (``paper1``, ``paper2``, ``classical`` for the built-in ones; :func:`claim_group`), or a **glob**
  over ids (``'deflation.*'``, ``'*.order'``, ``'lazy.[at]*'``: :func:`fnmatch.fnmatchcase`);
  patterns are matched case-insensitively (ids are lower case);
* a **keyword expression** (``-k``) as in pytest: words joined with ``and``, ``or``, ``not`` and
  parentheses; a word matches a claim when it is a substring (any case) of the claim's id or group.
  It is parsed here (:func:`parse_keyword`), never evaluated as Python.

A pattern that selects nothing is an :class:`UnknownClaimError` (a ``KeyError``) whose message
offers the closest ids, areas and groups ("did you mean ...") and, when the id's area is unknown
altogether, asks whether the claim is in a file that was not loaded. A keyword expression that
does not parse, or that leaves no claim, is a :class:`SelectionError` (a ``ValueError``).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .failures import describe, is_interrupt, print_traceback
from .loading import load_entry_points
from .registry import REGISTRY, Claim

__all__ = [
    "SelectionError",
    "UnknownClaimError",
    "all_claims",
    "claim_area",
    "claim_group",
    "control_names",
    "for_profile",
    "get_claim",
    "parse_keyword",
    "select_claims",
    "select_one",
]

GLOB_CHARACTERS = frozenset("*?[")
"""A pattern with one of these characters is a glob over claim ids."""


class UnknownClaimError(KeyError):
    """A claim id or pattern that names no registered claim (the message says what is close)."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


class SelectionError(ValueError):
    """A keyword expression that does not parse, or a selection that leaves no claim."""


def _import_claims() -> None:
    """Import the built-in claims and the ``overtensor.claims`` entry points (once)."""
    from . import claims  # noqa: F401  (registers on import)

    load_entry_points()


def all_claims() -> list[Claim]:
    """Every registered claim, sorted by id (built-in, entry-point and ``--load``-ed claims)."""
    _import_claims()
    return [REGISTRY[k] for k in sorted(REGISTRY)]


def claim_area(claim_id: str) -> str:
    """The part of a claim id before its first dot: ``"deflation"`` for ``"deflation.order"``."""
    return claim_id.split(".", 1)[0]


def claim_group(claim: Claim) -> str:
    """The folder of the file that declared ``claim`` (``"paper1"`` for ``reports/claims/paper1/x.py``).

    Empty for a claim that names no module (built by hand and never :func:`reports.registry.register`-ed)
    or whose module has no file.
    """
    module = sys.modules.get(claim.module) if claim.module else None
    file = getattr(module, "__file__", None)
    return Path(file).parent.name if file else ""


def control_names(claim: Claim) -> list[str] | str:
    """Names of ``claim``'s negative controls over its profiles (an error text if they fail)."""
    if claim.controls is None:
        return []
    names: list[str] = []
    for prof in claim.profiles:
        try:
            names += [str(n) for n in claim.controls(prof) if str(n) not in names]
        except BaseException as exc:  # claim code: even sys.exit is its failure
            if is_interrupt(exc):
                raise
            print_traceback(f"claim {claim.id!r}: controls({prof!r}) failed", exc)
            return f"error: {describe(exc)}"
    return names


def _is_glob(pattern: str) -> bool:
    return not GLOB_CHARACTERS.isdisjoint(pattern)


# ---------------------------------------------------------------------------------------------
# unknown ids: what is close
# ---------------------------------------------------------------------------------------------
def _unknown(pattern: str, claims: Sequence[Claim], what: str = "claim id") -> UnknownClaimError:
    """The error for ``pattern`` selecting nothing: the closest names, and a hint about --load."""
    areas = sorted({claim_area(c.id) for c in claims})
    groups = sorted({g for c in claims if (g := claim_group(c))})
    names = [c.id for c in claims] + areas + [g for g in groups if g not in areas]
    close = difflib.get_close_matches(pattern.lower(), names, n=3, cutoff=0.6)
    text = f"unknown {what} {pattern!r}"
    if close:
        quoted = [repr(c) for c in close]
        either = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]
        text += f"; did you mean {either}?"
    prefix = claim_area(pattern.lower())
    if prefix and not _is_glob(prefix) and prefix not in areas and prefix not in groups:
        text += (
            f"{' No' if close else '; no'} claim id starts with {prefix + '.'!r}: is it in a claim "
            "file you forgot to --load (load= in the Python API)?"
        )
    text += " (`overtensor claims` lists every claim)"
    return UnknownClaimError(text)


def get_claim(claim_id: str) -> Claim:
    """The claim with id ``claim_id``; :class:`UnknownClaimError` (a ``KeyError``) otherwise."""
    _import_claims()
    try:
        return REGISTRY[claim_id]
    except (KeyError, TypeError):
        if not isinstance(claim_id, str):
            raise TypeError(f"claim id must be a string, got {claim_id!r}") from None
        raise _unknown(claim_id, [REGISTRY[k] for k in sorted(REGISTRY)]) from None


# ---------------------------------------------------------------------------------------------
# keyword expressions (-k), as pytest's: parsed, never evaluated as Python
# ---------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<paren>[()])|(?P<word>[^\s()]+))")
_OPERATORS = ("and", "or", "not")


@dataclass(frozen=True)
class _Token:
    text: str
    column: int  # 1-based, for messages


Matcher = Callable[[Iterable[str]], bool]
"""A parsed keyword expression: called with a claim's names (id, group), says whether it is kept."""


def _tokens(expression: str) -> list[_Token]:
    out = []
    pos = 0
    while pos < len(expression):
        m = _TOKEN.match(expression, pos)
        if m is None:  # only trailing white space is left
            break
        text = m.group("paren") or m.group("word")
        out.append(_Token(text, m.start(m.lastgroup or 0) + 1))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent over ``expr: and ('or' and)*; and: not ('and' not)*;
    not: 'not' not | '(' expr ')' | word``."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.pos = 0

    def _error(self, expected: str) -> SelectionError:
        if self.pos < len(self.tokens):
            tok = self.tokens[self.pos]
            found = f"{tok.text!r} at column {tok.column}"
        else:
            found = "the end of the expression"
        return SelectionError(
            f"-k {self.expression!r}: expected {expected}, found {found} (write words joined with "
            "and/or/not and parentheses, e.g. -k 'deflation and not order')"
        )

    def _peek(self) -> str | None:
        return self.tokens[self.pos].text if self.pos < len(self.tokens) else None

    def parse(self) -> Matcher:
        if not self.tokens:
            return lambda names: True  # as pytest: an empty expression keeps everything
        matcher = self._or()
        if self.pos != len(self.tokens):
            raise self._error("'and', 'or' or ')'")
        return matcher

    def _or(self) -> Matcher:
        parts = [self._and()]
        while self._peek() == "or":
            self.pos += 1
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda names: any(p(names) for p in parts)

    def _and(self) -> Matcher:
        parts = [self._not()]
        while self._peek() == "and":
            self.pos += 1
            parts.append(self._not())
        if len(parts) == 1:
            return parts[0]
        return lambda names: all(p(names) for p in parts)

    def _not(self) -> Matcher:
        tok = self._peek()
        if tok == "not":
            self.pos += 1
            inner = self._not()
            return lambda names: not inner(names)
        if tok == "(":
            self.pos += 1
            inner = self._or()
            if self._peek() != ")":
                raise self._error("')'")
            self.pos += 1
            return inner
        if tok is None or tok == ")" or tok in _OPERATORS:
            raise self._error("a word, 'not' or '('")
        self.pos += 1
        word = tok.lower()
        return lambda names: any(word in n.lower() for n in names)


def parse_keyword(expression: str) -> Matcher:
    """Parse a ``-k`` expression into a function of a claim's names; :class:`SelectionError` if bad.

    >>> keep = parse_keyword("deflation and not (order or epochs)")
    >>> keep(["deflation.recovery", "paper2"]), keep(["deflation.order", "paper2"])
    (True, False)
    """
    if not isinstance(expression, str):
        raise TypeError(f"keyword must be a string, got {expression!r}")
    return _Parser(expression).parse()


# ---------------------------------------------------------------------------------------------
# selection
# ---------------------------------------------------------------------------------------------
def _matching(pattern: str, claims: Sequence[Claim]) -> list[Claim]:
    """The claims ``pattern`` selects (id order); empty when it selects none."""
    p = pattern.lower()
    if _is_glob(p):
        return [c for c in claims if fnmatch.fnmatchcase(c.id, p)]
    exact = [c for c in claims if c.id == p]
    if exact or "." in p:
        return exact
    return [c for c in claims if claim_area(c.id) == p or claim_group(c).lower() == p]


def select_claims(
    patterns: Sequence[str] | None = None,
    keyword: str | None = None,
    *,
    claims: Sequence[Claim] | None = None,
) -> list[Claim]:
    """The claims that ``patterns`` and ``keyword`` select (module docstring).

    Parameters
    ----------
    patterns : sequence of str, optional
        Ids, areas, groups or globs; None selects every claim. The result follows the patterns'
        order (each pattern's claims in id order), every claim once.
    keyword : str, optional
        A ``-k`` expression that the selected claims must also match.
    claims : sequence of Claim, optional
        The claims to choose from (default: :func:`all_claims`).

    Raises
    ------
    UnknownClaimError
        A pattern selects no claim (the message says what is close).
    SelectionError
        ``keyword`` does not parse, or leaves no claim.
    """
    if isinstance(patterns, str):
        raise TypeError(
            f"claims must be a list of ids/patterns or None, got the string {patterns!r} "
            f"(write [{patterns!r}])"
        )
    pool = list(claims) if claims is not None else all_claims()
    keep = parse_keyword(keyword) if keyword is not None else None  # parse errors first
    if patterns is None:
        chosen = pool
    else:
        picked: dict[str, Claim] = {}
        for pattern in patterns:
            if not isinstance(pattern, str):
                raise TypeError(f"a claim pattern must be a string, got {pattern!r}")
            found = _matching(pattern, pool)
            if not found:
                raise _unknown(pattern, pool, "claim pattern" if _is_glob(pattern) else "claim id")
            for c in found:
                picked.setdefault(c.id, c)
        chosen = list(picked.values())
    if keep is None:
        return chosen
    kept = [c for c in chosen if keep((c.id, claim_group(c)))]
    if not kept:
        among = "the selected claims" if patterns is not None else "the registered claims"
        raise SelectionError(f"-k {keyword!r} matches none of {among} ({len(chosen)})")
    return kept


def for_profile(
    claims: Sequence[Claim], profile: str, named: Sequence[str] | None = None
) -> list[Claim]:
    """The claims of a selection that have ``profile``.

    ``named``: the patterns the selection was made from (None: every claim, no selection). A claim
    named by its exact id that lacks the profile is a :class:`SelectionError`, and so is a selection
    that leaves no claim with it; claims chosen by an area, group, glob or keyword that lack it are
    left out.
    """
    lacking = [c.id for c in claims if profile not in c.profiles]
    explicit = [cid for cid in lacking if named is not None and cid in named]
    if explicit:
        raise SelectionError(f"claim(s) without a {profile!r} profile: {', '.join(explicit)}")
    kept = [c for c in claims if profile in c.profiles]
    if lacking and not kept and named is not None:
        raise SelectionError(
            f"none of the selected claims has a {profile!r} profile: {', '.join(lacking)}"
        )
    return kept


def select_one(pattern: str) -> Claim:
    """The one claim ``pattern`` selects (``overtensor check``); an id, or a pattern matching one.

    Raises :class:`UnknownClaimError` when it selects none and :class:`SelectionError` when it
    selects several (naming them).
    """
    if not isinstance(pattern, str):
        raise TypeError(f"claim id must be a string, got {pattern!r}")
    chosen = select_claims([pattern])
    if len(chosen) > 1:
        ids = ", ".join(c.id for c in chosen)
        raise SelectionError(
            f"{pattern!r} selects {len(chosen)} claims ({ids}); check runs one claim: name one, or "
            f"run them with `overtensor report --claims {pattern!r}`"
        )
    return chosen[0]
