"""The memory that fast replications keep for the next one (``engine/fast/buffers.py``).

A replication takes its stream buffers and sketch arrays from the process's
pool and gives them back when it ends; the next one works in the same memory
(no new pages to map and clear). These tests check the pool itself, that the
results are the same, bit for bit, whether a replication gets new memory or
the last one's (even when that holds garbage), that two replications running
at once never share an array, and that what the pool keeps does not grow
with the horizon or the number of replications.
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("numba")

from eda_sim.engine.fast import buffers, simulate_replication_fast
from eda_sim.engine.fast.buffers import POOL, BufferPool
from eda_sim.engine.records import ReplicationResult
from eda_sim.examples import path as example_path
from eda_sim.scenario import Scenario, load_scenario, scenario_from_dict


def _address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def test_a_given_back_array_is_lent_again() -> None:
    pool = BufferPool()
    first = pool.take("values", (4, 6), np.float64)
    assert first.shape == (4, 6) and first.dtype == np.float64 and first.flags.c_contiguous
    first[:] = 1.5
    address = _address(first)
    pool.give_back("values", first)
    again = pool.take("values", (3, 7), np.float64)  # 168 bytes of the 192 kept: reused
    assert _address(again) == address and again.shape == (3, 7)
    assert pool.kept_bytes() == 0  # lent out: nothing kept meanwhile
    pool.give_back("values", again)
    assert pool.kept_bytes() == 192


def test_memory_much_larger_than_asked_for_is_not_kept() -> None:
    pool = BufferPool()
    pool.give_back("values", np.empty(1000))
    small = pool.take("values", (10,), np.float64)  # 8,000 bytes kept > twice 80
    assert small.base is not None and small.base.nbytes == 80
    pool.give_back("values", small)
    assert pool.kept_bytes() == 80


def test_take_rows_lends_every_kept_row_up_to_the_most() -> None:
    pool = BufferPool()
    pool.give_back("blocks", np.zeros((256, 128), np.uint16))
    grown = pool.take_rows("blocks", 64, (128,), np.uint16, most_rows=512)
    assert grown.shape == (256, 128)
    pool.give_back("blocks", grown)
    fresh = pool.take_rows("blocks", 64, (128,), np.uint16, most_rows=128)  # 256 > the most
    assert fresh.shape == (64, 128)


def test_two_takes_without_a_give_back_get_separate_memory() -> None:
    pool = BufferPool()
    pool.give_back("values", np.empty(100))
    a = pool.take("values", (100,), np.float64)
    b = pool.take("values", (100,), np.float64)
    assert not np.shares_memory(a, b)


def _congested() -> Scenario:
    """Many refills, a growing event pool and queue, sketches at two stations."""
    return scenario_from_dict(
        {
            "stations": {
                "q": {"servers": 1, "service": {"dist": "exponential", "mean": 0.6}},
                "p": {"servers": 20, "service": {"dist": "lognormal", "mean": 15.0, "cv": 1.5}},
            },
            "arrivals": {"process": "poisson", "rate": 1.0, "to": "q"},
            "routing": {"q": {"p": 0.7}, "p": {"q": 0.2}},
            "run": {"horizon": 20000, "warmup": "auto", "seed": 4},
        },
        name="congested",
    )


def _poison_kept() -> None:
    """Fill every array the pool keeps with bytes no run writes (NaNs, -1s, huge counts)."""
    # (the pool's own dicts: a test may look inside)
    for array in [*POOL._kept.values(), *(o for e in POOL._shared.values() for o, _ in e)]:
        array.fill(0xFF)


def assert_identical(a: ReplicationResult, b: ReplicationResult) -> None:
    assert (a.stations, a.system, a.classes) == (b.stations, b.system, b.classes)
    assert (a.warmup, a.completed_visits) == (b.warmup, b.completed_visits)
    assert a.observations == b.observations
    assert a.path is not None and b.path is not None
    for name in a.path.stations:
        assert np.array_equal(a.path.stations[name], b.path.stations[name])
    assert a.latency is not None and b.latency is not None
    assert a.latency.chunks == b.latency.chunks


@pytest.fixture
def empty_pool() -> Iterator[None]:
    buffers.release()
    yield
    buffers.release()


@pytest.mark.parametrize("make", [_congested, lambda: load_scenario(example_path("jackson3"))])
def test_the_same_replication_in_new_memory_or_in_the_last_ones(
    make: object, empty_pool: None
) -> None:
    scenario = make()  # type: ignore[operator]
    first = simulate_replication_fast(scenario, replication=1)
    address = _address(next(iter(first.path.stations.values())))
    fresh = copy.deepcopy(first)
    del first  # its sample path's memory is free again
    # (once collected: after some of the tests before this one, in the whole suite's
    # process, the dropped result sat in a reference cycle until the collector ran,
    # and the pool rightly lent new memory; what this test checks is the pool)
    gc.collect()
    assert POOL.kept_bytes() > 0  # the streams and sketches were given back
    _poison_kept()
    reused = simulate_replication_fast(scenario, replication=1)
    assert _address(next(iter(reused.path.stations.values()))) == address
    assert_identical(fresh, reused)
    buffers.release()
    assert POOL.kept_bytes() == 0
    assert_identical(fresh, simulate_replication_fast(scenario, replication=1))


def test_a_kept_result_keeps_its_sample_path(empty_pool: None) -> None:
    scenario = _congested()
    kept = simulate_replication_fast(scenario, replication=0, horizon=4000.0)
    assert kept.path is not None
    before = {name: rows.copy() for name, rows in kept.path.stations.items()}
    for replication in (1, 2, 3):  # each result dropped at once: the pool lends it again
        simulate_replication_fast(scenario, replication=replication, horizon=4000.0)
    for name, rows in kept.path.stations.items():
        assert np.array_equal(rows, before[name])


def test_shared_memory_is_lent_again_only_when_no_view_is_left() -> None:
    pool = BufferPool()
    first = pool.take_shared("path", (3, 4), np.float64)
    row = first[1]  # a view: holds the memory too
    del first
    second = pool.take_shared("path", (3, 4), np.float64)
    assert not np.shares_memory(row, second)
    address = _address(row) - 32  # (row 1 of the first array)
    del row
    third = pool.take_shared("path", (3, 4), np.float64)
    assert _address(third) == address
    assert pool.kept_bytes() == 2 * 96  # two kept while lent, at most


def test_replications_at_once_in_threads_share_no_array(empty_pool: None) -> None:
    scenario = _congested()
    alone = [simulate_replication_fast(scenario, replication=r, horizon=4000.0) for r in range(4)]
    with ThreadPoolExecutor(max_workers=2) as threads:
        together = list(
            threads.map(
                lambda r: simulate_replication_fast(scenario, replication=r, horizon=4000.0),
                range(4),
            )
        )
    for a, b in zip(alone, together, strict=True):
        assert_identical(a, b)


def test_what_the_pool_keeps_does_not_grow_with_the_horizon(empty_pool: None) -> None:
    scenario = _congested()
    simulate_replication_fast(scenario, horizon=20000.0)
    kept = POOL.kept_bytes()
    for horizon in (80000.0, 20000.0, 160000.0):
        simulate_replication_fast(scenario, horizon=horizon)
        assert POOL.kept_bytes() <= kept
