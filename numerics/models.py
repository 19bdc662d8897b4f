"""The three parametrisations of docs/math.md §3: loss, gradient, Hessian-vector product in Gram form.

Loss ``f = ½||T(W) - T*||_F² + (λ/2)||W||_F²`` with residual ``E = T(W) - T*``.

``plain``
    ``T(W) = Σ_i w_i^{⊗l}`` (paper 1, eq. (1) with ``c_i = 1``); ``W`` has shape ``(m, d)``.
``coefficient``
    ``T(c, U) = Σ_i c_i u_i^{⊗l}`` (paper 1, eq. (1)); packed as ``W = [c | U]`` of shape ``(m, d+1)``
    (column 0 holds ``c``, see :func:`pack_coefficient`). The regulariser acts on ``c`` and ``U``.
``homogeneous``
    ``T(W) = Σ_i ||w_i||² w̄_i^{⊗l}`` with ``w̄ = w/||w||`` (two-homogeneous, a **model choice** that fits
    both papers' descriptions); ``W`` has shape ``(m, d)``.

All three are written as ``T = Σ_i s_i x_i^{⊗l}`` and reduce to the contractions
``P_i = E(x_i^{⊗(l-1)}, ·) = Σ_j s_j (x_i·x_j)^{l-1} x_j - T*(x_i^{⊗(l-1)}, ·)`` and ``e_i = E(x_i^{⊗l}) = P_i·x_i``,
whose cost is ``O(m² d + m r d)`` for a low-rank target: no ``d^l`` array is formed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import as_float_array, check_choice, check_real
from .tensors import DenseTensor, LowRankTensor, Tensor, int_power

__all__ = [
    "MODELS",
    "hessian_operator",
    "hessian_vector_product",
    "loss",
    "loss_and_grad",
    "model_tensor",
    "pack_coefficient",
    "param_shape",
    "unpack_coefficient",
    "validate_problem",
]

MODELS = ("plain", "coefficient", "homogeneous")


def param_shape(model: str, m: int, d: int) -> tuple[int, int]:
    """Shape of the parameter array ``W`` for ``m`` components in ``R^d``."""
    check_choice(model, "model", MODELS)
    return (m, d + 1) if model == "coefficient" else (m, d)


def pack_coefficient(c: Any, U: Any) -> np.ndarray:
    """Pack coefficient-model parameters ``(c, U)`` into ``W = [c | U]`` of shape ``(m, d+1)``."""
    U = as_float_array(U, "U", ndim=2)
    c = as_float_array(c, "c", shape=(U.shape[0],))
    return np.column_stack([c, U])


def unpack_coefficient(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`pack_coefficient`: views ``(c, U)`` of ``W``."""
    return W[:, 0], W[:, 1:]


def validate_problem(
    W: Any, target: Any, model: str, reg: float, *, name: str = "W"
) -> tuple[np.ndarray, str, float]:
    """Check ``(W, target, model, reg)`` once at a public boundary; return the clean values.

    ``name`` is the caller's name for ``W`` (``"W0"`` for the flows), used in error messages.
    """
    if not isinstance(target, LowRankTensor | DenseTensor):
        raise TypeError(
            f"target must be a LowRankTensor or DenseTensor, got {type(target).__name__}"
        )
    model = check_choice(model, "model", MODELS)
    reg = check_real(reg, "reg", minimum=0.0)
    dtype = np.float32 if getattr(W, "dtype", None) == np.float32 else np.float64
    cols = target.dim + 1 if model == "coefficient" else target.dim
    W = as_float_array(W, name, shape=(None, cols), dtype=dtype)
    return W, model, reg


def _split(W: np.ndarray, model: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Return ``(s, X, n)``: weights, components and (homogeneous only) row norms."""
    if model == "plain":
        return np.ones(W.shape[0], dtype=W.dtype), W, None
    if model == "coefficient":
        c, U = unpack_coefficient(W)
        return c, U, None
    # homogeneous: rows w = n·x with unit x; s = n². Zero rows contribute nothing (s = 0, x = 0).
    n = np.sqrt(np.einsum("ij,ij->i", W, W))
    safe = np.where(n == 0, 1.0, n)
    return n * n, W / safe[:, None], n


def _power_inplace(a: np.ndarray, k: int, block_bytes: int = 1 << 22) -> np.ndarray:
    """``a ← a^{∘k}`` (``k >= 1``) in place, by repeated multiplication over row blocks.

    Same flops as :func:`~numerics.tensors.int_power`, but the only temporary is one block of about
    ``block_bytes`` instead of a second full array (docs/math.md §2, performance note).
    """
    if k == 1:
        return a
    rows = max(1, min(a.shape[0], block_bytes // max(1, a.shape[1] * a.itemsize)))
    buf = np.empty((rows, a.shape[1]), dtype=a.dtype)
    for i in range(0, a.shape[0], rows):
        blk = a[i : i + rows]
        base = buf[: blk.shape[0]]
        np.copyto(base, blk)
        for _ in range(k - 1):
            blk *= base
    return a


def _contractions(
    s: np.ndarray, X: np.ndarray, target: Tensor, *, unit: bool = False, need_grad: bool = True
) -> tuple[Any, Any, Any, Any]:
    """``P_i = E(x_i^{⊗(l-1)}, ·)``, ``e_i = E(x_i^{⊗l})``, ``<T(W), T(W)>``, ``<T(W), T*>``.

    ``unit``: all weights ``s_i`` are 1 (plain model), skip the weighting. ``need_grad=False``: only the
    two inner products, with ``<T(W), T(W)> = sᵀ G^{∘l} s`` (``O(m²d)`` for ``G`` only, no ``G^{∘(l-1)} X``);
    ``P`` and ``e`` are then None. ``G`` is overwritten in place by its powers: the peak extra memory is
    one ``m×m`` array and three ``m×d`` arrays.
    """
    order = target.order
    a = X @ X.T  # G; numpy dispatches X @ X.T to a symmetric rank-k update
    if not need_grad:
        t_values = target.evaluate_and_contract(X)[0]
        model_values = _power_inplace(a, order) @ s  # Σ_j s_j G_ij^l = T(W)(x_i^{⊗l})
        return None, None, s @ model_values, s @ t_values
    _power_inplace(a, order - 1)
    if not unit:
        a *= s[None, :]
    model_part = a @ X  # Σ_j s_j G_ij^{l-1} x_j
    del a
    t_values, t_contr = target.evaluate_and_contract(X)
    model_values = np.einsum("ij,ij->i", model_part, X)  # Σ_j s_j G_ij^l = T(W)(x_i^{⊗l})
    P = model_part
    P -= t_contr
    e = model_values - t_values
    return P, e, s @ model_values, s @ t_values


def _target_norm_sq(target: Tensor) -> float:
    return target.squared_norm


def _loss_and_grad(
    W: np.ndarray, target: Tensor, model: str, reg: float, need_grad: bool = True
) -> tuple[Any, np.ndarray | None]:
    order = target.order
    s, X, n = _split(W, model)
    P, e, model_sq, cross = _contractions(s, X, target, unit=model == "plain", need_grad=need_grad)
    value = 0.5 * (model_sq - 2.0 * cross + _target_norm_sq(target))
    if reg:
        value = value + 0.5 * reg * np.sum(W * W)
    if not need_grad:
        return value, None
    if model == "plain":
        P *= order
        grad = P
    elif model == "coefficient":
        grad = np.empty_like(W, dtype=P.dtype)
        grad[:, 0] = e
        grad[:, 1:] = order * s[:, None] * P
    else:
        assert n is not None
        # n·(l·P - (l-2)·e·X) in place on P (a fresh array): one m×d temporary instead of four
        P *= order
        if order != 2:
            P -= ((order - 2) * e)[:, None] * X
        P *= n[:, None]
        grad = P
    if reg:
        grad += reg * W
    return value, grad


def _require_finite(
    value: Any, grad: np.ndarray | None, W: np.ndarray, target: Tensor, model: str
) -> None:
    """``ValueError`` naming ``W`` when the loss or gradient overflowed the working precision.

    The loss grows like ``||W||^{2l}`` (plain), ``||W||^4`` (homogeneous) or ``(c_i ||u_i||^l)²``
    (coefficient): it is not scale-free, and beyond the float
    range it has no value to return (the intermediates ``G^{∘(l-1)} W`` are no larger than the
    loss, so they overflow only with it). A NaN or an infinity would be a silent wrong number.
    """
    if np.isfinite(value) and (grad is None or np.all(np.isfinite(grad))):
        return
    if not np.isfinite(target.squared_norm):
        raise ValueError(
            f"target is too large: ||T*||² = {target.squared_norm!r} overflows float64 (rescale it)"
        )
    precision = np.dtype(W.dtype).name
    hint = "; pass a float64 W" if W.dtype == np.float32 else ""
    growth = {
        "plain": f"||W||^{2 * target.order}",
        "homogeneous": "||W||^4",
        "coefficient": f"(|c_i|·||u_i||^{target.order})²",
    }[model]
    raise ValueError(
        f"W is too large for {precision}: the loss or its gradient overflows (largest |entry| of W "
        f"{float(np.max(np.abs(W))):.3g}, order {target.order}, model={model!r}, ||T*||² "
        f"{target.squared_norm:.3g}; the loss grows like {growth}){hint}"
    )


def loss_and_grad(
    W: Any, target: Tensor, *, model: str, reg: float = 0.0
) -> tuple[float, np.ndarray]:
    """Loss ``½||T(W) - T*||_F² + (λ/2)||W||_F²`` and its gradient in Gram form (docs/math.md §2–3).

    Gradients (docs/math.md §3): plain ``∇_{w_i} f = l·E(w_i^{⊗(l-1)}, ·) + λw_i``; coefficient
    ``∂_{c_i} f = E(u_i^{⊗l}) + λc_i``, ``∇_{u_i} f = l c_i E(u_i^{⊗(l-1)}, ·) + λu_i``; homogeneous
    ``∇_{w_i} f = ||w_i||·[l·E(w̄_i^{⊗(l-1)}, ·) - (l-2)·E(w̄_i^{⊗l}) w̄_i] + λw_i``.

    Parameters
    ----------
    W : array_like, shape (m, d) or (m, d+1) for ``model="coefficient"``
        Parameters. A float32 ``W`` is computed in float32 (faster, less accurate).
    target : LowRankTensor or DenseTensor
        The tensor ``T*`` to fit.
    model : {"plain", "coefficient", "homogeneous"}
    reg : float
        ℓ2 regularisation coefficient ``λ >= 0``.

    Returns
    -------
    loss : float
    grad : ndarray, same shape as ``W``

    Raises
    ------
    ValueError
        When the loss or the gradient overflows ``W``'s precision (the loss grows like
        ``||W||^{2l}`` for the plain model: about ``||W|| > 1e50`` for ``l = 3`` in float64, ``> 1e6``
        in float32).

    Notes
    -----
    Cost ``O(m² d + m r d)`` time and ``O(md + m²)`` memory for a low-rank target.
    """
    W, model, reg = validate_problem(W, target, model, reg)
    with np.errstate(over="ignore", invalid="ignore"):
        value, grad = _loss_and_grad(W, target, model, reg)
    assert grad is not None
    _require_finite(value, grad, W, target, model)
    return float(value), grad


def loss(W: Any, target: Tensor, *, model: str, reg: float = 0.0) -> float:
    """The loss of :func:`loss_and_grad` without the gradient (``ValueError`` on overflow, as there)."""
    W, model, reg = validate_problem(W, target, model, reg)
    with np.errstate(over="ignore", invalid="ignore"):
        value = _loss_and_grad(W, target, model, reg, need_grad=False)[0]
    _require_finite(value, None, W, target, model)
    return float(value)


HVP_METHODS = ("auto", "analytic", "complex_step")


class _PlainHessian:
    """Gram-form Hessian of the plain model at a fixed ``W``; ``G^{∘(l-2)}``, ``G^{∘(l-1)}`` cached.

    ``∇²f(W)[V] = l·[(l-1)(G^{∘(l-2)} ∘ (W Vᵀ + V Wᵀ)) W + G^{∘(l-1)} V] - l·D T*(w_i^{⊗(l-1)}, ·)[V] + λV``
    (docs/math.md §3, differentiating ``∇f = l·[G^{∘(l-1)} W - T*(w_i^{⊗(l-1)}, ·)] + λW``). The model
    part costs three ``O(m²d)`` products per direction after the ``O(m²d)`` set-up; the target part
    ``(l-1)T*(w_i^{⊗(l-2)}, v_i, ·)`` is the complex-step derivative of the target's contraction
    (``O(mrd)`` for a low-rank target, exact to rounding, any target type).
    """

    def __init__(self, W: np.ndarray, target: Tensor, reg: float) -> None:
        self.W = W
        self.target = target
        self.reg = reg
        order = target.order
        gram = W @ W.T
        self.g_lm2 = int_power(gram, order - 2) if order > 2 else np.ones_like(gram)
        self.g_lm1 = self.g_lm2 * gram
        self.order = order
        self.h = 1e-30 if W.dtype == np.float64 else 1e-15

    def __call__(self, V: np.ndarray) -> np.ndarray:
        W, order = self.W, self.order
        cross = W @ V.T
        cross += cross.T
        cross *= self.g_lm2
        cross *= order - 1
        out = cross @ W
        out += self.g_lm1 @ V
        ctype = np.complex128 if W.dtype == np.float64 else np.complex64
        Z = np.add(W, (1j * self.h) * V, dtype=ctype)
        out -= self.target.evaluate_and_contract(Z)[1].imag / self.h
        out *= order
        if self.reg:
            out += self.reg * V
        return out


def _complex_step_hvp(
    W: np.ndarray, V: np.ndarray, target: Tensor, model: str, reg: float, h: float
) -> np.ndarray:
    Z = np.add(W, (1j * h) * V, dtype=np.complex128)
    grad = _loss_and_grad(Z, target, model, reg)[1]
    assert grad is not None
    return grad.imag / h


def _hessian_operator(
    W: np.ndarray, target: Tensor, model: str, reg: float, method: str = "auto"
) -> Any:
    """``V -> ∇²f(W)[V]`` without validation (internal; :func:`hessian_operator` is the public one)."""
    if method == "analytic" or (method == "auto" and model == "plain"):
        return _PlainHessian(W, target, reg)
    return lambda V: _complex_step_hvp(W, V, target, model, reg, 1e-30)


def _check_hvp_method(method: Any, model: str) -> str:
    method = check_choice(method, "method", HVP_METHODS)
    if method == "analytic" and model != "plain":
        raise ValueError(
            f"method='analytic' (Gram-form Hessian) exists for model='plain' only, got model={model!r}; "
            "use method='complex_step' or 'auto'"
        )
    return method


def hessian_operator(
    W: Any, target: Tensor, *, model: str, reg: float = 0.0, method: str = "auto"
) -> Any:
    """The Hessian ``∇²f(W)`` as a function ``V -> ∇²f(W)[V]`` (no ``md × md`` matrix).

    For ``model="plain"`` the default is the analytic Gram form of :class:`_PlainHessian`
    (docs/math.md §3): after an ``O(m²d)`` set-up at ``W`` (the Gram powers), each product costs three
    ``O(m²d)`` matrix products plus ``O(mrd)`` for a low-rank target; for the other models, the
    complex-step derivative of the gradient (one complex gradient, about four real ones).

    Parameters
    ----------
    W : array_like
        Point (shape as in :func:`loss_and_grad`).
    target, model, reg
        As in :func:`loss_and_grad`.
    method : {"auto", "analytic", "complex_step"}
        ``"auto"``: analytic for the plain model, complex step otherwise. ``"analytic"`` requires
        ``model="plain"``.

    Returns
    -------
    callable
        ``V`` (same shape as ``W``) ``-> ∇²f(W)[V]``.
    """
    W, model, reg = validate_problem(W, target, model, reg)
    method = _check_hvp_method(method, model)
    op = _hessian_operator(W, target, model, reg, method)
    shape = W.shape

    def apply(V: Any) -> np.ndarray:
        return np.asarray(op(as_float_array(V, "V", shape=shape)))

    return apply


def hessian_vector_product(
    W: Any,
    V: Any,
    target: Tensor,
    *,
    model: str,
    reg: float = 0.0,
    h: float = 1e-30,
    method: str = "complex_step",
) -> np.ndarray:
    """Hessian-vector product ``∇²f(W)[V]``, by the complex-step derivative of the gradient or analytically.

    The loss is a real-analytic function of ``W`` (away from zero rows for ``homogeneous``), so
    ``∇²f(W)V = Im ∇f(W + ihV)/h + O(h²)``; with ``h = 1e-30`` this is exact to rounding, with no
    subtractive cancellation (Squire & Trapp 1998). Cost: one complex gradient (about 4 real ones).
    ``method="analytic"`` (plain model) uses the Gram form of :func:`hessian_operator` instead
    (docs/math.md §3): measured faster, see ``benchmarks/bench_stiff.py``.

    Parameters
    ----------
    W, V : array_like, same shape
        Point and direction.
    target, model, reg
        As in :func:`loss_and_grad`.
    h : float
        Complex step, ``0 < h <= 1e-8`` (``method="complex_step"``).
    method : {"complex_step", "analytic", "auto"}
        As in :func:`hessian_operator`.
    """
    W, model, reg = validate_problem(W, target, model, reg)
    V = as_float_array(V, "V", ndim=2)
    if V.shape != W.shape:
        raise ValueError(f"V must have the shape of W, {W.shape}, got {V.shape}")
    h = check_real(h, "h", minimum=0.0, strict=True, maximum=1e-8)
    method = _check_hvp_method(method, model)
    if method == "complex_step" or (method == "auto" and model != "plain"):
        return _complex_step_hvp(W, V, target, model, reg, h)
    return np.asarray(_PlainHessian(W, target, reg)(V))


def model_tensor(W: Any, order: int, *, model: str) -> LowRankTensor:
    """``T(W)`` as a :class:`LowRankTensor` (no ``d^l`` array): ``Σ_i s_i x_i^{⊗l}``."""
    from ._validate import check_order

    order = check_order(order)
    model = check_choice(model, "model", MODELS)
    W = as_float_array(W, "W", ndim=2)
    if model == "coefficient" and W.shape[1] < 2:
        raise ValueError(
            f"W must have shape (m, d+1) with d >= 1 for model='coefficient', got {W.shape}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        s, X, _ = _split(W, model)
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(X))):
        raise ValueError(
            f"W is too large for model={model!r}: the model's coefficients overflow "
            f"(largest |entry| {float(np.max(np.abs(W))):.3g})"
        )
    return LowRankTensor(s, X, order)
