"""Budgets checked before anything runs, and workers chosen from the expected work.

The expected work of a replication is the horizon times the visit rate of every
station (traffic equations): it is checked here against hand-computed visit
rates (Jackson networks: λ = γ (I − P)⁻¹ row sums), then the refusals it drives
and the choice of worker processes.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from eda_sim.errors import ScenarioError
from eda_sim.experiment import run, sweep
from eda_sim.experiment.executors import (
    POOL_THRESHOLD,
    choose_workers,
    default_workers,
    expected_seconds,
    max_workers,
)
from eda_sim.scenario import Scenario, scenario_from_dict
from eda_sim.scenario.budgets import (
    DEFAULT_MAX_VISITS,
    MEMORY_LIMIT,
    MIN_GAP_STEPS,
    budget_faults,
    clock_faults,
    expected_visits,
)


def scenario(
    rate: float = 1.0, horizon: float = 1000.0, feedback: float = 0.0, **run: object
) -> Scenario:
    return scenario_from_dict(
        {
            "stations": {
                "a": {"service": {"dist": "exponential", "rate": 10.0 * rate + 10.0}},
                "b": {"service": {"dist": "exponential", "rate": 10.0 * rate + 10.0}},
            },
            "arrivals": {"process": "poisson", "rate": rate, "to": "a"},
            "routing": {"a": {"b": 1.0}, "b": {"a": feedback}},
            "run": {"horizon": horizon, "warmup": "none", **run},
        }
    )


def test_expected_visits_follow_the_traffic_equations() -> None:
    # a -> b -> (back to a with p) : visits per arrival = 2 / (1 - p).
    tandem = scenario(rate=2.0, horizon=500.0, feedback=0.75)
    assert expected_visits(tandem) == pytest.approx(500.0 * 2.0 * 2 / (1 - 0.75), rel=1e-9)


def test_a_trace_counts_its_events_up_to_the_horizon(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("t\n" + "\n".join(str(i) for i in range(101)) + "\n")
    document = {
        "stations": {"a": {"service": {"dist": "exponential", "rate": 5.0}}},
        "arrivals": {"process": "trace", "file": str(path)},
        "run": {"horizon": 50.5, "warmup": "none"},
    }
    assert expected_visits(scenario_from_dict(document)) == pytest.approx(51.0, rel=1e-9)


def test_work_beyond_the_limit_is_refused_with_the_estimate() -> None:
    heavy = scenario(rate=1e6, horizon=1e4)  # 2e10 visits per replication
    (fault,) = budget_faults(heavy, replications=10, keep_paths=False)
    assert fault.path == "run.horizon"
    assert fault.message.startswith("about 2e+10 station visits per replication")
    assert f"over the limit of {DEFAULT_MAX_VISITS:.3g} (--max-visits raises it)" in fault.message
    assert budget_faults(heavy, replications=10, keep_paths=False, max_visits=1e11) == []


def test_the_refusal_is_immediate_through_run() -> None:
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="station visits per replication"):
        run(scenario(rate=1e6, horizon=1e4), replications=2)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("rate", [1e300, 1e30])
def test_a_clock_that_cannot_advance_is_refused(rate: float) -> None:
    (fault,) = clock_faults(scenario(rate=rate, horizon=1e4))
    assert fault.path == "arrivals"
    assert f"below {MIN_GAP_STEPS} clock steps" in fault.message


def test_a_clock_fault_is_not_repeated_as_work() -> None:
    faults = budget_faults(scenario(rate=1e300), replications=2, keep_paths=False)
    assert [f.path for f in faults] == ["arrivals"]


def test_a_horizon_too_small_for_its_grid() -> None:
    (fault,) = clock_faults(scenario(horizon=5e-324))
    assert fault.path == "run.horizon"
    assert "sample-path intervals cannot be told apart" in fault.message


def test_memory_of_kept_results_is_bounded() -> None:
    many = scenario(replications=1_000_000)
    (fault,) = budget_faults(many, replications=1_000_000, keep_paths=True)
    assert fault.path == "run.replications"
    assert f"over the limit of {MEMORY_LIMIT / 1e9:g} GB" in fault.message
    assert "or a fixed warm-up" in fault.message


def test_a_sweep_checks_every_point_before_the_first_runs() -> None:
    base = scenario(horizon=100.0)
    with pytest.raises(ScenarioError) as info:
        sweep(base, "run.horizon", [100.0, 1e12], replications=1)
    (fault,) = info.value.faults
    assert fault.message.startswith("at sweep point 2 of 2 (run.horizon = 1e+12), about 2e+12")


def test_precision_far_beyond_reach_stops_at_the_cap() -> None:
    result = run(scenario(horizon=200.0), replications=2, precision=1e-300, max_replications=5)
    assert result.replications == 5
    assert result.precision is not None and not result.precision.met


# ---------------------------------------------------------------- workers


def test_a_short_run_starts_no_pool_and_a_long_one_uses_every_cpu() -> None:
    assert choose_workers(None, tasks=100, seconds=POOL_THRESHOLD / 2) == 1
    assert choose_workers(None, tasks=100, seconds=POOL_THRESHOLD * 10) == default_workers()
    assert choose_workers(None, tasks=1, seconds=1e6) == 1
    assert choose_workers(7, tasks=100, seconds=0.0) == 7  # asked for: kept


def test_expected_seconds_grow_with_the_work() -> None:
    short = expected_seconds(1e3, 10, 3, "simpy")
    assert short < POOL_THRESHOLD
    assert expected_seconds(1e7, 10, 3, "simpy") > POOL_THRESHOLD
    assert expected_seconds(1e7, 10, 3, "fast") < expected_seconds(1e7, 10, 3, "simpy")


def test_too_many_workers_are_refused_before_any_process_starts() -> None:
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="workers: must be <= "):
        run(scenario(horizon=10.0), replications=2, workers=max_workers() + 1)
    assert time.perf_counter() - started < 2.0


def test_more_workers_than_replications_start_only_as_many() -> None:
    """``workers=8`` for 2 replications forks 2 processes (the pool is sized to the work)."""
    result = run(scenario(horizon=50.0), replications=2, workers=min(8, max_workers()))
    assert result.replications == 2
    assert math.isfinite(result.system["W"].mean)


def test_a_pool_whose_workers_cost_more_to_start_than_they_save_is_not_started() -> None:
    cpus = default_workers()
    if cpus < 2:
        pytest.skip("one CPU: never a pool")
    seconds = 4 * POOL_THRESHOLD
    assert choose_workers(None, tasks=100, seconds=seconds, start=0.1) == cpus
    saved = seconds * (1 - 1 / cpus)
    assert choose_workers(None, tasks=100, seconds=seconds, start=saved) == 1
    assert choose_workers(3, tasks=100, seconds=seconds, start=saved) == 3  # asked for: kept


def test_workers_are_planned_for_the_engine_that_runs_never_auto(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eda_sim.experiment import planning, run_plan

    with pytest.raises(ValueError, match="not 'auto'"):
        planning.run_workers(scenario(), None, "auto", 2, False)
    seen: list[str] = []
    real = planning.run_workers

    def spy(s: Scenario, w: int | None, engine: str, most: int, rounds: bool) -> tuple[int, bool]:
        seen.append(engine)
        return real(s, w, engine, most, rounds)

    monkeypatch.setattr(run_plan, "run_workers", spy)
    result = run(scenario(horizon=50.0), replications=2, engine="auto")
    assert seen == [result.engine] and result.engine in ("simpy", "fast")
