"""Matrix-free stiff integration of the gradient flow, and the explicit-to-implicit ``auto`` switch.

Why: with small initialisation the plain model's flow is stiff (docs/math.md §6): after the first fit
the fitted components' curvature, of order 1, bounds an explicit step, while the escape times of the
remaining components grow like ``δ0^{-(l-2)}``. An implicit method takes steps as long as the dynamics
allow; its Newton systems ``(I - γJ) x = b`` with ``J = -∇²f`` are solved by GMRES on Hessian-vector
products, so no ``md × md`` matrix is ever formed (memory ≈ Krylov dimension × ``md``).

:class:`CVODEStepper` drives SUNDIALS CVODE (variable-order BDF, Newton–GMRES) through the PyPI package
``scikit-sundae`` (manylinux wheels with SUNDIALS bundled), one internal step at a time, with the
stepping interface of :class:`scipy.integrate.OdeSolver` (``step``, ``t``, ``y``, ``t_old``,
``status``, ``dense_output``) so :func:`numerics.flow.gradient_flow` treats it like scipy's solvers:
observers and events are evaluated on CVODE's own interpolant of the last step. Chosen by measurement
over scipy's LSODA/BDF (dense Jacobians) and RK45 (README, Performance: "Stiff flows").

:class:`AutoStepper` starts with RK45 and switches to CVODE once the Dormand–Prince stiffness test of
Hairer & Wanner (``h·|λ| ≈ h·||k7 - k6|| / ||y1 - y6|| > 2.5`` on 15 tested steps, with 6
non-stiff tests in a row resetting the count; "Solving ODEs II", §IV.2, as in their DOPRI5 code,
which uses 3.25: the estimate is a Rayleigh-type lower bound of ``h·|λ_max|``, and at d = 1000 the
slow rows' drift in ``y1 - y6`` keeps it oscillating between 3.0 and 3.7 on stability-bounded steps)
says the step size is bounded by stability rather than accuracy, like LSODA but one way (gradient
flows do not return from stiffness: the fitted components' curvature stays). Non-stiff runs never
leave RK45 and pay one extra ``O(md)`` vector operation per step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.integrate import RK45

__all__ = ["AutoStepper", "CVODEStepper", "JACOBIANS", "require_sksundae"]

#: Jacobian-vector products for the Newton–GMRES solves: ``"analytic"`` (a user-supplied
#: Hessian-vector product, e.g. the plain model's Gram form) or ``"dq"`` (difference quotient of two
#: gradient evaluations, ``(f(y + σv) - f(y))/σ``).
JACOBIANS = ("analytic", "dq")

Fun = Callable[[float, np.ndarray], np.ndarray]
JacTimes = Callable[[np.ndarray, np.ndarray], np.ndarray]


def require_sksundae() -> Any:
    """Import ``sksundae.cvode`` or raise an ImportError that says how to install it."""
    try:
        from sksundae import cvode
    except ImportError as exc:
        raise ImportError(
            "method='CVODE' (and method='auto' once the flow turns stiff) needs the package "
            "'scikit-sundae' (SUNDIALS CVODE): pip install scikit-sundae, or reinstall overtensor "
            "(`pip install -e .`), which depends on it"
        ) from exc
    return cvode


class CVODEStepper:
    """CVODE BDF with Newton–GMRES, stepped one internal step at a time (scipy ``OdeSolver`` interface).

    Parameters
    ----------
    fun : callable(t, y) -> ndarray
        Right-hand side (float64 vector of the state's size).
    t0 : float
        Initial time.
    y0 : ndarray
        Initial state (float64, 1-D).
    t_bound : float
        End of the integration; CVODE never steps past it (``tstop``).
    rtol, atol : float
        Tolerances.
    max_step : float
        Largest step (``inf``: unbounded).
    first_step : float, optional
        Initial step; CVODE estimates it when None.
    jtimes : callable(y, v) -> ndarray, optional
        ``J(y)·v`` for the Jacobian ``J = ∂fun/∂y`` at the Newton iterate ``y``; when None, the
        difference quotient ``(fun(y + σv) - fun(y))/σ`` with ``σ = √dq_eps·max(1, ||y||)/||v||``
        (``fun(y)`` is the value CVODE just computed: one evaluation per product).
    dq_eps : float
        Machine epsilon of ``fun``'s arithmetic (float32 gradients: ``2**-23``); the increment balances
        truncation and rounding error. The Newton iteration only needs an approximate Jacobian.
    krylov_dim : int
        Largest Krylov subspace of GMRES (memory ≈ ``krylov_dim`` state vectors).

    Attributes
    ----------
    nhvp : int
        Jacobian-vector products made (analytic products or difference quotients).
    """

    def __init__(
        self,
        fun: Fun,
        t0: float,
        y0: np.ndarray,
        t_bound: float,
        *,
        rtol: float = 1e-6,
        atol: float = 1e-9,
        max_step: float = np.inf,
        first_step: float | None = None,
        jtimes: JacTimes | None = None,
        dq_eps: float = float(np.finfo(np.float64).eps),
        krylov_dim: int = 20,
        precond: Callable[[np.ndarray], Callable[[np.ndarray, float], np.ndarray]] | None = None,
    ) -> None:
        cvode = require_sksundae()
        self.fun = fun
        self.t = float(t0)
        self.t_old: float | None = None
        self.y = np.array(y0, dtype=np.float64)
        self.t_bound = float(t_bound)
        self.status = "running"
        self.nhvp = 0
        self.dq_evals = 0  # calls of ``fun`` made by difference quotients (they are in ``nhvp``)
        user_jtimes = jtimes
        sqrt_eps = float(np.sqrt(dq_eps))

        def rhs(t: float, y: np.ndarray, yp: np.ndarray) -> None:
            yp[:] = fun(t, np.array(y))  # y is SUNDIALS memory: copy before anyone keeps it

        def jv_solve(
            t: float, y: np.ndarray, yp: np.ndarray, v: np.ndarray, Jv: np.ndarray
        ) -> None:
            self.nhvp += 1
            if user_jtimes is not None:
                Jv[:] = user_jtimes(np.array(y), np.array(v))
                return
            vnorm = float(np.linalg.norm(v))
            if vnorm == 0.0:
                Jv[:] = 0.0
                return
            sigma = sqrt_eps * max(1.0, float(np.linalg.norm(y))) / vnorm
            self.dq_evals += 1
            Jv[:] = (fun(t, y + sigma * v) - yp) / sigma

        options: dict[str, Any] = {
            "method": "BDF",
            "linsolver": "gmres",
            "krylov_dim": int(krylov_dim),
            "rtol": float(rtol),
            "atol": float(atol),
            "max_num_steps": 100_000,
            "jactimes": cvode.CVODEJacTimes(None, jv_solve),
        }
        if precond is not None:
            state: dict[str, Any] = {}

            def p_setup(
                t: float, y: np.ndarray, yp: np.ndarray, jok: int, jnew: list, gamma: float
            ) -> None:
                state["solve"] = precond(np.array(y))
                jnew[0] = 1

            def p_solve(
                t: float,
                y: np.ndarray,
                yp: np.ndarray,
                r: np.ndarray,
                z: np.ndarray,
                gamma: float,
                delta: float,
                lr: int,
            ) -> None:
                z[:] = state["solve"](np.array(r), gamma)

            options["precond"] = cvode.CVODEPrecond(p_setup, p_solve, side="left")
        if np.isfinite(max_step):
            options["max_step"] = float(max_step)
        if first_step is not None:
            options["first_step"] = float(first_step)
        self._solver = cvode.CVODE(rhs, **options)
        result = self._solver.init_step(self.t, self.y)
        if not result.success:
            raise RuntimeError(f"CVODE initialisation failed: {result.message}")

    def step(self) -> str | None:
        """Advance by one internal CVODE step (never past ``t_bound``); a message on failure."""
        result = self._solver.step(self.t_bound, method="onestep", tstop=self.t_bound)
        if not result.success:
            self.status = "failed"
            return f"CVODE: {result.message} (flag {result.status})"
        self.t_old, self.t = self.t, float(result.t)
        self.y = np.asarray(result.y, dtype=np.float64)
        if self.t >= self.t_bound:
            self.status = "finished"
        return None

    def dense_output(self) -> Callable[[float], np.ndarray]:
        """CVODE's interpolant of the last step, valid on ``[t_old, t]`` (until the next step)."""
        solver, t_now, y_now = self._solver, self.t, self.y

        def evaluate(s: float) -> np.ndarray:
            if s == t_now:
                return y_now
            result = solver.step(float(s), method="normal")
            if not result.success:
                raise RuntimeError(f"CVODE interpolation at t={s} failed: {result.message}")
            return np.asarray(result.y, dtype=np.float64)

        return evaluate


class AutoStepper:
    """RK45 until the Dormand–Prince stiffness test fires, then :class:`CVODEStepper` from that state.

    Parameters
    ----------
    fun, t0, y0, t_bound, rtol, atol, max_step, first_step
        As for :class:`scipy.integrate.RK45`.
    make_stiff : callable(t, y, h) -> CVODEStepper
        Builds the implicit stepper at the switching state; ``h`` is RK45's last step (CVODE's first).
    stiff_ratio : float
        Threshold on the estimate ``h·|λ|`` (DOPRI5's stability boundary on the negative axis ≈ 3.3;
        Hairer's code uses 3.25, 2.5 here, see the module docstring).
    stiff_steps : int
        Tested steps above the threshold that declare the problem stiff.

    Attributes
    ----------
    switch_t : float or None
        Time of the switch to CVODE (None while explicit).
    """

    # Dormand–Prince tableau row of the 6th stage (evaluated at t + h, like the 7th).
    _A6 = np.array(RK45.A[5, :5])

    def __init__(
        self,
        fun: Fun,
        t0: float,
        y0: np.ndarray,
        t_bound: float,
        *,
        make_stiff: Callable[[float, np.ndarray, float], CVODEStepper],
        rtol: float = 1e-6,
        atol: float = 1e-9,
        max_step: float = np.inf,
        first_step: float | None = None,
        stiff_ratio: float = 2.5,
        stiff_steps: int = 15,
    ) -> None:
        kwargs: dict[str, Any] = {"rtol": rtol, "atol": atol, "max_step": max_step}
        if first_step is not None:
            kwargs["first_step"] = first_step
        self.explicit = RK45(fun, t0, y0, t_bound, **kwargs)
        self.current: Any = self.explicit
        self.make_stiff = make_stiff
        self.stiff_ratio = float(stiff_ratio)
        self.stiff_steps = int(stiff_steps)
        self.switch_t: float | None = None
        self._stiff_count = 0
        self._calm_count = 0
        self._pending = False

    @property
    def t(self) -> float:
        return float(self.current.t)

    @property
    def y(self) -> np.ndarray:
        return np.asarray(self.current.y)

    @property
    def t_old(self) -> float | None:
        return self.current.t_old

    @property
    def status(self) -> str:
        return str(self.current.status)

    @property
    def nhvp(self) -> int:
        return int(getattr(self.current, "nhvp", 0))

    @property
    def dq_evals(self) -> int:
        return int(getattr(self.current, "dq_evals", 0))

    def stiffness_estimate(self) -> float:
        """``h·||k7 - k6|| / ||y1 - y6||`` of RK45's last step (an estimate of ``h·|λ_max|``)."""
        s = self.explicit
        h = s.t - s.t_old
        y6 = s.y_old + h * (s.K[:5].T @ self._A6)
        den = float(np.linalg.norm(s.y - y6))
        if den == 0.0:
            return 0.0
        return h * float(np.linalg.norm(s.K[6] - s.K[5])) / den

    def step(self) -> str | None:
        if self._pending:
            self._pending = False
            h = self.explicit.t - self.explicit.t_old
            self.switch_t = float(self.explicit.t)
            self.current = self.make_stiff(self.explicit.t, np.array(self.explicit.y), h)
        msg = self.current.step()
        if self.current is self.explicit and self.current.status == "running":
            if self.stiffness_estimate() > self.stiff_ratio:
                self._calm_count = 0
                self._stiff_count += 1
                if self._stiff_count >= self.stiff_steps:
                    self._pending = (
                        True  # switch before the next step (this one's output is RK45's)
                    )
            else:
                self._calm_count += 1
                if self._calm_count >= 6:
                    self._stiff_count = 0
        return msg

    def dense_output(self) -> Any:
        return self.current.dense_output()
