"""Jinja2 environments of the report: HTML with autoescaping, Markdown with one escape for every field.

The templates live in ``reports/templates/`` (package data). Both environments use
:class:`jinja2.StrictUndefined` (a misspelt field is an error, not an empty string).

* **HTML** (:func:`html_environment`): autoescaping on. Pre-formatted HTML (the typeset math, an
  SVG made by :mod:`reports.mathsvg`) is passed in as :class:`markupsafe.Markup`. The filter
  ``mathtext`` (:func:`html_math_text`) shows the sub- and superscripts of plain text
  (``e_1^{⊗4}``, ``δ0``) as ``<sub>``/``<sup>``: it escapes the text first and only then adds those
  two elements, so it is as safe as autoescaping.
* **Markdown** (:func:`markdown_environment`): every ``{{ ... }}`` goes through :func:`md_escape`
  (the environment's ``finalize``), so no template can forget it and no field — claim id,
  statement, LaTeX, error message — can open a heading, a table cell, a list, code, a link or raw
  HTML. Pre-formatted Markdown is emitted only when the data hands the template a :class:`Verbatim`
  (made by :func:`md_code`, :func:`md_fenced` or :func:`verbatim` in Python, never by a template).
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any

import jinja2
from markupsafe import Markup, escape

__all__ = [
    "Verbatim",
    "html_environment",
    "html_math_text",
    "markdown_environment",
    "md_code",
    "md_escape",
    "md_fenced",
    "verbatim",
]


class Verbatim(str):
    """Markdown text that is already safe: written into report.md as it is (see module docstring)."""

    __slots__ = ()


def verbatim(text: str) -> Verbatim:
    """Mark ``text``, built by the report's own code from safe parts, as pre-formatted Markdown."""
    return Verbatim(text)


# inline syntax anywhere in a line: backslash, code, emphasis, links/images, table cells, headings,
# strikethrough, math ($ on GitHub); ASCII punctuation may always be backslash-escaped (CommonMark)
_MD_INLINE = re.compile(r"([\\`*_\[\]|#~$])")
# block syntax at the start of a line: a list item ("- x", "+ x", "1. x", "1) x") or a line of only
# "-"/"=" (thematic break, setext underline)
_MD_LIST_ITEM = re.compile(r"^([-+])(?= |$)|^(\d{1,9})([.)])(?= |$)")
_MD_RULE = re.compile(r"^[-= ]+$")


def md_escape(value: Any) -> str:
    """``value`` as inert Markdown text on one line.

    Whitespace runs (newlines included) become one space, so nothing can start a new block;
    ``<``, ``>`` and ``&`` become entities (Markdown passes raw HTML through, and ``>`` starts a
    quote); the characters of inline syntax are backslash-escaped; a leading list marker or a line of
    rules is escaped too (the text may start a line).
    """
    if isinstance(value, Verbatim):
        return str(value)
    text = " ".join(str(value).split())
    text = html.escape(text, quote=False)
    text = _MD_INLINE.sub(r"\\\1", text)
    if _MD_RULE.match(text):
        return re.sub(r"([-=])", r"\\\1", text)
    return _MD_LIST_ITEM.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def md_code(text: str) -> Verbatim:
    """``text`` as an inline code span on one line (not for table cells: GFM splits them on ``|``).

    The fence is one backtick longer than the longest run of backticks inside (CommonMark), so the
    text cannot close it; line breaks become spaces, so it cannot start a block.
    """
    one_line = " ".join(str(text).splitlines())
    fence = "`" * (_longest_backtick_run(one_line) + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") or not one_line.strip() else ""
    return Verbatim(f"{fence}{pad}{one_line}{pad}{fence}")


def md_fenced(text: str, info: str = "") -> Verbatim:
    """``text`` as a fenced code block (``info``: e.g. ``"math"``, which GitHub typesets).

    The fence is longer than any run of backticks in ``text``, so no line of it can close the block.
    """
    body = "\n".join(str(text).splitlines())
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    if not re.fullmatch(r"[A-Za-z0-9_-]*", info):
        raise ValueError(f"info must be a word like 'math', got {info!r}")
    return Verbatim(f"{fence}{info}\n{body}\n{fence}")


# sub- and superscripts of plain-text math, matched in text that is already HTML-escaped (so "&",
# "<", ">" and quotes are entities and no "^" or "_" belongs to markup)
_SUP_BRACED = re.compile(r"\^\{([^{}]*)\}")  # x^{⊗4}, r^{2.5l}
_SUB_BRACED = re.compile(r"_\{([^{}]*)\}")  # a_{k+1}
_BASE = r"(?<=[^\W_]|[\u0300-\u036f)\]])"  # a letter or digit (w̄'s combining bar too), ")" or "]"
_SUP_ATOM = re.compile(_BASE + r"\^(\d+(?:\.\d+)?|[A-Za-z*])(?![0-9A-Za-z_])")  # d^l, (1/ε)^0.06
_SUB_ATOM = re.compile(  # a_k, e_1, w̄_i, P_l(ρ); never snake_case names (gradient_flow)
    r"(?<=[^\W\d_]|[\u0300-\u036f])_(\d+|[A-Za-z])(?![0-9A-Za-z_])"
)
_GREEK_INDEX = re.compile(
    r"(?<![0-9A-Za-z_])([\u03b1-\u03c9\u0391-\u03a9])(\d)(?![0-9A-Za-z_.])"
)  # δ0


def html_math_text(value: Any) -> Markup:
    """``value`` as HTML text whose plain-text sub- and superscripts are typeset.

    ``x^{...}``/``x_{...}``, ``x^k``/``x_k`` (one letter or a number) and a Greek letter followed by
    one digit (``δ0``) become ``<sup>``/``<sub>``. The text is escaped first; the captured parts are
    escaped text too, so nothing but those two elements can enter the page. ``Markup`` passes
    unchanged (it is HTML already).
    """
    if isinstance(value, Markup):
        return value
    text = str(escape(str(value)))
    text = _SUP_BRACED.sub(r"<sup>\1</sup>", text)
    text = _SUB_BRACED.sub(r"<sub>\1</sub>", text)
    text = _SUP_ATOM.sub(r"<sup>\1</sup>", text)
    text = _SUB_ATOM.sub(r"<sub>\1</sub>", text)
    text = _GREEK_INDEX.sub(r"\1<sub>\2</sub>", text)
    return Markup(text)


def _loader() -> jinja2.BaseLoader:
    return jinja2.PackageLoader("reports", "templates")


@functools.cache
def html_environment() -> jinja2.Environment:
    """The HTML templates' environment: autoescaping on, strict undefined fields, ``mathtext``."""
    env = jinja2.Environment(
        loader=_loader(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["mathtext"] = html_math_text
    return env


@functools.cache
def markdown_environment() -> jinja2.Environment:
    """The Markdown templates' environment: :func:`md_escape` on every field, strict undefined fields."""
    return jinja2.Environment(
        loader=_loader(),
        autoescape=False,
        finalize=md_escape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
