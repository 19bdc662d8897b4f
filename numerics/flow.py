"""Gradient flow ``dW/dt = -∇f(W)`` on scipy's ODE solvers, and fixed-step gradient descent.

The flow drives a :class:`scipy.integrate.OdeSolver` step by step (as ``solve_ivp`` does) so that
observers see the state only at the requested times, through each step's dense output: summaries
(loss, per-component fits, norms) are recorded without storing every state. Terminal conditions —
loss below ``loss_tol``, a component norm above ``max_norm`` (divergence), a non-finite state (NaN),
user events — and solver failure end the run with a ``status`` and a ``message`` that say what
happened, when, and with which parameters.

Default method: ``"auto"`` — RK45 while the flow is not stiff, then (Dormand–Prince stiffness test)
SUNDIALS CVODE BDF with Newton–GMRES on Hessian-vector products (:mod:`numerics.stiff`). RK45 was chosen
by measurement for non-stiff flows: on the 5-component deflation problem (l=4, d=100, m=200,
two-homogeneous model, δ0=1e-3, ``a = (1, .8, .6, .4, .2)``, t in [0, 40], rtol=1e-6, atol=1e-9,
measured 2026-11-23 on the 2-core dev machine) the methods gave identical fit times (to 1e-3) with
RK45: 476 gradient evaluations, 0.6 s; RK23: 587, 0.8 s; DOP853: 689, 0.6 s; LSODA: 20,601, 68 s
(its finite-difference Jacobian costs m·d evaluations). CVODE for stiff ones (the plain model from
small initialisation, docs/math.md §6): README, Performance, "Stiff flows". ``benchmarks`` repeats
both comparisons.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.integrate import BDF, DOP853, LSODA, RK23, RK45, OdeSolver, Radau
from scipy.optimize import brentq

from ._validate import (
    as_float_array,
    check_choice,
    check_int,
    check_max_wall,
    check_order,
    check_real,
)
from .models import MODELS, _loss_and_grad, _PlainHessian, model_tensor, validate_problem
from .stiff import JACOBIANS, AutoStepper, CVODEStepper
from .tensors import Tensor

__all__ = [
    "METHODS",
    "Trajectory",
    "component_fits",
    "component_norms",
    "gradient_descent",
    "gradient_flow",
]

#: integrators of :func:`gradient_flow`: scipy's, SUNDIALS CVODE (BDF, Newton–GMRES) and ``"auto"``
METHODS: dict[str, Any] = {
    "auto": AutoStepper,
    "CVODE": CVODEStepper,
    "RK45": RK45,
    "RK23": RK23,
    "DOP853": DOP853,
    "LSODA": LSODA,
    "BDF": BDF,
    "Radau": Radau,
}

Observer = Callable[[float, np.ndarray], Any]
Event = Callable[[float, np.ndarray], float]

#: statuses that count as success (the run did what was asked)
SUCCESS_STATUSES = ("finished", "converged", "event")


@dataclass(frozen=True)
class Trajectory:
    """Result of :func:`gradient_flow` or :func:`gradient_descent`.

    Attributes
    ----------
    t : ndarray, shape (k,)
        Observation times.
    loss : ndarray, shape (k,)
        Loss at the observation times.
    observations : dict of str to ndarray
        Each observer's output stacked over the observation times (first axis ``k``).
    W : ndarray
        The final state (at ``t_final``).
    t_final : float
        Time the run ended (end of ``t_span``, a terminal event, or the failure time).
    nfev : int
        Gradient evaluations made by the integrator for the right-hand side (observers' loss
        evaluations and the difference quotients counted in ``nhvp`` not included).
    nsteps : int
        Accepted solver steps (descent: iterations).
    status : str
        ``"finished"`` (reached the end of the span), ``"converged"`` (loss <= ``loss_tol``),
        ``"event"`` (a terminal user event), ``"diverged"`` (a norm exceeded ``max_norm``),
        ``"nan"`` (non-finite state or loss), ``"failed"`` (solver failure), ``"max_steps"``,
        ``"max_wall"`` (the wall-time limit ``max_wall`` was reached).
    message : str
        What happened, when, and with which parameters.
    method : str
        Integrator name or ``"gd"``.
    t_events : dict of str to ndarray
        Times at which each user event crossed zero.
    nhvp : int
        Jacobian(Hessian)-vector products of the implicit solver's Newton–GMRES solves (0 for explicit
        methods); with ``jacobian="dq"`` each one costs one more gradient evaluation.
    switch_t : float or None
        ``method="auto"``: the time the flow was found stiff and CVODE took over (None: never).
    """

    t: np.ndarray
    loss: np.ndarray
    observations: dict[str, np.ndarray]
    W: np.ndarray
    t_final: float
    nfev: int
    nsteps: int
    status: str
    message: str
    method: str
    t_events: dict[str, np.ndarray] = field(default_factory=dict)
    nhvp: int = 0
    switch_t: float | None = None

    @property
    def success(self) -> bool:
        """True unless the run diverged, hit NaN, failed, or ran out of steps."""
        return self.status in SUCCESS_STATUSES


class _Recorder:
    """Collects (t, loss, observer outputs) at requested times."""

    def __init__(
        self, observe: Mapping[str, Observer], loss_fn: Callable[[np.ndarray], float]
    ) -> None:
        self.observe = observe
        self.loss_fn = loss_fn
        self.t: list[float] = []
        self.loss: list[float] = []
        self.obs: dict[str, list[Any]] = {k: [] for k in observe}

    def record(self, t: float, W: np.ndarray, loss: float | None = None) -> None:
        self.t.append(float(t))
        self.loss.append(float(self.loss_fn(W)) if loss is None else float(loss))
        for name, fn in self.observe.items():
            self.obs[name].append(np.asarray(fn(float(t), W)))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        obs = {k: np.array(v) for k, v in self.obs.items()}
        return np.array(self.t), np.array(self.loss), obs


def _check_observe(observe: Any) -> dict[str, Observer]:
    if observe is None:
        return {}
    if not isinstance(observe, Mapping):
        raise TypeError(
            f"observe must be a mapping name -> callable(t, W), got {type(observe).__name__}"
        )
    for k, fn in observe.items():
        if not isinstance(k, str) or not callable(fn):
            raise TypeError(f"observe[{k!r}] must be a callable(t, W) under a str key, got {fn!r}")
    return dict(observe)


def _check_events(events: Any) -> dict[str, Event]:
    if events is None:
        return {}
    if callable(events):
        events = {getattr(events, "__name__", "event"): events}
    if not isinstance(events, Mapping):
        raise TypeError(
            f"events must be a callable or a mapping name -> callable(t, W), got {events!r}"
        )
    for k, fn in events.items():
        if not callable(fn):
            raise TypeError(f"events[{k!r}] must be callable(t, W) -> float, got {fn!r}")
    return dict(events)


def _check_t_eval(t_eval: Any, t0: float, t1: float) -> np.ndarray | None:
    if t_eval is None:
        return None
    te = as_float_array(t_eval, "t_eval", ndim=1)
    if np.any(np.diff(te) <= 0):
        raise ValueError("t_eval must be strictly increasing")
    if te[0] < t0 or te[-1] > t1:
        raise ValueError(f"t_eval must lie within t_span=({t0}, {t1}), got [{te[0]}, {te[-1]}]")
    return te


def _check_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt


class _LazyDenseOutput:
    """The solver's dense output of its last step, built on the first call only.

    ``solver.dense_output()`` costs a ``(n, stages)·(stages, 4)`` product and an ``(n, 4)`` array; most
    steps (no observation, event crossing or terminal time inside them) never need it. Valid until
    the solver's next step.
    """

    def __init__(self, solver: OdeSolver) -> None:
        self.solver = solver
        self.sol: Any = None

    def __call__(self, t: float) -> np.ndarray:
        if self.sol is None:
            self.sol = self.solver.dense_output()
        return np.asarray(self.sol(t))


def _max_row_norm(W: np.ndarray) -> float:
    return float(np.sqrt(np.max(np.einsum("ij,ij->i", W, W))))


def gradient_flow(
    W0: Any,
    target: Tensor,
    t_span: tuple[float, float],
    *,
    model: str,
    reg: float = 0.0,
    method: str = "auto",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    events: Mapping[str, Event] | Event | None = None,
    observe: Mapping[str, Observer] | None = None,
    t_eval: Any = None,
    loss_tol: float | None = None,
    max_norm: float = 1e6,
    max_steps: int = 1_000_000,
    first_step: float | None = None,
    max_step: float = np.inf,
    dtype: type | np.dtype = np.float64,
    jacobian: str = "auto",
    precondition: bool = True,
    progress: bool = False,
    max_wall: float | None = None,
) -> Trajectory:
    """Integrate the gradient flow ``dW/dt = -∇f(W)`` of :func:`numerics.models.loss_and_grad`.

    Parameters
    ----------
    W0 : array_like
        Initial parameters (shape as in :func:`~numerics.models.loss_and_grad`).
    target : LowRankTensor or DenseTensor
        Tensor ``T*`` to fit.
    t_span : (float, float)
        ``(t0, t1)`` with ``t1 > t0``.
    model, reg
        Parametrisation and ℓ2 coefficient ``λ`` (docs/math.md §3).
    method : str
        A key of :data:`METHODS`: ``"auto"`` (default: RK45, switching for good to CVODE when the
        Dormand–Prince stiffness test fires, see :class:`numerics.stiff.AutoStepper`), ``"CVODE"``
        (SUNDIALS BDF with Newton–GMRES on Hessian-vector products; needs ``scikit-sundae``), or one
        of scipy's ``"RK45"``, ``"DOP853"``, ``"LSODA"``, ...
    rtol, atol : float
        Solver tolerances (positive).
    events : callable or mapping of str to callable(t, W) -> float
        User events, located by root finding on the dense output; terminal unless the callable
        has ``terminal = False``.
    observe : mapping of str to callable(t, W)
        Observers recorded (with the loss) at ``t_eval`` or, when ``t_eval`` is None, at ``t0`` and
        every accepted step.
    t_eval : array_like, optional
        Increasing observation times within ``t_span``.
    loss_tol : float, optional
        Stop with status ``"converged"`` once the loss is <= ``loss_tol``.
    max_norm : float
        Stop with status ``"diverged"`` once some row of ``W`` has norm > ``max_norm``.
    max_steps : int
        Stop with status ``"max_steps"`` after this many accepted steps.
    first_step, max_step : float
        Passed to the solver.
    dtype : {numpy.float64, numpy.float32}
        Precision of the gradient evaluations (the integrator itself runs in float64).
    jacobian : {"auto", "analytic", "dq"}
        Hessian-vector products of CVODE's Newton–GMRES solves: ``"analytic"`` (the plain model's Gram
        form, :func:`numerics.models.hessian_operator`, three ``O(m²d)`` products; plain model only) or
        ``"dq"`` (difference quotient: one gradient evaluation in ``dtype``). ``"auto"`` is ``"dq"``,
        measured faster (about twice cheaper per product, similar counts). Ignored by explicit methods.
    precondition : bool
        CVODE, plain model: precondition GMRES (left) with ``(I + γH_ii)⁻¹`` row by row, ``H_ii`` the
        Hessian's diagonal ``d×d`` block at a fitted row (``O(md)`` by Sherman–Morrison). Measured
        34–48% fewer evaluations (README, Performance, "Stiff flows"). Ignored otherwise.
    progress : bool
        Show a tqdm bar of flow time against ``t1`` with the loss, gradient evaluations and the number
        of crossings of each user event so far (e.g. fits written as non-terminal events).
    max_wall : float, optional
        Wall-time limit in seconds, counted from the call: stop with status ``"max_wall"`` once past
        it, checked after every solver step and after every observation (one step can cover
        millions of ``t_eval`` times); the state and observations so far are returned, and the run
        ends at its last observation or step.

    Returns
    -------
    Trajectory
    """
    wall_start = time.monotonic()
    W0, model, reg = validate_problem(W0, target, model, reg, name="W0")
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    try:
        t0, t1 = (check_real(v, "t_span") for v in t_span)
    except TypeError:
        raise TypeError(f"t_span must be a pair of real numbers (t0, t1), got {t_span!r}") from None
    except ValueError as exc:
        raise ValueError(f"t_span must be a pair of finite numbers, got {t_span!r}") from exc
    if not t1 > t0:
        raise ValueError(f"t_span must be non-empty with t1 > t0, got {t_span!r}")
    rtol = check_real(rtol, "rtol", minimum=0.0, strict=True)
    atol = check_real(atol, "atol", minimum=0.0, strict=True)
    max_norm = check_real(max_norm, "max_norm", minimum=0.0, strict=True)
    max_steps = check_int(max_steps, "max_steps")
    if loss_tol is not None:
        loss_tol = check_real(loss_tol, "loss_tol", minimum=0.0)
    if first_step is not None:
        first_step = check_real(first_step, "first_step", minimum=0.0, strict=True)
    if isinstance(max_step, bool) or not isinstance(max_step, numbers.Real):
        raise TypeError(f"max_step must be a real number, got {max_step!r}")
    max_step = float(max_step)
    if not max_step > 0:
        raise ValueError(f"max_step must be > 0, got {max_step!r}")
    work_dtype = _check_dtype(dtype)
    jacobian = check_choice(jacobian, "jacobian", ("auto", *JACOBIANS))
    if jacobian == "analytic" and model != "plain":
        raise ValueError(
            f"jacobian='analytic' (Gram-form Hessian) exists for model='plain' only, got "
            f"model={model!r}; use jacobian='dq' or 'auto'"
        )
    if jacobian == "auto":
        jacobian = "dq"  # measured faster than the Gram form: README, Performance, "Stiff flows"
    if not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    if not isinstance(precondition, bool | np.bool_):
        raise TypeError(f"precondition must be a bool, got {precondition!r}")
    max_wall = check_max_wall(max_wall)
    te = _check_t_eval(t_eval, t0, t1)
    observers = _check_observe(observe)
    user_events = _check_events(events)

    shape = W0.shape
    nfev = 0
    cache: dict[str, Any] = {"y": None, "loss": np.nan, "nonfinite_t": None}

    def fun(t: float, y: np.ndarray) -> np.ndarray:
        nonlocal nfev
        nfev += 1
        W = y.reshape(shape)
        if work_dtype != np.float64:
            W = W.astype(work_dtype)
        value, grad = _loss_and_grad(W, target, model, reg)
        cache["y"], cache["loss"] = y, value
        assert grad is not None
        if cache["nonfinite_t"] is None and not np.all(np.isfinite(grad)):
            cache["nonfinite_t"] = t  # the solver may recover (rejected trial step) or fail
        return np.negative(grad, dtype=np.float64).ravel()  # one pass, also for float32

    def loss_at(W: np.ndarray) -> float:
        return float(_loss_and_grad(W, target, model, reg, need_grad=False)[0])

    hessian: dict[str, Any] = {"y": None, "op": None}

    def jtimes(y: np.ndarray, v: np.ndarray) -> np.ndarray:
        # J = -∇²f at the Newton iterate y; the Gram powers are cached per iterate (GMRES asks
        # for many products at one y)
        if hessian["y"] is None or not np.array_equal(hessian["y"], y):
            hessian["y"] = y
            hessian["op"] = _PlainHessian(y.reshape(shape).astype(work_dtype), target, reg)
        hv = hessian["op"](v.reshape(shape).astype(work_dtype, copy=False))
        return np.negative(hv, dtype=np.float64).ravel()

    order = target.order

    def row_precond(y: np.ndarray) -> Callable[[np.ndarray, float], np.ndarray]:
        # (I + γ H_ii)⁻¹ row by row, H_ii ≈ l·||w_i||^{2(l-1)} I + l(l-1)·||w_i||^{2(l-2)} w_i w_iᵀ: the
        # plain model's diagonal Hessian blocks at a fitted row (exact there: the target term cancels
        # half the radial curvature), by Sherman–Morrison; O(md)
        W = y.reshape(shape)
        sq = np.einsum("ij,ij->i", W, W)
        a = order * sq ** (order - 1)
        b = order * (order - 1) * sq ** (order - 2)

        def solve(r: np.ndarray, gamma: float) -> np.ndarray:
            R = r.reshape(shape)
            inv = 1.0 / (1.0 + gamma * a)
            coef = gamma * b * inv / (1.0 + gamma * b * inv * sq)
            Z = R - (coef * np.einsum("ij,ij->i", W, R))[:, None] * W
            Z *= inv[:, None]
            return Z.ravel()

        return solve

    def make_cvode(t: float, y: np.ndarray, h: float | None) -> CVODEStepper:
        return CVODEStepper(
            fun,
            t,
            y,
            t1,
            rtol=rtol,
            atol=atol,
            max_step=max_step,
            first_step=h,
            jtimes=jtimes if jacobian == "analytic" else None,
            dq_eps=float(np.finfo(work_dtype).eps),
            precond=row_precond if (model == "plain" and precondition) else None,
        )

    def params() -> str:
        return (
            f"model={model!r}, reg={reg}, method={method!r}, rtol={rtol}, atol={atol}, "
            f"m={shape[0]}, d={target.dim}, order={target.order}"
        )

    rec = _Recorder(observers, loss_at)
    solver_kwargs: dict[str, Any] = {"rtol": rtol, "atol": atol, "max_step": max_step}
    if first_step is not None:
        solver_kwargs["first_step"] = first_step
    y0 = W0.astype(np.float64).ravel()
    with np.errstate(over="ignore", invalid="ignore"):
        # A non-finite initial gradient makes the solvers' initial-step selection produce a NaN
        # step, on which scipy's RK step loop never terminates: stop before building the solver.
        g0 = _loss_and_grad(W0.astype(work_dtype, copy=False), target, model, reg)[1]
        if not np.all(np.isfinite(g0)):
            if te is None or te[0] == t0:
                rec.record(t0, W0)
            t_arr, loss_arr, obs = rec.arrays()
            return Trajectory(
                t=t_arr,
                loss=loss_arr,
                observations=obs,
                W=np.array(W0),
                t_final=t0,
                nfev=0,
                nsteps=0,
                status="nan",
                message=(
                    f"gradient is non-finite at the initial state W0, t={t0:.6g} "
                    f"(max row norm {_max_row_norm(W0):.3g}; {params()})"
                ),
                method=method,
                t_events={k: np.array([]) for k in user_events},
            )
        solver: Any
        if method == "CVODE":
            solver = make_cvode(t0, y0, first_step)
        elif method == "auto":
            solver = AutoStepper(fun, t0, y0, t1, make_stiff=make_cvode, **solver_kwargs)
        else:
            solver = METHODS[method](fun, t0, y0, t1, **solver_kwargs)
        bar = _progress_bar(t0, t1, params()) if progress else None
        next_obs = 0
        if te is None:
            rec.record(t0, W0)
        ev_prev = {k: float(fn(t0, W0)) for k, fn in user_events.items()}
        t_events: dict[str, list[float]] = {k: [] for k in user_events}
        status, message, nsteps = "finished", "", 0
        W_end, t_end = W0, t0
        while True:
            msg = solver.step()
            if solver.status == "failed":
                status = "failed"
                message = f"solver failed at t={solver.t:.6g}: {msg} ({params()})"
                if cache["nonfinite_t"] is not None:
                    status = "nan"
                    message = (
                        f"gradient became non-finite (first at t={cache['nonfinite_t']:.6g}); "
                        f"then the {message}"
                    )
                W_end, t_end = solver.y.reshape(shape), solver.t
                break
            nsteps += 1
            t_new = solver.t
            y_new = solver.y
            W_new = y_new.reshape(shape)
            sol = _LazyDenseOutput(solver)  # built only if a point inside the step is needed
            stop_t = t_new
            if not np.all(np.isfinite(y_new)):
                status = "nan"
                message = f"state became non-finite at t={t_new:.6g} after {nfev} evaluations ({params()})"
            elif _max_row_norm(W_new) > max_norm:
                status = "diverged"
                message = (
                    f"a component norm exceeded max_norm={max_norm:g} at t={t_new:.6g} "
                    f"(max norm {_max_row_norm(W_new):.3g}; {params()})"
                )
            # user events: sign change across the step, located on the dense output
            terminal_hit: tuple[float, str] | None = None
            for k, fn in user_events.items():
                v = float(fn(t_new, W_new))
                if np.sign(v) != np.sign(ev_prev[k]) and np.isfinite(v) and ev_prev[k] != 0:
                    t_root = brentq(
                        lambda s, fn=fn, sol=sol: float(fn(s, sol(s).reshape(shape))),
                        solver.t_old,
                        t_new,
                        xtol=1e-12 * max(1.0, abs(t_new)),
                    )
                    t_events[k].append(t_root)
                    if getattr(fn, "terminal", True) and (
                        terminal_hit is None or t_root < terminal_hit[0]
                    ):
                        terminal_hit = (t_root, k)
                ev_prev[k] = v
            if terminal_hit is not None and status == "finished":
                status = "event"
                stop_t = terminal_hit[0]
                message = f"terminal event {terminal_hit[1]!r} at t={stop_t:.6g}"
            # observations within (t_old, stop_t]
            if status in ("finished", "event"):
                if te is None:
                    W_obs = W_new if stop_t == t_new else sol(stop_t).reshape(shape)
                    cached = (
                        cache["loss"]
                        if cache["y"] is y_new
                        or (cache["y"] is not None and np.array_equal(cache["y"], y_new))
                        else None
                    )
                    rec.record(stop_t, W_obs, cached if stop_t == t_new else None)
                else:
                    while next_obs < len(te) and te[next_obs] <= stop_t:
                        tk = te[next_obs]
                        W_obs = W_new if tk == t_new else sol(tk).reshape(shape)
                        rec.record(tk, W_obs)
                        next_obs += 1
                        more = next_obs < len(te) and te[next_obs] <= stop_t
                        if (
                            more
                            and max_wall is not None
                            and time.monotonic() - wall_start > max_wall
                        ):
                            status, stop_t = "max_wall", tk
                            message = (
                                f"stopped at t={tk:.6g} of {t1:g}: wall time exceeded max_wall="
                                f"{max_wall:g} s while recording observations ({next_obs} of "
                                f"{len(te)} recorded) after {nsteps} steps, {nfev} evaluations "
                                f"({params()})"
                            )
                            break
                if not np.isfinite(rec.loss[-1] if rec.loss else 0.0):
                    status = "nan"
                    message = f"loss became non-finite at t={stop_t:.6g} ({params()})"
            W_end = W_new if stop_t == t_new else sol(stop_t).reshape(shape)
            t_end = stop_t
            if status != "finished":
                break
            if loss_tol is not None:
                if cache["y"] is not None and np.array_equal(cache["y"], y_new):
                    current = float(cache["loss"])
                else:
                    current = loss_at(W_new)
                if current <= loss_tol:
                    status = "converged"
                    message = f"loss {current:.3g} <= loss_tol={loss_tol:g} at t={t_new:.6g}"
                    break
            if solver.status == "finished":
                message = f"reached t={t_new:.6g}"
                break
            if nsteps >= max_steps:
                status = "max_steps"
                message = f"stopped after max_steps={max_steps} steps at t={t_new:.6g} ({params()})"
                break
            if bar is not None:
                bar.update(t_new - t0 - bar.n)
                bar.set_postfix_str(_progress_postfix(cache["loss"], nfev, solver, t_events), False)
            if max_wall is not None and time.monotonic() - wall_start > max_wall:
                status = "max_wall"
                message = (
                    f"stopped at t={t_new:.6g} of {t1:g}: wall time exceeded max_wall={max_wall:g} s "
                    f"after {nsteps} steps, {nfev} evaluations ({params()})"
                )
                break
        if bar is not None:
            bar.update(t_end - t0 - bar.n)
            bar.set_postfix_str(_progress_postfix(cache["loss"], nfev, solver, t_events), False)
            bar.refresh()
            bar.close()
    nhvp = int(getattr(solver, "nhvp", 0))
    nfev -= int(getattr(solver, "dq_evals", 0))  # difference quotients are counted in nhvp
    switch_t = getattr(solver, "switch_t", None)
    if switch_t is not None and status in SUCCESS_STATUSES:
        message += f" (stiff from t={switch_t:.6g}: RK45 then CVODE)"
    t_arr, loss_arr, obs = rec.arrays()
    return Trajectory(
        t=t_arr,
        loss=loss_arr,
        observations=obs,
        W=np.array(W_end, dtype=W0.dtype),
        t_final=float(t_end),
        nfev=nfev,
        nsteps=nsteps,
        status=status,
        message=message,
        method=method,
        t_events={k: np.array(v) for k, v in t_events.items()},
        nhvp=nhvp,
        switch_t=None if switch_t is None else float(switch_t),
    )


def _progress_bar(t0: float, t1: float, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=t1 - t0,
        initial=0.0,
        desc="flow time",
        unit="",
        bar_format="{desc}: {percentage:3.0f}%|{bar}| t={n:.4g}/{total:.4g} [{elapsed}<{remaining}{postfix}]",
        leave=False,
    )


def _progress_postfix(
    loss: float, nfev: int, solver: Any, t_events: Mapping[str, list[float]]
) -> str:
    parts = [f"loss={loss:.3g}", f"nfev={nfev - int(getattr(solver, 'dq_evals', 0))}"]
    nhvp = getattr(solver, "nhvp", 0)
    if nhvp:
        parts.append(f"nhvp={nhvp}")
    if getattr(solver, "switch_t", None) is not None:
        parts.append("CVODE")
    parts.extend(f"{k}={len(v)}" for k, v in t_events.items())
    return ", ".join(parts)


def gradient_descent(
    W0: Any,
    target: Tensor,
    *,
    step: float,
    n_steps: int,
    model: str,
    reg: float = 0.0,
    observe: Mapping[str, Observer] | None = None,
    observe_every: int = 1,
    loss_tol: float | None = None,
    max_norm: float = 1e6,
    dtype: type | np.dtype = np.float64,
    max_wall: float | None = None,
) -> Trajectory:
    """Fixed-step gradient descent ``W ← W - η∇f(W)``, the discretisation the flow is compared with.

    Iteration ``k`` is reported at time ``t = kη`` so that trajectories are comparable with
    :func:`gradient_flow`.

    Parameters
    ----------
    W0, target, model, reg, observe, loss_tol, max_norm, dtype
        As in :func:`gradient_flow`.
    step : float
        Step size ``η > 0``.
    n_steps : int
        Number of iterations.
    observe_every : int
        Record the loss and observers every this many iterations (and at the end).
    max_wall : float, optional
        Wall-time limit in seconds: stop with status ``"max_wall"`` once exceeded (``None``: none).
    """
    W0, model, reg = validate_problem(W0, target, model, reg, name="W0")
    step = check_real(step, "step", minimum=0.0, strict=True)
    n_steps = check_int(n_steps, "n_steps")
    observe_every = check_int(observe_every, "observe_every")
    max_norm = check_real(max_norm, "max_norm", minimum=0.0, strict=True)
    if loss_tol is not None:
        loss_tol = check_real(loss_tol, "loss_tol", minimum=0.0)
    _check_dtype(dtype)
    max_wall = check_max_wall(max_wall)
    wall_start = time.monotonic()
    observers = _check_observe(observe)
    rec = _Recorder(observers, lambda W: float(_loss_and_grad(W, target, model, reg, False)[0]))
    W = W0.astype(dtype, copy=True)
    status, message = "finished", f"completed {n_steps} steps"
    k = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_steps + 1):
            value, grad = _loss_and_grad(W, target, model, reg)
            assert grad is not None
            if k % observe_every == 0 or k == n_steps:
                rec.record(k * step, W, float(value))
            if not (np.isfinite(value) and np.all(np.isfinite(grad))):
                status = "nan"
                message = f"non-finite loss or gradient at step {k} (t={k * step:.6g}, step={step:g}, model={model!r})"
                break
            if loss_tol is not None and value <= loss_tol:
                status = "converged"
                message = f"loss {value:.3g} <= loss_tol={loss_tol:g} at step {k}"
                if k % observe_every != 0:
                    rec.record(k * step, W, float(value))
                break
            if _max_row_norm(W) > max_norm:
                status = "diverged"
                message = f"a component norm exceeded max_norm={max_norm:g} at step {k} (step={step:g}, model={model!r})"
                break
            if k == n_steps:
                break
            if max_wall is not None and time.monotonic() - wall_start > max_wall:
                status = "max_wall"
                message = f"stopped after max_wall={max_wall:g} s at step {k} (step={step:g}, model={model!r})"
                if k % observe_every != 0:
                    rec.record(k * step, W, float(value))
                break
            W -= step * grad
    t_arr, loss_arr, obs = rec.arrays()
    return Trajectory(
        t=t_arr,
        loss=loss_arr,
        observations=obs,
        W=W,
        t_final=float(k * step),
        nfev=k + 1,
        nsteps=k,
        status=status,
        message=message,
        method="gd",
    )


def component_fits(directions: Any, order: int, *, model: str) -> Observer:
    """Observer of the fitted values ``T(W)(e_k^{⊗l})`` along the rows ``e_k`` of ``directions``."""
    E = as_float_array(directions, "directions", ndim=2)
    order = check_order(order)
    model = check_choice(model, "model", MODELS)

    def fits(t: float, W: np.ndarray) -> np.ndarray:
        return model_tensor(W, order, model=model).evaluate(E)

    return fits


def component_norms(t: float, W: np.ndarray) -> np.ndarray:
    """Observer of the row norms ``||w_i||``."""
    return np.sqrt(np.einsum("ij,ij->i", W, W))
