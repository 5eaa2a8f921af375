"""The run's pooling of percentile sketches: cheaper ways to the same numbers.

A run compacts every replication as it arrives and pools the chunks of all of
them (:class:`~eda_sim.experiment.latency.LatencyPool`). These tests check that
each cheaper path gives exactly (``==``) what the direct computation gives: the
quantiles of every window to the end computed together, a short replication's
deferred windows, the pool that merges many replications at once or keeps only
the measured windows, and whole runs with a fixed and an automatic warm-up.
"""

from __future__ import annotations

import numpy as np
import pytest

from eda_sim.engine.latency import ReplicationLatency
from eda_sim.engine.simpy import simulate_replication
from eda_sim.experiment import latency as pooling
from eda_sim.experiment import run
from eda_sim.scenario import Scenario, scenario_from_dict
from eda_sim.stats import chunks as chunk_module
from eda_sim.stats.chunks import ChunkedSketches, SketchBank
from eda_sim.stats.sketch import Histogram

LEVELS = (0.001, 0.5, 0.95, 0.99, 0.999)


def tandem(**run_settings: object) -> Scenario:
    """Two stations in tandem, the second with a capacity (losses): 5 sketches."""
    return scenario_from_dict(
        {
            "stations": {
                "a": {"servers": 1, "service": {"dist": "exponential", "mean": 0.6}},
                "b": {
                    "servers": 2,
                    "service": {"dist": "lognormal", "mean": 1.0, "cv": 1.5},
                    "capacity": 6,
                },
            },
            "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
            "routing": {"a": {"b": 0.8}},
            "run": {"horizon": 400, "warmup": "none", "replications": 3, "seed": 9} | run_settings,
        },
        name="pooling-tandem",
    )


def random_chunks(seed: int, size: int = 4, chunks: int = 12) -> ChunkedSketches:
    """Chunks of random lognormal values (a sketch left empty, zeros in one)."""
    rng = np.random.default_rng(seed)
    bank = SketchBank(size)
    labels = [5 * (c + 1) for c in range(chunks - 1)]
    for label in labels:
        for sketch in (0, 2, 3):
            for value in rng.lognormal(0, 2, int(rng.integers(0, 60))).tolist():
                bank.add(sketch, value)
        bank.add(3, 0.0)
        bank.cut(label)
    bank.add(0, 1.0)
    return bank.finish(500)


@pytest.mark.parametrize("entries", [chunk_module.STACK_ENTRIES, 1, 300])
def test_every_suffix_at_once_equals_each_window(
    monkeypatch: pytest.MonkeyPatch, entries: int
) -> None:
    # entries < the keys: the suffixes are found a few windows (or one) at a time
    monkeypatch.setattr(chunk_module, "STACK_ENTRIES", entries)
    chunks = random_chunks(1)
    end = len(chunks.labels)
    starts = [0, 1, 2, 3, 7, 11]
    suffix = chunks.suffix_quantiles(starts, end, LEVELS)
    assert sorted(suffix) == starts
    for start in starts:
        expected = [
            [h.quantile(p) if h.total else np.nan for p in LEVELS]
            for h in chunks.window(start, end)
        ]
        assert np.array_equal(suffix[start], np.array(expected), equal_nan=True)
    assert chunks.suffix_quantiles([end], end, LEVELS) == {}


def test_pooling_many_at_once_equals_pooling_two_at_a_time() -> None:
    parts = [random_chunks(seed) for seed in range(5)]
    pairwise = parts[0]
    for part in parts[1:]:
        pairwise = pairwise.pooled_with(part)
    assert ChunkedSketches.pooled(parts) == pairwise
    with pytest.raises(ValueError, match="same points"):
        ChunkedSketches.pooled([parts[0], random_chunks(9, chunks=3)])


def test_a_short_replication_defers_its_windows_and_gives_the_same_quantiles() -> None:
    result = simulate_replication(tandem(), horizon=200.0)
    latency = result.latency
    assert latency is not None and latency.chunks is not None
    eager = latency.chunks.suffix_quantiles(
        range(len(latency.chunks.labels)), len(latency.chunks.labels), latency.layout.levels
    )
    compact = latency.compacted()
    assert compact.chunks is None and compact.deferred is latency.chunks
    for label in (0, 5, 100, 250):
        window = compact.between(label, latency.last)
        assert np.array_equal(
            window.quantiles, eager[latency.chunks.position(label)], equal_nan=True
        )
    with pytest.raises(ValueError, match="no sketches kept"):
        compact.between(5, 100)
    with pytest.raises(ValueError, match="no sketches kept"):
        compact.between(7, latency.last)  # not a cut


def test_a_long_replication_is_compacted_to_its_suffix_tables() -> None:
    result = simulate_replication(tandem(), horizon=20000.0)
    latency = result.latency
    assert latency is not None and latency.chunks is not None
    compact = latency.compacted()
    assert compact.deferred is None and compact.suffix is not None
    assert sorted(compact.suffix) == [0, *range(5, 251, 5)]
    for label in (0, 50, 250):
        first = latency.chunks.position(label)
        expected = latency.chunks.window_quantiles(
            first, len(latency.chunks.labels), latency.layout.levels
        )
        window = compact.between(label, latency.last)
        assert np.array_equal(window.quantiles, expected, equal_nan=True)


def test_a_fixed_warmup_keeps_only_the_measured_window() -> None:
    result = simulate_replication(tandem(warmup=50.0), horizon=2000.0)
    latency = result.latency
    assert latency is not None
    compact = latency.compacted(later_starts=False)
    assert compact.chunks is None and compact.deferred is None and compact.suffix == {}
    assert compact.quantiles is latency.quantiles
    with pytest.raises(ValueError, match="no sketches kept"):
        compact.between(0, latency.last)


@pytest.mark.parametrize("later_starts", [True, False])
def test_the_pool_merges_in_batches_and_gives_the_same_histograms(
    monkeypatch: pytest.MonkeyPatch, later_starts: bool
) -> None:
    monkeypatch.setattr(pooling, "POOL_BATCH", 3)
    results = [
        simulate_replication(tandem(warmup=20.0), replication=r, horizon=300.0) for r in range(7)
    ]
    pool = pooling.LatencyPool(later_starts)
    for result in results:
        kept = pool.add(result, compact=True)
        assert kept.latency is not None and kept.latency.chunks is None
    got = pool.histograms(None)
    keys = results[0].latency.layout.keys()  # type: ignore[union-attr]
    for index, key in enumerate(keys):
        expected = Histogram.merged(
            r.latency.histograms()[key]  # type: ignore[union-attr]
            for r in results
        )
        assert got[key] == expected, (index, key)
    if later_starts:
        assert pool.histograms(250)[keys[0]] == Histogram.merged(
            r.latency.histograms(250)[keys[0]]  # type: ignore[union-attr]
            for r in results
        )
    else:
        with pytest.raises(ValueError, match="cut at"):
            pool.histograms(250)


def test_the_pool_merges_large_replications_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pooling, "POOL_PENDING_BYTES", 1)
    results = [simulate_replication(tandem(), replication=r, horizon=300.0) for r in range(3)]
    pool = pooling.LatencyPool()
    for result in results:
        pool.add(result, compact=False)
        # unmerged sketches never outweigh the merged ones (amortised: each merge doubles)
        assert pool._pending_bytes < max(1, pool._pooled.nbytes if pool._pooled else 0)
    key = ("station", "b", "W")
    assert pool.histograms(0)[key] == Histogram.merged(
        r.latency.histograms(0)[key]  # type: ignore[union-attr]
        for r in results
    )


@pytest.mark.parametrize("warmup", ["auto", 30.0])
def test_a_run_pools_and_measures_as_before(warmup: object) -> None:
    """The run's figures against each replication measured directly from its own chunks."""
    scenario = tandem(warmup=warmup)
    result = run(scenario, engine="simpy", workers=1)
    kept = result.replication_results
    raw = [
        simulate_replication(
            scenario, replication=r.replication, warmup=0.0 if warmup == "auto" else None
        )
        for r in kept
    ]
    for compact, direct in zip(kept, raw, strict=True):
        assert compact.latency is not None and direct.latency is not None
        latency: ReplicationLatency = direct.latency
        if warmup == "auto":
            latency = direct.truncated(direct.path.index_at_or_after(compact.warmup)).latency  # type: ignore[union-attr, assignment]
        assert np.array_equal(compact.latency.quantiles, latency.quantiles, equal_nan=True)
    pooled = result.latency[("station", "a", "W")]
    assert pooled.total == sum(r.stations["a"].completions for r in kept)


def test_an_empty_replication_compacts() -> None:
    bank = SketchBank(3)
    bank.cut(5)
    chunks = bank.finish(500)
    assert chunks.suffix_quantiles([0, 1], 2, LEVELS)[0].shape == (3, len(LEVELS))
    assert np.isnan(chunks.suffix_quantiles([0, 1], 2, LEVELS)[1]).all()


def test_large_merges_go_a_batch_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from eda_sim.stats import merging as merging_module

    parts = [random_chunks(seed) for seed in range(4)]
    expected = [ChunkedSketches.pooled(parts).window_counts(0, 12)]
    monkeypatch.setattr(merging_module, "MERGE_BATCH", 7)
    got = ChunkedSketches.pooled(parts).window_counts(0, 12)
    assert all(np.array_equal(a, b) for a, b in zip(expected[0], got, strict=True))
    assert np.array_equal(
        parts[0].suffix_quantiles([0, 3], 12, LEVELS)[3],
        parts[0].window_quantiles(3, 12, LEVELS),
        equal_nan=True,
    )
