"""Running ``overtensor`` in-process for the reports tests."""

from __future__ import annotations

import os
from typing import Any

from reports.cli import main


def run_main(capsys: Any, *argv: Any, exits: bool = False) -> tuple[Any, str, str]:
    """``main(argv)`` as the shell runs it: ``(exit code, stdout, stderr)``.

    Arguments are passed as text (``bytes`` through :func:`os.fsdecode`, anything else through
    ``str``). ``main`` returns its exit code; a ``SystemExit`` escaping it is a fault, returned as
    the text ``"SystemExit(code)"`` so that a test expecting a code fails on it. ``exits=True`` for
    the commands where argparse itself exits (``--help``, ``--version``, its own usage errors):
    the exit code is then returned as it is.
    """
    try:
        code = main([os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if exits else f"SystemExit({exc.code!r})"
    out = capsys.readouterr()
    return code, out.out, out.err
