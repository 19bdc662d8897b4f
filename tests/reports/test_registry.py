"""Registry integrity over ALL registered claims (this test also checks other areas' claims).

Every claim: a unique dotted id, non-empty texts (source, statement, LaTeX, method, tolerance),
both profiles give a non-empty list of frozen, hashable dataclass configs with a canonical JSON form,
every config carries a seed (a field whose name contains ``seed``) unless its class declares
``deterministic = True``, and ``plot`` returns the data behind the figure even with no runs.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from matplotlib.figure import Figure

from reports.registry import PROFILES, REGISTRY, Claim, all_claims
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
        seeded = any("seed" in f.name for f in dataclasses.fields(cfg))
        assert seeded or getattr(type(cfg), "deterministic", False), (
            f"{claim.id}: config {cfg} has no seed field (declare deterministic = True if it "
            "draws no random numbers)"
        )
    assert len(set(map(config_json, configs))) == len(configs), f"{claim.id}: duplicate configs"


def test_full_profile_is_not_smaller_than_quick():
    for c in CLAIMS:
        assert len(c.configs("full")) >= len(c.configs("quick")), c.id


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_predict_and_plot_return_data(claim: Claim):
    prediction = claim.predict("quick")
    assert isinstance(prediction, dict)
    fig = Figure()
    data = claim.plot(prediction, [], fig)  # a report with no successful run must still render
    assert isinstance(data, dict)
    for col, values in data.items():
        assert isinstance(col, str)
        assert isinstance(values, list)
    assert fig.axes, f"{claim.id}: plot drew no axes"
