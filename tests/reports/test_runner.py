"""Runner: failed runs never make a claim hold, any Executor works, progress output, and the
local process pool and a 2-worker Dask LocalCluster give identical numbers."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest

from reports.catalog import all_claims, get_claim
from reports.registry import RunResult, Verdict
from reports.render import exit_code
from reports.runner import (
    RUN_BLAS_THREADS,
    enforce_verdict,
    make_executor,
    run_claims,
    run_sweep,
)
from reports.store import ResultStore
from tests.reports.fake_claims import FakeConfig, make_claim, noisy_square


def _run(claims, tmp_path, executor=None, **kw):
    with ResultStore(tmp_path / "r.sqlite") as store:
        if executor is not None:
            return run_claims(
                claims, "quick", store=store, executor=executor, progress="none", **kw
            )
        with ThreadPoolExecutor(2) as ex:
            return run_claims(claims, "quick", store=store, executor=ex, progress="none", **kw)


def test_failed_run_turns_holds_into_inconclusive(tmp_path):
    (o,) = _run([make_claim("fake.partly-failed", failing=[1])], tmp_path)
    assert o.n_failed == 1 and len(o.results) == 4
    assert o.verdict.status == "inconclusive"
    assert "1 of 4 runs failed" in o.verdict.reason
    assert "simulated divergence at x=1" in o.verdict.reason
    assert "fake judge says holds" in o.verdict.reason  # the judge's own reason is kept
    assert exit_code([o]) == 3


def test_fails_survives_failed_runs(tmp_path):
    (o,) = _run([make_claim("fake.fails", judge_status="fails", failing=[0])], tmp_path)
    assert o.verdict.status == "fails"
    assert exit_code([o]) == 1


def test_judge_predict_and_config_errors_are_inconclusive(tmp_path):
    good = make_claim("fake.good")
    bad_judge = make_claim("fake.bad-judge")
    object.__setattr__(bad_judge, "judge", lambda p, r: 1 / 0)
    bad_predict = make_claim("fake.bad-predict")
    object.__setattr__(bad_predict, "predict", lambda profile: {}["missing"])
    bad_configs = make_claim("fake.bad-configs")
    object.__setattr__(bad_configs, "configs", lambda profile: 1 / 0)
    outs = _run([good, bad_judge, bad_predict, bad_configs], tmp_path)
    status = {o.claim.id: o.verdict.status for o in outs}
    assert status == {
        "fake.good": "holds",
        "fake.bad-judge": "inconclusive",
        "fake.bad-predict": "inconclusive",
        "fake.bad-configs": "inconclusive",
    }
    reasons = {o.claim.id: o.verdict.reason for o in outs}
    assert "judge failed: ZeroDivisionError" in reasons["fake.bad-judge"]
    assert "predict failed: KeyError" in reasons["fake.bad-predict"]
    assert "configs('quick') failed: ZeroDivisionError" in reasons["fake.bad-configs"]
    assert exit_code(outs) == 3
    assert exit_code(outs[:1]) == 0
    assert exit_code([]) == 3  # nothing checked is not "all hold"


def test_enforce_verdict_rules():
    ok = RunResult(FakeConfig(0), {"v": 1}, None, 0.1)
    bad = RunResult(FakeConfig(1), None, "RuntimeError: nan", 0.1)
    holds = Verdict("holds", "fine", "p", "m", margin=0.1)
    assert enforce_verdict(holds, [ok]) is holds
    no_margin = enforce_verdict(Verdict("holds", "fine", "p", "m"), [ok])
    assert no_margin.status == "inconclusive" and "no margin" in no_margin.reason
    assert enforce_verdict(holds, [ok, bad]).status == "inconclusive"
    assert enforce_verdict(holds, []).status == "inconclusive"
    assert enforce_verdict(Verdict("great", "?", "p", "m"), [ok]).status == "inconclusive"  # type: ignore[arg-type]
    fails = Verdict("fails", "off", "p", "m", margin=-0.1)
    assert enforce_verdict(fails, [bad]) is fails


def test_process_pool_runs_module_level_experiments(tmp_path):
    with make_executor("local", workers=2) as (ex, info):
        assert info.kind == "local" and info.workers == 2
        assert info.blas_threads == RUN_BLAS_THREADS == 1
        (o,) = _run(
            [make_claim("fake.pool", failing=[3])],
            tmp_path,
            executor=ex,
            blas_threads=info.blas_threads,
        )
    assert [r.ok for r in o.results] == [True, True, True, False]
    assert o.results[1].metrics["x"] == 1
    assert (
        abs(o.results[2].metrics["value"] - 4) < 1e-2
    )  # x² plus 1e-3·N(0,1) noise (5σ margin: 5e-3)


def test_blas_threads_fixed_and_part_of_the_run_key(tmp_path):
    """Every run uses RUN_BLAS_THREADS whatever the workers; another count never reuses a row."""
    for workers in (1, 2, 3):
        with make_executor("local", workers=workers) as (_ex, info):
            assert info.blas_threads == RUN_BLAS_THREADS
    claim = make_claim("fake.blas", n=2)
    with ResultStore(tmp_path / "r.sqlite") as store, ThreadPoolExecutor(1) as ex:
        first = run_claims([claim], "quick", store=store, executor=ex, progress="none")[0]
        again = run_claims([claim], "quick", store=store, executor=ex, progress="none")[0]
        other = run_claims(
            [claim], "quick", store=store, executor=ex, blas_threads=2, progress="none"
        )[0]
        with pytest.raises(ValueError, match="blas_threads"):
            run_claims([claim], "quick", store=store, executor=ex, blas_threads=0)
    assert first.n_cached == 0 and again.n_cached == 2 and other.n_cached == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "spark"}, "executor must be one of"),
        ({"kind": "local", "workers": 0}, "workers must be a positive integer, got 0"),
        ({"kind": "local", "scheduler": "tcp://x:1"}, "needs executor 'dask'"),
    ],
)
def test_make_executor_bad_input(kwargs, match):
    kind = kwargs.pop("kind")
    with pytest.raises(ValueError, match=match), make_executor(kind, **kwargs):
        pass


def test_plain_log_lines_when_not_a_tty(tmp_path):
    stream = io.StringIO()
    with ResultStore(tmp_path / "r.sqlite") as store, ThreadPoolExecutor(2) as ex:
        tasks = [("fake.log", noisy_square, FakeConfig(x)) for x in range(8)]
        run_sweep(tasks, store=store, executor=ex, stream=stream, desc="demo")
        run_sweep(tasks, store=store, executor=ex, stream=stream, desc="again")
    lines = stream.getvalue().splitlines()
    assert lines[:4] == [f"demo: {k}/8 runs done, 0 failed" for k in (2, 4, 6, 8)]
    assert "\r" not in stream.getvalue()  # no progress-bar redraws in logs
    assert lines[4].startswith("again: 8 of 8 runs reused from")


class _FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(tmp_path):
    stream = _FakeTTY()
    with ResultStore(tmp_path / "r.sqlite") as store, ThreadPoolExecutor(2) as ex:
        tasks = [("fake.bar", noisy_square, FakeConfig(x, fail=x == 1)) for x in range(5)]
        run_sweep(tasks, store=store, executor=ex, stream=stream, desc="bar")
    text = stream.getvalue()
    assert "\r" in text and "5/5" in text and "failed=1" in text  # a tqdm bar, not log lines
    assert "runs done" not in text


def _numbers(outcomes):
    return {o.claim.id: [r.metrics for r in o.results] for o in outcomes}


def _equivalence(tmp_path, claims, profile):
    with (
        ResultStore(tmp_path / "local.sqlite") as store,
        make_executor("local", workers=2) as (ex, info),
    ):
        local = run_claims(
            claims,
            profile,
            store=store,
            executor=ex,
            blas_threads=info.blas_threads,
            progress="none",
        )
    with (
        ResultStore(tmp_path / "dask.sqlite") as store,
        make_executor("dask", workers=2) as (ex, info),
    ):
        assert info.kind == "dask" and info.workers == 2
        assert info.address.startswith("tls://127.0.0.1")  # loopback LocalCluster, TLS
        dask = run_claims(
            claims,
            profile,
            store=store,
            executor=ex,
            blas_threads=info.blas_threads,
            progress="none",
        )
    assert all(o.n_failed == 0 and o.n_cached == 0 for o in local + dask)
    assert _numbers(local) == _numbers(dask)  # bit-for-bit: exact equality of every metric
    assert [o.verdict for o in local] == [o.verdict for o in dask]


def test_local_pool_and_dask_cluster_give_identical_numbers(tmp_path):
    """Quick profile of the Gram and gradient claims (about 4 s idle, mostly Dask start-up)."""
    pytest.importorskip("dask.distributed")
    claims = [get_claim("foundation.gram-identity"), get_claim("foundation.gradient-check")]
    _equivalence(tmp_path, claims, "quick")


@pytest.mark.slow
def test_local_pool_and_dask_cluster_identical_on_full_foundation_profile(tmp_path):
    """Full profile of every foundation claim, ODE solves included (about a minute)."""
    pytest.importorskip("dask.distributed")
    claims = [c for c in all_claims() if c.id.startswith("foundation.")]
    _equivalence(tmp_path, claims, "full")


@pytest.mark.slow
def test_dask_scheduler_address(tmp_path):
    """``--scheduler ADDRESS``: a Client on an existing cluster (here a LocalCluster we start)."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        addr = cluster.scheduler_address
        with (
            ResultStore(tmp_path / "r.sqlite") as store,
            make_executor("dask", scheduler=addr) as (ex, info),
        ):
            assert info.address == addr and info.workers == 2
            (o,) = run_claims(
                [make_claim("fake.remote", failing=[1])],
                "quick",
                store=store,
                executor=ex,
                blas_threads=info.blas_threads,
                progress="none",
            )
    assert [r.ok for r in o.results] == [True, False, True, True]
    assert o.verdict.status == "inconclusive"


def test_controls_are_judged_and_a_control_that_holds_blocks_holds(tmp_path):
    # a judge that holds on x < 10 and fails otherwise: control xs >= 10 must fail, xs < 10 do not
    def judge(prediction, results):
        xs = [r.config.x for r in results if r.ok]
        bad = any(x >= 10 for x in xs)
        return Verdict("fails" if bad else "holds", "x-rule", "p", "m", margin=-1.0 if bad else 1.0)

    good = make_claim("fake.discriminates", controls={"big-x": [10, 11]}, judge=judge)
    blind = make_claim("fake.blind", controls={"small-x": [5]}, judge=judge)
    by_id = {o.claim.id: o for o in _run([good, blind], tmp_path)}
    g, b = by_id["fake.discriminates"], by_id["fake.blind"]
    assert g.verdict.status == "holds"
    assert [c["name"] for c in g.verdict.controls] == ["big-x"]
    assert g.verdict.controls[0]["verdict"] == "fails"
    assert [r.config.x for r in g.controls[0][2]] == [10, 11]
    assert b.verdict.status == "inconclusive"
    assert "cannot discriminate" in b.verdict.reason
    assert b.verdict.controls[0]["verdict"] == "holds"


def test_verdict_margin_sign_must_agree_with_status():
    with pytest.raises(ValueError, match="margin"):
        Verdict("holds", "r", "p", "m", margin=-0.1)
    with pytest.raises(ValueError, match="margin"):
        Verdict("fails", "r", "p", "m", margin=0.0)
    assert Verdict("inconclusive", "r", "p", "m", margin=-3.0).margin == -3.0


def test_controls_with_failed_runs(tmp_path):
    """A control whose runs all fail cannot discriminate (the claim is inconclusive); a control
    with some failed runs that the judge still fails does discriminate; both record the failures."""

    def judge(prediction, results):
        xs = [r.config.x for r in results if r.ok]
        bad = any(x >= 10 for x in xs)
        return Verdict("fails" if bad else "holds", "x-rule", "p", "m", margin=-1.0 if bad else 1.0)

    crashed = make_claim(
        "fake.control-crashed", controls={"big-x": [10, 11]}, control_failing=[10, 11], judge=judge
    )
    partly = make_claim(
        "fake.control-partly", controls={"big-x": [10, 11]}, control_failing=[11], judge=judge
    )
    by_id = {o.claim.id: o for o in _run([crashed, partly], tmp_path)}
    c, p = by_id["fake.control-crashed"], by_id["fake.control-partly"]
    assert c.verdict.status == "inconclusive" and "cannot discriminate" in c.verdict.reason
    rec = c.verdict.controls[0]
    assert rec["verdict"] == "inconclusive" and rec["runs"] == 2 and rec["runs_failed"] == 2
    assert "2 of 2 runs failed" in rec["reason"]
    assert [r.ok for r in c.controls[0][2]] == [False, False]
    assert p.verdict.status == "holds"
    rec = p.verdict.controls[0]
    assert rec["verdict"] == "fails" and rec["runs_failed"] == 1
    assert rec["reason"].startswith("1 of 2 runs failed")
    assert p.n_failed == 0  # the claim's own runs are counted apart from its controls'


def test_controls_judged_by_an_evidence_judge(tmp_path):
    from tests.reports.fake_claims import evidence_judge

    good = make_claim("fake.ev", controls={"big-x": [10, 11]}, judge=evidence_judge)
    blind = make_claim("fake.ev-blind", controls={"small-x": [5]}, judge=evidence_judge)
    by_id = {o.claim.id: o for o in _run([good, blind], tmp_path)}
    g, b = by_id["fake.ev"], by_id["fake.ev-blind"]
    assert g.verdict.status == "holds" and g.verdict.margin is not None and g.verdict.margin >= 0
    assert g.verdict.controls[0]["verdict"] == "fails" and g.verdict.controls[0]["margin"] < 0
    assert b.verdict.status == "inconclusive" and "cannot discriminate" in b.verdict.reason
    assert b.verdict.controls[0]["verdict"] == "inconclusive"  # 1/1 cannot show a rate >= 0.1


def test_a_long_run_is_never_silent(tmp_path):
    # no run finishes for longer than the heartbeat: the log names the running run and its age
    stream = io.StringIO()
    with ResultStore(tmp_path / "r.sqlite") as store, ThreadPoolExecutor(1) as ex:
        (res,) = run_sweep(
            [("fake.slow", noisy_square, FakeConfig(3, delay=0.8))],
            store=store,
            executor=ex,
            progress="log",
            stream=stream,
            heartbeat=0.2,
        )
    assert res.ok
    log = stream.getvalue()
    assert "0/1 runs done; running: fake.slow FakeConfig(x=3" in log


def test_heartbeat_without_started_information(tmp_path):
    # an executor whose futures never report running() (like Dask's) still gets a heartbeat line
    class Opaque(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            fut = super().submit(fn, *args, **kwargs)
            fut.running = lambda: False  # type: ignore[method-assign]
            return fut

    stream = io.StringIO()
    with ResultStore(tmp_path / "r.sqlite") as store, Opaque(1) as ex:
        run_sweep(
            [("fake.opaque", noisy_square, FakeConfig(4, delay=0.8))],
            store=store,
            executor=ex,
            progress="log",
            stream=stream,
            heartbeat=0.2,
        )
    assert "0/1 runs done, none for" in stream.getvalue()
    assert "1 pending (fake.opaque)" in stream.getvalue()


def test_fresh_and_reused_runs_reach_the_judge_in_the_same_form(tmp_path):
    """A fresh run's metrics are handed over as the store gives them back later (keys sorted,
    plain values), so a report over fresh runs and one over reused runs judge identical objects
    (the order of a judge's texts once differed between the two)."""
    from tests.reports.fake_claims import unsorted_metrics

    tasks = [("fake.order", unsorted_metrics, FakeConfig(x)) for x in range(3)]
    with ResultStore(tmp_path / "r.sqlite") as store, ThreadPoolExecutor(2) as ex:
        fresh = run_sweep(tasks, store=store, executor=ex, progress="none")
        reused = run_sweep(tasks, store=store, executor=ex, progress="none")
    assert [r.cached for r in fresh] == [False] * 3 and [r.cached for r in reused] == [True] * 3
    for f, r in zip(fresh, reused, strict=True):
        assert f.metrics == r.metrics
        assert list(f.metrics) == list(r.metrics) == ["a", "b", "by_eps"]
        assert list(f.metrics["by_eps"]) == list(r.metrics["by_eps"]) == ["0.1", "0.3"]
        assert type(f.metrics["b"]) is float and type(f.metrics["a"][0]) is int
