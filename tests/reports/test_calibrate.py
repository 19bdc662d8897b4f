"""Calibration blocks, planned power and the written registration (reports/calibrate.py, §7.8)."""

from __future__ import annotations

import tomllib
from concurrent.futures import ThreadPoolExecutor

import pytest

from reports.calibrate import calibrated_rates, format_calibration, write_calibration
from reports.registered import CALIBRATION_OFFSET, registration
from reports.runner import run_claims
from reports.statistics import calibration_estimate
from reports.store import ResultStore

from .fake_claims import make_claim, seed_rate_judge


@pytest.fixture
def store(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as s:
        yield s


def _calibrate(claim, store):
    with ThreadPoolExecutor(2) as pool:
        return run_claims(
            [claim], "quick", store=store, executor=pool, progress="none",
            seed_offset=CALIBRATION_OFFSET,
        )  # fmt: skip


def test_calibration_runs_the_shifted_block_and_plans_power(store):
    claim = make_claim("fake.rate", n=8, judge=seed_rate_judge)
    (outcome,) = _calibrate(claim, store)
    seeds = [c.seed for c in outcome.configs]
    assert seeds == [CALIBRATION_OFFSET + x for x in range(8)]
    (rate,) = calibrated_rates([outcome])
    # seeds 500000..500007: multiples of 4 are 500000 and 500004
    assert (rate.successes, rate.trials) == (6, 8)
    assert rate.expected == calibration_estimate(6, 8)
    text = format_calibration([rate])
    assert "calibration 6/8" in text and "below the target power" in text


def test_write_calibration_registers_once_and_refuses_a_changed_bar(store, tmp_path):
    claim = make_claim("fake.rate", n=8, judge=seed_rate_judge, controls={"big": [1, 2, 3, 4]})
    outcomes = _calibrate(claim, store)
    path = tmp_path / "registered.toml"
    changes = write_calibration(outcomes, path, commit="abcdef1234567890", today="2026-12-07")
    assert any("registered bar 0.5" in c for c in changes)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entry = data["fake.rate"]["quick"]["rates"]["seed not a multiple of 4"]
    assert entry["calibration"] == [6, 8] and entry["trials"] == 8 and entry["bar"] == 0.5
    assert "2026-12-07, commit abcdef123456" in entry["calibrated"]
    assert data["fake.rate"]["quick"]["seeds"] == "0-7, 101-104"
    assert data["fake.rate"]["quick"]["calibration_seeds"] == "500000-500007, 500101-500104"
    control = registration("fake.rate", path).rate(
        "quick", "seed not a multiple of 4", control="big"
    )
    assert control is not None and control.calibration == (3, 4)
    # the registered bar is now fixed: a judge that moves it is refused, the file is left as it was
    path.write_text(
        path.read_text(encoding="utf-8").replace("bar = 0.5", "bar = 0.6", 1), encoding="utf-8"
    )
    before = path.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="change a bar by hand"):
        write_calibration(outcomes, path)
    assert path.read_text(encoding="utf-8") == before


def test_write_refuses_outcomes_of_the_judged_block(store, tmp_path):
    claim = make_claim("fake.rate", n=4, judge=seed_rate_judge)
    with ThreadPoolExecutor(1) as pool:
        outcomes = run_claims([claim], "quick", store=store, executor=pool, progress="none")
    with pytest.raises(ValueError, match="not a calibration block"):
        write_calibration(outcomes, tmp_path / "registered.toml")
