"""Lower bounds on a network first passage's chain, known before it is solved or explored (layer 3).

A network first passage (:mod:`.network_passage`) explores the states of the
network with one tagged event in it until the tag is absorbed; it is refused
above :data:`~.tagged.PASSAGE_LIMIT` states. Exploring that far (and solving
the stationary chain first) takes seconds and hundreds of MB, so a passage
that is sure to be refused is refused here, from the network's own chain, with
the same reason.

The bound. Take the network's chain truncated one place below the first
truncation depths (or the chain itself, without an unlimited buffer): its
states ``S⁻`` are reached from the empty network by paths that never fill a
truncated buffer to its top at any depth the solve may choose (an arrival at
the top of ``S⁻`` is refused there, and every other move is the same). Let ``z``
be such a state and ``e`` an event in it. Along a path to ``z``, ``e`` was admitted
(the last time at station ``j``) from a state the chain reaches, so a tagged
event that starts where ``e`` was admitted reaches ``z`` with ``e`` as the tag,
through states that are neither absorbing nor at a buffer's top. Hence the
passage's chain holds a distinct state for every such ``(z, e)``:

* end to end, class ``k``: every class-``k`` event of ``z`` (each waiting
  place, each occupied service phase and blocked server column counted once);
* ``Wq`` at ``j``: every event waiting at ``j``; ``W`` at ``j``: those and every
  occupied service phase and blocked server column at ``j``.

It holds where no class fans out (an event is then one event, not copies) and
the passage keeps every event (no projection: :func:`~.network_moves.closed_reach`
finds no tree).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from eda_sim.theory.ctmc import Chain, MarkovNetwork, build_chain
from eda_sim.theory.percentiles.network_moves import reach_tree
from eda_sim.theory.scenario.inputs import ScenarioInputs
from eda_sim.theory.scenario.markov import size_refusal
from eda_sim.theory.scenario.markov_network import component_model

__all__ = ["PassageBounds", "passage_bounds"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class PassageBounds:
    """Lower bounds on the passage chains' states of one component (module docstring).

    ``chain`` is the component's chain below the first truncation depths;
    ``truncated`` says whether it has a truncated buffer (else it is the
    stationary chain itself, whose size is then known before the solve).
    """

    chain: Chain
    truncated: bool

    @property
    def network(self) -> MarkovNetwork:
        """The component's network (the stations in the order of the members)."""
        return self.chain.network

    def _tree(self, start: int) -> bool:
        layout = self.chain.layout
        lines = [len(queue) for queue in layout.queue]
        return reach_tree(self.network, len(self.network.classes), lines, start) is not None

    def _held(self, j: int, k: int | None = None) -> int:
        """Occupied (service phase, blocked server) columns at ``j`` (of class ``k``), summed."""
        layout, states = self.chain.layout, self.chain.states
        columns = [c for (cls, _), c in layout.serve[j].items() if k is None or cls == k]
        columns += [c for (cls, _), c in layout.blocked[j].items() if k is None or cls == k]
        return int((states[:, columns] > 0).sum()) if columns else 0

    def _waiting(self, j: int, k: int | None = None) -> int:
        """Events waiting at ``j`` (of class ``k``) over all states."""
        states = self.chain.states
        total = 0
        for length, code, base, members in self.chain.layout.queue[j]:
            if k is None:
                total += int(states[:, length].sum())
                continue
            if k not in members:
                continue
            lengths = states[:, length]
            if base <= 1:
                total += int(lengths.sum())
                continue
            digit, codes = members.index(k), states[:, code].copy()
            for position in range(int(lengths.max(initial=0))):
                total += int(((codes % base == digit) & (position < lengths)).sum())
                codes //= base
        return total

    def wait(self, j: int) -> int:
        """A lower bound on the ``Wq`` passage chain's states at ``j`` (0: none known)."""
        return 0 if self._tree(j) else self._waiting(j)

    def visit(self, j: int) -> int:
        """A lower bound on the ``W`` passage chain's states at ``j`` (0: none known)."""
        return 0 if self._tree(j) else self._waiting(j) + self._held(j)

    def journey(self, k: int) -> int:
        """A lower bound on class ``k``'s end-to-end passage chain's states (0: none known)."""
        entries = np.flatnonzero(self.network.classes[k].arrivals > 0)
        if len(entries) == 1 and self._tree(int(entries[0])):
            return 0
        n = len(self.network.stations)
        return sum(self._waiting(j, k) + self._held(j, k) for j in range(n))


def passage_bounds(inputs: ScenarioInputs, members: list[int]) -> PassageBounds | None:
    """The bounds of the stations ``members`` (a Markovian component), or None where unknown.

    None where a class fans out, or where the solve refuses the component at
    its first depths (it then decides, as before).
    """
    model = component_model(inputs, None, members)
    if isinstance(model, str):
        return None
    build, unlimited = model
    if size_refusal(build(unlimited), unlimited) is not None:
        return None  # the component is not solved either
    network = build({i: d - 1 for i, d in unlimited.items()})
    if any(targets for c in network.classes for targets in c.fanout):
        return None
    try:
        chain = build_chain(network)
    except (ValueError, IndexError):  # too long a line to encode; no event visits at all
        return None
    return PassageBounds(chain, bool(unlimited))
