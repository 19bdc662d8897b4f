"""Claims from outside the package: ``--load PATH|MODULE`` and the ``overtensor.claims`` entry points.

A researcher's claim is a Python file that declares a claim with :func:`~reports.registry.declare`
and attaches its functions with the declaration's decorators (the same shape as the claims in
:mod:`reports.claims`; docs/writing-a-claim.md).
Three ways to bring such files in:

* :func:`load` with a **file** (``my_claim.py``), a **folder** (every ``*.py`` in it whose name does
  not start with ``_``, in name order) or a **dotted module name** (``mypkg.claims``, importable from
  ``sys.path``) — the CLI's repeatable ``--load`` option and the ``load=`` argument of
  :mod:`reports.api`;
* the entry-point group :data:`ENTRY_POINT_GROUP` (``overtensor.claims``): every installed
  distribution that declares, in its ``pyproject.toml``, ::

      [project.entry-points."overtensor.claims"]
      mine = "mypkg.claims"

  has that module imported by :func:`load_entry_points` (called by
  :func:`~reports.catalog.all_claims` and :func:`~reports.catalog.get_claim`), as pytest finds
  its plugins through ``pytest11``.

A file is imported as the module ``reports.loaded.<stem>__<base32 of its absolute path>``. The name
is a pure function of the path, and :mod:`reports.loaded` installs an import hook that maps such a
name back to its file, so a worker process of any executor (a fresh ``spawn``/``forkserver``
process, a Dask worker on the same file system) can unpickle the claim's experiment function by
importing it. The module's ``__file__`` is the loaded file, so the results store fingerprints its
content (:func:`reports.store.code_version`): editing the file never reuses stale rows.

Every problem is a :class:`LoadError` (a ``ValueError``) whose message names the file or module:
a missing path, a syntax error, a relative import (not supported: a loaded file has no package), an
exception raised while importing, a claim id that is already registered, or a target that
registers no claim. The CLI turns it into exit code 2.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .failures import describe, is_interrupt, message
from .paths import check_utf8
from .registry import REGISTRY, ClaimDefinitionError, discard_pending, seal

__all__ = [
    "ENTRY_POINT_GROUP",
    "LOADED_PACKAGE",
    "LoadError",
    "load",
    "load_entry_points",
    "loaded_sources",
    "with_loaded_sources",
    "module_name_for",
    "path_for_module",
]

ENTRY_POINT_GROUP = "overtensor.claims"
LOADED_PACKAGE = "reports.loaded"

# module name -> (sha256 of the source it was imported from, claim ids it registered)
_LOADED: dict[str, tuple[str, tuple[str, ...]]] = {}
_ENTRY_POINTS_DONE = False


class LoadError(ValueError):
    """A claim file, folder or module could not be loaded (the message names it)."""


# ---------------------------------------------------------------------------------------------
# file path <-> synthetic module name
# ---------------------------------------------------------------------------------------------
def _identifier(text: str) -> str:
    out = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in text).strip("_") or "claims"
    out = out.replace("__", "_")
    return out if not out[0].isdigit() else f"m_{out}"


def module_name_for(path: str | Path) -> str:
    """The stable module name under which the file ``path`` is imported.

    ``reports.loaded.<stem>__<base32 of the absolute path>``: the same file always gets the same
    name (in every process), and :func:`path_for_module` recovers the path from the name.
    """
    p = Path(path).resolve()
    code = base64.b32encode(str(p).encode("utf-8")).decode("ascii").rstrip("=").lower()
    return f"{LOADED_PACKAGE}.{_identifier(p.stem)}__{code}"


def path_for_module(name: str) -> Path | None:
    """The file behind a :func:`module_name_for` name, or None when ``name`` is not one."""
    prefix = LOADED_PACKAGE + "."
    if not name.startswith(prefix) or "." in name[len(prefix) :]:
        return None
    leaf = name[len(prefix) :]
    if "__" not in leaf:
        return None
    code = leaf.rsplit("__", 1)[1].upper()
    try:
        raw = base64.b32decode(code + "=" * (-len(code) % 8))
        return Path(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


# ---------------------------------------------------------------------------------------------
# checks before import
# ---------------------------------------------------------------------------------------------
def _check_source(path: Path, source: str) -> None:
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise LoadError(f"{path}, line {exc.lineno}: syntax error: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            dots = "." * node.level
            what = f"from {dots}{node.module or ''} import ..."
            raise LoadError(
                f"{path}, line {node.lineno}: relative import `{what}` is not supported in a "
                "loaded claim file (it is imported on its own, outside any package); use an "
                "absolute import of an installed package, or put the helper in the same file"
            )


def _import_failure(where: str, exc: BaseException, path: Path | None) -> LoadError:
    frames = traceback.extract_tb(exc.__traceback__)
    line = ""
    if path is not None:
        mine = [f for f in frames if f.filename == str(path)]
        if mine:
            line = f", line {mine[-1].lineno}"
    return LoadError(f"{where}{line}: importing it failed: {describe(exc)}")


# ---------------------------------------------------------------------------------------------
# import with registry bookkeeping
# ---------------------------------------------------------------------------------------------
def _owner(claim_id: str) -> str:
    for name, (_, ids) in _LOADED.items():
        if claim_id in ids:
            path = path_for_module(name)
            return str(path) if path is not None else name
    claim = REGISTRY.get(claim_id)
    module = getattr(getattr(claim, "experiment", None), "__module__", None)
    return module or "an earlier import"


def _import_registering(name: str, where: str, path: Path | None, digest: str) -> list[str]:
    """Import module ``name``; return the claim ids it registered; LoadError on any failure."""
    before = dict(REGISTRY)
    try:
        importlib.import_module(name)
        seal()  # the file's declarations become claims
    except BaseException as exc:  # even sys.exit at import is a load error (not Ctrl-C)
        sys.modules.pop(name, None)
        # undo a half-done registration
        discard_pending()
        for cid in [c for c in REGISTRY if c not in before]:
            del REGISTRY[cid]
        if is_interrupt(exc):
            raise
        if isinstance(exc, ClaimDefinitionError) and not str(exc).startswith("duplicate"):
            raise LoadError(f"{where}: {exc}") from None
        msg = message(exc)
        if isinstance(exc, ValueError) and msg.startswith("duplicate claim id"):
            cid = msg.split("'")[1] if "'" in msg else msg
            raise LoadError(
                f"{where}: duplicate claim id {cid!r} (already registered by {_owner(cid)}); "
                "claim ids must be unique"
            ) from None
        raise _import_failure(where, exc, path) from None
    new = [c for c in REGISTRY if c not in before]
    _LOADED[name] = (digest, tuple(new))
    return new


def _forget(name: str) -> None:
    _, ids = _LOADED.pop(name, ("", ()))
    for cid in ids:
        REGISTRY.pop(cid, None)
    sys.modules.pop(name, None)


def _load_file(path: Path) -> list[str]:
    try:
        check_utf8(path, "--load")
    except ValueError as exc:  # a file of a loaded folder
        raise LoadError(str(exc)) from None
    try:
        source_bytes = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        source = source_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{path}: not UTF-8 text: {exc}") from None
    _check_source(path, source)
    digest = hashlib.sha256(source_bytes).hexdigest()
    name = module_name_for(path)
    if name in _LOADED:
        if _LOADED[name][0] == digest and name in sys.modules:
            return list(_LOADED[name][1])  # already loaded, unchanged
        _forget(name)  # edited since: import it again (its claims are replaced)
    else:
        sys.modules.pop(name, None)  # imported by a worker hook earlier: import it afresh
    importlib.import_module(LOADED_PACKAGE)  # installs the hook that finds the file
    return _import_registering(name, str(path), path, digest)


def _load_module(name: str) -> list[str]:
    if name in _LOADED and name in sys.modules:
        return list(_LOADED[name][1])
    if name in sys.modules:  # imported before (e.g. by another plugin): its claims are registered
        ids = [
            cid
            for cid, claim in REGISTRY.items()
            if getattr(claim.experiment, "__module__", None) == name
        ]
        if ids:
            _LOADED[name] = ("", tuple(ids))
            return ids
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        raise LoadError(f"module {name!r}: cannot be found: {exc}") from None
    if spec is None:
        raise LoadError(
            f"--load {name!r}: no such file, folder or importable module (a path must exist; a "
            "module must be importable from sys.path)"
        )
    origin = Path(spec.origin) if spec.origin and spec.has_location else None
    if origin is not None and origin.suffix == ".py":
        try:
            _check_source(origin, origin.read_text(encoding="utf-8"))
        except OSError:
            pass
    where = f"module {name!r}" + (f" ({origin})" if origin is not None else "")
    return _import_registering(name, where, origin, "")


def _looks_like_path(target: str) -> bool:
    return target.endswith(".py") or os.sep in target or "/" in target or target in (".", "..")


def load(targets: str | Path | Iterable[str | Path]) -> list[str]:
    """Import claim files, folders or modules so that their claims register.

    Parameters
    ----------
    targets : str, Path or iterable of them
        Each a ``.py`` file, a folder (its ``*.py`` files not starting with ``_``, in name order),
        or a dotted module name. Loading the same unchanged file twice is a no-op; a file edited
        since its last load is imported again and its claims replace the old ones.

    Returns
    -------
    list of str
        The ids of the claims the targets registered (in load order).

    Raises
    ------
    LoadError
        A missing path, a syntax error, a relative import, a failing import, a duplicate claim id,
        or a target that registers no claim; the message names the file or module.
    """
    from . import claims  # noqa: F401  (built-in claims first, so duplicates are detected)

    if isinstance(targets, (str, Path)):
        targets = [targets]
    ids: list[str] = []
    for target in targets:
        text = str(target)
        try:
            check_utf8(text, "--load")
            path = Path(text).expanduser()
        except ValueError as exc:
            raise LoadError(str(exc)) from None
        except RuntimeError:  # ~user that does not exist
            raise LoadError(
                f"--load {text!r}: the home directory of {text.split('/', 1)[0]!r} is not known"
            ) from None
        if isinstance(target, Path) or path.exists() or _looks_like_path(text):
            if path.is_dir():
                files = sorted(
                    p for p in path.iterdir() if p.suffix == ".py" and not p.name.startswith("_")
                )
                if not files:
                    raise LoadError(
                        f"{path}: folder holds no .py file (names starting with _ skipped)"
                    )
                new = [cid for f in files for cid in _load_file(f.resolve())]
            elif path.is_file():
                if path.suffix != ".py":
                    raise LoadError(f"{path}: not a .py file")
                new = _load_file(path.resolve())
            else:
                raise LoadError(f"--load {text!r}: no such file or folder")
        else:
            new = _load_module(text)
        if not new:
            raise LoadError(
                f"{text}: declares no claim (write claim = reports.registry.declare(...) at "
                "module level; docs/writing-a-claim.md)"
            )
        ids.extend(new)
    return ids


def load_entry_points(*, force: bool = False) -> list[str]:
    """Import every module of the ``overtensor.claims`` entry-point group (once per process).

    Returns the claim ids registered by this call. A failing entry point is a :class:`LoadError`
    naming the distribution and the module.
    """
    global _ENTRY_POINTS_DONE
    if _ENTRY_POINTS_DONE and not force:
        return []
    _ENTRY_POINTS_DONE = True
    from importlib.metadata import entry_points

    ids: list[str] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        module = ep.value.split(":", 1)[0].strip()
        dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
        try:
            ids.extend(_load_module(module))
        except LoadError as exc:
            raise LoadError(
                f"entry point {ep.name!r} of distribution {dist!r} (group {ENTRY_POINT_GROUP}): "
                f"{exc}"
            ) from None
    return ids


def loaded_sources() -> dict[str, str]:
    """Provenance of the claims loaded from outside the package in this process.

    ``{file or module: "sha256 <12 hex> (claim ids)"}``, the hash taken of the source file as it is
    now (the report records what produced its claims).
    """
    out: dict[str, str] = {}
    for name, (_, ids) in _LOADED.items():
        path = path_for_module(name)
        module = sys.modules.get(name)
        file = path if path is not None else getattr(module, "__file__", None)
        label = str(path) if path is not None else name
        try:
            with open(file, "rb") as fh:  # type: ignore[arg-type]
                digest = "sha256 " + hashlib.sha256(fh.read()).hexdigest()[:12]
        except (OSError, TypeError):
            digest = "source not readable"
        out[label] = f"{digest} ({', '.join(ids)})"
    return out


def with_loaded_sources(provenance: dict[str, Any]) -> dict[str, Any]:
    """``provenance`` plus ``"claims_loaded"``: :func:`loaded_sources`, when anything was loaded."""
    sources = loaded_sources()
    return {**provenance, "claims_loaded": sources} if sources else provenance


def load_all(targets: Sequence[str | Path] | None) -> list[str]:
    """Entry points, then ``targets`` (the CLI's ``--load`` values); the registered ids."""
    ids = load_entry_points()
    if targets:
        ids += load(targets)
    return ids
