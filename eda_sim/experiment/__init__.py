"""Experiments (layer 5): replications, warm-up, precision, batch means, executors, sweeps."""

from eda_sim.experiment.executors import WorkerLostError, default_workers, open_executor
from eda_sim.experiment.runner import (
    BATCH_COUNT,
    DEFAULT_MAX_REPLICATIONS,
    CiMethod,
    ProgressCallback,
    run,
)
from eda_sim.experiment.sweeps import SweepResult, parse_values, sweep
from eda_sim.results import PrecisionReport

__all__ = [
    "BATCH_COUNT",
    "DEFAULT_MAX_REPLICATIONS",
    "CiMethod",
    "PrecisionReport",
    "ProgressCallback",
    "SweepResult",
    "WorkerLostError",
    "default_workers",
    "open_executor",
    "parse_values",
    "run",
    "sweep",
]
