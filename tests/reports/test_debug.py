"""Debugging a claim: --debug / --workers 0 run in this process with full tracebacks; a claim that
cannot be built (a config class that is not frozen, an unhashable field, configs that are not
dataclasses, a wrong signature) is bad usage named before anything runs."""

from __future__ import annotations

import os
from concurrent.futures import Executor, Future
from pathlib import Path

import pytest

import reports
from reports.registry import REGISTRY, ClaimDefinitionError
from reports.runner import InlineExecutor, check_claims, make_executor
from tests.reports.cli_run import run_main as _main
from tests.reports.fake_claims import make_claim
from tests.reports.test_loading import clean_registry  # noqa: F401 (fixture)

CLAIM = '''
"""A claim file written by tests/reports/test_debug.py."""
from dataclasses import dataclass

from reports.registry import Verdict, declare

claim = declare(
    {cid!r}, source="extension (test)", statement="s", latex="x", method="m", tolerance="t",
    tolerance_source="derived: test fixture", no_control="a test claim",
)


{decorator}
class Case:
    seed: int
    xs: {xs_type} = {xs_default}


@claim.configs
def configs(profile):
    return {configs}


@claim.experiment
def experiment(config):
    return measure(config)


def measure(config):
    {experiment}


@claim.predict
def predict(profile):
    return {{}}


@claim.judge
def judge(prediction, results):
    return decide(results)


def decide(results):
    {judge}


@claim.plot
def plot(prediction, results, figure):
    return draw(figure)


def draw(figure):
    {plot}
'''

GOOD = {
    "decorator": "@dataclass(frozen=True)",
    "xs_type": "tuple",
    "xs_default": "()",
    "configs": "[Case(seed) for seed in range(3)]",
    "experiment": "return {'x': float(config.seed)}",
    "judge": "return Verdict('holds', 'fine', 'p', 'm', margin=1.0)",
    "plot": "figure.add_subplot(1, 1, 1)\n    return {}",
}


def _file(tmp_path: Path, cid: str, **parts: str) -> Path:
    path = tmp_path / f"{cid.replace('.', '_').replace('-', '_')}.py"
    path.write_text(CLAIM.format(cid=cid, **{**GOOD, **parts}))
    return path


# ---------------------------------------------------------------------------------------------
# the synchronous executor
# ---------------------------------------------------------------------------------------------
def test_inline_executor_is_a_concurrent_futures_executor():
    ex = InlineExecutor()
    assert isinstance(ex, Executor)
    seen: list[int] = []
    fut = ex.submit(lambda x: seen.append(os.getpid()) or x * 2, 21)  # a lambda: nothing pickled
    assert isinstance(fut, Future) and fut.done() and fut.result() == 42
    assert seen == [os.getpid()]  # ran here, at submit
    bad = ex.submit(lambda: 1 / 0)
    assert isinstance(bad.exception(), ZeroDivisionError)
    assert list(ex.map(abs, [-1, -2])) == [1, 2]

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # Ctrl-C stops the sweep, not one future
        ex.submit(interrupted)
    ex.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        ex.submit(abs, 1)


def test_make_executor_inline():
    with make_executor("inline") as (ex, info):
        assert isinstance(ex, InlineExecutor) and (info.kind, info.workers) == ("inline", 1)
    with pytest.raises(ValueError, match="runs in this process: workers=2"):
        with make_executor("inline", workers=2):
            pass


# ---------------------------------------------------------------------------------------------
# --debug runs here, with tracebacks
# ---------------------------------------------------------------------------------------------
def test_workers_0_runs_in_this_process(capsys, tmp_path, monkeypatch):
    pids: list[int] = []

    def here(cfg):  # a closure: a process pool could not pickle it
        pids.append(os.getpid())
        return {"value": cfg.x, "x": cfg.x}

    claim = make_claim("fake.inline")
    object.__setattr__(claim, "experiment", here)
    monkeypatch.setitem(REGISTRY, "fake.inline", claim)
    code, out, err = _main(capsys, "check", "fake.inline", "--workers", "0", "--db", tmp_path / "d")
    assert code == 0, err
    assert pids == [os.getpid()] * 4
    assert "fake.inline: HOLDS" in out
    # the API: debug=True, and workers=0 as its alias
    for kw in ({"debug": True}, {"workers": 0}):
        res = reports.check("fake.inline", db=tmp_path / "d", fresh=True, **kw)
        assert res.status == "holds" and res.outcome.n_cached == 0
    assert pids == [os.getpid()] * 12


def test_debug_prints_the_experiment_and_plot_tracebacks(capsys, tmp_path):
    f = _file(
        tmp_path,
        "mine.broken-run",
        experiment="raise FloatingPointError(f'diverged at seed {config.seed}')",
        judge="return Verdict('fails', 'said fails', 'p', 'm', margin=-1.0)",
        plot="raise RuntimeError('the plot broke')",
    )
    out = tmp_path / "rep"
    argv = ["report", "--load", f, "--debug", "--db", tmp_path / "d", "--out", out]
    code, _, err = _main(capsys, *argv, "--claims", "mine.broken-run")
    assert code == 1  # the judge's "fails" survives failed runs
    assert err.count("Traceback (most recent call last)") == 4  # three runs and the plot
    assert "in measure\n" in err and "FloatingPointError: diverged at seed 2" in err
    assert (
        "overtensor: plot " in err and "in draw\n" in err and "RuntimeError: the plot broke" in err
    )
    assert (out / "index.html").is_file()


def test_a_judge_traceback_with_overtensor_traceback(capsys, tmp_path, monkeypatch):
    f = _file(tmp_path, "mine.broken-judge", judge="return {}['missing']")
    argv = ["check", "mine.broken-judge", "--load", f, "--db", tmp_path / "d", "--workers", "1"]
    monkeypatch.delenv("OVERTENSOR_TRACEBACK", raising=False)
    code, out, err = _main(capsys, *argv)
    assert code == 3 and "judge failed: KeyError: 'missing'" in out
    assert "Traceback" not in err  # one line by default
    monkeypatch.setenv("OVERTENSOR_TRACEBACK", "1")
    code, _, err = _main(capsys, *argv)
    assert code == 3
    assert "overtensor: claim 'mine.broken-judge': judge failed:\nTraceback" in err
    assert "in decide\n" in err and err.rstrip().endswith("KeyError: 'missing'")
    monkeypatch.setenv("OVERTENSOR_TRACEBACK", "0")  # "0" is off
    _, _, err = _main(capsys, *argv)
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--debug", "--workers", "2"], "--workers 2 does not apply"),
        (["--debug", "--executor", "dask"], "not with --executor dask"),
    ],
)
def test_debug_usage_errors(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = _main(capsys, "report", "--claims", "foundation.gram-identity", *argv)
    assert code == 2 and message in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# claims that cannot be built: exit 2 before anything runs
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "parts, message",
    [
        (
            {"decorator": "@dataclass"},
            "claim 'mine.bad': config class Case (configs('quick')[0]) is not frozen: declare it "
            "@dataclass(frozen=True)",
        ),
        (
            {"xs_type": "list", "configs": "[Case(seed, [seed]) for seed in range(3)]"},
            "claim 'mine.bad': field 'xs' of config class Case (configs('quick')[0]) holds a list, "
            "which is not hashable: use a tuple",
        ),
        (
            {"xs_type": "object", "configs": "[Case(0, object())]"},
            "field 'xs' of config class Case (configs('quick')[0]) holds a object, which cannot be "
            "written as JSON",
        ),
        (
            {"configs": "[Case(0), {'seed': 1}]"},
            "claim 'mine.bad': configs('quick')[1] is a dict ({'seed': 1}), not a config: return "
            "instances of a @dataclass(frozen=True) class",
        ),
        ({"configs": "{'seed': 1}"}, "configs('quick') returned a dict: return a list of configs"),
    ],
)
def test_a_claim_that_cannot_be_built_is_bad_usage(capsys, tmp_path, parts, message):
    f = _file(tmp_path, "mine.bad", **parts)
    db, out = tmp_path / "db.sqlite", tmp_path / "rep"
    for argv in (
        ["check", "mine.bad"],
        ["report", "--claims", "mine.bad", "--out", out],
        ["calibrate", "mine.bad"],
    ):
        code, _, err = _main(capsys, *argv, "--load", f, "--db", db)
        assert code == 2, err
        assert err.startswith("overtensor: error: ") and message in err
        assert not db.exists() and not out.exists()  # refused before anything was opened
    with pytest.raises(ClaimDefinitionError, match="mine.bad") as info:
        reports.report(["mine.bad"], load=f, db=db, out=out)
    assert isinstance(info.value, ValueError) and message in str(info.value)
    assert not db.exists() and not out.exists()


def test_hand_built_claims_are_checked_too():
    claim = make_claim("fake.shapes")
    check_claims([claim], "quick")  # the fixture is well formed
    object.__setattr__(claim, "judge", lambda results: None)
    with pytest.raises(ClaimDefinitionError, match="fake.shapes.*judge.*def judge"):
        check_claims([claim], "quick")
    claim = make_claim("fake.controls")
    object.__setattr__(claim, "controls", lambda profile: [1, 2])
    with pytest.raises(ClaimDefinitionError, match=r"controls\('quick'\) returned a list"):
        check_claims([claim], "quick")
    # a configs() that raises is the claim's failure at run time (inconclusive), not a shape error
    claim = make_claim("fake.raises")
    object.__setattr__(claim, "configs", lambda profile: 1 / 0)
    check_claims([claim], "quick")
