"""Claims from outside the package: --load files/folders/modules, entry points, workers, store keys."""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from reports import loading
from reports.catalog import get_claim
from reports.registry import REGISTRY
from reports.runner import _execute, run_claims
from reports.store import ResultStore, code_version
from tests.reports.cli_run import run_main as _main

ROOT = Path(__file__).resolve().parents[2]

CLAIM_FILE = """
from dataclasses import dataclass

import numpy as np

from reports.registry import Claim, register
from reports.statistics import Evidence

SCALE = {scale}


@dataclass(frozen=True)
class Config:
    seed: int


def experiment(config):
    return {{"x": float(np.random.default_rng(config.seed).normal()) * SCALE, "module": __name__,
            "pid": __import__("os").getpid()}}


def judge(prediction, results):
    ok = [r for r in results if r.ok and np.isfinite(r.metrics["x"])]
    ev = Evidence()
    ev.at_least("finite draws", len(ok), max(1, len(results)))
    return ev.verdict(predicted="x is finite", measured=f"{{len(ok)}} runs")


def plot(prediction, results, figure):
    xs = [r.metrics["x"] for r in results if r.ok]
    figure.add_subplot(1, 1, 1).plot(xs, "o")
    return {{"x": xs}}


register(
    Claim(
        id="{cid}", source="extension", statement="a loaded claim", latex=r"x \\sim N(0, 1)",
        method="draw one normal per seed", tolerance="none", experiment=experiment,
        configs=lambda profile: [Config(seed) for seed in range(4)], predict=lambda profile: {{}},
        judge=judge, plot=plot, no_control="a smoke-test claim: nothing to discriminate",
    )
)
"""


def write_claim(path: Path, cid: str = "ext.loaded", scale: float = 1.0) -> Path:
    path.write_text(CLAIM_FILE.format(cid=cid, scale=scale))
    return path


@pytest.fixture(autouse=True)
def clean_registry():
    """Loaded claims must not leak into other tests (they compare ids with the registry)."""
    get_claim("foundation.gram-identity")  # built-ins imported before the snapshot
    before = dict(REGISTRY)
    yield
    for name in list(loading._LOADED):
        loading._forget(name)
    REGISTRY.clear()
    REGISTRY.update(before)


def test_module_name_round_trips_the_path(tmp_path):
    path = tmp_path / "my-claim file.py"
    name = loading.module_name_for(path)
    assert name.startswith("reports.loaded.my_claim_file__") and name.isascii()
    assert all(part.isidentifier() for part in name.split("."))
    assert loading.path_for_module(name) == path.resolve()
    assert loading.path_for_module("reports.loaded.plain") is None
    assert loading.path_for_module("numerics.flow") is None


def test_claims_check_with_load_file(capsys, tmp_path):
    f = write_claim(tmp_path / "mine.py")
    code, out, err = _main(capsys, "claims", "--load", f)
    assert code == 0, err
    assert "ext.loaded" in out and "foundation.gram-identity" in out
    code, out, err = _main(
        capsys, "check", "ext.loaded", "--load", f, "--db", tmp_path / "db.sqlite", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["verdict"] == "holds"


def test_loading_twice_is_a_no_op_and_folder_skips_private_files(tmp_path):
    write_claim(tmp_path / "a.py", "ext.a")
    write_claim(tmp_path / "b.py", "ext.b")
    (tmp_path / "_helper.py").write_text("raise RuntimeError('must not be imported')\n")
    assert loading.load(tmp_path) == ["ext.a", "ext.b"]
    assert loading.load([tmp_path / "a.py"]) == ["ext.a"]  # unchanged: not imported again
    assert {"ext.a", "ext.b"} <= set(REGISTRY)


def test_dotted_module_and_entry_point(tmp_path, monkeypatch):
    pkg = tmp_path / "site"
    (pkg / "userpkg_x").mkdir(parents=True)
    (pkg / "userpkg_x" / "__init__.py").write_text("")
    write_claim(pkg / "userpkg_x" / "claims.py", "ext.module")
    write_claim(pkg / "userpkg_x" / "plugin.py", "ext.plugin")
    # an installed distribution, as pip leaves it: a .dist-info folder on sys.path
    info = pkg / "userpkg_x-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: userpkg-x\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[overtensor.claims]\nmine = userpkg_x.plugin\n")
    monkeypatch.syspath_prepend(str(pkg))
    importlib.import_module("userpkg_x.claims")  # imported by someone else first
    assert "ext.module" in REGISTRY
    assert loading.load("userpkg_x.claims") == ["ext.module"]  # its claims, not "registered none"
    assert "ext.plugin" not in REGISTRY
    assert loading.load_entry_points(force=True) == ["ext.plugin"]
    assert get_claim("ext.plugin").experiment.__module__ == "userpkg_x.plugin"
    # the same module named again (--load of an installed plugin): its claims, no error
    assert loading.load("userpkg_x.plugin") == ["ext.plugin"]
    monkeypatch.setattr(loading, "_ENTRY_POINTS_DONE", False)  # the next test sees a fresh state


def test_broken_entry_point_names_distribution(tmp_path, monkeypatch):
    info = tmp_path / "brokenpkg_y-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenpkg-y\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[overtensor.claims]\nb = brokenpkg_y_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(loading.LoadError, match="entry point 'b' of distribution 'brokenpkg-y'"):
        loading.load_entry_points(force=True)
    monkeypatch.setattr(loading, "_ENTRY_POINTS_DONE", False)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("rel.py", "from . import helper\n", r"rel.py, line 1: relative import `from . import"),
        ("rel2.py", "x = 1\nfrom ..pkg.mod import f\n", r"rel2.py, line 2: relative import"),
        ("boom.py", "import os\nraise RuntimeError('no data')\n", r"boom.py, line 2: importing "),
        ("syntax.py", "def f(:\n", r"syntax.py, line 1: syntax error"),
        ("empty.py", "X = 1\n", r"empty.py: declares no claim"),
        ("missing_dep.py", "import not_a_module_zz\n", r"missing_dep.py, line 1: importing"),
    ],
)
def test_bad_files_exit_2_naming_the_file(capsys, tmp_path, name, content, message):
    f = tmp_path / name
    f.write_text(content)
    for command in (["claims"], ["check", "ext.x"], ["report", "--out", tmp_path / "r"]):
        code, out, err = _main(capsys, *command, "--load", f)
        assert code == 2, (command, out, err)
        assert err.startswith("overtensor: error: ") and str(tmp_path) in err
        assert re.search(message, err), err
    assert not (tmp_path / "r").exists()


def test_missing_path_and_unknown_module_exit_2(capsys, tmp_path):
    code, _, err = _main(capsys, "claims", "--load", tmp_path / "nope.py")
    assert code == 2 and "nope.py" in err and "no such file" in err
    code, _, err = _main(capsys, "claims", "--load", "no_such_module_zz.claims")
    assert code == 2 and "'no_such_module_zz.claims'" in err


def test_duplicate_ids_exit_2_naming_both(capsys, tmp_path):
    a = write_claim(tmp_path / "a.py", "ext.same")
    b = write_claim(tmp_path / "b.py", "ext.same")
    code, _, err = _main(capsys, "claims", "--load", a, "--load", b)
    assert code == 2
    assert "duplicate claim id 'ext.same'" in err and str(a) in err and str(b) in err
    assert "ext.same" not in REGISTRY or REGISTRY["ext.same"].experiment.__module__.startswith(
        "reports.loaded.a__"
    )
    c = write_claim(tmp_path / "c.py", "foundation.gram-identity")
    code, _, err = _main(capsys, "claims", "--load", c)
    assert code == 2 and "duplicate claim id 'foundation.gram-identity'" in err
    assert "reports.claims.classical.gram_identity" in err


def test_edited_file_never_reuses_stale_rows(tmp_path):
    f = write_claim(tmp_path / "edit.py", scale=1.0)
    store = ResultStore(tmp_path / "db.sqlite")
    with ThreadPoolExecutor(1) as ex:

        def run():
            return run_claims(
                [get_claim("ext.loaded")], "quick", store=store, executor=ex, progress="none"
            )[0]

        loading.load(f)
        first = run()
        v1 = code_version(get_claim("ext.loaded").experiment)
        assert first.n_cached == 0
        assert run().n_cached == 4  # unchanged file: reused
        before = os.stat(f)
        write_claim(f, scale=2.0)  # same size, and the old modification time put back:
        os.utime(f, ns=(before.st_atime_ns, before.st_mtime_ns))  # only the content differs
        assert os.stat(f).st_size == before.st_size
        loading.load(f)
        assert code_version(get_claim("ext.loaded").experiment) != v1
        second = run()
    store.close()
    assert second.n_cached == 0
    xs1 = [r.metrics["x"] for r in first.results]
    xs2 = [r.metrics["x"] for r in second.results]
    assert xs2 == pytest.approx([2 * x for x in xs1], rel=1e-12)


def test_loaded_experiment_runs_in_a_fresh_spawned_worker(tmp_path):
    """A spawned worker has nothing inherited: it must import the file by its module name."""
    f = write_claim(tmp_path / "spawned.py", "ext.spawned")
    loading.load(f)
    claim = get_claim("ext.spawned")
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as ex:
        metrics, error, _, worker = ex.submit(
            _execute, claim.experiment, claim.configs("quick")[1], 1
        ).result()
    assert error is None
    assert worker["pid"] != os.getpid() and metrics["pid"] == worker["pid"]
    assert metrics["module"] == loading.module_name_for(f)


def test_report_load_file_with_two_workers_end_to_end(tmp_path):
    """From a folder outside the repository, as a user runs it: a subprocess, a 2-process pool."""
    f = write_claim(tmp_path / "user_claim.py", "ext.e2e")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "reports", "report", "--load", str(f), "--claims", "ext.e2e"]
    cmd += ["--workers", "2", "--out", "rep", "--db", "db.sqlite"]
    res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    (claim,) = summary["claims"]
    assert claim["id"] == "ext.e2e" and claim["verdict"] == "holds" and claim["runs"] == 4
    import hashlib

    sha = hashlib.sha256(f.read_bytes()).hexdigest()[:12]
    assert summary["provenance"]["claims_loaded"] == {str(f.resolve()): f"sha256 {sha} (ext.e2e)"}
    rows = json.loads((tmp_path / "rep" / "data" / "ext.e2e.json").read_text())
    text = json.dumps(rows)
    assert loading.module_name_for(f) in text  # metrics computed by the loaded module
