"""``benchmarks/bench_kept_memory.py`` runs end to end: a smoke test of the harness.

Not a timing (the figures come from running the benchmark itself, see
``docs/performance.md``, "Kernel time and page faults at 1,000 stations"): at a
tiny visit budget it checks that both arms run, new memory and kept, and that
the report has what the page quotes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench_kept_memory.py"


def test_the_benchmark_runs_and_reports(tmp_path: Path) -> None:
    pytest.importorskip("numba")
    figures_file = tmp_path / "figures.json"
    command = [
        sys.executable, str(BENCH), "--size", "3", "--rounds", "2", "--visits", "20000",
        "--json", str(figures_file),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    figures = json.loads(figures_file.read_text())
    for arm in ("new", "kept"):
        assert figures[arm]["long_s_median"] > figures[arm]["short_s_median"] > 0
        assert figures[arm]["faults_median"] >= 0
    assert figures["kept_over_new"] > 0
    assert "kept / new" in done.stdout
