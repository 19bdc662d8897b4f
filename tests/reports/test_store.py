"""Results store: keys, round trip, reuse, --fresh, and resume after a killed sweep."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.runner import run_sweep
from reports.store import ResultStore, config_json, run_key
from tests.reports.fake_claims import FakeConfig, noisy_square

ROOT = Path(__file__).resolve().parents[2]


def test_key_depends_on_claim_experiment_config_and_version():
    cfg = FakeConfig(3, seed=1)
    base = run_key("a.b", "m.f", cfg, "1.0")
    assert base == run_key("a.b", "m.f", FakeConfig(3, seed=1), "1.0")
    assert base != run_key("a.c", "m.f", cfg, "1.0")
    assert base != run_key("a.b", "m.g", cfg, "1.0")
    assert base != run_key("a.b", "m.f", FakeConfig(3, seed=2), "1.0")
    assert base != run_key("a.b", "m.f", cfg, "1.1")


def test_config_json_is_canonical_and_rejects_non_dataclasses():
    text = config_json(FakeConfig(2))
    assert (
        '"fields":{"delay":0.0,"error_text":"","fail":false,"marker_dir":"","seed":0,"x":2}' in text
    )
    with pytest.raises(TypeError, match="config must be a dataclass instance"):
        config_json({"x": 2})


@given(
    x=st.integers(-(2**40), 2**40),
    seed=st.integers(0, 2**32),
    delay=st.floats(0, 1e3, allow_nan=False),
    marker=st.text(max_size=8),
)
def test_config_json_round_trips_and_keys_separate_configs(x, seed, delay, marker):
    cfg = FakeConfig(x, seed=seed, delay=delay, marker_dir=marker)
    fields = json.loads(config_json(cfg))["fields"]
    assert FakeConfig(**fields) == cfg  # the stored JSON determines the config
    other = FakeConfig(x + 1, seed=seed, delay=delay, marker_dir=marker)
    assert run_key("c", "e", cfg, "v") != run_key("c", "e", other, "v")


def test_put_get_round_trip_and_wal(tmp_path):
    path = tmp_path / "sub" / "r.sqlite"
    with ResultStore(path) as store:
        store.put(
            "k1",
            claim_id="c",
            experiment="e",
            config="{}",
            version="v",
            metrics={"a": 1.5, "nan": float("nan")},
            error=None,
            wall_time=0.25,
        )
        store.put(
            "k2",
            claim_id="c",
            experiment="e",
            config="{}",
            version="v",
            metrics=None,
            error="boom",
            wall_time=0.1,
        )
        with pytest.raises(ValueError, match="exactly one of metrics and error"):
            store.put(
                "k3",
                claim_id="c",
                experiment="e",
                config="{}",
                version="v",
                metrics=None,
                error=None,
                wall_time=0.0,
            )
        row = store.get("k1")
        assert row is not None and row.status == "ok" and row.metrics is not None
        assert row.metrics["a"] == 1.5 and row.metrics["nan"] != row.metrics["nan"]
        assert store.get("k2").status == "error" and store.get("k2").error == "boom"
        assert store.get("missing") is None
        assert store.count() == 2
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def _sweep(store, configs, **kw):
    with ThreadPoolExecutor(2) as ex:
        return run_sweep(
            [("fake.c", noisy_square, c) for c in configs],
            store=store,
            executor=ex,
            progress="none",
            **kw,
        )


def test_rerun_reuses_ok_rows_retries_errors_and_fresh_recomputes(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    configs = [FakeConfig(x, seed=x, fail=(x == 2), marker_dir=str(marks)) for x in range(4)]
    with ResultStore(tmp_path / "r.sqlite") as store:
        first = _sweep(store, configs)
        assert [r.ok for r in first] == [True, True, False, True]
        assert "FloatingPointError: simulated divergence at x=2" in first[2].error
        assert not any(r.cached for r in first)
        second = _sweep(store, configs)
        assert [r.cached for r in second] == [True, True, False, True]  # error row retried
        assert [r.metrics for r in second] == [r.metrics for r in first]
        assert {p.name: len(p.read_text().split()) for p in marks.iterdir()} == {
            "0.txt": 1,
            "1.txt": 1,
            "2.txt": 2,
            "3.txt": 1,
        }
        third = _sweep(store, configs, fresh=True)
        assert not any(r.cached for r in third)
        assert len((marks / "0.txt").read_text().split()) == 2


def test_identical_tasks_run_once(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    cfg = FakeConfig(5, marker_dir=str(marks))
    with ResultStore(tmp_path / "r.sqlite") as store:
        res = _sweep(store, [cfg, cfg, cfg])
    assert len(res) == 3 and all(r.ok for r in res)
    assert len((marks / "5.txt").read_text().split()) == 1


_SWEEP_SCRIPT = """
import sys
from concurrent.futures import ProcessPoolExecutor
from reports.runner import run_sweep
from reports.store import ResultStore
from tests.reports.fake_claims import FakeConfig, noisy_square
db, marks, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
configs = [FakeConfig(x, seed=x, delay=0.1, marker_dir=marks) for x in range(n)]
with ResultStore(db) as store, ProcessPoolExecutor(2) as ex:
    run_sweep([("fake.kill", noisy_square, c) for c in configs], store=store, executor=ex,
              progress="log")
print("SWEEP DONE")
"""


def _executions(marks: Path) -> dict[int, int]:
    return {int(p.stem): len(p.read_text().split()) for p in marks.iterdir()}


def test_killed_sweep_loses_no_finished_row_and_recomputes_none(tmp_path):
    db, marks, n = tmp_path / "r.sqlite", tmp_path / "marks", 40
    marks.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", _SWEEP_SCRIPT, str(db), str(marks), str(n)],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline and stored < 6:
            time.sleep(0.05)
            if db.exists():
                try:
                    with sqlite3.connect(db) as conn:
                        stored = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                except sqlite3.OperationalError:
                    stored = 0  # table not created yet
        assert stored >= 6, "sweep subprocess made no progress"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool workers, no clean-up
        out, _ = proc.communicate(timeout=30)
    assert b"SWEEP DONE" not in out, "the sweep finished before it was killed"
    with ResultStore(db) as store:
        before = {r.key: r for r in store.rows()}
    assert 6 <= len(before) < n
    assert all(r.status == "ok" for r in before.values())
    done_x = {int(json.loads(r.config)["fields"]["x"]) for r in before.values()}
    runs_before = _executions(marks)

    configs = [FakeConfig(x, seed=x, delay=0.1, marker_dir=str(marks)) for x in range(n)]
    with ResultStore(db) as store, ThreadPoolExecutor(2) as ex:
        results = run_sweep(
            [("fake.kill", noisy_square, c) for c in configs],
            store=store,
            executor=ex,
            progress="none",
        )
        after = {r.key: r for r in store.rows()}
    runs_after = _executions(marks)
    # loses none: every row stored before the kill is still there, unchanged
    for key, row in before.items():
        assert after[key] == row
    assert len(after) == n and all(r.ok for r in results)
    # recomputes none: configs with a stored row were not executed again
    for x in range(n):
        extra = runs_after.get(x, 0) - runs_before.get(x, 0)
        assert extra == (0 if x in done_x else 1), (x, extra)
    assert [r.cached for r in results] == [x in done_x for x in range(n)]


def test_code_version_follows_the_experiment_source(tmp_path, monkeypatch):
    import importlib

    from reports.store import code_version, package_version

    mod = tmp_path / "ot_fake_exp_mod.py"
    mod.write_text("def exp(cfg):\n    return {'v': 1}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("ot_fake_exp_mod")
    first = code_version(module.exp)
    assert first == code_version(module.exp)
    assert first.startswith(f"{package_version()}+src.")
    mod.write_text("def exp(cfg):\n    return {'v': 2}  # edited\n")
    assert code_version(module.exp) != first


def test_edited_code_is_recomputed(tmp_path, monkeypatch):
    import reports.runner

    configs = [FakeConfig(x) for x in range(3)]
    with ResultStore(tmp_path / "r.sqlite") as store:
        monkeypatch.setattr(reports.runner, "code_version", lambda exp: "1.0+src.aaaa")
        _sweep(store, configs)
        assert all(r.cached for r in _sweep(store, configs))
        monkeypatch.setattr(reports.runner, "code_version", lambda exp: "1.0+src.bbbb")
        assert not any(r.cached for r in _sweep(store, configs))
        assert {r.version for r in store.rows()} == {"1.0+src.aaaa", "1.0+src.bbbb"}


# ------------------------------------------------------------------ cached report artifacts
def test_artifacts_round_trip_replace_and_delete(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        assert store.get_artifacts(["k1", "k2"]) == {}
        store.put_artifact(
            "k1", kind="figure", claim_id="a.b", blob=b"\x89PNG\x00", meta='{"x":[1]}'
        )
        store.put_artifact("k2", kind="math", claim_id="a.c", blob=b"<svg/>")
        assert store.get_artifacts(["k1", "k2", "k3"]) == {
            "k1": (b"\x89PNG\x00", '{"x":[1]}'),
            "k2": (b"<svg/>", None),
        }
        store.put_artifact("k2", kind="math", claim_id="a.c", blob=b"<svg></svg>")
        assert store.get_artifacts(["k2"]) == {"k2": (b"<svg></svg>", None)}
        with pytest.raises(ValueError, match="kind must be 'figure' or 'math', got 'png'"):
            store.put_artifact("k3", kind="png", claim_id="a.b", blob=b"")
        store.delete_claim("a.b")  # a claim's runs and its cached artifacts go together
        assert set(store.get_artifacts(["k1", "k2"])) == {"k2"}
        assert store.count_artifacts() == 1


def test_schema_2_database_is_migrated_to_3_with_its_rows(tmp_path):
    from reports.store import APPLICATION_ID, SCHEMA_VERSION

    db = tmp_path / "v2.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript(
        """
        CREATE TABLE runs (key TEXT PRIMARY KEY, claim_id TEXT NOT NULL, experiment TEXT NOT NULL,
            config TEXT NOT NULL, version TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'error')), metrics TEXT, error TEXT,
            wall_time REAL NOT NULL, worker TEXT, created_at REAL NOT NULL);
        CREATE INDEX runs_claim ON runs (claim_id);
        INSERT INTO runs VALUES ('k', 'c', 'e', '{}', 'v', 'ok', '{"a": 1}', NULL, 0.5, NULL, 1.0);
        """
    )
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("PRAGMA user_version=2")
    conn.commit()
    conn.close()
    with ResultStore(db) as store:
        assert store.get("k").metrics == {"a": 1}
        store.put_artifact("f", kind="figure", claim_id="c", blob=b"png", meta="{}")
        assert store.count_artifacts() == 1
    conn = sqlite3.connect(db)
    assert SCHEMA_VERSION == 3
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"runs", "artifacts"}
    conn.close()
