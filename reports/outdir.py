"""The report directory's safety rules: overtensor replaces only directories it wrote.

Every directory overtensor creates for a report — the final ``--out DIR`` and its temporary sibling
``.DIR.tmp-*`` — carries a marker file :data:`MARKER` (``.overtensor-report``). The rules:

* ``--out DIR`` is accepted when ``DIR`` is absent, an empty directory, or a directory holding the
  marker; anything else (a file, a directory of someone else's files) is refused before any run.
  ``.``, ``..``, ``/``, ``~``, the home directory, the working directory and its parents are always
  refused. A symlink is followed: the directory it points to must obey the same rules and the link
  itself is kept.
* The report is written to ``.DIR.tmp-*`` beside ``DIR`` and renamed onto it at the end; the old
  ``DIR`` (marked, so overtensor's) is moved to ``.DIR.old-*`` and removed.
* A temporary or old sibling left by a killed process (its marker names a process id on this host
  that no longer runs) is removed by the next report written to that parent directory; one whose
  writer is alive, or that carries no marker, is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

__all__ = [
    "MARKER",
    "check_out_dir",
    "commit_out_dir",
    "make_temp_dir",
    "remove_stale_temp_dirs",
]

#: Name of the marker file inside every report directory overtensor creates.
MARKER = ".overtensor-report"


class OutDirError(ValueError):
    """``--out`` cannot be used (bad usage: exit code 2)."""


def _marker_text() -> str:
    return json.dumps(
        {"written_by": "overtensor", "pid": os.getpid(), "host": socket.gethostname()}
    )


def write_marker(directory: Path) -> None:
    """Mark ``directory`` as written by overtensor (the running process)."""
    (directory / MARKER).write_text(_marker_text() + "\n")


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

    Raises :class:`OutDirError` (a ``ValueError`` naming ``--out``) when overtensor must not replace it.
    """
    text = str(out)
    if text.strip() == "":
        raise OutDirError("--out must be a directory path, got ''")
    if text in (".", "..", "~") or text.rstrip("/") in (".", "..", "~", ""):
        raise OutDirError(f"--out {text!r} is refused: give a directory of its own, e.g. 'report'")
    path = Path(out)
    if path.is_symlink():
        if not path.exists():
            raise OutDirError(f"--out {text!r} is a dangling symbolic link")
        path = path.resolve()
    resolved = path.resolve()
    reason = _forbidden(resolved)
    if reason is not None:
        raise OutDirError(f"--out {text!r} is refused: {reason}")
    if resolved.exists():
        if not resolved.is_dir():
            raise OutDirError(f"--out {text!r} exists and is not a directory")
        try:
            empty = not any(resolved.iterdir())
        except OSError as exc:
            raise OutDirError(f"--out {text!r} cannot be read: {exc.strerror or exc}") from None
        if not empty and not (resolved / MARKER).is_file():
            raise OutDirError(
                f"--out {text!r} is a non-empty directory that overtensor did not write (no "
                f"{MARKER} marker inside); it is left untouched: choose a new or empty directory"
            )
    return resolved


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


def _is_stale(directory: Path) -> bool:
    try:
        info = json.loads((directory / MARKER).read_text())
    except (OSError, ValueError):
        return False  # no readable marker: not ours to remove
    if not isinstance(info, dict) or info.get("written_by") != "overtensor":
        return False
    pid, host = info.get("pid"), info.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return False  # another machine's process (shared file system): cannot tell
    return pid != os.getpid() and not _pid_alive(pid)


def remove_stale_temp_dirs(parent: Path, *, keep: Path | None = None) -> list[Path]:
    """Remove ``.*.tmp-*`` / ``.*.old-*`` directories in ``parent`` left by dead overtensor processes.

    Only directories (not symlinks) that carry the marker of a process on this host that no longer
    runs are removed (never ``keep``, the report directory itself). Returns the removed paths.
    """
    removed: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(".") or (".tmp-" not in name and ".old-" not in name):
            continue
        if entry.is_symlink() or not entry.is_dir() or entry == keep:
            continue
        if _is_stale(entry):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def make_temp_dir(out: Path) -> Path:
    """A fresh marked temporary sibling ``.NAME.tmp-*`` of ``out`` (mode as for a new directory)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        write_marker(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; the report is an ordinary directory
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def commit_out_dir(tmp: Path, out: Path) -> None:
    """Rename the finished ``tmp`` onto ``out`` (resolved), replacing only what overtensor wrote.

    The rules of :func:`check_out_dir` are checked again (the directory may have changed while the
    runs were computed); an old report is moved aside to a marked ``.NAME.old-*`` and removed.
    """
    out = check_out_dir(out)
    if not out.exists():
        os.replace(tmp, out)
        return
    if not (out / MARKER).is_file():  # an empty directory (check_out_dir refused anything else)
        out.rmdir()
        os.replace(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()
    write_marker(out)  # this process now owns the old report: a crash below leaves it removable
    os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
