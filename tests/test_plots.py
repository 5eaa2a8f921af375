"""Figures of runs and sweeps (eda_sim.plots): content, labels, legends, theory curves."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

import eda_sim
from eda_sim import plots
from eda_sim.experiment import sweep
from eda_sim.results import describe_scenario
from eda_sim.scenario import scenario_from_dict
from eda_sim.theory import article_W, mmc_wait_ccdf

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TRAPEZOID = getattr(np, "trapezoid", None) or np.trapz  # numpy 2 renamed it
SMALL = {"replications": 2, "horizon": 600.0, "warmup": 60.0, "workers": 1}

#: Two classes, a fan-out, an M/M/3 pool, a lognormal station and names that are not code.
MIXED = {
    "name": "mixed",
    "time_unit": "ms",
    "stations": {
        "front <a>": {"servers": 1, "service": {"dist": "exponential", "rate": 3.0}},
        "pool $x$": {"servers": 3, "service": {"dist": "exponential", "mean": 1.0}},
        "audit": {"servers": 1, "service": {"dist": "lognormal", "mean": 0.3, "cv": 1.5}},
        "fan": {"servers": 1, "service": {"dist": "exponential", "rate": 5.0}},
    },
    "classes": {
        "orders": {
            "arrivals": {"process": "poisson", "rate": 0.8, "to": "front <a>"},
            "routing": {
                "front <a>": {"pool $x$": 0.7, "audit": 0.2},
                "pool $x$": {"fan": 0.3},
                "fan": {"fanout": ["audit"]},
            },
        },
        "pings": {"arrivals": {"process": "poisson", "rate": 0.5, "to": "pool $x$"}},
    },
    "run": {"horizon": 600, "warmup": 60, "replications": 2, "seed": 3},
}


@pytest.fixture(scope="module")
def jackson() -> dict[str, Any]:
    result = eda_sim.run(eda_sim.load_scenario(SCENARIOS / "jackson3.yaml"), **SMALL)
    return result.to_dict()


@pytest.fixture(scope="module")
def mmc_result() -> eda_sim.RunResult:
    return eda_sim.run(eda_sim.load_scenario(SCENARIOS / "mmc.yaml"), **SMALL)


@pytest.fixture(scope="module")
def mixed() -> dict[str, Any]:
    return eda_sim.run(scenario_from_dict(MIXED), workers=1).to_dict()


@pytest.fixture(scope="module")
def sweep_document() -> dict[str, Any]:
    scenario = eda_sim.load_scenario(SCENARIOS / "mm1.yaml")
    result = sweep(scenario, "arrivals.rate", "0.4,0.7,1.1", replications=2, horizon=400, warmup=40)
    document = result.to_dict()
    document["model"] = describe_scenario(scenario)
    document["time_unit"] = scenario.time_unit
    return document


def plotting_axes(figure: Figure) -> list[Axes]:
    """The figure's visible axes, colour bars left out."""
    return [
        ax
        for ax in figure.axes
        if ax.get_visible() and ax.get_label() != "<colorbar>" and not hasattr(ax, "_colorbar")
    ]


def legend_labels(figure: Figure) -> list[str]:
    labels = [text.get_text() for legend in figure.legends for text in legend.get_texts()]
    for ax in figure.axes:
        legend = ax.get_legend()
        if legend is not None:
            labels += [text.get_text() for text in legend.get_texts()]
    return labels


def assert_labelled(figure: Figure, *, legend: bool = True) -> None:
    assert isinstance(figure, Figure)
    assert figure.get_layout_engine() is not None, "constrained layout"
    for ax in plotting_axes(figure):
        assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()
    if legend:
        assert len(legend_labels(figure)) >= 2
    assert plots.figure_png(figure).startswith(b"\x89PNG")


def test_every_run_figure_has_labelled_axes_and_a_legend(jackson: dict[str, Any]) -> None:
    station = "ingest"
    assert_labelled(plots.queue_length(jackson, station))
    assert_labelled(plots.wait_distribution(jackson, station))
    assert_labelled(plots.sim_vs_theory(jackson, "L"))
    assert_labelled(plots.sim_vs_theory(jackson, "W"))
    assert_labelled(plots.poisson_counts(jackson))
    assert_labelled(plots.transitions(jackson, "events"), legend=False)  # a colour bar instead
    diagram = plots.routing_diagram(jackson)
    assert diagram.get_suptitle() and len(legend_labels(diagram)) == 2
    assert plots.figure_png(diagram).startswith(b"\x89PNG")


def test_axes_carry_the_scenarios_time_unit(mixed: dict[str, Any]) -> None:
    assert plots.queue_length(mixed, "audit").axes[0].get_xlabel() == "simulated time (ms)"
    assert plots.wait_distribution(mixed, "audit").axes[0].get_xlabel() == "Wq (ms)"
    assert "(ms)" in plots.sim_vs_theory(mixed, "W").axes[0].get_ylabel()
    assert "ms" in plots.poisson_counts(mixed, "pings").axes[0].get_xlabel()


def test_queue_length_marks_warmup_average_and_theory(jackson: dict[str, Any]) -> None:
    figure = plots.queue_length(jackson, "enrich")
    ax = figure.axes[0]
    labels = legend_labels(figure)
    assert any(label.startswith("warm-up cut (60 s)") for label in labels)
    assert any("running time average" in label for label in labels)
    theory = jackson["theory"]["stations"]["enrich"]["L"]
    horizontal = [line for line in ax.get_lines() if np.ptp(line.get_ydata()) == 0]
    assert any(math.isclose(line.get_ydata()[0], theory) for line in horizontal)
    vertical = [line for line in ax.get_lines() if np.ptp(line.get_xdata()) == 0]
    assert any(line.get_xdata()[0] == 60.0 for line in vertical)
    # The running average ends at the time average of the kept path after the warm-up.
    path = jackson["plot_data"]["path"]
    times, values = np.array(path["times"]), np.array(path["stations"]["enrich"])
    kept = times[:-1] >= 60.0
    expected = np.sum(values[kept] * np.diff(times)[kept]) / np.sum(np.diff(times)[kept])
    average = next(line for line in ax.get_lines() if "running" in line.get_label())
    assert average.get_ydata()[-1] == pytest.approx(expected)


def test_wait_distribution_against_the_exact_mmc_law(mmc_result: eda_sim.RunResult) -> None:
    document = mmc_result.to_dict()
    figure = plots.wait_distribution(mmc_result, "pool")  # the RunResult itself works too
    wq_axes = figure.axes[0]
    theory = next(line for line in wq_axes.get_lines() if "theory" in line.get_label())
    assert "M/M/c (Erlang C)" in theory.get_label()
    station = next(s for s in document["model"]["stations"] if s["name"] == "pool")
    rate = document["theory"]["stations"]["pool"]["throughput"]
    t, curve = theory.get_xdata()[5:], theory.get_ydata()[5:]
    expected = 1 - mmc_wait_ccdf(t, rate, 1 / station["service_mean"], station["servers"])
    assert np.allclose(curve, expected)
    sample = document["plot_data"]["waits"]["pool"]["Wq"]
    ecdf = next(line for line in wq_axes.get_lines() if "simulated" in line.get_label())
    assert ecdf.get_ydata()[-1] == 1.0 and len(ecdf.get_xdata()) == len(sample) + 1


def test_wait_distribution_without_a_known_law_says_so(mixed: dict[str, Any]) -> None:
    figure = plots.wait_distribution(mixed, "audit")  # lognormal service: no exact law
    assert not any("theory" in line.get_label() for ax in figure.axes for line in ax.get_lines())
    assert any("no theoretical distribution" in text.get_text() for text in figure.axes[0].texts)


def test_mmc_sojourn_distribution_is_the_convolution_of_wait_and_service() -> None:
    rate, mu, servers = 2.2, 1.0, 3
    t = np.array([0.3, 1.0, 2.5, 6.0])
    grid = np.linspace(0.0, 6.0, 60_001)
    expected = []
    for limit in t:  # P(W <= t) = ∫ P(Wq <= t - s) μ e^{-μ s} ds
        s = grid[grid <= limit]
        wait_cdf = 1 - mmc_wait_ccdf(limit - s, rate, mu, servers)
        expected.append(TRAPEZOID(wait_cdf * mu * np.exp(-mu * s), s))
    assert np.allclose(plots.mmc_sojourn_cdf(t, rate, mu, servers), expected, atol=1e-6)


def test_sim_vs_theory_shows_ci_theory_and_article(jackson: dict[str, Any]) -> None:
    figure = plots.sim_vs_theory(jackson, "W")
    ax = figure.axes[0]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["ingest", "enrich", "store"]
    labels = legend_labels(figure)
    assert any("simulated" in label and "95% CI" in label for label in labels)
    article = next(line for line in ax.get_lines() if "article" in line.get_label())
    expected = [jackson["article"]["stations"][name]["W"] for name in ("ingest", "enrich", "store")]
    assert np.allclose(article.get_ydata(), expected)
    with pytest.raises(ValueError, match="no station has the metric"):
        plots.sim_vs_theory(jackson, "nonsense")


def test_poisson_counts_against_the_pmf(jackson: dict[str, Any]) -> None:
    figure = plots.poisson_counts(jackson, "events")
    ax = figure.axes[0]
    heights = [bar.get_height() for bar in ax.patches]
    assert sum(heights) == pytest.approx(1.0)
    pmf = next(line for line in ax.get_lines() if "Poisson" in line.get_label())
    window = jackson["plot_data"]["arrivals"]["events"]["window"]
    mean = jackson["model"]["classes"][0]["rate"] * window
    assert np.allclose(pmf.get_ydata(), plots.poisson_pmf(pmf.get_xdata(), mean))
    assert "chi-square test p =" in pmf.get_label()
    with pytest.raises(ValueError, match="no event class"):
        plots.poisson_counts(jackson, "nope")


def test_transitions_compare_observed_hops_with_the_matrix(jackson: dict[str, Any]) -> None:
    figure = plots.transitions(jackson, "events")
    observed, specified = (ax.get_images()[0].get_array() for ax in plotting_axes(figure))
    assert observed.shape == specified.shape == (3, 4)  # 3 stations + exit
    assert np.allclose(observed.sum(axis=1), 1.0)
    matrix = np.array(jackson["model"]["classes"][0]["matrix"])
    assert np.allclose(specified[:, :3], matrix)
    assert np.allclose(specified[:, 3], 1 - matrix.sum(axis=1))
    assert np.allclose(observed, specified, atol=0.08)


def test_routing_diagram_draws_probabilities_fanout_entries_and_exits(
    mixed: dict[str, Any],
) -> None:
    figure = plots.routing_diagram(mixed)
    panels = [ax for ax in figure.axes if ax.get_visible()]
    assert len(panels) == 2  # one per class
    orders = panels[0]
    arrows = [patch for patch in orders.patches if isinstance(patch, FancyArrowPatch)]
    dashed = [arrow for arrow in arrows if arrow.get_linestyle() not in ("-", "solid")]
    assert len(dashed) == 1  # fan -> audit, the copy
    # 3 routing arrows + 1 copy + 1 entry + 4 exits (front, pool, audit, fan)
    assert len(arrows) == 3 + 1 + 1 + 4
    texts = {text.get_text() for text in orders.texts}
    assert {"0.7", "0.2", "0.3", "copy", "in", "out 0.1", "out 0.7", "out"} <= texts
    assert r"pool \$x\$" in texts  # a dollar sign is text, not mathematics
    assert "class orders" in orders.get_title()


def test_figures_accept_the_result_object_or_its_json(mmc_result: eda_sim.RunResult) -> None:
    loaded = json.loads(mmc_result.to_json())
    for figure_function in (plots.sim_vs_theory, plots.poisson_counts, plots.routing_diagram):
        a, b = figure_function(mmc_result), figure_function(loaded)
        assert plots.figure_png(a) == plots.figure_png(b)
    with pytest.raises(TypeError, match="result document"):
        plots.sim_vs_theory(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no station 'nope'"):
        plots.queue_length(loaded, "nope")


def test_sweep_curves_theory_article_and_skipped_points(sweep_document: dict[str, Any]) -> None:
    figure = plots.sweep_curves(sweep_document, "W")
    assert_labelled(figure)
    handler, system = plotting_axes(figure)
    assert handler.get_xlabel() == "arrivals.rate (per s)" and handler.get_ylabel() == "W (s)"
    theory = next(line for line in handler.get_lines() if line.get_label() == "theory")
    assert np.allclose(theory.get_xdata(), [0.4, 0.7])
    assert np.allclose(theory.get_ydata(), [1 / (1 - 0.4), 1 / (1 - 0.7)])  # M/M/1, μ = 1
    article = next(line for line in handler.get_lines() if "article" in line.get_label())
    assert np.allclose(article.get_ydata(), [article_W(lam, lam) for lam in (0.4, 0.7)])
    skipped = [line for line in handler.get_lines() if "not run" in line.get_label()]
    assert len(skipped) == 1 and skipped[0].get_xdata()[0] == 1.1
    assert not any("article" in line.get_label() for line in system.get_lines())
    one = plots.sweep_curves(sweep_document, "L", station="handler")
    assert len(plotting_axes(one)) == 1
    with pytest.raises(ValueError, match="no 'L' rows"):
        plots.sweep_curves(sweep_document, "L", station="nope")


def test_sweep_without_the_scenario_has_no_article_curve(sweep_document: dict[str, Any]) -> None:
    bare = {key: value for key, value in sweep_document.items() if key != "model"}
    assert plots.article_curves(bare, "W") == {}
    figure = plots.sweep_curves(bare, "W")
    assert not any("article" in label for label in legend_labels(figure))


def test_plots_need_no_pyplot_and_no_global_backend() -> None:
    code = (
        "import sys, matplotlib; before = matplotlib.get_backend.__module__; "
        "import eda_sim.plots; "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "False"


def test_figures_display_in_a_notebook_without_pyplot(
    jackson: dict[str, Any], tmp_path: Path
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(jackson))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import json, sys\nfrom eda_sim import plots\n"
            f"document = json.load(open({str(saved)!r}))\n"
            "plots.sim_vs_theory(document, 'W')"
        ),
        nbformat.v4.new_code_cell("'matplotlib.pyplot' in sys.modules"),
    ]
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    figure_output, pyplot_output = (cell.outputs[0] for cell in notebook.cells)
    assert "image/png" in figure_output["data"]
    assert pyplot_output["data"]["text/plain"] == "False"
