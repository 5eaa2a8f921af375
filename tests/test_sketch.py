"""Quantile sketches against exact order statistics of stored samples (eda_sim.stats.sketch).

The guarantee under test (module docstring of :mod:`eda_sim.stats.sketch`): for
``r = ⌈p·n⌉`` and the exact order statistic ``x_(r)``, the reported quantile is
0 when ``x_(r) = 0`` and otherwise within ``α·x_(r)``, ``α = 1/257``. The only
slack allowed is the rounding of the bucket's point itself (a few ulps).
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eda_sim.stats.chunks import FLUSH_AT_LEAST, SketchBank
from eda_sim.stats.sketch import (
    BUCKET_BITS,
    RELATIVE_ACCURACY,
    Histogram,
    bucket_bounds,
    bucket_of,
    bucket_value,
    quantile_rank,
    sketch_bounds,
)

#: Rounding of the bucket's point 2·lo·hi/(lo + hi): a few ulps on top of α.
ROUNDING = 1e-15
LEVELS = (0.001, 0.01, 0.05, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)


def exact_quantile(values: np.ndarray, level: float) -> float:
    """The r-th smallest value, r = ⌈p·n⌉ with p as written (the reference)."""
    ordered = np.sort(values)
    return float(ordered[quantile_rank(level, len(ordered)) - 1])


def assert_within_guarantee(values: np.ndarray, levels: tuple[float, ...] = LEVELS) -> None:
    histogram = Histogram.of(values)
    assert histogram.total == len(values)
    for level in levels:
        exact = exact_quantile(values, level)
        estimate = histogram.quantile(level)
        if exact == 0.0:
            assert estimate == 0.0
        else:
            assert abs(estimate - exact) <= (RELATIVE_ACCURACY + ROUNDING) * exact, (level, exact)


def reference_bucket(value: float) -> int:
    """The bucket from the IEEE-754 bits by pure integer arithmetic (no numpy)."""
    if value == 0.0:
        return 0
    (bits,) = struct.unpack("<q", struct.pack("<d", value))
    return (bits >> 45) + 1


def test_relative_accuracy_is_below_half_a_percent() -> None:
    assert RELATIVE_ACCURACY == pytest.approx(1 / 257, rel=1e-15)
    assert RELATIVE_ACCURACY < 0.005


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng: rng.exponential(1.0, 20_000),
        lambda rng: rng.lognormal(0.0, 3.0, 20_000),  # over many decades
        lambda rng: np.where(rng.random(20_000) < 0.6, 0.0, rng.exponential(2.0, 20_000)),
        lambda rng: np.round(rng.exponential(5.0, 5_000)),  # ties and zeros
        lambda rng: 10.0 ** rng.uniform(-12, 12, 10_000),
        lambda rng: np.full(100, 0.37),
        lambda rng: rng.exponential(1e-6, 3),  # tiny samples
        lambda rng: np.array([5.0]),
    ],
    ids=["exp", "lognormal", "zeros", "ties", "decades", "constant", "three", "one"],
)
def test_quantiles_against_exact_order_statistics(draw) -> None:  # type: ignore[no-untyped-def]
    values = draw(np.random.default_rng(20261201))
    assert_within_guarantee(values)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just(0.0),
            st.floats(min_value=2.0**-1022, max_value=1e300, allow_nan=False),
        ),
        min_size=1,
        max_size=300,
    ),
    st.floats(min_value=1e-6, max_value=1 - 1e-6),
)
def test_guarantee_holds_for_any_sample_and_level(values: list[float], level: float) -> None:
    assert_within_guarantee(np.array(values), (level,))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1e300, allow_nan=False), max_size=200))
def test_bucket_index_is_the_bit_pattern(values: list[float]) -> None:
    assert bucket_of(values).tolist() == [reference_bucket(v) for v in values]


def test_every_value_lies_in_its_bucket() -> None:
    values = np.concatenate(
        [10.0 ** np.random.default_rng(1).uniform(-300, 300, 5000), [1.0, 2.0, 1.5, 1e308]]
    )
    low, high = bucket_bounds(bucket_of(values))
    assert np.all(low <= values) and np.all(values < high)
    point = bucket_value(bucket_of(values))
    assert np.all(np.abs(point - values) <= (RELATIVE_ACCURACY + ROUNDING) * values)


def test_negative_and_nonfinite_values_are_refused() -> None:
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="finite and >= 0"):
            bucket_of([1.0, bad])


def test_ranks_read_levels_as_written() -> None:
    assert quantile_rank(0.07, 100) == 7  # the double 0.07 is a little above 7/100
    assert quantile_rank(0.95, 100) == 95
    assert quantile_rank(0.999, 1000) == 999
    assert quantile_rank(0.5, 1) == 1
    with pytest.raises(ValueError):
        quantile_rank(1.0, 10)


def test_merging_is_exact() -> None:
    rng = np.random.default_rng(3)
    parts = [rng.exponential(1.0, n) for n in (0, 10, 1000, 5000)]
    merged = Histogram.merged(Histogram.of(p) for p in parts)
    assert merged == Histogram.of(np.concatenate(parts))
    assert Histogram.of(parts[1]) + Histogram.of(parts[2]) == Histogram.of(
        np.concatenate(parts[1:3])
    )


def test_zeros_are_kept_exactly() -> None:
    histogram = Histogram.of([0.0] * 950 + [1.0] * 50)
    assert histogram.zeros == 950
    assert histogram.quantile(0.95) == 0.0  # x_(950) = 0
    assert histogram.quantile(0.951) > 0.0


def test_an_empty_histogram_has_no_quantile() -> None:
    assert math.isnan(Histogram.empty().quantile(0.5))
    assert Histogram.empty().total == 0


def test_ccdf_at_bucket_edges_is_exact() -> None:
    values = np.random.default_rng(5).exponential(1.0, 4000)
    x, above = Histogram.of(values).ccdf()
    assert np.array_equal(above, [np.mean(values > edge) for edge in x])


def test_json_round_trip_and_refusals() -> None:
    histogram = Histogram.of([0.0, 1.0, 1.0, 7.5])
    assert Histogram.from_dict(histogram.to_dict()) == histogram
    for bad in (
        {"buckets": [3, 2], "counts": [1, 1]},
        {"buckets": [1], "counts": [0]},
        {"buckets": [1, 2], "counts": [1]},
        {"buckets": [1 << 19], "counts": [1]},
    ):
        with pytest.raises(ValueError):
            Histogram.from_dict(bad)


def test_bank_windows_equal_the_histograms_of_their_values() -> None:
    rng = np.random.default_rng(11)
    bank = SketchBank(3)
    recorded: list[list[tuple[int, float]]] = []
    labels = [5, -1, 10, 500]
    for label in labels:
        sketches, values = rng.integers(0, 3, 7000), rng.exponential(1, 7000)
        chunk = [(int(s), float(v)) for s, v in zip(sketches, values, strict=True)]
        chunk += [(1, 0.0)] * 10
        for sketch, value in chunk:
            bank.add(sketch, value)
        recorded.append(chunk)
        if label != 500:
            bank.cut(label)
    chunks = bank.finish(500)
    assert chunks.labels == tuple(labels)
    for start, end in [(0, 4), (1, 4), (2, 3), (0, 1), (3, 4)]:
        window = chunks.window(start, end)
        for sketch in range(3):
            values = [v for part in recorded[start:end] for s, v in part if s == sketch]
            assert window[sketch] == Histogram.of(values)
    assert chunks.position(0) == 0 and chunks.position(10) == 3 and chunks.position(-1) == 2
    with pytest.raises(ValueError, match="cut at"):
        chunks.position(7)


def test_bank_flushes_in_bounded_batches() -> None:
    bank = SketchBank(1)
    for value in np.random.default_rng(2).exponential(1.0, 3 * FLUSH_AT_LEAST).tolist():
        bank.add(0, value)
        assert len(bank.values) < FLUSH_AT_LEAST + 1
    assert bank.finish(1).window(0, 1)[0].total == 3 * FLUSH_AT_LEAST


def test_pooling_adds_chunk_by_chunk() -> None:
    def bank(seed: int) -> tuple[object, list[float]]:
        values = np.random.default_rng(seed).exponential(1.0, 100).tolist()
        b = SketchBank(1)
        for v in values[:50]:
            b.add(0, v)
        b.cut(5)
        for v in values[50:]:
            b.add(0, v)
        return b.finish(500), values

    (a, va), (b, vb) = bank(1), bank(2)
    pooled = a.pooled_with(b)  # type: ignore[attr-defined]
    assert pooled.window(1, 2)[0] == Histogram.of(va[50:] + vb[50:])
    assert pooled.window(0, 2)[0] == Histogram.of(va + vb)


def test_window_quantiles_equal_the_histograms_quantiles() -> None:
    rng = np.random.default_rng(8)
    bank = SketchBank(4)
    for label in (5, 10, 15, 500):
        for sketch in (0, 2, 3):  # sketch 1 stays empty
            for value in rng.lognormal(0, 2, int(rng.integers(1, 400))).tolist():
                bank.add(sketch, value)
            bank.add(3, 0.0)
        if label != 500:
            bank.cut(label)
    chunks = bank.finish(500)
    levels = (0.001, 0.5, 0.95, 0.99, 0.999)
    suffix = chunks.suffix_quantiles([0, 1, 3], 4, levels)
    for start in (0, 1, 3):
        table = chunks.window_quantiles(start, 4, levels)
        assert np.array_equal(table, suffix[start], equal_nan=True)
        for sketch, histogram in enumerate(chunks.window(start, 4)):
            expected = [histogram.quantile(p) for p in levels]
            assert np.array_equal(table[sketch], expected, equal_nan=True)
    assert np.isnan(suffix[0][1]).all()


def test_exact_ranks_for_huge_counts() -> None:
    from eda_sim.stats.sketch import quantile_ranks

    counts = np.array([1, 7, 10**15, 3 * 10**17], dtype=np.int64)
    for level in (0.5, 0.07, 0.123456789):
        expected = [quantile_rank(level, int(n)) for n in counts]
        assert quantile_ranks(level, counts).tolist() == expected


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.integers(0, 9), st.integers(0, (1 << BUCKET_BITS) - 1)), unique=True),
    st.integers(1, 12),
)
def test_sketch_bounds_are_the_search_over_the_keys_sketches(
    pairs: list[tuple[int, int]], size: int
) -> None:
    """Each sketch's segment is where the keys' sketch numbers say (empty sketches, the last
    bucket of a sketch and sketches past ``size`` included)."""
    keys = np.array(sorted((sketch << BUCKET_BITS) | bucket for sketch, bucket in pairs), np.int64)
    expected = np.searchsorted(keys >> BUCKET_BITS, np.arange(size + 1), side="left")
    assert sketch_bounds(keys, size).tolist() == expected.tolist()
