"""Python API for notebooks, mirroring the command line.

===============================================  ============================================
command line                                     Python
===============================================  ============================================
``overtensor claims --load my.py``               ``reports.list_claims(load="my.py")``
``overtensor claims deflation -k 'not order'``   ``reports.list_claims(["deflation"], keyword="not order")``
``overtensor check ID --profile quick``          ``reports.check("ID", profile="quick")``
``overtensor check ID --debug``                  ``reports.check("ID", debug=True)``
``overtensor report --claims A B --out rep``     ``reports.report(["A", "B"], out="rep")``
``overtensor report --claims 'lazy.*' -k x``     ``reports.report(["lazy.*"], keyword="x")``
``overtensor report --expect FILE``              ``reports.report(expect="FILE")``
===============================================  ============================================

:func:`list_claims` returns a :class:`ClaimList`, :func:`check` a :class:`CheckResult` and
:func:`report` a :class:`ReportResult`. In Jupyter they display as HTML tables (the claims; or
claim, prediction, measured, verdict, reason, runs with the claim's figure embedded:
``_repr_html_``); elsewhere their ``repr`` is one plain line per claim. Nothing is printed on
stdout; ``progress=True`` shows a progress bar on stderr. Bad usage raises ``ValueError`` (an
unknown claim id is a ``KeyError``; a claim file that cannot be loaded a
:class:`reports.loading.LoadError`; a claim that cannot be built a
:class:`reports.registry.ClaimDefinitionError`), where the command line would exit with code 2.
"""

from __future__ import annotations

import base64
import contextlib
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from .catalog import claim_group, control_names, for_profile, select_claims, select_one
from .expectations import (
    ExpectationReport,
    Expectations,
    compare_outcomes,
    load_expectations,
)
from .failures import showing_tracebacks
from .loading import load_all, with_loaded_sources
from .outdir import check_db_outside_out
from .registry import PROFILES, Claim, Verdict
from .render import (
    _BADGE,
    _figure,
    _safe,
    collect_provenance,
    exit_code,
    outcome_summary,
    prepare_out_dir,
    write_report,
)
from .runner import (
    INLINE,
    ClaimOutcome,
    check_claims,
    make_executor,
    replicate_claims,
    run_claims,
)
from .store import ResultStore
from .templating import html_environment

__all__ = ["CheckResult", "ClaimList", "ReportResult", "check", "list_claims", "report"]

DEFAULT_DB = os.path.join(".overtensor-cache", "results.sqlite")

LoadTargets = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None


def _targets(load: LoadTargets) -> list[str]:
    if load is None:
        return []
    if isinstance(load, (str, os.PathLike)):
        return [os.fspath(load)]
    return [os.fspath(t) for t in load]


def _check_replicate(replicate: object) -> None:
    if replicate is not None and (
        isinstance(replicate, bool) or not isinstance(replicate, int) or replicate < 1
    ):
        raise ValueError(f"replicate must be a positive integer or None, got {replicate!r}")


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {list(PROFILES)}, got {profile!r}")


def _run_mode(executor: str, workers: int | None, debug: bool) -> tuple[str, int | None]:
    """The executor kind and worker count: ``debug=True`` (or ``workers=0``) runs in this process."""
    if not isinstance(debug, bool):
        raise TypeError(f"debug must be True or False, got {debug!r}")
    if workers == 0 and not isinstance(workers, bool):
        workers, debug = None, True
    if not debug:
        return executor, workers
    if workers is not None:
        raise ValueError(
            f"debug=True runs everything in this process: workers={workers!r} does not apply"
        )
    if executor != "local":
        raise ValueError(
            f"debug=True runs everything in this process: not with executor={executor!r}"
        )
    return INLINE, None


def _progress_mode(progress: bool) -> str:
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    return "bar" if progress else "none"


def _expectations(expect: str | os.PathLike[str] | None) -> Expectations | None:
    """The ``expect=`` file, checked against every registered claim (ExpectationError: ValueError)."""
    if expect is None:
        return None
    expectations = load_expectations(expect)
    expectations.check_known(c.id for c in select_claims(None))
    return expectations


def _b64(png: bytes | None) -> str | None:
    return None if png is None else base64.b64encode(png).decode("ascii")


def _rows(outcomes: Sequence[ClaimOutcome]) -> list[dict[str, Any]]:
    """The notebook table's rows (claim, prediction, measured, verdict, reason, runs) as text."""
    return [
        {
            "id": o.claim.id,
            "predicted": o.verdict.predicted,
            "measured": o.verdict.measured,
            "status": o.verdict.status,
            "color": _BADGE.get(o.verdict.status, "#656d76"),
            "reason": o.verdict.reason,
            "runs": f"{len(o.results)} ({o.n_cached} reused, {o.n_failed} failed)",
        }
        for o in outcomes
    ]


def _notebook_html(**page: Any) -> str:
    return html_environment().get_template("notebook.html.j2").render(page).strip()


class ClaimList(Sequence[Claim]):
    """Claims as :func:`list_claims` returns them: a sequence of :class:`Claim` (also indexed by
    id), an HTML table in Jupyter (id, group, source, statement, profiles, controls) and one line
    per claim as ``repr``."""

    def __init__(self, claims: Sequence[Claim]) -> None:
        self._claims = tuple(claims)

    @overload
    def __getitem__(self, index: int | str) -> Claim: ...
    @overload
    def __getitem__(self, index: slice) -> ClaimList: ...
    def __getitem__(self, index: int | str | slice) -> Claim | ClaimList:
        if isinstance(index, slice):
            return ClaimList(self._claims[index])
        if isinstance(index, str):
            for c in self._claims:
                if c.id == index:
                    return c
            raise KeyError(f"claim {index!r} is not in this list")
        return self._claims[index]

    def __len__(self) -> int:
        return len(self._claims)

    @property
    def ids(self) -> list[str]:
        """The claims' ids, in order."""
        return [c.id for c in self._claims]

    def __repr__(self) -> str:
        width = max((len(c.id) for c in self._claims), default=0)
        lines = [f"ClaimList({len(self._claims)} claim(s))"]
        for c in self._claims:
            source = " ".join(c.source.split())
            lines.append(f"  {c.id:<{width}}  {source[:70]}{'...' if len(source) > 70 else ''}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = []
        for c in self._claims:
            controls = control_names(c)
            rows.append(
                {
                    "id": c.id,
                    "group": claim_group(c),
                    "source": c.source,
                    "statement": c.statement,
                    "profiles": ", ".join(c.profiles),
                    "controls": controls
                    if isinstance(controls, str)
                    else ", ".join(controls) or f"none: {c.no_control}",
                }
            )
        env = html_environment()
        return env.get_template("claims.html.j2").render(claims=rows).strip()


@dataclass(frozen=True)
class CheckResult:
    """One claim checked: the verdict, the runs, and the figure (see :func:`check`).

    Attributes
    ----------
    outcome : ClaimOutcome
        Everything the runner produced (configs, prediction, runs, verdict).
    """

    outcome: ClaimOutcome
    expected: ExpectationReport | None = None
    """The verdict against ``expect=`` (None without it)."""

    @property
    def claim(self) -> Claim:
        return self.outcome.claim

    @property
    def verdict(self) -> Verdict:
        return self.outcome.verdict

    @property
    def status(self) -> str:
        """``"holds"``, ``"fails"`` or ``"inconclusive"``."""
        return self.outcome.verdict.status

    @property
    def exit_code(self) -> int:
        """What ``overtensor check`` would exit with (0 holds, 1 fails, 3 inconclusive; with
        ``expect=``: 0 as expected, 1 a mismatch)."""
        if self.expected is not None:
            return self.expected.exit_code
        return exit_code([self.outcome])

    @property
    def summary(self) -> dict[str, Any]:
        """The claim's JSON summary (as ``overtensor check --json`` prints it)."""
        found = None if self.expected is None else self.expected.for_claim(self.claim.id)
        return {**outcome_summary(self.outcome), "expected": found and found.as_dict()}

    def figure_png(self) -> bytes | None:
        """The claim's figure as PNG bytes (None when its ``plot`` failed)."""
        return _figure(self.outcome).png

    def __repr__(self) -> str:
        v = self.verdict
        return (
            f"CheckResult({self.claim.id}: {v.status}; predicted {v.predicted}; measured "
            f"{v.measured}; {len(self.outcome.results)} runs, {self.outcome.n_failed} failed)"
        )

    def _repr_html_(self) -> str:
        fig = _figure(self.outcome)
        check = {
            "id": self.claim.id,
            "statement": self.claim.statement,
            "tolerance": self.claim.tolerance,
            "figure_b64": _b64(fig.png),
            "figure_error": fig.error,
        }
        return _notebook_html(check=check, rows=_rows([self.outcome]))


@dataclass(frozen=True)
class ReportResult:
    """A report written by :func:`report`: where it is, its summary, and every claim's outcome."""

    out: Path
    summary: Mapping[str, Any]
    outcomes: tuple[ClaimOutcome, ...] = field(default_factory=tuple)
    expected: ExpectationReport | None = None
    """The verdicts against ``expect=`` (None without it); ``expected.mismatches`` lists them."""

    @property
    def exit_code(self) -> int:
        """What ``overtensor report`` would exit with (with ``expect=``: 0 or 1)."""
        if self.expected is not None:
            return self.expected.exit_code
        return exit_code(self.outcomes)

    @property
    def index_html(self) -> Path:
        """The self-contained HTML report."""
        return self.out / "index.html"

    def __getitem__(self, claim_id: str) -> CheckResult:
        for o in self.outcomes:
            if o.claim.id == claim_id:
                return CheckResult(o)
        raise KeyError(f"claim {claim_id!r} is not in this report")

    def __repr__(self) -> str:
        c = self.summary["counts"]
        lines = [
            f"ReportResult({self.out}: {len(self.outcomes)} claim(s), {c['holds']} hold, "
            f"{c['fails']} fail, {c['inconclusive']} inconclusive)"
        ]
        lines += [
            f"  {o.verdict.status:>12}  {o.claim.id}  ({o.verdict.measured})" for o in self.outcomes
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        figures = []
        for o in self.outcomes:
            png = self.out / "figures" / f"{_safe(o.claim.id)}.png"
            if png.is_file():
                figures.append({"id": o.claim.id, "b64": _b64(png.read_bytes())})
        return _notebook_html(
            report_uri=self.index_html.resolve().as_uri(),
            out=str(self.out),
            rows=_rows(self.outcomes),
            figures=figures,
        )


def list_claims(
    claims: Sequence[str] | None = None, *, keyword: str | None = None, load: LoadTargets = None
) -> ClaimList:
    """The registered claims, sorted by id, after loading ``load`` (``overtensor claims``).

    ``claims`` (ids, areas, groups or globs) and ``keyword`` (a ``-k`` expression) list a
    selection, as :func:`reports.catalog.select_claims`.
    """
    load_all(_targets(load))
    return ClaimList(select_claims(claims, keyword))


def check(
    claim_id: str,
    profile: str = "quick",
    *,
    load: LoadTargets = None,
    db: str | Path = DEFAULT_DB,
    fresh: bool = False,
    workers: int | None = None,
    replicate: int | None = None,
    debug: bool = False,
    progress: bool = False,
    expect: str | os.PathLike[str] | None = None,
) -> CheckResult:
    """Run one claim and judge it (``overtensor check``).

    Parameters
    ----------
    claim_id : str
        A registered id (see :func:`list_claims`), or a pattern that selects exactly one claim.
    profile : {"quick", "full"}
        Problem sizes.
    load : path, module name or a list of them, optional
        Claim files, folders or modules to load first (as ``--load``); a file edited since its
        last load is imported again.
    db : path
        Results database; stored runs with the same key are reused unless ``fresh``.
    workers : int, optional
        Local worker processes (default: CPU count); 0 is ``debug=True``.
    replicate : int, optional
        Also judge the claim on fresh seed block ``replicate`` (as ``--replicate K``; docs/math.md
        §7.9): the result's ``outcome.replication`` holds that verdict beside the original one.
    debug : bool
        Run everything in this process (``--debug``): no workers, nothing pickled, so
        ``breakpoint()`` and debuggers work in the claim's code, and every failure of it prints its
        full traceback on stderr.
    progress : bool
        Show a progress bar on stderr (default: nothing is printed).
    expect : path, optional
        A file of expected verdicts (as ``--expect``; docs/cli.md): the result's ``expected`` and
        ``exit_code`` compare the verdict with it.

    Raises
    ------
    KeyError
        ``claim_id`` selects no claim (the message offers the closest ids).
    ValueError
        Bad usage; :class:`reports.registry.ClaimDefinitionError` for a claim that cannot be built
        (a config class that is not frozen, an unhashable field, ...), before anything runs.
    """
    _check_profile(profile)
    _check_replicate(replicate)
    kind, workers = _run_mode("local", workers, debug)
    bar = _progress_mode(progress)
    load_all(_targets(load))
    claim = select_one(claim_id)
    check_claims([claim], profile)
    expectations = _expectations(expect)
    with (
        showing_tracebacks(kind == INLINE),
        ResultStore(db) as store,
        make_executor(kind, workers=workers) as (executor, info),
    ):
        outcome = run_claims(
            [claim],
            profile,
            store=store,
            executor=executor,
            blas_threads=info.blas_threads,
            fresh=fresh,
            progress=bar,
        )[0]
        if replicate is not None:
            outcome = replicate_claims(
                [outcome],
                block=replicate,
                store=store,
                executor=executor,
                blas_threads=info.blas_threads,
                fresh=fresh,
                progress=bar,
            )[0]
    return CheckResult(outcome, compare_outcomes(expectations, [outcome]))


def report(
    claims: Sequence[str] | None = None,
    profile: str = "quick",
    *,
    keyword: str | None = None,
    out: str | Path = "report",
    load: LoadTargets = None,
    db: str | Path = DEFAULT_DB,
    fresh: bool = False,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    replicate: int | None = None,
    debug: bool = False,
    progress: bool = False,
    expect: str | os.PathLike[str] | None = None,
) -> ReportResult:
    """Run claims and write the report directory ``out`` (``overtensor report``).

    ``claims`` are ids, areas (``"deflation"``), groups (``"paper1"``) or globs
    (``"deflation.*"``), as ``--claims``; ``keyword`` is a ``-k`` expression
    (``"deflation and not order"``); ``claims=None`` runs every registered claim (after loading
    ``load``). Claims selected by an area, group, glob or keyword that lack ``profile`` are left
    out. The other parameters are those of :func:`check` plus the executor options of the command
    line (``debug=True`` needs ``executor="local"``). ``expect``: a file of expected verdicts (as
    ``--expect``), shown in the report; the result's ``exit_code`` is then 0 or 1.
    """
    start = time.perf_counter()
    _check_profile(profile)
    _check_replicate(replicate)
    if isinstance(claims, str):
        raise TypeError(f"claims must be a list of ids or None, got the string {claims!r}")
    kind, workers = _run_mode(executor, workers, debug)
    bar = _progress_mode(progress)
    load_all(_targets(load))
    named = claims if claims is not None or keyword is None else []
    chosen = for_profile(select_claims(claims, keyword), profile, named)
    check_claims(chosen, profile)
    expectations = _expectations(expect)
    check_db_outside_out(out, db)  # as the command line: a report replaces out
    tmp = prepare_out_dir(out)
    try:
        with contextlib.ExitStack() as running:
            running.enter_context(showing_tracebacks(kind == INLINE))
            # the executor first: a scheduler that does not answer leaves no database file
            pool, info = running.enter_context(
                make_executor(kind, workers=workers, scheduler=scheduler)
            )
            with ResultStore(db) as store:
                outcomes = run_claims(
                    chosen,
                    profile,
                    store=store,
                    executor=pool,
                    blas_threads=info.blas_threads,
                    fresh=fresh,
                    progress=bar,
                )
                if replicate is not None:
                    outcomes = replicate_claims(
                        outcomes,
                        block=replicate,
                        store=store,
                        executor=pool,
                        blas_threads=info.blas_threads,
                        fresh=fresh,
                        progress=bar,
                    )
                running.close()  # workers end before the figures are drawn
                prov = collect_provenance(
                    profile=profile,
                    executor=info,
                    wall_time=time.perf_counter() - start,
                    db=str(Path(db).resolve()),
                    fresh=fresh,
                )
                prov = with_loaded_sources(prov)
                expected = compare_outcomes(expectations, outcomes)
                with showing_tracebacks(kind == INLINE):
                    summary = write_report(
                        outcomes,
                        out,
                        prov,
                        tmp=tmp,
                        store=store,
                        reuse=not fresh,
                        figure_workers=1 if kind == INLINE else None,
                        expected=expected,
                    )
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ReportResult(Path(out), summary, tuple(outcomes), expected)
