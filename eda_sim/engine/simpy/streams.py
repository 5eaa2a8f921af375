"""Random streams of one replication, made when first needed (SimPy engine).

Every stream is its own :class:`numpy.random.Generator`, keyed by names
(:func:`eda_sim.rng.stream_generator`), so when it is made does not change what
it draws: a stream is built the first time a station asks for it. A class that
reaches 3 of 1,000 stations builds 6 generators, not 2,000, and a station no
event reaches costs nothing.

Streams, with their keys:

* ``arrivals``/class: the gaps of a class's renewal arrivals;
* ``entry``/class: the entry station of each external arrival;
* ``service``/station/class: service times;
* ``routing``/station/class: the next hop after a service (-1: leave).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import numpy as np

from eda_sim.distributions import Distribution
from eda_sim.rng import batched, stream_generator
from eda_sim.scenario.model import EventClass

__all__ = ["ClassStreams", "sampler"]


def sampler(distribution: Distribution, rng: np.random.Generator) -> Iterator[float]:
    """Values of ``distribution`` drawn from ``rng`` in batches."""
    return batched(lambda size: distribution.draw(rng, size))


class _ServiceStreams(dict[int, Iterator[float]]):
    """Service times of one class, ``streams[station]``, each made on first use."""

    def __init__(self, event_class: EventClass, names: tuple[str, ...], seed: int, rep: int):
        super().__init__()
        self._class, self._names, self._seed, self._rep = event_class, names, seed, rep

    def __missing__(self, station: int) -> Iterator[float]:
        name = self._names[station]
        rng = stream_generator(self._seed, self._rep, "service", name, self._class.name)
        stream = sampler(self._class.service[station], rng)
        self[station] = stream
        return stream


class _HopStreams(dict[int, Iterator[int]]):
    """Next hops of one class after each station, ``streams[station]``, made on first use."""

    def __init__(self, event_class: EventClass, names: tuple[str, ...], seed: int, rep: int):
        super().__init__()
        self._class, self._names, self._seed, self._rep = event_class, names, seed, rep

    def __missing__(self, station: int) -> Iterator[int]:
        rng = stream_generator(
            self._seed, self._rep, "routing", self._names[station], self._class.name
        )
        routing = self._class.routing
        stream = cast(Iterator[int], batched(lambda size: routing.draw_next(station, rng, size)))
        self[station] = stream
        return stream


class ClassStreams:
    """The streams of one event class in one replication.

    Attributes
    ----------
    services : mapping of int to iterator of float
        ``services[station]``: the class's service times there.
    hops : mapping of int to iterator of int
        ``hops[station]``: its next stations after a service there (-1: leave).
    """

    __slots__ = ("_class", "_rep", "_seed", "hops", "services")

    def __init__(
        self, event_class: EventClass, names: tuple[str, ...], seed: int, replication: int
    ) -> None:
        self._class, self._seed, self._rep = event_class, seed, replication
        self.services = _ServiceStreams(event_class, names, seed, replication)
        self.hops = _HopStreams(event_class, names, seed, replication)

    def entries(self) -> Iterator[int]:
        """Entry stations of the class's external arrivals."""
        rng = stream_generator(self._seed, self._rep, "entry", self._class.name)
        routing = self._class.routing
        return cast(Iterator[int], batched(lambda size: routing.draw_entry(rng, size)))

    def gaps(self) -> Iterator[float]:
        """Gaps between the class's renewal arrivals (not for a replayed trace)."""
        interarrival = self._class.arrivals.interarrival
        assert interarrival is not None, "a replayed trace has no random gaps"
        rng = stream_generator(self._seed, self._rep, "arrivals", self._class.name)
        return sampler(interarrival, rng)
