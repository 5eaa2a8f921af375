"""Routing checks for large networks (issue 14): the same faults as before, in linear time.

The routing is now held by rows (``eda_sim.routing.SparseRows``); routing loops no
event can leave are found by a backward search from the exits, blocking cycles and
the fan-out copies' spectral radius by strongly connected components. These tests
hold that to the dense checks it replaced (kept in ``tests/routing_reference.py``
as they were): every bad-input file, every shipped scenario and hypothesis-generated
documents (the fuzz generators of ``test_fuzz.py`` and random networks with blocking
stations, fan-out and closed loops) must give the same faults, and valid documents
the same matrices. It is a regression test of the messages against the old code.
"""

from __future__ import annotations

import copy
import math
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import routing_reference
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from test_fuzz import invalid_documents

import eda_sim.scenario.build as build
from eda_sim.errors import ScenarioError
from eda_sim.routing import (
    SPARSE_SOLVE_FROM,
    Routing,
    SparseRows,
    reaching,
    strongly_connected_components,
)
from eda_sim.scenario import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "tests" / "bad_inputs").glob("*.yaml")) + sorted(
    (ROOT / "scenarios").glob("*.yaml")
)
SEED = 20261201  # chosen once

EQUIVALENCE = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def dense_checks() -> Iterator[None]:
    """Build scenarios with the routing checks as they were (dense, transitive closure)."""
    saved = build.routing_matrix, build.blocking_faults
    build.routing_matrix = routing_reference.routing_matrix  # type: ignore[assignment]
    build.blocking_faults = routing_reference.blocking_faults  # type: ignore[assignment]
    try:
        yield
    finally:
        build.routing_matrix, build.blocking_faults = saved


def outcome(make: Callable[[], Any]) -> tuple[str, Any]:
    """The faults of a refused document, or the matrices and loads of an accepted one."""
    try:
        scenario = make()
    except ScenarioError as error:
        return "refused", [(fault.path, fault.message) for fault in error.faults]
    matrices = [c.routing.matrix.tolist() for c in scenario.classes]
    fanouts = [c.routing.fanout for c in scenario.classes]
    return "accepted", (matrices, fanouts, scenario.offered_load().tolist())


def assert_same_as_dense(make: Callable[[], Any]) -> None:
    sparse = outcome(make)
    with dense_checks():
        dense = outcome(make)
    assert sparse == dense


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_every_corpus_file_and_scenario_gives_the_same_faults(path: Path) -> None:
    assert_same_as_dense(lambda: load_scenario(path))


@seed(SEED)
@EQUIVALENCE
@given(raw=invalid_documents())
def test_fuzzed_documents_give_the_same_faults(raw: dict[str, Any]) -> None:
    assert_same_as_dense(lambda: scenario_from_dict(copy.deepcopy(raw), allow_unstable=True))


NAMES = ["a", "b", "c", "d", "e", "f"]
#: Valid probabilities (halves and ones close loops), and bad ones.
GOOD = [0.5] * 6 + [1.0] * 4 + [0.25] * 2 + [0.0, 0.1, 0.7, 1e-12]
BAD = [1.2, -0.1, math.nan]
#: Rows of 0 to 3 hops whose probabilities sum to at most one.
SPLITS = {
    0: [()],
    1: [(1.0,), (0.5,), (0.25,), (1e-12,)],
    2: [(0.5, 0.5), (0.25, 0.5), (0.1, 0.7), (0.5, 0.0)],
    3: [(0.25, 0.25, 0.5), (0.1, 0.2, 0.7), (0.1, 0.1, 0.1)],
}


@st.composite
def blocking_networks(draw: st.DrawFn) -> dict[str, Any]:
    """Small networks with blocking and losing stations, fan-out, loops and bad rows."""
    names = NAMES[: draw(st.integers(1, len(NAMES)))]
    # Half the documents have no bad value or name, so that the later checks (loops
    # without an exit, fan-out radius, blocking cycles) are reached and compared.
    clean = draw(st.booleans())
    probabilities = st.sampled_from(GOOD if clean else GOOD + BAD)
    stations = {}
    for name in names:
        station: dict[str, Any] = {"service": {"dist": "exponential", "mean": 0.1}}
        if draw(st.integers(0, 3)) > 0:
            station.update(
                capacity=draw(st.integers(1, 3)), on_full=draw(st.sampled_from(["block", "lose"]))
            )
        stations[name] = station
    targets = st.sampled_from(names if clean else [*names] * 6 + ["zz"])

    def routing() -> Any:
        if draw(st.integers(0, 4)) == 0:  # a matrix in station order
            size = len(names) + (0 if clean else draw(st.sampled_from([0, 0, 0, 1])))
            return [[draw(probabilities) for _ in names] for _ in range(size)]
        rows: dict[str, Any] = {}
        for origin in draw(st.lists(targets, unique=True, max_size=6)):
            hops = draw(st.lists(targets, unique=True, max_size=3))
            if clean:  # a row summing to at most one (exactly one: no exit from it)
                split = draw(st.sampled_from(SPLITS[len(hops)]))
                row: dict[str, Any] = dict(zip(hops, split, strict=True))
            else:
                row = {target: draw(probabilities) for target in hops}
            if draw(st.integers(0, 2)) == 0:
                row["fanout"] = draw(st.lists(targets, unique=clean, max_size=2 if clean else 3))
            rows[origin] = row
        return rows

    entry = st.sampled_from(names)
    if draw(st.booleans()):
        return {
            "stations": stations,
            "arrivals": {"process": "poisson", "rate": 0.5, "to": draw(entry)},
            "routing": routing(),
        }
    classes = {
        f"k{index}": {
            "arrivals": {"process": "poisson", "rate": 0.3, "to": draw(entry)},
            "routing": routing(),
        }
        for index in range(draw(st.integers(1, 3)))
    }
    return {"stations": stations, "classes": classes}


@seed(SEED)
@EQUIVALENCE
@given(raw=blocking_networks())
def test_random_blocking_and_fanout_networks_give_the_same_faults(raw: dict[str, Any]) -> None:
    assert_same_as_dense(lambda: scenario_from_dict(copy.deepcopy(raw), allow_unstable=True))


# --- the graph algorithms against brute force ------------------------------------------


def closure(successors: list[list[int]]) -> np.ndarray:
    """``reach[i, j]``: a path of one or more edges from i to j (Warshall)."""
    size = len(successors)
    reach = np.zeros((size, size), dtype=bool)
    for node, targets in enumerate(successors):
        reach[node, targets] = True
    for middle in range(size):
        reach |= reach[:, [middle]] & reach[[middle], :]
    return reach


GRAPHS = st.integers(1, 12).flatmap(
    lambda size: st.lists(
        st.lists(st.integers(0, size - 1), unique=True, max_size=4), min_size=size, max_size=size
    )
)


@seed(SEED)
@settings(max_examples=300, deadline=None, database=None)
@given(successors=GRAPHS)
def test_strong_components_are_the_mutually_reachable_sets(successors: list[list[int]]) -> None:
    components = strongly_connected_components(successors)
    reach = closure(successors)
    size = len(successors)
    assert sorted(node for component in components for node in component) == list(range(size))
    label = {node: index for index, component in enumerate(components) for node in component}
    for i in range(size):
        for j in range(size):
            together = i == j or (reach[i, j] and reach[j, i])
            assert (label[i] == label[j]) == together
    # Reverse topological order: no edge from a component to a later one.
    for node, targets in enumerate(successors):
        assert all(label[target] <= label[node] for target in targets)


@seed(SEED)
@settings(max_examples=200, deadline=None, database=None)
@given(successors=GRAPHS, data=st.data())
def test_reaching_is_backward_reachability(successors: list[list[int]], data: Any) -> None:
    targets = data.draw(st.lists(st.integers(0, len(successors) - 1), max_size=3))
    reach = closure(successors)
    expected = [i in targets or bool(reach[i, targets].any()) for i in range(len(successors))]
    assert reaching(successors, targets).tolist() == expected


def test_a_long_chain_does_not_exhaust_the_stack() -> None:
    size = 50_000
    chain = [[i + 1] for i in range(size - 1)] + [[0]]
    assert strongly_connected_components(chain) == [list(range(size))]


# --- the draws are those of the dense tables ---------------------------------------------


def random_rows(size: int, rng: np.random.Generator, degree: int = 3) -> SparseRows:
    rows, columns, values = [], [], []
    for origin in range(size):
        targets = rng.choice(size, size=min(degree, size), replace=False)
        weights = rng.dirichlet(np.ones(len(targets))) * rng.uniform(0.3, 0.9)
        rows += [origin] * len(targets)
        columns += targets.tolist()
        values += weights.tolist()
    return SparseRows.from_entries(size, rows, columns, values)


def dense_draws(routing: Routing, station: int, rng: np.random.Generator, size: int) -> np.ndarray:
    """The next-hop draw as it was: a dense cumulative row in station-name order."""
    order, cumulative, _ = routing.draw_tables
    picks = np.searchsorted(cumulative[station], rng.random(size), side="right")
    hops = order[np.minimum(picks, len(order) - 1)]
    hops[picks >= len(order)] = -1
    return np.asarray(hops)


def test_next_hops_are_drawn_exactly_as_from_the_dense_table() -> None:
    rng = np.random.default_rng([SEED, 1])
    size = 40
    names = tuple(f"s{int(i)}" for i in rng.permutation(size))  # name order != file order
    entry = rng.dirichlet(np.ones(size))
    routing = Routing(names, random_rows(size, rng), entry)
    for station in range(size):
        drawn = routing.draw_next(station, np.random.default_rng([SEED, 2, station]), 500)
        expected = dense_draws(routing, station, np.random.default_rng([SEED, 2, station]), 500)
        assert drawn.tolist() == expected.tolist()


def test_sparse_traffic_equations_match_the_dense_solution() -> None:
    rng = np.random.default_rng([SEED, 3])
    size = SPARSE_SOLVE_FROM + 100
    names = tuple(f"s{i}" for i in range(size))
    routing = Routing(names, random_rows(size, rng), rng.dirichlet(np.ones(size)))
    dense = np.linalg.solve(np.eye(size) - routing.copies_matrix.T, 2.0 * routing.entry)
    # Both solve a well-conditioned system (every row sum <= 0.9) in double precision.
    np.testing.assert_allclose(routing.traffic(2.0), dense, rtol=1e-10)
    assert (routing.visit_ratios > 0).all()


def test_unreachable_stations_have_visit_ratio_exactly_zero() -> None:
    rows = SparseRows.from_entries(4, [0, 2], [1, 3], [0.5, 0.5])
    routing = Routing(("a", "b", "c", "d"), rows, np.array([1.0, 0.0, 0.0, 0.0]))
    assert routing.visit_ratios.tolist() == [1.0, 0.5, 0.0, 0.0]


# --- no N² anywhere in loading a large network --------------------------------------------


def chain_network(size: int) -> dict[str, Any]:
    """``size`` stations; each sends 0.3 to the next, 0.2 to one ten back; entry at all."""
    names = [f"s{i}" for i in range(size)]
    routing = {
        names[i]: {names[(i + 1) % size]: 0.3, names[(i - 10) % size]: 0.2} for i in range(size)
    }
    share = 1.0 / size
    return {
        "stations": {name: {"service": {"dist": "exponential", "mean": 0.05}} for name in names},
        "arrivals": {"process": "poisson", "rate": 1.0, "to": dict.fromkeys(names, share)},
        "routing": routing,
    }


def test_a_large_network_loads_without_a_dense_matrix() -> None:
    size = 3_000  # a dense (N, N) float matrix would be 72 MB
    document = chain_network(size)
    tracemalloc.start()
    try:
        scenario = scenario_from_dict(document)
        loads = scenario.offered_load()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24e6, f"peak {peak / 1e6:.1f} MB"
    # ρ = λ·mean with λ = share / (1 − 0.5) at every station of this symmetric network.
    np.testing.assert_allclose(loads, 1.0 / size / 0.5 * 0.05, rtol=1e-9)


def test_sparse_traffic_falls_back_to_a_direct_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    import eda_sim.routing.class_routing as class_routing

    monkeypatch.setattr(class_routing, "_ITERATIVE_TOLERANCE", 0.0)  # unreachable residual
    rng = np.random.default_rng([SEED, 4])
    size = SPARSE_SOLVE_FROM
    names = tuple(f"s{i}" for i in range(size))
    routing = Routing(names, random_rows(size, rng), rng.dirichlet(np.ones(size)))
    dense = np.linalg.solve(np.eye(size) - routing.copies_matrix.T, routing.entry)
    np.testing.assert_allclose(routing.traffic(1.0), dense, rtol=1e-12)
