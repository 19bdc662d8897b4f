"""Per-component tracking of any trajectory: fit curves, fit times, fit order, deflation residuals.

For a target ``T* = Σ_k a_k e_k^{⊗l}`` (docs/math.md §1, §6) the *fit* of direction ``k`` at time ``t`` is
the weight the model has put on ``e_k``, read off the components themselves (:func:`attributed_weights`):
writing ``T(W) = Σ_i s_i x̄_i^{⊗l}`` with unit ``x̄_i`` (weight ``s_i = ||w_i||^l`` for the plain model,
``||w_i||²`` for the two-homogeneous one), every component is attributed to its nearest direction
``k(i) = argmax_k |<x̄_i, e_k>|`` and the fit of ``k`` is ``Σ_{i: k(i)=k} s_i sign(<x̄_i, e_k>)^l``
(a component near ``-e_k`` counts negatively for odd ``l``). Direction ``k`` is *fitted* once its fit
reaches a fraction ``q`` (default ½) of ``a_k``.
Paper 2 (Ge, Ren, Wang, Zhou 2021) observes that with small initialisation the directions are fitted
one at a time in decreasing order of ``a_k`` (a deflation process), and that between fits the residual
``||T(W) - T*||_F`` plateaus at the deflation residual ``||Σ_{j>k} a_j e_j^{⊗l}||_F`` (docs/math.md §6).

* :func:`track_components` analyses recorded fit curves of any trajectory (gradient flow, gradient
  descent, the modified flow of :mod:`.deflation`);
* :func:`tracking_observers` and :func:`fit_events` build the observers and events of
  :func:`numerics.flow.gradient_flow` that record those curves and locate the fit times exactly on the
  solver's dense output;
* :func:`track_flow` runs a flow with both and returns the :class:`ComponentTracking`;
* :func:`initial_alignment` gives ``u_0`` per direction, the input of the fit-time prediction.

For non-orthogonal targets (extension) ``e_k`` are the unit components and ``a_k`` the coefficients
of the target's unit form. The attribution does not depend on orthogonality: the projection
``T(W)(e_k^{⊗l})`` (still available as :func:`numerics.flow.component_fits`) would add the cross terms
``Σ_{j≠k} c_j <u_j, u_k>^l`` of the directions already fitted, which at coherence 0.5 make a direction
look fitted long before any component carries its weight.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import kendalltau

from .._validate import as_float_array, check_real
from ..flow import Trajectory, gradient_flow
from ..models import model_tensor
from ..tensors import LowRankTensor, distance

__all__ = [
    "ComponentTracking",
    "attributed_weights",
    "deflation_residuals",
    "fit_events",
    "initial_alignment",
    "residual_observer",
    "track_components",
    "track_flow",
    "tracking_observers",
]


@dataclass(frozen=True)
class ComponentTracking:
    """Per-direction fit curves of one trajectory and what they show (docs/math.md §6).

    Attributes
    ----------
    t : ndarray, shape (n,)
        Observation times.
    fits : ndarray, shape (n, r)
        Weight attributed to every direction (:func:`attributed_weights`) at the observation times.
    coeffs : ndarray, shape (r,)
        Target coefficients ``a_k``.
    q : float
        Fraction of ``a_k`` that counts as fitted.
    fit_times : ndarray, shape (r,)
        First time the fit of ``k`` reaches ``q·a_k`` (NaN when never): exact event times when
        given, else linear interpolation between the two observations that bracket the crossing.
    fit_order : ndarray of int
        Indices of the fitted directions sorted by fit time (unfitted ones left out).
    n_fitted : int
        Number of directions with a finite fit time.
    kendall_tau : float
        Kendall τ between the fit times and ``-a_k`` over the fitted directions: 1 means fitted
        in decreasing order of ``a_k``; NaN with fewer than two fitted directions.
    in_order : bool
        Every direction fitted, and the fit times strictly increase as ``a_k`` decreases
        (equal coefficients may be fitted in either order).
    residual : ndarray, shape (n,) or None
        ``||T(W(t)) - T*||_F`` at the observation times, when recorded.
    plateau_times : ndarray, shape (n_fitted,)
        For the j-th fit (in fit order), the observation time in ``[t_(j), t_(j+1)]`` (the last:
        ``[t_(j), t_end]``) where the residual changes slowest, ``|d ln||E||/dt|`` smallest — the
        plateau of the staircase. NaN when no residual was recorded or no observation lies inside.
    plateau_residuals : ndarray, shape (n_fitted,)
        The residual at ``plateau_times``.
    deflation_residual : ndarray, shape (n_fitted,)
        ``||T* - Σ_{i<=j} a_(i) e_(i)^{⊗l}||_F`` for the directions fitted so far (fit order), i.e.
        the residual of the best fit of those directions; for an orthogonal target with ``a``
        sorted, the deflation residual ``||Σ_{k>j} a_k e_k^{⊗l}||_F``.
    """

    t: np.ndarray
    fits: np.ndarray
    coeffs: np.ndarray
    q: float
    fit_times: np.ndarray
    fit_order: np.ndarray
    n_fitted: int
    kendall_tau: float
    in_order: bool
    residual: np.ndarray | None
    plateau_times: np.ndarray
    plateau_residuals: np.ndarray
    deflation_residual: np.ndarray

    @property
    def fractions(self) -> np.ndarray:
        """Fit curves (attributed weight over ``a_k``), shape (n, r)."""
        return self.fits / self.coeffs[None, :]


def _directions(target: LowRankTensor) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(target, LowRankTensor):
        raise TypeError(
            f"target must be a LowRankTensor (tracking needs its components), got {type(target).__name__}"
        )
    unit = target.unit_form()
    if unit.rank != target.rank:
        raise ValueError("target has a zero component; tracking needs non-zero components")
    return unit.components, unit.coeffs


def attributed_weights(W: Any, target: LowRankTensor, *, model: str) -> np.ndarray:
    """Weight of the model's components attributed to every target direction (docs/math.md §6).

    ``T(W) = Σ_i s_i x̄_i^{⊗l}`` with unit ``x̄_i`` (:func:`numerics.models.model_tensor`, unit form:
    ``s_i = ||w_i||^l`` for ``"plain"``, ``||w_i||²`` for ``"homogeneous"``, ``c_i ||u_i||^l`` for
    ``"coefficient"``). Each component goes to its nearest target direction
    ``k(i) = argmax_k |<x̄_i, u_k>|`` (first on ties) and contributes ``s_i sign(<x̄_i, u_k(i)>)^l``.

    Parameters
    ----------
    W : array_like, shape (m, d) (``(m, d+1)`` for ``"coefficient"``)
        Parameters.
    target : LowRankTensor
        Target; its unit components ``u_k`` are the directions.
    model : {"plain", "coefficient", "homogeneous"}

    For ``l = 2`` (matrices) the components are not identifiable — ``T(W) = WᵀW`` (plain and
    two-homogeneous alike) is unchanged by any rotation of the rows of ``W`` — and the attributed
    weights are instead the least-squares coefficients of ``T(W)`` on the ``u_k u_kᵀ``:
    ``G⁻¹ [T(W)(u_k, u_k)]_k`` with ``G = (U Uᵀ)^{∘2}`` (for an orthogonal target, ``T(W)(e_k, e_k)``).

    Returns
    -------
    ndarray, shape (r,)
        Attributed weight of every direction, in the order of the target's (unit-form) terms. For
        ``W`` made of the target's own terms it returns their coefficients exactly, whatever the
        coherence of the target.
    """
    E, _ = _directions(target)
    return _attribute(W, E, target.order, model)


def _attribute(W: Any, E: np.ndarray, order: int, model: str) -> np.ndarray:
    if order == 2:
        # W^T W is invariant under rotations of W's rows: components are not identifiable, so the
        # weights are the least-squares coefficients of T(W) on the u_k u_k^T (Gram (U U^T)^{∘2})
        gram = (E @ E.T) ** 2
        return np.linalg.solve(gram, model_tensor(W, order, model=model).evaluate(E))
    out = np.zeros(E.shape[0])
    tensor = model_tensor(W, order, model=model)
    if not np.any(tensor.components):
        return out  # every component has shrunk to zero (e.g. under a strong regulariser)
    unit = tensor.unit_form()
    corr = unit.components @ E.T
    nearest = np.argmax(np.abs(corr), axis=1)
    sign = np.sign(corr[np.arange(nearest.shape[0]), nearest]) ** order
    np.add.at(out, nearest, unit.coeffs * sign)
    return out


def residual_observer(target: LowRankTensor, model: str) -> Callable[[float, np.ndarray], float]:
    """Observer of ``||T(W) - T*||_F`` by the Gram identity (docs/math.md §2), cost ``O((m + r) m d)``."""
    order = target.order

    def residual(t: float, W: np.ndarray) -> float:
        return distance(model_tensor(W, order, model=model), target)

    return residual


def tracking_observers(target: LowRankTensor, model: str) -> dict[str, Callable[..., Any]]:
    """Observers ``{"fits": attributed weight of every direction, "residual": ||T(W) - T*||_F}``.

    ``fits`` is :func:`attributed_weights`; both are observers of :func:`numerics.flow.gradient_flow`.
    """
    E, _ = _directions(target)
    order = target.order

    def fits(t: float, W: np.ndarray) -> np.ndarray:
        return _attribute(W, E, order, model)

    return {"fits": fits, "residual": residual_observer(target, model)}


def fit_events(
    target: LowRankTensor, model: str, q: float = 0.5
) -> dict[str, Callable[[float, np.ndarray], float]]:
    """Non-terminal events ``fit_k(W) - q·a_k`` (keys ``"fit0"``, ``"fit1"``, ...).

    ``fit_k`` is the weight attributed to direction ``k`` (:func:`attributed_weights`).
    :func:`numerics.flow.gradient_flow` locates their zeros by root finding on the dense output, so
    the first upward crossing is the fit time of direction ``k`` to solver accuracy (the attributed
    weight jumps when a small component changes its nearest direction; such jumps are of the size of
    that component's weight, ``O(δ0²)`` before its growth).
    """
    q = check_real(q, "q", minimum=0.0, strict=True, maximum=1.0)
    E, a = _directions(target)
    order = target.order
    events: dict[str, Callable[[float, np.ndarray], float]] = {}
    for k in range(a.shape[0]):

        def ev(t: float, W: np.ndarray, k: int = k) -> float:
            return float(_attribute(W, E, order, model)[k]) - q * a[k]

        ev.terminal = False  # type: ignore[attr-defined]
        events[f"fit{k}"] = ev
    return events


def _first_crossing(t: np.ndarray, y: np.ndarray, level: float) -> float:
    """First time ``y`` reaches ``level`` from below, linearly interpolated; NaN if never."""
    above = y >= level
    if not np.any(above):
        return float("nan")
    i = int(np.argmax(above))
    if i == 0:
        return float(t[0])
    y0, y1 = y[i - 1], y[i]
    frac = (level - y0) / (y1 - y0) if y1 != y0 else 1.0
    return float(t[i - 1] + frac * (t[i] - t[i - 1]))


def deflation_residuals(
    coeffs: Any, order_of_fit: Any, target: LowRankTensor | None = None
) -> np.ndarray:
    """``||T* - Σ_{i<=j} a_(i) e_(i)^{⊗l}||_F`` for ``j = 1..len(order_of_fit)``.

    With ``target`` None the components are taken orthonormal: the value is
    ``sqrt(Σ_{k not yet fitted} a_k²)`` (docs/math.md §6 deflation residual). With a low-rank ``target`` the
    residual of removing the fitted terms is computed in Gram form (non-orthogonal extension).
    """
    a = as_float_array(coeffs, "coeffs", ndim=1)
    idx = np.asarray(order_of_fit, dtype=int)
    out = np.empty(idx.shape[0])
    remaining = np.ones(a.shape[0], dtype=bool)
    for j, k in enumerate(idx):
        remaining[k] = False
        if target is None:
            out[j] = float(np.sqrt(np.sum(a[remaining] ** 2)))
        else:
            unit = target.unit_form()
            if not np.any(remaining):
                out[j] = 0.0
            else:
                rest = LowRankTensor(unit.coeffs[remaining], unit.components[remaining], unit.order)
                out[j] = rest.norm()
    return out


def track_components(
    t: Any,
    fits: Any,
    coeffs: Any,
    *,
    q: float = 0.5,
    residual: Any = None,
    event_times: Mapping[str, Any] | None = None,
    target: LowRankTensor | None = None,
) -> ComponentTracking:
    """Analyse recorded fit curves (attributed weights) of any trajectory (docs/math.md §6).

    Parameters
    ----------
    t : array_like, shape (n,)
        Increasing observation times.
    fits : array_like, shape (n, r)
        Fit of every target direction at those times (:func:`attributed_weights`, or any other
        fit curve: the analysis only reads the curves).
    coeffs : array_like, shape (r,)
        Target coefficients ``a_k > 0``.
    q : float
        Fitted fraction, ``0 < q <= 1`` (default ½ as in docs/math.md §6).
    residual : array_like, shape (n,), optional
        ``||T(W(t)) - T*||_F`` at the observation times (for the staircase).
    event_times : mapping, optional
        ``Trajectory.t_events`` of a flow run with :func:`fit_events` (keys ``"fit{k}"``); their first
        entries replace the interpolated fit times.
    target : LowRankTensor, optional
        For non-orthogonal targets: deflation residuals computed from the target's terms (Gram form)
        instead of ``sqrt(Σ a_k²)`` over the unfitted ones.

    Returns
    -------
    ComponentTracking
    """
    q = check_real(q, "q", minimum=0.0, strict=True, maximum=1.0)
    t = as_float_array(t, "t", ndim=1)
    if np.any(np.diff(t) < 0):
        raise ValueError("t must be non-decreasing")
    fits = as_float_array(fits, "fits", ndim=2)
    if fits.shape[0] != t.shape[0]:
        raise ValueError(
            f"fits must have one row per time in t: fits has shape {fits.shape}, t has "
            f"{t.shape[0]} times"
        )
    a = as_float_array(coeffs, "coeffs", shape=(fits.shape[1],))
    if np.any(a <= 0):
        raise ValueError(f"coeffs must be positive, got {a.tolist()}")
    res = None if residual is None else as_float_array(residual, "residual", shape=(t.shape[0],))

    r = a.shape[0]
    fit_times = np.array([_first_crossing(t, fits[:, k], q * a[k]) for k in range(r)])
    if event_times is not None:
        for k in range(r):
            ev = np.asarray(event_times.get(f"fit{k}", ()), dtype=float)
            if ev.size and fits[0, k] < q * a[k]:
                fit_times[k] = float(ev[0])
    fitted = np.flatnonzero(np.isfinite(fit_times))
    fit_order = fitted[np.argsort(fit_times[fitted], kind="stable")]
    n_fitted = int(fitted.size)
    if n_fitted >= 2:
        tau = float(kendalltau(fit_times[fitted], -a[fitted]).statistic)
    else:
        tau = float("nan")
    in_order = n_fitted == r and all(
        (fit_times[i] < fit_times[j]) if a[i] > a[j] else True
        for i in range(r)
        for j in range(r)
        if i != j
    )

    plateau_t = np.full(n_fitted, np.nan)
    plateau_r = np.full(n_fitted, np.nan)
    if res is not None and t.shape[0] >= 3:
        log_res = np.log(np.maximum(res, 1e-300))
        rate = np.abs(np.gradient(log_res, t))
        for j, k in enumerate(fit_order):
            lo = fit_times[k]
            hi = fit_times[fit_order[j + 1]] if j + 1 < n_fitted else t[-1]
            inside = np.flatnonzero((t > lo) & (t < hi))
            if inside.size:
                i = inside[np.argmin(rate[inside])]
                plateau_t[j], plateau_r[j] = t[i], res[i]
    defl = deflation_residuals(a, fit_order, target)
    return ComponentTracking(
        t=t,
        fits=fits,
        coeffs=a,
        q=q,
        fit_times=fit_times,
        fit_order=fit_order,
        n_fitted=n_fitted,
        kendall_tau=tau,
        in_order=bool(in_order),
        residual=res,
        plateau_times=plateau_t,
        plateau_residuals=plateau_r,
        deflation_residual=defl,
    )


def initial_alignment(W0: Any, target: LowRankTensor, *, model: str) -> np.ndarray:
    """``u_0`` per target direction: the input of the fit-time prediction (docs/math.md §6).

    Each component ``w_i`` is assigned to the direction that wins its early direction flow, the ``k``
    maximising ``a_k <w̄_i, e_k>^{l-2}`` (for odd ``l`` only positive correlations grow);
    ``u_0[k]`` is the largest initial squared correlation ``<w̄_i, e_k>²`` among the components
    assigned to ``k`` (NaN when none is). For ``l = 2`` every component feeds every direction and
    ``u_0[k] = max_i <w̄_i, e_k>²``.
    """
    W0 = as_float_array(W0, "W0", ndim=2)
    E, a = _directions(target)
    if W0.shape[1] != E.shape[1]:
        raise ValueError(f"W0 must have {E.shape[1]} columns, got shape {W0.shape}")
    n = np.linalg.norm(W0, axis=1)
    if np.any(n == 0):
        raise ValueError("W0 has a zero row; its direction is undefined")
    corr = (W0 / n[:, None]) @ E.T
    order = target.order
    u = corr**2
    if order == 2:
        return u.max(axis=0)
    score = a[None, :] * corr ** (order - 2)
    winner = np.argmax(score, axis=1)
    out = np.full(a.shape[0], np.nan)
    for k in range(a.shape[0]):
        mine = (winner == k) & (score[np.arange(W0.shape[0]), winner] > 0)
        if np.any(mine):
            out[k] = float(u[mine, k].max())
    return out


def track_flow(
    W0: Any,
    target: LowRankTensor,
    t_span: tuple[float, float],
    *,
    model: str,
    reg: float = 0.0,
    q: float = 0.5,
    n_obs: int = 401,
    exact_fit_times: bool = True,
    **flow_kwargs: Any,
) -> tuple[ComponentTracking, Trajectory]:
    """Run :func:`numerics.flow.gradient_flow` and track every target direction.

    Fits and residual are observed on ``n_obs`` equally spaced times; with ``exact_fit_times`` the
    fit times come from :func:`fit_events` (root finding on the dense output), otherwise from linear
    interpolation on the observation grid. Remaining keyword arguments go to ``gradient_flow``.

    Returns
    -------
    (ComponentTracking, Trajectory)
        A run stopped by ``max_wall`` is returned with ``Trajectory.status == "max_wall"`` and the
        tracking of the times it reached; any other unsuccessful run raises ``RuntimeError`` with the
        flow's message.
    """
    from .._validate import MAX_OBSERVATIONS, check_bool, check_int

    n_obs = check_int(n_obs, "n_obs", minimum=3, maximum=MAX_OBSERVATIONS)
    exact_fit_times = check_bool(exact_fit_times, "exact_fit_times")
    _directions(target)
    try:
        t0, t1 = (check_real(v, "t_span") for v in t_span)
    except (TypeError, ValueError):
        raise TypeError(f"t_span must be a pair of real numbers (t0, t1), got {t_span!r}") from None
    observers = tracking_observers(target, model)
    events = fit_events(target, model, q) if exact_fit_times else None
    traj = gradient_flow(
        W0,
        target,
        t_span,
        model=model,
        reg=reg,
        observe=observers,
        events=events,
        t_eval=np.linspace(t0, t1, n_obs),
        **flow_kwargs,
    )
    if not traj.success and traj.status != "max_wall":
        raise RuntimeError(f"gradient flow did not finish: {traj.message}")
    _, a = _directions(target)
    tracking = track_components(
        traj.t,
        traj.observations["fits"],
        a,
        q=q,
        residual=traj.observations["residual"],
        event_times=traj.t_events if exact_fit_times else None,
        target=None if target.is_orthogonal() else target,
    )
    return tracking, traj
