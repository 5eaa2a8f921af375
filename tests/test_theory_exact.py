"""Issue 12's findings as regression tests: each exact value computed independently here.

Independent references: Erlang's recursion, σ roots found in the test with
``brentq``, M/G/1/K and GI/M/c chains written out state by state and solved
densely, and the generators of tests/test_ctmc.py. Nothing is compared with a
stored number.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import brentq
from test_ctmc import blocking_generator, dense_stationary, priority_generator

from eda_sim.scenario import scenario_from_dict
from eda_sim.scenario.budgets import MAX_CAPACITY, MAX_SERVERS
from eda_sim.theory import mmc, mmck
from eda_sim.theory.scenario import solve


def exp(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


def erlang_b(servers: int, load: float) -> float:
    b = 1.0
    for n in range(1, servers + 1):
        b = load * b / (n + load * b)
    return b


def figures(document: dict[str, Any], station: str) -> Any:
    theory = solve(scenario_from_dict(document))
    result = theory.stations[station]
    assert result is not None, theory.reasons.get(station)
    return result


# -------------------------------------------------------------------- 1. losses carried downstream


LOSSY_FRONT = {
    "stations": {
        "a": {"service": exp(1.0), "capacity": 1},
        "b": {"service": exp(1.5)},
    },
    "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
    "routing": {"a": {"b": 1.0}},
}


def test_1a_a_station_behind_a_loss_station_is_stable_and_exact() -> None:
    """`a` is M/M/1/1: it passes half the events, as a renewal stream of Exp(1) + Exp(1) gaps.

    `b` is then GI/M/1 with Erlang-2 gaps of rate 1: σ = (1 / (1 + μ(1 - σ)))², W = 1/(μ(1-σ)).
    """
    mu = 1 / 1.5
    sigma = brentq(lambda x: (1 / (1 + mu * (1 - x))) ** 2 - x, 0.0, 1 - 1e-9)
    b = figures(LOSSY_FRONT, "b")
    assert b.exact and b.method == "GI/M/1 (root σ)"
    assert b.throughput == pytest.approx(0.5, rel=1e-12)
    assert b.utilization == pytest.approx(0.75, rel=1e-12)
    assert b.W == pytest.approx(1 / (mu * (1 - sigma)), rel=1e-9)


def test_1b_fanout_subscribers_of_a_lossy_station_get_its_carried_rate() -> None:
    document = {
        "stations": {
            "a": {"service": exp(1.0), "capacity": 1},
            "s1": {"service": exp(0.5)},
            "s2": {"service": exp(0.4)},
        },
        "arrivals": {"process": "poisson", "rate": 1.5, "to": "a"},
        "routing": {"a": {"fanout": ["s1", "s2"]}},
    }
    carried = 1.5 * (1 - erlang_b(1, 1.5))  # 0.6
    theory = solve(scenario_from_dict(document))
    for name in ("s1", "s2"):
        assert theory.arrival_rates[name] == pytest.approx(carried, rel=1e-12)
        station = theory.stations[name]
        assert station is not None and station.throughput == pytest.approx(carried, rel=1e-12)


def test_1c_qna_never_gives_a_station_more_than_its_upstream_carries() -> None:
    document = {
        "stations": {
            "a": {"service": {"dist": "lognormal", "mean": 1.0, "cv": 1.5}, "capacity": 3},
            "b": {"service": {"dist": "gamma", "mean": 0.5, "cv": 0.7}},
        },
        "arrivals": {"process": "poisson", "rate": 1.2, "to": "a"},
        "routing": {"a": {"b": 1.0}},
    }
    theory = solve(scenario_from_dict(document))
    a, b = theory.stations["a"], theory.stations["b"]
    assert a is not None and b is not None
    assert b.throughput == pytest.approx(a.throughput, rel=1e-12)
    assert b.throughput < 1.2 and not b.exact and b.reason


def test_1d_system_figures_keep_littles_law_when_losses_happen_on_entry() -> None:
    """An M/M/2/5 entry station then an M/M/1: completed events' W = L / throughput, exact."""
    document = {
        "stations": {
            "a": {"servers": 2, "service": exp(1.0), "capacity": 5},
            "b": {"service": exp(0.4)},
        },
        "arrivals": {"process": "poisson", "rate": 2.5, "to": "a"},
        "routing": {"a": {"b": 1.0}},
    }
    system = solve(scenario_from_dict(document)).system
    assert system is not None and system.exact
    assert system.L == pytest.approx(system.throughput * system.W, rel=1e-12)


def test_1d_later_losses_make_the_system_w_approximate_not_wrong_labelled() -> None:
    document = {
        "stations": {
            "a": {"service": {"dist": "deterministic", "value": 0.5}},
            "b": {"service": exp(1.0), "capacity": 2},
        },
        "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
        "routing": {"a": {"b": 1.0}},
    }
    system = solve(scenario_from_dict(document)).system
    assert system is not None and not system.exact and "lost after" in system.reason


# -------------------------------------------------------------------- 2. exactness from the family


def mg1k_by_hand(lam: float, values: list[float], capacity: int) -> tuple[float, float]:
    """Loss and L of M/G/1/K with service uniform on ``values``: the departure chain by hand."""
    a = np.mean([stats.poisson.pmf(np.arange(capacity + 1), lam * v) for v in values], axis=0)
    p = np.zeros((capacity, capacity))
    for i in range(capacity):
        start = max(i - 1, 0)  # after a departure leaving i, the next leaves i - 1 + A (i >= 1)
        for j in range(start, capacity):
            arrivals = j - start
            p[i, j] = a[arrivals] if j < capacity - 1 else 1 - a[: capacity - 1 - start].sum()
    pi = dense_stationary(p - np.eye(capacity))
    rho = lam * np.mean(values)
    time_average = np.append(pi / (pi[0] + rho), 1 - 1 / (pi[0] + rho))
    return float(time_average[-1]), float(np.arange(capacity + 1) @ time_average)


def test_2_empirical_service_with_scv_one_is_not_exponential() -> None:
    """values [0, 2] have SCV 1: the station is M/G/1/K (its embedded chain), not M/M/1/K."""
    document = {
        "stations": {"s": {"service": {"dist": "empirical", "values": [0.0, 2.0]}, "capacity": 4}},
        "arrivals": {"process": "poisson", "rate": 0.8},
    }
    station = figures(document, "s")
    loss, big_l = mg1k_by_hand(0.8, [0.0, 2.0], 4)
    assert station.method == "M/G/1/K (embedded chain)" and station.exact
    assert station.loss == pytest.approx(loss, rel=1e-10)
    assert station.L == pytest.approx(big_l, rel=1e-10)


def test_2_several_servers_with_scv_one_service_are_approximate() -> None:
    document = {
        "stations": {
            "s": {
                "servers": 2,
                "service": {"dist": "empirical", "values": [0.5, 0.5, 0.5, 0.5, 3.0]},
            }
        },
        "arrivals": {"process": "poisson", "rate": 1.2},
    }
    station = figures(document, "s")
    assert (
        not station.exact and "Allen-Cunneen" in station.method and "phase-type" in station.reason
    )


def test_2_empirical_gaps_with_scv_one_are_a_renewal_stream() -> None:
    """Gaps uniform on {0, 2} (SCV 1) into an exponential server: GI/M/1 with that transform."""
    mu = 1.5
    document = {
        "stations": {"s": {"service": {"dist": "exponential", "rate": mu}}},
        "arrivals": {
            "process": "renewal",
            "interarrival": {"dist": "empirical", "values": [0.0, 2.0]},
        },
    }
    sigma = brentq(lambda x: 0.5 * (1 + math.exp(-2 * mu * (1 - x))) - x, 0.0, 1 - 1e-9)
    station = figures(document, "s")
    assert station.method == "GI/M/1 (root σ)" and station.exact
    assert station.W == pytest.approx(1 / (mu * (1 - sigma)), rel=1e-9)


def gimc_by_hand(servers: int, mu: float, gap_rate: float, depth: int) -> float:
    """Mean wait of E2/M/c: the CTMC of (number present, arrival phase), truncated, by Little."""
    states = [(n, phase) for n in range(depth + 1) for phase in (0, 1)]
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for (n, phase), i in index.items():
        if phase == 0:
            q[i, index[(n, 1)]] += gap_rate
        elif n < depth:
            q[i, index[(n + 1, 0)]] += gap_rate
        if n:
            q[i, index[(n - 1, phase)]] += min(n, servers) * mu
    np.fill_diagonal(q, -q.sum(axis=1))
    pi = dense_stationary(q)
    waiting = np.array([max(n - servers, 0) for n, _ in states])
    return float(pi @ waiting) / (gap_rate / 2)


def test_2_gi_m_c_against_a_hand_built_chain() -> None:
    servers, mu = 3, 0.5
    document = {
        "stations": {"s": {"servers": servers, "service": {"dist": "exponential", "rate": mu}}},
        "arrivals": {"process": "renewal", "interarrival": {"dist": "erlang", "k": 2, "mean": 1.0}},
    }
    station = figures(document, "s")
    assert station.method == "GI/M/c (root σ)" and station.exact
    assert station.Wq == pytest.approx(gimc_by_hand(servers, mu, 2.0, 400), rel=1e-8)


# -------------------------------------------------------------------- 3. Erlang B at any load


def test_3_erlang_b_for_deterministic_service_above_saturation() -> None:
    document = {
        "stations": {
            "s": {"servers": 2, "capacity": 2, "service": {"dist": "deterministic", "value": 1.0}}
        },
        "arrivals": {"process": "poisson", "rate": 3.0},
    }
    station = figures(document, "s")
    assert station.exact and station.method == "M/G/c/c (Erlang B, insensitive)"
    assert station.loss == pytest.approx(erlang_b(2, 3.0), rel=1e-12)  # 4.5 / 8.5 = 0.5294


# -------------------------------------------------------------------- 4. priorities with a capacity


def test_4_priorities_at_a_station_with_a_capacity_are_solved_exactly() -> None:
    rates, mus, capacity = (0.5, 0.6), (1.4, 0.9), 6
    document = {
        "stations": {"s": {"service": exp(1 / mus[0]), "capacity": capacity}},
        "classes": {
            "hi": {"priority": 0, "arrivals": {"process": "poisson", "rate": rates[0]}},
            "lo": {
                "priority": 1,
                "arrivals": {"process": "poisson", "rate": rates[1]},
                "service": {"s": exp(1 / mus[1])},
            },
        },
    }
    theory = solve(scenario_from_dict(document))
    q, states = priority_generator(rates, mus, capacity)
    pi = dense_stationary(q)
    loss = float(pi[[sum((h, lo, s > 0)) == capacity for h, lo, s in states]].sum())
    for k, name in enumerate(("hi", "lo")):
        present = np.array([(h if k == 0 else lo) + (s == k + 1) for h, lo, s in states])
        exact_l = float(pi @ present)
        figures_k = theory.classes[name]
        assert figures_k.exact and figures_k.method
        assert figures_k.L == pytest.approx(exact_l, rel=1e-9)
        assert figures_k.W == pytest.approx(exact_l / (rates[k] * (1 - loss)), rel=1e-9)
    assert theory.classes["hi"].W < theory.classes["lo"].W


# -------------------------------------------------------------------- 5. per-class theory


def test_5_classes_carry_method_exact_available_reason_and_l_equals_lambda_w() -> None:
    document = {
        "stations": {"a": {"service": exp(0.5)}, "b": {"service": exp(0.5)}},
        "classes": {
            "x": {
                "arrivals": {"process": "poisson", "rate": 0.4, "to": "a"},
                "routing": {"a": {"b": 1.0}},
            },
            "y": {"arrivals": {"process": "poisson", "rate": 0.6, "to": "b"}},
        },
    }
    theory = solve(scenario_from_dict(document))
    section = theory.to_dict()["classes"]
    for name in ("x", "y"):
        entry = section[name]
        assert {"L", "W", "throughput", "loss", "method", "exact", "available"} <= set(entry)
        assert entry["exact"] and entry["available"]
        assert entry["L"] == pytest.approx(entry["throughput"] * entry["W"], rel=1e-12)
    a, b = theory.stations["a"], theory.stations["b"]
    assert a is not None and b is not None
    assert section["x"]["W"] == pytest.approx(a.W + b.W, rel=1e-12)


# -------------------------------------------------------------------- 6. Burke and blocking


def test_6_subscribers_of_an_mmc_station_have_poisson_input() -> None:
    document = {
        "stations": {
            "p": {"servers": 2, "service": exp(1.0)},
            "s": {"service": {"dist": "lognormal", "mean": 0.5, "cv": 1.5}},
        },
        "arrivals": {"process": "poisson", "rate": 1.2, "to": "p"},
        "routing": {"p": {"fanout": ["s"]}},
    }
    station = figures(document, "s")
    rho, second = 1.2 * 0.5, 0.5**2 * (1 + 1.5**2)
    assert station.exact and station.method == "M/G/1 (Pollaczek-Khinchine)"
    assert station.Wq == pytest.approx(1.2 * second / (2 * (1 - rho)), rel=1e-12)


def test_6_the_blocking_sender_is_exact_by_the_network_ctmc() -> None:
    """`a` (M/M/1, unlimited) sends to `b` (capacity 2, blocking): the generator by hand.

    Both chains are truncated, the hand-written one at 120 waiting at `a` (a tail
    of 0.36^120), the solver's where its estimated tail is below 1e-10.
    """
    lam, mean_a, mu_b = 0.6, 0.6, 1.0
    document = {
        "stations": {
            "a": {"service": exp(mean_a)},
            "b": {"service": exp(1 / mu_b), "capacity": 2, "on_full": "block"},
        },
        "arrivals": {"process": "poisson", "rate": lam, "to": "a"},
        "routing": {"a": {"b": 1.0}},
    }
    q, states = blocking_generator(lam, 1 / mean_a, mu_b, 120)
    pi = dense_stationary(q)
    in_a = np.array([s[0] for s in states])
    blocked = np.array([s[1] for s in states])
    theory = solve(scenario_from_dict(document))
    a = theory.stations["a"]
    assert a is not None and a.exact and a.method.startswith("CTMC")
    assert a.L == pytest.approx(float(pi @ in_a), rel=1e-6)
    assert a.W == pytest.approx(float(pi @ in_a) / lam, rel=1e-6)
    assert a.blocked == pytest.approx(float(pi @ blocked) / lam, rel=1e-6)
    assert "tail" in a.reason  # the truncation says what it cut off


# -------------------------------------------------------------------- bad input: no CTMC


BLOCKING_PAIR = {
    "stations": {
        "a": {"service": exp(0.6)},
        "b": {"service": exp(1.0), "capacity": 2, "on_full": "block"},
    },
    "arrivals": {"process": "poisson", "rate": 0.6, "to": "a"},
    "routing": {"a": {"b": 1.0}},
}


def test_non_phase_type_service_gets_a_labelled_approximation_and_the_reason() -> None:
    document = {**BLOCKING_PAIR, "stations": {**BLOCKING_PAIR["stations"]}}
    document["stations"]["b"] = {
        "service": {"dist": "lognormal", "mean": 1.0, "cv": 1.5},
        "capacity": 2,
        "on_full": "block",
    }
    theory = solve(scenario_from_dict(document))
    a = theory.stations["a"]
    assert a is not None and not a.exact and "approx" in a.method
    assert "not phase-type" in a.reason
    assert theory.stations["b"] is None and "not phase-type" in theory.reasons["b"]


def test_trace_arrivals_get_no_ctmc_and_say_why(tmp_path: Path) -> None:
    times = np.cumsum(np.random.default_rng(np.random.SeedSequence(12)).exponential(1 / 0.6, 500))
    trace = tmp_path / "times.csv"
    trace.write_text("time\n" + "\n".join(f"{t:.6f}" for t in times) + "\n")
    document = {**BLOCKING_PAIR, "arrivals": {"process": "trace", "file": str(trace), "to": "a"}}
    theory = solve(scenario_from_dict(document))
    for name in ("a", "b"):
        station = theory.stations[name]
        reason = theory.reasons.get(name, "") if station is None else station.reason
        assert station is None or not station.exact
        assert reason, name


def test_a_state_space_over_the_limit_falls_back_with_the_reason() -> None:
    document = {
        "stations": {
            "a": {"service": exp(0.6)},
            "b": {
                "servers": 40,
                "capacity": 60,
                "service": {"dist": "erlang", "k": 4, "mean": 40.0},
                "on_full": "block",
            },
            "c": {"service": exp(0.5), "capacity": 50},
        },
        "arrivals": {"process": "poisson", "rate": 0.6, "to": "a"},
        "routing": {"a": {"b": 1.0}, "b": {"c": 1.0}},
    }
    started = time.perf_counter()
    theory = solve(scenario_from_dict(document))
    assert time.perf_counter() - started < 10.0  # refused from a bound, not by building
    a = theory.stations["a"]
    assert a is not None and not a.exact and "above the limit" in a.reason
    assert theory.stations["b"] is None and "above the limit" in theory.reasons["b"]


def test_two_deep_truncated_buffers_are_refused_in_seconds_not_solved_for_minutes() -> None:
    """Two unlimited M/M/1 around a blocking station at ρ = 0.8: a 121,524-state plane."""
    document = {
        "stations": {
            "a": {"service": exp(0.8)},
            "b": {"service": exp(0.72), "capacity": 3, "on_full": "block"},
            "c": {"service": exp(0.8)},
        },
        "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
        "routing": {"a": {"b": 1.0}, "b": {"c": 1.0}},
    }
    started = time.perf_counter()
    theory = solve(scenario_from_dict(document))
    assert time.perf_counter() - started < 30.0
    assert theory.stations["b"] is None and "unlimited buffer(s)" in theory.reasons["b"]


# -------------------------------------------------------------------- bounds (issue 16)


@pytest.mark.parametrize(
    "station",
    [
        {"servers": MAX_SERVERS, "service": exp(1.0)},
        {"servers": MAX_SERVERS, "service": {"dist": "erlang", "k": 2, "mean": 1.0}},
        {"servers": 1, "service": exp(1.0), "capacity": MAX_CAPACITY},
        {
            "servers": 1,
            "service": {"dist": "erlang", "k": 3, "mean": 1.0},
            "capacity": MAX_CAPACITY,
        },
        {"servers": MAX_SERVERS, "service": exp(1.0), "capacity": MAX_CAPACITY},
        {
            "servers": 2,
            "service": {"dist": "lognormal", "mean": 1.0, "cv": 2.0},
            "capacity": MAX_CAPACITY,
        },
    ],
)
def test_the_largest_servers_and_capacities_stay_bounded(station: dict[str, Any]) -> None:
    """At the scenario's upper bounds, theory answers in seconds and allocates per nothing."""
    document = {"stations": {"s": station}, "arrivals": {"process": "poisson", "rate": 0.9}}
    started = time.perf_counter()
    theory = solve(scenario_from_dict(document))
    assert time.perf_counter() - started < 5.0
    result = theory.stations["s"]
    assert result is not None
    assert result.L == pytest.approx(result.throughput * result.W, rel=1e-9)


def test_the_formulas_themselves_are_bounded_beyond_the_scenario_bounds() -> None:
    """M/M/c with 1e20 servers and M/M/1/K with a billion places: closed forms, milliseconds."""
    started = time.perf_counter()
    wide = mmc(0.9, 1.0, 10**20)
    assert wide.Wq == 0.0 and wide.L == pytest.approx(0.9, rel=1e-12)
    deep = mmck(0.9, 1.0, 1, 10**9)  # an M/M/1 to double precision
    assert deep.L == pytest.approx(9.0, rel=1e-12) and deep.loss == 0.0
    assert mmck(2.0, 1.0, 1, 10**9).loss == pytest.approx(0.5, rel=1e-9)
    assert time.perf_counter() - started < 1.0
