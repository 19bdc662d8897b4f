"""Bad input is rejected at the public boundary with ValueError/TypeError naming the parameter.

Covers :mod:`numerics._validate` itself and the parameters of :func:`~numerics.flow.gradient_flow`,
:func:`~numerics.flow.gradient_descent` and the observers; the tensor and model constructors are covered
in ``test_tensors.py`` and ``test_models.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from numerics._validate import (
    as_float_array,
    as_rng,
    check_choice,
    check_int,
    check_order,
    check_real,
)
from numerics.flow import component_fits, gradient_descent, gradient_flow
from numerics.tensors import DenseTensor, LowRankTensor, random_low_rank

# ---------------------------------------------------------------------------------------------
# the helpers
# ---------------------------------------------------------------------------------------------


def test_as_rng():
    g = np.random.default_rng(0)
    assert as_rng(g) is g
    assert isinstance(as_rng(None), np.random.Generator)
    assert as_rng(5).integers(1 << 30) == np.random.default_rng(5).integers(1 << 30)
    assert as_rng(np.int64(5)).integers(1 << 30) == np.random.default_rng(5).integers(1 << 30)
    with pytest.raises(ValueError, match="seed"):
        as_rng(-1, "seed")
    for bad in (1.5, "0", True, np.random.RandomState(0)):
        with pytest.raises(TypeError, match="rng"):
            as_rng(bad)


@pytest.mark.parametrize(
    ("value", "minimum", "exc"),
    [
        (0, 1, ValueError),
        (-3, 0, ValueError),
        (1.0, 1, TypeError),
        (True, 0, TypeError),
        ("2", 1, TypeError),
        (None, 1, TypeError),
    ],
)
def test_check_int_rejects(value, minimum, exc):
    with pytest.raises(exc, match="n_things"):
        check_int(value, "n_things", minimum=minimum)


def test_check_int_and_order_accept():
    assert check_int(np.int32(3), "n") == 3 and type(check_int(np.int32(3), "n")) is int
    assert check_int(0, "n", minimum=0) == 0
    assert check_order(2) == 2
    with pytest.raises(ValueError, match=r"order must be >= 2, got 1"):
        check_order(1)
    with pytest.raises(ValueError, match="l"):
        check_order(0, "l")


@pytest.mark.parametrize(
    ("value", "kwargs", "exc", "match"),
    [
        (np.nan, {}, ValueError, "finite"),
        (np.inf, {}, ValueError, "finite"),
        ("1", {}, TypeError, "real number"),
        (True, {}, TypeError, "real number"),
        (1 + 1j, {}, TypeError, "real number"),
        (-1e-9, {"minimum": 0.0}, ValueError, ">= 0"),
        (0.0, {"minimum": 0.0, "strict": True}, ValueError, "> 0"),
        (2.0, {"maximum": 1.0}, ValueError, "<= 1"),
    ],
)
def test_check_real_rejects(value, kwargs, exc, match):
    with pytest.raises(exc, match=f"tol.*{match}"):
        check_real(value, "tol", **kwargs)


def test_check_real_accepts_and_reports_value():
    assert check_real(np.float32(0.5), "x", minimum=0.0, maximum=1.0) == 0.5
    assert check_real(0, "x", minimum=0.0) == 0.0
    with pytest.raises(ValueError, match=r"rtol must be > 0.0, got -0.5"):
        check_real(-0.5, "rtol", minimum=0.0, strict=True)


@pytest.mark.parametrize(
    ("value", "kwargs", "exc", "match"),
    [
        ([1.0, np.nan], {}, ValueError, "finite"),
        ([1.0, -np.inf], {}, ValueError, "finite"),
        ([], {}, ValueError, "empty"),
        ([[1.0, 2.0]], {"ndim": 1}, ValueError, "ndim"),
        ([[1.0, 2.0]], {"shape": (None, 3)}, ValueError, r"shape \('\*', 3\)"),
        ([1.0, 2.0], {"shape": (2, 1)}, ValueError, "shape"),
        (["x"], {}, TypeError, "real array"),
        ([1 + 2j], {}, TypeError, "real array"),
        ({"a": 1}, {}, TypeError, "real array"),
    ],
)
def test_as_float_array_rejects(value, kwargs, exc, match):
    with pytest.raises(exc, match=f"W.*{match}|{match}"):
        as_float_array(value, "W", **kwargs)
    with pytest.raises(exc, match="W"):
        as_float_array(value, "W", **kwargs)


def test_as_float_array_accepts_and_copies():
    a = np.arange(3.0)
    assert as_float_array(a, "a") is a
    b = as_float_array(a, "a", copy=True)
    assert b is not a and np.array_equal(a, b)
    assert as_float_array([1, 2], "a").dtype == np.float64
    assert as_float_array([1, 2], "a", dtype=np.float32).dtype == np.float32
    assert as_float_array([], "a", allow_empty=True).shape == (0,)
    assert as_float_array([[1.0]], "a", ndim=(1, 2)).shape == (1, 1)


def test_check_choice():
    assert check_choice("b", "kind", ("a", "b")) == "b"
    with pytest.raises(ValueError, match=r"kind must be one of \['a', 'b'\], got 'c'"):
        check_choice("c", "kind", ("a", "b"))
    with pytest.raises(ValueError, match="kind"):
        check_choice(1, "kind", ("a", "b"))


# ---------------------------------------------------------------------------------------------
# gradient_flow / gradient_descent parameters
# ---------------------------------------------------------------------------------------------

TARGET = random_low_rank(2, 3, 3, rng=0)
W0 = np.full((2, 3), 0.3)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"W0": np.ones((2, 4))}, ValueError, "W"),
        ({"W0": np.full((2, 3), np.nan)}, ValueError, "W"),
        ({"W0": np.ones((0, 3))}, ValueError, "W"),
        ({"target": np.ones((3, 3, 3))}, TypeError, "target"),
        ({"t_span": (1.0, 1.0)}, ValueError, "t_span"),
        ({"t_span": (2.0, 1.0)}, ValueError, "t_span"),
        ({"t_span": (0.0, np.inf)}, ValueError, "t_span"),
        ({"t_span": (0.0, np.nan)}, ValueError, "t_span"),
        ({"t_span": ("a", 1.0)}, TypeError, "t_span"),
        ({"t_span": (0.0, 1.0, 2.0)}, (TypeError, ValueError), "t_span"),
        ({"model": "linear"}, ValueError, "model"),
        ({"reg": -1.0}, ValueError, "reg"),
        ({"method": "Euler"}, ValueError, "method"),
        ({"method": None}, ValueError, "method"),
        ({"rtol": -1e-6}, ValueError, "rtol"),
        ({"rtol": 0.0}, ValueError, "rtol"),
        ({"atol": -1e-9}, ValueError, "atol"),
        ({"atol": np.nan}, ValueError, "atol"),
        ({"loss_tol": -1.0}, ValueError, "loss_tol"),
        ({"max_norm": 0.0}, ValueError, "max_norm"),
        ({"max_norm": -5.0}, ValueError, "max_norm"),
        ({"max_steps": 0}, ValueError, "max_steps"),
        ({"max_steps": 1.5}, TypeError, "max_steps"),
        ({"first_step": 0.0}, ValueError, "first_step"),
        ({"max_step": 0.0}, ValueError, "max_step"),
        ({"max_step": -1.0}, ValueError, "max_step"),
        ({"max_step": "1"}, TypeError, "max_step"),
        ({"dtype": "float33"}, ValueError, "dtype"),
        ({"dtype": np.int64}, ValueError, "dtype"),
        ({"dtype": np.complex128}, ValueError, "dtype"),
        ({"t_eval": [0.5, 0.2]}, ValueError, "t_eval"),
        ({"t_eval": [0.5, 0.5]}, ValueError, "t_eval"),
        ({"t_eval": [-0.1, 0.5]}, ValueError, "t_eval"),
        ({"t_eval": [0.5, 1.5]}, ValueError, "t_eval"),
        ({"t_eval": []}, ValueError, "t_eval"),
        ({"t_eval": [[0.1]]}, ValueError, "t_eval"),
        ({"observe": [component_fits(np.eye(3), 3, model="plain")]}, TypeError, "observe"),
        ({"observe": {"x": 3}}, TypeError, "observe"),
        ({"observe": {1: lambda t, W: 0}}, TypeError, "observe"),
        ({"events": 3}, TypeError, "events"),
        ({"events": {"e": None}}, TypeError, "events"),
    ],
)
def test_gradient_flow_rejects_bad_input(kwargs, exc, match):
    args = {"W0": W0, "target": TARGET, "t_span": (0.0, 1.0), "model": "plain"} | kwargs
    with pytest.raises(exc, match=match):
        gradient_flow(args.pop("W0"), args.pop("target"), args.pop("t_span"), **args)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"W0": np.ones((2, 2))}, ValueError, "W"),
        ({"W0": np.full((2, 3), np.inf)}, ValueError, "W"),
        ({"target": "T"}, TypeError, "target"),
        ({"step": 0.0}, ValueError, "step"),
        ({"step": -0.1}, ValueError, "step"),
        ({"step": np.nan}, ValueError, "step"),
        ({"n_steps": 0}, ValueError, "n_steps"),
        ({"n_steps": 2.0}, TypeError, "n_steps"),
        ({"model": "deep"}, ValueError, "model"),
        ({"reg": -0.5}, ValueError, "reg"),
        ({"observe_every": 0}, ValueError, "observe_every"),
        ({"loss_tol": -1e-3}, ValueError, "loss_tol"),
        ({"max_norm": 0.0}, ValueError, "max_norm"),
        ({"dtype": np.float16}, ValueError, "dtype"),
        ({"dtype": "no-such-type"}, ValueError, "dtype"),
        ({"observe": {"x": "not callable"}}, TypeError, "observe"),
    ],
)
def test_gradient_descent_rejects_bad_input(kwargs, exc, match):
    args = {"W0": W0, "target": TARGET, "step": 0.01, "n_steps": 3, "model": "plain"} | kwargs
    with pytest.raises(exc, match=match):
        gradient_descent(args.pop("W0"), args.pop("target"), **args)


def test_component_fits_rejects_bad_directions():
    with pytest.raises(ValueError, match="directions"):
        component_fits(np.ones(3), 3, model="plain")
    with pytest.raises(ValueError, match="directions"):
        component_fits(np.full((2, 3), np.nan), 3, model="plain")
    with pytest.raises(ValueError, match="order"):
        component_fits(np.eye(3), 1, model="plain")
    with pytest.raises(ValueError, match="model"):
        component_fits(np.eye(3), 3, model="nope")


def test_non_symmetric_dense_target_is_rejected_before_any_flow():
    A = np.zeros((3, 3, 3))
    A[0, 1, 2] = 1.0
    with pytest.raises(ValueError, match="symmetric"):
        DenseTensor(A)


def test_coefficient_model_shape_checked_by_flow():
    with pytest.raises(ValueError, match="W"):
        gradient_flow(W0, TARGET, (0.0, 1.0), model="coefficient")
    T = LowRankTensor([1.0], [[1.0, 0.0, 0.0]], 3)
    assert gradient_flow(np.full((2, 4), 0.3), T, (0.0, 0.1), model="coefficient").success
