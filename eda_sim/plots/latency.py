"""Tail latency of a run: complementary distributions on a log scale, percentiles marked.

:func:`latency_ccdf` draws ``P(X > t)`` of a station's time per visit and wait
(or of a class's or the system's end-to-end time) from the run's pooled
histograms: every replication's values after the warm-up (``plot_data.latency``
of the result document), not a sample of the last visits. At the upper edge of
each bucket the share of values above it is exact; between edges the curve is
drawn as steps. The run's percentiles (each replication's quantile, mean ± the
half-width of its interval) are marked, and the exact distribution is drawn
where theory has one (``plot_data.latency_theory``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from eda_sim.plots._common import (
    CYCLE,
    SIMULATED,
    THEORY,
    Source,
    as_document,
    floats,
    new_figure,
    no_data,
    number,
    plain,
    time_unit,
)
from eda_sim.stats.sketch import Histogram

__all__ = ["latency_ccdf", "latency_scopes"]

_SCOPES = {"station": "stations", "class": "classes", "system": "system"}
_TITLES = {"W": "time per visit, W", "Wq": "wait before service, Wq", "blocked": "blocked"}


def latency_scopes(source: Source) -> list[tuple[str, str]]:
    """``(scope, name)`` of every histogram the run kept: stations, classes, the system."""
    document = as_document(source)
    latency = (document.get("plot_data") or {}).get("latency") or {}
    found: list[tuple[str, str]] = []
    for scope, key in _SCOPES.items():
        for name in latency.get(key) or {}:
            found.append((scope, str(name)))
    return found


def _percentiles(document: Mapping[str, Any], scope: str, name: str, metric: str) -> list[Any]:
    """``(level name, mean, half-width)`` of the run's percentiles of ``metric``."""
    key = _SCOPES[scope]
    values = document.get(key) or {}
    metrics = values if scope == "system" else values.get(name) or {}
    marks = []
    for label, entry in metrics.items():
        if not str(label).startswith(f"{metric}_p") or not isinstance(entry, Mapping):
            continue
        mean = number(entry.get("mean"))
        low, high = (number(v) for v in (entry.get("ci") or [None, None]))
        marks.append((str(label)[len(metric) + 1 :], mean, (high - low) / 2))
    return marks


def _panel(
    ax: Axes, document: Mapping[str, Any], scope: str, name: str, metric: str, unit: str
) -> None:
    latency = (document.get("plot_data") or {}).get("latency") or {}
    scoped = latency.get(_SCOPES[scope]) or {}
    entry = (scoped if scope == "system" else scoped.get(name) or {}).get(metric)
    ax.set_title(_TITLES.get(metric, metric), fontsize="medium")
    ax.set_xlabel(f"{metric} ({unit})")
    if not isinstance(entry, Mapping):
        no_data(ax, "not measured")
        return
    histogram = Histogram.from_dict(entry)
    if histogram.total == 0:
        no_data(ax, "no values after the warm-up")
        return
    edges, above = histogram.ccdf()
    x = np.concatenate(([0.0], edges))
    y = np.concatenate(([1.0], above))
    shown = y > 0
    ax.step(
        x[shown],
        y[shown],
        where="post",
        color=SIMULATED,
        linewidth=1.8,
        label=f"simulated: {histogram.total:,} values, all replications",
    )
    theory = ((document.get("plot_data") or {}).get("latency_theory") or {}).get(
        f"{scope}:{name}:{metric}"
    )
    if isinstance(theory, Mapping) and theory.get("t"):
        t, p = floats(theory["t"]), floats(theory["ccdf"])
        positive = p > 0
        ax.plot(
            t[positive],
            p[positive],
            color=THEORY,
            linestyle="--",
            linewidth=1.6,
            label=plain(f"theory: {theory.get('method', '')} (exact)"),
        )
    marks = _percentiles(document, scope, name, metric)
    for colour, (level, mean, half) in zip(CYCLE[1:], marks, strict=False):
        if not np.isfinite(mean):
            continue
        text = f"{level} = {mean:.4g}" + (f" ± {half:.2g}" if np.isfinite(half) else "")
        ax.axvline(mean, color=colour, linestyle=":", linewidth=1.4, label=plain(text))
    ax.set_yscale("log")
    ax.set_ylim(bottom=max(0.5 / histogram.total, 1e-12), top=1.2)
    ax.set_xlim(left=0.0)
    ax.legend(fontsize="x-small", frameon=False, loc="upper right")


def latency_ccdf(source: Source, name: str = "system", scope: str | None = None) -> Figure:
    """``P(X > t)`` on a log scale: a station's W and Wq, or a class's or the system's W.

    Parameters
    ----------
    source : dict or RunResult
        The run's result document.
    name : str
        A station's or class's name, or ``"system"`` (the default).
    scope : {"station", "class", "system"}, optional
        Where ``name`` is; by default a station if one has that name, else a class,
        else the system.

    Raises
    ------
    ValueError
        When the run kept no histogram for ``name`` (an unknown name, or a run of
        an engine that sketches none).

    Examples
    --------
    >>> import eda_sim
    >>> from eda_sim import plots
    >>> result = eda_sim.run(eda_sim.load_scenario("scenarios/mm1.yaml"), replications=2,
    ...                      horizon=500, warmup=50)
    >>> figure = plots.latency_ccdf(result, "handler")
    >>> figure.axes[0].get_yscale(), figure.axes[0].get_ylabel()
    ('log', 'share of values > t')
    """
    document = as_document(source)
    scopes = latency_scopes(document)
    if scope is None:  # a station first, then a class, then the system
        found = [s for order in _SCOPES for s, n in scopes if s == order and n == name]
        scope = found[0] if found else None
    if scope is None or (scope, name) not in scopes:
        known = ", ".join(n for _, n in scopes) or "none"
        raise ValueError(f"no latency histogram for {name!r} (kept: {known})")
    unit = time_unit(document)
    metrics = ["W", "Wq"] if scope == "station" else ["W"]
    latency = (document.get("plot_data") or {}).get("latency") or {}
    if scope == "station" and "blocked" in ((latency.get("stations") or {}).get(name) or {}):
        metrics.append("blocked")
    figure = new_figure(4.6 * len(metrics) + 0.8, 3.8)
    axes = np.atleast_1d(figure.subplots(1, len(metrics), squeeze=False)[0])
    where = {"station": f"at {name}", "class": f"of {name}, end to end"}.get(scope, "end to end")
    figure.suptitle(plain(f"Tail of the time distribution {where}"))
    for ax, metric in zip(axes, metrics, strict=True):
        _panel(ax, document, scope, name, metric, unit)
    axes[0].set_ylabel("share of values > t")
    return figure
