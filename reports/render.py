"""Report writer: figures, data files, ``index.html``, ``report.md`` and ``summary.json``.

Layout of a report directory::

    DIR/index.html          self-contained (CSS inline, figures as base64 PNG)
    DIR/report.md           Markdown; figures as the PNG files below
    DIR/summary.json        machine-readable verdicts, numbers and provenance (standard JSON)
    DIR/figures/<id>.png    one evidence figure per claim
    DIR/data/<id>.csv       the data behind the figure (what ``plot`` returned)
    DIR/data/<id>.json      the prediction, every run's config, metrics or error (the claim's and
                            each negative control's), and the verdict

The report opens with a summary table (id, source, prediction, measured, verdict, margin, tolerance
source, time), then one section per claim (statement, LaTeX, source, method, tolerance and its
source, parameters, [model choice] note, figure, verdict with margin and reason, the evidence — rates
with exact intervals, paired contrasts, checks, negative controls with their verdicts — numbers,
failed runs), and ends with provenance (package versions, git commit, seeds, machine, executor,
wall time). ``summary.json``'s per-claim fields are documented in README.md ("summary.json").

Everything is written into a temporary sibling directory that is renamed onto ``DIR`` at the end,
so an interrupted or failed write leaves no half-written report.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import html
import io
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import outdir
from .mathsvg import math_html
from .runner import ClaimOutcome, ExecutorInfo
from .store import package_version, strict_json, to_jsonable

__all__ = [
    "EXIT_CODES",
    "collect_provenance",
    "exit_code",
    "format_margin",
    "outcome_summary",
    "prepare_out_dir",
    "write_report",
]

#: CLI exit codes: all checked claims hold / some claim fails / bad usage / none fails but some
#: claim is inconclusive (could not be measured or judged): never 0 in that case.
EXIT_CODES = {"holds": 0, "fails": 1, "usage": 2, "inconclusive": 3}

_BADGE = {"holds": "#1a7f37", "fails": "#cf222e", "inconclusive": "#9a6700"}


def exit_code(outcomes: Sequence[ClaimOutcome]) -> int:
    """0 if every claim holds, 1 if any fails, else 3 if any is inconclusive (or none was checked)."""
    statuses = {o.verdict.status for o in outcomes}
    if "fails" in statuses:
        return EXIT_CODES["fails"]
    if "inconclusive" in statuses or not outcomes:
        return EXIT_CODES["inconclusive"]
    return EXIT_CODES["holds"]


# ---------------------------------------------------------------------------------------------
# provenance
# ---------------------------------------------------------------------------------------------
def _git_commit(where: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10
        )
        if out.returncode != 0:
            return "unknown"
        commit = out.stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return commit + (" (modified working tree)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "overtensor": package_version()}
    for name in (
        "numpy",
        "scipy",
        "sympy",
        "matplotlib",
        "tqdm",
        "threadpoolctl",
        "dask",
        "distributed",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def collect_provenance(
    *,
    profile: str,
    executor: ExecutorInfo | None,
    wall_time: float,
    db: str,
    fresh: bool,
) -> dict[str, Any]:
    """Package versions, git commit, machine, executor and timing of a report run."""
    return {
        "generated": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "profile": profile,
        "versions": _versions(),
        "git_commit": _git_commit(Path(__file__).resolve().parent),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "hostname": platform.node(),
        },
        "executor": None if executor is None else to_jsonable(executor),
        "wall_time_s": round(wall_time, 3),
        "database": db,
        "fresh": fresh,
        "command": " ".join([_program_name(), *sys.argv[1:]]),
    }


def _program_name() -> str:
    name = Path(sys.argv[0]).name
    return "python -m reports" if name == "__main__.py" else name


def _seeds(outcome: ClaimOutcome) -> list[Any]:
    seeds = sorted({c.seed for c in outcome.configs if hasattr(c, "seed")}, key=str)
    return seeds


# ---------------------------------------------------------------------------------------------
# summary
# ---------------------------------------------------------------------------------------------
def outcome_summary(o: ClaimOutcome) -> dict[str, Any]:
    """JSON-ready summary of one claim (used by summary.json and ``check --json``)."""
    c, v = o.claim, o.verdict
    return strict_json(
        {
            "id": c.id,
            "source": c.source,
            "statement": c.statement,
            "verdict": v.status,
            "reason": v.reason,
            "predicted": v.predicted,
            "measured": v.measured,
            "numbers": dict(v.numbers),
            "tolerance": c.tolerance,
            "tolerance_source": c.tolerance_source,
            "margin": v.margin,
            "rates": [dict(r) for r in v.rates],
            "contrasts": [dict(x) for x in v.contrasts],
            "checks": [dict(x) for x in v.checks],
            "controls": [dict(x) for x in v.controls],
            "no_control": c.no_control,
            "model_choice": c.model_choice,
            "profile": o.profile,
            "runs": len(o.results),
            "runs_failed": o.n_failed,
            "runs_cached": o.n_cached,
            "run_time_s": round(o.run_time, 3),
            "seeds": _seeds(o),
            "problems": list(o.problems),
            "errors": [
                {"config": to_jsonable(r.config), "error": r.error} for r in o.results if not r.ok
            ],
        }
    )


# ---------------------------------------------------------------------------------------------
# figures and data
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Figure:
    png: bytes | None
    data: dict[str, list[Any]]
    error: str


def _figure(o: ClaimOutcome) -> _Figure:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.0), dpi=100)
    try:
        data = o.claim.plot(o.prediction, o.results, fig)
        if not isinstance(data, Mapping):
            raise TypeError(f"plot returned {type(data).__name__}, expected a dict of columns")
        data = {str(k): list(to_jsonable(list(v))) for k, v in data.items()}
        if not any(r.ok for r in o.results):
            fig.text(0.5, 0.5, "no successful runs", ha="center", va="center", color="#cf222e")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return _Figure(buf.getvalue(), data, "")
    except Exception as exc:
        return _Figure(None, {}, f"plot failed: {type(exc).__name__}: {exc}")


def _write_csv(path: Path, data: Mapping[str, list[Any]]) -> None:
    cols = list(data)
    n = max((len(v) for v in data.values()), default=0)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for i in range(n):
            w.writerow([data[c][i] if i < len(data[c]) else "" for c in cols])


def _safe(claim_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in claim_id)


# ---------------------------------------------------------------------------------------------
# parameters table
# ---------------------------------------------------------------------------------------------
def _param_table(configs: Sequence[Any]) -> tuple[list[str], list[list[str]]]:
    rows = [to_jsonable(c) for c in configs]
    cols: list[str] = []
    for r in rows:
        for k in r if isinstance(r, dict) else []:
            if k not in cols:
                cols.append(k)
    return cols, [
        [json.dumps(r.get(k)) if not isinstance(r.get(k), str) else r[k] for k in cols]
        for r in rows
    ]


def _fmt_number(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, dict)):
        text = json.dumps(v)
        return text if len(text) <= 120 else text[:117] + "..."
    return str(v)


# ---------------------------------------------------------------------------------------------
# evidence: margins, tolerance source, rates, contrasts, checks, controls (docs/math.md §7)
# ---------------------------------------------------------------------------------------------
CLOSE_MARGIN = 0.1
"""A verdict whose ``|margin|`` is below this fraction of its tolerance is marked as a close call."""


def format_margin(margin: float | None) -> str:
    """``+0.12`` / ``-1.1e+04``; ``n/a`` when nothing could be judged (None or NaN)."""
    if margin is None or margin != margin:
        return "n/a"
    return f"{margin:+.2f}" if abs(margin) < 100 else f"{margin:+.2g}"


def _is_close(margin: float | None) -> bool:
    return margin is not None and abs(margin) < CLOSE_MARGIN


def _source_kind(tolerance_source: str) -> str:
    """``derived`` / ``calibrated`` (how the text starts), ``none`` when missing, else ``other``."""
    text = tolerance_source.strip().lower()
    for kind in ("derived", "calibrated"):
        if text.startswith(kind):
            return kind
    return "other" if text else "none"


def _fmt_p(x: Any) -> str:
    return f"{x:.3g}" if isinstance(x, (int, float)) else str(x)


def _evidence_tables(v: Any) -> list[tuple[str, list[str], list[list[str]]]]:
    """``(title, header, rows)`` for the verdict's rates, contrasts, checks and controls (plain text)."""
    out: list[tuple[str, list[str], list[list[str]]]] = []
    if v.rates:
        rows = []
        for r in v.rates:
            lo, hi = r.get("ci95", [float("nan")] * 2)
            op = "<=" if r.get("direction") == "at_most" else ">="
            rows.append(
                [
                    str(r.get("name", "")),
                    f"{r.get('successes')}/{r.get('trials')}",
                    f"[{lo:.3f}, {hi:.3f}]",
                    f"{op} {_fmt_p(r.get('threshold'))}",
                    str(r.get("status", "")),
                    format_margin(r.get("margin")),
                ]
            )
        out.append(
            (
                "rates (exact Clopper–Pearson 95% intervals)",
                ["rate", "successes/trials", "95% CI", "threshold", "status", "margin"],
                rows,
            )
        )
    if v.contrasts:
        rows = [
            [
                str(x.get("name", "")),
                str(x.get("discordant_a")),
                str(x.get("discordant_b")),
                str(x.get("pairs")),
                _fmt_p(x.get("p_value")),
                f"<= {_fmt_p(x.get('threshold'))}",
                str(x.get("status", "")),
                format_margin(x.get("margin")),
            ]
            for x in v.contrasts
        ]
        out.append(
            (
                "paired contrasts (McNemar exact, one-sided)",
                ["contrast", "only a", "only b", "pairs", "p", "threshold", "status", "margin"],
                rows,
            )
        )
    if v.checks:
        rows = [
            [
                str(x.get("name", "")),
                str(x.get("detail", "")),
                str(x.get("status", "")),
                format_margin(x.get("margin")),
            ]
            for x in v.checks
        ]
        out.append(("checks", ["check", "measured vs tolerance", "status", "margin"], rows))
    if v.controls:
        rows = [
            [
                str(x.get("name", "")),
                str(x.get("verdict", "")),
                format_margin(x.get("margin")),
                f"{x.get('runs', 0)} ({x.get('runs_failed', 0)} failed)",
                str(x.get("reason", "")),
            ]
            for x in v.controls
        ]
        out.append(
            (
                "negative controls (same experiment and judge; each must fail)",
                ["control", "verdict", "margin", "runs", "reason"],
                rows,
            )
        )
    return out


def _controls_line(o: ClaimOutcome) -> str:
    v, c = o.verdict, o.claim
    if v.controls:
        return "; ".join(f"{x.get('name')}: {x.get('verdict')}" for x in v.controls)
    if c.no_control:
        return f"none: {c.no_control}"
    return "none"


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#1f2328;line-height:1.45}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.badge{display:inline-block;padding:.1em .6em;border-radius:1em;color:#fff;font-weight:600;font-size:.85em}
.latex{background:#f6f8fa;padding:.5em;overflow-x:auto;font-family:ui-monospace,monospace;font-size:.9em}
.math{padding:.4em 0;overflow-x:auto} .math svg{max-width:100%;height:auto}
.note{background:#fff8c5;border-left:4px solid #d4a72c;padding:.4em .8em}
.error{background:#ffebe9;border-left:4px solid #cf222e;padding:.4em .8em;white-space:pre-wrap;
font-family:ui-monospace,monospace;font-size:.85em}
img{max-width:100%;border:1px solid #d0d7de}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em} dt{font-weight:600}
dd{margin:0} .muted{color:#656d76;font-size:.9em}
.close{background:#fff8c5;font-weight:600}
"""


def _measured_cell(v: Any) -> str:
    """The summary table's "measured" text; the verdict reason when nothing was measured."""
    if v.measured.strip() and v.measured.strip() != "n/a":
        return str(v.measured)
    reason = " ".join(str(v.reason).split())
    return "n/a: " + (reason if len(reason) <= 160 else reason[:157] + "...")


def _failed_note(o: ClaimOutcome) -> str:
    n = o.n_failed
    return f'<br><span class="muted">{n} run(s) failed</span>' if n else ""


def _margin_td(margin: float | None) -> str:
    text = html.escape(format_margin(margin))
    if _is_close(margin):
        return f'<td class="close">{text} (close)</td>'
    return f"<td>{text}</td>"


def _badge(status: str) -> str:
    color = _BADGE.get(status, "#656d76")
    return f'<span class="badge" style="background:{color}">{html.escape(status)}</span>'


def _html(
    outcomes: Sequence[ClaimOutcome], figures: Mapping[str, _Figure], prov: Mapping[str, Any]
) -> str:
    e = html.escape
    counts = {
        s: sum(o.verdict.status == s for o in outcomes) for s in ("holds", "fails", "inconclusive")
    }
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>overtensor verification report ({e(str(prov['profile']))})</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>overtensor verification report</h1>",
        f'<p class="muted">profile <b>{e(str(prov["profile"]))}</b> · {len(outcomes)} claim(s): '
        f"{counts['holds']} hold, {counts['fails']} fail, {counts['inconclusive']} inconclusive · "
        f"generated {e(str(prov['generated']))} · wall time {prov['wall_time_s']:.1f} s "
        "(claims, runs and judging; rendering excluded)</p>",
        '<h2 id="summary">Summary</h2>',
        "<table><thead><tr><th>claim</th><th>source</th><th>prediction</th><th>measured</th>"
        "<th>verdict</th><th>margin</th><th>tolerance</th><th>time (s)</th></tr></thead><tbody>",
    ]
    for o in outcomes:
        v = o.verdict
        parts.append(
            f'<tr><td><a href="#{e(_safe(o.claim.id))}">{e(o.claim.id)}</a></td>'
            f"<td>{e(o.claim.source)}</td><td>{e(v.predicted)}</td><td>{e(_measured_cell(v))}</td>"
            f"<td>{_badge(v.status)}{_failed_note(o)}</td>{_margin_td(v.margin)}"
            f"<td>{e(_source_kind(o.claim.tolerance_source))}</td><td>{o.run_time:.2f}</td></tr>"
        )
    parts.append("</tbody></table>")
    parts.append(
        '<p class="muted">time: summed wall time of the claim\'s runs (cached runs count their '
        "stored time). margin: how far inside (+) or outside (−) its tolerance the measurement "
        f"lies, as a fraction of the tolerance (smallest over the verdict's parts); "
        f'<span class="close">highlighted</span> when |margin| &lt; {CLOSE_MARGIN:g} (a close call). '
        "tolerance: derived (from a bound or rule) or calibrated (on seeds not judged).</p>"
    )
    for o in outcomes:
        c, v, fig = o.claim, o.verdict, figures[o.claim.id]
        sid = _safe(c.id)
        parts.append(f'<h2 id="{e(sid)}">{e(c.id)} {_badge(v.status)}</h2>')
        parts.append(f"<p>{e(c.statement)}</p>")
        parts.append(math_html(c.latex, prefix=f"math-{sid}"))  # inline SVG, offline
        parts.append("<dl>")
        parts.append(f"<dt>source</dt><dd>{e(c.source)}</dd>")
        parts.append(f"<dt>method</dt><dd>{e(c.method)}</dd>")
        parts.append(f"<dt>tolerance</dt><dd>{e(c.tolerance)}</dd>")
        parts.append(f"<dt>tolerance source</dt><dd>{e(c.tolerance_source or 'not stated')}</dd>")
        parts.append(f"<dt>prediction</dt><dd>{e(v.predicted)}</dd>")
        parts.append(f"<dt>measured</dt><dd>{e(v.measured)}</dd>")
        parts.append(
            f"<dt>runs</dt><dd>{len(o.results)} ({o.n_cached} reused from the store, "
            f"{o.n_failed} failed), {o.run_time:.2f} s</dd>"
        )
        parts.append("</dl>")
        if c.model_choice:
            parts.append(
                f'<p class="note"><b>[model choice]</b> This measurement depends on a '
                f"reconstruction, not the papers' exact text: {e(c.model_choice.rstrip('.'))}.</p>"
            )
        if fig.png is not None:
            b64 = base64.b64encode(fig.png).decode("ascii")
            parts.append(
                f'<figure><img alt="evidence for {e(c.id)}" src="data:image/png;base64,{b64}">'
                f'<figcaption class="muted">data: data/{e(sid)}.csv, runs: data/{e(sid)}.json'
                "</figcaption></figure>"
            )
        else:
            parts.append(f'<p class="error">{e(fig.error)}</p>')
        close = ' class="close"' if _is_close(v.margin) else ""
        parts.append(
            f"<p><b>Verdict: {_badge(v.status)}</b> margin <span{close}>"
            f"{e(format_margin(v.margin))}</span>. {e(v.reason)}</p>"
        )
        for title, header, rows in _evidence_tables(v):
            parts.append(f"<p><b>{e(title)}</b></p><table><thead><tr>")
            parts.append("".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead><tbody>")
            for row in rows:
                parts.append("<tr>" + "".join(f"<td>{e(x)}</td>" for x in row) + "</tr>")
            parts.append("</tbody></table>")
        if not v.controls:
            parts.append(f'<p class="muted">controls: {e(_controls_line(o))}</p>')
        if v.numbers:
            parts.append("<table><thead><tr><th>number</th><th>value</th></tr></thead><tbody>")
            for k, val in v.numbers.items():
                parts.append(
                    f"<tr><td>{e(str(k))}</td><td>{e(_fmt_number(to_jsonable(val)))}</td></tr>"
                )
            parts.append("</tbody></table>")
        for p in o.problems:
            parts.append(f'<p class="error">{e(p)}</p>')
        failed = [r for r in o.results if not r.ok]
        if failed:
            parts.append(f"<details open><summary>{len(failed)} failed run(s)</summary>")
            for r in failed[:20]:
                parts.append(
                    f'<p class="error"><b>{e(json.dumps(to_jsonable(r.config)))}</b>\n'
                    f"{e(r.error or 'no metrics')}</p>"
                )
            if len(failed) > 20:
                parts.append(f"<p>... and {len(failed) - 20} more (see data/{e(sid)}.json)</p>")
            parts.append("</details>")
        cols, rows = _param_table(o.configs)
        parts.append(
            f"<details><summary>parameters: {len(rows)} config(s), seeds "
            f"{e(', '.join(map(str, _seeds(o))) or 'none')}</summary>"
        )
        if cols:
            parts.append(
                "<table><thead><tr>"
                + "".join(f"<th>{e(k)}</th>" for k in cols)
                + "</tr></thead><tbody>"
            )
            for row in rows:
                parts.append("<tr>" + "".join(f"<td>{e(x)}</td>" for x in row) + "</tr>")
            parts.append("</tbody></table>")
        parts.append("</details>")
    parts.append('<h2 id="provenance">Provenance</h2><dl>')
    for k, val in prov.items():
        if isinstance(val, Mapping):
            inner = ", ".join(f"{kk} {vv}" for kk, vv in val.items() if vv not in ("", None))
            parts.append(f"<dt>{e(k)}</dt><dd>{e(inner)}</dd>")
        else:
            parts.append(f"<dt>{e(k)}</dt><dd>{e(str(val))}</dd>")
    seeds = {o.claim.id: _seeds(o) for o in outcomes}
    parts.append(
        "<dt>seeds</dt><dd>"
        + e("; ".join(f"{k}: {', '.join(map(str, s)) or 'none'}" for k, s in seeds.items()))
        + "</dd></dl></body></html>"
    )
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------
def _md_escape(value: Any) -> str:
    """Text from outside the code (paths, the command line, error messages) as inert Markdown.

    Markdown renderers pass raw HTML through, so ``<``, ``>`` and ``&`` become entities (as the HTML
    report does), and the characters that start emphasis, code, links or tables are backslash-escaped.
    """
    text = html.escape(str(value), quote=False).replace("\n", " ")
    for ch in "\\`*_[]|":
        text = text.replace(ch, "\\" + ch)
    return text


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_margin(margin: float | None) -> str:
    text = format_margin(margin)
    return f"**{text} (close)**" if _is_close(margin) else text


def _markdown(
    outcomes: Sequence[ClaimOutcome], figures: Mapping[str, _Figure], prov: Mapping[str, Any]
) -> str:
    lines = [
        "# overtensor verification report",
        "",
        f"Profile **{prov['profile']}**, generated {prov['generated']}, wall time "
        f"{prov['wall_time_s']:.1f} s.",
        "",
        "## Summary",
        "",
        "| claim | source | prediction | measured | verdict | margin | tolerance | time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        v = o.verdict
        lines.append(
            f"| [{o.claim.id}](#{_safe(o.claim.id).replace('.', '')}) | {_md_cell(o.claim.source)} | "
            f"{_md_cell(v.predicted)} | {_md_cell(_measured_cell(v))} | **{v.status}**{f' ({o.n_failed} run(s) failed)' if o.n_failed else ''} | "
            f"{_md_margin(v.margin)} | {_source_kind(o.claim.tolerance_source)} | {o.run_time:.2f} |"
        )
    lines += [
        "",
        "*margin*: how far inside (+) or outside (−) its tolerance the measurement lies, as a "
        "fraction of the tolerance (smallest over the verdict's parts); **bold (close)** when "
        f"|margin| < {CLOSE_MARGIN:g}. *tolerance*: derived (from a bound or rule) or calibrated "
        "(on seeds not judged).",
    ]
    for o in outcomes:
        c, v, fig = o.claim, o.verdict, figures[o.claim.id]
        sid = _safe(c.id)
        lines += ["", f"## {c.id}", "", c.statement, "", "$$", c.latex, "$$", ""]
        lines += [
            f"- **source:** {c.source}",
            f"- **method:** {c.method}",
            f"- **tolerance:** {c.tolerance}",
            f"- **tolerance source:** {c.tolerance_source or 'not stated'}",
            f"- **prediction:** {v.predicted}",
            f"- **measured:** {v.measured}",
            f"- **runs:** {len(o.results)} ({o.n_cached} reused, {o.n_failed} failed), "
            f"{o.run_time:.2f} s; seeds {', '.join(map(str, _seeds(o))) or 'none'}",
        ]
        if c.model_choice:
            lines += ["", f"> **[model choice]** {c.model_choice.rstrip('.')}."]
        lines.append("")
        if fig.png is not None:
            lines.append(f"![evidence for {c.id}](figures/{sid}.png)")
            lines.append(
                f"\nData: [data/{sid}.csv](data/{sid}.csv), runs: [data/{sid}.json](data/{sid}.json)"
            )
        else:
            lines.append(f"*{fig.error}*")
        lines += ["", f"**Verdict: {v.status}** (margin {_md_margin(v.margin)}). {v.reason}"]
        for title, header, rows in _evidence_tables(v):
            lines += ["", f"*{title}*", "", "| " + " | ".join(header) + " |"]
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(_md_cell(x) for x in row) + " |" for row in rows]
        if not v.controls:
            lines += ["", f"Controls: {_controls_line(o)}"]
        if v.numbers:
            lines += ["", "| number | value |", "|---|---|"]
            lines += [
                f"| {_md_cell(str(k))} | {_md_cell(_fmt_number(to_jsonable(x)))} |"
                for k, x in v.numbers.items()
            ]
        for p in o.problems:
            lines += ["", f"**Problem:** {p}"]
        failed = [r for r in o.results if not r.ok]
        if failed:
            lines += ["", f"**{len(failed)} failed run(s):**", ""]
            for r in failed[:20]:
                first = (r.error or "no metrics").splitlines()[0]
                lines.append(f"- `{json.dumps(to_jsonable(r.config))}`: {_md_escape(first)}")
    lines += ["", "## Provenance", ""]
    for k, val in prov.items():
        if isinstance(val, Mapping):
            val = ", ".join(f"{kk} {vv}" for kk, vv in val.items() if vv not in ("", None))
        lines.append(f"- **{k}:** {_md_escape(val)}")
    for o in outcomes:
        lines.append(f"- **seeds, {o.claim.id}:** {', '.join(map(str, _seeds(o))) or 'none'}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
def prepare_out_dir(out: str | Path) -> Path:
    """Check that ``out`` may be written and return a fresh, marked temporary sibling directory.

    Raises ``ValueError`` (naming ``--out``) when ``out`` is refused by
    :func:`reports.outdir.check_out_dir` (a file, a directory overtensor did not write, ``.``, the
    home directory, ...) or its parent cannot be created or written. Stale temporary siblings of dead
    overtensor processes in the same parent are removed first. The caller renames the temporary
    directory onto ``out`` with :func:`_commit_dir` (done by :func:`write_report`), or removes it.
    """
    target = outdir.check_out_dir(out)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        outdir.remove_stale_temp_dirs(target.parent, keep=target)
        tmp = outdir.make_temp_dir(target)
    except OSError as exc:
        raise ValueError(f"--out {str(out)!r} is not writable: {exc.strerror or exc}") from None
    return tmp


def _commit_dir(tmp: Path, out: Path) -> None:
    outdir.commit_out_dir(tmp, Path(out))


def _runs_json(results: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "config": to_jsonable(r.config),
            "metrics": None if r.metrics is None else to_jsonable(r.metrics),
            "error": r.error,
            "wall_time": r.wall_time,
            "cached": r.cached,
        }
        for r in results
    ]


def write_report(
    outcomes: Sequence[ClaimOutcome],
    out: str | Path,
    provenance: Mapping[str, Any],
    *,
    tmp: Path | None = None,
) -> dict[str, Any]:
    """Write the report directory ``out`` (see module docstring); returns the summary dict.

    ``tmp`` is a directory from :func:`prepare_out_dir` (made here when omitted). On any error the
    temporary directory is removed and ``out`` is left as it was.
    """
    out = Path(out)
    tmp = prepare_out_dir(out) if tmp is None else tmp
    try:
        (tmp / "figures").mkdir()
        (tmp / "data").mkdir()
        figures: dict[str, _Figure] = {}
        for o in outcomes:
            sid = _safe(o.claim.id)
            fig = _figure(o)
            figures[o.claim.id] = fig
            if fig.png is not None:
                (tmp / "figures" / f"{sid}.png").write_bytes(fig.png)
            _write_csv(tmp / "data" / f"{sid}.csv", fig.data)
            payload = {
                "claim": o.claim.id,
                "prediction": to_jsonable(o.prediction),
                "verdict": outcome_summary(o),
                "figure_data": fig.data,
                "runs": _runs_json(o.results),
                "controls": [
                    {"name": name, "runs": _runs_json(cres)} for name, _cfgs, cres in o.controls
                ],
            }
            (tmp / "data" / f"{sid}.json").write_text(json.dumps(strict_json(payload), indent=1))
        summary = {
            "profile": provenance.get("profile"),
            "exit_code": exit_code(outcomes),
            "counts": {
                s: sum(o.verdict.status == s for o in outcomes)
                for s in ("holds", "fails", "inconclusive")
            },
            "claims": [outcome_summary(o) for o in outcomes],
            "provenance": strict_json(dict(provenance)),
        }
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2))
        (tmp / "index.html").write_text(_html(outcomes, figures, provenance), encoding="utf-8")
        (tmp / "report.md").write_text(_markdown(outcomes, figures, provenance), encoding="utf-8")
        _commit_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary
