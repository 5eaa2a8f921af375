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

A replication of a large network needs thousands of streams at once (two per
station and class in the fast engine): :func:`stream_generators` makes them
together, with the seed sequences' mixing done on arrays (the same Generators,
same states, as :func:`stream_generator` makes one at a time).

Draws are made in batches: a NumPy call per event costs more than the event's
whole simulation step, so :func:`batched` turns a vectorised draw into an endless
iterator of Python floats, refilled ``batch_size`` values at a time.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from numpy.random.bit_generator import ISpawnableSeedSequence

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "batched",
    "stable_id",
    "stream_generator",
    "stream_generators",
    "stream_seed",
]

#: Values drawn per refill of a batched stream; large enough that the NumPy call
#: overhead vanishes, small enough that a short run wastes little.
DEFAULT_BATCH_SIZE = 2048

Number = TypeVar("Number", int, float)
#: A column of 32-bit words.
Words = npt.NDArray[np.uint32]


@functools.lru_cache(maxsize=1 << 16)
def stable_id(name: str) -> int:
    """Return a 32-bit integer for ``name`` that is the same in every process and version.

    Python's ``hash`` of a string changes between processes, so it cannot seed a
    stream; BLAKE2b can. Cached: every replication of a network of N stations
    asks for the same N names again.
    """
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "little")


def _check_seed(seed: int, replication: int) -> None:
    """Refuse a negative root seed or replication index."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if replication < 0:
        raise ValueError(f"replication must be >= 0, got {replication}")


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
    _check_seed(seed, replication)
    key = (replication, stable_id(purpose), *(stable_id(name) for name in names))
    return np.random.SeedSequence(seed, spawn_key=key)


def stream_generator(seed: int, replication: int, purpose: str, *names: str) -> np.random.Generator:
    """Return an independent PCG64 generator for one stream (see :func:`stream_seed`)."""
    return np.random.Generator(np.random.PCG64(stream_seed(seed, replication, purpose, *names)))


# SeedSequence's constants (NumPy, numpy/random/bit_generator.pyx, after M. E. O'Neill,
# "Developing a seed_seq Alternative", pcg-random.org, 2015); 32-bit words throughout.
_POOL_SIZE = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = np.uint32(0xCA01F9DD), np.uint32(0x4973F715)
_SHIFT = np.uint32(16)
_MASK = 0xFFFFFFFF


def _words(value: int) -> list[int]:
    """``value`` as SeedSequence reads an integer: 32-bit words, lowest first (0: one word)."""
    words = [value & _MASK]
    while value >> 32:
        value >>= 32
        words.append(value & _MASK)
    return words


class _Hash:
    """SeedSequence's ``hashmix`` on uint32 columns, with its running multiplier.

    The multiplier's sequence does not depend on the data, so one Python int
    serves every row; uint32 array products wrap modulo 2**32 as the C code's do.
    """

    def __init__(self, start: int, factor: int):
        self.multiplier, self.factor = start, factor

    def __call__(self, value: Words) -> Words:
        value = value ^ np.uint32(self.multiplier)
        self.multiplier = self.multiplier * self.factor & _MASK
        value = value * np.uint32(self.multiplier)
        return value ^ (value >> _SHIFT)


def _mixed(x: Words, y: Words) -> Words:
    """SeedSequence's ``mix`` of two uint32 columns."""
    result: Words = _MIX_L * x - _MIX_R * y
    return result ^ (result >> _SHIFT)


def _mixed_pools(entropy: np.ndarray) -> np.ndarray:
    """The entropy pools of many seed sequences at once: row ``j`` mixes ``entropy[j]``.

    The steps of ``SeedSequence.mix_entropy``: hash each of the first words in
    (zeros past the entropy), mix every pool word with every other, then fold in
    the words past the pool.
    """
    hashed = _Hash(_INIT_A, _MULT_A)
    rows, width = entropy.shape
    zero = np.zeros(rows, dtype=np.uint32)
    pool = [hashed(entropy[:, i] if i < width else zero) for i in range(_POOL_SIZE)]
    for source in range(_POOL_SIZE):
        for target in range(_POOL_SIZE):
            if source != target:
                pool[target] = _mixed(pool[target], hashed(pool[source]))
    for source in range(_POOL_SIZE, width):
        for target in range(_POOL_SIZE):
            pool[target] = _mixed(pool[target], hashed(entropy[:, source]))
    return np.stack(pool, axis=1)


def _pcg64_seeds(pools: np.ndarray) -> np.ndarray:
    """``generate_state(4, np.uint64)`` of each pool row: the words PCG64 seeds itself with.

    Eight 32-bit words, cycling through the pool, each hashed with the running
    ``INIT_B``/``MULT_B`` multiplier; read in pairs as little-endian 64-bit words.
    """
    # (the multiplier is used after its first update here, unlike in hashmix)
    multiplier, words = _INIT_B, []
    for i in range(8):
        value = pools[:, i % _POOL_SIZE] ^ np.uint32(multiplier)
        multiplier = multiplier * _MULT_B & _MASK
        value = value * np.uint32(multiplier)
        words.append(value ^ (value >> _SHIFT))
    low, high = np.stack(words[0::2], axis=1), np.stack(words[1::2], axis=1)
    return low.astype(np.uint64) | (high.astype(np.uint64) << np.uint64(32))


class _MixedSeed(ISpawnableSeedSequence):
    """A seed sequence whose PCG64 seed was computed with many others (:func:`stream_generators`).

    It keeps the ``entropy`` and ``spawn_key`` it stands for; anything but the
    four 64-bit words PCG64 asks for (other words, :meth:`spawn`) comes from the
    equal :class:`numpy.random.SeedSequence` (:meth:`sequence`, made when first
    needed), so a generator made together behaves as one made alone.
    """

    def __init__(self, entropy: int, spawn_key: tuple[int, ...], state: np.ndarray):
        self.entropy, self.spawn_key, self._state = entropy, spawn_key, state
        self._sequence: np.random.SeedSequence | None = None

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        """The words :meth:`numpy.random.SeedSequence.generate_state` gives for the same key."""
        if n_words == 4 and (dtype is np.uint64 or np.dtype(dtype) == np.uint64):
            return self._state.copy()
        return self.sequence().generate_state(n_words, dtype)

    # (NumPy's stubs type the children as the parent's class; they are NumPy's own)
    def spawn(self, n_children: int) -> list[np.random.SeedSequence]:  # type: ignore[override]
        """Children as :meth:`numpy.random.SeedSequence.spawn` makes them (counted across calls)."""
        return self.sequence().spawn(n_children)

    def sequence(self) -> np.random.SeedSequence:
        """The :class:`numpy.random.SeedSequence` this one stands for (one, kept)."""
        if self._sequence is None:
            self._sequence = np.random.SeedSequence(self.entropy, spawn_key=self.spawn_key)
        return self._sequence


def stream_generators(
    seed: int, replication: int, keys: Sequence[tuple[str, ...]]
) -> list[np.random.Generator]:
    """Return the generators of many streams of one replication, made together.

    ``stream_generators(seed, r, keys)[j]`` is in the same state as
    ``stream_generator(seed, r, *keys[j])``, and draws the same values: the seed
    sequences' entropy is mixed for all keys at once, on arrays (for 2,000
    streams several times faster than one at a time), and the first stream's
    seed is checked against NumPy's own :class:`~numpy.random.SeedSequence`
    (were it ever to differ, every stream is made one at a time instead).

    Parameters
    ----------
    seed, replication : int
        As for :func:`stream_seed`.
    keys : sequence of tuple of str
        Each stream's ``(purpose, *names)``.

    Returns
    -------
    list of numpy.random.Generator
        One PCG64 generator per key, in the order of ``keys``.
    """
    _check_seed(seed, replication)
    run = _words(seed)
    # (a spawned sequence pads its run entropy with zeros to the pool's size)
    head = run + [0] * (_POOL_SIZE - len(run)) + _words(replication)
    seeds = np.empty((len(keys), 4), dtype=np.uint64)
    ids = [[stable_id(name) for name in key] for key in keys]
    for width in {len(key) for key in keys}:
        members = [j for j, key in enumerate(keys) if len(key) == width]
        entropy = np.empty((len(members), len(head) + width), dtype=np.uint32)
        entropy[:, : len(head)] = head
        entropy[:, len(head) :] = [ids[j] for j in members]
        seeds[members] = _pcg64_seeds(_mixed_pools(entropy))
    stand_ins = [_MixedSeed(seed, (replication, *ids[j]), seeds[j]) for j in range(len(keys))]
    if stand_ins and not np.array_equal(
        np.random.SeedSequence(seed, spawn_key=stand_ins[0].spawn_key).generate_state(4, np.uint64),
        seeds[0],
    ):  # pragma: no cover  (a NumPy whose SeedSequence mixes otherwise)
        return [stream_generator(seed, replication, *key) for key in keys]
    # (NumPy's stubs name SeedSequence; PCG64 takes any ISeedSequence)
    return [np.random.Generator(np.random.PCG64(cast(Any, seed_seq))) for seed_seq in stand_ins]


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
