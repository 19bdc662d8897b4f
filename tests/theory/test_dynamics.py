"""Reduced 1-D dynamics (docs/math.md §6): dsolve escape and fit times vs the formulas and vs ODE solvers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from theory import (
    homogeneous_alignment_time_expr,
    homogeneous_fit_time,
    homogeneous_fit_time_expr,
    homogeneous_growth_time_expr,
    plain_escape_time,
    plain_escape_time_expr,
)
from theory.dynamics import DELTA0, U0, X0, A, Q


@pytest.mark.parametrize("l", range(3, 9))
def test_plain_escape_time_matches_math_md_formula(l: int) -> None:
    assert (
        sp.simplify(plain_escape_time_expr(None, None, l) - 1 / (l * (l - 2) * A * X0 ** (l - 2)))
        == 0
    )


def test_plain_escape_time_exact_and_float() -> None:
    assert plain_escape_time_expr(2, sp.Rational(1, 10), 4) == sp.Rational(25, 4)  # 1/(8·2·0.01)
    assert plain_escape_time(2.0, 0.1, 4) == pytest.approx(6.25, rel=1e-14)
    assert plain_escape_time(0.5, 0.01, 3) == pytest.approx(1 / (3 * 0.5 * 0.01), rel=1e-14)


@pytest.mark.parametrize("l", [3, 4, 5])
def test_plain_escape_time_vs_numerical_blow_up(l: int) -> None:
    # Integrate dx/dt = l a x^{l-1} until x = X: the exact time is t*(1 - (x0/X)^{l-2}). With
    # X = 1e4·x0 the correction is <= 1e-4 relative; the solver's rtol 1e-10 adds far less. Margin 3e-4.
    a, x0 = 0.8, 0.05
    X = 1e4 * x0

    def hit(t: float, x: np.ndarray) -> float:
        return x[0] - X

    hit.terminal = True  # type: ignore[attr-defined]
    sol = solve_ivp(
        lambda t, x: l * a * x ** (l - 1),
        (0, 10 * plain_escape_time(a, x0, l)),
        [x0],
        events=hit,
        rtol=1e-10,
        atol=1e-14,
    )
    t_hit = sol.t_events[0][0]
    assert t_hit == pytest.approx(plain_escape_time(a, x0, l), rel=3e-4)


def test_homogeneous_fit_time_l4_formula() -> None:
    expected = 1 / (8 * A * U0) + sp.log(A / (2 * DELTA0**2)) / (4 * A)
    got = homogeneous_fit_time_expr(l=4)
    assert sp.simplify(sp.expand_log(got - expected, force=True)) == 0
    assert homogeneous_fit_time(1.0, 0.1, 1e-3, 4) == pytest.approx(
        1 / 0.8 + math.log(1 / 2e-6) / 4, rel=1e-13
    )


@pytest.mark.parametrize("l", [3, 4, 5, 6])
def test_alignment_time_is_plain_escape_of_sqrt_u0(l: int) -> None:
    expected = 1 / (l * (l - 2) * A * U0 ** sp.Rational(l - 2, 2))
    assert sp.simplify(homogeneous_alignment_time_expr(l) - expected) == 0


def test_growth_times_vs_numerical_integration() -> None:
    # ds/dt = 4as (exponential) and ds/dt = 4s(a - s) (logistic) from δ0² until s = q·a: solver
    # (rtol 1e-11) vs dsolve closed forms; margin 1e-7 relative (solver tolerance, derived loosely).
    a, delta0, q = 0.7, 1e-3, 0.5
    for growth, rhs in (
        ("exponential", lambda t, s: 4 * a * s),
        ("logistic", lambda t, s: 4 * s * (a - s)),
    ):

        def hit(t: float, s: np.ndarray) -> float:
            return s[0] - q * a

        hit.terminal = True  # type: ignore[attr-defined]
        sol = solve_ivp(
            rhs, (0, 100), [delta0**2], events=hit, rtol=1e-11, atol=1e-16, method="DOP853"
        )
        expr = homogeneous_growth_time_expr(growth)
        predicted = float(expr.subs({A: a, DELTA0: delta0, Q: q}))
        assert sol.t_events[0][0] == pytest.approx(predicted, rel=1e-7), growth


def test_logistic_is_later_by_about_ln2_over_4a() -> None:
    a, u0, delta0 = 1.3, 0.2, 1e-4
    gap = homogeneous_fit_time(a, u0, delta0, 4, growth="logistic") - homogeneous_fit_time(
        a, u0, delta0, 4
    )
    # exact gap: ln((a - δ0²)/((1-q)a))/(4a) = ln(2(1 - δ0²/a))/(4a)
    assert gap == pytest.approx(math.log(2 * (1 - delta0**2 / a)) / (4 * a), rel=1e-12)


@pytest.mark.parametrize(
    ("call", "exc", "name"),
    [
        (lambda: plain_escape_time(1.0, 0.1, 2), ValueError, "l"),
        (lambda: plain_escape_time(-1.0, 0.1, 3), ValueError, "a"),
        (lambda: plain_escape_time(1.0, float("nan"), 3), ValueError, "x0"),
        (lambda: plain_escape_time(1.0, "0.1", 3), TypeError, "x0"),
        (lambda: homogeneous_fit_time(1.0, 1.5, 1e-3, 4), ValueError, "u0"),
        (lambda: homogeneous_fit_time(1.0, 0.1, 1.0, 4), ValueError, "delta0"),
        (lambda: homogeneous_fit_time(1.0, 0.1, 1e-3, 4, q=1.0), ValueError, "q"),
        (lambda: homogeneous_fit_time(1.0, 0.1, 1e-3, 4, growth="linear"), ValueError, "growth"),
    ],
)
def test_bad_input(call, exc, name: str) -> None:
    with pytest.raises(exc, match=name):
        call()
