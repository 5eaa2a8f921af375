"""Where the routing diagram puts each station, and how its name fits in its box."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

COLUMN = 2.8  # horizontal distance between layers (data units)
ROW = 1.3  # vertical distance between stations of one layer
BOX = (1.3, 0.5)  # station box width and height
INCH = 0.85  # inches per data unit before scaling to fit the page

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


def station_targets(event_class: Mapping[str, Any], names: Sequence[str]) -> list[list[int]]:
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


def entry_stations(event_class: Mapping[str, Any]) -> list[int]:
    """The stations where events of the class enter (entry probability > 0)."""
    return [i for i, p in enumerate(event_class.get("entry") or ()) if p > 0]


def hop_distances(starts: Sequence[int], targets: Sequence[Sequence[int]]) -> dict[int, int]:
    """Hops from the nearest of ``starts`` to each station reached (breadth first)."""
    distance = dict.fromkeys(starts, 0)
    queue = deque(starts)
    while queue:
        here = queue.popleft()
        for there in targets[here]:
            if there not in distance:
                distance[there] = distance[here] + 1
                queue.append(there)
    return distance


def station_positions(
    names: Sequence[str], classes: Sequence[Mapping[str, Any]]
) -> list[tuple[float, float]]:
    """A position per station: columns by hops from the entries, rows centred per column."""
    size = len(names)
    union = [
        sorted({j for c in classes for j in station_targets(c, names)[i]}) for i in range(size)
    ]
    starts = sorted({i for c in classes for i in entry_stations(c)})
    distance = hop_distances(starts, union)
    last = max(distance.values(), default=-1) + 1
    layers = [distance.get(i, last) for i in range(size)]
    positions: list[Point] = [(0.0, 0.0)] * size
    for layer in sorted(set(layers)):
        members = [i for i in range(size) if layers[i] == layer]
        for rank, i in enumerate(members):
            positions[i] = (layer * COLUMN, ((len(members) - 1) / 2 - rank) * ROW)
    return positions


#: Smallest font size of a station name in its box (points).
SMALLEST = 5.0


def fit_name(name: str, width: float) -> tuple[str, float]:
    r"""The station name as drawn in a box ``width`` points wide, and its font size.

    Up to 9 pt on one line; a long name shrinks to 7 pt, then goes on two lines
    split between words (at ``_``, ``-`` or a space, never inside a word), then
    shrinks further, down to :data:`SMALLEST`: the whole name is always drawn.

    Examples
    --------
    >>> fit_name("ingest", 60.0)
    ('ingest', 9.0)
    >>> fit_name("a_rather_long_station_name", 60.0)
    ('a_rather_long_\nstation_name', 6.3)
    >>> fit_name("product", 30.0)
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
            return "\n".join(lines), max(SMALLEST, round(two, 1))
    return name, max(SMALLEST, round(size, 1))
