"""Running a sweep's points, each kept in the checkpoint, whole or cut short (layer 5).

:func:`run_points` runs the points of :func:`~eda_sim.experiment.sweeps.sweep`
one after the other on one executor. A point that finishes is appended to the
checkpoint with its rows. A point cut short (Ctrl-C, or a worker lost for good)
keeps what finished of it: its finished replications are appended to the
checkpoint as a partial point
(:mod:`~eda_sim.experiment.checkpoint_lines`), and its rows, computed from
them, are in the result with status ``"partial"``. On ``resume`` such a point
starts from the replications kept: replication ``i`` always draws from the same
random streams, so only the others run and the point's figures are those of a
sweep that never stopped. :func:`sweep_result` assembles the table.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eda_sim.experiment.checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_KIND,
    PartialPoint,
    checkpoint_fault,
    checkpoint_session,
    data_inputs,
    encode_partial,
    encode_point,
    fingerprint,
)
from eda_sim.experiment.engines import EngineChoice, compiled_note, prepare_engine
from eda_sim.experiment.execution import Finished
from eda_sim.experiment.executors import open_executor
from eda_sim.experiment.lost_work import WorkerLostError
from eda_sim.experiment.run_plan import plan_run
from eda_sim.experiment.runner import new_finished, run_planned
from eda_sim.experiment.sweep_table import (
    COLUMNS,
    SweepPoint,
    SweepResult,
    empty_row,
    run_rows,
)
from eda_sim.results import RunResult, describe_scenario
from eda_sim.scenario import Scenario

__all__ = ["CutShort", "PointsRun", "Session", "checkpoint_header", "run_points", "sweep_result"]

#: Called as ``progress(finished, total)`` (see :data:`~eda_sim.experiment.sweeps.SweepProgress`).
Progress = Callable[[int, int], None]
#: A finished point: its rows of the table and its notes.
Done = tuple[list[dict[str, Any]], tuple[str, ...]]
#: The note a run adds when it stops on a lost worker (not kept with a partial point).
_STOPPED = "stopped early: "


def checkpoint_header(
    scenario: Scenario,
    param: str,
    numbers: list[float],
    overrides: dict[str, object],
    allow_unstable: bool,
) -> dict[str, Any]:
    """The checkpoint's first line: what sweep it records, so that a resume can check it."""
    identity, version = fingerprint(scenario, param, numbers, overrides, allow_unstable)
    return {
        "kind": CHECKPOINT_KIND,
        "format": CHECKPOINT_FORMAT,
        "fingerprint": identity,
        "scenario": scenario.name,
        "param": param,
        "values": numbers,
        "eda_sim": version,
        "inputs": data_inputs(scenario),
    }


@dataclass(frozen=True)
class Session:
    """How the points of one sweep run: checkpoint, engine, limits and callbacks."""

    path: Path | None
    header: dict[str, Any]
    numbers: list[float]
    resume: bool
    limit: float
    choice: EngineChoice
    notify: Callable[[str], None] | None
    progress: Progress | None


@dataclass(frozen=True)
class CutShort:
    """A point that stopped part-way: its rows over the replications that finished."""

    rows: list[dict[str, Any]]
    notes: tuple[str, ...]
    replications: int
    requested: int


@dataclass
class PointsRun:
    """What the points gave: the finished ones, the one cut short, and why it stopped."""

    finished: dict[int, Done] = field(default_factory=dict)
    cut_short: dict[int, CutShort] = field(default_factory=dict)
    interrupted: bool = False
    lost: WorkerLostError | None = None


def run_points(
    session: Session,
    variants: dict[int, Scenario],
    where: tuple[int | None, str | None, Executor | None],
    isolate: bool,
) -> PointsRun:
    """Run every point not yet finished, each kept in the outcome and the checkpoint.

    The sweep stops at a Ctrl-C, a point cut short, or a worker lost for good (its
    error in ``lost``); whatever finished is kept.
    """
    numbers, progress = session.numbers, session.progress
    outcome = PointsRun()
    try:
        with checkpoint_session(
            session.path, session.header, numbers, set(variants), session.resume
        ) as (resumed, append):
            kept = {} if resumed is None else resumed.partial
            if resumed is not None:
                outcome.finished.update(resumed.finished)
                _check_kept(resumed.partial, variants, session.path)
            # the note goes with the first point
            compiled_in = prepare_engine(session.choice, session.notify)
            with open_executor(*where, isolate=isolate) as pool:
                if progress is not None:
                    progress(len(outcome.finished), len(variants))
                for index, variant in variants.items():
                    if index in outcome.finished:
                        continue
                    point = _Point(session, index, variant, append)
                    result = point.run(pool, kept.get(index), outcome)
                    if result is None:  # cut short: the sweep stops here
                        break
                    rows, notes = run_rows(result), result.notes
                    if compiled_in is not None:
                        notes, compiled_in = (compiled_note(compiled_in), *notes), None
                    outcome.finished[index] = (rows, notes)  # first: a Ctrl-C while writing
                    append(encode_point(index, numbers[index], rows, notes))
                    if progress is not None:
                        progress(len(outcome.finished), len(variants))
    except KeyboardInterrupt:
        outcome.interrupted = True
    except WorkerLostError as error:
        outcome.interrupted, outcome.lost = True, error
    return outcome


def _check_kept(
    kept: dict[int, PartialPoint], variants: dict[int, Scenario], path: Path | None
) -> None:
    """Refuse, before anything runs, kept replications that are not their point's.

    Raises
    ------
    ScenarioError
        When one has another seed, horizon or set of stations than its point.
    """
    for index, partial in kept.items():
        run, stations = variants[index].run, set(variants[index].station_names)
        for number, result in partial.replications.items():
            if (result.seed, result.horizon) != (run.seed, run.horizon) or set(
                result.stations
            ) != stations:
                assert path is not None  # kept replications come from the checkpoint
                raise checkpoint_fault(
                    path,
                    f"partial point {index} holds replication {number}, which is not one "
                    "of this sweep's; delete the file to start the sweep again",
                )


@dataclass(frozen=True)
class _Point:
    """One point of the sweep, run on the sweep's executor."""

    session: Session
    index: int
    variant: Scenario
    append: Callable[[str], None]

    def run(
        self, pool: Executor | None, kept: PartialPoint | None, outcome: PointsRun
    ) -> RunResult | None:
        """The point's result, or None when it was cut short (kept in ``outcome``)."""
        plan = plan_run(
            self.variant,
            dict.fromkeys(("replications", "horizon", "warmup", "seed", "confidence")),
            ci="replications",
            max_replications=None,
            workers=1,
            pooled=False,
            engine=self.session.choice.name,
            max_visits=self.session.limit,
            notify=None,
        )
        finished = new_finished(plan)
        before = self._start_from(kept, finished, plan.first_round)
        try:
            result = run_planned(plan, finished, executor=pool)
        except WorkerLostError as error:
            if error.partial is not None:
                self._keep(error.partial, finished, before, outcome)
            raise
        if not result.partial:
            return result
        self._keep(result, finished, before, outcome)
        outcome.interrupted = True
        return None

    def _start_from(
        self, kept: PartialPoint | None, finished: Finished, first_round: int
    ) -> set[int]:
        """Reserve the replications the checkpoint kept of this point in ``finished``.

        Each is taken when its round comes (:meth:`Finished.take_reserved`), so a
        point with a target precision decides its rounds as if it had not stopped;
        those of the first round (``first_round``) are kept at once.
        """
        if kept is None:
            return set()
        finished.reserved.update(kept.replications)
        finished.take_reserved(first_round)  # kept from the start: a Ctrl-C keeps them
        finished.notes.extend(kept.notes)
        return set(kept.replications)

    def _keep(
        self, result: RunResult, finished: Finished, before: set[int], outcome: PointsRun
    ) -> None:
        """Record the point cut short: its rows in ``outcome``, its new replications appended."""
        outcome.cut_short[self.index] = CutShort(
            run_rows(result), result.notes, len(finished), self.variant.run.replications
        )
        new = [r for r in finished.ordered() if r.replication not in before]  # not yet kept
        if new:
            kept_notes = [note for note in finished.notes if not note.startswith(_STOPPED)]
            value = self.session.numbers[self.index]
            self.append(encode_partial(self.index, value, new, kept_notes))


def sweep_result(
    scenario: Scenario,
    base: Scenario,
    param: str,
    numbers: list[float],
    skipped: dict[int, str],
    variants: dict[int, Scenario],
    outcome: PointsRun,
    engine: str,
) -> SweepResult:
    """The sweep's table: every point ok, partial, skipped (with the reason) or pending."""
    why = (
        "the sweep was interrupted"
        if outcome.lost is None
        else "the sweep stopped when a worker process died"
    )
    points: list[SweepPoint] = []
    table: list[dict[str, Any]] = []
    for index, value in enumerate(numbers):
        if index in skipped:
            points.append(SweepPoint(value, "skipped", skipped[index]))
            table.append(empty_row(param, value, "skipped", skipped[index]))
            continue
        point, rows = _point(index, value, variants, outcome, why)
        points.append(point)
        if rows is None:
            table.append(empty_row(param, value, point.status, str(point.reason)))
        extra = {"status": point.status, "reason": point.reason}
        table.extend({"param": param, "value": value, **row, **extra} for row in rows or ())
    settings = base.run
    return SweepResult(
        scenario=scenario.name,
        param=param,
        points=tuple(points),
        rows=tuple({column: row[column] for column in COLUMNS} for row in table),
        partial=outcome.interrupted and len(outcome.finished) < len(variants),
        seed=settings.seed,
        horizon=settings.horizon,
        warmup=settings.warmup,
        replications=settings.replications,
        confidence=settings.confidence,
        time_unit=scenario.time_unit,
        model=describe_scenario(scenario),
        engine=engine,
    )


def _point(
    index: int, value: float, variants: dict[int, Scenario], outcome: PointsRun, why: str
) -> tuple[SweepPoint, list[dict[str, Any]] | None]:
    """A point that ran (whole or in part, with its rows) or is pending (rows None)."""
    if index in outcome.finished:
        rows, notes = outcome.finished[index]
        return SweepPoint(value, "ok", None, notes, variants[index].run.replications), rows
    if index in outcome.cut_short:
        cut = outcome.cut_short[index]
        reason = (
            f"partial: {cut.replications} of {cut.requested} replications finished "
            f"before {why}; resuming it from its checkpoint runs the other "
            f"{cut.requested - cut.replications}"
        )
        return SweepPoint(value, "partial", reason, cut.notes, cut.replications), cut.rows
    return SweepPoint(value, "pending", f"not run: {why} (resume it from its checkpoint)"), None
