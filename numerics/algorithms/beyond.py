"""Paper 1's gradient-descent variant that goes beyond the lazy regime, and its baselines.

**[model choice]** (docs/math.md §5). Wang, Wu, Lee, Ma, Ge (NeurIPS 2020) prove that *a variant* of
gradient descent fits a rank-``r`` symmetric tensor to relative error ``ε`` with
``m = O*(r^{2.5l} log d)`` components, far below the lazy (NTK) requirement ``m = Ω(d^{l-1})``. The
paper's exact algorithm text is not available to this project; :func:`beyond_lazy_descent` is the
reconstruction written down in docs/math.md §5:

* two-homogeneous parametrisation ``T(W) = Σ_i ||w_i||² w̄_i^{⊗l}`` (docs/math.md §3.3);
* small random initialisation ``w_i = δ·uniform(S^{d-1})``;
* ℓ2 regulariser ``(λ/2)||W||_F²``;
* epochs of fixed-step gradient descent, and between epochs re-initialisation of the components whose
  norm fell below a threshold (``reinit="small"``) or of one uniformly random component
  (``reinit="one-random"``).

Every constant is a parameter. They are given **relative to the target scale**
``s = max_k |T*(ū_k^{⊗l})|`` (:func:`target_scale`), so that the algorithm is equivariant under
``T* → c·T*``: the absolute initial norm is ``delta·√s``, the threshold ``reinit_threshold·√s``, the
regulariser ``λ = reg·s`` and the step ``η = step/s``. (Under ``T* → cT*`` the loss landscape maps to
itself by ``W → √c·W``, gradient times ``c^{3/2}``, time divided by ``c``.) The defaults were chosen by
measurement (see :func:`beyond_lazy_descent`) so that ``beyond_lazy_descent(target, m, rng=seed)`` works
out of the box.

The baseline that gets stuck (paper 1: with ``m = r`` gradient descent on the plain objective finds
bad local minima even for orthogonal tensors) is :func:`plain_descent_baseline`; success is judged by
:func:`fit_succeeded` (``||T - T*||_F / ||T*||_F <= ε``, :func:`relative_error`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import (
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
from ..flow import gradient_descent, gradient_flow
from ..models import _loss_and_grad, hessian_vector_product, model_tensor, validate_problem
from ..tensors import DenseTensor, LowRankTensor, Tensor, distance, inner, random_unit_vectors
from .reinit import reinitialize

__all__ = [
    "BaselineResult",
    "BeyondLazyResult",
    "ReinitEvent",
    "CriticalPoint",
    "EndPointClassification",
    "beyond_lazy_descent",
    "classify_end_point",
    "refine_critical_point",
    "fit_succeeded",
    "hessian_min_eigenvalue",
    "residual_direction",
    "plain_descent_baseline",
    "relative_error",
    "target_scale",
]

REINIT_RULES = ("small", "one-random")
BEYOND_MODELS = ("homogeneous", "plain")


# ----------------------------------------------------------------------------------------------
# error and success criterion
# ----------------------------------------------------------------------------------------------
def _check_tensor(t: Any, name: str) -> Tensor:
    if not isinstance(t, LowRankTensor | DenseTensor):
        raise TypeError(f"{name} must be a LowRankTensor or DenseTensor, got {type(t).__name__}")
    return t


def _check_target_norm(target: Tensor) -> float:
    """``||T*||²``, refused unless positive and finite (relative errors divide by it)."""
    norm_sq = float(target.squared_norm)
    if not (norm_sq > 0 and math.isfinite(norm_sq)):
        raise ValueError(
            f"target must be non-zero with a finite norm (relative errors divide by ||T*||²), "
            f"got ||T*||² = {norm_sq!r}; rescale the target"
        )
    return norm_sq


def relative_error(estimate: Tensor, target: Tensor) -> float:
    """``||T - T*||_F / ||T*||_F`` in Gram form (docs/math.md §2), no ``d^l`` array for low-rank tensors.

    ``||T - T*||² = <T, T> - 2<T, T*> + <T*, T*>`` with :func:`numerics.tensors.inner`; the difference is
    clipped at 0 before the square root (rounding can make it slightly negative at a perfect fit).

    Parameters
    ----------
    estimate, target : LowRankTensor or DenseTensor
        Same order and dimension; ``target`` must be non-zero.
    """
    estimate = _check_tensor(estimate, "estimate")
    target = _check_tensor(target, "target")
    tt = inner(target, target)
    if not tt > 0:
        raise ValueError(f"target must be non-zero to define a relative error, got ||T*||² = {tt}")
    return distance(estimate, target) / math.sqrt(tt)


def fit_succeeded(estimate: Tensor, target: Tensor, eps: float) -> bool:
    """Success criterion of paper 1 (docs/math.md §5): ``||T - T*||_F / ||T*||_F <= ε``.

    Parameters
    ----------
    estimate, target : LowRankTensor or DenseTensor
    eps : float
        Relative accuracy ``ε > 0``.
    """
    eps = check_real(eps, "eps", minimum=0.0, strict=True)
    return relative_error(estimate, target) <= eps


def target_scale(target: Tensor) -> float:
    """The scale ``s`` the variant's constants are measured in.

    For a low-rank target ``Σ_k c_k u_k^{⊗l}``: ``s = max_k |T*(ū_k^{⊗l})|`` with ``ū_k = u_k/||u_k||``
    (equal to the largest coefficient for an orthogonal target, and a lower bound on the spectral norm
    ``max_{||x||=1} |T*(x^{⊗l})|`` in general; cost ``O(r² d)``). For a dense target: ``||T*||_F`` (an
    upper bound on the spectral norm). This is the curvature scale of the loss near a fitted component
    (docs/math.md §3.3: a fitted direction has Hessian eigenvalues of order ``l·a_k``).
    """
    target = _check_tensor(target, "target")
    if isinstance(target, LowRankTensor):
        n = np.linalg.norm(target.components, axis=1)
        keep = n > 0
        if not np.any(keep):
            s = 0.0
        else:
            s = float(np.max(np.abs(target.evaluate(target.components[keep] / n[keep, None]))))
    else:
        s = target.norm()
    if not s > 0:
        raise ValueError("target must be non-zero (its scale is 0)")
    return s


# ----------------------------------------------------------------------------------------------
# the variant
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReinitEvent:
    """One re-initialisation between epochs.

    Attributes
    ----------
    epoch : int
        The epoch that starts with this re-initialisation (1-based: epoch 0 starts from the initial draw).
    step : int
        Global step index at which it happened.
    indices : tuple of int
        Rows of ``W`` that were redrawn (may be empty for ``reinit="small"``).
    error_before : float
        Relative error just before (at the end of the previous epoch).
    """

    epoch: int
    step: int
    indices: tuple[int, ...]
    error_before: float


@dataclass(frozen=True)
class BeyondLazyResult:
    """Result of :func:`beyond_lazy_descent`.

    Attributes
    ----------
    relative_error : float
        Final ``||T(W) - T*||_F / ||T*||_F`` (Gram form, :func:`relative_error`).
    success : bool
        ``relative_error <= eps`` (and the run did not fail numerically).
    eps : float
        The accuracy asked for.
    W : ndarray, shape (m, d)
        Final components (rows).
    epoch_errors : ndarray, shape (epochs_run,)
        Relative error at the end of each epoch (before the next re-initialisation): the staircase.
    steps, errors : ndarray
        Finer history: relative error at global step ``steps[j]`` (every ``record_every`` steps, at each
        epoch end and at the stop).
    reinit_events : tuple of ReinitEvent
        Re-initialisations, in order.
    epochs_run, n_steps : int
        Epochs started and gradient steps taken.
    status : str
        ``"converged"`` (reached ``eps``), ``"budget"`` (all epochs run without reaching it),
        ``"nan"`` (non-finite state), ``"diverged"`` (a norm exceeded ``max_norm``) or
        ``"max_wall"`` (the wall-time limit ``max_wall`` was reached).
    message : str
        What happened, with the parameters.
    model : str
        Parametrisation used.
    order : int
        Tensor order ``l``.
    scale : float
        Target scale ``s`` (:func:`target_scale`).
    step_size, reg, delta, reinit_threshold : float
        The **absolute** constants used: ``η = step/s``, ``λ = reg·s``, ``δ = delta·√s``,
        threshold ``= reinit_threshold·√s``.
    """

    relative_error: float
    success: bool
    eps: float
    W: np.ndarray
    epoch_errors: np.ndarray
    steps: np.ndarray
    errors: np.ndarray
    reinit_events: tuple[ReinitEvent, ...]
    epochs_run: int
    n_steps: int
    status: str
    message: str
    model: str
    scale: float
    step_size: float
    reg: float
    delta: float
    reinit_threshold: float
    order: int

    @property
    def norms(self) -> np.ndarray:
        """Final row norms ``||w_i||`` (the homogeneous model's weights are their squares)."""
        return np.sqrt(np.einsum("ij,ij->i", self.W, self.W))

    def components(self) -> LowRankTensor:
        """The fitted tensor ``T(W)`` as a :class:`~numerics.tensors.LowRankTensor` (no ``d^l`` array)."""
        return model_tensor(self.W, self.order, model=self.model)


def _rel_from_loss(value: float, W: np.ndarray, reg: float, norm_sq: float) -> float:
    """Relative error from the loss: ``||E||² = 2f - λ||W||²`` (Gram form, docs/math.md §2)."""
    sq = 2.0 * float(value) - (reg * float(np.sum(W * W)) if reg else 0.0)
    return math.sqrt(max(sq, 0.0) / norm_sq)


def beyond_lazy_descent(
    target: Tensor,
    m: int,
    *,
    delta: float = 1e-3,
    reg: float = 1e-2,
    step: float = 0.1,
    epoch_steps: int = 300,
    epochs: int = 20,
    reinit: str = "small",
    reinit_threshold: float = 5e-4,
    model: str,
    eps: float = 0.05,
    rng: RNGLike = None,
    W0: Any = None,
    record_every: int = 10,
    stop_at_eps: bool = True,
    max_norm: float = 1e3,
    max_wall: float | None = None,
) -> BeyondLazyResult:
    """Paper 1's gradient-descent variant, **[model choice]** reconstruction of docs/math.md §5.

    Minimises ``f(W) = ½||T(W) - T*||_F² + (λ/2)||W||_F²`` with ``T(W) = Σ_i ||w_i||² w̄_i^{⊗l}``
    (two-homogeneous, docs/math.md §3.3) by fixed-step gradient descent in epochs of ``epoch_steps`` steps,
    from ``w_i = δ·uniform(S^{d-1})``; before every epoch after the first it re-initialises components
    (rows whose norm fell below the threshold, or one random row) to ``δ·uniform(S^{d-1})``. Stops when
    ``||T(W) - T*||_F / ||T*||_F <= eps`` (checked every ``record_every`` steps) or after ``epochs`` epochs.
    Paper 1's claim (docs/math.md §5): this succeeds with ``m = O*(r^{2.5l} log d)``.

    Constants are **relative to the target scale** ``s`` (:func:`target_scale`), which makes the result
    invariant under ``T* → c·T*``.

    Parameters
    ----------
    target : LowRankTensor or DenseTensor
        ``T*``, order ``l >= 2``.
    m : int
        Number of components, ``m >= 1``.
    delta : float
        Initialisation norm in units of ``√s``: ``||w_i(0)|| = delta·√s`` (weight ``delta²·s``).
        Default ``1e-3``: small (weights ``1e-6·s``, far from the lazy regime); the cost of a smaller
        ``delta`` is only ``ln(1/delta²)/(4a)`` in time (docs/math.md §6, derived).
    reg : float
        ℓ2 coefficient in units of ``s``: ``λ = reg·s``. Default ``1e-2``: a fitted direction settles at
        ``a_k - λ/2`` (docs/math.md §6), a relative bias ``~reg/2`` far below the default ``eps``, while a
        component that does not grow (direction empty, already fitted, or stuck on the high-order saddle
        ``u_k·w̄ = 0`` that odd ``l`` creates for negative initial correlations) decays like ``e^{-λt}``:
        by ``e^{-0.3}`` per default epoch, so it crosses the default threshold within 3 epochs and is
        recycled. Measured: with ``reg = 1e-3`` (and threshold ``1e-4``) 5 of 600 runs at ``m = 4r``
        failed that way (all components parked orthogonal to ``u_1``); with the defaults 0 of 600.
    step : float
        Step in units of ``1/s``: ``η = step/s``. Default ``0.1``: the curvature at a fitted component is
        about ``l·a_k <= l·s`` (docs/math.md §3.3), so ``η·l·s = 0.1·l < 2`` is stable for ``l <= 10``.
        Measured (r = 3, d = 30, m = 12, same flow time per epoch, 10 seeds, l = 3 and 4): step 0.1 and
        0.2 succeeded 10/10, 0.4 9/10, 0.8 0/10 (diverged): the default keeps a factor 4 to 8 of margin.
    epoch_steps : int
        Gradient steps per epoch, i.e. epoch length ``epoch_steps·step/s`` in flow time. Default 300
        (flow time ``30/s``): long enough for a component to align (``≈ 1/(l(l-2)a u0^{(l-2)/2})``) and
        grow (``≈ ln(a/δ²)/(4a)``) at ``d <= 200``, ``l <= 4`` (docs/math.md §6, derived; measured).
    epochs : int
        Maximum number of epochs. Default 20.
    reinit : {"small", "one-random"}
        Re-initialisation rule between epochs.
    reinit_threshold : float
        Norm threshold in units of ``√s`` for ``reinit="small"``; must be ``< delta`` (a threshold at or
        above the initial norm would redraw fresh components before they could align). Default ``5e-4``
        (half of ``delta``): a fresh component whose norm halved under the regulariser (about 2.3 epochs
        without growth) is redrawn. ``"one-random"`` ignores it and always redraws one random row.
    model : {"homogeneous", "plain"}
        Parametrisation (docs/math.md §3); ``"plain"`` is offered for comparison.
    eps : float
        Target relative accuracy ``ε > 0``; default 0.05.
    rng : Generator, int or None
        Randomness of the initialisation and re-initialisations.
    W0 : array_like, shape (m, d), optional
        Explicit initial components (then ``delta`` only sets the re-initialisation norm).
    record_every : int
        Record the relative error (and test ``eps``) every this many steps.
    stop_at_eps : bool
        Stop as soon as ``eps`` is reached (default) or run the whole budget.
    max_norm : float
        Divergence guard in units of ``√s``.
    max_wall : float, optional
        Wall-time limit in seconds (``None``: none); checked every ``record_every`` steps, ends the
        run with status ``"max_wall"`` (the final error is still measured).

    Returns
    -------
    BeyondLazyResult
    """
    target = _check_tensor(target, "target")
    m = check_int(m, "m")
    delta = check_real(delta, "delta", minimum=0.0, strict=True)
    reg = check_real(reg, "reg", minimum=0.0)
    step = check_real(step, "step", minimum=0.0, strict=True)
    epoch_steps = check_int(epoch_steps, "epoch_steps")
    epochs = check_int(epochs, "epochs")
    reinit = check_choice(reinit, "reinit", REINIT_RULES)
    reinit_threshold = check_real(reinit_threshold, "reinit_threshold", minimum=0.0)
    if reinit_threshold >= delta:
        raise ValueError(
            f"reinit_threshold must be < delta (a threshold at or above the initial norm redraws "
            f"fresh components), got reinit_threshold={reinit_threshold!r}, delta={delta!r}"
        )
    model = check_choice(model, "model", BEYOND_MODELS)
    eps = check_real(eps, "eps", minimum=0.0, strict=True)
    record_every = check_int(record_every, "record_every")
    stop_at_eps = check_bool(stop_at_eps, "stop_at_eps")
    check_size(m, target.dim, "m and the target dimension d")
    max_norm = check_real(max_norm, "max_norm", minimum=0.0, strict=True)
    max_wall = check_max_wall(max_wall)
    deadline = None if max_wall is None else time.monotonic() + max_wall
    norm_sq = _check_target_norm(target)
    gen = as_rng(rng)

    s = target_scale(target)
    root_s = math.sqrt(s)
    delta_abs = delta * root_s
    thr_abs = reinit_threshold * root_s
    lam = reg * s
    eta = step / s
    norm_cap = max_norm * root_s
    d = target.dim
    if W0 is None:
        W = delta_abs * random_unit_vectors(m, d, gen)
    else:
        W = as_float_array(W0, "W0", shape=(m, d), copy=True)
    W, model, lam = validate_problem(W, target, model, lam)
    W = np.array(W, dtype=np.float64, copy=True)

    def params() -> str:
        return (
            f"m={m}, d={d}, order={target.order}, model={model!r}, delta={delta}, reg={reg}, "
            f"step={step}, epoch_steps={epoch_steps}, epochs={epochs}, reinit={reinit!r}, "
            f"reinit_threshold={reinit_threshold}, scale={s:.6g}"
        )

    steps: list[int] = []
    errors: list[float] = []
    epoch_errors: list[float] = []
    events: list[ReinitEvent] = []
    status, message = "budget", ""
    k = 0  # global step counter
    epochs_run = 0
    err = math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            if epoch > 0:
                if reinit == "small":
                    W, idx = reinitialize(W, threshold=thr_abs, delta=delta_abs, rng=gen)
                else:
                    which = np.array([gen.integers(m)])
                    W, idx = reinitialize(W, threshold=0.0, delta=delta_abs, rng=gen, which=which)
                events.append(ReinitEvent(epoch, k, tuple(int(i) for i in idx), err))
            epochs_run = epoch + 1
            for j in range(epoch_steps + 1):
                value, grad = _loss_and_grad(W, target, model, lam)
                assert grad is not None
                last = j == epoch_steps
                if j % record_every == 0 or last:
                    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
                        status = "nan"
                        message = (
                            f"non-finite loss or gradient at step {k} (epoch {epoch}; {params()})"
                        )
                        break
                    err = _rel_from_loss(value, W, lam, norm_sq)
                    if not steps or steps[-1] != k:
                        steps.append(k)
                        errors.append(err)
                    if stop_at_eps and err <= eps:
                        status = "converged"
                        message = (
                            f"relative error {err:.3g} <= eps={eps:g} at step {k} (epoch {epoch})"
                        )
                        break
                    if float(np.max(np.einsum("ij,ij->i", W, W))) > norm_cap * norm_cap:
                        status = "diverged"
                        message = f"a component norm exceeded max_norm={max_norm:g}·√s at step {k} ({params()})"
                        break
                if deadline is not None and time.monotonic() > deadline:
                    status = "max_wall"
                    message = f"stopped after max_wall={max_wall:g} s at step {k} (epoch {epoch}; {params()})"
                    break
                if last:
                    break
                W -= eta * grad
                k += 1
            epoch_errors.append(err)
            if status != "budget":
                break
    if status in ("nan", "diverged"):
        final = math.nan if status == "nan" else err
        success = False
    else:
        final = relative_error(model_tensor(W, target.order, model=model), target)
        success = final <= eps
        if status == "budget":
            message = (
                f"ran {epochs_run} epochs ({k} steps): relative error {final:.3g} "
                f"{'<=' if success else '>'} eps={eps:g} ({params()})"
            )
    return BeyondLazyResult(
        relative_error=final,
        success=bool(success),
        eps=eps,
        W=W,
        epoch_errors=np.array(epoch_errors),
        steps=np.array(steps, dtype=int),
        errors=np.array(errors),
        reinit_events=tuple(events),
        epochs_run=epochs_run,
        n_steps=k,
        status=status,
        message=message,
        model=model,
        scale=s,
        step_size=eta,
        reg=lam,
        delta=delta_abs,
        reinit_threshold=thr_abs,
        order=target.order,
    )


# ----------------------------------------------------------------------------------------------
# baselines: plain gradient descent / flow from random initialisation
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BaselineResult:
    """Result of :func:`plain_descent_baseline`.

    Attributes
    ----------
    relative_error : float
        Final ``||T(W) - T*||_F / ||T*||_F``.
    success : bool
        ``relative_error <= eps``.
    eps : float
    grad_norm : float
        Final relative gradient norm ``||∇f(W)||_F / (l·||T*||_F·s/ν)`` with the natural component norm
        ``ν = s^{1/l}`` (plain) or ``√s`` (homogeneous): the scale of the gradient of ``½||E||²`` for a
        component of norm ``ν`` (``s`` = :func:`target_scale`). Plain model: ``s/ν = s^{(l-1)/l}``.
    critical : bool
        ``grad_norm <= gtol``: the run ended at (numerically) a critical point.
    stuck : bool
        ``critical and not success``: a non-global critical point (bad local minimum or saddle).
    W : ndarray, shape (m, d)
        Final parameters.
    t, errors : ndarray
        Relative error along the run (descent: ``t = k·η``); NaN when ``reg > 0`` (the recorded loss
        then includes the regulariser).
    status, message : str
        From the underlying :class:`~numerics.flow.Trajectory`.
    model, method : str
    step_size : float
        Absolute step ``η`` (descent) or 0.0 (flow).
    """

    relative_error: float
    success: bool
    eps: float
    grad_norm: float
    critical: bool
    stuck: bool
    W: np.ndarray
    t: np.ndarray
    errors: np.ndarray
    status: str
    message: str
    model: str
    method: str
    step_size: float


def plain_descent_baseline(
    target: Tensor,
    m: int,
    *,
    model: str,
    method: str = "gd",
    init: float = 1.0,
    step: float = 0.05,
    n_steps: int = 5000,
    t_end: float = 30.0,
    eps: float = 0.05,
    gtol: float = 1e-3,
    reg: float = 0.0,
    rng: RNGLike = None,
    W0: Any = None,
    max_wall: float | None = None,
) -> BaselineResult:
    """Plain gradient descent (or flow) from random initialisation: the baseline that gets stuck.

    Paper 1 (docs/math.md §5): with ``m = r`` gradient descent on the plain objective
    ``½||Σ_i w_i^{⊗l} - T*||_F²`` gets stuck in bad local minima even for orthogonal targets. This runs
    :func:`numerics.flow.gradient_descent` (``method="gd"``) or :func:`numerics.flow.gradient_flow`
    (``method="flow"``, RK45) from ``w_i = init·s^{1/l}·uniform(S^{d-1})`` and reports the final relative
    error, the relative gradient norm and whether the end point is a non-global critical point.

    Scaling (so that ``T* → c·T*`` gives the same run): the plain model has ``W → c^{1/l}W``, curvature at
    a fitted component ``l²·a^{2-2/l}``; the absolute step is ``η = step/(l²·s^{2-2/l})`` and the flow
    time ``t_end/s^{2-2/l}``. For ``model="homogeneous"`` (``W → √c·W``) ``s^{2-2/l}`` is replaced by
    ``s``. Defaults, measured (orthogonal targets, r = 3, d = 5, l = 3 and 4, 10 seeds): ``step = 0.05``
    (``η·curvature = 0.05``, stable), ``n_steps = 5000`` (flow time ``≈ 28/s^{2-2/l}``; ``t_end = 30`` is
    the same for ``method="flow"``) and ``gtol = 1e-3``. The degenerate (high-order) directions make the
    gradient decay only polynomially: runs stuck at error 0.577 (one component missing) had relative
    gradient norms 3e-4 to 7e-4 after 5000 steps and 2e-4 after 20000, so ``gtol`` is a "numerically
    critical" level, not a machine-precision one; successful over-parametrized runs sit at 5e-4 to 1.5e-3
    while still creeping toward the exact fit.

    Parameters
    ----------
    target : LowRankTensor or DenseTensor
    m : int
        Number of components (``m = r``: exact parametrisation; larger: modest over-parametrisation).
    model : {"plain", "homogeneous"}
    method : {"gd", "flow"}
    init : float
        Initial norm in units of ``ν`` (``init > 0``): ``ν = s^{1/l}`` for the plain model, ``√s`` for
        the homogeneous one.
    step, n_steps : float, int
        Relative step and number of steps for ``method="gd"``.
    t_end : float
        Relative flow time for ``method="flow"``.
    eps : float
        Success threshold ``ε > 0`` on the relative error.
    gtol : float
        Relative gradient-norm threshold for "critical".
    reg : float
        ℓ2 coefficient in units of ``s`` (default 0: the plain objective).
    rng : Generator, int or None
    W0 : array_like, shape (m, d), optional
        Explicit initial parameters (overrides ``init``).
    max_wall : float, optional
        Wall-time limit in seconds passed to the descent or flow (``None``: none); a run stopped by
        it is not a success and reports ``nan`` errors like any unfinished run.
    """
    target = _check_tensor(target, "target")
    _check_target_norm(target)
    m = check_int(m, "m")
    check_size(m, target.dim, "m and the target dimension d")
    model = check_choice(model, "model", BEYOND_MODELS)
    method = check_choice(method, "method", ("gd", "flow"))
    init = check_real(init, "init", minimum=0.0, strict=True)
    step = check_real(step, "step", minimum=0.0, strict=True)
    n_steps = check_int(n_steps, "n_steps")
    t_end = check_real(t_end, "t_end", minimum=0.0, strict=True)
    eps = check_real(eps, "eps", minimum=0.0, strict=True)
    gtol = check_real(gtol, "gtol", minimum=0.0, strict=True)
    reg = check_real(reg, "reg", minimum=0.0)
    gen = as_rng(rng)
    order, d = target.order, target.dim
    s = target_scale(target)
    # plain: W ~ s^{1/l}, curvature l²s^{2-2/l}; homogeneous: W ~ √s, curvature ~ l·s (docs/math.md §3.3)
    unit = s ** (1.0 / order) if model == "plain" else math.sqrt(s)
    time_scale = s ** (2.0 - 2.0 / order) if model == "plain" else s
    lam = reg * s
    if W0 is None:
        W = init * unit * random_unit_vectors(m, d, gen)
    else:
        W = as_float_array(W0, "W0", shape=(m, d), copy=True)
    norm_t = math.sqrt(target.squared_norm)
    if method == "gd":
        eta = step / (order**2 * time_scale)
        traj = gradient_descent(
            W, target, step=eta, n_steps=n_steps, model=model, reg=lam,
            observe_every=max(1, n_steps // 200), max_wall=max_wall,
        )  # fmt: skip
    else:
        eta = 0.0
        traj = gradient_flow(
            W, target, (0.0, t_end / time_scale), model=model, reg=lam, max_wall=max_wall
        )
    W_end = traj.W
    if traj.success:
        grad = _loss_and_grad(W_end, target, model, lam)[1]
        assert grad is not None
        gnorm = float(np.linalg.norm(grad)) / (order * norm_t * s / unit)
        err = relative_error(model_tensor(W_end, order, model=model), target)
    else:
        gnorm, err = math.nan, math.nan
    # loss history -> relative error history (reg part removed when reg > 0 only at the end point)
    errs = (
        np.sqrt(np.maximum(2.0 * traj.loss, 0.0)) / norm_t
        if lam == 0
        else np.full(traj.t.shape, np.nan)
    )
    success = bool(err <= eps)
    critical = bool(gnorm <= gtol)
    return BaselineResult(
        relative_error=err,
        success=success,
        eps=eps,
        grad_norm=gnorm,
        critical=critical,
        stuck=critical and not success,
        W=W_end,
        t=traj.t,
        errors=errs,
        status=traj.status,
        message=traj.message,
        model=model,
        method=method,
        step_size=eta,
    )


def hessian_min_eigenvalue(
    W: Any,
    target: Tensor,
    *,
    model: str,
    reg: float = 0.0,
    k: int = 1,
    dense_below: int = 200,
) -> np.ndarray:
    """Smallest eigenvalue(s) of the Hessian ``∇²f(W)`` (absolute units), matrix-free.

    Uses :func:`scipy.sparse.linalg.eigsh` (``which="SA"``) on a
    :class:`~scipy.sparse.linalg.LinearOperator` whose products are
    :func:`numerics.models.hessian_vector_product` (complex step, exact to rounding). Small problems
    (``m·d <= 200``) are solved densely from the ``m·d`` products instead (eigsh needs ``k < m·d``).
    A non-negative smallest eigenvalue at a critical point suggests a local minimum; a negative one a
    saddle; zero eigenvalues (degenerate directions, e.g. the high-order saddle at 0) are inconclusive.

    Parameters
    ----------
    W : array_like, shape (m, d)
    target, model, reg
        As in :func:`numerics.models.loss_and_grad` (``reg`` absolute here).
    k : int
        Number of smallest eigenvalues, ascending.
    dense_below : int
        Size ``m·d`` up to which the Hessian is assembled densely.
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    W, model, reg = validate_problem(W, target, model, reg)
    k = check_int(k, "k")
    dense_below = check_int(dense_below, "dense_below", minimum=0)
    n = W.size
    if k > n:
        raise ValueError(f"k must be <= m·d = {n}, got {k}")
    if n > dense_below and k >= n:
        raise ValueError(
            f"k must be < m·d = {n} for the iterative solver, used since m·d > "
            f"dense_below={dense_below}; got k={k} (raise dense_below or lower k)"
        )

    def hvp(v: np.ndarray) -> np.ndarray:
        V = np.asarray(v, dtype=np.float64).reshape(W.shape)
        return hessian_vector_product(W, V, target, model=model, reg=reg).ravel()

    with np.errstate(over="ignore", invalid="ignore"):
        probe = hvp(np.ones(n) / math.sqrt(n))
    if not np.all(np.isfinite(probe)):
        raise ValueError(
            f"the Hessian at W is not finite (largest |entry| of W {float(np.max(np.abs(W))):.3g}, "
            f"model={model!r}): W is too large for this target"
        )
    if n <= dense_below:
        H = np.column_stack([hvp(e) for e in np.eye(n)])
        H = 0.5 * (H + H.T)
        return np.linalg.eigvalsh(H)[:k]
    op = LinearOperator((n, n), matvec=hvp, dtype=np.float64)
    vals = eigsh(op, k=k, which="SA", return_eigenvectors=False, tol=1e-8)
    return np.sort(vals)


# ----------------------------------------------------------------------------------------------
# end points of plain gradient descent: refine to a critical point, then classify it
# ----------------------------------------------------------------------------------------------
END_POINT_CLASSES = ("success", "saddle", "spurious_minimum", "unresolved")


def _dense_hessian(W: np.ndarray, target: Tensor, model: str) -> np.ndarray:
    """``∇²f(W)`` as an ``(m·d, m·d)`` matrix from exact (complex-step) Hessian-vector products."""
    n = W.size
    cols = [
        hessian_vector_product(W, e.reshape(W.shape), target, model=model).ravel()
        for e in np.eye(n)
    ]
    H = np.column_stack(cols)
    return 0.5 * (H + H.T)


def _gradient_unit(target: Tensor, model: str) -> tuple[float, float, float]:
    """``(ν, gradient scale, curvature scale)`` of :func:`plain_descent_baseline` (``s`` = target scale).

    ``ν = s^{1/l}`` (plain) or ``√s`` (homogeneous); gradient scale ``l·||T*||_F·s/ν``; curvature
    ``l²·s^{2-2/l}`` (plain) or ``l·s`` (homogeneous), docs/math.md §3.3.
    """
    s = target_scale(target)
    order = target.order
    unit = s ** (1.0 / order) if model == "plain" else math.sqrt(s)
    gscale = order * math.sqrt(target.squared_norm) * s / unit
    curv = order**2 * s ** (2.0 - 2.0 / order) if model == "plain" else order * s
    return unit, gscale, curv


@dataclass(frozen=True)
class CriticalPoint:
    """Result of :func:`refine_critical_point`.

    Attributes
    ----------
    W : ndarray
        The refined point.
    loss : float
        ``f(W)`` (λ = 0).
    grad_norm : float
        Relative gradient norm ``||∇f(W)||_F`` over the scale ``l·||T*||_F·s/ν`` (as in
        :class:`BaselineResult`).
    converged : bool
        ``grad_norm <= gtol``.
    iterations : int
        Newton iterations used.
    """

    W: np.ndarray
    loss: float
    grad_norm: float
    converged: bool
    iterations: int


def refine_critical_point(
    W: Any,
    target: Tensor,
    *,
    model: str,
    gtol: float = 1e-10,
    max_iter: int = 200,
    rounds: int = 4,
    gd_steps: int = 10000,
) -> CriticalPoint:
    """Drive ``W`` to a critical point of ``f = ½||T(W) - T*||²`` by saddle-free Newton steps.

    Plain gradient descent only creeps towards the degenerate critical points of the tensor loss (a
    component shrinking towards 0 at the order-``l`` saddle has gradient ``O(||w||^{l-1})``), so its
    end points are not critical to precision. This takes Newton steps with the absolute values of
    the Hessian's eigenvalues, ``ΔW = -|H|^{-1} g`` (eigenvalues floored at ``1e-14`` of the curvature
    scale; a descent direction even where ``H`` is indefinite; step length at most ``0.1·ν``: the
    odd-order loss has flat valleys to infinity, ``w_i = -w_j``), with Armijo backtracking on ``f`` (up to the rounding of ``f``: a
    descent method: it never leaves the basin by going uphill), on the dense Hessian assembled from
    :func:`numerics.models.hessian_vector_product` (exact to rounding). At a degenerate critical point
    (``f - f* ∝ |x|^k`` along a direction) a Newton step shrinks ``x`` by ``1 - 1/(k-1)``: linear
    convergence, a few dozen iterations to ``1e-10``. It stops when the relative gradient
    norm (scale ``l·||T*||_F·s/ν``, docs/math.md §3.3) is ``<= gtol``. Meant for small problems
    (``m·d <= 400``).

    Parameters
    ----------
    W : array_like, shape (m, d)
        Starting point (e.g. the end point of :func:`plain_descent_baseline`).
    target : LowRankTensor or DenseTensor
    model : {"plain", "homogeneous"}
    gtol : float
        Relative gradient-norm target (default ``1e-10``).
    max_iter : int
        Newton iterations per round (a round also stops when backtracking cannot lower ``f``).
    rounds : int
        Rounds of Newton iterations. Far from a critical point (still on a slow slope of the
        landscape) Newton steps with ``|H|`` can crawl; between rounds ``gd_steps`` plain
        gradient-descent steps (step ``0.05`` over the curvature scale) move the point on.
    gd_steps : int
        Gradient steps between rounds.
    """
    target = _check_tensor(target, "target")
    model = check_choice(model, "model", BEYOND_MODELS)
    gtol = check_real(gtol, "gtol", minimum=0.0, strict=True)
    max_iter = check_int(max_iter, "max_iter")
    rounds = check_int(rounds, "rounds")
    gd_steps = check_int(gd_steps, "gd_steps")
    W0, model, _ = validate_problem(W, target, model, 0.0)
    if W0.size > 400:
        raise ValueError(
            f"refine_critical_point assembles a dense Hessian: m·d must be <= 400, got {W0.size}"
        )
    unit, gscale, curv = _gradient_unit(target, model)
    floor = 1e-14 * curv
    Wk = np.array(W0, dtype=np.float64, copy=True)
    total = 0
    for round_ in range(rounds):
        if round_ > 0:
            traj = gradient_descent(Wk, target, step=0.05 / curv, n_steps=gd_steps, model=model)
            if not traj.success:
                raise ArithmeticError(
                    f"refine_critical_point: gradient descent failed between rounds: {traj.message}"
                )
            Wk = np.array(traj.W, dtype=np.float64)
        Wk, value, grad, it = _newton_round(
            Wk, target, model, gtol, max_iter, gscale, floor, 0.1 * unit
        )
        total += it
        if float(np.linalg.norm(grad)) / gscale <= gtol:
            break
    gnorm = float(np.linalg.norm(grad)) / gscale
    return CriticalPoint(Wk, value, gnorm, bool(gnorm <= gtol), total)


def _newton_round(
    Wk: np.ndarray,
    target: Tensor,
    model: str,
    gtol: float,
    max_iter: int,
    gscale: float,
    floor: float,
    max_step: float,
) -> tuple[np.ndarray, float, np.ndarray, int]:
    """Up to ``max_iter`` saddle-free Newton steps with backtracking (see :func:`refine_critical_point`)."""

    def value_grad(X: np.ndarray) -> tuple[float, np.ndarray]:
        v, g = _loss_and_grad(X, target, model, 0.0)
        assert g is not None
        return float(v), g

    value, grad = value_grad(Wk)
    ulp_f = np.finfo(float).eps * 0.5 * target.squared_norm
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported)
        if not (math.isfinite(value) and np.all(np.isfinite(grad))):
            raise ArithmeticError(
                f"refine_critical_point: non-finite loss or gradient at iteration {it} "
                f"(m={Wk.shape[0]}, d={Wk.shape[1]}, order={target.order}, model={model!r})"
            )
        if float(np.linalg.norm(grad)) / gscale <= gtol:
            it -= 1
            break
        lam, vecs = np.linalg.eigh(_dense_hessian(Wk, target, model))
        coef = (vecs.T @ grad.ravel()) / np.maximum(np.abs(lam), floor)
        direction = -(vecs @ coef).reshape(Wk.shape)
        size = float(np.linalg.norm(direction))
        if size > max_step:  # a trust radius: never slide far along a flat valley
            direction *= max_step / size
        slope = float(np.sum(grad * direction))  # < 0: |H|^{-1} is positive definite
        t, moved = 1.0, False
        for _ in range(80):  # Armijo backtracking on f
            trial = Wk + t * direction
            v2, g2 = value_grad(trial)
            # Armijo, with slack for the rounding of f (near a critical point the decrease is
            # below ulp(f) while the gradient still shrinks)
            if math.isfinite(v2) and v2 <= value + 1e-4 * t * slope + 8 * ulp_f:
                Wk, value, grad, moved = trial, v2, g2, True
                break
            t *= 0.5
        if not moved:
            break
    return Wk, value, grad, it


def residual_direction(
    W: Any,
    target: Tensor,
    row: int,
    *,
    model: str,
    n_random: int = 16,
    iterations: int = 300,
    rng: RNGLike = None,
) -> tuple[np.ndarray, float]:
    """The unit ``v`` that maximises ``R(v^{⊗l})`` for the residual without row ``row``.

    ``R = T* − Σ_{j≠row} T(w_j)`` is what the other rows leave unfitted. When row ``row`` is zero,
    putting it at ``t·v`` changes the model by exactly ``t^k v^{⊗l}`` (``k = l`` plain, ``k = 2``
    homogeneous), so ``f(t) = f(0) − t^k R(v^{⊗l}) + t^{2k}/2``: a maximum ``R(v^{⊗l}) > 0`` is a
    descent direction, and the point is not a local minimum (docs/math.md §10.3, **[derived]**).

    The maximum over the unit sphere lies in the span of the target's components and the other rows
    (``R`` sees only the projection of ``v`` on it, and a positive value grows when ``v`` is rescaled
    to unit length there), so it is searched in that subspace by the shifted symmetric higher-order
    power method (Kolda and Mayo 2011; the shift ``(l-1)·Σ|weights|`` makes every step ascend) from the
    components, the rows, their negatives and ``n_random`` random starts.

    Parameters
    ----------
    W : array_like, shape (m, d)
    target : LowRankTensor or DenseTensor
    row : int
        The row left out (``0 <= row < m``).
    model : {"plain", "homogeneous"}
    n_random : int
        Random starts besides the components and rows.
    iterations : int
        Power iterations per start.
    rng : Generator, int or None

    Returns
    -------
    (v, value) : (ndarray of shape (d,), float)
        The best unit vector found and ``R(v^{⊗l})``.
    """
    target = _check_tensor(target, "target")
    model = check_choice(model, "model", BEYOND_MODELS)
    W_in, _, _ = validate_problem(W, target, model, 0.0)
    m, d = W_in.shape
    row = check_int(row, "row", minimum=0)
    if row >= m:
        raise ValueError(f"row must be < m = {m}, got {row}")
    n_random = check_int(n_random, "n_random", minimum=0)
    iterations = check_int(iterations, "iterations")
    gen = as_rng(rng)
    order = target.order
    others = np.delete(np.asarray(W_in, dtype=float), row, axis=0)
    fitted = model_tensor(others, order, model=model) if others.shape[0] else None
    if isinstance(target, LowRankTensor):
        span = [np.asarray(target.components, dtype=float)]
        weight = float(
            np.sum(np.abs(target.coeffs) * np.linalg.norm(target.components, axis=1) ** order)
        )
    else:
        span = [np.eye(d)]
        weight = target.norm()
    if fitted is not None:
        span.append(np.asarray(fitted.components, dtype=float))
        weight += float(
            np.sum(np.abs(fitted.coeffs) * np.linalg.norm(fitted.components, axis=1) ** order)
        )
    basis, sv, _ = np.linalg.svd(np.vstack(span).T, full_matrices=False)
    basis = basis[:, sv > 1e-12 * max(sv.max(), 1e-300)]  # (d, k) orthonormal

    def value_and_grad(V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = V @ basis.T  # rows in R^d
        val, con = target.evaluate_and_contract(X)
        if fitted is not None:
            fv, fc = fitted.evaluate_and_contract(X)
            val, con = val - fv, con - fc
        return np.asarray(val, float), np.asarray(con, float) @ basis

    starts = [np.vstack(span) @ basis]
    starts.append(-starts[0])
    starts.append(gen.standard_normal((n_random, basis.shape[1])))
    V = np.vstack(starts)
    norms = np.linalg.norm(V, axis=1)
    V = V[norms > 0] / norms[norms > 0, None]
    shift = (order - 1) * weight
    for _ in range(iterations):
        _, g = value_and_grad(V)
        step = g + shift * V  # SS-HOPM: ascent for a shift above the curvature bound
        V = step / np.maximum(np.linalg.norm(step, axis=1, keepdims=True), 1e-300)
    values, _ = value_and_grad(V)
    best = int(np.argmax(values))
    return V[best] @ basis.T, float(values[best])


def _escape_steps(value: float, c0: float, unit: float, order: int, model: str, eta: float) -> int:
    """Gradient steps to leave a zero row along a residual direction with ``R(v^{⊗l}) = value``.

    Along ``w = c·v``: plain ``f = f0 − c^l R + …``, so ``dc/dt = l·R·c^{l-1}`` and ``c`` grows from ``c0``
    to order ``unit`` by ``t = c0^{2-l}/(l(l-2)R)`` (``l >= 3``); homogeneous ``f = f0 − c²R + …``:
    ``dc/dt = 2Rc``, ``t = ln(unit/c0)/(2R)``. Four times that over the step ``eta``, at most 200000
    (docs/math.md §10.3, **[derived]**).
    """
    if model == "plain" and order >= 3:
        t = c0 ** (2 - order) / (order * (order - 2) * value)
    else:
        t = math.log(max(unit / c0, math.e)) / (2.0 * value)
    return int(min(4.0 * t / eta, 200_000))


@dataclass(frozen=True)
class EndPointClassification:
    """Result of :func:`classify_end_point`.

    Attributes
    ----------
    kind : str
        ``"success"`` (relative error ``<= eps``), ``"saddle"`` (some perturbation of size ``rho``
        followed by descent lowers the loss by more than ``drop_tol·½||T*||²``), ``"spurious_minimum"``
        (a critical point with error ``> eps`` that no perturbation escapes) or ``"unresolved"`` (the
        refinement did not reach ``gtol``).
    relative_error, grad_norm : float
        At the refined point (relative gradient norm as in :class:`CriticalPoint`).
    loss : float
        ``f`` at the refined point.
    hessian_min : float
        Smallest Hessian eigenvalue over the curvature scale (``l²s^{2-2/l}`` plain, ``l·s`` homogeneous).
    null_dim : int
        Number of Hessian eigenvalues with ``|λ| <= null_tol`` (relative): degenerate directions.
    escape : str
        Which perturbation escaped: ``"residual"``, ``"negative-curvature"``, ``"null-space"``,
        ``"random"`` or ``""``.
    escape_drop : float
        Largest loss decrease found, relative to ``½||T*||²`` (0 when nothing escaped).
    escape_error : float
        Relative error after the best escape (``nan`` when nothing escaped).
    W : ndarray
        The refined point.
    refine_iterations : int
    """

    kind: str
    relative_error: float
    grad_norm: float
    loss: float
    hessian_min: float
    null_dim: int
    escape: str
    escape_drop: float
    escape_error: float
    W: np.ndarray
    refine_iterations: int


def classify_end_point(
    W: Any,
    target: Tensor,
    *,
    model: str,
    eps: float = 0.05,
    gtol: float = 1e-10,
    rho: float = 0.05,
    n_random: int = 8,
    null_tol: float = 1e-6,
    drop_tol: float = 1e-4,
    descent_steps: int = 3000,
    rng: RNGLike = None,
) -> EndPointClassification:
    """Classify the end point of a descent run: success, saddle, or spurious local minimum.

    1. :func:`refine_critical_point` to relative gradient ``<= gtol`` (saddle-free Newton, exact Hessian).
    2. Relative error ``<= eps`` (before or after the refinement): ``"success"`` (an end point that
       already fits is not refined; its ``hessian_min`` is then ``nan``).
    3. Otherwise an **escape test**: from the refined ``W*`` perturb by ``rho·ν`` (``ν`` the natural
       component norm): (0) every row of norm ``<= rho·ν`` is replaced by ``rho·ν·v`` along the
       residual direction ``v`` of :func:`residual_direction` when ``R(v^{⊗l}) > 0`` (a descent
       direction certified by the exact expansion at a zero row, docs/math.md §10.3), with descent
       long enough to leave the order-``l`` saddle (four times the derived escape time); then along
       (a) the eigenvectors of negative Hessian eigenvalues, (b) the Hessian's
       null space (``|λ| <= null_tol`` relative: the higher-order test — at a degenerate saddle the
       descent direction has zero curvature and shows only in the cubic/quartic terms, so both signs
       ``±v`` are tried), (c) ``n_random`` random unit directions; from each perturbed point run
       ``descent_steps`` steps of plain gradient descent (step ``0.05`` over the curvature scale,
       as :func:`plain_descent_baseline`). If any run ends with ``f < f(W*) - drop_tol·½||T*||²``, the
       point is a ``"saddle"``; if none does, a ``"spurious_minimum"`` (a local minimum at resolution
       ``rho``: a basin narrower than ``rho`` would be missed — ``rho`` is reported with the result).

    Parameters
    ----------
    W : array_like, shape (m, d)
    target : LowRankTensor or DenseTensor
    model : {"plain", "homogeneous"}
    eps : float
        Success threshold on the relative error.
    gtol : float
        Relative gradient-norm target of the refinement.
    rho : float
        Perturbation size in units of ``ν`` (``s^{1/l}`` plain, ``√s`` homogeneous).
    n_random : int
        Number of random perturbation directions (``>= 0``).
    null_tol : float
        Relative eigenvalue magnitude below which a Hessian direction counts as degenerate.
    drop_tol : float
        Loss decrease (relative to ``½||T*||²``) that counts as an escape.
    descent_steps : int
        Gradient steps after each perturbation.
    rng : Generator, int or None
        Randomness of the random directions.
    """
    target = _check_tensor(target, "target")
    model = check_choice(model, "model", BEYOND_MODELS)
    eps = check_real(eps, "eps", minimum=0.0, strict=True)
    rho = check_real(rho, "rho", minimum=0.0, strict=True)
    n_random = check_int(n_random, "n_random", minimum=0)
    null_tol = check_real(null_tol, "null_tol", minimum=0.0, strict=True)
    drop_tol = check_real(drop_tol, "drop_tol", minimum=0.0, strict=True)
    descent_steps = check_int(descent_steps, "descent_steps")
    gen = as_rng(rng)
    order = target.order
    W_in, _, _ = validate_problem(W, target, model, 0.0)
    unit, gscale, curv = _gradient_unit(target, model)
    half_norm = 0.5 * target.squared_norm
    err = relative_error(model_tensor(W_in, order, model=model), target)
    if err <= eps:  # already a fit: no refinement needed to call it a success
        v0, g0 = _loss_and_grad(np.asarray(W_in, dtype=float), target, model, 0.0)
        assert g0 is not None
        g_rel = float(np.linalg.norm(g0)) / gscale
        return EndPointClassification(
            "success", err, g_rel, float(v0), math.nan, 0, "", 0.0, math.nan,
            np.array(W_in, dtype=float), 0,
        )  # fmt: skip
    try:
        cp = refine_critical_point(W_in, target, model=model, gtol=gtol)
    except ArithmeticError:  # the refinement slid off along a flat odd-order valley: undecided
        return EndPointClassification(
            "unresolved", err, math.nan, math.nan, math.nan, 0, "", 0.0,
            math.nan, np.array(W_in, dtype=float), 0,
        )  # fmt: skip
    Ws = cp.W
    err = relative_error(model_tensor(Ws, order, model=model), target)
    evals, evecs = np.linalg.eigh(_dense_hessian(Ws, target, model))
    rel = evals / curv
    null_dim = int(np.sum(np.abs(rel) <= null_tol))

    def result(
        kind: str, escape: str = "", drop: float = 0.0, e_err: float = math.nan
    ) -> EndPointClassification:
        return EndPointClassification(
            kind, err, cp.grad_norm, cp.loss, float(rel[0]), null_dim, escape, drop, e_err, Ws,
            cp.iterations,
        )  # fmt: skip

    if err <= eps:
        return result("success")
    if not cp.converged:
        return result("unresolved")
    eta = 0.05 / curv
    # (start point, descent steps) of each escape attempt, certified residual directions first
    attempts: list[tuple[str, np.ndarray, int]] = []
    for i in np.flatnonzero(np.linalg.norm(Ws, axis=1) <= rho * unit):
        v, value = residual_direction(Ws, target, int(i), model=model, rng=gen)
        # R(v^{⊗l}) above the rounding of the Gram-form evaluation (relative to the scale s)
        if value > 1e-10 * target_scale(target):
            start = np.array(Ws, copy=True)
            start[i] = rho * unit * v
            steps = max(descent_steps, _escape_steps(value, rho * unit, unit, order, model, eta))
            attempts.append(("residual", start, steps))
    for j in np.flatnonzero(rel < -null_tol):
        for sign in (1.0, -1.0):
            attempts.append(
                (
                    "negative-curvature",
                    Ws + sign * rho * unit * evecs[:, j].reshape(Ws.shape),
                    descent_steps,
                )
            )
    for j in np.flatnonzero(np.abs(rel) <= null_tol):
        for sign in (1.0, -1.0):
            attempts.append(
                (
                    "null-space",
                    Ws + sign * rho * unit * evecs[:, j].reshape(Ws.shape),
                    descent_steps,
                )
            )
    for _ in range(n_random):
        v = gen.standard_normal(Ws.size)
        attempts.append(
            ("random", Ws + rho * unit * (v / np.linalg.norm(v)).reshape(Ws.shape), descent_steps)
        )
    best = ("", 0.0, math.nan)
    for name, start, steps in attempts:
        traj = gradient_descent(start, target, step=eta, n_steps=steps, model=model)
        if not traj.success:
            continue
        drop = (cp.loss - float(_loss_and_grad(traj.W, target, model, 0.0, False)[0])) / half_norm
        if drop > best[1]:
            e2 = relative_error(model_tensor(traj.W, order, model=model), target)
            best = (name, drop, e2)
            if drop > drop_tol:
                break
    if best[1] > drop_tol:
        return result("saddle", best[0], best[1], best[2])
    return result("spurious_minimum", "", max(best[1], 0.0))
