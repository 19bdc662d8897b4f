"""Packaging: every package of the source tree goes into the wheel (a non-editable install must have its
claims); the built sdist and wheel carry the license, the docs, the type markers and the metadata."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_packaged():
    find_packages = pytest.importorskip("setuptools").find_packages
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    find = config["tool"]["setuptools"]["packages"]["find"]
    packaged = set(find_packages(str(ROOT), include=find["include"]))
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("theory", "numerics", "reports")
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert {"reports.claims", "numerics.algorithms"} <= on_disk
    assert on_disk <= packaged, sorted(on_disk - packaged)


# --------------------------------------------------------------------------------------------------
# the built distributions: one sdist and one wheel built from it, checked file by file


PACKAGES = ("theory", "numerics", "reports")
PAPERS = ("https://arxiv.org/abs/2010.11356", "https://arxiv.org/abs/2106.06573")


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str], str]:
    """``python -m build``: the sdist, then the wheel built from the unpacked sdist (so a file the sdist
    forgets is missing from the wheel too). Returns the sdist's names (without the top folder), the
    wheel's names and the wheel's METADATA."""
    pytest.importorskip("build", reason="needs the 'build' package (pip install build)")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (sdist,) = out.glob("overtensor-*.tar.gz")
    (wheel,) = out.glob("overtensor-*.whl")
    with tarfile.open(sdist) as tar:
        sdist_names = [name.split("/", 1)[1] for name in tar.getnames() if "/" in name]
    with zipfile.ZipFile(wheel) as zf:
        wheel_names = zf.namelist()
        (meta,) = [n for n in wheel_names if n.endswith(".dist-info/METADATA")]
        metadata = zf.read(meta).decode("utf-8")
    return sdist_names, wheel_names, metadata


def _package_files() -> set[str]:
    """Every file inside the three package folders (Python or not: templates, py.typed, ...)."""
    return {
        path.relative_to(ROOT).as_posix()
        for top in PACKAGES
        for path in (ROOT / top).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_sdist_has_license_docs_tests_and_citation(dists) -> None:
    sdist, _, _ = dists
    names = set(sdist)
    expected = {"LICENSE", "README.md", "CHANGELOG.md", "CITATION.cff", "pyproject.toml", "tox.ini"}
    assert expected <= names, sorted(expected - names)
    docs = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*") if p.is_file()}
    docs = {d for d in docs if "__pycache__" not in d}
    assert "docs/math.md" in docs and docs <= names, sorted(docs - names)
    assert "tests/test_packaging.py" in names and "tests/rounding.py" in names
    assert _package_files() <= names, sorted(_package_files() - names)


def test_wheel_has_every_package_file_py_typed_license_and_math_notes(dists) -> None:
    _, wheel, _ = dists
    names = set(wheel)
    # every file of the packages, templates and other data included (a report rendered from an
    # installed wheel must find them); py.typed marks each package as typed (PEP 561)
    assert {f"{p}/py.typed" for p in PACKAGES} <= _package_files()
    assert _package_files() <= names, sorted(_package_files() - names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)[-8:]
    # every docstring cites docs/math.md: it is installed under <prefix>/share/overtensor/docs
    math_md = [n for n in names if n.endswith(".data/data/share/overtensor/docs/math.md")]
    assert len(math_md) == 1, [n for n in names if ".data/" in n]
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)


def test_wheel_metadata_license_authors_urls_classifiers(dists) -> None:
    _, _, metadata = dists
    headers = [line.split(": ", 1) for line in metadata.split("\n\n", 1)[0].splitlines()]
    fields: dict[str, list[str]] = {}
    for key, value in (h for h in headers if len(h) == 2):
        fields.setdefault(key, []).append(value)
    assert fields["License-Expression"] == ["MIT"]
    assert fields["License-File"] == ["LICENSE"]
    assert fields["Author"] == ["overtensor developers"]
    urls = [u.split(", ", 1)[1] for u in fields["Project-URL"]]
    assert sorted(urls) == sorted(PAPERS)
    classifiers = fields["Classifier"]
    assert (
        "Typing :: Typed" in classifiers and "Intended Audience :: Science/Research" in classifiers
    )
    assert not any(
        c.startswith("License ::") for c in classifiers
    )  # the expression says it (PEP 639)


def test_license_changelog_and_citation_files() -> None:
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License")
    assert "Copyright (c) 2026 the overtensor developers" in license_text
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog and "## [0.1.0]" in changelog
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert f"version: {version['version']}" in citation
    for url in PAPERS:
        assert url in citation
    for author in ("Xiang", "Chenwei", "Tengyu", "Yunwei", "Zhou"):
        assert author in citation
