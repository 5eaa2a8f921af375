"""Terminal tables of tail latency (layer 7): the percentile block and the SLO verdicts.

Both fit an 80-column terminal: the percentile block lists the levels down a
cell (one row per station and time, however many levels were asked for) and
names each theory method once, in a numbered caption, instead of in a column.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from eda_sim.cli.tables import format_estimate, safe_text

if TYPE_CHECKING:
    from eda_sim.results import RunResult
    from eda_sim.stats import Interval
    from eda_sim.theory.percentiles.scenario import LatencyTheory

__all__ = ["exact_percentile_table", "percentile_table", "slo_table"]

#: The times of a station that have percentiles, in the order shown.
STATION_TIMES = ("W", "Wq", "blocked")


def _theory_cell(interval: Interval, theory: float, exact: bool) -> str:
    """The exact percentile and ✓/✗ (inside / outside the interval); ``—`` when unknown."""
    if not exact or math.isnan(theory):
        return "—"
    if math.isnan(interval.low):
        return f"{theory:.4g}"
    return f"{theory:.4g} {'✓' if interval.contains(theory) else '✗'}"


def percentile_table(result: RunResult, time_unit: str) -> Table | None:
    """The percentile block: per station W and Wq, per class and the system end-to-end W.

    Each line of a cell is one level: the mean of the replications' (or batches')
    quantiles ± the half-width of its Student-t interval, beside the exact
    percentile where theory has one (✓: inside the interval, ✗: outside; —: no
    exact value), with a reference ``[n]`` to its method in the caption. None when
    no percentile was measured.
    """
    from eda_sim.scenario.slo import quantile_name

    levels = result.quantile_levels
    if not levels or not any(f"W_{quantile_name(levels[0])}" == m for m in result.system):
        return None
    names = [quantile_name(level) for level in levels]
    methods: dict[str, int] = {}
    if result.ci_method == "replications" and result.replications == 1:
        title = "percentiles of the one replication (no confidence interval from one)"
    else:
        title = f"percentiles: mean ± {result.confidence:.0%} half-width over the " + (
            "batches" if result.ci_method == "batch-means" else "replications"
        )
    table = Table(title=Text(title), title_justify="left", caption_justify="left")
    table.add_column("where", overflow="fold")
    table.add_column("time", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("simulated", justify="right", no_wrap=True)
    table.add_column("exact", justify="right", no_wrap=True)
    table.add_column("method", no_wrap=True)

    def add(scope: str, name: str, label: str, metrics: dict[str, Interval], base: str) -> None:
        simulated, exact, shown_methods = [], [], []
        for level_name in names:
            interval = metrics.get(f"{base}_{level_name}")
            if interval is None:
                simulated.append("")
                exact.append("")
                continue
            theory, method, is_exact = result.theory_value(scope, name, f"{base}_{level_name}")
            simulated.append(format_estimate(interval))
            exact.append(_theory_cell(interval, theory, is_exact))
            if is_exact and method:
                shown_methods.append(method)
        references = sorted({methods.setdefault(m, len(methods) + 1) for m in shown_methods})
        table.add_row(
            Text(label),
            f"{base} ({time_unit})",
            "\n".join(names),
            "\n".join(simulated),
            "\n".join(exact),
            " ".join(f"[{n}]" for n in references),
        )

    for station, metrics in result.stations.items():
        bases = [b for b in STATION_TIMES if f"{b}_{names[0]}" in metrics]
        for index, base in enumerate(bases):
            add("station", station, station if index == 0 else "", metrics, base)
        table.add_section()
    for name, metrics in result.classes.items():
        add("class", name, f"class {name}", metrics, "W")
    add("system", "system", "system", result.system, "W")
    caption = [
        "W: time per visit (classes, system: end to end, to the event's last copy); "
        "Wq: wait before service. Quantiles within 0.39% of the exact order statistics "
        "(log-bucketed sketches); exact: the model's exact percentile."
    ]
    caption += [f"[{number}] {method} (exact)" for method, number in methods.items()]
    table.caption = Text("\n").join(safe_text(line) for line in caption)  # scenario text escaped
    return table


def _to_decide(result: RunResult, growth: float, needed: int | None) -> str:
    """What would decide an undecided SLO: more replications, or a longer horizon."""
    if result.ci_method == "batch-means":
        return f"~{growth:.3g}× horizon" if math.isfinite(growth) else "mean on limit"
    return f"~{needed} reps" if needed is not None else "mean on limit"


def slo_table(result: RunResult) -> Table | None:
    """Each SLO: its limit, the simulated interval and the verdict (None without SLOs)."""
    if not result.slo:
        return None
    table = Table(
        title=Text(
            f"service-level objectives (verdict at {result.confidence:.0%}: met = the whole "
            "interval on the right side of the limit)"
        ),
        title_justify="left",
    )
    table.add_column("target", overflow="fold")
    for column in ("limit", "simulated", "verdict", "to decide"):
        table.add_column(column, justify="right", no_wrap=True)
    for verdict in result.slo:
        slo = verdict.slo
        decide = ""
        if verdict.verdict == "undecided":
            decide = _to_decide(result, verdict.growth, verdict.replications_to_decide())
        table.add_row(
            Text(slo.target),
            f"{'≤' if slo.kind == 'max' else '≥'} {slo.limit:.4g}",
            format_estimate(verdict.interval),
            verdict.verdict.upper() if verdict.verdict == "violated" else verdict.verdict,
            decide,
        )
    return table


def exact_percentile_table(
    theory: LatencyTheory, levels: tuple[float, ...], time_unit: str
) -> Table:
    """What ``eda-sim theory`` prints after the means: each exact percentile, or why none.

    One row per station and time (``W``, ``Wq``), class and the system, the levels
    down a cell, the method as a reference ``[n]`` to the caption; stations and
    the system without an exact law are listed in the caption with the reason,
    classes by name (their reasons are in the JSON).
    """
    from eda_sim.scenario.slo import quantile_name

    names = [quantile_name(level) for level in levels]
    table = Table(
        title=Text("exact percentiles (where theory knows the distribution)"),
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("where", overflow="fold")
    table.add_column("time", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("exact", justify="right", no_wrap=True)
    table.add_column("method", no_wrap=True)
    methods: dict[str, int] = {}
    missing: list[str] = []
    classes_missing: list[str] = []
    labels = {"station": "", "class": "class ", "system": ""}
    places = sorted({key[:2] for key in theory.laws} | set(theory.reasons))
    order = {"station": 0, "class": 1, "system": 2}
    for scope, name in sorted(places, key=lambda place: order.get(place[0], 3)):
        bases = [b for b in ("W", "Wq") if (scope, name, b) in theory.laws]
        if not bases:
            if scope == "class":
                classes_missing.append(name)
            else:
                missing.append(f"{name}: {theory.reasons.get((scope, name), '')}")
            continue
        for index, base in enumerate(bases):
            values, shown = [], set()
            for level in levels:
                value, method, exact = theory.quantile(scope, name, base, level)
                values.append(f"{value:.4g}" if exact else "—")
                shown.add(methods.setdefault(method, len(methods) + 1) if exact else 0)
            table.add_row(
                safe_text(f"{labels.get(scope, '')}{name}" if index == 0 else ""),
                f"{base} ({time_unit})",
                "\n".join(names),
                "\n".join(values),
                " ".join(f"[{n}]" for n in sorted(shown - {0})),
            )
    caption = [f"[{number}] {method} (exact)" for method, number in methods.items()]
    caption += [f"no exact percentile at {line}" for line in missing]
    if classes_missing:
        caption.append(
            f"no exact end-to-end percentile for class {', '.join(classes_missing)} "
            "(reasons: --json, theory.percentiles)"
        )
    table.caption = Text("\n").join(safe_text(line) for line in caption)  # scenario text escaped
    return table
