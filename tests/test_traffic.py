"""Traffic with losses (eda_sim.traffic): Erlang B, M/M/c/K in closed form, the fixed point.

Exact values are computed independently in the tests: Erlang's recursion, the
M/M/c/K distribution enumerated state by state, linear algebra on small networks.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from eda_sim.errors import UnstableError
from eda_sim.scenario import scenario_from_dict
from eda_sim.traffic import equations, erlang_b, mmck_figures, mmck_loss, network_traffic


def recursion(servers: int, load: float) -> float:
    b = 1.0
    for n in range(1, servers + 1):
        b = load * b / (n + load * b)
    return b


def enumerated_mmck(lam: float, mu: float, c: int, k: int) -> tuple[float, float, float, float]:
    """Loss, L, Lq, busy of M/M/c/K from the birth-death weights, one state at a time."""
    weights = [1.0]
    for n in range(1, k + 1):
        weights.append(weights[-1] * lam / (min(n, c) * mu))
    total = math.fsum(weights)
    p = [w / total for w in weights]
    return (
        p[k],
        math.fsum(n * q for n, q in enumerate(p)),
        math.fsum(max(n - c, 0) * q for n, q in enumerate(p)),
        math.fsum(min(n, c) * q for n, q in enumerate(p)),
    )


@pytest.mark.parametrize("servers", [1001, 2500, 6000])
@pytest.mark.parametrize("share", [0.05, 0.5, 0.97, 0.999, 1.0, 1.001, 1.03, 1.5, 4.0, 80.0])
def test_erlang_b_beyond_the_recursion_equals_the_recursion(servers: int, share: float) -> None:
    load = servers * share
    assert erlang_b(servers, load) == pytest.approx(recursion(servers, load), rel=1e-10)


def test_erlang_b_is_bounded_in_time_for_absurd_server_counts() -> None:
    started = time.perf_counter()
    for servers in (10**9, 10**20):
        # at a = c, B ~ sqrt(2 / (pi c)) (Jagerman 1974): the normal approximation of the Poisson
        assert erlang_b(servers, float(servers)) == pytest.approx(
            math.sqrt(2 / (math.pi * servers)), rel=1e-3
        )
        assert erlang_b(servers, 2.0 * servers) == pytest.approx(0.5, rel=1e-6)
        assert erlang_b(servers, 0.5 * servers) == 0.0
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("lam", [0.3, 1.0, 2.9, 3.0, 3.1, 12.0])
@pytest.mark.parametrize(("servers", "extra"), [(1, 0), (1, 1), (1, 9), (2, 0), (3, 5), (7, 60)])
def test_mmck_closed_form_equals_the_enumerated_chain(lam: float, servers: int, extra: int) -> None:
    got = mmck_figures(lam, 0.8, servers, servers + extra)
    for value, exact in zip(got, enumerated_mmck(lam, 0.8, servers, servers + extra), strict=True):
        assert value == pytest.approx(exact, rel=1e-10, abs=1e-300)


def test_mmck_closed_form_allocates_nothing_per_place() -> None:
    started = time.perf_counter()
    loss, big_l, lq, busy = mmck_figures(0.9, 1.0, 1, 10**9)  # an M/M/1 to double precision
    assert (loss, big_l, lq, busy) == pytest.approx((0.0, 9.0, 8.1, 0.9), rel=1e-12)
    loss, big_l, _, _ = mmck_figures(2.0, 1.0, 1, 10**9)  # overloaded: the buffer is full
    assert loss == pytest.approx(0.5, rel=1e-9) and big_l == pytest.approx(10**9 - 1, rel=1e-9)
    assert mmck_loss(5e8, 1.0, 10**9, 10**9) == 0.0
    assert time.perf_counter() - started < 0.5


def test_losses_are_carried_downstream() -> None:
    """Issue 12, case 1a: `a` (capacity 1, mean 1) in front of `b` (mean 1.5), λ = 1.

    `a` is M/M/1/1: it refuses B(1, 1) = 1/2 of the arrivals, so `b` is offered 0.5
    and its load is 0.75: stable, although its load without losses would be 1.5.
    """
    scenario = scenario_from_dict(
        {
            "stations": {
                "a": {"service": {"dist": "exponential", "mean": 1.0}, "capacity": 1},
                "b": {"service": {"dist": "exponential", "mean": 1.5}},
            },
            "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
            "routing": {"a": {"b": 1.0}},
        }
    )
    assert scenario.traffic.loss[0] == pytest.approx(0.5, rel=1e-12)
    assert scenario.arrival_rates()[0].tolist() == pytest.approx([1.0, 0.5], rel=1e-12)
    assert scenario.carried_load().tolist() == pytest.approx([0.5, 0.75], rel=1e-12)
    assert scenario.unstable_stations() == []


def test_the_stability_check_gives_each_stations_carried_load() -> None:
    document = {
        "stations": {
            "a": {"service": {"dist": "exponential", "mean": 1.0}, "capacity": 1},
            "b": {"service": {"dist": "exponential", "mean": 2.5}},
        },
        "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
        "routing": {"a": {"b": 1.0}},
    }
    with pytest.raises(UnstableError) as caught:  # b carries 0.5 × 2.5 = 1.25
        scenario_from_dict(document)
    assert "stations.b: offered load ρ = 1.25 >= 1" in str(caught.value)
    assert "a=0.5, b=1.25" in str(caught.value)


def test_fixed_point_with_feedback_solves_the_equations() -> None:
    """Two M/M/1/K stations in a loop: the result satisfies λ = γ + Mᵀ(λ(1 − loss))."""
    copies = np.array([[0.0, 0.8], [0.5, 0.0]])

    def loss_model(offered: np.ndarray) -> np.ndarray:
        return np.array([mmck_loss(float(offered[0, j]), 1.0, 1, 3) for j in range(2)])

    flows = network_traffic([[1.0, 0.0]], [copies], loss_model)
    lam, loss = flows.offered[0], flows.loss
    assert flows.converged
    assert loss == pytest.approx(loss_model(flows.offered), rel=1e-10)
    assert lam == pytest.approx(np.array([1.0, 0.0]) + copies.T @ (lam * (1 - loss)), rel=1e-10)
    assert flows.carried[0] == pytest.approx(lam * (1 - loss), rel=1e-12)


def test_blocking_stations_refuse_only_external_arrivals() -> None:
    copies = np.array([[0.0, 1.0], [0.0, 0.0]])
    flows = network_traffic(
        [[1.0, 0.4]], [copies], lambda offered: np.array([0.0, 0.25]), blocking=[False, True]
    )
    # b is offered 1.0 from a (all admitted: the senders wait) and 0.4 from outside (a quarter lost)
    assert flows.offered[0].tolist() == pytest.approx([1.0, 1.4])
    assert flows.carried[0].tolist() == pytest.approx([1.0, 1.3])


def test_sparse_and_dense_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    n = 40
    copies = np.zeros((n, n))
    for i in range(n):
        targets = rng.choice(n, size=3, replace=False)
        copies[i, targets] = rng.dirichlet(np.ones(3)) * 0.8
    gamma = rng.random((2, n))

    def loss_model(offered: np.ndarray) -> np.ndarray:
        total = offered.sum(axis=0)
        return np.array([mmck_loss(float(x), 4.0, 2, 4) if j % 3 == 0 else 0.0
                         for j, x in enumerate(total)])  # fmt: skip

    dense = network_traffic(gamma, [copies, copies.T / 2], loss_model)
    monkeypatch.setattr(equations, "DENSE_LIMIT", 10)
    sparse = network_traffic(gamma, [copies, copies.T / 2], loss_model)
    assert sparse.offered == pytest.approx(dense.offered, rel=1e-10)
    assert sparse.loss == pytest.approx(dense.loss, rel=1e-10)


def test_ten_thousand_stations_are_solved_sparsely() -> None:
    """Out-degree 3, a capacity at every tenth station: seconds, not the O(N³) of a dense solve."""
    from scipy.sparse import csr_matrix

    rng = np.random.default_rng(7)
    n = 10_000
    rows = np.repeat(np.arange(n), 3)
    cols = rng.integers(0, n, size=3 * n)
    probs = (rng.dirichlet(np.ones(3), size=n) * 0.9).ravel()
    copies = csr_matrix((probs, (rows, cols)), shape=(n, n))
    gamma = np.zeros((1, n))
    gamma[0, rng.choice(n, size=100, replace=False)] = 0.05
    finite = np.arange(0, n, 10)

    def loss_model(offered: np.ndarray) -> np.ndarray:
        loss = np.zeros(n)
        for j in finite:
            loss[j] = mmck_loss(float(offered[0, j]), 1.0, 1, 2)
        return loss

    started = time.perf_counter()
    flows = network_traffic(gamma, [copies], loss_model)
    elapsed = time.perf_counter() - started
    assert flows.converged and elapsed < 10.0
    lam = flows.offered[0]
    assert lam == pytest.approx(gamma[0] + copies.T @ flows.carried[0], rel=1e-9, abs=1e-12)


def test_a_loop_no_event_leaves_is_refused() -> None:
    with pytest.raises(ValueError, match="singular"):
        network_traffic([[1.0, 0.0]], [np.array([[0.0, 1.0], [1.0, 0.0]])])
