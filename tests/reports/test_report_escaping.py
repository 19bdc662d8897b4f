"""Hostile texts cannot inject structure into report.md or index.html (issue 24, item 8).

Fake claims whose id, texts, verdict, numbers, evidence, controls, run errors, plot error and
predict error carry Markdown and HTML syntax (headings, table rows, lists, fences, quotes, raw HTML,
links, math, attribute breaks) are rendered; report.md is parsed by a CommonMark parser (with GFM
tables) and index.html by the standard library's HTML parser. Every hostile text must come out as
plain text, and the documents' structure must be the report's own.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.registry import RunResult, Verdict
from reports.render import collect_provenance, format_margin, write_report
from reports.runner import run_claims
from reports.store import ResultStore
from tests.reports.fake_claims import make_claim

markdown_it = pytest.importorskip("markdown_it")

HOSTILE = (
    "first line\n# injected heading\n\n| a | b |\n|---|---|\n- item\n1. one\n> quote\n"
    "```\nfenced\n```\n    indented code\n<script>alert(1)</script><img src=x onerror=alert(2)>"
    ' " onmouseover="alert(3)" \' `tick` *em* _u_ **b** [link](http://x.test) '
    "![img](http://y.test/i.png) <http://z.test> $x$ ~~s~~ &amp; \\ <!-- c -->\n---\n===\n"
)
ERROR = "# error | `x` <script>alert(4)</script> *b* [l](http://z.test) $y$"  # a run's (one line)
BAD_ID = "fake.hostile\n# id heading | x | `c` <b>"
FIELDS = ("source", "statement", "latex", "method", "tolerance", "tolerance_source")
OPTIONAL_FIELDS = ("reference", "caption")  # declare(..., reference=, caption=)
OWN_HTML_ANCHORS = {"#summary", "#group-other", "#provenance"}  # the contents and summary table
OWN_MD_ANCHORS = {"#summary", "#other-claims", "#provenance"}


def _text(name: str) -> str:
    """A hostile text that starts a line with a heading marker and names its field."""
    return f"# {name}\n{HOSTILE}"


def _hostile_judge(prediction, results: list[RunResult]) -> Verdict:
    return Verdict(
        "holds",
        _text("reason"),
        _text("predicted"),
        _text("measured"),
        {_text("number key"): _text("number value")},
        margin=0.05,
        checks=(
            {"name": _text("check"), "detail": _text("detail"), "status": "holds", "margin": 0.5},
        ),
    )


CLAIMS = [
    make_claim(
        BAD_ID,
        texts={name: _text(name) for name in (*FIELDS, *OPTIONAL_FIELDS)},
        model_choice=_text("model choice"),
        judge=_hostile_judge,
        failing=[1],
        error_text=ERROR,
        controls={_text("control"): [10]},
    ),
    make_claim("fake.hostile-plot", plot_error=_text("plot error")),
    make_claim("fake.hostile-predict", predict_error=_text("predict error")),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    with ResultStore(":memory:") as store, ThreadPoolExecutor(2) as ex:
        outcomes = run_claims(CLAIMS, "quick", store=store, executor=ex, progress="none")
    prov = collect_provenance(profile="quick", executor=None, wall_time=0.1, db="x", fresh=False)
    write_report(outcomes, tmp / "out", prov)
    return tmp / "out"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _tokens(md: str):
    parser = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
    return parser.parse(md)


def _inline_texts(tokens) -> list[str]:
    """Each inline run as plain text; any markup inside it (emphasis, link, HTML) becomes NUL."""
    out = []
    for tok in tokens:
        if tok.type != "inline":
            continue
        parts = []
        for child in tok.children or []:
            if child.type == "text":
                parts.append(child.content)
            elif child.type == "softbreak":
                parts.append(" ")
            else:
                parts.append("\x00")
        out.append("".join(parts))
    return out


def test_markdown_has_only_the_reports_own_structure(report):
    tokens = _tokens((report / "report.md").read_text())
    types = {t.type for t in tokens}
    assert not types & {"html_block", "code_block", "hr", "ordered_list_open"}, types
    for tok in tokens:
        for child in tok.children or []:
            assert child.type not in ("html_inline", "s_open"), child
            if child.type == "image":  # the claims' own figures only
                assert child.attrGet("src").startswith("figures/fake."), child
            if child.type == "code_inline":  # only the failed runs' configs
                assert child.content.startswith('{"x": 1,'), child.content
            if child.type == "link_open":  # the report's anchors and data files, nothing else
                href = child.attrGet("href")
                assert href.startswith(("#fake", "data/fake.")) or href in OWN_MD_ANCHORS, href
    headings = [
        _inline_texts([tokens[i + 1]])[0] for i, t in enumerate(tokens) if t.type == "heading_open"
    ]
    assert headings == [
        "overtensor verification report",
        "Summary",
        "Other claims",  # the group of claims from outside the package's paper folders
        _one_line(BAD_ID),
        "fake.hostile-plot",
        "fake.hostile-predict",
        "Provenance",
    ]
    fences = [t for t in tokens if t.type == "fence"]
    assert [t.info for t in fences] == ["math"] * 3
    assert fences[0].content == _text("latex")  # the LaTeX verbatim, its lines kept
    quotes = [t for t in tokens if t.type == "blockquote_open"]
    assert len(quotes) == 1  # the model-choice note


def test_markdown_tables_keep_their_shape(report):
    tokens = _tokens((report / "report.md").read_text())
    tables, current = [], None
    for tok in tokens:
        if tok.type == "table_open":
            current = []
        elif tok.type == "tr_open" and current is not None:
            current.append(0)
        elif tok.type in ("th_open", "td_open") and current is not None:
            current[-1] += 1
        elif tok.type == "table_close":
            tables.append(current)
            current = None
    summary = tables[0]
    assert summary == [8] * 4  # header and one row per claim, 8 cells each
    for shape in tables:
        assert len(set(shape)) == 1, shape  # no row gained or lost a cell
    numbers = [t for t in tables if t == [2, 2]]
    assert numbers  # the hostile number is one key and one value


@pytest.mark.parametrize(
    "text",
    [
        _text(name)
        for name in (
            *[f for f in FIELDS if f != "latex"],
            *OPTIONAL_FIELDS,
            "reason",
            "predicted",
            "measured",
        )
    ]
    + [
        _text(name)
        for name in ("model choice", "number key", "number value", "check", "detail", "control")
    ]
    + [_text("plot error"), _text("predict error"), ERROR, BAD_ID],
)
def test_every_hostile_text_reads_as_plain_text_in_markdown(report, text):
    texts = _inline_texts(_tokens((report / "report.md").read_text()))
    assert any(_one_line(text) in t for t in texts), _one_line(text)[:80]


def test_run_error_is_escaped_in_the_verdict_line_too(report):
    md = (report / "report.md").read_text()
    verdicts = [line for line in md.splitlines() if line.startswith("**Verdict: inconclusive**")]
    assert verdicts and all("<script>" not in line for line in verdicts)
    texts = _inline_texts(_tokens(md))
    assert any("runs failed (first: FloatingPointError: " + ERROR in t for t in texts)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: list[str] = []
        self.h2: list[str] = []
        self.h3: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("h2", "h3"):
            getattr(self, tag).append("")
        if tag not in ("img", "meta", "br", "wbr"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-3:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.data.append(data)
        for heading in ("h2", "h3"):
            if heading in self.stack:
                getattr(self, heading)[-1] += data


def test_html_has_only_the_reports_own_elements(report):
    page = _Page()
    page.feed((report / "index.html").read_text())
    page.close()
    assert page.stack == []
    names = {tag for tag, _ in page.tags}
    assert "script" not in names
    for tag, attrs in page.tags:
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        if tag == "img":
            assert (attrs["src"] or "").startswith("data:image/png;base64,")
        if tag == "a":
            href = attrs["href"] or ""
            assert href.startswith("#fake") or href in OWN_HTML_ANCHORS, href
    assert page.h2 == ["Summary", "Other claims", "Provenance"]
    assert [h.split(" holds")[0].split(" inconclusive")[0] for h in page.h3] == [
        BAD_ID,
        "fake.hostile-plot",
        "fake.hostile-predict",
    ]
    boxes = [a for tag, a in page.tags if tag == "div" and a.get("class") in ("math", "latex")]
    assert [a["class"] for a in boxes] == ["latex", "math", "math"]  # mathtext cannot parse it
    assert boxes[0]["title"] == "LaTeX source (not typeset)"


@pytest.mark.parametrize(
    "text",
    [
        _text(name)
        for name in (*FIELDS, *OPTIONAL_FIELDS, "reason", "predicted", "measured", "model choice")
    ]
    + [_text(name) for name in ("number key", "number value", "check", "detail", "control")]
    + [_text("plot error"), _text("predict error")],
)
def test_every_hostile_text_reads_as_text_in_html(report, text):
    page = _Page()
    page.feed((report / "index.html").read_text())
    page.close()
    body = "".join(page.data)
    # HTML shows runs of white space as one space, and error texts are stored with their white
    # space collapsed (reports.failures.describe): compare the words, in order, as a reader sees them
    words, seen = " ".join(text.split()), " ".join(body.split())
    assert words in seen or words.rstrip(".") in seen


def test_close_margins_are_marked(tmp_path):
    def judge_with(status, margin):
        def judge(prediction, results):
            return Verdict(status, "r", "p", "m", margin=margin)

        return judge

    claims = [
        make_claim("fake.close-hold", judge=judge_with("holds", 0.05)),
        make_claim("fake.close-fail", judge=judge_with("fails", -0.09)),
        make_claim("fake.clear", judge=judge_with("holds", 0.1)),
    ]
    with ResultStore(":memory:") as store, ThreadPoolExecutor(1) as ex:
        outcomes = run_claims(claims, "quick", store=store, executor=ex, progress="none")
    prov = collect_provenance(profile="quick", executor=None, wall_time=0.1, db="x", fresh=False)
    write_report(outcomes, tmp_path / "out", prov)
    md = (tmp_path / "out" / "report.md").read_text()
    rows = {line.split("]")[0][3:]: line for line in md.splitlines() if line.startswith("| [")}
    assert "| **+0.05 (close)** |" in rows["fake.close-hold"]
    assert "| **-0.09 (close)** |" in rows["fake.close-fail"]
    assert "| +0.10 |" in rows["fake.clear"] and "close" not in rows["fake.clear"]
    page = (tmp_path / "out" / "index.html").read_text()
    assert '<td class="close">+0.05 (close)</td>' in page
    assert '<td class="close">-0.09 (close)</td>' in page and "<td>+0.10</td>" in page
    assert format_margin(0.12) == "+0.12" and format_margin(-0.5) == "-0.50"
    assert format_margin(None) == "n/a" and format_margin(-11292.0) == "-1.1e+04"
    assert format_margin(float("nan")) == "n/a"
