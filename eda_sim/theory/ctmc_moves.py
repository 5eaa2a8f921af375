"""The transitions of the CTMC solver's chain, vectorised over a frontier of states.

Each event (an arrival, a phase change, a service completion with every next
hop) maps a batch of state rows to the rows it leads to and their rates, in the
order the simulation engine handles one instant (see :mod:`eda_sim.theory.ctmc`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from eda_sim.theory.ctmc_model import Layout, MarkovNetwork

__all__ = ["Batch", "Moves", "events"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass
class Batch:
    """Candidate next states: their origin state, the state rows and the rate weights."""

    origin: IntArray
    rows: IntArray
    weight: FloatArray
    pending: IntArray  # index into a station's fifo pairs of a sender to release, or -1
    pending_at: IntArray  # the blocking station whose fifo that pair belongs to, or -1

    def select(self, mask: npt.NDArray[np.bool_]) -> Batch:
        """A copy of the rows where ``mask`` holds."""
        return Batch(
            self.origin[mask],
            self.rows[mask].copy(),
            self.weight[mask],
            self.pending[mask],
            self.pending_at[mask],
        )

    @staticmethod
    def join(parts: list[Batch], columns: int) -> Batch:
        """All the rows of ``parts`` in one batch."""
        if not parts:
            return Batch(
                np.zeros(0, np.int64),
                np.zeros((0, columns), np.int64),
                np.zeros(0),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
            )
        return Batch(
            np.concatenate([p.origin for p in parts]),
            np.concatenate([p.rows for p in parts]),
            np.concatenate([p.weight for p in parts]),
            np.concatenate([p.pending for p in parts]),
            np.concatenate([p.pending_at for p in parts]),
        )


class Moves:
    """The vectorised state changes of one network and layout."""

    def __init__(self, network: MarkovNetwork, layout: Layout) -> None:
        self.network = network
        self.layout = layout
        self.level_of = [
            {k: index for index, (_, _, _, members) in enumerate(queue) for k in members}
            for queue in layout.queue
        ]

    def count(self, rows: IntArray, columns: list[int]) -> IntArray:
        """The sum of some columns per row."""
        return rows[:, columns].sum(axis=1) if columns else np.zeros(len(rows), np.int64)

    def full(self, rows: IntArray, j: int) -> npt.NDArray[np.bool_]:
        """Rows where station ``j`` holds its limit."""
        return self.count(rows, self.layout.present[j]) >= self.network.stations[j].limit

    def start(self, batch: Batch, k: int, j: int) -> Batch:
        """Begin service of a class-``k`` event at ``j``: one branch per initial phase."""
        alpha, _ = self.network.classes[k].service[j]  # type: ignore[misc]
        parts = []
        for p in np.flatnonzero(alpha > 0):
            part = batch.select(np.ones(len(batch.origin), bool))
            part.rows[:, self.layout.serve[j][(k, int(p))]] += 1
            part.weight = part.weight * alpha[p]
            parts.append(part)
        return Batch.join(parts, self.layout.columns)

    def admit(self, batch: Batch, k: int, j: int) -> Batch:
        """An admitted class-``k`` event at ``j``: a free server, or the tail of its level."""
        free = self.count(batch.rows, self.layout.busy[j]) < self.network.stations[j].servers
        waiting = batch.select(~free)
        length, code, base, members = self.layout.queue[j][self.level_of[j][k]]
        digit = members.index(k)
        waiting.rows[:, code] += digit * np.power(base, waiting.rows[:, length])
        waiting.rows[:, length] += 1
        return Batch.join([self.start(batch.select(free), k, j), waiting], self.layout.columns)

    def arrive(self, batch: Batch, k: int, j: int) -> Batch:
        """An arrival at ``j``: refused (no change) when full, else admitted."""
        full = self.full(batch.rows, j)
        return Batch.join(
            [batch.select(full), self.admit(batch.select(~full), k, j)], self.layout.columns
        )

    def take_heads(
        self, batch: Batch, j: int
    ) -> tuple[list[tuple[Batch, npt.NDArray[np.int64], list[int]]], Batch]:
        """A server freed at ``j``: the rows whose server goes to each level's head; the rest.

        Per priority level, most important first, the head is taken off its line.
        Each level gives ``(rows, head, members)``: ``head`` the digit of each row's
        head (its class is ``members[head]``); the rest are the rows whose lines at
        ``j`` are all empty.
        """
        taken = []
        remaining = np.ones(len(batch.origin), bool)
        for length, code, base, members in self.layout.queue[j]:
            here = remaining & (batch.rows[:, length] > 0)
            remaining &= ~here
            chosen = batch.select(here)
            head = chosen.rows[:, code] % base
            chosen.rows[:, code] //= base
            chosen.rows[:, length] -= 1
            taken.append((chosen, head, members))
        return taken, batch.select(remaining)

    def start_next(self, batch: Batch, j: int) -> Batch:
        """A server freed at ``j``: the head of the most important non-empty level starts."""
        parts = []
        taken, rest = self.take_heads(batch, j)
        for chosen, head, members in taken:
            for digit, k in enumerate(members):
                parts.append(self.start(chosen.select(head == digit), k, j))
        parts.append(rest)
        return Batch.join(parts, self.layout.columns)

    def release(self, batch: Batch, j: int) -> Batch:
        """Room at blocking ``j``: its oldest blocked sender's event is admitted at ``j``."""
        if j not in self.layout.fifo:
            return batch
        length, code, pairs = self.layout.fifo[j]
        base = len(pairs)
        waiting = batch.rows[:, length] > 0
        parts = [batch.select(~waiting)]
        chosen = batch.select(waiting)
        head = chosen.rows[:, code] % base
        chosen.rows[:, code] //= base
        chosen.rows[:, length] -= 1
        chosen.pending = head.astype(np.int64)
        chosen.pending_at = np.full(len(head), j, np.int64)
        for index, (_, k) in enumerate(pairs):
            parts.append(self.admit(chosen.select(head == index), k, j))
        return Batch.join(parts, self.layout.columns)

    def settle(self, batch: Batch) -> Batch:
        """Released senders depart in turn (each may release the next): until none is left."""
        done = []
        while len(batch.origin):
            idle = batch.pending < 0
            done.append(batch.select(idle))
            batch = batch.select(~idle)
            parts = []
            for t, (_, _, pairs) in self.layout.fifo.items():
                for index, (sender, k) in enumerate(pairs):
                    part = batch.select((batch.pending_at == t) & (batch.pending == index))
                    if not len(part.origin):
                        continue
                    part.rows[:, self.layout.blocked[sender][(k, t)]] -= 1
                    part.pending = np.full(len(part.origin), -1, np.int64)
                    part.pending_at = part.pending.copy()
                    parts.append(self.release(self.start_next(part, sender), sender))
            batch = Batch.join(parts, self.layout.columns)
        return Batch.join(done, self.layout.columns)

    def copies(self, batch: Batch, k: int, j: int) -> Batch:
        """The fan-out copies of a class-``k`` completion at ``j`` arrive, in list order."""
        for target in self.network.classes[k].fanout[j]:
            batch = self.arrive(batch, k, target)
        return batch

    def complete(
        self, rows: IntArray, origin: IntArray, k: int, j: int, p: int, rate: float
    ) -> Batch:
        """Service completions of class ``k`` in phase ``p`` at ``j``, every next hop."""
        column = self.layout.serve[j][(k, p)]
        serving = rows[:, column] > 0
        base = Batch(
            origin[serving],
            rows[serving].copy(),
            rows[serving, column] * rate,
            np.full(int(serving.sum()), -1, np.int64),
            np.full(int(serving.sum()), -1, np.int64),
        )
        base.rows[:, column] -= 1
        routing = self.network.classes[k].routing[j]
        parts = []
        for t in [*np.flatnonzero(routing > 0).tolist(), -1]:
            share = float(routing[t]) if t >= 0 else 1.0 - float(routing.sum())
            if share <= 1e-15:
                continue
            hop = base.select(np.ones(len(base.origin), bool))
            hop.weight = hop.weight * share
            if t >= 0 and self.network.stations[t].blocking:
                stuck = self.full(hop.rows, t)
                held = hop.select(stuck)
                held.rows[:, self.layout.blocked[j][(k, t)]] += 1
                length, code, pairs = self.layout.fifo[t]
                held.rows[:, code] += pairs.index((j, k)) * np.power(
                    len(pairs), held.rows[:, length]
                )
                held.rows[:, length] += 1
                parts.append(self.copies(held, k, j))
                hop = hop.select(~stuck)
            moved = self.release(self.start_next(hop, j), j)
            if t >= 0:
                moved = self.arrive(moved, k, t)
            parts.append(self.settle(self.copies(moved, k, j)))
        return Batch.join(parts, self.layout.columns)


def events(moves: Moves, rows: IntArray, origin: IntArray) -> list[Batch]:
    """Every transition out of the states ``rows`` (indices ``origin``), with its rate."""
    network, layout = moves.network, moves.layout
    out = []
    for k, cls in enumerate(network.classes):
        for entry in np.flatnonzero(cls.arrivals > 0).tolist():
            batch = Batch(
                origin,
                rows.copy(),
                np.full(len(origin), float(cls.arrivals[entry])),
                np.full(len(origin), -1, np.int64),
                np.full(len(origin), -1, np.int64),
            )
            out.append(moves.arrive(batch, k, entry))
        for j, law in enumerate(cls.service):
            if law is None or (k, 0) not in layout.serve[j]:
                continue
            _, generator = law
            exits = -generator.sum(axis=1)
            for p in range(generator.shape[0]):
                column = layout.serve[j][(k, p)]
                for q in np.flatnonzero(generator[p] > 0):
                    if q == p:
                        continue
                    serving = rows[:, column] > 0
                    batch = Batch(
                        origin[serving],
                        rows[serving].copy(),
                        rows[serving, column] * float(generator[p, q]),
                        np.full(int(serving.sum()), -1, np.int64),
                        np.full(int(serving.sum()), -1, np.int64),
                    )
                    batch.rows[:, column] -= 1
                    batch.rows[:, layout.serve[j][(k, int(q))]] += 1
                    out.append(batch)
                if exits[p] > 1e-300:
                    out.append(moves.complete(rows, origin, k, j, p, float(exits[p])))
    return out
