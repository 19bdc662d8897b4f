"""The claim registry: what a claim is, and the table of all of them.

A :class:`Claim` ties one statement of a paper (or a classical fact the suite relies on) to

* a **prediction** (``predict(profile) -> dict``), computed from :mod:`theory` where one exists;
* a **measurement**: a pure, picklable ``experiment(config) -> metrics`` run over ``configs(profile)``
  (frozen dataclasses that carry their seeds);
* a **comparison rule** (``judge``) whose tolerance is written out in ``tolerance``;
* a **figure** (``plot``) that draws the evidence and returns the data behind it.

Claim modules live in :mod:`reports.claims` (one module per area) and call :func:`register` at import.
Claims from outside the package come in through :mod:`reports.loading` (``--load`` files, folders or
modules, and the ``overtensor.claims`` entry-point group, imported by :func:`all_claims` and
:func:`get_claim`).
"""

from __future__ import annotations

import dataclasses
import math
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
        succeeded (``results`` empty or all failed): the report still renders that claim.
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


REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add ``claim`` to :data:`REGISTRY`; ids must be unique."""
    if claim.id in REGISTRY:
        raise ValueError(f"duplicate claim id {claim.id!r}")
    REGISTRY[claim.id] = claim
    return claim


def _import_claims() -> None:
    """Import the built-in claims and the ``overtensor.claims`` entry points (once)."""
    from . import claims  # noqa: F401  (registers on import)
    from .loading import load_entry_points

    load_entry_points()


def all_claims() -> list[Claim]:
    """Every registered claim, sorted by id (built-in, entry-point and ``--load``-ed claims)."""
    _import_claims()
    return [REGISTRY[k] for k in sorted(REGISTRY)]


def get_claim(claim_id: str) -> Claim:
    """The claim with id ``claim_id``; ``KeyError`` naming the known ids otherwise."""
    _import_claims()

    try:
        return REGISTRY[claim_id]
    except KeyError:
        raise KeyError(
            f"unknown claim id {claim_id!r}; known ids: {', '.join(sorted(REGISTRY))}"
        ) from None
