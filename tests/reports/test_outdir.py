"""The report directory never costs the user a file (issue 24, items 2, 3, 5, 14, 16).

Each test reproduces a probe of the issue: a report copied into a thesis folder (``cp -r report/.
thesis/``) made ``report --out thesis`` delete ``chapters/`` and ``notes.txt``; a backup
``.results.old-2025`` (a copied report plus notes) was removed by an unrelated report; the Python
API deleted its database inside ``out``; a non-UTF-8 ``--out`` failed after every run with exit 4;
four processes writing one ``--out`` lost reports to ``FileNotFoundError``/``ENOTEMPTY``; a 256-byte
name exited 4 and a legal 250-byte one was refused; ``--load '~nouser/x.py'`` exited 4.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import socket
from pathlib import Path

import pytest

import reports
from reports import outdir
from reports.outdir import MARKER
from reports.registry import REGISTRY
from reports.render import prepare_out_dir
from tests.reports.cli_run import run_main as _main
from tests.reports.fake_claims import make_claim

CLAIM = "fake.ok"


@pytest.fixture(autouse=True)
def fake_claim(monkeypatch):
    monkeypatch.setitem(REGISTRY, CLAIM, make_claim(CLAIM, n=2))


def _report(capsys, out, db, *extra):
    return _main(capsys, "report", "--claims", CLAIM, "--out", out, "--db", db, *extra)


def _tree(directory: Path) -> dict[str, bytes | None]:
    """Every entry under ``directory``: file contents, None for a folder."""
    return {
        str(p.relative_to(directory)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(directory.rglob("*"))
    }


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def _dead_pid() -> int:
    pid = 2**22 - 1
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def _as_dead(directory: Path) -> None:
    """Make ``directory``'s marker name a process that is gone (as after SIGKILL)."""
    info = json.loads((directory / MARKER).read_text())
    info["pid"] = _dead_pid()
    (directory / MARKER).write_text(json.dumps(info))


# --------------------------------------------------------------------------------------------------
# item 2: a copied marker does not make the user's files the report's


def test_report_copied_into_a_thesis_folder_deletes_nothing(capsys, tmp_path):
    db = tmp_path / "r.sqlite"
    assert _report(capsys, tmp_path / "report", db)[0] == 0
    thesis = tmp_path / "thesis"
    (thesis / "chapters").mkdir(parents=True)
    (thesis / "chapters" / "one.tex").write_text("\\chapter{One}")
    (thesis / "notes.txt").write_text("my notes")
    shutil.copytree(tmp_path / "report", thesis, dirs_exist_ok=True)  # cp -r report/. thesis/
    (thesis / "figures" / "my-plot.png").write_bytes(b"mine")  # a user file among the report's
    before = _tree(thesis)
    code, _, err = _report(capsys, thesis, db)
    assert code == 2, err
    assert "chapters" in err and "notes.txt" in err and "figures/my-plot.png" in err
    assert "left untouched" in err
    assert _tree(thesis) == before
    assert _leftovers(tmp_path) == []


def test_a_file_added_to_a_report_is_kept_and_refused(capsys, tmp_path):
    out, db = tmp_path / "rep", tmp_path / "r.sqlite"
    assert _report(capsys, out, db)[0] == 0
    (out / "extra.txt").write_text("written into an overtensor report")
    before = _tree(out)
    code, _, err = _report(capsys, out, db)
    assert code == 2 and "extra.txt" in err
    assert _tree(out) == before
    (out / "extra.txt").unlink()
    code, _, err = _report(capsys, out, db)  # the report's own entries only: replaced
    assert code == 0, err
    assert _leftovers(tmp_path) == []


def test_a_report_of_the_earlier_marker_format_is_still_replaced(capsys, tmp_path):
    """Reports written before the manifest: their marker holds no entry list; the known layout is
    replaced, anything else refused."""
    out, db = tmp_path / "rep", tmp_path / "r.sqlite"
    assert _report(capsys, out, db)[0] == 0
    (out / MARKER).write_text(
        json.dumps({"written_by": "overtensor", "pid": 1, "host": socket.gethostname()}) + "\n"
    )
    assert _report(capsys, out, db)[0] == 0
    assert "entries" in json.loads((out / MARKER).read_text())
    (out / MARKER).write_text(json.dumps({"written_by": "overtensor", "pid": 1}))
    (out / "data" / "notes.md").write_text("mine")
    code, _, err = _report(capsys, out, db)
    assert code == 2 and "data/notes.md" in err and (out / "data" / "notes.md").is_file()


def test_backup_named_like_an_old_report_is_never_removed(capsys, tmp_path):
    db = tmp_path / "r.sqlite"
    bk = tmp_path / "bk"
    assert _report(capsys, bk / "results", db)[0] == 0
    backup = bk / ".results.old-2025"
    shutil.copytree(bk / "results", backup)  # a copied report, its marker included
    (backup / "my_notes.txt").write_text("keep me")
    _as_dead(backup)
    before = _tree(backup)
    code, _, err = _report(capsys, bk / "new", db)
    assert code == 0, err
    assert _tree(backup) == before


def test_copied_temporary_folder_with_user_files_is_kept(capsys, tmp_path):
    tmp = outdir.make_temp_dir(tmp_path / "rep")
    _as_dead(tmp)
    copy = tmp_path / "copy" / tmp.name  # same name, same marker, elsewhere, with a user file
    shutil.copytree(tmp, copy)
    (copy / "notes.txt").write_text("mine")
    renamed = tmp_path / ".rep.tmp-mine"  # a marker whose token does not match the name
    shutil.copytree(tmp, renamed)
    code, _, err = _report(capsys, tmp_path / "copy" / "rep", tmp_path / "r.sqlite")
    assert code == 0, err
    assert (copy / "notes.txt").read_text() == "mine"
    code, _, err = _report(capsys, tmp_path / "rep", tmp_path / "r.sqlite")
    assert code == 0, err
    assert not tmp.exists()  # the real leftover of a dead process: removed
    assert renamed.is_dir()  # not one this program created under that name: kept


def test_stale_temporary_folder_of_a_dead_process_is_removed(tmp_path):
    tmp = outdir.make_temp_dir(tmp_path / "rep")
    (tmp / "figures").mkdir()
    (tmp / "figures" / "a.b.png").write_bytes(b"png")
    (tmp / "index.html").write_text("half")
    alive = outdir.make_temp_dir(tmp_path / "rep")  # this process: alive, kept
    assert outdir.remove_stale_temp_dirs(tmp_path) == []
    _as_dead(tmp)
    assert outdir.remove_stale_temp_dirs(tmp_path) == [tmp]
    assert not tmp.exists() and alive.is_dir()


def test_report_matches_the_layout_the_cleanup_knows(capsys, tmp_path):
    """A stale temporary folder is removed only when it holds the report's layout: every file a
    report writes must be in :data:`reports.outdir.REPORT_LAYOUT` (update it with the renderer)."""
    out = tmp_path / "rep"
    assert _report(capsys, out, tmp_path / "r.sqlite")[0] == 0
    entries = json.loads((out / MARKER).read_text())["entries"]
    written = {rel + ("/" if data is None else "") for rel, data in _tree(out).items()}
    assert sorted(entries) == sorted(written) and MARKER in entries
    assert all(outdir.in_report_layout(e.rstrip("/"), e.endswith("/")) for e in entries), entries


# --------------------------------------------------------------------------------------------------
# item 3: the API refuses a database inside out, as the CLI does


def test_api_refuses_db_inside_out(tmp_path):
    out = tmp_path / "rep"
    db = out / "results.sqlite"
    first = reports.report([CLAIM], out=tmp_path / "elsewhere", db=tmp_path / "r.sqlite", workers=1)
    assert first.exit_code == 0
    with pytest.raises(ValueError, match="inside --out"):
        reports.report([CLAIM], out=out, db=db, workers=1)
    assert not out.exists()
    out.mkdir()
    db.write_bytes(b"")  # an existing (empty) database file inside out: untouched
    with pytest.raises(ValueError, match="inside --out"):
        reports.report([CLAIM], out=out, db=db, workers=1)
    assert db.is_file()
    link = tmp_path / "link"
    link.symlink_to(out, target_is_directory=True)
    with pytest.raises(ValueError, match="inside --out"):
        reports.report([CLAIM], out=link, db=db, workers=1)


# --------------------------------------------------------------------------------------------------
# item 5: non-UTF-8 bytes in --out/--db/--load are refused before any run


@pytest.mark.parametrize("option", ["--out", "--db", "--load"])
def test_non_utf8_paths_exit_2_up_front(capsys, tmp_path, option):
    bad = os.fsdecode(bytes(tmp_path) + b"/caf\xe9")
    args = {"--out": tmp_path / "rep", "--db": tmp_path / "r.sqlite"}
    if option == "--load":
        argv = ["report", "--claims", CLAIM, "--load", bad + ".py"]
        argv += ["--out", args["--out"], "--db", args["--db"]]
    else:
        args[option] = bad
        argv = ["report", "--claims", CLAIM, "--out", args["--out"], "--db", args["--db"]]
    if option == "--load":  # the file exists: only its name is refused
        with open(os.fsencode(bad) + b".py", "wb"):
            pass
    before = sorted(os.listdir(os.fsencode(tmp_path)))
    code, _, err = _main(capsys, *argv)
    assert code == 2, err
    assert option in err and "UTF-8" in err
    assert sorted(os.listdir(os.fsencode(tmp_path))) == before  # nothing created


# --------------------------------------------------------------------------------------------------
# item 14: concurrent writers of one --out


def _write_reports(out: str, rounds: int, errors: multiprocessing.Queue) -> None:
    try:
        for i in range(rounds):
            tmp = prepare_out_dir(out)
            (tmp / "figures").mkdir()
            (tmp / "index.html").write_text(f"{os.getpid()} {i}")
            (tmp / "figures" / "a.png").write_bytes(b"png" * 100)
            outdir.commit_out_dir(tmp, Path(out))
    except BaseException as exc:  # noqa: BLE001 - reported to the test
        errors.put(f"{type(exc).__name__}: {exc}")
        raise SystemExit(4) from None


def test_four_processes_writing_one_out(tmp_path):
    out = tmp_path / "rep"
    ctx = multiprocessing.get_context("fork")
    errors = ctx.Queue()
    procs = [ctx.Process(target=_write_reports, args=(str(out), 40, errors)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == [] and [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert (out / "index.html").is_file() and (out / "figures" / "a.png").is_file()
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------------------------------
# item 16: names at the file system's limit; ~user that does not exist


def test_out_name_longer_than_name_max_exits_2(capsys, tmp_path):
    code, _, err = _report(capsys, tmp_path / ("a" * 256), tmp_path / "r.sqlite")
    assert code == 2 and "--out" in err and "255" in err, err
    assert not (tmp_path / "r.sqlite").exists()
    code, _, err = _report(capsys, tmp_path / "rep", tmp_path / ("d" * 256))
    assert code == 2 and "--db" in err and "255" in err, err
    assert list(tmp_path.iterdir()) == []


def test_out_name_of_250_characters_is_written(capsys, tmp_path):
    out = tmp_path / ("b" * 250)
    db = tmp_path / "r.sqlite"
    code, _, err = _report(capsys, out, db)
    assert code == 0, err
    assert (out / "index.html").is_file()
    code, _, err = _report(capsys, out, db)  # replaced: the old report's sibling name fits too
    assert code == 0, err
    assert _leftovers(tmp_path) == []


def test_load_of_unknown_user_home_exits_2(capsys, tmp_path):
    code, _, err = _main(capsys, "claims", "--load", "~nouser_zz/x.py")
    assert code == 2 and "~nouser_zz/x.py" in err, err


CONCURRENT_DRIVER = """
import sys
from reports.cli import main
from reports.registry import REGISTRY
from tests.reports.fake_claims import make_claim

REGISTRY["fake.ok"] = make_claim("fake.ok", n=2)
codes = [main(sys.argv[1:]) for _ in range(3)]
sys.exit(max(codes))
"""


@pytest.mark.slow
def test_four_report_commands_writing_one_out(tmp_path):
    """The CLI probe of item 14: four ``report`` processes, one ``--out``, none fails."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CONCURRENT_DRIVER,
                "report",
                "--claims",
                CLAIM,
                "--out",
                str(tmp_path / "rep"),
                "--db",
                str(tmp_path / f"r{i}.sqlite"),
                "--workers",
                "1",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(4)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert summary["claims"][0]["id"] == CLAIM
    assert _leftovers(tmp_path) == []
