"""The report's groups: which paper a claim belongs to, and the order claims are read in.

A claim's group comes from the module that declared it (:attr:`reports.registry.Claim.module`):
``reports.claims.paper1.*`` is paper 1, ``reports.claims.paper2.*`` paper 2,
``reports.claims.classical.*`` the classical and foundation checks, and anything else (``--load``
files, entry points, claims built in code) "Other claims". No claim id is listed here.

Within a group claims are read in the papers' order of topics: the group's areas in the order the
paper develops them (paper 1: the lazy-training lower bound, then the variant that goes beyond it;
classical: the foundations, then the derived theory); within an area the paper's headline statements
(those its abstract makes) first, then its other statements, then the classical or derived facts
that support them, then the extensions past them (read from the claim's ``reference`` and
``source``), then by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["GROUPS", "OTHER", "Group", "group_of", "reading_order"]


@dataclass(frozen=True)
class Group:
    """One section of the report: a paper, the classical checks, or the claims from elsewhere."""

    key: str
    """HTML anchor and sort key (``paper1``, ``paper2``, ``classical``, ``other``)."""
    title: str
    citation: str
    """Authors, venue and year; empty for a group that is not a paper."""
    url: str
    """Where the paper can be read; empty for a group that is not a paper."""
    blurb: str
    """One sentence: what the group's claims check."""
    module_prefix: str
    """Claims declared in modules under this prefix belong here (empty: none)."""
    areas: tuple[str, ...] = ()
    """The group's claim areas (the id's first part) in reading order; others follow by name."""


GROUPS: tuple[Group, ...] = (
    Group(
        "paper1",
        "Paper 1 — Beyond Lazy Training for Over-parameterized Tensor Decomposition",
        "Xiang Wang, Chenwei Wu, Jason D. Lee, Tengyu Ma, Rong Ge. NeurIPS 2020.",
        "https://arxiv.org/abs/2010.11356",
        "Lazy (NTK-regime) training needs m = Ω(d^{l-1}) components; a variant of gradient descent "
        "finds an approximation with m = O*(r^{2.5l} log d).",
        "reports.claims.paper1",
        ("lazy", "beyond"),
    ),
    Group(
        "paper2",
        "Paper 2 — Understanding Deflation Process in Over-parametrized Tensor Decomposition",
        "Rong Ge, Yunwei Ren, Xiang Wang, Mo Zhou. NeurIPS 2021.",
        "https://arxiv.org/abs/2106.06573",
        "Gradient flow fits the larger components first, like tensor deflation; a modified flow "
        "(Algorithm 1) provably recovers every component of an orthogonal tensor.",
        "reports.claims.paper2",
        ("deflation",),
    ),
    Group(
        "classical",
        "Classical and foundation checks",
        "",
        "",
        "The identities, gradients and derived formulas the paper claims are measured with.",
        "reports.claims.classical",
        ("foundation", "theory"),
    ),
)
OTHER = Group(
    "other",
    "Other claims",
    "",
    "",
    "Claims loaded from outside the package (--load files, entry points, claims built in code).",
    "",
)


def group_of(module: str) -> Group:
    """The group of a claim declared in ``module`` (:data:`OTHER` for any module outside the three)."""
    for group in GROUPS:
        if module == group.module_prefix or module.startswith(group.module_prefix + "."):
            return group
    return OTHER


def _kind_rank(source: str, reference: str = "") -> int:
    """0: a headline statement (the paper's abstract makes it); 1: another statement of the paper;
    2: a classical or derived fact it relies on; 3: an extension past the paper."""
    text = source.strip().lower()
    if text.startswith("extension"):
        return 3
    if text.startswith(("classical", "derived", "docs/math.md")):
        return 2
    if "abstract" in f"{reference} {source}".lower():
        return 0
    return 1


def reading_order(
    group: Group, claim_id: str, source: str, reference: str = ""
) -> tuple[int, int, str, str]:
    """Sort key of a claim inside ``group``: area (the group's order), kind (:func:`_kind_rank`), id."""
    area = claim_id.split(".", 1)[0]
    areas: Sequence[str] = group.areas
    rank = areas.index(area) if area in areas else len(areas)
    return (rank, _kind_rank(source, reference), area, claim_id)
