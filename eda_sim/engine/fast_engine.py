"""The fast engine's former single module, kept so that existing imports keep working.

The engine is the package :mod:`eda_sim.engine.fast` (a driver, and one module
of compiled steps per mechanism); import from there in new code.
"""

from eda_sim.engine.fast import (
    ENGINE_NAME,
    MISSING_NUMBA,
    check_supported,
    load_kernel,
    simulate_replication_fast,
)

__all__ = [
    "ENGINE_NAME",
    "MISSING_NUMBA",
    "check_supported",
    "load_kernel",
    "simulate_replication_fast",
]
