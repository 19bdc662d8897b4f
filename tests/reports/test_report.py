"""Report contents: HTML parses and embeds every figure, lists every claim; summary.json verdicts;
Markdown with PNG files beside it; CSV/JSON data; atomic replacement; a quick-profile smoke test."""

from __future__ import annotations

import base64
import csv
import json
import re
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.cli import main
from reports.render import collect_provenance, write_report
from reports.runner import ExecutorInfo, run_claims
from reports.store import ResultStore
from tests.reports.fake_claims import make_claim

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.h2: list[str] = []
        self.h3: list[str] = []
        self.links: list[str] = []
        self.tables = 0
        self._in: str | None = None
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a)
        elif tag in ("h2", "h3"):
            self._in = tag
            getattr(self, tag).append("")
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "table":
            self.tables += 1
        if tag not in ("img", "meta", "br", "wbr", "link"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("h2", "h3"):
            self._in = None
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> after {self.stack[-3:]}"
        self.stack.pop()

    def handle_data(self, data):
        if self._in is not None:
            getattr(self, self._in)[-1] += data


CLAIMS = [
    make_claim("fake.alpha", model_choice="a reconstructed variant"),
    make_claim("fake.beta", judge_status="fails"),
    make_claim("fake.gamma", failing=[2]),
    make_claim("fake.delta", broken_plot=True),
]
EXPECTED = {
    "fake.alpha": "holds",
    "fake.beta": "fails",
    "fake.gamma": "inconclusive",
    "fake.delta": "holds",
}


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("rep")
    with ResultStore(tmp / "r.sqlite") as store, ThreadPoolExecutor(2) as ex:
        outcomes = run_claims(CLAIMS, "quick", store=store, executor=ex, progress="none")
    prov = collect_provenance(
        profile="quick",
        executor=ExecutorInfo("local", 2, 1),
        wall_time=1.5,
        db="r.sqlite",
        fresh=False,
    )
    out = tmp / "out"
    write_report(outcomes, out, prov)
    return out


def test_files_written(report_dir):
    names = {p.relative_to(report_dir).as_posix() for p in report_dir.rglob("*") if p.is_file()}
    for cid in EXPECTED:
        assert f"data/{cid}.csv" in names and f"data/{cid}.json" in names
    for cid in ("fake.alpha", "fake.beta", "fake.gamma"):
        assert (report_dir / "figures" / f"{cid}.png").read_bytes().startswith(PNG_MAGIC)
    assert "figures/fake.delta.png" not in names  # its plot raised
    assert {"index.html", "report.md", "summary.json"} <= names


def test_html_parses_embeds_figures_and_lists_every_claim(report_dir):
    text = (report_dir / "index.html").read_text()
    parser = _Collector()
    parser.feed(text)
    parser.close()
    assert parser.stack == []  # every element closed
    srcs = [img["src"] or "" for img in parser.images]
    assert len(srcs) == 3 and all(s.startswith("data:image/png;base64,") for s in srcs)
    for s in srcs:  # figures embedded, not linked
        assert base64.b64decode(s.split(",", 1)[1]).startswith(PNG_MAGIC)
    for cid in EXPECTED:
        assert f"#{cid}" in parser.links  # summary table row
        assert any(h.startswith(cid) for h in parser.h3)  # its section
    # claims from outside the package's paper folders form one group
    assert parser.h2 == ["Summary", "Other claims", "Provenance"]
    assert {"#summary", "#group-other", "#provenance"} <= set(parser.links)  # the contents
    assert "plot failed: RuntimeError: plot is broken" in text
    assert "[model choice]" in text and "a reconstructed variant" in text
    assert "simulated divergence at x=2" in text  # the failed run is shown with its error
    assert "1 run(s) failed" in text  # and counted in the summary table
    for field in ("git_commit", "versions", "machine", "wall_time_s", "seeds"):
        assert field in text


def test_summary_json_verdicts(report_dir):
    summary = json.loads((report_dir / "summary.json").read_text())
    assert {c["id"]: c["verdict"] for c in summary["claims"]} == EXPECTED
    assert summary["counts"] == {"holds": 2, "fails": 1, "inconclusive": 1}
    assert summary["exit_code"] == 1
    gamma = next(c for c in summary["claims"] if c["id"] == "fake.gamma")
    assert gamma["runs_failed"] == 1 and "x=2" in gamma["errors"][0]["error"]
    assert gamma["seeds"] == [0, 1, 2, 3]
    prov = summary["provenance"]
    assert prov["executor"] == {"kind": "local", "workers": 2, "blas_threads": 1, "address": ""}
    assert prov["git_commit"]  # a commit hash here, "unknown" outside a checkout
    assert "numpy" in prov["versions"]


def test_markdown_and_figure_data(report_dir):
    md = (report_dir / "report.md").read_text()
    assert md.index("## Summary") < md.index("## Other claims") < md.index("### fake.alpha")
    assert md.index("### fake.alpha") < md.index("## Provenance")
    for cid in ("fake.alpha", "fake.beta", "fake.gamma"):
        assert f"![evidence for {cid}](figures/{cid}.png)" in md
    with (report_dir / "data" / "fake.gamma.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["x"]) for r in rows] == [0, 1, 3]  # the failed x=2 has no point
    runs = json.loads((report_dir / "data" / "fake.gamma.json").read_text())["runs"]
    assert [r["error"] is None for r in runs] == [True, True, False, True]


def test_existing_out_is_replaced_atomically(tmp_path):
    out = tmp_path / "out"
    with ResultStore(tmp_path / "r.sqlite") as store, ThreadPoolExecutor(1) as ex:
        outcomes = run_claims(CLAIMS[:2], "quick", store=store, executor=ex, progress="none")
    prov = collect_provenance(profile="quick", executor=None, wall_time=0.1, db="x", fresh=False)
    write_report(outcomes, out, prov)  # an earlier report of two claims: marked as overtensor's
    stale = out / "data" / f"{CLAIMS[1].id}.csv"
    assert stale.is_file()
    write_report(outcomes[:1], out, prov)  # the second claim's files were the old report's
    assert not stale.exists() and (out / "index.html").exists()
    leftovers = [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    assert leftovers == []


def test_smoke_quick_report_of_foundation_claims(tmp_path, capsys):
    """One smoke test on the real quick profile (foundation claims only: about 2 s)."""
    out = tmp_path / "report"
    code = main(
        [
            "report",
            "--profile",
            "quick",
            "--out",
            str(out),
            "--db",
            str(tmp_path / "r.sqlite"),
            "--workers",
            "2",
            "--claims",
            "foundation.gram-identity",
            "foundation.gradient-check",
            "foundation.loss-monotone",
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [c["verdict"] for c in summary["claims"]] == ["holds"] * 3
    err = capsys.readouterr().err
    assert "executor local (2 workers, 1 BLAS thread(s) each)" in err


# ------------------------------------------------------------ evidence in the report (issue 11)
@pytest.fixture(scope="module")
def evidence_report(tmp_path_factory) -> Path:
    from tests.reports.fake_claims import evidence_judge

    claims = [
        make_claim("fake.ev", controls={"big-x": [10, 11]}, judge=evidence_judge),
        make_claim(
            "fake.ev-blind",
            controls={"small-x": [5], "crashing": [12]},
            control_failing=[12],
            judge=evidence_judge,
        ),
        make_claim("fake.no-margin"),  # a judge without Evidence: margin 0.5 from the fixture
    ]
    tmp = tmp_path_factory.mktemp("ev")
    with ResultStore(tmp / "r.sqlite") as store, ThreadPoolExecutor(2) as ex:
        outcomes = run_claims(claims, "quick", store=store, executor=ex, progress="none")
    prov = collect_provenance(profile="quick", executor=None, wall_time=0.1, db="x", fresh=False)
    write_report(outcomes, tmp / "out", prov)
    return tmp / "out"


def test_summary_json_evidence_fields(evidence_report):
    claims = {
        c["id"]: c for c in json.loads((evidence_report / "summary.json").read_text())["claims"]
    }
    ev = claims["fake.ev"]
    assert ev["verdict"] == "holds" and ev["margin"] >= 0
    assert ev["tolerance_source"] == "derived: test fixture"
    (rate,) = ev["rates"]
    assert {"name", "successes", "trials", "ci95", "threshold"} <= set(rate)
    assert (rate["successes"], rate["trials"]) == (4, 4) and len(rate["ci95"]) == 2
    (contrast,) = ev["contrasts"]
    assert {"name", "discordant_a", "discordant_b", "p_value", "threshold"} <= set(contrast)
    assert (contrast["discordant_a"], contrast["discordant_b"]) == (4, 0)
    assert contrast["p_value"] == pytest.approx(1 / 16)
    assert [c["name"] for c in ev["checks"]] == ["largest x"]
    assert [(c["name"], c["verdict"]) for c in ev["controls"]] == [("big-x", "fails")]
    assert set(ev["controls"][0]) >= {"name", "verdict", "reason"}
    blind = claims["fake.ev-blind"]
    assert blind["verdict"] == "inconclusive" and "cannot discriminate" in blind["reason"]
    by_name = {c["name"]: c for c in blind["controls"]}
    assert by_name["small-x"]["verdict"] == "inconclusive"
    assert by_name["crashing"]["runs_failed"] == 1 and by_name["crashing"]["verdict"] != "fails"
    assert claims["fake.no-margin"]["margin"] == 0.5 and claims["fake.no-margin"]["controls"] == []


def test_control_runs_in_data_json(evidence_report):
    data = json.loads((evidence_report / "data" / "fake.ev-blind.json").read_text())
    controls = {c["name"]: c["runs"] for c in data["controls"]}
    assert [r["config"]["x"] for r in controls["small-x"]] == [5]
    assert controls["crashing"][0]["error"].startswith("FloatingPointError")
    assert len(data["runs"]) == 4  # the claim's own runs, apart from the controls'


def test_html_and_markdown_show_margin_source_and_controls(evidence_report):
    html_text = (evidence_report / "index.html").read_text()
    parser = _Collector()
    parser.feed(html_text)
    parser.close()
    assert parser.stack == []
    assert "<th>margin</th><th>reason</th><th>tolerance</th>" in html_text
    assert "derived: test fixture" in html_text  # the section's tolerance source
    for text in (
        "4/4",
        "McNemar",
        "largest x",
        "negative controls",
        "big-x",
        "small-x",
        "crashing",
    ):
        assert text in html_text, text
    md = (evidence_report / "report.md").read_text()
    assert "| margin | reason | tolerance |" in md
    row = next(line for line in md.splitlines() if line.startswith("| [fake.ev]"))
    assert "| derived |" in row and "**holds**" in row
    assert "- **tolerance source:** derived: test fixture" in md
    assert "| big-x | fails |" in md
    assert "| crashing | " in md and "1 failed" in md


# ------------------------------------------------------------ cached figures and math (issue 19)
def test_cached_report_draws_nothing_and_writes_the_same_files(tmp_path, monkeypatch, capsys):
    """Over stored runs, every figure and formula comes from the store. (Not cached, so drawn by
    every report: a figure whose plot raised, and one whose claim has a failed run, which every
    report recomputes, with a new wall time.)"""
    from reports import artifacts
    from reports.registry import REGISTRY

    claims = CLAIMS[:2]
    for claim in claims:
        monkeypatch.setitem(REGISTRY, claim.id, claim)
    db = tmp_path / "r.sqlite"

    def report(out, *extra, ids=("fake.alpha", "fake.beta")):
        argv = ["report", "--claims", *ids, "--db", str(db), "--out", str(out), "--workers", "1"]
        code = main([*argv, *extra])
        return code, capsys.readouterr().err

    assert report(tmp_path / "first")[0] == 1  # fake.beta fails
    with ResultStore(db) as store:  # 2 figures, 1 formula
        assert store.count_artifacts() == 3

    def refuse(*args):
        raise AssertionError("drew a figure or formula")

    monkeypatch.setattr(artifacts, "draw_figure", refuse)
    monkeypatch.setattr(artifacts, "typeset_svg", refuse)
    code, err = report(tmp_path / "second")
    assert code == 1 and "drew a figure" not in err  # everything came from the store
    for name in ("figures/fake.alpha.png", "figures/fake.beta.png", "data/fake.alpha.csv"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()

    def body(out):  # the claims' sections (provenance, timings and reuse counts differ)
        page = (out / "index.html").read_text()
        page = page[page.index('<h3 id="fake.alpha">') : page.index('<h2 id="provenance">')]
        return re.sub(r"\(\d+ reused from the store", "(N reused from the store", page)

    assert body(tmp_path / "first") == body(tmp_path / "second")
    monkeypatch.setitem(REGISTRY, "fake.new", make_claim("fake.new"))
    code, err = report(tmp_path / "third", ids=("fake.alpha", "fake.new"))
    assert code == 4 and "drew a figure" in err  # a figure not in the store is drawn
    code, err = report(tmp_path / "third", "--fresh")
    assert code == 4 and "drew a figure" in err  # --fresh draws everything again
