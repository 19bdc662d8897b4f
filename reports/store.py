"""Results store: one SQLite row per experiment run (standard-library :mod:`sqlite3`).

A run is keyed by :func:`run_key`, a SHA-256 of the claim id, the experiment's qualified name, the
config (``dataclasses.asdict`` as sorted JSON, with its class name) and the version of the code
(:func:`code_version`: the package version plus a fingerprint of the source of ``numerics``,
``theory`` and the experiment's own module, so an edited experiment never reuses stale rows). The
database runs in WAL mode and every finished run is committed in its own transaction as soon as it
arrives, so a sweep killed half-way keeps every finished row, and its rerun recomputes none of them.

Rows with ``status = 'ok'`` are reused by later sweeps (unless ``fresh``); rows with
``status = 'error'`` are shown in reports and recomputed on the next sweep, so a transient failure
(memory, a lost worker) does not stick, and a deterministic one is reported again.

The ``artifacts`` table caches what a report draws from the runs (each claim's figure, each typeset
formula) under the hash of their inputs (:mod:`reports.artifacts`), so a report over stored runs does
not draw them again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import json
import math
import os
import sqlite3
import sys
import time
import types
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .paths import check_name_lengths, check_utf8

__all__ = [
    "APPLICATION_ID",
    "ResultStore",
    "StoreError",
    "StoredRun",
    "code_version",
    "config_json",
    "package_version",
    "run_key",
    "to_jsonable",
]

#: ``PRAGMA user_version`` of the current schema. History: 1 = the ``runs`` table (user_version only);
#: 2 = the same table, the file marked with :data:`APPLICATION_ID`; 3 = the ``artifacts`` table added
#: (the report's cached figures and typeset math, :mod:`reports.artifacts`). Older files are migrated
#: when opened (tables added, rows kept); a newer one is refused.
SCHEMA_VERSION = 3

#: ``PRAGMA application_id`` of an overtensor results database (ASCII "OvTn"): a foreign SQLite file
#: is recognised and refused instead of being modified.
APPLICATION_ID = 0x4F76546E

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key         TEXT PRIMARY KEY,
    claim_id    TEXT NOT NULL,
    experiment  TEXT NOT NULL,
    config      TEXT NOT NULL,
    version     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    metrics     TEXT,
    error       TEXT,
    wall_time   REAL NOT NULL,
    worker      TEXT,
    created_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_claim ON runs (claim_id);
CREATE TABLE IF NOT EXISTS artifacts (
    key         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('figure', 'math')),
    claim_id    TEXT NOT NULL,
    blob        BLOB NOT NULL,
    meta        TEXT,
    created_at  REAL NOT NULL
);
"""


def package_version() -> str:
    """The installed ``overtensor`` version (``"unknown"`` when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("overtensor")
    except PackageNotFoundError:
        return "unknown"


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _source_digest(files: list[tuple[str, str]]) -> str:
    """SHA-256 over ``(name, content digest)`` of ``(name, path)`` pairs (names are relative)."""
    h = hashlib.sha256()
    for name, path in sorted(set(files)):
        try:
            st = os.stat(path)
        except OSError:
            continue
        h.update(name.encode())
        h.update(_file_digest(path, st.st_mtime_ns, st.st_size).encode())
    return h.hexdigest()


def _package_files(name: str) -> list[tuple[str, str]]:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    files = []
    for root in spec.submodule_search_locations:
        base = os.path.dirname(os.path.abspath(root))
        for dirpath, _, names in os.walk(root):
            for n in names:
                if n.endswith(".py"):
                    path = os.path.join(dirpath, n)
                    files.append((os.path.relpath(path, base), path))
    return files


def _claim_modules(module_name: str) -> list[str]:
    """``module_name`` and the claim modules it uses, transitively, in a stable order.

    A claim file's experiment may call helpers shared by several claims (``reports/claims/**/_*.py``):
    a module is followed when one of its globals is a module, function or class defined in
    :mod:`reports.claims` or :mod:`reports.loaded`.
    """
    roots = ("reports.claims", "reports.loaded")
    seen: list[str] = []
    todo = [module_name]
    while todo:
        name = todo.pop()
        if name in seen or name not in sys.modules:
            continue
        seen.append(name)
        for value in list(vars(sys.modules[name]).values()):
            other = (
                value.__name__
                if isinstance(value, types.ModuleType)
                else getattr(value, "__module__", None)
            )
            if isinstance(other, str) and other.startswith(roots) and other not in seen:
                todo.append(other)
    return sorted(seen)


def code_version(experiment: Any) -> str:
    """``"<package version>+src.<12 hex>"``: the version of the code behind ``experiment``.

    The fingerprint hashes every ``.py`` file of :mod:`numerics` and :mod:`theory`, the module that
    defines ``experiment`` and the claim modules it uses (the helpers shared by claims,
    :func:`_claim_modules`) — contents and names, not timestamps or locations — so rows computed by
    older code are never reused. A claim file loaded from outside the package with ``--load``
    (:mod:`reports.loading`) is hashed by its content at every call, so editing it never reuses stale
    rows whatever its timestamps say. Reports' own modules (runner, rendering) are left out: they do
    not change metrics.
    """
    files = _package_files("numerics") + _package_files("theory")
    digest = _source_digest(files)
    module_name = getattr(experiment, "__module__", "") or ""
    for name in _claim_modules(module_name) if module_name in sys.modules else []:
        mod_file = getattr(sys.modules[name], "__file__", None)
        if not mod_file:
            continue
        # hashed by content every time, without the (mtime, size) cache: an edit that keeps both
        # (a copy with preserved times, a same-size change within the clock's resolution) is seen
        try:
            with open(mod_file, "rb") as fh:
                own = hashlib.sha256(fh.read()).hexdigest()
        except OSError:
            own = "unreadable"
        digest = hashlib.sha256(f"{digest}|{name}|{own}".encode()).hexdigest()
    return f"{package_version()}+src.{digest[:12]}"


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def to_jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON types: numpy scalars/arrays to Python, tuples to lists.

    Non-finite floats stay floats (``json`` writes them as ``NaN``/``Infinity``); use
    :func:`strict_json` for files that must be standard JSON.
    """
    kind = type(value)  # plain JSON first: metrics read back from the store are nothing else
    if kind in _JSON_SCALARS:
        return value
    if kind is list or kind is tuple:
        return [to_jsonable(v) for v in value]
    if kind is dict:
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays and scalars
        return to_jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value
    raise TypeError(f"value of type {type(value).__name__} is not JSON-serialisable: {value!r}")


def strict_json(value: Any) -> Any:
    """Like :func:`to_jsonable`, with non-finite floats replaced by ``None`` (standard JSON)."""
    return _finite_only(to_jsonable(value))


def _finite_only(value: Any) -> Any:
    """Plain JSON ``value`` (from :func:`to_jsonable`) with non-finite floats replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_only(v) for v in value]
    return value


def config_json(config: Any) -> str:
    """Canonical JSON of a config: ``{"type": qualified class name, "fields": asdict}``, sorted keys."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"config must be a dataclass instance, got {config!r}")
    cls = type(config)
    payload = {
        "type": f"{cls.__module__}.{cls.__qualname__}",
        "fields": to_jsonable(dataclasses.asdict(config)),
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def experiment_name(fn: Any) -> str:
    """``module.qualname`` of an experiment function."""
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def run_key(claim_id: str, experiment: str, config: Any, version: str) -> str:
    """SHA-256 key of one run: claim id + experiment name + config JSON + package version."""
    payload = json.dumps(
        {
            "claim": claim_id,
            "experiment": experiment,
            "config": config_json(config),
            "version": version,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class StoredRun:
    """One row of the ``runs`` table."""

    key: str
    claim_id: str
    experiment: str
    config: str
    version: str
    status: str
    metrics: dict[str, Any] | None
    error: str | None
    wall_time: float
    worker: dict[str, Any] | None
    created_at: float


class StoreError(ValueError):
    """The database file cannot be used (foreign, newer, corrupted, not SQLite): bad usage."""


def _inspect(conn: sqlite3.Connection, path: str) -> tuple[int, int, list[str]]:
    """``(application_id, user_version, table names)`` of an open database, read-only."""
    app = int(conn.execute("PRAGMA application_id").fetchone()[0])
    ver = int(conn.execute("PRAGMA user_version").fetchone()[0])
    tables = [
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    ]
    return app, ver, tables


def _legacy_layout(conn: sqlite3.Connection) -> bool:
    """True when the ``runs`` table has exactly the columns overtensor writes (schema 1)."""
    cols = [r[1] for r in conn.execute("PRAGMA table_info(runs)").fetchall()]
    expected = [c.strip() for c in ResultStore._COLUMNS.split(",")]
    return cols == expected


def _prepare_schema(conn: sqlite3.Connection, path: str) -> None:
    """Check the file before touching it; create, migrate or refuse (issue 15, item 5).

    * a new or empty file: create the schema and mark it (``application_id``, ``user_version``);
    * our ``application_id``: refuse a newer ``user_version``, migrate an older one;
    * no ``application_id`` but exactly our schema-1 ``runs`` table: a database of an older
      overtensor, migrated (marked);
    * anything else is someone else's file: refused, unchanged.
    A damaged file fails ``PRAGMA quick_check`` and is refused with its first problem.
    """
    app, ver, tables = _inspect(conn, path)
    if app not in (0, APPLICATION_ID):
        raise StoreError(
            f"{path!r} is not an overtensor results database (SQLite application_id "
            f"{app:#010x}, expected {APPLICATION_ID:#010x}); it was left unchanged"
        )
    if app == 0 and tables and not (tables == ["runs"] and ver <= 1 and _legacy_layout(conn)):
        raise StoreError(
            f"{path!r} is an SQLite database of another program (tables: "
            f"{', '.join(sorted(tables))}; user_version {ver}); it was left unchanged"
        )
    if ver > SCHEMA_VERSION:
        raise StoreError(
            f"{path!r} has results schema version {ver}, newer than this overtensor's "
            f"{SCHEMA_VERSION}: upgrade overtensor or use another --db; it was left unchanged"
        )
    if tables:
        check = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        if check != "ok":
            raise StoreError(f"{path!r} is damaged (SQLite quick_check: {check})")
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable against a killed process (only an OS crash can lose the last commits)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(
        _SCHEMA
    )  # creates what is missing: 1 -> 2 changes nothing, 2 -> 3 adds artifacts
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


_WRITE_FAILURES = ("full", "readonly", "read-only", "unable to open", "disk i/o", "locked")


def _db_files(file: Path) -> list[str]:
    """The database file and the files SQLite keeps beside it."""
    return [str(file)] + [f"{file}{suffix}" for suffix in ("-wal", "-shm", "-journal")]


def _make_parents(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents; the ones created, deepest first."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_created(file: Path, existed: bool, before: set[str], made: list[Path]) -> list[str]:
    """Undo a failed creation; the files and folders it created that are left (named in the message).

    Only a database file this call created and that is still empty is removed, with the files beside
    it that appeared since: an empty main file holds no database yet (setting WAL mode writes its
    header), so no other process can have rows in them. Nothing of an existing database is touched.
    """
    created = [n for n in _db_files(file) if n not in before and os.path.lexists(n)]
    try:
        empty = not existed and (not file.exists() or file.stat().st_size == 0)
    except OSError:
        empty = False
    if not empty:
        return created if not existed else []
    left = []
    for name in created:
        try:
            os.unlink(name)
        except OSError:
            left.append(name)
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            left.append(str(folder))
    return left


def _unwritable(path: Path) -> str:
    """Why ``path`` (the database file, or the folder a new one goes in) cannot be written, or ''.

    WAL mode writes ``-wal``/``-shm`` files beside the database, so its folder must be writable too.
    """
    for target in (path, path.parent) if path.is_file() else (path,):
        if os.access(target, os.W_OK):
            continue
        try:
            read_only = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
        except (OSError, AttributeError):
            read_only = False
        where = "" if target == path else f" (its folder {str(target)!r})"
        return f"read-only file system{where}" if read_only else f"permission denied{where}"
    return ""


def _open_failure(path: str, exc: sqlite3.Error, existed: bool, left: list[str]) -> str:
    """The message of a database that could not be opened or created; says what was left behind."""
    text = str(exc)
    if left:
        state = f"files it created could not be removed: {', '.join(left)}"
    elif existed:
        state = "it was left unchanged"
    else:
        state = "the files it had started to create were removed"
    if existed and not any(w in text.lower() for w in _WRITE_FAILURES):
        return f"db: {path!r} is not a usable SQLite results database ({text}); {state}"
    what = "open" if existed else "create"
    return f"db: cannot {what} the results database {path!r} ({text}); {state}"


def _json_field(name: str, text: Any, required: bool) -> dict[str, Any] | None:
    """A JSON-object column (``metrics``, ``worker``); ``ValueError`` when it is damaged."""
    if text is None:
        if required:
            raise ValueError(f"{name} is missing in a row with status 'ok'")
        return None
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{name} is a JSON {type(value).__name__}, not an object")
    return value


def _real_field(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not a number ({value!r})") from None


class ResultStore:
    """SQLite results store (WAL mode; one transaction per finished run).

    Parameters
    ----------
    path : str or Path
        Database file; its parent directory is created. ``":memory:"`` for a throwaway store.
    timeout : float
        Seconds to wait for a lock held by another writer.
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self.path = str(path)
        self.unreadable: dict[str, str] = {}
        """Keys of stored rows that could not be read (invalid JSON, ``ok`` without metrics, ...),
        with why: :meth:`get`, :meth:`get_many` and :meth:`rows` treat them as missing."""
        if self.path.strip() == "":
            raise StoreError("db must be a file path (or ':memory:'), got ''")
        try:
            check_utf8(self.path, "db")
            if self.path != ":memory:":
                check_name_lengths(self.path, "db")
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        if self.path == ":memory:":
            self._conn = sqlite3.connect(self.path, isolation_level=None)
            _prepare_schema(self._conn, self.path)
            return
        file = Path(self.path)
        existed = file.exists()
        before = {p for p in _db_files(file) if os.path.lexists(p)}
        made = _make_parents(file.parent)
        try:
            self._open(file, existed, timeout)
        except BaseException as exc:
            left = _remove_created(file, existed, before, made)
            if isinstance(exc, sqlite3.Error):
                raise StoreError(_open_failure(self.path, exc, existed, left)) from exc
            raise

    def _open(self, file: Path, existed: bool, timeout: float) -> None:
        problem = _unwritable(file if existed else file.parent)
        if problem:
            state = "it was left unchanged" if existed else "nothing was created"
            raise StoreError(
                f"db: {self.path!r} cannot be written ({problem}): results must be stored; choose "
                f"a --db on a writable file system; {state}"
            )
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            _prepare_schema(self._conn, self.path)
        except BaseException:
            self._conn.close()
            raise

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    # -- reads -----------------------------------------------------------------------------
    @staticmethod
    def _row(row: tuple[Any, ...]) -> StoredRun:
        """One row as a :class:`StoredRun`; ``ValueError`` naming the field when it is damaged."""
        (key, claim_id, exp, config, version, status, metrics, error, wall, worker, created) = row
        return StoredRun(
            key=key,
            claim_id=claim_id,
            experiment=exp,
            config=config,
            version=version,
            status=status,
            metrics=_json_field("metrics", metrics, status == "ok"),
            error=error,
            wall_time=_real_field("wall_time", wall),
            worker=_json_field("worker", worker, False),
            created_at=_real_field("created_at", created),
        )

    def _readable(self, rows: Iterable[tuple[Any, ...]]) -> Iterator[StoredRun]:
        """The rows that can be read; the others are recorded in :attr:`unreadable` and skipped."""
        for row in rows:
            try:
                run = self._row(row)
            except ValueError as exc:
                self.unreadable[str(row[0])] = str(exc)
                continue
            self.unreadable.pop(run.key, None)
            yield run

    _COLUMNS = (
        "key, claim_id, experiment, config, version, status, metrics, error, wall_time, worker, "
        "created_at"
    )

    def get(self, key: str) -> StoredRun | None:
        """The row of ``key``; None when there is none or it cannot be read (:attr:`unreadable`)."""
        cur = self._conn.execute(f"SELECT {self._COLUMNS} FROM runs WHERE key = ?", (key,))
        return next(self._readable(cur.fetchall()), None)

    def get_many(self, keys: Iterable[str]) -> dict[str, StoredRun]:
        """The readable rows of ``keys`` by key (unreadable ones: :attr:`unreadable`)."""
        keys = list(keys)
        out: dict[str, StoredRun] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            cur = self._conn.execute(
                f"SELECT {self._COLUMNS} FROM runs WHERE key IN ({marks})", chunk
            )
            for run in self._readable(cur.fetchall()):
                out[run.key] = run
        return out

    def rows(self, claim_id: str | None = None) -> list[StoredRun]:
        """The readable rows (of ``claim_id``), oldest first."""
        if claim_id is None:
            cur = self._conn.execute(f"SELECT {self._COLUMNS} FROM runs ORDER BY created_at")
        else:
            cur = self._conn.execute(
                f"SELECT {self._COLUMNS} FROM runs WHERE claim_id = ? ORDER BY created_at",
                (claim_id,),
            )
        return list(self._readable(cur.fetchall()))

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    # -- writes ----------------------------------------------------------------------------
    def _check_schema_unchanged(self) -> None:
        """``StoreError`` when another process changed the file's schema since it was opened.

        Called inside each write transaction (issue 24 item 15: an older process kept writing rows
        after a newer one had migrated the database): two cheap ``PRAGMA`` reads.
        """
        app = int(self._conn.execute("PRAGMA application_id").fetchone()[0])
        ver = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if (app, ver) != (APPLICATION_ID, SCHEMA_VERSION):
            raise StoreError(
                f"db: {self.path!r} changed to results schema version {ver} (application_id "
                f"{app:#010x}) while this overtensor (schema {SCHEMA_VERSION}) was writing to it; "
                "it stopped writing: the rows written before are kept (upgrade overtensor or use "
                "another --db)"
            )

    def put(
        self,
        key: str,
        *,
        claim_id: str,
        experiment: str,
        config: str,
        version: str,
        metrics: Mapping[str, Any] | None,
        error: str | None,
        wall_time: float,
        worker: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Insert or replace one run, committed in its own transaction.

        Returns the metrics exactly as a later read gives them back (keys sorted, plain values), so
        that a judge sees the same objects whether a run is fresh or reused (``None`` for an error).
        """
        if (metrics is None) == (error is None):
            raise ValueError("exactly one of metrics and error must be given")
        status = "ok" if error is None else "error"
        metrics_text = None if metrics is None else json.dumps(to_jsonable(metrics), sort_keys=True)
        values = (
            key,
            claim_id,
            experiment,
            config,
            version,
            status,
            metrics_text,
            error,
            float(wall_time),
            None if worker is None else json.dumps(to_jsonable(worker), sort_keys=True),
            time.time(),
        )
        with self._conn:  # BEGIN ... COMMIT (ROLLBACK on error)
            self._conn.execute("BEGIN IMMEDIATE")
            self._check_schema_unchanged()
            self._conn.execute(
                f"INSERT OR REPLACE INTO runs ({self._COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        return None if metrics_text is None else json.loads(metrics_text)

    def delete_claim(self, claim_id: str) -> int:
        """Delete every run of ``claim_id`` and its cached artifacts; returns the runs deleted."""
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._check_schema_unchanged()
            cur = self._conn.execute("DELETE FROM runs WHERE claim_id = ?", (claim_id,))
            self._conn.execute("DELETE FROM artifacts WHERE claim_id = ?", (claim_id,))
        return int(cur.rowcount)

    # -- cached report artifacts (reports.artifacts) ------------------------------------------
    def get_artifacts(self, keys: Iterable[str]) -> dict[str, tuple[bytes, str | None]]:
        """``{key: (blob, meta)}`` of the cached figures/SVGs among ``keys`` (absent keys left out)."""
        keys = list(keys)
        out: dict[str, tuple[bytes, str | None]] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            cur = self._conn.execute(
                f"SELECT key, blob, meta FROM artifacts WHERE key IN ({marks})", chunk
            )
            for key, blob, meta in cur.fetchall():
                out[key] = (bytes(blob), meta)
        return out

    def put_artifact(
        self, key: str, *, kind: str, claim_id: str, blob: bytes, meta: str | None = None
    ) -> None:
        """Insert or replace one cached artifact (``kind`` ``"figure"`` or ``"math"``)."""
        if kind not in ("figure", "math"):
            raise ValueError(f"kind must be 'figure' or 'math', got {kind!r}")
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute(
                "INSERT OR REPLACE INTO artifacts (key, kind, claim_id, blob, meta, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key, kind, claim_id, sqlite3.Binary(blob), meta, time.time()),
            )

    def count_artifacts(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM artifacts").fetchone()[0])
