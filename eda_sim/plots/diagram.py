"""The routing diagram: stations in layers, arrows with routing probabilities.

Stations are placed in columns by their distance (in hops) from the entry
stations, in the same place in every panel; each event class gets its own panel
with its arrows: solid with the routing probability, dashed for fan-out copies,
a short arrow in for each entry station and out for each exit. Stations a class
never visits are greyed.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

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

__all__ = ["routing_diagram"]

_COLUMN = 2.8  # horizontal distance between layers (data units)
_ROW = 1.3  # vertical distance between stations of one layer
_BOX = (1.3, 0.5)  # station box width and height
_INCH = 0.85  # inches per data unit before scaling to fit the page

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


def _targets(event_class: Mapping[str, Any], names: Sequence[str]) -> list[list[int]]:
    """Next stations of each station: routing probability > 0 or a fan-out copy."""
    index = {name: i for i, name in enumerate(names)}
    matrix = event_class.get("matrix") or [[0.0] * len(names) for _ in names]
    fanout = event_class.get("fanout") or [[] for _ in names]
    return [
        sorted(
            {j for j, p in enumerate(matrix[i]) if p > 0}
            | {index[t] for t in fanout[i] if t in index}
        )
        for i in range(len(names))
    ]


def _entries(event_class: Mapping[str, Any]) -> list[int]:
    return [i for i, p in enumerate(event_class.get("entry") or ()) if p > 0]


def _distances(starts: Sequence[int], targets: Sequence[Sequence[int]]) -> dict[int, int]:
    distance = dict.fromkeys(starts, 0)
    queue = deque(starts)
    while queue:
        here = queue.popleft()
        for there in targets[here]:
            if there not in distance:
                distance[there] = distance[here] + 1
                queue.append(there)
    return distance


def _layout(
    names: Sequence[str], classes: Sequence[Mapping[str, Any]]
) -> list[tuple[float, float]]:
    """A position per station: columns by hops from the entries, rows centred per column."""
    size = len(names)
    union = [sorted({j for c in classes for j in _targets(c, names)[i]}) for i in range(size)]
    starts = sorted({i for c in classes for i in _entries(c)})
    distance = _distances(starts, union)
    last = max(distance.values(), default=-1) + 1
    layers = [distance.get(i, last) for i in range(size)]
    positions: list[Point] = [(0.0, 0.0)] * size
    for layer in sorted(set(layers)):
        members = [i for i in range(size) if layers[i] == layer]
        for rank, i in enumerate(members):
            positions[i] = (layer * _COLUMN, ((len(members) - 1) / 2 - rank) * _ROW)
    return positions


_LABEL_SIZE = 7.5  # points
_STUB = 0.45  # length of the entry and exit arrows (data units)
#: Directions tried for entry arrows (towards the box) and exit arrows, in order of preference.
_ENTRY_DIRECTIONS = (145.0, 180.0, 115.0, 215.0, 90.0, 270.0)
_EXIT_DIRECTIONS = (-35.0, -65.0, 0.0, 35.0, -90.0, 90.0, -145.0)


def _bezier(start: Point, end: Point, rad: float, t: float) -> Point:
    """A point of matplotlib's ``arc3`` curve (a quadratic Bézier) at parameter ``t``."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    control = ((start[0] + end[0]) / 2 + rad * dy, (start[1] + end[1]) / 2 - rad * dx)
    a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t**2
    return (
        a * start[0] + b * control[0] + c * end[0],
        a * start[1] + b * control[1] + c * end[1],
    )


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(point: Point, rect: Rect, margin: float = 0.0) -> bool:
    return (
        rect[0] - margin <= point[0] <= rect[2] + margin
        and rect[1] - margin <= point[1] <= rect[3] + margin
    )


class _Scene:
    """What is drawn in one panel so far, to keep labels and stubs out of each other's way."""

    def __init__(self, ax: Axes, boxes: list[Rect], points_per_unit: float, color: str) -> None:
        self.ax = ax
        self.boxes = boxes
        self.labels: list[Rect] = []
        self.points: list[Point] = []
        self.unit = _LABEL_SIZE / points_per_unit  # data units per em of a label
        self.color = color

    def label_rect(self, at: Point, text: str, ha: str = "center", va: str = "center") -> Rect:
        width = (0.6 * len(text) + 0.5) * self.unit
        height = 1.5 * self.unit
        x0 = {"left": at[0], "right": at[0] - width}.get(ha, at[0] - width / 2)
        y0 = {"bottom": at[1], "top": at[1] - height}.get(va, at[1] - height / 2)
        return (x0, y0, x0 + width, y0 + height)

    def free(self, rect: Rect) -> bool:
        return not any(_overlaps(rect, other) for other in (*self.labels, *self.boxes))

    def text(
        self,
        at: Point,
        text: str,
        ha: str = "center",
        va: str = "center",
        color: str | None = None,
    ) -> None:
        self.labels.append(self.label_rect(at, text, ha, va))
        self.ax.text(
            at[0],
            at[1],
            text,
            ha=ha,
            va=va,
            fontsize=_LABEL_SIZE,
            color=color or self.color,
            zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )

    def arrow(
        self,
        start: Point,
        end: Point,
        *,
        rad: float = 0.0,
        dashed: bool = False,
        patches: tuple[FancyBboxPatch | None, FancyBboxPatch | None] = (None, None),
    ) -> None:
        self.ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                patchA=patches[0],
                patchB=patches[1],
                arrowstyle="-|>",
                mutation_scale=11,
                connectionstyle=f"arc3,rad={rad}",
                color=self.color,
                linewidth=1.4,
                linestyle=(0, (4, 3)) if dashed else "solid",
                zorder=2,
            )
        )
        for step in range(1, 20):
            point = _bezier(start, end, rad, step / 20)
            if not any(_inside(point, box) for box in self.boxes):
                self.points.append(point)

    def edge_label(self, start: Point, end: Point, rad: float, text: str) -> None:
        """Label a curve where the label hides nothing else (near the middle if possible)."""
        for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.25, 0.75, 0.2, 0.8):
            at = _bezier(start, end, rad, t)
            if self.free(self.label_rect(at, text)):
                break
        else:
            at = _bezier(start, end, rad, 0.5)
        self.text(at, text)

    def stub(self, box: Rect, text: str, directions: Sequence[float], inward: bool) -> None:
        """A short arrow into (``inward``) or out of ``box``, where it crosses the least."""
        centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        half = ((box[2] - box[0]) / 2, (box[3] - box[1]) / 2)
        best: tuple[float, Point, Point, Point, str, str] | None = None
        for rank, angle in enumerate(directions):
            dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            reach = min(
                half[0] / abs(dx) if abs(dx) > 1e-9 else math.inf,
                half[1] / abs(dy) if abs(dy) > 1e-9 else math.inf,
            )
            near = (centre[0] + reach * dx, centre[1] + reach * dy)
            far = (near[0] + _STUB * dx, near[1] + _STUB * dy)
            ha = "left" if dx > 0.3 else "right" if dx < -0.3 else "center"
            va = "bottom" if dy > 0.3 else "top" if dy < -0.3 else "center"
            at = (far[0] + 0.1 * self.unit * dx, far[1] + 0.1 * self.unit * dy)
            rect = self.label_rect(at, text, ha, va)
            samples = [
                (near[0] + f * (far[0] - near[0]), near[1] + f * (far[1] - near[1]))
                for f in (0.3, 0.6, 1.0)
            ]
            samples.append(((rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2))
            clearance = min(
                (math.dist(p, q) for p in samples for q in self.points), default=math.inf
            )
            blocked = not self.free(rect) or any(
                _inside(p, other) for p in samples[:3] for other in self.boxes
            )
            score = (-1.0 if blocked else min(clearance, 0.6)) - 0.01 * rank
            if best is None or score > best[0]:
                best = (score, near, far, at, ha, va)
        assert best is not None
        _, near, far, at, ha, va = best
        if inward:
            self.arrow(far, near)
        else:
            self.arrow(near, far)
        self.text(at, text, ha, va)


#: Smallest font size of a station name in its box (points).
_SMALLEST = 5.0


def _fit(name: str, width: float) -> tuple[str, float]:
    r"""The station name as drawn in a box ``width`` points wide, and its font size.

    Up to 9 pt on one line; a long name shrinks to 7 pt, then goes on two lines
    split between words (at ``_``, ``-`` or a space, never inside a word), then
    shrinks further, down to :data:`_SMALLEST`: the whole name is always drawn.

    Examples
    --------
    >>> _fit("ingest", 60.0)
    ('ingest', 9.0)
    >>> _fit("a_rather_long_station_name", 60.0)
    ('a_rather_long_\nstation_name', 6.3)
    >>> _fit("product", 30.0)
    ('product', 5.8)
    """

    def size_for(longest: int) -> float:
        return width / (0.62 * max(longest, 1) + 0.8)

    size = min(9.0, size_for(len(name)))
    if size >= 7.0:
        return name, size
    cuts = [i + 1 for i, char in enumerate(name[:-1]) if char in "_- "]
    if cuts:
        cut = min(cuts, key=lambda i: max(i, len(name) - i))
        lines = [name[:cut].rstrip(), name[cut:].lstrip()]
        two = min(7.0, size_for(max(len(line) for line in lines)))
        if two > size:
            return "\n".join(lines), max(_SMALLEST, round(two, 1))
    return name, max(_SMALLEST, round(size, 1))


def _panel(
    ax: Axes,
    names: Sequence[str],
    positions: Sequence[Point],
    event_class: Mapping[str, Any],
    color: str,
    shown: Sequence[tuple[str, float]],
    points_per_unit: float,
    marks: Sequence[str],
) -> None:
    targets = _targets(event_class, names)
    visited = set(_distances(_entries(event_class), targets))
    width, height = _BOX
    patches: list[FancyBboxPatch] = []
    rects: list[Rect] = []
    for i in range(len(names)):
        x, y = positions[i]
        seen = i in visited
        rect = (x - width / 2, y - height / 2, x + width / 2, y + height / 2)
        patch = FancyBboxPatch(
            rect[:2],
            width,
            height,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor="#DCEFFA" if seen else "#F4F4F4",
            edgecolor="#333333" if seen else "#BBBBBB",
            linewidth=1.2,
            zorder=3,
        )
        ax.add_patch(patch)
        patches.append(patch)
        rects.append(rect)
        ax.text(
            x,
            y,
            plain(shown[i][0]),
            ha="center",
            va="center",
            fontsize=shown[i][1],
            linespacing=1.0,
            color="black" if seen else "#999999",
            zorder=5,
        )
    scene = _Scene(ax, rects, points_per_unit, color)
    for i, mark in enumerate(marks):
        if mark and i in visited:  # where a full station loses or blocks
            x, y = positions[i]
            scene.text((x, y - height / 2 - 0.2 * scene.unit), mark, va="top", color=_FULL)
    matrix = event_class.get("matrix") or []
    fanout = event_class.get("fanout") or [[] for _ in names]
    index = {name: i for i, name in enumerate(names)}
    labels: list[tuple[Point, Point, float, str]] = []
    for i in range(len(names)):
        copies = {index[t] for t in fanout[i] if t in index}
        for j in targets[i]:
            probability = matrix[i][j] if matrix else 0.0
            for dashed, text in ((True, "copy"), (False, f"{probability:.2g}")):
                if (dashed and j not in copies) or (not dashed and probability <= 0):
                    continue
                (x0, y0), (x1, y1) = positions[i], positions[j]
                if i == j:  # a loop over the top of the box
                    start, end = (
                        (x0 - width / 4, y0 + height / 2),
                        (x0 + width / 4, y0 + height / 2),
                    )
                    scene.arrow(start, end, rad=-1.3, dashed=dashed)
                    labels.append((start, end, -1.3, text))
                    continue
                steps = round((x1 - x0) / _COLUMN)
                rad = 0.0 if steps == 1 and i not in targets[j] and y0 == y1 else 0.18
                if steps > 1 or steps <= 0:
                    rad = 0.3
                if dashed and probability > 0:
                    rad = -rad if rad else 0.25
                scene.arrow(
                    positions[i],
                    positions[j],
                    rad=rad,
                    dashed=dashed,
                    patches=(patches[i], patches[j]),
                )
                labels.append((positions[i], positions[j], rad, text))
    for start, end, rad, text in labels:
        scene.edge_label(start, end, rad, text)
    for i, probability in enumerate(event_class.get("entry") or ()):
        if probability > 0:
            text = "in" if probability >= 1 else f"in {probability:.2g}"
            scene.stub(rects[i], text, _ENTRY_DIRECTIONS, inward=True)
    for i, probability in enumerate(event_class.get("exit") or ()):
        if probability > 0 and i in visited:
            text = "out" if probability >= 1 else f"out {probability:.2g}"
            scene.stub(rects[i], text, _EXIT_DIRECTIONS, inward=False)


#: Colour of the mark of a station that loses or blocks when full.
_FULL = "#B34700"


def _full_mark(station: Mapping[str, Any]) -> str:
    """``K=2, blocks`` under a station of finite capacity (what a full station does)."""
    capacity = station.get("capacity")
    if capacity is None:
        return ""
    does = "blocks" if station.get("on_full") == "block" else "loses"
    return f"K={capacity}, {does}"


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
    positions = _layout(names, classes)
    xs = [x for x, _ in positions]
    ys = [y for _, y in positions]
    left, right = min(xs) - 1.7, max(xs) + 1.7
    bottom, top = min(ys) - 0.95, max(ys) + 0.95
    columns = 1 if len(classes) == 1 else 2
    rows = math.ceil(len(classes) / columns)
    scale = min(_INCH, 11.5 / (columns * (right - left)), 14.0 / (rows * (top - bottom) + 0.6))
    figure = new_figure(
        max(5.0, columns * (right - left) * scale + 0.3),
        rows * ((top - bottom) * scale + 0.45) + 0.6,
    )
    points_per_unit = 72 * scale * 0.9
    shown = [_fit(name, _BOX[0] * points_per_unit) for name in names]
    marks = [_full_mark(station) for station in stations]
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
        _panel(ax, names, positions, event_class, color, shown, points_per_unit, marks)
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
