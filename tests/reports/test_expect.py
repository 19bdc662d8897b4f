"""Expected verdicts (--expect FILE): the file's rules, strict matching, exit codes, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import reports
from reports.catalog import all_claims
from reports.expectations import (
    Comparison,
    Expectation,
    ExpectationError,
    Expectations,
    compare,
    effective_verdict,
    load_expectations,
    specificity,
)
from reports.registry import REGISTRY
from tests.reports.cli_run import run_main as _main
from tests.reports.fake_claims import make_claim

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "expected-verdicts.toml"


def _file(tmp_path: Path, text: str, name: str = "expect.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------
# which entry applies
# ---------------------------------------------------------------------------------------------
def test_specificity_rule():
    assert specificity("deflation.order") > specificity("deflation.*") > specificity("*.order")
    assert specificity("deflation.m-*") > specificity("deflation.*") > specificity("*")
    assert specificity("lazy.[at]*") == (0, len("lazy.") + 1)  # a bracket counts one character
    assert specificity("lazy.a?") == (0, len("lazy.a"))


def test_the_most_specific_entry_applies(tmp_path):
    e = load_expectations(
        _file(
            tmp_path,
            '"*" = "inconclusive"\n'
            '"deflation.*" = { verdict = "fails", reason = "all of paper 2" }\n'
            '"deflation.m-*" = "holds"\n'
            '"deflation.m-needed" = { verdict = "inconclusive", reason = "this one" }\n',
        )
    )
    found = {cid: e.for_claim(cid) for cid in ("deflation.m-needed", "deflation.m-x", "x.y")}
    assert found["deflation.m-needed"].verdict == "inconclusive"  # the id
    assert found["deflation.m-x"].pattern == "deflation.m-*"  # the longer glob
    assert e.for_claim("deflation.order").reason == "all of paper 2"
    assert found["x.y"].pattern == "*"


def test_equally_specific_globs_that_disagree_are_an_error(tmp_path):
    text = '"deflation.o*" = "fails"\n"*ation.order" = "holds"\n'
    e = load_expectations(_file(tmp_path, text))
    with pytest.raises(ExpectationError, match="equally specific") as info:
        e.for_claim("deflation.order")
    assert "line 1" in str(info.value) and "line 2" in str(info.value)
    # agreeing ones are not ambiguous
    agree = load_expectations(
        _file(tmp_path, '"deflation.o*" = "fails"\n"*ation.order" = "fails"\n')
    )
    assert agree.for_claim("deflation.order").verdict == "fails"


# ---------------------------------------------------------------------------------------------
# the file
# ---------------------------------------------------------------------------------------------
def test_the_three_ways_to_write_an_entry(tmp_path):
    e = load_expectations(
        _file(
            tmp_path,
            '"a.one" = "fails"\n'
            "a.two = { verdict = 'inconclusive', reason = 'why' }\n"  # a bare dotted key
            "[b]\nthree = 'holds'\n",  # a table header
        )
    )
    assert [(x.pattern, x.verdict, x.reason, x.line) for x in e.entries] == [
        ("a.one", "fails", "", 1),
        ("a.two", "inconclusive", "why", 2),
        ("b.three", "holds", "", 4),
    ]
    assert load_expectations(_file(tmp_path, "# nothing expected\n")).entries == ()


@pytest.mark.parametrize(
    "text, message",
    [
        ('"a.b" = "fail"\n', "line 1: key 'a.b': unknown verdict 'fail'.*did you mean 'fails'"),
        ('\n"a.b" = 3\n', "line 2: key 'a.b': unknown verdict 3"),
        ('"a.b" = { verdict = "holds", why = "x" }\n', "line 1: key 'a.b': unknown field.*'why'"),
        ('"a.b" = { verdict = "holds", reason = 1 }\n', "reason must be a string"),
        ('"a.b" = {}\n', "key 'a.b' has no verdict"),
        ('"a.b" = "holds"\n"A.B" = "fails"\n', "line 2: key 'a.b' is given twice .*line 1"),
        ('"a.b" = \n', r"not valid TOML: .*\(at line 1, column 9\)"),
        ('"a b" = "holds"\n', "is not a claim id or a glob"),
    ],
)
def test_a_bad_file_names_the_line_and_key(tmp_path, text, message):
    with pytest.raises(ExpectationError, match=message) as info:
        load_expectations(_file(tmp_path, text))
    assert str(tmp_path / "expect.toml") in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_missing_file(tmp_path):
    with pytest.raises(ExpectationError, match="cannot read it: No such file"):
        load_expectations(tmp_path / "nope.toml")


def test_keys_must_match_a_registered_claim(tmp_path):
    ids = [c.id for c in all_claims()]
    e = load_expectations(_file(tmp_path, '"deflation.ordr" = "fails"\n'))
    with pytest.raises(
        ExpectationError, match="line 1: key 'deflation.ordr' matches no registered"
    ):
        e.check_known(ids)
    with pytest.raises(ExpectationError, match="did you mean 'deflation.order'"):
        e.check_known(ids)
    e = load_expectations(_file(tmp_path, '"deflation" = "fails"\n'))
    with pytest.raises(ExpectationError, match="a whole area is written 'deflation.\\*'"):
        e.check_known(ids)


# ---------------------------------------------------------------------------------------------
# strict comparison
# ---------------------------------------------------------------------------------------------
def test_comparison_is_strict_and_unlisted_claims_must_hold():
    e = Expectations("f.toml", (Expectation("x.*", "fails", "known"),))
    result = compare(
        e, [("x.a", "fails"), ("x.b", "holds"), ("y.a", "holds"), ("y.b", "inconclusive")]
    )
    assert [c.matches for c in result.comparisons] == [True, False, True, False]
    assert result.exit_code == 1
    assert [c.claim_id for c in result.mismatches] == ["x.b", "y.b"]
    assert result.mismatches[0].describe() == "x.b: expected fails (x.*: known), got holds"
    assert result.mismatches[1].describe() == (
        "y.b: expected holds (no entry: must hold), got inconclusive"
    )
    assert compare(e, [("x.a", "fails"), ("y.a", "holds")]).exit_code == 0
    assert Comparison("a.b", "holds", "holds").as_dict() == {
        "verdict": "holds",
        "reason": "",
        "pattern": None,
        "matches": True,
    }


def test_the_effective_verdict_is_the_worse_block():
    assert effective_verdict("holds", None) == "holds"
    assert effective_verdict("holds", "inconclusive") == "inconclusive"
    assert effective_verdict("fails", "holds") == "fails"
    assert effective_verdict("inconclusive", "fails") == "fails"


# ---------------------------------------------------------------------------------------------
# the command line, the report and the API
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def three(monkeypatch):
    for cid, status in (
        ("fakex.ok", "holds"),
        ("fakex.bad", "fails"),
        ("fakex.odd", "inconclusive"),
    ):
        monkeypatch.setitem(REGISTRY, cid, make_claim(cid, judge_status=status))


def test_report_exits_0_when_every_verdict_is_expected(capsys, tmp_path, three):
    f = _file(
        tmp_path,
        '"fakex.bad" = { verdict = "fails", reason = "a known bug" }\n'
        '"fakex.odd" = "inconclusive"\n',
    )
    out, db = tmp_path / "rep", tmp_path / "db.sqlite"
    argv = [
        "report",
        "--claims",
        "fakex",
        "--expect",
        f,
        "--out",
        out,
        "--db",
        db,
        "--workers",
        "1",
    ]
    code, stdout, _ = _main(capsys, *argv)
    assert code == 0  # without --expect: 1 (a claim fails)
    assert f"--expect {f}: 3 of 3 claim(s) as expected" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exit_code"] == 1  # the verdicts' own exit code is kept
    assert summary["expectations"] == {
        "file": str(f),
        "exit_code": 0,
        "as_expected": 3,
        "mismatches": [],
    }
    by_id = {c["id"]: c["expected"] for c in summary["claims"]}
    assert by_id["fakex.bad"] == {
        "verdict": "fails",
        "reason": "a known bug",
        "pattern": "fakex.bad",
        "matches": True,
    }
    assert by_id["fakex.ok"]["pattern"] is None and by_id["fakex.ok"]["verdict"] == "holds"
    html = (out / "index.html").read_text()
    assert "<b>Expected:</b> fails (fakex.bad: a known bug) — as expected." in html
    md = (out / "report.md").read_text()
    assert "**Expected:** inconclusive (fakex.odd) — as expected." in md


def test_report_lists_mismatches_and_exits_1(capsys, tmp_path, three):
    f = _file(tmp_path, '"fakex.ok" = "fails"\n"fakex.bad" = "fails"\n')
    out, db = tmp_path / "rep", tmp_path / "db.sqlite"
    argv = [
        "report",
        "--claims",
        "fakex",
        "--expect",
        f,
        "--out",
        out,
        "--db",
        db,
        "--workers",
        "1",
    ]
    code, stdout, _ = _main(capsys, *argv)
    assert code == 1
    lines = stdout.splitlines()
    assert lines[-3] == f"--expect {f}: 1 of 3 claim(s) as expected, 2 mismatch(es):"
    assert lines[-2:] == [
        "  fakex.odd: expected holds (no entry: must hold), got inconclusive",
        "  fakex.ok: expected fails (fakex.ok), got holds",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert [m["id"] for m in summary["expectations"]["mismatches"]] == ["fakex.odd", "fakex.ok"]
    html = (out / "index.html").read_text()
    assert (
        '<a href="#fakex.ok">fakex.ok</a>' in html
        and "<b>mismatch</b>: the verdict is holds" in html
    )
    # check takes the same file
    code, stdout, _ = _main(capsys, "check", "fakex.ok", "--expect", f, "--db", db)
    assert code == 1 and "expected:   fails (fakex.ok): MISMATCH: got holds" in stdout
    code, stdout, _ = _main(capsys, "check", "fakex.bad", "--expect", f, "--db", db, "--json")
    assert code == 0 and json.loads(stdout)["expected"]["matches"] is True
    # the API: the same comparison, the same exit code
    res = reports.report(["fakex"], out=tmp_path / "api", db=db, workers=1, expect=f)
    assert res.exit_code == 1 and [c.claim_id for c in res.expected.mismatches] == [
        "fakex.odd",
        "fakex.ok",
    ]
    assert reports.check("fakex.bad", db=db, workers=1, expect=f).exit_code == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ('"fakex.ok" = "maybe"\n', "line 1: key 'fakex.ok': unknown verdict 'maybe'"),
        ('"fakex.nope" = "fails"\n', "key 'fakex.nope' matches no registered claim"),
        ("[[x]]\n", "unknown verdict"),
    ],
)
def test_a_bad_file_is_exit_2_before_anything_runs(capsys, tmp_path, three, text, message):
    f = _file(tmp_path, text)
    db = tmp_path / "db.sqlite"
    for argv in (["report", "--claims", "fakex", "--out", tmp_path / "rep"], ["check", "fakex.ok"]):
        code, _, err = _main(capsys, *argv, "--expect", f, "--db", db)
        assert code == 2 and err.startswith("overtensor: error: ") and message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["expect.toml"]


def test_the_documented_example():
    e = load_expectations(EXAMPLE)
    e.check_known(c.id for c in all_claims())
    lazy = [c.id for c in all_claims() if c.id.startswith("lazy.")]
    for cid in lazy:
        want = "holds" if cid == "lazy.tangent-dimension" else "inconclusive"
        assert e.for_claim(cid).verdict == want, cid
    assert e.for_claim("deflation.order").verdict == "fails"
    assert e.for_claim("deflation.recovery") is None  # no entry: must hold
