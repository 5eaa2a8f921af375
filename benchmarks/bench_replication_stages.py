"""A fast replication's time per visit split by stage: loop, refills, counting, result.

``bench_network_size.py`` gives one marginal figure per size; this script says
where it goes. It runs :func:`eda_sim.engine.fast.simulate_replication_fast`
unchanged on the generated networks of ``bench_network_size.py``, with each of
the driver's stages timed (CPU time of this process, ``time.process_time``):

* ``set-up``: building the replication's state (streams and their first
  batches, tables, sketches);
* ``loop``: every call of the compiled loop;
* ``refill``: the stream refills it returns for (``Streams.refill``);
* ``serve``: the sketch work it returns for (``SketchChunks.serve``: counting
  the keys, cuts, growing the pool);
* ``grow``: the event pool and the calendar queue grown or resized;
* ``result``: the result's records, percentiles included;
* ``other``: what is left (the snapshots, the arrival histograms grown, the
  warm-up decision, the timers).

Each round runs a short and a long replication (5 × the visits) at every size
in turn (each pair after a replication of 20,000 visits at its size, so that
both find the kept memory of their size: the pool keeps one array per purpose,
and a short replication after another size's would alone pay for new memory),
after a full collection with the collector off (as ``bench_network_size.py``
times); each stage's marginal time per visit,
(long − short) / (visits_long − visits_short), is reported as the median
over the rounds with the lowest and highest round. ``--simpy`` runs a SimPy
replication of the same network before each pair, as ``bench_network_size.py``
does between its fast runs (the other implementation's memory in the process).
The replication's system time and minor faults are given too: a stage that
touches new memory pays them.

How to run (from the repository root; about a minute)::

    python benchmarks/bench_replication_stages.py
    python benchmarks/bench_replication_stages.py --sizes 3,100,1000 --rounds 5 --simpy

A report, not a test (exits 0 whatever it measures).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_network_size import cpu_seconds, network, visit_rate, without_collections

from eda_sim.engine.fast import driver, simulate_replication_fast
from eda_sim.scenario import Scenario, scenario_from_dict

LONG_OVER_SHORT = 5
#: Visits of the replication run before each pair, so that both find the kept memory of their size.
SETTLING_VISITS = 20_000
STAGES = ("set-up", "loop", "refill", "serve", "grow", "result", "other")
#: Figures of a replication beside the stages: CPU seconds and system seconds, minor faults.
TOTALS = ("whole", "system", "faults")

clock = cpu_seconds  # (this process's CPU time, as bench_network_size.py times)


class StageClock:
    """CPU seconds spent in each stage of the replications run while it is installed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)

    def timed(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function``, its CPU time charged to ``stage``."""

        def run(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += clock() - start

        return run


class _TimedKernel:
    """The compiled kernel with its loop's calls timed (everything else passed through)."""

    def __init__(self, kernel: Any, stages: StageClock) -> None:
        self._kernel = kernel
        self.run = stages.timed("loop", kernel.run)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kernel, name)


@contextlib.contextmanager
def stages_timed(stages: StageClock) -> Iterator[None]:
    """The driver's stages timed into ``stages`` while the block runs (put back after)."""
    module: Any = driver  # (patched for the timing, put back after)
    state: Any = driver._Replication
    saved = (module.load_kernel, module.serve, state.__init__, state.result, state._grow_slots)
    load_kernel, serve_queue, init, result, grow_slots = saved

    def timed_init(self: Any, *args: Any, **kwargs: Any) -> None:
        stages.timed("set-up", init)(self, *args, **kwargs)
        self.streams.refill = stages.timed("refill", self.streams.refill)
        self.sketches.serve = stages.timed("serve", self.sketches.serve)

    module.load_kernel = lambda: _TimedKernel(load_kernel(), stages)
    module.serve = stages.timed("grow", serve_queue)
    state.__init__ = timed_init
    state.result = stages.timed("result", result)
    state._grow_slots = stages.timed("grow", grow_slots)
    try:
        yield
    finally:
        (module.load_kernel, module.serve, state.__init__, state.result, state._grow_slots) = saved


def replication(scenario: Scenario, horizon: float) -> dict[str, float]:
    """One fast replication to ``horizon``: its visits, each stage's seconds, its totals."""
    return without_collections(partial(_timed_replication, scenario))(horizon)


def _timed_replication(scenario: Scenario, horizon: float) -> dict[str, float]:
    stages = StageClock()
    with stages_timed(stages):
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = clock()
        result = simulate_replication_fast(
            scenario, horizon=horizon, warmup=0.0, later_starts=False
        )
        whole = clock() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
    seconds = stages.seconds
    seconds["other"] = whole - sum(seconds[stage] for stage in STAGES if stage != "other")
    return {
        "visits": float(result.completed_visits),
        **seconds,
        "whole": whole,
        "system": after.ru_stime - before.ru_stime,
        "faults": float(after.ru_minflt - before.ru_minflt),
    }


def marginal(short: dict[str, float], long: dict[str, float]) -> dict[str, float]:
    """Each figure's marginal per visit: ns for times, faults per 1,000 visits."""
    visits = max(long["visits"] - short["visits"], 1.0)
    return {
        key: (long[key] - short[key]) / visits * (1e3 if key == "faults" else 1e9)
        for key in (*STAGES, *TOTALS)
    }


def measure(
    sizes: list[int], rounds: int, visits: float, simpy: bool
) -> dict[int, list[dict[str, float]]]:
    """Per size, each round's marginal figures."""
    from eda_sim.engine.simpy import simulate_replication

    networks = {size: scenario_from_dict(network(size), name=f"random-{size}") for size in sizes}
    rates = {size: visit_rate(scenario) for size, scenario in networks.items()}
    for size, scenario in networks.items():
        replication(scenario, 20_000 / rates[size])  # compile (or load) the loop first
    figures: dict[int, list[dict[str, float]]] = {size: [] for size in sizes}
    for round_number in range(rounds):
        for size, scenario in networks.items():
            if simpy:
                simulate_replication(scenario, horizon=30_000 / rates[size], warmup=0.0)
            long_horizon = visits / rates[size]
            # The kept memory (engine/fast/buffers.py) fitted to this size first: else the
            # short replication alone would pay for new memory after another size's.
            replication(scenario, SETTLING_VISITS / rates[size])
            short = replication(scenario, long_horizon / LONG_OVER_SHORT)
            long = replication(scenario, long_horizon)
            figures[size].append(marginal(short, long))
            print(
                f"  round {round_number + 1} N={size:>5} "
                + " ".join(f"{key} {figures[size][-1][key]:.1f}" for key in (*STAGES, "whole")),
                flush=True,
            )
    return figures


def report(figures: dict[int, list[dict[str, float]]]) -> None:
    """Median [lowest, highest round] of each stage, per size."""
    print(
        "\nmarginal time per visit (ns; faults per 1,000 visits), median [lowest, highest round]:"
    )
    print(f"{'stage':<8}" + "".join(f"{f'N = {size}':>26}" for size in figures))
    for key in (*STAGES, *TOTALS):
        cells = []
        for rows in figures.values():
            values = [row[key] for row in rows]
            cells.append(
                f"{statistics.median(values):8.1f} [{min(values):7.1f}, {max(values):7.1f}]"
            )
        print(f"{key:<8}" + "".join(f"{cell:>26}" for cell in cells))
    sizes = list(figures)
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        for key in ("loop", "whole"):
            ratio = statistics.median(r[key] for r in figures[last]) / statistics.median(
                r[key] for r in figures[first]
            )
            print(f"{key}: N={last} / N={first} {ratio:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,1000", help="stations, comma-separated")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--visits", type=float, default=2_000_000, help="of the long replication")
    parser.add_argument("--simpy", action="store_true", help="a SimPy replication before each pair")
    parser.add_argument("--json", type=Path, help="also write each round's figures here")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    figures = measure(sizes, args.rounds, args.visits, args.simpy)
    report(figures)
    if args.json:
        args.json.write_text(json.dumps({str(size): rows for size, rows in figures.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
