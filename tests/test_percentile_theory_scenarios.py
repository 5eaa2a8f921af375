"""Exact percentiles for whole scenarios: which stations, classes and systems get one, and why not.

The values are checked against independent computations (closed forms written
out here, numerical convolution), and in a validation test against simulation
(the replications' percentiles must cover the exact values, Bonferroni 1%).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.integrate import quad
from validation_support import Check, assert_inside, simulate

from eda_sim import distributions as dists
from eda_sim.scenario import load_scenario, scenario_from_dict
from eda_sim.stats.sketch import RELATIVE_ACCURACY
from eda_sim.theory.percentiles import mg1_wait
from eda_sim.theory.percentiles.scenario import latency_theory

EXP = {"dist": "exponential"}
ROOT = Path(__file__).resolve().parent.parent


def one_station(service: dict[str, Any], **station: Any) -> dict[str, Any]:
    return {
        "stations": {"a": {"service": service, **station}},
        "arrivals": {"process": "poisson", "rate": 0.7},
    }


def test_the_shipped_checkout_has_exact_stations_routes_and_system() -> None:
    scenario = load_scenario("scenarios/slo_checkout.yaml")
    theory = latency_theory(scenario)
    assert not theory.reasons
    # M/M/1 payment: λ = 8, μ = 10; P(W > t) = e^{−2t}, P(Wq > t) = 0.8 e^{−2t}
    value, _, exact = theory.quantile("station", "payment", "W", 0.99)
    assert exact and value == pytest.approx(math.log(100) / 2, rel=1e-12)
    assert theory.quantile("station", "payment", "Wq", 0.95)[0] == pytest.approx(
        math.log(0.8 / 0.05) / 2, rel=1e-12
    )
    # checkout: gateway (40 − 28), cart (35 − 28), payment (10 − 8), order (20 − 8)
    rates = [12.0, 7.0, 2.0, 12.0]

    def convolved(t: float) -> float:  # P(sum > t) by nested numerical convolution
        def density(x: float, rest: list[float]) -> float:
            if len(rest) == 1:
                return rest[0] * math.exp(-rest[0] * x) if x >= 0 else 0.0
            return quad(lambda u: rest[0] * math.exp(-rest[0] * u) * density(x - u, rest[1:]),
                        0, x, epsabs=1e-13)[0]  # fmt: skip

        return 1.0 - quad(lambda x: density(x, rates), 0, t, epsabs=1e-12)[0]

    law = theory.laws[("class", "checkout", "W")]
    for t in (0.3, 1.0, 2.5):
        assert law.ccdf(t) == pytest.approx(convolved(t), rel=1e-6)
    p99 = theory.quantile("class", "checkout", "W", 0.99)[0]
    assert convolved(p99) == pytest.approx(0.01, rel=1e-5)
    # the system: checkouts (8/s) and browsing (20/s) mixed by rate
    browse = theory.laws[("class", "browse", "W")]
    system = theory.laws[("system", "system", "W")]
    for t in (0.1, 0.5, 2.0):
        assert system.ccdf(t) == pytest.approx(
            (8 * law.ccdf(t) + 20 * browse.ccdf(t)) / 28, rel=1e-12
        )


def test_a_feedback_network_has_exact_stations_but_no_route_law() -> None:
    theory = latency_theory(load_scenario("scenarios/jackson3.yaml"))
    assert {key[1] for key in theory.laws} == {"ingest", "enrich", "store"}
    assert "cycle" in theory.reasons[("system", "system")]


@pytest.mark.parametrize(
    ("service", "station", "reason"),
    [
        ({"dist": "lognormal", "mean": 1.0, "cv": 1.5}, {}, "lognormal service has no closed"),
        # a gamma of fractional shape (cv 0.6: shape 2.78) is not phase-type, so no CTMC
        # either; with a whole shape (cv 0.5: Erlang-4) the CTMC's first passage applies
        # (tests/test_ctmc_percentiles.py)
        ({"dist": "gamma", "mean": 0.8, "cv": 0.6}, {"servers": 2}, "several servers"),
        ({"dist": "empirical", "values": [0.5, 1.0]}, {}, "has atoms"),
        ({"dist": "gamma", "mean": 1.0, "cv": 0.6}, {"capacity": 5}, "a capacity with non-exp"),
    ],
)
def test_no_value_without_an_exact_law_and_the_reason_says_why(
    service: dict[str, Any], station: dict[str, Any], reason: str
) -> None:
    theory = latency_theory(scenario_from_dict(one_station(service, **station)))
    assert not theory.laws
    assert reason in theory.reasons[("station", "a")]
    value, method, exact = theory.quantile("station", "a", "W", 0.99)
    assert math.isnan(value) and not exact and method.startswith("unavailable")


def test_mg1_and_mmck_stations_fed_by_poisson_traffic() -> None:
    gamma = {"dist": "gamma", "mean": 1.0, "cv": 0.5}
    theory = latency_theory(scenario_from_dict(one_station(gamma)))
    expected = mg1_wait(0.7, [dists.Gamma.from_mean_cv(1.0, 0.5)], [1.0]).quantile(0.95).value
    assert theory.quantile("station", "a", "Wq", 0.95)[0] == expected
    assert "Pollaczek" in theory.laws[("station", "a", "W")].method
    # the system of one station, one visit per event: the station's own law
    assert theory.quantile("system", "system", "W", 0.5)[0] == pytest.approx(
        theory.quantile("station", "a", "W", 0.5)[0], rel=1e-12
    )
    capped = latency_theory(scenario_from_dict(one_station({**EXP, "rate": 1.0}, capacity=4)))
    assert "M/M/c/K" in capped.laws[("station", "a", "W")].method
    # the engines time only the events that are not lost: with one station, the
    # system's law is the station's law of the admitted events
    assert capped.quantile("system", "system", "W", 0.99)[0] == pytest.approx(
        capped.quantile("station", "a", "W", 0.99)[0], rel=1e-12
    )


def test_downstream_of_a_general_station_the_input_is_not_poisson() -> None:
    document = {
        "stations": {
            "a": {"service": {"dist": "deterministic", "value": 0.5}},
            "b": {"service": {**EXP, "rate": 2.0}},
        },
        "arrivals": {"process": "poisson", "rate": 1.0},
        "routing": {"a": {"b": 1.0}},
    }
    theory = latency_theory(scenario_from_dict(document))
    assert "M/D/1" in theory.laws[("station", "a", "W")].method
    assert "non-Poisson input" in theory.reasons[("station", "b")]


def test_a_run_puts_exact_percentiles_beside_the_simulated_ones() -> None:
    from eda_sim.experiment import run

    result = run(load_scenario("scenarios/mm1.yaml"), replications=2, horizon=2000, warmup=200)
    value, _, exact = result.theory_value("station", "handler", "W_p99")
    assert exact and value == pytest.approx(math.log(100) / 0.3, rel=1e-12)
    document = result.to_dict()
    entry = document["theory"]["percentiles"]["stations"]["handler"]["W_p99"]
    assert entry["exact"] is True and entry["value"] == pytest.approx(value)
    curve = document["plot_data"]["latency_theory"]["station:handler:W"]
    t, ccdf = np.array(curve["t"]), np.array(curve["ccdf"])
    assert np.allclose(ccdf, np.exp(-0.3 * t), rtol=5e-5)  # both rounded to 6 digits


def test_simulated_percentiles_cover_the_exact_ones() -> None:
    """Validation: M/M/2 (Erlang C) and M/D/1 percentiles, Bonferroni at 1% over 8 checks.

    Each replication's quantile is read from its sketch, within α = 1/257 of its
    exact order statistic, so the interval is widened by α times the value on each
    side: the sketch's stated bound on its own bias.
    """
    mm2 = {
        "stations": {"a": {"servers": 2, "service": {**EXP, "rate": 1.0}}},
        "arrivals": {"process": "poisson", "rate": 1.4},
        "run": {"quantiles": [0.5, 0.9]},
    }
    md1 = {
        "stations": {"a": {"service": {"dist": "deterministic", "value": 1.0}}},
        "arrivals": {"process": "poisson", "rate": 0.6},
        "run": {"quantiles": [0.5, 0.9]},
    }
    checks = []
    for name, document, seed in (("M/M/2", mm2, 31), ("M/D/1", md1, 32)):
        result = simulate(document, horizon=40_000.0, seed=seed)
        for metric in ("W_p50", "W_p90", "Wq_p50", "Wq_p90"):
            exact, _, known = result.theory_value("station", "a", metric)
            assert known
            values = [rep.stations["a"].metric(metric) for rep in result.replication_results]
            checks.append(Check(f"{name} {metric}", values, {"exact": exact}))
    assert_inside(checks, relative_slack=RELATIVE_ACCURACY)


#: Relative share of the mean that the M/D/1 tail left out of the integral may be.
TAIL_SHARE = 1e-9


def md1_area(law: Any, arrival_rate: float, constant: float, shift: float, mean: float) -> float:
    """∫ P(X > t) dt past ``law.lower`` for an M/D/1 wait (``shift`` 0) or visit (``D``).

    Erlang's formula costs more digits and terms the later ``t`` is, and ``quad`` on
    ``[0, ∞)`` asks for ``t`` in the thousands; the integral stops at ``T`` instead,
    where Kingman's bound ``P(W_q > t) <= e^{−θt}`` (Kingman, *Proc. Camb. Phil. Soc.*
    60, 1964; θ > 0 the root of ``E[e^{θ(S − A)}] = e^{θD} λ/(λ + θ) = 1``) leaves
    at most ``e^{−θ(T − shift)}/θ = TAIL_SHARE × mean`` out.
    """
    from scipy.optimize import brentq

    def excess(theta: float) -> float:
        return arrival_rate * math.expm1(theta * constant) - theta

    high = 1.0 / constant
    while excess(high) <= 0:
        high *= 2
    theta = brentq(excess, 1e-9 / constant, high, xtol=1e-14)
    end = shift + math.log(1 / (theta * TAIL_SHARE * mean)) / theta
    kinks = [shift + k * constant for k in range(1, int((end - shift) / constant) + 1)]
    area, _ = quad(law.ccdf, law.lower, end, points=kinks, limit=500)
    return float(area)


@pytest.mark.parametrize("file", sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml")))
def test_every_exact_law_has_the_exact_mean_of_the_theory_beside_it(file: str) -> None:
    """Consistency with the theory's means: ∫ P(W > t) dt is the station's exact W."""
    from eda_sim.theory.scenario import solve

    scenario = load_scenario(str(ROOT / "scenarios" / file))
    laws = latency_theory(scenario)
    means = solve(scenario)
    specs = {station.name: station for station in scenario.stations}
    for (scope, name, base), law in laws.laws.items():
        if scope != "station":
            continue
        station = means.stations[name]
        assert station is not None and station.exact, (file, name)
        mean = getattr(station, base)
        if law.method.startswith("M/D/1"):
            constant = specs[name].service.value
            shift = constant if base == "W" else 0.0
            area = md1_area(law, station.throughput, constant, shift, mean)
        else:
            area, _ = quad(law.ccdf, law.lower, np.inf, limit=200)
        assert law.lower + area == pytest.approx(mean, rel=1e-6), (name, base)
