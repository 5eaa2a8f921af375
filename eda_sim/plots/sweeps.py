"""Sweep figures: L or W against the swept value, simulation beside theory and article.

Reads a sweep's document (``SweepResult.to_dict()`` or its JSON): its tidy rows
(``value, scope, name, metric, mean, ci_low, ci_high, theory, method, status``).
The article's curves come from rows with scope ``"article"`` when the document
has them, else they are computed from the theory rows (offered load ρ =
utilisation and λ = throughput of a single-server station of unlimited capacity)
when the document carries the scenario's ``model``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from eda_sim import metrics as metric_table
from eda_sim.plots._common import (
    ARTICLE,
    SIMULATED,
    THEORY,
    WARMUP,
    Source,
    as_document,
    legend_below,
    new_figure,
    number,
    plain,
    time_unit,
)
from eda_sim.theory import article_L, article_W

__all__ = ["article_curves", "param_label", "sweep_curves"]


def param_label(param: str, unit: str) -> str:
    """Axis label of a swept path, with a unit where the path's last part has one.

    Examples
    --------
    >>> param_label("arrivals.rate", "s")
    'arrivals.rate (per s)'
    >>> param_label("stations.db.servers", "s")
    'stations.db.servers'
    """
    last = param.rsplit(".", 1)[-1]
    if last == "rate":
        return f"{param} (per {unit})"
    if last in ("mean", "value", "horizon", "warmup", "low", "high"):
        return f"{param} ({unit})"
    return param


def article_curves(source: Source, metric: str) -> dict[str, list[tuple[float, float]]]:
    """The article's ``metric`` (``"L"`` or ``"W"``) per station: ``[(value, article), ...]``.

    From rows with scope ``"article"`` when present; otherwise computed with
    :func:`eda_sim.theory.article_L` / :func:`~eda_sim.theory.article_W` from each
    point's theoretical utilisation (ρ) and throughput (λ) at the stations the
    article applies to: one server, unlimited capacity, 0 < λ, ρ < 1 (needs the
    document's ``model``, else nothing).
    """
    document = as_document(source)
    rows = [row for row in document.get("rows", ()) if row.get("status", "ok") == "ok"]
    curves: dict[str, list[tuple[float, float]]] = {}
    given = [row for row in rows if row.get("scope") == "article" and row.get("metric") == metric]
    if given:
        for row in given:
            value = number(row.get("theory"))
            value = value if math.isfinite(value) else number(row.get("mean"))
            curves.setdefault(str(row["name"]), []).append((number(row["value"]), value))
        return curves
    model = document.get("model")
    if metric not in ("L", "W") or not isinstance(model, Mapping):
        return curves
    param = str(document.get("param", ""))
    described = {str(station["name"]): station for station in model.get("stations", ())}
    theory: dict[tuple[float, str], dict[str, float]] = {}
    for row in rows:
        if row.get("scope") == "station" and row.get("metric") in ("utilization", "throughput"):
            key = (number(row["value"]), str(row["name"]))
            theory.setdefault(key, {})[str(row["metric"])] = number(row.get("theory"))
    for (value, name), figures in theory.items():
        station = described.get(name)
        if station is None:
            continue
        servers = value if param == f"stations.{name}.servers" else station.get("servers")
        capacity = value if param == f"stations.{name}.capacity" else station.get("capacity")
        rho, rate = figures.get("utilization", math.nan), figures.get("throughput", math.nan)
        if servers != 1 or capacity is not None or not (rate > 0 and 0 <= rho < 1):
            continue
        article = article_L(rho) if metric == "L" else article_W(rate, rho)
        curves.setdefault(name, []).append((value, article))
    return curves


def _series(
    rows: Sequence[Mapping[str, Any]], scope: str, name: str, metric: str
) -> tuple[np.ndarray, ...]:
    chosen = sorted(
        (
            row
            for row in rows
            if row.get("scope") == scope and row.get("name") == name and row.get("metric") == metric
        ),
        key=lambda row: number(row["value"]),
    )
    columns = ("value", "mean", "ci_low", "ci_high", "theory")
    return tuple(np.array([number(row.get(c)) for row in chosen]) for c in columns)


def _methods(rows: Sequence[Mapping[str, Any]], scope: str, name: str, metric: str) -> str:
    seen = dict.fromkeys(
        str(row.get("method") or "")
        + ("" if row.get("exact") else " (approx.)" if row.get("method") else "")
        for row in rows
        if row.get("scope") == scope and row.get("name") == name and row.get("metric") == metric
    )
    text = "; ".join(method for method in seen if method)
    return text if len(text) <= 60 else text[:57] + "..."


def _panel(
    ax: Axes,
    rows: Sequence[Mapping[str, Any]],
    scope: str,
    name: str,
    metric: str,
    article: list[tuple[float, float]],
    skipped: Sequence[float],
    curve: Sequence[Mapping[str, Any]] = (),
) -> None:
    values, means, lows, highs, theory = _series(rows, scope, name, metric)
    errors = np.vstack([np.nan_to_num(means - lows), np.nan_to_num(highs - means)])
    ax.errorbar(
        values,
        means,
        yerr=np.maximum(errors, 0.0),
        fmt="o",
        color=SIMULATED,
        capsize=5,
        capthick=1.6,
        elinewidth=2.0,  # visible beside the theory line
        markersize=4.5,
        label="simulated (mean with CI)",
        zorder=3,
    )
    finite = np.isfinite(theory)
    fine = sorted(
        (number(row["value"]), number(row["theory"]))
        for row in curve
        if row.get("scope") == scope and row.get("name") == name and row.get("metric") == metric
    )
    if len(fine) >= 2:  # the theory on a fine grid, up to the stability edge
        ax.plot(*zip(*fine, strict=True), color=THEORY, linewidth=1.8, label="theory")
        ax.plot(values[finite], theory[finite], "D", color=THEORY, markersize=3.5)
    elif finite.any():
        ax.plot(values[finite], theory[finite], color=THEORY, linewidth=1.8, label="theory")
    if article:
        points = sorted(article)
        ax.plot(
            [v for v, _ in points],
            [a for _, a in points],
            color=ARTICLE,
            linestyle=":",
            marker="x",
            linewidth=1.8,
            label="the article's formula",
        )
    for number_, value in enumerate(skipped):
        ax.axvline(
            value,
            color=WARMUP,
            linestyle="--",
            linewidth=1,
            label="not run: unstable (ρ ≥ 1)" if number_ == 0 else None,
        )
    methods = _methods(rows, scope, name, metric)
    ax.set_title(plain(name + (f"\n{methods}" if methods else "")), fontsize="small")
    shown = np.concatenate([highs, means, theory, [a for _, a in article]])
    shown = shown[np.isfinite(shown)]
    if fine and shown.size:  # the curve rises without bound at the edge: keep the points in view
        ax.set_ylim(0, 1.6 * float(shown.max()) or 1.0)
    else:
        ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)


def sweep_curves(source: Source, metric: str = "W", station: str | None = None) -> Figure:
    """A sweep's ``metric`` against the swept value: simulation with CI bars, theory, article.

    Parameters
    ----------
    source : dict or SweepResult
        The sweep's document.
    metric : str
        ``"W"`` or ``"L"`` (any metric of the rows works).
    station : str, optional
        One station (or ``"system"``); by default one panel per station and one
        for the system.

    Returns
    -------
    matplotlib.figure.Figure
        Points skipped as unstable are marked by dashed vertical lines, so the
        knee of the curve before saturation stays in view. With the document's
        ``theory_curve`` rows (``value, scope, name, metric, theory``; the report
        adds them from :func:`eda_sim.report.theory_curve.theory_curve`) the theory
        is a smooth line up to the stability edge, else a line through the points.

    Raises
    ------
    ValueError
        For a station (or metric) without rows.
    """
    document = as_document(source)
    rows = [row for row in document.get("rows", ()) if row.get("status", "ok") == "ok"]
    skipped = sorted(
        number(point.get("value"))
        for point in document.get("points", ())
        if point.get("status") == "skipped"
    )
    panels = list(
        dict.fromkeys(
            (str(row["scope"]), str(row["name"]))
            for row in rows
            if row.get("metric") == metric and row.get("scope") in ("station", "system")
        )
    )
    if station is not None:
        panels = [panel for panel in panels if panel[1] == station]
    if not panels:
        wanted = f" for {station!r}" if station is not None else ""
        raise ValueError(f"the sweep has no {metric!r} rows{wanted}")
    unit = time_unit(document)
    articles = article_curves(document, metric)
    curve = [row for row in document.get("theory_curve") or () if isinstance(row, Mapping)]
    columns = min(3, len(panels))
    lines = math.ceil(len(panels) / columns)
    figure = new_figure(max(6.5, 3.6 * columns), 2.9 * lines + 1.2)
    axes = figure.subplots(lines, columns, squeeze=False).ravel()
    param = str(document.get("param", "value"))
    ylabel = metric_table.heading(metric, unit, per="per ")
    for ax, (scope, name) in zip(axes, panels, strict=False):
        _panel(ax, rows, scope, name, metric, articles.get(name, []), skipped, curve)
        ax.set_xlabel(plain(param_label(param, unit)))
        ax.set_ylabel(ylabel)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    what = (
        "mean number present L"
        if metric == "L"
        else (f"mean time per visit W ({unit}; system: end to end)" if metric == "W" else metric)
    )
    confidence = number(document.get("confidence"))
    level = f"{confidence:.0%} " if math.isfinite(confidence) else ""
    heading = (
        f"{document.get('scenario', '')}: {what} against {param}; "
        f"{document.get('replications', '?')} replications per point, {level}CI"
    )
    figure.suptitle(plain(textwrap.fill(heading, int(figure.get_figwidth() * 9))))
    handles: dict[str, Any] = {}
    for ax in axes[: len(panels)]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    order = ("simulated", "theory", "the article", "not run")
    labels = sorted(handles, key=lambda label: [label.startswith(o) for o in order].index(True))
    legend_below(figure, [handles[label] for label in labels], labels, ncols=4)
    return figure
