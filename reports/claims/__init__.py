"""The built-in claims, one file per claim, grouped by paper (auto-discovered).

* :mod:`reports.claims.paper1` — "Beyond Lazy Training for Over-parameterized Tensor Decomposition"
  (Wang, Wu, Lee, Ma, Ge, NeurIPS 2020): the lazy (NTK) lower bound and the variant's upper bound;
* :mod:`reports.claims.paper2` — "Understanding Deflation Process in Over-parametrized Tensor
  Decomposition" (Ge, Ren, Wang, Zhou, NeurIPS 2021): deflation order, fit times, Algorithm 1;
* :mod:`reports.claims.classical` — the classical and derived facts the suite relies on (Gram
  identities, gradients, symbolic derivations).

Every module whose name does not start with ``_`` is imported in name order and declares one claim
(or a tightly coupled pair) with :func:`reports.registry.declare`; modules starting with ``_`` hold
the helpers shared by the claims beside them (:mod:`reports.claims._evidence` for all of them).
"""

from __future__ import annotations

import importlib
import pkgutil

from ..registry import discard_pending, seal


def _import_all() -> None:
    for info in sorted(pkgutil.walk_packages(__path__, f"{__name__}."), key=lambda m: m.name):
        leaf = info.name.rsplit(".", 1)[1]
        if leaf.startswith("_"):
            continue
        try:
            importlib.import_module(info.name)
        except BaseException:
            discard_pending()
            raise
        seal()


_import_all()
