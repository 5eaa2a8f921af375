"""Memory of the percentile sketches against the horizon, both engines (issue #13 part 1).

Each measurement is one replication of ``scenarios/slo_checkout.yaml`` (4 stations,
2 classes: 11 sketches — W and Wq per station, each class's and the system's
end-to-end W) in a fresh process, with the auto warm-up's cuts (a chunk per grid
point of the sample path, as ``eda-sim run`` keeps them), no trace and no wait
sample. The process reports:

* ``visits``: station visits simulated (the values the sketches took in);
* ``sketch KiB``: the bytes of the replication's sketches (every chunk's sorted
  keys and counts) — what a run keeps or pools per replication;
* ``RSS growth MiB``: peak resident memory of the process minus its resident
  memory just before the replication (after imports and a tiny warm replication
  that loads or compiles the fast loop), i.e. everything the replication needed;
* ``all values MiB``: what keeping every value would take instead (8 bytes per
  value; 2 per visit + 2 per departure, roughly).

Flat in the horizon means: ``sketch KiB`` and ``RSS growth`` stop growing once the
buckets between each chunk's floor (``eda_sim.stats.collapse``) and its highest
times are filled, while ``visits`` grows 10x a row. ``x prev`` is a row's sketch
bytes over the row before (same engine); the last line checks the criterion:
sketch bytes grow less than :data:`FLAT_GROWTH` per tenfold from
:data:`FLAT_FROM` on.

How to run (from the repository root)::

    python benchmarks/bench_latency_memory.py
    python benchmarks/bench_latency_memory.py --horizons 1000,10000 \\
        --fast-horizons 1000,10000,100000,1000000 --json latency_memory.json

A report, not a test: it exits 0 either way.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "slo_checkout.yaml"
#: The criterion: sketch bytes grow by less than this share per tenfold of the horizon ...
FLAT_GROWTH = 0.10
#: ... from this horizon on (below it the buckets between floor and tail still fill).
FLAT_FROM = 1e5

#: The measuring child: argv = scenario, engine, horizon; prints one JSON line.
CHILD = """
import json, resource, sys, time
import eda_sim
from eda_sim.engine.fast import simulate_replication_fast
from eda_sim.engine.simpy import simulate_replication

def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

scenario = eda_sim.load_scenario(sys.argv[1]).with_run(warmup="auto")
engine, horizon = sys.argv[2], float(sys.argv[3])
simulate = simulate_replication_fast if engine == "fast" else simulate_replication
simulate(scenario, horizon=10.0, seed=1)  # imports, the fast loop loaded or compiled
before = rss_kib()
started = time.perf_counter()
result = simulate(scenario, horizon=horizon, seed=1)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
chunks = result.latency.chunks
sketch_bytes = sum(k.nbytes + c.nbytes for k, c in zip(chunks.keys, chunks.counts))
visits = int(sum(s.completions for s in result.stations.values()))
print(json.dumps({
    "engine": engine, "horizon": horizon, "seconds": seconds, "visits": visits,
    "chunks": len(chunks.labels), "sketch_bytes": sketch_bytes,
    "rss_before_kib": before, "rss_peak_kib": peak,
}))
"""


def measure(engine: str, horizon: float) -> dict[str, Any]:
    """One replication at ``horizon`` on ``engine``, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(SCENARIO), engine, repr(horizon)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def main(argv: list[str] | None = None) -> int:
    """Measure every (engine, horizon) and print the table (optionally the JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizons", default="1000,10000,100000", help="SimPy engine")
    parser.add_argument("--fast-horizons", default="1000,10000,100000,1000000", help="fast engine")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    options = parser.parse_args(argv)
    plan = [("simpy", float(h)) for h in options.horizons.split(",")]
    plan += [("fast", float(h)) for h in options.fast_horizons.split(",")]
    rows = [measure(engine, horizon) for engine, horizon in plan]
    print(f"python {platform.python_version()}, {platform.machine()}; scenario {SCENARIO.name}")
    header = (
        f"{'engine':<6} {'horizon':>9} {'visits':>11} {'chunks':>6} {'sketch KiB':>10} "
        f"{'x prev':>6} {'RSS growth MiB':>14} {'all values MiB':>14} {'seconds':>8}"
    )
    print(header)
    previous: dict[str, dict[str, Any]] = {}
    worst = 0.0
    for row in rows:
        growth = max(0, row["rss_peak_kib"] - row["rss_before_kib"]) / 1024
        every = row["visits"] * 8 * 2 / 2**20
        before = previous.get(row["engine"])
        ratio = row["sketch_bytes"] / before["sketch_bytes"] if before else float("nan")
        if before and before["horizon"] >= FLAT_FROM and row["horizon"] == 10 * before["horizon"]:
            worst = max(worst, ratio - 1.0)
        previous[row["engine"]] = row
        print(
            f"{row['engine']:<6} {row['horizon']:>9g} {row['visits']:>11,} {row['chunks']:>6} "
            f"{row['sketch_bytes'] / 1024:>10.1f} {ratio:>6.2f} {growth:>14.1f} {every:>14.1f} "
            f"{row['seconds']:>8.2f}"
        )
    verdict = "flat" if worst < FLAT_GROWTH else "NOT flat"
    print(
        f"{verdict}: sketch bytes grow at most {100 * worst:.1f}% per tenfold from "
        f"horizon {FLAT_FROM:g} on (criterion < {100 * FLAT_GROWTH:.0f}%)"
    )
    if options.json is not None:
        options.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
