"""Per-station figures of a run: queue length over time, waiting times, simulated vs theory.

Each function takes a run's result document (``RunResult.to_dict()``, the loaded
JSON, or the :class:`~eda_sim.results.RunResult` itself) and returns a
:class:`matplotlib.figure.Figure`. They draw only what the run kept in its
bounded ``plot_data`` (one replication's sample path on a grid, each station's
last waits), never per-event lists.
"""

from __future__ import annotations

import math
import textwrap
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
    model_station,
    new_figure,
    no_data,
    number,
    plain,
    station_names,
    time_unit,
)
from eda_sim.theory import mm1_sojourn_cdf, mmc_wait_ccdf

__all__ = ["mmc_sojourn_cdf", "queue_length", "sim_vs_theory", "wait_distribution"]

#: Theory methods whose waiting-time distribution is known (FIFO M/M/1, M/M/c).
_EXPONENTIAL_METHODS = ("M/M/1", "M/M/c (Erlang C)")


def metric_label(metric: str, unit: str) -> str:
    """Axis label of a station metric, with its unit (from :mod:`eda_sim.metrics`)."""
    try:
        described = metric_table.lookup(metric)
    except KeyError:
        return metric
    return f"{described.heading(unit, per='per ')}: {described.description}"


def _require_station(document: Mapping[str, Any], station: str) -> None:
    names = station_names(document)
    if station not in names:
        raise ValueError(f"no station {station!r}; stations: {', '.join(names)}")


def _theory(document: Mapping[str, Any], station: str) -> Mapping[str, Any] | None:
    """The station's theory entry when a formula applied, else None."""
    entry = document.get("theory", {}).get("stations", {}).get(station)
    if not isinstance(entry, Mapping) or entry.get("available") is False:
        return None
    return entry


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
    _require_station(document, station)
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
    entry = _theory(document, station)
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


def mmc_sojourn_cdf(
    t: npt.ArrayLike, arrival_rate: float, service_rate: float, servers: int
) -> npt.NDArray[np.float64]:
    """Time-in-system distribution ``P(W <= t)`` of the FIFO M/M/c queue.

    ``W = Wq + S`` with ``S`` exponential(μ) independent of the wait, so with
    ``C = P(Wq > 0)`` (Erlang C) and ``θ = cμ − λ``:
    ``P(W > t) = e^{−μt} + Cμ (e^{−μt} − e^{−θt}) / (θ − μ)`` (``Cμ t e^{−μt}`` for
    the last term when ``θ = μ``); for ``c = 1`` this is ``e^{−(μ−λ)t}``
    (:func:`eda_sim.theory.mm1_sojourn_cdf`). Gross et al., *Fundamentals of
    Queueing Theory*, 4th ed., §2.3.

    Examples
    --------
    >>> from eda_sim.theory import mm1_sojourn_cdf
    >>> t = [0.5, 2.0]
    >>> bool(np.allclose(mmc_sojourn_cdf(t, 0.7, 1.0, 1), mm1_sojourn_cdf(t, 0.7, 1.0)))
    True
    >>> float(mmc_sojourn_cdf(0.0, 2.0, 1.0, 3))  # no atom at 0: every visit takes service
    0.0
    """
    times = np.asarray(t, dtype=np.float64)
    if servers == 1:
        return np.asarray(mm1_sojourn_cdf(times, arrival_rate, service_rate), dtype=np.float64)
    delay = float(mmc_wait_ccdf(0.0, arrival_rate, service_rate, servers))
    mu = service_rate
    theta = servers * mu - arrival_rate
    positive = np.maximum(times, 0.0)
    if math.isclose(theta, mu):
        tail = np.exp(-mu * positive) * (1.0 + delay * mu * positive)
    else:
        tail = np.exp(-mu * positive) + delay * mu * (
            np.exp(-mu * positive) - np.exp(-theta * positive)
        ) / (theta - mu)
    return np.where(times < 0, 0.0, 1.0 - tail)


def _ecdf(ax: Axes, sample: npt.NDArray[np.float64], label: str) -> None:
    values = np.sort(sample[np.isfinite(sample)])
    shares = np.arange(1, len(values) + 1) / len(values)
    ax.step(
        np.concatenate(([0.0], values)),
        np.concatenate(([0.0], shares)),
        where="post",
        color=SIMULATED,
        linewidth=1.8,
        label=label,
    )


def wait_distribution(source: Source, station: str) -> Figure:
    """Distribution of the wait before service (Wq) and the time per visit (W) at ``station``.

    Empirical distribution functions of replication 0's last waits, against the
    exact distribution where the station is an M/M/1 or M/M/c queue (theory
    method ``M/M/1`` or ``M/M/c (Erlang C)``, exact): ``1 − P(Wq > t)`` from
    :func:`eda_sim.theory.mmc_wait_ccdf` and :func:`mmc_sojourn_cdf` for the time
    in system, with λ from the theory and μ from the scenario.

    Parameters
    ----------
    source : dict or RunResult
        The run's result document.
    station : str
        Station name.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: Wq (left) and W (right).

    Raises
    ------
    ValueError
        For an unknown station.
    """
    document = as_document(source)
    _require_station(document, station)
    unit = time_unit(document)
    figure = new_figure(8.5, 3.6)
    axes = figure.subplots(1, 2, sharey=True)
    figure.suptitle(plain(f"Waiting-time distribution at {station}"))
    waits = document.get("plot_data", {}).get("waits", {}).get(station)
    entry = _theory(document, station)
    described = model_station(document, station)
    exponential = (
        entry is not None
        and entry.get("exact") is True
        and entry.get("method") in _EXPONENTIAL_METHODS
        and described is not None
    )
    for ax, metric, title in zip(
        axes, ("Wq", "W"), ("wait before service, Wq", "time per visit, W"), strict=True
    ):
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel(f"{metric} ({unit})")
        ax.set_ylim(0, 1.02)
        sample = floats(waits.get(metric, [])) if isinstance(waits, Mapping) else np.array([])
        if not np.isfinite(sample).any():
            no_data(ax, "no visits recorded")
            continue
        _ecdf(ax, sample, f"simulated: last {len(sample)} visits of replication 0")
        if not exponential:
            continue
        assert entry is not None and described is not None
        arrival_rate = number(entry.get("throughput"))
        service_rate = 1.0 / number(described.get("service_mean"))
        servers = int(described.get("servers", 1))
        if not (math.isfinite(arrival_rate) and math.isfinite(service_rate)):
            continue
        grid = np.linspace(0.0, float(np.nanmax(sample)) * 1.05, 400)
        if metric == "Wq":
            curve = 1.0 - np.asarray(mmc_wait_ccdf(grid, arrival_rate, service_rate, servers))
            grid, curve = np.concatenate(([0.0], grid)), np.concatenate(([0.0], curve))
        else:
            curve = mmc_sojourn_cdf(grid, arrival_rate, service_rate, servers)
        ax.plot(
            grid,
            curve,
            color=THEORY,
            linestyle="--",
            linewidth=1.8,
            label=plain(f"theory: {entry.get('method')} (exact)"),
        )
    for ax in axes:
        ax.set_ylabel("share of visits ≤ t")
    if not exponential:
        reason = (
            "no theoretical distribution: the station is not an exact M/M/1 or M/M/c queue"
            if entry is not None
            else "no theoretical distribution: no formula applies to this station"
        )
        axes[0].text(
            0.97,
            0.04,
            textwrap.fill(reason, 34),
            transform=axes[0].transAxes,
            ha="right",
            va="bottom",
            fontsize="small",
            color=WARMUP,
        )
    handles, labels = axes[0].get_legend_handles_labels()
    if not handles:
        handles, labels = axes[1].get_legend_handles_labels()
    if handles:
        legend_below(figure, handles, labels)
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
    means = np.array([number(stations[name][metric].get("mean")) for name in names])
    lows = np.array([number(stations[name][metric].get("ci", [None, None])[0]) for name in names])
    highs = np.array([number(stations[name][metric].get("ci", [None, None])[1]) for name in names])
    errors = np.maximum(np.vstack([np.nan_to_num(means - lows), np.nan_to_num(highs - means)]), 0.0)
    theory = np.array([number((_theory(document, name) or {}).get(metric)) for name in names])
    article = document.get("article", {}).get("stations", {})
    articles = np.array(
        [
            number(article.get(name, {}).get(metric)) if metric in ("L", "W") else math.nan
            for name in names
        ]
    )
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
