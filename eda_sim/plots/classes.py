"""Per-event-class figures of a run: the article's assumptions, seen on the data.

:func:`poisson_counts` puts the observed arrivals per window beside the Poisson
pmf; :func:`transitions` puts the observed next hops beside the routing matrix.
Both read the run's bounded ``plot_data`` (window-count histograms and hop
counts pooled over the replications).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib import colormaps
from matplotlib.figure import Figure

from eda_sim.plots._common import (
    SIMULATED,
    THEORY,
    Source,
    as_document,
    legend_below,
    model_class,
    new_figure,
    no_data,
    number,
    plain,
    station_names,
    time_unit,
)
from eda_sim.plots.diagram.layout import entry_stations, hop_distances, station_targets

__all__ = ["poisson_counts", "poisson_pmf", "transitions"]

#: Heat-map colours: viridis (perceptually uniform, colour-blind safe); grey where no data.
_CMAP = colormaps["viridis"].with_extremes(bad="#EEEEEE")


def poisson_pmf(counts: npt.ArrayLike, mean: float) -> npt.NDArray[np.float64]:
    """Poisson probabilities ``P(N = k) = e^{−m} m^k / k!`` for each ``k`` in ``counts``.

    Examples
    --------
    >>> [round(p, 4) for p in poisson_pmf([0, 1, 2], 2.0).tolist()]
    [0.1353, 0.2707, 0.2707]
    """
    k = np.asarray(counts, dtype=np.float64)
    if mean == 0:
        return np.where(k == 0, 1.0, 0.0)
    log_pmf = k * math.log(mean) - mean - np.vectorize(math.lgamma)(k + 1.0)
    return np.asarray(np.exp(log_pmf), dtype=np.float64)


def _class_name(document: Mapping[str, Any], section: str, event_class: str | None) -> str:
    data = document.get("plot_data", {}).get(section, {})
    known: list[str] = [str(name) for name in data] or [
        str(c["name"]) for c in document.get("model", {}).get("classes", ()) if "name" in c
    ]
    if event_class is None:
        if not known:
            raise ValueError("the document has no event class with recorded data")
        return known[0]
    if event_class not in known:
        raise ValueError(f"no event class {event_class!r}; classes: {', '.join(known)}")
    return event_class


def _check_p_value(document: Mapping[str, Any], check: str, event_class: str) -> float:
    classes = document.get("model", {}).get("classes", ())
    subjects = (
        {"arrivals", f"arrivals of {event_class}"}
        if len(classes) <= 1
        else {f"arrivals of {event_class}"}
    )
    for entry in document.get("checks", ()):
        if entry.get("check") == check and entry.get("subject") in subjects:
            return number(entry.get("p_value"))
    return math.nan


def poisson_counts(source: Source, event_class: str | None = None) -> Figure:
    """Arrivals per counting window of one event class, against the Poisson pmf.

    Observed share of windows with k arrivals (pooled over the replications)
    beside ``Poisson(rate × window)``, the article's arrival model, with the
    chi-square test's p-value where the run made it.

    Parameters
    ----------
    source : dict or RunResult
        The run's result document.
    event_class : str, optional
        The class (the first one by default).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For an unknown class.
    """
    document = as_document(source)
    name = _class_name(document, "arrivals", event_class)
    unit = time_unit(document)
    figure = new_figure(7.0, 3.8)
    ax = figure.add_subplot()
    ax.set_ylabel("share of windows")
    data = document.get("plot_data", {}).get("arrivals", {}).get(name)
    if not isinstance(data, Mapping) or not data.get("counts"):
        ax.set_title(plain(f"Arrivals per window: {name}"))
        ax.set_xlabel("arrivals per window")
        no_data(ax, "no arrival counts were kept for this class")
        return figure
    window = number(data.get("window"))
    ax.set_title(plain(f"Arrivals of {name} per window of {window:g} {unit}"))
    ax.set_xlabel(f"arrivals k in a window of {window:g} {unit}")
    histogram = {int(k): int(v) for k, v in data["counts"].items()}
    total = sum(histogram.values())
    ks = np.array(sorted(histogram))
    shares = np.array([histogram[k] / total for k in ks])
    bars = ax.bar(
        ks,
        shares,
        width=0.8,
        color=SIMULATED,
        alpha=0.75,
        label=f"observed ({total} windows)",
    )
    described = model_class(document, name)
    rate = number(described.get("rate")) if described is not None else math.nan
    fitted = not math.isfinite(rate)
    mean = float((ks * shares).sum()) if fitted else rate * window
    top = int(max(ks.max(), math.ceil(mean + 4.0 * math.sqrt(max(mean, 1.0)))))
    grid = np.arange(0, top + 1)
    p_value = _check_p_value(document, "poisson_counts", name)
    test = f"; chi-square test p = {p_value:.3g}" if math.isfinite(p_value) else ""
    (line,) = ax.plot(
        grid,
        poisson_pmf(grid, mean),
        color=THEORY,
        marker="o",
        markersize=4,
        linewidth=1.5,
        label=f"Poisson pmf, mean {mean:.4g}{' (fitted)' if fitted else ''}{test}",
    )
    ax.set_xlim(-0.7, top + 0.7)
    ax.grid(axis="y", alpha=0.3)
    legend_below(figure, [bars, line])
    return figure


def transitions(source: Source, event_class: str | None = None) -> Figure:
    """Observed next-hop proportions beside the specified routing matrix (two heat maps).

    Row ``i`` is the station an event of the class finished at; columns are the
    next station and ``exit`` (leaving the system). Observed: hop counts pooled
    over the replications, divided by the row total (a station the class never
    visited is blank). Specified: the routing matrix and its exit column.
    Fan-out copies are sent to every subscriber, not drawn: they are not hops (the
    row of a station that fans out is labelled ``(+ copies)``).

    Parameters
    ----------
    source : dict or RunResult
        The run's result document.
    event_class : str, optional
        The class (the first one by default).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        For an unknown class.
    """
    document = as_document(source)
    name = _class_name(document, "transitions", event_class)
    stations = station_names(document)
    columns = [*stations, "exit"]
    size = len(stations)
    cell = 0.42 if size <= 8 else max(0.22, 3.4 / size)
    width = min(16.0, 2 * (cell * (size + 1) + 1.6) + 1.2)
    height = min(12.0, cell * size + 2.4)
    figure = new_figure(width, height)
    axes = figure.subplots(1, 2)
    figure.suptitle(plain(f"Routing of {name}: observed next hops and the specified matrix"))
    hops = np.array(document.get("plot_data", {}).get("transitions", {}).get(name, []), float)
    described = model_class(document, name)
    specified = np.full((size, size + 1), np.nan)
    if described is not None and described.get("matrix") is not None:
        specified[:, :size] = np.array(described["matrix"], dtype=float)
        specified[:, size] = np.array(described["exit"], dtype=float)
    if described is not None:  # a station the class never reaches has no meaningful row
        reached = hop_distances(entry_stations(described), station_targets(described, stations))
        specified[[i for i in range(size) if i not in reached]] = np.nan
    observed = np.full((size, size + 1), np.nan)
    total = 0
    if hops.shape == (size, size + 1):
        totals = hops.sum(axis=1)
        total = int(totals.sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            observed = np.where(totals[:, None] > 0, hops / totals[:, None], np.nan)
    fanout = described is not None and any(described.get("fanout") or ())
    # A station that fans out: its event leaves ("exit") after sending a copy to each
    # subscriber, so its row says so rather than reading as "order -> exit 1.00".
    copies = (described.get("fanout") if described is not None else None) or [[]] * size
    rows = [
        f"{s} (+ copies)" if i < len(copies) and copies[i] else s for i, s in enumerate(stations)
    ]
    image = None
    for ax, matrix, title in (
        (axes[0], observed, f"observed ({total} hops, all replications)"),
        (
            axes[1],
            specified,
            "specified" + (" (fan-out copies not drawn)" if fanout else ""),
        ),
    ):
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("next station")
        ax.set_ylabel("from station")
        masked = np.ma.masked_invalid(matrix)
        image = ax.imshow(masked, vmin=0.0, vmax=1.0, cmap=_CMAP, aspect="equal")
        ax.set_xticks(
            range(size + 1), [plain(c) for c in columns], rotation=45, ha="right", fontsize="small"
        )
        ax.set_yticks(range(size), [plain(s) for s in rows], fontsize="small")
        if size <= 12:
            for row in range(size):
                for column in range(size + 1):
                    value = matrix[row, column]
                    if math.isfinite(value) and value >= 0.005:
                        ax.text(
                            column,
                            row,
                            f"{value:.2f}",
                            ha="center",
                            va="center",
                            fontsize=7 if size > 6 else 8,
                            color="black" if value > 0.6 else "white",
                        )
        if not np.isfinite(matrix).any():
            no_data(ax, "no hops recorded")
    if image is not None:
        figure.colorbar(image, ax=list(axes), shrink=0.85, label="probability of the next hop")
    return figure
