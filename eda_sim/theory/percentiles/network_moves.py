"""The network chain's moves with one tagged event in it, and where the tag is (layer 3).

The tag classes (:mod:`.network_chain`) have their own service phases and
blocked-server columns, but they are kept out of the waiting lines' codes: a
waiting tagged event is written into its line with its class's digit, as any
event of its class, and one more column per (station, level) holds its place
in that line (1 = the head; 0 = not in the line). So the lines' codes stay as
short as the stationary chain's (62 bits), and :class:`PassageMoves` keeps the
place up to date: a tagged event joins at the tail, and each start of service
from its line moves it one place up, or, from the head, starts its service as
a tagged event. Everything else is :class:`~eda_sim.theory.ctmc_moves.Moves`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from eda_sim.theory.ctmc import MarkovNetwork
from eda_sim.theory.ctmc_model import Layout
from eda_sim.theory.ctmc_moves import Batch, Moves

__all__ = [
    "PassageMoves",
    "TagView",
    "TaggedNetwork",
    "closed_reach",
    "project",
    "reach_tree",
    "tag_layout",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class TaggedNetwork:
    """A solved network with one tag class per class (``tag(k) = originals + k``).

    ``states``/``pi`` are the stationary chain in the tagged layout (no tag
    present); ``places[j][level]`` is the column of a tagged event's place in
    that line (-1: no tag class waits there); ``lost`` is a column set to 1
    when a tagged event (or copy) is refused by a full station; ``truncated``
    lists ``(station, limit)`` of the truncated unlimited buffers; ``tail`` the
    stationary truncation's estimate.
    """

    network: MarkovNetwork
    layout: Layout
    originals: int
    places: list[list[int]]
    lost: int
    states: IntArray
    pi: FloatArray
    tail: float
    truncated: list[tuple[int, int]] = field(default_factory=list)

    def tag(self, k: int) -> int:
        """The tag class of class ``k``."""
        return self.originals + k

    def leaking(self, rows: IntArray) -> npt.NDArray[np.bool_]:
        """Rows in which a truncated buffer is at its top (the truncation may act next)."""
        out = np.zeros(len(rows), bool)
        for j, limit in self.truncated:
            out |= rows[:, self.layout.present[j]].sum(axis=1) >= limit
        return out


def tag_layout(layout: Layout, originals: int) -> tuple[Layout, list[list[int]], int]:
    """Take the tag classes out of the lines' codes; add the place and lost columns.

    Returns the layout, ``places`` (as :class:`TaggedNetwork` keeps them) and the lost column.
    """
    places: list[list[int]] = []
    for j, queue in enumerate(layout.queue):
        kept, here = [], []
        for length, code, _, members in queue:
            own = [k for k in members if k < originals]
            kept.append((length, code, len(own), own))
            here.append(layout.take() if len(own) < len(members) else -1)
        layout.queue[j] = kept
        places.append(here)
    return layout, places, layout.take()


class PassageMoves(Moves):
    """The chain's moves with a tagged event's place kept; a refused tag marks the state lost."""

    def __init__(self, tagged: TaggedNetwork, closed: bool = False) -> None:
        network = tagged.network
        if closed:  # no event enters after the tagged one (later_arrivals_matter is False)
            quiet = tuple(replace(c, arrivals=np.zeros_like(c.arrivals)) for c in network.classes)
            network = MarkovNetwork(network.stations, quiet)
        super().__init__(network, tagged.layout)
        self.originals, self.places, self.lost = tagged.originals, tagged.places, tagged.lost
        for levels in self.level_of:
            levels.update({k + self.originals: level for k, level in list(levels.items())})

    def arrive(self, batch: Batch, k: int, j: int) -> Batch:
        """An arrival; a tagged one refused by a full station sets the lost mark."""
        if k < self.originals:
            return super().arrive(batch, k, j)
        full = self.full(batch.rows, j)
        refused = batch.select(full)
        refused.rows[:, self.lost] = 1
        return Batch.join([refused, self.admit(batch.select(~full), k, j)], self.layout.columns)

    def admit(self, batch: Batch, k: int, j: int) -> Batch:
        """Admission: a free server, or the tail of its line (a tagged event: its place too)."""
        if k < self.originals:
            return super().admit(batch, k, j)
        free = self.count(batch.rows, self.layout.busy[j]) < self.network.stations[j].servers
        waiting = batch.select(~free)
        level = self.level_of[j][k]
        length, code, base, members = self.layout.queue[j][level]
        digit = members.index(k - self.originals)
        waiting.rows[:, code] += digit * np.power(base, waiting.rows[:, length])
        waiting.rows[:, length] += 1
        place = self.places[j][level]
        if (waiting.rows[:, place] > 0).any():
            name = self.network.stations[j].name
            raise ValueError(f"two tagged copies of one event can wait in one line at {name}")
        waiting.rows[:, place] = waiting.rows[:, length]
        return Batch.join([self.start(batch.select(free), k, j), waiting], self.layout.columns)

    def start_next(self, batch: Batch, j: int) -> Batch:
        """A server freed: the head of the most important non-empty line starts (maybe the tag)."""
        parts = []
        taken, rest = self.take_heads(batch, j)
        for level, (chosen, head, members) in enumerate(taken):
            place = self.places[j][level]
            tagged = np.zeros(len(head), bool)
            if place >= 0:
                tagged = chosen.rows[:, place] == 1
                chosen.rows[:, place] = np.maximum(chosen.rows[:, place] - 1, 0)
            for digit, k in enumerate(members):
                parts.append(self.start(chosen.select((head == digit) & ~tagged), k, j))
                tag = chosen.select((head == digit) & tagged)
                if len(tag.origin):
                    parts.append(self.start(tag, k + self.originals, j))
        parts.append(rest)
        return Batch.join(parts, self.layout.columns)


class TagView:
    """Counts of tagged events per station in state rows: waiting, and held (served or blocked)."""

    def __init__(self, tagged: TaggedNetwork) -> None:
        layout, first = tagged.layout, tagged.originals
        self.held_columns = [
            [c for (k, _), c in layout.serve[j].items() if k >= first]
            + [c for (k, _), c in layout.blocked[j].items() if k >= first]
            for j in range(len(layout.serve))
        ]
        self.places = [[c for c in here if c >= 0] for here in tagged.places]

    def waiting(self, rows: IntArray, j: int) -> IntArray:
        """Tagged events waiting at station ``j``."""
        columns = self.places[j]
        return (rows[:, columns] > 0).sum(axis=1) if columns else np.zeros(len(rows), np.int64)

    def held(self, rows: IntArray, j: int) -> IntArray:
        """Tagged events in service or blocked at station ``j``."""
        columns = self.held_columns[j]
        return rows[:, columns].sum(axis=1) if columns else np.zeros(len(rows), np.int64)

    def at(self, rows: IntArray, j: int) -> IntArray:
        """Tagged events present at station ``j``."""
        return self.waiting(rows, j) + self.held(rows, j)

    def anywhere(self, rows: IntArray) -> IntArray:
        """Tagged events present anywhere."""
        total = np.zeros(len(rows), np.int64)
        for j in range(len(self.places)):
            total += self.at(rows, j)
        return total


def closed_reach(tagged: TaggedNetwork, start: int) -> list[int] | None:
    """The stations a tagged event at ``start`` can reach, when nothing else can change its passage.

    None unless the stations it can still reach form a tree that other events
    can enter only behind it: no cycle; one priority level at each; no external
    arrivals there but at ``start``; each fed only by its one parent in the
    tree; and one server wherever the tree goes on (FIFO with one server keeps
    arrival order). Then every event that enters later, and every event outside
    the tree, reaches each station of the tree after the tagged one, so it can
    neither take a server, a place nor a blocking station's room before it: the
    passage chain may leave them out (:func:`project`), exactly.
    """
    lines = [len(queue) for queue in tagged.layout.queue]
    return reach_tree(tagged.network, tagged.originals, lines, start)


def reach_tree(
    network: MarkovNetwork, originals: int, lines: list[int], start: int
) -> list[int] | None:
    """:func:`closed_reach` from the network, its first ``originals`` classes, its lines' counts."""
    n = len(network.stations)
    links = np.zeros((n, n), bool)
    external = np.zeros(n, bool)
    for cls in network.classes[:originals]:
        links |= cls.routing > 0
        for origin, targets in enumerate(cls.fanout):
            links[origin, list(targets)] = True
        external |= cls.arrivals > 0
    reach, frontier = [start], [start]
    while frontier:
        nxt = [int(t) for s in frontier for t in np.flatnonzero(links[s])]
        if any(t in reach for t in nxt) or len(set(nxt)) < len(nxt):
            return None  # a cycle, or a station reached by two ways
        reach.extend(nxt)
        frontier = nxt
    for s in reach:
        if lines[s] > 1:
            return None
        if links[s].any() and network.stations[s].servers > 1:
            return None
        if s != start and (external[s] or links[:, s].sum() > 1):
            return None
    return reach


def project(tagged: TaggedNetwork, rows: IntArray, reach: list[int], start: int) -> IntArray:
    """``rows`` without the events outside ``reach`` and those blocked on ``start``.

    Those events reach the tree only through ``start``, behind the tagged event
    (:func:`closed_reach`).
    """
    layout = tagged.layout
    out = rows.copy()
    columns: list[int] = []
    for s in range(len(layout.queue)):
        if s == start and s in layout.fifo:
            columns.extend(layout.fifo[s][:2])
        if s in reach:
            continue
        columns.extend(c for length, code, _, _ in layout.queue[s] for c in (length, code))
        columns.extend(layout.serve[s].values())
        columns.extend(layout.blocked[s].values())
        columns.extend(c for c in tagged.places[s] if c >= 0)
        if s in layout.fifo:
            columns.extend(layout.fifo[s][:2])
    out[:, columns] = 0
    return out
