"""Typeset math in the HTML report: inline SVG from mathtext, escaped source when it cannot parse."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from reports.mathsvg import latex_to_svg, math_html, to_mathtext


@pytest.mark.parametrize(
    "latex, expected",
    [
        (r"a\le b\ge c\ne d", r"a\leq b\geq c\neq d"),
        (r"\left(x\right)\leq y", r"\left(x\right)\leq y"),  # \left is not \le + ft
        (r"\tfrac12+\dfrac{a}{b}", r"\frac{1}{2}+\frac{a}{b}"),
        (r"\tfrac{t^{2l}}2", r"\frac{t^{2l}}{2}"),
        (r"\Big\|x\Big\|_F\bigl[y\bigr]", r"\|x\|_F[y]"),
        (r"\mathbb E\,K", r"\mathbb{E}\,K"),
        (r"\frac{\tfrac1l}{x}", r"\frac{\frac{1}{l}}{x}"),
    ],
)
def test_to_mathtext_rewrites(latex, expected):
    assert to_mathtext(latex) == expected


def test_simple_formula_is_inline_svg_with_glyph_paths():
    svg = latex_to_svg(r"\|T(W)-T^*\|_F^2\le\varepsilon", prefix="f1")
    assert svg is not None and svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<path" in svg  # glyphs drawn as paths: no font needed
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<script" not in svg
    # offline: the only references are to ids inside the same SVG
    refs = re.findall(r'href="([^"]*)"', svg)
    assert refs and all(r.startswith("#f1-") for r in refs)
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    assert {r[1:] for r in refs} <= ids and all(i.startswith("f1-") for i in ids)


def test_two_formulas_in_one_page_share_no_ids():
    a = latex_to_svg(r"x^2", prefix="a") or ""
    b = latex_to_svg(r"x^2", prefix="b") or ""
    ids_a = set(re.findall(r'\bid="([^"]+)"', a))
    ids_b = set(re.findall(r'\bid="([^"]+)"', b))
    assert ids_a and ids_b and not ids_a & ids_b


def test_unparsable_formula_falls_back_to_escaped_source():
    bad = r"\notamacro{x} < y & <script>"
    assert latex_to_svg(bad) is None
    out = math_html(bad)
    assert "<svg" not in out and "<script>" not in out
    assert r"\notamacro{x} &lt; y &amp; &lt;script&gt;" in out
    assert latex_to_svg("   ") is None


def test_math_html_is_well_formed_and_labelled():
    out = math_html(r"a<b", prefix="p")
    assert out.startswith('<div class="math"') and "<svg" in out
    assert 'aria-label="a&lt;b"' in out

    class Check(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.stack.append(tag)

        def handle_endtag(self, tag):
            assert self.stack.pop() == tag

    parser = Check()
    parser.feed(out)
    parser.close()
    assert parser.stack == []


def test_report_html_typesets_the_claim_latex(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from reports.render import collect_provenance, write_report
    from reports.runner import ExecutorInfo, run_claims
    from reports.store import ResultStore
    from tests.reports.fake_claims import make_claim

    with ResultStore(":memory:") as store, ThreadPoolExecutor(1) as ex:
        outcomes = run_claims(
            [make_claim("fake.math", n=1)], "quick", store=store, executor=ex, progress="none"
        )
    prov = collect_provenance(
        profile="quick", executor=ExecutorInfo("local", 1, 1), wall_time=0.0, db="x", fresh=False
    )
    write_report(outcomes, tmp_path / "out", prov)
    page = (tmp_path / "out" / "index.html").read_text()
    section = page.split('id="fake.math"', 2)[-1]
    assert '<div class="math" title="y = x^2"><svg' in section
    assert r"\[ y = x^2 \]" not in page  # not left as source
    assert "<script" not in page and 'src="http' not in page and "<link" not in page
