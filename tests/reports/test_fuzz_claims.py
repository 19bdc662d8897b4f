"""Fuzz test of claim files loaded with ``--load`` (issue 24, "Deliver").

A strategy writes small claim modules (:mod:`tests.reports.claim_files`) with a hostile id or a valid
one, and parts that work, raise, call ``sys.exit``, raise another ``BaseException``, or return the
wrong thing (non-dicts, ``None``, NaN, objects whose ``repr`` exits, Verdicts with unprintable
texts). Each file is run in-process through ``reports.cli.main`` (``report --load FILE``) or the
Python API. Whatever the file does:

* the exit code is the one its behaviours call for (:func:`~tests.reports.claim_files.expected_exit`,
  computed from the behaviours, not from the code under test); nothing escapes ``main`` (no
  ``SystemExit`` from claim code, no traceback, never the internal-error code 4);
* exit 2 (the file cannot be loaded, or its id is refused) writes nothing: no database, no report;
* any other exit writes the report, with the claim's verdict in ``summary.json``; no temporary or
  old sibling is left;
* no result is lost: a second run reuses every successful run from the database.

The fast variant runs a few examples in the default suite; the ``slow`` one (``tox -e verify``)
runs many more, through the command line and the API.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reports
from reports import loading
from reports.catalog import get_claim
from reports.cli import main
from reports.registry import REGISTRY
from tests.reports.claim_files import GOOD, PARTS, claim_source, expected_exit

#: The documented id rule (reports/registry.py, docs/writing-a-claim.md), written out here so that
#: the oracle does not come from the code under test: dotted, lower-case letters, digits and "-",
#: at most 100 characters.
ID_RULE = re.compile(r"[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+")
ID_MAX = 100

HOSTILE_IDS = [
    "",
    "x.col/a",
    "x.col_a",
    "x." + "a" * 298,
    "x.a\n# injected heading",
    "X.Upper",
    "nodot",
    "x..y",
    ".x.y",
    "x.y.",
    "x.<script>",
    "x.caf\u00e9",
    "x.y z",
    "-x.y",
    "x.y\x00",
    "../../etc.passwd",
]

VERDICTS = {0: "holds", 1: "fails", 3: "inconclusive"}


def _valid(cid: str) -> bool:
    return len(cid) <= ID_MAX and ID_RULE.fullmatch(cid) is not None


_valid_ids = st.from_regex(r"fuzz\.[a-z0-9][a-z0-9-]{0,12}", fullmatch=True)
# mostly valid ids and importable files, so that most examples reach the runs and the report
claim_ids = st.one_of(
    _valid_ids, _valid_ids, _valid_ids, st.sampled_from(HOSTILE_IDS), st.text(max_size=12)
)
behaviours = st.fixed_dictionaries(
    {
        part: st.sampled_from([GOOD[part]] * (6 if part == "import" else 2) + sorted(menu))
        for part, menu in PARTS.items()
    }
)


@contextlib.contextmanager
def _isolated_registry() -> Iterator[None]:
    """Each example loads its file into a clean registry (ids may repeat between examples)."""
    get_claim("foundation.gram-identity")  # built-ins imported before the snapshot
    before = dict(REGISTRY)
    try:
        yield
    finally:
        for name in list(loading._LOADED):
            loading._forget(name)
        REGISTRY.clear()
        REGISTRY.update(before)


def _run_cli(argv: list[str], capsys: Any) -> tuple[Any, str]:
    try:
        code: Any = main(argv)
    except BaseException as exc:  # noqa: BLE001 - an escape is the failure under test
        if isinstance(exc, KeyboardInterrupt):
            raise
        code = f"{type(exc).__name__} escaped main()"
    return code, capsys.readouterr().err


def _run_api(f: Path, cid: str, out: Path, db: Path) -> tuple[Any, str]:
    try:
        result = reports.report([cid], out=out, db=db, load=f, workers=1)
    except ValueError as exc:  # bad usage (a LoadError too): the command line's exit 2
        return 2, str(exc)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt):
            raise
        return f"{type(exc).__name__} escaped the API", ""
    return result.exit_code, ""


def _check_one(cid: str, parts: dict[str, str], capsys: Any, via: str, rerun: bool) -> None:
    expected = expected_exit(parts, valid_id=_valid(cid))
    with tempfile.TemporaryDirectory(prefix="overtensor-fuzz-") as tmp, _isolated_registry():
        work = Path(tmp)
        f = work / "claim.py"
        f.write_text(claim_source(cid, parts))
        out, db = work / "rep", work / "r.sqlite"
        argv = ["report", "--load", str(f), f"--claims={cid}", "--out", str(out), "--db", str(db)]
        argv += ["--workers", "1"]
        if via == "api" and expected != 2:
            code, err = _run_api(f, cid, out, db)
        else:
            code, err = _run_cli(argv, capsys)
        assert code == expected, (cid, parts, code, err)
        assert "Traceback" not in err, err
        leftovers = [p.name for p in work.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
        assert leftovers == [], leftovers
        if expected == 2:
            if via == "cli":
                assert err.startswith("overtensor: error: "), err
            assert not out.exists() and not db.exists()
            return
        summary = json.loads((out / "summary.json").read_text())
        (claim,) = summary["claims"]
        assert claim["id"] == cid and claim["verdict"] == VERDICTS[expected]
        if not rerun:
            return
        _isolated_registry_reload = _run_cli(argv, capsys)
        assert _isolated_registry_reload[0] == expected
        again = json.loads((out / "summary.json").read_text())["claims"][0]
        ok_runs = claim["runs"] - claim["runs_failed"]
        assert again["runs_cached"] == ok_runs, (claim, again)  # no result lost


_HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=6, suppress_health_check=_HEALTH)
@given(cid=claim_ids, parts=behaviours)
def test_hostile_claim_files_fast(capsys, cid, parts):
    _check_one(cid, parts, capsys, via="cli", rerun=False)


@pytest.mark.slow
@settings(max_examples=80, suppress_health_check=_HEALTH)
@given(cid=claim_ids, parts=behaviours, via=st.sampled_from(["cli", "api"]), rerun=st.booleans())
def test_hostile_claim_files_thorough(capsys, cid, parts, via, rerun):
    _check_one(cid, parts, capsys, via=via, rerun=rerun)


def test_the_oracle_knows_every_behaviour():
    """Every behaviour of the menu is classified by :func:`expected_exit` (0, 1, 2 or 3)."""
    for part, menu in PARTS.items():
        for name in menu:
            assert expected_exit({part: name}) in (0, 1, 2, 3)
    assert expected_exit({}) == 0 and expected_exit({}, valid_id=False) == 2
