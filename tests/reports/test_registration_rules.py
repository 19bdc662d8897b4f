"""The registered designs of the built-in claims obey the planning rules (docs/math.md §7.8-7.10).

* every planned rate (the claims' own and their controls') reaches the power target of its profile
  (0.9 under full and scale, 0.8 under quick) at its calibration estimate and planned trials;
* the registered judged and calibration seed blocks are those of the live configs, and the judged,
  calibration and replication blocks are disjoint;
* every history entry is complete.
"""

from __future__ import annotations

import pytest

from reports.catalog import all_claims
from reports.registered import (
    CALIBRATION_OFFSET,
    POWER_TARGET,
    REPLICATION_OFFSET,
    describe_seeds,
    load_registered,
    seed_values,
    shift_seeds,
)

CLAIMS = {c.id: c for c in all_claims()}
REGISTERED = load_registered()


def _planned():
    for claim_id, reg in sorted(REGISTERED.items()):
        for profile, prof in sorted(reg.profiles.items()):
            for rate in prof.rates.values():
                yield pytest.param(claim_id, profile, rate, id=f"{claim_id}[{profile}] {rate.name}")
            for control, rates in prof.control_rates.items():
                for rate in rates.values():
                    yield pytest.param(
                        claim_id,
                        profile,
                        rate,
                        id=f"{claim_id}[{profile}] control {control}: {rate.name}",
                    )


def test_registered_claims_exist():
    unknown = sorted(set(REGISTERED) - set(CLAIMS))
    assert not unknown, f"registered.toml names claims that do not exist: {unknown}"


@pytest.mark.parametrize(("claim_id", "profile", "rate"), list(_planned()))
def test_every_planned_rate_has_its_power(claim_id, profile, rate):
    assert rate.calibration is not None and rate.trials, (
        f"{claim_id} [{profile}] {rate.name!r}: no calibration or planned trials "
        "(overtensor calibrate --write)"
    )
    assert rate.power >= POWER_TARGET[profile], (
        f"{claim_id} [{profile}] {rate.name!r}: power {rate.power:.3f} at expected "
        f"{rate.expected:.3f} and n = {rate.trials} is below {POWER_TARGET[profile]}"
    )


def _configs(claim, profile):
    configs = list(claim.configs(profile))
    if claim.controls is not None:
        configs += [c for cfgs in claim.controls(profile).values() for c in cfgs]
    return configs


@pytest.mark.parametrize(
    ("claim_id", "profile"),
    [(c, p) for c, reg in sorted(REGISTERED.items()) for p in sorted(reg.profiles)],
)
def test_registered_seed_blocks_are_the_live_ones(claim_id, profile):
    claim = CLAIMS[claim_id]
    prof = REGISTERED[claim_id].profiles[profile]
    configs = _configs(claim, profile)
    judged = seed_values(configs)
    assert all(s < CALIBRATION_OFFSET for s in judged), (
        f"{claim_id}: judged seeds reach the calibration block"
    )
    calibration = seed_values(shift_seeds(c, CALIBRATION_OFFSET) for c in configs)
    replication = seed_values(shift_seeds(c, REPLICATION_OFFSET) for c in configs)
    assert not set(judged) & set(calibration) and not set(calibration) & set(replication)
    if prof.seeds or prof.calibration_seeds:
        assert prof.seeds == describe_seeds(judged), (
            f"{claim_id} [{profile}]: registered judged seeds"
        )
        assert prof.calibration_seeds == describe_seeds(calibration), (
            f"{claim_id} [{profile}]: registered calibration seeds"
        )


@pytest.mark.parametrize("claim_id", sorted(REGISTERED))
def test_history_entries_are_complete(claim_id):
    for change in REGISTERED[claim_id].history:
        assert change.date and change.commit and change.what and change.reason, (claim_id, change)


@pytest.mark.parametrize("claim", sorted(CLAIMS.values(), key=lambda c: c.id), ids=lambda c: c.id)
def test_every_builtin_claim_is_registered_for_each_profile(claim):
    """A seeded claim registers its seed blocks for every profile it runs under; an unseeded one
    registers its tolerances, unless its tolerance is exact (nothing to fix in advance)."""
    reg = REGISTERED.get(claim.id)
    if claim.tolerance.startswith("exact"):
        return
    assert reg is not None, f"{claim.id}: no entry in reports/registered.toml"
    for profile in claim.profiles:
        seeded = bool(seed_values(_configs(claim, profile)))
        prof = reg.profiles.get(profile)
        if seeded:
            assert prof is not None and prof.seeds and prof.calibration_seeds, (
                f"{claim.id} [{profile}]: seeded configs but no registered seed blocks"
            )
        else:
            assert reg.tolerances or (prof is not None and (prof.tolerances or prof.bars)), (
                f"{claim.id} [{profile}]: no registered tolerance"
            )
