"""Fast evaluation with numpy/scipy: implicit tensor algebra, models, gradient flow, algorithms.

Never imports :mod:`theory`: the two are independent routes to the same numbers.
"""

from .flow import Trajectory, component_fits, component_norms, gradient_descent, gradient_flow
from .init import gaussian_init, sphere_init
from .models import hessian_operator, hessian_vector_product, loss, loss_and_grad, model_tensor
from .tensors import (
    DenseTensor,
    LowRankTensor,
    distance,
    inner,
    orthogonal_tensor,
    random_dense_symmetric,
    random_low_rank,
    random_unit_vectors,
)

__all__ = [
    "DenseTensor",
    "LowRankTensor",
    "Trajectory",
    "component_fits",
    "component_norms",
    "distance",
    "gradient_descent",
    "gaussian_init",
    "gradient_flow",
    "hessian_operator",
    "hessian_vector_product",
    "inner",
    "loss",
    "loss_and_grad",
    "model_tensor",
    "orthogonal_tensor",
    "random_dense_symmetric",
    "random_low_rank",
    "random_unit_vectors",
    "sphere_init",
]
