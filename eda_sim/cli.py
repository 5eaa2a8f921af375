"""The ``eda-sim`` command (layer 7): the only module that prints for the user or exits.

Commands: ``run`` (simulate and report), ``validate`` (check a scenario and show
the load per station), ``schema`` (the JSON Schema of scenario files).

Exit codes: 0 success, 2 bad input (one line per fault on stderr, no traceback),
130 interrupted before any replication finished.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from eda_sim import __version__
from eda_sim.engine.records import STATION_METRICS, SYSTEM_METRICS
from eda_sim.errors import Fault, ScenarioError
from eda_sim.experiment import run as run_experiment
from eda_sim.results import RunResult, atomic_write_text
from eda_sim.scenario import Scenario, json_schema, load_scenario
from eda_sim.stats import Interval

__all__ = ["app", "format_estimate", "main"]

app = typer.Typer(
    name="eda-sim",
    help="Simulate event-driven systems (handler stations behind an event bus) "
    "with confidence intervals, next to queueing theory.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

#: Line width of tables written to a pipe or file rather than a terminal.
OFFLINE_WIDTH = 160

#: Seconds a run may take before a progress bar appears.
PROGRESS_DELAY = 1.0

_METRIC_LABELS = {
    "L": "L",
    "Lq": "Lq",
    "W": "W",
    "Wq": "Wq",
    "utilization": "utilisation",
    "throughput": "throughput",
    "loss": "loss",
}

_LEGEND = (
    "L: mean number present (waiting + in service), Lq: mean number waiting, "
    "W: mean time per visit (system: end to end), Wq: mean wait before service, "
    "utilisation: busy share of the servers, throughput: completions per time unit, "
    "loss: share of arrivals refused by a full station."
)


class BadInputError(Exception):
    """Faults found in the command line or the scenario; printed one per line, exit 2."""

    def __init__(self, source: str, error: ScenarioError) -> None:
        super().__init__(str(error))
        self.source = source
        self.error = error


def _fail(source: str, faults: list[Fault] | ScenarioError) -> BadInputError:
    error = faults if isinstance(faults, ScenarioError) else ScenarioError(faults)
    return BadInputError(source, error)


def _report_bad_input(bad: BadInputError) -> None:
    for fault in bad.error.faults:
        text = str(fault)
        if bad.source and not text.startswith(("--", bad.source)):
            text = f"{bad.source}: {text}"
        sys.stderr.write(f"error: {text}\n")


def format_estimate(interval: Interval) -> str:
    """Show ``mean ± half-width`` with the mean rounded where the half-width's 2nd digit is.

    Examples
    --------
    >>> from eda_sim.stats import Interval
    >>> format_estimate(Interval(1.331202, 1.309906, 1.352498, 10, 0.95))
    '1.331 ± 0.021'
    """
    mean, half = interval.mean, interval.half_width
    if math.isnan(mean):
        return "n/a"
    if math.isnan(half) or half == 0 or not math.isfinite(half):
        return f"{mean:.4g}"
    decimals = max(0, 1 - math.floor(math.log10(half)))
    return f"{mean:.{decimals}f} ± {half:.{decimals}f}"


def _console() -> Console:
    """Standard output; when it is not a terminal (a pipe, a file), wide enough not to wrap."""
    console = Console()
    return console if console.is_terminal else Console(width=OFFLINE_WIDTH)


def _load(path: Path, allow_unstable: bool) -> Scenario:
    try:
        return load_scenario(path, allow_unstable=allow_unstable)
    except ScenarioError as error:
        raise _fail(str(path), error) from None


def _cli_fault_paths(error: ScenarioError, given: dict[str, object]) -> ScenarioError:
    """Name the option, not the file field, for faults in values given on the command line."""
    faults = []
    for fault in error.faults:
        field = fault.path.removeprefix("run.")
        if fault.path.startswith("run.") and given.get(field) is not None:
            faults.append(Fault(f"--{field}", fault.message))
        else:
            faults.append(fault)
    return ScenarioError(faults)


class _LazyProgress:
    """A progress bar on stderr that appears only once a run has taken ``PROGRESS_DELAY`` s."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.perf_counter()
        self.bar: Progress | None = None
        self.task = TaskID(0)

    def __call__(self, finished: int, total: int) -> None:
        if self.bar is None:
            if time.perf_counter() - self.started < PROGRESS_DELAY or finished >= total:
                return
            self.bar = Progress(
                TextColumn("replications"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("run", total=total)
        self.bar.update(self.task, completed=finished)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _results_table(result: RunResult, time_unit: str) -> Table:
    title = (
        f"{result.scenario}: {result.replications} replications × horizon "
        f"{result.horizon:g} {time_unit} (warm-up {result.warmup:g}), seed {result.seed}; "
        f"mean ± {result.confidence:.0%} CI half-width"
    )
    table = Table(
        title=Text(title), title_justify="left", caption=Text(_LEGEND), caption_justify="left"
    )
    table.add_column("metric", no_wrap=True)
    for station in result.stations:
        table.add_column(Text(station), justify="right", no_wrap=True)
    table.add_column("system", justify="right", no_wrap=True)
    for metric in STATION_METRICS:
        cells = [Text(format_estimate(result.stations[s][metric])) for s in result.stations]
        system = result.system.get(metric) if metric in SYSTEM_METRICS else None
        label = _METRIC_LABELS[metric]
        if metric in ("W", "Wq"):
            label += f" ({time_unit})"
        elif metric == "throughput":
            label += f" (/{time_unit})"
        table.add_row(Text(label), *cells, Text(format_estimate(system) if system else ""))
    return table


def _classes_table(result: RunResult, time_unit: str) -> Table:
    table = Table(title="per event class (end to end)", title_justify="left")
    table.add_column("class", no_wrap=True)
    for metric in SYSTEM_METRICS:
        label = f"W ({time_unit})" if metric == "W" else metric
        table.add_column(label, justify="right")
    for name, metrics in result.classes.items():
        table.add_row(Text(name), *(Text(format_estimate(metrics[m])) for m in SYSTEM_METRICS))
    return table


@app.command("run")
def run_command(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO", help="scenario YAML file")],
    horizon: Annotated[float | None, typer.Option(help="simulated time per replication")] = None,
    replications: Annotated[int | None, typer.Option(help="independent replications")] = None,
    seed: Annotated[int | None, typer.Option(help="root random seed (>= 0)")] = None,
    warmup: Annotated[str | None, typer.Option(help="auto, none, or a time to discard")] = None,
    workers: Annotated[int, typer.Option(help="processes to run replications in")] = 1,
    json_path: Annotated[
        str | None,
        typer.Option(
            "--json", metavar="PATH|-", help="write results as JSON to PATH, or to stdout with -"
        ),
    ] = None,
    allow_unstable: Annotated[
        bool, typer.Option(help="run stations with unlimited capacity and load >= 1 anyway")
    ] = False,
) -> None:
    """Simulate a scenario; report every station's metrics with confidence intervals.

    L, Lq, W, Wq, utilisation, throughput and loss per station, and L, W,
    throughput and loss for the whole system, as mean ± half-width.
    """
    option_faults: list[Fault] = []
    if workers < 1:
        option_faults.append(Fault("--workers", f"must be >= 1, got {workers}"))
    warmup_setting: str | float | None = warmup
    if warmup is not None and warmup not in ("auto", "none"):
        try:
            warmup_setting = float(warmup)
        except ValueError:
            option_faults.append(Fault("--warmup", f"must be auto, none or a time, got {warmup!r}"))
            warmup_setting = None
    if json_path not in (None, "-") and not Path(json_path).parent.is_dir():
        option_faults.append(
            Fault("--json", f"folder {str(Path(json_path).parent)!r} does not exist")
        )
    scenario = _load(scenario_path, allow_unstable)
    given: dict[str, object] = {
        "horizon": horizon,
        "replications": replications,
        "seed": seed,
        "warmup": warmup_setting,
    }
    try:
        scenario = scenario.with_run(**given)
    except ScenarioError as error:
        option_faults.extend(_cli_fault_paths(error, given).faults)
    if option_faults:
        raise _fail(str(scenario_path), option_faults)

    stdout = _console()
    stderr = Console(stderr=True)
    progress = _LazyProgress(stderr)
    try:
        result = run_experiment(scenario, workers=workers, progress=progress)
    except KeyboardInterrupt:
        progress.close()
        sys.stderr.write("interrupted before any replication finished; nothing written\n")
        raise typer.Exit(130) from None
    finally:
        progress.close()

    if result.partial:
        sys.stderr.write(
            f"interrupted: reporting the {result.replications} of "
            f"{result.requested_replications} replications that finished "
            "(marked partial)\n"
        )
    if json_path == "-":
        sys.stdout.write(result.to_json() + "\n")
        return
    if json_path is not None:
        atomic_write_text(json_path, result.to_json() + "\n")
    stdout.print(_results_table(result, scenario.time_unit))
    if result.classes:
        stdout.print(_classes_table(result, scenario.time_unit))


@app.command("validate")
def validate_command(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO", help="scenario YAML file")],
    allow_unstable: Annotated[
        bool, typer.Option(help="accept stations with unlimited capacity and load >= 1")
    ] = False,
) -> None:
    """Check a scenario file and print each station's arrival rate, visit ratio and load ρ."""
    scenario = _load(scenario_path, allow_unstable)
    rates = scenario.arrival_rates().sum(axis=0)
    visits = scenario.visit_ratios()
    loads = scenario.offered_load()
    classes = len(scenario.classes)
    table = Table(
        title=f"{scenario.name}: valid ({len(scenario.stations)} stations, "
        f"{classes} event class{'es' if classes > 1 else ''})",
        title_justify="left",
    )
    for column in ("station", "servers", "capacity", "service", "arrival rate", "visit ratio", "ρ"):
        table.add_column(column, justify="left" if column in ("station", "service") else "right")
    for index, station in enumerate(scenario.stations):
        table.add_row(
            Text(station.name),
            str(station.servers),
            "∞" if station.capacity is None else str(station.capacity),
            Text(station.service.describe()),
            f"{rates[index]:.4g}",
            f"{visits[index]:.4g}",
            f"{loads[index]:.4g}",
        )
    _console().print(table)


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of scenario files (for editor validation)."""
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"eda-sim {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="show the version"
        ),
    ] = False,
) -> None:
    """Simulate event-driven systems with confidence intervals, next to queueing theory."""


def main() -> None:
    """Console-script entry point: run the app; bad input is reported on stderr, exit code 2.

    Usage errors (unknown options, unparsable numbers) are reported by the argument
    parser itself, also with exit code 2.
    """
    try:
        app()
    except BadInputError as bad:
        _report_bad_input(bad)
        sys.exit(2)
