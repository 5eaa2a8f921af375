"""The waiting-time figure of a station: ECDFs of Wq and W beside the exact M/M/c laws.

Drawn from the run's bounded ``plot_data`` (replication 0's last waits per station).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from eda_sim.plots._common import (
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
    require_station,
    station_theory,
    time_unit,
)
from eda_sim.theory import mm1_sojourn_cdf, mmc_wait_ccdf

__all__ = ["mmc_sojourn_cdf", "wait_distribution"]

#: Theory methods whose waiting-time distribution is known (FIFO M/M/1, M/M/c).
_EXPONENTIAL_METHODS = ("M/M/1", "M/M/c (Erlang C)")


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
    require_station(document, station)
    unit = time_unit(document)
    figure = new_figure(8.5, 3.6)
    axes = figure.subplots(1, 2, sharey=True)
    figure.suptitle(plain(f"Waiting-time distribution at {station}"))
    waits = document.get("plot_data", {}).get("waits", {}).get(station)
    entry = station_theory(document, station)
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
