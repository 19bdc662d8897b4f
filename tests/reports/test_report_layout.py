"""How the report reads, checked without a browser: groups by paper and their order, a table of
contents, typeset sub/superscripts, numbers for people, captions and deciding parts, figures sized for
the page with legible text, and nothing that forces the page to scroll sideways (every table in its
own scrolling box, long words allowed to wrap, no unbreakable run of characters in the text)."""

from __future__ import annotations

import dataclasses
import re
import struct
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import pytest
from markupsafe import Markup

from reports import artifacts
from reports.artifacts import draw_figure, enforce_min_fontsizes, figure_key
from reports.catalog import all_claims
from reports.claims._shared import legend
from reports.grouping import GROUPS, OTHER, group_of, reading_order
from reports.registry import RunResult, Verdict
from reports.render import collect_provenance, write_report
from reports.runner import run_claims
from reports.statistics import Evidence
from reports.store import ResultStore
from reports.templating import html_math_text
from tests.reports.fake_claims import FakeConfig, _plot, evidence_judge, make_claim

matplotlib.use("Agg")

LONGEST_WORD = 60
"""No run of characters without a break opportunity longer than this in the page's text (the
report is read at 1280 px; a 60-character token in the summary's narrowest column still wraps)."""


# ------------------------------------------------------------------------------------- groups
def test_every_built_in_claim_is_grouped_by_the_folder_that_declares_it():
    folders = {"paper1", "paper2", "classical"}
    for claim in all_claims():
        if not claim.module.startswith("reports.claims."):
            continue  # entry points or loaded files of this environment
        folder = claim.module.split(".")[2]
        assert folder in folders, claim.module
        assert group_of(claim.module).key == folder, claim.id


def test_group_of_other_modules():
    assert group_of("reports.loaded.my_claim__abc") is OTHER
    assert group_of("mypkg.claims") is OTHER
    assert group_of("reports.claims.paper10.x") is OTHER  # a prefix is a package, not a string
    assert group_of("reports.claims.paper2._deflation").key == "paper2"


def test_reading_order_follows_the_groups_areas_then_headline_statements():
    for group in GROUPS:
        members = [c for c in all_claims() if group_of(c.module) is group]
        ordered = sorted(members, key=lambda c: reading_order(group, c.id, c.source, c.reference))
        areas = [c.id.split(".")[0] for c in ordered]
        ranks = [group.areas.index(a) if a in group.areas else len(group.areas) for a in areas]
        assert ranks == sorted(ranks), (group.key, areas)  # e.g. lazy before beyond
        for area in set(areas):
            kinds = [reading_order(group, c.id, c.source, c.reference)[1] for c in ordered]
            in_area = [k for k, a in zip(kinds, areas, strict=True) if a == area]
            assert in_area == sorted(in_area)
    paper = GROUPS[0]
    assert reading_order(paper, "x.b", "Paper 1, abstract: ...") < reading_order(
        paper, "x.a", "Paper 1: a lemma"
    )
    assert reading_order(paper, "x.z", "classical (Euler)") < reading_order(
        paper, "x.a", "extension (beyond the paper)"
    )


# ----------------------------------------------------------------------------------- mathtext
def test_mathtext_typesets_sub_and_superscripts():
    assert html_math_text("e_1^{⊗4}") == "e<sub>1</sub><sup>⊗4</sup>"
    assert html_math_text("w̄_i^{⊗l}") == "w̄<sub>i</sub><sup>⊗l</sup>"
    assert html_math_text("δ0 = 1e-3, δ0²") == "δ<sub>0</sub> = 1e-3, δ<sub>0</sub>²"
    assert html_math_text("m = O*(r^{2.5l} log d), d^l") == (
        "m = O*(r<sup>2.5l</sup> log d), d<sup>l</sup>"
    )
    assert html_math_text("(1/ε)^0.06") == "(1/ε)<sup>0.06</sup>"
    for plain in ("numerics.flow.gradient_flow", "t_lead - t", "n_se", "a*b"):
        assert html_math_text(plain) == plain  # names are not subscripts
    assert html_math_text(Markup("<b>x_1</b>")) == "<b>x_1</b>"  # HTML already


@pytest.mark.parametrize(
    "hostile",
    [
        'x^{<script>alert(1)</script>} a_{" onerror="alert(2)} &amp; <img src=x>',
        "x_{<sub>}^{</sup><script>}",
        "δ0<b>_k</b>^1",
    ],
)
def test_mathtext_adds_nothing_but_sub_and_sup(hostile):
    out = str(html_math_text(hostile))
    assert set(re.findall(r"</?([A-Za-z]+)", out)) <= {"sub", "sup"}
    assert "<script" not in out and "<img" not in out and "<b>" not in out


# ------------------------------------------------------------------------------------ figures
def test_small_fonts_are_raised_to_the_smallest_legible_size():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], label="line")
    ax.set_xticks([0, 1], ["a", "b"], fontsize=6)
    legend(ax, fontsize=6)  # the claims' helper raises the request
    assert {t.get_fontsize() for t in ax.get_legend().get_texts()} == {9.0}
    ax.legend(fontsize=5)  # a legend made without the helper
    ax.set_title("title", fontsize=4)
    enforce_min_fontsizes(fig)
    assert {t.get_fontsize() for t in ax.get_legend().get_texts()} == {
        artifacts.MIN_LEGEND_FONTSIZE
    }
    assert ax.title.get_fontsize() == artifacts.MIN_FONTSIZE
    assert min(t.get_fontsize() for t in ax.get_xticklabels()) == artifacts.MIN_FONTSIZE


def _png_size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])


def _long_title_plot(prediction, results, fig):
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], label="data")
    ax.set_title("a title much wider than its axes " * 6)
    ax.set_ylabel("a label\nover two lines")
    legend(ax, fontsize=6)
    return {"x": [0, 1]}


def test_figures_are_page_wide_and_keep_what_sticks_out():
    results = [RunResult(FakeConfig(0), {"value": 0.0, "x": 0}, None, 0.1)]
    plain = draw_figure(_plot, {}, results)
    wide = draw_figure(_long_title_plot, {}, results)
    assert plain.png is not None and wide.png is not None
    width, height = _png_size(plain.png)
    assert 900 <= width <= 1100 and height >= 450
    # the title is wider than the figure: the saved box grows to hold it instead of cutting it
    assert _png_size(wide.png)[0] > width


def test_the_drawing_style_is_part_of_the_figure_key(monkeypatch):
    results = [RunResult(FakeConfig(0), {"value": 0.0, "x": 0}, None, 0.1)]
    base = figure_key("a.b", _plot, {}, results)
    monkeypatch.setattr(artifacts, "FIGURE_RC", {**artifacts.FIGURE_RC, "font.size": 12.0})
    bigger = figure_key("a.b", _plot, {}, results)
    monkeypatch.setattr(artifacts, "MIN_FONTSIZE", 9.0)
    floor = figure_key("a.b", _plot, {}, results)
    monkeypatch.setattr(artifacts, "FIGURE_SIZE", (12.0, 6.0))
    size = figure_key("a.b", _plot, {}, results)
    assert len({base, bigger, floor, size}) == 4


# ------------------------------------------------------------------------------- the page
def sentinel_judge(prediction, results) -> Verdict:
    """The shape of deflation.staircase's control: a 1e300 sentinel, an empty last field, a
    censored interval and non-ASCII keys in the numbers."""
    ev = Evidence()
    ev.at_most("worst plateau deviation [homogeneous, δ0=0.3]", 1e300, 0.03)
    ev.note("Two-exponential model at the measured gaps: max |predicted deviation| " + ".")
    return ev.verdict(
        predicted="plateaus within 3%",
        measured="m* by d: 10: 6 [3, None], 40: 6 [6, None]",
        numbers={"worst_by_regime": {"δ0=0.3": 1e300}, "m_star": [3, None]},
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    paper = make_claim(
        "fake.sentinel",
        judge=sentinel_judge,
        texts={
            "statement": "Fits e_1^{⊗4} first; w̄_i^{⊗l} grows from δ0.",
            "reference": "Theorem 1",
            "caption": "Look at the plateaus.",
        },
    )
    claims = [
        dataclasses.replace(paper, module="reports.claims.paper2.fake_sentinel"),
        make_claim("fake.evidence", judge=evidence_judge),
    ]
    tmp = tmp_path_factory.mktemp("layout")
    with ResultStore(":memory:") as store, ThreadPoolExecutor(2) as ex:
        outcomes = run_claims(claims, "quick", store=store, executor=ex, progress="none")
    prov = collect_provenance(profile="quick", executor=None, wall_time=0.1, db="x", fresh=False)
    write_report(outcomes, tmp / "out", prov)
    return tmp / "out"


class _Text(HTMLParser):
    """The page's text outside <style>, <svg>, <code> and <pre>; every table's enclosing element."""

    SKIP = ("style", "svg", "code", "pre", "title")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.table_parents: list[tuple[str, str | None]] = []
        self.h2: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            parent = self.stack[-1] if self.stack else ("", {})
            self.table_parents.append((parent[0], parent[1].get("class")))
        if tag == "h2":
            self.h2.append("")
        if tag not in ("img", "meta", "br", "wbr"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1][0] == tag
        self.stack.pop()

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        if "h2" in tags:
            self.h2[-1] += data
        if not any(t in tags for t in self.SKIP):
            self.text.append(data)


def _parse(html_text: str) -> _Text:
    parser = _Text()
    parser.feed(html_text)
    parser.close()
    return parser


def test_groups_contents_and_order(page):
    html_text = (page / "index.html").read_text()
    parsed = _parse(html_text)
    assert [h.strip() for h in parsed.h2] == [
        "Summary",
        GROUPS[1].title,  # the claim declared under reports/claims/paper2
        "Other claims",
        "Provenance",
    ]
    assert html_text.index('<h3 id="fake.sentinel">') < html_text.index('<h3 id="fake.evidence">')
    assert '<nav class="toc"' in html_text and 'href="#group-paper2"' in html_text
    assert 'href="https://arxiv.org/abs/2106.06573"' in html_text
    md = (page / "report.md").read_text()
    assert md.index(f"## {GROUPS[1].title}") < md.index("### fake.sentinel")
    assert "- [Other claims](#other-claims)" in md
    assert "| [fake.sentinel](#fakesentinel) (Theorem 1) |" in md


def test_numbers_and_texts_read_as_people_expect(page):
    html_text = (page / "index.html").read_text()
    text = " ".join(_parse(html_text).text)
    assert "∞ <= 0.03" in text and "1e+300" not in text and "margin -∞" in text
    assert "[3, ∞)" in text and "None]" not in text
    assert "max |predicted deviation|: none." in text and "| ." not in text
    assert "\\u03b4" not in html_text and "δ0=0.3" in text
    assert "e<sub>1</sub><sup>⊗4</sup>" in html_text and "δ<sub>0</sub>" in html_text
    md = (page / "report.md").read_text()
    assert "∞ &lt;= 0.03" in md and "None]" not in md and "\\u03b4" not in md  # "<" as an entity


def test_captions_and_deciding_parts(page):
    html_text = (page / "index.html").read_text()
    captions = re.findall(r'<span class="caption">(.*?)</span>', html_text)
    assert captions[0] == "Look at the plateaus."  # the claim's own
    # the evidence claim's closest part: McNemar p = 1/16 against 0.1, margin
    # (log10 0.1 - log10 1/16)/1 = 0.20, below the rate's (2.98) and the check's (0.68)
    assert captions[1].startswith("What to look for: x below 10 vs never — the part that decided")
    assert "margin +0.20" in captions[1]
    assert html_text.count('<p class="deciding">') == 2
    assert "closest part: x below 10 vs never" in html_text  # the summary's reason cell


def test_nothing_forces_the_page_to_scroll_sideways(page):
    html_text = (page / "index.html").read_text()
    parsed = _parse(html_text)
    words = [w for chunk in parsed.text for w in chunk.split()]
    longest = max(words, key=len)
    assert len(longest) <= LONGEST_WORD, longest[:80]
    assert parsed.table_parents and all(p == ("div", "tbl") for p in parsed.table_parents)
    css = html_text[html_text.index("<style>") : html_text.index("</style>")]
    for rule in (
        "overflow-wrap:break-word",  # body and cells: a word longer than its line wraps
        "table.summary td{overflow-wrap:anywhere}",  # the fixed-width summary: ids and numbers too
        ".tbl{max-width:100%;overflow-x:auto",  # a wide table scrolls in its own box
        "img{max-width:100%",
        ".math svg{max-width:100%",
        "code,pre{white-space:pre-wrap",
    ):
        assert rule in css, rule
    for png in (page / "figures").glob("*.png"):
        assert _png_size(png.read_bytes())[0] >= 900, png.name


def test_summary_shows_where_a_reference_points_not_all_of_it():
    from reports.render import _reference_cell

    assert (
        _reference_cell("docs/math.md §3: the gradients of the three models") == "docs/math.md §3"
    )
    assert _reference_cell("Theorem 1") == "Theorem 1"
    long = "abstract and " + "a very long description " * 5
    assert len(_reference_cell(long)) <= 48 and _reference_cell(long).endswith(" …")
