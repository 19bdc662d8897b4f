"""Judged rates against their registration; replication records (reports/planning.py, §7.8-7.10)."""

from __future__ import annotations

import pytest

from reports.planning import check_against_registration, replication_record
from reports.registered import registration
from reports.statistics import Evidence, calibration_estimate, homogeneity_p_value, rate_power

REGISTERED = """
["area.claim".quick.rates."success"]
bar = 0.5
trials = 12
calibration = [11, 12]
calibrated = "seeds 500000-500011"

["area.claim".quick.controls."plain".rates."success"]
bar = 0.5
trials = 12
calibration = [2, 12]
"""


@pytest.fixture
def reg(tmp_path):
    path = tmp_path / "registered.toml"
    path.write_text(REGISTERED, encoding="utf-8")
    return registration("area.claim", path)


def _verdict(k: int, n: int, bar: float = 0.5):
    ev = Evidence()
    ev.rate_at_least("success", k, n, bar)
    return ev.verdict(predicted="p", measured="m")


def test_planned_rate_gets_expected_and_power(reg):
    v, faults = check_against_registration(_verdict(12, 12), reg, "quick")
    assert faults == [] and v.status == "holds"
    rate = v.rates[0]
    assert rate["expected"] == calibration_estimate(11, 12)
    assert rate["power"] == pytest.approx(rate_power(12 / 14, 12, 0.5), abs=1e-15)
    assert "11/12" in rate["expected_source"]


def test_control_rates_are_planned_to_fail(reg):
    v, faults = check_against_registration(_verdict(1, 12), reg, "quick", control="plain")
    assert faults == [] and v.status == "fails"
    assert v.rates[0]["power_of"] == "fails"


@pytest.mark.parametrize(
    ("verdict", "fault"),
    [
        (_verdict(12, 12, bar=0.4), "registered bar is at_least 0.5"),
        (_verdict(20, 20), "judged on 20 runs, but 12 are planned"),
    ],
)
def test_a_rate_off_its_registration_cannot_hold(reg, verdict, fault):
    v, faults = check_against_registration(verdict, reg, "quick")
    assert any(fault in f for f in faults)
    assert v.status == "inconclusive" and "design fault" in v.reason


def test_unregistered_rate_of_a_registered_claim_is_a_fault(reg):
    ev = Evidence()
    ev.rate_at_least("something else", 12, 12, 0.5)
    v, faults = check_against_registration(ev.verdict("p", "m"), reg, "quick")
    assert faults == ["rate 'something else' is not registered"] and v.status == "inconclusive"


def test_claim_without_registration_is_left_alone(reg):
    v = _verdict(12, 12)
    assert check_against_registration(v, reg, "full") == (v, [])


def test_replication_record_pairs_rates_with_homogeneity():
    rec = replication_record(_verdict(19, 20), _verdict(7, 20), "1000000-1000019", 1_000_000)
    assert rec["verdict"] == "inconclusive" and not rec["agrees"]
    (rate,) = rec["rates"]
    assert rate["original"] == [19, 20] and rate["replication"] == [7, 20]
    assert rate["homogeneity_p_value"] == homogeneity_p_value(19, 20, 7, 20)
