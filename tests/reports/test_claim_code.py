"""Claim code that exits or raises (issue 24, items 1 and 6): a failed run, never a fake pass.

A ``--load`` file whose experiment called ``sys.exit(0)`` made ``overtensor check`` exit 0 with no
output, and ``report`` exit 0 without a report; ``sys.exit(0)`` at import exited 0; a judge raising
``GeneratorExit`` exited 1 with a traceback. Any ``BaseException`` from claim code other than
``KeyboardInterrupt`` is now a failed run (experiment), an inconclusive claim (configs, controls,
predict, judge) or a noted plot failure, and a load error (exit 2) at import. Claim ids are checked
when the file is loaded: ``x.col/a`` and ``x.col_a`` (which wrote the same report files), a
300-character id and an empty id are refused with exit 2 and a message naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reports.cli import main
from tests.reports.claim_files import RAISES, claim_source, expected_exit
from tests.reports.test_loading import clean_registry  # noqa: F401 (fixture)

CID = "x.hostile"


def _main(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # a claim's sys.exit escaping main() is the fault under test
        code = f"SystemExit({exc.code!r}) escaped main()"
    except BaseException as exc:  # noqa: BLE001 - any other escape is the fault under test
        if isinstance(exc, KeyboardInterrupt):
            raise
        code = f"{type(exc).__name__} escaped main()"
    out = capsys.readouterr()
    return code, out.out, out.err


def _write(tmp_path: Path, behaviours: dict[str, str], cid: str = CID) -> Path:
    f = tmp_path / "hostile_claim.py"
    f.write_text(claim_source(cid, behaviours))
    return f


def _report(capsys, tmp_path, f, *extra):
    return _main(
        capsys, "report", "--load", f, "--claims", CID, "--out", tmp_path / "rep",
        "--db", tmp_path / "db.sqlite", "--workers", "1", *extra,
    )  # fmt: skip


EXITS = ["sys.exit(0)", "sys.exit(1)", "SystemExit('text')", "GeneratorExit", "BaseException"]


@pytest.mark.parametrize("how", EXITS)
def test_experiment_that_exits_is_a_failed_run(capsys, tmp_path, how):
    f = _write(tmp_path, {"experiment": how})
    code, out, err = _main(
        capsys, "check", CID, "--load", f, "--db", tmp_path / "db.sqlite", "--workers", "1"
    )
    assert code == 3, (code, out, err)
    assert f"{CID}: INCONCLUSIVE" in out and "2 failed" in out
    name = how.split("(")[0].split(".")[0].replace("sys", "SystemExit")
    assert "failed run" in out and name in out, out
    code, out, err = _report(capsys, tmp_path, f)
    assert code == 3, (code, out, err)
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    (claim,) = summary["claims"]
    assert claim["verdict"] == "inconclusive" and claim["runs_failed"] == 2


@pytest.mark.parametrize("how", EXITS)
def test_import_that_exits_is_a_load_error(capsys, tmp_path, how):
    f = _write(tmp_path, {"import": how})
    for command in (["claims"], ["check", CID, "--db", tmp_path / "db.sqlite"]):
        code, out, err = _main(capsys, *command, "--load", f)
        assert code == 2, (command, code, out, err)
        assert err.startswith("overtensor: error: ") and str(f) in err and "importing" in err
        assert "Traceback" not in err
    code, _, err = _report(capsys, tmp_path, f)
    assert code == 2 and not (tmp_path / "rep").exists() and not (tmp_path / "db.sqlite").exists()


@pytest.mark.parametrize(
    "part, how",
    [
        *((part, how) for part in ("configs", "controls", "predict", "judge") for how in EXITS),
        ("judge", "hostile-reason"),  # a Verdict whose texts cannot be printed
        ("judge", "hostile-numbers"),
        ("experiment", "bad-str"),  # metrics whose repr calls sys.exit
    ],
)
def test_setup_or_judge_that_exits_is_inconclusive(capsys, tmp_path, part, how):
    f = _write(tmp_path, {part: how})
    code, out, err = _main(
        capsys, "check", CID, "--load", f, "--db", tmp_path / "db.sqlite", "--workers", "1"
    )
    assert code == 3, (code, out, err)
    assert "Traceback" not in err
    failed = {"configs": "configs", "controls": "configs", "predict": "predict", "judge": "judge"}
    assert f"{failed.get(part, 'run')}" in out and "failed" in out, out
    code, out, err = _report(capsys, tmp_path, f)
    assert code == 3, (code, out, err)
    assert (tmp_path / "rep" / "index.html").is_file()


@pytest.mark.parametrize("how", [*EXITS, "hostile-data"])
def test_plot_that_exits_is_a_noted_plot_failure(capsys, tmp_path, how):
    f = _write(tmp_path, {"plot": how})
    code, out, err = _report(capsys, tmp_path, f)
    assert code == 0, (code, out, err)  # the verdict does not depend on the figure
    data = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert data["claims"][0]["verdict"] == "holds"
    html = (tmp_path / "rep" / "index.html").read_text()
    assert "plot failed" in html
    assert not (tmp_path / "rep" / "figures" / f"{CID}.png").exists()


def test_keyboard_interrupt_in_claim_code_keeps_its_meaning(capsys, tmp_path):
    f = tmp_path / "ki.py"
    f.write_text(claim_source(CID).replace("return {'x': float(config.seed) * config.scale}",
                                           "raise KeyboardInterrupt"))  # fmt: skip
    code, _, err = _report(capsys, tmp_path, f)
    assert code == 130 and "interrupted" in err
    assert not (tmp_path / "rep").exists()


def test_claims_json_with_configs_that_exit(capsys, tmp_path):
    f = _write(tmp_path, {"configs": "sys.exit(0)", "controls": "SystemExit('text')"})
    code, out, err = _main(capsys, "claims", "--json", "--load", f)
    assert code == 0, (code, err)
    (mine,) = [c for c in json.loads(out) if c["id"] == CID]
    assert mine["configs"]["quick"].startswith("error: SystemExit")
    assert mine["controls"].startswith("error: SystemExit")


@pytest.mark.parametrize("how", sorted(RAISES))
def test_expected_exit_table_matches_the_cli_for_every_experiment_failure(capsys, tmp_path, how):
    """The fuzz test's oracle agrees with this file's explicit cases."""
    assert expected_exit({"experiment": how}) == 3
    assert expected_exit({"experiment": how, "judge": "fails"}) == 1
    f = _write(tmp_path, {"experiment": how, "judge": "fails"})
    code, out, err = _main(
        capsys, "check", CID, "--load", f, "--db", tmp_path / "db.sqlite", "--workers", "1"
    )
    assert code == 1, (code, out, err)


# --------------------------------------------------------------------------------------------------
# item 6: claim ids are validated when a file is loaded


@pytest.mark.parametrize(
    "cid, why",
    [
        ("x.col/a", "not a dotted lower-case id"),
        ("x.col_a", "not a dotted lower-case id"),
        ("x." + "a" * 298, "300 characters long"),
        ("", "not a dotted lower-case id"),
        ("x.a\n# injected", "not a dotted lower-case id"),
        ("X.Upper", "not a dotted lower-case id"),
    ],
)
def test_invalid_claim_ids_exit_2_naming_the_file(capsys, tmp_path, cid, why):
    f = _write(tmp_path, {}, cid=cid)
    for command in (
        ["claims"],
        ["check", cid or "x.y", "--db", tmp_path / "db.sqlite"],
        ["report", "--out", tmp_path / "rep", "--db", tmp_path / "db.sqlite"],
    ):
        code, out, err = _main(capsys, *command, "--load", f)
        assert code == 2, (command, code, out, err)
        assert err.startswith("overtensor: error: ") and str(f) in err and why in err, err
        assert "Traceback" not in err
    assert not (tmp_path / "rep").exists() and not (tmp_path / "db.sqlite").exists()


def test_ids_that_mapped_to_the_same_files_cannot_both_load(capsys, tmp_path):
    """``x.col/a`` and ``x.col_a`` wrote data/x.col_a.csv both: neither is a valid id now."""
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text(claim_source("x.col/a"))
    b.write_text(claim_source("x.col_a"))
    code, _, err = _main(capsys, "claims", "--load", a, "--load", b)
    assert code == 2 and "'x.col/a'" in err
    code, _, err = _main(capsys, "claims", "--load", b)
    assert code == 2 and "'x.col_a'" in err
