"""The report directory's safety rules: overtensor replaces only what it wrote itself.

Every directory overtensor creates for a report — the final ``--out DIR``, its temporary sibling
``.DIR.tmp-TOKEN`` and the old report moved aside as ``.DIR.old-TOKEN`` — carries a marker file
:data:`MARKER` (``.overtensor-report``, JSON). The rules (issue 15 item 1, issue 24 items 2 and 14):

* ``--out DIR`` is accepted when ``DIR`` is absent, an empty directory, or a report directory: it
  holds a marker and **nothing but the entries that report wrote** — the marker of a finished report
  lists them (``"entries"``; a marker of an earlier version without the list: the report layout
  :data:`REPORT_LAYOUT`). A copied marker does not make the user's files the report's: ``cp -r
  report/. thesis/`` into a folder with ``chapters/`` and ``notes.txt`` gives a folder whose
  unlisted entries make ``--out thesis`` refused (exit 2), its files untouched. ``.``, ``..``,
  ``/``, ``~``, the home directory, the working directory and its parents are always refused. A
  symlink is followed: the directory it points to must obey the same rules, the link is kept.
* The report is written to ``.DIR.tmp-TOKEN`` beside ``DIR``; at the end, holding a lock on the
  parent directory (``flock``: concurrent writers of one ``--out`` take turns, none fails), the old
  ``DIR`` is moved to ``.DIR.old-TOKEN``, the new one renamed onto ``DIR``, and of the old one only
  the entries its marker lists are removed (an entry that appeared in the meantime is kept, with
  the folder holding it).
* A temporary or old sibling is removed by a later report only when this program created it and
  its writer is gone: its marker has the role ``temporary``/``old``, a random token equal to the
  one in the folder's name, the process id of a process on this host that no longer runs, and the
  folder holds only what a report writes. A copied report renamed ``.results.old-2025`` (no such
  token), a folder with a user's file in it, or one whose writer runs is never touched.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .paths import check_name_lengths, check_utf8, name_max, shown

__all__ = [
    "MARKER",
    "REPORT_LAYOUT",
    "OutDirError",
    "check_db_outside_out",
    "check_out_dir",
    "commit_out_dir",
    "in_report_layout",
    "make_temp_dir",
    "remove_stale_temp_dirs",
]

#: Name of the marker file inside every report directory overtensor creates.
MARKER = ".overtensor-report"

#: What a report writes: its top-level files, and folders with the file suffixes they hold. Used for
#: temporary folders (which have no entry list yet) and for reports whose marker predates the list;
#: tests/reports/test_outdir.py checks that a written report fits it.
REPORT_LAYOUT: dict[str, tuple[str, ...] | None] = {
    MARKER: None,
    "index.html": None,
    "report.md": None,
    "summary.json": None,
    "figures": (".png", ".svg"),
    "data": (".csv", ".json"),
}

_TOKEN_BYTES = 6  # 12 hex digits in the folder name and the marker


class OutDirError(ValueError):
    """``--out`` cannot be used (bad usage: exit code 2)."""


# ---------------------------------------------------------------------------------------------
# markers and contents
# ---------------------------------------------------------------------------------------------
def _write_json_marker(directory: Path, info: dict[str, Any]) -> None:
    (directory / MARKER).write_text(json.dumps({"written_by": "overtensor", **info}) + "\n")


def _read_marker(directory: Path) -> dict[str, Any] | None:
    """The marker of ``directory`` when it is overtensor's, else None."""
    try:
        info = json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("written_by") != "overtensor":
        return None
    return info


def _walk(directory: Path) -> Iterator[tuple[str, str]]:
    """``(relative path, kind)`` of everything under ``directory``; kind is file, dir or other.

    Symbolic links are reported as ``other`` and not followed.
    """
    stack = [(directory, "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = prefix + entry.name
                if entry.is_symlink():
                    yield rel, "other"
                elif entry.is_dir():
                    yield rel, "dir"
                    stack.append((Path(entry.path), rel + "/"))
                elif entry.is_file():
                    yield rel, "file"
                else:
                    yield rel, "other"


def in_report_layout(rel: str, is_dir: bool) -> bool:
    """Whether the entry ``rel`` (relative, ``/``-separated) fits :data:`REPORT_LAYOUT`."""
    parts = rel.split("/")
    if len(parts) == 1:
        suffixes = REPORT_LAYOUT.get(parts[0], "absent")
        return suffixes != "absent" and (suffixes is not None) == is_dir
    if len(parts) == 2 and not is_dir:
        suffixes = REPORT_LAYOUT.get(parts[0])
        return isinstance(suffixes, tuple) and parts[1].endswith(suffixes)
    return False


def _key(rel: str, kind: str) -> str:
    return rel + "/" if kind == "dir" else rel


def _allowed(info: dict[str, Any]) -> Callable[[str, str], bool]:
    """What may be replaced in a directory with marker ``info``: its entry list, else the layout."""
    entries = info.get("entries")
    if isinstance(entries, list) and all(isinstance(e, str) for e in entries):
        listed = set(entries)
        return lambda rel, kind: kind != "other" and _key(rel, kind) in listed
    return lambda rel, kind: kind != "other" and in_report_layout(rel, kind == "dir")


def _unknown(directory: Path, allowed: Callable[[str, str], bool]) -> list[str]:
    """Entries of ``directory`` that ``allowed`` does not cover (folders shown with ``/``; what is
    inside an unknown folder is not listed again)."""
    out: list[str] = []
    for rel, kind in _walk(directory):
        if not allowed(rel, kind) and not any(rel.startswith(u) for u in out if u.endswith("/")):
            out.append(_key(rel, kind))
    return sorted(out)


def _manifest(directory: Path) -> list[str]:
    return sorted(_key(rel, kind) for rel, kind in _walk(directory) if kind != "other")


def _remove_known(directory: Path, allowed: Callable[[str, str], bool]) -> bool:
    """Remove what ``allowed`` covers in ``directory``, then the folder if it is empty.

    Never removes anything else (an entry that is not covered keeps its folder). True when the whole
    folder is gone.
    """
    files: list[str] = []
    folders: list[str] = []
    for rel, kind in _walk(directory):
        if allowed(rel, kind):
            (folders if kind == "dir" else files).append(rel)
    for rel in files:
        with contextlib.suppress(FileNotFoundError):
            (directory / rel).unlink()
    for rel in sorted(folders, key=lambda r: r.count("/"), reverse=True):
        with contextlib.suppress(OSError):  # not empty: something unknown is inside
            (directory / rel).rmdir()
    try:
        directory.rmdir()
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------
def _forbidden(path: Path) -> str | None:
    """Why ``path`` (resolved) may never be a report directory, or None."""
    cwd = Path.cwd().resolve()
    if path == Path(path.anchor):
        return "it is the file-system root"
    try:
        home: Path | None = Path.home().resolve()
    except (RuntimeError, KeyError):  # no HOME and no passwd entry
        home = None
    if path == home:
        return "it is the home directory"
    if path == cwd:
        return "it is the current working directory"
    if path in cwd.parents:
        return "it contains the current working directory"
    return None


def check_out_dir(out: str | Path) -> Path:
    """Validate ``--out`` and return the directory to write (a symlink resolved to its target).

    Raises :class:`OutDirError` (a ``ValueError`` naming ``--out``) when overtensor must not replace
    it: see the module docstring. The contents are read under the parent directory's lock, so a
    report being committed by another process is never seen half-way.
    """
    return _check_out_dir(out, lock=True)


def _check_out_dir(out: str | Path, *, lock: bool) -> Path:
    text = os.fspath(out)
    if text.strip() == "":
        raise OutDirError("--out must be a directory path, got ''")
    if text in (".", "..", "~") or text.rstrip("/") in (".", "..", "~", ""):
        raise OutDirError(f"--out {text!r} is refused: give a directory of its own, e.g. 'report'")
    try:
        resolved = _resolve(Path(out), text)
        if not lock or not resolved.parent.is_dir():
            return _check_contents(resolved, text)
        with _locked(resolved.parent):
            return _check_contents(resolved, text)
    except OutDirError:
        raise
    except ValueError as exc:
        raise OutDirError(str(exc)) from None
    except OSError as exc:
        raise OutDirError(f"--out {shown(text)} cannot be used: {exc.strerror or exc}") from None


def _resolve(path: Path, text: str) -> Path:
    """``path`` resolved (a symlink to its target), checked for UTF-8, name lengths, special places."""
    check_utf8(text, "--out")
    check_name_lengths(text, "--out")
    if path.is_symlink():
        if not path.exists():
            raise OutDirError(f"--out {text!r} is a dangling symbolic link")
        path = path.resolve()
        check_utf8(path, "--out")
        check_name_lengths(path, "--out")
    resolved = path.resolve()
    reason = _forbidden(resolved)
    if reason is not None:
        raise OutDirError(f"--out {text!r} is refused: {reason}")
    return resolved


def _check_contents(resolved: Path, text: str) -> Path:
    if not resolved.exists():
        return resolved
    if not resolved.is_dir():
        raise OutDirError(f"--out {text!r} exists and is not a directory")
    try:
        empty = not any(resolved.iterdir())
    except OSError as exc:
        raise OutDirError(f"--out {text!r} cannot be read: {exc.strerror or exc}") from None
    if empty:
        return resolved
    info = _read_marker(resolved)
    if info is None:
        raise OutDirError(
            f"--out {text!r} is a non-empty directory that overtensor did not write (no "
            f"{MARKER} marker inside); it is left untouched: choose a new or empty directory"
        )
    unknown = _unknown(resolved, _allowed(info))
    if unknown:
        more = f" and {len(unknown) - 8} more" if len(unknown) > 8 else ""
        raise OutDirError(
            f"--out {text!r} holds entries that its report did not write "
            f"({', '.join(unknown[:8])}{more}); the directory is left untouched: move them "
            "elsewhere, or choose a new or empty directory"
        )
    return resolved


def check_db_outside_out(out: str | Path, db: str | Path) -> Path:
    """``check_out_dir(out)``, and ``ValueError`` when the database ``db`` lies inside it.

    A report replaces ``out``: a database inside it would be deleted by every report (the command
    line and :func:`reports.api.report` both check this here).
    """
    try:
        out_dir = _resolve(Path(out), os.fspath(out))
        db_file = Path(db).resolve()
    except OutDirError:
        raise
    except (ValueError, OSError):
        return check_out_dir(out)  # says what is wrong with out
    if out_dir == db_file or out_dir in db_file.parents:
        raise OutDirError(
            f"--db {os.fspath(db)!r} lies inside --out {os.fspath(out)!r}, which is replaced by "
            "every report"
        )
    return check_out_dir(out)


# ---------------------------------------------------------------------------------------------
# temporary siblings, the lock, the commit
# ---------------------------------------------------------------------------------------------
def _sibling_name(out: Path, role: str, token: str) -> str:
    """``.NAME.tmp-TOKEN`` / ``.NAME.old-TOKEN``, NAME shortened so the whole fits ``NAME_MAX``."""
    tail = f".{role}-{token}"
    budget = name_max(out.parent) - 1 - len(tail.encode())
    return "." + os.fsencode(out.name)[:budget].decode("utf-8", "ignore") + tail


_ROLES = {"temporary": "tmp", "old": "old"}


def _is_stale(directory: Path) -> bool:
    """Created by this program (role and token match the name), its writer gone, only report files."""
    info = _read_marker(directory)
    if info is None:
        return False
    role, token, pid, host = (info.get(k) for k in ("role", "token", "pid", "host"))
    if role not in _ROLES or not isinstance(token, str) or not token:
        return False
    if not directory.name.endswith(f".{_ROLES[role]}-{token}"):
        return False  # a copy or a rename: not the folder this program created
    if not isinstance(pid, int) or host != socket.gethostname():
        return False  # another machine's process (shared file system): cannot tell
    if pid == os.getpid() or _pid_alive(pid):
        return False
    return not _unknown(directory, _allowed(info))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except (OverflowError, ValueError):
        return False
    return True


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``directory``: overtensor's renames in it take turns."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def remove_stale_temp_dirs(parent: Path, *, keep: Path | None = None) -> list[Path]:
    """Remove the ``.*.tmp-*`` / ``.*.old-*`` folders in ``parent`` left by dead overtensor processes.

    Only folders (not symlinks) that pass the module docstring's rules are removed, and of them only
    what a report writes; never ``keep``. Returns the removed paths.
    """
    removed: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    candidates = [
        e
        for e in entries
        if e.name.startswith(".")
        and (".tmp-" in e.name or ".old-" in e.name)
        and not e.is_symlink()
        and e.is_dir()
        and e != keep
    ]
    if not candidates:
        return removed
    with _locked(parent):
        for entry in candidates:
            try:
                info = _read_marker(entry) if _is_stale(entry) else None
                if info is not None and _remove_known(entry, _allowed(info)):
                    removed.append(entry)
            except OSError:  # unreadable: not known to be ours, left alone
                continue
    return removed


def make_temp_dir(out: Path) -> Path:
    """A fresh marked temporary sibling ``.NAME.tmp-TOKEN`` of ``out`` (mode as for a new folder)."""
    for _ in range(100):
        token = secrets.token_hex(_TOKEN_BYTES)
        tmp = out.parent / _sibling_name(out, "tmp", token)
        try:
            tmp.mkdir()
        except FileExistsError:  # pragma: no cover - 2^-48
            continue
        break
    else:  # pragma: no cover
        raise FileExistsError(errno.EEXIST, "no free temporary name", str(out.parent))
    try:
        _write_json_marker(
            tmp,
            {"role": "temporary", "token": token, "pid": os.getpid(), "host": socket.gethostname()},
        )
    except BaseException:
        with contextlib.suppress(OSError):
            (tmp / MARKER).unlink(missing_ok=True)
            tmp.rmdir()
        raise
    return tmp


def commit_out_dir(tmp: Path, out: Path) -> None:
    """Rename the finished ``tmp`` onto ``out``, replacing only what the old report wrote.

    Under the parent directory's lock the rules of :func:`check_out_dir` are checked again (the
    directory may have changed while the runs were computed): the old report is moved aside to a
    marked ``.NAME.old-TOKEN``, ``tmp`` renamed onto ``out``, and the entries the old report's
    marker lists removed. An entry that appeared between the check and the move puts the old report
    back and raises :class:`OutDirError` (nothing is deleted; the runs are in the database).
    """
    parent = _resolve(Path(out), os.fspath(out)).parent
    _write_json_marker(tmp, {"role": "report", "entries": sorted({*_manifest(tmp), MARKER})})
    with _locked(parent):
        target = _check_out_dir(out, lock=False)
        if not target.exists():
            os.replace(tmp, target)
            return
        info = _read_marker(target)
        if info is None:  # an empty directory (check_out_dir refused anything else)
            target.rmdir()
            os.replace(tmp, target)
            return
        token = secrets.token_hex(_TOKEN_BYTES)
        old = target.parent / _sibling_name(target, "old", token)
        moved = {**info, "role": "old", "token": token, "pid": os.getpid()}
        moved["host"] = socket.gethostname()
        if not isinstance(info.get("entries"), list):  # an earlier marker: what its layout covers
            moved["entries"] = [
                _key(rel, kind)
                for rel, kind in _walk(target)
                if kind != "other" and in_report_layout(rel, kind == "dir")
            ]
        _write_json_marker(target, {k: v for k, v in moved.items() if k != "written_by"})
        os.replace(target, old)
        unknown = _unknown(old, _allowed(moved))
        if unknown:  # written into the old report after the check: put it back, delete nothing
            os.replace(old, target)
            _write_json_marker(target, {k: v for k, v in info.items() if k != "written_by"})
            raise OutDirError(
                f"--out {os.fspath(out)!r} changed while the report was written ({', '.join(unknown)} "
                "appeared); it is left as it was: the runs are stored, rerun to write the report"
            )
        try:
            os.replace(tmp, target)
        except BaseException:
            os.replace(old, target)  # the old report back where it was
            _write_json_marker(target, {k: v for k, v in info.items() if k != "written_by"})
            raise
        _remove_known(old, _allowed(moved))
