"""Property: on random small Markovian networks, the CTMC solver, the simulation and
every value labelled exact agree.

For each generated network (Poisson arrivals, exponential or Erlang-2 service,
capacities, blocking after service, priorities, one or two classes) the whole
network is solved as one CTMC. Then:

* every station's L and throughput simulated (15 replications) must cover the
  CTMC's values in Student-t intervals at family level 99%: Bonferroni over the
  metrics of one network *and* over the networks of the test, so the whole test
  fails with probability at most 1% when the solver is right;
* every value :func:`eda_sim.theory.scenario.solve` labels exact must equal the
  CTMC's to 1e-6 (relative; 1e-9 absolute for values near 0).

Examples are derandomised (the same networks every run); a failure is never
re-run on another seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from validation_support import FAMILY_ALPHA, REPLICATIONS, simulate

from eda_sim.errors import ScenarioError
from eda_sim.scenario import Scenario, scenario_from_dict
from eda_sim.stats import t_interval
from eda_sim.theory.scenario import solve
from eda_sim.theory.scenario.inputs import scenario_inputs
from eda_sim.theory.scenario.markov_network import NetworkSolution, network_ctmc

EXAMPLES = 8
METRICS = ("L", "throughput")
NAMES = ("a", "b", "c")


def service(kind: str, mean: float) -> dict[str, Any]:
    if kind == "erlang":
        return {"dist": "erlang", "k": 2, "mean": mean}
    return {"dist": "exponential", "mean": mean}


@st.composite
def markovian_networks(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 3))
    names = NAMES[:n]
    stations: dict[str, Any] = {}
    for name in names:
        servers = draw(st.integers(1, 2))
        spec: dict[str, Any] = {
            "servers": servers,
            "service": service(draw(st.sampled_from(("exponential", "erlang"))),
                               draw(st.floats(0.3, 1.0))),
        }  # fmt: skip
        if draw(st.booleans()):
            spec["capacity"] = servers + draw(st.integers(0, 3))
            if draw(st.integers(0, 3)) == 0:
                spec["on_full"] = "block"
        stations[name] = spec
    classes: dict[str, Any] = {}
    for index in range(draw(st.integers(1, 2))):
        routing: dict[str, dict[str, float]] = {}
        for origin in names:
            weights = [draw(st.integers(0, 4)) for _ in names]
            if sum(weights):
                share = draw(st.floats(0.1, 0.7))
                routing[origin] = {t: share * w / sum(weights)
                                   for t, w in zip(names, weights, strict=True) if w}  # fmt: skip
        classes[f"k{index}"] = {
            "arrivals": {"process": "poisson", "rate": draw(st.floats(0.1, 0.5)),
                         "to": draw(st.sampled_from(names))},
            "routing": routing,
            "priority": draw(st.integers(0, 1)),
        }  # fmt: skip
    return {"stations": stations, "classes": classes}


def scaled(document: dict[str, Any]) -> Scenario | None:
    """The network with its arrival rates scaled so no unlimited station passes ρ = 0.6."""
    try:
        probe = scenario_from_dict(document, allow_unstable=True)
    except ScenarioError:
        return None  # e.g. a blocking cycle, refused as it should be
    load = np.zeros(len(probe.stations))
    for c in probe.classes:
        rates = c.routing.traffic(c.arrivals.rate)
        load += rates * np.array([d.mean for d in c.service]) / [s.servers for s in probe.stations]
    unlimited = [j for j, s in enumerate(probe.stations) if s.capacity is None]
    peak = max((load[j] for j in unlimited), default=0.0)
    factor = min(1.0, 0.6 / peak) if peak > 0 else 1.0
    for spec in document["classes"].values():
        spec["arrivals"]["rate"] *= factor
    return scenario_from_dict(document)


def close(value: float, exact: float) -> bool:
    return abs(value - exact) <= 1e-6 * abs(exact) + 1e-9


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(document=markovian_networks())
def test_ctmc_simulation_and_exact_labels_agree(document: dict[str, Any]) -> None:
    scenario = scaled(document)
    assume(scenario is not None)
    assert scenario is not None
    inputs = scenario_inputs(scenario)
    chain = network_ctmc(inputs, None, list(range(len(scenario.stations))))
    assume(isinstance(chain, NetworkSolution))
    assert isinstance(chain, NetworkSolution)
    exact = {scenario.station_names[j]: s.figures for j, s in zip(chain.members, chain.stations,
                                                                   strict=True)}  # fmt: skip

    # every value labelled exact equals the CTMC's
    theory = solve(scenario)
    for name, station in theory.stations.items():
        if station is not None and station.exact:
            for metric in ("L", "Lq", "W", "Wq", "utilization", "throughput", "loss"):
                value, reference = getattr(station, metric), getattr(exact[name], metric)
                assert close(value, reference), (name, metric, station.method, value, reference)

    # the simulation covers the CTMC's values
    result = simulate(document, horizon=3000.0, seed=71)
    level = 1 - FAMILY_ALPHA / (EXAMPLES * len(METRICS) * len(exact))
    misses = []
    for name, figures in exact.items():
        for metric in METRICS:
            values = [rep.stations[name].metric(metric) for rep in result.replication_results]
            assert len(values) == REPLICATIONS
            interval = t_interval(values, level)
            if not interval.contains(getattr(figures, metric)):
                misses.append(f"{name}.{metric}: {getattr(figures, metric):.5g} outside {interval}")
    assert not misses, "\n".join(misses)
