"""The report's scenario section: stations, event classes, routing diagram (runs and sweeps)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eda_sim import plots
from eda_sim.report._html import Cell, Html, esc, figure_html, num, section, table

__all__ = ["scenario_section"]


def _capacity(station: Mapping[str, Any]) -> str:
    capacity = station.get("capacity")
    if capacity is None:
        return "unlimited"
    return f"{capacity} ({station.get('on_full', 'lose')} when full)"


def scenario_section(document: Mapping[str, Any]) -> Html | None:
    """Stations table, event classes table and the routing diagram; None without a model."""
    model = document.get("model")
    if not isinstance(model, Mapping) or not model.get("stations"):
        return None
    unit = plots.time_unit(document)
    parts: list[str] = []
    description = str(model.get("description") or "").strip()
    if description:
        parts.append(f"<p>{esc(description)}</p>")
    parts.append("<h3>Stations</h3>")
    parts.append(
        table(
            ["station", "servers", "capacity", "service time", f"mean service ({unit})"],
            [
                [
                    (str(station.get("name")), "name"),
                    (str(station.get("servers", "")), "num"),
                    _capacity(station),
                    str(station.get("service", "")),
                    (num(station.get("service_mean")), "num"),
                ]
                for station in model["stations"]
            ],
            caption="Stations in matrix order; each is a FIFO queue (priorities where classes "
            "have them) with the given number of servers.",
        )
    )
    classes = list(model.get("classes") or [])
    names = [str(station.get("name")) for station in model["stations"]]
    if classes:
        parts.append("<h3>Event classes</h3>")
        rows: list[list[Cell]] = []
        for event_class in classes:
            entry = event_class.get("entry") or []
            enters = ", ".join(
                f"{names[i]} ({p:.3g})" if p < 1 else names[i]
                for i, p in enumerate(entry)
                if p > 0 and i < len(names)
            )
            fanout = "; ".join(
                f"{names[i]} → {', '.join(targets)}"
                for i, targets in enumerate(event_class.get("fanout") or [])
                if targets and i < len(names)
            )
            rows.append(
                [
                    (str(event_class.get("name")), "name"),
                    str(event_class.get("arrivals", "")),
                    (num(event_class.get("rate")), "num"),
                    (num(event_class.get("priority")), "num"),
                    enters,
                    fanout or "—",
                ]
            )
        parts.append(
            table(
                ["class", "arrivals", f"rate (per {unit})", "priority", "enters at", "fan-out"],
                rows,
                caption="Priority: a lower number is served first.",
            )
        )
    parts.append("<h3>Routing</h3>")
    parts.append(
        figure_html(
            plots.routing_diagram(document),
            "Routing diagram",
            "Drawn from the routing matrices: an arrow's label is the probability that an "
            "event finishing at its tail goes next to its head; 'out' is the probability of "
            "leaving the system; dashed arrows are fan-out copies, sent every time. Under a "
            "station of finite capacity K: what it does when full (loses the arrival, or "
            "blocks the station upstream after its service).",
        )
    )
    return section("scenario", "The scenario", *parts)
