"""Small plotting helpers shared by the claim modules (matplotlib, Agg backend)."""

from __future__ import annotations

from typing import Any


def legend(ax: Any, **kwargs: Any) -> None:
    """``ax.legend(**kwargs)`` when the axes has labelled artists; nothing on an empty figure.

    A claim's ``plot`` must render even when no run succeeded; matplotlib warns on a legend
    without labelled artists, so the legend is left out then.
    """
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(**kwargs)
