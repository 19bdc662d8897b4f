"""Namespace of claim files loaded by path (see :mod:`reports.loading`).

A file ``/some/where/my_claim.py`` loaded with ``--load`` becomes the module
``reports.loaded.my_claim__<base32 of its path>``. Importing this module installs an import hook
(a :class:`importlib.abc.MetaPathFinder`) that maps such a name back to its file, so any process —
the CLI, or a fresh executor worker unpickling a loaded claim's experiment function — imports the
same file under the same name. The file's source is executed directly (no ``__pycache__`` is
written beside a user's file, and no stale bytecode can be picked up after an edit).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

__path__: list[str] = []  # a package without a directory: its children come from the hook


class _SourceLoader(importlib.abc.Loader):
    def __init__(self, path: str) -> None:
        self.path = path

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # default module creation

    def exec_module(self, module: ModuleType) -> None:
        with open(self.path, "rb") as fh:
            source = fh.read()
        exec(compile(source, self.path, "exec", dont_inherit=True), module.__dict__)

    def get_source(self, fullname: str) -> str:
        with open(self.path, encoding="utf-8") as fh:
            return fh.read()


class _LoadedClaimFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        from .loading import path_for_module

        file = path_for_module(fullname)
        if file is None or not file.is_file():
            return None
        return importlib.util.spec_from_file_location(
            fullname, str(file), loader=_SourceLoader(str(file))
        )


if not any(isinstance(f, _LoadedClaimFinder) for f in sys.meta_path):
    sys.meta_path.append(_LoadedClaimFinder())
