"""Speed and memory of the eda-sim engine beside Ciw and a minimal SimPy model.

All four implementations simulate the same network, ``jackson3``: three
single-server FIFO stations (ingest, enrich, store) with infinite buffers, Poisson
external arrivals at rate 1.0 into ingest only, exponential service at rates 2.0,
1.5 and 2.5, and routing matrix (row = from, column = to, the rest of the row
leaves the system)::

    [[0.0, 0.6, 0.3],
     [0.0, 0.0, 0.5],
     [0.2, 0.0, 0.0]]

The traffic equations λ = γ + Pᵀλ give λ ≈ (1.136, 0.682, 0.682), so about 2.5
service visits per unit of simulated time. The unit of work is one *service
visit* (one completed service at one station).

How to run (from the repository root)::

    python benchmarks/bench_vs_ciw.py                       # horizons 20000,100000; 3 repeats
    python benchmarks/bench_vs_ciw.py --horizons 2000,10000 --repeats 1   # quick check
    python benchmarks/bench_vs_ciw.py --memory --json bench.json

The implementations:

eda-sim
    ``eda_sim.engine.simpy.simulate_replication`` on
    ``scenarios/jackson3.yaml`` (replication 0, no warm-up). If the engine cannot be
    imported the script says so and runs the others.
eda-sim fast
    ``eda_sim.engine.fast.simulate_replication_fast``, the compiled loop
    (numba, the ``[fast]`` extra), on the same scenario, at 20 times both horizons
    (``HORIZON_SCALE``) so that its timed difference is well above the timer's
    noise; its compile time (first call in a fresh process, then again with the
    on-disk cache) is reported separately.
Ciw
    ``ciw.Simulation(...).simulate_until_max_time``; visits = service records.
minimal SimPy
    The plain hand-written SimPy model: one process per customer, a
    ``Resource`` per station, draws from one seeded ``random.Random``, and nothing
    recorded but the count of completed services. It is the floor: what SimPy itself
    costs for this network.

How to read the numbers:

* Every implementation runs at a short and a long horizon, ``--repeats`` times each
  (interleaved, after one small warm-up run each); the median wall time is kept.
* ``s/100k marginal`` = (t_long − t_short) / (visits_long − visits_short) × 1e5: the
  cost of 100,000 more service visits, with the fixed start-up cost (imports,
  building the model, scenario checks) cancelled out. This is the headline figure and
  the ratios and targets use it.
* ``s/100k @long`` = t_long / visits_long × 1e5: the plain figure, start-up included.
* ``visits/t`` is the observed visit rate at the long horizon; it should be close to
  the theoretical total (≈ 2.5). A large gap means an implementation models a
  different network and its timing is not comparable.
* Targets of the project: eda-sim ≤ 0.45 × Ciw and eda-sim ≤ 1.25 × minimal SimPy
  (marginal seconds per 100k visits); the fast engine ≤ 0.01 × Ciw and ≥ 40 × faster
  than the SimPy engine; and with ``--memory`` a peak-RSS growth of at most 50 MB
  from a ~50,000-visit run to a ~2,000,000-visit run for either engine (each
  measured in its own fresh process, so the growth shows whether memory grows with
  the run length). The minimal SimPy model is measured the same way for reference. PASS/FAIL
  is a report: the script exits 0 either way, and non-zero only if something crashed.
* Peak RSS is the helper process's own high-water mark, ``VmHWM`` from
  ``/proc/self/status`` on Linux. ``ru_maxrss`` is not used there because Linux carries
  it across ``exec``: a helper would report at least this (large) parent's peak.
  Other systems fall back to ``ru_maxrss`` of the helper.
* Timings are wall-clock (``time.perf_counter``) in one process with the garbage
  collector on, as a user would run; compare figures from the same run only.
"""

import argparse
import gc
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import simpy

REPO_ROOT = Path(__file__).resolve().parent.parent
SCENARIO_PATH = REPO_ROOT / "scenarios" / "jackson3.yaml"

# The jackson3 network, in station order.
STATIONS: tuple[str, ...] = ("ingest", "enrich", "store")
EXTERNAL_RATES: tuple[float, ...] = (1.0, 0.0, 0.0)
SERVICE_RATES: tuple[float, ...] = (2.0, 1.5, 2.5)
ROUTING: tuple[tuple[float, ...], ...] = (
    (0.0, 0.6, 0.3),
    (0.0, 0.0, 0.5),
    (0.2, 0.0, 0.0),
)
SEED = 1

TARGET_VS_CIW = 0.45
TARGET_VS_MINIMAL_SIMPY = 1.25
TARGET_MEMORY_GROWTH_MB = 50.0
MEMORY_SHORT_VISITS = 50_000
MEMORY_LONG_VISITS = 2_000_000
#: The reliability target: a run of this many visits peaks under TARGET_PEAK_MB.
TEN_MILLION_VISITS = 10_000_000
TARGET_PEAK_MB = 150.0
WARMUP_RUN_HORIZON = 200.0
RATE_MISMATCH_WARNING = 0.05  # relative gap of observed vs theoretical visit rate

EDA_SIM = "eda-sim"
EDA_SIM_FAST = "eda-sim fast"
CIW = "Ciw"
MINIMAL_SIMPY = "minimal SimPy"
IMPLEMENTATIONS: tuple[str, ...] = (EDA_SIM_FAST, EDA_SIM, CIW, MINIMAL_SIMPY)
#: The fast engine's targets: <= 0.01 x Ciw, and >= 40x faster than the SimPy engine.
TARGET_FAST_VS_CIW = 0.01
TARGET_FAST_SPEEDUP = 40.0
CHILD_KEYS = {EDA_SIM: "eda-sim", EDA_SIM_FAST: "eda-sim-fast", MINIMAL_SIMPY: "minimal-simpy"}
#: The fast engine runs at this multiple of both horizons, so that the time it takes
#: between them (a fraction of a second) stands well above the timer's noise.
HORIZON_SCALE = {EDA_SIM_FAST: 20.0}

Runner = Callable[[float], int]
"""Simulate the network up to a horizon and return the number of completed visits."""


# --------------------------------------------------------------------------- theory


def traffic_rates() -> list[float]:
    """Solve the traffic equations λ = γ + Pᵀλ of the network (visits per unit time)."""
    import numpy as np  # imported here so the memory helper processes do not load it

    routing = np.array(ROUTING, dtype=float)
    external = np.array(EXTERNAL_RATES, dtype=float)
    rates = np.linalg.solve(np.eye(len(STATIONS)) - routing.T, external)
    return [float(rate) for rate in rates]


# -------------------------------------------------------------------- implementations


def _ensure_repo_on_path() -> None:
    """Make the package in this source tree importable (it need not be installed)."""
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)


def make_eda_sim_runner() -> tuple[Runner | None, str]:
    """Return a runner for the eda-sim engine, or ``None`` and the reason it is missing."""
    _ensure_repo_on_path()
    try:
        from eda_sim.engine.simpy import simulate_replication
        from eda_sim.scenario import load_scenario
    except (ImportError, AttributeError) as exc:
        return None, f"ImportError: {exc}"
    except Exception as exc:  # a module that is half written
        return None, f"{type(exc).__name__} on import: {exc}"
    if not SCENARIO_PATH.is_file():
        return None, f"scenario file not found: {SCENARIO_PATH}"
    scenario = load_scenario(str(SCENARIO_PATH))

    def run(horizon: float) -> int:
        result = simulate_replication(scenario, replication=0, horizon=horizon, warmup=0.0)
        return int(result.completed_visits)

    import eda_sim

    return run, f"eda_sim from {Path(eda_sim.__file__).parent}"


def make_fast_runner() -> tuple[Runner | None, str]:
    """Return a runner for the compiled engine (``engine="fast"``), or ``None`` and why."""
    _ensure_repo_on_path()
    try:
        from eda_sim.engine import fast as fast_engine
        from eda_sim.scenario import load_scenario

        fast_engine.load_kernel()
    except Exception as exc:  # numba missing (ScenarioError) or a half-written module
        return None, f"{type(exc).__name__}: {exc}"
    scenario = load_scenario(str(SCENARIO_PATH))

    def run(horizon: float) -> int:
        result = fast_engine.simulate_replication_fast(
            scenario, replication=0, horizon=horizon, warmup=0.0
        )
        return int(result.completed_visits)

    return run, f"numba {_version('numba')}"


def compile_child() -> int:
    """Time the fast engine's first call in this fresh process; print it as JSON."""
    start = time.perf_counter()
    runner, note = make_fast_runner()
    if runner is None:
        print(json.dumps({"available": False, "note": note}))
        return 0
    runner(WARMUP_RUN_HORIZON)
    print(json.dumps({"available": True, "seconds": time.perf_counter() - start}))
    return 0


def measure_compile() -> dict[str, Any]:
    """First-call time of the fast engine in two fresh processes sharing an empty cache.

    The first compiles the loop and writes numba's on-disk cache; the second finds
    the cache and must not recompile (its time is imports plus loading the cache).
    """
    import tempfile

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("first_process", "second_process"):
            command = [sys.executable, str(Path(__file__).resolve()), "--compile-child"]
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            lines = done.stdout.strip().splitlines()
            result[label] = json.loads(lines[-1]) if lines else {"available": False}
    return result


def make_ciw_runner() -> tuple[Runner | None, str]:
    """Return a runner for the same network in Ciw, or ``None`` and the reason."""
    try:
        import ciw
    except ImportError as exc:
        return None, f"{type(exc).__name__}: {exc}"

    def run(horizon: float) -> int:
        network = ciw.create_network(
            arrival_distributions=[
                ciw.dists.Exponential(rate=rate) if rate > 0 else None for rate in EXTERNAL_RATES
            ],
            service_distributions=[ciw.dists.Exponential(rate=rate) for rate in SERVICE_RATES],
            routing=[list(row) for row in ROUTING],  # Ciw insists on floats
            number_of_servers=[1] * len(STATIONS),
        )
        # Ciw has only global random state (the `random` module and `ciw.rng`), no
        # per-simulation stream: ciw.seed() resets both, so every run here is the same
        # sample path and must be seeded right before the Simulation is built.
        ciw.seed(SEED)
        simulation = ciw.Simulation(network)
        simulation.simulate_until_max_time(horizon)
        return len(simulation.get_all_records(only=["service"]))

    return run, f"ciw {ciw.__version__}"


def run_minimal_simpy(horizon: float) -> int:
    """Simulate the network as a plain hand-written SimPy model; return completed visits."""
    rng = random.Random(SEED)
    env = simpy.Environment()
    stations = [simpy.Resource(env, capacity=1) for _ in STATIONS]
    # Cumulative routing probabilities per station: [(cumulative p, next station), ...].
    next_hops: list[list[tuple[float, int]]] = []
    for row in ROUTING:
        cumulative, hops = 0.0, []
        for target, probability in enumerate(row):
            if probability > 0:
                cumulative += probability
                hops.append((cumulative, target))
        next_hops.append(hops)
    arrival_rate = EXTERNAL_RATES[0]  # external arrivals enter at ingest only
    completed = 0

    def customer() -> Generator[simpy.Event, Any, None]:
        nonlocal completed
        station: int | None = 0
        while station is not None:
            with stations[station].request() as req:
                yield req
                yield env.timeout(rng.expovariate(SERVICE_RATES[station]))
            completed += 1
            u = rng.random()
            for cumulative, target in next_hops[station]:
                if u < cumulative:
                    station = target
                    break
            else:
                station = None

    def source() -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(rng.expovariate(arrival_rate))
            env.process(customer())

    env.process(source())
    env.run(until=horizon)
    return completed


def make_runners() -> dict[str, tuple[Runner | None, str]]:
    """Return every implementation's runner (or ``None``) and a note on where it came from."""
    return {
        EDA_SIM_FAST: make_fast_runner(),
        EDA_SIM: make_eda_sim_runner(),
        CIW: make_ciw_runner(),
        MINIMAL_SIMPY: (run_minimal_simpy, f"simpy {_version('simpy')}"),
    }


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """The repeated timings of one implementation at the two horizons."""

    name: str
    available: bool
    note: str
    seconds: dict[float, list[float]] = field(default_factory=dict)
    visits: dict[float, list[int]] = field(default_factory=dict)

    def median_seconds(self, horizon: float) -> float:
        return statistics.median(self.seconds[horizon])

    @property
    def scale(self) -> float:
        """The multiple of the nominal horizons this implementation runs at."""
        return HORIZON_SCALE.get(self.name, 1.0)

    def median_visits(self, horizon: float) -> int:
        return int(statistics.median(self.visits[horizon]))

    def marginal_per_100k(self, short: float, long: float) -> float:
        extra_visits = self.median_visits(long) - self.median_visits(short)
        extra_seconds = self.median_seconds(long) - self.median_seconds(short)
        return extra_seconds / extra_visits * 1e5

    def plain_per_100k(self, horizon: float) -> float:
        return self.median_seconds(horizon) / self.median_visits(horizon) * 1e5


def time_all(
    runners: dict[str, tuple[Runner | None, str]],
    horizons: tuple[float, float],
    repeats: int,
) -> dict[str, Timing]:
    """Time every available implementation, interleaved so that drift hits all alike."""
    timings = {
        name: Timing(name=name, available=runner is not None, note=note)
        for name, (runner, note) in runners.items()
    }
    active = {name: runner for name, (runner, _) in runners.items() if runner is not None}
    for runner in active.values():
        runner(WARMUP_RUN_HORIZON)  # first-call costs (lazy imports, caches) stay out
    for repeat in range(repeats):
        for horizon in horizons:
            for name, runner in active.items():
                actual = horizon * timings[name].scale
                gc.collect()
                start = time.perf_counter()
                visits = runner(actual)
                elapsed = time.perf_counter() - start
                timings[name].seconds.setdefault(horizon, []).append(elapsed)
                timings[name].visits.setdefault(horizon, []).append(visits)
                print(
                    f"  repeat {repeat + 1}/{repeats}  H={actual:<10g} {name:<14}"
                    f" {visits:>9,d} visits  {elapsed:8.3f} s",
                    flush=True,
                )
    return timings


# --------------------------------------------------------------------------- memory


def _ru_maxrss_kib() -> int:
    """Return ``getrusage(RUSAGE_SELF).ru_maxrss`` in KiB (it is bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024) if sys.platform == "darwin" else int(peak)


def _peak_rss_kib() -> tuple[int, str]:
    """Return this process's own peak resident set size in KiB, and where it was read.

    On Linux ``ru_maxrss`` survives ``exec``: a helper started by ``subprocess`` reports
    at least the parent's peak RSS at the time of the fork, which here (after Ciw has
    kept all its records) would hide the helper's own figure. ``VmHWM`` in
    ``/proc/self/status`` is the high-water mark of the process's current address space,
    which starts afresh at ``exec``. Elsewhere fall back to ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]), "VmHWM"
    except (OSError, ValueError, IndexError):
        pass
    return _ru_maxrss_kib(), "ru_maxrss"


def memory_child(key: str, horizon: float) -> int:
    """Run one implementation once in this (fresh) process and print its peak RSS as JSON."""
    report: dict[str, Any] = {"implementation": key, "horizon": horizon}
    runner: Runner | None
    if key == CHILD_KEYS[EDA_SIM]:
        runner, note = make_eda_sim_runner()
    elif key == CHILD_KEYS[EDA_SIM_FAST]:
        runner, note = make_fast_runner()
    else:
        runner, note = run_minimal_simpy, f"simpy {_version('simpy')}"
    report["note"] = note
    if runner is None:
        report["available"] = False
    else:
        start = time.perf_counter()
        report["visits"] = runner(horizon)
        report["seconds"] = time.perf_counter() - start
        report["available"] = True
    report["max_rss_kib"], report["max_rss_source"] = _peak_rss_kib()
    report["ru_maxrss_kib"] = _ru_maxrss_kib()  # for reference; may include the parent's
    print(json.dumps(report))
    return 0


def _child_peak(name: str, horizon: float) -> dict[str, Any]:
    """Run ``name`` once in a fresh process at ``horizon``; return its report."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--memory-child",
        CHILD_KEYS[name],
        "--memory-horizon",
        repr(float(horizon)),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
        raise RuntimeError(f"memory helper for {name} exited {completed.returncode}: {tail[0]}")
    report: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return report


def measure_ten_million(visit_rate: float) -> dict[str, Any]:
    """Peak RSS of one eda-sim replication of about ten million visits, in a fresh process."""
    horizon = round(TEN_MILLION_VISITS / visit_rate)
    print(f"  eda-sim: H={horizon:g} (~{TEN_MILLION_VISITS:,d} visits) ...", flush=True)
    report = _child_peak(EDA_SIM, horizon)
    if report["available"]:
        peak_mb = report["max_rss_kib"] / 1024
        report["peak_mb"] = peak_mb
        report["limit_mb"] = TARGET_PEAK_MB
        report["status"] = _status(peak_mb, TARGET_PEAK_MB)
        print(
            f"  peak RSS {peak_mb:.1f} MB for {report['visits']:,d} visits in "
            f"{report['seconds']:.0f} s  target <= {TARGET_PEAK_MB:g} MB  {report['status']}"
        )
    return report


def measure_memory(name: str, visit_rate: float) -> dict[str, Any]:
    """Measure one implementation's peak RSS at a short and a long run, one process each."""
    result: dict[str, Any] = {"available": True, "runs": {}}
    for label, visits in (("short", MEMORY_SHORT_VISITS), ("long", MEMORY_LONG_VISITS)):
        horizon = round(visits / visit_rate)
        print(f"  {name}: {label} run, H={horizon:g} (~{visits:,d} visits) ...", flush=True)
        child = _child_peak(name, horizon)
        if not child["available"]:
            return {"available": False, "note": child["note"], "runs": {}}
        result["runs"][label] = child
    short_kib = result["runs"]["short"]["max_rss_kib"]
    long_kib = result["runs"]["long"]["max_rss_kib"]
    result["growth_mb"] = (long_kib - short_kib) / 1024
    return result


# -------------------------------------------------------------------------- reporting


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    """Describe the machine, the interpreter and the library versions."""
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity(0)) if affinity is not None else os.cpu_count(),
        "versions": {name: _version(name) for name in ("simpy", "ciw", "numpy")},
    }


def _status(value: float | None, limit: float) -> str:
    if value is None:
        return "n/a"
    return "PASS" if value <= limit else "FAIL"


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def summarise(
    timings: dict[str, Timing], horizons: tuple[float, float], visit_rate: float
) -> dict[str, Any]:
    """Compute the per-implementation figures, the ratios and the target verdicts."""
    short, long = horizons
    figures: dict[str, Any] = {}
    for name, timing in timings.items():
        entry: dict[str, Any] = {"available": timing.available, "note": timing.note}
        if timing.available:
            entry["runs"] = {
                repr(h): {
                    "seconds": timing.seconds[h],
                    "median_seconds": timing.median_seconds(h),
                    "horizon": h * timing.scale,
                    "visits": timing.median_visits(h),
                    "expected_visits": visit_rate * h * timing.scale,
                }
                for h in horizons
            }
            entry["horizon_scale"] = timing.scale
            entry["visits_long"] = timing.median_visits(long)
            entry["visits_per_time_long"] = timing.median_visits(long) / (long * timing.scale)
            entry["seconds_per_100k_marginal"] = timing.marginal_per_100k(short, long)
            entry["seconds_per_100k_long"] = timing.plain_per_100k(long)
        figures[name] = entry

    def ratio(key: str, other: str) -> float | None:
        if not (figures[EDA_SIM]["available"] and figures[other]["available"]):
            return None
        return float(figures[EDA_SIM][key] / figures[other][key])

    ratios = {
        "eda_sim_over_ciw_marginal": ratio("seconds_per_100k_marginal", CIW),
        "eda_sim_over_ciw_long": ratio("seconds_per_100k_long", CIW),
        "eda_sim_over_minimal_simpy_marginal": ratio("seconds_per_100k_marginal", MINIMAL_SIMPY),
        "eda_sim_over_minimal_simpy_long": ratio("seconds_per_100k_long", MINIMAL_SIMPY),
    }
    targets = {
        "eda_sim_vs_ciw": {
            "limit": TARGET_VS_CIW,
            "value": ratios["eda_sim_over_ciw_marginal"],
            "status": _status(ratios["eda_sim_over_ciw_marginal"], TARGET_VS_CIW),
        },
        "eda_sim_vs_minimal_simpy": {
            "limit": TARGET_VS_MINIMAL_SIMPY,
            "value": ratios["eda_sim_over_minimal_simpy_marginal"],
            "status": _status(
                ratios["eda_sim_over_minimal_simpy_marginal"], TARGET_VS_MINIMAL_SIMPY
            ),
        },
    }
    fast, simpy_engine, ciw = figures[EDA_SIM_FAST], figures[EDA_SIM], figures[CIW]
    key = "seconds_per_100k_marginal"
    fast_over_ciw = float(fast[key] / ciw[key]) if fast["available"] and ciw["available"] else None
    speedup = (
        float(simpy_engine[key] / fast[key])
        if fast["available"] and simpy_engine["available"]
        else None
    )
    ratios["fast_over_ciw_marginal"] = fast_over_ciw
    ratios["fast_speedup_over_simpy_engine_marginal"] = speedup
    targets["fast_vs_ciw"] = {
        "limit": TARGET_FAST_VS_CIW,
        "value": fast_over_ciw,
        "status": _status(fast_over_ciw, TARGET_FAST_VS_CIW),
    }
    targets["fast_speedup_vs_simpy_engine"] = {
        "limit": TARGET_FAST_SPEEDUP,
        "value": speedup,
        "status": "n/a"
        if speedup is None
        else ("PASS" if speedup >= TARGET_FAST_SPEEDUP else "FAIL"),
    }
    return {"implementations": figures, "ratios": ratios, "targets": targets}


def print_speed(summary: dict[str, Any], horizons: tuple[float, float], visit_rate: float) -> None:
    """Print the speed table, the ratios and the target verdicts."""
    short, long = horizons
    print()
    print(f"Speed (median of repeats; marginal between H={short:g} and H={long:g})")
    header = (
        f"  {'implementation':<15} {'visits @long':>14}"
        f" {'visits/t':>9} {'s/100k marginal':>16} {'s/100k @long':>13}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, entry in summary["implementations"].items():
        if not entry["available"]:
            print(f"  {name:<15} not available ({entry['note']})")
            continue
        scale = entry["horizon_scale"]
        print(
            f"  {name:<15} {entry['visits_long']:>14,d} {entry['visits_per_time_long']:>9.3f}"
            f" {entry['seconds_per_100k_marginal']:>16.4f} {entry['seconds_per_100k_long']:>13.4f}"
            + (f"  (at {scale:g}x the horizons)" if scale != 1 else "")
        )
    print(f"  (theory: {visit_rate:.3f} visits per unit time)")
    for name, entry in summary["implementations"].items():
        if entry["available"]:
            gap = entry["visits_per_time_long"] / visit_rate - 1
            if abs(gap) > RATE_MISMATCH_WARNING:
                print(
                    f"  WARNING: {name} visit rate is {gap:+.1%} off theory;"
                    " it may not simulate the same network"
                )
    ratios, targets = summary["ratios"], summary["targets"]
    print()
    print("Ratios (eda-sim / other; < 1 means eda-sim is faster)")
    for other, key, target_key in (
        (CIW, "eda_sim_over_ciw", "eda_sim_vs_ciw"),
        (MINIMAL_SIMPY, "eda_sim_over_minimal_simpy", "eda_sim_vs_minimal_simpy"),
    ):
        target = targets[target_key]
        print(
            f"  eda-sim / {other:<14} marginal {_fmt(ratios[key + '_marginal'], '6.3f')}"
            f"   @long {_fmt(ratios[key + '_long'], '6.3f')}"
            f"   target <= {target['limit']:.2f}  {target['status']}"
        )
    fast_ciw, speedup = targets["fast_vs_ciw"], targets["fast_speedup_vs_simpy_engine"]
    print(
        f"  eda-sim fast / {CIW:<9} marginal {_fmt(fast_ciw['value'], '6.4f')}"
        f"   target <= {fast_ciw['limit']:.2f}  {fast_ciw['status']}"
    )
    print(
        f"  eda-sim fast speed-up over the SimPy engine (marginal) {_fmt(speedup['value'], '.1f')}x"
        f"   target >= {speedup['limit']:g}x  {speedup['status']}"
    )


def print_memory(memory: dict[str, Any]) -> None:
    """Print the peak RSS of the short and long runs and the growth against the target."""
    print()
    print(
        f"Memory (peak RSS of a fresh process; ~{MEMORY_SHORT_VISITS:,d} vs"
        f" ~{MEMORY_LONG_VISITS:,d} visits)"
    )
    for name, entry in memory.items():
        if not entry["available"]:
            print(f"  {name:<15} not available ({entry['note']})")
            continue
        short, long = entry["runs"]["short"], entry["runs"]["long"]
        verdict = (
            f"target <= {TARGET_MEMORY_GROWTH_MB:g} MB  {entry['status']}"
            if "status" in entry
            else "(reference)"
        )
        short_mb, long_mb = short["max_rss_kib"] / 1024, long["max_rss_kib"] / 1024
        print(
            f"  {name:<15} short {short_mb:7.1f} MB ({short['visits']:,d} visits)"
            f"   long {long_mb:7.1f} MB ({long['visits']:,d} visits)"
            f"   growth {entry['growth_mb']:+6.1f} MB  {verdict}"
        )


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write the JSON document atomically: a temporary file beside it, then a rename."""
    path = path.resolve()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2)
            stream.write("\n")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------------ main


def parse_horizons(text: str) -> tuple[float, float]:
    """Parse ``SHORT,LONG`` into two increasing positive horizons."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not numbers: {text!r}") from exc
    if len(values) != 2 or not 0 < values[0] < values[1]:
        raise argparse.ArgumentTypeError(f"need SHORT,LONG with 0 < SHORT < LONG, got {text!r}")
    return values[0], values[1]


def positive_int(text: str) -> int:
    """Parse a positive integer."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description="Time eda-sim against Ciw and a minimal SimPy model on jackson3.",
    )
    parser.add_argument(
        "--horizons",
        type=parse_horizons,
        default=(20000.0, 100000.0),
        metavar="SHORT,LONG",
        help="the two simulated horizons (default: 20000,100000)",
    )
    parser.add_argument(
        "--repeats", type=positive_int, default=3, help="runs per horizon (default: 3)"
    )
    parser.add_argument(
        "--memory", action="store_true", help="also measure peak memory in fresh processes"
    )
    parser.add_argument(
        "--ten-million",
        action="store_true",
        help="also measure eda-sim's peak memory for a ~10,000,000-visit run (~1 minute)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write all figures as JSON")
    parser.add_argument(
        "--memory-child", choices=sorted(CHILD_KEYS.values()), help=argparse.SUPPRESS
    )
    parser.add_argument("--memory-horizon", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--compile-child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    if args.memory_child is not None:
        return memory_child(args.memory_child, args.memory_horizon)
    if args.compile_child:
        return compile_child()

    horizons: tuple[float, float] = args.horizons
    rates = traffic_rates()
    visit_rate = sum(rates)
    machine = machine_info()
    print("eda-sim benchmark: jackson3 against Ciw and a minimal SimPy model")
    print(
        f"Machine: {machine['platform']} ({machine['machine']}), {machine['python']},"
        f" {machine['cpu_count']} CPUs ({machine['cpus_usable']} usable)"
    )
    print("Libraries: " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()))
    print(
        "Traffic equations: λ = "
        + ", ".join(f"{station} {rate:.4f}" for station, rate in zip(STATIONS, rates, strict=True))
        + f"; total {visit_rate:.4f} visits per unit time"
    )

    compile_times = measure_compile()
    for label, entry in compile_times.items():
        if entry.get("available"):
            print(
                f"eda-sim fast first call in a fresh process ({label.replace('_', ' ')},"
                f" shared empty numba cache): {entry['seconds']:.2f} s"
            )
    runners = make_runners()
    for name, (runner, note) in runners.items():
        state = note if runner is not None else f"not available ({note})"
        print(f"{name} engine: {state}")
    print()
    print(f"Timing at H={horizons[0]:g} and H={horizons[1]:g}, {args.repeats} repeat(s):")
    timings = time_all(runners, horizons, args.repeats)
    summary = summarise(timings, horizons, visit_rate)
    print_speed(summary, horizons, visit_rate)

    memory: dict[str, Any] | None = None
    if args.memory:
        print()
        print("Measuring memory (one fresh process per run):")
        memory = {}
        for name in (EDA_SIM, EDA_SIM_FAST, MINIMAL_SIMPY):
            memory[name] = measure_memory(name, visit_rate)
        for name in (EDA_SIM, EDA_SIM_FAST):
            eda = memory[name]
            if eda["available"]:
                eda["limit_mb"] = TARGET_MEMORY_GROWTH_MB
                eda["status"] = _status(eda["growth_mb"], TARGET_MEMORY_GROWTH_MB)
        print_memory(memory)

    ten_million: dict[str, Any] | None = None
    if args.ten_million:
        print()
        print("Memory of a ten-million-visit run (fresh process):")
        ten_million = measure_ten_million(visit_rate)

    if args.json is not None:
        document = {
            "benchmark": "jackson3: eda-sim vs Ciw vs minimal SimPy",
            "machine": machine,
            "settings": {"horizons": list(horizons), "repeats": args.repeats, "seed": SEED},
            "theory": {
                "arrival_rates": dict(zip(STATIONS, rates, strict=True)),
                "visits_per_unit_time": visit_rate,
            },
            **summary,
            "memory": memory,
            "ten_million": ten_million,
            "fast_compile": compile_times,
        }
        write_json(args.json, document)
        print()
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
