"""Collapsed low buckets: the guarantee against exact order statistics, and the floor rule.

A histogram with a floor (``eda_sim.stats.sketch``) must, for every level,
either report a quantile within the relative accuracy of the exact order
statistic (Hyndman & Fan type 1 on the stored values), or say that the
quantile is collapsed, and then the exact order statistic does lie in the
floor's bucket or below. These tests check it on stored samples, in the regime
where folding happens (a bank given the run's levels), and check the floor rule
of ``eda_sim.stats.collapse`` and that folding merges exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eda_sim.stats.chunks import ChunkedSketches, SketchBank
from eda_sim.stats.collapse import (
    COLLAPSE_AFTER,
    COLLAPSE_OCTAVES,
    ZERO_MARGIN,
    chunk_floors,
)
from eda_sim.stats.sketch import (
    BUCKET_BITS,
    RELATIVE_ACCURACY,
    Histogram,
    bucket_bounds,
    bucket_of,
    bucket_value,
    quantile_rank,
)


def exact(values: np.ndarray, level: float) -> float:
    """The ``⌈p·n⌉``-th smallest value (numpy's inverted_cdf)."""
    return float(np.sort(values)[quantile_rank(level, values.size) - 1])


def assert_reported_or_collapsed(histogram: Histogram, values: np.ndarray, level: float) -> bool:
    """The guarantee for one level; returns whether the quantile was collapsed."""
    truth, got = exact(values, level), histogram.quantile(level)
    if histogram.collapsed(level):
        _, high = bucket_bounds([histogram.floor])
        assert math.isnan(got) and 0.0 < truth < high[0]
        return True
    assert truth == got == 0.0 or abs(got - truth) <= RELATIVE_ACCURACY * truth
    return False


samples = st.lists(
    st.one_of(
        st.just(0.0),
        st.floats(min_value=1e-12, max_value=1e-3),
        st.floats(min_value=1e-3, max_value=1e6),
    ),
    min_size=1,
    max_size=300,
)


@settings(max_examples=200, deadline=None)
@given(samples, st.floats(min_value=0.001, max_value=0.999), st.floats(-12, 6))
def test_a_folded_histogram_reports_within_accuracy_or_says_collapsed(
    values: list[float], level: float, floor_at: float
) -> None:
    data = np.array(values)
    folded = Histogram.of(data).folded(int(bucket_of([10.0**floor_at])[0]))
    assert folded.total == data.size and folded.zeros == int(np.sum(data == 0.0))
    assert_reported_or_collapsed(folded, data, level)


def test_a_bank_with_levels_folds_and_every_window_keeps_the_guarantee() -> None:
    """Chunks whose times shrink and grow (a start-up, a burst): some windows collapse."""
    rng = np.random.default_rng(2024)
    levels = (0.05, 0.5, 0.99)
    bank = SketchBank(2, levels)
    stored: list[list[np.ndarray]] = []
    for label, scale in enumerate((1.0, 1.0, 30.0, 1.0, 0.001, 1.0), start=1):
        parts = [
            rng.exponential(scale, 4000),
            np.concatenate([np.zeros(900), rng.gamma(3.0, scale, 3100)]),
        ]
        for sketch, values in enumerate(parts):
            for value in values.tolist():
                bank.add(sketch, value)
        bank.cut(label)
        stored.append(parts)
    chunks = bank.finish(7)
    assert any(floor.any() for floor in chunks.floors)  # the regime where folding happens
    outcomes = []
    for start in range(6):
        table = chunks.window_quantiles(start, 6, levels)
        histograms = chunks.window(start, 6)
        for sketch in range(2):
            values = np.concatenate([parts[sketch] for parts in stored[start:6]])
            for column, level in enumerate(levels):
                collapsed = assert_reported_or_collapsed(histograms[sketch], values, level)
                got = table[sketch, column]
                assert math.isnan(got) if collapsed else got == histograms[sketch].quantile(level)
                outcomes.append(collapsed)
    assert any(outcomes) and not all(outcomes)  # both outcomes occur


def test_the_floor_lies_below_the_positives_quantile_at_half_the_lowest_level() -> None:
    rng = np.random.default_rng(5)
    values = np.concatenate([np.zeros(500), rng.exponential(1.0, 50_000)])
    histogram = Histogram.of(values)
    keys, counts = histogram.buckets | (3 << BUCKET_BITS), histogram.counts
    floors = chunk_floors(keys, counts, 4, (0.2, 0.9))
    positive = np.sort(values[values > 0])
    # level 0.2 of 50,500 values, 500 of them zeros, margin ⌈0.1·50,500⌉: half that rank
    needed = quantile_rank(0.2, values.size) - 500 - quantile_rank(ZERO_MARGIN, values.size)
    target = positive[(needed + 1) // 2 - 1]
    expected = int(bucket_of([target])[0]) - 128 * COLLAPSE_OCTAVES
    assert floors.tolist() == [0, 0, 0, expected]
    assert chunk_floors(keys, counts, 4, ()).tolist() == [0, 0, 0, 0]  # no levels: no floor


def test_a_sketch_with_few_buckets_is_kept_whole() -> None:
    first = int(bucket_of([1.0])[0])
    values = bucket_value(np.arange(first, first + COLLAPSE_AFTER))  # one value a bucket
    histogram = Histogram.of(values)
    assert chunk_floors(histogram.buckets, histogram.counts, 1, (0.5,)).tolist() == [0]
    more = Histogram.of(np.concatenate([values, [1e-6]]))
    assert chunk_floors(more.buckets, more.counts, 1, (0.5,)).tolist() != [0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_folding_then_pooling_is_pooling_then_folding(seed: int) -> None:
    rng = np.random.default_rng(seed)
    levels = (0.5,)
    parts = []
    for scale in (1.0, 1e-3, 10.0):
        bank = SketchBank(1, levels)
        for value in rng.exponential(scale, 5000).tolist():
            bank.add(0, value)
        parts.append(bank.finish(1))
    pooled = ChunkedSketches.pooled(parts)
    floor = max(p.floor_of(0, 1)[0] for p in parts)
    unfolded = Histogram.merged([Histogram(p.keys[0], p.counts[0]) for p in parts]).folded(
        int(floor)
    )
    assert pooled.window(0, 1)[0] == unfolded
    assert parts[0].pooled_with(parts[1]) == ChunkedSketches.pooled(parts[:2])


def test_json_keeps_the_floor_and_refuses_a_bucket_below_it() -> None:
    folded = Histogram.of([0.0, 1e-5, 1.0, 2.0]).folded(int(bucket_of([0.5])[0]))
    assert Histogram.from_dict(folded.to_dict()) == folded
    bad = {
        **folded.to_dict(),
        "buckets": [0, 5, *folded.buckets[1:].tolist()][: len(folded.counts)],
    }
    with pytest.raises(ValueError):
        Histogram.from_dict(bad)
    with pytest.raises(ValueError, match="floor"):
        Histogram.from_dict({**folded.to_dict(), "floor": -3})
    low, _ = folded.mean_bounds()
    assert low <= (0.0 + 1e-5 + 1.0 + 2.0) / 4


def test_a_level_near_the_share_of_zeros_keeps_every_positive_bucket() -> None:
    """Wq at p50 with half its values zero: a window's p50 may be its lowest positive wait."""
    rng = np.random.default_rng(8)
    values = np.concatenate([np.zeros(5000), rng.exponential(1.0, 5000)])
    histogram = Histogram.of(values)
    assert chunk_floors(histogram.buckets, histogram.counts, 1, (0.5, 0.99)).tolist() == [0]
    assert chunk_floors(histogram.buckets, histogram.counts, 1, (0.9,)).tolist() != [0]


def test_a_percentile_collapsed_in_one_replication_gets_no_interval() -> None:
    """Kept over the other replications only, its interval would leave out the lowest values."""
    from dataclasses import replace as replaced
    from pathlib import Path

    from eda_sim.engine.simpy import simulate_replication
    from eda_sim.experiment.latency import collapsed_notes, withhold_collapsed
    from eda_sim.results import summarize
    from eda_sim.scenario import load_scenario

    scenario = load_scenario(Path(__file__).parent.parent / "scenarios" / "mm1.yaml")
    samples = [
        simulate_replication(scenario, replication=r, horizon=400.0, warmup=0.0) for r in range(3)
    ]
    levels = (0.5, 0.95, 0.99)
    result = summarize(scenario.name, "simpy", samples, confidence=0.95, requested=3, levels=levels)
    station = next(iter(result.stations))
    assert math.isfinite(result.stations[station]["W_p50"].low)
    first = samples[0].latency
    assert first is not None and tuple(first.layout.levels) == levels
    quantiles = first.quantiles.copy()
    sketches = list(first.layout.keys())
    sketch = sketches.index(("station", station, "W"))
    quantiles[sketch, 0] = -math.inf  # engine.latency.COLLAPSED: W_p50 fell below the floor
    samples[0] = replaced(samples[0], latency=replaced(first, quantiles=quantiles))
    assert withhold_collapsed(result, samples[1:]) == result  # nothing collapsed: unchanged
    withheld = withhold_collapsed(result, samples)
    assert math.isnan(withheld.stations[station]["W_p50"].mean)
    assert withheld.stations[station]["W_p99"] == result.stations[station]["W_p99"]
    assert withheld.system == result.system
    [note] = collapsed_notes(samples)
    assert note.startswith(f"station.{station}.W_p50: ") and "1 of 3 samples" in note
