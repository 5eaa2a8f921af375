"""Parallel speed-up of replications: 1 worker against 2, the automatic choice, and Dask.

The workload is ``run(jackson3, replications=8, engine="simpy", ...)`` on
``scenarios/jackson3.yaml`` with a horizon chosen so that one replication takes
about 1.5 seconds on this machine (measured at start-up, or fixed with
``--horizon``): a run of at least 10 s on one worker, as issue 14's efficiency
target asks. The same run is timed
on 1 worker (in this process) and on 2 worker processes (``workers=2``, a process
pool started and stopped inside each timed run, as a user sees it), interleaved,
``--repeats`` times each; the median wall time of each is kept.

How to run (from the repository root)::

    python benchmarks/bench_parallel.py                  # calibrated horizon, 3 repeats
    python benchmarks/bench_parallel.py --dask           # also through a 2-worker LocalCluster
    python benchmarks/bench_parallel.py --horizon 50000 --repeats 1   # a quick check
    python benchmarks/bench_parallel.py --json parallel.json

How to read the output:

* ``1 worker`` and ``2 workers`` are median seconds for all 8 replications, start-up of
  the pool included; ``speed-up`` = 1-worker time / 2-worker time and ``efficiency`` =
  speed-up / 2. The target is an efficiency of at least 85% on 2 workers; the line
  says PASS or FAIL. That is a report, not a test: the script exits 0 either way
  (non-zero only on a crash).
* ``auto`` is the same run with ``workers=None``: the number of processes chosen from
  the expected work (:func:`eda_sim.experiment.planning.run_workers`), said beside it.
  ``short run`` times 2 replications of a short horizon on ``workers=None`` (which
  starts no pool) against ``workers=2`` (which does): a pool does not pay there.
* The speed-up is only meaningful on an otherwise idle machine with at least two
  cores: the load averages before and after are printed beside it. With other work
  running, both figures are slowed and the speed-up is understated.
* ``CPU time`` is the CPU seconds of each run (this process and the pool's workers,
  median of the repeats): ``efficiency from CPU time`` = 1-worker CPU / 2-worker CPU
  is what the pool costs, whatever else the machine runs, and estimates the
  efficiency an idle 2-core machine would show (the 8 replications split 4 and 4);
  ``cores used`` = CPU / wall time says how much of the machine each run got.
* ``identical`` says whether the 1-worker and 2-worker runs gave the same JSON, as
  they must (replication ``r`` always draws from the same random streams).
* With ``--dask`` a ``distributed.LocalCluster`` of 2 worker processes (one thread
  each) is started once, outside the timing; ``dask (2 workers)`` is the median time
  of the same run through ``run(..., scheduler=ADDRESS)``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from eda_sim.engine.simpy import simulate_replication
from eda_sim.experiment import default_workers, run
from eda_sim.experiment.planning import run_workers
from eda_sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "jackson3.yaml"
REPLICATIONS = 8
#: The engine every timed run uses: the SimPy engine, whose replications of about 1.5 s
#: make a run of >= 10 s (``engine="auto"`` would pick the fast engine for them).
ENGINE: Literal["simpy"] = "simpy"
TARGET_EFFICIENCY = 0.85
#: Horizon of the short run (2 replications) that should start no pool.
SHORT_HORIZON = 2_000.0
#: Horizon of the calibration replication (about 0.2 s on a current core).
CALIBRATION_HORIZON = 20_000.0


def load_averages() -> str:
    """The 1, 5 and 15 minute load averages, or ``n/a``."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # pragma: no cover - not Unix
        return "n/a"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def calibrate(scenario: Scenario, seconds: float) -> float:
    """A horizon for which one replication takes about ``seconds`` here (rounded)."""
    simulate_replication(scenario, horizon=2_000.0, warmup=0.0, seed=1)  # warm caches
    started = time.perf_counter()
    simulate_replication(scenario, horizon=CALIBRATION_HORIZON, warmup=0.0, seed=1)
    elapsed = time.perf_counter() - started
    horizon = CALIBRATION_HORIZON * seconds / elapsed
    return float(round(horizon, -3)) if horizon >= 10_000 else float(round(horizon))


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and by its children that have ended.

    The pool's workers are waited for when a run ends, so their CPU time is counted
    in the run that started them.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(action: Callable[[], dict[str, Any]]) -> tuple[float, dict[str, Any]]:
    """Wall time of ``action()`` and its result."""
    started = time.perf_counter()
    document = action()
    return time.perf_counter() - started, document


def main(argv: list[str] | None = None) -> int:
    """Time the runs, print the figures and the verdict; return the exit code (0)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=float, help="simulated time per replication")
    parser.add_argument(
        "--seconds",
        type=float,
        default=1.5,
        help="calibrate the horizon so that one replication takes this long (default 1.5)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per setting")
    parser.add_argument("--dask", action="store_true", help="also time a 2-worker LocalCluster")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)

    scenario = load_scenario(SCENARIO)
    load_before = load_averages()
    horizon = args.horizon if args.horizon is not None else calibrate(scenario, args.seconds)
    settings: dict[str, Any] = {
        "replications": REPLICATIONS,
        "horizon": horizon,
        "warmup": horizon / 20,
        "seed": 1,
    }
    print(
        f"eda-sim parallel replications: {REPLICATIONS} x jackson3, horizon {horizon:g}, "
        f"median of {args.repeats}"
    )
    print(
        f"python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{default_workers()} usable CPUs, load average before {load_before}"
    )

    def on(workers: int) -> Callable[[], dict[str, Any]]:
        return lambda: run(scenario, workers=workers, engine=ENGINE, **settings).to_dict()

    # one small untimed run of each kind: imports, first pool start
    small = {**settings, "horizon": 2_000.0, "warmup": 100.0, "replications": 2}
    run(scenario, workers=1, engine=ENGINE, **small)
    run(scenario, workers=2, engine=ENGINE, **small)

    serial_times: list[float] = []
    pooled_times: list[float] = []
    auto_times: list[float] = []
    serial_doc: dict[str, Any] = {}
    pooled_doc: dict[str, Any] = {}
    auto_doc: dict[str, Any] = {}
    serial_cpu: list[float] = []
    pooled_cpu: list[float] = []
    for _ in range(args.repeats):
        before = cpu_seconds()
        seconds, serial_doc = timed(on(1))
        serial_cpu.append(cpu_seconds() - before)
        serial_times.append(seconds)
        before = cpu_seconds()
        seconds, pooled_doc = timed(on(2))
        pooled_cpu.append(cpu_seconds() - before)
        pooled_times.append(seconds)
        seconds, auto_doc = timed(
            lambda: run(scenario, workers=None, engine=ENGINE, **settings).to_dict()
        )
        auto_times.append(seconds)
    serial = statistics.median(serial_times)
    pooled = statistics.median(pooled_times)
    auto = statistics.median(auto_times)
    speedup = serial / pooled
    efficiency = speedup / 2
    # On a shared machine the wall times say as much about the other work as about the
    # pool: the CPU seconds say what the pool costs. With 8 replications split 4 and 4,
    # an idle 2-core machine would take about pooled CPU / 2 for the pool and serial CPU
    # for one worker, so serial CPU / pooled CPU estimates the efficiency there.
    cpu_serial = statistics.median(serial_cpu)
    cpu_pooled = statistics.median(pooled_cpu)
    cpu_efficiency = cpu_serial / cpu_pooled
    cores_serial = cpu_serial / serial
    cores_pooled = cpu_pooled / pooled
    identical = serial_doc == pooled_doc == auto_doc
    chosen, _ = run_workers(scenario.with_run(**settings), None, "simpy", REPLICATIONS, False)

    short = {**settings, "horizon": SHORT_HORIZON, "warmup": 100.0, "replications": 2}
    short_chosen, _ = run_workers(scenario.with_run(**short), None, "simpy", 2, False)
    short_auto = statistics.median(
        timed(lambda: run(scenario, workers=None, engine=ENGINE, **short).to_dict())[0]
        for _ in range(args.repeats)
    )
    short_pool = statistics.median(
        timed(lambda: run(scenario, workers=2, engine=ENGINE, **short).to_dict())[0]
        for _ in range(args.repeats)
    )

    figures: dict[str, Any] = {
        "scenario": "jackson3",
        "replications": REPLICATIONS,
        "horizon": horizon,
        "repeats": args.repeats,
        "cpus": default_workers(),
        "serial_seconds": serial_times,
        "two_workers_seconds": pooled_times,
        "auto_seconds": auto_times,
        "auto_workers": chosen,
        "serial_median": serial,
        "two_workers_median": pooled,
        "auto_median": auto,
        "speedup": speedup,
        "efficiency": efficiency,
        "target_efficiency": TARGET_EFFICIENCY,
        "pass": efficiency >= TARGET_EFFICIENCY and serial >= 10.0,
        "serial_cpu_seconds": serial_cpu,
        "two_workers_cpu_seconds": pooled_cpu,
        "cpu_efficiency": cpu_efficiency,
        "cores_used_serial": cores_serial,
        "cores_used_two_workers": cores_pooled,
        "identical": identical,
        "short_auto_workers": short_chosen,
        "short_auto_median": short_auto,
        "short_two_workers_median": short_pool,
    }
    print(f"  1 worker   {serial:7.2f} s   (runs: {', '.join(f'{t:.2f}' for t in serial_times)})")
    print(f"  2 workers  {pooled:7.2f} s   (runs: {', '.join(f'{t:.2f}' for t in pooled_times)})")
    print(
        f"  auto       {auto:7.2f} s   ({chosen} workers chosen; runs: "
        f"{', '.join(f'{t:.2f}' for t in auto_times)})"
    )
    verdict = "PASS" if figures["pass"] else "FAIL"
    print(
        f"  speed-up   {speedup:7.2f} x  efficiency {efficiency:.0%} on 2 workers, "
        f"target >= {TARGET_EFFICIENCY:.0%} for a run of >= 10 s: {verdict}"
    )
    print(
        f"  CPU time   1 worker {cpu_serial:.2f} s, 2 workers {cpu_pooled:.2f} s (pool start and "
        f"merging included): efficiency from CPU time {cpu_efficiency:.0%} (what an idle 2-core "
        f"machine would give); cores used {cores_serial:.2f} and {cores_pooled:.2f} of 2"
    )
    print(f"  identical results on 1, 2 and auto workers: {identical}")
    print(
        f"  short run (2 x horizon {SHORT_HORIZON:g}): auto {short_auto:.2f} s "
        f"({short_chosen} worker{'s' if short_chosen != 1 else ''} chosen), "
        f"2 workers {short_pool:.2f} s"
    )

    if args.dask:
        figures.update(time_dask(scenario, settings, args.repeats, serial, serial_doc))

    load_after = load_averages()
    figures["load_before"], figures["load_after"] = load_before, load_after
    print(f"load average after {load_after}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


def time_dask(
    scenario: Scenario,
    settings: dict[str, Any],
    repeats: int,
    serial: float,
    serial_doc: dict[str, Any],
) -> dict[str, Any]:
    """The same run through a 2-worker LocalCluster (started outside the timing)."""
    try:
        from distributed import LocalCluster
    except ImportError:
        print("  dask: the distributed package is not installed; skipped")
        return {}
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        address = cluster.scheduler_address
        small = {**settings, "horizon": 2_000.0, "warmup": 100.0, "replications": 2}
        # untimed: the workers import eda_sim
        run(scenario, scheduler=address, engine=ENGINE, **small)
        times: list[float] = []
        document: dict[str, Any] = {}
        for _ in range(repeats):
            seconds, document = timed(
                lambda: run(scenario, scheduler=address, engine=ENGINE, **settings).to_dict()
            )
            times.append(seconds)
    median = statistics.median(times)
    identical = document == serial_doc
    print(
        f"  dask (2 workers) {median:7.2f} s   (runs: {', '.join(f'{t:.2f}' for t in times)}); "
        f"speed-up {serial / median:.2f} x; identical to 1 worker: {identical}"
    )
    return {
        "dask_seconds": times,
        "dask_median": median,
        "dask_speedup": serial / median,
        "dask_identical": identical,
    }


if __name__ == "__main__":
    sys.exit(main())
