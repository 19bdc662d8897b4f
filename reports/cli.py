"""The ``overtensor`` command line (also ``python -m reports``).

Commands (docs/cli.md)::

    overtensor claims [PATTERN ...] [-k EXPR] [--json]
    overtensor check ID [--profile quick|full|scale] [--json] [--db PATH] [--fresh] [--workers N]
                     [--debug] [--expect FILE] [--replicate [K]]
    overtensor report [--profile quick|full|scale] [--out DIR] [--claims PATTERN ...] [-k EXPR]
                      [--executor local|dask] [--scheduler ADDR] [--workers N] [--debug]
                      [--expect FILE] [--replicate [K]] [--fresh] [--db PATH]
    overtensor calibrate PATTERN ... [-k EXPR] [--write] ...
    overtensor diff A B [--margin-threshold X] [--json]
    overtensor bench [ARGS ...]

``claims``, ``check``, ``report`` and ``calibrate`` take ``--load PATH|MODULE`` (repeatable): claims
from a ``.py`` file, a folder of them or a dotted module outside the package (see
:mod:`reports.loading`). A PATTERN is a claim id, an area, a group or a glob over ids and ``-k`` a
pytest-like keyword expression (:mod:`reports.catalog`); ``--debug`` (``--workers 0``) runs
everything in this process with full tracebacks; ``--expect`` compares the verdicts with a file of
expected ones (:mod:`reports.expectations`); ``diff`` compares two reports (:mod:`reports.diff`).

Exit codes: 0 every checked claim holds; 1 some claim fails; 2 bad usage (unknown claim id, bad
profile, unwritable ``--out``, a claim that cannot be built, a bad ``--expect`` file, ...: a message
on stderr, nothing written); 3 no claim fails but some claim is inconclusive (a run failed, nothing
was measured, or the judge could not decide) — a claim that could not be measured never gives 0; 4
internal error (a bug or an unreadable/foreign file): a one-line message on stderr
(``OVERTENSOR_TRACEBACK=1`` adds the traceback); 130 interrupted by ``SIGINT``, 143 terminated by
``SIGTERM`` (finished runs kept, no temporary directory left); 141 the reader of stdout went away (a
closed pipe: nothing printed). With ``--expect``: 0 every verdict as expected, 1 a mismatch.
``diff``: 0 no verdict regression, 1 a regression, 2 an unreadable report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .catalog import (
    SelectionError,
    UnknownClaimError,
    all_claims,
    control_names,
    for_profile,
    select_claims,
    select_one,
)
from .diff import MARGIN_THRESHOLD, DiffError, diff_summaries, read_summary
from .expectations import (
    ExpectationError,
    Expectations,
    compare_outcomes,
    load_expectations,
)
from .failures import describe, is_interrupt, print_traceback, showing_tracebacks, tracebacks_wanted
from .loading import with_loaded_sources
from .outdir import OutDirError, check_db_outside_out
from .paths import check_name_lengths, check_utf8
from .procs import check_workers
from .registered import registration
from .registry import PROFILES, Claim, ClaimDefinitionError
from .render import (
    CLOSE_MARGIN,
    EXIT_CODES,
    collect_provenance,
    exit_code,
    format_margin,
    outcome_summary,
    prepare_out_dir,
    write_report,
)
from .runner import (
    EXECUTORS,
    INLINE,
    check_claims,
    check_scheduler_address,
    make_executor,
    replicate_claims,
    run_claims,
)
from .store import ResultStore, StoreError, package_version

DEFAULT_DB = os.path.join(".overtensor-cache", "results.sqlite")


class UsageError(Exception):
    """Bad usage: reported on stderr with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own errors also exit with 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_CODES["usage"], f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _worker_count(text: str) -> int:
    """``--workers``: a positive integer, or 0 for ``--debug``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer (or 0: --debug), got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer (or 0: --debug), got {text!r}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="overtensor",
        description=(
            "Verification reports for over-parametrized tensor decomposition: each claim's "
            "prediction vs simulation, with a verdict."
        ),
        epilog=(
            "exit codes: 0 all checked claims hold, 1 a claim fails, 2 bad usage, "
            "3 no claim fails but some claim is inconclusive, 4 internal error, "
            "130 interrupted, 141 closed pipe, 143 terminated; with --expect: 0 every verdict as "
            "expected, 1 a mismatch; diff: 1 a verdict regression. docs/cli.md: selecting "
            "claims, expected verdicts, comparing reports, debugging a claim"
        ),
    )
    p.add_argument("--version", action="version", version=f"overtensor {package_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def load_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--load",
            action="append",
            default=[],
            metavar="PATH|MODULE",
            help=(
                "also load claims from a .py file, a folder of them, or a dotted module "
                "(repeatable); installed 'overtensor.claims' entry points are always loaded"
            ),
        )

    def keyword_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "-k",
            dest="keyword",
            default=None,
            metavar="EXPR",
            help=(
                "only claims matching EXPR, as pytest's -k: words joined with and/or/not and "
                "parentheses; a word matches a substring of a claim's id or group, in any case "
                "(e.g. -k 'deflation and not order')"
            ),
        )

    select_help = (
        "claim ids, areas (deflation), groups (paper1, paper2, classical) or globs over ids "
        "('deflation.*', '*.order'; quote them for the shell)"
    )
    c = sub.add_parser(
        "claims",
        help="list the registered claims (or a selection of them)",
        description="List the registered claims; PATTERNs and -k list a selection (docs/cli.md).",
    )
    c.add_argument("patterns", nargs="*", metavar="PATTERN", help=select_help + "; default: all")
    keyword_opt(c)
    c.add_argument("--json", action="store_true", help="machine-readable output")
    load_opt(c)

    def run_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--profile", default="quick", choices=PROFILES, help="problem sizes (default: quick)"
        )
        sp.add_argument(
            "--db", default=DEFAULT_DB, help=f"results database (default: {DEFAULT_DB})"
        )
        sp.add_argument(
            "--fresh", action="store_true", help="recompute runs already in the database"
        )
        sp.add_argument(
            "--workers",
            type=_worker_count,
            default=None,
            help="worker processes (default: CPU count); 0 is --debug",
        )
        sp.add_argument(
            "--debug",
            action="store_true",
            help=(
                "run everything in this process (no workers, nothing pickled: breakpoint() and "
                "debuggers work) and print the full traceback of every failure of the claims' "
                "code (configs, experiment, predict, judge, plot) on stderr"
            ),
        )

    def replicate_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--replicate",
            nargs="?",
            const=1,
            default=None,
            type=_positive_int,
            metavar="K",
            help=(
                "also re-judge every claim on fresh seed block K (default 1; every seed + K·1000000, "
                "disjoint from the judged and calibration blocks) and report both verdicts"
            ),
        )

    def expect_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--expect",
            metavar="FILE",
            default=None,
            help=(
                "TOML file of expected verdicts, as pytest's strict xfail: '\"deflation.order\" = "
                '"fails"\' or \'"beyond.*" = {verdict = "inconclusive", reason = "..."}\' '
                "(ids or globs; the most specific key applies; a claim without one must hold). "
                "Exit 0 when every verdict is the expected one, 1 otherwise (mismatches listed), "
                "2 for a bad file (docs/cli.md)"
            ),
        )

    k = sub.add_parser("check", help="run one claim and print its verdict")
    k.add_argument(
        "claim_id",
        metavar="ID",
        help="claim id (see `overtensor claims`), or a pattern that selects exactly one claim",
    )
    run_opts(k)
    replicate_opt(k)
    expect_opt(k)
    k.add_argument("--json", action="store_true", help="machine-readable output")
    load_opt(k)

    r = sub.add_parser("report", help="run claims and write an HTML/Markdown/JSON report")
    run_opts(r)
    replicate_opt(r)
    expect_opt(r)
    r.add_argument("--out", default="report", help="report directory (default: ./report)")
    r.add_argument(
        "--claims",
        nargs="+",
        metavar="PATTERN",
        default=None,
        help="only these claims: " + select_help,
    )
    keyword_opt(r)
    load_opt(r)
    r.add_argument(
        "--executor", default="local", choices=EXECUTORS, help="local process pool or dask"
    )
    r.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDR",
        help="Dask scheduler address (needs --executor dask)",
    )

    cal = sub.add_parser(
        "calibrate",
        help="run claims on their calibration seed block and print the planned power of every rate",
        description=(
            "Runs the claims' judged configs with every seed moved by 500000 (the calibration block, "
            "disjoint from the judged one), judges them, and prints for every rate (the claims' and "
            "their controls') the calibration count, the rate to plan with, its power at the judged "
            "number of runs and the runs that would reach the profile's target power "
            "(docs/math.md §7.8). Exit 0 when every rate reaches its target, 1 otherwise."
        ),
    )
    cal.add_argument("claims", nargs="*", metavar="PATTERN", help=select_help)
    keyword_opt(cal)
    run_opts(cal)
    cal.add_argument(
        "--write",
        action="store_true",
        help="record the calibration in the registered file (never changes a registered bar)",
    )
    cal.add_argument(
        "--registered",
        default=None,
        metavar="PATH",
        help="registered file to write (default: the package's reports/registered.toml)",
    )
    load_opt(cal)

    d = sub.add_parser(
        "diff",
        help="compare two reports: verdict, margin and bar changes (exit 1 on a verdict regression)",
        description=(
            "Compare report A (the baseline) with report B: claims added and removed, verdict "
            "changes (holds -> inconclusive -> fails is a regression, the other way an "
            "improvement), margin changes larger than --margin-threshold, changed bars "
            "(rates' and contrasts' thresholds, tolerances, registered bars and seed blocks), and "
            "a warning when the profiles differ. Exit 0 without a verdict regression, 1 with one, "
            "2 when A or B is not a report (docs/cli.md)."
        ),
    )
    d.add_argument("a", metavar="A", help="summary.json, or a report directory holding one")
    d.add_argument("b", metavar="B", help="summary.json, or a report directory holding one")
    d.add_argument(
        "--margin-threshold",
        type=float,
        default=MARGIN_THRESHOLD,
        metavar="X",
        help=f"report margin changes larger than X (default {MARGIN_THRESHOLD:g})",
    )
    d.add_argument("--json", action="store_true", help="machine-readable output")

    b = sub.add_parser(
        "bench", help="run the benchmarks (python -m benchmarks) of a source checkout"
    )
    b.add_argument("args", nargs=argparse.REMAINDER, help="passed to python -m benchmarks")
    return p


def _claims_json(claims: Sequence[Claim]) -> list[dict[str, Any]]:
    out = []
    for c in claims:
        counts: dict[str, Any] = {}
        for prof in PROFILES:
            if prof not in c.profiles:
                continue
            try:
                counts[prof] = len(c.configs(prof))
            except BaseException as exc:  # claim code: even sys.exit is its failure
                if is_interrupt(exc):
                    raise
                print_traceback(f"claim {c.id!r}: configs({prof!r}) failed", exc)
                counts[prof] = f"error: {describe(exc)}"
        out.append(
            {
                "id": c.id,
                "source": c.source,
                "statement": c.statement,
                "latex": c.latex,
                "method": c.method,
                "tolerance": c.tolerance,
                "tolerance_source": c.tolerance_source,
                "controls": control_names(c),
                "no_control": c.no_control,
                "profiles": list(c.profiles),
                "model_choice": c.model_choice,
                "configs": counts,
                "registered": registration(c.id).as_dict(),
            }
        )
    return out


def _cmd_claims(args: argparse.Namespace) -> int:
    claims = _select(args.patterns or None, args.keyword)
    if args.json:
        print(json.dumps(_claims_json(claims), indent=2))
        return 0
    width = max((len(c.id) for c in claims), default=10)
    for c in claims:
        print(f"{c.id:<{width}}  {c.source}")
        print(f"{'':<{width}}  {c.statement}")
    print(f"{len(claims)} claim(s)")
    return 0


def _select(patterns: Sequence[str] | None, keyword: str | None) -> list[Claim]:
    """:func:`reports.catalog.select_claims`, its errors as usage errors."""
    try:
        return select_claims(patterns, keyword)
    except (UnknownClaimError, SelectionError) as exc:
        raise UsageError(str(exc)) from None


def _buildable(claims: Sequence[Claim], profile: str) -> None:
    """:func:`reports.runner.check_claims` before anything is opened: a claim that cannot be built
    is bad usage (exit 2), naming the claim, the part or field, and the fix."""
    try:
        check_claims(claims, profile)
    except ClaimDefinitionError as exc:
        raise UsageError(str(exc)) from None


def _expectations(path: str | None) -> Expectations | None:
    """The ``--expect`` file, checked against every registered claim before anything runs."""
    if path is None:
        return None
    try:
        expectations = load_expectations(path)
        expectations.check_known(c.id for c in all_claims())
    except ExpectationError as exc:
        raise UsageError(str(exc)) from None
    return expectations


def _executor_kind(args: argparse.Namespace) -> str:
    return INLINE if args.debug else getattr(args, "executor", "local")


def _open_store(path: str) -> ResultStore:
    try:
        return ResultStore(path)
    except (ValueError, OSError) as exc:
        raise UsageError(f"--db {path!r}: {exc}") from None


def _for_profile(claims: Sequence[Claim], profile: str, named: Sequence[str] | None) -> list[Claim]:
    """:func:`reports.catalog.for_profile`, its refusal as a usage error."""
    try:
        return for_profile(claims, profile, named)
    except SelectionError as exc:
        raise UsageError(str(exc)) from None


def _margin_text(margin: float | None) -> str:
    close = margin is not None and abs(margin) < CLOSE_MARGIN
    return format_margin(margin) + (" (close call)" if close else "")


def _cmd_check(args: argparse.Namespace) -> int:
    try:
        picked = select_one(args.claim_id)
    except (UnknownClaimError, SelectionError) as exc:
        raise UsageError(str(exc)) from None
    claim = _for_profile([picked], args.profile, named=[picked.id])[0]
    _buildable([claim], args.profile)
    expectations = _expectations(args.expect)
    store = _open_store(args.db)
    try:
        with make_executor(_executor_kind(args), workers=args.workers) as (executor, info):
            outcome = run_claims(
                [claim],
                args.profile,
                store=store,
                executor=executor,
                blas_threads=info.blas_threads,
                fresh=args.fresh,
                progress="none" if args.json else "auto",
            )[0]
            if args.replicate is not None:
                outcome = replicate_claims(
                    [outcome],
                    block=args.replicate,
                    store=store,
                    executor=executor,
                    blas_threads=info.blas_threads,
                    fresh=args.fresh,
                    progress="none" if args.json else "auto",
                )[0]
    finally:
        store.close()
    expected = compare_outcomes(expectations, [outcome])
    comparison = None if expected is None else expected.comparisons[0]
    summary = outcome_summary(outcome)
    summary["expected"] = None if comparison is None else comparison.as_dict()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        v = outcome.verdict
        print(f"{claim.id}: {v.status.upper()}")
        print(f"  prediction: {v.predicted}")
        print(f"  measured:   {v.measured}")
        print(f"  margin:     {_margin_text(v.margin)}")
        print(f"  reason:     {v.reason}")
        print(f"  tolerance:  {claim.tolerance}")
        print(f"  tolerance source: {claim.tolerance_source or 'not stated'}")
        for rate in v.rates:
            lo, hi = rate["ci95"]
            op = "<=" if rate.get("direction") == "at_most" else ">="
            print(
                f"  rate:       {rate['name']}: {rate['successes']}/{rate['trials']}, 95% CI "
                f"[{lo:.3f}, {hi:.3f}] {op} {rate['threshold']:g}: {rate['status']} "
                f"(margin {_margin_text(rate['margin'])})"
            )
        for x in v.contrasts:
            print(
                f"  contrast:   {x['name']}: only-a {x['discordant_a']}, only-b "
                f"{x['discordant_b']} of {x['pairs']}, p = {x['p_value']:.3g} <= "
                f"{x['threshold']:g}: {x['status']} (margin {_margin_text(x['margin'])})"
            )
        for x in v.checks:
            print(
                f"  check:      {x['name']}: {x['detail']}: {x['status']} "
                f"(margin {_margin_text(x['margin'])})"
            )
        for x in v.controls:
            print(
                f"  control:    {x['name']}: {x['verdict']} (margin "
                f"{_margin_text(x.get('margin'))}; {x.get('runs', 0)} runs, "
                f"{x.get('runs_failed', 0)} failed): {x['reason']}"
            )
        if not v.controls:
            print(f"  controls:   none{': ' + claim.no_control if claim.no_control else ''}")
        for fault in outcome.design_faults:
            print(f"  design fault: {fault}")
        rep = outcome.replication
        if rep is not None:
            print(
                f"  replication: {str(rep['verdict']).upper()} on fresh seeds {rep['seeds']} "
                f"(margin {_margin_text(rep['margin'])}){'' if rep['agrees'] else ' - the blocks disagree'}"
            )
            for r in rep["rates"]:
                k1, n1 = r["original"]
                k2, n2 = r["replication"]
                print(
                    f"    {r['name']}: {k1}/{n1} vs {k2}/{n2}, homogeneity p = "
                    f"{r['homogeneity_p_value']:.3g} (Fisher exact)"
                )
        print(
            f"  runs:       {len(outcome.results)} ({outcome.n_cached} reused, "
            f"{outcome.n_failed} failed), {outcome.run_time:.2f} s"
        )
        for r in outcome.results:
            if not r.ok:
                first = ((r.error or "").strip().splitlines() or ["no metrics"])[0]
                print(f"  failed run {r.config}: {first}")
        if comparison is not None:
            said = "as expected" if comparison.matches else f"MISMATCH: got {comparison.actual}"
            print(f"  expected:   {comparison.expected} ({comparison.why()}): {said}")
    return exit_code([outcome]) if expected is None else expected.exit_code


def _cmd_report(args: argparse.Namespace) -> int:
    start = time.perf_counter()  # wall time: claim import, sweep, judging (rendering excluded)
    if args.scheduler is not None and args.executor != "dask":
        raise UsageError("--scheduler needs --executor dask")
    if args.executor == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise UsageError(
                "--executor dask needs dask.distributed: pip install 'overtensor[dask]'"
            ) from None
    if args.scheduler is not None:
        try:
            check_scheduler_address(args.scheduler)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    named: Sequence[str] | None = args.claims  # None: every claim, no selection
    if named is None and args.keyword is not None:
        named = []
    claims = _for_profile(_select(args.claims, args.keyword), args.profile, named)
    _buildable(claims, args.profile)
    expectations = _expectations(args.expect)
    with contextlib.ExitStack() as running:
        try:  # the executor first: a scheduler that does not answer is refused before any file
            executor, info = running.enter_context(
                make_executor(_executor_kind(args), workers=args.workers, scheduler=args.scheduler)
            )
            tmp = prepare_out_dir(args.out)  # fail before any work when --out is unwritable
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        try:
            store = _open_store(args.db)
            try:
                print(
                    f"overtensor: {len(claims)} claim(s), profile {args.profile}, executor "
                    f"{info.kind} ({info.workers} workers, {info.blas_threads} BLAS thread(s) each)",
                    file=sys.stderr,
                )
                outcomes = run_claims(
                    claims,
                    args.profile,
                    store=store,
                    executor=executor,
                    blas_threads=info.blas_threads,
                    fresh=args.fresh,
                )
                if args.replicate is not None:
                    outcomes = replicate_claims(
                        outcomes,
                        block=args.replicate,
                        store=store,
                        executor=executor,
                        blas_threads=info.blas_threads,
                        fresh=args.fresh,
                    )
                running.close()  # workers and cluster end before the report is rendered
                prov = collect_provenance(
                    profile=args.profile,
                    executor=info,
                    wall_time=time.perf_counter() - start,
                    db=str(Path(args.db).resolve()),
                    fresh=args.fresh,
                )
                prov = with_loaded_sources(prov)  # claim files loaded with --load, with hashes
                expected = compare_outcomes(expectations, outcomes)
                # figures and typeset math cached in the store (drawn again with --fresh)
                summary = write_report(
                    outcomes,
                    args.out,
                    prov,
                    tmp=tmp,
                    store=store,
                    reuse=not args.fresh,
                    figure_workers=1 if args.debug else None,  # --debug: plots in this process
                    expected=expected,
                )
            finally:
                store.close()
        except BaseException as exc:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OutDirError):  # --out changed while the runs were computed
                raise UsageError(str(exc)) from None
            raise
    for o in outcomes:
        again = "" if o.replication is None else f" [fresh seeds: {o.replication['verdict']}]"
        print(f"{o.verdict.status:>12}  {o.claim.id}  ({o.verdict.measured}){again}")
    c = summary["counts"]
    print(
        f"report written to {Path(args.out).resolve()} ({c['holds']} hold, {c['fails']} fail, "
        f"{c['inconclusive']} inconclusive; {time.perf_counter() - start:.1f} s in all)"
    )
    if expected is None:
        return exit_code(outcomes)
    print(f"--expect {expected.summary_line()}")
    for mismatch in expected.mismatches:
        print(f"  {mismatch.describe()}")
    return expected.exit_code


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibrate import calibrated_rates, format_calibration, write_calibration
    from .registered import CALIBRATION_OFFSET, POWER_TARGET, RegistrationError

    if not args.claims and args.keyword is None:
        raise UsageError(
            "calibrate needs the claims to calibrate: ids, areas, groups or globs ('*' for all), "
            "or -k EXPR"
        )
    claims = _for_profile(
        _select(args.claims or None, args.keyword), args.profile, args.claims or []
    )
    if args.registered is not None and not args.write:
        raise UsageError("--registered names the file --write records into; add --write")
    _buildable(claims, args.profile)
    store = _open_store(args.db)
    try:
        with make_executor(_executor_kind(args), workers=args.workers) as (executor, info):
            outcomes = run_claims(
                claims,
                args.profile,
                store=store,
                executor=executor,
                blas_threads=info.blas_threads,
                fresh=args.fresh,
                seed_offset=CALIBRATION_OFFSET,
            )
    finally:
        store.close()
    rates = calibrated_rates(outcomes)
    print(format_calibration(rates))
    for o in outcomes:
        if o.n_failed:
            print(f"{o.claim.id}: {o.n_failed} calibration run(s) failed", file=sys.stderr)
    if args.write:
        commit = collect_provenance(
            profile=args.profile, executor=None, wall_time=0.0, db=args.db, fresh=args.fresh
        )["git_commit"]
        try:
            changes = write_calibration(outcomes, args.registered, commit=str(commit))
        except (ValueError, RegistrationError, OSError) as exc:
            raise UsageError(str(exc)) from None
        print(
            f"recorded {len(changes)} change(s) in {args.registered or 'reports/registered.toml'}"
        )
    short = [r for r in rates if r.power < POWER_TARGET[r.profile]]
    return 1 if short or any(o.n_failed for o in outcomes) else 0


def _cmd_diff(args: argparse.Namespace) -> int:
    threshold = args.margin_threshold
    if not math.isfinite(threshold) or threshold < 0:
        raise UsageError(f"--margin-threshold must be a finite number >= 0, got {threshold:g}")
    try:
        a, b = read_summary(args.a), read_summary(args.b)
    except DiffError as exc:
        raise UsageError(str(exc)) from None
    result = diff_summaries(a, b, margin_threshold=threshold, paths=(args.a, args.b))
    print(json.dumps(result.as_dict(), indent=2) if args.json else result.text())
    return result.exit_code


def _load_claims(targets: Sequence[str]) -> None:
    """Entry-point claims and ``--load`` targets; a problem is bad usage (exit 2)."""
    from .loading import LoadError, load_all

    try:
        load_all(targets)
    except LoadError as exc:
        raise UsageError(str(exc)) from None


def _repo_root() -> Path:
    """The source checkout holding ``reports/`` (and ``benchmarks/`` in a clone)."""
    return Path(__file__).resolve().parent.parent


def _cmd_bench(args: argparse.Namespace) -> int:
    root = _repo_root()
    if not (root / "benchmarks" / "__main__.py").is_file():
        print(
            "overtensor: error: no benchmarks found (they live in the source checkout as "
            f"benchmarks/__main__.py; looked in {root}); run `overtensor bench` from a clone "
            "installed with `pip install -e .`",
            file=sys.stderr,
        )
        return EXIT_CODES["usage"]
    cmd = [sys.executable, "-m", "benchmarks", *args.args]
    return subprocess.run(cmd, cwd=root).returncode


#: Exit code of an internal error (a bug, or a file overtensor cannot read): one line on stderr.
EXIT_INTERNAL = 4
#: Exit codes after SIGINT / SIGTERM (128 + signal number, the shell convention).
EXIT_SIGINT, EXIT_SIGTERM = 130, 143
#: Exit code when the reader of stdout went away (``overtensor claims | head -2``): 128 + SIGPIPE,
#: what a program killed by SIGPIPE gives (as ``git log | head``); nothing is printed.
EXIT_SIGPIPE = 141


def _stdout_closed() -> bool:
    """True when stdout is a pipe whose reading end is closed (poll reports an error on it)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        events = poller.poll(0)
    except (AttributeError, OSError, ValueError):  # no poll, no file descriptor (captured)
        return False
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in events)


def _quiet_closed_stdout() -> int:
    """Send what is left of stdout to /dev/null (the interpreter's last flush must not fail
    again) and return :data:`EXIT_SIGPIPE`."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_SIGPIPE


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every cleanup path for SIGINT also runs for it."""


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the cleanup short
    raise _Terminated()


def _check_run_args(args: argparse.Namespace) -> None:
    """Checks of ``check``/``report`` options made before anything runs (issue 15, items 2, 12)."""
    if args.workers == 0:  # --workers 0: the in-process mode
        args.workers, args.debug = None, True
    if args.debug and args.workers is not None:
        raise UsageError(
            f"--debug runs everything in this process: --workers {args.workers} does not apply"
        )
    if args.debug and getattr(args, "executor", "local") != "local":
        raise UsageError(
            f"--debug runs everything in this process: not with --executor {args.executor}"
        )
    try:
        check_workers(args.workers, "--workers")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    db = getattr(args, "db", None)
    if db is not None and db.strip() in ("", ":memory:"):
        raise UsageError(
            f"--db must be a database file path, got {db!r} (results would be thrown away)"
        )
    try:
        if db is not None:
            check_utf8(db, "--db")
            check_name_lengths(db, "--db")
        out = getattr(args, "out", None)
        if out is not None and db is not None:
            # refusals of --out first (checked again before writing)
            check_db_outside_out(out, db)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _internal_error(exc: BaseException) -> int:
    """One line on stderr (the traceback too with ``OVERTENSOR_TRACEBACK=1``); exit code 4."""
    if tracebacks_wanted():
        traceback.print_exception(exc, file=sys.stderr)
    text = " ".join(str(exc).split()) or "(no message)"
    if isinstance(exc, sqlite3.DatabaseError):
        what = "results database error"
    elif isinstance(exc, OSError):
        what = "file error"
    else:
        what = "internal error"
    print(f"overtensor: {what}: {type(exc).__name__}: {text}", file=sys.stderr)
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``overtensor`` console script; returns the exit code.

    SIGTERM is handled like SIGINT (finished runs kept, temporary report directory removed,
    workers ended) and gives exit code 143; an unexpected exception gives exit code 4.
    """
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        if args.command != "bench":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.args = [*args.args, *extra]  # options for python -m benchmarks (e.g. --list, --quick)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_CODES["usage"]
    handlers = {
        "claims": _cmd_claims,
        "check": _cmd_check,
        "report": _cmd_report,
        "calibrate": _cmd_calibrate,
        "diff": _cmd_diff,
        "bench": _cmd_bench,
    }
    try:
        if args.command in ("claims", "check", "report", "calibrate"):
            _load_claims(getattr(args, "load", []))
        if args.command in ("check", "report", "calibrate"):
            _check_run_args(args)
        with showing_tracebacks(getattr(args, "debug", False)):
            code = handlers[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError as exc:
        if _stdout_closed():
            return _quiet_closed_stdout()
        return _internal_error(exc)  # another pipe (a worker's, a socket): not the reader's doing
    except (UsageError, StoreError) as exc:  # StoreError: the database changed under the run
        print(f"overtensor: error: {exc}", file=sys.stderr)
        return EXIT_CODES["usage"]
    except _Terminated:
        print("overtensor: terminated (finished runs are kept in the database)", file=sys.stderr)
        return EXIT_SIGTERM
    except KeyboardInterrupt:
        print("overtensor: interrupted (finished runs are kept in the database)", file=sys.stderr)
        return EXIT_SIGINT
    except Exception as exc:  # a bug or an unreadable file: one line, its own exit code
        return _internal_error(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
