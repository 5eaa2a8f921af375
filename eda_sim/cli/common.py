"""What every ``eda-sim`` command module shares: the application and bad-input errors (layer 7).

The commands live in :mod:`eda_sim.cli.run_command` (run), :mod:`eda_sim.cli.app`
(validate, theory, schema), :mod:`eda_sim.cli.sweep_command` and
:mod:`eda_sim.cli.report_command`; each
registers itself on :data:`app` and refuses bad input by raising what
:func:`_fail` makes. Defined here, below them all, so that the command modules
import one way (``app`` uses the report helpers, which need neither ``app.py``
nor its commands).
"""

from __future__ import annotations

import typer

from eda_sim.errors import Fault, ScenarioError

__all__ = ["BadInputError", "_fail", "app"]

app = typer.Typer(
    name="eda-sim",
    help="Simulate event-driven systems (handler stations behind an event bus) "
    "with confidence intervals, next to queueing theory.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class BadInputError(Exception):
    """Faults found in the command line or the scenario; printed one per line, exit 2."""

    def __init__(self, source: str, error: ScenarioError) -> None:
        super().__init__(str(error))
        self.source = source
        self.error = error


def _fail(source: str, faults: list[Fault] | ScenarioError) -> BadInputError:
    """The error that reports ``faults`` (about ``source``, a file or ``""``), exit 2."""
    error = faults if isinstance(faults, ScenarioError) else ScenarioError(faults)
    return BadInputError(source, error)
