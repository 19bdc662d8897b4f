"""Every package of the source tree goes into the wheel (a non-editable install must have its claims)."""

from __future__ import annotations

import tomllib
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
