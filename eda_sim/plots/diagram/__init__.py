"""The routing diagram: stations in layers, arrows with routing probabilities.

Stations are placed in columns by their distance (in hops) from the entry
stations, in the same place in every panel; each event class gets its own panel
with its arrows: solid with the routing probability, dashed for fan-out copies,
a short arrow in for each entry station and out for each exit. Stations a class
never visits are greyed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from eda_sim.plots._common import (
    CYCLE,
    Source,
    as_document,
    legend_below,
    new_figure,
    no_data,
    number,
    plain,
    time_unit,
)
from eda_sim.plots.diagram.layout import BOX, INCH, fit_name, station_positions
from eda_sim.plots.diagram.panel import draw_panel, full_mark

__all__ = ["routing_diagram"]


def routing_diagram(source: Source) -> Figure:
    """The scenario's routing drawn from its matrices: one panel per event class.

    Parameters
    ----------
    source : dict or RunResult
        A result document with the scenario's ``model`` (a run's, or a sweep's
        document that carries one).

    Returns
    -------
    matplotlib.figure.Figure
        Boxes for the stations; arrows labelled with the routing probability,
        dashed arrows for fan-out copies, short arrows in (entry probability) and
        out (exit probability); under a station of finite capacity ``K``, what it
        does when full (``K=2, blocks``: blocking after service; ``loses``: the
        arrival is lost).
    """
    document = as_document(source)
    model = document.get("model")
    stations = model.get("stations", []) if isinstance(model, Mapping) else []
    classes = list(model.get("classes", [])) if isinstance(model, Mapping) else []
    if not stations or not classes:
        figure = new_figure(6.0, 2.5)
        ax = figure.add_subplot()
        ax.set_title("Routing")
        ax.set_axis_off()
        no_data(ax, "the document does not describe the scenario (no model)")
        return figure
    names = [str(station["name"]) for station in stations]
    unit = time_unit(document)
    positions = station_positions(names, classes)
    xs = [x for x, _ in positions]
    ys = [y for _, y in positions]
    left, right = min(xs) - 1.7, max(xs) + 1.7
    bottom, top = min(ys) - 0.95, max(ys) + 0.95
    columns = 1 if len(classes) == 1 else 2
    rows = math.ceil(len(classes) / columns)
    scale = min(INCH, 11.5 / (columns * (right - left)), 14.0 / (rows * (top - bottom) + 0.6))
    figure = new_figure(
        max(5.0, columns * (right - left) * scale + 0.3),
        rows * ((top - bottom) * scale + 0.45) + 0.6,
    )
    points_per_unit = 72 * scale * 0.9
    shown = [fit_name(name, BOX[0] * points_per_unit) for name in names]
    marks = [full_mark(station) for station in stations]
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for number_, (ax, event_class) in enumerate(zip(axes, classes, strict=False)):
        color = CYCLE[number_ % len(CYCLE)]
        rate = number(event_class.get("rate"))
        rate_text = f", λ = {rate:.4g} per {unit}" if math.isfinite(rate) else ""
        label = "events" if len(classes) == 1 else f"class {event_class.get('name')}"
        ax.set_title(
            plain(f"{label}: {event_class.get('arrivals', '')} arrivals{rate_text}"),
            fontsize="medium",
        )
        draw_panel(ax, names, positions, event_class, color, shown, points_per_unit, marks)
        ax.set_xlim(left, right)
        ax.set_ylim(bottom, top)
        ax.set_aspect("equal")
        ax.set_axis_off()
    for ax in axes[len(classes) :]:
        ax.set_visible(False)
    figure.suptitle("Routing: where an event goes after each station")
    legend_below(
        figure,
        [
            Line2D([], [], color="#333333", linewidth=1.4, label="next hop, with its probability"),
            Line2D(
                [],
                [],
                color="#333333",
                linewidth=1.4,
                linestyle=(0, (4, 3)),
                label="fan-out copy (always sent)",
            ),
        ],
    )
    return figure
