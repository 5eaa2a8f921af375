"""The fast (numba) engine against the SimPy engine, its refusals and its plumbing.

The fast engine draws from the same random streams as the SimPy engine and fires
events in SimPy's order, so on every supported scenario it must give the *same*
replication, bit for bit: records, sample path, observations, waits. Those are
exact comparisons (``==``), which imply agreement within any joint interval; one
test also checks the joint 99% agreement of the two engines' run summaries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
from eda_sim.experiment.sweeps import sweep
from eda_sim.scenario import Scenario, load_scenario, scenario_from_dict

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


SUPPORTED = {
    "jackson3": lambda: load_scenario(str(SCENARIOS / "jackson3.yaml")),
    "mmc": lambda: load_scenario(str(SCENARIOS / "mmc.yaml")),
    "tandem": lambda: load_scenario(str(SCENARIOS / "tandem.yaml")),
    "multiclass": multiclass,
    "renewal": renewal,
    "feedback": feedback,
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


@pytest.mark.parametrize("name", sorted(SUPPORTED))
@pytest.mark.parametrize("warmup", [None, 150.0])
def test_same_replication_as_the_simpy_engine(name: str, warmup: float | None) -> None:
    scenario = SUPPORTED[name]()
    for replication in (0, 1):
        kwargs: dict[str, Any] = {"replication": replication, "horizon": 2500.0, "warmup": warmup}
        slow = simulate_replication(scenario, keep_waits=30, **kwargs)
        fast = simulate_replication_fast(scenario, keep_waits=30, **kwargs)
        assert slow.completed_visits > 1000
        assert_identical(slow, fast)


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


@pytest.mark.parametrize(
    ("file", "feature"),
    [
        ("pubsub.yaml", "fan-out (routing.publisher.fanout)"),
        ("sync_vs_async.yaml", "blocking (stations."),
        ("priorities.yaml", "priorities (classes."),
        ("trace_replay.yaml", "trace replay ("),
    ],
)
def test_unsupported_features_are_refused_in_one_line(file: str, feature: str) -> None:
    scenario = load_scenario(str(SCENARIOS / file))
    with pytest.raises(ScenarioError) as caught:
        simulate_replication_fast(scenario, horizon=50.0, warmup=0.0)
    assert len(caught.value.faults) == 1
    fault = caught.value.faults[0]
    assert fault.path == "engine"
    assert f"the fast engine does not support {feature}" in fault.message
    assert fault.message.endswith("use --engine simpy")
    assert "\n" not in str(caught.value)
    with pytest.raises(ScenarioError, match="does not support"):
        run(scenario, engine="fast", replications=2, horizon=50.0, warmup="none")


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
    with pytest.raises(ScenarioError, match="engine: must be simpy or fast"):
        run(SUPPORTED["mmc"](), engine="numba")  # type: ignore[arg-type]


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
    refused = _cli("run", "scenarios/pubsub.yaml", "--engine", "fast", "--horizon", "100")
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0
    assert "fan-out" in refused.stderr
    swept = _cli(
        "sweep", "scenarios/mm1.yaml", "--param", "arrivals.rate", "--values", "0.5",
        "--engine", "turbo",
    )  # fmt: skip
    assert swept.returncode == 2 and "--engine" in swept.stderr


_BOUNDS_CHECKED = """
import sys
sys.path.insert(0, sys.argv[1])
import test_fast_engine as t
for name in sorted(t.SUPPORTED):
    t.test_same_replication_as_the_simpy_engine(name, 150.0)
t.test_long_run_refills_and_grows_and_stays_identical()
t.test_deterministic_tandem_per_visit_waits()
for case in [(1.0, 0.5, 0.75, 1, 2), (1.0, 1.0, 1.0, 1, 2), (0.5, 0.5, 1.0, 2, 3)]:
    t.test_deterministic_ties_follow_simpy_order(*case)
print("ok")
"""


def test_the_loop_stays_in_bounds(tmp_path: Path) -> None:
    """The loop indexes without bounds checks; compiled with them, every case above passes.

    Run in a fresh process with ``NUMBA_BOUNDSCHECK=1`` and an empty cache, so that
    an index past an array's end (the event pool, the heap, a stream buffer, the
    per-event scratch arrays) raises an IndexError instead of reading other memory.
    """
    environment = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _BOUNDS_CHECKED, str(Path(__file__).parent)],
        capture_output=True, text=True, cwd=ROOT, env=environment, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
