"""Claim registry, runner, results store, sweeps, figures and report rendering.

The notebook API (:mod:`reports.api`) is available at the top level, imported on first use::

    import reports
    reports.check("foundation.gram-identity")          # like `overtensor check ID`
    reports.report(["foundation.gram-identity"], out="rep", load="my_claim.py")
    reports.list_claims(load="my_claim.py")            # like `overtensor claims --load`
"""

from __future__ import annotations

from typing import Any

_API = ("check", "report", "list_claims", "CheckResult", "ReportResult")

__all__ = [*_API, "load"]


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "load":
        from .loading import load

        return load
    raise AttributeError(f"module 'reports' has no attribute {name!r}")
