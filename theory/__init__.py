"""Symbolic truth with sympy: derivations, exact predictions, code generation.

Never imports :mod:`numerics`: the two are independent routes to the same numbers.

Modules
-------
``dimensions``  ``sym_dim``, ``generic_tangent_dim`` (Alexander–Hirschowitz), ``lazy_threshold`` (docs/math.md §4).
``kernel``      expected NTK ``P_l(ρ)`` and ``E K(x, y)`` from Gaussian moments (docs/math.md §4).
``dynamics``    reduced 1-D dynamics by ``dsolve``: plain escape time, two-homogeneous fit time (§6).
``symbolic``    explicit symbolic tensors, losses, gradients, Gram-form identities, tangent Gram,
                Taylor expansion at 0, and ``lambdify`` references for :mod:`numerics` (§2–5).
"""

from .dimensions import AH_DEFECTIVE, generic_tangent_dim, lazy_threshold, sym_dim
from .dynamics import (
    homogeneous_alignment_time_expr,
    homogeneous_fit_time,
    homogeneous_fit_time_expr,
    homogeneous_fit_time_next,
    homogeneous_growth_time_expr,
    homogeneous_lag_expr,
    perpendicular_invariant_exponent,
    plain_escape_time,
    plain_escape_time_expr,
    plateau_deviation,
    plateau_time_expr,
)
from .kernel import (
    RHO,
    SIGMA,
    M,
    bivariate_gaussian_moment,
    expected_ntk,
    expected_ntk_poly,
    lambdify_expected_ntk,
    wick_moment,
)
from .symbolic import (
    MODELS,
    IdentityCheck,
    SymbolicProblem,
    gram_gradient,
    gram_loss,
    lambdify_contractions,
    lambdify_loss_and_grad,
    loss_taylor_coefficients,
    problem_symbols,
    saddle_order_at_zero,
    symbolic_gradient,
    symbolic_loss,
    symbolic_model_tensor,
    tangent_gram_closed_form,
    tangent_gram_explicit,
    tangent_kernel_closed_form,
    tangent_kernel_reference,
    verify_gram_identity,
    verify_tangent_gram,
    verify_tangent_kernel_action,
)

__all__ = [
    "AH_DEFECTIVE",
    "MODELS",
    "IdentityCheck",
    "SymbolicProblem",
    "gram_gradient",
    "gram_loss",
    "lambdify_contractions",
    "lambdify_expected_ntk",
    "lambdify_loss_and_grad",
    "loss_taylor_coefficients",
    "problem_symbols",
    "saddle_order_at_zero",
    "symbolic_gradient",
    "symbolic_loss",
    "symbolic_model_tensor",
    "tangent_gram_closed_form",
    "tangent_gram_explicit",
    "tangent_kernel_closed_form",
    "tangent_kernel_reference",
    "verify_gram_identity",
    "verify_tangent_gram",
    "verify_tangent_kernel_action",
    "M",
    "RHO",
    "SIGMA",
    "bivariate_gaussian_moment",
    "expected_ntk",
    "expected_ntk_poly",
    "generic_tangent_dim",
    "homogeneous_alignment_time_expr",
    "homogeneous_fit_time",
    "homogeneous_fit_time_expr",
    "homogeneous_growth_time_expr",
    "homogeneous_fit_time_next",
    "homogeneous_lag_expr",
    "perpendicular_invariant_exponent",
    "plateau_deviation",
    "plateau_time_expr",
    "lazy_threshold",
    "plain_escape_time",
    "plain_escape_time_expr",
    "sym_dim",
    "wick_moment",
]
