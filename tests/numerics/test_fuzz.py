"""Fuzz test of the public numeric API (issue 15, "Also").

For every entry point a valid call is built on a small random problem; then at most one parameter is
replaced by a hostile value (NaN, ±inf, 1e±300, huge or negative integers, complex numbers, strings,
ragged or empty arrays, wrong types, ...). The call must, within :data:`DEADLINE_S` seconds, either
return a result or raise ``ValueError``/``TypeError`` whose message names the replaced parameter (or
``RuntimeError`` for a numerical failure, whose message must also carry that parameter).
Anything else — another exception (``ZeroDivisionError``, ``AttributeError``, ``MemoryError``,
numpy's own unnamed errors), a message that does not say which input is wrong, or a hang — fails.

A second test scales ``W`` (or both tensors) by ``10^k``, ``|k| <= 300``, for the entry points whose
numbers used to turn into NaN/inf or zero at scale (issue 24): they must return finite numbers — the
same ones where the mathematics is scale-free — or raise ``ValueError`` naming the input that is too
large.

Long-running entry points get ``max_wall`` (their documented wall-time limit), so hostile horizons
and budgets end with status ``"max_wall"`` instead of running for minutes. The example count comes
from the Hypothesis profile: ``ci``/``dev`` keep it cheap (25 examples per entry point, seconds in
all); the ``slow`` variant, run by ``tox -e verify`` under the ``thorough`` profile, runs 300 per
entry point (about a minute in all on the 2-core machine).
"""

from __future__ import annotations

import math
import re
import signal
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numerics
from numerics import lazy
from numerics.algorithms import (
    beyond_lazy_descent,
    fit_events,
    fit_succeeded,
    hessian_min_eigenvalue,
    initial_alignment,
    modified_gradient_flow,
    plain_descent_baseline,
    relative_error,
    target_scale,
    track_components,
    track_flow,
)
from numerics.algorithms.reinit import reinitialize
from numerics.lazy_training import lazy_training_descent, lazy_training_flow, stable_step

#: Seconds one call may take (generous for a loaded 2-core machine; a hang is minutes).
DEADLINE_S = 20.0
#: The wall-time limit given to long-running entry points.
MAX_WALL = 0.2


class _Hung(Exception):
    pass


HOSTILE: list[Any] = [
    None,
    True,
    -1,
    0,
    3,
    65,
    2**40,
    10**30,
    -(2**63),
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    1e-300,
    1e300,
    -1.5,
    1 + 1j,
    "x",
    "",
    b"x",
    [],
    [[1.0, 2.0], [3.0]],
    (1.0, 2.0),
    {"a": 1},
    object(),
    np.zeros((0, 3)),
    np.full((2, 3), np.nan),
    np.full((2, 3), 1e200),
    np.ones(3) + 1j,
    np.ones((2, 2, 2)),
    np.array(["a", "b"]),
    np.float32(2.0),
    np.int64(2),
    # a million observation times in [0, 1]: the wall-time limits must hold while they are recorded
    np.linspace(0.0, 1.0, 10**6),
]


@st.composite
def problems(draw: st.DrawFn) -> dict[str, Any]:
    """A small valid problem: orthogonal target, initial W, model, seed."""
    order = draw(st.integers(2, 4))
    d = draw(st.integers(1, 4))
    r = draw(st.integers(1, min(d, 3)))
    m = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    a = np.sort(rng.uniform(0.5, 1.5, r))[::-1]
    target = numerics.orthogonal_tensor(a, d, order, basis="random", rng=seed)
    W = 0.3 * rng.standard_normal((m, d))
    model = draw(st.sampled_from(["plain", "homogeneous"]))
    return {"order": order, "d": d, "r": r, "m": m, "seed": seed, "target": target, "W": W,
            "model": model, "a": a, "rng": rng}  # fmt: skip


def _specs(p: dict[str, Any]) -> dict[str, tuple[Callable[..., Any], dict[str, Any]]]:
    """Entry point name -> (callable, valid keyword arguments) on problem ``p``."""
    o, d, m, T, W, model, seed = (
        p["order"],
        p["d"],
        p["m"],
        p["target"],
        p["W"],
        p["model"],
        p["seed"],
    )
    n = 5
    fits = np.linspace(0, 1, n)[:, None] * p["a"][None, :]
    dense = numerics.random_dense_symmetric(d, o, rng=seed)
    return {
        "LowRankTensor": (numerics.LowRankTensor, dict(coeffs=T.coeffs, components=T.components, order=o)),
        "DenseTensor": (numerics.DenseTensor, dict(array=dense.array, symmetry_atol=1e-10)),
        "orthogonal_tensor": (numerics.orthogonal_tensor, dict(a=p["a"], d=d, order=o, basis="random", rng=seed)),
        "random_low_rank": (numerics.random_low_rank, dict(r=p["r"], d=d, order=o, rng=seed)),
        "random_dense_symmetric": (numerics.random_dense_symmetric, dict(d=d, order=o, rng=seed, max_elements=4096)),
        "random_unit_vectors": (numerics.random_unit_vectors, dict(n=m, d=d, rng=seed)),
        "gaussian_init": (numerics.gaussian_init, dict(m=m, d=d, std=0.1, rng=seed)),
        "sphere_init": (numerics.sphere_init, dict(m=m, d=d, norm=0.1, rng=seed)),
        "loss_and_grad": (numerics.loss_and_grad, dict(W=W, target=T, model=model, reg=0.01)),
        "loss": (numerics.loss, dict(W=W, target=T, model=model, reg=0.0)),
        "model_tensor": (numerics.model_tensor, dict(W=W, order=o, model=model)),
        "hessian_vector_product": (numerics.hessian_vector_product, dict(W=W, target=T, V=W[::-1].copy(), model=model, reg=0.0)),
        "inner": (numerics.inner, dict(a=T, b=dense)),
        "distance": (numerics.distance, dict(a=T, b=dense)),
        "gradient_flow": (numerics.gradient_flow, dict(
            W0=W, target=T, t_span=(0.0, 2.0), model=model, reg=0.0, method="RK45", rtol=1e-6,
            atol=1e-9, t_eval=np.linspace(0, 2, 5), loss_tol=None, max_norm=1e6, max_steps=10_000,
            first_step=None, max_step=np.inf, dtype=np.float64, max_wall=MAX_WALL)),
        "gradient_descent": (numerics.gradient_descent, dict(
            W0=W, target=T, step=0.01, n_steps=50, model=model, reg=0.0, observe_every=5,
            loss_tol=None, max_norm=1e6, dtype=np.float64, max_wall=MAX_WALL)),
        "sym_basis_size": (lazy.sym_basis_size, dict(d=d, order=o)),
        "tangent_operator": (lazy.tangent_operator, dict(W=W, order=o)),
        "tangent_matrix": (lazy.tangent_matrix, dict(W=W, order=o, max_elements=2**16)),
        "tangent_jacobian": (lazy.tangent_jacobian, dict(W=W, order=o, max_elements=2**16)),
        "tangent_rank": (lazy.tangent_rank, dict(W=W, order=o, tol=None, max_elements=2**16)),
        "lazy_residual": (lazy.lazy_residual, dict(
            W0=W, target=T, method="auto", tol=1e-8, maxiter=None, stop_below=None, max_elements=2**16)),
        "tangent_singular_values": (lazy.tangent_singular_values, dict(W=W, order=o, max_elements=2**16)),
        "linearized_flow": (lazy.linearized_flow, dict(
            W0=W, target=T, t_span=(0.0, 1.0), t_eval=None, method="RK45", rtol=1e-6, atol=1e-9,
            include_offset=True, max_elements=2**16, max_wall=MAX_WALL)),
        "linearized_flow_exact": (lazy.linearized_flow, dict(
            W0=W, target=T, t_span=(0.0, 1.0), t_eval=None, method="exact", include_offset=True,
            max_elements=2**16)),
        "alpha_comparison": (lazy.alpha_comparison, dict(
            W0=W, target=T, alphas=[10.0], t_end=1.0, n_times=5, rtol=1e-6, atol=1e-9,
            max_wall=MAX_WALL)),
        "lazy_training_flow": (lazy_training_flow, dict(
            W0=W, target=T, alpha=10.0, t_end=1.0, t_eval=None, method="RK45", rtol=1e-6, atol=1e-9,
            residual_tol=None, max_steps=10_000, max_wall=MAX_WALL)),
        "lazy_training_descent": (lazy_training_descent, dict(
            W0=W, target=T, alpha=10.0, step=1e-3, n_steps=50, observe_every=5, residual_tol=None,
            max_wall=MAX_WALL)),
        "stable_step": (stable_step, dict(W0=W, order=o)),
        "relative_error": (relative_error, dict(estimate=dense, target=T)),
        "fit_succeeded": (fit_succeeded, dict(estimate=dense, target=T, eps=0.1)),
        "target_scale": (target_scale, dict(target=T)),
        "beyond_lazy_descent": (beyond_lazy_descent, dict(
            target=T, m=m + 1, delta=1e-3, reg=1e-2, step=0.1, epoch_steps=20, epochs=2,
            reinit="small", reinit_threshold=5e-4, model=model, eps=0.05, rng=seed,
            record_every=5, stop_at_eps=True, max_norm=1e3, max_wall=MAX_WALL)),
        "modified_gradient_flow": (modified_gradient_flow, dict(
            target=T, m=m + 1, delta0=1e-3, delta1=0.1, gamma=2.0, eps=1e-2, reg=1e-3, t0=1.0,
            model=model, rng=seed, max_epochs=2, reinit=True, n_obs=5, method="RK45", rtol=1e-6,
            atol=1e-9, max_steps=10_000, max_wall=MAX_WALL)),
        "plain_descent_baseline": (plain_descent_baseline, dict(
            target=T, m=m, model=model, method="gd", init=1.0, step=0.05, n_steps=50, t_end=1.0,
            eps=0.05, gtol=1e-3, reg=0.0, rng=seed, max_wall=MAX_WALL)),
        "hessian_min_eigenvalue": (hessian_min_eigenvalue, dict(
            W=W, target=T, model=model, reg=0.0, k=1, dense_below=200)),
        "reinitialize": (reinitialize, dict(W=W, threshold=0.1, delta=1e-3, rng=seed)),
        "initial_alignment": (initial_alignment, dict(W0=W, target=T, model=model)),
        "track_flow": (track_flow, dict(
            W0=W, target=T, t_span=(0.0, 1.0), model=model, reg=0.0, q=0.5, n_obs=5,
            exact_fit_times=True, max_wall=MAX_WALL)),
        "track_components": (track_components, dict(
            t=np.linspace(0, 1, n), fits=fits, coeffs=p["a"], q=0.5)),
        "fit_events": (fit_events, dict(target=T, model=model, q=0.5)),
    }  # fmt: skip


ENTRY_POINTS = sorted(_specs({"order": 3, "d": 2, "r": 1, "m": 2, "seed": 0,
    "target": numerics.orthogonal_tensor([1.0], 2, 3), "W": np.ones((2, 2)),
    "model": "plain", "a": np.array([1.0]), "rng": None}))  # fmt: skip

FIXED = {"max_wall"}  # never replaced: it is what bounds the hostile budgets


def _names(message: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def _alarm(signum: int, frame: Any) -> None:
    raise _Hung


def _call(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Call with a hard time limit (SIGALRM where available)."""
    use_alarm = sys.platform != "win32"
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, 3 * DEADLINE_S)
    start = time.monotonic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # overflow warnings are not the subject here
            return fn(**kwargs)
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        elapsed = time.monotonic() - start
        assert elapsed < DEADLINE_S, f"call took {elapsed:.1f} s"


def _check(entry: str, problem: dict[str, Any], data: st.DataObject) -> None:
    fn, kwargs = _specs(problem)[entry]
    names = [k for k in kwargs if k not in FIXED]
    bad = data.draw(st.sampled_from([None, *names]), label="replaced parameter")
    if bad is not None:
        kwargs = {**kwargs, bad: data.draw(st.sampled_from(HOSTILE), label=f"{bad}=")}
    try:
        _call(fn, kwargs)
    except _Hung:
        pytest.fail(f"{entry}({bad}=...) did not return within {3 * DEADLINE_S} s")
    except (ValueError, TypeError, RuntimeError) as exc:
        # ValueError/TypeError: bad input; RuntimeError: a numerical failure reported as such
        # (e.g. track_flow's "gradient flow did not finish: ..."), which must carry the parameters
        if bad is None:
            raise  # a valid call must not raise
        assert _names(str(exc), bad), (
            f"{entry}: {type(exc).__name__} does not name the replaced parameter {bad!r}: {exc}"
        )


_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@settings(suppress_health_check=_HEALTH)
@given(problem=problems(), data=st.data())
def test_public_api_returns_or_names_the_bad_parameter(entry: str, problem, data) -> None:
    """Examples from the active profile (``ci``/``dev``: 25 per entry point, a few seconds)."""
    _check(entry, problem, data)


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRY_POINTS)
@settings(
    max_examples=max(300, settings.get_profile("thorough").max_examples),
    suppress_health_check=_HEALTH,
)
@given(problem=problems(), data=st.data())
def test_public_api_fuzz_thorough(entry: str, problem, data) -> None:
    """The same check with the ``thorough`` example count (``tox -e verify`` runs slow tests)."""
    _check(entry, problem, data)


# --------------------------------------------------------------------------------------------------
# scale: no silent non-finite numbers (issue 24, items 4 and 11)

EPS = float(np.finfo(np.float64).eps)
SCALED = ["loss_and_grad", "loss", "distance", "tangent_rank", "tangent_singular_values",
          "linearized_flow_exact"]  # fmt: skip


def _check_scaled(entry: str, p: dict[str, Any], exponent: int) -> None:
    """Call ``entry`` with ``W`` (or both tensors) times ``10^exponent``.

    It must return finite numbers — the same as at scale 1 where the mathematics is scale-free —
    or raise ``ValueError`` naming the input that is too large, or (flows) report a failed status.
    """
    s = 10.0**exponent
    W, T, o, model = p["W"], p["target"], p["order"], p["model"]
    try:
        if entry in ("loss_and_grad", "loss"):
            fn = numerics.loss_and_grad if entry == "loss_and_grad" else numerics.loss
            out = fn(W * s, T, model=model, reg=0.01)
            value, grad = out if isinstance(out, tuple) else (out, np.zeros(1))
            assert np.isfinite(value) and np.all(np.isfinite(grad)), (value, grad)
        elif entry == "distance":
            dense = numerics.random_dense_symmetric(p["d"], o, rng=p["seed"])
            base = numerics.distance(T, dense)
            scaled = numerics.distance(
                numerics.LowRankTensor(T.coeffs * s, T.components, o),
                numerics.DenseTensor(dense.array * s),
            )
            # Gram identity: absolute rounding ~ 20·(d + l)·ε·(||A|| + ||B||)² on the square, i.e.
            # that over 2·distance on the distance, for each of the two evaluations
            size = (T.norm() + dense.norm()) ** 2
            tol = 2 * 20 * (p["d"] + o) * EPS * size / (2 * base) if base > 0 else 0.0
            assert abs(scaled / s - base) <= tol + 1e-300, (scaled / s, base, tol)
        elif entry == "tangent_rank":
            assert lazy.tangent_rank(W * s, o) == lazy.tangent_rank(W, o)
        elif entry == "tangent_singular_values":
            sigma = lazy.tangent_singular_values(W * s, o)
            assert np.all(np.isfinite(sigma)) and np.all(sigma >= 0.0)
        else:
            flow = lazy.linearized_flow(W * s, T, (0.0, 1.0), method="exact")
            if flow.status != "finished":
                assert flow.status == "failed" and "float64" in flow.message, flow.message
                return
            res = flow.residual
            assert np.all(np.isfinite(res)) and np.all(np.isfinite(flow.delta))
            # never below the lazy minimum (scale-free, dense least squares; both routes round to
            # ~1e3·ε for these small, random W), never increasing (sum of decreasing terms)
            lazy_min = lazy.lazy_residual(W, T, method="dense").residual
            assert np.all(res >= lazy_min - 1e-9), (res.min(), lazy_min)
            assert np.all(np.diff(res) <= 1e-12 * res[:-1]), res
    except ValueError as exc:
        named = _names(str(exc), "W") or _names(str(exc), "a") or _names(str(exc), "b")
        assert named and ("too large" in str(exc) or "float64" in str(exc)), str(exc)


@pytest.mark.parametrize("entry", SCALED)
@settings(suppress_health_check=_HEALTH)
@given(problem=problems(), exponent=st.integers(-300, 300))
def test_scaled_inputs_give_numbers_or_named_errors(entry: str, problem, exponent: int) -> None:
    _check_scaled(entry, problem, exponent)


@pytest.mark.slow
@pytest.mark.parametrize("entry", SCALED)
@settings(
    max_examples=max(300, settings.get_profile("thorough").max_examples),
    suppress_health_check=_HEALTH,
)
@given(problem=problems(), exponent=st.integers(-300, 300))
def test_scaled_inputs_thorough(entry: str, problem, exponent: int) -> None:
    _check_scaled(entry, problem, exponent)
