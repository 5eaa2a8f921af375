"""The table ``eda-sim sweep`` prints: per value, L and W beside theory (layer 7).

Only builds :mod:`rich` renderables; :mod:`eda_sim.cli.sweep_command` prints them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from eda_sim import metrics as metric_table

if TYPE_CHECKING:
    from rich.table import Table

    from eda_sim.experiment import SweepResult

__all__ = ["highest_meeting", "sweep_table"]


def _number(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.4g}"


def _estimate(row: dict[str, Any], confidence: float) -> str:
    from eda_sim.cli.tables import format_estimate
    from eda_sim.stats import Interval

    interval = Interval(row["mean"], row["ci_low"], row["ci_high"], row["n"], confidence)
    return format_estimate(interval)


def sweep_table(result: SweepResult, time_unit: str) -> Table:
    """Per value: each station's and the system's L and W beside theory; skipped points' reasons.

    A point cut short shows its figures over the replications that finished, and a
    ``partial`` line saying how many.
    """
    from rich.table import Table

    from eda_sim.cli.tables import safe_text

    warmup = result.warmup if isinstance(result.warmup, str) else f"{result.warmup:g}"
    title = (
        f"{result.scenario}: {result.param} over {len(result.points)} values; "
        f"{result.replications} replications of {result.horizon:g} {time_unit} "
        f"(warm-up {warmup}), seed {result.seed} at every point; engine {result.engine}; "
        f"simulated = mean ± {result.confidence:.0%} half-width"
        + (" — PARTIAL (interrupted)" if result.partial else "")
    )
    table = Table(title=safe_text(title), title_justify="left")
    for name, justify in (
        (result.param, "right"),
        ("station", "left"),
        (metric_table.heading("L", time_unit), "right"),
        ("theory", "right"),
        (metric_table.heading("W", time_unit), "right"),
        ("theory", "right"),
        ("method / reason", "left"),
    ):
        table.add_column(safe_text(name), justify=justify, no_wrap=name != "method / reason")  # type: ignore[arg-type]
    rows_by_value: dict[float, list[dict[str, Any]]] = {}
    for row in result.rows:
        rows_by_value.setdefault(row["value"], []).append(row)
    for point in result.points:
        shown_value = f"{point.value:.6g}"
        if point.status not in ("ok", "partial"):
            label = "skipped" if point.status == "skipped" else "not run"
            table.add_row(shown_value, label, "", "", "", "", safe_text(point.reason or ""))
            table.add_section()
            continue
        metrics: dict[tuple[str, str], dict[str, Any]] = {
            (row["name"], row["metric"]): row
            for row in rows_by_value[point.value]
            if row["scope"] in ("station", "system")
        }
        names = list(dict.fromkeys(name for name, _ in metrics))
        previous_method = None
        for position, name in enumerate(names):
            length, wait = metrics.get((name, "L")), metrics.get((name, "W"))
            if length is None or wait is None:
                continue
            method = str(wait["method"]) + (" (exact)" if wait["exact"] else "")
            table.add_row(
                shown_value if position == 0 else "",
                safe_text(name),
                _estimate(length, result.confidence),
                _number(length["theory"]),
                _estimate(wait, result.confidence),
                _number(wait["theory"]),
                safe_text(method if method != previous_method else ""),
            )
            previous_method = method
        slo_rows = [row for row in rows_by_value[point.value] if row["scope"] == "slo"]
        if slo_rows:
            table.add_row("", "SLOs", "", "", "", "", safe_text(_slo_summary(slo_rows)))
        if point.status == "partial":
            table.add_row("", "partial", "", "", "", "", safe_text(point.reason or ""))
        table.add_section()
    highest = highest_meeting(result)
    if highest is not None:
        table.caption = safe_text(f"highest {result.param} with every SLO met: {highest:.6g}")
    elif any(row["scope"] == "slo" for row in result.rows):
        table.caption = safe_text(f"no {result.param} swept meets every SLO")
    table.caption_justify = "left"
    return table


def _slo_summary(rows: list[dict[str, Any]]) -> str:
    """``all 3 met``, or the SLOs not met with their verdicts."""
    failing = [f"{row['name']} {row['method']}" for row in rows if row["method"] != "met"]
    if not failing:
        return f"all {len(rows)} met"
    return f"{len(rows) - len(failing)} of {len(rows)} met; " + ", ".join(failing)


def highest_meeting(result: SweepResult) -> float | None:
    """The largest swept value at which every SLO was met (None without SLOs or such a point)."""
    verdicts: dict[float, list[str]] = {}
    for row in result.rows:
        if row["scope"] == "slo":
            verdicts.setdefault(row["value"], []).append(str(row["method"]))
    meeting = [value for value, found in verdicts.items() if all(v == "met" for v in found)]
    return max(meeting) if meeting else None
