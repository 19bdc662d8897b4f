"""Next-order fit time and the perpendicular invariant (docs/math.md §12) vs ODE solutions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from numerics import gradient_flow, sphere_init
from numerics.tensors import orthogonal_tensor
from theory import (
    homogeneous_fit_time,
    homogeneous_fit_time_next,
    homogeneous_lag_expr,
    perpendicular_invariant_exponent,
    plateau_deviation,
    plateau_time_expr,
)
from theory.dynamics import U0


def test_lag_l4_closed_form() -> None:
    expected = (1 / U0 - 1 - sp.log(U0)) / 2
    assert sp.simplify(homogeneous_lag_expr(4) - expected) == 0


@pytest.mark.parametrize("l", [3, 4, 5, 6])
def test_lag_is_the_defining_integral(l: int) -> None:
    # Λ(1) = 0 and dΛ/du0 = -(2/l)(u0^{-l/2} - 1)/(1 - u0): the integral's definition, differentiated
    lag = homogeneous_lag_expr(l)
    assert sp.simplify(lag.subs(U0, 1)) == 0
    integrand = sp.Rational(2, l) * (U0 ** sp.Rational(-l, 2) - 1) / (1 - U0)
    for u in (sp.Rational(1, 10), sp.Rational(1, 3), sp.Rational(7, 10)):
        assert float(sp.diff(lag, U0).subs(U0, u) + integrand.subs(U0, u)) == pytest.approx(
            0, abs=1e-12
        )


@pytest.mark.parametrize("l", [3, 4, 5])
def test_next_order_fit_time_vs_reduced_ode(l: int) -> None:
    # One component, target a e^{⊗l}: du/dt = 2la u^{l/2}(1-u), ds/dt = 4s(a u^{l/2} - s) (the exact
    # reduced flow, with the component's own term); fitted when s u^{l/2} = a/2. The next-order
    # formula neglects only O(δ0²/a) terms: with δ0 = 1e-4, margin 1e-5 relative (solver rtol 1e-11).
    a, u0, delta0 = 0.7, 0.15, 1e-4

    def rhs(t: float, y: np.ndarray) -> list[float]:
        u, s = y
        return [2 * l * a * u ** (l / 2) * (1 - u), 4 * s * (a * u ** (l / 2) - s)]

    def fitted(t: float, y: np.ndarray) -> float:
        return y[1] * y[0] ** (l / 2) - a / 2

    fitted.terminal = True  # type: ignore[attr-defined]
    sol = solve_ivp(
        rhs, (0, 1e3), [u0, delta0**2], events=fitted, rtol=1e-11, atol=1e-20, method="DOP853"
    )
    t_fit = sol.t_events[0][0]
    assert t_fit == pytest.approx(homogeneous_fit_time_next(a, [u0], delta0, l), rel=1e-5)
    # the additive prediction misses the constant term: its error does not vanish here
    assert abs(homogeneous_fit_time(a, u0, delta0, l) / t_fit - 1) > 1e-3


def test_next_order_sums_components_and_keeps_the_delta0_slope() -> None:
    a, us = 0.8, [0.3, 0.2, 0.05]
    t1 = homogeneous_fit_time_next(a, us, 1e-3, 4)
    # adding components can only shorten the fit; the fit time is linear in ln(1/δ0), slope 1/(2a)
    assert t1 < homogeneous_fit_time_next(a, us[:1], 1e-3, 4)
    t2 = homogeneous_fit_time_next(a, us, 1e-5, 4)
    assert (t2 - t1) / math.log(100) == pytest.approx(1 / (2 * a), rel=1e-12)
    lags = [(1 / u - 1 - math.log(u)) / 2 for u in us]
    expected = (math.log(a / 1e-6) - math.log(sum(math.exp(-x) for x in lags))) / (4 * a)
    assert t1 == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("l", range(3, 9))
def test_invariant_exponent(l: int) -> None:
    assert perpendicular_invariant_exponent(l) == sp.Rational(l - 2, 2)


@pytest.mark.parametrize("l", [3, 4])
def test_invariant_decreases_along_the_gradient_flow(l: int) -> None:
    # Single target direction a e_0^{⊗l}, one component, two-homogeneous gradient flow (numerics):
    # Q = ||w||^α ||w_⊥|| with α from theory never increases, up to the solver's error: relative 1e-7
    # (rtol 1e-10 accumulated over ~10^3 steps) plus an absolute floor 1e-13 (atol 1e-14 per entry).
    a = 0.9
    target = orthogonal_tensor([a], 6, l)
    w0 = sphere_init(1, 6, 1e-2, rng=3)
    w0[0, 0] = abs(w0[0, 0])  # odd l: the positive correlation is the one that grows
    alpha = float(perpendicular_invariant_exponent(l))
    traj = gradient_flow(
        w0,
        target,
        (0.0, 60.0),
        model="homogeneous",
        rtol=1e-10,
        atol=1e-14,
        t_eval=np.linspace(0, 60, 301),
        observe={"W": lambda t, W: W.copy()},
    )
    W = traj.observations["W"][:, 0, :]
    norm = np.linalg.norm(W, axis=1)
    Q = norm**alpha * np.linalg.norm(W[:, 1:], axis=1)
    assert np.all(np.diff(Q) <= 1e-7 * Q[:-1] + 1e-13)
    assert norm[-1] ** 2 == pytest.approx(a, rel=1e-6)  # the component did get fitted
    assert Q[-1] < 1e-3 * Q[0]  # and the invariant decayed at rate l·s after the fit


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: homogeneous_fit_time_next(1.0, [], 1e-3, 4), "u0s"),
        (lambda: homogeneous_fit_time_next(1.0, [1.5], 1e-3, 4), "u0s"),
        (lambda: homogeneous_fit_time_next(1.0, [0.2], 1.0, 4), "delta0"),
        (lambda: homogeneous_fit_time_next(-1.0, [0.2], 1e-3, 4), "a"),
        (lambda: homogeneous_fit_time_next(1.0, [0.2], 1e-3, 2), "l"),
        (lambda: homogeneous_lag_expr(2), "l"),
    ],
)
def test_bad_input(call, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize(
    ("a_k", "a_next", "gap"), [(1.0, 0.5, 3.0), (1.0, 0.9, 2.0), (0.6, 0.4, 1.5)]
)
def test_plateau_time_minimises_the_decay_rate(a_k: float, a_next: float, gap: float) -> None:
    # brute force: the flattest point of X - Y (X = a_k² e^{-8a_k τ}, Y = a_next² e^{-4a_next(G-τ)})
    tau = np.linspace(0, gap, 200001)
    rate = 8 * a_k**3 * np.exp(-8 * a_k * tau) + 4 * a_next**3 * np.exp(-4 * a_next * (gap - tau))
    i = int(np.argmin(rate))
    X = a_k**2 * math.exp(-8 * a_k * tau[i])
    Y = a_next**2 * math.exp(-4 * a_next * (gap - tau[i]))
    rest = a_next**2 + 0.1
    # grid spacing Δτ = G/2e5 and |d ln|X - Y|/dτ| <= 8a_k + 4a_next <= 12: relative error <= 12Δτ
    assert plateau_deviation(a_k, a_next, rest, gap) == pytest.approx(
        (X - Y) / (2 * rest), rel=12 * gap / 2e5
    )
    ak, an, G = sp.symbols("ak an G", positive=True)
    t_star = float(plateau_time_expr().subs({ak: a_k, an: a_next, G: gap}))
    assert t_star == pytest.approx(tau[i], abs=2e-5 * gap)


def test_plateau_deviation_vanishes_with_the_gap() -> None:
    # longer gaps (smaller δ0) flatten the plateau onto the deflation residual
    devs = [abs(plateau_deviation(1.0, 0.9, 1.45, g)) for g in (0.5, 1.0, 2.0, 4.0)]
    assert devs == sorted(devs, reverse=True) and devs[-1] < 1e-3
    with pytest.raises(ValueError, match="gap"):
        plateau_deviation(1.0, 0.9, 1.45, 0.0)
