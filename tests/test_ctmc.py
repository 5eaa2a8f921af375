"""The exact CTMC solver against closed forms and hand-written generators.

Every exact value here is computed independently in the test: M/M/c/K by its
birth-death weights, Erlang B by its recursion, M/M/1 and Pollaczek-Khinchine in
closed form, and two small chains (blocking after service, priorities with a
buffer) written out state by state and solved densely.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from eda_sim import distributions as dists
from eda_sim.theory.ctmc import (
    STATE_LIMIT,
    MarkovClass,
    MarkovNetwork,
    MarkovStation,
    build_chain,
    state_bound,
    stationary,
)
from eda_sim.theory.ctmc_metrics import ChainFigures, chain_figures
from eda_sim.theory.families import phase_type


def law(distribution: dists.Distribution) -> tuple[np.ndarray, np.ndarray]:
    ph = phase_type(distribution)
    assert ph is not None
    return ph


def exp(rate: float) -> tuple[np.ndarray, np.ndarray]:
    return law(dists.Exponential(rate))


def solve(network: MarkovNetwork) -> ChainFigures:
    chain = build_chain(network)
    return chain_figures(chain, stationary(chain))


def one_station(
    lam: float, service: tuple[np.ndarray, np.ndarray], servers: int, limit: int, truncated: bool
) -> MarkovNetwork:
    return MarkovNetwork(
        (MarkovStation("s", servers, limit, truncated=truncated),),
        (MarkovClass("x", np.array([lam]), np.zeros((1, 1)), ((),), (service,)),),
    )


def dense_stationary(q: np.ndarray) -> np.ndarray:
    """Solve π Q = 0, Σ π = 1 by replacing one balance equation (dense LU)."""
    a = q.T.copy()
    a[-1] = 1.0
    b = np.zeros(len(q))
    b[-1] = 1.0
    return np.linalg.solve(a, b)


@pytest.mark.parametrize(("lam", "servers", "capacity"), [(0.5, 1, 4), (2.7, 3, 9), (6.0, 2, 5)])
def test_mmck_against_its_birth_death_weights(lam: float, servers: int, capacity: int) -> None:
    mu = 1.3
    weights = [1.0]
    for n in range(1, capacity + 1):
        weights.append(weights[-1] * lam / (min(n, servers) * mu))
    p = np.array(weights) / sum(weights)
    n = np.arange(capacity + 1)
    figures = solve(one_station(lam, exp(mu), servers, capacity, truncated=False))
    assert figures.L.sum() == pytest.approx(float(n @ p), rel=1e-10)
    assert figures.Lq.sum() == pytest.approx(float(np.maximum(n - servers, 0) @ p), rel=1e-10)
    assert figures.busy[0] == pytest.approx(float(np.minimum(n, servers) @ p), rel=1e-10)
    loss = 1 - figures.throughput.sum() / figures.offered.sum()
    assert loss == pytest.approx(p[-1], rel=1e-9)


def test_erlang_loss_is_insensitive_to_erlang_service() -> None:
    """M/E3/3/3: the loss is Erlang B(3, a) whatever the service law's shape."""
    lam, mean, servers = 2.0, 1.1, 3
    b = 1.0
    for n in range(1, servers + 1):
        b = lam * mean * b / (n + lam * mean * b)
    figures = solve(one_station(lam, law(dists.Erlang.from_mean(3, mean)), servers, 3, False))
    assert 1 - figures.throughput.sum() / lam == pytest.approx(b, rel=1e-10)


def test_hyperexponential_single_server_equals_pollaczek_khinchine() -> None:
    """M/H2/1, truncated: the mean wait is λE[S²]/(2(1-ρ)) to the truncation's accuracy."""
    service = dists.Hyperexponential(probs=(0.3, 0.7), rates=(0.8, 3.0))
    lam = 0.6
    second = 2 * (0.3 / 0.8**2 + 0.7 / 3.0**2)
    rho = lam * service.mean
    figures = solve(one_station(lam, law(service), 1, 200, truncated=True))
    assert figures.boundary[0] < 1e-12
    wq = figures.Lq.sum() / figures.throughput.sum()
    assert wq == pytest.approx(lam * second / (2 * (1 - rho)), rel=1e-8)


def test_jackson_network_with_feedback_has_product_form() -> None:
    """Two M/M/1 in a loop (30% back): each is M/M/1 on its traffic-equation rate."""
    gamma, back = 0.4, 0.3
    lam = gamma / (1 - back)  # both stations see λ = γ / (1 - p)
    rates = (1.5, 1.2)
    routing = np.array([[0.0, 1.0], [back, 0.0]])
    network = MarkovNetwork(
        (MarkovStation("a", 1, 90, truncated=True), MarkovStation("b", 1, 90, truncated=True)),
        (MarkovClass("x", np.array([gamma, 0.0]), routing, ((), ()), (exp(1.5), exp(1.2))),),
    )
    figures = solve(network)
    for j, mu in enumerate(rates):
        assert figures.L[0, j] == pytest.approx((lam / mu) / (1 - lam / mu), rel=1e-8)
    assert figures.exits[0] == pytest.approx(gamma, rel=1e-8)


def blocking_generator(lam: float, mu_a: float, mu_b: float, depth: int) -> tuple[np.ndarray, list]:
    """A (M/M/1, at most ``depth``) -> B (1 server, capacity 2, on_full: block), by hand.

    State (n_a, blocked, n_b): ``n_a`` present at A (the blocked event included),
    ``blocked`` whether A's server holds a finished event waiting for room at B.
    """
    states = [
        (na, bl, nb)
        for na in range(depth + 1)
        for bl in (0, 1)
        for nb in range(3)
        if not bl or (na >= 1 and nb == 2)
    ]
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for (na, bl, nb), i in index.items():
        if na < depth:
            q[i, index[(na + 1, bl, nb)]] += lam
        if na >= 1 and not bl:  # A completes: to B, or blocked when B is full
            target = (na - 1, 0, nb + 1) if nb < 2 else (na, 1, nb)
            q[i, index[target]] += mu_a
        if nb >= 1:  # B completes; a blocked sender moves in at once
            target = (na - 1, 0, nb) if bl else (na, 0, nb - 1)
            q[i, index[target]] += mu_b
    np.fill_diagonal(q, -q.sum(axis=1))
    return q, states


def test_blocking_after_service_against_a_hand_written_generator() -> None:
    lam, mu_a, mu_b, depth = 0.6, 1 / 0.6, 1.0, 120
    q, states = blocking_generator(lam, mu_a, mu_b, depth)
    pi = dense_stationary(q)
    na = np.array([s[0] for s in states])
    blocked = np.array([s[1] for s in states])
    nb = np.array([s[2] for s in states])
    network = MarkovNetwork(
        (MarkovStation("A", 1, depth, truncated=True), MarkovStation("B", 1, 2, blocking=True)),
        (MarkovClass("x", np.array([lam, 0.0]), np.array([[0.0, 1.0], [0.0, 0.0]]), ((), ()),
                     (exp(mu_a), exp(mu_b))),),
    )  # fmt: skip
    chain = build_chain(network)
    assert chain.size == len(states)
    figures = chain_figures(chain, stationary(chain))
    assert figures.L[0, 0] == pytest.approx(float(pi @ na), rel=1e-9)
    assert figures.L[0, 1] == pytest.approx(float(pi @ nb), rel=1e-9)
    assert figures.blocked[0, 0] == pytest.approx(float(pi @ blocked), rel=1e-9)
    assert figures.throughput[0, 1] == pytest.approx(float(pi @ (nb > 0)) * mu_b, rel=1e-9)


def priority_generator(rates: tuple[float, float], mus: tuple[float, float], k: int) -> tuple:
    """Non-preemptive priority M/M/1/K, two classes, by hand: (waiting hi, waiting lo, serving)."""
    states = [
        (h, lo, s)
        for h, lo, s in itertools.product(range(k), range(k), range(3))
        if (s == 0 and h == lo == 0) or (s > 0 and h + lo + 1 <= k)
    ]
    index = {x: i for i, x in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for (h, lo, s), i in index.items():
        present = h + lo + (s > 0)
        for cls, rate in enumerate(rates):
            if present >= k:
                continue
            if s == 0:
                q[i, index[(0, 0, cls + 1)]] += rate
            else:
                q[i, index[(h + (cls == 0), lo + (cls == 1), s)]] += rate
        if s:
            nxt = (h - 1, lo, 1) if h else ((0, lo - 1, 2) if lo else (0, 0, 0))
            q[i, index[nxt]] += mus[s - 1]
    np.fill_diagonal(q, -q.sum(axis=1))
    return q, states


def test_priorities_with_a_buffer_against_a_hand_written_generator() -> None:
    rates, mus, k = (0.5, 0.6), (1.4, 0.9), 6
    q, states = priority_generator(rates, mus, k)
    pi = dense_stationary(q)
    in_hi = np.array([h + (s == 1) for h, _, s in states])
    in_lo = np.array([lo + (s == 2) for _, lo, s in states])
    network = MarkovNetwork(
        (MarkovStation("s", 1, k),),
        (MarkovClass("hi", np.array([rates[0]]), np.zeros((1, 1)), ((),), (exp(mus[0]),), 0),
         MarkovClass("lo", np.array([rates[1]]), np.zeros((1, 1)), ((),), (exp(mus[1]),), 1)),
    )  # fmt: skip
    figures = solve(network)
    assert figures.L[0, 0] == pytest.approx(float(pi @ in_hi), rel=1e-10)
    assert figures.L[1, 0] == pytest.approx(float(pi @ in_lo), rel=1e-10)


def test_a_state_space_over_the_limit_is_refused_without_building_it() -> None:
    service = law(dists.Erlang.from_mean(4, 1.0))
    stations = tuple(MarkovStation(f"s{i}", 4, 200) for i in range(4))
    routing = np.diag(np.full(3, 0.9), k=1)
    classes = tuple(
        MarkovClass(f"c{k}", np.array([0.5, 0, 0, 0]), routing, ((),) * 4, (service,) * 4)
        for k in range(2)
    )
    network = MarkovNetwork(stations, classes)
    started = time.perf_counter()
    assert state_bound(network) > STATE_LIMIT
    with pytest.raises(ValueError, match="above the limit"):
        build_chain(network)
    assert time.perf_counter() - started < 2.0


def test_truncation_reports_its_boundary_mass() -> None:
    figures = solve(one_station(0.9, exp(1.0), 1, 60, truncated=True))
    # M/M/1 truncated at 60: P(N = 60 | N <= 60) = (1 - ρ) ρ^60 / (1 - ρ^61)
    assert figures.boundary[0] == pytest.approx(0.1 * 0.9**60 / (1 - 0.9**61), rel=1e-8)
    assert figures.decay[0] == pytest.approx(0.9, rel=1e-9)
    assert math.isclose(
        figures.L.sum(),
        sum(n * 0.9**n for n in range(61)) / sum(0.9**n for n in range(61)),
        rel_tol=1e-10,
    )
