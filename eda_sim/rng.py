"""Random streams: one independent generator per replication and purpose (layer 0).

eda-sim never uses global random state. A run has one root seed; every stream a
replication needs (the arrivals of a class, the service times of a class at a
station, the next-hop draws after a station, ...) gets its own
:class:`numpy.random.Generator`, built from a :class:`numpy.random.SeedSequence`
whose ``spawn_key`` is ``(replication, purpose, station, class)``. Names, not
positions, go into the key (through a stable 32-bit hash), so adding a station
or an event class does not shift any other stream: the same seed gives the same
numbers for the parts of a scenario that did not change.

This is how ``SeedSequence.spawn`` itself derives children (a child is the parent
with a longer ``spawn_key``), see the NumPy documentation, "Parallel random number
generation".

Draws are made in batches: a NumPy call per event costs more than the event's
whole simulation step, so :func:`batched` turns a vectorised draw into an endless
iterator of Python floats, refilled ``batch_size`` values at a time.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np

__all__ = ["DEFAULT_BATCH_SIZE", "batched", "stable_id", "stream_generator", "stream_seed"]

#: Values drawn per refill of a batched stream; large enough that the NumPy call
#: overhead vanishes, small enough that a short run wastes little.
DEFAULT_BATCH_SIZE = 2048

Number = TypeVar("Number", int, float)


@functools.lru_cache(maxsize=1 << 16)
def stable_id(name: str) -> int:
    """Return a 32-bit integer for ``name`` that is the same in every process and version.

    Python's ``hash`` of a string changes between processes, so it cannot seed a
    stream; BLAKE2b can. Cached: every replication of a network of N stations
    asks for the same N names again.
    """
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "little")


def stream_seed(seed: int, replication: int, purpose: str, *names: str) -> np.random.SeedSequence:
    """Return the seed sequence of one stream.

    Parameters
    ----------
    seed : int
        The run's root seed (non-negative).
    replication : int
        The replication index, 0-based.
    purpose : str
        What the stream is for: ``"arrivals"``, ``"service"``, ``"routing"``, ``"entry"``.
    *names : str
        The station and/or event class the stream belongs to.

    Returns
    -------
    numpy.random.SeedSequence
        ``SeedSequence(seed, spawn_key=(replication, id(purpose), id(name), ...))``.
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if replication < 0:
        raise ValueError(f"replication must be >= 0, got {replication}")
    key = (replication, stable_id(purpose), *(stable_id(name) for name in names))
    return np.random.SeedSequence(seed, spawn_key=key)


def stream_generator(seed: int, replication: int, purpose: str, *names: str) -> np.random.Generator:
    """Return an independent PCG64 generator for one stream (see :func:`stream_seed`)."""
    return np.random.Generator(np.random.PCG64(stream_seed(seed, replication, purpose, *names)))


def batched(
    draw: Callable[[int], np.ndarray], batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[float]:
    """Turn a vectorised draw into an endless iterator of Python numbers.

    Parameters
    ----------
    draw : callable
        ``draw(n)`` returns a 1-D array of ``n`` fresh values.
    batch_size : int
        Values drawn per call of ``draw``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> stream = batched(rng.random, batch_size=4)
    >>> first_six = [next(stream) for _ in range(6)]
    >>> first_six == np.random.default_rng(1).random(8).tolist()[:6]
    True
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    while True:
        yield from draw(batch_size).tolist()
