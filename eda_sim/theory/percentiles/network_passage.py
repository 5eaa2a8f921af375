"""Exact waits, times per visit and end-to-end times inside a network CTMC (layer 3).

On a network solved as one CTMC with tag classes (:mod:`.network_chain`):

1. **What the tagged event finds.** An event of class ``k`` entering the
   system finds the stationary state ``π`` (PASTA: its arrivals are Poisson,
   R. W. Wolff, *Oper. Res.* 30, 1982); one refused at its entry is lost and
   not timed. An event arriving at a station *inside* the network arrives at a
   transition of the chain (a completion upstream routed here, a blocked sender
   let in by a departure, a fan-out copy), and the state it finds is the Palm
   law of those transitions, not ``π``: the state just after a transition
   ``s → s'`` that admits a class-``k`` event here has weight
   ``π(s) q(s, s')`` (the rate of such arrivals out of ``s``), normalised by the
   arrival rate (Kulkarni, *Modeling and Analysis of Stochastic Systems*, 3rd
   ed., 2016, ch. 6; Palm probabilities of a stationary point process of
   transitions, F. Baccelli and P. Brémaud, *Elements of Queueing Theory*,
   2003, ch. 1). :func:`arrivals_at` computes it by applying every transition of
   the chain to every stationary state with the admitted event made a tagged
   one (so its FIFO place, and a blocked sender's order, come from the chain's
   own moves).
2. **Its time** is the first passage from there until it leaves the station
   (``W``; blocked time after service included, as the engines count it), until
   it starts service (``Wq``), or until it and every fan-out copy have left the
   system (end to end; the engines time a journey at its last copy and never a
   lost one, so the law is that of the time *given* that no branch is lost:
   ``P(X > t | done) = β e^{Tt} h / β h`` with ``h`` the probability of ending
   without a loss, ``−T h = r_done``). Every event behind the tagged one is in
   the state, so whatever it can do (take a blocking station's room, a server
   of a more important level, fill a capacity) is accounted for.

The law is phase-type and evaluated by uniformisation (:mod:`.passage`). Its
error bound adds the series' bound; the probability of reaching a truncated
buffer's top before absorption (up to then the truncated chain follows the true
one; afterwards counted as error: a leak); the start mass on such states; and
twice the stationary truncation tail, scaled by the largest per-state arrival
rate over the mean one (the Palm law weights states by those rates).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from eda_sim.theory.ctmc import MarkovNetwork, state_keys
from eda_sim.theory.ctmc_moves import Batch, events
from eda_sim.theory.percentiles import tagged as tagged_chains
from eda_sim.theory.percentiles.laws import TimeLaw
from eda_sim.theory.percentiles.network_chain import (
    ABSORBED,
    LEAKED,
    LOST,
    TRANSIENT,
    Explored,
    explore,
    too_many_states,
)
from eda_sim.theory.percentiles.network_moves import (
    PassageMoves,
    TaggedNetwork,
    TagView,
    closed_reach,
    project,
)
from eda_sim.theory.percentiles.passage import Passage

__all__ = [
    "Found",
    "arrivals_at",
    "entries_of",
    "journey_laws",
    "returns_at_once",
    "station_passage",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Found:
    """Start states of tagged events (one tag each), their weights (summing to 1), and more.

    ``rate`` is the rate of such arrivals (events per unit time), ``error`` the
    bound on the start law's distance from the true one (truncation).
    """

    rows: IntArray
    weight: FloatArray
    rate: float
    error: float


class _Tagging(PassageMoves):
    """The chain's moves, where an event admitted at ``station`` becomes its class's tag."""

    def __init__(self, tagged: TaggedNetwork, station: int) -> None:
        super().__init__(tagged)
        self.station = station

    def admit(self, batch: Batch, k: int, j: int) -> Batch:
        """Admission; at the tagged station an event of a class becomes its tag."""
        if j == self.station and k < self.originals:
            k += self.originals
        return super().admit(batch, k, j)


def _gather(
    tagged: TaggedNetwork, rows: IntArray, weight: FloatArray, origin: IntArray
) -> Found | str:
    """Aggregate equal start rows; the Palm law's truncation error from the per-state rates."""
    total = float(weight.sum())
    if not total > 0:
        return "no event of these classes arrives here"
    per_state = np.bincount(origin, weights=weight, minlength=len(tagged.pi))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate_of = np.where(tagged.pi > 0, per_state / np.maximum(tagged.pi, 1e-300), 0.0)
    spread = float(rate_of.max(initial=0.0)) / total
    unique, first, inverse = np.unique(state_keys(rows), return_index=True, return_inverse=True)
    summed = np.zeros(len(unique))
    np.add.at(summed, inverse.ravel(), weight)
    kept = rows[first]
    return Found(kept, summed / total, total, 2.0 * tagged.tail * spread)


def arrivals_at(tagged: TaggedNetwork, j: int) -> Found | str:
    """The Palm law of the states just after an event is admitted at station ``j``."""
    moves = _Tagging(tagged, j)
    states = tagged.states
    batch = Batch.join(events(moves, states, np.arange(len(states))), tagged.layout.columns)
    view = TagView(tagged)
    total = view.anywhere(batch.rows)
    weight = tagged.pi[batch.origin] * batch.weight
    one = (total == 1) & (view.at(batch.rows, j) == 1)
    doubled = float(weight[total > 1].sum())
    if doubled > 1e-15 * float(weight[one].sum()):
        return f"two events can arrive at {tagged.network.stations[j].name} at one instant"
    return _gather(tagged, batch.rows[one], weight[one], batch.origin[one])


def entries_of(tagged: TaggedNetwork, k: int) -> tuple[Found, float] | str:
    """Where an event of class ``k`` entering the system starts (PASTA), and its admitted share."""
    moves = PassageMoves(tagged)
    states, pi = tagged.states, tagged.pi
    cls = tagged.network.classes[k]
    parts = []
    for entry in np.flatnonzero(cls.arrivals > 0).tolist():
        rate = float(cls.arrivals[entry])
        batch = Batch(
            np.arange(len(states)),
            states.copy(),
            np.full(len(states), rate),
            np.full(len(states), -1, np.int64),
            np.full(len(states), -1, np.int64),
        )
        parts.append(moves.arrive(batch, tagged.tag(k), entry))
    batch = Batch.join(parts, tagged.layout.columns)
    offered = float(cls.arrivals.sum())
    admitted = TagView(tagged).anywhere(batch.rows) == 1
    weight = pi[batch.origin] * batch.weight
    found = _gather(tagged, batch.rows[admitted], weight[admitted], batch.origin[admitted])
    if isinstance(found, str):
        return found
    return found, found.rate / offered


def _start_vector(explored: Explored, rows: IntArray, weight: FloatArray) -> FloatArray:
    """``β`` over the explored states (rows not among them: absorbed or leaked at once)."""
    where = explored.find(rows)
    beta = np.zeros(explored.size)
    inside = where >= 0
    np.add.at(beta, where[inside], weight[inside])
    return beta


def _law(passage: Passage, error: float, states: int, scale: float = 1.0) -> TimeLaw:
    from eda_sim.theory.percentiles.ctmc_station import method_of

    def survival(t: float) -> tuple[float, float]:
        value, bound = passage(t)
        return min(value / scale, 1.0), (bound + error) / scale

    return TimeLaw(survival, passage.mean / scale, 0.0, method_of(states))


def _classifier(
    tagged: TaggedNetwork, gone: Callable[[IntArray], npt.NDArray[np.bool_]]
) -> Callable[[IntArray], IntArray]:
    def kind(rows: IntArray) -> IntArray:
        codes = np.full(len(rows), TRANSIENT, np.int64)
        codes[tagged.leaking(rows)] = LEAKED
        left = gone(rows)
        codes[left] = np.where(rows[left, tagged.lost] > 0, LOST, ABSORBED)
        return codes

    return kind


def _passage_of(
    tagged: TaggedNetwork,
    found: Found,
    gone: Callable[[IntArray], npt.NDArray[np.bool_]],
    start: int | None,
) -> tuple[Explored, FloatArray, float] | str:
    """Explore from ``found``'s transient rows; ``β``, and the start mass at a buffer's top.

    Where the tagged event starts at ``start`` and nothing else can change its
    passage (:func:`~.network_moves.closed_reach`), the events outside its tree
    and those entering later are left out, exactly (:func:`~.network_moves.project`).
    """
    reach = None if start is None else closed_reach(tagged, start)
    rows = found.rows if reach is None else project(tagged, found.rows, reach, start or 0)
    kind = _classifier(tagged, gone)
    codes = kind(rows)
    moves = PassageMoves(tagged, closed=reach is not None)
    try:
        explored = explore(moves, rows[codes == TRANSIENT], kind, tagged_chains.PASSAGE_LIMIT)
    except ValueError as error:  # two tagged copies in one line
        return str(error)
    if isinstance(explored, str):
        return explored
    top = float(found.weight[codes == LEAKED].sum())
    return explored, _start_vector(explored, rows, found.weight), top


def returns_at_once(network: MarkovNetwork, originals: int, j: int) -> str | None:
    """Why no passage at ``j``: an event of the first ``originals`` classes comes straight back.

    Its next visit would begin at the instant its visit ends, which the passage
    cannot tell apart. None where none does.
    """
    for cls in network.classes[:originals]:
        if cls.routing[j, j] > 0 or j in cls.fanout[j]:
            return f"events of class {cls.name} return to {network.stations[j].name} at once"
    return None


def station_passage(
    tagged: TaggedNetwork, j: int, visit_bound: int = 0
) -> tuple[TimeLaw, TimeLaw, float] | str:
    """``(Wq law, W law, admitted rate)`` at station ``j`` of the network; or why not.

    Refused where an event can come straight back to ``j`` (:func:`returns_at_once`).
    ``visit_bound`` is a lower bound on the ``W`` passage chain's states
    (:mod:`.network_bounds`): above the limit, ``W`` is refused without exploring.
    """
    back = returns_at_once(tagged.network, tagged.originals, j)
    if back is not None:
        return back
    found = arrivals_at(tagged, j)
    if isinstance(found, str):
        return found
    view = TagView(tagged)
    laws = []
    for gone, bound in (
        (lambda rows: view.waiting(rows, j) == 0, 0),  # Wq: it has started service
        (lambda rows: view.at(rows, j) == 0, visit_bound),  # W: it has left the station
    ):
        if bound > tagged_chains.PASSAGE_LIMIT:
            return too_many_states()
        built = _passage_of(tagged, found, gone, j)
        if isinstance(built, str):
            return built
        explored, beta, top = built
        try:
            passage = Passage(beta, explored.generator, _leak(explored))
        except ValueError as error:
            return str(error)
        laws.append(_law(passage, found.error + top, explored.size))
    return laws[0], laws[1], found.rate


def _leak(explored: Explored) -> FloatArray | None:
    return explored.leak if explored.leak.any() else None


def journey_laws(
    tagged: TaggedNetwork, classes: list[int]
) -> dict[int, tuple[TimeLaw, float]] | str:
    """Each class's end-to-end law (given no loss) and the share of its events that end."""
    view = TagView(tagged)
    out = {}
    for k in classes:
        cls = tagged.network.classes[k]
        entered = entries_of(tagged, k)
        if isinstance(entered, str):
            return f"class {cls.name}: {entered}"
        found, admitted = entered
        entries = np.flatnonzero(cls.arrivals > 0)
        built = _passage_of(
            tagged,
            found,
            lambda rows: view.anywhere(rows) == 0,
            int(entries[0]) if len(entries) == 1 else None,
        )
        if isinstance(built, str):
            return f"class {cls.name}: {built}"
        explored, beta, top = built
        # where the tag may be lost, its law is taken on ending without a loss
        exits = explored.absorbed if explored.lost.any() else None
        try:
            passage = Passage(beta, explored.generator, _leak(explored), exits)
        except ValueError as error:
            return f"class {cls.name}: {error}"
        ends = float(passage.terms[0]) if exits is not None else float(beta.sum())
        out[k] = (_law(passage, found.error + top, explored.size, ends), admitted * ends)
    return out
