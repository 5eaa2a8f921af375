"""GI/M/c percentiles: the wait is 0 or exponential of rate cμ(1 − σ) (FIFO).

References computed here independently: for one server the visit time is
``Exp(μ(1 − σ))`` with σ found by ``brentq`` in the test; for several, the
probability of waiting is read from the chain of (number present, arrival
phase) of Erlang-2 gaps, written out state by state (an arrival happens from
phase 1, so the number it finds has the law of ``π(n, 1) / Σ π(·, 1)``); and
simulation at a stated family-wise level, widened by the sketch's relative
accuracy.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from scipy.optimize import brentq
from test_theory_renewal_feedback import e2_chain
from validation_support import Check, assert_inside, simulate

from eda_sim.scenario import scenario_from_dict
from eda_sim.stats.sketch import RELATIVE_ACCURACY
from eda_sim.theory.percentiles.scenario import latency_theory
from eda_sim.theory.scenario import solve


def renewal_station(servers: int, service_mean: float, feedback: float = 0.0) -> dict[str, Any]:
    """Erlang-2 gaps of mean 1 into ``s`` (exponential service)."""
    document: dict[str, Any] = {
        "stations": {
            "s": {"servers": servers, "service": {"dist": "exponential", "mean": service_mean}}
        },
        "arrivals": {
            "process": "renewal",
            "interarrival": {"dist": "erlang", "k": 2, "mean": 1.0},
            "to": "s",
        },
        "run": {"quantiles": [0.5, 0.9, 0.99]},
    }
    if feedback:
        document["routing"] = {"s": {"s": feedback}}
    return document


def test_gi_m_1_time_per_visit_is_exponential_of_rate_mu_one_minus_sigma() -> None:
    mu = 1.0 / 0.7
    sigma = brentq(lambda x: (2.0 / (2.0 + mu * (1.0 - x))) ** 2 - x, 0.0, 1.0 - 1e-12)
    theory = latency_theory(scenario_from_dict(renewal_station(1, 0.7)))
    for level in (0.5, 0.9, 0.99):
        value, method, exact = theory.quantile("station", "s", "W", level)
        assert exact and "GI/M/1" in method
        assert value == pytest.approx(-math.log(1.0 - level) / (mu * (1.0 - sigma)), rel=1e-9)
        wait, _, _ = theory.quantile("station", "s", "Wq", level)
        # P(Wq > t) = σ e^{−μ(1−σ)t}: the quantile is 0 below 1 − σ
        expected = max(math.log(sigma / (1.0 - level)), 0.0) / (mu * (1.0 - sigma))
        assert wait == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_gi_m_c_chance_of_waiting_against_a_hand_built_chain() -> None:
    servers, service_mean, depth = 3, 2.2, 500
    pi = e2_chain(servers, 1.0 / service_mean, 0.0, depth)
    arriving = pi[1::2]  # phase 1: the states an arrival happens from
    waits = float(arriving[servers:].sum() / arriving.sum())
    document = renewal_station(servers, service_mean)
    theory = latency_theory(scenario_from_dict(document))
    wait_law = theory.laws[("station", "s", "Wq")]
    assert wait_law.survival(0.0)[0] == pytest.approx(waits, rel=1e-8)
    means = solve(scenario_from_dict(document)).stations["s"]
    assert means is not None
    assert wait_law.mean == pytest.approx(means.Wq, rel=1e-12)
    assert theory.laws[("station", "s", "W")].mean == pytest.approx(means.W, rel=1e-12)


def test_a_station_that_feeds_back_to_itself_has_no_percentile_law() -> None:
    """Its visits' waits are not GI/M/c's (an event re-queues); the means stay exact."""
    theory = latency_theory(scenario_from_dict(renewal_station(1, 0.5, feedback=0.3)))
    assert ("station", "s", "W") not in theory.laws
    assert "non-Poisson input" in theory.reasons[("station", "s")]


def test_simulated_gi_m_c_percentiles_cover_the_exact_ones() -> None:
    """GI/M/1 and GI/M/2 with Erlang-2 gaps (ρ = 0.8, 0.75): Bonferroni at 1% over 12 checks.

    Both wait with probability above one half (0.74 and 0.56), so every wait
    percentile checked is in the exponential part, not the atom at 0.
    """
    checks = []
    for label, document, seed in (
        ("GI/M/1", renewal_station(1, 0.8), 41),
        ("GI/M/2", renewal_station(2, 1.5), 42),
    ):
        result = simulate(document, horizon=40_000.0, seed=seed)
        for metric in ("W_p50", "W_p90", "W_p99", "Wq_p50", "Wq_p90", "Wq_p99"):
            exact, method, known = result.theory_value("station", "s", metric)
            assert known and "GI/M" in method
            values = [rep.stations["s"].metric(metric) for rep in result.replication_results]
            checks.append(Check(f"{label} {metric}", values, {"exact": exact}))
    assert_inside(checks, relative_slack=RELATIVE_ACCURACY)
