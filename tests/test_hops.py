"""The hops a replication observed: sparse in both engines, the same output as the dense table.

``ClassObservations.transitions`` keeps only the (from, to) pairs that occurred
(:class:`eda_sim.engine.hops.HopCounts`); these tests check the type against a
dense table built independently (a hand count of the same hops), that both
engines give equal objects (the identity tests in ``test_fast_engine.py`` also
compare whole observations with ``==``), and that a large network's
observations stay small.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from eda_sim.engine.hops import HopCounts, pooled_hops
from eda_sim.engine.simpy import simulate_replication
from eda_sim.scenario import Scenario, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent

N = 6


def _random_hops(seed: int) -> list[tuple[int, int]]:
    draw = random.Random(seed)
    return [(draw.randrange(N), draw.choice([*range(N), -1])) for _ in range(200)]


def test_from_rows_and_from_arrays_agree_with_a_hand_count() -> None:
    hops = _random_hops(1)
    dense = np.zeros((N, N + 1), dtype=np.int64)
    rows: list[Counter[int]] = [Counter() for _ in range(N)]
    for i, j in hops:
        dense[i, j if j >= 0 else N] += 1
        rows[i][j] += 1
    from_rows = HopCounts.from_rows(N, rows)
    i, j = np.nonzero(dense)
    shuffled = np.random.default_rng(2).permutation(len(i))
    from_arrays = HopCounts.from_arrays(N, i[shuffled], j[shuffled], dense[i, j][shuffled])
    assert from_rows == from_arrays
    assert (from_rows.dense() == dense).all()
    assert from_rows.rows() == {
        a: {b: int(dense[a, b]) for b in range(N + 1) if dense[a, b]}
        for a in range(N)
        if dense[a].any()
    }
    assert all(count > 0 for count in from_rows.counts)
    pairs = list(zip(from_rows.sources, from_rows.targets, strict=True))
    assert pairs == sorted(set(pairs))


def test_zero_counts_are_dropped_and_nothing_seen_is_empty() -> None:
    empty = HopCounts.from_rows(3, [Counter(), Counter(), Counter()])
    assert empty == HopCounts(3, (), (), ())
    assert not empty.dense().any()
    zeros = HopCounts.from_arrays(3, np.array([0, 1]), np.array([1, 3]), np.array([0, 4]))
    assert zeros == HopCounts(3, (1,), (3,), (4,))


def test_pooled_hops_add_the_replications_up() -> None:
    one = HopCounts.from_rows(N, [Counter({1: 2, -1: 1})] + [Counter()] * (N - 1))
    two = HopCounts.from_rows(N, [Counter({1: 3}), Counter({0: 5})] + [Counter()] * (N - 2))
    assert pooled_hops([one, two]) == {0: {1: 5, N: 1}, 1: {0: 5}}
    assert (one.dense() + two.dense() == _table(pooled_hops([one, two]))).all()


def _table(rows: dict[int, dict[int, int]]) -> np.ndarray:
    table = np.zeros((N, N + 1), dtype=np.int64)
    for i, row in rows.items():
        for j, count in row.items():
            table[i, j] = count
    return table


def _chain(stations: int) -> Scenario:
    """A tandem line of ``stations`` stations: every event visits each once, then leaves."""
    names = [f"s{i}" for i in range(stations)]
    return scenario_from_dict(
        {
            "stations": {n: {"servers": 1, "service": {"dist": "exponential", "rate": 2.0}}
                         for n in names},
            "arrivals": {"process": "poisson", "rate": 1.0, "to": names[0]},
            "routing": {a: {b: 1.0} for a, b in itertools.pairwise(names)},
            "run": {"horizon": 50.0, "warmup": "none", "replications": 1, "seed": 3},
        }
    )  # fmt: skip


def test_the_simpy_engine_counts_the_hops_of_a_tandem_line() -> None:
    scenario = _chain(4)
    result = simulate_replication(scenario, horizon=50.0, warmup=0.0, seed=3)
    hops = result.observations[scenario.classes[0].name].transitions
    table = hops.dense()
    # Every hop follows the line (s0 -> s1 -> s2 -> s3 -> exit), and each station
    # passes on no more events than the one before it did.
    assert set(zip(hops.sources, hops.targets, strict=True)) <= {(0, 1), (1, 2), (2, 3), (3, 4)}
    along = [int(table[i, i + 1]) for i in range(4)]
    assert along == sorted(along, reverse=True) and along[0] > 0


def test_a_large_network_keeps_only_the_pairs_seen() -> None:
    scenario = _chain(400)
    result = simulate_replication(scenario, horizon=50.0, warmup=0.0, seed=3)
    hops = result.observations[scenario.classes[0].name].transitions
    assert hops.stations == 400
    assert len(hops.counts) <= 400  # a dense table would hold 400 x 401 counts


def test_both_engines_give_equal_hop_counts() -> None:
    pytest.importorskip("numba")
    from eda_sim.engine.fast import simulate_replication_fast

    scenario = load_scenario(str(ROOT / "scenarios" / "jackson3.yaml"))
    slow = simulate_replication(scenario, horizon=300.0, warmup=20.0, seed=5)
    fast = simulate_replication_fast(scenario, horizon=300.0, warmup=20.0, seed=5)
    assert slow.observations == fast.observations
    assert len(fast.observations[scenario.classes[0].name].transitions.counts) > 0
