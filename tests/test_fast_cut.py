"""The fast engine's compiled cut makes exactly the chunk NumPy's fold makes of the same counts.

``eda_sim.engine.fast.cutting.cut_chunk`` reads the counters and folds each
sketch below its floor in compiled code. The reference here is the cut as it was
done before it (and as the SimPy engine's bank still folds): every counter
drained into arrays in key order (:func:`drain`, the engine's drain until
then), the keys set aside for Python added (``combine_counts``), then
``stats.collapse.collapsed_chunk``. The chunks
must be equal entry for entry, with the same dtypes, and the counters cleared:
on random chunks and on the edges of the rule (empty sketches, only zeros,
carries, keys outside the counted octaves, 256 and 257 buckets, a level near the
zeros' share, no levels).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from numba import njit

from eda_sim.engine.fast.counting import count_keys
from eda_sim.engine.fast.cutting import cut_chunk
from eda_sim.engine.fast.state import CARRY, CARRY_COUNT
from eda_sim.stats.collapse import COLLAPSE_AFTER, collapsed_chunk
from eda_sim.stats.merging import combine_counts
from eda_sim.stats.sketch import BUCKET_BITS, bucket_of

#: Octave base of a run whose horizon is 10,000 (the exponent field of 2^14 is 1036).
BASE = 1022 + 14 - 62
LEVELS = (0.5, 0.9, 0.99)


@njit
def drain(slots, counts, base, keys, found):  # type: ignore[no-untyped-def]
    """Every counter in use, in the order of its ``(sketch, column)`` block: sorted keys."""
    n = 0
    for sketch in range(slots.shape[0]):
        for column in range(slots.shape[1]):
            block = slots[sketch, column]
            if block < 0:
                continue
            for sub in range(counts.shape[1]):
                if counts[block, sub] != 0:
                    # zeros (column 0) are bucket 0; column c >= 1 is exponent field base + c
                    bucket = 0 if column == 0 else ((base + column) << 7) + sub + 1
                    keys[n] = (sketch << BUCKET_BITS) | bucket
                    found[n] = counts[block, sub]
                    n += 1
    return n


def counted(
    keys: np.ndarray, sketches: int, spare: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray]:
    """``keys`` counted as the driver counts them: ``(slots, counts, owners, pool_n, kept keys)``.

    ``spare`` blocks beyond what ``keys`` could need stay in the pool, unused.
    """
    slots = np.full((sketches, 63), -1, np.int32)
    counts = np.zeros((sketches * 63 + spare, 128), np.uint16)
    owners = np.full(counts.shape[0], -1, np.int64)
    buffer = keys.astype(np.int64)
    kept_keys = np.zeros(buffer.size, np.int64)
    reached, pool_n, kept = count_keys(buffer, kept_keys, 0, slots, counts, owners, BASE, 0)
    assert reached == buffer.size
    return slots, counts, owners, pool_n, kept_keys[:kept].copy()


def set_aside(rare: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The kept keys as sorted unique keys and counts (a carry stands for CARRY_COUNT values)."""
    weights = np.where((rare & CARRY) != 0, CARRY_COUNT, 1).astype(np.int64)
    return combine_counts([rare & ~CARRY], [weights])


def reference(
    slots: np.ndarray, counts: np.ndarray, rare: np.ndarray, levels: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chunk by the NumPy path: drain every counter, add the kept keys, fold."""
    room = counts.shape[0] * 128
    keys, found = np.empty(room, np.int64), np.empty(room, np.int64)
    filled = drain(slots, counts, BASE, keys, found)
    rare_keys, rare_counts = set_aside(rare)
    keys, found = combine_counts([keys[:filled], rare_keys], [found[:filled], rare_counts])
    return collapsed_chunk(keys, found, slots.shape[0], levels)


def assert_same_cut(keys: np.ndarray, sketches: int, levels: tuple[float, ...]) -> np.ndarray:
    """Both cuts of the chunk counted from ``keys`` are equal; return its floors."""
    slots, counts, owners, pool_n, rare = counted(keys, sketches)
    expected = reference(slots.copy(), counts.copy(), rare, levels)
    got = cut_chunk(slots, counts, owners, pool_n, BASE, *set_aside(rare), levels)
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.dtype == theirs.dtype == np.int64
        assert np.array_equal(mine, theirs)
    assert (slots == -1).all() and not counts.any()  # cleared: the next chunk starts empty
    return got[2]


def test_a_cut_reads_only_the_blocks_the_chunk_allocated() -> None:
    """Blocks past ``pool_n`` (the pool grown ahead, owners left from earlier) are not read."""
    rng = np.random.default_rng(17)
    values = rng.exponential(1.0, 5000)
    keys = keys_of(rng.integers(0, 6, values.size), values)
    slots, counts, owners, pool_n, rare = counted(keys, 6, spare=500)
    expected = reference(slots.copy(), counts.copy(), rare, LEVELS)
    owners[pool_n:] = rng.integers(0, 6 * 63, owners.size - pool_n)  # stale owners
    got = cut_chunk(slots, counts, owners, pool_n, BASE, *set_aside(rare), LEVELS)
    for mine, theirs in zip(got, expected, strict=True):
        assert np.array_equal(mine, theirs)
    assert (slots == -1).all() and not counts.any()


@pytest.mark.parametrize("seed", range(4))
def test_chunks_cut_in_turn_from_one_pool(seed: int) -> None:
    """Chunk after chunk counted into the same pool and cut: each as NumPy cuts it.

    The pool keeps the earlier chunks' owners past the current chunk's blocks;
    the sketches' octaves are allocated in a random order; some times lie
    below the octaves (kept for Python) and some counters carry.
    """
    rng = np.random.default_rng(100 + seed)
    sketches = 30
    slots = np.full((sketches, 63), -1, np.int32)
    counts = np.zeros((sketches * 63, 128), np.uint16)
    owners = np.full(counts.shape[0], -1, np.int64)
    folded = set_aside_any = False
    for _ in range(3):
        n = int(rng.integers(1_000, 80_000))
        sketch = rng.integers(0, sketches, n)
        values = rng.exponential(10.0 ** rng.uniform(-3, 2, sketches)[sketch])
        values[rng.random(n) < 0.1] = 0.0
        values[rng.random(n) < 0.002] = 2.0**-70  # below the counted octaves
        sketch[: 70_000 if n > 70_000 else 0] = 3  # a counter of sketch 3 carries
        values[: 70_000 if n > 70_000 else 0] = 0.25
        buffer = keys_of(sketch, values)
        kept_keys = np.zeros(buffer.size, np.int64)
        reached, pool_n, kept = count_keys(
            buffer, kept_keys, 0, slots, counts, owners, BASE, 0
        )  # fmt: skip
        assert reached == buffer.size
        rare = kept_keys[:kept].copy()
        expected = reference(slots.copy(), counts.copy(), rare, LEVELS)
        got = cut_chunk(slots, counts, owners, pool_n, BASE, *set_aside(rare), LEVELS)
        for mine, theirs in zip(got, expected, strict=True):
            assert mine.dtype == theirs.dtype == np.int64
            assert np.array_equal(mine, theirs)
        assert (slots == -1).all() and not counts.any()
        folded, set_aside_any = folded or bool(got[2].any()), set_aside_any or kept > 0
    assert folded and set_aside_any  # the cases the test is for


def keys_of(sketch: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value's key in its sketch."""
    return (sketch.astype(np.int64) << BUCKET_BITS) | bucket_of(values)


@pytest.mark.parametrize("seed", range(6))
def test_random_chunks_are_cut_as_numpy_cuts_them(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sketches = int(rng.integers(1, 40))
    n = int(rng.integers(1, 60_000))
    scale = 10.0 ** rng.uniform(-3, 2, sketches)
    sketch = rng.integers(0, sketches, n)
    values = rng.exponential(scale[sketch])
    values[rng.random(n) < rng.uniform(0, 0.6)] = 0.0  # zeros, a share that varies by seed
    levels = (LEVELS, (0.001,), (0.5,), ())[seed % 4]
    assert_same_cut(keys_of(sketch, values), sketches, levels)


def test_carries_and_keys_outside_the_octaves_are_counted_and_folded() -> None:
    """Zeros and one bucket past 65,535 (carries), subnormals and times below the octaves."""
    rng = np.random.default_rng(3)
    values = np.concatenate(
        [np.zeros(140_000), np.full(200_000, 1.5), rng.exponential(1.0, 20_000), [5e-324, 1e-310]]
    )
    values = np.concatenate([values, 2.0 ** rng.uniform(-80, -60, 300)])  # below the octaves
    sketch = rng.integers(0, 3, values.size)
    floors = assert_same_cut(keys_of(sketch, values), 3, (0.9, 0.99))
    assert floors.any()  # the case folds


def test_empty_sketches_and_empty_chunks() -> None:
    assert_same_cut(np.zeros(0, np.int64), 5, LEVELS)
    rng = np.random.default_rng(5)
    values = rng.exponential(1.0, 30_000)
    floors = assert_same_cut(keys_of(np.full(values.size, 3), values), 7, LEVELS)
    assert floors[3] > 0 and not np.delete(floors, 3).any()


def test_a_sketch_of_only_zeros() -> None:
    assert_same_cut(keys_of(np.zeros(1000, np.int64), np.zeros(1000)), 2, LEVELS)


@pytest.mark.parametrize("levels", [(), LEVELS])
def test_keys_outside_the_octaves_in_a_sketch_kept_whole(levels: tuple[float, ...]) -> None:
    """Subnormals and times below the octaves, in sketches too small to fold."""
    rng = np.random.default_rng(13)
    values = np.concatenate([2.0 ** rng.uniform(-90, 0, 200), [5e-324, 1e-310, 0.0, 0.0]])
    sketch = rng.integers(0, 4, values.size)
    floors = assert_same_cut(keys_of(sketch, values), 4, levels)
    assert not floors.any()


@pytest.mark.parametrize("offset", [2 * 128, 2 * 128 + 1])
def test_a_floor_must_lie_above_the_lowest_bucket(offset: int) -> None:
    """The bucket at the floor's rank ``offset`` buckets above the lowest: floor = lowest + 0 or 1.

    At ``2·128`` the floor would be the lowest bucket itself, with nothing below
    it to fold: no floor. One bucket higher, the lowest bucket is folded.
    """
    lowest = int(bucket_of(np.array([1e-3]))[0])
    spread = np.arange(lowest, lowest + 300)
    sketch_keys = np.concatenate([spread, np.full(10_000, lowest + offset)])
    floors = assert_same_cut(sketch_keys, 1, (0.5,))
    assert floors[0] == (0 if offset == 2 * 128 else lowest + 1)


@pytest.mark.parametrize("buckets", [COLLAPSE_AFTER, COLLAPSE_AFTER + 1])
def test_at_most_256_buckets_are_kept_whole(buckets: int) -> None:
    """One value in each of ``buckets`` consecutive buckets above many in a high one."""
    lowest = int(bucket_of(np.array([1e-3]))[0])
    spread = np.arange(lowest, lowest + buckets - 1)
    sketch_keys = np.concatenate([spread, np.full(5000, lowest + 900)])
    floors = assert_same_cut(sketch_keys | (1 << BUCKET_BITS), 2, (0.5,))
    assert (floors[1] > 0) == (buckets > COLLAPSE_AFTER)


@pytest.mark.parametrize("zero_share", [0.45, 0.5, 0.52, 0.56])
def test_a_level_near_the_zeros_share(zero_share: float) -> None:
    """Levels within the margin of the zeros' share keep the lowest buckets (no floor)."""
    rng = np.random.default_rng(9)
    values = rng.exponential(1.0, 40_000)
    values[: int(zero_share * values.size)] = 0.0
    assert_same_cut(keys_of(np.zeros(values.size, np.int64), values), 1, (0.5,))
