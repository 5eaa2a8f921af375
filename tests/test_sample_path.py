"""The SimPy engine's sample path: kept where stations changed, equal to full snapshots.

At each grid point the SimPy engine keeps only the monitor states of the
stations an event reached since the previous grid point
(:class:`eda_sim.engine.simpy.measurement.StationPathLog`) and evaluates every
station's snapshot from them at the end. These tests take, beside it, a
snapshot of *every* station monitor at every grid point (what the engine did
before, and what :meth:`StationMonitor.snapshot` defines) and require the two
paths to be equal bit for bit, on every shipped scenario (every mechanism:
capacity and loss, blocking after service, fan-out, priorities, trace replay)
and on a network where most stations are idle between grid points. A mechanism
that changes a monitor without adding its station to ``Measurement.touched``
fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eda_sim.engine.simpy import measurement as measurement_module
from eda_sim.engine.simpy import simulate_replication
from eda_sim.scenario import Scenario, load_scenario, scenario_from_dict

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
#: Horizons that keep each shipped case short (None: the scenario's own).
HORIZONS = {"shopping_cart": 200.0, "trace_replay": None, "pubsub": 500.0}


@pytest.fixture
def full_snapshots(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[np.ndarray]]:
    """Every station monitor's snapshot at every grid point, per replication run."""
    paths: list[np.ndarray] = []
    record = measurement_module.Measurement._record_path
    result = measurement_module.Measurement.result

    def record_everything(self: Any, index: int, now: float) -> None:
        self._full_rows.append([monitor.snapshot(now) for monitor in self.stations])
        record(self, index, now)

    def result_with_check(self: Any) -> Any:
        outcome = result(self)  # records the horizon's grid point first
        paths.append(np.array(self._full_rows, dtype=float).transpose(1, 0, 2))
        return outcome

    start = measurement_module.Measurement.start

    def start_with_first_row(self: Any, env: Any) -> None:
        self._full_rows = [[monitor.snapshot(0.0) for monitor in self.stations]]
        start(self, env)

    monkeypatch.setattr(measurement_module.Measurement, "_record_path", record_everything)
    monkeypatch.setattr(measurement_module.Measurement, "result", result_with_check)
    monkeypatch.setattr(measurement_module.Measurement, "start", start_with_first_row)
    yield paths


def mostly_idle_network(size: int = 60) -> Scenario:
    """A line of ``size`` stations with slow arrivals: few stations change per grid step."""
    names = [f"s{i}" for i in range(size)]
    return scenario_from_dict(
        {
            "stations": {
                name: {"servers": 1 + i % 3, "service": {"dist": "exponential", "mean": 0.4}}
                for i, name in enumerate(names)
            },
            "arrivals": {"process": "poisson", "rate": 0.5, "to": {names[0]: 0.5, names[7]: 0.5}},
            "routing": {names[i]: {names[(3 * i + 1) % size]: 0.8} for i in range(size)},
            "run": {"horizon": 300.0, "warmup": 0, "replications": 1},
        }
    )


def assert_path_is_full_snapshots(result: Any, full: np.ndarray, names: list[str]) -> None:
    assert result.path is not None
    kept = np.stack([result.path.stations[name] for name in names])
    assert kept.shape == full.shape
    assert np.array_equal(kept, full)


@pytest.mark.parametrize("stem", sorted(path.stem for path in SCENARIOS.glob("*.yaml")))
def test_kept_path_equals_snapshots_of_every_station(
    stem: str, full_snapshots: list[np.ndarray]
) -> None:
    scenario = load_scenario(str(SCENARIOS / f"{stem}.yaml"))
    horizon = HORIZONS.get(stem, min(scenario.run.horizon, 2_000.0))
    result = simulate_replication(scenario, horizon=horizon, seed=11)
    (full,) = full_snapshots
    assert_path_is_full_snapshots(result, full, scenario.station_names)


@pytest.mark.parametrize("warmup", [0.0, 50.0])
def test_kept_path_of_a_mostly_idle_network(
    warmup: float, full_snapshots: list[np.ndarray]
) -> None:
    scenario = mostly_idle_network()
    result = simulate_replication(scenario, warmup=warmup, seed=5)
    (full,) = full_snapshots
    # Most stations are unchanged between most grid points: the case the log is for.
    unchanged = np.all(full[:, 1:, 3:] == full[:, :-1, 3:], axis=2)
    assert unchanged.mean() > 0.5
    assert_path_is_full_snapshots(result, full, scenario.station_names)
