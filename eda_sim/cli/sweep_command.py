"""``eda-sim sweep``: run a scenario at several values of one number (layer 7).

Registers the ``sweep`` command on :data:`eda_sim.cli.app.app`. The table shows,
per value, every station's L and W (mean ± half-width) beside theory, the
system's, and the points that were skipped with the reason. ``--json`` and
``--csv`` write the tidy table; ``--checkpoint`` makes the sweep resumable.

Exit codes as for ``run``: 0 success, 2 bad input (one line per fault, nothing
written, an existing checkpoint left as it was), 130 interrupted and 1 a worker
lost for good (the finished points, and the finished replications of the point
that was running, are in the checkpoint and in the outputs, marked partial).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

import eda_sim.cli.app  # noqa: F401  (registers run, validate, theory, schema: --help's order)
from eda_sim.cli.common import BadInputError, _fail, app
from eda_sim.cli.outputs import Input, Output, output_faults, scenario_inputs, to_stdout
from eda_sim.cli.report_command import report_folder_faults, write_report_or_fail
from eda_sim.cli.run_options import (
    INTERRUPTED,
    WORKER_LOST,
    EngineOption,
    HorizonOption,
    LazyProgress,
    MaxVisitsOption,
    QuantilesOption,
    ScenarioArgument,
    SchedulerOption,
    WarmupOption,
    WorkersOption,
    _cli_fault_paths,
    _console,
    _load,
    compile_notice,
    parse_quantiles,
    run_option_faults,
)
from eda_sim.cli.sweep_tables import highest_meeting, sweep_table
from eda_sim.errors import Fault, ScenarioError
from eda_sim.files import output_problem
from eda_sim.text import escape_controls, shorten

if TYPE_CHECKING:  # imported where used: registering the command must stay cheap
    from eda_sim.experiment import SweepResult
    from eda_sim.experiment.lost_work import WorkerLostError
    from eda_sim.scenario import Scenario

__all__ = ["highest_meeting", "sweep_command", "sweep_table"]

#: Fault paths of the sweep's API and the options that set them.
_OPTIONS = {
    "param": "--param",
    "values": "--values",
    "checkpoint": "--checkpoint",
    "workers": "--workers",
    "scheduler": "--scheduler",
}


def _translate(error: ScenarioError, given: dict[str, object]) -> ScenarioError:
    """Name the command-line option for faults in what the options gave."""
    faults = []
    for fault in _cli_fault_paths(error, given).faults:
        option = _OPTIONS.get(fault.path)
        faults.append(Fault(option, fault.message) if option else fault)
    return ScenarioError(faults)


@app.command("sweep")
def sweep_command(
    scenario_path: ScenarioArgument,
    param: Annotated[
        str,
        typer.Option(
            metavar="PATH",
            help="the number to sweep, as a dotted path into the scenario: arrivals.rate, "
            "stations.NAME.servers, stations.NAME.service.mean, routing.FROM.TO, "
            "classes.NAME.arrivals.rate, run.horizon, ...",
        ),
    ],
    values: Annotated[
        str,
        typer.Option(
            metavar="LIST|START:STOP:STEP",
            help="values to run: 0.5,0.6,0.7 or 0.5:0.9:0.1 (STOP included when on the grid)",
        ),
    ],
    horizon: HorizonOption = None,
    replications: Annotated[
        int | None, typer.Option(help="independent replications per point")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="root random seed (>= 0), the same at every point")
    ] = None,
    warmup: WarmupOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    json_path: Annotated[
        str | None,
        typer.Option(
            "--json", metavar="PATH|-", help="write the table as JSON to PATH, or to stdout with -"
        ),
    ] = None,
    csv_path: Annotated[
        str | None,
        typer.Option("--csv", metavar="PATH|-", help="write the table as CSV to PATH, or - "),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="record each finished point in this file (JSON lines), to --resume after Ctrl-C",
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="continue the sweep recorded in --checkpoint")
    ] = False,
    allow_unstable: Annotated[
        bool,
        typer.Option(help="run points where a station of unlimited capacity has load >= 1"),
    ] = False,
    engine: EngineOption = "auto",
    max_visits: MaxVisitsOption = None,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="DIR",
            help="also write an HTML report with L and W curves to DIR/index.html",
        ),
    ] = None,
    quantiles: QuantilesOption = None,
) -> None:
    """Run a scenario at several values of one number; one table of L and W beside theory.

    Every point uses the same seed (common random numbers). Points where a
    station of unlimited capacity would be offered a load >= 1 are skipped with
    the reason (--allow-unstable runs them). With --checkpoint, Ctrl-C keeps the
    finished points and the same command with --resume runs the rest, giving the
    same numbers as an uninterrupted sweep.
    """
    from eda_sim.experiment import parse_values

    source = str(scenario_path)
    faults, warmup_setting = run_option_faults(workers, engine, warmup)
    levels, level_faults = parse_quantiles(quantiles)
    faults.extend(level_faults)
    if json_path == "-" and csv_path == "-":
        faults.append(Fault("--csv", "only one of --json and --csv can write to stdout (-)"))
    outputs, inputs = _sweep_files(
        scenario_path, json_path, csv_path, checkpoint, report_dir, resume, faults
    )
    numbers: list[float] = []
    try:
        numbers = parse_values(values)
    except ScenarioError as error:
        faults.extend(_translate(error, {}).faults)
    # The file's own value at --param does not matter, so its load is judged per point.
    try:
        scenario = _load(scenario_path, allow_unstable=True)
    except BadInputError as bad:  # report the options' faults with the file's
        raise _fail(bad.source, [*faults, *bad.error.faults]) from None
    inputs += scenario_inputs(scenario_path, scenario)[1:]
    faults += [fault for fault in output_faults(outputs, inputs) if fault not in faults]
    if faults:
        raise _fail(source, faults)

    given: dict[str, object] = {
        "horizon": horizon,
        "replications": replications,
        "seed": seed,
        "warmup": warmup_setting,
        "quantiles": levels,
    }
    chosen: Literal["auto", "simpy", "fast"] = (
        "fast" if engine == "fast" else "simpy" if engine == "simpy" else "auto"
    )
    result, failure = _run_sweep(
        scenario,
        source,
        given,
        param=param,
        numbers=numbers,
        replications=replications,
        horizon=horizon,
        warmup=warmup_setting,
        seed=seed,
        quantiles=levels,
        workers=workers,
        scheduler=scheduler,
        allow_unstable=allow_unstable,
        checkpoint=checkpoint,
        resume=resume,
        engine=chosen,
        max_visits=max_visits,
    )
    _say_what_finished(result, failure, checkpoint)
    _write_sweep(result, scenario, json_path, csv_path, report_dir)
    if failure is not None:
        raise typer.Exit(WORKER_LOST)
    if result.partial:
        raise typer.Exit(INTERRUPTED)


def _sweep_files(
    scenario_path: Path,
    json_path: str | None,
    csv_path: str | None,
    checkpoint: Path | None,
    report_dir: Path | None,
    resume: bool,
    faults: list[Fault],
) -> tuple[list[Output], list[Input]]:
    """The files the sweep writes and reads, checked before anything runs (faults added).

    A checkpoint to resume is read, then appended to: an input of the other outputs.
    """
    outputs = [
        Output("--json", json_path),
        Output("--csv", csv_path),
        Output("--checkpoint", checkpoint),
        Output("--report", report_dir, "folder"),
    ]
    inputs = scenario_inputs(scenario_path)
    if checkpoint is not None and resume:  # read, then appended to: an input of the others
        outputs = [out for out in outputs if out.option != "--checkpoint"]
        inputs.append(Input(checkpoint, "checkpoint (--checkpoint)"))
        problem = output_problem(checkpoint)
        if problem is not None:
            faults.append(Fault("--checkpoint", f"{str(checkpoint)!r} {problem}"))
    faults.extend(output_faults(outputs, inputs))
    if resume and checkpoint is None:
        faults.append(Fault("--resume", "needs --checkpoint PATH, the file to continue"))
    faults.extend(report_folder_faults(report_dir, "--report"))
    return outputs, inputs


def _run_sweep(
    scenario: Scenario,
    source: str,
    given: dict[str, object],
    *,
    param: str,
    numbers: list[float],
    replications: int | None,
    horizon: float | None,
    warmup: str | float | None,
    seed: int | None,
    quantiles: list[float] | None,
    workers: int | None,
    scheduler: str | None,
    allow_unstable: bool,
    checkpoint: Path | None,
    resume: bool,
    engine: Literal["auto", "simpy", "fast"],
    max_visits: float | None,
) -> tuple[SweepResult, WorkerLostError | None]:
    """Run the points, a progress bar on stderr; the result and a lost worker, if any."""
    from rich.console import Console

    from eda_sim.experiment import sweep

    stderr = Console(stderr=True)
    progress = LazyProgress(stderr, "sweep points")
    if scheduler is not None:
        from eda_sim.experiment.executors import quiet_dask_logs

        quiet_dask_logs()
    from eda_sim.experiment.lost_work import WorkerLostError

    failure: WorkerLostError | None = None
    try:
        result = sweep(
            scenario,
            param,
            numbers,
            replications=replications,
            horizon=horizon,
            warmup=warmup,
            seed=seed,
            quantiles=quantiles,
            workers=workers,
            scheduler=scheduler,
            allow_unstable=allow_unstable,
            checkpoint=checkpoint,
            resume=resume,
            progress=progress,
            engine=engine,  # auto: the sweep chooses from all its points
            max_visits=max_visits,
            notify=compile_notice,
        )
    except ScenarioError as error:
        progress.close()
        raise _fail(source, _translate(error, given)) from None
    except KeyboardInterrupt:
        progress.close()
        sys.stderr.write("interrupted before the sweep started; nothing written\n")
        raise typer.Exit(INTERRUPTED) from None
    except WorkerLostError as error:  # the finished points are written, marked partial
        if error.partial is None:
            raise
        result, failure = error.partial, error
    finally:
        progress.close()
    return result, failure


def _cut_short(result: SweepResult) -> str:
    """``, and the 2 finished replications of point 0.6`` for a point cut short ("" if none)."""
    return "".join(
        f", and the {point.replications} finished replications of point {point.value:g}"
        for point in result.points
        if point.status == "partial"
    )


def _say_what_finished(
    result: SweepResult, failure: WorkerLostError | None, checkpoint: Path | None
) -> None:
    """One stderr line for a partial sweep; exit at once when nothing finished.

    The line of a lost worker names it, so it is kept short (a point cut short is
    counted, its replications are in the outputs); an interrupted sweep's says how
    many replications of the point cut short were kept, and where.
    """
    finished = sum(point.status == "ok" for point in result.points)
    runnable = sum(point.status != "skipped" for point in result.points)
    cut_short = _cut_short(result)
    if failure is not None:
        if finished == 0 and not cut_short:
            raise failure  # nothing to write: the one line of any failure, exit 1
        kept = "; --resume runs the rest" if checkpoint else ""
        cut = ", 1 cut short" if cut_short else ""
        sys.stderr.write(
            shorten(
                f"error: {failure}; wrote {finished} of {runnable} points{cut}, "
                f"marked partial{kept}"
            )
            + "\n"
        )
    elif result.partial:
        if finished == 0 and not cut_short:
            sys.stderr.write("interrupted before any point finished; nothing written\n")
            raise typer.Exit(INTERRUPTED)
        kept = (
            f"they are kept in {checkpoint}: run the same command with --resume to complete it"
            if checkpoint is not None
            else "give --checkpoint PATH to make a sweep resumable"
        )
        sys.stderr.write(
            escape_controls(
                f"interrupted: {finished} of {runnable} points finished{cut_short} "
                f"(written marked partial); {kept}"
            )
            + "\n"
        )


def _write_sweep(
    result: SweepResult,
    scenario: Scenario,
    json_path: str | None,
    csv_path: str | None,
    report_dir: Path | None,
) -> None:
    """The JSON and CSV files, standard output (a table, or JSON/CSV with -), the report."""
    from eda_sim.results import atomic_write_text

    if json_path is not None and json_path != "-":
        atomic_write_text(json_path, result.to_json() + "\n")
    if csv_path is not None and csv_path != "-":
        atomic_write_text(csv_path, result.to_csv())
    with to_stdout():
        if json_path == "-":
            sys.stdout.write(result.to_json() + "\n")
        elif csv_path == "-":
            sys.stdout.write(result.to_csv())
        else:
            _console().print(sweep_table(result, scenario.time_unit))
    if report_dir is not None:
        write_report_or_fail(result, report_dir, "--report", scenario)
