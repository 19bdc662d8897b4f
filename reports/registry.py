"""The claim registry: what a claim is, and the table of all of them.

A :class:`Claim` ties one statement of a paper (or a classical fact the suite relies on) to

* a **prediction** (``predict(profile) -> dict``), computed from :mod:`theory` where one exists;
* a **measurement**: a pure, picklable ``experiment(config) -> metrics`` run over ``configs(profile)``
  (frozen dataclasses that carry their seeds);
* a **comparison rule** (``judge``) whose tolerance is written out in ``tolerance``;
* a **figure** (``plot``) that draws the evidence and returns the data behind it.

A claim file declares its claim at the top with :func:`declare` and attaches the functions with the
declaration's decorators, in the order a reader follows (docs/writing-a-claim.md)::

    claim = declare("area.name", source=..., statement=..., latex=..., method=...,
                    tolerance=..., tolerance_source=...)

    @claim.configs
    def configs(profile): ...

    @claim.controls
    def controls(profile): ...

    @claim.experiment
    def experiment(config): ...

    @claim.predict
    def predict(profile): ...

    @claim.judge
    def judge(prediction, results): ...

    @claim.plot
    def plot(prediction, results, figure): ...

When the file has been imported, :func:`seal` turns its declarations into frozen :class:`Claim`
objects in :data:`REGISTRY` (a missing or malformed part is a :class:`ClaimDefinitionError` naming the
claim, the part and the fix). :func:`register` adds an already built :class:`Claim` (programmatic use).

This module holds claims and nothing else: finding them (the built-in claims in
:mod:`reports.claims`, ``--load`` files and the ``overtensor.claims`` entry points) is
:mod:`reports.loading` and :mod:`reports.catalog`, which sit above it.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

PROFILES = ("quick", "full", "scale")
"""``quick``: the whole registry in minutes on 2 cores; ``full``: the evidence sizes; ``scale``: the
papers' regimes (d >= 1000), only for claims that list it in :attr:`Claim.profiles` (meant for Dask)."""
DEFAULT_PROFILES = ("quick", "full")
VerdictStatus = Literal["holds", "fails", "inconclusive"]


@dataclass(frozen=True)
class RunResult:
    """One experiment run as stored: its config, its metrics or its error, its wall time."""

    config: Any
    metrics: Mapping[str, Any] | None
    error: str | None
    wall_time: float
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.metrics is not None


@dataclass(frozen=True)
class Verdict:
    """Outcome of a claim's comparison rule (docs/math.md §7).

    ``predicted`` and ``measured`` are the short texts shown in the report's summary table;
    ``numbers`` holds the machine-readable values behind them (JSON-serialisable). ``margin`` is the
    signed distance inside (+) or outside (−) the tolerance as a fraction of it (the smallest over the
    verdict's parts): ``holds`` needs ``margin >= 0`` and ``fails`` needs ``margin < 0``; the runner
    never lets a verdict without a margin hold. ``rates``, ``contrasts`` and ``checks`` are the parts'
    ``as_dict()`` records from :mod:`reports.statistics` (build verdicts with
    :class:`reports.statistics.Evidence`); ``controls`` is filled by the runner.
    """

    status: VerdictStatus
    reason: str
    predicted: str
    measured: str
    numbers: Mapping[str, Any] = field(default_factory=dict)
    margin: float | None = None
    rates: tuple[Mapping[str, Any], ...] = ()
    contrasts: tuple[Mapping[str, Any], ...] = ()
    checks: tuple[Mapping[str, Any], ...] = ()
    controls: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        m = self.margin
        if m is None:
            return
        if not isinstance(m, int | float) or isinstance(m, bool) or math.isnan(m):
            raise ValueError(f"margin must be a real number or None, got {m!r}")
        if self.status == "holds" and m < 0:
            raise ValueError(f"a verdict that holds needs margin >= 0, got {m!r}")
        if self.status == "fails" and m >= 0:
            raise ValueError(f"a verdict that fails needs margin < 0, got {m!r}")

    def replace(self, **changes: Any) -> Verdict:
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Claim:
    """One executable claim.

    Attributes
    ----------
    id : str
        Stable dotted id, e.g. ``"lazy.threshold-scaling"``.
    source : str
        Paper and statement (e.g. ``"Wang et al. 2020 (paper 1), abstract"``), ``"classical"`` or
        ``"extension"``.
    statement, latex : str
        The claim in words and in LaTeX.
    method : str
        How the measurement is made (sizes, seeds, solver), in words.
    tolerance : str
        The comparison rule with its tolerance written out.
    experiment : callable(config) -> dict
        Pure, module-level (picklable) function returning JSON-serialisable metrics.
    configs : callable(profile) -> sequence of configs
        Frozen dataclasses (hashable; every random one carries a ``seed``), for ``"quick"`` and ``"full"``.
        A config class that draws no random numbers says so with a class attribute
        ``deterministic = True`` (``typing.ClassVar``); ``tests/reports`` checks this for every claim.
    predict : callable(profile) -> dict
        The prediction (JSON-serialisable), from :mod:`theory` where one exists.
    judge : callable(prediction, results) -> Verdict
        Comparison rule; ``results`` is the sequence of :class:`RunResult` in config order.
    plot : callable(prediction, results, figure) -> dict
        Draws the evidence on a matplotlib ``Figure`` and returns the data behind it as
        ``{column: list}`` (written as CSV beside the figure). It must also work when no run
        succeeded (``results`` empty or all failed): the report still renders that claim. It must
        depend on nothing but its arguments and code: reports cache the figure by the hash of the
        claim id, the plot's code version, the prediction and the runs (:mod:`reports.artifacts`).
    model_choice : str
        Empty, or the docs/math.md **[model choice]** this claim's measurement depends on (shown in reports).
    tolerance_source : str
        Where the tolerance comes from: ``"derived: ..."`` (an error bound, a formula or a statistical
        rule, citing where it is derived) or ``"calibrated: ..."`` (naming the calibration seeds, disjoint
        from the judged ones, and the value found). Never chosen from the runs it judges.
    controls : callable(profile) -> {name: sequence of configs}, optional
        Negative controls: configurations where the theory predicts the effect *absent*. The runner runs
        them with ``experiment`` and judges each with ``judge`` (same prediction); each must come out
        ``"fails"``, otherwise the claim is at most ``"inconclusive"`` (the check cannot discriminate).
    no_control : str
        For a claim without controls (identities, exact formulas): why none is sensible.
    profiles : tuple of str
        The profiles this claim has configs for (``"scale"`` only where the papers' regime is run).
    reference : str
        Where in the paper the statement is: a theorem, lemma, section or figure (``"Theorem 2"``,
        ``"§4.1, Lemma 3"``), ``"abstract"`` when that is all there is, or empty (shown in reports).
    caption : str
        One line under the claim's figure saying what to look for in it; empty: the report writes
        one from the verdict's deciding part.
    module : str
        Dotted name of the module that declared the claim (set by :func:`declare`, and by
        :func:`register` from its caller; empty for a claim only built by hand). Its folder is the
        claim's group (``paper1``, ``paper2``, ``classical`` for
        the built-in claims; :func:`reports.catalog.claim_group`); the report's sections follow it
        (:mod:`reports.grouping`).
    """

    id: str
    source: str
    statement: str
    latex: str
    method: str
    tolerance: str
    experiment: Callable[[Any], dict[str, Any]]
    configs: Callable[[str], Sequence[Any]]
    predict: Callable[[str], dict[str, Any]]
    judge: Callable[[Mapping[str, Any], Sequence[RunResult]], Verdict]
    plot: Callable[[Mapping[str, Any], Sequence[RunResult], Any], dict[str, list[Any]]]
    model_choice: str = ""
    tolerance_source: str = ""
    controls: Callable[[str], Mapping[str, Sequence[Any]]] | None = None
    no_control: str = ""
    profiles: tuple[str, ...] = DEFAULT_PROFILES
    reference: str = ""
    caption: str = ""
    module: str = ""


CLAIM_ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")
"""Claim ids: dotted, lower-case letters, digits and ``-`` (``area.name``); they name report files and
HTML anchors, so no other character is allowed."""
CLAIM_ID_MAX_LENGTH = 100

REGISTRY: dict[str, Claim] = {}
"""Every sealed claim by id (built-in, entry-point and ``--load``-ed)."""

_DECLARED: dict[str, ClaimDeclaration] = {}
"""Declarations whose file is still being imported (sealed by :func:`seal`)."""


class ClaimDefinitionError(ValueError):
    """A claim that cannot be built: a bad id, a missing or malformed part. The message names the
    claim, the part and the fix."""


def check_claim_id(claim_id: object) -> str:
    """``claim_id`` if it is a valid claim id (:data:`CLAIM_ID_PATTERN`, at most 100 characters)."""
    if not isinstance(claim_id, str):
        raise ClaimDefinitionError(f"claim id must be a string, got {claim_id!r}")
    if len(claim_id) > CLAIM_ID_MAX_LENGTH:
        raise ClaimDefinitionError(
            f"claim id {claim_id[:40]!r}... is {len(claim_id)} characters long; at most "
            f"{CLAIM_ID_MAX_LENGTH} are allowed"
        )
    if not CLAIM_ID_PATTERN.match(claim_id):
        raise ClaimDefinitionError(
            f"claim id {claim_id!r} is not a dotted lower-case id like 'area.my-claim' (letters "
            "a-z, digits and '-', parts separated by '.')"
        )
    return claim_id


def _check_unique(claim_id: str) -> None:
    if claim_id in REGISTRY or claim_id in _DECLARED:
        raise ClaimDefinitionError(f"duplicate claim id {claim_id!r}")


def register(claim: Claim) -> Claim:
    """Add an already built ``claim`` to :data:`REGISTRY`; ids must be valid and unique.

    Returns the registered claim: ``claim`` itself, or a copy whose :attr:`Claim.module` is the
    calling module when ``claim`` names none.
    """
    if not isinstance(claim, Claim):
        raise TypeError(f"register takes a Claim, got {type(claim).__name__}")
    check_claim_id(claim.id)
    _check_unique(claim.id)
    if not claim.module:  # the calling module declared it (its folder is the claim's group)
        claim = dataclasses.replace(claim, module=sys._getframe(1).f_globals.get("__name__", ""))
    REGISTRY[claim.id] = claim
    return claim


# the parts a declaration collects: name -> (required, parameter names shown in messages)
_PARTS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "configs": (True, ("profile",)),
    "controls": (False, ("profile",)),
    "experiment": (True, ("config",)),
    "predict": (True, ("profile",)),
    "judge": (True, ("prediction", "results")),
    "plot": (True, ("prediction", "results", "figure")),
}


def _check_signature(
    claim_id: str, part: str, fn: Callable[..., Any], *, where_defined: bool = True
) -> None:
    """``fn`` callable as ``part``; ``where_defined``: an experiment must also be module-level."""
    params = _PARTS[part][1]
    shape = f"def {part}({', '.join(params)})"
    if not callable(fn):
        raise ClaimDefinitionError(
            f"claim {claim_id!r}: @claim.{part} needs a function ({shape}), got {fn!r}"
        )
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # builtins and C functions: nothing to check
    try:
        sig.bind(*params)
    except TypeError:
        raise ClaimDefinitionError(
            f"claim {claim_id!r}: {part} {getattr(fn, '__qualname__', fn)!r} has the signature "
            f"{sig}; it must be callable as {shape}"
        ) from None
    if part == "experiment" and where_defined:
        qualname = getattr(fn, "__qualname__", "")
        if "<locals>" in qualname or "<lambda>" in qualname:
            raise ClaimDefinitionError(
                f"claim {claim_id!r}: experiment {qualname!r} must be a module-level function "
                "(worker processes import it by name); move it to the top level of the file"
            )


def check_parts(claim: Claim) -> None:
    """:class:`ClaimDefinitionError` when one of ``claim``'s functions cannot be called as its part
    must be (``configs(profile)``, ``judge(prediction, results)``, ...; a claim built by hand and
    :func:`register`-ed was not checked by :func:`declare`)."""
    for part in _PARTS:
        fn = getattr(claim, part)
        if fn is not None:
            _check_signature(claim.id, part, fn, where_defined=False)


class ClaimDeclaration:
    """A claim being declared in a file: its texts now, its functions as the file defines them.

    Made by :func:`declare`. Each method is a decorator that records one part and returns the
    function unchanged (so a module-level experiment stays picklable by name); it can also be called
    with a function defined elsewhere (``claim.experiment(shared_experiment)``).
    """

    def __init__(self, texts: dict[str, Any], module: str) -> None:
        self.id: str = texts["id"]
        self.module = module
        self._texts = texts
        self._parts: dict[str, Callable[..., Any]] = {}

    def _set(self, part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        if self.id not in _DECLARED:
            raise ClaimDefinitionError(
                f"claim {self.id!r}: @claim.{part} after the claim was sealed; define every part "
                "in the file that declares the claim"
            )
        if part in self._parts:
            raise ClaimDefinitionError(f"claim {self.id!r}: {part} is defined twice")
        _check_signature(self.id, part, fn)
        self._parts[part] = fn
        return fn

    def configs(self, fn: Callable[[str], Sequence[Any]]) -> Callable[[str], Sequence[Any]]:
        """``configs(profile) -> [config, ...]``: frozen dataclasses that carry their seeds."""
        return self._set("configs", fn)

    def controls(
        self, fn: Callable[[str], Mapping[str, Sequence[Any]]]
    ) -> Callable[[str], Mapping[str, Sequence[Any]]]:
        """``controls(profile) -> {name: [config, ...]}``: negative controls (docs/math.md §7)."""
        return self._set("controls", fn)

    def experiment(self, fn: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        """``experiment(config) -> metrics``: pure, module-level, JSON-serialisable metrics."""
        return self._set("experiment", fn)

    def predict(self, fn: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
        """``predict(profile) -> prediction``: from :mod:`theory` where one exists."""
        return self._set("predict", fn)

    def judge(
        self, fn: Callable[[Mapping[str, Any], Sequence[RunResult]], Verdict]
    ) -> Callable[[Mapping[str, Any], Sequence[RunResult]], Verdict]:
        """``judge(prediction, results) -> Verdict`` through :class:`reports.statistics.Evidence`."""
        return self._set("judge", fn)

    def plot(
        self, fn: Callable[[Mapping[str, Any], Sequence[RunResult], Any], dict[str, list[Any]]]
    ) -> Callable[[Mapping[str, Any], Sequence[RunResult], Any], dict[str, list[Any]]]:
        """``plot(prediction, results, figure) -> {column: values}``: the figure and its data."""
        return self._set("plot", fn)

    def build(self) -> Claim:
        """The frozen :class:`Claim`; :class:`ClaimDefinitionError` if a required part is missing."""
        missing = [p for p, (required, _) in _PARTS.items() if required and p not in self._parts]
        if missing:
            shapes = "; ".join(f"@claim.{p} def {p}({', '.join(_PARTS[p][1])})" for p in missing)
            raise ClaimDefinitionError(
                f"claim {self.id!r} (declared in {self.module}) has no {', '.join(missing)}: add {shapes}"
            )
        if "controls" not in self._parts and not str(self._texts.get("no_control", "")).strip():
            raise ClaimDefinitionError(
                f"claim {self.id!r} (declared in {self.module}) has neither @claim.controls nor a "
                "no_control reason: add negative controls, or declare(..., no_control='why none is "
                "sensible')"
            )
        if "controls" in self._parts and str(self._texts.get("no_control", "")).strip():
            raise ClaimDefinitionError(
                f"claim {self.id!r} (declared in {self.module}) has both controls and a no_control "
                "reason: keep one"
            )
        fields: dict[str, Any] = {**self._texts, **self._parts}
        return Claim(**fields, module=self.module)

    def __repr__(self) -> str:
        return f"<claim declaration {self.id!r} ({', '.join(self._parts) or 'no parts yet'})>"


_TEXT_FIELDS = ("source", "statement", "latex", "method", "tolerance", "tolerance_source")


def declare(
    id: str,  # noqa: A002  (the claim's id, as in Claim)
    *,
    source: str,
    statement: str,
    latex: str,
    method: str,
    tolerance: str,
    tolerance_source: str,
    model_choice: str = "",
    no_control: str = "",
    profiles: Sequence[str] = DEFAULT_PROFILES,
    reference: str = "",
    caption: str = "",
) -> ClaimDeclaration:
    """Declare a claim at the top of its file; attach its functions with the returned decorators.

    The texts are those of :class:`Claim` (``reference``: the paper's theorem or section;
    ``caption``: what to look for in the figure; both optional). The claim is built and added to
    :data:`REGISTRY` by :func:`seal` once its file has been imported (the built-in claims' discovery and
    :mod:`reports.loading` call it).

    Raises
    ------
    ClaimDefinitionError
        An invalid or duplicate id, an empty text, or an unknown profile.
    """
    check_claim_id(id)
    _check_unique(id)
    texts: dict[str, Any] = {"id": id}
    for name, value in zip(
        _TEXT_FIELDS, (source, statement, latex, method, tolerance, tolerance_source), strict=True
    ):
        if not isinstance(value, str) or not value.strip():
            raise ClaimDefinitionError(f"claim {id!r}: {name} must be a non-empty string")
        texts[name] = value
    optional = (
        ("model_choice", model_choice),
        ("no_control", no_control),
        ("reference", reference),
        ("caption", caption),
    )
    for name, value in optional:
        if not isinstance(value, str):
            raise ClaimDefinitionError(f"claim {id!r}: {name} must be a string, got {value!r}")
        texts[name] = value
    profiles = tuple(profiles)
    unknown = [p for p in profiles if p not in PROFILES]
    if unknown or not profiles:
        raise ClaimDefinitionError(
            f"claim {id!r}: profiles must be a non-empty subset of {list(PROFILES)}, got {list(profiles)}"
        )
    texts["profiles"] = profiles
    module = sys._getframe(1).f_globals.get("__name__", "?")
    declaration = ClaimDeclaration(texts, module)
    _DECLARED[id] = declaration
    return declaration


def seal() -> list[str]:
    """Build every pending declaration into :data:`REGISTRY`; the ids sealed, in declaration order.

    A declaration that cannot be built is dropped (so a corrected file can be loaded again) and
    :class:`ClaimDefinitionError` is raised after the others are sealed.
    """
    sealed: list[str] = []
    errors: list[str] = []
    for claim_id, declaration in list(_DECLARED.items()):
        del _DECLARED[claim_id]
        try:
            REGISTRY[claim_id] = declaration.build()
        except ClaimDefinitionError as exc:
            errors.append(str(exc))
            continue
        sealed.append(claim_id)
    if errors:
        raise ClaimDefinitionError("; ".join(errors))
    return sealed


def discard_pending() -> list[str]:
    """Forget declarations whose file failed to import; the ids dropped."""
    ids = list(_DECLARED)
    _DECLARED.clear()
    return ids
