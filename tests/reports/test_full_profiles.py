"""`tox -e verify`: every registered claim holds under its ``full`` profile (the evidence sizes)
and under ``quick`` (the README's main job).

One sweep runs all claims through a local process pool into a temporary results store; each claim is
then a separate test so that a failure names the claim and its verdict reason. Slow (tens of minutes
on 2 cores), so marked ``slow`` and excluded from the default env.
"""

from __future__ import annotations

import os

import matplotlib
import pytest

from reports.catalog import all_claims
from reports.runner import make_executor, run_claims
from reports.store import ResultStore

matplotlib.use("Agg")

CLAIMS = all_claims()

# Claims that honestly do not hold under their full profile: id -> why (strict: a hold is news)
EXPECTED_NON_HOLD: dict[str, str] = {}


def _param(claim_id: str) -> object:
    if claim_id in EXPECTED_NON_HOLD:
        reason = EXPECTED_NON_HOLD[claim_id]
        return pytest.param(claim_id, marks=pytest.mark.xfail(strict=True, reason=reason))
    return claim_id


def _sweep(profile: str, tmp_path_factory) -> dict:
    db = tmp_path_factory.mktemp(profile) / "results.sqlite"
    workers = os.cpu_count() or 1
    with make_executor("local", workers=workers) as (executor, _info):
        outcomes = run_claims(
            CLAIMS,
            profile,
            store=ResultStore(db),
            executor=executor,
            progress="none",
        )
    return {o.claim.id: o for o in outcomes}


def _assert_holds(claim_id: str, outcome) -> None:
    failed = [r.error for r in outcome.results if not r.ok]
    assert not failed, f"{claim_id}: {len(failed)} failed run(s), first: {failed[0]}"
    v = outcome.verdict
    assert v.status == "holds", f"{claim_id}: {v.status}: {v.reason} (measured: {v.measured})"


@pytest.fixture(scope="module")
def full_outcomes(tmp_path_factory):
    return _sweep("full", tmp_path_factory)


@pytest.fixture(scope="module")
def quick_outcomes(tmp_path_factory):
    return _sweep("quick", tmp_path_factory)


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", [c.id for c in CLAIMS])
def test_claim_holds_on_quick_profile(claim_id, quick_outcomes):
    """The README's main job decides every claim: no design fault (an unregistered rate), nothing
    inconclusive, on the registered quick seeds."""
    _assert_holds(claim_id, quick_outcomes[claim_id])


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", [_param(c.id) for c in CLAIMS])
def test_claim_holds_on_full_profile(claim_id, full_outcomes):
    _assert_holds(claim_id, full_outcomes[claim_id])
