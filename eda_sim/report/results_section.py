"""The results section of a run's report: simulation beside theory and the article."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from eda_sim import metrics as metric_table
from eda_sim.report._html import (
    Cell,
    Html,
    estimate,
    num,
    relative_error,
    section,
    table,
)

__all__ = ["metric_heading", "results_section"]


def _method_text(entry: Mapping[str, Any]) -> str:
    method = str(entry.get("method", ""))
    if entry.get("exact"):
        return f"{method} (exact)"
    return method if "approx" in method else f"{method} (approx.)"


def metric_heading(metric: str, unit: str) -> str:
    """A metric's column heading with its unit (``W (s)``, ``throughput (per s)``)."""
    return metric_table.heading(metric, unit, per="per ")


def _percentile(metric: str) -> bool:
    """A member of a metric family (``W_p99``): shown in the tail-latency section."""
    try:
        return metric_table.lookup(metric).family is not None
    except KeyError:
        return False


def _means(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics that are not percentiles, in order."""
    return {name: value for name, value in metrics.items() if not _percentile(name)}


def _shown_metrics(document: Mapping[str, Any]) -> list[str]:
    """The metrics of the results table (not the percentiles), stations' first, each once."""
    shown = [name for values in (document.get("stations") or {}).values() for name in values]
    every = dict.fromkeys([*shown, *(document.get("system") or {})])
    return [name for name in every if not _percentile(name)]


def _interval(metrics: Mapping[str, Any], metric: str) -> tuple[Any, Any, Any]:
    entry = metrics.get(metric) or {}
    ci = entry.get("ci") or [None, None]
    return entry.get("mean"), ci[0], ci[1]


def _inside(interval: tuple[Any, Any, Any], theory: Any, exact: bool) -> Cell:
    _, low, high = interval
    numbers = [v for v in (low, high, theory) if isinstance(v, int | float)]
    if not exact or len(numbers) < 3 or any(math.isnan(v) for v in numbers):
        return ""
    inside = low - 1e-12 * abs(low) <= theory <= high + 1e-12 * abs(high)
    return ("✓ inside CI", "pass") if inside else ("✗ outside CI", "fail")


def _hidden(metric: str, metrics: Mapping[str, Any]) -> bool:
    """A metric that applies only where it is not zero (``blocked``), at zero: not shown.

    The same rule as the command's table (:attr:`eda_sim.metrics.Metric.hide_zero`).
    """
    try:
        hide = metric_table.lookup(metric).hide_zero
    except KeyError:
        return False
    return hide and _interval(metrics, metric)[0] == 0


def results_section(document: Mapping[str, Any], unit: str) -> Html:
    """The results section: per station and system, per class, and the article's formulas."""
    parts = [_station_table(document, unit)]
    classes = {name: _means(metrics) for name, metrics in (document.get("classes") or {}).items()}
    if classes:
        parts += [
            Html("<h3>Per event class, end to end</h3>"),
            _class_table(document, classes, unit),
        ]
    if (document.get("article") or {}).get("stations"):
        parts += [Html("<h3>The source article's formulas</h3>"), _article_table(document, unit)]
    return section("results", "Results: simulation, theory and the article", *parts)


def _station_table(document: Mapping[str, Any], unit: str) -> Html:
    """Each station's and the system's metrics: simulated, CI, theory, error, article."""
    theory = document.get("theory") or {}
    article = (document.get("article") or {}).get("stations") or {}
    headers = [
        "station",
        "metric",
        "simulated",
        "95% CI" if document.get("confidence") == 0.95 else "CI",
        "theory",
        "rel. error",
        "",
        "method",
        "article",
    ]
    rows: list[list[Cell]] = []
    for name, metrics in document.get("stations", {}).items():
        entry = (theory.get("stations") or {}).get(name) or {}
        rows += _metric_rows(name, _means(metrics), entry, article.get(name, {}), unit)
    system = _means(document.get("system", {}))
    rows += _metric_rows("system", system, theory.get("system") or {}, {}, unit)
    return table(
        headers,
        rows,
        caption="Simulated: mean over the replications ± the half-width of its confidence "
        f"interval. {metric_table.legend(_shown_metrics(document))}. "
        "rel. error = (simulated − theory) / theory; ✓/✗: an exact theoretical value inside "
        "or outside the interval. article: the source article's L and W (single-server "
        "stations, see below).",
    )


def _metric_rows(
    name: str,
    metrics: Mapping[str, Any],
    entry: Mapping[str, Any],
    article: Mapping[str, Any],
    unit: str,
) -> list[list[Cell]]:
    """One row per shown metric of a station (or the system), its theory and the article's."""
    available = entry.get("available", bool(entry))
    method = (
        _method_text(entry)
        if available
        else f"unavailable: {entry.get('reason', 'no formula applies')}"
    )
    rows: list[list[Cell]] = []
    shown = [m for m in metrics if not _hidden(m, metrics)]
    for position, metric in enumerate(shown):
        interval = _interval(metrics, metric)
        value = entry.get(metric) if available else None
        low, high = interval[1], interval[2]
        rows.append(
            [
                (name if position == 0 else "", "name"),
                metric_heading(metric, unit),
                (estimate(*interval), "num"),
                (f"[{num(low)}, {num(high)}]" if num(low) else "", "num"),
                (num(value), "num"),
                (relative_error(interval[0], value), "num"),
                _inside(interval, value, bool(entry.get("exact"))),
                method if position == 0 else "",
                (num(article.get(metric)), "num"),
            ]
        )
    return rows


def _class_table(
    document: Mapping[str, Any], classes: Mapping[str, Mapping[str, Any]], unit: str
) -> Html:
    """Each event class's end-to-end metrics beside theory."""
    class_theory = (document.get("theory") or {}).get("classes") or {}
    class_rows = [
        [
            (name, "name"),
            *[
                cell
                for metric in metrics
                for cell in (
                    (estimate(*_interval(metrics, metric)), "num"),
                    (num((class_theory.get(name) or {}).get(metric)), "num"),
                )
            ],
        ]
        for name, metrics in classes.items()
    ]
    first = next(iter(classes.values()))
    headers = ["class"] + [h for m in first for h in (metric_heading(m, unit), "theory")]
    return table(headers, class_rows)


def _article_table(document: Mapping[str, Any], unit: str) -> Html:
    """The source article's L and W per single-server station, beside simulation and theory."""
    theory = document.get("theory") or {}
    article = document.get("article") or {}
    stations = document.get("stations", {})
    rows_article: list[Sequence[Cell]] = []
    for name, values in article["stations"].items():
        metrics = stations.get(name, {})
        entry = (theory.get("stations") or {}).get(name) or {}
        rows_article.append(
            [
                (name, "name"),
                (num(values.get("rho")), "num"),
                (estimate(*_interval(metrics, "L")), "num"),
                (num(entry.get("L")), "num"),
                (num(values.get("L")), "num"),
                (estimate(*_interval(metrics, "W")), "num"),
                (num(entry.get("W")), "num"),
                (num(values.get("W")), "num"),
            ]
        )
    return table(
        [
            "station",
            "ρ",
            "L simulated",
            "L theory",
            "L article",
            f"W simulated ({unit})",
            f"W theory ({unit})",
            f"W article ({unit})",
        ],
        rows_article,
        caption=str(article.get("note") or ""),
    )
