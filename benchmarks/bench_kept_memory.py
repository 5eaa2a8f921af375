"""Fast replications in kept memory against new memory, in one process.

The fast engine keeps a replication's stream buffers, sketch arrays and (once
its result is dropped) sample path for the next replication in the process
(``eda_sim/engine/fast/buffers.py``). This script measures what that saves on
the generated networks of ``bench_network_size.py``: in one process, rounds of
a short and a long replication (the long one 5 × the visits) run twice each,
once after :func:`eda_sim.engine.fast.buffers.release` (every array new, as
before the pool) and once in the memory the last replication left, the order
alternating from round to round. Per replication it records the CPU time
(user and system, ``getrusage``) and the minor page faults; it reports the
medians, the marginal time per visit ((long − short) / (visits_long −
visits_short), which cancels what a replication pays once) and the ratio
kept / new of the marginal user + system time.

How to run (from the repository root; about a minute at 1,000 stations)::

    python benchmarks/bench_kept_memory.py
    python benchmarks/bench_kept_memory.py --size 3 --rounds 4

A report, not a test: the figures depend on the machine (on a virtual machine
that hands free pages back to its host, new memory costs far more system
time than on bare metal). That the results are the same either way is tested
in ``tests/test_fast_buffers.py``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_network_size import network, visit_rate

from eda_sim.engine.fast import buffers, simulate_replication_fast
from eda_sim.scenario import Scenario, scenario_from_dict

LONG_OVER_SHORT = 5


def replication(scenario: Scenario, horizon: float, new_memory: bool) -> dict[str, float]:
    """One replication's visits, user and system seconds and minor faults."""
    if new_memory:
        buffers.release()
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = simulate_replication_fast(scenario, horizon=horizon, warmup=0.0, later_starts=False)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "visits": result.completed_visits,
        "user": after.ru_utime - before.ru_utime,
        "system": after.ru_stime - before.ru_stime,
        "faults": after.ru_minflt - before.ru_minflt,
    }


def summary(runs: dict[str, list[dict[str, float]]]) -> dict[str, float]:
    """Medians per replication and the marginal times per visit of one arm."""
    med = {
        length: {key: statistics.median(run[key] for run in done) for key in done[0]}
        for length, done in runs.items()
    }
    visits = med["long"]["visits"] - med["short"]["visits"]

    def per_visit(key: str) -> float:
        return (med["long"][key] - med["short"][key]) / visits * 1e9

    totals = {
        length: statistics.median(run["user"] + run["system"] for run in done)
        for length, done in runs.items()
    }
    every = [run for done in runs.values() for run in done]
    return {
        "marginal_ns": (totals["long"] - totals["short"]) / visits * 1e9,
        "marginal_user_ns": per_visit("user"),
        "marginal_system_ns": per_visit("system"),
        "system_ms_median": 1e3 * statistics.median(run["system"] for run in every),
        "system_ms_max": 1e3 * max(run["system"] for run in every),
        "faults_median": statistics.median(run["faults"] for run in every),
        "short_s_median": totals["short"],
        "long_s_median": totals["long"],
    }


def measure(size: int, rounds: int, visits: float) -> dict[str, Any]:
    scenario = scenario_from_dict(network(size), name=f"random-{size}")
    rate = visit_rate(scenario)
    short = visits / LONG_OVER_SHORT / rate
    simulate_replication_fast(scenario, horizon=20_000 / rate, warmup=0.0, later_starts=False)
    arms = {"new": True, "kept": False}
    runs: dict[str, dict[str, list[dict[str, float]]]] = {
        arm: {"short": [], "long": []} for arm in arms
    }
    for r in range(rounds):
        for arm in list(arms) if r % 2 == 0 else list(arms)[::-1]:
            for length, horizon in (("short", short), ("long", short * LONG_OVER_SHORT)):
                runs[arm][length].append(replication(scenario, horizon, arms[arm]))
    table = {arm: summary(done) for arm, done in runs.items()}
    ratio = table["kept"]["marginal_ns"] / table["new"]["marginal_ns"]
    return {"size": size, "rounds": rounds, "long_visits": visits, **table, "kept_over_new": ratio}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000, help="stations (default 1000)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds (default 6)")
    parser.add_argument(
        "--visits", type=float, default=2_000_000, help="visits of the long replication"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = measure(args.size, args.rounds, args.visits)
    for arm in ("new", "kept"):
        f = figures[arm]
        print(
            f"N={args.size} {arm:4s} memory: marginal {f['marginal_ns']:.1f} ns/visit "
            f"(user {f['marginal_user_ns']:.1f}, system {f['marginal_system_ns']:.1f}); "
            f"system per replication {f['system_ms_median']:.0f} ms "
            f"(max {f['system_ms_max']:.0f}); "
            f"faults {f['faults_median']:.0f}; short {f['short_s_median']:.3f} s, "
            f"long {f['long_s_median']:.3f} s"
        )
    print(f"kept / new, marginal user + system: {figures['kept_over_new']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
