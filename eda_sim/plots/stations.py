"""Per-station figures of a run: queue length over time, waiting times, simulated vs theory.

Each function takes a run's result document (``RunResult.to_dict()``, the loaded
JSON, or the :class:`~eda_sim.results.RunResult` itself) and returns a
:class:`matplotlib.figure.Figure`. They draw only what the run kept in its
bounded ``plot_data`` (one replication's sample path on a grid, each station's
last waits), never per-event lists.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from eda_sim import metrics as metric_table
from eda_sim.plots._common import (
    ARTICLE,
    AVERAGE,
    SIMULATED,
    THEORY,
    WARMUP,
    Source,
    as_document,
    floats,
    legend_below,
    new_figure,
    no_data,
    number,
    plain,
    require_station,
    station_names,
    station_theory,
    time_unit,
)
from eda_sim.plots.waits import mmc_sojourn_cdf, wait_distribution

__all__ = ["mmc_sojourn_cdf", "queue_length", "sim_vs_theory", "wait_distribution"]


def metric_label(metric: str, unit: str) -> str:
    """Axis label of a station metric, with its unit (from :mod:`eda_sim.metrics`)."""
    try:
        described = metric_table.lookup(metric)
    except KeyError:
        return metric
    return f"{described.heading(unit, per='per ')}: {described.description}"


def _method(entry: Mapping[str, Any]) -> str:
    method = str(entry.get("method", ""))
    if entry.get("exact"):
        return f"{method}, exact"
    return method if "approx" in method else f"{method}, approx."


def queue_length(source: Source, station: str) -> Figure:
    """Number present at ``station`` over time in one replication, beside the theory.

    Draws replication 0's sample path (the time-average number present in each
    interval of the recording grid), its running time average from the warm-up
    cut on, the theoretical L where a formula applies, and the warm-up period.

    Parameters
    ----------
    source : dict or RunResult
        The run's result document.
    station : str
        Station name.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For an unknown station.
    """
    document = as_document(source)
    require_station(document, station)
    unit = time_unit(document)
    figure = new_figure(7.5, 3.6)
    ax = figure.add_subplot()
    ax.set_title(plain(f"Number present (waiting + in service) at {station}, replication 0"))
    ax.set_xlabel(f"simulated time ({unit})")
    ax.set_ylabel("number present")
    path = document.get("plot_data", {}).get("path")
    series = path.get("stations", {}).get(station) if isinstance(path, Mapping) else None
    if not series:
        no_data(ax, "no sample path was kept for this run")
        return figure
    assert isinstance(path, Mapping)
    times = floats(path["times"])
    values = floats(series)
    step = float(np.median(np.diff(times))) if len(times) > 1 else math.nan
    ax.stairs(
        values,
        times,
        color=SIMULATED,
        linewidth=0.9,
        label=f"number present, mean per {step:.3g} {unit} interval",
    )
    warmup = number(path.get("warmup", document.get("warmup")))
    if math.isfinite(warmup) and warmup > 0:
        ax.axvspan(times[0], warmup, color=WARMUP, alpha=0.15, linewidth=0)
        ax.axvline(
            warmup,
            color=WARMUP,
            linestyle="--",
            linewidth=1.2,
            label=f"warm-up cut ({warmup:g} {unit})",
        )
    else:
        warmup = times[0]
    kept = (times[:-1] >= warmup - 1e-9 * max(1.0, abs(warmup))) & np.isfinite(values)
    if kept.any():
        spans = np.diff(times)[kept]
        average = np.cumsum(values[kept] * spans) / np.cumsum(spans)
        ax.plot(
            times[1:][kept],
            average,
            color=AVERAGE,
            linewidth=2.2,
            label=f"running time average after the warm-up (ends at {average[-1]:.4g})",
        )
    entry = station_theory(document, station)
    theory_l = number(entry.get("L")) if entry is not None else math.nan
    if entry is not None and math.isfinite(theory_l):
        ax.axhline(
            theory_l,
            color=THEORY,
            linestyle="--",
            linewidth=1.8,
            label=plain(f"theory L = {theory_l:.4g} ({_method(entry)})"),
        )
    ax.set_xlim(times[0], times[-1])
    ax.set_ylim(bottom=0)
    legend_below(figure)
    return figure


def sim_vs_theory(source: Source, metric: str = "L") -> Figure:
    """Simulated ``metric`` per station with its confidence interval, beside theory and article.

    Parameters
    ----------
    source : dict or RunResult
        The run's result document.
    metric : str
        A station metric: ``"L"`` or ``"W"`` (also ``Lq``, ``Wq``, ``utilization``,
        ``throughput``, ``loss``). The article's values are drawn for ``L`` and ``W``
        at the single-server stations it applies to.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For a metric the run did not measure.
    """
    document = as_document(source)
    stations = document.get("stations", {})
    names = [name for name in station_names(document) if metric in stations.get(name, {})]
    if not names:
        raise ValueError(f"no station has the metric {metric!r}")
    unit = time_unit(document)
    confidence = number(document.get("confidence"))
    replications = document.get("replications")
    figure = new_figure(max(7.0, 1.0 + 0.9 * len(names)), 4.0)
    ax = figure.add_subplot()
    level = f"{confidence:.0%} " if math.isfinite(confidence) else ""
    ax.set_title(f"Simulated and theoretical {metric} per station")
    ax.set_ylabel(metric_label(metric, unit))
    ax.set_xlabel("station")
    positions = np.arange(len(names), dtype=float)
    means, errors, theory, articles = _station_figures(document, names, metric)
    shown = np.concatenate([means, theory, articles])
    positive = shown[np.isfinite(shown) & (shown > 0)]
    logarithmic = positive.size > 1 and positive.max() / positive.min() > 30
    if logarithmic:  # stations on very different scales: keep the small ones visible
        ax.set_yscale("log", nonpositive="clip")
        errors[0] = np.minimum(errors[0], np.where(means > 0, means * 0.999, 0.0))
        ax.set_ylabel(metric_label(metric, unit) + ", log scale")
    handles: list[Any] = [
        ax.errorbar(
            positions - 0.12,
            means,
            yerr=errors,
            fmt="o",
            color=SIMULATED,
            capsize=6,
            capthick=1.8,
            elinewidth=2.2,  # the interval is the figure's point: drawn as heavily as the mean
            markersize=5,
            label=f"simulated (mean, {level}CI, {replications} replications)",
        )
    ]
    handles.extend(_theory_and_article_markers(ax, positions, theory, articles, metric))
    crowded = len(names) > 4 or max(len(name) for name in names) > 10
    ax.set_xticks(
        positions,
        [plain(name) for name in names],
        rotation=30 if crowded else 0,
        ha="right" if crowded else "center",
    )
    ax.set_xlim(-0.6, len(names) - 0.4)
    if not logarithmic:
        ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    legend_below(figure, handles, ncols=3 if figure.get_figwidth() >= 9 else 2)
    return figure


def _station_figures(
    document: Mapping[str, Any], names: list[str], metric: str
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]:
    """Per station: the simulated mean, its CI as error bars, the theory and the article."""
    stations = document.get("stations", {})
    means = np.array([number(stations[name][metric].get("mean")) for name in names])
    lows = np.array([number(stations[name][metric].get("ci", [None, None])[0]) for name in names])
    highs = np.array([number(stations[name][metric].get("ci", [None, None])[1]) for name in names])
    errors = np.maximum(np.vstack([np.nan_to_num(means - lows), np.nan_to_num(highs - means)]), 0.0)
    theory = np.array(
        [number((station_theory(document, name) or {}).get(metric)) for name in names]
    )
    article = document.get("article", {}).get("stations", {})
    articles = np.array(
        [
            number(article.get(name, {}).get(metric)) if metric in ("L", "W") else math.nan
            for name in names
        ]
    )
    return means, errors, theory, articles


def _theory_and_article_markers(
    ax: Axes,
    positions: npt.NDArray[np.float64],
    theory: npt.NDArray[np.float64],
    articles: npt.NDArray[np.float64],
    metric: str,
) -> list[Any]:
    """Draw the theory's and the article's values beside each station's interval."""
    handles: list[Any] = []
    if np.isfinite(theory).any():
        (line,) = ax.plot(
            positions,
            theory,
            linestyle="none",
            marker="D",
            markersize=7,
            markerfacecolor="none",
            markeredgewidth=1.8,
            color=THEORY,
            label="theory (method: see the results table)",
        )
        handles.append(line)
    if np.isfinite(articles).any():
        (line,) = ax.plot(
            positions + 0.12,
            articles,
            linestyle="none",
            marker="x",
            markersize=8,
            markeredgewidth=2,
            color=ARTICLE,
            label=f"the article's {metric} (single-server stations)",
        )
        handles.append(line)
    return handles
