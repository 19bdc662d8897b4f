"""Python API for notebooks, mirroring the command line.

===============================================  ============================================
command line                                     Python
===============================================  ============================================
``overtensor claims --load my.py``               ``reports.list_claims(load="my.py")``
``overtensor check ID --profile quick``          ``reports.check("ID", profile="quick")``
``overtensor report --claims A B --out rep``     ``reports.report(["A", "B"], out="rep")``
===============================================  ============================================

:func:`check` returns a :class:`CheckResult` and :func:`report` a :class:`ReportResult`. In Jupyter
both display as an HTML table (claim, prediction, measured, verdict, reason, runs) with the
claim's figure embedded (``_repr_html_``); elsewhere their ``repr`` is one plain line per claim.
Bad usage raises ``ValueError`` (an unknown claim id is a ``KeyError``; a claim file that cannot be
loaded a :class:`reports.loading.LoadError`), where the command line would exit with code 2.
"""

from __future__ import annotations

import base64
import contextlib
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import select_claims, select_one
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
from .runner import ClaimOutcome, make_executor, replicate_claims, run_claims
from .store import ResultStore
from .templating import html_environment

__all__ = ["CheckResult", "ReportResult", "check", "list_claims", "report"]

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


def _for_profile(chosen: Sequence[Claim], profile: str, named: Sequence[str] | None) -> list[Claim]:
    """The chosen claims that have ``profile``; one named by its exact id that lacks it is a
    ``ValueError`` (as on the command line)."""
    lacking = [c.id for c in chosen if profile not in c.profiles and named and c.id in named]
    if lacking:
        raise ValueError(f"claim(s) without a {profile!r} profile: {', '.join(lacking)}")
    return [c for c in chosen if profile in c.profiles]


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


@dataclass(frozen=True)
class CheckResult:
    """One claim checked: the verdict, the runs, and the figure (see :func:`check`).

    Attributes
    ----------
    outcome : ClaimOutcome
        Everything the runner produced (configs, prediction, runs, verdict).
    """

    outcome: ClaimOutcome

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
        """What ``overtensor check`` would exit with (0 holds, 1 fails, 3 inconclusive)."""
        return exit_code([self.outcome])

    @property
    def summary(self) -> dict[str, Any]:
        """The claim's JSON summary (as ``overtensor check --json`` prints it)."""
        return outcome_summary(self.outcome)

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

    @property
    def exit_code(self) -> int:
        """What ``overtensor report`` would exit with."""
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
) -> list[Claim]:
    """The registered claims, sorted by id, after loading ``load`` (``overtensor claims``).

    ``claims`` (ids, areas, groups or globs) and ``keyword`` (a ``-k`` expression) list a
    selection, as :func:`reports.catalog.select_claims`.
    """
    load_all(_targets(load))
    return select_claims(claims, keyword)


def check(
    claim_id: str,
    profile: str = "quick",
    *,
    load: LoadTargets = None,
    db: str | Path = DEFAULT_DB,
    fresh: bool = False,
    workers: int | None = None,
    replicate: int | None = None,
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
        Local worker processes (default: CPU count).
    replicate : int, optional
        Also judge the claim on fresh seed block ``replicate`` (as ``--replicate K``; docs/math.md
        §7.9): the result's ``outcome.replication`` holds that verdict beside the original one.
    """
    _check_profile(profile)
    _check_replicate(replicate)
    load_all(_targets(load))
    claim = select_one(claim_id)
    with ResultStore(db) as store, make_executor("local", workers=workers) as (executor, info):
        outcome = run_claims(
            [claim],
            profile,
            store=store,
            executor=executor,
            blas_threads=info.blas_threads,
            fresh=fresh,
            progress="none",
        )[0]
        if replicate is not None:
            outcome = replicate_claims(
                [outcome],
                block=replicate,
                store=store,
                executor=executor,
                blas_threads=info.blas_threads,
                fresh=fresh,
                progress="none",
            )[0]
    return CheckResult(outcome)


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
) -> ReportResult:
    """Run claims and write the report directory ``out`` (``overtensor report``).

    ``claims`` are ids, areas (``"deflation"``), groups (``"paper1"``) or globs
    (``"deflation.*"``), as ``--claims``; ``keyword`` is a ``-k`` expression
    (``"deflation and not order"``); ``claims=None`` runs every registered claim (after loading
    ``load``). Claims selected by an area, group, glob or keyword that lack ``profile`` are left
    out. The other parameters are those of :func:`check` plus the executor options of the command
    line.
    """
    start = time.perf_counter()
    _check_profile(profile)
    _check_replicate(replicate)
    if isinstance(claims, str):
        raise TypeError(f"claims must be a list of ids or None, got the string {claims!r}")
    load_all(_targets(load))
    chosen = _for_profile(select_claims(claims, keyword), profile, claims)
    check_db_outside_out(out, db)  # as the command line: a report replaces out
    tmp = prepare_out_dir(out)
    try:
        with contextlib.ExitStack() as running:
            # the executor first: a scheduler that does not answer leaves no database file
            pool, info = running.enter_context(
                make_executor(executor, workers=workers, scheduler=scheduler)
            )
            with ResultStore(db) as store:
                outcomes = run_claims(
                    chosen,
                    profile,
                    store=store,
                    executor=pool,
                    blas_threads=info.blas_threads,
                    fresh=fresh,
                    progress="none",
                )
                if replicate is not None:
                    outcomes = replicate_claims(
                        outcomes,
                        block=replicate,
                        store=store,
                        executor=pool,
                        blas_threads=info.blas_threads,
                        fresh=fresh,
                        progress="none",
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
                summary = write_report(outcomes, out, prov, tmp=tmp, store=store, reuse=not fresh)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ReportResult(Path(out), summary, tuple(outcomes))
