"""overtensor diff: what changed between two summary.json files, and the exit code CI gates on."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import reports
from reports.diff import DiffError, diff_summaries, read_summary
from reports.registry import REGISTRY
from tests.reports.cli_run import run_main as _main
from tests.reports.fake_claims import evidence_judge, make_claim


def _claim(cid: str, verdict: str = "holds", margin: float | None = 0.5, **extra: Any) -> dict:
    return {
        "id": cid,
        "verdict": verdict,
        "margin": margin,
        "tolerance": "t",
        "rates": [],
        "contrasts": [],
        "registered": None,
        **extra,
    }


def _summary(*claims: dict, profile: str = "quick") -> dict:
    return {
        "profile": profile,
        "claims": list(claims),
        "provenance": {"git_commit": "a" * 40, "generated": "2026-01-01T00:00:00+00:00"},
    }


# ---------------------------------------------------------------------------------------------
# hand-made summaries
# ---------------------------------------------------------------------------------------------
def test_identical_reports_have_no_changes():
    s = _summary(_claim("a.x"), _claim("a.y", "fails", -0.2))
    d = diff_summaries(s, copy.deepcopy(s))
    assert d.unchanged and d.exit_code == 0 and d.compared == 2
    assert "no changes in 2 claim(s)" in d.text()


@pytest.mark.parametrize(
    "before, after, direction",
    [
        ("holds", "inconclusive", "regression"),
        ("holds", "fails", "regression"),
        ("inconclusive", "fails", "regression"),
        ("fails", "inconclusive", "improvement"),
        ("inconclusive", "holds", "improvement"),
        ("fails", "holds", "improvement"),
    ],
)
def test_verdict_changes_and_their_direction(before, after, direction):
    d = diff_summaries(_summary(_claim("a.x", before)), _summary(_claim("a.x", after)))
    (change,) = d.verdicts
    assert (change.before, change.after, change.direction) == (before, after, direction)
    assert d.exit_code == (1 if direction == "regression" else 0)
    assert f"{direction:<11}  a.x: {before} -> {after}" in d.text()


def test_a_replication_regression_counts():
    a = _summary(_claim("a.x", replication={"verdict": "holds"}))
    b = _summary(_claim("a.x", replication={"verdict": "inconclusive"}))
    d = diff_summaries(a, b)
    assert [(v.part, v.direction) for v in d.verdicts] == [("replication verdict", "regression")]
    assert d.exit_code == 1
    one_sided = diff_summaries(a, _summary(_claim("a.x")))
    assert any("--replicate" in w for w in one_sided.warnings) and one_sided.exit_code == 0


def test_margin_changes_beyond_the_threshold():
    a = _summary(_claim("a.x", margin=0.5), _claim("a.y", margin=0.5), _claim("a.z", margin=None))
    b = _summary(_claim("a.x", margin=0.35), _claim("a.y", margin=0.75), _claim("a.z", margin=0.1))
    d = diff_summaries(a, b, margin_threshold=0.2)
    assert [(m.id, m.before, m.after) for m in d.margins] == [
        ("a.y", 0.5, 0.75),
        ("a.z", None, 0.1),
    ]
    assert d.margins[0].delta == pytest.approx(0.25) and d.margins[1].delta is None
    assert d.exit_code == 0  # a margin change is reported, not a regression
    assert [m.id for m in diff_summaries(a, b).margins] == ["a.x", "a.y", "a.z"]  # default 0.1
    with pytest.raises(ValueError, match="margin_threshold must be a finite number >= 0"):
        diff_summaries(a, b, margin_threshold=-0.1)


def test_changed_bars_say_which_way():
    def rate(threshold, direction="at_least"):
        return [{"name": "r", "threshold": threshold, "direction": direction}]

    def registered(bar, seeds="0-9"):
        return {
            "tolerances": {"rtol": 1e-10},
            "profile": {
                "bars": {"min_rate": bar},
                "tolerances": {},
                "seeds": seeds,
                "calibration_seeds": "",
                "rates": [{"name": "r", "bar": bar, "direction": "at_least"}],
                "controls": {},
            },
        }

    a = _summary(
        _claim("a.low", rates=rate(0.8)),
        _claim("a.most", rates=rate(0.1, "at_most")),
        _claim("a.p", contrasts=[{"name": "c", "threshold": 0.05}]),
        _claim("a.reg", registered=registered(0.8)),
        _claim("a.tol", tolerance="|x| <= 1e-3"),
    )
    b = _summary(
        _claim("a.low", rates=rate(0.7)),
        _claim("a.most", rates=rate(0.05, "at_most")),
        _claim("a.p", contrasts=[{"name": "c", "threshold": 0.1}]),
        _claim("a.reg", registered=registered(0.9, seeds="0-19")),
        _claim("a.tol", tolerance="|x| <= 1e-2"),
    )
    found = {(c.id, c.what): (c.before, c.after, c.direction) for c in diff_summaries(a, b).bars}
    assert found == {
        ("a.low", "rate 'r' bar"): (0.8, 0.7, "loosened"),
        ("a.most", "rate 'r' bar"): (0.1, 0.05, "tightened"),
        ("a.p", "contrast 'c' p-value threshold"): (0.05, 0.1, "loosened"),
        ("a.reg", "registered bar 'min_rate'"): (0.8, 0.9, "changed"),
        ("a.reg", "registered rate 'r'"): (">= 0.8", ">= 0.9", "changed"),
        ("a.reg", "registered seeds"): ("0-9", "0-19", "changed"),
        ("a.tol", "tolerance"): ("|x| <= 1e-3", "|x| <= 1e-2", "changed"),
    }


def test_added_removed_and_profile_warning():
    a = _summary(_claim("a.x"), _claim("a.gone", "fails", -0.1))
    b = _summary(_claim("a.x"), _claim("a.new", "inconclusive", None), profile="full")
    d = diff_summaries(a, b, paths=("old", "new"))
    assert d.added == (("a.new", "inconclusive"),) and d.removed == (("a.gone", "fails"),)
    assert d.exit_code == 0  # only claims in both can regress
    assert "profiles differ (quick vs full)" in d.warnings[0]
    text = d.text()
    assert text.startswith("A: old (profile quick, commit aaaaaaaaaaaa")
    assert "added (1): a.new (inconclusive)" in text and "removed (1): a.gone (fails)" in text
    data = d.as_dict()
    assert data["added"] == [{"id": "a.new", "verdict": "inconclusive"}]
    assert data["exit_code"] == 0 and data["regressions"] == 0


def test_reading_summaries(tmp_path):
    s = _summary(_claim("a.x"))
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "summary.json").write_text(json.dumps(s))
    assert read_summary(tmp_path / "rep") == s == read_summary(tmp_path / "rep" / "summary.json")
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"claims": [{"name": "x"}]}')
    for path, message in (
        (tmp_path, "no summary.json in that directory"),
        (tmp_path / "nope.json", "no such file"),
        (tmp_path / "bad.json", "not JSON"),
        (tmp_path / "other.json", "not an overtensor summary.json"),
    ):
        with pytest.raises(DiffError, match=message):
            read_summary(path)


# ---------------------------------------------------------------------------------------------
# the command, on summaries written by the report writer
# ---------------------------------------------------------------------------------------------
def test_diff_of_two_written_reports(capsys, tmp_path, monkeypatch):
    db = tmp_path / "db.sqlite"
    claims = {
        "fakediff.steady": make_claim("fakediff.steady"),
        "fakediff.breaks": make_claim("fakediff.breaks", judge=evidence_judge),
    }
    for cid, c in claims.items():
        monkeypatch.setitem(REGISTRY, cid, c)
    reports.report(["fakediff"], out=tmp_path / "a", db=db, workers=1)
    # B: the same runs, but one claim's judge now sees a failed run and its verdict drops
    monkeypatch.setitem(
        REGISTRY,
        "fakediff.breaks",
        make_claim("fakediff.breaks", judge=evidence_judge, failing=[3]),
    )
    monkeypatch.setitem(REGISTRY, "fakediff.new", make_claim("fakediff.new"))
    reports.report(["fakediff"], out=tmp_path / "b", db=db, workers=1)
    code, out, _ = _main(capsys, "diff", tmp_path / "a", tmp_path / "b")
    assert code == 1
    assert "regression   fakediff.breaks: holds -> inconclusive" in out
    assert "added (1): fakediff.new (holds)" in out
    assert out.rstrip().endswith("1 verdict regression(s): exit 1")
    code, out, _ = _main(capsys, "diff", tmp_path / "b", tmp_path / "a", "--json")
    data = json.loads(out)
    assert code == 0 and data["verdict_changes"][0]["direction"] == "improvement"
    assert data["removed"] == [{"id": "fakediff.new", "verdict": "holds"}]
    code, out, _ = _main(capsys, "diff", tmp_path / "a", tmp_path / "a" / "summary.json")
    assert code == 0 and "no changes in 2 claim(s)" in out


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--margin-threshold", "-1"], "--margin-threshold must be a finite number >= 0"),
        (["--margin-threshold", "x"], "invalid float value: 'x'"),
    ],
)
def test_diff_usage_errors(capsys, tmp_path, extra, message):
    (tmp_path / "s.json").write_text(json.dumps(_summary(_claim("a.x"))))
    # argparse itself exits on a bad --margin value
    code, _, err = _main(
        capsys, "diff", tmp_path / "s.json", tmp_path / "s.json", *extra, exits=True
    )
    assert code == 2 and message in err
    code, _, err = _main(capsys, "diff", tmp_path / "s.json", tmp_path / "missing")
    assert code == 2 and "no such file" in err
