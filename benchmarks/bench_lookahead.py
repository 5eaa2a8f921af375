"""The fast loop with and without its next-event prefetches, alternated on one replication's state.

``eda_sim/engine/fast/lookahead.py`` asks the processor for the next event's
state while the current event runs (hints only: the values are the same). To
time what that changes without the noise of separate processes on a shared
machine, this script compiles a second copy of the loop in the same process,
with the two lookahead steps and the prefetch intrinsics replaced by no-ops
and ``FROM_STATIONS`` left as it is, and alternates the two loops on the calls of
one replication: the loop returns to Python every few thousand events (stream
refills, sketch buffers), and each call runs the next one. Both see the same
state, the same caches and the same neighbours' load; the CPU time of each
call is charged to its loop, per event scheduled (``control.seq``), and turned
into ns per visit with the replication's visits per event.

The networks are ``bench_network_size.py``'s (every ρ = 0.5, sparse routing, no
warm-up). How to run (from the repository root; about a minute per size)::

    python benchmarks/bench_lookahead.py                       # N = 3, 1,000; 8 replications
    python benchmarks/bench_lookahead.py --sizes 300,1000 --replications 5

A report, not a test (exits 0 whatever it measures).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_network_size import network, visit_rate  # noqa: E402  (benchmarks/)

from eda_sim.engine.fast import driver, kernel, lookahead, simulate_replication_fast, support  # noqa: E402
from eda_sim.scenario import Scenario, scenario_from_dict  # noqa: E402


def _no_op_intrinsic(arguments: int) -> Any:
    """A numba intrinsic taking ``arguments`` values and emitting nothing."""
    from numba import types
    from numba.extending import intrinsic

    def codegen(context: Any, builder: Any, sig: Any, values: Any) -> Any:
        return context.get_dummy_value()

    def typer(typingctx: Any, *args: Any) -> Any:
        return types.void(*args), codegen

    names = ", ".join(f"a{i}" for i in range(arguments))
    scope: dict[str, Any] = {"typer": typer}
    exec(f"def typed(typingctx, {names}):\n    return typer(typingctx, {names})", scope)
    return intrinsic(scope["typed"])


def _no_op_step(step: Any) -> Any:
    """An inlined step with ``step``'s parameters that does nothing."""
    import numba

    names = ", ".join(inspect.signature(step.py_func).parameters)
    scope: dict[str, Any] = {}
    exec(f"def nothing({names}):\n    return None", scope)
    return numba.njit(inline="always")(scope["nothing"])


def loop_without_lookahead() -> Any:
    """A second compiled copy of the loop, its prefetches and lookahead steps no-ops."""
    import numba

    for name in kernel.COMPILED_MODULES:
        module = importlib.import_module(f"eda_sim.engine.fast.{name}")
        if hasattr(module, "prefetch_record"):
            module.prefetch_record = _no_op_intrinsic(2)  # type: ignore[attr-defined]
        if hasattr(module, "prefetch"):
            module.prefetch = _no_op_intrinsic(3)  # type: ignore[attr-defined]
    for name in ("fetch_arrival", "fetch_slot", "fetch_station"):
        setattr(kernel, name, _no_op_step(getattr(kernel, name)))
    loop: Any = kernel.run_kernel  # (a numba dispatcher)
    options = {k: v for k, v in loop.targetoptions.items() if k not in ("cache", "nopython")}
    return numba.njit(**options)(loop.py_func)


class Alternating:
    """The loop's calls alternate between two compiled loops; CPU time and events per loop."""

    def __init__(self, loops: dict[str, Any]) -> None:
        self.loops = loops
        self.names = list(loops)
        self.calls = 0
        self.spent = dict.fromkeys(loops, 0.0)
        self.events = dict.fromkeys(loops, 0)

    def reset(self, first: int) -> None:
        """Start a replication, its first call on loop ``first``."""
        self.calls = first
        self.spent = dict.fromkeys(self.loops, 0.0)
        self.events = dict.fromkeys(self.loops, 0)

    def __call__(self, control: Any, *state: Any) -> int:
        name = self.names[self.calls % 2]
        self.calls += 1
        seq = int(control["seq"][0])
        start = time.process_time()
        status = int(self.loops[name](control, *state))
        self.spent[name] += time.process_time() - start
        self.events[name] += int(control["seq"][0]) - seq
        return status


def measure(scenario: Scenario, alternating: Alternating, replications: int, visits: int) -> str:
    """One line: each loop's median ns per visit and the per-replication ratios."""
    ratios: list[float] = []
    per_visit: dict[str, list[float]] = {name: [] for name in alternating.names}
    horizon = visits / visit_rate(scenario)
    for replication in range(replications):
        alternating.reset(replication % 2)
        result = simulate_replication_fast(
            scenario, replication=replication, horizon=horizon, warmup=0.0, later_starts=False
        )
        visits_per_event = result.completed_visits / sum(alternating.events.values())
        for name in alternating.names:
            ns = alternating.spent[name] / alternating.events[name] / visits_per_event * 1e9
            per_visit[name].append(ns)
        ratios.append(per_visit["with"][-1] / per_visit["without"][-1])
    medians = {name: statistics.median(values) for name, values in per_visit.items()}
    rounds = " ".join(f"{r:.3f}" for r in ratios)
    return (
        f"with {medians['with']:.1f}, without {medians['without']:.1f} ns/visit; "
        f"with / without median {statistics.median(ratios):.3f} (replications: {rounds})"
    )


def main(argv: list[str] | None = None) -> int:
    """Time the loop with and without its lookahead at each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,1000", help="stations, comma-separated")
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--visits", type=int, default=2_000_000, help="per replication")
    options = parser.parse_args(argv)
    sizes = [int(size) for size in options.sizes.split(",")]
    scenarios = {size: scenario_from_dict(network(size)) for size in sizes}
    shipped = support.load_kernel()
    loops: dict[str, Any] = {"with": shipped.run}
    for scenario in scenarios.values():  # compile (or load) the shipped loop first
        simulate_replication_fast(scenario, horizon=100 / visit_rate(scenario), warmup=0.0)
    loops["without"] = loop_without_lookahead()
    alternating = Alternating(loops)
    setattr(driver, "load_kernel", lambda: support.Kernel(alternating, shipped.snapshot_all))  # noqa: B010
    for scenario in scenarios.values():  # compile the copy
        simulate_replication_fast(scenario, horizon=100 / visit_rate(scenario), warmup=0.0)
    load = os.getloadavg()[0]
    print(f"lookahead from {lookahead.FROM_STATIONS} stations; load average {load:.2f} (before)")
    for size, scenario in scenarios.items():
        line = measure(scenario, alternating, options.replications, options.visits)
        print(f"N={size:5d} {line}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
