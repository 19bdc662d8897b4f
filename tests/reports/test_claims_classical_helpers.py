"""The helpers shared by claim files: reports/claims/_shared.py and reports/claims/classical/_*.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from reports.claims._shared import check_profile, columns
from reports.claims.classical._common import by_config, predicted_rows
from reports.claims.classical._single_component import control_subset, start_on_axis
from reports.registry import RunResult


@dataclass(frozen=True)
class Case:
    seed: int


@dataclass(frozen=True)
class Setting:
    d: int
    seed: int


def test_check_profile_names_the_allowed_profiles():
    assert check_profile("full") == "full"
    with pytest.raises(ValueError, match=r"profile must be 'quick' or 'full', got 'medium'"):
        check_profile("medium")
    with pytest.raises(ValueError, match=r"'quick' or 'full' or 'scale', got 'huge'"):
        check_profile("huge", ("quick", "full", "scale"))


def test_columns_are_independent_empty_lists():
    data = columns("x", "y")
    data["x"].append(1)
    assert data == {"x": [1], "y": []} and list(data) == ["x", "y"]


def test_predictions_by_config_are_read_back_for_successful_runs_only():
    cases = [Setting(0, 7), Setting(1, 8), Setting(2, 9)]
    prediction = {"double": by_config(cases, lambda c: 2 * c.d)}
    results = [
        RunResult(cases[0], {"v": 0}, None, 0.0),
        RunResult(cases[1], None, "boom", 0.0),
        RunResult(cases[2], {"v": 5}, None, 0.0),
    ]
    rows = predicted_rows(results, prediction, "double")
    assert rows == [(cases[0], {"v": 0}, 0), (cases[2], {"v": 5}, 4)]


def test_control_subset_quick_takes_two_full_every_third():
    judged = list(range(10))
    assert control_subset(judged, "quick") == [0, 1]
    assert control_subset(judged, "full") == [0, 3, 6, 9]
    with pytest.raises(ValueError, match="profile"):
        control_subset(judged, "scale")


def test_start_on_axis_is_exactly_on_the_axis_at_angle_zero():
    W0 = start_on_axis(0.01, 3)
    assert W0.shape == (1, 3)
    assert W0[0, 0] == 0.01 and W0[0, 1] == 0.0 and W0[0, 2] == 0.0  # cos 0 = 1, sin 0 = 0 exactly
    tilted = start_on_axis(2.0, 3, angle=0.3)
    # cos, sin, the two products and the norm each round once: |‖w‖ - 2| <= 4ε·2
    assert abs(np.linalg.norm(tilted) - 2.0) <= 8 * np.finfo(float).eps


def test_predictions_by_config_serve_every_seed_block():
    """A prediction tabulated on the judged configs is found for the same settings on the
    calibration and replication blocks (seeds moved by 500000 and 1000000): a replicated
    theory.expected-kernel once failed with a KeyError naming the shifted config."""
    from reports.registered import CALIBRATION_OFFSET, REPLICATION_OFFSET, shift_seeds

    judged = [Setting(d, s) for d in (4, 8) for s in (0, 1)]
    prediction = {"value": by_config(judged, lambda c: 10 * c.d)}
    for offset in (0, CALIBRATION_OFFSET, REPLICATION_OFFSET):
        results = [RunResult(shift_seeds(c, offset), {"x": 1.0}, None, 0.0) for c in judged]
        rows = predicted_rows(results, prediction, "value")
        assert [(c.d, c.seed - offset, v) for c, _, v in rows] == [
            (4, 0, 40), (4, 1, 40), (8, 0, 80), (8, 1, 80)
        ]  # fmt: skip
    with pytest.raises(KeyError):  # a setting that was never predicted is still an error
        predicted_rows([RunResult(Setting(16, 0), {"x": 1.0}, None, 0.0)], prediction, "value")


def test_a_seed_dependent_prediction_is_refused():
    with pytest.raises(ValueError, match="depends on its seed"):
        by_config([Case(0), Case(1)], lambda c: 2 * c.seed)
