"""--replicate (docs/math.md §7.9) and overtensor calibrate (§7.8) from the command line and the API."""

from __future__ import annotations

import json
import textwrap
import tomllib

import pytest

import reports
from reports.cli import main

# A claim whose verdict depends on the seed block: a run succeeds when its seed is below 1000000, so
# the judged block (seeds 0-11) holds and every replication block fails: the two verdicts disagree.
CLAIM_FILE = textwrap.dedent(
    """
    from dataclasses import dataclass
    from reports.registry import declare
    from reports.statistics import Evidence

    claim = declare(
        "blocks.depends-on-seeds",
        source="extension (test fixture)",
        statement="runs succeed on the judged block only",
        latex="x",
        method="seeded fixture",
        tolerance="rate >= 0.5",
        tolerance_source="derived: test fixture",
        no_control="a fixture",
    )

    @dataclass(frozen=True)
    class Case:
        seed: int

    @claim.configs
    def configs(profile):
        return [Case(s) for s in range(12)]

    @claim.experiment
    def experiment(config):
        return {"ok": config.seed < 1_000_000, "seed": config.seed}

    @claim.predict
    def predict(profile):
        return {}

    @claim.judge
    def judge(prediction, results):
        ev = Evidence()
        good = sum(bool(r.metrics and r.metrics["ok"]) for r in results)
        ev.rate_at_least("succeeds", good, len(results), 0.5)
        return ev.verdict(predicted="rate >= 0.5", measured=f"{good}/{len(results)}")

    @claim.plot
    def plot(prediction, results, figure):
        figure.add_subplot(1, 1, 1)
        return {}
    """
)


@pytest.fixture(scope="module")
def claim_file(tmp_path_factory):
    # one file for the module: loading the same unchanged file again is a no-op
    path = tmp_path_factory.mktemp("claims") / "blocks_claim.py"
    path.write_text(CLAIM_FILE, encoding="utf-8")
    return path


def test_report_replicate_judges_a_fresh_block_and_exits_on_the_worse(tmp_path, claim_file, capsys):
    out, db = tmp_path / "rep", tmp_path / "r.sqlite"
    code = main(
        ["report", "--load", str(claim_file), "--claims", "blocks.depends-on-seeds",
         "--out", str(out), "--db", str(db), "--workers", "1", "--replicate", "2"]
    )  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    (entry,) = summary["claims"]
    assert entry["verdict"] == "holds"
    rep = entry["replication"]
    assert rep["verdict"] == "fails" and not rep["agrees"]
    assert rep["seed_offset"] == 2_000_000 and rep["seeds"] == "2000000-2000011"
    (rate,) = rep["rates"]
    assert rate["original"] == [12, 12] and rate["replication"] == [0, 12]
    assert rate["homogeneity_p_value"] < 1e-5  # Fisher: 12/12 against 0/12
    assert code == 1 and summary["exit_code"] == 1  # the worse of the two verdicts
    html = (out / "index.html").read_text()
    assert "Replication on a fresh seed block" in html and "the two blocks disagree" in html
    assert "fresh seeds: fails" in capsys.readouterr().out


def test_check_replicate_through_the_api(tmp_path, claim_file):
    result = reports.check(
        "blocks.depends-on-seeds", load=claim_file, db=tmp_path / "r.sqlite", workers=1, replicate=1
    )
    rep = result.outcome.replication
    assert rep is not None and rep["seed_offset"] == 1_000_000 and rep["verdict"] == "fails"
    with pytest.raises(ValueError, match="replicate must be a positive integer"):
        reports.check("blocks.depends-on-seeds", load=claim_file, replicate=0)


def test_replicate_on_a_dask_cluster(tmp_path, claim_file):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "rep"
    code = main(
        ["report", "--load", str(claim_file), "--claims", "blocks.depends-on-seeds", "--out", str(out),
         "--db", str(tmp_path / "r.sqlite"), "--executor", "dask", "--workers", "1", "--replicate"]
    )  # fmt: skip
    rep = json.loads((out / "summary.json").read_text())["claims"][0]["replication"]
    assert code == 1 and rep["verdict"] == "fails" and rep["seed_offset"] == 1_000_000


def test_replicate_needs_a_positive_block(tmp_path, claim_file, capsys):
    with pytest.raises(SystemExit) as exit_info:  # argparse's own errors exit with 2
        main(["check", "blocks.depends-on-seeds", "--load", str(claim_file), "--replicate", "0"])
    assert exit_info.value.code == 2 and "--replicate" in capsys.readouterr().err


def test_calibrate_prints_power_and_writes_the_registration(tmp_path, claim_file, capsys):
    registered = tmp_path / "registered.toml"
    code = main(
        ["calibrate", "blocks.depends-on-seeds", "--load", str(claim_file), "--db",
         str(tmp_path / "r.sqlite"), "--workers", "1", "--write", "--registered", str(registered)]
    )  # fmt: skip
    text = capsys.readouterr().out
    # the calibration block (seeds + 500000) still succeeds: 12/12, expected 13/14, power at n = 12
    assert "calibration 12/12" in text and "recorded" in text
    data = tomllib.loads(registered.read_text(encoding="utf-8"))
    entry = data["blocks.depends-on-seeds"]["quick"]
    assert entry["rates"]["succeeds"]["calibration"] == [12, 12]
    assert entry["seeds"] == "0-11" and entry["calibration_seeds"] == "500000-500011"
    assert code == 0  # power at 13/14 with n = 12 against 0.5 is above 0.8


def test_calibrate_write_flag_is_needed_for_a_file(tmp_path, claim_file, capsys):
    code = main(
        ["calibrate", "blocks.depends-on-seeds", "--load", str(claim_file),
         "--registered", str(tmp_path / "x.toml")]
    )  # fmt: skip
    assert code == 2 and "add --write" in capsys.readouterr().err
