"""What ``eda-sim run`` prints to standard output, table by table (layer 7).

One function, so that the command and the test of the terminal width
(``tests/test_terminal_width.py``) print the same thing; each table is fitted to the
console's width by :mod:`eda_sim.cli.fit`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eda_sim.cli import latency_tables, tables

if TYPE_CHECKING:
    from rich.console import Console

    from eda_sim.results import RunResult

__all__ = ["print_run"]


def print_run(console: Console, result: RunResult, time_unit: str, engine: str | None) -> None:
    """The results, per class, percentiles and SLOs, the article, the checks, a summary."""
    console.print(tables.comparison_table(result, time_unit, engine))
    if result.classes:
        console.print(tables.classes_table(result, time_unit))
    for extra in (
        latency_tables.percentile_table(result, time_unit),
        latency_tables.slo_table(result),
        tables.article_table(result, time_unit),
        tables.checks_table(result),
    ):
        if extra is not None:
            console.print(extra)
    console.print(tables.run_summary(result))
