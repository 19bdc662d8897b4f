"""Expected NTK (docs/math.md §4): P_l from Gaussian moments, two independent derivations, Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from theory import (
    RHO,
    SIGMA,
    bivariate_gaussian_moment,
    expected_ntk,
    expected_ntk_poly,
    wick_moment,
)
from theory.kernel import M


def test_p_l_matches_the_values_quoted_in_math_md() -> None:
    assert sp.expand(expected_ntk_poly(2) - RHO) == 0
    assert sp.expand(expected_ntk_poly(3) - (1 + 2 * RHO**2)) == 0
    assert sp.expand(expected_ntk_poly(4) - (9 * RHO + 6 * RHO**3)) == 0


@pytest.mark.parametrize("a", range(9))
@pytest.mark.parametrize("b", range(9))
def test_moment_generating_function_agrees_with_wick(a: int, b: int) -> None:
    one = sp.Integer(1)
    assert sp.expand(bivariate_gaussian_moment(a, b, one, one, RHO) - wick_moment(a, b)) == 0


@pytest.mark.parametrize("l", range(2, 12))
def test_p_l_boundary_values(l: int) -> None:
    P = expected_ntk_poly(l)
    # ρ = 1: Z1 = Z2, so P_l(1) = E Z^{2(l-1)} = (2l-3)!!; ρ = 0: independent, (E Z^{l-1})²
    assert P.subs(RHO, 1) == sp.factorial2(2 * l - 3)
    assert P.subs(RHO, 0) == (sp.factorial2(l - 2) if l % 2 == 1 else 0) ** 2
    # parity: P_l(-ρ) = (-1)^{l-1} P_l(ρ) (Z2 -> -Z2)
    assert sp.expand(P.subs(RHO, -RHO) - (-1) ** (l - 1) * P) == 0
    assert sp.Poly(P, RHO).degree() == l - 1


@pytest.mark.parametrize("l", [2, 3, 4, 5])
def test_expected_ntk_is_m_l2_sigma_rho_p_l(l: int) -> None:
    full = expected_ntk(l)
    assert full.free_symbols == {M, SIGMA, RHO}
    assert sp.expand(full - M * l**2 * SIGMA ** (2 * (l - 1)) * RHO * expected_ntk_poly(l)) == 0
    # the plain symbols match by name, so other code may build them with sympy.Symbol
    assert sp.Symbol("rho") == RHO and sp.Symbol("sigma") == SIGMA and sp.Symbol("m") == M


@pytest.mark.parametrize("l", [2, 3, 4])
def test_expected_ntk_monte_carlo(l: int) -> None:
    # E K(x, y) for w_i ~ N(0, σ²I_d), unit x, y with x·y = ρ, by direct sampling of K(x, y) =
    # l² Σ_i (w_i·x)^{l-1}(w_i·y)^{l-1}(x·y); seed fixed. Margin: 5 standard errors (estimated from
    # the same sample), i.e. a false failure has probability < 1e-6 under the CLT.
    rng = np.random.default_rng(20261123 + l)
    d, m, sigma, rho, n = 6, 3, 0.7, 0.4, 200_000
    x = np.zeros(d)
    x[0] = 1.0
    y = np.zeros(d)
    y[0], y[1] = rho, np.sqrt(1 - rho**2)
    W = sigma * rng.standard_normal((n, m, d))
    K = l**2 * np.sum((W @ x) ** (l - 1) * (W @ y) ** (l - 1), axis=1) * rho
    mc, se = K.mean(), K.std(ddof=1) / np.sqrt(n)
    exact = float(expected_ntk(l).subs({M: m, SIGMA: sigma, RHO: rho}))
    assert abs(mc - exact) < 5 * se, (mc, exact, se)


def test_bad_orders() -> None:
    with pytest.raises(ValueError, match="l"):
        expected_ntk_poly(1)
    with pytest.raises(ValueError, match="l"):
        expected_ntk(10_000)
    with pytest.raises(TypeError, match="l"):
        expected_ntk_poly(3.0)


def test_lambdified_expected_ntk_matches_substitution() -> None:
    from theory import lambdify_expected_ntk

    rho = np.linspace(-1, 1, 7)
    for l in (2, 3, 5):
        exact = [float(expected_ntk(l).subs({M: 3, SIGMA: 0.5, RHO: r})) for r in rho]
        np.testing.assert_allclose(
            lambdify_expected_ntk(l)(3, 0.5, rho), exact, rtol=1e-13, atol=1e-15
        )
