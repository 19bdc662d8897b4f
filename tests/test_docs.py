"""The project's own math notes: every "docs/math.md §N" citation names a heading that exists.

A later edit of docs/math.md (renumbering, a removed section) or a docstring citing a section that was
never written fails here. The repository must not point at files outside it either.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MATH = ROOT / "docs" / "math.md"
CITING_PACKAGES = ("theory", "numerics", "reports", "benchmarks")

_NUMBER = r"\d+(?:\.\d+)*"
# "docs/math.md §4", "§3.3", "§2–4", "§3–§6", "§5, §6", "§2-3" (citations may wrap onto the next line)
_CITATION = re.compile(
    rf"docs/math\.md\s*(§\s*{_NUMBER}(?:\s*(?:[–-]|,|and)\s*§?\s*{_NUMBER}(?![\w]))*)"
)
_HEADING = re.compile(rf"^#{{2,4}}\s+({_NUMBER})\.?\s", re.M)


def headings(text: str) -> set[str]:
    """Section numbers of the Markdown headings ``## 4. Lazy regime``, ``### 3.3 Two-homogeneous``."""
    return set(_HEADING.findall(text))


def citations(text: str) -> list[str]:
    """Every section number cited as ``docs/math.md §...`` in ``text`` (ranges give both ends)."""
    out = []
    for group in _CITATION.findall(text):
        out += re.findall(_NUMBER, group)
    return out


def _repo_files(*suffixes: str) -> list[Path]:
    """Files of the checkout (git's view: tracked and untracked-not-ignored), or of the tree."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked sdist)
        skip = {".git", ".tox", ".venv", "build", "dist", "__pycache__", ".overtensor-cache"}
        listed = [
            str(p.relative_to(ROOT))
            for p in ROOT.rglob("*")
            if not skip & set(p.relative_to(ROOT).parts)
        ]
    return [ROOT / p for p in listed if p.endswith(suffixes) and (ROOT / p).is_file()]


def test_parsers_on_examples():
    text = "## 1. Targets\n### 3.3 Two-homogeneous model\n#### 8.1.2 deep\n# title\n## Notation\n"
    assert headings(text) == {"1", "3.3", "8.1.2"}
    cited = citations(
        "see docs/math.md §4 and docs/math.md §3.3. Also (docs/math.md §2–4), docs/math.md §3–§6,\n"
        "docs/math.md\n    §5, §6 and docs/math.md §6: x; docs/math.md's numbers; docs/math.md, notation"
    )
    assert cited == ["4", "3.3", "2", "4", "3", "6", "5", "6", "6"]


def test_math_md_has_the_stable_sections():
    found = headings(MATH.read_text(encoding="utf-8"))
    required = {"1", "2", "3", "3.1", "3.2", "3.3", "4", "5", "6", "7", "8"}
    assert required <= found, sorted(required - found)


def test_every_citation_names_an_existing_heading():
    found = headings(MATH.read_text(encoding="utf-8"))
    missing: list[str] = []
    total = 0
    for path in _repo_files(".py", ".md"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] not in CITING_PACKAGES:
            continue
        for number in citations(path.read_text(encoding="utf-8")):
            total += 1
            if number not in found:
                missing.append(f"{rel}: docs/math.md §{number}")
    assert total >= 100, f"only {total} citations found: is the citation pattern still right?"
    assert not missing, "citations of sections that docs/math.md does not have:\n" + "\n".join(
        missing
    )


@pytest.mark.parametrize("needle", ["MATH" + ".md", "shared" + "/"])
def test_nothing_points_outside_the_repository(needle):
    offenders = []
    for path in _repo_files(
        ".py", ".md", ".toml", ".ini", ".txt", ".cfg", ".json", ".yml", ".yaml"
    ):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if needle in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"{needle!r} is mentioned in {offenders}"


def _public_rows() -> list[tuple[str, str]]:
    """``(module, cell)`` for the first cell of every row of the "Public names" tables (docs/api.md)."""
    section = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    rows = []
    package = ""
    for line in section.splitlines():
        header = re.match(r"\*\*`(\w+)`\*\*", line)
        if header:
            package = header.group(1)
        elif line.startswith("| `") and package:
            rows.append((package, line.split("|")[1]))
    return rows


def test_readme_public_names_exist():
    import importlib

    rows = _public_rows()
    assert {p for p, _ in rows} == {"numerics", "theory", "reports"} and len(rows) >= 30
    checked = 0
    for package, cell in rows:
        module = package
        names = re.findall(r"`([^`]+)`", cell)
        sub = re.match(r"\s*`(?:reports|numerics)\.(\w+)`:", cell)
        if sub:
            module = f"{package}.{sub.group(1)}"
            names = names[1:]
        mod = importlib.import_module(module)
        for name in names:
            name = re.sub(r"\(.*", "", name).replace("(_expr", "")
            if name.startswith(f"{package}."):
                name = name.split(".", 1)[1]
            assert hasattr(mod, name), f"docs/api.md: {module}.{name} does not exist"
            checked += 1
    assert checked >= 60


_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize(
    "doc", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))], ids=lambda p: p.name
)
def test_relative_links_resolve(doc):
    """Every relative link of the README and docs/ names a file of the repository (and, with
    ``#anchor``, one of its headings)."""
    broken = []
    for target in _LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve()
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md":
            text = file.read_text(encoding="utf-8")
            slugs = {_slug(h) for h in re.findall(r"^#+\s+(.*)$", text, re.M)}
            if anchor not in slugs:
                broken.append(target)
    assert not broken, f"{doc.name}: broken links {broken}"


def test_readme_cites_no_issue_numbers():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"\bissues? #?\d+", readme, re.I), "the README is read without the tracker"
