"""One panel's drawing so far, so that labels and entry/exit arrows stay out of each other's way."""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from eda_sim.plots.diagram.layout import Point, Rect

LABEL_SIZE = 7.5  # points
STUB = 0.45  # length of the entry and exit arrows (data units)
#: Directions tried for entry arrows (towards the box) and exit arrows, in order of preference.
ENTRY_DIRECTIONS = (145.0, 180.0, 115.0, 215.0, 90.0, 270.0)
EXIT_DIRECTIONS = (-35.0, -65.0, 0.0, 35.0, -90.0, 90.0, -145.0)


def bezier(start: Point, end: Point, rad: float, t: float) -> Point:
    """A point of matplotlib's ``arc3`` curve (a quadratic Bézier) at parameter ``t``."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    control = ((start[0] + end[0]) / 2 + rad * dy, (start[1] + end[1]) / 2 - rad * dx)
    a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t**2
    return (
        a * start[0] + b * control[0] + c * end[0],
        a * start[1] + b * control[1] + c * end[1],
    )


def overlaps(a: Rect, b: Rect) -> bool:
    """Whether two rectangles overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(point: Point, rect: Rect, margin: float = 0.0) -> bool:
    """Whether ``point`` lies in ``rect`` grown by ``margin``."""
    return (
        rect[0] - margin <= point[0] <= rect[2] + margin
        and rect[1] - margin <= point[1] <= rect[3] + margin
    )


class Scene:
    """What is drawn in one panel so far, to keep labels and stubs out of each other's way."""

    def __init__(self, ax: Axes, boxes: list[Rect], points_per_unit: float, color: str) -> None:
        self.ax = ax
        self.boxes = boxes
        self.labels: list[Rect] = []
        self.points: list[Point] = []
        self.unit = LABEL_SIZE / points_per_unit  # data units per em of a label
        self.color = color

    def label_rect(self, at: Point, text: str, ha: str = "center", va: str = "center") -> Rect:
        """The rectangle a label ``text`` anchored at ``at`` covers."""
        width = (0.6 * len(text) + 0.5) * self.unit
        height = 1.5 * self.unit
        x0 = {"left": at[0], "right": at[0] - width}.get(ha, at[0] - width / 2)
        y0 = {"bottom": at[1], "top": at[1] - height}.get(va, at[1] - height / 2)
        return (x0, y0, x0 + width, y0 + height)

    def free(self, rect: Rect) -> bool:
        """Whether ``rect`` covers no label or box drawn so far."""
        return not any(overlaps(rect, other) for other in (*self.labels, *self.boxes))

    def text(
        self,
        at: Point,
        text: str,
        ha: str = "center",
        va: str = "center",
        color: str | None = None,
    ) -> None:
        """Draw a label at ``at`` and remember where it is."""
        self.labels.append(self.label_rect(at, text, ha, va))
        self.ax.text(
            at[0],
            at[1],
            text,
            ha=ha,
            va=va,
            fontsize=LABEL_SIZE,
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
        """Draw an arrow and remember the points of its curve outside the boxes."""
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
            point = bezier(start, end, rad, step / 20)
            if not any(inside(point, box) for box in self.boxes):
                self.points.append(point)

    def edge_label(self, start: Point, end: Point, rad: float, text: str) -> None:
        """Label a curve where the label hides nothing else (near the middle if possible)."""
        for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.25, 0.75, 0.2, 0.8):
            at = bezier(start, end, rad, t)
            if self.free(self.label_rect(at, text)):
                break
        else:
            at = bezier(start, end, rad, 0.5)
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
            far = (near[0] + STUB * dx, near[1] + STUB * dy)
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
                inside(p, other) for p in samples[:3] for other in self.boxes
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
