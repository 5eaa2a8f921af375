"""How much work a run or a sweep is, and on how many processes it runs (layer 5).

The expected work (station visits per replication, from the traffic equations:
:func:`eda_sim.scenario.budgets.expected_visits`) serves twice: the budgets refuse
a run beyond its limits before anything runs, and the number of worker
processes is chosen from it (:func:`eda_sim.experiment.executors.choose_workers`):
a short run starts no pool, a long one uses every CPU, an explicit ``workers``
wins.
"""

from __future__ import annotations

from collections.abc import Sequence

from eda_sim.errors import Fault, ScenarioError
from eda_sim.experiment.executors import (
    choose_workers,
    expected_seconds,
    max_workers,
    worker_limit_message,
    worker_start_seconds,
)
from eda_sim.scenario import Scenario
from eda_sim.scenario.budgets import budget_faults, expected_visits

__all__ = [
    "MAX_BUDGET_FAULTS",
    "check_workers",
    "run_workers",
    "sweep_budget_faults",
    "sweep_workers",
]

#: The engines whose work is known (``"auto"`` is resolved to one of them first).
RESOLVED_ENGINES = ("simpy", "fast")
#: Budget faults of a sweep reported before the rest are left out (every point may break one).
MAX_BUDGET_FAULTS = 10


def _resolved(engine: str) -> None:
    """Refuse an engine that was not resolved: the work of "auto" is not known."""
    if engine not in RESOLVED_ENGINES:
        raise ValueError(f"plan workers for the engine that runs (simpy or fast), not {engine!r}")


def check_workers(workers: int | None) -> None:
    """Refuse a ``workers`` below 1 or above :func:`~eda_sim.experiment.executors.max_workers`."""
    if workers is not None and workers < 1:
        raise ScenarioError(Fault("workers", f"must be >= 1, got {workers}"))
    if workers is not None and workers > max_workers():
        raise ScenarioError(Fault("workers", worker_limit_message(workers)))


def run_workers(
    scenario: Scenario, workers: int | None, engine: str, most: int, rounds: bool
) -> tuple[int, bool]:
    """The processes to run on (checked, or chosen from the work), and whether to isolate one.

    ``engine`` is the engine that runs (``"simpy"`` or ``"fast"``, as
    :func:`~eda_sim.experiment.engines.choose_engine` resolved it, never ``"auto"``):
    the work and a worker's start cost are the engine's.

    With a precision target the first round's replications are counted four times
    (later rounds add more). A compiled replication expected to take over a second
    runs in a worker even alone, so that Ctrl-C stops it at once.
    """
    _resolved(engine)
    check_workers(workers)
    tasks = min(most, 4 * scenario.run.replications) if rounds else most
    visits = expected_visits(scenario)
    seconds = expected_seconds(visits, tasks, len(scenario.stations), engine)
    chosen = choose_workers(
        workers, tasks=tasks, seconds=seconds, start=worker_start_seconds(engine)
    )
    isolate = workers is None and engine == "fast" and seconds / max(1, tasks) > 1.0
    return chosen, isolate


def sweep_budget_faults(
    variants: dict[int, Scenario], param: str, values: Sequence[float], max_visits: float
) -> list[Fault]:
    """Every point's budget faults (:func:`~eda_sim.scenario.budgets.budget_faults`), named."""
    faults: list[Fault] = []
    for index, variant in variants.items():
        settings = variant.run
        for fault in budget_faults(
            variant,
            replications=settings.replications,
            keep_paths=settings.warmup == "auto",
            max_visits=max_visits,
        ):
            named = Fault(
                fault.path,
                f"at sweep point {index + 1} of {len(values)} ({param} = {values[index]:g}), "
                f"{fault.message}",
            )
            if named not in faults:
                faults.append(named)
        if len(faults) >= MAX_BUDGET_FAULTS:
            break
    return faults


def sweep_workers(
    variants: dict[int, Scenario], workers: int | None, engine: str
) -> tuple[int, bool]:
    """Processes for the whole sweep, from the expected work of all its points.

    ``engine`` is the engine that runs, as for :func:`run_workers`.
    """
    _resolved(engine)
    check_workers(workers)
    seconds = 0.0
    slowest = 0.0
    most = 1
    for variant in variants.values():
        reps = variant.run.replications
        point = expected_seconds(expected_visits(variant), reps, len(variant.stations), engine)
        seconds += point
        slowest = max(slowest, point / reps)
        most = max(most, reps)
    chosen = choose_workers(
        workers, tasks=most, seconds=seconds, start=worker_start_seconds(engine)
    )
    return chosen, workers is None and engine == "fast" and slowest > 1.0
