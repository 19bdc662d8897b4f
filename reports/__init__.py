"""Claim registry, runner, results store, sweeps, figures and report rendering.

The notebook API (:mod:`reports.api`) is available at the top level, imported on first use::

    import reports
    reports.list_claims(["deflation"])                 # like `overtensor claims deflation`
    reports.check("foundation.gram-identity")          # like `overtensor check ID`
    reports.report(["paper2"], out="rep", load="my_claim.py")

``dir(reports)`` lists these public names (:data:`__all__`); the submodules are imported by name.
"""

from __future__ import annotations

_API = ("check", "report", "list_claims", "CheckResult", "ClaimList", "ReportResult")

__all__ = [*_API, "load"]


def __getattr__(name: str) -> object:
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "load":
        from .loading import load

        return load
    raise AttributeError(f"module 'reports' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API only (tab completion offers no ``annotations`` or helper names)."""
    return sorted(__all__)
