"""One event class's panel of the routing diagram: boxes, marks, hops, entries and exits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.patches import FancyBboxPatch

from eda_sim.plots._common import plain
from eda_sim.plots.diagram.layout import (
    BOX,
    COLUMN,
    Point,
    Rect,
    entry_stations,
    hop_distances,
    station_targets,
)
from eda_sim.plots.diagram.scene import ENTRY_DIRECTIONS, EXIT_DIRECTIONS, Scene

#: Colour of the mark of a station that loses or blocks when full.
FULL = "#B34700"


def full_mark(station: Mapping[str, Any]) -> str:
    """``K=2, blocks`` under a station of finite capacity (what a full station does)."""
    capacity = station.get("capacity")
    if capacity is None:
        return ""
    does = "blocks" if station.get("on_full") == "block" else "loses"
    return f"K={capacity}, {does}"


def draw_panel(
    ax: Axes,
    names: Sequence[str],
    positions: Sequence[Point],
    event_class: Mapping[str, Any],
    color: str,
    shown: Sequence[tuple[str, float]],
    points_per_unit: float,
    marks: Sequence[str],
) -> None:
    """Draw one class's panel: station boxes, full-station marks, hops, entries and exits.

    ``shown`` is each station's name as fitted in its box with its font size,
    ``marks`` the text under each station of finite capacity (empty for none).
    """
    targets = station_targets(event_class, names)
    visited = set(hop_distances(entry_stations(event_class), targets))
    patches, rects = _draw_boxes(ax, positions, shown, visited)
    scene = Scene(ax, rects, points_per_unit, color)
    for i, mark in enumerate(marks):
        if mark and i in visited:  # where a full station loses or blocks
            x, y = positions[i]
            scene.text((x, y - BOX[1] / 2 - 0.2 * scene.unit), mark, va="top", color=FULL)
    _draw_hops(scene, names, positions, event_class, targets, patches)
    for i, probability in enumerate(event_class.get("entry") or ()):
        if probability > 0:
            text = "in" if probability >= 1 else f"in {probability:.2g}"
            scene.stub(rects[i], text, ENTRY_DIRECTIONS, inward=True)
    for i, probability in enumerate(event_class.get("exit") or ()):
        if probability > 0 and i in visited:
            text = "out" if probability >= 1 else f"out {probability:.2g}"
            scene.stub(rects[i], text, EXIT_DIRECTIONS, inward=False)


def _draw_boxes(
    ax: Axes,
    positions: Sequence[Point],
    shown: Sequence[tuple[str, float]],
    visited: set[int],
) -> tuple[list[FancyBboxPatch], list[Rect]]:
    """Draw each station's box and name (greyed where the class never goes)."""
    width, height = BOX
    patches: list[FancyBboxPatch] = []
    rects: list[Rect] = []
    for i, (x, y) in enumerate(positions):
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
    return patches, rects


def _draw_hops(
    scene: Scene,
    names: Sequence[str],
    positions: Sequence[Point],
    event_class: Mapping[str, Any],
    targets: Sequence[Sequence[int]],
    patches: Sequence[FancyBboxPatch],
) -> None:
    """Draw every hop's arrow (dashed for a fan-out copy), then label them all."""
    width, height = BOX
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
                steps = round((x1 - x0) / COLUMN)
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
