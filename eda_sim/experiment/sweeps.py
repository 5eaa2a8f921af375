"""Parameter sweeps: one scenario run at several values of one number (layer 5).

:func:`sweep` derives one variant of the scenario per value with
:func:`~eda_sim.scenario.paths.replace_value`, runs each with
:func:`~eda_sim.experiment.runner.run`, and gathers the results into one tidy
table (one row per value × scope × name × metric, with the confidence interval,
the theory and its method beside each figure). The values are read in
:mod:`~eda_sim.experiment.sweep_values`, the table and its JSON/CSV forms are
:mod:`~eda_sim.experiment.sweep_table`'s (their names are importable from here).

Decisions, in the order a sweep meets them:

* **Everything is checked before anything runs.** A value that makes the
  scenario invalid (a probability above 1, a fractional number of servers, a
  warm-up past the horizon) stops the sweep with one fault per problem, each
  naming the sweep point.
* **Unstable points are skipped, not refused.** A point where a station with
  unlimited capacity is offered a load ρ >= 1 gets one row with
  ``status = "skipped"`` and the reason, so a load sweep can cross saturation and
  show where the system breaks. ``allow_unstable=True`` runs such points anyway.
* **Common random numbers.** Every point runs with the same seed (the
  scenario's, or ``seed``), so the differences between points are not blurred by
  different random streams, and the curve is smoother than with independent seeds.
* **One executor** is opened for the whole sweep and the points run in order.
* **Checkpoint.** With ``checkpoint=PATH`` every finished point is appended to a
  JSON-lines file (flushed and synced to disk) whose first line identifies the
  sweep (a SHA-256 fingerprint of the scenario, the parameter, the values, the
  run settings and the eda-sim version). ``resume=True`` reads it back, refuses a
  file written for another sweep or with a corrupt line (a cut-off last line, from
  a crash while it was written, is ignored), and runs only the missing points.
  Floats are written with ``repr``, so a resumed sweep gives exactly the table of
  an uninterrupted one.
* **Ctrl-C** (``KeyboardInterrupt``) keeps the finished points: they are in the
  checkpoint and in the returned result, which is marked ``partial`` and has one
  ``status = "pending"`` row for each point that did not run. The point that was
  running keeps the replications that finished: they are appended to the
  checkpoint (:mod:`~eda_sim.experiment.sweep_points`), and its rows, over them,
  have ``status = "partial"``. Resumed, it runs only its other replications (on
  the same random streams), so the sweep's numbers are those of one that never
  stopped.
* **A worker process that dies** takes its replication with it: the replication
  runs again on a fresh worker (:func:`~eda_sim.experiment.runner.run`; the same
  numbers). When that worker dies too, the sweep stops as after a Ctrl-C (the
  point that was running kept as a partial point), but raises
  :class:`~eda_sim.experiment.lost_work.WorkerLostError` with the partial result
  in ``error.partial``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from eda_sim.errors import Fault, ScenarioError
from eda_sim.experiment.engines import ENGINES, EngineName, choose_engine
from eda_sim.experiment.planning import check_workers, sweep_budget_faults, sweep_workers
from eda_sim.experiment.sweep_points import Session, checkpoint_header, run_points, sweep_result
from eda_sim.experiment.sweep_table import COLUMNS, SWEEP_FORMAT, SweepPoint, SweepResult
from eda_sim.experiment.sweep_values import (
    MAX_POINTS,
    checked_values,
    parse_values,
    point_variants,
)
from eda_sim.scenario import Scenario
from eda_sim.scenario.budgets import DEFAULT_MAX_VISITS
from eda_sim.scenario.model import raise_if

__all__ = [
    "COLUMNS",
    "MAX_POINTS",
    "SWEEP_FORMAT",
    "SweepPoint",
    "SweepProgress",
    "SweepResult",
    "parse_values",
    "sweep",
]

#: Called as ``progress(finished, total)``: points finished (resumed ones included)
#: out of the points that run (skipped ones excluded); once before the first runs.
SweepProgress = Callable[[int, int], None]


def sweep(
    scenario: Scenario,
    param: str,
    values: Sequence[float] | str,
    *,
    replications: int | None = None,
    horizon: float | None = None,
    warmup: float | str | None = None,
    seed: int | None = None,
    confidence: float | None = None,
    quantiles: Sequence[float] | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    scheduler: str | None = None,
    allow_unstable: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: SweepProgress | None = None,
    engine: EngineName = "auto",
    max_visits: float | None = None,
    notify: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run ``scenario`` once per value of the number at ``param``; one tidy table of results.

    Parameters
    ----------
    scenario : Scenario
        The scenario to vary (its own value at ``param`` is not used).
    param : str
        Dotted path of the number to sweep: ``arrivals.rate``,
        ``stations.NAME.servers``, ``stations.NAME.service.mean``,
        ``routing.FROM.TO``, ``classes.NAME.arrivals.rate``, ... (see
        :mod:`eda_sim.scenario.paths`).
    values : sequence of float or str
        The values, or text for :func:`parse_values` (``"0.5,0.7"``, ``"0.5:0.9:0.1"``).
    replications, horizon, warmup, seed, confidence, quantiles : optional
        Override the scenario's run settings at every point. Every point uses the
        same seed (common random numbers). Each SLO of the scenario is judged at
        every point (rows of scope ``slo``: the verdict in ``method``).
    workers, executor, scheduler : optional
        Where replications run, as for :func:`~eda_sim.experiment.runner.run`;
        opened once for the whole sweep (``workers=None`` chooses from the expected
        work of every point together).
    allow_unstable : bool
        Run points where a station of unlimited capacity has ρ >= 1 instead of
        skipping them.
    checkpoint : path, optional
        JSON-lines file recording each finished point. It must not exist unless
        ``resume`` is true.
    resume : bool
        Continue the sweep recorded in ``checkpoint``: only the missing points run,
        and the result is identical to an uninterrupted sweep.
    progress : callable, optional
        ``progress(finished, total)`` before the first point and after each one.
    engine : {"auto", "simpy", "fast"}
        The engine every point runs on (see :func:`~eda_sim.experiment.runner.run`);
        ``"auto"`` (default) chooses one for the whole sweep from its total work.
    max_visits : float, optional
        Limit on the expected station visits of one replication at any point (see
        :func:`~eda_sim.scenario.budgets.budget_faults`), checked at every point
        before the first runs.
    notify : callable, optional
        ``notify(message)`` once, while the fast engine's loop compiles (its first
        use on a machine: seconds).

    Returns
    -------
    SweepResult
        ``partial`` when interrupted (Ctrl-C) before every point finished; the point
        cut short has status ``"partial"`` and its figures over the replications
        that finished.

    Raises
    ------
    WorkerLostError
        When a worker process died twice running one replication, or a Dask
        cluster lost one: ``error.partial`` is the :class:`SweepResult` of the
        points that finished, marked partial.

    Raises
    ------
    ScenarioError
        Before anything runs: a bad path (``param``), bad ``values``, a value that
        makes the scenario invalid other than by ρ >= 1 (naming the point), a bad
        run setting, or a checkpoint that exists (without ``resume``), is missing,
        corrupt, or was written for another sweep (``checkpoint``).

    Examples
    --------
    >>> from eda_sim.scenario import scenario_from_dict
    >>> mm1 = scenario_from_dict({
    ...     "stations": {"handler": {"service": {"dist": "exponential", "rate": 1.0}}},
    ...     "arrivals": {"process": "poisson", "rate": 0.5},
    ... })
    >>> result = sweep(mm1, "arrivals.rate", "0.5:1.0:0.25", replications=2, horizon=300,
    ...                warmup=30)
    >>> [(point.value, point.status) for point in result.points]
    [(0.5, 'ok'), (0.75, 'ok'), (1.0, 'skipped')]
    >>> table = result.frame
    >>> w = table[(table.scope == "station") & (table.metric == "W")]
    >>> w[["value", "theory"]].to_numpy().tolist()  # M/M/1: W = 1/(μ - λ)
    [[0.5, 2.0], [0.75, 4.0]]
    >>> print(result.points[2].reason)  # doctest: +ELLIPSIS
    unstable: load >= 1 at handler (ρ = 1) with unlimited capacity, ...
    """
    numbers = parse_values(values) if isinstance(values, str) else checked_values(values)
    overrides: dict[str, object] = {
        "replications": replications,
        "horizon": horizon,
        "warmup": warmup,
        "seed": seed,
        "confidence": confidence,
        "quantiles": None if quantiles is None else list(quantiles),
    }
    base = scenario.with_run(**overrides)
    if engine not in ENGINES:
        raise ScenarioError(Fault("engine", f"must be auto, simpy or fast, got {engine!r}"))
    variants, skipped = point_variants(base, param, numbers, allow_unstable)
    limit = DEFAULT_MAX_VISITS if max_visits is None else max_visits
    raise_if(sweep_budget_faults(variants, param, numbers, limit))
    check_workers(workers)
    # One engine for every point, chosen from the whole sweep's work; workers are
    # planned for that engine (never for "auto"), and its loop is made ready in the
    # checkpoint session below, before any worker starts.
    choice = choose_engine(engine, [base, *variants.values()])
    isolate = False
    if executor is None and scheduler is None:
        workers, isolate = sweep_workers(variants, workers, choice.name)

    path = Path(checkpoint) if checkpoint is not None else None
    if path is None and resume:
        raise ScenarioError(Fault("checkpoint", "resume needs the checkpoint file to continue"))
    header: dict[str, Any] = {}
    if path is not None:
        header = checkpoint_header(scenario, param, numbers, overrides, allow_unstable)
    session = Session(path, header, numbers, resume, limit, choice, notify, progress)
    outcome = run_points(session, variants, (workers, scheduler, executor), isolate)
    swept = sweep_result(scenario, base, param, numbers, skipped, variants, outcome, choice.name)
    if outcome.lost is not None:
        outcome.lost.partial = swept
        raise outcome.lost
    return swept
