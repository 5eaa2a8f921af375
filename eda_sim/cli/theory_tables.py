"""Terminal tables of ``eda-sim theory`` and ``eda-sim validate`` (layer 7).

Only builds and prints :mod:`rich` renderables (user-supplied names through
:class:`rich.text.Text`); the results tables are in :mod:`eda_sim.cli.tables`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from eda_sim import metrics as metric_table
from eda_sim.cli.tables import plural, safe_text

if TYPE_CHECKING:  # `validate` prints a table without loading the theory layer
    from rich.console import Console

    from eda_sim.scenario import Scenario
    from eda_sim.theory.scenario import ScenarioTheory

__all__ = ["print_theory", "theory_table", "validate_table"]


def _heading(metric: str, time_unit: str) -> Text:
    return safe_text(metric_table.heading(metric, time_unit))


def theory_table(scenario: Scenario, theory: ScenarioTheory) -> Table:
    """The analytic answer for every station and the system (``eda-sim theory``)."""
    unit = scenario.time_unit
    table = Table(title=safe_text(f"{scenario.name}: steady-state theory"), title_justify="left")
    figures_of = metric_table.names("station")  # the theory's figures of a station
    columns = ("station", "λ", "ρ", *(_heading(m, unit) for m in figures_of), "method")
    for column in columns:
        plain = str(column)
        table.add_column(
            column if isinstance(column, Text) else safe_text(plain),
            justify="left" if plain in ("station", "method") else "right",
            no_wrap=plain != "method",
        )
    for name, station in theory.stations.items():
        head: list[Text | str] = [
            safe_text(name),
            f"{theory.arrival_rates[name]:.4g}",
            f"{theory.offered_load[name]:.4g}",
        ]
        if station is None:
            blank = [""] * len(figures_of)
            table.add_row(*head, *blank, safe_text(f"unavailable: {theory.reasons.get(name, '')}"))
            continue
        figures = [f"{getattr(station, m):.4g}" for m in figures_of]
        label = station.method + (" (exact)" if station.exact else "")
        table.add_row(*head, *figures, safe_text(label))
    table.add_section()
    system = theory.system
    if system is None:
        blank = [""] * len(figures_of)
        table.add_row("system", "", "", *blank, safe_text(theory.reasons.get("system", "")))
    else:
        of_system = metric_table.names("system")
        table.add_row(
            "system",
            "",
            "",
            *(f"{getattr(system, m):.4g}" if m in of_system else "" for m in figures_of),
            safe_text(system.method + (" (exact)" if system.exact else "")),
        )
    for name, per_class in theory.classes.items():  # end to end, per event class
        if not per_class.available:
            table.add_row(
                safe_text(f"class {name}"), "", "", *[""] * 7, safe_text(per_class.reason)
            )
            continue
        table.add_row(
            safe_text(f"class {name}"),
            "",
            "",
            f"{per_class.L:.4g}",
            "",
            f"{per_class.W:.4g}",
            "",
            "",
            f"{per_class.throughput:.4g}",
            f"{per_class.loss:.4g}",
            safe_text(per_class.method + (" (exact)" if per_class.exact else "")),
        )
    return table


def validate_table(scenario: Scenario) -> Table:
    """Stations with servers, capacity, service, arrival rate, loss, visit ratio and ρ.

    The arrival rate is what reaches the station (losses upstream carried
    downstream); ρ offered is its load, ρ carried the load of what it admits,
    which the stability check compares with 1 at a station without a capacity.
    """
    rates = scenario.arrival_rates().sum(axis=0)
    visits = scenario.visit_ratios()
    offered = scenario.offered_load()
    carried = scenario.carried_load()
    loss = scenario.traffic.loss
    classes = len(scenario.classes)
    title = (
        f"{scenario.name}: valid ({plural(len(scenario.stations), 'station')}, "
        f"{plural(classes, 'event class', 'event classes')})"
    )
    table = Table(title=safe_text(title), title_justify="left")
    columns = (
        "station", "servers", "capacity", "service", "arrival rate", "loss", "visit ratio",
        "ρ offered", "ρ carried",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in ("station", "service") else "right")
    for index, station in enumerate(scenario.stations):
        table.add_row(
            safe_text(station.name),
            str(station.servers),
            "∞" if station.capacity is None else str(station.capacity),
            safe_text(station.service.describe()),
            f"{rates[index]:.4g}",
            f"{float(loss[index]):.4g}",
            f"{visits[index]:.4g}",
            f"{float(offered[index]):.4g}",
            f"{float(carried[index]):.4g}",
        )
    return table


def print_theory(console: Console, scenario: Scenario, theory: ScenarioTheory) -> None:
    """What ``eda-sim theory`` prints: the table, and the article's formulas beside it."""
    from eda_sim.theory import ARTICLE_NOTE

    console.print(theory_table(scenario, theory))
    if theory.article:
        console.print(safe_text(ARTICLE_NOTE))
        for name, values in theory.article.items():
            console.print(
                safe_text(
                    f"  {name}: ρ = {values.rho:.4g}, L_article = {values.L:.4g}, "
                    f"W_article = {values.W:.4g}"
                )
            )
