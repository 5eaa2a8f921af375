"""The fast engine's percentile-sketch counting with and without fetching counters ahead.

Issue 13 part 1 / issue 14: at 1,000 stations the 2,001 sketches' 16-bit counters
span several MB, so counting each buffered time (``eda_sim.engine.fast.counting.
count_keys``) waits for a cache miss; ``eda_sim.engine.fast.counting.
count_keys_ahead`` counts the same keys into the same counters but first asks
the processor for the counter ``AHEAD`` keys on. Measured side by side in one
process, interleaved rounds, CPU time (``time.process_time``), medians:

* ``counting``: ns per key of both functions on buffers of 65,536 keys like a
  network of N stations' (2N + 1 sketches: W and Wq per station, the system's
  W; the sketch of each key uniform, exponential times of mean 1), the counters
  carried over from round to round as in a chunk of a run;
* ``replication``: ns per visit of one fast-engine replication of the random
  network of ``bench_network_size.py`` (N stations, each ρ = 0.5) with the
  driver's rule (fetch ahead once the pool holds ``PREFETCH_FROM_BLOCKS``
  blocks) and with fetching ahead switched off; both must give equal chunks;
* ``in a run``: ns per key of each way of counting on the buffers a real
  replication fills (``--visits``, ``--in-run`` replications), between
  the loop's calls as the driver counts them, so with the caches as the loop
  leaves them (the table above counts buffer after buffer, the counters warm):
  at each counting pass every way counts a copy of the buffer into a pool of
  its own (the order alternating from pass to pass), timed; then the driver
  counts as usual. ``--against REV`` adds that revision's two functions
  (``git show REV:eda_sim/engine/fast/counting.py``). Ratios are the median of
  the per-pass ratios to the first way.

How to run (from the repository root; a minute or two)::

    python benchmarks/bench_sketch_counting.py
    python benchmarks/bench_sketch_counting.py --sizes 3,1000 --rounds 5 --visits 1000000
    python benchmarks/bench_sketch_counting.py --sizes 3,1000 --rounds 0 --in-run 2 \
        --visits 2000000 --against 641a0e6

A report, not a test: it exits 0 either way (1 if the two ways' chunks differ).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_network_size import network, visit_rate

from eda_sim.engine.fast import counting, sketches
from eda_sim.engine.fast.state import SKETCH_OCTAVES, SKETCH_SUBBUCKETS
from eda_sim.scenario import scenario_from_dict
from eda_sim.stats.sketch import BUCKET_BITS, bucket_of

KEYS = 1 << 16


def counting_ns(sketches: int, rounds: int, buffers: int = 20) -> tuple[float, float]:
    """Median ns per key of (count_keys, count_keys_ahead) over interleaved rounds."""
    rng = np.random.default_rng(1)
    _, exponent = math.frexp(1e4)
    base = exponent + 1022 - (SKETCH_OCTAVES - 1)
    data = [
        (rng.integers(0, sketches, KEYS) << BUCKET_BITS) | bucket_of(rng.exponential(1.0, KEYS))
        for _ in range(buffers)
    ]
    names = ("plain", "ahead")
    slots = {name: np.full((sketches, SKETCH_OCTAVES), -1, np.int32) for name in names}
    counts = {name: np.zeros((1 << 18, SKETCH_SUBBUCKETS), np.uint16) for name in names}
    owners = {name: np.zeros(1 << 18, np.int64) for name in names}
    pools = dict.fromkeys(names, 0)
    kept = np.zeros(KEYS, np.int64)  # the keys left to Python (the buffer itself is only read)
    functions = {"plain": counting.count_keys, "ahead": counting.count_keys_ahead}
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds + 1):  # round 0 compiles and fills the pools
        for name, function in functions.items():
            started = time.process_time()
            for keys in data:
                _, pools[name], _ = function(
                    keys, kept, 0, slots[name], counts[name], owners[name], base, pools[name]
                )  # fmt: skip
            if round_:
                times[name].append((time.process_time() - started) / (buffers * KEYS) * 1e9)
    same = np.array_equal(counts["plain"], counts["ahead"])
    assert same and np.array_equal(slots["plain"], slots["ahead"]), "the two ways disagree"
    return statistics.median(times["plain"]), statistics.median(times["ahead"])


def replication_ns(size: int, rounds: int, visits: int) -> tuple[float, float, bool]:
    """Median ns per visit of a fast replication with and without fetching ahead."""
    from eda_sim.engine.fast import simulate_replication_fast

    scenario = scenario_from_dict(network(size), name=f"random-{size}")
    horizon = visits / visit_rate(scenario)
    default = counting.PREFETCH_FROM_BLOCKS
    results = {}
    times: dict[str, list[float]] = {"plain": [], "ahead": []}
    for round_ in range(rounds + 1):
        for name, threshold in (("plain", 1 << 62), ("ahead", default)):
            counting.PREFETCH_FROM_BLOCKS = threshold
            started = time.process_time()
            result = simulate_replication_fast(scenario, horizon=horizon, warmup=0.0)
            seconds = time.process_time() - started
            if round_:
                times[name].append(seconds / result.completed_visits * 1e9)
            results[name] = result
    counting.PREFETCH_FROM_BLOCKS = default
    plain, ahead = results["plain"].latency, results["ahead"].latency
    equal = plain is not None and ahead is not None and plain.chunks == ahead.chunks
    return statistics.median(times["plain"]), statistics.median(times["ahead"]), equal


#: A way of counting, called as ``count_keys`` is:
#: ``(keys, kept_keys, kept, slots, counts, owners, base, pool_n) -> (reached, pool_n, kept)``.
Way = Callable[..., tuple[int, int, int]]


def older_ways(revision: str) -> dict[str, Way]:
    """``count_keys`` and ``count_keys_ahead`` of ``revision``, called as this tree's are."""
    source = subprocess.run(
        ["git", "show", f"{revision}:eda_sim/engine/fast/counting.py"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / f"counting_{revision}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def called_as_now(function: Any) -> Way:
        if "start" not in inspect.signature(function).parameters:
            return function  # type: ignore[no-any-return]

        def way(keys: np.ndarray, kept_keys: np.ndarray, kept: int, *rest: Any) -> Any:
            # the older API counts keys[start:stop] in place, its kept keys at the front
            reached, pool_n, kept_to = function(keys, 0, keys.size, kept, *rest)
            return reached, pool_n, kept_to

        return way

    return {
        f"{revision} plain": called_as_now(module.count_keys),
        f"{revision} ahead": called_as_now(module.count_keys_ahead),
    }


def in_run_ns(size: int, visits: int, replications: int, ways: dict[str, Way]) -> list[list[float]]:
    """Per counting pass of real replications, each way's ns per key (see the module doc)."""
    from eda_sim.engine.fast import simulate_replication_fast

    scenario = scenario_from_dict(network(size), name=f"random-{size}")
    passes: list[list[float]] = []
    pools: dict[str, list[Any]] = {}
    driver_count = sketches.SketchChunks._count

    def count(self: sketches.SketchChunks, control: np.ndarray) -> None:
        stop = int(control["rare_n"][0])
        state, base = self.state, int(self.state.base[0])
        names = list(ways) if len(passes) % 2 == 0 else list(ways)[::-1]
        seconds = {}
        for name in names:
            slots, counts, owners, pool_n = pools.setdefault(name, [
                np.full(state.slots.shape, -1, np.int32),
                np.zeros((64, SKETCH_SUBBUCKETS), np.uint16), np.zeros(64, np.int64), 0,
            ])  # fmt: skip
            keys, kept_keys = state.rare_keys[:stop].copy(), np.zeros(stop, np.int64)
            reached = kept = 0
            spent = 0.0
            while reached < stop:
                started = time.process_time()
                done, pool_n, kept = ways[name](
                    keys[reached:], kept_keys, kept, slots, counts, owners, base, pool_n
                )  # fmt: skip
                spent += time.process_time() - started
                reached += done
                if reached < stop:  # grown as the driver grows its pool (not timed)
                    counts = np.concatenate([counts, np.zeros_like(counts)])
                    owners = np.concatenate([owners, np.zeros_like(owners)])
            pools[name] = [slots, counts, owners, pool_n]
            seconds[name] = spent / max(stop, 1) * 1e9
        passes.append([seconds[name] for name in ways])
        driver_count(self, control)

    sketches.SketchChunks._count = count  # type: ignore[method-assign]
    try:
        for _ in range(replications):
            pools.clear()
            simulate_replication_fast(scenario, horizon=visits / visit_rate(scenario), warmup=0.0)
    finally:
        sketches.SketchChunks._count = driver_count  # type: ignore[method-assign]
    return [row for row in passes if min(row) > 0]


def in_run_table(sizes: list[int], replications: int, visits: int, against: str | None) -> None:
    """Print the ``in a run`` table: each way's median, and ratios per pass (medians)."""
    ways: dict[str, Way] = {"plain": counting.count_keys, "ahead": counting.count_keys_ahead}
    # ratios: each way to the revision's same way, or fetching ahead to not
    pairs = [(0, 2), (1, 3)] if against else [(0, 1)]
    if against:
        ways = {**older_ways(against), **ways}
    names = list(ways)
    print(
        f"in a run (ns per key, medians over the counting passes of {replications}"
        f" replications of {visits:,} visits)"
    )
    print(
        f"{'stations':>8} "
        + " ".join(f"{name:>14}" for name in names)
        + "   "
        + " ".join(f"{names[b]} / {names[a]}" for a, b in pairs)
    )
    for size in sizes:
        rows = in_run_ns(size, visits, replications, ways)
        medians = [statistics.median(row[i] for row in rows) for i in range(len(ways))]
        ratios = [statistics.median(row[b] / row[a] for row in rows) for a, b in pairs]
        print(f"{size:>8} " + " ".join(f"{value:>14.2f}" for value in medians)
              + "   " + "   ".join(f"{ratio:.2f}" for ratio in ratios))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Measure and print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,100,1000", help="stations per network")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians)")
    parser.add_argument("--visits", type=int, default=1_000_000, help="visits per replication")
    parser.add_argument("--in-run", type=int, default=0, help="replications of the in-run table")
    parser.add_argument("--against", default=None, help="a revision whose counting joins it")
    options = parser.parse_args(argv)
    sizes = [int(size) for size in options.sizes.split(",")]
    if options.in_run:
        in_run_table(sizes, options.in_run, options.visits, options.against)
    if not options.rounds:
        return 0
    print(f"counting (ns per key, {options.rounds} rounds, medians)")
    print(f"{'stations':>8} {'sketches':>8} {'count_keys':>10} {'ahead':>8} {'ratio':>6}")
    for size in sizes:
        plain, ahead = counting_ns(2 * size + 1, options.rounds)
        print(f"{size:>8} {2 * size + 1:>8} {plain:>10.1f} {ahead:>8.1f} {ahead / plain:>6.2f}")
    print(f"replication (ns per visit, {options.visits:,} visits, {options.rounds} rounds)")
    print(f"{'stations':>8} {'no fetch':>9} {'driver':>8} {'ratio':>6} {'same chunks':>11}")
    failed = False
    for size in sizes:
        plain, ahead, equal = replication_ns(size, options.rounds, options.visits)
        failed |= not equal
        print(f"{size:>8} {plain:>9.0f} {ahead:>8.0f} {ahead / plain:>6.2f} {equal!s:>11}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
