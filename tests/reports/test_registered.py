"""The pre-registration file and its reader (reports/registered.py, docs/math.md §7.8-7.10)."""

from __future__ import annotations

import dataclasses

import pytest

from reports.registered import (
    CALIBRATION_OFFSET,
    REPLICATION_OFFSET,
    RegistrationError,
    describe_seeds,
    load_registered,
    registration,
    seed_values,
    shift_seeds,
)
from reports.statistics import calibration_estimate, rate_power

GOOD = """
["area.claim"]
tolerances = { rtol = 1e-10 }

["area.claim".quick]
seeds = "0-9"
calibration_seeds = "500000-500009"
bars = { min_rate = 0.5 }
tolerances = { rtol = 1e-8 }

["area.claim".quick.rates."d=10: success"]
bar = 0.5
trials = 10
calibration = [9, 10]
calibrated = "2026-12-07, commit abc1234"

["area.claim".quick.controls."plain model".rates."d=10: success"]
bar = 0.5
trials = 10
calibration = [1, 10]

[["area.claim".history]]
date = "2026-12-01"
commit = "49bd9d8"
what = "full.bars.min_rate"
old = 0.85
new = 0.75
reason = "lowered after a run"
results_seen = true
"""


def _write(tmp_path, text: str):
    path = tmp_path / "registered.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_bars_tolerances_rates_and_history(tmp_path):
    reg = registration("area.claim", _write(tmp_path, GOOD))
    assert reg.bar("quick", "min_rate") == 0.5
    assert reg.tolerance("rtol") == 1e-10
    assert reg.tolerance("rtol", "quick") == 1e-8  # the profile's own wins
    assert reg.tolerance("rtol", "full") == 1e-10  # else the claim-wide one
    rate = reg.rate("quick", "d=10: success")
    assert rate is not None and rate.trials == 10
    assert rate.expected == calibration_estimate(9, 10)
    assert rate.power == pytest.approx(rate_power(10 / 12, 10, 0.5), abs=1e-15)
    control = reg.rate("quick", "d=10: success", control="plain model")
    assert control is not None and control.expected == 2 / 12
    assert reg.history[0].results_seen and reg.changed_after_results
    d = reg.as_dict()
    assert d["history"][0]["old"] == 0.85 and d["profiles"]["quick"]["seeds"] == "0-9"


def test_missing_bar_names_claim_profile_and_file(tmp_path):
    reg = registration("area.claim", _write(tmp_path, GOOD))
    with pytest.raises(
        RegistrationError, match=r"'area.claim'.*'max_rate'.*'quick'.*registered.toml"
    ):
        reg.bar("quick", "max_rate")
    with pytest.raises(RegistrationError, match="tolerance 'atol'"):
        reg.tolerance("atol")


def test_unregistered_claim_is_empty(tmp_path):
    reg = registration("other.claim", _write(tmp_path, GOOD))
    assert reg.profiles == {} and reg.rate("quick", "x") is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('["a.b".quick.rates."r"]\nbar = 1.5\n', r"bar must lie in \(0, 1\)"),
        ('["a.b".quick.rates."r"]\nbar = 0.5\ncalibration = [3, 2]\n', "calibration"),
        ('["a.b".quick.rates."r"]\nbar = 0.5\ndirection = "sideways"\n', "direction"),
        ('["a.b".quick]\nbars = { x = "high" }\n', "finite number"),
        ('["a.b".fast]\nbars = {}\n', "unknown key 'fast'"),
        ('[["a.b".history]]\ndate = "x"\n', "history entry needs"),
        ('["a.b"\n', "not valid TOML"),
    ],
)
def test_malformed_entries_are_refused_with_where(tmp_path, text, match):
    with pytest.raises(RegistrationError, match=match):
        load_registered(_write(tmp_path, text))


@dataclasses.dataclass(frozen=True)
class _Cfg:
    seed: int
    target_seed: int = 7
    d: int = 10
    seeded_flag: bool = True  # a bool is not a seed


def test_seed_blocks_shift_every_seed_field_and_nothing_else():
    cfg = _Cfg(3)
    moved = shift_seeds(cfg, CALIBRATION_OFFSET)
    assert (moved.seed, moved.target_seed, moved.d, moved.seeded_flag) == (
        500_003,
        500_007,
        10,
        True,
    )
    assert shift_seeds(cfg, 0) is cfg
    assert seed_values([cfg, _Cfg(4)]) == [3, 4, 7]
    assert set(seed_values([shift_seeds(c, 2 * REPLICATION_OFFSET) for c in (cfg,)])).isdisjoint(
        seed_values([cfg, moved])
    )
    with pytest.raises(ValueError, match="offset"):
        shift_seeds(cfg, -1)


def test_describe_seeds_as_ranges():
    assert describe_seeds([5, 0, 1, 2, 1001, 1000]) == "0-2, 5, 1000-1001"
    assert describe_seeds([]) == ""
