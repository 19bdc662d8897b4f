"""The benchmark regression guard (``python -m benchmarks --check``): a >30% ratio regression fails."""

from __future__ import annotations

import json

import pytest

import benchmarks
from benchmarks import __main__ as bench_main

THRESHOLDS = {
    "m": {
        "speed": {"value": 10.0, "higher_is_better": True},
        "overhead": {"value": 1.0, "higher_is_better": False},
    }
}


@pytest.mark.parametrize(
    ("speed", "overhead", "expected"),
    [
        (7.01, 1.29, {"speed": "ok", "overhead": "ok"}),  # just inside 30%
        (6.99, 1.0, {"speed": "REGRESSED", "overhead": "ok"}),  # speed-up lost > 30%
        (10.0, 1.31, {"speed": "ok", "overhead": "REGRESSED"}),  # overhead grew > 30%
    ],
)
def test_check_ratios_flags_regressions_beyond_30_percent(speed, overhead, expected):
    records = {"m": {"speed": (speed, True), "overhead": (overhead, False)}}
    rows = bench_main.check_ratios(records, THRESHOLDS)
    assert {r["name"]: r["status"] for r in rows} == expected


def test_unmeasured_and_new_ratios_are_listed_not_failed():
    rows = bench_main.check_ratios({"other": {"x": (1.0, True)}}, THRESHOLDS)
    status = {(r["module"], r["name"]): r["status"] for r in rows}
    assert status == {
        ("m", "speed"): "not measured",
        ("m", "overhead"): "not measured",
        ("other", "x"): "no threshold",
    }


def test_thresholds_file_is_well_formed():
    data = json.loads(bench_main.THRESHOLDS.read_text())
    for module, entries in data.items():
        if module.startswith("_"):
            continue
        assert module in benchmarks.available(), module
        for name, th in entries.items():
            assert th["value"] > 0, (module, name)
            assert isinstance(th["higher_is_better"], bool), (module, name)
