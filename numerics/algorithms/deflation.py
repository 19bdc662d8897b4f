"""Paper 2's modified gradient flow ("Tensor Deflation Process", Algorithm 1) — a reconstruction.

**[model choice]** (docs/math.md §6): the paper's Algorithm 1 takes ``(m, δ0, δ1, γ, ε, λ)``; its exact
text is not available, so this module implements the documented reconstruction:

* two-homogeneous model ``T(W) = Σ_i ||w_i||² w̄_i^{⊗l}`` (docs/math.md §3.3) with ℓ2 regulariser ``λ``
  (``model="plain"`` is offered for comparison);
* initialisation ``w_i = δ0·uniform(S^{d-1})``;
* epochs ``s = 0, 1, ...`` of gradient flow of length ``t0·γ^s`` (scipy's ``solve_ivp`` solvers through
  :func:`numerics.flow.gradient_flow`);
* before every epoch ``s >= 1``, every component with ``||w_i|| < δ1`` is redrawn as
  ``δ0·uniform(S^{d-1})`` (:func:`numerics.algorithms.reinit.reinitialize`); epoch 0 starts from the
  initialisation itself;
* stop at the end of the first epoch with ``||T(W) - T*||_F <= ε``, or after ``max_epochs`` epochs
  (default ``ceil(log_γ(1/ε)) + 4``, docs/math.md's ``≈ log_γ(1/ε) + O(1)``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import (
    MAX_OBSERVATIONS,
    RNGLike,
    as_float_array,
    as_rng,
    check_bool,
    check_choice,
    check_int,
    check_max_wall,
    check_real,
    check_size,
)
from ..flow import METHODS, gradient_flow
from ..tensors import LowRankTensor, random_unit_vectors
from .reinit import reinitialize
from .tracking import (
    ComponentTracking,
    attributed_weights,
    residual_observer,
    track_components,
    tracking_observers,
)

__all__ = ["DeflationResult", "EpochRecord", "modified_gradient_flow"]


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of :func:`modified_gradient_flow`.

    Attributes
    ----------
    epoch : int
        Epoch index ``s``.
    t_start, length : float
        Global start time and length ``t0·γ^s`` of the epoch (less for the epoch in which a run with
        ``stop_when_fitted`` reached ``ε``).
    reinitialized : ndarray of int
        Components redrawn (``||w_i|| < δ1``) just before the epoch (empty for epoch 0).
    fits : ndarray, shape (r,)
        Weight attributed to every target direction at the end of the epoch
        (:func:`numerics.algorithms.tracking.attributed_weights`).
    norms : ndarray, shape (m,)
        ``||w_i||`` at the end of the epoch.
    correlations : ndarray, shape (m,)
        ``max_k |<w̄_i, e_k>|`` at the end of the epoch.
    nearest : ndarray of int, shape (m,)
        The ``k`` attaining that maximum.
    error : float
        ``||T(W) - T*||_F`` at the end of the epoch.
    nfev : int
        Gradient evaluations of the epoch's flow.
    status : str
        The epoch flow's :attr:`numerics.flow.Trajectory.status`.
    """

    epoch: int
    t_start: float
    length: float
    reinitialized: np.ndarray
    fits: np.ndarray
    norms: np.ndarray
    correlations: np.ndarray
    nearest: np.ndarray
    error: float
    nfev: int
    status: str


@dataclass(frozen=True)
class DeflationResult:
    """Result of :func:`modified_gradient_flow`.

    Attributes
    ----------
    W : ndarray, shape (m, d)
        Final components.
    error : float
        ``||T(W) - T*||_F`` at the end.
    relative_error : float
        ``||T(W) - T*||_F / ||T*||_F``.
    success : bool
        ``error <= eps`` was reached.
    status : str
        ``"converged"`` (``error <= eps``), ``"max_epochs"``, or the failing epoch flow's status
        (``"nan"``, ``"diverged"``, ``"failed"``, ``"max_steps"``).
    message : str
        What happened, with the parameters.
    epochs : tuple of EpochRecord
    t : ndarray, shape (n,)
        Global observation times (every epoch's grid, concatenated).
    fits : ndarray, shape (n, r)
        Weight attributed to every direction at ``t``
        (:func:`numerics.algorithms.tracking.attributed_weights`).
    residual : ndarray, shape (n,)
        ``||T(W(t)) - T*||_F`` at ``t``.
    coeffs : ndarray, shape (r,)
        Target coefficients ``a_k`` (unit form).
    nfev : int
        Gradient evaluations in all epochs.
    params : dict
        The algorithm's parameters ``(m, delta0, delta1, gamma, eps, reg, t0, model, max_epochs, ...)``.
    """

    W: np.ndarray
    error: float
    relative_error: float
    success: bool
    status: str
    message: str
    epochs: tuple[EpochRecord, ...]
    t: np.ndarray
    fits: np.ndarray
    residual: np.ndarray
    coeffs: np.ndarray
    nfev: int
    params: dict[str, Any]

    @property
    def total_time(self) -> float:
        """Flow time spent over all epochs."""
        return float(sum(e.length for e in self.epochs))

    def track(self, q: float = 0.5) -> ComponentTracking:
        """Per-component tracking of the whole run (fit times interpolated on the observation grid)."""
        return track_components(self.t, self.fits, self.coeffs, q=q, residual=self.residual)


def _correlations(W: np.ndarray, E: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    norms = np.sqrt(np.einsum("ij,ij->i", W, W))
    safe = np.where(norms == 0, 1.0, norms)
    corr = np.abs((W / safe[:, None]) @ E.T)
    return norms, corr.max(axis=1), corr.argmax(axis=1)


def modified_gradient_flow(
    target: LowRankTensor,
    m: int,
    *,
    delta0: float = 1e-3,
    delta1: float = 0.1,
    gamma: float = 2.0,
    eps: float = 1e-2,
    reg: float = 1e-3,
    t0: float = 1.0,
    model: str,
    rng: RNGLike = None,
    max_epochs: int | None = None,
    W0: Any = None,
    reinit: bool = True,
    require_orthogonal: bool = True,
    n_obs: int = 41,
    method: str = "RK45",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 1_000_000,
    max_wall: float | None = None,
    stop_when_fitted: bool = False,
) -> DeflationResult:
    """**[model choice]** reconstruction of paper 2's Algorithm 1 (docs/math.md §6).

    Parameters
    ----------
    target : LowRankTensor
        Orthogonally decomposable ``T* = Σ_k a_k e_k^{⊗l}`` (any orthonormal basis, ``l >= 2``).
    m : int
        Number of components.
    delta0 : float
        Initialisation (and re-initialisation) scale ``δ0 > 0``.
    delta1 : float
        Re-initialisation threshold ``δ1 > δ0``: before each epoch, components with ``||w_i|| < δ1``
        are redrawn.
    gamma : float
        Growth rate ``γ > 1`` of the epoch length.
    eps : float
        Target accuracy ``ε > 0`` on ``||T(W) - T*||_F``. With ``λ > 0`` the fitted values settle at
        ``a_k - λ/2``, so ``ε`` must exceed about ``(λ/2)·sqrt(r)``.
    reg : float
        ℓ2 coefficient ``λ >= 0``.
    t0 : float
        Length of epoch 0 (``> 0``); epoch ``s`` lasts ``t0·γ^s``.
    model : {"homogeneous", "plain"}
        Parametrisation; ``"homogeneous"`` is the [model choice] of the modified flow.
    rng : Generator, int or None
        Randomness of the initialisation and the re-initialisations.
    max_epochs : int, optional
        Epoch budget; default ``ceil(log_γ(1/ε)) + 4``.
    W0 : array_like, shape (m, d), optional
        Initial components instead of ``δ0·uniform(S^{d-1})``.
    reinit : bool
        ``False`` switches the re-initialisation off: plain gradient flow over the same epochs
        (the comparison of docs/math.md §6).
    require_orthogonal : bool
        Reject non-orthogonal targets (the algorithm's guarantee needs orthogonality); ``False``
        admits any low-rank target (extension claims).
    n_obs : int
        Observation times per epoch (equally spaced) for the fit curves and the residual.
    method, rtol, atol, max_steps
        Passed to :func:`numerics.flow.gradient_flow` (``max_steps`` per epoch). A failing epoch
        (non-finite state, divergence, solver failure, step budget) ends the run with that status.
    max_wall : float, optional
        Wall-time limit in seconds for the whole run (``None``: none). Large ``gamma`` or many epochs
        make epochs very long; past the limit the run ends with status ``"max_wall"``.
    stop_when_fitted : bool
        ``False`` (default): the accuracy ``ε`` is checked at the end of every epoch, as in the
        algorithm's statement. ``True``: the run stops inside an epoch as soon as
        ``||T - T*||_F <= ε`` (a terminal event on the residual, located on the solver's dense
        output); that epoch's ``length`` is then the time actually flowed. Under gradient flow the
        loss does not increase, so a run that reaches ``ε`` inside epoch ``s`` would have been found
        converged at its end as well (up to the regulariser's ``O(λ)`` share of the loss): the same
        outcome and epoch count, without integrating the fitted state to the end of a long epoch.

    Returns
    -------
    DeflationResult
    """
    if not isinstance(target, LowRankTensor):
        raise TypeError(
            f"target must be a LowRankTensor (an orthogonally decomposable tensor), got {type(target).__name__}"
        )
    m = check_int(m, "m")
    delta0 = check_real(delta0, "delta0", minimum=0.0, strict=True)
    delta1 = check_real(delta1, "delta1", minimum=0.0, strict=True)
    if not delta1 > delta0:
        raise ValueError(f"delta1 must be > delta0={delta0!r}, got delta1={delta1!r}")
    gamma = check_real(gamma, "gamma", minimum=1.0, strict=True)
    eps = check_real(eps, "eps", minimum=0.0, strict=True)
    reg = check_real(reg, "reg", minimum=0.0)
    t0 = check_real(t0, "t0", minimum=0.0, strict=True)
    model = check_choice(model, "model", ("homogeneous", "plain"))
    n_obs = check_int(n_obs, "n_obs", minimum=2, maximum=MAX_OBSERVATIONS)
    max_steps = check_int(max_steps, "max_steps")
    max_wall = check_max_wall(max_wall)
    reinit = check_bool(reinit, "reinit")
    stop_when_fitted = check_bool(stop_when_fitted, "stop_when_fitted")
    require_orthogonal = check_bool(require_orthogonal, "require_orthogonal")
    check_size(m, target.dim, "m and the target dimension d")
    deadline = None if max_wall is None else time.monotonic() + max_wall
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    if max_epochs is None:
        max_epochs = math.ceil(math.log(1.0 / eps) / math.log(gamma)) + 4 if eps < 1 else 4
        max_epochs = max(max_epochs, 1)
    max_epochs = check_int(max_epochs, "max_epochs")
    unit = target.unit_form()
    if unit.rank != target.rank:
        raise ValueError("target has a zero component")
    if require_orthogonal and not unit.is_orthogonal(atol=1e-8):
        g = unit.components @ unit.components.T
        off = float(np.max(np.abs(g - np.diag(np.diag(g)))))
        raise ValueError(
            "target must be orthogonally decomposable (pairwise orthogonal components) for the "
            f"modified flow; largest |<u_j, u_k>| = {off:.3g}. Pass require_orthogonal=False for "
            "the non-orthogonal extension."
        )
    gen = as_rng(rng)
    d = target.dim
    if W0 is None:
        W = delta0 * random_unit_vectors(m, d, gen)
    else:
        W = as_float_array(W0, "W0", shape=(m, d), copy=True)
    E = unit.components
    a = unit.coeffs
    t_norm = math.sqrt(max(target.squared_norm, 0.0))
    err_of = residual_observer(target, model)
    observers = tracking_observers(target, model)
    params: dict[str, Any] = {
        "m": m,
        "d": d,
        "order": target.order,
        "delta0": delta0,
        "delta1": delta1,
        "gamma": gamma,
        "eps": eps,
        "reg": reg,
        "t0": t0,
        "model": model,
        "max_epochs": max_epochs,
        "reinit": reinit,
        "method": method,
        "stop_when_fitted": stop_when_fitted,
    }
    events = None
    if stop_when_fitted:

        def fitted(t: float, W: np.ndarray) -> float:
            return err_of(t, W) - eps

        events = {"fitted": fitted}  # terminal (gradient_flow's default)

    def describe() -> str:
        return ", ".join(f"{k}={v!r}" for k, v in params.items())

    epochs: list[EpochRecord] = []
    ts: list[np.ndarray] = []
    fits: list[np.ndarray] = []
    resid: list[np.ndarray] = []
    nfev = 0
    t_start = 0.0
    status, message = "max_epochs", ""
    error = err_of(0.0, W)
    for s in range(max_epochs):
        if s > 0 and reinit:
            W, idx = reinitialize(W, threshold=delta1, delta=delta0, rng=gen)
        else:
            idx = np.zeros(0, dtype=int)
        length = t0 * gamma**s
        traj = gradient_flow(
            W,
            target,
            (t_start, t_start + length),
            model=model,
            reg=reg,
            method=method,
            rtol=rtol,
            atol=atol,
            max_steps=max_steps,
            max_wall=None if deadline is None else max(deadline - time.monotonic(), 1e-9),
            observe=observers,
            events=events,
            t_eval=np.linspace(t_start, t_start + length, n_obs),
        )
        nfev += traj.nfev
        if traj.status == "event":
            length = float(traj.t_final) - t_start
        W = np.array(traj.W, dtype=np.float64)
        # the first observation of epoch s >= 1 repeats the last one of epoch s-1 (same time)
        first = 1 if s > 0 else 0
        if traj.t.size > first:
            ts.append(traj.t[first:])
            fits.append(traj.observations["fits"][first:])
            resid.append(traj.observations["residual"][first:])
        error = err_of(0.0, W)
        norms, corr, nearest = _correlations(W, E)
        epochs.append(
            EpochRecord(
                epoch=s,
                t_start=t_start,
                length=length,
                reinitialized=idx,
                fits=attributed_weights(W, target, model=model),
                norms=norms,
                correlations=corr,
                nearest=nearest,
                error=float(error),
                nfev=traj.nfev,
                status=traj.status,
            )
        )
        t_start += length
        if not traj.success:
            status = traj.status
            message = f"epoch {s} flow stopped: {traj.message} ({describe()})"
            break
        if error <= eps or traj.status == "event":  # the event is the residual crossing ε
            status = "converged"
            message = f"||T - T*||_F = {error:.3g} <= eps after epoch {s} (t = {t_start:.6g})"
            break
    else:
        message = (
            f"||T - T*||_F = {error:.3g} > eps={eps:g} after max_epochs={max_epochs} epochs "
            f"(t = {t_start:.6g}; {describe()})"
        )
    r = a.shape[0]
    return DeflationResult(
        W=W,
        error=float(error),
        relative_error=float(error / t_norm) if t_norm > 0 else float("nan"),
        success=status == "converged",
        status=status,
        message=message,
        epochs=tuple(epochs),
        t=np.concatenate(ts) if ts else np.zeros(0),
        fits=np.concatenate(fits) if fits else np.zeros((0, r)),
        residual=np.concatenate(resid) if resid else np.zeros(0),
        coeffs=a,
        nfev=nfev,
        params=params,
    )
