"""Percentiles and SLOs as the user sees them: terminal blocks, the CCDF figure, the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

import eda_sim
from eda_sim import plots
from eda_sim.cli import latency_tables, tables
from eda_sim.scenario import scenario_from_dict
from eda_sim.stats.sketch import Histogram

ROOT = Path(__file__).resolve().parents[1]

DOCUMENT: dict[str, Any] = {
    "stations": {
        "cart": {"servers": 2, "service": {"dist": "exponential", "mean": 0.5}},
        "pay": {"service": {"dist": "gamma", "mean": 0.2, "cv": 0.5}},
    },
    "classes": {
        "browse": {"arrivals": {"process": "poisson", "rate": 1.5, "to": "cart"}},
        "buy": {
            "arrivals": {"process": "poisson", "rate": 1.0, "to": "cart"},
            "routing": {"cart": {"pay": 1.0}},
        },
    },
    "run": {"horizon": 2000, "replications": 3, "warmup": 100, "quantiles": [0.5, 0.99]},
    "slo": [
        {"target": "classes.buy.W_p99", "max": 50.0},
        {"target": "stations.pay.Wq_p50", "max": 0.0},
    ],
}


@pytest.fixture(scope="module")
def result() -> eda_sim.RunResult:
    return eda_sim.run(scenario_from_dict(DOCUMENT))


def rendered(renderable: Any, width: int = 200) -> str:
    console = Console(width=width, record=True)
    console.print(renderable)
    return console.export_text()


def test_the_terminal_shows_a_percentile_block_and_the_slos(result: eda_sim.RunResult) -> None:
    block = rendered(latency_tables.percentile_table(result, "s"))
    for fragment in ("p50", "p99", "cart", "pay", "class buy", "system", "Wq (s)"):
        assert fragment in block, fragment
    main = rendered(tables.comparison_table(result, "s"))
    assert "W_p99" not in main  # the percentiles have their own block
    verdicts = rendered(latency_tables.slo_table(result))
    assert "classes.buy.W_p99" in verdicts and "≤ 50" in verdicts and "met" in verdicts


def test_the_percentile_block_fits_80_columns_without_cutting_a_figure() -> None:
    """The shipped SLO scenario, five levels: every line within 80 columns, and every
    interval and exact value printed whole (as at 200 columns)."""
    scenario = eda_sim.load_scenario(ROOT / "scenarios" / "slo_checkout.yaml")
    scenario = scenario.with_run(quantiles=[0.5, 0.9, 0.95, 0.99, 0.999])
    outcome = eda_sim.run(scenario, replications=3, horizon=300, warmup=50, engine="simpy")
    for table in (
        latency_tables.percentile_table(outcome, "s"),
        latency_tables.slo_table(outcome),
    ):
        narrow, wide = rendered(table, 80), rendered(table, 200)
        assert max(len(line) for line in narrow.splitlines()) <= 80
        cells = {
            cell.strip()
            for line in wide.splitlines()
            for cell in line.split("│")
            if "±" in cell or "✓" in cell
        }
        assert cells and all(cell in narrow for cell in cells)
    block = rendered(latency_tables.percentile_table(outcome, "s"), 80)
    assert "p99.9" in block and "[1] M/M/1" in block


def test_the_ccdf_is_the_pooled_histograms(result: eda_sim.RunResult) -> None:
    figure = plots.latency_ccdf(result, "pay")
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["time per visit, W", "wait before service, Wq"]
    histogram = result.latency[("station", "pay", "W")]
    _, above = histogram.ccdf()
    line = figure.axes[0].lines[0]
    assert np.array_equal(line.get_ydata(), np.concatenate(([1.0], above))[: len(line.get_ydata())])
    assert figure.axes[0].get_yscale() == "log"
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert any(label.startswith("p99 = ") for label in labels)
    assert any(f"{histogram.total:,} values" in label for label in labels)
    assert plots.latency_ccdf(result, "buy").axes[0].get_title() == "time per visit, W"
    assert len(plots.latency_ccdf(result).axes) == 1  # the system
    with pytest.raises(ValueError, match="no latency histogram"):
        plots.latency_ccdf(result, "nowhere")


def test_the_json_keeps_the_histograms_for_a_later_report(
    result: eda_sim.RunResult, tmp_path: Path
) -> None:
    document = json.loads(result.to_json())
    stored = document["plot_data"]["latency"]["classes"]["buy"]["W"]
    assert Histogram.from_dict(stored) == result.latency[("class", "buy", "W")]
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document))
    out = tmp_path / "report"
    process = subprocess.run(
        [sys.executable, "-m", "eda_sim", "report", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 0, process.stderr
    page = (out / "index.html").read_text()
    assert "Tail latency and SLOs" in page
    assert "classes.buy.W_p99" in page and "stations.pay.Wq_p50" in page
    assert page.count("Tail of the time distribution") >= 5  # 2 stations, 2 classes, system
