"""``benchmarks/bench_sketch_counting.py`` runs end to end: a smoke test of the harness.

Not a timing (the figures come from running the benchmark itself, see
``docs/performance.md``, "Counting the sketches at 1,000 stations"): at a tiny
visit budget it checks that the in-run table counts every pass with this
tree's two functions and a revision's (here ``HEAD``'s, loaded from git), and
that the other two tables still run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench_sketch_counting.py"


def test_the_benchmark_runs_and_reports() -> None:
    pytest.importorskip("numba")
    inside_git = (ROOT / ".git").exists() and shutil.which("git") is not None
    command = [
        sys.executable, str(BENCH), "--sizes", "3", "--rounds", "1", "--visits", "150000",
        "--in-run", "1", *(["--against", "HEAD"] if inside_git else []),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    table = lines.index(next(line for line in lines if line.startswith("in a run")))
    assert "ahead / HEAD ahead" in lines[table + 1] or not inside_git
    figures = [float(value) for value in lines[table + 2].split()[1:]]
    assert len(figures) == (6 if inside_git else 5) and all(value > 0 for value in figures)
    assert lines[-1].split()[-1] == "True"  # the replication table's chunks agree
