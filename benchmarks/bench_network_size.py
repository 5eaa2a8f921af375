"""The fast engine on networks of 3 to 1,000 stations, beside a C control, the SimPy engine and Ciw.

Issue 14's kernel targets, measured side by side in one process run:

* the fast engine's time per visit at N = 1,000 stations within 1.5× of its time
  at N = 3 (no O(N) scan per event);
* within 2× of a C control at every size: ``benchmarks/c_control/network.c``,
  the same network and the same measurements in a plain C event loop, built with
  the system's ``cc -O2`` (skipped, and said so, when there is no compiler);
* ``--engine fast`` on ``scenarios/shopping_cart.yaml`` (fan-out, blocking after
  service, priorities) at least 30× faster per visit than the SimPy engine;
* and, reported: the SimPy engine and Ciw at each size, the fixed cost of one
  replication at N = 1,000 stage by stage (set-up, streams, the loop, the result),
  and the fast engine's compile time in a fresh process (cold, then from the cache).

The networks (generated, not timed; the same seed gives the same networks):
station ``i`` has 1–3 servers and sends its events to 1–3 random stations with
probabilities summing to 0.5–0.8 (the rest leave); Poisson external events
(rate ``N / 10``) enter at every station alike; every service is exponential with
its mean set from the traffic equations so that every ρ is 0.5. FIFO lines,
unlimited capacity, no warm-up: each engine runs a replication as ``eda-sim run`` does
with ``warmup: none``, its percentile sketches cut only at the end (``--mser-cuts``:
also at MSER-5's 50 candidate warm-ups, as a run with ``warmup: auto``).

Time per visit is *marginal*: every implementation runs a short and a long
horizon (long = 5 × short, ``--repeats`` rounds, median kept; each round runs every
size and implementation once, so that the sizes a ratio compares are timed side by
side, and the report adds each round's own N = 1,000 / N = 3 ratio), and
(t_long − t_short) / (visits_long − visits_short) cancels what a run pays once
(set-up, building the result). Horizons are sized per implementation from a visit
budget so that each timed difference is well above the timer's noise. The C
control times its own event loop (its process start and input parsing excluded).
Every timing but the compile one is the process's CPU time, not the wall clock:
on a machine shared with other work, waiting for a core would otherwise swamp
the differences measured (a loaded machine still slows every run through its
shared caches: compare ratios measured in one run, not figures across runs).
Each Python run is timed after a full garbage collection with the collector off,
as :mod:`timeit` does (``without_collections``).

How to run (from the repository root; a few minutes)::

    python benchmarks/bench_network_size.py
    python benchmarks/bench_network_size.py --sizes 3,100 --repeats 1 --no-ciw   # quick
    python benchmarks/bench_network_size.py --json network_size.json

A report, not a test: the script exits 0 whatever the verdicts (1 only if a run
crashed). The identity of the fast engine and the SimPy engine is tested in
``tests/test_fast_engine.py``; this script only times them.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from random_network import random_hops  # noqa: E402  (benchmarks/, the script's folder)

from eda_sim.scenario import Scenario, load_scenario, scenario_from_dict  # noqa: E402

C_SOURCE = Path(__file__).resolve().parent / "c_control" / "network.c"
SHOPPING_CART = ROOT / "scenarios" / "shopping_cart.yaml"
SIZES = (3, 100, 1_000)
LOAD = 0.5
LONG_OVER_SHORT = 5.0
#: Visits of the fast replication run at a size before its timed pair (see measure_sizes).
SETTLING_VISITS = 20_000
#: Visits of the long horizon per implementation (the short one has a fifth).
BUDGETS = {"fast": 2_000_000, "C": 4_000_000, "SimPy engine": 150_000, "Ciw": 30_000}
#: Ciw scans every node on every event: its budget shrinks with N (visits at N = 1,000).
CIW_LARGE_BUDGET = 6_000
TARGET_SIZE_RATIO = 1.5  # fast at N = 1,000 over fast at N = 3
TARGET_VS_C = 2.0
TARGET_CART_SPEEDUP = 30.0

#: Runs one replication to a horizon and returns (visits, seconds).
Runner = Callable[[float], tuple[int, float]]
_Timed = TypeVar("_Timed")

#: The clock of every timing but the compile one: this process's CPU time, so
#: that on a shared machine the time spent waiting for a core is not counted (a
#: busy machine still slows a run through the caches it shares). The C control
#: reads the same clock (CLOCK_PROCESS_CPUTIME_ID).
cpu_seconds = time.process_time


# ------------------------------------------------------------------------ networks


def network(size: int, seed: int = 1) -> dict[str, Any]:
    """A random sparse network of ``size`` stations, every ρ = LOAD (see the module doc)."""
    rng = np.random.default_rng([seed, size])
    names = [f"s{i}" for i in range(size)]
    servers = rng.integers(1, 4, size=size)
    routing: dict[str, dict[str, float]] = {}
    matrix = np.zeros((size, size))
    for origin, hops in enumerate(random_hops(rng, size)):
        routing[names[origin]] = {names[target]: probability for target, probability in hops}
        for target, probability in hops:
            matrix[origin, target] = probability
    rate = size / 10.0
    entry = np.full(size, 1.0 / size)
    visit_rates = np.linalg.solve(np.eye(size) - matrix.T, rate * entry)
    means = LOAD * servers / visit_rates
    return {
        "name": f"random-{size}",
        "stations": {
            name: {
                "servers": int(servers[i]),
                "service": {"dist": "exponential", "mean": float(means[i])},
            }
            for i, name in enumerate(names)
        },
        "arrivals": {"process": "poisson", "rate": rate, "to": dict.fromkeys(names, 1.0 / size)},
        "routing": routing,
        "run": {"horizon": 1000.0, "warmup": "none", "replications": 1, "seed": 1},
    }


def visit_rate(scenario: Scenario) -> float:
    """Expected completed visits per unit of time (the traffic equations)."""
    return float(sum(scenario.classes[0].routing.traffic(scenario.classes[0].arrivals.rate)))


# ----------------------------------------------------------------------- runners


def without_collections(run: Callable[[float], _Timed]) -> Callable[[float], _Timed]:
    """``run`` timed with Python's cyclic garbage collector off, after a full collection.

    As :mod:`timeit` does by default. A full collection walks every tracked object
    of the process (about 140,000 once the fast loop and the SimPy engine are
    loaded: 63–76 ms at N = 1,000, measured by pages) and falls on whichever run
    allocated the object that triggered it: on one short run of three, it moved
    the median short run by ~70 ms and the marginal time per visit by up to ~44 ns
    at N = 1,000. Every Python implementation gets the same treatment; the C
    control has no collector.
    """

    def timed(horizon: float) -> _Timed:
        gc.collect()
        gc.disable()
        try:
            return run(horizon)
        finally:
            gc.enable()

    return timed


def fast_runner(scenario: Scenario, later_starts: bool = False) -> Runner:
    """The fast engine, as a run with no warm-up (``later_starts``: as one with ``auto``)."""
    from eda_sim.engine.fast import simulate_replication_fast

    def run(horizon: float) -> tuple[int, float]:
        start = cpu_seconds()
        result = simulate_replication_fast(
            scenario, horizon=horizon, warmup=0.0, later_starts=later_starts
        )
        return result.completed_visits, cpu_seconds() - start

    return without_collections(run)


def simpy_runner(scenario: Scenario, later_starts: bool = False) -> Runner:
    """The SimPy engine, as a run with no warm-up (``later_starts``: as one with ``auto``)."""
    from eda_sim.engine.simpy import simulate_replication

    def run(horizon: float) -> tuple[int, float]:
        start = cpu_seconds()
        result = simulate_replication(
            scenario, horizon=horizon, warmup=0.0, later_starts=later_starts
        )
        return result.completed_visits, cpu_seconds() - start

    return without_collections(run)


def ciw_runner(scenario: Scenario) -> Runner | None:
    try:
        import ciw
    except ImportError:
        return None
    routing = scenario.classes[0].routing
    rate = scenario.classes[0].arrivals.rate
    matrix = routing.matrix.tolist()
    stations = scenario.stations
    services = scenario.classes[0].service

    def run(horizon: float) -> tuple[int, float]:
        start = cpu_seconds()
        model = ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(rate=rate * p) for p in routing.entry],
            service_distributions=[
                ciw.dists.Exponential(rate=1.0 / service.mean) for service in services
            ],
            routing=matrix,
            number_of_servers=[s.servers for s in stations],
        )
        ciw.seed(1)  # Ciw has global random state only
        simulation = ciw.Simulation(model)
        simulation.simulate_until_max_time(horizon)
        visits = len(simulation.get_all_records(only=["service"]))
        return visits, cpu_seconds() - start

    return without_collections(run)


def build_c_control(folder: Path) -> tuple[Path | None, str]:
    """Compile the C control with the system's ``cc -O2``; None and why when it cannot."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        return None, "skipped: no C compiler (cc) on this machine"
    binary = folder / "network"
    command = [compiler, "-O2", "-o", str(binary), str(C_SOURCE), "-lm"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None, f"skipped: {' '.join(command)} failed: {done.stderr.strip()[:200]}"
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout
    return binary, f"{Path(compiler).name} -O2 ({version.splitlines()[0] if version else '?'})"


def c_input(scenario: Scenario, path: Path) -> None:
    """The network as the C control reads it, from the scenario's own routing rows."""
    routing = scenario.classes[0].routing
    hops, entry_targets, entry_cumulative = routing.draw_rows
    lines = [f"{len(scenario.stations)} {scenario.classes[0].arrivals.rate!r} 0.0"]
    lines.append(
        f"{len(entry_targets)} "
        + " ".join(
            f"{t} {c!r}"
            for t, c in zip(entry_targets.tolist(), entry_cumulative.tolist(), strict=True)
        )
    )
    for i, station in enumerate(scenario.stations):
        targets, cumulative = hops.row(i)
        pairs = " ".join(
            f"{t} {c!r}" for t, c in zip(targets.tolist(), cumulative.tolist(), strict=True)
        )
        lines.append(
            f"{station.servers} {scenario.classes[0].service[i].mean!r} {len(targets)} {pairs}"
        )
    path.write_text("\n".join(lines) + "\n")


def c_runner(binary: Path, scenario: Scenario, folder: Path) -> Runner:
    data = folder / f"network-{len(scenario.stations)}.txt"
    c_input(scenario, data)

    def run(horizon: float) -> tuple[int, float]:
        done = subprocess.run(
            [str(binary), str(data), repr(horizon), "1"], capture_output=True, text=True, check=True
        )
        visits, seconds, _ = done.stdout.split()
        return int(visits), float(seconds)

    return run


# ------------------------------------------------------------------------ timing


#: One timed replication: (visits, seconds).
Timing = tuple[int, float]


def marginal_of(runs: dict[float, list[Timing]]) -> dict[str, float]:
    """Median times of the short and the long horizon's runs; marginal seconds per visit."""
    (short, done_short), (_, done_long) = runs.items()
    (v_short, t_short), (v_long, t_long) = (
        (int(statistics.median(v for v, _ in done)), statistics.median(t for _, t in done))
        for done in (done_short, done_long)
    )
    return {
        "short_horizon": short,
        "visits_short": v_short,
        "visits_long": v_long,
        "seconds_short": t_short,
        "seconds_long": t_long,
        "per_visit": (t_long - t_short) / max(v_long - v_short, 1),
    }


def round_marginal(short: Timing, long: Timing) -> float:
    """Marginal seconds per visit of one round's pair of runs."""
    return (long[1] - short[1]) / max(long[0] - short[0], 1)


def marginal(runner: Runner, short: float, repeats: int) -> dict[str, float]:
    """Median times at ``short`` and ``LONG_OVER_SHORT × short``; marginal seconds per visit."""
    runs: dict[float, list[Timing]] = {short: [], short * LONG_OVER_SHORT: []}
    for _ in range(repeats):
        for horizon in runs:
            runs[horizon].append(runner(horizon))
    return marginal_of(runs)


def horizon_for(visits: float, rate: float) -> float:
    return float(visits / LONG_OVER_SHORT / rate)


def size_runners(
    args: argparse.Namespace, folder: Path, binary: Path | None
) -> tuple[dict[int, dict[str, tuple[Runner, float]]], dict[int, float]]:
    """Each size's implementations (runner, short horizon), the fast loop compiled; visit rates."""
    plan: dict[int, dict[str, tuple[Runner, float]]] = {}
    rates: dict[int, float] = {}
    for size in args.sizes:
        scenario = scenario_from_dict(network(size), name=f"random-{size}")
        rate = rates[size] = visit_rate(scenario)
        fast = fast_runner(scenario, args.mser_cuts)
        runners: dict[str, Runner | None] = {
            "fast": fast,
            "C": c_runner(binary, scenario, folder) if binary else None,
            "SimPy engine": simpy_runner(scenario, args.mser_cuts),
            "Ciw": None if args.no_ciw else ciw_runner(scenario),
        }
        fast(horizon_for(20_000, rate))  # compile (or load) the loop first
        plan[size] = {}
        for name, runner in runners.items():
            if runner is None:
                continue
            budget = BUDGETS[name] * args.scale
            if name == "Ciw" and size >= 1000:
                budget = CIW_LARGE_BUDGET * args.scale
            plan[size][name] = (runner, horizon_for(budget, rate))
    return plan, rates


def measure_sizes(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Every size and implementation, the sizes interleaved: one round runs them all once.

    A round runs each implementation's short and long horizon at every size in
    turn, so that the sizes a ratio compares were timed minutes apart at most,
    on the same state of the machine (a shared machine drifts by tens of per
    cent within an hour). Each figure is the median over the rounds, as before;
    ``rounds`` also keeps each round's own marginal time per visit, of which the
    report gives the per-round N = 1,000 / N = 3 ratios. The fast engine's pair
    at a size comes after a replication of :data:`SETTLING_VISITS` there: its
    pool of kept memory (``engine/fast/buffers.py``) holds one array per
    purpose, and the short run after another size's would alone pay for new
    memory, which lowered the marginal figure (by up to ~50 ns per visit at
    1,000 stations, ``benchmarks/bench_replication_stages.py``).
    """
    binary, c_note = (None, "skipped (--no-c)") if args.no_c else build_c_control(folder)
    table: dict[str, Any] = {"C control": c_note, "sizes": {}, "rounds": {}}
    plan, rates = size_runners(args, folder, binary)
    runs: dict[int, dict[str, dict[float, list[Timing]]]] = {
        size: {name: {short: [], short * LONG_OVER_SHORT: []} for name, (_, short) in row.items()}
        for size, row in plan.items()
    }
    for round_number in range(args.repeats):
        for size, row in plan.items():
            for name, (runner, _) in row.items():
                if name == "fast":  # its kept memory fitted to this size first
                    runner(SETTLING_VISITS / rates[size])
                timed = runs[size][name]
                for horizon in timed:
                    timed[horizon].append(runner(horizon))
                short, long = (done[-1] for done in timed.values())
                per_visit = round_marginal(short, long)
                table["rounds"].setdefault(str(size), {}).setdefault(name, []).append(per_visit)
                print(
                    f"  round {round_number + 1} N={size:>5} {name:<13} "
                    f"{per_visit * 1e9:10.1f} ns/visit",
                    flush=True,
                )
    for size, row in plan.items():
        table["sizes"][str(size)] = {"visit_rate": rates[size]} | {
            name: marginal_of(runs[size][name]) for name in row
        }
    return table


def measure_cart(args: argparse.Namespace) -> dict[str, Any]:
    """``scenarios/shopping_cart.yaml``: the fast engine beside the SimPy engine, per visit."""
    scenario = load_scenario(str(SHOPPING_CART))
    probe = fast_runner(scenario)(100.0)
    rate = probe[0] / 100.0
    fast = marginal(fast_runner(scenario), horizon_for(2_000_000 * args.scale, rate), args.repeats)
    slow = marginal(simpy_runner(scenario), horizon_for(150_000 * args.scale, rate), args.repeats)
    return {"fast": fast, "SimPy engine": slow, "speedup": slow["per_visit"] / fast["per_visit"]}


def fixed_cost(size: int) -> dict[str, float]:
    """One fast replication of about 200 visits at ``size`` stations, stage by stage (median s).

    With so few visits the replication is almost all fixed cost: building the
    state (the random streams, their first batches, the tables), the loop (its
    sample-path snapshots of every station), and the result's records.
    """
    from eda_sim.engine.fast import driver, load_kernel, streams
    from eda_sim.engine.settings import ReplicationSettings

    scenario = scenario_from_dict(network(size), name=f"random-{size}")
    horizon = 200.0 / visit_rate(scenario)
    kernel = load_kernel()
    gc.collect()  # the SimPy and Ciw runs before leave garbage that a collection would time
    gc.freeze()  # (and objects that each full collection would walk again)
    # as warmup: none
    run: dict[str, Any] = {"horizon": horizon, "warmup": 0.0, "later_starts": False}
    driver.simulate_replication_fast(scenario, **run)  # warm caches
    stages: dict[str, list[float]] = {}

    def timed(stage: str, action: Callable[[], Any]) -> Any:
        start = cpu_seconds()
        value = action()
        stages.setdefault(stage, []).append(cpu_seconds() - start)
        return value

    settings = ReplicationSettings.resolve(scenario, 0, horizon, 0.0, None, later_starts=False)
    for _ in range(5):
        timed("streams alone", lambda: streams.open_streams(scenario, settings.seed, 0))
        state = timed(
            "set-up, streams included", lambda: driver._Replication(scenario, settings, 0)
        )

        def loop(state: Any = state) -> None:
            path = state.path
            state.snapshot(kernel, 0.0, path.stations[:, 0], path.system[:, 0])
            state.schedule_first_events()
            state.run(kernel)
            state.snapshot(kernel, horizon, path.stations[:, -1], path.system[:, -1])

        timed("loop", loop)
        timed("result", state.result)
        timed(
            "whole replication",
            lambda: driver.simulate_replication_fast(scenario, **run),
        )
    return {stage: statistics.median(values) for stage, values in stages.items()}


def compile_child() -> int:
    """Time the fast engine's first call in this fresh process; print it as JSON."""
    start = time.perf_counter()
    from eda_sim.engine.fast import load_kernel

    load_kernel()
    scenario = scenario_from_dict(network(3), name="random-3")
    fast_runner(scenario)(100.0)
    print(json.dumps({"seconds": time.perf_counter() - start}))
    return 0


def measure_compile() -> dict[str, float]:
    """First call in two fresh processes sharing an empty numba cache: cold, then cached."""
    result = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold", "cached"):
            command = [sys.executable, str(Path(__file__).resolve()), "--compile-child"]
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            result[label] = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    return result


# ----------------------------------------------------------------------- report


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: dict[str, Any]) -> None:
    sizes = results["sizes"]["sizes"]
    print(f"\nC control: {results['sizes']['C control']}")
    print("\nmarginal time per visit (ns), ratios to the fast engine at the same N:")
    names = ("fast", "C", "SimPy engine", "Ciw")
    print(f"{'N':>6} " + " ".join(f"{n:>14}" for n in names))
    for size, row in sizes.items():
        cells = []
        for name in names:
            if name not in row:
                cells.append(f"{'-':>14}")
                continue
            ns = row[name]["per_visit"] * 1e9
            ratio = row[name]["per_visit"] / row["fast"]["per_visit"]
            cells.append(f"{ns:>7.0f} {ratio:>5.1f}x" if name != "fast" else f"{ns:>14.0f}")
        print(f"{size:>6} " + " ".join(cells))
    if "3" in sizes and "1000" in sizes:
        ratio = sizes["1000"]["fast"]["per_visit"] / sizes["3"]["fast"]["per_visit"]
        rounds = results["sizes"].get("rounds", {})
        if "3" in rounds and "1000" in rounds:  # each round's sizes were timed side by side
            # the verdict is the median of the rounds' own ratios: the sizes' pooled
            # figures come from different rounds and can pass when no round does
            per_round = [
                large / small
                for large, small in zip(rounds["1000"]["fast"], rounds["3"]["fast"], strict=True)
            ]
            judged = statistics.median(per_round)
            print(
                f"\nfast N=1000 / N=3: {judged:.2f}, the median of {len(per_round)} rounds "
                f"(of the sizes' figures: {ratio:.2f}; target <= {TARGET_SIZE_RATIO}) "
                f"{verdict(judged <= TARGET_SIZE_RATIO)}"
            )
            print("  per round: " + ", ".join(f"{r:.2f}" for r in per_round))
        else:
            ok = ratio <= TARGET_SIZE_RATIO
            print(f"\nfast N=1000 / N=3: {ratio:.2f} (target <= {TARGET_SIZE_RATIO}) {verdict(ok)}")
        if "C" in sizes["3"] and "C" in sizes["1000"]:  # the same growth in plain C, for scale
            c_ratio = sizes["1000"]["C"]["per_visit"] / sizes["3"]["C"]["per_visit"]
            print(f"C control N=1000 / N=3: {c_ratio:.2f} (no target: the machine's own growth)")
    for size, row in sizes.items():
        if "C" in row:
            ratio = row["fast"]["per_visit"] / row["C"]["per_visit"]
            ok = ratio <= TARGET_VS_C
            print(f"fast / C at N={size}: {ratio:.2f} (target <= {TARGET_VS_C}) {verdict(ok)}")
    if "cart" in results:
        cart = results["cart"]
        ok = cart["speedup"] >= TARGET_CART_SPEEDUP
        print(
            f"shopping_cart: fast {cart['fast']['per_visit'] * 1e9:.0f} ns/visit, SimPy engine "
            f"{cart['SimPy engine']['per_visit'] * 1e9:.0f} ns/visit: {cart['speedup']:.1f}x "
            f"(target >= {TARGET_CART_SPEEDUP:.0f}x) {verdict(ok)}"
        )
    if "fixed" in results:
        print(f"\nfixed cost of one fast replication at N={results['fixed_size']} (median s):")
        for stage, seconds in results["fixed"].items():
            print(f"  {stage:<28} {seconds:8.4f}")
    if "compile" in results:
        compiled = results["compile"]
        print(
            f"\nfirst call in a fresh process: {compiled['cold']:.1f} s cold (compiling), "
            f"{compiled['cached']:.1f} s with numba's cache"
        )


def load_averages() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every visit budget")
    parser.add_argument("--no-c", action="store_true", help="skip the C control")
    parser.add_argument("--no-ciw", action="store_true", help="skip Ciw")
    parser.add_argument("--no-compile", action="store_true", help="skip the compile timing")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--mser-cuts",
        action="store_true",
        help="cut the percentile sketches at MSER-5's 50 points, as a run with warmup auto does",
    )
    parser.add_argument("--compile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.compile_child:
        return compile_child()
    args.sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load averages {load_averages()} (before)"
    )
    results: dict[str, Any] = {"machine": platform.platform(), "load_before": load_averages()}
    with tempfile.TemporaryDirectory() as folder:
        results["sizes"] = measure_sizes(args, Path(folder))
    results["cart"] = measure_cart(args)
    results["fixed_size"] = max(args.sizes)
    results["fixed"] = fixed_cost(max(args.sizes))
    if not args.no_compile:
        results["compile"] = measure_compile()
    results["load_after"] = load_averages()
    report(results)
    print(f"load averages {results['load_after']} (after)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
