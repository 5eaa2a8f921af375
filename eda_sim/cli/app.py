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
import warnings
from typing import Annotated

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
from eda_sim.cli.run_command import run_command
from eda_sim.cli.run_options import (
    INTERRUPTED,
    PROGRESS_DELAY,
    SLO_VIOLATED,
    WORKER_LOST,
    LazyProgress,
    ScenarioArgument,
    _console,
    _load,
    compile_notice,
    engine_choice,
    parse_precision,
    parse_quantiles,
    run_option_faults,
)
from eda_sim.cli.signals import interrupts_received
from eda_sim.errors import EdaSimError
from eda_sim.text import shorten
from eda_sim.version import __version__

# Each command imports what it uses when it runs: ``--help`` needs none of it, and
# ``validate`` none of the simulation, theory and results layers (scipy, pandas, SimPy).
# tests/test_startup.py checks which modules each command loads.

__all__ = [
    "INTERRUPTED",
    "PROGRESS_DELAY",
    "SLO_VIOLATED",
    "WORKER_LOST",
    "LazyProgress",
    "app",
    "compile_notice",
    "engine_choice",
    "main",
    "parse_precision",
    "parse_quantiles",
    "run_command",
    "run_option_faults",
]

#: Set to 1 by the command unless given: eda-sim's matrices are small, its replications
#: run in one process per CPU, and a threaded BLAS on a busy machine spins: a 100 x 100
#: solve took 0.24 s on two OpenBLAS threads and 65 µs on one (2-core machine at load 7),
#: ``eda-sim theory`` of 1,000 stations 20 s against 7 s. Read when NumPy is imported,
#: which no command does before :func:`main` runs.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

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
    from eda_sim.scenario.budgets import clock_faults

    # what no run of the file could do (its clock would stand still) is refused here too
    faults = clock_faults(scenario)
    if faults:
        raise _fail(str(scenario_path), faults)

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
        table = exact_percentile_table(percentiles, levels, scenario.time_unit)
        # no exact law anywhere: the reasons alone, as lines, not an empty table's caption
        _console().print(table if table.row_count else table.caption)


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
        if error.errno == errno.EPIPE and error.filename is None:  # stdout's reader left: 141
            stdout_closed()
            return INTERRUPTED if interrupts_received() else READER_LEFT
        if error.errno == errno.EIO and error.filename is None:  # the terminal went away
            return INTERRUPTED if interrupts_received() else 1
        return _system_refused(error)
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


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """Show a warning as one ``warning:`` line, escaped and short, without source lines.

    Python's own display names the library file and quotes its code on a second
    line: nothing a user of the command can act on, and a warning's text may hold a
    name from the scenario (control characters included).
    """
    sys.stderr.write(shorten(f"warning: {message}") + "\n")


def _system_refused(error: OSError) -> int:
    """One line for a file the system would not read or write (a full disk, an I/O error).

    Outputs are checked before the run (:func:`eda_sim.cli.outputs.output_faults`);
    this is what is left: a disk that fills up, a device that fails while writing.
    """
    where = f"{error.filename}: " if error.filename else ""
    sys.stderr.write(shorten(f"error: {where}{error.strerror or error}") + "\n")
    return 1


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
    warnings.showwarning = _show_warning
    try:
        code = _outcome()
    except KeyboardInterrupt:  # while saying what went wrong
        code = INTERRUPTED
    finishing()
    sys.exit(code)
