"""Figures and typeset math: keys of their inputs, the store cache, drawing in a process pool."""

from __future__ import annotations

import dataclasses
import time

import matplotlib
import pytest

from reports import artifacts
from reports.artifacts import figure_key, math_key, render_artifacts
from reports.registry import RunResult
from reports.store import ResultStore
from tests.reports.fake_claims import FakeConfig, _plot, make_claim

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _results() -> list[RunResult]:
    return [
        RunResult(FakeConfig(x, seed=x), {"value": float(x * x), "x": x}, None, 0.25)
        for x in range(3)
    ] + [RunResult(FakeConfig(3, seed=3, fail=True), None, "FloatingPointError: boom", 0.5)]


def _other_plot(prediction, results, fig):
    return _plot(prediction, results, fig)


def test_figure_key_follows_every_input_but_not_the_cached_flag():
    res = _results()
    base = figure_key("a.b", _plot, {"p": 1}, res)
    assert base is not None and base == figure_key("a.b", _plot, {"p": 1}, list(res))
    reused = [dataclasses.replace(r, cached=True) for r in res]  # same runs, read from the store
    assert figure_key("a.b", _plot, {"p": 1}, reused) == base
    changed = [
        figure_key("a.c", _plot, {"p": 1}, res),
        figure_key("a.b", _other_plot, {"p": 1}, res),
        figure_key("a.b", _plot, {"p": 2}, res),
        figure_key("a.b", _plot, {"p": 1}, res[:3]),
        figure_key(
            "a.b",
            _plot,
            {"p": 1},
            [dataclasses.replace(res[0], metrics={"value": 0.5, "x": 0}), *res[1:]],
        ),
        figure_key("a.b", _plot, {"p": 1}, [*res[:3], dataclasses.replace(res[3], error="other")]),
        figure_key(
            "a.b",
            _plot,
            {"p": 1},
            [dataclasses.replace(res[0], config=FakeConfig(0, seed=9)), *res[1:]],
        ),
        figure_key("a.b", _plot, {"p": 1}, [dataclasses.replace(res[0], wall_time=1.0), *res[1:]]),
    ]
    assert base not in changed and len(set(changed)) == len(changed)
    with matplotlib.rc_context({"lines.linewidth": 7.0}):  # another look, another figure
        assert figure_key("a.b", _plot, {"p": 1}, res) != base
    assert figure_key("a.b", _plot, {"p": object()}, res) is None  # not JSON: never cached


def test_math_key_follows_latex_and_size():
    assert math_key("x^2") == math_key("x^2")
    assert len({math_key("x^2"), math_key("x^3"), math_key("x^2", 14.0)}) == 3


def _entries(claims):
    return [(c.id, c.plot, {"formula": "x^2"}, _results(), c.latex) for c in claims]


def _counting(monkeypatch):
    """Count the figures and formulas drawn in this process (workers=1 draws here)."""
    drawn = {"figure": 0, "math": 0}
    draw, typeset = artifacts.draw_figure, artifacts.typeset_svg

    def draw_counted(*args):
        drawn["figure"] += 1
        return draw(*args)

    def typeset_counted(*args):
        drawn["math"] += 1
        return typeset(*args)

    monkeypatch.setattr(artifacts, "draw_figure", draw_counted)
    monkeypatch.setattr(artifacts, "typeset_svg", typeset_counted)
    return drawn


def test_second_render_reads_everything_from_the_store(tmp_path, monkeypatch):
    claims = [make_claim("fake.one"), make_claim("fake.two")]  # one shared formula
    drawn = _counting(monkeypatch)
    with ResultStore(tmp_path / "r.sqlite") as store:
        figures, svgs = render_artifacts(_entries(claims), store, workers=1)
        assert drawn == {"figure": 2, "math": 1} and store.count_artifacts() == 3
        again, svgs_again = render_artifacts(_entries(claims), store, workers=1)
        assert drawn == {"figure": 2, "math": 1}  # nothing drawn the second time
        assert again == figures and svgs_again == svgs
        assert figures["fake.one"].png.startswith(PNG_MAGIC)
        assert figures["fake.one"].data == {"x": [0, 1, 2], "value": [0.0, 1.0, 4.0]}
        assert svgs["y = x^2"].startswith("<svg")
        render_artifacts(_entries(claims), store, reuse=False, workers=1)  # --fresh: all again
        assert drawn == {"figure": 4, "math": 2} and store.count_artifacts() == 3


def test_unreadable_or_failed_artifacts_are_drawn_again(tmp_path, monkeypatch):
    claims = [make_claim("fake.one"), make_claim("fake.broken", broken_plot=True)]
    drawn = _counting(monkeypatch)
    with ResultStore(tmp_path / "r.sqlite") as store:
        figures, _ = render_artifacts(_entries(claims), store, workers=1)
        assert (
            figures["fake.broken"].png is None and "plot is broken" in figures["fake.broken"].error
        )
        assert store.count_artifacts() == 2  # the failed figure is not cached
        key = figure_key("fake.one", claims[0].plot, {"formula": "x^2"}, _results())
        store.put_artifact(key, kind="figure", claim_id="fake.one", blob=b"x", meta="{broken")
        again, _ = render_artifacts(_entries(claims), store, workers=1)
        assert drawn["figure"] == 4 and again == figures  # both drawn again, same result
        assert store.get_artifacts([key])[key][1].startswith('{"x"')  # and the row repaired


def test_pool_draws_the_same_bytes_as_this_process():
    claims = [make_claim("fake.one"), make_claim("fake.broken", broken_plot=True)]
    entries = _entries(claims) + [
        ("fake.lambda", lambda p, r, fig: _plot(p, r, fig), {}, _results(), r"\frac{a}{b}"),
        ("fake.bad-tex", _plot, {}, _results(), r"\notamacro{x}"),
    ]
    serial = render_artifacts(entries, None, workers=1)
    pooled = render_artifacts(entries, None, workers=2)  # the lambda cannot go to the pool
    assert pooled == serial
    figures, svgs = pooled
    assert figures["fake.lambda"].png == figures["fake.one"].png  # same plot, same runs
    assert svgs[r"\notamacro{x}"] is None and svgs[r"\frac{a}{b}"].startswith("<svg")


def test_a_broken_database_turns_the_cache_off(tmp_path, capsys):
    import sqlite3

    class Broken(ResultStore):
        def get_artifacts(self, keys):
            raise sqlite3.DatabaseError("database disk image is malformed")

    with Broken(tmp_path / "r.sqlite") as store:
        figures, _ = render_artifacts(_entries([make_claim("fake.one")]), store, workers=1)
        assert figures["fake.one"].png.startswith(PNG_MAGIC)
        assert store.count_artifacts() == 0  # nothing written either
    assert "figure cache" in capsys.readouterr().err


@pytest.mark.parametrize("workers", [1, 2])
def test_results_are_in_claim_order_and_keyed_by_id(workers):
    claims = [make_claim(f"fake.c{i}") for i in range(3)]
    figures, svgs = render_artifacts(_entries(claims), None, workers=workers)
    assert list(figures) == ["fake.c0", "fake.c1", "fake.c2"] and list(svgs) == ["y = x^2"]


def _slow_plot(prediction, results, fig):
    time.sleep(30)
    return {}


def test_an_interrupted_render_ends_its_workers_at_once():
    import multiprocessing

    def interrupted(prediction, results, fig):  # a closure: drawn in this process
        raise KeyboardInterrupt

    entries = [("fake.slow", _slow_plot, {}, _results(), f"x_{i}") for i in range(2)]
    entries.append(("fake.stop", interrupted, {}, _results(), "y = x^2"))
    before = {p.pid for p in multiprocessing.active_children()}  # other tests' pools, if any
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        render_artifacts(entries, None, workers=2)
    assert time.monotonic() - start < 15  # the 30 s drawings in the pool were not waited for
    left = [p for p in multiprocessing.active_children() if p.pid not in before]
    assert left == [], f"render_artifacts left its workers running: {left}"


def test_claim_data_files_are_part_of_the_figure_key(tmp_path, monkeypatch):
    from reports.artifacts import claim_data_digest

    empty = claim_data_digest(tmp_path)
    (tmp_path / "registered.toml").write_text("[bars]\nx = 0.5\n")
    first = claim_data_digest(tmp_path)
    (tmp_path / "registered.toml").write_text("[bars]\nx = 0.6\n")
    second = claim_data_digest(tmp_path)
    assert len({empty, first, second}) == 3
    (tmp_path / "notes.txt").write_text("not a data file of the claims")
    assert claim_data_digest(tmp_path) == second
    base = figure_key("a.b", _plot, {}, _results())
    monkeypatch.setattr(artifacts, "claim_data_digest", lambda: second)
    assert figure_key("a.b", _plot, {}, _results()) != base


def test_guarded_plots_of_every_builtin_claim_pickle():
    """The report draws missing figures in worker processes only when the (guarded) plot pickles;
    a closure here once sent every figure of the quick report to the main process (14 s serial)."""
    import pickle

    from reports.catalog import all_claims
    from reports.failures import guarded

    for claim in all_claims():
        if claim.plot is None:
            continue
        plot = guarded(claim.plot, dict)
        again = pickle.loads(pickle.dumps(plot))
        assert again.__wrapped__ is claim.plot, claim.id
        assert (again.__module__, again.__qualname__) == (claim.plot.__module__, "plot"), claim.id
