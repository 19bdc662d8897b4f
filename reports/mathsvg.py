"""Typeset a claim's LaTeX as inline SVG for the self-contained HTML report (no network, no JS).

:func:`latex_to_svg` renders with matplotlib's *mathtext* (the TeX subset matplotlib parses itself;
no TeX installation). Glyphs are written as SVG paths, so the result looks the same in every
browser, offline, without fonts. mathtext lacks a few common commands; :func:`to_mathtext` rewrites
them first:

* ``\\le``, ``\\ge``, ``\\ne`` → ``\\leq``, ``\\geq``, ``\\neq``;
* ``\\big``, ``\\Big``, ``\\bigg``, ``\\Bigg`` (with ``l``/``r``/``m``) are dropped: delimiters keep
  their normal size;
* ``\\tfrac``/``\\dfrac`` → ``\\frac``, and unbraced arguments (``\\frac12``, ``\\mathbb E``) are
  braced.

When mathtext still cannot parse a formula, :func:`math_html` falls back to the escaped source in a
monospace box, so a report never fails because of a formula.
"""

from __future__ import annotations

import html
import io
import re
import warnings

__all__ = ["labelled_svg", "latex_to_svg", "math_html", "prefix_ids", "to_mathtext", "typeset_svg"]

_RENAMES = {
    r"\le": r"\leq",
    r"\ge": r"\geq",
    r"\ne": r"\neq",
    r"\tfrac": r"\frac",
    r"\dfrac": r"\frac",
}
_ARITY = {r"\frac": 2, r"\mathbb": 1, r"\mathcal": 1, r"\mathrm": 1, r"\mathbf": 1, r"\text": 1}
_COMMAND = re.compile(r"\\[A-Za-z]+")
_SIZING = re.compile(r"\\(?:[Bb]igg?)[lrm]?(?![A-Za-z])")


def _read_arg(s: str, i: int) -> tuple[str, int]:
    """The argument of a macro starting at ``s[i:]`` (spaces skipped): braced group, command or char."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return "", i
    if s[i] == "{":
        depth = 0
        for j in range(i, len(s)):
            depth += {"{": 1, "}": -1}.get(s[j], 0)
            if depth == 0:
                return s[i + 1 : j], j + 1
        return s[i + 1 :], len(s)
    m = _COMMAND.match(s, i)
    if m:
        return m.group(0), m.end()
    return s[i], i + 1


def to_mathtext(latex: str) -> str:
    """Rewrite LaTeX that matplotlib's mathtext does not parse into an equivalent it does."""
    s = _SIZING.sub("", latex)
    out: list[str] = []
    i = 0
    while i < len(s):
        m = _COMMAND.match(s, i)
        if not m:
            out.append(s[i])
            i += 1
            continue
        name = _RENAMES.get(m.group(0), m.group(0))
        i = m.end()
        out.append(name)
        for _ in range(_ARITY.get(name, 0)):
            arg, i = _read_arg(s, i)
            out.append("{" + to_mathtext(arg) + "}")
    return "".join(out)


_STRIP = [
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*"),
    re.compile(r"<!--.*?-->\s*", re.S),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
]


def typeset_svg(latex: str, fontsize: float = 13.0) -> str | None:
    """``latex`` typeset by mathtext as an ``<svg>`` element with its own ids, or None if unparsable.

    The element ids are those matplotlib writes; :func:`prefix_ids` makes them unique in a page.
    This is what :mod:`reports.artifacts` caches.
    """
    from matplotlib import rc_context
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import math_to_image

    if not latex.strip():
        return None
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings(), rc_context({"svg.hashsalt": "overtensor"}):
            warnings.simplefilter("ignore")
            math_to_image(
                f"${to_mathtext(latex)}$", buf, prop=FontProperties(size=fontsize), format="svg"
            )
    except Exception:  # mathtext's parse errors are ValueErrors; never let a formula break a report
        return None
    svg = buf.getvalue().decode("utf-8")
    for pattern in _STRIP:
        svg = pattern.sub("", svg)
    start = svg.find("<svg")
    return svg[start:].strip() if start >= 0 else None


def prefix_ids(svg: str, prefix: str) -> str:
    """``svg`` with every element id, and every reference to one, prefixed by ``prefix-``."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    return re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)


def latex_to_svg(latex: str, *, prefix: str = "m", fontsize: float = 13.0) -> str | None:
    """``latex`` typeset by mathtext as an inline ``<svg>`` element, or None if it cannot be parsed.

    ``prefix`` makes the SVG's element ids unique within one HTML page (several formulas share the
    document's id space).
    """
    svg = typeset_svg(latex, fontsize)
    return None if svg is None else prefix_ids(svg, prefix)


def labelled_svg(svg: str, latex: str, *, prefix: str) -> str:
    """A typeset ``svg`` (from :func:`typeset_svg`) ready for a page: ids prefixed, LaTeX as its label."""
    svg = prefix_ids(svg, prefix)
    return svg.replace("<svg", f'<svg role="img" aria-label="{html.escape(latex)}"', 1)


def math_html(latex: str, *, prefix: str = "m") -> str:
    """HTML for one formula: the SVG (LaTeX source as its accessible label), else escaped source."""
    svg = typeset_svg(latex)
    source = html.escape(latex)
    if svg is None:
        return f'<div class="latex" title="LaTeX source (not typeset)">\\[ {source} \\]</div>'
    return f'<div class="math" title="{source}">{labelled_svg(svg, latex, prefix=prefix)}</div>'
