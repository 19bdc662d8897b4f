"""The notebook API mirrors the CLI: same verdicts, same report files, HTML/plain display."""

from __future__ import annotations

import json
import re

import pytest

import reports
from reports import loading
from reports.cli import main
from reports.registry import REGISTRY
from tests.reports.fake_claims import make_claim
from tests.reports.test_loading import clean_registry, write_claim  # noqa: F401 (fixture)


def test_top_level_names_are_the_api():
    from reports import api

    assert reports.check is api.check and reports.report is api.report
    assert reports.list_claims is api.list_claims and reports.load is loading.load
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        reports.nope  # noqa: B018


def test_check_matches_cli_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(REGISTRY, "fake.api", make_claim("fake.api"))
    db = tmp_path / "db.sqlite"
    res = reports.check("fake.api", db=db, workers=1)
    assert res.status == "holds" and res.exit_code == 0
    assert res.verdict.measured == "4 ok runs" and len(res.outcome.results) == 4
    assert main(["check", "fake.api", "--db", str(db), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    api = res.summary
    for key in ("id", "verdict", "predicted", "measured", "reason", "runs"):
        assert cli[key] == api[key], key
    assert cli["runs_cached"] == 4  # the CLI reused the API's stored runs: same keys
    # plain repr: one line with id and verdict
    text = repr(res)
    assert text.startswith("CheckResult(fake.api: holds;") and "\n" not in text
    # HTML: a table with the verdict, and the figure embedded as a PNG data URI
    page = res._repr_html_()
    assert "<table>" in page and "fake.api" in page and ">holds<" in page
    (png,) = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    import base64

    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
    assert res.figure_png() is not None


def test_check_fails_is_reported_not_raised(tmp_path, monkeypatch):
    monkeypatch.setitem(REGISTRY, "fake.bad", make_claim("fake.bad", failing=[1]))
    res = reports.check("fake.bad", db=tmp_path / "db.sqlite", workers=1)
    assert res.status == "inconclusive" and res.exit_code == 3
    assert "1 of 4 runs failed" in res.verdict.reason


def test_bad_usage_raises(tmp_path):
    with pytest.raises(KeyError, match="unknown claim id 'no.such'"):
        reports.check("no.such", db=tmp_path / "db.sqlite")
    with pytest.raises(ValueError, match="profile must be one of"):
        reports.check("foundation.gram-identity", profile="huge", db=tmp_path / "db.sqlite")
    with pytest.raises(TypeError, match="list of ids"):
        reports.report("foundation.gram-identity", out=tmp_path / "r")
    with pytest.raises(loading.LoadError, match="nope.py"):
        reports.check("x", load=tmp_path / "nope.py", db=tmp_path / "db.sqlite")


def test_report_with_load_writes_the_same_directory(tmp_path):
    f = write_claim(tmp_path / "nb_claim.py", "ext.notebook")
    out = tmp_path / "rep"
    res = reports.report(["ext.notebook"], out=out, load=f, db=tmp_path / "db.sqlite", workers=2)
    assert res.exit_code == 0 and res.index_html.is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"holds": 1, "fails": 0, "inconclusive": 0}
    assert res.summary["claims"][0]["id"] == "ext.notebook"
    (source,) = res.summary["provenance"]["claims_loaded"]
    assert source == str(f.resolve())
    assert res["ext.notebook"].status == "holds"
    with pytest.raises(KeyError):
        res["foundation.gram-identity"]
    text = repr(res)
    assert text.splitlines()[0].startswith("ReportResult(") and "ext.notebook" in text
    page = res._repr_html_()
    assert "ext.notebook" in page and "data:image/png;base64," in page
    assert out.resolve().as_uri() in page
    # list_claims mirrors `overtensor claims --load`
    assert "ext.notebook" in [c.id for c in reports.list_claims(load=f)]


# ---------------------------------------------------------------------------------------------
# notebook use: dir(), the claim list's views, nothing on stdout unless asked
# ---------------------------------------------------------------------------------------------
def test_dir_lists_the_public_api():
    names = dir(reports)
    assert names == sorted(reports.__all__)
    assert {"check", "report", "list_claims", "load", "ClaimList", "CheckResult"} <= set(names)
    assert "Any" not in names and "annotations" not in names
    for name in names:
        assert getattr(reports, name) is not None


def test_list_claims_views():
    claims = reports.list_claims()
    assert isinstance(claims, reports.ClaimList) and len(claims) == len(REGISTRY)
    assert claims["deflation.order"].id == "deflation.order" and claims[0].id == claims.ids[0]
    assert claims[1:3].ids == claims.ids[1:3]
    with pytest.raises(KeyError, match="not in this list"):
        claims["no.such"]
    text = repr(claims)
    lines = text.splitlines()
    assert lines[0] == f"ClaimList({len(REGISTRY)} claim(s))" and len(lines) == len(REGISTRY) + 1
    assert all(len(line) < 140 for line in lines)  # one short line per claim, no function reprs
    page = claims._repr_html_()
    assert page.startswith("<table>") and page.count("<tr>") == len(REGISTRY) + 1
    for header in ("claim", "source", "statement", "profiles", "controls"):
        assert f">{header}</th>" in page
    assert "rademacher initialisation" in page  # theory.expected-kernel's control
    assert "&lt;" not in claims[0].id and "<script" not in page  # escaped by the engine


def test_the_api_prints_nothing_unless_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(REGISTRY, "fake.quiet", make_claim("fake.quiet"))
    reports.report(["fake.quiet"], out=tmp_path / "r", db=tmp_path / "db.sqlite", workers=1)
    reports.check("fake.quiet", db=tmp_path / "db.sqlite", workers=1, fresh=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    reports.check("fake.quiet", db=tmp_path / "db.sqlite", workers=1, fresh=True, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "4/4" in captured.err  # tqdm's bar on stderr
    with pytest.raises(TypeError, match="progress must be True or False"):
        reports.check("fake.quiet", db=tmp_path / "db.sqlite", progress="yes")
