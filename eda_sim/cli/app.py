"""The ``eda-sim`` command's application (layer 7): parsing, running, printing, exit codes.

Commands: ``run`` (simulate and report beside theory), ``theory`` (the analytic
answer alone), ``validate`` (check a scenario and show the load per station),
``schema`` (the JSON Schema of scenario files).

Exit codes: 0 success, 1 a failure while running (a worker process lost twice:
the replications that finished are written, marked partial), 2 bad input (one
line per fault on stderr, no traceback), 3 an SLO violated (``run --check-slo``),
130 interrupted (the replications that finished are still reported, marked
partial), 141 standard output's reader went away (``| head``; the files asked for
are still written).
"""

from __future__ import annotations

import errno
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eda_sim.cli.common import BadInputError, _fail, app
from eda_sim.cli.outputs import (
    READER_LEFT,
    Output,
    output_faults,
    reader_left,
    scenario_inputs,
    stdout_closed,
    to_stdout,
)
from eda_sim.cli.signals import interrupts_received
from eda_sim.errors import EdaSimError, Fault, ScenarioError
from eda_sim.text import escape_controls, shorten
from eda_sim.version import __version__

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from eda_sim.experiment.engines import EngineChoice
    from eda_sim.scenario import Scenario
    from eda_sim.stats.slo import SloVerdict

# Each command imports what it uses when it runs: ``--help`` needs none of it, and
# ``validate`` none of the simulation, theory and results layers (scipy, pandas, SimPy).
# tests/test_startup.py checks which modules each command loads.

__all__ = ["app", "main"]

#: Set to 1 by the command unless given: eda-sim's matrices are small, its replications
#: run in one process per CPU, and a threaded BLAS on a busy machine spins: a 100 x 100
#: solve took 0.24 s on two OpenBLAS threads and 65 µs on one (2-core machine at load 7),
#: ``eda-sim theory`` of 1,000 stations 20 s against 7 s. Read when NumPy is imported,
#: which no command does before :func:`main` runs.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

#: Exit code after Ctrl-C (128 + SIGINT), also when partial results were written.
INTERRUPTED = 130
#: Exit code of ``run --check-slo`` when an SLO is violated (2 stays bad input).
SLO_VIOLATED = 3
#: Exit code of a run that failed while it ran (a worker process died twice running one
#: replication, a Dask cluster lost one); what finished is written, marked partial.
WORKER_LOST = 1

#: Seconds a run may take before a progress bar appears.
PROGRESS_DELAY = 1.0


#: Most faults printed one by one; the rest are counted in one more line.
MAX_FAULT_LINES = 20


def _report_bad_input(bad: BadInputError) -> None:
    """One short line per fault on stderr (control characters escaped, long values elided)."""
    faults = bad.error.faults
    source = shorten(bad.source) if bad.source else ""
    for fault in faults[:MAX_FAULT_LINES]:
        text = str(fault)
        if source and text.startswith(bad.source):  # a fault about the file as a whole
            sys.stderr.write(f"error: {source}{shorten(text[len(bad.source) :])}\n")
        elif source and not text.startswith("--"):
            sys.stderr.write(f"error: {source}: {shorten(text)}\n")
        else:
            sys.stderr.write(f"error: {shorten(text)}\n")
    if len(faults) > MAX_FAULT_LINES:
        sys.stderr.write(f"error: and {len(faults) - MAX_FAULT_LINES:,} more faults\n")


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


def _cli_fault_paths(error: ScenarioError, given: dict[str, object]) -> ScenarioError:
    """Name the option, not the file field, for faults in values given on the command line."""
    faults = []
    for fault in error.faults:
        field = fault.path.removeprefix("run.").split("[", 1)[0]
        if given.get(field) is not None:
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
    option_faults, warmup_setting = run_option_faults(workers, engine, warmup)
    levels, level_faults = parse_quantiles(quantiles)
    target, precision_faults = parse_precision(precision)
    option_faults += level_faults + precision_faults
    if ci not in ("replications", "batch-means"):
        option_faults.append(Fault("--ci", f"must be replications or batch-means, got {ci!r}"))
    if max_replications is not None and max_replications < 1:
        option_faults.append(Fault("--max-replications", f"must be >= 1, got {max_replications}"))
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

    from rich.console import Console

    from eda_sim.cli import run_output
    from eda_sim.experiment import run as run_experiment
    from eda_sim.results import atomic_write_text

    stdout = _console()
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
        raise _fail(str(scenario_path), _cli_fault_paths(error, {**given, **named})) from None
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
            run_output.print_run(stdout, result, scenario.time_unit, choice.describe())
    if failure is None:  # else the one line above (the notes are in the JSON)
        for note in result.notes:
            sys.stderr.write(f"note: {escape_controls(note)}\n")
    if report_dir is not None:
        from eda_sim.cli.report_command import write_report_or_fail

        write_report_or_fail(result, report_dir, "--report")
    if failure is not None:
        raise typer.Exit(WORKER_LOST)
    if result.partial:
        raise typer.Exit(INTERRUPTED)
    if check_slo:
        _check_slo(result.slo)


def _check_slo(verdicts: tuple[SloVerdict, ...]) -> None:
    """One stderr line per SLO not met; exit :data:`SLO_VIOLATED` when one is violated."""
    from eda_sim.cli import tables

    for verdict in verdicts:
        if verdict.verdict == "met":
            continue
        interval = verdict.interval
        side = "<=" if verdict.slo.kind == "max" else ">="
        sys.stderr.write(
            f"slo {verdict.verdict}: {verdict.slo.target} {side} {verdict.slo.limit:g}; "
            f"simulated {tables.format_estimate(interval)}\n"
        )
    if any(verdict.verdict == "violated" for verdict in verdicts):
        raise typer.Exit(SLO_VIOLATED)


@app.command("validate")
def validate_command(
    scenario_path: ScenarioArgument,
    allow_unstable: Annotated[
        bool, typer.Option(help="accept stations with unlimited capacity and load >= 1")
    ] = False,
) -> None:
    """Check a scenario file and print each station's arrival rate, visit ratio and load ρ."""
    scenario = _load(scenario_path, allow_unstable)
    from eda_sim.cli import theory_tables

    with to_stdout():
        _console().print(theory_tables.validate_table(scenario))


@app.command("theory")
def theory_command(
    scenario_path: ScenarioArgument,
    json_path: Annotated[
        str | None,
        typer.Option(
            "--json", metavar="PATH|-", help="write the theory as JSON to PATH, or - for stdout"
        ),
    ] = None,
    allow_unstable: Annotated[
        bool, typer.Option(help="accept stations with unlimited capacity and load >= 1")
    ] = False,
) -> None:
    """Solve a scenario analytically, in milliseconds, without simulating.

    Every station's L, Lq, W, Wq, utilization, throughput and loss by the best
    formula that applies, with its method and whether it is exact; then the
    exact percentiles of W and Wq (levels from run.quantiles) where theory knows
    the distribution, and why not elsewhere.
    """
    outputs = [Output("--json", json_path)]
    faults = output_faults(outputs, scenario_inputs(scenario_path))
    try:
        scenario = _load(scenario_path, allow_unstable)
    except BadInputError as bad:
        raise _fail(bad.source, [*faults, *bad.error.faults]) from None
    faults += [
        fault
        for fault in output_faults(outputs, scenario_inputs(scenario_path, scenario))
        if fault not in faults
    ]
    if faults:
        raise _fail("", faults)
    from eda_sim.cli import theory_tables
    from eda_sim.results import atomic_write_text, json_clean
    from eda_sim.theory.percentiles.scenario import latency_theory
    from eda_sim.theory.scenario import solve

    theory = solve(scenario)
    percentiles = latency_theory(scenario)
    levels = scenario.run.quantiles
    document = {
        "scenario": scenario.name,
        "theory": {
            **json_clean(theory.to_dict()),
            "percentiles": json_clean(percentiles.to_dict(levels)),
        },
        "article": json_clean(theory.article_dict()),
    }
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    if json_path == "-":
        with to_stdout():
            sys.stdout.write(text)
        return
    if json_path is not None:
        atomic_write_text(json_path, text)
    from eda_sim.cli.latency_tables import exact_percentile_table

    with to_stdout():
        theory_tables.print_theory(_console(), scenario, theory)
        _console().print(exact_percentile_table(percentiles, levels, scenario.time_unit))


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of scenario files (for editor validation)."""
    from eda_sim.scenario import json_schema

    with to_stdout():
        sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


def _version_callback(value: bool) -> None:
    if value:
        with to_stdout():
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


def _given_value(message: str, arguments: list[str]) -> str:
    """``, got 'VALUE'`` for a parser message about an option, from the command line."""
    found = re.match(r"Invalid value for '(--[\w-]+)'", message)
    if found is None:
        return ""
    option = found.group(1)
    for index in range(len(arguments) - 1, -1, -1):  # the last one given is the one used
        argument = arguments[index]
        if argument == option and index + 1 < len(arguments):
            return f", got {arguments[index + 1]!r}"
        if argument.startswith(option + "="):
            return f", got {argument.split('=', 1)[1]!r}"
    return ""


def _outcome() -> int:
    """Run the app; return the exit code, having said on stderr what went wrong.

    A command whose standard output's reader went away (``| head``) and that had
    no other reason to fail exits with :data:`~eda_sim.cli.outputs.READER_LEFT`.
    """
    code = _app_outcome()
    with to_stdout():  # what is still buffered: a reader that left is found here
        sys.stdout.flush()
    return READER_LEFT if code == 0 and reader_left() else code


def _app_outcome() -> int:
    try:
        outcome = app(standalone_mode=False)
    except BadInputError as bad:
        _report_bad_input(bad)
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; nothing written\n")
        return INTERRUPTED
    except typer.Exit as done:
        return int(done.exit_code)
    except EdaSimError as error:  # e.g. a worker process killed from outside
        sys.stderr.write(shorten(f"error: {error}") + "\n")
        return 1
    except OSError as error:
        if error.errno == errno.EPIPE:  # stdout's reader went away: quietly, 141
            stdout_closed()
            return INTERRUPTED if interrupts_received() else READER_LEFT
        if error.errno == errno.EIO:  # the terminal went away
            return INTERRUPTED if interrupts_received() else 1
        raise
    except Exception as error:
        # The parser's usage errors (typer's vendored click) carry a message and an
        # exit code; anything else is a bug and keeps its traceback.
        message = getattr(error, "format_message", None)
        if message is None or not hasattr(error, "exit_code"):
            raise
        text = " ".join(str(message()).split())
        sys.stderr.write(shorten(f"error: {text}{_given_value(text, sys.argv[1:])}") + "\n")
        return int(error.exit_code)
    return outcome if isinstance(outcome, int) else 0


def main() -> None:
    """Console-script entry point: run the app; bad input is reported on stderr, exit code 2.

    Usage errors from the argument parser (unknown options, unparsable numbers) are
    reported the same way: ``error: ...`` on one line, exit code 2. An interrupt
    exits with code 130 (:mod:`eda_sim.cli.signals`; ``python -m eda_sim`` installs
    its handlers before anything is imported).

    BLAS runs on one thread unless the environment says otherwise (see
    :data:`BLAS_THREAD_VARIABLES`).
    """
    from eda_sim.cli.signals import finishing

    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    try:
        code = _outcome()
    except KeyboardInterrupt:  # while saying what went wrong
        code = INTERRUPTED
    finishing()
    sys.exit(code)
