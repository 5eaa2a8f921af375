"""Stations that no event reaches: idle and exact, whatever their buffer does when full.

A blocking station that nothing reaches never fills, so it blocks no one; a station
that nothing reaches sends nothing, so a blocking station downstream of it does not
block it. Both are idle, exactly. Before, the first was handed to the network CTMC
as a part with no state columns and ``solve`` (and every command that shows theory)
crashed with an IndexError; the second was marked approximate for blocked time it
never has and handed to the network CTMC (crashing the same way when its part was
reached by nothing at all).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_engine_properties import PROPERTY_SEED, PROPERTY_SETTINGS

from eda_sim.errors import ScenarioError
from eda_sim.scenario import Scenario, scenario_from_dict
from eda_sim.theory.ctmc import MarkovNetwork, MarkovStation, build_chain, stationary
from eda_sim.theory.percentiles.scenario import latency_theory
from eda_sim.theory.scenario import solve
from eda_sim.theory.scenario.inputs import scenario_inputs

EXPONENTIAL = {"dist": "exponential", "rate": 1.0}


def unreached_blocking() -> dict[str, Any]:
    """``a`` blocks when full but nothing reaches it; events go to ``b`` only."""
    return {
        "stations": {
            "a": {"servers": 1, "service": EXPONENTIAL, "capacity": 2, "on_full": "block"},
            "b": {"servers": 1, "service": EXPONENTIAL},
        },
        "arrivals": {"process": "poisson", "rate": 0.3, "to": "b"},
    }


def test_an_unreached_blocking_station_is_idle_and_exact() -> None:
    theory = solve(scenario_from_dict(unreached_blocking()))
    a, b = theory.stations["a"], theory.stations["b"]
    assert a is not None and b is not None
    assert (a.method, a.exact, a.L, a.throughput, a.utilization) == ("no arrivals", True, 0, 0, 0)
    assert (b.method, b.exact) == ("M/M/1", True)
    assert b.L == pytest.approx(0.3 / 0.7, rel=1e-12)
    assert theory.system is not None and theory.system.exact


def test_a_station_nothing_reaches_does_not_send_to_a_blocking_one() -> None:
    """``c`` routes to the blocking ``a`` for class y, which never reaches ``c``."""
    document = {
        "stations": {
            "a": {"servers": 1, "service": EXPONENTIAL, "capacity": 2, "on_full": "block"},
            "b": {"servers": 1, "service": EXPONENTIAL},
            "c": {"servers": 1, "service": EXPONENTIAL},
        },
        "classes": {
            "x": {"arrivals": {"process": "poisson", "rate": 0.2, "to": "c"}},
            "y": {"arrivals": {"process": "poisson", "rate": 0.3, "to": "b"},
                  "routing": {"b": {"a": 0.5}, "c": {"a": 1.0}}},
        },
    }  # fmt: skip
    theory = solve(scenario_from_dict(document))
    c = theory.stations["c"]
    assert c is not None and (c.method, c.exact) == ("M/M/1", True)
    # b does send to the blocking a: solved with it as one exact chain
    b = theory.stations["b"]
    assert b is not None and b.exact and b.method.startswith("CTMC")


def test_a_chain_with_no_visitors_is_one_empty_state() -> None:
    network = MarkovNetwork((MarkovStation("a", 1, 2, blocking=True),), ())
    chain = build_chain(network)
    assert chain.states.shape == (1, 0)
    assert np.array_equal(stationary(chain), [1.0])


def test_the_theory_command_answers_for_an_unreached_blocking_station(tmp_path: Path) -> None:
    path = tmp_path / "unreached.yaml"
    import yaml

    path.write_text(yaml.safe_dump({"name": "unreached", **unreached_blocking()}))
    done = subprocess.run(
        [sys.executable, "-m", "eda_sim", "theory", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "no arrivals (exact)" in done.stdout


NAMES = ("a", "b", "c")
KINDS = ("exponential", "erlang", "lognormal", "deterministic")


def law(kind: str, mean: float) -> dict[str, Any]:
    if kind == "erlang":
        return {"dist": "erlang", "k": 2, "mean": mean}
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": mean, "cv": 1.3}
    if kind == "deterministic":
        return {"dist": "deterministic", "value": mean}
    return {"dist": "exponential", "mean": mean}


@st.composite
def sparse_networks(draw: st.DrawFn) -> Scenario | None:
    """Small networks where some stations (blocking ones among them) may be unreached."""
    names = NAMES[: draw(st.integers(1, 3))]
    stations: dict[str, Any] = {}
    for name in names:
        servers = draw(st.integers(1, 2))
        spec: dict[str, Any] = {
            "servers": servers,
            "service": law(draw(st.sampled_from(KINDS)), draw(st.floats(0.2, 0.8))),
        }
        if draw(st.booleans()):
            spec["capacity"] = servers + draw(st.integers(0, 2))
            if draw(st.booleans()):
                spec["on_full"] = "block"
        stations[name] = spec
    classes: dict[str, Any] = {}
    for index in range(draw(st.integers(1, 2))):
        routing: dict[str, dict[str, float]] = {}
        for origin in names:
            if draw(st.booleans()):
                continue  # leaves from here: downstream stations may be unreached
            weights = [draw(st.integers(0, 2)) for _ in names]
            if sum(weights):
                share = draw(st.floats(0.1, 0.6))
                routing[origin] = {t: share * w / sum(weights)
                                   for t, w in zip(names, weights, strict=True) if w}  # fmt: skip
        classes[f"k{index}"] = {
            "arrivals": {"process": "poisson", "rate": draw(st.floats(0.05, 0.3)),
                         "to": draw(st.sampled_from(names))},
            "routing": routing,
            "priority": draw(st.integers(0, 1)),
        }  # fmt: skip
    try:
        return scenario_from_dict({"stations": stations, "classes": classes})
    except ScenarioError:
        return None  # e.g. a blocking cycle, refused as it should be


@PROPERTY_SEED
@PROPERTY_SETTINGS
@given(scenario=sparse_networks())
def test_unreached_stations_are_idle_exactly_and_theory_never_raises(
    scenario: Scenario | None,
) -> None:
    if scenario is None:
        return
    theory = solve(scenario)
    offered = scenario_inputs(scenario).traffic.offered_total
    for j, name in enumerate(scenario.station_names):
        figures = theory.stations[name]
        if offered[j] > 0:
            assert figures is not None or theory.reasons[name]
            continue
        assert figures is not None and figures.method == "no arrivals" and figures.exact
        assert figures.L == figures.throughput == figures.utilization == 0
    latency = latency_theory(scenario)
    for scope, name, base in latency.laws:
        value, _, exact = latency.quantile(scope, name, base, 0.99)
        assert not exact or (math.isfinite(value) and value >= 0)
    for j, name in enumerate(scenario.station_names):
        if offered[j] <= 0:
            assert ("station", name, "W") not in latency.laws
            assert latency.reasons[("station", name)]
