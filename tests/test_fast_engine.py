"""The fast (numba) engine against the SimPy engine, its refusals and its plumbing.

The fast engine draws from the same random streams as the SimPy engine and fires
events in SimPy's order, so on every scenario it must give the *same*
replication, bit for bit: records, sample path, observations, waits. Those are
exact comparisons (``==``), which imply agreement within any joint interval; one
test also checks the joint 99% agreement of the two engines' run summaries.

The cases: the nine shipped scenarios (every mechanism: fan-out, blocking after
service, priorities, trace replay), a few random networks, and deterministic
cases built to put many events at the same instants, where only the order of
SimPy's events decides the result: simultaneous departures with blocked
senders, fan-out into full stations, priority ties, a trace with equal
timestamps, an automatic warm-up.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("numba")

from eda_sim.engine.fast_engine import (
    MISSING_NUMBA,
    simulate_replication_fast,
)
from eda_sim.engine.records import ReplicationResult
from eda_sim.engine.simpy_engine import simulate_replication
from eda_sim.errors import ScenarioError
from eda_sim.experiment import run
from eda_sim.experiment.engines import AUTO_FAST_FROM, SIMPY_SECONDS_PER_VISIT, choose_engine
from eda_sim.experiment.sweeps import sweep
from eda_sim.scenario import Scenario, load_scenario, scenario_from_dict
from eda_sim.scenario.budgets import expected_visits

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def det(value: float) -> dict[str, Any]:
    return {"dist": "deterministic", "value": value}


def multiclass() -> Scenario:
    """Two classes, per-class service (Erlang and hyperexponential), different routes."""
    return scenario_from_dict(
        {
            "stations": {
                "front": {"servers": 2, "service": {"dist": "exponential", "mean": 0.5}},
                "back": {"servers": 1, "service": {"dist": "exponential", "mean": 0.3}},
            },
            "classes": {
                "reads": {
                    "arrivals": {"process": "poisson", "rate": 1.5, "to": "front"},
                    "routing": {"front": {"back": 0.5}},
                    "service": {"front": {"dist": "erlang", "k": 3, "mean": 0.4}},
                },
                "writes": {
                    "arrivals": {
                        "process": "poisson",
                        "rate": 0.8,
                        "to": {"front": 0.5, "back": 0.5},
                    },
                    "routing": {"front": {"back": 1.0}},
                    "service": {"back": {"dist": "hyperexponential", "mean": 0.35, "cv": 2.0}},
                },
            },
            "run": {"horizon": 3000, "warmup": "auto", "replications": 3, "seed": 11},
        },
        name="multiclass",
    )


def renewal() -> Scenario:
    """Uniform gaps into a two-server station with a bounded buffer (loss)."""
    return scenario_from_dict(
        {
            "stations": {
                "a": {
                    "servers": 2,
                    "service": {"dist": "lognormal", "mean": 1.5, "cv": 0.8},
                    "capacity": 4,
                }
            },
            "arrivals": {
                "process": "renewal",
                "interarrival": {"dist": "uniform", "low": 0.2, "high": 1.4},
            },
            "run": {"horizon": 3000, "warmup": 100, "replications": 3, "seed": 5},
        },
        name="renewal",
    )


def feedback() -> Scenario:
    """A feedback network with gamma service: 30% return from b to a."""
    return scenario_from_dict(
        {
            "stations": {
                "a": {"servers": 1, "service": {"dist": "gamma", "mean": 0.4, "cv": 0.7}},
                "b": {"servers": 3, "service": {"dist": "gamma", "mean": 1.5, "cv": 1.3}},
            },
            "arrivals": {"process": "poisson", "rate": 1.0, "to": "a"},
            "routing": {"a": {"b": 0.9}, "b": {"a": 0.3}},
            "run": {"horizon": 3000, "warmup": "auto", "replications": 3, "seed": 3},
        },
        name="feedback",
    )


def tandem_det(horizon: float = 6.0) -> Scenario:
    """Deterministic: a gap of 1 into A (service 1.5), then B (service 0.5), then out."""
    return scenario_from_dict(
        {
            "stations": {
                "A": {"servers": 1, "service": det(1.5)},
                "B": {"servers": 1, "service": det(0.5)},
            },
            "arrivals": {"process": "renewal", "interarrival": det(1.0), "to": "A"},
            "routing": {"A": {"B": 1.0}},
            "run": {"horizon": horizon, "warmup": "none", "replications": 1, "seed": 7},
        },
        name="tandem-det",
        allow_unstable=True,
    )


def mixed() -> Scenario:
    """Every mechanism at once, at a high load: priorities, fan-out, blocking, losses."""
    exp = {"dist": "exponential", "mean": 0.3}
    return scenario_from_dict(
        {
            "stations": {
                "front": {"servers": 2, "service": exp, "capacity": 12},
                "hub": {"servers": 1, "service": {"dist": "gamma", "mean": 0.25, "cv": 0.6}},
                "slow": {"servers": 1, "service": exp, "capacity": 2, "on_full": "block"},
                "tiny": {"servers": 1, "service": exp, "capacity": 1},
                "sink": {"servers": 3, "service": {"dist": "lognormal", "mean": 0.5, "cv": 1.2}},
            },
            "classes": {
                "urgent": {
                    "arrivals": {"process": "poisson", "rate": 1.2, "to": "front"},
                    "routing": {
                        "front": {"hub": 0.7, "slow": 0.3},
                        "hub": {"fanout": ["tiny", "sink"], "slow": 0.5},
                    },
                    "priority": 0,
                },
                "bulk": {
                    "arrivals": {
                        "process": "poisson",
                        "rate": 1.5,
                        "to": {"front": 0.6, "hub": 0.4},
                    },
                    "routing": {
                        "front": {"slow": 0.8},
                        "hub": {"slow": 1.0},
                        "slow": {"sink": 0.4},
                    },
                    "priority": 1,
                },
                "same": {
                    "arrivals": {
                        "process": "renewal",
                        "interarrival": {"dist": "uniform", "low": 0.5, "high": 1.5},
                    },
                    "routing": {"front": {"hub": 1.0}, "hub": {"fanout": ["tiny"]}},
                    "priority": 1,
                },
            },
            "run": {"horizon": 3000, "warmup": "auto", "replications": 2, "seed": 13},
        },
        name="mixed",
    )


def wide() -> Scenario:
    """A network of 640 stations, two classes: past ``lookahead.FROM_STATIONS``.

    From that size the loop asks for the next event's state ahead of time
    (prefetch hints): they must change nothing. Each class enters at every
    station alike and goes on to two stations further round the ring
    (``i + 1`` and ``7i + 3`` mod 640, or ``i + 5`` and ``11i + 1``, both
    permutations), 0.3 to each (0.6 in all where the two differ); every station
    holds at most 6 events.
    """
    size = 640
    names = [f"s{i}" for i in range(size)]
    exp = {"dist": "exponential", "mean": 4.0}
    stations = {name: {"servers": 1 + i % 3, "service": exp, "capacity": 6}
                for i, name in enumerate(names)}  # fmt: skip

    def routing(step: int, factor: int, offset: int) -> dict[str, dict[str, float]]:
        return {
            names[i]: {names[(i + step) % size]: 0.3, names[(factor * i + offset) % size]: 0.3}
            for i in range(size)
        }

    everywhere = {name: 1.0 / size for name in names}
    classes = {
        name: {
            "arrivals": {"process": "poisson", "rate": 16.0, "to": everywhere},
            "routing": routing(*ring),
        }
        for name, ring in (("a", (1, 7, 3)), ("b", (5, 11, 1)))
    }
    return scenario_from_dict(
        {
            "stations": stations,
            "classes": classes,
            "run": {"horizon": 250, "warmup": "auto", "seed": 5},
        },
        name="wide",
    )


def shipped(stem: str) -> Callable[[], Scenario]:
    return lambda: load_scenario(str(SCENARIOS / f"{stem}.yaml"))


#: Every shipped scenario (a test checks that none is missing), and more.
SHIPPED = sorted(path.stem for path in SCENARIOS.glob("*.yaml"))
SUPPORTED: dict[str, Callable[[], Scenario]] = {
    **{stem: shipped(stem) for stem in SHIPPED},
    "multiclass": multiclass,
    "renewal": renewal,
    "feedback": feedback,
    "mixed": mixed,
    "wide": wide,
}
#: Horizons that keep each case near 20,000-50,000 visits (None: the scenario's own).
HORIZONS = {
    "shopping_cart": 400.0,
    "trace_replay": None,
    "pubsub": 1500.0,
    "slo_checkout": 400.0,
    "wide": 250.0,
}


def assert_identical(a: ReplicationResult, b: ReplicationResult) -> None:
    assert a.stations == b.stations
    assert a.system == b.system
    assert a.classes == b.classes
    assert (a.warmup, a.horizon, a.completed_visits) == (b.warmup, b.horizon, b.completed_visits)
    assert a.observations == b.observations
    assert a.waits == b.waits
    assert a.path is not None and b.path is not None
    assert np.array_equal(a.path.times, b.path.times)
    for name in a.path.stations:
        assert np.array_equal(a.path.stations[name], b.path.stations[name])
    assert np.array_equal(a.path.system, b.path.system)
    for name in a.path.classes:
        assert np.array_equal(a.path.classes[name], b.path.classes[name])
    # the percentile sketches: every chunk's buckets and counts, and the window's quantiles
    assert a.latency is not None and b.latency is not None
    assert a.latency.chunks == b.latency.chunks
    assert np.array_equal(a.latency.quantiles, b.latency.quantiles, equal_nan=True)


def test_every_shipped_scenario_is_compared() -> None:
    assert len(SHIPPED) == 10
    assert {
        "jackson3", "mm1", "mmc", "priorities", "pubsub", "shopping_cart",
        "slo_checkout", "sync_vs_async", "tandem", "trace_replay",
    } == set(SHIPPED)  # fmt: skip


def _loops(scenario: Scenario) -> bool:
    """True when some class's routing can bring an event back to a station it left."""
    from eda_sim.routing import strongly_connected_components

    for event_class in scenario.classes:
        rows = event_class.routing.transitions
        successors = [
            rows.columns[rows.indptr[i] : rows.indptr[i + 1]].tolist()
            for i in range(len(scenario.stations))
        ]
        for component in strongly_connected_components(successors):
            if len(component) > 1 or component[0] in successors[component[0]]:
                return True
    return False


#: Every mechanism of the engines and how to see that a scenario uses it; the
#: names of ``Scenario.features`` must all be here (a test checks it).
MECHANISMS: dict[str, Callable[[Scenario], bool]] = {
    "fanout": lambda s: s.has_fanout,
    "blocking": lambda s: s.has_blocking,
    "priorities": lambda s: s.has_priorities,
    "trace": lambda s: s.has_trace,
    "classes": lambda s: len(s.classes) > 1,
    "loss at a full station": lambda s: any(
        st.capacity is not None and st.on_full == "lose" for st in s.stations
    ),
    "several servers": lambda s: any(st.servers > 1 for st in s.stations),
    "renewal arrivals": lambda s: any(c.arrivals.kind == "renewal" for c in s.classes),
    "poisson arrivals": lambda s: any(c.arrivals.kind == "poisson" for c in s.classes),
    "feedback loops": _loops,
    "per-class service": lambda s: any(
        a.service[i] != b.service[i]
        for a in s.classes
        for b in s.classes
        for i in range(len(s.stations))
    ),
    "non-exponential service": lambda s: any(
        type(d).__name__ != "Exponential" for c in s.classes for d in c.service
    ),
}


def test_every_mechanism_has_an_identity_case() -> None:
    """Each mechanism is used by at least one case compared bit for bit, and by the tie cases.

    A new mechanism is a new name in ``Scenario.features``: this test then fails
    until it is in :data:`MECHANISMS` and a case of :data:`SUPPORTED` uses it.
    """
    scenarios = {name: make() for name, make in SUPPORTED.items()}
    features = set().union(*(scenario.features for scenario in scenarios.values()))
    assert features <= set(MECHANISMS), "add the new feature to MECHANISMS"
    unused = [
        mechanism
        for mechanism, uses in MECHANISMS.items()
        if not any(uses(scenario) for scenario in scenarios.values())
    ]
    assert not unused, f"no identity case uses: {unused}"
    assert scenarios["mixed"].features >= {"fanout", "blocking", "priorities"}


#: The SimPy engine's replications of the identity cases with the fixed warm-up, by
#: (case, warm-up, replication): :func:`test_the_loop_stays_in_bounds` hands them to its
#: fresh process, which runs the same cases and compares its fast runs with them instead
#: of simulating them with SimPy once more (a case is fully given by those three, and
#: the SimPy engine gives the same replication for it in any process:
#: ``tests/test_reproducibility.py``).
SIMPY_RUNS: dict[tuple[str, float | None, int], ReplicationResult] = {}


def compare_case(
    name: str,
    warmup: float | None,
    simpy_runs: dict[tuple[str, float | None, int], ReplicationResult] | None = None,
) -> None:
    """Both engines on identity case ``name``, replications 0 and 1; the SimPy side taken
    from ``simpy_runs`` where it holds it, else simulated (and kept in :data:`SIMPY_RUNS`
    when the warm-up is fixed)."""
    scenario = SUPPORTED[name]()
    horizon = HORIZONS.get(name, 2500.0)
    for replication in (0, 1):
        kwargs: dict[str, Any] = {"replication": replication, "horizon": horizon, "warmup": warmup}
        if warmup is not None and horizon is None:
            kwargs["warmup"] = warmup / 10  # the trace's span is short
        key = (name, warmup, replication)
        kept = (simpy_runs or {}).get(key)
        slow = kept if kept is not None else simulate_replication(scenario, keep_waits=30, **kwargs)
        fast = simulate_replication_fast(scenario, keep_waits=30, **kwargs)
        assert slow.completed_visits > 1000
        assert_identical(slow, fast)
        if warmup is not None:
            SIMPY_RUNS[key] = slow


@pytest.mark.parametrize("name", sorted(SUPPORTED))
@pytest.mark.parametrize("warmup", [None, 150.0])
def test_same_replication_as_the_simpy_engine(name: str, warmup: float | None) -> None:
    """Each case with its own warm-up (``auto``: MSER-5 on the sample path) and a fixed one."""
    compare_case(name, warmup)


def test_long_run_refills_and_grows_and_stays_identical() -> None:
    """Many refills of every stream, a growing event pool (an overloaded station) and heap."""
    scenario = scenario_from_dict(
        {
            "stations": {
                "q": {"servers": 1, "service": {"dist": "exponential", "mean": 1.02}},
                "p": {"servers": 100, "service": {"dist": "exponential", "mean": 80.0}},
            },
            "arrivals": {"process": "poisson", "rate": 1.0, "to": "q"},
            "routing": {"q": {"p": 1.0}},
            "run": {"horizon": 40000, "warmup": 0, "seed": 2},
        },
        name="congested",
        allow_unstable=True,
    )
    slow = simulate_replication(scenario)
    fast = simulate_replication_fast(scenario)
    assert fast.path is not None
    assert fast.path.stations["q"][:, 8].max() > 300  # past the initial pool of 256 slots
    assert fast.path.stations["p"][:, 8].max() > 70  # past the initial heap of 68
    assert_identical(slow, fast)


def test_deterministic_tandem_per_visit_waits() -> None:
    scenario = tandem_det()
    fast = simulate_replication_fast(scenario, keep_waits=10)
    slow = simulate_replication(scenario, keep_waits=10, trace=True)
    # Hand values: event k enters A at k + 1 and starts there at 1 + 1.5k, so waits 0.5k;
    # A finishes at 2.5, 4, 5.5 (< 6); B never makes anyone wait (gaps 1.5 > 0.5).
    assert fast.waits == {"A": ((0.0, 1.5), (0.5, 2.0), (1.0, 2.5)), "B": ((0.0, 0.5), (0.0, 0.5))}
    assert fast.waits == slow.waits
    assert slow.trace is not None
    arrive = {(r.event, r.station): r.time for r in slow.trace if r.kind == "arrive"}
    waits_from_trace = [
        r.time - arrive[(r.event, r.station)]
        for r in slow.trace
        if r.kind == "start" and r.station == "A"
    ]
    assert waits_from_trace[:3] == [w for w, _ in fast.waits["A"]]
    assert_identical(slow, fast)


@pytest.mark.parametrize(
    ("gap_x", "gap_y", "service", "servers", "capacity"),
    [(1.0, 0.5, 0.75, 1, 2), (1.0, 1.0, 1.0, 1, 2), (0.5, 0.5, 1.0, 2, 3)],
)
def test_deterministic_ties_follow_simpy_order(
    gap_x: float, gap_y: float, service: float, servers: int, capacity: int
) -> None:
    """Two classes arriving at the same instants (ties everywhere), with capacity loss.

    The last two cases have a server handed over at an instant when another event
    is already due: the loop must then leave the hand-over (TURN) on the heap, not
    run it at once (a kernel that always runs it at once fails both).
    """
    scenario = scenario_from_dict(
        {
            "stations": {"a": {"servers": servers, "service": det(service), "capacity": capacity}},
            "classes": {
                "x": {"arrivals": {"process": "renewal", "interarrival": det(gap_x)}},
                "y": {"arrivals": {"process": "renewal", "interarrival": det(gap_y)}},
            },
            "run": {"horizon": 50.0, "warmup": 10.0, "replications": 1},
        },
        name="ties",
        allow_unstable=True,
    )
    slow = simulate_replication(scenario, keep_waits=100)
    fast = simulate_replication_fast(scenario, keep_waits=100)
    assert fast.stations["a"].lost > 0
    assert_identical(slow, fast)


# --------------------------------------------------------------------------------------
# Deterministic cases: many events at the same instants, so that only the order in
# which SimPy fires them decides the result (which blocked sender gets the room,
# which copy finds a full station, which class gets a freed server).
# --------------------------------------------------------------------------------------


def blocking_ties(
    gap_x: float, gap_y: float, servers_a: int, capacity_b: int, prio: tuple[float, float]
) -> Scenario:
    """Two classes into A (service 1), on to B (service 1, blocks when full), then C (blocks).

    Gaps and services are multiples of 0.25, so departures from B and C, completions
    at A and arrivals fall on the same instants, with senders blocked on B and on C.
    """
    block = {"on_full": "block"}
    return scenario_from_dict(
        {
            "stations": {
                "A": {"servers": servers_a, "service": det(1.0), "capacity": 6},
                "B": {"servers": 1, "service": det(1.0), "capacity": capacity_b, **block},
                "C": {"servers": 2, "service": det(2.5), "capacity": 2, **block},
            },
            "classes": {
                "x": {
                    "arrivals": {"process": "renewal", "interarrival": det(gap_x), "to": "A"},
                    "routing": {"A": {"B": 1.0}, "B": {"C": 0.5}},
                    "priority": prio[0],
                },
                "y": {
                    "arrivals": {"process": "renewal", "interarrival": det(gap_y), "to": "A"},
                    "routing": {"A": {"B": 0.5, "C": 0.5}, "B": {"C": 1.0}},
                    "priority": prio[1],
                },
            },
            "run": {"horizon": 80.0, "warmup": "auto", "replications": 1, "seed": 4},
        },
        name="blocking-ties",
        allow_unstable=True,
    )


def fanout_into_full(gap: float, servers_p: int) -> Scenario:
    """P publishes to F (room for 1: copies lost) and H, and sends the event on to G or F.

    An event sent on to F arrives there at the instant its copy does: the event
    first, so the copy is the one lost. A publisher blocked on a full G (which
    blocks) has published its copies already (a blocking station takes no copies:
    the scenario refuses that). G publishes to H too, so that copies from P and
    from G meet at H's two servers at the same instants.
    """
    return scenario_from_dict(
        {
            "stations": {
                "P": {"servers": servers_p, "service": det(0.5), "capacity": 4},
                "F": {"servers": 1, "service": det(1.25), "capacity": 1},
                "G": {"servers": 1, "service": det(1.0), "capacity": 2, "on_full": "block"},
                "H": {"servers": 2, "service": det(0.25)},
            },
            "arrivals": {"process": "renewal", "interarrival": det(gap), "to": "P"},
            "routing": {"P": {"fanout": ["F", "H"], "F": 0.25, "G": 0.75}, "G": {"fanout": ["H"]}},
            "run": {"horizon": 60.0, "warmup": 5.0, "replications": 1, "seed": 8},
        },
        name="fanout-full",
        allow_unstable=True,
    )


def priority_ties(servers: int) -> Scenario:
    """Three classes arriving together; two share a priority (FIFO between them)."""
    classes = {
        name: {"arrivals": {"process": "renewal", "interarrival": det(gap)}, "priority": prio}
        for name, gap, prio in [("low", 1.0, 2), ("mid", 0.5, 1), ("peer", 1.0, 1)]
    }
    return scenario_from_dict(
        {
            "stations": {"s": {"servers": servers, "service": det(0.75), "capacity": 8}},
            "classes": classes,
            "run": {"horizon": 60.0, "warmup": "auto", "replications": 1, "seed": 2},
        },
        name="priority-ties",
        allow_unstable=True,
    )


#: A trace with equal timestamps, within a class and across the two classes it feeds.
EQUAL_TIMES = "time,type\n" + "".join(
    f"{t},{kind}\n"
    for t, kind in [
        (0, "a"), (0, "a"), (0, "b"), (0.5, "b"), (0.5, "a"), (0.5, "b"), (1.0, "a"),
        (1.25, "a"), (1.25, "b"), (1.25, "b"), (3.0, "a"), (3.0, "a"), (3.0, "a"),
        (3.0, "b"), (4.5, "b"), (4.5, "a"), (7.0, "a"), (7.0, "b"), (7.0, "b"), (7.5, "a"),
    ]
)  # fmt: skip


def trace_ties(folder: Path) -> Scenario:
    """Two replayed classes, ties everywhere, through a priority line and a blocking station."""
    (folder / "ties.csv").write_text(EQUAL_TIMES)
    trace = {"process": "trace", "file": "ties.csv", "to": "front"}
    return scenario_from_dict(
        {
            "stations": {
                "front": {"servers": 2, "service": det(0.5)},
                "back": {"servers": 1, "service": det(0.75), "capacity": 1, "on_full": "block"},
            },
            "classes": {
                "a": {"arrivals": trace, "routing": {"front": {"back": 1.0}}, "priority": 1},
                "b": {"arrivals": trace, "routing": {"front": {"back": 0.5}}, "priority": 0},
            },
            "run": {"horizon": 9.0, "warmup": "none", "replications": 1, "seed": 6},
        },
        name="trace-ties",
        base_dir=folder,
        allow_unstable=True,
    )


def assert_same_at_ties(scenario: Scenario, warmup: float | None = None) -> ReplicationResult:
    slow = simulate_replication(scenario, keep_waits=100, warmup=warmup)
    fast = simulate_replication_fast(scenario, keep_waits=100, warmup=warmup)
    assert_identical(slow, fast)
    return slow


@pytest.mark.parametrize(
    ("gap_x", "gap_y", "servers_a", "capacity_b", "prio"),
    [
        (1.0, 1.0, 2, 1, (0, 0)),
        (0.5, 1.0, 2, 1, (1, 0)),
        (0.75, 0.5, 3, 2, (0, 1)),
        (0.25, 1.5, 1, 1, (0, 0)),
    ],
)
def test_simultaneous_departures_with_blocked_senders(
    gap_x: float, gap_y: float, servers_a: int, capacity_b: int, prio: tuple[float, float]
) -> None:
    slow = assert_same_at_ties(blocking_ties(gap_x, gap_y, servers_a, capacity_b, prio))
    assert slow.stations["A"].blocked > 0 and slow.stations["B"].blocked > 0
    assert slow.stations["A"].lost > 0  # A's line filled behind its blocked senders


@pytest.mark.parametrize(("gap", "servers_p"), [(0.5, 1), (0.25, 2), (0.75, 1)])
def test_fanout_into_full_stations(gap: float, servers_p: int) -> None:
    slow = assert_same_at_ties(fanout_into_full(gap, servers_p))
    assert slow.stations["F"].lost > 0 and slow.system.copies_lost > 0
    assert slow.stations["P"].blocked > 0


@pytest.mark.parametrize("servers", [1, 2])
def test_priority_ties(servers: int) -> None:
    slow = assert_same_at_ties(priority_ties(servers))
    assert slow.classes["low"].W > slow.classes["mid"].W


@pytest.mark.parametrize("warmup", [None, 1.25])
def test_trace_with_equal_timestamps(tmp_path: Path, warmup: float | None) -> None:
    slow = assert_same_at_ties(trace_ties(tmp_path), warmup)
    assert slow.stations["front"].blocked > 0


def test_a_trace_replayed_to_its_end_runs_on_to_the_horizon() -> None:
    """After a trace's last instant the system empties and no event is left before the horizon.

    The fast loop popped an empty heap there (a segfault or an IndexError with
    NUMBA_BOUNDSCHECK); SimPy's ``run(until=horizon)`` simply runs to the horizon.
    """
    scenario = SUPPORTED["trace_replay"]()
    span = max(simulate_replication(scenario, warmup=0.0).horizon, 1.0)
    kwargs: dict[str, Any] = {"replication": 1, "horizon": 2 * span, "warmup": 0.0}
    slow = simulate_replication(scenario, keep_waits=30, **kwargs)
    fast = simulate_replication_fast(scenario, keep_waits=30, **kwargs)
    assert slow.horizon == 2 * span
    assert_identical(slow, fast)


def test_a_mechanism_not_yet_ported_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every mechanism is ported today; one added to the SimPy engine first is refused."""
    from eda_sim.engine.fast import support

    assert support.UNPORTED == {}
    scenario = load_scenario(str(SCENARIOS / "pubsub.yaml"))
    monkeypatch.setitem(support.UNPORTED, "retries", lambda _: ["stations.publisher.retry"])
    with pytest.raises(ScenarioError) as caught:
        simulate_replication_fast(scenario, horizon=50.0, warmup=0.0)
    assert len(caught.value.faults) == 1
    fault = caught.value.faults[0]
    assert fault.path == "engine"
    assert fault.message == (
        "the fast engine does not support retries (stations.publisher.retry); use --engine simpy"
    )
    with pytest.raises(ScenarioError, match="does not support"):
        run(scenario, engine="fast", replications=2, horizon=50.0, warmup="none")
    monkeypatch.setitem(support.UNPORTED, "retries", lambda _: [])  # not used: runs
    simulate_replication_fast(scenario, horizon=50.0, warmup=0.0)


def test_missing_numba_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "eda_sim.engine.fast.kernel", None)  # import fails
    scenario = SUPPORTED["mmc"]()
    with pytest.raises(ScenarioError) as caught:
        simulate_replication_fast(scenario, horizon=10.0, warmup=0.0)
    assert str(caught.value) == f"engine: {MISSING_NUMBA}"
    assert "eda-sim[fast]" in MISSING_NUMBA
    with pytest.raises(ScenarioError, match=r"eda-sim\[fast\]"):
        run(scenario, engine="fast", replications=2, horizon=10.0, warmup="none")


def test_run_with_workers_and_precision_matches_simpy() -> None:
    scenario = SUPPORTED["tandem"]()
    options: dict[str, Any] = {"horizon": 2000.0, "replications": 3, "precision": 0.2}
    slow = run(scenario, workers=1, engine="simpy", **options)
    fast = run(scenario, workers=2, engine="fast", **options)
    assert fast.engine == "fast" and slow.engine == "simpy"
    assert fast.replications == slow.replications >= 3
    assert fast.stations == slow.stations
    assert fast.system == slow.system
    assert fast.latency == slow.latency  # the pooled histograms, percentiles included


def test_engines_agree_within_joint_99_percent_intervals() -> None:
    """Summaries of independent seeds agree within the joint 99% uncertainty."""
    scenario = SUPPORTED["feedback"]()
    slow = run(scenario, horizon=2000.0, replications=5, seed=21, confidence=0.99)
    fast = run(scenario, horizon=2000.0, replications=5, seed=22, confidence=0.99, engine="fast")
    for name, metrics in slow.stations.items():
        for metric in ("L", "W", "utilization", "throughput"):
            a, b = metrics[metric], fast.stations[name][metric]
            joint = (a.half_width**2 + b.half_width**2) ** 0.5
            assert abs(a.mean - b.mean) <= joint, (name, metric)


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ScenarioError, match="engine: must be auto, simpy or fast"):
        run(SUPPORTED["mmc"](), engine="numba")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# engine="auto": the fast engine when numba is installed and the run is long enough
# --------------------------------------------------------------------------------------


@pytest.fixture
def loop_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Auto sees the fast loop as compiled (whatever this machine's numba cache holds)."""
    from eda_sim.experiment import engines

    monkeypatch.setattr(engines, "fast_loop_cached", lambda: True)


@pytest.mark.usefixtures("loop_compiled")
def test_auto_runs_the_fast_engine_on_a_long_run_and_the_simpy_engine_on_a_short_one() -> None:
    scenario = SUPPORTED["shopping_cart"]()  # ~100,000 visits per replication: ~0.5 s each
    long = choose_engine("auto", scenario)
    assert (long.name, long.describe()) == ("fast", "fast (auto)")
    assert expected_visits(scenario) * 10 * SIMPY_SECONDS_PER_VISIT >= AUTO_FAST_FROM
    short = choose_engine("auto", scenario.with_run(horizon=20.0))
    assert (short.name, short.describe()) == ("simpy", "simpy (auto: a short run)")
    assert choose_engine("simpy", scenario).describe() == "simpy"
    assert choose_engine("fast", scenario.with_run(horizon=20.0)).describe() == "fast"
    # The default of run() is auto, and the result says which engine ran.
    small = run(scenario, replications=2, horizon=200.0, warmup="none")  # ~40,000 visits
    assert small.engine == "simpy"  # ~0.2 s on the SimPy engine
    large = run(scenario.with_run(replications=3, horizon=1000.0, warmup="none"))
    assert large.engine == "fast"  # ~300,000 visits: ~1.5 s on the SimPy engine


@pytest.mark.usefixtures("loop_compiled")
def test_a_sweep_chooses_one_engine_from_all_its_points() -> None:
    scenario = SUPPORTED["mmc"]()
    options: dict[str, Any] = {"replications": 2, "warmup": 100.0}
    short = sweep(scenario, "arrivals.rate", "2.0,2.4", horizon=1000.0, **options)
    assert short.engine == "simpy" and short.to_dict()["engine"] == "simpy"
    points = ",".join(f"{rate:.2f}" for rate in np.linspace(1.0, 2.6, 9))
    long = sweep(scenario, "arrivals.rate", points, horizon=20000.0, **options)
    assert long.engine == "fast"  # 9 points x 2 x ~40,000 visits: ~3 s on the SimPy engine


def test_auto_does_not_compile_the_loop_for_a_run_shorter_than_the_compilation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A newcomer's first run: no twenty seconds of compiling for a few seconds of SimPy work."""
    from eda_sim.experiment import engines

    scenario = SUPPORTED["shopping_cart"]()
    visits = expected_visits(scenario) * scenario.run.replications
    assert AUTO_FAST_FROM <= visits * SIMPY_SECONDS_PER_VISIT < engines.AUTO_COMPILE_SECONDS
    monkeypatch.setattr(engines, "fast_loop_cached", lambda: False)
    first = choose_engine("auto", scenario)
    assert (first.name, first.describe()) == ("simpy", f"simpy (auto: {engines.NOT_COMPILED})")
    assert choose_engine("fast", scenario).name == "fast"  # asked for: compiled once
    # A run that outlasts the compilation on the SimPy engine pays for it.
    long = scenario.with_run(replications=scenario.run.replications * 100)
    assert choose_engine("auto", long).name == "fast"
    monkeypatch.setattr(engines, "fast_loop_cached", lambda: True)
    assert choose_engine("auto", scenario).name == "fast"


def test_the_loop_counts_as_cached_once_this_process_has_it() -> None:
    from eda_sim.engine.fast import loop_is_cached, warm_kernel
    from eda_sim.experiment.engines import prepare_engine

    warm_kernel()
    assert loop_is_cached()
    # Readied again in the same process: nothing compiled, so no compile time to report.
    choice = choose_engine("fast", SUPPORTED["mmc"]())
    assert prepare_engine(choice) is None
    assert warm_kernel() is False


def test_auto_without_numba_or_with_an_unported_mechanism_runs_the_simpy_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eda_sim.engine.fast import support
    from eda_sim.experiment import engines

    scenario = SUPPORTED["shopping_cart"]()
    monkeypatch.setitem(support.UNPORTED, "retries", lambda _: ["stations.cart.retry"])
    assert choose_engine("auto", scenario).describe() == (
        "simpy (auto: the fast engine does not support retries (stations.cart.retry))"
    )
    with pytest.raises(ScenarioError, match="does not support retries"):
        choose_engine("fast", scenario)
    monkeypatch.setitem(support.UNPORTED, "retries", lambda _: [])
    monkeypatch.setattr(engines, "numba_installed", lambda: False)
    assert choose_engine("auto", scenario).describe() == "simpy (auto: numba is not installed)"
    with pytest.raises(ScenarioError, match=r"eda-sim\[fast\]"):
        choose_engine("fast", scenario)


def test_cli_header_and_json_say_which_engine_ran() -> None:
    from eda_sim.engine.fast import warm_kernel

    warm_kernel()  # the loop in numba's disk cache (compiled here on a fresh checkout)
    short = _cli("run", "scenarios/mm1.yaml", "--horizon", "2000", "--replications", "2")
    assert short.returncode == 0, short.stderr
    assert "engine simpy (auto: a short run)" in " ".join(short.stdout.split())
    common = ["run", "scenarios/shopping_cart.yaml", "--replications", "3", "--workers", "1"]
    chosen = _cli(*common, "--json", "-")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["engine"] == "fast"
    header = _cli(*common, "--horizon", "300", "--engine", "fast")
    assert header.returncode == 0, header.stderr
    assert "engine fast;" in " ".join(header.stdout.split())
    # The loop is cached: no compile time reported. (A cache load slower than the
    # notice's delay on a busy machine may still say it is loading the loop.)
    assert "compiled the fast engine's loop" not in header.stderr


_FIRST_USE = """
import sys
from eda_sim.experiment.engines import choose_engine, compiled_note, prepare_engine
from eda_sim.scenario import load_scenario
choice = choose_engine("fast", load_scenario("scenarios/mm1.yaml"))
seconds = prepare_engine(choice, notify=lambda message: print("NOTICE", message))
print("COMPILED" if seconds is not None else "LOADED", seconds)
"""


@pytest.mark.slow
def test_the_compile_time_is_shown_only_when_the_loop_is_compiled(tmp_path: Path) -> None:
    """A fresh numba cache: the first process compiles (and says so), the second loads."""
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    outputs = [
        subprocess.run(
            [sys.executable, "-c", _FIRST_USE], capture_output=True, text=True, cwd=ROOT,
            env=environment, check=True, timeout=600,
        ).stdout
        for _ in range(2)
    ]  # fmt: skip
    first, second = outputs
    assert "NOTICE loading the fast engine's loop" in first
    assert "COMPILED" in first and float(first.split()[-1]) > 0
    assert "NOTICE" not in second and "LOADED None" in second


@pytest.mark.slow
def test_a_command_that_compiles_the_loop_says_one_compile_time(tmp_path: Path) -> None:
    """Every place the command gives the compile time gives the same seconds, and not 0.0 s."""
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    options = ["--engine", "fast", "--horizon", "2000", "--replications", "2", "--workers", "1"]
    command = [sys.executable, "-m", "eda_sim", "run", "scenarios/mm1.yaml", *options, "--json=-"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=environment,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    seconds = r"compiled its loop in ([0-9.]+) s|compiled the fast engine's loop in ([0-9.]+) s"
    notes = " ".join(json.loads(done.stdout)["notes"])
    said = {"".join(found) for found in re.findall(seconds, notes + " " + done.stderr)}
    assert len(said) == 1 and float(said.pop()) > 0, (notes, done.stderr)


def test_sweep_on_the_fast_engine_matches_simpy() -> None:
    scenario = SUPPORTED["mmc"]()
    options: dict[str, Any] = {"replications": 2, "horizon": 1000.0, "warmup": 100.0}
    slow = sweep(scenario, "arrivals.rate", "2.0,2.4", **options)
    fast = sweep(scenario, "arrivals.rate", "2.0,2.4", engine="fast", **options)
    assert fast.rows == slow.rows


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "eda_sim", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)


def test_cli_engine_fast_end_to_end() -> None:
    common = ["run", "scenarios/tandem.yaml", "--horizon", "1500", "--replications", "2"]
    fast = _cli(*common, "--engine", "fast", "--workers", "2", "--json", "-")
    slow = _cli(*common, "--workers", "1", "--json", "-")
    assert fast.returncode == 0, fast.stderr
    fast_doc, slow_doc = json.loads(fast.stdout), json.loads(slow.stdout)
    assert fast_doc["engine"] == "fast" and slow_doc["engine"] == "simpy"
    assert fast_doc["stations"] == slow_doc["stations"]
    assert fast_doc["system"] == slow_doc["system"]


def test_cli_engine_errors_are_one_line_exit_2() -> None:
    bad = _cli("run", "scenarios/mm1.yaml", "--engine", "turbo")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "--engine" in bad.stderr and "simpy or fast" in bad.stderr
    swept = _cli(
        "sweep", "scenarios/mm1.yaml", "--param", "arrivals.rate", "--values", "0.5",
        "--engine", "turbo",
    )  # fmt: skip
    assert swept.returncode == 2 and "--engine" in swept.stderr


_BOUNDS_CHECKED = """
import pickle, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import test_fast_engine as t
simpy_runs = pickle.loads(Path(sys.argv[2]).read_bytes())

def cases(test):
    (marks,) = [m for m in test.pytestmark if m.name == "parametrize"]
    return marks.args[1]

for name in sorted(t.SUPPORTED):
    t.compare_case(name, 150.0, simpy_runs)
t.test_long_run_refills_and_grows_and_stays_identical()
t.test_deterministic_tandem_per_visit_waits()
for test in (
    t.test_deterministic_ties_follow_simpy_order,
    t.test_simultaneous_departures_with_blocked_senders,
    t.test_fanout_into_full_stations,
):
    for case in cases(test):
        test(*case)
for servers in (1, 2):
    t.test_priority_ties(servers)
with tempfile.TemporaryDirectory() as folder:
    t.test_trace_with_equal_timestamps(Path(folder), None)
print("ok")
"""


def test_the_loop_stays_in_bounds(tmp_path: Path) -> None:
    """The loop indexes without bounds checks; compiled with them, every case above passes.

    Run in a fresh process with ``NUMBA_BOUNDSCHECK=1`` and an empty cache, so that
    an index past an array's end (the event pool, the heap, a stream buffer, the
    per-event scratch arrays) raises an IndexError instead of reading other memory.
    The SimPy side of an identity case that :func:`test_same_replication_as_the_simpy_engine`
    ran with the fixed warm-up in this process is that run's replication
    (:data:`SIMPY_RUNS`); any other is simulated there.
    """
    stored = tmp_path / "simpy_runs.pickle"
    stored.write_bytes(pickle.dumps(SIMPY_RUNS))
    SIMPY_RUNS.clear()  # tens of MB (the 640-station case's sample paths): not kept longer
    environment = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _BOUNDS_CHECKED, str(Path(__file__).parent), str(stored)],
        capture_output=True, text=True, cwd=ROOT, env=environment, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_sketches_are_identical_when_cut_at_every_grid_point() -> None:
    scenario = SUPPORTED["feedback"]()
    for warmup in (None, 300.0):  # 300 is grid point 50 of 3000: two cuts at one instant
        slow = simulate_replication(scenario, horizon=3000.0, warmup=warmup, batch_means=True)
        fast = simulate_replication_fast(scenario, horizon=3000.0, warmup=warmup, batch_means=True)
        assert_identical(slow, fast)
        assert slow.latency is not None and len(slow.latency.chunks.labels) > 499


def test_sketches_are_identical_when_cut_only_at_a_fixed_warmup() -> None:
    """A run with a fixed warm-up cuts no grid chunks (``later_starts=False``), in both engines."""
    scenario = SUPPORTED["feedback"]()
    for warmup in (0.0, 300.0):
        kwargs: dict[str, Any] = {"horizon": 3000.0, "warmup": warmup, "later_starts": False}
        slow = simulate_replication(scenario, **kwargs)
        fast = simulate_replication_fast(scenario, **kwargs)
        assert_identical(slow, fast)
        assert slow.latency is not None and slow.latency.chunks is not None
        assert len(slow.latency.chunks.labels) == (2 if warmup else 1)


def test_times_outside_the_loops_octaves_are_sketched_in_python() -> None:
    """A horizon of 1e20 and times near 1: they lie below the loop's 64 octaves (rare path).

    The gaps are 1 with probability 0.998 and 1e22 otherwise, so a few hundred events
    arrive early and the run then waits for the horizon.
    """
    gaps = {"dist": "hyperexponential", "probs": [0.998, 0.002], "rates": [1.0, 1e-22]}
    scenario = scenario_from_dict(
        {
            "stations": {
                "a": {"servers": 2, "service": {"dist": "exponential", "mean": 1.5}},
                "b": {"service": {"dist": "gamma", "mean": 0.5, "cv": 2.0}},
            },
            "arrivals": {"process": "renewal", "interarrival": gaps, "to": "a"},
            "routing": {"a": {"b": 0.5}},
            "run": {"horizon": 1e20, "warmup": "none", "replications": 1, "seed": 2},
        }
    )
    slow = simulate_replication(scenario)
    fast = simulate_replication_fast(scenario)
    assert_identical(slow, fast)
    assert slow.latency is not None
    assert slow.latency.histograms()[("station", "a", "W")].total > 100
