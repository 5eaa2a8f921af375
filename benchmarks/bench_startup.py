"""Start-up time and base memory of the ``eda-sim`` command, beside ``import numpy, yaml``.

Issue 14's targets, measured as a user meets them (whole processes):

* ``eda-sim --help`` and ``eda-sim validate scenarios/mm1.yaml`` within 3x the time
  of ``python -c "import numpy, yaml"`` (the *baseline*: the least any command that
  reads a scenario must import);
* ``eda-sim run scenarios/mm1.yaml`` within 1.5x of (its simulation time + the
  baseline), where the *simulation time* is what ``eda_sim.run(scenario)`` takes
  with the same defaults in a process that has everything imported already (its
  second call, in a helper process: loading, replications, theory, checks);
* the run's peak resident memory (the command and its worker processes) under 80 MB.

Every command runs ``--repeats`` times, interleaved with the others (so a change
of load on a shared machine touches all alike); the medians are compared. The
peak RSS is ``ru_maxrss`` of the finished child from ``os.wait4`` (which covers
the worker processes it waited for); this script imports nothing heavy itself,
because on Linux a child's ``ru_maxrss`` starts from its parent's size at the fork.

How to run (from the repository root)::

    python benchmarks/bench_startup.py               # 5 repeats
    python benchmarks/bench_startup.py --repeats 9 --json startup.json

The verdicts are a report, not a test: the script exits 0 either way. Which modules
each command loads is checked by tests/test_startup.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MM1 = ROOT / "scenarios" / "mm1.yaml"
BASELINE = "import numpy, yaml"
TARGET_LIGHT = 3.0  # --help and validate, times the baseline
TARGET_RUN = 1.5  # run, times (simulation + baseline)
TARGET_RSS_MB = 80.0

#: The helper that times ``eda_sim.run`` in a warm process (second call of two).
SIMULATION = """
import json, sys, time
import eda_sim
scenario = eda_sim.load_scenario(sys.argv[1])
engine = sys.argv[2]
eda_sim.run(scenario, engine=engine)
started = time.perf_counter()
eda_sim.run(scenario, engine=engine)
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def command_line() -> list[str]:
    """The console script beside this interpreter, or ``python -m eda_sim``."""
    script = shutil.which("eda-sim", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "eda_sim"]


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB, the process and its waited-for children) of one run."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert child.stderr is not None
    errors = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {child.returncode}: {errors[-500:]}")
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def simulation_seconds(engine: str) -> float:
    """``eda_sim.run(mm1)`` wall time in a warm helper process."""
    completed = subprocess.run(
        [sys.executable, "-c", SIMULATION, str(MM1), engine],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(completed.stdout.strip().splitlines()[-1])["seconds"])


def load_averages() -> str:
    """The 1, 5 and 15 minute load averages, or ``n/a``."""
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:  # pragma: no cover - not Unix
        return "n/a"


def measure(repeats: int, fast: bool) -> dict[str, dict[str, list[float]]]:
    """Every command ``repeats`` times, interleaved; seconds and MB per command."""
    cli = command_line()
    commands: dict[str, list[str]] = {
        "baseline": [sys.executable, "-c", BASELINE],
        "--help": [*cli, "--help"],
        "validate": [*cli, "validate", str(MM1)],
        "theory": [*cli, "theory", str(MM1)],
        "run": [*cli, "run", str(MM1)],
    }
    engines = ["simpy"]
    if fast:
        commands["run --engine fast"] = [*cli, "run", str(MM1), "--engine", "fast"]
        engines.append("fast")
        timed(commands["run --engine fast"])  # untimed: compile and cache the kernel
    for argv in commands.values():  # untimed: .pyc files, disk cache
        timed(argv)
    figures: dict[str, dict[str, list[float]]] = {
        name: {"seconds": [], "rss_mb": []} for name in commands
    }
    for engine in engines:
        figures[f"simulation ({engine})"] = {"seconds": [], "rss_mb": []}
    for _ in range(repeats):
        for name, argv in commands.items():
            seconds, rss = timed(argv)
            figures[name]["seconds"].append(seconds)
            figures[name]["rss_mb"].append(rss)
        for engine in engines:
            figures[f"simulation ({engine})"]["seconds"].append(simulation_seconds(engine))
    return figures


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table and the verdicts; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per command")
    parser.add_argument("--no-fast", action="store_true", help="skip the compiled engine")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    fast = not args.no_fast and importlib.util.find_spec("numba") is not None

    load_before = load_averages()
    print(
        f"eda-sim start-up: median of {args.repeats} runs each, interleaved; "
        f"python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average before {load_before}"
    )
    figures = measure(args.repeats, fast)
    medians = {name: statistics.median(values["seconds"]) for name, values in figures.items()}
    peaks = {name: max(values["rss_mb"]) for name, values in figures.items() if values["rss_mb"]}
    base = medians["baseline"]
    print(f"  {'command':<22} {'median s':>9} {'runs (s)':<40} {'peak MB':>8}")
    for name, values in figures.items():
        runs = ", ".join(f"{t:.3f}" for t in values["seconds"])
        peak = f"{peaks[name]:8.1f}" if name in peaks else " " * 8
        print(f"  {name:<22} {medians[name]:9.3f} {runs:<40} {peak}")

    results: dict[str, Any] = {"medians": medians, "peak_rss_mb": peaks, "runs": figures}
    checks: list[tuple[str, float, float]] = []
    for name in ("--help", "validate", "theory"):
        ratio = medians[name] / base
        results[f"{name} / baseline"] = ratio
        if name != "theory":
            checks.append((f"{name} / baseline", ratio, TARGET_LIGHT))
        else:
            print(f"  theory / baseline = {ratio:.2f} (no target)")
    for engine, name in (("simpy", "run"), ("fast", "run --engine fast")):
        if name not in medians:
            continue
        simulation = medians[f"simulation ({engine})"]
        ratio = medians[name] / (simulation + base)
        results[f"{name} / (simulation + baseline)"] = ratio
        overhead = medians[name] - simulation
        print(
            f"  {name}: simulation {simulation:.3f} s, whole process {medians[name]:.3f} s, "
            f"overhead {overhead:.3f} s"
        )
        if engine == "simpy":
            checks.append((f"{name} / (simulation + baseline)", ratio, TARGET_RUN))
        else:
            print(f"  {name} / (simulation + baseline) = {ratio:.2f} (no target)")
    for label, ratio, target in checks:
        print(f"  {label:<40} {ratio:6.2f}  target <= {target:g}  {verdict(ratio <= target)}")
    rss = peaks["run"]
    print(
        f"  peak RSS of run (SimPy engine)           {rss:6.1f} MB target < {TARGET_RSS_MB:g} MB"
        f"  {verdict(rss < TARGET_RSS_MB)}"
    )
    load_after = load_averages()
    print(f"load average after {load_after}")
    results.update(load_before=load_before, load_after=load_after, repeats=args.repeats)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
