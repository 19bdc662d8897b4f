"""Registry integrity over ALL registered claims (this test also checks other areas' claims).

Every claim: a unique dotted id, non-empty texts (source, statement, LaTeX, method, tolerance),
both profiles give a non-empty list of frozen, hashable dataclass configs with a canonical JSON form,
every config carries a seed (an integer field ``seed``, ``seed_*`` or ``*_seed``, as
:mod:`reports.registered` moves them for calibration and replication) unless its class declares
``deterministic = True``, and ``plot`` returns the data behind the figure even with no runs.
Evidence rules (docs/math.md §7): a derived or calibrated tolerance source; a negative control for
every claim citing paper 1 or 2, with configs distinct from the judged ones; a reason for every
claim without controls; margins whose sign agrees with the verdict.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from reports.catalog import all_claims
from reports.registered import seed_values
from reports.registry import PROFILES, REGISTRY, Claim, Verdict
from reports.store import config_json

CLAIMS = all_claims()
ID_RE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$")


def test_registry_has_the_foundation_claims():
    ids = {c.id for c in CLAIMS}
    assert {
        "foundation.gram-identity",
        "foundation.gradient-check",
        "foundation.loss-monotone",
    } <= ids


def test_ids_unique_and_well_formed():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids))
    for c in CLAIMS:
        assert REGISTRY[c.id] is c
        assert ID_RE.match(c.id), f"claim id {c.id!r} is not a dotted lower-case id"


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_texts_present(claim: Claim):
    for name in ("source", "statement", "latex", "method", "tolerance"):
        value = getattr(claim, name)
        assert isinstance(value, str) and value.strip(), f"{claim.id}: empty {name}"
    assert isinstance(claim.model_choice, str)
    for fn in ("experiment", "configs", "predict", "judge", "plot"):
        assert callable(getattr(claim, fn)), f"{claim.id}: {fn} is not callable"
    # the experiment is shipped to worker processes by reference: it must be module-level
    exp = claim.experiment
    assert "<locals>" not in exp.__qualname__ and "<lambda>" not in exp.__qualname__, (
        f"{claim.id}: experiment {exp.__qualname__} is not a module-level function (not picklable)"
    )


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_configs_hashable_and_seeded(claim: Claim, profile: str):
    if profile not in claim.profiles:
        pytest.skip(f"{claim.id} has no {profile!r} profile")
    controls = claim.controls(profile) if claim.controls else {}
    configs = list(claim.configs(profile)) + [c for cfgs in controls.values() for c in cfgs]
    assert configs, f"{claim.id}: profile {profile!r} gives no configs"
    for cfg in configs:
        assert dataclasses.is_dataclass(cfg) and not isinstance(cfg, type)
        params = getattr(type(cfg), "__dataclass_params__", None)
        assert params is not None and params.frozen, f"{claim.id}: {type(cfg).__name__} not frozen"
        hash(cfg)
        config_json(cfg)  # JSON-serialisable, so it can key the store
        seeded = bool(seed_values([cfg]))
        assert seeded or getattr(type(cfg), "deterministic", False), (
            f"{claim.id}: config {cfg} has no seed field (declare deterministic = True if it "
            "draws no random numbers)"
        )
    assert len(set(map(config_json, configs))) == len(configs), f"{claim.id}: duplicate configs"


def test_full_profile_is_not_smaller_than_quick():
    for c in CLAIMS:
        assert len(c.configs("full")) >= len(c.configs("quick")), c.id


@functools.cache
def _quick_prediction(claim_id: str) -> dict[str, Any]:
    return REGISTRY[claim_id].predict("quick")


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_predict_and_plot_return_data(claim: Claim):
    prediction = _quick_prediction(claim.id)
    assert isinstance(prediction, dict)
    fig = Figure()
    data = claim.plot(prediction, [], fig)  # a report with no successful run must still render
    assert isinstance(data, dict)
    for col, values in data.items():
        assert isinstance(col, str)
        assert isinstance(values, list)
    assert fig.axes, f"{claim.id}: plot drew no axes"


# ------------------------------------------------------------------ evidence rules (docs/math.md §7)
PAPER_RE = re.compile(r"paper [12]\b|Wang et al\.|Ge et al\.")


def _control_configs(claim: Claim, profile: str) -> dict[str, list[Any]]:
    return {k: list(v) for k, v in (claim.controls(profile) if claim.controls else {}).items()}


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_tolerance_source_is_derived_or_calibrated(claim: Claim):
    src = claim.tolerance_source.strip()
    assert src.startswith(("derived", "calibrated")), (
        f"{claim.id}: tolerance_source must start with 'derived' or 'calibrated', got {src!r}"
    )
    if src.startswith("calibrated"):
        assert re.search(r"seed", src), f"{claim.id}: a calibrated tolerance names its seeds"


@pytest.mark.parametrize(
    "claim", [c for c in CLAIMS if PAPER_RE.search(c.source)], ids=lambda c: c.id
)
def test_paper_claims_have_a_negative_control(claim: Claim):
    for profile in claim.profiles:
        controls = _control_configs(claim, profile)
        assert controls and all(controls.values()), (
            f"{claim.id} cites a paper but has no negative control under {profile!r}"
        )


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_claims_without_controls_say_why(claim: Claim):
    if claim.controls is None:
        assert claim.no_control.strip(), f"{claim.id}: no controls and no no_control reason"
    else:
        assert not claim.no_control, f"{claim.id}: has controls and a no_control reason"


@pytest.mark.parametrize("claim", [c for c in CLAIMS if c.controls is not None], ids=lambda c: c.id)
def test_control_configs_are_distinct_from_the_judged_ones(claim: Claim):
    for profile in claim.profiles:
        judged = set(map(config_json, claim.configs(profile)))
        for name, cfgs in _control_configs(claim, profile).items():
            assert name.strip(), f"{claim.id}: a control needs a name"
            clash = judged & set(map(config_json, cfgs))
            assert not clash, f"{claim.id}: control {name!r} repeats judged configs {clash}"


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_judge_of_nothing_is_inconclusive_without_a_positive_margin(claim: Claim):
    from reports.runner import enforce_verdict

    v = enforce_verdict(claim.judge(_quick_prediction(claim.id), []), [])
    assert v.status == "inconclusive"


@settings(max_examples=100, deadline=None)
@given(
    status=st.sampled_from(["holds", "fails", "inconclusive"]),
    margin=st.one_of(st.none(), st.floats(-10, 10)),
)
def test_verdict_margin_sign_agrees_with_status(status, margin):
    consistent = (
        margin is None
        or status == "inconclusive"
        or (status == "holds" and margin >= 0)
        or (status == "fails" and margin < 0)
    )
    if consistent:
        assert Verdict(status, "r", "p", "m", margin=margin).margin == margin
    else:
        with pytest.raises(ValueError, match="margin"):
            Verdict(status, "r", "p", "m", margin=margin)
