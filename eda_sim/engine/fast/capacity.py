"""Capacity and loss: a station holds at most ``capacity[i]`` events (steps).

``capacity[i]`` is -1 for a station without a limit. Hook point: :func:`full`
at the **arrival** at a station, before the servers admit the event; a full
station refuses it and it leaves the system, lost.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.jit import step

__all__ = ["full"]


@step
def full(capacity: np.ndarray, monitors: np.ndarray, i: int) -> bool:
    """True when station ``i`` holds as many events as it may."""
    limit = capacity[i]
    return bool(limit >= 0 and monitors[i].present >= limit)
