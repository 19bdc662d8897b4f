"""Regression tests for the CLI/store faults of issue 15 (items 1, 2, 4 (stale temp), 5, 6, 11, 12).

Each test reproduces the reported command and checks exit code, message, and what is (not) on disk.
The signal tests (SIGTERM/SIGKILL mid-report) are in ``test_faults.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import sys
from pathlib import Path

import pytest

import reports.cli
from reports import outdir
from reports.outdir import MARKER
from reports.procs import max_workers
from reports.registry import REGISTRY
from reports.runner import make_executor
from reports.store import APPLICATION_ID, SCHEMA_VERSION, ResultStore
from tests.reports.cli_run import run_main as _main
from tests.reports.fake_claims import make_claim

CLAIM = "fake.ok"


@pytest.fixture(autouse=True)
def fake_claim(monkeypatch):
    monkeypatch.setitem(REGISTRY, CLAIM, make_claim(CLAIM, n=2))


def _report(capsys, out, db, *extra):
    return _main(capsys, "report", "--claims", CLAIM, "--out", str(out), "--db", str(db), *extra)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


# --------------------------------------------------------------------------------------------------
# item 1: --out replaces only what overtensor wrote; refusals come before any run


def test_out_refuses_a_foreign_directory_and_leaves_it_intact(capsys, tmp_path):
    victim = tmp_path / "victim"
    (victim / "sub").mkdir(parents=True)
    (victim / "thesis.tex").write_text("x")
    (victim / ".git").mkdir()
    (victim / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    before = _tree(victim)
    db = tmp_path / "r.sqlite"
    code, _, err = _report(capsys, victim, db)
    assert code == 2
    assert "did not write" in err and MARKER in err
    assert _tree(victim) == before and (victim / "sub").is_dir()
    assert not db.exists()  # refused before any run
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("which", [".", "..", "/", "~", "home", "cwd", "cwd-parent", "./"])
def test_out_refuses_special_directories_before_running(capsys, tmp_path, monkeypatch, which):
    work = tmp_path / "a" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "a"))
    out = {
        "home": str(tmp_path / "a"),
        "cwd": str(work),
        "cwd-parent": str(tmp_path),
    }.get(which, which)
    db = tmp_path / "r.sqlite"
    code, _, err = _report(capsys, out, db)
    assert code == 2 and "--out" in err and "refused" in err, err
    assert not db.exists()
    assert list(work.iterdir()) == [] and _leftovers(tmp_path / "a") == []


def test_out_empty_dir_accepted_marked_dir_replaced(capsys, tmp_path):
    out, db = tmp_path / "rep", tmp_path / "r.sqlite"
    out.mkdir()
    code, _, err = _report(capsys, out, db)
    assert code == 0, err
    assert (out / MARKER).is_file() and (out / "index.html").is_file()
    code, _, err = _report(capsys, out, db)  # a marked report directory: replaced
    assert code == 0, err
    (out / "extra.txt").write_text("written into an overtensor report")
    code, _, err = _report(capsys, out, db)  # issue 24 item 2: a file it did not write is kept
    assert code == 2 and "extra.txt" in err, err
    assert (out / "extra.txt").is_file() and (out / MARKER).is_file()
    assert _leftovers(tmp_path) == []


def test_out_symlink_is_followed_without_stray_links(capsys, tmp_path):
    """Item 12: an --out symlink left a stray ``.NAME.old-*`` link behind."""
    real = tmp_path / "real"
    link = tmp_path / "link"
    db = tmp_path / "r.sqlite"
    assert _report(capsys, real, db)[0] == 0
    link.symlink_to(real, target_is_directory=True)
    code, _, err = _report(capsys, link, db)
    assert code == 0, err
    assert link.is_symlink() and (link / "index.html").is_file() and (real / MARKER).is_file()
    assert _leftovers(tmp_path) == []
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    code, _, err = _report(capsys, dangling, db)
    assert code == 2 and "dangling" in err


def test_db_inside_out_is_refused(capsys, tmp_path):
    out = tmp_path / "rep"
    code, _, err = _report(capsys, out, out / "r.sqlite")
    assert code == 2 and "inside --out" in err and not out.exists()


# --------------------------------------------------------------------------------------------------
# item 4 (the part that needs no signal): stale temporary directories are removed by a later run


def _dead_pid() -> int:
    pid = 2**22 - 1  # above the default pid_max of small systems; checked below
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_stale_temp_dirs_of_dead_processes_are_removed(capsys, tmp_path):
    host = socket.gethostname()
    stale = outdir.make_temp_dir(tmp_path / "rep")  # as a killed process leaves it
    info = json.loads((stale / MARKER).read_text())
    (stale / MARKER).write_text(json.dumps({**info, "pid": _dead_pid()}))
    (stale / "index.html").write_text("half")
    alive = tmp_path / ".other.tmp-alive"  # a running overtensor (this process): kept
    alive.mkdir()
    (alive / MARKER).write_text(
        json.dumps({"written_by": "overtensor", "pid": os.getppid(), "host": host})
    )
    unmarked = tmp_path / ".mine.tmp-keep"  # not overtensor's: kept
    unmarked.mkdir()
    code, _, err = _report(capsys, tmp_path / "rep", tmp_path / "r.sqlite")
    assert code == 0, err
    assert not stale.exists()
    assert alive.is_dir() and unmarked.is_dir()


def test_marker_written_in_temp_dir(tmp_path):
    tmp = outdir.make_temp_dir(tmp_path / "rep")
    info = json.loads((tmp / MARKER).read_text())
    assert info["pid"] == os.getpid() and info["written_by"] == "overtensor"


# --------------------------------------------------------------------------------------------------
# item 2: --workers bounded before anything is spawned


def test_workers_bounded_before_spawning(capsys, tmp_path):
    db = tmp_path / "r.sqlite"
    code, _, err = _report(capsys, tmp_path / "rep", db, "--workers", "100000")
    assert code == 2 and f"--workers must be <= {max_workers()}" in err
    assert not db.exists() and not (tmp_path / "rep").exists()
    code, _, err = _main(capsys, "check", CLAIM, "--db", str(db), "--workers", "100000")
    assert code == 2 and "--workers must be <=" in err
    for kind in ("local", "dask"):
        with pytest.raises(ValueError, match="workers must be <="):
            with make_executor(kind, workers=max_workers() + 1):
                pass  # pragma: no cover - never reached


# --------------------------------------------------------------------------------------------------
# item 5: the SQLite file is checked before it is modified


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_foreign_sqlite_file_is_refused_unchanged(capsys, tmp_path):
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
        conn.execute("PRAGMA user_version=42")
    conn.close()
    before = _digest(db)
    code, _, err = _report(capsys, tmp_path / "rep", db)
    assert code == 2 and "another program" in err and "unchanged" in err
    assert _digest(db) == before and not Path(f"{db}-wal").exists()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 42
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal"
    conn.close()
    assert not (tmp_path / "rep").exists()


def test_foreign_application_id_and_newer_schema_refused(capsys, tmp_path):
    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("PRAGMA application_id=1234")
    conn.close()
    code, _, err = _report(capsys, tmp_path / "rep", foreign)
    assert code == 2 and "application_id" in err
    newer = tmp_path / "newer.sqlite"
    ResultStore(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    before = _digest(newer)
    code, _, err = _report(capsys, tmp_path / "rep", newer)
    assert code == 2 and "newer" in err and _digest(newer) == before


_SCHEMA_1 = """
CREATE TABLE runs (key TEXT PRIMARY KEY, claim_id TEXT NOT NULL, experiment TEXT NOT NULL,
    config TEXT NOT NULL, version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')), metrics TEXT, error TEXT,
    wall_time REAL NOT NULL, worker TEXT, created_at REAL NOT NULL);
CREATE INDEX runs_claim ON runs (claim_id);
PRAGMA user_version=1;
"""


def test_schema_1_database_is_migrated_with_its_rows(tmp_path):
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(_SCHEMA_1)
    conn.execute(
        "INSERT INTO runs VALUES ('k', 'c', 'e', '{}', 'v', 'ok', '{\"a\": 1}', NULL, 0.5, NULL, 1.0)"
    )
    conn.commit()
    conn.close()
    with ResultStore(db) as store:
        assert store.count() == 1 and store.get("k").metrics == {"a": 1}
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_new_database_is_marked(tmp_path):
    db = tmp_path / "new.sqlite"
    ResultStore(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_corrupted_or_non_sqlite_file_is_a_clear_message(capsys, tmp_path):
    db = tmp_path / "r.sqlite"
    assert _report(capsys, tmp_path / "rep", db)[0] == 0
    with ResultStore(db) as store:  # fill several pages, then damage them
        for i in range(400):
            store.put(f"k{i}", claim_id="c", experiment="e", config="{}" + "x" * 200,
                      version="v", metrics={"i": i}, error=None, wall_time=0.0)  # fmt: skip
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    for off in range(2 * page, 5 * page, 7):
        data[off] = 0x5A
    db.write_bytes(bytes(data))
    code, _, err = _report(capsys, tmp_path / "rep", db)
    assert code == 2 and "Traceback" not in err
    assert "damaged" in err or "not a usable SQLite" in err, err
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database" * 100)
    before = _digest(text)
    code, _, err = _report(capsys, tmp_path / "rep2", text)
    assert code == 2 and "not a usable SQLite results database" in err
    assert _digest(text) == before


# --------------------------------------------------------------------------------------------------
# item 6: internal errors have their own exit code and a one-line message


def test_internal_error_exit_4_one_line(capsys, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(reports.cli, "write_report", boom)
    monkeypatch.delenv("OVERTENSOR_TRACEBACK", raising=False)
    code, _, err = _report(capsys, tmp_path / "rep", tmp_path / "r.sqlite")
    assert code == 4
    assert (
        err.strip().splitlines()[-1] == "overtensor: internal error: RuntimeError: boom second line"
    )
    assert "Traceback" not in err
    assert _leftovers(tmp_path) == [] and not (tmp_path / "rep").exists()


def test_database_error_during_run_exit_4(capsys, tmp_path, monkeypatch):
    def malformed(self, keys):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(ResultStore, "get_many", malformed)
    code, _, err = _report(capsys, tmp_path / "rep", tmp_path / "r.sqlite")
    assert code == 4 and "results database error" in err and "malformed" in err
    assert err.strip().splitlines()[-1].startswith("overtensor: results database error:")
    assert "Traceback" not in err
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------------------------------
# item 11: report.md escapes the database path and the command line


def test_report_md_escapes_db_and_command(capsys, tmp_path, monkeypatch):
    db = tmp_path / "<script>alert(1)<x>.sqlite"
    out = tmp_path / "rep"
    argv = ["report", "--claims", CLAIM, "--out", str(out), "--db", str(db)]
    monkeypatch.setattr(sys, "argv", ["overtensor", *argv])
    code, _, err = _main(capsys, *argv)
    assert code == 0, err
    md = (out / "report.md").read_text()
    assert "<script>" not in md
    assert md.count("&lt;script&gt;alert(1)&lt;x&gt;") >= 2  # database and command lines
    html_text = (out / "index.html").read_text()
    assert "<script>alert" not in html_text


# --------------------------------------------------------------------------------------------------
# item 12: --db "" and duplicate --claims


def test_empty_db_is_refused(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for db in ("", ":memory:"):
        code, _, err = _report(capsys, tmp_path / "rep", db)
        assert code == 2 and "--db must be a database file path" in err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="db must be a file path"):
        ResultStore("")


def test_duplicate_claims_counted_once(capsys, tmp_path):
    out = tmp_path / "rep"
    code, stdout, err = _main(
        capsys,
        "report",
        "--claims",
        CLAIM,
        CLAIM,
        "--out",
        str(out),
        "--db",
        str(tmp_path / "r.sqlite"),
    )
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert [c["id"] for c in summary["claims"]] == [CLAIM]
    assert summary["counts"]["holds"] == 1
    assert "1 hold" in stdout
