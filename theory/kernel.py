"""The expected lazy-regime (NTK) kernel under Gaussian initialisation: docs/math.md §4 [derived].

For the polynomial view ``p_W(x) = Σ_i (w_i·x)^l`` of the plain model the tangent kernel is
``K(x, y) = l² Σ_i (w_i·x)^{l-1}(w_i·y)^{l-1}(x·y)``. For ``w_i ~ N(0, σ²I)`` and unit ``x, y`` with
``ρ = x·y``, the pair ``(w·x, w·y)`` is centred Gaussian with covariance ``σ²[[1, ρ], [ρ, 1]]``, so

    ``E K = m l² σ^{2(l-1)} ρ P_l(ρ)``,  ``P_l(ρ) = E[Z1^{l-1} Z2^{l-1}]``, ``corr(Z1, Z2) = ρ``.

The moments are *derived* here from the moment generating function
``E exp(sZ1 + tZ2) = exp(½(v1 s² + 2c st + v2 t²))``: the only term of total degree ``a + b`` in its
exponential series is ``q^n/n!`` with ``n = (a+b)/2``, ``q = ½(v1 s² + 2c st + v2 t²)``, so
``E[Z1^a Z2^b] = a! b! [s^a t^b] q^n/n!``. :func:`wick_moment` is a second, independent route
(Isserlis/Wick: a sum over perfect pairings) used by the tests.

All functions are cached and exact (sympy rationals); orders up to :data:`MAX_KERNEL_ORDER` take
milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from ._checks import check_int, check_order, typed_cache

__all__ = [
    "MAX_KERNEL_ORDER",
    "M",
    "RHO",
    "SIGMA",
    "bivariate_gaussian_moment",
    "expected_ntk",
    "expected_ntk_poly",
    "lambdify_expected_ntk",
    "wick_moment",
]

#: Largest order accepted by :func:`expected_ntk_poly` (the polynomial has degree l-1; larger orders
#: are cheap too but nothing in the project needs them).
MAX_KERNEL_ORDER = 40

#: The correlation ``ρ = x·y`` (a plain symbol named ``"rho"``, so ``sympy.Symbol("rho")`` matches it).
RHO = sp.Symbol("rho")
#: The initialisation scale ``σ`` (plain symbol ``"sigma"``).
SIGMA = sp.Symbol("sigma")
#: The number of components ``m`` (plain symbol ``"m"``).
M = sp.Symbol("m")


@typed_cache(maxsize=256)
def bivariate_gaussian_moment(a: int, b: int, v1: sp.Expr, v2: sp.Expr, c: sp.Expr) -> sp.Expr:
    """``E[X^a Y^b]`` for a centred Gaussian pair with ``Var X = v1``, ``Var Y = v2``, ``Cov = c``.

    Derived from the moment generating function (module docstring); exact and expanded.
    """
    a = check_int(a, "a", minimum=0)
    b = check_int(b, "b", minimum=0)
    if (a + b) % 2:
        return sp.Integer(0)
    n = (a + b) // 2
    s, t = sp.symbols("s t")
    q = sp.Rational(1, 2) * (v1 * s**2 + 2 * c * s * t + v2 * t**2)
    poly = sp.Poly(sp.expand(q**n / sp.factorial(n)), s, t)
    return sp.expand(sp.factorial(a) * sp.factorial(b) * poly.coeff_monomial(s**a * t**b))


def wick_moment(a: int, b: int, rho: sp.Expr = RHO) -> sp.Expr:
    """``E[Z1^a Z2^b]`` for standard normals with correlation ``rho`` by Isserlis/Wick's theorem.

    The moment is the sum over perfect pairings of the ``a + b`` factors of the product of the
    pair covariances (1 within a variable, ``rho`` across). Counting pairings with ``k`` cross pairs:
    ``C(a, k) C(b, k) k! (a-k-1)!! (b-k-1)!!``. Independent of :func:`bivariate_gaussian_moment`.
    """
    a = check_int(a, "a", minimum=0)
    b = check_int(b, "b", minimum=0)
    total = sp.Integer(0)
    for k in range(min(a, b) + 1):
        if (a - k) % 2 or (b - k) % 2:
            continue
        count = (
            sp.binomial(a, k)
            * sp.binomial(b, k)
            * sp.factorial(k)
            * sp.factorial2(a - k - 1)
            * sp.factorial2(b - k - 1)
        )
        total += count * rho**k
    return sp.expand(total)


@typed_cache(maxsize=64)
def expected_ntk_poly(l: int) -> sp.Expr:
    """``P_l(ρ) = E[Z1^{l-1} Z2^{l-1}]`` for standard normals with correlation ``ρ`` (docs/math.md §4).

    Derived from the bivariate Gaussian moment generating function (not typed in); an exact
    polynomial in the symbol :data:`RHO` (``"rho"``) with integer coefficients, of degree ``l-1``.
    ``P_2 = ρ``, ``P_3 = 1 + 2ρ²``, ``P_4 = 9ρ + 6ρ³``.

    Parameters
    ----------
    l : int
        Tensor order, ``2 <= l <= MAX_KERNEL_ORDER``.
    """
    l = check_order(l, "l", maximum=MAX_KERNEL_ORDER)
    one = sp.Integer(1)
    return bivariate_gaussian_moment(l - 1, l - 1, one, one, RHO)


@typed_cache(maxsize=64)
def expected_ntk(l: int) -> sp.Expr:
    """``E K(x, y) = m l² σ^{2(l-1)} ρ P_l(ρ)`` for ``w_i ~ N(0, σ²I)`` and unit ``x, y`` (docs/math.md §4).

    Built from ``K(x, y) = l² Σ_i (w_i·x)^{l-1}(w_i·y)^{l-1}(x·y)``: each of the ``m`` i.i.d. terms has
    expectation ``l² ρ E[X^{l-1} Y^{l-1}]`` with ``(X, Y) = (w·x, w·y)`` of covariance
    ``σ²[[1, ρ], [ρ, 1]]``, derived by :func:`bivariate_gaussian_moment`. A sympy expression in the
    symbols :data:`M` (``"m"``), :data:`SIGMA` (``"sigma"``) and :data:`RHO` (``"rho"``).

    Parameters
    ----------
    l : int
        Tensor order, ``2 <= l <= MAX_KERNEL_ORDER``.
    """
    l = check_order(l, "l", maximum=MAX_KERNEL_ORDER)
    var = SIGMA**2
    moment = bivariate_gaussian_moment(l - 1, l - 1, var, var, var * RHO)
    return sp.factor_terms(M * l**2 * RHO * moment)


@typed_cache(maxsize=64)
def lambdify_expected_ntk(l: int) -> Callable[..., Any]:
    """Numeric ``(m, sigma, rho) -> E K`` from :func:`expected_ntk` by ``sympy.lambdify`` (numpy).

    Broadcasts over array arguments; cheap for every ``l <= MAX_KERNEL_ORDER``.
    """
    fn: Callable[..., Any] = sp.lambdify((M, SIGMA, RHO), expected_ntk(l), modules="numpy")
    return fn
