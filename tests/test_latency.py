"""Percentile sketches in the engine and the runner: exact windows, pooling, verdicts.

The sketches must hold exactly the visits (and events) that the means count:
those that end inside the measured window. These tests rebuild every visit's
wait and time from the replication's event trace and compare histograms with
``==`` (the sketch is exact about *which* values it holds; only a quantile read
from it is approximate, within the sketch's stated relative accuracy).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from eda_sim.engine.latency import LatencyLayout
from eda_sim.engine.records import ReplicationResult
from eda_sim.engine.settings import PATH_INTERVALS, sketch_cuts
from eda_sim.engine.simpy import simulate_replication
from eda_sim.experiment import run
from eda_sim.scenario import Scenario, scenario_from_dict
from eda_sim.stats import mser
from eda_sim.stats.sketch import Histogram


def network(**run: Any) -> Scenario:
    """Two classes, feedback, several servers, a capacity with losses: every path of the walk."""
    return scenario_from_dict(
        {
            "stations": {
                "front": {"servers": 2, "service": {"dist": "lognormal", "mean": 0.5, "cv": 1.2}},
                "back": {
                    "servers": 1,
                    "service": {"dist": "gamma", "mean": 0.3, "cv": 0.5},
                    "capacity": 4,
                },
            },
            "classes": {
                "reads": {
                    "arrivals": {"process": "poisson", "rate": 1.5, "to": "front"},
                    "routing": {"front": {"back": 0.5}, "back": {"front": 0.2}},
                },
                "writes": {"arrivals": {"process": "poisson", "rate": 0.6, "to": "back"}},
            },
            "run": {"horizon": 1500, "warmup": "none", "replications": 3, "seed": 4, **run},
        },
        name="latency-network",
    )


Key = tuple[str, str, str]


def traced_values(result: ReplicationResult, start: float) -> dict[Key, list[float]]:
    """Every visit's W and Wq and every event's end-to-end W, ending at or after ``start``."""
    assert result.trace is not None
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    arrived: dict[tuple[int, str], float] = {}
    started: dict[tuple[int, str], float] = {}
    entered: dict[int, float] = {}
    for record in result.trace:
        key = (record.event, record.station or "")
        if record.kind == "enter":
            entered[record.event] = record.time
        elif record.kind == "arrive":
            arrived[key] = record.time
        elif record.kind == "start":
            started[key] = record.time
        elif record.kind == "depart" and record.time >= start:
            assert record.station is not None
            values[("station", record.station, "W")].append(record.time - arrived[key])
            values[("station", record.station, "Wq")].append(started[key] - arrived[key])
        elif record.kind == "exit" and record.time >= start:
            sojourn = record.time - entered[record.event]
            values[("system", "system", "W")].append(sojourn)
            values[("class", record.event_class, "W")].append(sojourn)
    return values


def assert_sketches_hold(result: ReplicationResult, start_label: int | None, start: float) -> None:
    assert result.latency is not None
    histograms = result.latency.histograms(start_label)
    expected = traced_values(result, start)
    for key, histogram in histograms.items():
        # exact above the floor its chunks folded their lowest buckets into (if any)
        assert histogram == Histogram.of(expected.get(key, [])).folded(histogram.floor), key


def test_the_sketches_hold_exactly_the_visits_of_the_window() -> None:
    scenario = network(warmup=200.0)
    result = simulate_replication(scenario, trace=True)
    assert_sketches_hold(result, None, 200.0)
    # ... and their counts are the records' completions
    assert result.latency is not None
    histograms = result.latency.histograms()
    for name, record in result.stations.items():
        assert histograms[("station", name, "W")].total == record.completions
    assert histograms[("system", "system", "W")].total == result.system.completions
    for name, record in result.classes.items():
        assert histograms[("class", name, "W")].total == record.completions


def test_a_window_cut_after_the_run_is_exact() -> None:
    scenario = network()
    result = simulate_replication(scenario, trace=True)
    assert result.path is not None
    for cut in (5, 120, 250):
        truncated = result.truncated(cut)
        assert truncated.latency is not None
        assert_sketches_hold(result, cut, float(result.path.times[cut]))
        table = result.latency.histograms(cut) if result.latency else {}
        layout = truncated.latency.layout
        for key, histogram in table.items():
            metrics = [f"{key[2]}_p{p}" for p in ("50", "95", "99")]
            got = [truncated.value(key[0], key[1], m) for m in metrics]
            assert np.array_equal(got, histogram.quantiles(layout.levels), equal_nan=True)


def test_a_window_off_the_cuts_is_refused() -> None:
    result = simulate_replication(network())
    with pytest.raises(ValueError, match="cut at"):
        result.truncated(7)


def test_mser_never_cuts_where_the_sketches_are_not_cut() -> None:
    """Every truncation MSER-5 can return on the grid is one of the sketches' cuts."""
    cuts = {0, *sketch_cuts()}
    rng = np.random.default_rng(1)
    for _ in range(300):
        shape = rng.choice(["ramp", "noise", "late"])
        series = rng.exponential(1.0, PATH_INTERVALS)
        if shape == "ramp":
            series += np.linspace(rng.uniform(0, 50), 0, PATH_INTERVALS) ** 2
        elif shape == "late":
            series[-100:] += 10
        assert mser(series).truncation in cuts


def test_the_fixed_warmup_cut_and_a_grid_cut_at_the_same_time_stay_apart() -> None:
    # warm-up 300 = grid point 100 of horizon 1500: two boundaries at one instant
    scenario = network(warmup=300.0)
    result = simulate_replication(scenario, trace=True)
    assert result.latency is not None and result.latency.chunks is not None
    assert result.latency.chunks.labels.count(-1) == 1
    assert_sketches_hold(result, None, 300.0)


@pytest.mark.parametrize("warmup", [0.0, 200.0])
def test_a_fixed_warmup_run_cuts_only_there_and_measures_the_same(warmup: float) -> None:
    """``later_starts=False`` (a run whose warm-up is fixed): one chunk per side of the warm-up.

    The measured window holds exactly its visits, and every record (percentiles
    included) equals that of the same replication cut at every MSER-5 point.
    """
    scenario = network()
    result = simulate_replication(scenario, warmup=warmup, trace=True, later_starts=False)
    assert result.latency is not None and result.latency.chunks is not None
    assert result.latency.chunks.labels == ((-1,) if warmup else ()) + (PATH_INTERVALS,)
    assert_sketches_hold(result, None, warmup)
    cut_everywhere = simulate_replication(scenario, warmup=warmup, trace=True)
    assert result.stations == cut_everywhere.stations
    assert result.system == cut_everywhere.system
    assert result.classes == cut_everywhere.classes
    with pytest.raises(ValueError, match="cut at"):
        result.truncated(5)


def test_compacted_replications_keep_every_suffix() -> None:
    result = simulate_replication(network())
    assert result.latency is not None
    compact = ReplicationResult(**{**result.__dict__, "latency": result.latency.compacted()})
    assert compact.latency is not None and compact.latency.chunks is None
    for cut in (0, 5, 100, 250):
        a, b = result.truncated(cut), compact.truncated(cut)
        assert a.latency is not None and b.latency is not None
        assert np.array_equal(a.latency.quantiles, b.latency.quantiles, equal_nan=True)
    with pytest.raises(ValueError, match="no sketches kept"):
        compact.between(5, 100)


def test_the_run_pools_every_replication_after_the_warmup() -> None:
    scenario = network(warmup="auto")
    result = run(scenario)
    kept = result.replication_results
    assert all(r.latency is not None and r.latency.chunks is None for r in kept)
    pooled = result.latency[("station", "front", "W")]
    assert pooled.total == sum(r.stations["front"].completions for r in kept)
    assert result.latency[("system", "system", "W")].total == sum(
        r.system.completions for r in kept
    )
    # each replication's quantile, then Student-t: the interval's mean is their mean
    interval = result.stations["front"]["W_p99"]
    values = [r.value("station", "front", "W_p99") for r in kept]
    assert interval.mean == pytest.approx(float(np.mean(values)), rel=1e-12)
    assert interval.n == 3


def test_batch_means_measure_each_batch_exactly() -> None:
    scenario = network(horizon=3000.0, warmup="auto")
    result = run(scenario, ci="batch-means")
    batches = result.replication_results
    assert len(batches) == 20
    totals = [b.stations["back"].completions for b in batches]
    assert result.latency[("station", "back", "W")].total == sum(totals)
    iv = result.stations["back"]["Wq_p95"]
    assert iv.n == 20
    assert iv.mean == pytest.approx(
        float(np.mean([b.value("station", "back", "Wq_p95") for b in batches])), rel=1e-12
    )


def test_layout_numbers_every_sketch_once() -> None:
    blocking = scenario_from_dict(
        {
            "stations": {
                "a": {"service": {"dist": "exponential", "rate": 2.0}},
                "b": {
                    "service": {"dist": "exponential", "rate": 2.0},
                    "capacity": 1,
                    "on_full": "block",
                },
            },
            "arrivals": {"process": "poisson", "rate": 1.0},
            "routing": {"a": {"b": 1.0}},
        }
    )
    layout = LatencyLayout.of(blocking)
    keys = layout.keys()
    assert len(keys) == layout.size == 2 * 3 + 1  # one class: its figures are the system's
    assert [layout.index(*key) for key in keys] == list(range(layout.size))
    assert layout.metrics("station")[-1] == "blocked_p99"
    result = simulate_replication(blocking, horizon=2000.0, warmup=100.0)
    assert result.latency is not None
    blocked = result.latency.histograms()[("station", "a", "blocked")]
    assert blocked.total == result.stations["a"].completions
    assert 0 < blocked.zeros < blocked.total  # some visits were blocked, most not


def test_percentiles_are_in_the_json_and_the_frame() -> None:
    result = run(network(quantiles=[0.5, 0.999]), replications=2)
    document = result.to_dict()
    assert document["quantiles"] == [0.5, 0.999]
    assert set(document["stations"]["front"]) >= {"W_p50", "W_p99.9", "Wq_p99.9"}
    assert set(document["system"]) >= {"W_p50", "W_p99.9"}
    assert set(document["classes"]["reads"]) >= {"W_p99.9"}
    histogram = document["plot_data"]["latency"]["stations"]["front"]["W"]
    assert Histogram.from_dict(histogram) == result.latency[("station", "front", "W")]
    frame = result.to_frame()
    assert {"W_p50", "Wq_p99.9"} <= set(frame.metric)
