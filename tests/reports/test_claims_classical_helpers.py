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
    cases = [Case(0), Case(1), Case(2)]
    prediction = {"double": by_config(cases, lambda c: 2 * c.seed)}
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
