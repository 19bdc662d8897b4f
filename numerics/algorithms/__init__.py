"""Algorithms of the two papers (model-choice reconstructions documented in each module).

* :mod:`.beyond` — paper 1's gradient-descent variant that goes beyond the lazy regime;
* :mod:`.deflation` — paper 2's modified gradient flow (Algorithm 1 reconstruction);
* :mod:`.tracking` — per-component tracking (fit curves, fit times, fit order) for any trajectory.
"""

from .beyond import (  # noqa: E402,F401
    BaselineResult,
    BeyondLazyResult,
    CriticalPoint,
    EndPointClassification,
    ReinitEvent,
    beyond_lazy_descent,
    classify_end_point,
    fit_succeeded,
    hessian_min_eigenvalue,
    plain_descent_baseline,
    refine_critical_point,
    relative_error,
    residual_direction,
    target_scale,
)
from .deflation import DeflationResult, EpochRecord, modified_gradient_flow  # noqa: F401
from .tracking import (  # noqa: F401
    ComponentTracking,
    attributed_weights,
    fit_events,
    initial_alignment,
    track_components,
    track_flow,
    tracking_observers,
)
