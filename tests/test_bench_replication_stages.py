"""``benchmarks/bench_replication_stages.py`` runs end to end: a smoke test of the harness.

Not a timing (the figures come from running the benchmark itself, see
``docs/performance.md``, "Where the kernel targets stand after the eighth
round"): at a tiny visit budget it checks that every stage is reported, that
the driver's stages are timed (the loop takes time, and the stages take
nearly all of a visit's time) and that the driver is left as it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench_replication_stages.py"


def test_the_benchmark_splits_a_replication_by_stage(tmp_path: Path) -> None:
    pytest.importorskip("numba")
    figures = tmp_path / "stages.json"
    command = [
        sys.executable, str(BENCH), "--sizes", "3", "--rounds", "1", "--visits", "100000",
        "--json", str(figures),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    stages = ("set-up", "loop", "refill", "serve", "grow", "result", "other", "whole")
    lines = done.stdout.splitlines()
    reported = {line.split()[0] for line in lines[lines.index(next(
        line for line in lines if line.startswith("marginal time per visit")
    )) + 2 :]}  # fmt: skip
    assert set(stages) <= reported
    (row,) = json.loads(figures.read_text())["3"]
    assert row["loop"] > 0
    # what no stage took ("other": the rest of the whole) is a small part of a visit's time
    assert abs(row["other"]) < 0.1 * row["whole"]


def test_the_driver_is_put_back_after_timing() -> None:
    pytest.importorskip("numba")
    sys.path.insert(0, str(BENCH.parent))
    try:
        import bench_replication_stages as bench
    finally:
        sys.path.remove(str(BENCH.parent))
    from eda_sim.engine.fast import driver as fast_driver

    driver: Any = fast_driver
    saved = (driver.load_kernel, driver.serve, driver._Replication.__init__)
    with bench.stages_timed(bench.StageClock()):
        assert driver.load_kernel is not saved[0]
    assert (driver.load_kernel, driver.serve, driver._Replication.__init__) == saved
