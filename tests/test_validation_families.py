"""Layer 3: simulation against every exact single-station family of queueing theory.

Each test simulates one family (M/M/1/K, M/M/c/K, the Erlang loss system with
exponential and with lognormal service, M/G/1, M/D/1, M/E3/1, M/H2/1 and a
two-class M/G/1), runs seeded independent replications and checks that the exact
value of every checked metric lies inside its Student-t confidence interval over
the replication means. The exact value is taken twice: from the scenario solver
(``result.theory``, which must say ``exact``) and from the family's own formula in
:mod:`eda_sim.theory`, so that both the solver's choice of formula and the engine
are tested; the two must agree to rounding.

The intervals are Bonferroni-corrected so that each test has a 99% family-wise
level: with ``m`` checked metrics, each interval has level ``1 − 0.01/m`` (the
solver's and the formula's value are checked against the same interval, so they
count once). A test of this kind fails by chance with probability at most 1%;
the seeds were chosen once and are never changed after a failure (a failure
means: look for a bug).

Run sizes: about half a million service visits per family, warm-up 5% of the
horizon, so the file runs in well under a minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from validation_support import Check, assert_inside, simulate

from eda_sim.results import RunResult
from eda_sim.theory import StationTheory, erlang_b, md1, mek1, mg1, mmck

QUEUE_METRICS = ("L", "Lq", "W", "Wq")


def single_station(
    service: dict[str, Any], rate: float, *, servers: int = 1, capacity: int | None = None
) -> dict[str, Any]:
    """A one-station scenario document with Poisson arrivals at ``rate``."""
    station: dict[str, Any] = {"servers": servers, "service": service}
    if capacity is not None:
        station["capacity"] = capacity
    return {"stations": {"q": station}, "arrivals": {"process": "poisson", "rate": rate}}


def replication_values(result: RunResult, metric: str, station: str = "q") -> list[float]:
    return [rep.stations[station].metric(metric) for rep in result.replication_results]


def station_checks(
    result: RunResult,
    formula: StationTheory,
    metrics: Sequence[str],
    *,
    station: str = "q",
) -> list[Check]:
    """Checks of ``metrics`` against the solver's and the formula's values.

    The solver must mark the station exact and give the formula's numbers.
    """
    assert result.theory is not None
    solver = result.theory.stations[station]
    assert solver is not None
    assert solver.exact is True, solver.method
    checks = []
    for metric in metrics:
        expected = getattr(formula, metric)
        assert getattr(solver, metric) == pytest.approx(expected, rel=1e-9, abs=1e-12), metric
        checks.append(
            Check(
                f"{station}.{metric}",
                replication_values(result, metric, station),
                {"solver": getattr(solver, metric), "formula": expected},
            )
        )
    return checks


def erlang_loss_system(arrival_rate: float, service_mean: float, servers: int) -> StationTheory:
    """M/G/c/c from Erlang's loss formula: loss B(c, a), L = a(1 − B), W = E[S], no queue."""
    a = arrival_rate * service_mean
    blocking = erlang_b(servers, a)
    carried = a * (1 - blocking)
    return StationTheory(
        L=carried,
        Lq=0.0,
        W=service_mean,
        Wq=0.0,
        utilization=carried / servers,
        throughput=arrival_rate * (1 - blocking),
        loss=blocking,
        method="Erlang B",
        exact=True,
    )


# Seeds below were chosen once and are never changed after a failure.


def test_mm1k_matches_finite_buffer_formula() -> None:
    """M/M/1/K with K = 5 at offered load 0.9."""
    result = simulate(
        single_station({"dist": "exponential", "rate": 1.0}, 0.9, capacity=5),
        horizon=40_000,
        seed=201,
    )
    formula = mmck(0.9, 1.0, 1, 5)
    assert_inside(station_checks(result, formula, (*QUEUE_METRICS, "loss")))


def test_mmck_matches_finite_buffer_formula() -> None:
    """M/M/2/6 at offered load 0.9 per server."""
    result = simulate(
        single_station({"dist": "exponential", "rate": 1.0}, 1.8, servers=2, capacity=6),
        horizon=20_000,
        seed=202,
    )
    formula = mmck(1.8, 1.0, 2, 6)
    assert_inside(station_checks(result, formula, (*QUEUE_METRICS, "loss")))


def test_erlang_loss_system_matches_erlang_b() -> None:
    """M/M/3/3 at offered load 2.5 Erlangs: loss is Erlang B, nobody waits."""
    result = simulate(
        single_station({"dist": "exponential", "rate": 1.0}, 2.5, servers=3, capacity=3),
        horizon=15_000,
        seed=203,
    )
    formula = erlang_loss_system(2.5, 1.0, 3)
    assert formula.loss == pytest.approx(mmck(2.5, 1.0, 3, 3).loss, rel=1e-12)
    assert_inside(station_checks(result, formula, ("loss", "L", "W")))
    # Capacity == servers: a queue never forms, on every sample path.
    assert max(replication_values(result, "Lq")) <= 1e-12
    assert max(replication_values(result, "Wq")) <= 1e-12


def test_erlang_loss_formula_is_insensitive_to_the_service_distribution() -> None:
    """M/G/3/3 with lognormal service (mean 1, cv 2): the loss is still Erlang B.

    Erlang's loss formula holds for any service distribution with the given mean
    (insensitivity; B. A. Sevastyanov, "An ergodic theorem for Markov processes and
    its application to telephone systems with refusals", Theory Probab. Appl. 2,
    1957), and so do L = a(1 − B) and W = E[S]. The scenario solver knows this and
    labels the station "M/G/c/c (Erlang B, insensitive)", exact; the comparison is
    with ``erlang_b`` directly, and with the solver's numbers, which coincide.
    """
    result = simulate(
        single_station({"dist": "lognormal", "mean": 1.0, "cv": 2.0}, 2.5, servers=3, capacity=3),
        horizon=15_000,
        seed=204,
    )
    formula = erlang_loss_system(2.5, 1.0, 3)
    assert result.theory.stations["q"].method == "M/G/c/c (Erlang B, insensitive)"
    assert_inside(station_checks(result, formula, ("loss", "L", "W")))


def test_mg1_gamma_matches_pollaczek_khinchine() -> None:
    """M/G/1 with gamma service, mean 1 and cv 1.5, at load 0.7."""
    result = simulate(
        single_station({"dist": "gamma", "mean": 1.0, "cv": 1.5}, 0.7),
        horizon=40_000,
        seed=205,
    )
    assert_inside(station_checks(result, mg1(0.7, 1.0, 1.5**2), QUEUE_METRICS))


def test_md1_matches_pollaczek_khinchine() -> None:
    """M/D/1 at load 0.8."""
    result = simulate(
        single_station({"dist": "deterministic", "value": 1.0}, 0.8), horizon=40_000, seed=206
    )
    assert_inside(station_checks(result, md1(0.8, 1.0), QUEUE_METRICS))


def test_me31_matches_pollaczek_khinchine() -> None:
    """M/E3/1 (Erlang service, three phases, mean 1) at load 0.8."""
    result = simulate(
        single_station({"dist": "erlang", "k": 3, "mean": 1.0}, 0.8), horizon=40_000, seed=207
    )
    assert_inside(station_checks(result, mek1(0.8, 1.0, 3), QUEUE_METRICS))


def test_mh21_matches_pollaczek_khinchine() -> None:
    """M/H2/1 (two-phase hyperexponential service, mean 1, cv 2) at load 0.7."""
    result = simulate(
        single_station({"dist": "hyperexponential", "mean": 1.0, "cv": 2.0}, 0.7),
        horizon=40_000,
        seed=208,
    )
    assert_inside(station_checks(result, mg1(0.7, 1.0, 2.0**2), QUEUE_METRICS))


def test_two_classes_with_different_service_are_mg1_with_the_mixture() -> None:
    """Two Poisson classes, lognormal and constant service, at one FIFO server.

    The merged arrivals are Poisson(0.8) and each one's service time is drawn from
    the rate-weighted mixture, independently of everything else, so the station is
    exactly M/G/1 with the mixture's first two moments. Each class waits the same
    Wq and then its own service: W_k = Wq + E[S_k].
    """
    orders, clicks = 0.3, 0.5  # rates
    orders_mean, orders_cv, clicks_value = 1.2, 1.5, 0.6
    document = {
        "stations": {"bus": {"servers": 1, "service": {"dist": "deterministic", "value": 1.0}}},
        "classes": {
            "orders": {
                "arrivals": {"process": "poisson", "rate": orders},
                "service": {"bus": {"dist": "lognormal", "mean": orders_mean, "cv": orders_cv}},
            },
            "clicks": {
                "arrivals": {"process": "poisson", "rate": clicks},
                "service": {"bus": {"dist": "deterministic", "value": clicks_value}},
            },
        },
    }
    result = simulate(document, horizon=40_000, seed=209)

    rate = orders + clicks
    mean = (orders * orders_mean + clicks * clicks_value) / rate
    second = (orders * orders_mean**2 * (1 + orders_cv**2) + clicks * clicks_value**2) / rate
    formula = mg1(rate, mean, second / mean**2 - 1)
    checks = station_checks(result, formula, QUEUE_METRICS, station="bus")

    assert result.theory is not None
    for name, service_mean in (("orders", orders_mean), ("clicks", clicks_value)):
        solver_w = result.theory.classes[name]["W"]
        expected = formula.Wq + service_mean
        assert solver_w == pytest.approx(expected, rel=1e-9)
        values = [rep.classes[name].W for rep in result.replication_results]
        checks.append(Check(f"{name}.W", values, {"solver": solver_w, "formula": expected}))
    assert_inside(checks)
