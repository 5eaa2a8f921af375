"""Seconds from one Ctrl-C to the exit of ``eda-sim run``, now against an earlier revision.

Issue 16: "one Ctrl-C stops within a second". Each revision's package is taken
with ``git archive`` into a temporary folder (the working tree for ``now``), and
the same command runs on it: ``scenarios/mm1.yaml``, horizon 300, far more
replications than can finish, 2 worker processes, the engine named. Once the
workers have used ``--work`` seconds of CPU (so that a loaded machine does not
make the signal come early), SIGINT is sent; the time to the command's exit and
the replications it wrote (marked partial) are recorded. The revisions alternate
within each round, so both see the same machine; medians and ranges are printed
with the load average.

With ``--sweep`` the command is a sweep instead (``SWEEP``: 3 points of 40
replications of about 0.2 s, a checkpoint), and the signal comes ``--work``
CPU seconds after the checkpoint holds the first point, in the middle of the
second; "written" is then the replications of that point kept (0 where a
revision keeps whole points only).

Usage::

    python benchmarks/bench_interrupt.py --against 7f07dd8 --repeats 5
    python benchmarks/bench_interrupt.py --engines simpy --repeats 3
    python benchmarks/bench_interrupt.py --sweep --engines simpy --against 7b923bc --work 1
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = ("--horizon", "300", "--warmup", "30", "--replications", "100000", "--workers", "2")
#: The sweep of ``--sweep`` (the scenario goes after ``sweep``).
SWEEP = (
    *("--param", "arrivals.rate", "--values", "0.5,0.6,0.7", "--replications", "40"),
    *("--horizon", "30000", "--warmup", "auto", "--workers", "2"),
)


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def _tree(revision: str, into: Path) -> Path:
    """The package of ``revision`` in a folder of its own (``now``: the working tree)."""
    if revision == "now":
        return ROOT
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "eda_sim"],
        check=True,
        capture_output=True,
    ).stdout
    folder = into / revision
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _environment(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}


def _check_imports(tree: Path) -> None:
    """Make sure that a command run for ``tree`` imports ``tree``'s package."""
    found = subprocess.run(
        [sys.executable, "-c", "import eda_sim; print(eda_sim.__file__)"],
        capture_output=True,
        text=True,
        env=_environment(tree),
        cwd=tree,
        check=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"a run for {tree} imports {found}")


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0


def _written(out: Path, sweep: bool) -> int | None:
    """Replications written: of the run, or of the sweep's point cut short."""
    if not out.exists():
        return None
    document = json.loads(out.read_text())
    if not sweep:
        return int(document["replications"])
    return sum(p.get("replications") or 0 for p in document["points"] if p["status"] == "partial")


def interrupt_once(
    tree: Path, engine: str, work: float, sweep: bool = False
) -> tuple[float, int | None]:
    """One run on ``tree``'s package: (seconds from SIGINT to exit, replications written)."""
    with tempfile.TemporaryDirectory() as scratch:
        out, checkpoint = Path(scratch) / "out.json", Path(scratch) / "ck.jsonl"
        scenario = str(ROOT / "scenarios" / "mm1.yaml")
        options = ("--engine", engine, "--json", str(out))
        command = (
            ("sweep", scenario, *SWEEP, "--checkpoint", str(checkpoint))
            if sweep
            else ("run", scenario, *COMMAND)
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "eda_sim", *command, *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_environment(tree),
            cwd=tree,  # python -m puts the folder it runs in first on the path
        )
        deadline = time.monotonic() + 300
        since = 0.0 if not sweep else None  # the workers' CPU time when counting starts
        while time.monotonic() < deadline and process.poll() is None:
            workers = _children(process.pid)
            busy = sum(map(_cpu_seconds, workers))
            if since is None and _lines(checkpoint) >= 2:  # the header and the first point
                since = busy
            if len(workers) >= 2 and since is not None and busy - since >= work:
                break
            time.sleep(0.05)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
        seconds = time.monotonic() - sent
        written = _written(out, sweep)
    return seconds, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default=None, help="an earlier revision to compare with")
    parser.add_argument("--new", default="now", help="the revision measured (default: the tree)")
    parser.add_argument("--engines", default="simpy,fast", help="engines, comma-separated")
    parser.add_argument("--repeats", type=int, default=5, help="runs per engine and revision")
    parser.add_argument("--work", type=float, default=3.0, help="workers' CPU seconds first")
    parser.add_argument("--sweep", action="store_true", help="interrupt a sweep mid-point")
    options = parser.parse_args()
    revisions = [options.new] + ([options.against] if options.against else [])
    with tempfile.TemporaryDirectory() as scratch:
        trees = {revision: _tree(revision, Path(scratch)) for revision in revisions}
        for tree in trees.values():
            _check_imports(tree)
        found: dict[tuple[str, str], list[tuple[float, int | None]]] = {}
        for _ in range(options.repeats):
            for engine in options.engines.split(","):
                for revision, tree in trees.items():
                    outcome = interrupt_once(tree, engine, options.work, options.sweep)
                    found.setdefault((engine, revision), []).append(outcome)
                    print(
                        f"{engine:6} {revision:10} {outcome[0]:.2f} s, {outcome[1]} written, "
                        f"load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
    for (engine, revision), outcomes in found.items():
        seconds = [s for s, _ in outcomes]
        written = [w or 0 for _, w in outcomes]
        print(
            f"{engine:6} {revision:10} median {statistics.median(seconds):.2f} s "
            f"({min(seconds):.2f}-{max(seconds):.2f}), {statistics.median(written):g} "
            f"replications written{' of the point cut short' if options.sweep else ''} "
            f"(median of {len(outcomes)})"
        )


if __name__ == "__main__":
    main()
