"""Theory for large networks: no dense (N, N) array, no per-station work that grows with N.

``solve()`` of a 2,000-station network with general service (QNA), a capacity at
every tenth station and losses carried through the traffic equations must answer
every station, never build a dense routing matrix (a float (N, N) array is 32 MB
here) and keep its traced peak memory well below that. The
time per 10x more stations is measured by ``benchmarks/bench_scale.py`` (README /
docs "Performance"), not asserted here: the machine running the tests is shared.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest

from eda_sim.routing.class_routing import Routing
from eda_sim.scenario import scenario_from_dict
from eda_sim.theory.scenario import solve

SIZE = 2_000


def random_network(size: int, seed: int = 3) -> dict[str, Any]:
    """Out-degree 1-3, 50-80% of events stay, every station's loss-free ρ = 0.5."""
    rng = np.random.default_rng(seed)
    names = [f"s{i}" for i in range(size)]
    routing: dict[str, dict[str, float]] = {}
    copies = np.zeros((size, size))  # the test's own reference, not the code's
    for origin in range(size):
        degree = int(rng.integers(1, 4))
        targets = rng.choice(size, size=degree, replace=False)
        shares = rng.dirichlet(np.ones(degree)) * rng.uniform(0.5, 0.8)
        routing[names[origin]] = {names[t]: float(p) for t, p in zip(targets, shares, strict=True)}
        copies[origin, targets] += shares
    rates = np.linalg.solve(np.eye(size) - copies.T, np.full(size, 1.0 / size))
    stations: dict[str, Any] = {}
    for i, name in enumerate(names):
        station: dict[str, Any] = {
            "service": {"dist": "lognormal", "mean": float(0.5 / rates[i]), "cv": 1.5}
        }
        if i % 10 == 0:
            station["capacity"] = 3
        stations[name] = station
    return {
        "stations": stations,
        "arrivals": {"process": "poisson", "rate": 1.0, "to": dict.fromkeys(names, 1.0 / size)},
        "routing": routing,
    }


def test_a_large_general_network_is_solved_without_a_dense_matrix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = scenario_from_dict(random_network(SIZE))

    def refuse(self: Routing) -> np.ndarray:
        raise AssertionError("theory built a dense (N, N) routing matrix")

    monkeypatch.setattr(Routing, "matrix", property(refuse))
    monkeypatch.setattr(Routing, "copies_matrix", property(refuse))
    tracemalloc.start()
    try:
        theory = solve(scenario)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16e6, f"peak {peak / 1e6:.1f} MB"
    stations = list(theory.stations.values())
    assert len(stations) == SIZE and all(s is not None for s in stations)
    assert all(s.exact or s.reason for s in stations if s is not None)  # approximations say why
    finite = [theory.stations[f"s{i}"] for i in range(0, SIZE, 10)]
    assert all(s is not None and 0 < s.loss < 1 for s in finite)
    system = theory.system
    assert system is not None and not system.exact
    assert len(system.reason) < 400  # names a few stations, not two thousand
