"""Step 1 of a run: the plan, everything decided and checked before a replication runs.

:func:`plan_run` applies the caller's overrides to the scenario's run settings
(checked like the file's), refuses a run that would exceed its budgets, chooses
the engine (and loads or compiles the fast loop before any worker starts: a
forked worker inherits it) and the worker processes. What it returns,
:class:`RunPlan`, is all that the later steps read:
:mod:`~eda_sim.experiment.execution` (run replications on an executor),
:mod:`~eda_sim.experiment.precision` (add replications in rounds until a target
precision) and :mod:`~eda_sim.experiment.run_summary` (warm-up, batches,
intervals, the result).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from eda_sim.errors import Fault, ScenarioError
from eda_sim.experiment.diagnostics import precision_start
from eda_sim.experiment.engines import ENGINES, EngineName, choose_engine, prepare_engine
from eda_sim.experiment.planning import check_workers, run_workers
from eda_sim.scenario import RunSettings, Scenario
from eda_sim.scenario.budgets import DEFAULT_MAX_VISITS, MAX_REPLICATIONS, budget_faults
from eda_sim.scenario.model import raise_if

__all__ = ["DEFAULT_MAX_REPLICATIONS", "CiMethod", "RunPlan", "plan_run"]

CiMethod = Literal["replications", "batch-means"]

#: Cap on replications when a precision is asked for and no cap is given.
DEFAULT_MAX_REPLICATIONS = 200


@dataclass(frozen=True)
class RunPlan:
    """What a run does, decided before it starts.

    Attributes
    ----------
    scenario : Scenario
        The scenario with the run's settings (the caller's overrides applied).
    ci : {"replications", "batch-means"}
        Independent replications or batch means of one long replication.
    cap : int
        The most replications the precision rounds may reach.
    keep_paths : bool
        Every replication keeps its sample path (MSER-5 and batch means need it).
    engine : {"simpy", "fast"}
        The engine that runs (never ``"auto"``).
    compiled_in : float or None
        Seconds the fast loop took to compile for this run, None if it did not.
    workers : int or None
        Worker processes (1: this process), as :func:`open_executor` takes them.
    isolate : bool
        Run even one worker in its own process (the work is long: a crash there
        does not take this process with it).
    trace : bool
        Replication 0 keeps its every arrival, start and departure (SimPy engine).
    """

    scenario: Scenario
    ci: CiMethod
    cap: int
    keep_paths: bool
    engine: str
    compiled_in: float | None
    workers: int | None
    isolate: bool
    trace: bool = False

    @property
    def settings(self) -> RunSettings:
        """The run settings in force."""
        return self.scenario.run

    @property
    def target(self) -> float | str | None:
        """The target relative half-width, ``"slo"`` (until every SLO is decided), or None."""
        return self.scenario.run.precision

    @property
    def first_round(self) -> int:
        """Replications of the first round (batch means: one long replication).

        With a target precision at least :func:`~eda_sim.experiment.diagnostics.precision_start`
        (at most the cap).
        """
        if self.ci == "batch-means":
            return 1
        return min(self.cap, precision_start(self.settings.replications, self.target))

    @property
    def batch_means(self) -> bool:
        """One long replication cut into batches (its sketches cut at every grid point)."""
        return self.ci == "batch-means"

    @property
    def engine_warmup(self) -> float:
        """The warm-up the engine cuts (0 with ``auto``: MSER-5 cuts after the run)."""
        return self.settings.warmup_time


def plan_run(
    scenario: Scenario,
    overrides: dict[str, object],
    *,
    ci: CiMethod,
    max_replications: int | None,
    workers: int | None,
    pooled: bool,
    engine: EngineName,
    max_visits: float | None,
    notify: Callable[[str], None] | None,
    trace: bool = False,
) -> RunPlan:
    """The plan of :func:`~eda_sim.experiment.runner.run` (its parameters, checked).

    ``overrides`` are the run settings to replace (None: the scenario's);
    ``pooled`` is False when the caller gave an executor or a scheduler (the
    workers are then theirs, not planned here).

    Raises
    ------
    ScenarioError
        A bad setting, or a run over its budgets, named by field.
    """
    if ci not in ("replications", "batch-means"):
        raise ScenarioError(Fault("ci", f"must be replications or batch-means, got {ci!r}"))
    if engine not in ENGINES:
        raise ScenarioError(Fault("engine", f"must be auto, simpy or fast, got {engine!r}"))
    scenario = scenario.with_run(**overrides)
    settings = scenario.run
    target = settings.precision
    cap = (
        max_replications
        if max_replications is not None
        else max(DEFAULT_MAX_REPLICATIONS, settings.replications)
    )
    if cap > MAX_REPLICATIONS:
        raise ScenarioError(Fault("max_replications", f"must be <= {MAX_REPLICATIONS}, got {cap}"))
    if cap < settings.replications:
        raise ScenarioError(
            Fault(
                "max_replications", f"must be >= replications ({settings.replications}), got {cap}"
            )
        )
    if ci == "batch-means" and target is not None:
        raise ScenarioError(Fault("precision", "applies to replications, not to batch means"))
    keep_paths = settings.warmup == "auto" or ci == "batch-means"
    most = 1 if ci == "batch-means" else cap if target is not None else settings.replications
    limit = DEFAULT_MAX_VISITS if max_visits is None else max_visits
    raise_if(budget_faults(scenario, replications=most, keep_paths=keep_paths, max_visits=limit))
    check_workers(workers)
    # Chosen, and the compiled loop loaded (or compiled), before any worker starts: a
    # forked worker inherits the loop warmed here. Workers are planned for the engine
    # that runs, never for "auto".
    choice = choose_engine(engine, scenario, 1 if ci == "batch-means" else None)
    compiled_in = prepare_engine(choice, notify)
    isolate = False
    if pooled:
        workers, isolate = run_workers(scenario, workers, choice.name, most, target is not None)
    return RunPlan(
        scenario=scenario,
        ci=ci,
        cap=cap,
        keep_paths=keep_paths,
        engine=choice.name,
        compiled_in=compiled_in,
        workers=workers,
        isolate=isolate,
        trace=trace,
    )
