"""The claims known to this process: built-in, entry points and ``--load``-ed (sits above loading).

:func:`all_claims` and :func:`get_claim` import the built-in claims (:mod:`reports.claims`) and the
``overtensor.claims`` entry points once, then read :data:`reports.registry.REGISTRY`.
"""

from __future__ import annotations

from .loading import load_entry_points
from .registry import REGISTRY, Claim

__all__ = ["all_claims", "get_claim"]


def _import_claims() -> None:
    """Import the built-in claims and the ``overtensor.claims`` entry points (once)."""
    from . import claims  # noqa: F401  (registers on import)

    load_entry_points()


def all_claims() -> list[Claim]:
    """Every registered claim, sorted by id (built-in, entry-point and ``--load``-ed claims)."""
    _import_claims()
    return [REGISTRY[k] for k in sorted(REGISTRY)]


def get_claim(claim_id: str) -> Claim:
    """The claim with id ``claim_id``; ``KeyError`` naming the known ids otherwise."""
    _import_claims()
    try:
        return REGISTRY[claim_id]
    except KeyError:
        raise KeyError(
            f"unknown claim id {claim_id!r}; known ids: {', '.join(sorted(REGISTRY))}"
        ) from None
