"""Figures of runs and sweeps, as matplotlib Figures (layer 6; the only matplotlib importer).

Every function takes a result *document* -- ``RunResult.to_dict()``,
``SweepResult.to_dict()`` or the JSON they were saved as -- or the result object
itself, and returns a :class:`matplotlib.figure.Figure` built without pyplot
(no global state, no backend switch): display it in a notebook, or save it with
``figure.savefig("fig.png")`` (Agg). Axes carry the scenario's time unit, the
colours are the Okabe–Ito palette (colour-blind safe), the layout is
constrained so labels do not overlap.

Figures of a run draw what it kept (its bounded ``plot_data``):

* :func:`queue_length` -- number present at a station over time in replication
  0, its running time average, the theoretical L, the warm-up cut;
* :func:`wait_distribution` -- ECDFs of a station's waits and times per visit,
  against the exact M/M/1 / M/M/c distributions where they apply;
* :func:`latency_ccdf` -- the tail, ``P(X > t)`` on a log scale, of a station's
  W and Wq or a class's or the system's end-to-end W, from every replication's
  values (pooled histograms), percentiles marked, the exact law where known;
* :func:`sim_vs_theory` -- L or W per station with CI bars, theory and article;
* :func:`poisson_counts` -- arrivals per window against the Poisson pmf;
* :func:`transitions` -- observed next hops against the routing matrix;
* :func:`routing_diagram` -- the routing drawn from the matrices.

For a sweep: :func:`sweep_curves` -- L or W against the swept value.

Examples
--------
>>> import eda_sim
>>> from eda_sim import plots
>>> result = eda_sim.run(eda_sim.load_scenario("scenarios/mm1.yaml"), replications=2,
...                      horizon=500, warmup=50)
>>> figure = plots.queue_length(result, "handler")
>>> figure.axes[0].get_xlabel()
'simulated time (s)'
"""

from __future__ import annotations

from matplotlib.figure import Figure

from eda_sim.plots._common import OKABE_ITO, figure_png, station_names, time_unit
from eda_sim.plots.classes import poisson_counts, poisson_pmf, transitions
from eda_sim.plots.diagram import routing_diagram
from eda_sim.plots.latency import latency_ccdf, latency_scopes
from eda_sim.plots.stations import (
    metric_label,
    mmc_sojourn_cdf,
    queue_length,
    sim_vs_theory,
    wait_distribution,
)
from eda_sim.plots.sweeps import article_curves, param_label, sweep_curves

__all__ = [
    "OKABE_ITO",
    "Figure",
    "article_curves",
    "figure_png",
    "latency_ccdf",
    "latency_scopes",
    "metric_label",
    "mmc_sojourn_cdf",
    "param_label",
    "poisson_counts",
    "poisson_pmf",
    "queue_length",
    "routing_diagram",
    "sim_vs_theory",
    "station_names",
    "sweep_curves",
    "time_unit",
    "transitions",
    "wait_distribution",
]
