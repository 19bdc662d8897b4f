"""The report's figures and typeset math, drawn once per input and cached in the results store.

A claim's figure depends only on its ``plot`` function, the prediction and its runs; a formula's SVG
only on its LaTeX. Both are cached in the results store's ``artifacts`` table
(:meth:`reports.store.ResultStore.put_artifact`) under the SHA-256 of everything they are drawn
from (:func:`figure_key`, :func:`math_key`):

* figure: the claim id, the plot function's name and code version (:func:`reports.store.code_version`:
  the claim modules it uses, :mod:`numerics`, :mod:`theory`, the package version), the prediction, every
  run's config, metrics, error and wall time, the figure size and resolution, the drawing settings
  (:data:`FIGURE_RC`, the smallest font sizes), the matplotlib version and settings (``rcParams``),
  the package's data files a claim may read (:func:`claim_data_digest`), and this module's source
  (how a figure is drawn and saved);
* math: the LaTeX, the font size, the matplotlib version and settings, and :mod:`reports.mathsvg`'s
  source.

Whether a run was reused from the store is not part of a key: a report drawn from fresh runs and the
next one over the same stored runs share their figures. Failures (a plot that raised, LaTeX that
mathtext cannot parse) are not cached; they are drawn again next time.

:func:`render_artifacts` looks every figure and formula up and draws the missing ones, in a process
pool when more than one is missing (each takes 0.1–1 s of matplotlib), else in this process.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import pickle
import sqlite3
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .failures import print_traceback
from .mathsvg import typeset_svg
from .procs import terminate_pool, worker_init
from .registry import RunResult
from .store import ResultStore, code_version, config_json, experiment_name, to_jsonable

__all__ = [
    "FIGURE_DPI",
    "FIGURE_RC",
    "FIGURE_SIZE",
    "MIN_FONTSIZE",
    "MIN_LEGEND_FONTSIZE",
    "MATH_FONTSIZE",
    "Figure",
    "draw_figure",
    "figure_key",
    "math_key",
    "render_artifacts",
]

FIGURE_SIZE = (10.0, 5.6)
"""Evidence figures' size in inches: 1000 x 560 pixels at :data:`FIGURE_DPI`, the report's text width
(a figure is shown at its own size, so its 10-point text reads like the page's)."""
FIGURE_DPI = 100
FIGURE_RC: dict[str, Any] = {
    "font.size": 10.0,
    "axes.titlesize": 11.0,
    "axes.labelsize": 10.0,
    "xtick.labelsize": 9.0,
    "ytick.labelsize": 9.0,
    "legend.fontsize": 9.0,
    "figure.titlesize": 12.0,
    "figure.constrained_layout.use": True,
}
"""matplotlib settings every figure is drawn with (on top of the defaults): legible text, and a
constrained layout so titles, labels and legends are never clipped."""
MIN_FONTSIZE = 8.0
"""Smallest font size (points) of any text in a figure: smaller sizes a plot asks for are raised."""
MIN_LEGEND_FONTSIZE = 9.0
"""Smallest font size (points) of legend text."""
SAVE_PAD_INCHES = 0.08
"""White border kept around the drawn content when saving (the box is the content's, so nothing
that sticks out of the axes is cut)."""
MATH_FONTSIZE = 13.0
"""Font size (points) of the typeset claim formulas."""

Plot = Callable[[Mapping[str, Any], Sequence[RunResult], Any], Any]


@dataclass(frozen=True)
class Figure:
    """A claim's evidence figure: PNG bytes and the data behind it, or why it could not be drawn."""

    png: bytes | None
    data: dict[str, list[Any]]
    error: str


def enforce_min_fontsizes(fig: Any) -> None:
    """Raise every text of ``fig`` below :data:`MIN_FONTSIZE` to it, legend text to
    :data:`MIN_LEGEND_FONTSIZE` (claims' plots ask for 6-point tick labels and legends)."""
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    legend_texts = {
        id(t) for legend in fig.findobj(Legend) for t in [*legend.get_texts(), legend.get_title()]
    }
    for text in fig.findobj(Text):
        floor = MIN_LEGEND_FONTSIZE if id(text) in legend_texts else MIN_FONTSIZE
        if text.get_fontsize() < floor:
            text.set_fontsize(floor)


def draw_figure(plot: Plot, prediction: Mapping[str, Any], results: Sequence[RunResult]) -> Figure:
    """Call the claim's ``plot`` on a fresh Agg figure drawn with :data:`FIGURE_RC`; a plot that
    raises gives ``Figure(None, {}, why)``.

    Text smaller than :data:`MIN_FONTSIZE` (legends: :data:`MIN_LEGEND_FONTSIZE`) is enlarged; the
    layout is constrained and the PNG is saved with the drawn content's bounding box, so no title,
    label or legend is clipped.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as MplFigure

    with matplotlib.rc_context(FIGURE_RC):  # type: ignore[arg-type]  # keys are rcParams names
        fig = MplFigure(figsize=FIGURE_SIZE, dpi=FIGURE_DPI)
        try:
            data = plot(prediction, results, fig)
            if not isinstance(data, Mapping):
                raise TypeError(f"plot returned {type(data).__name__}, expected a dict of columns")
            data = {str(k): list(to_jsonable(list(v))) for k, v in data.items()}
            if not any(r.ok for r in results):
                fig.text(0.5, 0.5, "no successful runs", ha="center", va="center", color="#cf222e")
            enforce_min_fontsizes(fig)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=SAVE_PAD_INCHES)
            return Figure(buf.getvalue(), data, "")
        except Exception as exc:
            print_traceback(f"plot {experiment_name(plot)} failed", exc)
            return Figure(None, {}, f"plot failed: {type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------------------------
@functools.cache
def _source_digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _matplotlib_digest() -> str:
    """matplotlib's version and settings (``rcParams`` without the backend, which draws nothing here)."""
    import matplotlib

    rc = matplotlib.rcParams
    # keys + getitem: rc.items() would resolve the backend (0.2 s)
    settings = sorted((k, repr(rc[k])) for k in rc.keys() if not k.startswith("backend"))
    return hashlib.sha256(repr((matplotlib.__version__, settings)).encode()).hexdigest()


def claim_data_digest(folder: Path | None = None) -> str:
    """SHA-256 of the data files (``*.toml``) of the :mod:`reports` package, which claims may read.

    A plot may read more than its arguments from such a file (e.g. a registered bar it draws):
    its figure is drawn again when one changes. ``folder``: the package directory unless given.
    """
    folder = Path(__file__).resolve().parent if folder is None else folder
    h = hashlib.sha256()
    for path in sorted(folder.glob("*.toml")):
        h.update(path.name.encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _digest(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def figure_key(
    claim_id: str, plot: Plot, prediction: Mapping[str, Any], results: Sequence[RunResult]
) -> str | None:
    """The cache key of a claim's figure (module docstring); None when an input is not JSON data."""
    try:
        runs = [
            [
                config_json(r.config),
                None if r.metrics is None else to_jsonable(r.metrics),
                r.error,
                r.wall_time,
            ]
            for r in results
        ]
        payload = {
            "kind": "figure",
            "claim": claim_id,
            "plot": experiment_name(plot),
            "code": code_version(plot),
            "renderer": _source_digest(__file__),
            "data": claim_data_digest(),
            "matplotlib": _matplotlib_digest(),
            "size": [*FIGURE_SIZE, FIGURE_DPI, SAVE_PAD_INCHES],
            "style": [sorted(FIGURE_RC.items()), MIN_FONTSIZE, MIN_LEGEND_FONTSIZE],
            "prediction": to_jsonable(prediction),
            "runs": runs,
        }
        return _digest(payload)
    except (TypeError, ValueError):
        return None


def math_key(latex: str, fontsize: float = MATH_FONTSIZE) -> str:
    """The cache key of a formula's SVG (module docstring)."""
    from . import mathsvg

    return _digest(
        {
            "kind": "math",
            "latex": latex,
            "fontsize": fontsize,
            "typesetter": _source_digest(mathsvg.__file__),
            "matplotlib": _matplotlib_digest(),
        }
    )


# ---------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Job:
    kind: str  # "figure" or "math"
    key: str | None
    claim_id: str
    args: tuple[Any, ...]


def _run_job(kind: str, args: tuple[Any, ...]) -> Any:
    if kind == "figure":
        return draw_figure(*args)
    return typeset_svg(*args)


def _picklable(job: _Job) -> bool:
    try:
        pickle.dumps(job.args)
    except Exception:  # closures, lambdas, objects of classes defined in a function ...
        return False
    return True


def _run_jobs(jobs: Sequence[_Job], workers: int) -> list[Any]:
    """Every job's result, in order: in a process pool when two or more can go there, else here.

    A job whose inputs cannot be pickled, or whose worker failed (a lost process), is run here.
    """
    remote = [i for i, job in enumerate(jobs) if _picklable(job)] if workers > 1 else []
    results: list[Any] = [None] * len(jobs)
    futures: dict[int, Future[Any]] = {}
    pool: ProcessPoolExecutor | None = None
    if len(remote) >= 2:
        pool = ProcessPoolExecutor(max_workers=min(workers, len(remote)), initializer=worker_init)
        futures = {i: pool.submit(_run_job, jobs[i].kind, jobs[i].args) for i in remote}
    try:
        for i, job in enumerate(jobs):
            if i not in futures:
                results[i] = _run_job(job.kind, job.args)
        for i, fut in futures.items():
            try:
                results[i] = fut.result()
            except Exception:  # a lost worker, an unpicklable result: draw it here
                results[i] = _run_job(jobs[i].kind, jobs[i].args)
    except BaseException:  # interrupted: end the workers now
        if pool is not None:
            terminate_pool(pool)
        raise
    if pool is not None:
        pool.shutdown(wait=True)
    return results


class _Cache:
    """The store's ``artifacts`` table, or nothing; a database error turns it off (with one warning)."""

    def __init__(self, store: ResultStore | None, reuse: bool) -> None:
        self.store, self.reuse = store, reuse

    def _off(self, exc: sqlite3.Error) -> None:
        print(
            f"overtensor: figure cache in {self.store.path if self.store else '?'} not used: {exc}",
            file=sys.stderr,
        )
        self.store = None

    def get(self, keys: Sequence[str]) -> dict[str, tuple[bytes, str | None]]:
        if self.store is None or not self.reuse or not keys:
            return {}
        try:
            return self.store.get_artifacts(keys)
        except sqlite3.Error as exc:
            self._off(exc)
            return {}

    def put(self, key: str, kind: str, claim_id: str, blob: bytes, meta: str | None) -> None:
        if self.store is None:
            return
        try:
            self.store.put_artifact(key, kind=kind, claim_id=claim_id, blob=blob, meta=meta)
        except sqlite3.Error as exc:
            self._off(exc)


def _from_cache(kind: str, row: tuple[bytes, str | None]) -> Any:
    """A cached figure or SVG; None for a row that cannot be read (it is drawn again)."""
    blob, meta = row
    try:
        if kind == "figure":
            data = json.loads(meta or "")
            if not isinstance(data, dict):
                return None
            return Figure(bytes(blob), data, "")
        return bytes(blob).decode("utf-8")
    except (ValueError, TypeError):
        return None


def render_artifacts(
    claims: Sequence[tuple[str, Plot, Mapping[str, Any], Sequence[RunResult], str]],
    store: ResultStore | None = None,
    *,
    reuse: bool = True,
    workers: int | None = None,
) -> tuple[dict[str, Figure], dict[str, str | None]]:
    """Figures by claim id and un-prefixed SVGs by LaTeX (None: mathtext cannot parse it).

    Parameters
    ----------
    claims : sequence of (claim_id, plot, prediction, results, latex)
        One entry per claim of the report.
    store : ResultStore, optional
        Where figures and SVGs are cached (none when omitted).
    reuse : bool
        Use cached figures and SVGs (False: draw all again and replace them, as ``--fresh`` does).
    workers : int, optional
        Processes for the missing ones (default: CPU count).
    """
    cache = _Cache(store, reuse)
    jobs: list[_Job] = []
    for claim_id, plot, prediction, results, _ in claims:
        key = figure_key(claim_id, plot, prediction, results)
        jobs.append(_Job("figure", key, claim_id, (plot, prediction, results)))
    for latex in dict.fromkeys(latex for *_, latex in claims):
        owner = next(c[0] for c in claims if c[4] == latex)
        jobs.append(_Job("math", math_key(latex), owner, (latex, MATH_FONTSIZE)))
    rows = cache.get([j.key for j in jobs if j.key is not None])
    done: list[Any] = [None] * len(jobs)
    missing: list[int] = []
    for i, job in enumerate(jobs):
        row = rows.get(job.key) if job.key is not None else None
        value = None if row is None else _from_cache(job.kind, row)
        if value is None:
            missing.append(i)
        done[i] = value
    drawn = _run_jobs([jobs[i] for i in missing], workers or os.cpu_count() or 1)
    for i, value in zip(missing, drawn, strict=True):
        done[i] = value
        job = jobs[i]
        if job.key is None or value is None:
            continue
        if job.kind == "figure" and value.png is not None:
            cache.put(job.key, "figure", job.claim_id, value.png, json.dumps(value.data))
        elif job.kind == "math":
            cache.put(job.key, "math", job.claim_id, value.encode("utf-8"), None)
    n = len(claims)
    figures = {jobs[i].claim_id: done[i] for i in range(n)}
    svgs = {jobs[i].args[0]: done[i] for i in range(n, len(jobs))}
    return figures, svgs
