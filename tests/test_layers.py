"""The import layering of docs/architecture.md, checked from the source (no import is executed).

Every ``import`` and ``from ... import`` statement of ``theory/``, ``numerics/``, ``reports/`` and
``benchmarks/`` is read with :mod:`ast` — at module level and inside functions alike, since a deferred
import closes a circle as surely as a top-level one — and resolved to the module it names. Then:

* ``theory`` and ``numerics`` never import each other, ``reports``, ``benchmarks`` or ``tests``;
  ``reports`` never imports ``benchmarks`` or ``tests`` (benchmarks sit on top);
* every module of ``reports`` has a rank in :data:`REPORTS_RANKS` and imports only modules of a lower
  rank (the built-in claims, ``reports.claims.**``, count as one rank and may import each other);
  in particular ``reports.registry`` imports nothing but modules that themselves import no other
  ``reports`` module (nothing that reaches ``statistics``, ``loading`` or the claims);
* no circle of imports runs through the modules of ``reports`` (claim modules included).

Imports made by name at run time (``importlib.import_module``) are invisible here: the built-in claims'
discovery and :mod:`reports.loading`'s import of :mod:`reports.loaded` use them on purpose.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theory", "numerics", "reports", "benchmarks")

REPORTS_RANKS: dict[str, int] = {
    # leaves: import no other reports module
    "reports.paths": 0,  # checks of user paths (UTF-8, name lengths)
    "reports.failures": 0,  # what claim code raised, described; interrupts told apart
    "reports.store": 1,  # SQLite results store, config_json/to_jsonable (used by claims too)
    "reports.procs": 0,  # worker processes
    "reports.outdir": 1,  # output folder checks
    "reports.mathsvg": 0,  # LaTeX -> inline SVG
    "reports.numfmt": 0,  # numbers and short texts for people (reasons, report cells)
    "reports.grouping": 0,  # the report's groups (papers, classical, other) and reading order
    "reports.expectations": 0,  # --expect files: expected verdicts, strict comparison
    "reports.diff": 0,  # two summary.json files compared (overtensor diff)
    # the claims and the rules they are judged by
    "reports.registry": 1,  # declare/seal, Claim, Verdict, REGISTRY: claims only
    "reports.statistics": 2,  # evidence rules (docs/math.md §7) -> Verdict
    "reports.registered": 3,  # the pre-registration file (bars, tolerances, seed blocks)
    "reports.claims": 4,  # the built-in claims (every reports.claims.** module)
    # finding claims
    "reports.loading": 5,  # --load files/folders/modules, entry points
    "reports.loaded": 6,  # import hook for loaded files (worker processes)
    "reports.catalog": 6,  # all_claims / get_claim
    "reports.planning": 6,  # verdicts against their registration, replication records
    # running and showing them
    "reports.runner": 7,  # executors, store lookups, judging, controls
    "reports.templating": 0,  # Jinja2 environments, Markdown escaping (engine-wide)
    "reports.artifacts": 4,  # figures and typeset math, cached in the store by input hash
    "reports.render": 8,  # the report: HTML, Markdown, figures, summary.json
    "reports.calibrate": 8,  # calibration blocks, planned power, writing registered.toml
    "reports.api": 9,  # the notebook API
    "reports.cli": 9,  # the overtensor command
    "reports": 10,  # the package: exposes the API lazily
    "reports.__main__": 10,  # python -m reports
}
"""Rank of each ``reports`` module: a module imports only modules of strictly lower rank."""

FORBIDDEN = {
    "theory": ("numerics", "reports", "benchmarks", "tests"),
    "numerics": ("theory", "reports", "benchmarks", "tests"),
    "reports": ("benchmarks", "tests"),
}


# ---------------------------------------------------------------------------------------------
# reading the imports
# ---------------------------------------------------------------------------------------------
def module_name(path: Path, root: Path = ROOT) -> str:
    """``reports/claims/_shared.py`` -> ``reports.claims._shared``; a package's ``__init__`` -> the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The modules that ``source`` (the text of ``module``) imports, relative imports resolved.

    ``from X import name`` counts as an import of ``X.name`` when that is a module in ``known``, and
    of ``X`` otherwise. Parent packages imported implicitly are not counted.
    """
    known = set(known)
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    return found


def source_modules(packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """``{module name: file}`` for every ``.py`` file of ``packages``."""
    return {
        module_name(p): p
        for package in packages
        for p in sorted((ROOT / package).rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def import_graph(files: Mapping[str, Path]) -> dict[str, set[str]]:
    """``{module: modules it imports}`` (any module, not only those of ``files``)."""
    return {
        name: imported_modules(
            path.read_text(encoding="utf-8"), name, path.name == "__init__.py", files
        )
        for name, path in files.items()
    }


def top(name: str) -> str:
    return name.split(".", 1)[0]


def reports_rank(name: str) -> int | None:
    """The rank of a reports module (the claims subtree shares ``reports.claims``'s)."""
    if name == "reports.claims" or name.startswith("reports.claims."):
        return REPORTS_RANKS["reports.claims"]
    return REPORTS_RANKS.get(name)


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One circle ``[a, b, ..., a]`` of ``graph``'s edges between its own nodes, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


# ---------------------------------------------------------------------------------------------
# the helpers can tell a violation (they are what the checks below rely on)
# ---------------------------------------------------------------------------------------------
def test_import_reader_resolves_relative_and_nested_imports():
    source = (
        "from ...registry import declare\n"
        "from . import _common\n"
        "import numpy as np\n"
        "def f():\n"
        "    from ...loading import load\n"
    )
    known = {"reports.registry", "reports.claims.classical._common", "reports.loading"}
    found = imported_modules(source, "reports.claims.classical.x", False, known)
    assert found == {
        "reports.registry",
        "reports.claims.classical._common",
        "numpy",
        "reports.loading",
    }
    assert imported_modules("from . import api\n", "reports", True, {"reports.api"}) == {
        "reports.api"
    }
    # two dots from a module of reports/claims/ name reports/, from reports/claims/classical/ not
    assert imported_modules("from ..registry import x\n", "reports.claims.lazy", False, ()) == {
        "reports.registry"
    }
    assert imported_modules("from ..registry import x\n", "reports.claims.c.m", False, ()) == {
        "reports.claims.registry"
    }


def test_find_cycle_finds_a_circle_and_only_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "numpy"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


# ---------------------------------------------------------------------------------------------
# the layering itself
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = source_modules()
    assert len(files) > 50 and "reports.registry" in files and "theory" in files
    return import_graph(files)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_what_they_may(graph, package):
    bad = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if top(module) == package
        for target in targets
        if top(target) in FORBIDDEN[package]
    )
    assert not bad, "\n".join(bad)


def test_every_reports_module_has_a_rank(graph):
    unranked = sorted(m for m in graph if top(m) == "reports" and reports_rank(m) is None)
    assert not unranked, (
        f"place these modules in tests/test_layers.py REPORTS_RANKS and docs/architecture.md: "
        f"{unranked}"
    )


def test_reports_modules_import_only_lower_ranks(graph):
    bad = []
    for module, targets in graph.items():
        rank = reports_rank(module)
        if rank is None:
            continue
        for target in targets:
            other = reports_rank(target)
            if other is None or (other == rank == REPORTS_RANKS["reports.claims"]):
                continue  # not a reports module; or one claim module using another's helpers
            if other >= rank:
                bad.append(f"{module} (rank {rank}) imports {target} (rank {other})")
    assert not bad, "\n".join(sorted(bad))


def test_registry_imports_only_leaf_modules(graph):
    """The registry holds claims only: what it imports from reports imports no reports module."""
    used = {t for t in graph["reports.registry"] if top(t) == "reports"}
    for target in used:
        assert not {t for t in graph.get(target, ()) if top(t) == "reports"}, target


def test_no_import_circle_in_reports(graph):
    reports_graph = {m: t for m, t in graph.items() if top(m) == "reports"}
    cycle = find_cycle(reports_graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])
