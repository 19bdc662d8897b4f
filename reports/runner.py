"""Runner: claims' configs → metrics through any :class:`concurrent.futures.Executor`, stored in SQLite.

Flow (docs/architecture.md, "Data flow of a report"): for each claim, ``configs(profile)`` gives
frozen dataclass configs; runs already in the :class:`~reports.store.ResultStore` (status ``ok``,
same key) are reused; the others are submitted — every claim's runs at once, so a 2-core pool stays
busy across claims — to the executor as ``_execute(experiment, config, blas_threads)``; each
finished run is committed to the store as it arrives. Then ``predict`` and ``judge`` give each
claim's :class:`Verdict`.

Rules enforced here, whatever a claim's judge says:

* a failed run (exception, divergence, NaN) is stored with its error and never aborts the sweep;
* a claim with a failed run, no runs, or a broken ``predict``/``judge`` is at most
  ``"inconclusive"``; only ``"fails"`` from the judge survives failed runs.

Executors: :func:`make_executor` gives a local :class:`~concurrent.futures.ProcessPoolExecutor`
(default) or a ``dask.distributed`` executor (``client.get_executor(pure=False)``: Dask's ``submit``
would otherwise run identical calls once) on a ``LocalCluster`` or a scheduler address.
BLAS threads: every run executes with :data:`RUN_BLAS_THREADS` (= 1) BLAS threads, whatever the
number of workers or the executor, set inside the run with :mod:`threadpoolctl`. A BLAS library's
summation order depends on its thread count, so the last digits of a metric would otherwise depend on
``--workers``; with a fixed count the stored metrics, and ``summary.json`` without its timing and
provenance fields, are byte-identical for any ``--workers`` and executor (docs/math.md §7,
reproducibility). The count is part of every run's key (a row computed with another count is never
reused), recorded in every stored row and in the report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TextIO

from .failures import describe, guarded, is_interrupt, print_traceback
from .planning import check_against_registration, replication_record
from .procs import check_workers, terminate_pool, worker_init
from .registered import REPLICATION_OFFSET, describe_seeds, registration, seed_values, shift_seeds
from .registry import PROFILES, Claim, ClaimDefinitionError, RunResult, Verdict, check_parts
from .statistics import ControlResult
from .store import (
    ResultStore,
    code_version,
    config_json,
    experiment_name,
    run_key,
    to_jsonable,
)

__all__ = [
    "RUN_BLAS_THREADS",
    "replicate_claims",
    "ClaimOutcome",
    "ExecutorInfo",
    "InlineExecutor",
    "apply_controls",
    "check_claims",
    "enforce_verdict",
    "make_executor",
    "run_claims",
    "run_sweep",
]

EXECUTORS = ("local", "dask")
"""The executors of ``--executor``; :func:`make_executor` also takes ``"inline"`` (``--debug``)."""
INLINE = "inline"


RUN_BLAS_THREADS = 1
"""BLAS threads of every run, whatever ``--workers`` and the executor: results must not depend on them
(module docstring). Parallelism comes from the workers."""


@dataclass(frozen=True)
class ExecutorInfo:
    """How a sweep was executed (recorded in the report's provenance)."""

    kind: str
    workers: int
    blas_threads: int
    address: str = ""


def _limit_blas(threads: int) -> contextlib.AbstractContextManager[Any]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads)


def _execute(
    experiment: Callable[[Any], Mapping[str, Any]], config: Any, blas_threads: int
) -> tuple[dict[str, Any] | None, str | None, float, dict[str, Any]]:
    """Run one experiment in a worker; never raises for an experiment's own failure.

    Returns ``(metrics, error, wall_time, worker_info)``; exactly one of metrics/error is None. Any
    ``BaseException`` of the experiment (``sys.exit`` included) is its failure, except
    ``KeyboardInterrupt`` (:mod:`reports.failures`).
    """
    worker = {"pid": os.getpid(), "blas_threads": blas_threads}
    start = time.perf_counter()
    try:
        with _limit_blas(blas_threads):
            metrics = experiment(config)
        if not isinstance(metrics, Mapping):
            raise TypeError(f"experiment returned {type(metrics).__name__}, expected a dict")
        clean = to_jsonable(dict(metrics))
        return clean, None, time.perf_counter() - start, worker
    except BaseException as exc:  # a failed run is data, not a crash
        if is_interrupt(exc):
            raise
        print_traceback(f"experiment {experiment_name(experiment)} failed on {_shown(config)}", exc)
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        tail = "".join(tb[-3:]).strip()
        error = f"{describe(exc)}\n--- traceback (last frames) ---\n{tail}"
        return None, error, time.perf_counter() - start, worker


def _shown(config: Any) -> str:
    """``repr(config)``, or its class name when its ``repr`` fails (claim code)."""
    try:
        return repr(config)
    except BaseException as exc:
        if is_interrupt(exc):
            raise
        return f"a {type(config).__name__} config"


class InlineExecutor(Executor):
    """A :class:`concurrent.futures.Executor` that runs every call in this process, at ``submit``.

    Nothing is pickled and nothing runs in another process, so a debugger, ``breakpoint()`` and
    full tracebacks reach the claim's code (``--debug``, ``--workers 0``). The returned future is
    already done; ``KeyboardInterrupt`` propagates from ``submit``.
    """

    def __init__(self) -> None:
        self._shutdown = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if self._shutdown:
            raise RuntimeError("cannot submit to an InlineExecutor after shutdown")
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            if is_interrupt(exc):
                raise
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True


@contextlib.contextmanager
def make_executor(
    kind: str = "local", *, workers: int | None = None, scheduler: str | None = None
) -> Iterator[tuple[Executor, ExecutorInfo]]:
    """Context manager yielding ``(executor, info)``.

    Parameters
    ----------
    kind : {"local", "dask", "inline"}
        ``"local"``: :class:`ProcessPoolExecutor`; ``"dask"``: ``dask.distributed`` (extra ``dask``);
        ``"inline"``: :class:`InlineExecutor`, every run in this process (``--debug``; no workers).
    workers : int, optional
        Worker processes (default: ``os.cpu_count()``, at most :func:`reports.procs.max_workers`);
        for a remote scheduler, the cluster's thread count is recorded instead. Local pool workers
        exit when the main process dies (:func:`reports.procs.worker_init`).
    scheduler : str, optional
        Address of a running Dask scheduler (``kind="dask"`` only); a ``LocalCluster`` on loopback
        is started otherwise.
    """
    if kind not in (*EXECUTORS, INLINE):
        raise ValueError(f"executor must be one of {[*EXECUTORS, INLINE]}, got {kind!r}")
    workers = check_workers(workers)  # bounded before anything is spawned
    if scheduler is not None and kind != "dask":
        raise ValueError(f"scheduler={scheduler!r} needs executor 'dask', got {kind!r}")
    if kind == INLINE:
        if workers is not None:
            raise ValueError(f"the inline executor runs in this process: workers={workers} given")
        with InlineExecutor() as inline:
            yield inline, ExecutorInfo(INLINE, 1, RUN_BLAS_THREADS)
        return
    n = workers or os.cpu_count() or 1
    if kind == "local":
        info = ExecutorInfo("local", n, RUN_BLAS_THREADS)
        pool = ProcessPoolExecutor(max_workers=n, initializer=worker_init)
        try:
            yield pool, info
        except BaseException:
            terminate_pool(pool)  # interrupted: drop queued runs, end the running ones
            raise
        pool.shutdown(wait=True)
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ValueError(
            "executor 'dask' needs dask.distributed: pip install 'overtensor[dask]'"
        ) from exc
    if scheduler is not None:
        with _connect(scheduler, Client) as client:
            nthreads = sum(
                w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()
            )
            n = max(1, nthreads)
            info = ExecutorInfo("dask", n, RUN_BLAS_THREADS, str(scheduler))
            with _cancelled_when_interrupted(client.get_executor(pure=False)) as executor:
                yield executor, info
        return
    with _closed_local_cluster(n, LocalCluster) as cluster, Client(cluster) as client:
        info = ExecutorInfo("dask", n, RUN_BLAS_THREADS, str(cluster.scheduler_address))
        _connect_to_workers(client)
        with _cancelled_when_interrupted(client.get_executor(pure=False)) as executor:
            yield executor, info


def _connect_to_workers(client: Any) -> None:
    """Open the client's connection to every worker now (one tiny task each).

    A run's result travels from its worker to the client on a direct connection; under TLS the
    first one costs a handshake. Opened before the sweep, a finished run's result reaches the
    database sooner, so fewer finished runs are lost when the report is killed."""
    workers = list(client.scheduler_info()["workers"])
    futures = [client.submit(os.getpid, workers=[w], pure=False) for w in workers]
    client.gather(futures)


@contextlib.contextmanager
def _cancelled_when_interrupted(executor: Executor) -> Iterator[Executor]:
    """A Dask executor whose queued runs are cancelled on the scheduler, and waited for, as soon as
    the sweep is interrupted: a cancelled ``concurrent.futures`` future only asks Dask to cancel
    later, so workers kept starting queued runs while the cluster was closing."""
    try:
        yield executor
    except BaseException:
        with contextlib.suppress(Exception):
            executor.shutdown(wait=False)  # Client.cancel of every submitted run
        raise


SCHEDULER_TIMEOUT_S = 10.0
"""Seconds to wait for a ``--scheduler`` to answer before giving up (exit 2)."""

SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")


class SchedulerError(ValueError):
    """``--scheduler`` is malformed or does not answer (bad usage: exit code 2)."""


def check_scheduler_address(address: object) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a Dask scheduler address; :class:`SchedulerError` otherwise.

    Accepted: ``SCHEME://HOST:PORT`` with a scheme of :data:`SCHEDULER_SCHEMES`, or ``HOST:PORT``
    (TCP); the port between 1 and 65535. A dashboard URL (``http://...``) is not an address.
    """
    text = address if isinstance(address, str) else repr(address)
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    host, colon, port_text = rest.rpartition(":")
    host = host.strip("[]")
    ok = (
        isinstance(address, str)
        and scheme in SCHEDULER_SCHEMES
        and colon == ":"
        and host != ""
        and "/" not in host
        and port_text.isdigit()
        and 1 <= int(port_text) <= 65535
    )
    if not ok:
        raise SchedulerError(
            f"--scheduler {text!r} is not a Dask scheduler address: give SCHEME://HOST:PORT with "
            f"SCHEME one of {', '.join(SCHEDULER_SCHEMES)} (e.g. tcp://10.0.0.5:8786), as the "
            "scheduler prints it (a dashboard http:// URL is not one)"
        )
    return scheme, host, int(port_text)


@contextlib.contextmanager
def _connect(scheduler: str, client_class: Any) -> Iterator[Any]:
    """A ``Client`` of ``scheduler``, connected within :data:`SCHEDULER_TIMEOUT_S` or
    :class:`SchedulerError` (before anything else is opened: issue 24 item 10)."""
    import socket

    scheme, host, port = check_scheduler_address(scheduler)
    if scheme in ("tcp", "tls"):  # a refused port fails now, not after Dask's retries
        try:
            socket.create_connection((host, port), timeout=SCHEDULER_TIMEOUT_S).close()
        except OSError as exc:
            raise SchedulerError(
                f"--scheduler {scheduler!r}: cannot connect ({exc.strerror or exc}): is the "
                "scheduler running at that address?"
            ) from None
    try:
        client = client_class(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(
            f"--scheduler {scheduler!r}: cannot connect within {SCHEDULER_TIMEOUT_S:g} s "
            f"({type(exc).__name__}: {' '.join(str(exc).split())})"
        ) from None
    with client:
        yield client


@contextlib.contextmanager
def _closed_local_cluster(n: int, cluster_class: Any) -> Iterator[Any]:
    """A ``LocalCluster`` that only this process can use (issue 24 item 9).

    Its connections use TLS with a certificate made for it (``security=True``:
    :meth:`distributed.security.Security.temporary`), so another local process can neither connect
    nor run code on its workers. Dask always starts an HTTP server for the scheduler (and each
    worker); here it listens on a random loopback port (not 8787) with no routes: no dashboard, no
    metrics, every request answered 404.
    """
    import dask

    try:
        import cryptography  # noqa: F401  (Security.temporary makes the certificate with it)
    except ImportError as exc:
        raise ValueError(
            "executor 'dask' needs the cryptography package for the local cluster's TLS: pip "
            "install 'overtensor[dask]'"
        ) from exc
    settings: dict[str, Any] = {
        "distributed.scheduler.http.routes": [],
        "distributed.worker.http.routes": [],
        # a worker holds only the run it executes: when the report is interrupted or killed, no
        # queued run is started on it afterwards (TLS makes the workers notice a dead scheduler
        # later than plain TCP did)
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with (
        dask.config.set(settings),
        cluster_class(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
            worker_dashboard_address=None,
            security=True,
        ) as cluster,
    ):
        yield cluster


class _Progress:
    """tqdm bar on a terminal; otherwise a few plain log lines (quiet in CI logs)."""

    def __init__(self, total: int, desc: str, mode: str, stream: TextIO | None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if mode == "auto":
            isatty = getattr(self.stream, "isatty", None)
            mode = "bar" if isatty is not None and isatty() else "log"
        self.mode, self.total, self.desc = mode, total, desc
        self.done = self.failed = 0
        self._next_log = 0.25
        self._bar: Any = None
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, file=self.stream, unit="run")

    def log(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)  # above the bar, not through it
        elif self.mode != "none":
            print(text, file=self.stream, flush=True)

    def notice(self, text: str) -> None:
        """A line the user must see whatever the mode (the log, or stderr when quiet)."""
        if self.mode == "none":
            print(text, file=self.stream, flush=True)
        else:
            self.log(text)

    def update(self, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self._bar is not None:
            self._bar.update(1)
            if self.failed:
                self._bar.set_postfix(failed=self.failed)
        elif self.mode == "log" and self.total and self.done / self.total >= self._next_log:
            while self.done / self.total >= self._next_log:
                self._next_log += 0.25
            self.log(f"{self.desc}: {self.done}/{self.total} runs done, {self.failed} failed")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


HEARTBEAT_S = 30.0
"""Seconds without a finished run after which the progress log names the runs still going."""


def _as_completed_with_heartbeat(
    futures: Mapping[Future[Any], _Task], bar: _Progress, heartbeat: float
) -> Iterator[Future[Any]]:
    """Yield futures as they finish; every ``heartbeat`` seconds without one, log what is running.

    A long run (a scale-profile flow can take minutes) is never silent: the line names each running
    run's claim and config and how long it has been running.
    """
    pending = set(futures)
    started: dict[Future[Any], float] = {}
    last = time.monotonic()
    while pending:
        finished, pending = wait(pending, timeout=heartbeat, return_when=FIRST_COMPLETED)
        now = time.monotonic()
        if finished:
            last = now
        for fut in pending:
            if fut.running():
                started.setdefault(fut, now)
        if not finished:
            running = sorted(
                ((started[f], futures[f]) for f in pending if f in started), key=lambda x: x[0]
            )
            if running:  # a local pool reports which runs have started
                desc = "; ".join(
                    f"{t.claim_id} {t.config} for {now - t0:.0f} s" for t0, t in running[:3]
                )
                more = f" (+{len(running) - 3} more)" if len(running) > 3 else ""
                bar.log(f"{bar.desc}: {bar.done}/{bar.total} runs done; running: {desc}{more}")
            else:  # Dask's futures do not say which runs have started
                claims = sorted({futures[f].claim_id for f in pending})
                bar.log(
                    f"{bar.desc}: {bar.done}/{bar.total} runs done, none for {now - last:.0f} s; "
                    f"{len(pending)} pending ({', '.join(claims[:4])}"
                    f"{', ...' if len(claims) > 4 else ''})"
                )
        yield from finished


@dataclass(frozen=True)
class _Task:
    claim_id: str
    experiment: Callable[[Any], Mapping[str, Any]]
    config: Any
    key: str
    config_json: str
    version: str


def run_sweep(
    tasks: Sequence[tuple[str, Callable[[Any], Mapping[str, Any]], Any]],
    *,
    store: ResultStore,
    executor: Executor,
    blas_threads: int = RUN_BLAS_THREADS,
    fresh: bool = False,
    progress: str = "auto",
    stream: TextIO | None = None,
    desc: str = "sweep",
    heartbeat: float = HEARTBEAT_S,
) -> list[RunResult]:
    """Run ``(claim_id, experiment, config)`` tasks; results in task order.

    Stored ``ok`` rows with the same key are reused (``cached=True``) unless ``fresh``; identical
    tasks run once. Every finished run is committed to ``store`` as it arrives. ``blas_threads`` is
    part of the key (with the code version): rows computed with another BLAS thread count are not
    reused. When no run finishes for ``heartbeat`` seconds, the progress log names the runs still
    going and for how long (a long run is never silent).
    """
    if isinstance(blas_threads, bool) or not isinstance(blas_threads, int) or blas_threads < 1:
        raise ValueError(f"blas_threads must be a positive integer, got {blas_threads!r}")
    versions: dict[str, str] = {}
    items = []
    for claim_id, experiment, config in tasks:
        cj = config_json(config)  # TypeError for a non-dataclass config
        hash(config)  # configs must be hashable (frozen dataclasses)
        name = experiment_name(experiment)
        if name not in versions:
            versions[name] = code_version(experiment)
        key = run_key(claim_id, name, config, f"{versions[name]}+blas{blas_threads}")
        items.append(_Task(claim_id, experiment, config, key, cj, versions[name]))
    stored = {} if fresh else store.get_many(t.key for t in items)
    done: dict[str, RunResult] = {}
    for t in items:
        row = stored.get(t.key)
        if row is not None and row.status == "ok":
            done[t.key] = RunResult(t.config, row.metrics, None, row.wall_time, cached=True)
    todo: dict[str, _Task] = {}
    for t in items:
        if t.key not in done:
            todo.setdefault(t.key, t)
    bar = _Progress(len(todo), desc, progress, stream)
    damaged = [t.key for t in todo.values() if t.key in store.unreadable and t.key not in stored]
    if damaged:  # issue 24 item 7: a damaged row is recomputed, and the user is told
        why = store.unreadable[damaged[0]]
        bar.notice(
            f"{desc}: {len(damaged)} stored run(s) in {store.path} could not be read (first: "
            f"{why}); they are computed again"
        )
    if len(done):
        bar.log(f"{desc}: {len(done)} of {len(items)} runs reused from {store.path}")
    futures: dict[Future[Any], _Task] = {}

    def record(fut: Future[Any], t: _Task) -> None:
        worker: dict[str, Any] | None = None
        try:
            metrics, error, wall, worker = fut.result()
        except BaseException as exc:  # worker lost, pickling error, cancelled ...
            if is_interrupt(exc):
                raise
            metrics, error, wall = None, f"{describe(exc)} (in the executor)", 0.0
        stored = store.put(
            t.key,
            claim_id=t.claim_id,
            experiment=experiment_name(t.experiment),
            config=t.config_json,
            version=t.version,
            metrics=metrics,
            error=error,
            wall_time=wall,
            worker=worker,
        )
        done[t.key] = RunResult(t.config, stored, error, wall, cached=False)
        bar.update(error is None)

    try:
        for t in todo.values():
            fut = executor.submit(_execute, t.experiment, t.config, blas_threads)
            if fut.done():  # an inline executor ran it already: stored now, before the next one
                record(fut, t)
            else:
                futures[fut] = t
        for fut in _as_completed_with_heartbeat(futures, bar, heartbeat):
            record(fut, futures[fut])
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    finally:
        bar.close()
    return [done[t.key] for t in items]


def enforce_verdict(verdict: Verdict, results: Sequence[RunResult]) -> Verdict:
    """Apply the runner's rules: failed runs, no runs or no margin never give ``"holds"``."""
    if verdict.status not in ("holds", "fails", "inconclusive"):
        return verdict.replace(
            status="inconclusive",
            reason=f"judge returned an unknown status {verdict.status!r}",
            margin=None,
        )
    if verdict.status != "holds":
        return verdict
    if not results:
        return verdict.replace(
            status="inconclusive", reason="no runs were made, so nothing was measured"
        )
    failed = [r for r in results if not r.ok]
    if failed:
        first = ((failed[0].error or "").strip().splitlines() or ["no metrics"])[0]
        return verdict.replace(
            status="inconclusive",
            reason=f"{len(failed)} of {len(results)} runs failed (first: {first}); a claim with failed "
            f"runs cannot hold. The judge on the remaining runs said: {verdict.reason}",
        )
    if verdict.margin is None:
        return verdict.replace(
            status="inconclusive",
            reason="the judge gave no margin (docs/math.md §7: every verdict carries one); it said: "
            f"{verdict.reason}",
        )
    return verdict


def apply_controls(verdict: Verdict, controls: Sequence[ControlResult]) -> Verdict:
    """Attach the negative controls; a claim whose control does not fail cannot hold.

    docs/math.md §7: a control is a configuration where the theory predicts the effect absent, judged by
    the claim's own judge. If any control holds or is inconclusive, a ``"holds"`` verdict becomes
    ``"inconclusive: the check cannot discriminate"``.
    """
    records = tuple(c.as_dict() for c in controls)
    not_failing = [c for c in controls if not c.discriminates]
    if verdict.status == "holds" and not_failing:
        names = ", ".join(f"{c.name} ({c.status}: {c.reason})" for c in not_failing)
        return verdict.replace(
            status="inconclusive",
            reason=f"the check cannot discriminate: control(s) did not fail: {names}. The judge on "
            f"the claim's own runs said: {verdict.reason}",
            controls=records,
        )
    return verdict.replace(controls=records)


@dataclass(frozen=True)
class ClaimOutcome:
    """Everything the report needs about one claim after a sweep."""

    claim: Claim
    profile: str
    configs: tuple[Any, ...]
    prediction: Mapping[str, Any]
    results: tuple[RunResult, ...]
    verdict: Verdict
    run_time: float
    problems: tuple[str, ...] = field(default_factory=tuple)
    controls: tuple[tuple[str, tuple[Any, ...], tuple[RunResult, ...]], ...] = ()
    """Negative controls as ``(name, configs, results)``; their verdicts are in ``verdict.controls``."""
    seed_offset: int = 0
    """0 for the judged seed block; the offset every seed was moved by for a calibration or
    replication block (docs/math.md §7.8-7.9)."""
    design_faults: tuple[str, ...] = ()
    """Rates judged off their registration (docs/math.md §7.10), claim's and controls'."""
    replication: Mapping[str, Any] | None = None
    """The same configs judged on a fresh seed block (``--replicate``; docs/math.md §7.9):
    :func:`reports.planning.replication_record`, or None when not asked for."""

    @property
    def n_failed(self) -> int:
        return sum(not r.ok for r in self.results)

    @property
    def n_cached(self) -> int:
        return sum(r.cached for r in self.results)


def _inconclusive(reason: str) -> Verdict:
    return Verdict("inconclusive", reason, "n/a", "n/a")


def _plain_columns(data: Any) -> Any:
    """A plot's ``{column: values}`` as plain JSON values (anything else is left for the report to
    refuse with its own message)."""
    if not isinstance(data, Mapping):
        return data
    return {str(k): to_jsonable(list(v)) for k, v in data.items()}


def _plain_verdict(verdict: Any) -> Verdict:
    """``verdict`` checked to be a :class:`Verdict` of texts and plain JSON values.

    A judge is claim code: what it returns is checked here, where a failure is the judge's, and not
    first when the report renders it.
    """
    if not isinstance(verdict, Verdict):
        raise TypeError(f"judge returned {type(verdict).__name__}, not a Verdict")
    for name in ("status", "reason", "predicted", "measured"):
        value = getattr(verdict, name)
        if not isinstance(value, str):
            raise TypeError(f"judge returned a Verdict whose {name} is a {type(value).__name__}")
    return verdict.replace(
        numbers=to_jsonable(dict(verdict.numbers)),
        rates=tuple(to_jsonable(dict(x)) for x in verdict.rates),
        contrasts=tuple(to_jsonable(dict(x)) for x in verdict.contrasts),
        checks=tuple(to_jsonable(dict(x)) for x in verdict.checks),
    )


def _judge(
    claim: Claim,
    prediction: Mapping[str, Any],
    res: Sequence[RunResult],
    probs: list[str],
    what: str,
) -> Verdict:
    """Call the claim's judge; a broken judge gives an inconclusive verdict (recorded in ``probs``)."""
    try:
        verdict = _plain_verdict(claim.judge(prediction, res))
    except BaseException as exc:
        if is_interrupt(exc):
            raise
        ok = [r for r in res if r.ok]
        probs.append(f"judge failed{what}: {describe(exc)}")
        print_traceback(f"claim {claim.id!r}: judge failed{what}", exc)
        verdict = _inconclusive(f"{probs[-1]} ({len(ok)} of {len(res)} runs had metrics)")
    return enforce_verdict(verdict, res)


# ---------------------------------------------------------------------------------------------
# configs: what a claim must return before anything runs
# ---------------------------------------------------------------------------------------------
_HASHABLE_INSTEAD = {
    list: "a tuple",
    dict: "a tuple of (key, value) pairs",
    set: "a frozenset",
    bytearray: "bytes",
}


def _check_config(claim_id: str, where: str, config: Any) -> None:
    """:class:`ClaimDefinitionError` naming the claim, the config or field, and the fix, when
    ``config`` is not a frozen dataclass instance of hashable, JSON-writable fields."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        shown = _shown(config)
        raise ClaimDefinitionError(
            f"claim {claim_id!r}: {where} is a {type(config).__name__} "
            f"({shown[:60]}{'...' if len(shown) > 60 else ''}), not a config: return instances of "
            "a @dataclass(frozen=True) class that carries its seed"
        )
    cls = type(config)
    name = cls.__qualname__
    if not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise ClaimDefinitionError(
            f"claim {claim_id!r}: config class {name} ({where}) is not frozen: declare it "
            "@dataclass(frozen=True) (a run is stored under a key made from its config, which "
            "must be hashable and must not change)"
        )
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        kind = type(value).__name__
        try:
            hash(value)
        except TypeError:
            instead = next(
                (v for t, v in _HASHABLE_INSTEAD.items() if isinstance(value, t)),
                "a frozen dataclass" if dataclasses.is_dataclass(value) else "a hashable value",
            )
            raise ClaimDefinitionError(
                f"claim {claim_id!r}: field {f.name!r} of config class {name} ({where}) holds a "
                f"{kind}, which is not hashable: use {instead}"
            ) from None
        try:
            to_jsonable(value)
        except (TypeError, ValueError, RecursionError):
            raise ClaimDefinitionError(
                f"claim {claim_id!r}: field {f.name!r} of config class {name} ({where}) holds a "
                f"{kind}, which cannot be written as JSON (runs are keyed and reported by their "
                "config): use numbers, strings, booleans, None, tuples of them or a frozen dataclass"
            ) from None
    config_json(config)
    hash(config)


def _config_tuple(claim_id: str, where: str, value: Any) -> tuple[Any, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ClaimDefinitionError(
            f"claim {claim_id!r}: {where} returned a {type(value).__name__}: return a list of "
            "configs (instances of a @dataclass(frozen=True) class)"
        )
    items = tuple(value)
    for i, cfg in enumerate(items):
        _check_config(claim_id, f"{where}[{i}]", cfg)
    return items


def _claim_configs(
    claim: Claim, profile: str, seed_offset: int
) -> tuple[tuple[Any, ...], dict[str, tuple[Any, ...]]]:
    """The claim's configs and controls for ``profile``, seeds moved by ``seed_offset``.

    :class:`ClaimDefinitionError` when their shape is wrong (:func:`check_claims`); whatever the
    claim's own code raises propagates (the caller records it as the claim's failure).
    """
    configs = _config_tuple(claim.id, f"configs({profile!r})", claim.configs(profile))
    raw = claim.controls(profile) if claim.controls is not None else {}
    if not isinstance(raw, Mapping):
        raise ClaimDefinitionError(
            f"claim {claim.id!r}: controls({profile!r}) returned a {type(raw).__name__}: return a "
            "dict {name: [config, ...]}"
        )
    controls = {
        str(name): _config_tuple(claim.id, f"controls({profile!r})[{str(name)!r}]", cfgs)
        for name, cfgs in raw.items()
    }
    return (
        tuple(shift_seeds(c, seed_offset) for c in configs),
        {n: tuple(shift_seeds(c, seed_offset) for c in cfgs) for n, cfgs in controls.items()},
    )


def check_claims(claims: Sequence[Claim], profile: str) -> None:
    """Refuse, before anything runs, a claim that cannot be built for ``profile``.

    :class:`~reports.registry.ClaimDefinitionError` (a ``ValueError``; the command line's exit 2)
    naming the claim, the part, config or field, and the fix: a function that cannot be called as
    its part must be (:func:`reports.registry.check_parts`), ``configs``/``controls`` returning
    something else than configs, a config class that is not a dataclass or not frozen, a field
    that is not hashable or cannot be written as JSON. A ``configs`` that raises is not refused
    here: :func:`run_claims` records it as the claim's failure (an inconclusive verdict).
    """
    for claim in claims:
        check_parts(claim)
        try:
            _claim_configs(claim, profile, 0)
        except ClaimDefinitionError:
            raise
        except BaseException as exc:
            if is_interrupt(exc):
                raise


def run_claims(
    claims: Sequence[Claim],
    profile: str,
    *,
    store: ResultStore,
    executor: Executor,
    blas_threads: int = RUN_BLAS_THREADS,
    fresh: bool = False,
    progress: str = "auto",
    stream: TextIO | None = None,
    seed_offset: int = 0,
) -> list[ClaimOutcome]:
    """Sweep every claim's configs in one pass through ``executor``, then judge each claim.

    ``seed_offset`` moves every seed of every config (judged and control) by that much: the
    calibration block (:data:`reports.registered.CALIBRATION_OFFSET`) or a replication block
    (``K·``:data:`reports.registered.REPLICATION_OFFSET`). Every verdict is checked against the
    claim's registration (:func:`reports.planning.check_against_registration`).
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {list(PROFILES)}, got {profile!r}")
    for claim in claims:
        if profile not in claim.profiles:
            raise ValueError(
                f"claim {claim.id!r} has no {profile!r} profile (it has {list(claim.profiles)})"
            )
    per_claim: dict[str, tuple[Any, ...]] = {}
    per_control: dict[str, dict[str, tuple[Any, ...]]] = {}
    problems: dict[str, list[str]] = {c.id: [] for c in claims}
    tasks: list[tuple[str, Callable[[Any], Mapping[str, Any]], Any]] = []
    for claim in claims:
        check_parts(claim)
        try:
            configs, controls = _claim_configs(claim, profile, seed_offset)
        except ClaimDefinitionError:
            raise  # a claim that cannot be built: bad usage, before any run
        except BaseException as exc:
            if is_interrupt(exc):
                raise
            problems[claim.id].append(f"configs({profile!r}) failed: {describe(exc)}")
            print_traceback(f"claim {claim.id!r}: configs({profile!r}) failed", exc)
            configs, controls = (), {}
        per_claim[claim.id] = configs
        per_control[claim.id] = controls
        tasks.extend((claim.id, claim.experiment, cfg) for cfg in configs)
        for cfgs in controls.values():
            tasks.extend((claim.id, claim.experiment, cfg) for cfg in cfgs)
    results = run_sweep(
        tasks,
        store=store,
        executor=executor,
        blas_threads=blas_threads,
        fresh=fresh,
        progress=progress,
        stream=stream,
        desc=f"{len(claims)} claim(s), {profile}",
    )
    outcomes = []
    pos = 0
    for claim in claims:
        n = len(per_claim[claim.id])
        res = tuple(results[pos : pos + n])
        pos += n
        probs = problems[claim.id]
        prediction: Mapping[str, Any] = {}
        verdict: Verdict | None = None
        if probs:
            verdict = _inconclusive("; ".join(probs))
        else:
            try:
                prediction = to_jsonable(dict(claim.predict(profile)))
            except BaseException as exc:
                if is_interrupt(exc):
                    raise
                probs.append(f"predict failed: {describe(exc)}")
                print_traceback(f"claim {claim.id!r}: predict({profile!r}) failed", exc)
                verdict = _inconclusive(probs[-1])
        control_results: list[ControlResult] = []
        plan = registration(claim.id)
        design_faults: list[str] = []
        control_runs: list[tuple[str, tuple[Any, ...], tuple[RunResult, ...]]] = []
        for name, cfgs in per_control[claim.id].items():
            cres = tuple(results[pos : pos + len(cfgs)])
            pos += len(cfgs)
            control_runs.append((name, cfgs, cres))
            if verdict is None:
                cv = _judge(claim, prediction, cres, probs, f" on control {name!r}")
                cv, faults = check_against_registration(cv, plan, profile, control=name)
                design_faults += [f"control {name!r}: {f}" for f in faults]
                n_bad = sum(not r.ok for r in cres)
                why = f"{n_bad} of {len(cres)} runs failed; {cv.reason}" if n_bad else cv.reason
                control_results.append(
                    ControlResult(
                        name,
                        cv.status,
                        why,
                        cv.margin,
                        runs=len(cres),
                        runs_failed=n_bad,
                        rates=cv.rates,
                    )
                )
        if verdict is None:
            own, faults = check_against_registration(
                _judge(claim, prediction, res, probs, ""), plan, profile
            )
            design_faults = faults + design_faults
            verdict = apply_controls(own, control_results)
            if verdict.status == "holds" and design_faults:
                verdict = verdict.replace(
                    status="inconclusive",
                    reason="design fault (docs/math.md §7.10): "
                    + "; ".join(design_faults)
                    + f". The judge said: {verdict.reason}",
                )
        outcomes.append(
            ClaimOutcome(
                # the report draws the figure: whatever the plot raises is a noted plot failure
                claim=dataclasses.replace(claim, plot=guarded(claim.plot, _plain_columns)),
                profile=profile,
                configs=per_claim[claim.id],
                prediction=prediction,
                results=res,
                verdict=verdict,
                run_time=float(
                    sum(r.wall_time for r in res)
                    + sum(r.wall_time for _, _, cres in control_runs for r in cres)
                ),
                problems=tuple(probs),
                controls=tuple(control_runs),
                seed_offset=seed_offset,
                design_faults=tuple(design_faults),
            )
        )
    return outcomes


def replicate_claims(
    outcomes: Sequence[ClaimOutcome],
    *,
    block: int,
    store: ResultStore,
    executor: Executor,
    blas_threads: int = RUN_BLAS_THREADS,
    fresh: bool = False,
    progress: str = "auto",
    stream: TextIO | None = None,
) -> list[ClaimOutcome]:
    """``outcomes`` with their ``replication``: the same configs on fresh seed block ``block``.

    Every seed of every config (judged and control) is moved by ``block·``:data:`REPLICATION_OFFSET`
    (disjoint from the judged and calibration blocks), the claims are judged again with their own
    judges and registered bars, and each outcome gets :func:`reports.planning.replication_record`
    (docs/math.md §7.9).
    """
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"replication block must be a positive integer, got {block!r}")
    if not outcomes:
        return []
    offset = block * REPLICATION_OFFSET
    profile = outcomes[0].profile
    again = run_claims(
        [o.claim for o in outcomes],
        profile,
        store=store,
        executor=executor,
        blas_threads=blas_threads,
        fresh=fresh,
        progress=progress,
        stream=stream,
        seed_offset=offset,
    )
    out = []
    for o, r in zip(outcomes, again, strict=True):
        configs = list(r.configs) + [c for _, cfgs, _ in r.controls for c in cfgs]
        seeds = describe_seeds(seed_values(configs)) or "none (deterministic: the same runs)"
        record = replication_record(o.verdict, r.verdict, seeds, offset)
        out.append(dataclasses.replace(o, replication=record))
    return out
