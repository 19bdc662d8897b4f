"""Reduced one-dimensional dynamics and the escape / fit times they predict: docs/math.md §6 [derived].

Setting: an orthogonal target ``T* = Σ_k a_k e_k^{⊗l}`` and one component aligned (or aligning) with
one direction ``e_k``; write ``a = a_k``.

* **Plain model** ``Σ_i w_i^{⊗l}``: for small weights the coordinate ``x = <w, e_k>`` follows
  ``dx/dt = l a x^{l-1}`` (the neglected term ``-l||w||^{2(l-1)} x`` has degree ``2l-1``). For
  ``l >= 3`` the solution, obtained with ``sympy.dsolve`` in separable (implicit) form
  ``-1/((l-2) x^{l-2}) = l a t + C1``, blows up at ``t* = 1/(l(l-2) a x0^{l-2})``: polynomial in
  ``1/x0``. (For ``l = 2`` it is exponential and never blows up.)
* **Two-homogeneous model** [model choice, docs/math.md §3.3]: the direction ``w̄`` follows
  ``dw̄_k/dt ≈ l w̄_k (a w̄_k^{l-2} - Σ_j a_j w̄_j^l)``; dropping the (initially small) sum gives the
  plain equation for ``w̄_k`` with ``w̄_k(0) = √u0``, hence the *alignment time*
  ``1/(l(l-2) a u0^{(l-2)/2})``. Once aligned, the weight ``s = ||w||²`` follows the reduced ODE
  ``ds/dt = 4s(a - s)`` (``λ = 0``); while ``s << a`` this is ``ds/dt = 4as`` (solved by ``dsolve``),
  ``s = δ0² e^{4at}``, which reaches ``q·a`` after the *growth time* ``ln(q a/δ0²)/(4a)``.
  The prediction is their sum (l = 4: ``1/(8 a u0) + ln(a/(2δ0²))/(4a)``).

Approximations of the two-homogeneous prediction (documented, not hidden): the two phases are
treated as consecutive (weight growth during alignment is ignored) and the growth phase uses the
exponential (linearised) solution by default. ``growth="logistic"`` solves the full reduced ODE
``ds/dt = 4s(a - s)`` instead, giving ``ln(q(a - δ0²)/((1-q)δ0²))/(4a)``, larger by about
``ln(1/(1-q))/(4a)`` (``ln 2/(4a)`` at ``q = ½``). docs/math.md reports the default within 5–10% of
simulations.

Every derivation is cached per order ``l``; ``3 <= l <= MAX_DYNAMICS_ORDER`` takes well under a second.
"""

from __future__ import annotations

import math
from typing import Any

import sympy as sp

from ._checks import check_choice, check_order, check_positive, typed_cache

__all__ = [
    "A",
    "DELTA0",
    "MAX_DYNAMICS_ORDER",
    "Q",
    "U0",
    "X0",
    "homogeneous_alignment_time_expr",
    "homogeneous_fit_time",
    "homogeneous_fit_time_expr",
    "homogeneous_growth_time_expr",
    "homogeneous_fit_time_next",
    "homogeneous_lag_expr",
    "perpendicular_invariant_exponent",
    "plateau_deviation",
    "plateau_time_expr",
    "plain_escape_time",
    "plain_escape_time_expr",
]

#: Largest order accepted (the derivations are cheap; this only bounds silly requests).
MAX_DYNAMICS_ORDER = 30

#: Positive symbols of the predictions: target coefficient ``a``, initial coordinate ``x0``,
#: initial squared correlation ``u0``, initial norm ``δ0``, fit fraction ``q``.
A, X0, U0, DELTA0, Q = sp.symbols("a x0 u0 delta0 q", positive=True)
_T = sp.Symbol("t", nonnegative=True)
_HALF = sp.Rational(1, 2)


@typed_cache(maxsize=64)
def _plain_escape(l: int) -> sp.Expr:
    """Blow-up time of ``dx/dt = l a x^{l-1}``, ``x(0) = x0``, in the symbols ``A``, ``X0`` (via dsolve)."""
    x = sp.Function("x")
    ode = sp.Eq(x(_T).diff(_T), l * A * x(_T) ** (l - 1))
    # implicit separable form F(x(t)) = G(t) (one equation for every branch of the explicit solution)
    sol = sp.dsolve(ode, x(_T), hint="separable", simplify=False)
    X = sp.Symbol("X", positive=True)
    F = sol.lhs.subs(x(_T), X).doit()
    G = sol.rhs
    (C1,) = G.free_symbols - {A, _T}
    c1 = sp.solve(sp.Eq(F.subs(X, X0), G.subs(_T, 0)), C1)
    if len(c1) != 1:  # pragma: no cover - dsolve's output format changed
        raise RuntimeError(f"unexpected dsolve solution for l={l}: {sol}")
    G = G.subs(C1, c1[0])
    # x(t) -> +inf exactly when F(x(t)) reaches its limit F(+inf)
    t_star = sp.solve(sp.Eq(sp.limit(F, X, sp.oo), G), _T)
    if len(t_star) != 1:  # pragma: no cover
        raise RuntimeError(f"no unique blow-up time for l={l}: {t_star}")
    return sp.simplify(t_star[0])


def _sym(value: Any, name: str, default: sp.Symbol) -> sp.Expr:
    """``None`` -> the symbol; a sympy expression as is; a positive int/float -> Integer/Float."""
    if value is None:
        return default
    if isinstance(value, sp.Basic):
        return value
    x = check_positive(value, name)
    return sp.Integer(int(value)) if isinstance(value, int) else sp.Float(x)


def plain_escape_time_expr(a: Any = None, x0: Any = None, l: int = 3) -> sp.Expr:
    """Exact blow-up time ``t* = 1/(l(l-2) a x0^{l-2})`` of ``dx/dt = l a x^{l-1}`` (docs/math.md §6, plain model).

    Derived with ``sympy.dsolve`` (separable, implicit form), the integration constant fixed by
    ``x(0) = x0`` and ``t*`` solved from ``F(x(t*)) = F(+∞)``.

    Parameters
    ----------
    a, x0 : number, sympy expression or None
        Target coefficient and initial coordinate (``> 0``); ``None`` keeps the symbols :data:`A`,
        :data:`X0`.
    l : int
        Order, ``3 <= l <= MAX_DYNAMICS_ORDER`` (``l = 2`` has exponential growth and no blow-up).
    """
    l = check_order(l, "l", minimum=3, maximum=MAX_DYNAMICS_ORDER)
    return _plain_escape(l).subs({A: _sym(a, "a", A), X0: _sym(x0, "x0", X0)})


def plain_escape_time(a: float, x0: float, l: int) -> float:
    """``t* = 1/(l(l-2) a x0^{l-2})`` as a float; see :func:`plain_escape_time_expr`."""
    a = check_positive(a, "a")
    x0 = check_positive(x0, "x0")
    l = check_order(l, "l", minimum=3, maximum=MAX_DYNAMICS_ORDER)
    return float(_plain_escape(l).subs({A: a, X0: x0}))


@typed_cache(maxsize=64)
def homogeneous_alignment_time_expr(l: int) -> sp.Expr:
    """Alignment time ``1/(l(l-2) a u0^{(l-2)/2})`` in the symbols :data:`A`, :data:`U0` [derived].

    The early direction flow ``dw̄_k/dt ≈ l a w̄_k^{l-1}`` (docs/math.md §6, the ``Σ_j a_j w̄_j^l`` term
    dropped) is the plain model's equation; its blow-up time with ``w̄_k(0) = √u0``.
    """
    l = check_order(l, "l", minimum=3, maximum=MAX_DYNAMICS_ORDER)
    return sp.simplify(_plain_escape(l).subs(X0, sp.sqrt(U0)))


@typed_cache(maxsize=4)
def homogeneous_growth_time_expr(growth: str = "exponential") -> sp.Expr:
    """Time for the weight ``s = ||w||²`` of an aligned component to grow from ``δ0²`` to ``q·a``.

    ``growth="exponential"``: the linearised reduced ODE ``ds/dt = 4as`` (``s << a``), giving
    ``ln(q a/δ0²)/(4a)``; ``"logistic"``: the full reduced ODE ``ds/dt = 4s(a - s)``, giving
    ``ln(q(a - δ0²)/((1-q)δ0²))/(4a)``. Both solved with ``sympy.dsolve`` (``λ = 0``).
    """
    growth = check_choice(growth, "growth", ("exponential", "logistic"))
    s = sp.Function("s")
    rhs = 4 * A * s(_T) if growth == "exponential" else 4 * s(_T) * (A - s(_T))
    # implicit separable solution F(s(t)) = G(t); the time between two levels does not depend on C1
    sol = sp.dsolve(sp.Eq(s(_T).diff(_T), rhs), s(_T), hint="separable", simplify=False)
    Y = sp.Symbol("Y", positive=True)
    F = sol.lhs.subs(s(_T), Y).doit()
    t_end = sp.solve(sp.Eq(F.subs(Y, Q * A), sol.rhs), _T)
    t_start = sp.solve(sp.Eq(F.subs(Y, DELTA0**2), sol.rhs), _T)
    if len(t_end) != 1 or len(t_start) != 1:  # pragma: no cover - dsolve's output format changed
        raise RuntimeError(f"unexpected dsolve solution for growth={growth!r}: {sol}")
    # the result is log(R)/(4a) with R rational; exp(4a·t) removes the branch bookkeeping of logs
    ratio = sp.simplify(sp.exp(4 * A * (t_end[0] - t_start[0])))
    return sp.log(ratio) / (4 * A)


def homogeneous_fit_time_expr(
    a: Any = None,
    u0: Any = None,
    delta0: Any = None,
    l: int = 4,
    q: Any = _HALF,
    *,
    growth: str = "exponential",
) -> sp.Expr:
    """Fit time of the two-homogeneous model (docs/math.md §6): alignment time plus growth time.

    ``1/(l(l-2) a u0^{(l-2)/2}) + ln(q a/δ0²)/(4a)`` (``l = 4, q = ½``:
    ``1/(8 a u0) + ln(a/(2δ0²))/(4a)``). See the module docstring for the approximations.
    [model choice] two-homogeneous parametrisation, ``λ = 0``, no re-initialisation.

    Parameters
    ----------
    a, u0, delta0, q : number, sympy expression or None
        Target coefficient, initial squared correlation with ``e_k``, initial norm, fit fraction;
        ``None`` keeps the symbols :data:`A`, :data:`U0`, :data:`DELTA0`, :data:`Q`.
    l : int
        Order, ``3 <= l <= MAX_DYNAMICS_ORDER``.
    growth : {"exponential", "logistic"}
        Reduced weight ODE used for the growth phase.
    """
    expr = homogeneous_alignment_time_expr(l) + homogeneous_growth_time_expr(growth)
    subs = {
        A: _sym(a, "a", A),
        U0: _sym(u0, "u0", U0),
        DELTA0: _sym(delta0, "delta0", DELTA0),
        Q: _sym(q, "q", Q),
    }
    return expr.subs(subs)


def _check_growth_phase(a: float, delta0: Any, q: Any) -> tuple[float, float]:
    """``(δ0, q)`` validated for a growth phase: ``δ0 > 0``, ``0 < q < 1`` and ``δ0² < q·a``."""
    delta0 = check_positive(delta0, "delta0")
    q = check_positive(q, "q")
    if q >= 1:
        raise ValueError(f"q must be < 1, got {q!r}")
    if delta0**2 >= q * a:
        raise ValueError(
            f"delta0**2 must be < q*a for a growth phase, got delta0={delta0!r}, q={q!r}, a={a!r}"
        )
    return delta0, q


def homogeneous_fit_time(
    a: float, u0: float, delta0: float, l: int, q: float = 0.5, *, growth: str = "exponential"
) -> float:
    """Float value of :func:`homogeneous_fit_time_expr` (docs/math.md §6).

    Raises ``ValueError`` unless ``a > 0``, ``0 < u0 <= 1``, ``δ0 > 0``, ``0 < q < 1`` and
    ``δ0² < q·a`` (otherwise the component starts already grown and the formula does not apply).
    """
    a = check_positive(a, "a")
    u0 = check_positive(u0, "u0")
    if u0 > 1:
        raise ValueError(f"u0 (a squared correlation) must be <= 1, got {u0!r}")
    delta0, q = _check_growth_phase(a, delta0, q)
    expr = homogeneous_alignment_time_expr(l) + homogeneous_growth_time_expr(growth)
    value = float(expr.subs({A: a, U0: u0, DELTA0: delta0, Q: q}))
    if not math.isfinite(value):  # pragma: no cover
        raise ArithmeticError(f"non-finite fit time for a={a}, u0={u0}, delta0={delta0}, l={l}")
    return value


# ------------------------------------------------------------------------- next-order fit time
_V = sp.Symbol("v", positive=True)


@typed_cache(maxsize=64)
def homogeneous_lag_expr(l: int) -> sp.Expr:
    """Exact growth lag ``Λ_l(u0) = (2/l) ∫_{u0}^1 (v^{-l/2} - 1)/(1 - v) dv`` in the symbol :data:`U0`.

    docs/math.md §12.1 [derived]: one component in the reduced early dynamics of
    the two-homogeneous model (target ``a e^{⊗l}``, ``T(W)`` negligible) has ``u = <w̄, e>²`` and
    ``s = ||w||²`` with ``du/dt = 2la u^{l/2}(1-u)`` and ``ds/dt = 4a s u^{l/2}``, so
    ``ln s(t) = ln δ0² + 4a t - Λ_l(u0) + o(1)`` once aligned: ``Λ_l(u0)/(4a)`` replaces the
    alignment time ``1/(l(l-2) a u0^{(l-2)/2})`` of :func:`homogeneous_fit_time_expr`
    (``l = 4``: ``Λ = (1/u0 - 1 - ln u0)/2``). Integrated by sympy.
    """
    l = check_order(l, "l", minimum=3, maximum=MAX_DYNAMICS_ORDER)
    integrand = sp.cancel((_V ** sp.Rational(-l, 2) - 1) / (1 - _V))
    return sp.simplify(sp.Rational(2, l) * sp.integrate(integrand, (_V, U0, 1)))


@typed_cache(maxsize=64)
def _lag_function(l: int) -> Any:
    return sp.lambdify(U0, homogeneous_lag_expr(l), "math")


def homogeneous_fit_time_next(a: float, u0s: Any, delta0: float, l: int, q: float = 0.5) -> float:
    """Next-order fit time of direction ``k`` (docs/math.md §12.1) [derived].

    ``t_k = [ln(q a/((1-q) δ0²)) - ln Σ_i exp(-Λ_l(u_i))]/(4a)``: every component ``i`` that goes to
    ``e_k`` (initial squared correlations ``u0s``) grows like ``δ0² exp(4a t - Λ_l(u_i))``
    (:func:`homogeneous_lag_expr`), and their total weight ``S`` then follows the logistic law
    ``dS/dt = 4S(a - S)`` up to ``S = q a``. Its leading term in ``ln(1/δ0)`` is that of
    :func:`homogeneous_fit_time` (slope ``1/(2a)``); the constant term is exact for the reduced
    dynamics, so the additive prediction's error is ``δ0``-independent and its relative error decays
    like ``1/ln(1/δ0)``.

    Raises ``ValueError`` unless ``a > 0``, ``0 < δ0² < q a``, ``0 < q < 1`` and ``u0s`` is a
    non-empty sequence of values in ``(0, 1]``.
    """
    a = check_positive(a, "a")
    delta0, q = _check_growth_phase(a, delta0, q)
    us = [check_positive(u, "u0s") for u in u0s]
    if not us:
        raise ValueError("u0s must contain at least one initial squared correlation, got []")
    if any(u > 1 for u in us):
        raise ValueError(f"u0s (squared correlations) must be <= 1, got max {max(us)!r}")
    lag = _lag_function(check_order(l, "l", minimum=3, maximum=MAX_DYNAMICS_ORDER))
    lags = [float(lag(u)) if u < 1 else 0.0 for u in us]
    low = min(lags)
    log_sum = -low + math.log(sum(math.exp(low - x) for x in lags))
    return (math.log(q * a / ((1 - q) * delta0**2)) - log_sum) / (4 * a)


@typed_cache(maxsize=64)
def perpendicular_invariant_exponent(l: int) -> sp.Expr:
    """Exponent ``α`` with ``d/dt ln(||w||^α ||w_⊥||) = -l s`` for a component on ``e_k`` [derived].

    docs/math.md §12.2: single direction ``a e_k^{⊗l}`` plus the
    component's own term, two-homogeneous model, ``λ = 0``: ``d ln||w||/dt = 2(a c^l - s)`` and
    ``d ln||w_⊥||/dt = -2s - (l-2) a c^l`` (``c = <w̄, e_k>``, ``s = ||w||²``). ``α`` is solved by sympy
    from the requirement that ``a`` drops out; it equals ``(l-2)/2``. Hence
    ``sin∠(w, e_k) <= C (δ0²/s)^{l/4}`` with ``C >= 1`` the growth of the invariant before alignment.
    """
    l = check_order(l, "l", minimum=3, maximum=MAX_DYNAMICS_ORDER)
    alpha, a, c, s = sp.symbols("alpha a c s", real=True)
    rate = alpha * 2 * (a * c**l - s) + (-2 * s - (l - 2) * a * c**l)
    (sol,) = sp.solve(sp.diff(rate, a), alpha)
    if sp.simplify(rate.subs(alpha, sol) + l * s) != 0:  # pragma: no cover - algebra changed
        raise RuntimeError(f"invariant rate is not -l s for l={l}")
    return sp.nsimplify(sol)


# ------------------------------------------------------------------------- staircase plateau
@typed_cache(maxsize=4)
def plateau_time_expr() -> sp.Expr:
    """Time ``τ*`` after fit ``k`` where the residual of the two-exponential model is flattest.

    docs/math.md §12.3 [derived]: between fits ``k`` and ``k+1`` (gap ``G``),
    ``||E||² - D_k² ≈ X - Y`` with ``X = a_k² e^{-8a_k τ}`` (the fitted direction's logistic deficit,
    ``a_k - S_k ≈ a_k e^{-4a_k τ}``) and ``Y = a_{k+1}² e^{-4a_{k+1}(G - τ)}`` (the next direction's
    growth ``2a_{k+1}S_{k+1}``), two-homogeneous model, ``λ = 0``. ``τ*`` minimises the decay rate
    ``8a_k X + 4a_{k+1} Y``; solved by sympy in the symbols ``ak, an, G``.
    """
    ak, an, G, tau = sp.symbols("ak an G tau", positive=True)
    X = ak**2 * sp.exp(-8 * ak * tau)
    Y = an**2 * sp.exp(-4 * an * (G - tau))
    rate = 8 * ak * X + 4 * an * Y
    (sol,) = sp.solve(sp.Eq(sp.diff(rate, tau), 0), tau)
    return sp.simplify(sol)


@typed_cache(maxsize=1)
def _plateau_time_function() -> Any:
    ak, an, G = sp.symbols("ak an G", positive=True)
    return sp.lambdify((ak, an, G), plateau_time_expr(), "math")


def plateau_deviation(a_k: float, a_next: float, rest_sq: float, gap: float) -> float:
    """Predicted ``||E||/D_k - 1`` at the flattest point between fits ``k`` and ``k+1``.

    ``rest_sq = D_k² = Σ_{j>k} a_j²`` (the deflation residual squared), ``gap = t_{k+1} - t_k``;
    first order in ``(X - Y)/D_k²`` (:func:`plateau_time_expr`), ``τ*`` clamped to ``[0, gap]``.
    Raises ``ValueError`` unless every argument is positive.
    """
    a_k = check_positive(a_k, "a_k")
    a_next = check_positive(a_next, "a_next")
    rest_sq = check_positive(rest_sq, "rest_sq")
    gap = check_positive(gap, "gap")
    tau = float(_plateau_time_function()(a_k, a_next, gap))
    tau = min(max(tau, 0.0), gap)
    X = a_k**2 * math.exp(-8 * a_k * tau)
    Y = a_next**2 * math.exp(-4 * a_next * (gap - tau))
    return (X - Y) / (2 * rest_sq)
