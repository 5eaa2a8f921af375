"""``eda-sim report``: the HTML report of a saved run or sweep; report helpers for run and sweep.

``eda-sim report RESULTS.json --out DIR`` reads a JSON file written by
``eda-sim run --json`` or ``eda-sim sweep --json`` (told apart by their keys)
and writes ``DIR/index.html``. A file that is not JSON, JSON that is not an
eda-sim result, or a result ``format`` this version does not read is refused with
one line on stderr and exit code 2, and nothing is written. The report module
(and matplotlib) is imported only when a report is asked for.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eda_sim.cli.common import _fail, app
from eda_sim.cli.outputs import Input, Output, output_faults
from eda_sim.errors import Fault, ScenarioError
from eda_sim.text import escape_controls

if TYPE_CHECKING:  # imported where used: registering the command must stay cheap
    from eda_sim.experiment import SweepResult
    from eda_sim.results import RunResult
    from eda_sim.scenario import Scenario

__all__ = ["report_command", "report_folder_faults", "write_report_or_fail"]


def _as_option(error: ScenarioError, option: str) -> ScenarioError:
    return ScenarioError(
        [Fault(option, f.message) if f.path in ("", "out_dir") else f for f in error.faults]
    )


def report_folder_faults(report_dir: Path | None, option: str) -> list[Fault]:
    """Why a report cannot be written to ``report_dir`` (checked before a run); [] if it can."""
    if report_dir is None:
        return []
    from eda_sim.report.files import report_dir_faults

    return report_dir_faults(report_dir, option)


def write_report_or_fail(
    result: RunResult | SweepResult,
    report_dir: Path,
    option: str,
    scenario: Scenario | None = None,
) -> None:
    """Write the report of a run or a sweep and say where on stderr; a bad folder exits 2."""
    from eda_sim.experiment import SweepResult
    from eda_sim.report import write_report, write_sweep_report

    try:
        if isinstance(result, SweepResult):
            index = write_sweep_report(result, report_dir, scenario=scenario)
        else:
            index = write_report(result, report_dir)
    except ScenarioError as error:
        raise _fail("", _as_option(error, option)) from None
    sys.stderr.write(f"report: {escape_controls(str(index))}\n")


@app.command("report")
def report_command(
    results: Annotated[
        Path,
        typer.Argument(
            metavar="RESULTS.json",
            help="JSON written by `eda-sim run --json` or `eda-sim sweep --json`",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="DIR",
            help="folder to write index.html to (an earlier report there is replaced once "
            "the new one is complete)",
        ),
    ],
) -> None:
    """Write the HTML report (figures embedded, readable offline) of a saved run or sweep."""
    from eda_sim.report import read_result, report_dir_faults, write_any_report

    faults = output_faults([Output("--out", out, "folder")], [Input(results, "results file")])
    faults += report_dir_faults(out, "--out")
    try:
        _, document = read_result(results)
    except ScenarioError as error:
        raise _fail(str(results), [error.faults[0], *faults]) from None
    if faults:
        raise _fail("", faults)
    try:
        index = write_any_report(document, out)
    except ScenarioError as error:
        raise _fail("", _as_option(error, "--out")) from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError) as error:
        # A format-1 document whose contents were edited into something else.
        raise _fail(
            str(results),
            [Fault("", f"not a complete eda-sim result ({type(error).__name__}: {error})")],
        ) from None
    sys.stderr.write(f"report: {escape_controls(str(index))}\n")
