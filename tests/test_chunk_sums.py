"""A run's chunks added up through a table of places give exactly what sorting them gives.

``eda_sim.stats.chunk_sums`` adds many chunks of sketch counts through one table
(a place per sketch's zeros and per bucket of its range); the reference is
``stats.merging.combine_sorted``, which sorts them. Equal key for key and count
for count, dtypes included: on chunks large enough for the table, with zeros,
empty sketches, empty chunks and a key given with a zero count, and where the
table would be too large (sorting then). The windows' quantiles built on them
(``ChunkedSketches.window_quantiles``, ``suffix_quantiles``) equal those of the
sorting path and of each sketch's histogram.
"""

from __future__ import annotations

import numpy as np
import pytest

from eda_sim.stats import chunk_sums
from eda_sim.stats.chunk_sums import summed, union_index
from eda_sim.stats.chunks import ChunkedSketches
from eda_sim.stats.merging import MERGE_BATCH, combine_sorted
from eda_sim.stats.sketch import BUCKET_BITS, bucket_of

LEVELS = (0.5, 0.9, 0.99)


def chunk(rng: np.random.Generator, sketches: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One chunk: sorted unique keys of ``n`` times in ``sketches`` sketches, and counts."""
    sketch = rng.integers(0, sketches, n)
    values = rng.exponential(10.0 ** rng.uniform(-3, 2, sketches)[sketch])
    values[rng.random(n) < 0.2] = 0.0
    keys = (sketch.astype(np.int64) << BUCKET_BITS) | bucket_of(values)
    unique, counts = np.unique(keys, return_counts=True)
    return unique.astype(np.int64), counts.astype(np.int64)


def chunks_of(
    seed: int, parts: int, sketches: int = 40
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    made = [chunk(rng, sketches, int(rng.integers(0, 80_000))) for _ in range(parts)]
    made[1] = (np.zeros(0, np.int64), np.zeros(0, np.int64))  # an empty chunk
    return [k for k, _ in made], [c for _, c in made]


Pair = tuple[np.ndarray, np.ndarray]


def assert_same(got: Pair, expected: Pair) -> None:
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.dtype == theirs.dtype == np.int64
        assert np.array_equal(mine, theirs)


@pytest.mark.parametrize("seed", range(5))
def test_the_table_sums_as_sorting_sums(seed: int) -> None:
    keys, counts = chunks_of(seed, 12)
    assert sum(k.size for k in keys) > MERGE_BATCH  # more than one sort at once
    assert chunk_sums._places_for(keys, 40) is not None  # so the table
    counts[3] = counts[3].copy()
    counts[3][::7] = 0  # keys given with a zero count are kept, as combine_sorted keeps them
    assert_same(summed(keys, counts, 40), combine_sorted(keys, counts))


def test_a_table_too_large_leaves_it_to_sorting(monkeypatch: pytest.MonkeyPatch) -> None:
    keys, counts = chunks_of(7, 12)
    monkeypatch.setattr(chunk_sums, "PLACES_PER_ENTRY", 0)
    assert_same(summed(keys, counts, 40), combine_sorted(keys, counts))


def test_buckets_spread_over_every_octave() -> None:
    """Sketches whose buckets span the doubles' whole range, and sketches with only zeros."""
    rng = np.random.default_rng(11)
    keys, counts = [], []
    for _ in range(6):
        values = 2.0 ** rng.uniform(-1000, 1000, 40_000)
        values[:5000] = 0.0
        sketch = rng.integers(0, 5, values.size)
        sketch[:5000] = 5 + rng.integers(0, 2, 5000)  # sketches 5 and 6: zeros only
        part, count = np.unique((sketch << BUCKET_BITS) | bucket_of(values), return_counts=True)
        keys.append(part.astype(np.int64))
        counts.append(count.astype(np.int64))
    assert chunk_sums._places_for(keys, 8) is None  # a table too large: sorting
    assert_same(summed(keys, counts, 8), combine_sorted(keys, counts))


@pytest.mark.parametrize("seed", range(3))
def test_the_union_and_its_index_are_sortings(seed: int) -> None:
    keys, _ = chunks_of(20 + seed, 10)
    assert chunk_sums._places_for(keys, 40) is not None  # the table
    union, index = union_index(keys, 40)
    expected, _ = combine_sorted(keys, keys)
    assert union.dtype == np.int64 and np.array_equal(union, expected)
    for part in keys:
        assert np.array_equal(index(part), np.searchsorted(expected, part))


def test_windows_through_the_table_equal_windows_by_sorting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keys, counts = chunks_of(31, 12)
    assert chunk_sums._places_for(keys, 40) is not None  # the table
    chunks = ChunkedSketches(40, tuple(range(1, 13)), tuple(keys), tuple(counts))
    starts = [0, 2, 5, 11]
    table_windows = {s: chunks.window_quantiles(s, 12, LEVELS) for s in starts}
    table_suffix = chunks.suffix_quantiles(starts, 12, LEVELS)
    histograms = chunks.window(0, 12)
    monkeypatch.setattr(chunk_sums, "PLACES_PER_ENTRY", 0)  # sorting
    for start in starts:
        sorted_window = chunks.window_quantiles(start, 12, LEVELS)
        assert np.array_equal(table_windows[start], sorted_window, equal_nan=True)
        assert np.array_equal(table_suffix[start], sorted_window, equal_nan=True)
    for sketch, histogram in enumerate(histograms):
        expected = [histogram.quantile(level) if histogram.total else np.nan for level in LEVELS]
        assert np.array_equal(table_windows[0][sketch], expected, equal_nan=True)
