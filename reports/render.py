"""Report writer: figures, data files, ``index.html``, ``report.md`` and ``summary.json``.

Layout of a report directory::

    DIR/index.html          self-contained (CSS inline, figures as base64 PNG)
    DIR/report.md           Markdown; figures as the PNG files below
    DIR/summary.json        machine-readable verdicts, numbers and provenance (standard JSON)
    DIR/figures/<id>.png    one evidence figure per claim
    DIR/data/<id>.csv       the data behind the figure (what ``plot`` returned)
    DIR/data/<id>.json      the prediction, every run's config, metrics or error (the claim's and
                            each negative control's), and the verdict

The report opens with a table of contents and a summary table (id and paper reference, prediction,
measured, verdict, margin, the reason cut to its deciding part, tolerance source, time), grouped by
paper (:mod:`reports.grouping`: paper 1, paper 2, the classical checks, other claims) and in each
group in reading order. Then one section per group and in it one per claim (statement, LaTeX, paper
reference, source, method, tolerance and its source, parameters, [model choice] note, the deciding
part of the verdict, the figure with a caption saying what to look for, verdict with margin and
reason, the evidence — rates with exact intervals, paired contrasts, checks, negative controls with
their verdicts — numbers, failed runs), and it ends with provenance (package versions, git commit,
seeds, machine, executor, wall time). Numbers are shown for people (:mod:`reports.numfmt`: a few
significant digits, ``∞`` for sentinels, one-sided intervals as ``[a, ∞)``); ``summary.json`` keeps
them exact. ``summary.json``'s per-claim fields are documented in docs/report.md ("summary.json").

This module prepares the data; ``index.html`` and ``report.md`` are rendered from the Jinja2
templates in ``reports/templates/`` (:mod:`reports.templating`: autoescaped HTML, and one Markdown
escape applied to every field). Figures and typeset formulas come from :mod:`reports.artifacts`,
cached in the results store when one is given.

Everything is written into a temporary sibling directory that is renamed onto ``DIR`` at the end,
so an interrupted or failed write leaves no half-written report.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from . import numfmt, outdir
from .artifacts import Figure, draw_figure, render_artifacts
from .expectations import ExpectationReport
from .grouping import GROUPS, OTHER, Group, group_of, reading_order
from .mathsvg import labelled_svg
from .registered import registration
from .runner import ClaimOutcome, ExecutorInfo
from .store import ResultStore, package_version, strict_json, to_jsonable
from .templating import Verbatim, html_environment, markdown_environment, md_code, md_fenced

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

PROFILE_HEADLINES = {
    "quick": (
        "Quick profile: smoke tests. Every claim runs at small sizes with few seeds, judged against "
        "the weaker bars these sizes can establish (power >= 0.8 at the calibration estimate); a "
        "quick verdict shows the machinery and the direction of each effect, not the evidence. The "
        "evidence is the full profile: overtensor report --profile full --replicate."
    ),
    "full": (
        "Full profile: the evidence. Sizes and seeds planned for power >= 0.9 at the calibration "
        "estimate of every judged rate (docs/math.md §7.8), bars pre-registered in "
        "reports/registered.toml (§7.10); re-judge on a fresh seed block with --replicate (§7.9)."
    ),
    "scale": (
        "Scale profile: the papers' regimes (d >= 1000), run where a claim lists it; bars, seeds and "
        "power planned as for full."
    ),
}
"""What a profile's verdicts are worth, stated at the top of every report."""


def exit_code(outcomes: Sequence[ClaimOutcome]) -> int:
    """0 if every claim holds, 1 if any fails, else 3 if any is inconclusive (or none was checked).

    With ``--replicate`` a claim counts with the worse of its two verdicts (a claim that holds on one
    seed block and not on a fresh one is not established; docs/math.md §7.9).
    """
    statuses = {o.verdict.status for o in outcomes} | {
        str(o.replication["verdict"]) for o in outcomes if o.replication is not None
    }
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
            "design_faults": list(o.design_faults),
            "registered": _registered(o),
            **({"replication": dict(o.replication)} if o.replication is not None else {}),
        }
    )


def _registered(o: ClaimOutcome) -> dict[str, Any] | None:
    """The claim's registration for this profile and its history (docs/math.md §7.10)."""
    reg = registration(o.claim.id)
    if not reg.profiles and not reg.history:
        return None
    prof = reg.profiles.get(o.profile)
    return {
        "profile": prof.as_dict() if prof is not None else None,
        "tolerances": dict(reg.tolerances),
        "history": [c.as_dict() for c in reg.history],
        "changed_after_results": reg.changed_after_results,
    }


# ---------------------------------------------------------------------------------------------
# figures and data
# ---------------------------------------------------------------------------------------------
_Figure = Figure  # the name reports.api knows


def _figure(o: ClaimOutcome) -> Figure:
    """The claim's figure drawn now (no cache): for the notebook API."""
    return draw_figure(o.claim.plot, o.prediction, o.results)


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
        [
            json.dumps(r.get(k), ensure_ascii=False) if not isinstance(r.get(k), str) else r[k]
            for k in cols
        ]
        for r in rows
    ]


NUMBER_CELL_CHARACTERS = 240
"""A value in a claim's numbers table is cut after this many characters (all of it is in
data/<id>.json and summary.json)."""


def _fmt_number(v: Any) -> str:
    """One of a verdict's numbers for people (:func:`reports.numfmt.value`); nested data is cut when
    very long (a text the judge wrote is shown whole)."""
    text = numfmt.value(v)
    if isinstance(v, str) or len(text) <= NUMBER_CELL_CHARACTERS:
        return text
    return text[: NUMBER_CELL_CHARACTERS - 1].rstrip(", ") + " …"


# ---------------------------------------------------------------------------------------------
# evidence: margins, tolerance source, rates, contrasts, checks, controls (docs/math.md §7)
# ---------------------------------------------------------------------------------------------
CLOSE_MARGIN = 0.1
"""A verdict whose ``|margin|`` is below this fraction of its tolerance is marked as a close call."""


def format_margin(margin: float | None) -> str:
    """``+0.12`` / ``-1.1e+04`` / ``-∞``; ``n/a`` when nothing could be judged (None or NaN)."""
    return numfmt.margin(margin)


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
                    f"[{numfmt.interval(lo, hi, 3, sep=', ')}]",
                    f"{op} {_fmt_p(r.get('threshold'))}",
                    _planned(r),
                    str(r.get("status", "")),
                    format_margin(r.get("margin")),
                ]
            )
        out.append(
            (
                "rates (exact Clopper–Pearson 95% intervals; expected rate and power planned on "
                "calibration seeds, docs/math.md §7.8)",
                [
                    "rate",
                    "successes/trials",
                    "95% CI",
                    "threshold",
                    "expected · power",
                    "status",
                    "margin",
                ],
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
                numfmt.tidy(x.get("detail", "")),
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
                numfmt.tidy(x.get("reason", "")),
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


def _planned(rate: Mapping[str, Any]) -> str:
    """``"0.955 · power 0.93 (holds)"``, or ``"not planned"`` for a rate without a calibration."""
    expected, power = rate.get("expected"), rate.get("power")
    if expected is None or power is None:
        return "not planned"
    return f"{expected:.3f} · power {power:.2f} ({rate.get('power_of')})"


def _history_rows(o: ClaimOutcome) -> list[list[str]]:
    """The registration history of the claim: date, commit, what, old → new, reason, results seen."""
    return [
        [
            c.date,
            c.commit,
            c.what,
            f"{c.old} → {c.new}",
            c.reason,
            "yes: changed after results" if c.results_seen else "no",
        ]
        for c in registration(o.claim.id).history
    ]


def _replication_view(o: ClaimOutcome) -> dict[str, Any] | None:
    rep = o.replication
    if rep is None:
        return None
    rows = [
        [
            str(r["name"]),
            f"{r['original'][0]}/{r['original'][1]}",
            f"{r['replication'][0]}/{r['replication'][1]}",
            str(r.get("replication_status", "")),
            _fmt_p(r["homogeneity_p_value"]),
        ]
        for r in rep.get("rates", [])
    ]
    return {
        "verdict": str(rep["verdict"]),
        "badge_color": _BADGE.get(str(rep["verdict"]), "#656d76"),
        "margin": format_margin(rep.get("margin")),
        "seeds": str(rep.get("seeds", "")),
        "agrees": bool(rep.get("agrees")),
        "reason": str(rep.get("reason", "")),
        "header": ["rate", "judged block", "fresh block", "fresh status", "homogeneity p (Fisher)"],
        "rows": rows,
    }


def _controls_line(o: ClaimOutcome) -> str:
    v, c = o.verdict, o.claim
    if v.controls:
        return "; ".join(f"{x.get('name')}: {x.get('verdict')}" for x in v.controls)
    if c.no_control:
        return f"none: {c.no_control}"
    return "none"


# ---------------------------------------------------------------------------------------------
# what the templates show
# ---------------------------------------------------------------------------------------------
def _measured_cell(v: Any) -> str:
    """The summary table's "measured" text; the verdict reason when nothing was measured."""
    if v.measured.strip() and v.measured.strip() != "n/a":
        return numfmt.tidy(v.measured)
    return "n/a: " + numfmt.shorten(numfmt.tidy(v.reason), SUMMARY_REASON_CHARACTERS)


SUMMARY_REASON_CHARACTERS = 170
"""The summary table's reason is cut to about this many characters (the whole is in the section)."""

# sympy's str(): delta0**2, 4*a, q*delta0 (but not the notation m*(r), m*_ε, O*(r^{2.5l}))
_CODE = re.compile(r"\*\*|\d\*[A-Za-z(]|[A-Za-z)]\*[A-Za-z]{2,}")


SUMMARY_REFERENCE_CHARACTERS = 48
"""The summary table shows a claim's reference up to its first ``": "`` (``"docs/math.md §3: the
gradients ..."`` reads ``docs/math.md §3``), cut to about this many characters."""


def _reference_cell(reference: str) -> str:
    """A claim's reference as the summary table shows it (the whole of it is in the section)."""
    where = reference.split(": ", 1)[0]
    return numfmt.shorten(where, SUMMARY_REFERENCE_CHARACTERS)


def _looks_like_code(text: str) -> bool:
    """True for a prediction printed as program text (sympy's ``str``: ``**``, ``4*a``)."""
    return bool(_CODE.search(text))


_STATUS_RANK = {"fails": 0, "inconclusive": 1, "holds": 2}


def _parts(v: Any) -> list[tuple[str, Mapping[str, Any]]]:
    return (
        [("rate", r) for r in v.rates]
        + [("contrast", x) for x in v.contrasts]
        + [("check", x) for x in v.checks]
    )


def _part_text(kind: str, x: Mapping[str, Any]) -> str:
    """One part of a verdict in words, numbers for people (the reason lists every part so)."""
    name, status = str(x.get("name", "")), str(x.get("status", ""))
    if kind == "rate":
        lo, hi = x.get("ci95", [float("nan")] * 2)
        op = "<=" if x.get("direction") == "at_most" else ">="
        return (
            f"{name}: {x.get('successes')}/{x.get('trials')} (95% CI {numfmt.interval(lo, hi)}) "
            f"{op} {_fmt_p(x.get('threshold'))}: {status}"
        )
    if kind == "contrast":
        return (
            f"{name}: only-a {x.get('discordant_a')}, only-b {x.get('discordant_b')} of "
            f"{x.get('pairs')} pairs, McNemar p = {_fmt_p(x.get('p_value'))} (<= "
            f"{_fmt_p(x.get('threshold'))}): {status}"
        )
    return f"{name}: {numfmt.tidy(x.get('detail', ''))}: {status}"


def _deciding(o: ClaimOutcome) -> dict[str, Any] | None:
    """What decided the verdict: the part with the worst status and then the smallest margin; or,
    when the runner overruled the parts (failed runs, a control that did not fail, a design fault),
    its reason. None for a verdict with no parts (a judge without :class:`Evidence`)."""
    v = o.verdict
    parts = _parts(v)
    if not parts:
        return None
    statuses = [str(x.get("status", "")) for _, x in parts]
    worst = min(statuses, key=lambda s: _STATUS_RANK.get(s, 1))
    if _STATUS_RANK.get(v.status, 1) < _STATUS_RANK.get(worst, 1):  # overruled by the runner
        return {
            "kind": "runner",
            "name": "",
            "label": f"why it does not hold ({len(parts)} part(s) judged: {worst})",
            "text": numfmt.shorten(numfmt.tidy(v.reason), SUMMARY_REASON_CHARACTERS),
            "status": v.status,
            "margin": format_margin(v.margin),
            "badge_color": _BADGE.get(v.status, "#656d76"),
        }

    def key(item: tuple[str, Mapping[str, Any]]) -> tuple[int, float]:
        m = item[1].get("margin")
        margin = float(m) if isinstance(m, int | float) and m == m else math.inf
        return (_STATUS_RANK.get(str(item[1].get("status")), 1), margin)

    kind, part = min(parts, key=key)
    held = statuses.count("holds")
    if len(parts) == 1:
        label = "the only part"
    elif held == len(parts):
        label = f"closest of {len(parts)} parts (all hold)"
    else:
        label = f"deciding part ({held} of {len(parts)} hold)"
    return {
        "kind": kind,
        "name": str(part.get("name", "")),
        "label": label,
        "text": _part_text(kind, part),
        "status": str(part.get("status", "")),
        "margin": format_margin(part.get("margin")),
        "badge_color": _BADGE.get(str(part.get("status", "")), "#656d76"),
    }


def _reason_cell(o: ClaimOutcome, deciding: Mapping[str, Any] | None) -> str:
    """The summary table's reason: the deciding part, or the reason cut at a clause boundary."""
    if deciding is not None and deciding["kind"] != "runner":
        prefix = "closest part: " if o.verdict.status == "holds" else ""
        return numfmt.shorten(prefix + deciding["text"], SUMMARY_REASON_CHARACTERS)
    return numfmt.shorten(numfmt.tidy(o.verdict.reason), SUMMARY_REASON_CHARACTERS)


def _caption(o: ClaimOutcome, deciding: Mapping[str, Any] | None) -> str:
    """One line under the figure: the claim's own caption, else what decided the verdict."""
    if o.claim.caption.strip():
        return " ".join(o.claim.caption.split())
    if deciding is None or not deciding["name"]:
        return "What to look for: the measurement against the prediction stated above."
    return (
        f"What to look for: {deciding['name']} — the part that decided the verdict "
        f"({deciding['status']}, margin {deciding['margin']})."
    )


MAX_FAILED_SHOWN = 20
"""Failed runs listed in a claim's section (all of them are in its data/<id>.json)."""


def _claim_view(o: ClaimOutcome, fig: Figure, svg: str | None) -> dict[str, Any]:
    """One claim as both templates show it: text fields, and the few pre-formatted parts
    (``Markup`` for HTML, ``Verbatim`` for Markdown, names starting ``md_``) made here."""
    c, v = o.claim, o.verdict
    sid = _safe(c.id)  # file and HTML-anchor name
    failed = [r for r in o.results if not r.ok]
    deciding = _deciding(o)
    predicted = numfmt.tidy(v.predicted)
    cols, rows = _param_table(o.configs)
    shown = []
    for r in failed[:MAX_FAILED_SHOWN]:
        config = json.dumps(to_jsonable(r.config), ensure_ascii=False)
        error = r.error or "no metrics"
        shown.append(
            {
                "config": config,
                "error": error,
                "first_line": error.splitlines()[0],
                "md_config": md_code(config),
            }
        )
    return {
        "id": c.id,
        # the id with a line-break opportunity after each dot (narrow summary column, contents)
        "id_html": Markup(".<wbr>").join(escape(part) for part in c.id.split(".")),
        "sid": sid,
        "md_anchor": Verbatim("#" + sid.replace(".", "")),  # GitHub's anchor of the heading
        "source": c.source,
        "reference": c.reference,
        "reference_cell": _reference_cell(c.reference),
        "group": _group(c).key,
        "statement": c.statement,
        "latex": c.latex,
        # the typeset LaTeX as an inline SVG element; None: mathtext cannot parse it
        "math_svg": None
        if svg is None
        else Markup(labelled_svg(svg, c.latex, prefix=f"math-{sid}")),
        "md_latex": md_fenced(c.latex, "math"),
        "method": c.method,
        "tolerance": c.tolerance,
        "tolerance_source": c.tolerance_source or "not stated",
        "tolerance_kind": _source_kind(c.tolerance_source),
        "predicted": predicted,
        "predicted_is_code": _looks_like_code(predicted),
        "measured": numfmt.tidy(v.measured),
        "measured_cell": _measured_cell(v),
        "reason_cell": _reason_cell(o, deciding),
        "deciding": deciding,
        "caption": _caption(o, deciding),
        "status": v.status,
        "badge_color": _BADGE.get(v.status, "#656d76"),
        "margin": format_margin(v.margin),
        "close": _is_close(v.margin),
        "reason": numfmt.tidy(v.reason),
        "runs": len(o.results),
        "n_cached": o.n_cached,
        "n_failed": o.n_failed,
        "run_time": f"{o.run_time:.2f}",
        "seeds": ", ".join(map(str, _seeds(o))) or "none",
        "model_choice": c.model_choice.rstrip("."),
        "figure_b64": None if fig.png is None else base64.b64encode(fig.png).decode("ascii"),
        "figure_error": fig.error,
        "md_figure": Verbatim(f"figures/{sid}.png"),
        "md_data": Verbatim(f"data/{sid}.csv"),
        "md_runs": Verbatim(f"data/{sid}.json"),
        "evidence": [
            {"title": title, "header": header, "rows": rows}
            for title, header, rows in _evidence_tables(v)
        ],
        # the controls in one line when the verdict carries no control table
        "controls_line": None if v.controls else _controls_line(o),
        "numbers": [(str(k), _fmt_number(to_jsonable(x))) for k, x in v.numbers.items()],
        "problems": list(o.problems),
        "failed": shown,
        "failed_total": len(failed),
        "param_cols": cols,
        "param_rows": rows,
        "history": _history_rows(o),
        "changed_after_results": registration(c.id).changed_after_results,
        "design_faults": list(o.design_faults),
        "replication": _replication_view(o),
    }


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, characters other than letters,
    digits, ``-``, ``_`` and spaces dropped, spaces as ``-``."""
    kept = "".join(ch for ch in heading.lower() if ch.isalnum() or ch in "-_ ")
    return kept.replace(" ", "-")


def _group(claim: Any) -> Group:
    """The report group of ``claim``: by the module that declared it (a claim built in code: its
    judge's module)."""
    module = claim.module or getattr(claim.judge, "__module__", "") or ""
    return group_of(module)


def _groups(claims: Sequence[Mapping[str, Any]], outcomes: Sequence[ClaimOutcome]) -> list[dict]:
    """The claims' views by group (papers, classical, other), each group in reading order; groups
    without claims are left out."""
    by_key: dict[str, list[tuple[Any, Mapping[str, Any]]]] = {}
    for view, o in zip(claims, outcomes, strict=True):
        group = _group(o.claim)
        order = reading_order(group, o.claim.id, o.claim.source, o.claim.reference)
        by_key.setdefault(group.key, []).append((order, view))
    out = []
    for group in (*GROUPS, OTHER):
        members = [view for _, view in sorted(by_key.get(group.key, []), key=lambda x: x[0])]
        if not members:
            continue
        out.append(
            {
                "key": group.key,
                "title": group.title,
                "citation": group.citation,
                "url": group.url,
                "md_url": Verbatim(group.url),
                "md_anchor": Verbatim("#" + _github_anchor(group.title)),
                "blurb": group.blurb,
                "claims": members,
                "counts": {
                    s: sum(v["status"] == s for v in members)
                    for s in ("holds", "fails", "inconclusive")
                },
            }
        )
    return out


def _page(
    outcomes: Sequence[ClaimOutcome],
    figures: Mapping[str, Figure],
    svgs: Mapping[str, str | None],
    prov: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything both templates render: the claims' views, counts and provenance as text."""
    provenance = []
    for k, val in prov.items():
        if isinstance(val, Mapping):
            val = ", ".join(f"{kk} {vv}" for kk, vv in val.items() if vv not in ("", None))
        provenance.append((str(k), str(val)))
    profile = str(prov["profile"])
    claims = [_claim_view(o, figures[o.claim.id], svgs.get(o.claim.latex)) for o in outcomes]
    return {
        "profile": profile,
        "headline": PROFILE_HEADLINES.get(profile, ""),
        "replicated": any(o.replication is not None for o in outcomes),
        "generated": str(prov["generated"]),
        "wall_time": f"{prov['wall_time_s']:.1f}",
        "counts": {
            s: sum(o.verdict.status == s for o in outcomes)
            for s in ("holds", "fails", "inconclusive")
        },
        "close_margin": f"{CLOSE_MARGIN:g}",
        "claims": claims,
        "groups": _groups(claims, outcomes),
        "provenance": provenance,
        "seeds": [(o.claim.id, ", ".join(map(str, _seeds(o))) or "none") for o in outcomes],
    }


def _html(page: Mapping[str, Any]) -> str:
    return html_environment().get_template("report.html.j2").render(page)


def _markdown(page: Mapping[str, Any]) -> str:
    return markdown_environment().get_template("report.md.j2").render(page)


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


def _expected(expected: ExpectationReport | None, claim_id: str) -> dict[str, Any] | None:
    """A claim's ``expected`` record in summary.json (None without ``--expect``)."""
    found = None if expected is None else expected.for_claim(claim_id)
    return None if found is None else found.as_dict()


def _expected_views(page: dict[str, Any], expected: ExpectationReport | None) -> None:
    """The templates' ``expectations`` (page) and ``expected`` (claim) fields: text only."""
    page["expectations"] = (
        None
        if expected is None
        else {
            "file": expected.path,
            "line": expected.summary_line(),
            "mismatches": [
                {"id": c.claim_id, "sid": _safe(c.claim_id)} for c in expected.mismatches
            ],
        }
    )
    for view in page["claims"]:
        view["expected"] = _expected(expected, view["id"])


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
    store: ResultStore | None = None,
    reuse: bool = True,
    figure_workers: int | None = None,
    expected: ExpectationReport | None = None,
) -> dict[str, Any]:
    """Write the report directory ``out`` (see module docstring); returns the summary dict.

    ``tmp`` is a directory from :func:`prepare_out_dir` (made here when omitted). On any error the
    temporary directory is removed and ``out`` is left as it was. Figures and typeset formulas are
    cached in ``store`` (:mod:`reports.artifacts`); ``reuse=False`` draws them all again (``--fresh``).
    ``figure_workers``: processes drawing the missing figures (default: CPU count; 1 draws them in
    this process, as ``--debug`` does). ``expected``: the verdicts compared with ``--expect``
    (:mod:`reports.expectations`), shown per claim and in ``summary.json``.
    """
    out = Path(out)
    tmp = prepare_out_dir(out) if tmp is None else tmp
    try:
        (tmp / "figures").mkdir()
        (tmp / "data").mkdir()
        figures, svgs = render_artifacts(
            [(o.claim.id, o.claim.plot, o.prediction, o.results, o.claim.latex) for o in outcomes],
            store,
            reuse=reuse,
            workers=figure_workers,
        )
        for o in outcomes:
            sid = _safe(o.claim.id)
            fig = figures[o.claim.id]
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
            "claims": [
                {**outcome_summary(o), "expected": _expected(expected, o.claim.id)}
                for o in outcomes
            ],
            "expectations": None if expected is None else expected.as_dict(),
            "provenance": strict_json(dict(provenance)),
        }
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2))
        page = _page(outcomes, figures, svgs, provenance)
        _expected_views(page, expected)
        (tmp / "index.html").write_text(_html(page), encoding="utf-8")
        (tmp / "report.md").write_text(_markdown(page), encoding="utf-8")
        _commit_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary
