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
  blocks) and with fetching ahead switched off; both must give equal chunks.

How to run (from the repository root; a minute or two)::

    python benchmarks/bench_sketch_counting.py
    python benchmarks/bench_sketch_counting.py --sizes 3,1000 --rounds 5 --visits 1000000

A report, not a test: it exits 0 either way (1 if the two ways' chunks differ).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_network_size import network, visit_rate

from eda_sim.engine.fast import counting
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
    functions = {"plain": counting.count_keys, "ahead": counting.count_keys_ahead}
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(rounds + 1):  # round 0 compiles and fills the pools
        for name, function in functions.items():
            started = time.process_time()
            for keys in data:
                _, pools[name], _ = function(
                    keys.copy(), 0, KEYS, 0, slots[name], counts[name], owners[name], base,
                    pools[name],
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


def main(argv: list[str] | None = None) -> int:
    """Measure and print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,100,1000", help="stations per network")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (medians)")
    parser.add_argument("--visits", type=int, default=1_000_000, help="visits per replication")
    options = parser.parse_args(argv)
    sizes = [int(size) for size in options.sizes.split(",")]
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
