"""Nonlinear training of the plain model in the lazy scaling (docs/math.md §4, lazy scaling).

Chizat–Oyallon–Bach's centred, scaled objective for the plain model ``T(W) = Σ_i w_i^{⊗l}``:

    F_α(W) = (1/(2α²))·||α(T(W) − T(W0)) − T*||²,

whose model output ``f_α(W) = α(T(W) − T(W0))`` starts at 0. Its gradient is
``∇F_α(W) = (1/α)·J(W)ᵀ(f_α − T*)``, so ``df_α/dt = −J Jᵀ(f_α − T*) + O(1/α)``: the output moves at a
speed independent of ``α`` while the parameters move only ``O(1/α)`` — the lazy regime. As ``α → ∞`` the
output follows the linearised flow of :func:`numerics.lazy.linearized_flow` (``include_offset=False``),
whose limit is the tangent projection of ``T*``: the residual tends to the lazy residual of
:func:`numerics.lazy.lazy_residual` (0 above the lazy threshold ``m ≈ D(d,l)/d``, positive below it).

``F_α`` equals the plain loss towards the shifted target ``T(W0) + T*/α`` (rank ``m + r``), so the runs
here are :func:`numerics.flow.gradient_flow` / :func:`numerics.flow.gradient_descent` on that target; no
``d^l`` array is formed. Derivations: docs/math.md §9.2–9.3.

Public API (stable; other modules build on it)
----------------------------------------------
:func:`lazy_training_flow` ``(W0, target, alpha, t_end, *, t_eval=None, method="RK45", rtol=1e-9,
atol=1e-12, residual_tol=None, max_steps=1_000_000, max_wall=None) -> LazyTraining``
    Gradient flow ``dW/dt = −∇F_α(W)`` on ``[0, t_end]``.
:func:`lazy_training_descent` ``(W0, target, alpha, *, step, n_steps, observe_every=1,
residual_tol=None, max_wall=None) -> LazyTraining``
    Gradient descent ``W ← W − η∇F_α(W)``; iteration ``k`` is reported at ``t = kη``.
:class:`LazyTraining`
    ``t``, ``residual`` (``||f_α − T*||²/||T*||²``, the convention of ``LazyResult.residual``),
    ``relative_error`` (``||f_α − T*||/||T*||``, the convention of the beyond-lazy algorithms),
    ``movement`` (``||W(t) − W0||_F / ||W0||_F``), ``W`` (final state), ``alpha``, ``nfev``, ``nsteps``,
    ``status``, ``message``, ``method``; ``success``; ``final_residual``, ``final_relative_error``,
    ``max_movement``.
:func:`scaled_residual` ``(W, W0, target, alpha) -> float``
    ``||α(T(W) − T(W0)) − T*||² / ||T*||²`` in a cancellation-free Gram form.
:func:`stable_step` ``(W0, order) -> float``
    ``2/λ_max(K(W0))``: gradient descent on ``F_α`` is stable near ``W0`` for steps below it (the
    Hessian of ``F_α`` at ``W0`` is ``K(W0) + O(1/α)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse.linalg import eigsh

from ._validate import as_float_array, check_int, check_order, check_real
from .flow import METHODS, Trajectory, gradient_descent, gradient_flow
from .lazy import _check_target, _kernel_operator
from .tensors import LowRankTensor, int_power

__all__ = [
    "LazyTraining",
    "lazy_training_descent",
    "lazy_training_flow",
    "scaled_residual",
    "stable_step",
]


@dataclass(frozen=True)
class LazyTraining:
    """Trajectory of nonlinear training in the lazy scaling (:func:`lazy_training_flow`, ...).

    Attributes
    ----------
    t : ndarray, shape (k,)
        Observation times (descent: ``k·step``).
    residual : ndarray, shape (k,)
        ``||α(T(W(t)) − T(W0)) − T*||² / ||T*||²`` (relative squared residual, as
        :attr:`numerics.lazy.LazyResult.residual`); starts at 1.
    relative_error : ndarray, shape (k,)
        ``sqrt(residual)``: ``||f_α − T*||_F / ||T*||_F``.
    movement : ndarray, shape (k,)
        Relative parameter movement ``||W(t) − W0||_F / ||W0||_F``.
    W : ndarray, shape (m, d)
        The final state.
    alpha : float
        Output scale ``α``.
    nfev : int
        Gradient evaluations.
    nsteps : int
        Accepted integrator steps (descent: iterations).
    status : str
        As :attr:`numerics.flow.Trajectory.status` (``"finished"``, ``"converged"`` when ``residual_tol``
        was reached, ``"diverged"``, ``"nan"``, ``"failed"``, ``"max_steps"``, ``"max_wall"``).
    message : str
        What happened, with the parameters.
    method : str
        Integrator name or ``"gd"``.
    """

    t: np.ndarray
    residual: np.ndarray
    relative_error: np.ndarray
    movement: np.ndarray
    W: np.ndarray
    alpha: float
    nfev: int
    nsteps: int
    status: str
    message: str
    method: str

    @property
    def success(self) -> bool:
        """True unless the run diverged, hit NaN, failed or ran out of steps."""
        return self.status in ("finished", "converged", "event")

    @property
    def final_residual(self) -> float:
        return float(self.residual[-1])

    @property
    def final_relative_error(self) -> float:
        return float(self.relative_error[-1])

    @property
    def max_movement(self) -> float:
        return float(np.max(self.movement))


# ------------------------------------------------------------------------------------- validation
def _check_inputs(W0: Any, target: Any, alpha: Any) -> tuple[np.ndarray, LowRankTensor, float]:
    W0 = as_float_array(W0, "W0", ndim=2)
    if not isinstance(target, LowRankTensor):
        raise TypeError(
            f"target must be a LowRankTensor (the lazy scaling is run in Gram form, no d^l array), "
            f"got {type(target).__name__}"
        )
    _check_target(W0, target)  # dimension and a nonzero norm, as numerics.lazy checks them
    if not np.linalg.norm(W0) > 0:
        raise ValueError("W0 must be nonzero (the movement is relative to ||W0||_F)")
    alpha = check_real(alpha, "alpha", minimum=0.0, strict=True)
    return W0, target, alpha


def _shifted_target(W0: np.ndarray, target: LowRankTensor, alpha: float) -> LowRankTensor:
    """``T(W0) + T*/α``: ``F_α`` is the plain loss towards it (docs/math.md §4)."""
    return LowRankTensor(
        np.concatenate([np.ones(W0.shape[0]), target.coeffs / alpha]),
        np.vstack([W0, target.components]),
        target.order,
    )


# ------------------------------------------------------------------------------------- residual
def _diff_power_sum(x: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
    """``Σ_{s=0}^{n-1} x^s y^{n-1-s}`` elementwise, so that ``x^n − y^n = (x − y)·(this)``."""
    out = np.zeros_like(x)
    for s in range(n):
        out += int_power(x, s) * int_power(y, n - 1 - s)
    return out


def _delta_gram(W: np.ndarray, W0: np.ndarray, order: int) -> float:
    """``||T(W) − T(W0)||²`` without cancellation (docs/math.md §2).

    ``w^{⊗l} − v^{⊗l} = Σ_{k<l} w^{⊗k} ⊗ δ ⊗ v^{⊗(l-1-k)}`` with ``δ = w − v`` (telescoping), so the inner
    product of two such differences is a sum over slot patterns of products of Gram entries of
    ``{w, δ, v}``; every term is ``O(|δ_i||δ_j|)``, computed to relative rounding.
    """
    Dl = W - W0
    rows = {"w": W, "d": Dl, "v": W0}
    gram = {(a, b): rows[a] @ rows[b].T for a in rows for b in rows}
    total = 0.0
    for k in range(order):
        slots1 = ["w"] * k + ["d"] + ["v"] * (order - 1 - k)
        for k2 in range(order):
            slots2 = ["w"] * k2 + ["d"] + ["v"] * (order - 1 - k2)
            counts: dict[tuple[str, str], int] = {}
            for a, b in zip(slots1, slots2, strict=True):
                counts[(a, b)] = counts.get((a, b), 0) + 1
            prod = np.ones((W.shape[0], W.shape[0]))
            for key, c in counts.items():
                prod *= int_power(gram[key], c)
            total += float(prod.sum())
    return max(total, 0.0)


def scaled_residual(W: Any, W0: Any, target: LowRankTensor, alpha: float) -> float:
    """``||α(T(W) − T(W0)) − T*||² / ||T*||²``, the residual of the lazy-scaled output (docs/math.md §4).

    Expanded as ``α²||ΔT||² − 2α<ΔT, T*> + ||T*||²`` with ``ΔT = T(W) − T(W0)``, where ``||ΔT||²`` and
    ``<ΔT, T*>`` are computed from ``W − W0`` directly (differences of powers factored), so the result is
    accurate to rounding relative to ``||T*||²`` even when ``α`` is large and ``W`` is close to ``W0``.

    Parameters
    ----------
    W, W0 : array_like, shape (m, d)
    target : LowRankTensor
        Nonzero ``T*``.
    alpha : float
        ``α > 0``.
    """
    W0, target, alpha = _check_inputs(W0, target, alpha)
    W = as_float_array(W, "W", shape=W0.shape)
    return _scaled_residual(W, W0, target, alpha)


def _scaled_residual(W: np.ndarray, W0: np.ndarray, target: LowRankTensor, alpha: float) -> float:
    order = target.order
    U, c = target.components, target.coeffs
    t_sq = float(target.squared_norm)
    dT_sq = _delta_gram(W, W0, order)
    x, y = W @ U.T, W0 @ U.T  # (m, r)
    cross = float(np.sum(((W - W0) @ U.T) * _diff_power_sum(x, y, order) * c[None, :]))
    value = alpha * alpha * dT_sq - 2.0 * alpha * cross + t_sq
    return max(value, 0.0) / t_sq


# ------------------------------------------------------------------------------------- runs
def _result(
    traj: Trajectory, W0: np.ndarray, target: LowRankTensor, alpha: float, what: str
) -> LazyTraining:
    Ws = traj.observations["W"]
    w0_norm = float(np.linalg.norm(W0))
    res = np.array([_scaled_residual(W, W0, target, alpha) for W in Ws])
    mov = np.array([float(np.linalg.norm(W - W0)) / w0_norm for W in Ws])
    status, message = traj.status, traj.message
    if status in ("finished", "converged") and not (
        np.all(np.isfinite(res)) and np.all(np.isfinite(mov))
    ):
        status, message = "nan", f"non-finite residual or movement ({message})"
    m, d = W0.shape
    message = f"{message} [{what}, alpha={alpha:g}, m={m}, d={d}, order={target.order}]"
    return LazyTraining(
        t=np.asarray(traj.t, dtype=float),
        residual=res,
        relative_error=np.sqrt(res),
        movement=mov,
        W=np.array(traj.W, dtype=np.float64),
        alpha=alpha,
        nfev=int(traj.nfev),
        nsteps=int(traj.nsteps),
        status=status,
        message=message,
        method=traj.method,
    )


def _loss_tol(residual_tol: float | None, target: LowRankTensor, alpha: float) -> float | None:
    """``F_α = residual·||T*||²/(2α²)``: the plain loss at which the residual equals ``residual_tol``."""
    if residual_tol is None:
        return None
    residual_tol = check_real(residual_tol, "residual_tol", minimum=0.0, strict=True)
    return residual_tol * float(target.squared_norm) / (2.0 * alpha * alpha)


def _snapshot(t: float, W: np.ndarray) -> np.ndarray:
    return np.array(W, dtype=np.float64, copy=True)


def lazy_training_flow(
    W0: Any,
    target: LowRankTensor,
    alpha: float,
    t_end: float,
    *,
    t_eval: Any = None,
    method: str = "RK45",
    rtol: float = 1e-9,
    atol: float = 1e-12,
    residual_tol: float | None = None,
    max_steps: int = 1_000_000,
    max_wall: float | None = None,
) -> LazyTraining:
    """Gradient flow of ``F_α(W) = ||α(T(W) − T(W0)) − T*||²/(2α²)`` from ``W0`` (docs/math.md §4).

    The flow of the plain model towards ``T(W0) + T*/α`` (:func:`numerics.flow.gradient_flow`); the
    output ``α(T(W) − T(W0))`` follows the linearised flow up to ``O(1/α)`` and the parameters move
    ``O(1/α)``. Its time scale does not depend on ``α``.

    Parameters
    ----------
    W0 : array_like, shape (m, d)
        Initialisation (nonzero).
    target : LowRankTensor
        Nonzero ``T*`` (Gram form; a dense target is refused).
    alpha : float
        Output scale ``α > 0``.
    t_end : float
        Horizon ``> 0``.
    t_eval : array_like, optional
        Increasing observation times in ``[0, t_end]`` (default: 51 equally spaced).
    method, rtol, atol, max_steps
        Passed to :func:`numerics.flow.gradient_flow`. ``W`` moves ``O(1/α)`` from ``W0`` and the output
        error is ``α`` times the state error, so tolerances must be tighter for large ``α``: the
        defaults keep the output error near ``α·1e-9`` of ``||W0||``.
    residual_tol : float, optional
        Stop (status ``"converged"``) once the residual is ``<= residual_tol``, tested on the plain loss
        ``F_α = residual·||T*||²/(2α²)`` (Gram form; its rounding is ``~1e-16·m²·α²/||T*||²`` in residual
        units).
    max_wall : float, optional
        Wall-time limit in seconds (:func:`numerics.flow.gradient_flow`): past it the run stops with
        status ``"max_wall"``, and the state it stopped at is appended to the observations.

    Returns
    -------
    LazyTraining
    """
    W0, target, alpha = _check_inputs(W0, target, alpha)
    t_end = check_real(t_end, "t_end", minimum=0.0, strict=True)
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    if t_eval is None:
        t_eval = np.linspace(0.0, t_end, 51)
    loss_tol = _loss_tol(residual_tol, target, alpha)
    traj = gradient_flow(
        W0,
        _shifted_target(W0, target, alpha),
        (0.0, t_end),
        model="plain",
        method=method,
        rtol=rtol,
        atol=atol,
        t_eval=t_eval,
        observe={"W": _snapshot},
        loss_tol=loss_tol,
        max_steps=max_steps,
        max_wall=max_wall,
    )
    if traj.status in ("converged", "max_wall"):
        # the stopping state is not on the t_eval grid: append it
        traj = _append_final(traj)
    return _result(traj, W0, target, alpha, f"gradient flow {method}, rtol={rtol:g}")


def _append_final(traj: Trajectory) -> Trajectory:
    if traj.t.size and traj.t[-1] == traj.t_final:
        return traj
    obs = dict(traj.observations)
    W_end = np.array(traj.W, dtype=np.float64)
    obs["W"] = np.concatenate([obs["W"], W_end[None]]) if obs["W"].size else W_end[None]
    return Trajectory(
        t=np.append(traj.t, traj.t_final),
        loss=np.append(traj.loss, np.nan),
        observations=obs,
        W=traj.W,
        t_final=traj.t_final,
        nfev=traj.nfev,
        nsteps=traj.nsteps,
        status=traj.status,
        message=traj.message,
        method=traj.method,
        t_events=traj.t_events,
    )


def lazy_training_descent(
    W0: Any,
    target: LowRankTensor,
    alpha: float,
    *,
    step: float,
    n_steps: int,
    observe_every: int = 1,
    residual_tol: float | None = None,
    max_wall: float | None = None,
) -> LazyTraining:
    """Gradient descent ``W ← W − η∇F_α(W)`` from ``W0`` (docs/math.md §4, lazy scaling).

    Fixed-step counterpart of :func:`lazy_training_flow` (:func:`numerics.flow.gradient_descent` on the
    shifted target ``T(W0) + T*/α``). The Hessian of ``F_α`` at ``W0`` is ``K(W0) + O(1/α)``, so steps
    below :func:`stable_step` are stable near ``W0`` whatever ``α``.

    Parameters
    ----------
    W0, target, alpha
        As in :func:`lazy_training_flow`.
    step : float
        ``η > 0``.
    n_steps : int
        Iterations.
    observe_every : int
        Record every this many iterations (and at the end).
    residual_tol : float, optional
        Stop (status ``"converged"``) once the residual is ``<= residual_tol`` (tested on the plain loss,
        see :func:`lazy_training_flow`).
    max_wall : float, optional
        Wall-time limit in seconds (:func:`numerics.flow.gradient_descent`, status ``"max_wall"``).
    """
    W0, target, alpha = _check_inputs(W0, target, alpha)
    step = check_real(step, "step", minimum=0.0, strict=True)
    n_steps = check_int(n_steps, "n_steps")
    observe_every = check_int(observe_every, "observe_every")
    traj = gradient_descent(
        W0,
        _shifted_target(W0, target, alpha),
        step=step,
        n_steps=n_steps,
        model="plain",
        observe={"W": _snapshot},
        observe_every=observe_every,
        loss_tol=_loss_tol(residual_tol, target, alpha),
        max_wall=max_wall,
    )
    return _result(traj, W0, target, alpha, f"gradient descent, step={step:g}")


def stable_step(W0: Any, order: int) -> float:
    """``2/λ_max(K(W0))``, the stability limit of gradient descent on ``F_α`` near ``W0`` (docs/math.md §4).

    ``λ_max`` of the tangent kernel (:func:`numerics.lazy.tangent_operator`) by Lanczos (``eigsh``),
    dense for tiny sizes.

    Parameters
    ----------
    W0 : array_like, shape (m, d)
    order : int
    """
    W0 = as_float_array(W0, "W0", ndim=2)
    op = _kernel_operator(W0, check_order(order), "W0")
    n = op.shape[0]
    if n <= 64:
        K = op.matmat(np.eye(n))
        lam = float(np.linalg.eigvalsh((K + K.T) / 2)[-1])
    else:
        v0 = np.ones(n) / math.sqrt(n)
        lam = float(eigsh(op, k=1, which="LA", v0=v0, return_eigenvectors=False, tol=1e-6)[0])
    if not lam > 0:
        raise ValueError(f"the tangent kernel at W0 is zero (λ_max = {lam!r}): W0 must be nonzero")
    return 2.0 / lam
