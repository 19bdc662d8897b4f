"""CLI: exit codes and messages for good and bad input; nothing half-written on bad --out."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from reports.registry import REGISTRY
from tests.reports.cli_run import run_main
from tests.reports.fake_claims import make_claim

# argparse itself exits for --help/--version and its own usage errors
_main = functools.partial(run_main, exits=True)

ROOT = Path(__file__).resolve().parents[2]


def test_version_and_help(capsys):
    code, out, _ = _main(capsys, "--version")
    assert code == 0 and out.startswith("overtensor ")
    code, out, _ = _main(capsys, "--help")
    assert code == 0
    for word in ("claims", "check", "report", "bench", "exit codes"):
        assert word in out


def test_no_command_is_usage_error(capsys):
    code, _, err = _main(capsys)
    assert code == 2 and "usage" in err


def test_claims_lists_registry(capsys):
    code, out, _ = _main(capsys, "claims")
    assert code == 0 and "foundation.gram-identity" in out
    code, out, _ = _main(capsys, "claims", "--json")
    data = json.loads(out)
    ids = [c["id"] for c in data]
    assert ids == sorted(REGISTRY) and "foundation.loss-monotone" in ids
    assert all({"quick", "full"} <= set(c["configs"]) for c in data)
    by_id = {c["id"]: c for c in data}
    for c in data:
        assert {"tolerance_source", "controls", "no_control", "profiles"} <= set(c)
        assert set(c["configs"]) == set(c["profiles"])
    assert by_id["theory.expected-kernel"]["controls"] == ["rademacher initialisation"]
    assert by_id["foundation.gram-identity"]["controls"] == []
    assert by_id["foundation.gram-identity"]["no_control"]
    assert by_id["foundation.gram-identity"]["tolerance_source"].startswith("derived")


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["check", "no.such-claim"],
            "unknown claim id 'no.such-claim'; no claim id starts with 'no.'",
        ),
        (["check", "foundation.gram-identity", "--profile", "huge"], "invalid choice: 'huge'"),
        (["report", "--claims", "nope"], "unknown claim id 'nope'"),
        (["report", "--profile", "medium"], "invalid choice: 'medium'"),
        (["report", "--workers", "-1"], "must be a positive integer (or 0: --debug), got '-1'"),
        (["report", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --executor dask"),
        (["report", "--executor", "spark"], "invalid choice: 'spark'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_usage_exits_2_with_message(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)  # default --db and --out land here
    code, _, err = _main(capsys, *argv)
    assert code == 2
    assert message in err
    assert list(tmp_path.iterdir()) == []  # no database, no report, no temporary directory


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def test_unwritable_out_is_usage_error_and_writes_nothing(capsys, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("keep me")
    db = str(tmp_path / "r.sqlite")
    for out in (blocker, blocker / "sub"):  # an existing file; a directory below a file
        code, _, err = _main(
            capsys, "report", "--out", str(out), "--db", db, "--claims", "foundation.gram-identity"
        )
        assert code == 2 and "--out" in err and str(out) in err
    assert blocker.read_text() == "keep me"
    assert _leftovers(tmp_path) == []
    assert not Path(db).exists()  # failed before any work


def test_check_holds_exit_0_and_json(capsys, tmp_path):
    code, out, _ = _main(
        capsys,
        "check",
        "foundation.gram-identity",
        "--json",
        "--db",
        str(tmp_path / "r.sqlite"),
        "--workers",
        "2",
    )
    assert code == 0
    data = json.loads(out)
    assert data["id"] == "foundation.gram-identity" and data["verdict"] == "holds"
    assert data["runs"] == 18 and data["runs_failed"] == 0
    assert data["numbers"]["max_rel_err_loss"] <= 1e-10
    assert 0 <= data["margin"] <= 1 and data["tolerance_source"].startswith("derived")
    assert data["controls"] == [] and data["no_control"]
    assert [c["status"] for c in data["checks"]] == ["holds", "holds"]


def test_check_prints_margin_evidence_and_controls(capsys, tmp_path, monkeypatch):
    from tests.reports.fake_claims import evidence_judge

    claim = make_claim("fake.ev", controls={"big-x": [10, 11]}, judge=evidence_judge)
    monkeypatch.setitem(REGISTRY, "fake.ev", claim)
    code, out, _ = _main(capsys, "check", "fake.ev", "--db", str(tmp_path / "r.sqlite"))
    assert code == 0, out
    for text in (
        "margin:",
        "tolerance source: derived: test fixture",
        "rate:       runs with metrics: 4/4, 95% CI",
        "contrast:   x below 10 vs never: only-a 4, only-b 0 of 4",
        "check:      largest x",
        "control:    big-x: fails",
    ):
        assert text in out, text


def test_check_fails_and_inconclusive_exit_codes(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "fake.fails", make_claim("fake.fails", judge_status="fails"))
    monkeypatch.setitem(REGISTRY, "fake.broken", make_claim("fake.broken", failing=[0, 1]))
    db = str(tmp_path / "r.sqlite")
    code, out, _ = _main(capsys, "check", "fake.fails", "--db", db, "--workers", "2")
    assert code == 1 and "fake.fails: FAILS" in out
    code, out, _ = _main(capsys, "check", "fake.broken", "--db", db, "--workers", "2")
    assert code == 3 and "INCONCLUSIVE" in out and "2 of 4 runs failed" in out
    assert "simulated divergence at x=0" in out


def test_bench_without_benchmarks_is_a_clear_message(capsys, tmp_path, monkeypatch):
    import reports.cli

    monkeypatch.setattr(reports.cli, "_repo_root", lambda: tmp_path)  # an installed copy, no clone
    code, _, err = _main(capsys, "bench")
    assert code == 2 and "no benchmarks found" in err and str(tmp_path) in err


def test_bench_passes_options_through():
    if not (ROOT / "benchmarks" / "__main__.py").is_file():
        pytest.skip("no benchmarks/ in this checkout")
    res = subprocess.run(
        [sys.executable, "-m", "reports", "bench", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0 and res.stdout.strip(), res.stderr


def test_python_m_reports_entry_point():
    res = subprocess.run(
        [sys.executable, "-m", "reports", "check", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and "unknown claim id 'nope'" in res.stderr
