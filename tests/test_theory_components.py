"""The stations on cycles and the independent groups, against ``scipy.sparse.csgraph``.

The theory finds them with the routing checks' own Tarjan search and a search of
the undirected flow graph (so that a run does not import ``scipy.sparse.csgraph``);
on seeded random flow graphs, dense and sparse, with self-loops and isolated
stations, both must give exactly what ``connected_components`` gives.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from eda_sim.theory.scenario.inputs import _on_cycle
from eda_sim.theory.scenario.markov_network import components


def _graphs() -> list[np.ndarray]:
    rng = np.random.default_rng(20261203)
    graphs = [np.zeros((1, 1), bool), np.ones((1, 1), bool), np.zeros((4, 4), bool)]
    for _ in range(60):
        n = int(rng.integers(2, 40))
        graphs.append(rng.random((n, n)) < rng.uniform(0.0, 3.0 / n))
    return graphs


@pytest.mark.parametrize("sparse", [False, True])
def test_cycles_and_groups_are_scipy_s(sparse: bool) -> None:
    for dense in _graphs():
        n = len(dense)
        flow = csr_matrix(dense) if sparse else dense
        graph = csr_matrix(dense.astype(np.int8))
        _, strong = connected_components(graph, directed=True, connection="strong")
        sizes = np.bincount(strong, minlength=n)
        expected = (sizes[strong] > 1) | np.diagonal(dense)
        assert np.array_equal(_on_cycle(flow, n), expected)
        count, weak = connected_components(graph, directed=True, connection="weak")
        groups = [np.flatnonzero(weak == label).tolist() for label in range(count)]
        inputs = SimpleNamespace(flow=flow, scenario=SimpleNamespace(stations=[None] * n))
        assert components(inputs) == groups  # type: ignore[arg-type]
