"""Selecting claims: ids, areas, groups, globs and -k expressions (reports.catalog, CLI and API).

The expected selections come from the layout the project documents (docs/architecture.md: paper1/
holds the lazy.* and beyond.* claims, paper2/ the deflation.* ones, classical/ foundation.* and
theory.*), not from the selection code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import reports
from reports.catalog import (
    SelectionError,
    UnknownClaimError,
    all_claims,
    claim_group,
    get_claim,
    parse_keyword,
    select_claims,
    select_one,
)
from reports.cli import EXIT_SIGPIPE
from reports.registry import REGISTRY
from tests.reports.cli_run import run_main as _main
from tests.reports.fake_claims import make_claim
from tests.reports.test_loading import clean_registry, write_claim  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]


def _ids(claims):
    return [c.id for c in claims]


# ---------------------------------------------------------------------------------------------
# patterns
# ---------------------------------------------------------------------------------------------
def test_an_id_an_area_and_a_glob():
    all_ids = _ids(all_claims())
    assert _ids(select_claims(["deflation.order"])) == ["deflation.order"]
    deflation = [i for i in all_ids if i.startswith("deflation.")]
    assert len(deflation) >= 10
    assert _ids(select_claims(["deflation"])) == deflation
    assert _ids(select_claims(["deflation.*"])) == deflation
    assert _ids(select_claims(["*.order"])) == [i for i in all_ids if i.endswith(".order")]
    assert _ids(select_claims(["lazy.[at]*"])) == [
        i for i in all_ids if i.startswith(("lazy.a", "lazy.t"))
    ]
    assert _ids(select_claims(["Deflation.ORDER"])) == ["deflation.order"]  # ids are lower case
    assert _ids(select_claims(None)) == all_ids


def test_groups_are_the_folders_of_the_claim_files():
    all_ids = _ids(all_claims())
    by_prefix = {
        "paper1": ("lazy.", "beyond."),
        "paper2": ("deflation.",),
        "classical": ("foundation.", "theory."),
    }
    for group, prefixes in by_prefix.items():
        assert _ids(select_claims([group])) == [i for i in all_ids if i.startswith(prefixes)]
    assert claim_group(get_claim("deflation.order")) == "paper2"
    assert claim_group(make_claim("fake.group")) == ""  # built by hand: no declaring module


def test_order_follows_the_patterns_and_each_claim_comes_once():
    chosen = _ids(select_claims(["theory.saddle-order", "foundation", "foundation.gram-identity"]))
    assert chosen[0] == "theory.saddle-order"
    assert chosen.count("foundation.gram-identity") == 1
    assert chosen[1:] == sorted(chosen[1:]) and all(c.startswith("foundation.") for c in chosen[1:])


def test_a_string_instead_of_a_list_is_refused():
    with pytest.raises(TypeError, match=r"write \['deflation'\]"):
        select_claims("deflation")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# unknown ids
# ---------------------------------------------------------------------------------------------
def test_a_near_miss_gets_did_you_mean_and_no_load_hint():
    with pytest.raises(UnknownClaimError) as info:
        select_claims(["deflation.ordr"])
    text = str(info.value)
    assert text.startswith("unknown claim id 'deflation.ordr'; did you mean 'deflation.order'")
    assert "--load" not in text  # the area exists: not a missing file
    assert isinstance(info.value, KeyError)


def test_an_unknown_area_asks_about_load():
    with pytest.raises(UnknownClaimError, match=r"no claim id starts with 'mine\.'.*--load"):
        select_claims(["mine.claim"])
    with pytest.raises(UnknownClaimError, match=r"unknown claim pattern 'mine\.\*'.*--load"):
        select_claims(["mine.*"])
    with pytest.raises(UnknownClaimError, match="did you mean .*'deflation.order'.*--load"):
        get_claim("deflaton.order")


def test_check_takes_one_claim():
    assert select_one("*.gram-identity").id == "foundation.gram-identity"
    with pytest.raises(SelectionError, match=r"'foundation' selects \d+ claims .*report --claims"):
        select_one("foundation")


# ---------------------------------------------------------------------------------------------
# -k expressions
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expression, names, kept",
    [
        ("order", ["deflation.order", "paper2"], True),
        ("ORDER", ["deflation.order", "paper2"], True),  # any case, as pytest
        ("paper2 and not order", ["deflation.order", "paper2"], False),
        ("paper2 and not order", ["deflation.epochs", "paper2"], True),
        ("lazy or (deflation and not epochs)", ["deflation.epochs", "paper2"], False),
        ("(lazy or deflation) and not epochs", ["lazy.alpha-scaling", "paper1"], True),
        ("not not lazy", ["lazy.alpha-scaling", "paper1"], True),
        ("a or b and c", ["a"], True),  # and binds tighter: a or (b and c)
        ("(a or b) and c", ["a"], False),
        ("", ["anything"], True),  # as pytest: an empty expression keeps everything
    ],
)
def test_keyword_expressions(expression, names, kept):
    assert parse_keyword(expression)(names) is kept


@pytest.mark.parametrize(
    "expression, where",
    [
        ("a and", "found the end"),
        ("(a", "expected ')'"),
        ("and a", "'and' at column 1"),
        ("a b", "'b' at column 3"),
        ("a )", "')' at column 3"),
        ("not", "found the end"),
    ],
)
def test_bad_keyword_expressions_name_the_place(expression, where):
    with pytest.raises(SelectionError, match=r"-k .*expected") as info:
        parse_keyword(expression)
    assert where in str(info.value)


def test_keyword_is_never_evaluated():
    # a Python name is a word, matched as a substring of ids: it selects nothing
    with pytest.raises(SelectionError, match="matches none of the registered claims"):
        select_claims(None, "__import__.os.system")
    # a call is not a word followed by an operator: refused where the parenthesis opens
    with pytest.raises(SelectionError, match="found '\\(' at column 11"):
        select_claims(None, "__import__('os').system('false')")


def test_keyword_filters_a_selection_and_matches_groups():
    ids = _ids(select_claims(["paper2"], "not (order or epochs)"))
    assert ids and all(i.startswith("deflation.") for i in ids)
    assert "deflation.order" not in ids and "deflation.epochs" not in ids
    assert _ids(select_claims(None, "classical and gram")) == ["foundation.gram-identity"]
    with pytest.raises(SelectionError, match="matches none of the selected claims"):
        select_claims(["foundation"], "deflation")


# ---------------------------------------------------------------------------------------------
# the command line and the API
# ---------------------------------------------------------------------------------------------
def test_claims_command_lists_a_selection(capsys):
    code, out, _ = _main(capsys, "claims", "classical", "-k", "gram or loss", "--json")
    assert code == 0
    assert [c["id"] for c in json.loads(out)] == [
        "foundation.gram-identity",
        "foundation.loss-monotone",
    ]
    code, out, _ = _main(capsys, "claims", "*.order")
    assert code == 0 and out.splitlines()[-1] == "1 claim(s)"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["claims", "deflation.ordr"], "did you mean 'deflation.order'"),
        (["report", "--claims", "mine.x"], "forgot to --load"),
        (["report", "-k", "(order"], "expected ')'"),
        (["check", "foundation"], "check runs one claim"),
        (["calibrate"], "calibrate needs the claims"),
        (["calibrate", "-k", "nothing-like-this"], "matches none"),
        (["report", "--profile", "scale", "--claims", "foundation"], "none of the selected"),
    ],
)
def test_selection_errors_are_usage_errors(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = _main(capsys, *argv)
    assert code == 2 and message in err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_report_runs_the_selection(capsys, tmp_path, monkeypatch):
    for cid in ("fakesel.one", "fakesel.two", "fakesel.three", "other.one"):
        monkeypatch.setitem(REGISTRY, cid, make_claim(cid))
    out = tmp_path / "rep"
    argv = ["report", "--claims", "fakesel.*", "other.one", "-k", "not two", "--workers", "1"]
    code, _, _ = _main(capsys, *argv, "--out", str(out), "--db", str(tmp_path / "db.sqlite"))
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [c["id"] for c in summary["claims"]] == ["fakesel.one", "fakesel.three", "other.one"]
    # the API takes the same patterns
    res = reports.report(
        ["fakesel"], keyword="t", out=tmp_path / "api", db=tmp_path / "db.sqlite", workers=1
    )
    assert [c["id"] for c in res.summary["claims"]] == ["fakesel.three", "fakesel.two"]
    assert [c.id for c in reports.list_claims(["fakesel"], keyword="one")] == ["fakesel.one"]
    assert reports.check("*.three", db=tmp_path / "db.sqlite", workers=1).claim.id == (
        "fakesel.three"
    )


def test_a_closed_pipe_exits_quietly_with_141():
    proc = subprocess.Popen(
        [sys.executable, "-m", "reports", "claims"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == EXIT_SIGPIPE == 141
    assert err == ""  # no BrokenPipeError traceback, no "Exception ignored" line


def test_a_loaded_file_s_group_is_its_folder(tmp_path):
    folder = tmp_path / "mygroup"
    folder.mkdir()
    write_claim(folder / "one.py", "ext.grouped")
    reports.load(folder)
    assert _ids(select_claims(["mygroup"])) == ["ext.grouped"]
    assert _ids(select_claims(None, "mygroup")) == ["ext.grouped"]  # -k matches the group too
    assert claim_group(get_claim("ext.grouped")) == "mygroup"
