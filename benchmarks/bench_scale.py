"""Large networks: load, validate and theory for 10 to 10,000 stations, beside one replication.

Issue 14's scale target: for generated random networks of N = 10, 100, 1,000 and
10,000 stations (sparse routing, out-degree 1 to 3, every station at load
ρ = 0.5), loading + validation + theory grow no faster than O(N^1.5), i.e. the time
at 10·N is at most 35 times the time at N; and a 10,000-station network loads and
solves in a time comparable to one short replication.

Each network is generated once (not timed): station ``i`` sends its events to 1–3
random stations with probabilities summing to 0.5–0.8 (the rest leave), external
events (rate 1) enter at every station, and each service mean is set to
``0.5 / λ_i`` from the traffic equations, so that every ρ is 0.5. It is written as
a YAML file, then timed, in a fresh process per N (so that one N's memory does not
slow the next) that has first loaded and solved a small scenario (so that no stage
pays for importing a module) and runs BLAS on one thread as the ``eda-sim`` command
does (unless the environment sets ``OPENBLAS_NUM_THREADS`` etc.), stage by stage:

* ``parse``: the YAML text to Python data (PyYAML, as ``load_scenario`` does);
* ``validate``: schema, cross-references, routing checks, stability (``scenario_from_dict``);
* ``load`` = parse + validate: what every ``run``, ``theory`` and ``validate`` pays;
* ``replace``: one sweep point's ``Scenario.replace("arrivals.rate", 0.9)``;
* ``theory``: ``eda_sim.solve(scenario)``, in its own process with a time limit
  (``--theory-timeout``, default 300 s, reported as "> LIMIT" when reached) and an
  address-space limit (``--theory-memory``, default 8 GiB, reported as "memory");
* ``replication``: one SimPy-engine replication of about ``--visits`` service visits
  (default 100,000), no theory, no checks: the "short replication" to compare with.

How to run (from the repository root; a few minutes, most of it theory at 10,000)::

    python benchmarks/bench_scale.py
    python benchmarks/bench_scale.py --sizes 10,100,1000 --repeats 3 --json scale.json

A report, not a test: the script exits 0 either way. The checks behind the fast
stages are tested in tests/test_routing_scale.py.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from random_network import random_hops  # benchmarks/, the script's folder

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10, 100, 1_000, 10_000)
LOAD = 0.5  # ρ at every station
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
TARGET_RATIO = 35.0  # time at 10·N over time at N (10^1.5 = 31.6, with some slack)


def network(size: int, seed: int = 1) -> dict[str, Any]:
    """A random sparse network of ``size`` stations, every ρ = LOAD (see the module doc)."""
    from scipy.sparse import csr_matrix, identity
    from scipy.sparse.linalg import spsolve

    rng = np.random.default_rng([seed, size])
    names = [f"s{i}" for i in range(size)]
    routing: dict[str, dict[str, float]] = {}
    rows, columns, values = [], [], []
    for origin, hops in enumerate(random_hops(rng, size)):
        if hops:
            routing[names[origin]] = {names[target]: probability for target, probability in hops}
        for target, probability in hops:
            rows.append(origin)
            columns.append(target)
            values.append(probability)
    weights = rng.uniform(0.5, 1.5, size)
    entry = np.round(weights / weights.sum(), 12)
    entry[-1] = 1.0 - entry[:-1].sum()
    transitions = csr_matrix((values, (rows, columns)), shape=(size, size))
    rates = spsolve((identity(size) - transitions.T).tocsc(), entry)
    rates = np.atleast_1d(rates)
    return {
        "name": f"random-{size}",
        "stations": {
            names[i]: {"service": {"dist": "exponential", "mean": float(LOAD / rates[i])}}
            for i in range(size)
        },
        "arrivals": {
            "process": "poisson",
            "rate": 1.0,
            "to": {names[i]: float(entry[i]) for i in range(size)},
        },
        "routing": routing,
        "run": {"horizon": 1_000.0, "warmup": 0, "replications": 1},
    }


# --------------------------------------------------------------------------- child processes

STAGES_CHILD = """
import json, sys, time
from pathlib import Path
path, repeats, visits = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
import eda_sim
from eda_sim.scenario.loader import _parse_yaml
from eda_sim.scenario import scenario_from_dict
try:
    from eda_sim.engine.simpy_engine import simulate_replication
except ImportError:  # the engine as a package
    from eda_sim.engine.simpy import simulate_replication
import scipy.sparse.linalg  # imported before timing: the traffic solve of large networks
eda_sim.load_scenario(Path(sys.argv[4]))  # and every lazily imported module
figures = {"parse": [], "validate": [], "replace": [], "replication": []}
began = time.perf_counter()
count = 0
# At least `repeats` times, and for small networks until a second has passed (at most
# 200 times), so that a median of microseconds is not one timer tick.
while count < repeats or (time.perf_counter() - began < 1.0 and count < 200):
    count += 1
    started = time.perf_counter()
    raw = _parse_yaml(path.read_text(encoding="utf-8"), str(path))
    parsed = time.perf_counter()
    scenario = scenario_from_dict(raw, name=path.stem, base_dir=path.parent)
    done = time.perf_counter()
    scenario.replace("arrivals.rate", 0.9)
    replaced = time.perf_counter()
    figures["parse"].append(parsed - started)
    figures["validate"].append(done - parsed)
    figures["replace"].append(replaced - done)
rate = float(scenario.arrival_rates().sum())
horizon = visits / rate
started = time.perf_counter()
result = simulate_replication(scenario, horizon=horizon, warmup=0.0, seed=1)
figures["replication"].append(time.perf_counter() - started)
figures["replication_horizon"] = horizon
figures["max_rho"] = float(scenario.offered_load().max())
print(json.dumps(figures))
"""

THEORY_CHILD = """
import json, resource, sys, time
from pathlib import Path
limit = int(float(sys.argv[3]) * 2**30)  # address space, so that theory cannot take the machine
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import eda_sim
eda_sim.solve(eda_sim.load_scenario(Path(sys.argv[2])))  # imports, before timing
scenario = eda_sim.load_scenario(Path(sys.argv[1]))
started = time.perf_counter()
try:
    eda_sim.solve(scenario)
except MemoryError:
    print(json.dumps({"theory": None, "memory": True}))
else:
    print(json.dumps({"theory": time.perf_counter() - started}))
"""


def child(code: str, *args: str, timeout: float | None = None) -> dict[str, Any] | None:
    """Run a helper in a fresh interpreter; its last line of output as JSON (None: timed out)."""
    env = {**os.environ}
    for variable in BLAS_THREAD_VARIABLES:  # as the eda-sim command sets them
        env.setdefault(variable, "1")
    try:
        completed = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-3:]
        raise RuntimeError(f"helper exited {completed.returncode}: {' | '.join(tail)}")
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def load_averages() -> str:
    """The 1, 5 and 15 minute load averages, or ``n/a``."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:  # pragma: no cover - not Unix
        return "n/a"


def measure(size: int, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """All stages for one network size."""
    path = folder / f"random-{size}.yaml"
    path.write_text(yaml.safe_dump(network(size), sort_keys=False), encoding="utf-8")
    warm = str(ROOT / "scenarios" / "jackson3.yaml")
    stages = child(STAGES_CHILD, str(path), str(args.repeats), str(args.visits), warm)
    assert stages is not None
    figures: dict[str, Any] = {
        "stations": size,
        "file_mb": path.stat().st_size / 1e6,
        "max_rho": stages["max_rho"],
        "replication_horizon": stages["replication_horizon"],
    }
    for name in ("parse", "validate", "replace", "replication"):
        figures[name] = statistics.median(stages[name])
    figures["load"] = figures["parse"] + figures["validate"]
    theory = child(
        THEORY_CHILD, str(path), warm, str(args.theory_memory), timeout=args.theory_timeout
    )
    figures["theory"] = None if theory is None else theory["theory"]
    figures["theory_out_of_memory"] = bool(theory and theory.get("memory"))
    return figures


def show(row: dict[str, Any], limit: float) -> str:
    """Theory's seconds, ``> LIMIT`` when it reached its time limit, ``memory`` its memory."""
    if row["theory_out_of_memory"]:
        return "memory"
    return f"> {limit:g}" if row["theory"] is None else f"{row['theory']:.3f}"


def main(argv: list[str] | None = None) -> int:
    """Generate, measure and print; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="station counts, comma-separated"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed loads per size, at least (median)"
    )
    parser.add_argument(
        "--visits", type=float, default=100_000, help="service visits in the replication"
    )
    parser.add_argument(
        "--theory-timeout", type=float, default=300.0, help="seconds theory may take per size"
    )
    parser.add_argument(
        "--theory-memory", type=float, default=8.0, help="GiB of address space theory may use"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    sizes = [int(part) for part in args.sizes.split(",")]

    print(
        f"eda-sim scale: random networks, out-degree 1-3, every ρ = {LOAD}; "
        f"median of {args.repeats} loads; python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average before {load_averages()}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            print(f"  N = {size:,} ...", flush=True)
            rows.append(measure(size, Path(folder), args))
    limit = args.theory_timeout
    print(
        f"  {'N':>7} {'MB':>6} {'parse':>8} {'validate':>9} {'load':>8} {'replace':>8} "
        f"{'theory':>9} {'replication':>12}  (seconds; replication of ~{args.visits:,.0f} visits)"
    )
    for row in rows:
        print(
            f"  {row['stations']:>7,} {row['file_mb']:6.2f} {row['parse']:8.3f} "
            f"{row['validate']:9.3f} {row['load']:8.3f} {row['replace']:8.3f} "
            f"{show(row, limit):>9} {row['replication']:12.3f}"
        )
    print("  growth at 10x the stations (target <= 35 for load + validate + theory):")
    for small, large in itertools.pairwise(rows):
        if large["stations"] != 10 * small["stations"]:
            continue
        cells = []
        for stage in ("load", "validate", "theory"):
            if small[stage] is None or large[stage] is None:
                cells.append(f"{stage} n/a")
            else:
                cells.append(f"{stage} {large[stage] / small[stage]:.1f}x")
        both = (
            None
            if small["theory"] is None or large["theory"] is None
            else (large["load"] + large["theory"]) / (small["load"] + small["theory"])
        )
        verdict = "n/a" if both is None else ("PASS" if both <= TARGET_RATIO else "FAIL")
        shown = "n/a" if both is None else f"{both:.1f}x"
        print(
            f"    {small['stations']:,} -> {large['stations']:,}: {', '.join(cells)}; "
            f"load + theory {shown} {verdict}"
        )
    print(f"load average after {load_averages()}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
