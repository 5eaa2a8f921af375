"""The ``eda-sim run`` command (layer 7): check everything, simulate, write, exit.

Registered on :data:`eda_sim.cli.common.app` when :mod:`eda_sim.cli.app` imports it
(first, so that ``run`` comes first in ``--help``). The steps: the options and the
file checked together (:func:`_checked_scenario`), the replications run
(:func:`_simulate`), the outputs written (:func:`_write_run`), the exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eda_sim.cli.common import BadInputError, _fail, app
from eda_sim.cli.outputs import Output, output_faults, scenario_inputs, to_stdout
from eda_sim.cli.run_options import (
    INTERRUPTED,
    SLO_VIOLATED,
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
    engine_choice,
    parse_precision,
    parse_quantiles,
    run_option_faults,
)
from eda_sim.errors import Fault, ScenarioError
from eda_sim.text import shorten, wrap_message

if TYPE_CHECKING:
    from eda_sim.experiment.engines import EngineChoice
    from eda_sim.experiment.lost_work import WorkerLostError
    from eda_sim.results import RunResult
    from eda_sim.scenario import Scenario
    from eda_sim.stats.slo import SloVerdict

__all__ = ["run_command"]


@app.command("run")
def run_command(
    scenario_path: ScenarioArgument,
    horizon: HorizonOption = None,
    replications: Annotated[int | None, typer.Option(help="independent replications")] = None,
    seed: Annotated[int | None, typer.Option(help="root random seed (>= 0)")] = None,
    warmup: WarmupOption = None,
    precision: Annotated[
        str | None,
        typer.Option(
            metavar="P|slo",
            help="target relative CI half-width (adds replications until met), or slo "
            "(adds replications until every SLO is decided)",
        ),
    ] = None,
    max_replications: Annotated[
        int | None, typer.Option(help="cap on replications with --precision (default 200)")
    ] = None,
    ci: Annotated[
        str, typer.Option(metavar="replications|batch-means", help="how intervals are formed")
    ] = "replications",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    json_path: Annotated[
        str | None,
        typer.Option(
            "--json", metavar="PATH|-", help="write results as JSON to PATH, or to stdout with -"
        ),
    ] = None,
    allow_unstable: Annotated[
        bool, typer.Option(help="run stations with unlimited capacity and load >= 1 anyway")
    ] = False,
    engine: EngineOption = "auto",
    max_visits: MaxVisitsOption = None,
    report_dir: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="DIR",
            help="also write an HTML report with figures to DIR/index.html (an earlier "
            "report in DIR is replaced once the new one is complete)",
        ),
    ] = None,
    quantiles: QuantilesOption = None,
    check_slo: Annotated[
        bool,
        typer.Option(help="exit with code 3 when an SLO of the scenario is violated"),
    ] = False,
) -> None:
    """Simulate a scenario; report every station's metrics with confidence intervals.

    L, Lq, W, Wq, utilisation, throughput and loss per station, and L, W,
    throughput and loss for the whole system, as mean ± half-width; percentiles
    of W and Wq (p50, p95, p99 unless --quantiles says otherwise); a verdict on
    each SLO of the scenario.
    """
    scenario, given = _checked_scenario(
        scenario_path,
        horizon=horizon,
        replications=replications,
        seed=seed,
        warmup=warmup,
        precision=precision,
        max_replications=max_replications,
        ci=ci,
        workers=workers,
        json_path=json_path,
        allow_unstable=allow_unstable,
        engine=engine,
        report_dir=report_dir,
        quantiles=quantiles,
    )
    result, failure, choice = _simulate(
        scenario,
        str(scenario_path),
        given,
        ci=ci,
        workers=workers,
        scheduler=scheduler,
        max_replications=max_replications,
        engine=engine,
        max_visits=max_visits,
    )
    _write_run(result, failure, choice.describe(), scenario.time_unit, json_path, report_dir)
    if failure is not None:
        raise typer.Exit(WORKER_LOST)
    if result.partial:
        raise typer.Exit(INTERRUPTED)
    if check_slo:
        _check_slo(result.slo)


def _checked_scenario(
    scenario_path: Path,
    *,
    horizon: float | None,
    replications: int | None,
    seed: int | None,
    warmup: str | None,
    precision: str | None,
    max_replications: int | None,
    ci: str,
    workers: int | None,
    json_path: str | None,
    allow_unstable: bool,
    engine: str,
    report_dir: Path | None,
    quantiles: str | None,
) -> tuple[Scenario, dict[str, object]]:
    """The scenario with the run's options applied, and the run settings given.

    Every option, every output and the file are checked before anything runs: all
    their faults are reported together (exit 2).
    """
    option_faults, warmup_setting = run_option_faults(workers, engine, warmup)
    levels, level_faults = parse_quantiles(quantiles)
    target, precision_faults = parse_precision(precision)
    option_faults += level_faults + precision_faults
    if ci not in ("replications", "batch-means"):
        option_faults.append(Fault("--ci", f"must be replications or batch-means, got {ci!r}"))
    from eda_sim.scenario.budgets import MAX_REPLICATIONS

    if max_replications is not None and not 1 <= max_replications <= MAX_REPLICATIONS:
        rule = ">= 1" if max_replications < 1 else f"<= {MAX_REPLICATIONS}"
        option_faults.append(Fault("--max-replications", f"must be {rule}, got {max_replications}"))
    if precision is not None and ci == "batch-means":
        option_faults.append(Fault("--precision", "applies to replications, not batch-means"))
    outputs = [Output("--json", json_path), Output("--report", report_dir, "folder")]
    option_faults.extend(output_faults(outputs, scenario_inputs(scenario_path)))
    if report_dir is not None:
        from eda_sim.cli.report_command import report_folder_faults

        option_faults.extend(report_folder_faults(report_dir, "--report"))
    try:
        scenario = _load(scenario_path, allow_unstable)
    except BadInputError as bad:  # report the options' faults with the file's
        raise _fail(bad.source, [*option_faults, *bad.error.faults]) from None
    option_faults.extend(
        fault
        for fault in output_faults(outputs, scenario_inputs(scenario_path, scenario))
        if fault not in option_faults
    )
    given: dict[str, object] = {
        "horizon": horizon,
        "replications": replications,
        "seed": seed,
        "warmup": warmup_setting,
        "precision": target,
        "quantiles": levels,
    }
    try:
        scenario = scenario.with_run(**given)
    except ScenarioError as error:
        faults = _cli_fault_paths(error, given).faults
        if warmup is not None and warmup_setting is None:
            # --warmup could not be read (its fault says so): the file's warm-up, which
            # it was meant to replace, is not compared with the horizon.
            faults = tuple(fault for fault in faults if fault.path != "run.warmup")
        option_faults.extend(faults)
    if option_faults:
        raise _fail(str(scenario_path), option_faults)
    return scenario, given


def _simulate(
    scenario: Scenario,
    source: str,
    given: dict[str, object],
    *,
    ci: str,
    workers: int | None,
    scheduler: str | None,
    max_replications: int | None,
    engine: str,
    max_visits: float | None,
) -> tuple[RunResult, WorkerLostError | None, EngineChoice]:
    """Run the replications, a progress bar on stderr; the result and a lost worker, if any.

    A Ctrl-C before any replication finished exits at once (nothing written); a
    worker lost for good leaves the replications that finished, marked partial.
    """
    from rich.console import Console

    from eda_sim.experiment import run as run_experiment

    stderr = Console(stderr=True)
    progress = LazyProgress(stderr)
    if scheduler is not None:
        from eda_sim.experiment.executors import quiet_dask_logs

        quiet_dask_logs()
    from eda_sim.experiment.lost_work import WorkerLostError

    failure: WorkerLostError | None = None
    try:
        choice = engine_choice(engine, scenario, 1 if ci == "batch-means" else None)
        result = run_experiment(
            scenario,
            workers=workers,
            scheduler=scheduler,
            ci="batch-means" if ci == "batch-means" else "replications",
            max_replications=max_replications,
            progress=progress,
            engine=choice.name,
            max_visits=max_visits,
            notify=compile_notice,
        )
    except ScenarioError as error:
        named = {"scheduler": scheduler, "max_replications": max_replications, "workers": workers}
        raise _fail(source, _cli_fault_paths(error, {**given, **named})) from None
    except KeyboardInterrupt:
        progress.close()
        sys.stderr.write("interrupted before any replication finished; nothing written\n")
        raise typer.Exit(INTERRUPTED) from None
    except WorkerLostError as error:  # what finished is written, marked partial; exit 1
        if error.partial is None:
            raise
        result, failure = error.partial, error
    finally:
        progress.close()
    return result, failure, choice


def _write_run(
    result: RunResult,
    failure: WorkerLostError | None,
    engine: str,
    time_unit: str,
    json_path: str | None,
    report_dir: Path | None,
) -> None:
    """Say what a partial run kept, then write the JSON, the tables, the notes, the report."""
    from eda_sim.cli import run_output
    from eda_sim.results import atomic_write_text

    stdout = _console()
    if failure is not None:
        sys.stderr.write(
            shorten(
                f"error: {failure}; wrote the {result.replications} of "
                f"{result.requested_replications} finished replications, marked partial"
            )
            + "\n"
        )
    elif result.partial:
        sys.stderr.write(
            f"interrupted: reporting the {result.replications} of "
            f"{result.requested_replications} replications that finished "
            "(marked partial)\n"
        )
    if json_path == "-":
        with to_stdout():
            sys.stdout.write(result.to_json() + "\n")
    else:
        if json_path is not None:
            atomic_write_text(json_path, result.to_json() + "\n")
        with to_stdout():
            run_output.print_run(stdout, result, time_unit, engine)
    if failure is None:  # else the one line above (the notes are in the JSON)
        for note in result.notes:  # said whole, in lines of at most MAX_LINE characters
            sys.stderr.write("\n".join(wrap_message(f"note: {note}")) + "\n")
    if report_dir is not None:
        from eda_sim.cli.report_command import write_report_or_fail

        write_report_or_fail(result, report_dir, "--report")


def _check_slo(verdicts: tuple[SloVerdict, ...]) -> None:
    """One stderr line per SLO not met; exit :data:`SLO_VIOLATED` when one is violated."""
    from eda_sim.cli import tables

    for verdict in verdicts:
        if verdict.verdict == "met":
            continue
        interval = verdict.interval
        side = "<=" if verdict.slo.kind == "max" else ">="
        sys.stderr.write(  # the target holds a station or class name: escaped, elided
            shorten(
                f"slo {verdict.verdict}: {verdict.slo.target} {side} {verdict.slo.limit:g}; "
                f"simulated {tables.format_estimate(interval)}"
            )
            + "\n"
        )
    if any(verdict.verdict == "violated" for verdict in verdicts):
        raise typer.Exit(SLO_VIOLATED)
