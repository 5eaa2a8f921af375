"""Network first passages sure to be refused are refused before the solve and the exploration.

:mod:`eda_sim.theory.percentiles.network_bounds` bounds a passage chain's states
from below with the network's own chain; above ``PASSAGE_LIMIT`` the passage is
refused with the reason the exploration would give, without solving or
exploring. Solved chains are kept per scenario, so ``solve`` and
``latency_theory`` of one scenario solve a part once. The networks are from a
seeded sample of the kind ``tests/test_ctmc_property.py`` draws (their arrival
rates already scaled).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from eda_sim.scenario import Scenario, scenario_from_dict
from eda_sim.theory.ctmc import MarkovNetwork
from eda_sim.theory.percentiles import network_chain, network_laws, network_passage
from eda_sim.theory.percentiles.network_bounds import passage_bounds
from eda_sim.theory.percentiles.network_chain import tagged_network
from eda_sim.theory.percentiles.network_moves import TaggedNetwork
from eda_sim.theory.percentiles.network_passage import journey_laws, station_passage
from eda_sim.theory.percentiles.scenario import latency_theory
from eda_sim.theory.percentiles.tagged import PASSAGE_LIMIT
from eda_sim.theory.scenario import markov, solve
from eda_sim.theory.scenario.inputs import scenario_inputs


def erlang(mean: float) -> dict[str, Any]:
    return {"dist": "erlang", "k": 2, "mean": mean}


def exponential(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


# three stations, one class with feedback everywhere: b and c unlimited (truncated)
CYCLE = {
    "stations": {
        "a": {"servers": 2, "service": erlang(0.8740394464179255), "capacity": 3},
        "b": {"servers": 2, "service": erlang(0.3058237491864295)},
        "c": {"servers": 1, "service": exponential(0.6723608230397634)},
    },
    "classes": {
        "k0": {
            "arrivals": {"process": "poisson", "rate": 0.18124076298361136, "to": "c"},
            "routing": {
                "a": {"a": 0.10322043898621626, "b": 0.20644087797243252, "c": 0.05161021949310813},
                "b": {"a": 0.10117203175396088, "c": 0.4046881270158435},
                "c": {"a": 0.06634705237160668, "b": 0.2653882094864267, "c": 0.2653882094864267},
            },
            "priority": 0,
        }
    },
}

# two stations, two classes at two priority levels, Erlang-2 service, b unlimited
PRIORITIES = {
    "stations": {
        "a": {"servers": 1, "service": erlang(0.8572077982613906), "capacity": 2},
        "b": {"servers": 1, "service": erlang(0.4036321689508495)},
    },
    "classes": {
        "k0": {
            "arrivals": {"process": "poisson", "rate": 0.31181116416355315, "to": "a"},
            "routing": {
                "a": {"a": 0.15521903841730425, "b": 0.3104380768346085},
                "b": {"a": 0.3917448544686996},
            },
            "priority": 0,
        },
        "k1": {
            "arrivals": {"process": "poisson", "rate": 0.3674988714269878, "to": "b"},
            "routing": {
                "a": {"a": 0.3689484336608304, "b": 0.24596562244055362},
                "b": {"a": 0.35224232868530303, "b": 0.11741410956176768},
            },
            "priority": 1,
        },
    },
}

_NOT_POISSON = (
    "non-Poisson input: the waiting-time distribution is known exactly only for Poisson "
    "arrivals (or M/M/c in a product-form network, or GI/M/c fed by one renewal stream that "
    "does not feed back); network CTMC first passage not used: "
)
_CYCLE_ROUTES = (
    "the routes have a cycle or too many paths: the visits' times are not independent; "
    "network CTMC first passage not used: "
)
_PRIORITIES = "priorities: no closed form for the waiting-time distribution; "
_OVER = "the first-passage chain has more than 200,000 states"

# the reasons before the bounds (the chains were solved and explored up to the limit)
REFUSED = [
    (
        CYCLE,
        {
            ("station", "a"): _NOT_POISSON + "events of class k0 return to a at once",
            ("station", "b"): _NOT_POISSON + _OVER,
            ("station", "c"): _NOT_POISSON + "events of class k0 return to c at once",
            ("class", "k0"): _CYCLE_ROUTES + "class k0: " + _OVER,
            ("system", "system"): "k0: " + _CYCLE_ROUTES + "class k0: " + _OVER,
        },
    ),
    (
        PRIORITIES,
        {
            ("station", "a"): _PRIORITIES
            + "network CTMC first passage not used: events of class k0 return to a at once",
            ("station", "b"): _PRIORITIES
            + "network CTMC first passage not used: events of class k1 return to b at once",
            ("class", "k0"): _CYCLE_ROUTES + "class k0: " + _OVER,
            ("class", "k1"): _CYCLE_ROUTES + "class k1: " + _OVER,
            ("system", "system"): "k0: " + _CYCLE_ROUTES + "class k0: " + _OVER,
        },
    ),
]


def scenario_of(document: dict[str, Any]) -> Scenario:
    """A fresh scenario (no solved chain kept for it yet)."""
    return scenario_from_dict(copy.deepcopy(document))


def _refuse(*_: object, **__: object) -> None:
    raise AssertionError("the expensive step ran")


@pytest.mark.parametrize(("document", "reasons"), REFUSED)
def test_refused_without_solving_or_exploring(
    monkeypatch: pytest.MonkeyPatch, document: dict[str, Any], reasons: dict[Any, str]
) -> None:
    scenario = scenario_of(document)
    monkeypatch.setattr(markov, "stationary", _refuse)
    monkeypatch.setattr(network_passage, "explore", _refuse)
    monkeypatch.setattr(network_chain, "explore", _refuse)
    monkeypatch.setattr(network_laws, "tagged_network", _refuse)
    theory = latency_theory(scenario)
    assert theory.reasons == reasons
    assert not theory.laws


def test_the_limit_still_decides_above_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a higher limit the same passages are no longer refused by the bound."""
    from eda_sim.theory.percentiles import network_bounds, tagged

    scenario = scenario_of(CYCLE)
    inputs = scenario_inputs(scenario)
    bounds = network_bounds.passage_bounds(inputs, [0, 1, 2])
    assert bounds is not None
    assert bounds.journey(0) > PASSAGE_LIMIT
    assert bounds.wait(1) > PASSAGE_LIMIT
    monkeypatch.setattr(tagged, "PASSAGE_LIMIT", 10**9)
    monkeypatch.setattr(network_laws, "tagged_network", _refuse)
    with pytest.raises(AssertionError, match="the expensive step ran"):
        latency_theory(scenario_of(CYCLE))


def test_solve_then_latency_solves_the_network_once(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = scenario_of(_REGRESSION[0][0])
    before = latency_theory(scenario_of(_REGRESSION[0][0]))
    solve(scenario)
    monkeypatch.setattr(markov, "stationary", _refuse)
    after = latency_theory(scenario)  # every chain it needs was solved by solve()
    assert after.reasons == before.reasons
    for key, law in before.laws.items():
        assert after.laws[key].quantile(0.99).value == law.quantile(0.99).value


def _states(method: str) -> int:
    found = re.fullmatch(r"CTMC first passage \(([\d,]+) states\)", method)
    assert found, method
    return int(found.group(1).replace(",", ""))


def _passages(
    tagged: TaggedNetwork, members: int, classes: int
) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    stations = {}
    for j in range(members):
        found = station_passage(tagged, j)
        if not isinstance(found, str):
            stations[j] = (_states(found[0].method), _states(found[1].method))
    journeys = {}
    for k in range(classes):
        journey = journey_laws(tagged, [k])
        if not isinstance(journey, str):
            journeys[k] = _states(journey[k][0].method)
    return stations, journeys


def test_the_bounds_are_below_the_explored_chains() -> None:
    """Each bound is at most the passage chain's states where the passage is explored."""
    checked = 0
    for document, _ in _REGRESSION:
        scenario = scenario_of(document)
        inputs = scenario_inputs(scenario)
        members = list(range(len(scenario.stations)))
        bounds = passage_bounds(inputs, members)
        tagged = tagged_network(inputs, members)
        assert bounds is not None and not isinstance(tagged, str)
        assert isinstance(bounds.network, MarkovNetwork)
        stations, journeys = _passages(tagged, len(members), len(scenario.classes))
        for j, (wait, visit) in stations.items():
            assert bounds.wait(j) <= wait
            assert bounds.visit(j) <= visit
            checked += 1
        for k, states in journeys.items():
            assert bounds.journey(k) <= states
            checked += 1
    assert checked >= 8


# Regression test: stored values of the same networks before the bounds and the kept
# chains (the 99th percentiles and their methods, computed by the code of 30d2afb).
_REGRESSION: list[tuple[dict[str, Any], dict[tuple[str, str, str], tuple[float, str]]]] = [
    (
        {
            "stations": {
                "a": {
                    "servers": 1,
                    "service": erlang(0.9146262311538267),
                    "capacity": 2,
                    "on_full": "block",
                },
                "b": {"servers": 2, "service": erlang(0.7986684126889285), "capacity": 3},
                "c": {"servers": 1, "service": exponential(0.8149837806671585), "capacity": 3},
            },
            "classes": {
                "k0": {
                    "arrivals": {"process": "poisson", "rate": 0.35785457333711945, "to": "c"},
                    "routing": {
                        "a": {"b": 0.38350000994439554, "c": 0.12783333664813185},
                        "b": {"a": 0.0733917717800091, "c": 0.1467835435600182},
                        "c": {
                            "a": 0.180719412990477,
                            "b": 0.060239804330159,
                            "c": 0.060239804330159,
                        },
                    },
                    "priority": 1,
                }
            },
        },
        {
            ("station", "a", "W"): (3.232518231857443, "CTMC first passage (628 states)"),
            ("station", "a", "Wq"): (1.273694756529057, "CTMC first passage (278 states)"),
            ("station", "b", "W"): (2.652221014480645, "CTMC first passage (688 states)"),
            ("station", "b", "Wq"): (0.0, "CTMC first passage (144 states)"),
            ("system", "system", "W"): (6.711903130497434, "CTMC first passage (1,970 states)"),
        },
    ),
    (
        {
            "stations": {
                "a": {"servers": 2, "service": exponential(0.6777525140353131), "capacity": 2},
                "b": {
                    "servers": 1,
                    "service": erlang(0.5351669796162842),
                    "capacity": 1,
                    "on_full": "block",
                },
            },
            "classes": {
                "k0": {
                    "arrivals": {"process": "poisson", "rate": 0.4492529541268535, "to": "b"},
                    "routing": {
                        "a": {"a": 0.10523183201651261, "b": 0.14030910935535015},
                        "b": {"a": 0.1235881697403844},
                    },
                    "priority": 1,
                },
                "k1": {
                    "arrivals": {"process": "poisson", "rate": 0.37641495236782463, "to": "a"},
                    "routing": {
                        "a": {"a": 0.321831165965291, "b": 0.321831165965291},
                        "b": {"a": 0.13961787331588055},
                    },
                    "priority": 0,
                },
            },
        },
        {
            ("station", "b", "W"): (1.7763134129288818, "CTMC first passage (58 states)"),
            ("class", "k0", "W"): (2.7425539431511883, "CTMC first passage (73 states)"),
            ("class", "k1", "W"): (5.586595952395677, "CTMC first passage (77 states)"),
            ("system", "system", "W"): (4.881977225387304, "the classes' laws mixed by rate"),
        },
    ),
    (
        {
            "stations": {
                "a": {"servers": 1, "service": exponential(0.8323689377849048)},
                "b": {"servers": 1, "service": exponential(0.4962041173798354), "capacity": 2},
            },
            "classes": {
                "k0": {
                    "arrivals": {"process": "poisson", "rate": 0.3725669434998654, "to": "b"},
                    "routing": {
                        "a": {"a": 0.25112363879774213, "b": 0.08370787959924739},
                        "b": {"a": 0.5210296680555608},
                    },
                    "priority": 1,
                },
                "k1": {
                    "arrivals": {"process": "poisson", "rate": 0.2553817332872253, "to": "b"},
                    "routing": {"a": {"a": 0.10779219523784926, "b": 0.21558439047569852}},
                    "priority": 1,
                },
            },
        },
        {
            ("station", "b", "W"): (2.7043263821717067, "CTMC first passage (430 states)"),
            ("station", "b", "Wq"): (1.5843587424843617, "CTMC first passage (172 states)"),
            ("class", "k0", "W"): (6.9501143802058305, "CTMC first passage (6,536 states)"),
            ("class", "k1", "W"): (2.7046477620813, "CTMC first passage (215 states)"),
            ("system", "system", "W"): (6.060501717839756, "the classes' laws mixed by rate"),
        },
    ),
    (
        {
            "stations": {
                "a": {"servers": 1, "service": erlang(0.7776186498035059), "capacity": 1},
                "b": {"servers": 1, "service": erlang(0.6783615983420159), "capacity": 2},
                "c": {"servers": 2, "service": exponential(0.8177541532445212), "capacity": 4},
            },
            "classes": {
                "k0": {
                    "arrivals": {"process": "poisson", "rate": 0.2736883918023062, "to": "c"},
                    "routing": {
                        "a": {
                            "a": 0.18467540284706094,
                            "b": 0.18467540284706094,
                            "c": 0.18467540284706094,
                        },
                        "b": {
                            "a": 0.06542832229330132,
                            "b": 0.06542832229330132,
                            "c": 0.06542832229330132,
                        },
                    },
                    "priority": 1,
                },
                "k1": {
                    "arrivals": {"process": "poisson", "rate": 0.17313982258078148, "to": "a"},
                    "routing": {
                        "a": {
                            "a": 0.03148384795541504,
                            "b": 0.09445154386624512,
                            "c": 0.06296769591083008,
                        },
                        "b": {
                            "a": 0.030113285801603894,
                            "b": 0.09033985740481168,
                            "c": 0.12045314320641558,
                        },
                        "c": {
                            "a": 0.14335389374271437,
                            "b": 0.14335389374271437,
                            "c": 0.21503084061407154,
                        },
                    },
                    "priority": 1,
                },
            },
        },
        {
            ("class", "k0", "W"): (3.789560536467111, "CTMC first passage (450 states)"),
            ("class", "k1", "W"): (4.075850406631946, "CTMC first passage (1,122 states)"),
            ("system", "system", "W"): (3.885526914620755, "the classes' laws mixed by rate"),
        },
    ),
]


@pytest.mark.parametrize(("document", "expected"), _REGRESSION)
def test_regression_laws_unchanged(
    document: dict[str, Any], expected: dict[tuple[str, str, str], tuple[float, str]]
) -> None:
    """Regression test (stored numbers): the laws given before the change, to 1e-12."""
    theory = latency_theory(scenario_of(document))
    for (scope, name, base), (value, method) in expected.items():
        found, label, exact = theory.quantile(scope, name, base, 0.99)
        assert exact and label == method
        assert found == pytest.approx(value, rel=1e-12, abs=1e-15)
