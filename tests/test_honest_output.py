"""Output that says what it measured: no "±" without an interval, no −100% against ~0.

Each test runs the real command (small horizons) and reads what a user reads.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from eda_sim.cli.tables import format_relative_error

ROOT = Path(__file__).resolve().parent.parent


def eda_sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eda_sim", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize(
    ("simulated", "theory", "shown"),
    [(0.0, 1e-22, "0"), (0.0, 0.0, "0"), (2e-3, 1e-22, "Δ +0.002"), (1.1, 1.0, "+10.0%")],
)
def test_relative_error_only_where_it_means_something(
    simulated: float, theory: float, shown: str
) -> None:
    assert format_relative_error(simulated, theory) == shown


def test_one_replication_shows_no_interval() -> None:
    done = eda_sim("run", "scenarios/mm1.yaml", "--replications", "1", "--horizon", "3000")
    assert done.returncode == 0, done.stderr
    assert "±" not in done.stdout
    assert "1 replication of 3000" in done.stdout
    assert "no confidence interval" in done.stdout
    assert "1 replications" not in done.stdout


def test_batch_means_header_says_one_run_of_batches_and_the_warmup_used() -> None:
    done = eda_sim(
        "run", "scenarios/mm1.yaml", "--ci", "batch-means", "--horizon", "50000", "--warmup", "1000"
    )
    assert done.returncode == 0, done.stderr
    head = done.stdout.splitlines()[0]
    assert "one run of 50000 s in 20 batches of 2400 s after a warm-up of 2000" in head
    assert "replications" not in head
    assert "batches from 2000 on: the warm-up (fixed), rounded up" in done.stdout


def test_precision_summary_names_the_metric_that_missed() -> None:
    done = eda_sim(
        "run", "scenarios/jackson3.yaml", "--precision", "0.0001", "--replications", "2",
        "--max-replications", "3", "--horizon", "500", "--warmup", "50", "--workers", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = next(line for line in done.stdout.splitlines() if "precision target" in line)
    assert "NOT met" in summary
    worst = summary.split("worst relative half-width")[1]
    assert any(
        f"({name}." in worst or "(system." in worst for name in ("ingest", "enrich", "store")
    )
    assert "not met" in done.stderr and ")" in done.stderr.split("worst relative half-width")[1]
