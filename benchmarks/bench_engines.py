"""Both engines now against an earlier revision, side by side in one run (issue 17 part 5).

Issue 17 turned each engine into a package (one module per mechanism, a
dispatcher loop for the fast engine) and asks that this cost nothing: the time
per replication of both engines on the shipped scenarios within noise (the fast
loop within 5%) of the revision before (``85b8a9e`` by default, the last commit
before the engine packages). This script extracts that revision's package with
``git archive`` into a temporary folder and times the same scenario files,
horizons and seeds with both trees, alternating old and new child processes
round by round, so that both see the same load:

* each child (one tree, one engine) first runs every scenario once with a short
  horizon (imports; the fast loop loaded from its cache or compiled), then times
  one replication of each: CPU time (``time.process_time``, less sensitive to
  other processes than the wall clock, which is also recorded);
* horizons give about ``--simpy-visits`` (default 50,000) visits per SimPy
  replication and ``--fast-visits`` (default 1,000,000) per fast one;
* the report gives, per scenario and engine, the median over ``--rounds`` rounds
  for each tree, the ratio new/old, the geometric mean of the ratios, and
  whether both trees gave the same sample path (the same seeds give the same
  numbers unless a landing changed the numbers on purpose);
* a scenario a tree cannot run (the old fast engine refused fan-out, blocking,
  priorities and trace replay) is shown as ``n/a``;
* ``--networks 3,1000`` adds ``bench_network_size.py``'s generated random
  networks of those sizes (every ρ = 0.5, out-degree 1–3, no warm-up), written
  as scenario files with a horizon for the same visits, so that a change to the
  fast loop at large N is timed against the revision before it side by side;
  ``--no-scenarios`` times only those.

How to run (from the repository root, a git checkout; about 5 minutes)::

    python benchmarks/bench_engines.py
    python benchmarks/bench_engines.py --against 85b8a9e --rounds 5 --json engines.json
    python benchmarks/bench_engines.py --against 85b8a9e --new 650a042 --engines fast
    python benchmarks/bench_engines.py --against ff837fa --engines fast --networks 3,1000 \
        --no-scenarios --fast-visits 2000000 --rounds 7

A report, not a test: the script exits 0 either way (2 when the revision cannot
be extracted). Run it with nothing else heavy running and state the load it
prints.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
ENGINES = ("simpy", "fast")
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

CHILD = """
import hashlib, json, sys, time
sys.path.insert(0, sys.argv[1])
engine, cases = sys.argv[2], json.loads(sys.argv[3])
import numpy as np
import eda_sim
from eda_sim.scenario import load_scenario
if engine == "fast":
    from eda_sim.engine.fast_engine import simulate_replication_fast as simulate
else:
    from eda_sim.engine.simpy_engine import simulate_replication as simulate
assert eda_sim.__file__.startswith(sys.argv[1]), eda_sim.__file__

def digest(result):
    found = hashlib.sha256(np.ascontiguousarray(result.path.times).tobytes())
    for name in sorted(result.path.stations):
        found.update(np.ascontiguousarray(result.path.stations[name]).tobytes())
    found.update(np.ascontiguousarray(result.path.system).tobytes())
    return found.hexdigest()[:16]

figures = {}
scenarios = {}
for name, path, horizon in cases:
    try:
        scenario = scenarios[name] = load_scenario(path)
        short = None if horizon is None else horizon / 20
        simulate(scenario, horizon=short, warmup=0.0, seed=1)  # imports, the loop, caches
    except Exception as error:  # a revision that cannot run it: reported as n/a
        figures[name] = {"error": f"{type(error).__name__}: {str(error)[:120]}"}
for name, path, horizon in cases:
    if name in figures:
        continue
    cpu, wall = time.process_time(), time.perf_counter()
    result = simulate(scenarios[name], horizon=horizon, warmup=0.0, seed=1)
    figures[name] = {
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
        "visits": result.completed_visits,
        "path": digest(result),
    }
print(json.dumps(figures))
"""


def extract(revision: str) -> Path:
    """The package ``eda_sim`` of ``revision`` in a folder kept between runs; the tree's root.

    The folder stays, so that the old fast loop is compiled once, not in every run
    (numba's cache keys on the file's path and time, which ``git archive`` fixes).
    """
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    folder = Path(tempfile.gettempdir()) / f"eda-sim-bench-{commit[:12]}"
    if (folder / "eda_sim" / "__init__.py").is_file():
        return folder
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "eda_sim"],
        capture_output=True,
        check=True,
    ).stdout
    partial = Path(tempfile.mkdtemp(prefix=folder.name, dir=folder.parent))
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(partial, filter="data")
    partial.rename(folder)  # whole or not at all
    return folder


def child(tree: Path, engine: str, cases: list[tuple[str, str, float | None]]) -> dict[str, Any]:
    """One child process: ``engine`` of ``tree`` on every case; its figures per case."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    for variable in BLAS_THREAD_VARIABLES:
        env.setdefault(variable, "1")
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), engine, json.dumps(cases)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        check=False,
    )
    if completed.returncode != 0:
        tail = " | ".join(completed.stderr.strip().splitlines()[-3:])
        return {
            name: {"error": f"child exited {completed.returncode}: {tail}"} for name, *_ in cases
        }
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def cases_for(
    visits: float, networks: list[int], folder: Path, scenarios: bool = True
) -> list[tuple[str, str, float | None]]:
    """(name, file, horizon) of every case, the horizon for about ``visits``.

    The shipped scenarios (unless ``scenarios`` is False), then a generated random
    network of each size in ``networks`` (``bench_network_size.network``), written
    to ``folder``.
    """
    import yaml
    from bench_network_size import network  # benchmarks/, the script's folder

    from eda_sim.scenario import load_scenario
    from eda_sim.scenario.budgets import expected_visits

    found: list[tuple[str, str, float | None]] = []
    for size in networks:
        path = folder / f"random-{size}.yaml"
        path.write_text(yaml.safe_dump(network(size)), encoding="utf-8")
        generated = load_scenario(path)
        span = generated.run.horizon * visits / expected_visits(generated)
        found.append((f"random-{size}", str(path), span))
    for path in sorted(SCENARIOS.glob("*.yaml")) if scenarios else ():
        scenario = load_scenario(path)
        if any(c.arrivals.times is not None for c in scenario.classes):
            horizon = None  # a trace: its own span
        else:
            horizon = scenario.run.horizon * visits / expected_visits(scenario)
        found.append((path.stem, str(path), horizon))
    return found


def load_averages() -> str:
    """The 1, 5 and 15 minute load averages, or ``n/a``."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:  # pragma: no cover - not Unix
        return "n/a"


def summarise(runs: dict[str, list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], float | None]:
    """Rows (per scenario) of medians and ratios new/old, and the geometric mean ratio."""
    rows, ratios = [], []
    names = sorted({name for rounds in runs.values() for figures in rounds for name in figures})
    for name in names:
        row: dict[str, Any] = {"scenario": name}
        for tree in ("old", "new"):
            samples = [r[name] for r in runs[tree] if "cpu" in r.get(name, {})]
            row[tree] = statistics.median(s["cpu"] for s in samples) if samples else None
            row[f"{tree}_visits"] = samples[0]["visits"] if samples else None
            row[f"{tree}_path"] = samples[0]["path"] if samples else None
            if not samples:
                row[f"{tree}_error"] = next(
                    (r[name]["error"] for r in runs[tree] if "error" in r.get(name, {})), ""
                )
        if row["old"] and row["new"]:
            row["ratio"] = row["new"] / row["old"]
            ratios.append(row["ratio"])
        row["same_path"] = row["old_path"] is not None and row["old_path"] == row["new_path"]
        rows.append(row)
    mean = math.exp(statistics.fmean(map(math.log, ratios))) if ratios else None
    return rows, mean


def show(rows: list[dict[str, Any]], mean: float | None, engine: str) -> None:
    """Print one engine's table."""
    print(f"\n{engine} engine: CPU seconds per replication (median), new/old")
    print(f"{'scenario':<16}{'visits':>10}{'old s':>10}{'new s':>10}{'new/old':>9}  same path")
    for row in rows:
        old = "n/a" if row["old"] is None else f"{row['old']:.3f}"
        new = "n/a" if row["new"] is None else f"{row['new']:.3f}"
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else "-"
        visits = row["new_visits"] or row["old_visits"] or 0
        same = "yes" if row["same_path"] else ("-" if row["old"] is None else "no")
        print(f"{row['scenario']:<16}{visits:>10}{old:>10}{new:>10}{ratio:>9}  {same}")
    if mean is not None:
        print(f"{'geometric mean':<46}{mean:>9.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="85b8a9e", help="the earlier revision")
    parser.add_argument("--new", default=None, help="a later revision instead of this working tree")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--simpy-visits", type=float, default=50_000)
    parser.add_argument("--fast-visits", type=float, default=1_000_000)
    parser.add_argument("--engines", default="simpy,fast")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--networks", default="", help="sizes of generated random networks to add (e.g. 3,1000)"
    )
    parser.add_argument("--no-scenarios", action="store_true", help="skip the shipped scenarios")
    args = parser.parse_args(argv)
    networks = [int(size) for size in args.networks.split(",") if size.strip()]
    folder = Path(tempfile.mkdtemp(prefix="eda-sim-bench-networks-"))
    engines = [e for e in args.engines.split(",") if e in ENGINES]
    try:
        old = extract(args.against)
        new = ROOT if args.new is None else extract(args.new)
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"cannot extract revision {args.against!r}: {error}", file=sys.stderr)
        return 2
    label = "this tree" if args.new is None else args.new
    print(f"eda-sim engines: {label} vs {args.against}, {args.rounds} rounds")
    print(f"load averages before: {load_averages()} ({os.cpu_count()} CPUs)")
    report: dict[str, Any] = {"against": args.against, "new": label, "load_before": load_averages()}
    for engine in engines:
        visits = args.simpy_visits if engine == "simpy" else args.fast_visits
        cases = cases_for(visits, networks, folder, scenarios=not args.no_scenarios)
        runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
        for round_index in range(args.rounds):
            order = ("old", "new") if round_index % 2 == 0 else ("new", "old")
            for tree in order:
                runs[tree].append(child(old if tree == "old" else new, engine, cases))
        rows, mean = summarise(runs)
        show(rows, mean, engine)
        report[engine] = {"rows": rows, "geometric_mean_ratio": mean}
    print(f"\nload averages after: {load_averages()}")
    report["load_after"] = load_averages()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
