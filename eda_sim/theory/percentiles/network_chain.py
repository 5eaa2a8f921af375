"""A network CTMC that can follow one tagged event: the chains of network first passages (layer 3).

The whole network (a group of stations that exchange events, solved as one
CTMC by :func:`eda_sim.theory.scenario.markov_network.solve_component`) is
given one *tag class* per event class: the same routing, fan-out, service and
priority level, but no arrivals of its own. An event of a tag class is the
tagged event (or one of its fan-out copies); since the tag classes have no
arrivals, at most the one tagged event and its copies are ever of them, and the
chain's own transitions (:mod:`eda_sim.theory.ctmc_moves`, the engines' order
of events at one instant: FIFO lines per level, blocked senders let in oldest
first) move it through the network exactly as any other event of its class.
Its FIFO place is part of the state (:mod:`.network_moves`: a column per line).

:func:`tagged_network` builds that network at the truncation depths the
stationary solve chose and writes the solved stationary states in the tagged
layout (the tag columns are 0 there; the law is the same); :func:`explore` enumerates the states
reachable from a set of start states, breadth first, stopping at the states a
classifier calls absorbing (the tag has left; a truncated buffer at its top,
where the truncated chain starts to differ from the true one: a *leak*).
:class:`TagView` counts the tagged events at a station (waiting, in service or
blocked).

Sources: the network chain, :mod:`eda_sim.theory.ctmc` (W. J. Stewart,
*Introduction to the Numerical Solution of Markov Chains*, 1994; H. G. Perros,
*Queueing Networks with Blocking*, 1994, for blocking after service);
first-passage times of a CTMC as absorption times, V. G. Kulkarni, *Modeling
and Analysis of Stochastic Systems* (3rd ed., CRC 2016), ch. 6 (first-passage
times), and M. F. Neuts, *Matrix-Geometric Solutions in Stochastic Models*
(1981), ch. 2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from eda_sim.theory.ctmc import Chain, MarkovNetwork, intern_states, state_keys
from eda_sim.theory.ctmc_model import Layout, build_layout
from eda_sim.theory.ctmc_moves import Batch, Moves, events
from eda_sim.theory.percentiles import tagged as tagged_chains
from eda_sim.theory.percentiles.network_moves import (
    PassageMoves,
    TaggedNetwork,
    TagView,
    tag_layout,
)
from eda_sim.theory.scenario.inputs import ScenarioInputs
from eda_sim.theory.scenario.markov_network import solve_component

__all__ = [
    "ABSORBED",
    "LEAKED",
    "LOST",
    "TRANSIENT",
    "Explored",
    "PassageMoves",
    "TagView",
    "TaggedNetwork",
    "explore",
    "network_too_large",
    "tagged_network",
    "too_many_states",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Classifier codes of a state: still running, absorbed (the tag left), lost, leaked.
TRANSIENT, ABSORBED, LOST, LEAKED = 0, 1, 2, 3


def tagged_network(inputs: ScenarioInputs, members: list[int]) -> TaggedNetwork | str:
    """The stations ``members`` as one CTMC with tag classes, solved; or why not."""
    found = solve_component(inputs, None, members)
    if isinstance(found, str):
        return found
    solved, build = found
    if solved.chain.size > tagged_chains.PASSAGE_LIMIT:  # every stationary state is a start
        return network_too_large(solved.chain.size)
    base = build(solved.depths)
    tags = tuple(
        replace(c, name=f"tagged {c.name}", arrivals=np.zeros_like(c.arrivals))
        for c in base.classes
    )
    network = MarkovNetwork(base.stations, base.classes + tags)
    # the layout: each tag class reaches what its class reaches
    reach = tuple(replace(t, arrivals=c.arrivals) for t, c in zip(tags, base.classes, strict=True))
    layout = build_layout(MarkovNetwork(base.stations, base.classes + reach))
    layout, places, lost = tag_layout(layout, len(base.classes))
    states = _embed(solved.chain, layout)
    if isinstance(states, str):
        return states
    truncated = [(i, s.limit) for i, s in enumerate(network.stations) if s.truncated]
    return TaggedNetwork(
        network,
        layout,
        len(base.classes),
        places,
        lost,
        states,
        solved.pi,
        solved.tail,
        truncated,
    )


def _embed(chain: Chain, layout: Layout) -> IntArray | str:
    """The stationary chain's states written in the tagged layout (no tag present).

    Lines, service phases and blocked servers keep their values (the lines'
    codes do not hold tag classes); a blocking station's order of blocked
    senders is re-encoded, since the tagged senders add digits to its base.
    """
    old = chain.layout
    rows = np.zeros((chain.size, layout.columns), np.int64)
    pairs: list[tuple[int, int]] = []
    for j in range(len(old.queue)):
        for (length, code, _, _), (new_length, new_code, _, _) in zip(
            old.queue[j], layout.queue[j], strict=True
        ):
            pairs += [(length, new_length), (code, new_code)]
        pairs += [(c, layout.serve[j][key]) for key, c in old.serve[j].items()]
        pairs += [(c, layout.blocked[j][key]) for key, c in old.blocked[j].items()]
    source, target = (np.array(side, np.int64) for side in zip(*pairs, strict=True))
    rows[:, target] = chain.states[:, source]
    for t, (length, code, senders) in old.fifo.items():
        new_length, new_code, new_senders = layout.fifo[t]
        lengths, codes = chain.states[:, length], chain.states[:, code].copy()
        longest = int(lengths.max(initial=0))
        if longest * math.log2(len(new_senders)) > 62:
            return f"too many senders blocked on {chain.network.stations[t].name} to encode"
        digit_map = np.array([new_senders.index(pair) for pair in senders], np.int64)
        recoded = np.zeros(chain.size, np.int64)
        for position in range(longest):
            digit = digit_map[codes % len(senders)]
            codes //= len(senders)
            inside = position < lengths
            recoded += np.where(inside, digit * len(new_senders) ** position, 0)
        rows[:, new_length], rows[:, new_code] = lengths, recoded
    return rows


@dataclass(frozen=True, eq=False)
class Explored:
    """Reachable transient states, the generator among them and the rates out by kind."""

    states: IntArray
    generator: object  # scipy.sparse.csr_matrix: T (diagonal = minus every rate out)
    absorbed: FloatArray  # rate into "the tag left" per state
    lost: FloatArray  # rate into "the tag was lost"
    leak: FloatArray  # rate into a truncated buffer's top
    index: dict[bytes, int]

    @property
    def size(self) -> int:
        """Number of transient states."""
        return int(self.states.shape[0])

    def find(self, rows: IntArray) -> IntArray:
        """Positions of ``rows`` among the transient states (-1 where not one)."""
        return np.array([self.index.get(k.tobytes(), -1) for k in state_keys(rows)], np.int64)


#: States of a search level expanded at once by :func:`explore` (a level of more is
#: expanded in parts of this many, with the state limit checked after each).
EXPAND_ROWS = 4096


def network_too_large(size: int) -> str:
    """The reason a network chain of ``size`` states is not given tagged events."""
    return f"the network chain has more than {tagged_chains.PASSAGE_LIMIT:,} states ({size:,})"


def too_many_states(limit: int | None = None) -> str:
    """The reason a first-passage chain above ``limit`` (default the limit) states is refused."""
    limit = tagged_chains.PASSAGE_LIMIT if limit is None else limit
    return f"the first-passage chain has more than {limit:,} states"


def explore(
    moves: Moves,
    start: IntArray,
    kind: Callable[[IntArray], IntArray] | None,
    limit: int,
) -> Explored | str:
    """The states reachable from the (transient) ``start`` rows until absorption.

    ``kind`` classifies rows (:data:`TRANSIENT`, :data:`ABSORBED`, :data:`LOST`,
    :data:`LEAKED`); absorbing rows are not expanded. More than ``limit``
    transient states: the reason, nothing more is built. A level of the search is
    expanded :data:`EXPAND_ROWS` states at a time and the limit checked after
    each part, so a refusal never holds more than one part's moves beyond it.
    """
    start = start[np.sort(np.unique(state_keys(start), return_index=True)[1])]
    index = {key.tobytes(): i for i, key in enumerate(state_keys(start))}
    if len(index) > limit:
        return too_many_states(limit)
    found = [start]
    frontier = start
    frontier_index = np.arange(len(frontier), dtype=np.int64)
    edges: tuple[list[IntArray], list[IntArray], list[FloatArray]] = ([], [], [])
    outs: dict[int, list[tuple[IntArray, FloatArray]]] = {ABSORBED: [], LOST: [], LEAKED: []}
    while len(frontier):
        fresh_rows, fresh_ids = [], []
        for first in range(0, len(frontier), EXPAND_ROWS):
            part = slice(first, first + EXPAND_ROWS)
            rows, ids = _expand(
                moves, frontier[part], frontier_index[part], kind, index, edges, outs
            )
            if len(index) > limit:
                return too_many_states(limit)
            fresh_rows.append(rows)
            fresh_ids.append(ids)
        frontier, frontier_index = np.concatenate(fresh_rows), np.concatenate(fresh_ids)
        found.append(frontier)
    return _assemble(np.concatenate(found), *edges, outs, index)


def _expand(
    moves: Moves,
    frontier: IntArray,
    frontier_index: IntArray,
    kind: Callable[[IntArray], IntArray] | None,
    index: dict[bytes, int],
    edges: tuple[list[IntArray], list[IntArray], list[FloatArray]],
    outs: dict[int, list[tuple[IntArray, FloatArray]]],
) -> tuple[IntArray, IntArray]:
    """One part of a level: its moves added to ``edges`` and ``outs``, its new states numbered.

    Returns the rows and numbers of the states not seen before (in ``index``).
    """
    columns = moves.layout.columns
    batch = Batch.join(events(moves, frontier, frontier_index), columns)
    codes = np.zeros(len(batch.origin), np.int64) if kind is None else kind(batch.rows)
    for code, parts in outs.items():
        hit = codes == code
        parts.append((batch.origin[hit], batch.weight[hit]))
    stay = codes == TRANSIENT
    rows, origin, weight = batch.rows[stay], batch.origin[stay], batch.weight[stay]
    unique, first, inverse = np.unique(state_keys(rows), return_index=True, return_inverse=True)
    ids, fresh = intern_states(index, unique)
    sources, targets, rates = edges
    sources.append(origin)
    targets.append(ids[inverse.ravel()])
    rates.append(weight)
    if not fresh:
        return np.zeros((0, columns), np.int64), np.zeros(0, np.int64)
    return rows[first[fresh]], ids[fresh]


def _assemble(
    states: IntArray,
    sources: list[IntArray],
    targets: list[IntArray],
    rates: list[FloatArray],
    outs: dict[int, list[tuple[IntArray, FloatArray]]],
    index: dict[bytes, int],
) -> Explored:
    from scipy.sparse import coo_matrix, diags

    size = len(states)
    src = np.concatenate(sources) if sources else np.zeros(0, np.int64)
    dst = np.concatenate(targets) if targets else np.zeros(0, np.int64)
    rate = np.concatenate(rates) if rates else np.zeros(0)
    keep = src != dst
    matrix = coo_matrix((rate[keep], (src[keep], dst[keep])), shape=(size, size)).tocsr()
    by_kind = {}
    for code, parts in outs.items():
        total = np.zeros(size)
        for origin, weight in parts:
            np.add.at(total, origin, weight)
        by_kind[code] = total
    out = np.asarray(matrix.sum(axis=1)).ravel() + sum(by_kind.values())
    generator = (matrix - diags(out)).tocsr()
    return Explored(states, generator, by_kind[ABSORBED], by_kind[LOST], by_kind[LEAKED], index)
