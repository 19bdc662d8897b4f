"""Paths given by the user (``--out``, ``--db``, ``--load``), checked before anything is written.

* :func:`check_utf8`: on POSIX a path is bytes; bytes that are not UTF-8 reach Python as lone
  surrogates, which cannot be written into the report's UTF-8 files nor printed. Such a path used
  to fail after every run (``UnicodeEncodeError``, exit 4, no report, issue 24 item 5); it is
  refused up front.
* :func:`check_name_lengths`: a component longer than the file system's ``NAME_MAX`` used to fail
  with ``ENAMETOOLONG`` deep inside (exit 4, issue 24 item 16); it is refused with its length.

Both raise ``ValueError`` naming the option; callers turn it into their own error type (bad
usage: exit code 2 on the command line).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_NAME_MAX", "check_name_lengths", "check_utf8", "name_max", "shown"]

#: ``NAME_MAX`` when the file system does not say (the value of Linux, macOS and the BSDs).
DEFAULT_NAME_MAX = 255


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` as printable text: its bytes written as escapes where they are not UTF-8."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return ascii(os.fsencode(text))
    return repr(text)


def check_utf8(path: str | os.PathLike[str], option: str) -> None:
    """``ValueError`` when ``path`` (as given, and made absolute) is not UTF-8 text."""
    text = os.fspath(path)
    for candidate in (text, os.path.abspath(text)):
        try:
            candidate.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"{option} {shown(candidate)} contains bytes that are not UTF-8 text; the report "
                "records its paths in UTF-8 files: use a path whose name is UTF-8"
            ) from None


def name_max(directory: str | os.PathLike[str]) -> int:
    """``NAME_MAX`` of the file system holding ``directory`` (or its nearest existing ancestor)."""
    where = Path(os.path.abspath(os.fspath(directory)))
    for candidate in (where, *where.parents):
        try:
            return int(os.pathconf(candidate, "PC_NAME_MAX"))
        except (OSError, ValueError, AttributeError):
            continue
    return DEFAULT_NAME_MAX


def check_name_lengths(path: str | os.PathLike[str], option: str) -> None:
    """``ValueError`` when a component of ``path`` is longer than ``NAME_MAX`` bytes."""
    absolute = Path(os.path.abspath(os.fspath(path)))
    limit = name_max(absolute.parent)
    for part in absolute.parts:
        size = len(os.fsencode(part))
        if size > limit:
            raise ValueError(
                f"{option} {shown(path)}: the name {shown(part[:40])}... is {size} bytes long; the "
                f"file system allows at most {limit}"
            )
