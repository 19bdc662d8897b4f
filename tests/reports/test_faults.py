"""Fault injection on the CLI (issue 15, item 4 and "Also"): SIGTERM and SIGKILL mid-report.

A report of one slow fake claim (12 runs of 0.4 s on 2 workers: the local pool, and a Dask
LocalCluster when dask is installed) runs in a subprocess; once some runs are stored, the main
process is signalled. Checked afterwards:

* no orphan: every pool worker of the killed process has exited within a few seconds (the workers
  watch their parent, :mod:`reports.procs`);
* SIGTERM: exit code 143, a one-line message, no temporary directory, no report directory;
  SIGKILL leaves its temporary directory (nothing can run), and the next report removes it;
* no lost or duplicated row: every row stored before the signal is still there after the rerun,
  unchanged (same ``created_at``) and computed exactly once (each execution of a run appends a line
  to ``marker_dir/<x>.txt``), and the rerun completes all 12 rows.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
N_RUNS = 12
DELAY = 0.4

DRIVER = f"""
import dataclasses, sys
from reports.cli import main
from reports.registry import REGISTRY
from tests.reports.fake_claims import FakeConfig, make_claim

marker_dir = sys.argv[1]
claim = make_claim("fake.slow")
claim = dataclasses.replace(
    claim,
    configs=lambda profile: [
        FakeConfig(x, seed=x, delay={DELAY}, marker_dir=marker_dir) for x in range({N_RUNS})
    ],
)
REGISTRY[claim.id] = claim
sys.exit(main(sys.argv[2:]))
"""

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def _descendants(pid: int) -> list[int]:
    out = []
    for child in _children(pid):
        out += [child, *_descendants(child)]
    return out


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"  # a zombie has exited


def _rows(db: Path) -> dict[str, float]:
    if not db.exists():
        return {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return dict(conn.execute("SELECT key, created_at FROM runs").fetchall())
    except sqlite3.OperationalError:  # table not created yet
        return {}
    finally:
        conn.close()


def _executions(marker_dir: Path) -> dict[int, int]:
    return {int(p.stem): len(p.read_text().splitlines()) for p in marker_dir.glob("*.txt")}


def _start(
    tmp_path: Path,
    executor: str = "local",
    scheduler: str | None = None,
    extra: tuple[str, ...] = (),
) -> tuple[subprocess.Popen[str], list[str]]:
    marker_dir = tmp_path / "marks"
    marker_dir.mkdir(exist_ok=True)
    argv = [
        sys.executable, "-c", DRIVER, str(marker_dir), "report", "--claims", "fake.slow",
        "--out", str(tmp_path / "rep"), "--db", str(tmp_path / "r.sqlite"), "--workers", "2",
        "--executor", executor,
    ]  # fmt: skip
    if scheduler is not None:
        argv += ["--scheduler", scheduler]
    argv += list(extra)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return proc, argv


def _interrupt(
    tmp_path: Path, sig: int, executor: str, scheduler: str | None = None
) -> tuple[int, str, list[int], dict[str, float]]:
    """Start a report, wait for >= 2 stored rows, send ``sig``; return (rc, stderr, workers, rows).

    ``workers`` are all descendants of the main process seen while it ran (pool workers; for Dask
    the worker processes and their helpers).
    """
    proc, _ = _start(tmp_path, executor, scheduler)
    db = tmp_path / "r.sqlite"
    deadline = time.monotonic() + 90
    seen: set[int] = set()
    try:
        while len(_rows(db)) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no run finished within 90 s"
            seen.update(_descendants(proc.pid))
            time.sleep(0.05)
        seen.update(_descendants(proc.pid))
        workers = sorted(seen)
        assert len(_rows(db)) < N_RUNS  # really mid-report
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:  # pragma: no cover - only when an assertion failed above
            proc.kill()
            proc.wait()
    return proc.returncode, err, workers, _rows(db)


def _assert_workers_gone(workers: list[int]) -> None:
    assert workers, "no pool worker was seen"
    deadline = time.monotonic() + 10
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if _running(w)], "orphaned pool workers still running"


def _rerun_and_check(tmp_path: Path, before: dict[str, float]) -> None:
    proc, _ = _start(tmp_path)  # the rerun uses the local pool whatever was interrupted
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    after = _rows(tmp_path / "r.sqlite")
    assert len(after) == N_RUNS
    for key, created in before.items():  # nothing lost, nothing recomputed
        assert after[key] == created
    execs = _executions(tmp_path / "marks")
    assert set(execs) == set(range(N_RUNS))
    # runs stored before the signal ran exactly once; a run cut short by the signal ran at most
    # twice (once cut, once in the rerun); the others once
    assert sum(execs.values()) <= N_RUNS + 2  # at most one cut run per worker
    assert sum(1 for v in execs.values() if v == 1) >= len(before)
    leftovers = [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    assert leftovers == []
    assert (tmp_path / "rep" / "index.html").is_file()


def _executors() -> list[Any]:
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        return ["local", pytest.param("dask", marks=pytest.mark.skip(reason="dask not installed"))]
    return ["local", "dask"]


@pytest.mark.slow
@pytest.mark.parametrize("executor", _executors())
def test_sigterm_mid_report(tmp_path, executor):
    rc, err, workers, before = _interrupt(tmp_path, signal.SIGTERM, executor)
    assert rc == 143, err
    assert "terminated (finished runs are kept in the database)" in err
    assert "Traceback (most recent call last)" not in err
    _assert_workers_gone(workers)
    leftovers = [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]
    assert leftovers == [] and not (tmp_path / "rep").exists()
    assert 2 <= len(before) < N_RUNS
    _rerun_and_check(tmp_path, before)


@pytest.mark.slow
@pytest.mark.parametrize("executor", _executors())
def test_sigkill_mid_report(tmp_path, executor):
    rc, _, workers, before = _interrupt(tmp_path, signal.SIGKILL, executor)
    assert rc == -signal.SIGKILL
    _assert_workers_gone(workers)  # nothing ran in the main process: the workers noticed
    stale = [p for p in tmp_path.iterdir() if p.name.startswith(".rep.tmp-")]
    assert len(stale) == 1  # left behind by the killed process ...
    _rerun_and_check(tmp_path, before)  # ... and removed by the next report
    assert not stale[0].exists()


@pytest.mark.slow
def test_sigterm_mid_report_on_a_scheduler(tmp_path):
    """``--scheduler ADDR`` (issue 24): SIGTERM mid-report on a running cluster the report does
    not own: exit 143, finished runs kept, the cluster left running and usable, the rerun completes."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        # the workers import the fake claim's module: they need the repository on their path
        cluster_client = distributed.Client(cluster)
        cluster_client.run(lambda: sys.path.insert(0, str(ROOT)))
        rc, err, _, before = _interrupt(
            tmp_path, signal.SIGTERM, "dask", scheduler=cluster.scheduler_address
        )
        assert rc == 143, err
        assert "terminated (finished runs are kept in the database)" in err
        assert "Traceback (most recent call last)" not in err
        assert 2 <= len(before) < N_RUNS
        assert cluster_client.submit(pow, 3, 2).result(timeout=30) == 9  # the cluster still works
        cluster_client.close()
    _rerun_and_check(tmp_path, before)


@pytest.mark.slow
@pytest.mark.parametrize("executor", _executors())
def test_sigterm_mid_replication(tmp_path, executor):
    """``--replicate`` (docs/math.md §7.9): SIGTERM while the fresh seed block runs: exit 143, the
    judged block and the finished replication runs kept; the rerun computes only what is missing."""
    proc, _ = _start(tmp_path, executor, extra=("--replicate",))
    db = tmp_path / "r.sqlite"
    deadline = time.monotonic() + 120
    try:
        while len(_rows(db)) < N_RUNS + 2:  # the judged block, then two replication runs
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the replication block did not start within 120 s"
            time.sleep(0.05)
        before = _rows(db)
        assert len(before) < 2 * N_RUNS  # really mid-replication
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:  # pragma: no cover - only when an assertion failed above
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert not (tmp_path / "rep").exists()
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]
    rerun, _ = _start(tmp_path, extra=("--replicate",))
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    after = _rows(db)
    assert len(after) == 2 * N_RUNS
    assert all(after[k] == created for k, created in before.items())  # nothing lost or recomputed


POOL_DRIVER = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from reports.procs import worker_init

pool = ProcessPoolExecutor(max_workers=1, initializer=worker_init)
print(pool.submit(os.getpid).result(), flush=True)
pool.submit(time.sleep, 60)
time.sleep(0.2)
os._exit(0)  # the main process dies without shutting its pool down (as under SIGKILL)
"""


def test_pool_worker_exits_when_its_parent_dies():
    """The cheap version of the SIGKILL test: a pool worker busy for 60 s ends within seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-c", POOL_DRIVER], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    worker = int(res.stdout.split()[0])
    _assert_workers_gone([worker])
