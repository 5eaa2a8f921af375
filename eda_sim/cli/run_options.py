"""What ``run`` and ``sweep`` share: options, their checks, loading, the progress bar (layer 7).

Declared here, below both commands (:mod:`eda_sim.cli.app`,
:mod:`eda_sim.cli.sweep_command`), so that they import one way; the names stay
importable from :mod:`eda_sim.cli.app`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eda_sim.cli.common import _fail
from eda_sim.errors import Fault, ScenarioError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from eda_sim.experiment.engines import EngineChoice
    from eda_sim.scenario import Scenario

__all__ = [
    "INTERRUPTED",
    "PROGRESS_DELAY",
    "SLO_VIOLATED",
    "WORKER_LOST",
    "EngineOption",
    "HorizonOption",
    "LazyProgress",
    "MaxVisitsOption",
    "QuantilesOption",
    "ScenarioArgument",
    "SchedulerOption",
    "WarmupOption",
    "WorkersOption",
    "compile_notice",
    "engine_choice",
    "parse_precision",
    "parse_quantiles",
    "run_option_faults",
]

#: Exit code after Ctrl-C (128 + SIGINT), also when partial results were written.
INTERRUPTED = 130
#: Exit code of ``run --check-slo`` when an SLO is violated (2 stays bad input).
SLO_VIOLATED = 3
#: Exit code of a run that failed while it ran (a worker process died twice running one
#: replication, a Dask cluster lost one); what finished is written, marked partial.
WORKER_LOST = 1

#: Seconds a run may take before a progress bar appears.
PROGRESS_DELAY = 1.0


def _console() -> Console:
    """Standard output: tables fitted to its width, ``COLUMNS`` honoured (:mod:`.fit`)."""
    from eda_sim.cli.fit import output_console

    return output_console()


def _load(path: Path, allow_unstable: bool) -> Scenario:
    from eda_sim.scenario import load_scenario

    try:
        return load_scenario(path, allow_unstable=allow_unstable)
    except ScenarioError as error:
        raise _fail(str(path), error) from None


def engine_choice(engine: str, scenario: Scenario, replications: int | None = None) -> EngineChoice:
    """The engine that runs ``scenario`` when ``engine`` is asked (auto's choice, and why).

    Cheap: nothing is imported or compiled here; the run itself readies the fast
    engine's loop after its budgets are checked (:func:`compile_notice` says so).
    """
    from eda_sim.experiment.engines import choose_engine

    return choose_engine(engine, scenario, replications)


def compile_notice(message: str) -> None:
    """Say on stderr that the fast engine's loop is compiling (its first use on a machine)."""
    sys.stderr.write(message + "\n")


def run_option_faults(
    workers: int | None, engine: str, warmup: str | None
) -> tuple[list[Fault], str | float | None]:
    """Check the options ``run`` and ``sweep`` share; return the faults and the warm-up setting."""
    from eda_sim.experiment.executors import max_workers, worker_limit_message

    faults: list[Fault] = []
    if workers is not None and workers < 1:
        faults.append(Fault("--workers", f"must be >= 1, got {workers}"))
    elif workers is not None and workers > max_workers():
        faults.append(Fault("--workers", worker_limit_message(workers)))
    if engine not in ("auto", "simpy", "fast"):
        faults.append(Fault("--engine", f"must be auto, simpy or fast, got {engine!r}"))
    setting: str | float | None = warmup
    if warmup is not None and warmup not in ("auto", "none"):
        try:
            setting = float(warmup)
        except ValueError:
            faults.append(Fault("--warmup", f"must be auto, none or a time, got {warmup!r}"))
            setting = None
    return faults, setting


def parse_quantiles(text: str | None) -> tuple[list[float] | None, list[Fault]]:
    """``--quantiles 0.5,0.99,0.999`` as levels (checked later like the file's), or a fault."""
    if text is None:
        return None, []
    try:
        return [float(item) for item in text.split(",")], []
    except ValueError:
        return None, [
            Fault("--quantiles", f"must be levels separated by commas (0.5,0.99), got {text!r}")
        ]


def parse_precision(text: str | None) -> tuple[float | str | None, list[Fault]]:
    """``--precision 0.02`` (a relative half-width) or ``--precision slo``, or a fault."""
    if text is None or text == "slo":
        return text, []
    try:
        return float(text), []
    except ValueError:
        return None, [Fault("--precision", f"must be a relative half-width or slo, got {text!r}")]


#: Faults of settings that only an option gives (no field of the file), by option.
_OPTION_ONLY = {"max_visits": "--max-visits", "max_replications": "--max-replications"}


def _cli_fault_paths(error: ScenarioError, given: dict[str, object]) -> ScenarioError:
    """Name the option, not the file field, for faults in values given on the command line."""
    faults = []
    for fault in error.faults:
        field = fault.path.removeprefix("run.").split("[", 1)[0]
        if fault.path in _OPTION_ONLY:
            faults.append(Fault(_OPTION_ONLY[fault.path], fault.message))
        elif given.get(field) is not None:
            faults.append(Fault(f"--{field.replace('_', '-')}", fault.message))
        else:
            faults.append(fault)
    return ScenarioError(faults)


class LazyProgress:
    """A progress bar on stderr that appears only once a run has taken ``PROGRESS_DELAY`` s.

    Only on a terminal: on a pipe or a file the bar would leave a blank line behind,
    and an error or interrupt message must stay the one line on stderr.
    """

    def __init__(self, console: Console, label: str = "replications") -> None:
        self.console = console
        self.label = label
        self.started = time.perf_counter()
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, finished: int, total: int) -> None:
        """Show ``finished`` of ``total`` (the bar appears after the delay, on a terminal)."""
        if self.bar is None:
            if time.perf_counter() - self.started < PROGRESS_DELAY or finished >= total:
                return
            if not self.console.is_terminal:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        if self.task is not None:
            self.bar.update(self.task, completed=finished)

    def close(self) -> None:
        """Take the bar off the terminal, if it is shown."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


# Arguments and options that several commands take, declared once.
ScenarioArgument = Annotated[Path, typer.Argument(metavar="SCENARIO", help="scenario YAML file")]
HorizonOption = Annotated[float | None, typer.Option(help="simulated time per replication")]
WarmupOption = Annotated[str | None, typer.Option(help="auto (MSER-5), none, or a time to discard")]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        help="processes to run replications in (default: chosen from the expected work: "
        "this process for a short run, one per CPU for a long one)"
    ),
]
MaxVisitsOption = Annotated[
    float | None,
    typer.Option(
        metavar="N",
        help="refuse a run whose replications are each expected to make more station "
        "visits than N (default 1e9)",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(metavar="ADDRESS", help="run replications on a Dask cluster (tcp://host:8786)"),
]
QuantilesOption = Annotated[
    str | None,
    typer.Option(
        metavar="P1,P2,...",
        help="percentile levels to report, e.g. 0.5,0.99,0.999 (default: the file's "
        "run.quantiles, else 0.5,0.95,0.99)",
    ),
]
EngineOption = Annotated[
    str,
    typer.Option(
        metavar="auto|simpy|fast",
        help="simulation engine: fast (compiled; needs eda-sim[fast]) or simpy, the same "
        "results either way; auto (default) runs fast when numba is installed and the run "
        "is long enough for it to pay",
    ),
]
