"""The results database under damage, version changes and hostile file systems (issue 24, items 7,
15, 16).

Probes reproduced: invalid JSON in a metrics cell made every report exit 4 ("JSONDecodeError",
no database named); a row with status ok and null metrics was never recomputed and made ``check``
crash with ``IndexError``; an older process kept writing after the database moved to a newer schema;
a valid database on a read-only file system was called "not a usable SQLite results database"; a
disk full while creating the database said "left unchanged" although files were created.

The read-only and disk-full probes mount a small tmpfs in a private mount namespace (``unshare
-m``, as root); they are skipped where that is not allowed.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reports.registry import REGISTRY
from reports.store import SCHEMA_VERSION, ResultStore, StoreError
from tests.reports.cli_run import run_main as _main
from tests.reports.fake_claims import make_claim

ROOT = Path(__file__).resolve().parents[2]
CLAIM = "fake.ok"


@pytest.fixture(autouse=True)
def fake_claim(monkeypatch):
    monkeypatch.setitem(REGISTRY, CLAIM, make_claim(CLAIM, n=3))


def _sql(db: Path, statement: str, *args) -> None:
    conn = sqlite3.connect(db)
    conn.execute(statement, args)
    conn.commit()
    conn.close()


def _created(db: Path) -> dict[str, float]:
    conn = sqlite3.connect(db)
    rows = dict(conn.execute("SELECT key, created_at FROM runs").fetchall())
    conn.close()
    return rows


# --------------------------------------------------------------------------------------------------
# item 7: damaged rows are recomputed, and the user is told


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE runs SET metrics = '{not json' WHERE rowid = 1",
        "UPDATE runs SET metrics = NULL WHERE rowid = 1",
        "UPDATE runs SET metrics = '[1, 2]' WHERE rowid = 1",
        "UPDATE runs SET worker = '{' WHERE rowid = 1",
        "UPDATE runs SET wall_time = 'slow' WHERE rowid = 1",
    ],
)
def test_damaged_row_is_recomputed_and_reported(capsys, tmp_path, damage):
    db = tmp_path / "r.sqlite"
    out = tmp_path / "rep"
    argv = ["report", "--claims", CLAIM, "--out", out, "--db", db, "--workers", "1"]
    assert _main(capsys, *argv)[0] == 0
    before = _created(db)
    _sql(db, damage)
    code, stdout, err = _main(capsys, *argv)
    assert code == 0, err
    assert "1 stored run(s)" in err and "could not be read" in err and str(db) in err, err
    after = _created(db)
    changed = [k for k in before if after[k] != before[k]]
    assert len(changed) == 1  # the damaged row, computed again; the others reused
    with ResultStore(db) as store:
        assert all(r.metrics is not None for r in store.rows())
    code, stdout, err = _main(capsys, "check", CLAIM, "--db", db, "--workers", "1")
    assert code == 0 and "3 reused" in stdout, (stdout, err)


def test_ok_row_with_null_metrics_does_not_crash_check(capsys, tmp_path):
    db = tmp_path / "r.sqlite"
    assert _main(capsys, "check", CLAIM, "--db", db, "--workers", "1")[0] == 0
    _sql(db, "UPDATE runs SET metrics = NULL")
    code, stdout, err = _main(capsys, "check", CLAIM, "--db", db, "--workers", "1")
    assert code == 0, (code, stdout, err)
    assert "runs:       3 (0 reused, 0 failed)" in stdout
    assert "3 stored run(s)" in err and "could not be read" in err


def test_store_reads_skip_unreadable_rows(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        for key in ("a", "b"):
            store.put(key, claim_id="c", experiment="e", config="{}", version="v",
                      metrics={"x": 1}, error=None, wall_time=0.1)  # fmt: skip
        _sql(tmp_path / "r.sqlite", "UPDATE runs SET metrics = '{' WHERE key = 'a'")
        assert set(store.get_many(["a", "b"])) == {"b"}
        assert store.get("a") is None and [r.key for r in store.rows()] == ["b"]
        assert "a" in store.unreadable and "metrics" in store.unreadable["a"]


# --------------------------------------------------------------------------------------------------
# item 15: the schema version is checked before every commit


def test_put_refuses_after_the_schema_moved(tmp_path):
    db = tmp_path / "r.sqlite"
    store = ResultStore(db)
    row = dict(claim_id="c", experiment="e", config="{}", version="v", error=None, wall_time=0.1)
    store.put("a", metrics={"x": 1}, **row)
    _sql(db, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}"):
        store.put("b", metrics={"x": 2}, **row)
    store.close()
    conn = sqlite3.connect(db)
    assert [k for (k,) in conn.execute("SELECT key FROM runs")] == ["a"]
    conn.close()


@dataclasses.dataclass(frozen=True)
class BumpConfig:
    x: int
    db: str


def bump_schema(config: BumpConfig) -> dict[str, float]:
    """An experiment that plays a newer overtensor migrating the database during the sweep."""
    if config.x == 0:
        conn = sqlite3.connect(config.db)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.commit()
        conn.close()
    return {"value": float(config.x)}


def test_sweep_stops_writing_when_the_schema_moves(capsys, tmp_path, monkeypatch):
    db = tmp_path / "r.sqlite"
    claim = dataclasses.replace(
        make_claim("fake.bump"),
        experiment=bump_schema,
        configs=lambda profile: [BumpConfig(x, str(db)) for x in range(6)],
    )
    monkeypatch.setitem(REGISTRY, claim.id, claim)
    code, _, err = _main(capsys, "check", "fake.bump", "--db", db, "--workers", "1")
    assert code == 2, err
    assert "schema version" in err and "stopped writing" in err and "Traceback" not in err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0
    conn.close()


# --------------------------------------------------------------------------------------------------
# item 16: read-only file system, disk full (a tmpfs in a private mount namespace)


def _can_mount() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    res = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt"],
        capture_output=True,
    )
    return res.returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs root and unshare -m (tmpfs)")

MOUNTED = """
set -e
M="$1"; shift
mount -t tmpfs -o size=1m tmpfs "$M"
{setup}
"$@"
"""


def _in_mount(tmp_path: Path, setup: str, code: str) -> subprocess.CompletedProcess[str]:
    mnt = tmp_path / "mnt"
    mnt.mkdir(exist_ok=True)  # each call mounts a fresh tmpfs on it (in its own namespace)
    script = MOUNTED.format(setup=textwrap.dedent(setup))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(mnt), sys.executable, "-c", code, str(mnt)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


OPEN = """
import sys
from reports.store import ResultStore, StoreError
try:
    ResultStore(sys.argv[1] + "/{name}").close()
    print("opened")
except StoreError as exc:
    print("StoreError:", exc)
import os
print("files:", sorted(os.listdir(sys.argv[1])))
"""


@needs_mount
def test_valid_database_on_read_only_file_system(tmp_path):
    setup = f"""
    "{sys.executable}" -c "from reports.store import ResultStore; ResultStore('$M/r.sqlite').close()"
    mount -o remount,ro "$M"
    """
    res = _in_mount(tmp_path, setup, OPEN.format(name="r.sqlite"))
    assert res.returncode == 0, res.stderr
    assert "not a usable SQLite" not in res.stdout
    assert "read-only file system" in res.stdout and "r.sqlite" in res.stdout, res.stdout
    res = _in_mount(tmp_path, setup, OPEN.format(name="new.sqlite"))
    assert "read-only file system" in res.stdout, res.stdout


@needs_mount
def test_disk_full_while_creating_the_database(tmp_path):
    setup = """
    mount -o remount,size=12k "$M"
    dd if=/dev/zero of="$M/fill" bs=1k count=8 2>/dev/null || true
    """
    res = _in_mount(tmp_path, setup, OPEN.format(name="full.sqlite"))
    assert res.returncode == 0, res.stderr
    assert "StoreError:" in res.stdout and "full" in res.stdout, res.stdout
    assert "left unchanged" not in res.stdout
    assert "files: ['fill']" in res.stdout  # what it created is removed again
