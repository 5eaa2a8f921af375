"""The SimPy engine's former single module, kept so that existing imports keep working.

The engine is the package :mod:`eda_sim.engine.simpy` (one module per
mechanism); import from there in new code.
"""

from eda_sim.engine.simpy import (
    COUNT_WINDOW_ARRIVALS,
    ENGINE_NAME,
    MAX_GAP_SAMPLE,
    PATH_INTERVALS,
    simulate_replication,
)

__all__ = [
    "COUNT_WINDOW_ARRIVALS",
    "ENGINE_NAME",
    "MAX_GAP_SAMPLE",
    "PATH_INTERVALS",
    "simulate_replication",
]
