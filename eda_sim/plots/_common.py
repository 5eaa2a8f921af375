"""Shared pieces of the figures: palette, document access, figure creation, PNG output.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot, no
global state, no backend switch), with constrained layout. Rendering to PNG
goes through the Agg canvas that :meth:`Figure.savefig` picks for the format.
"""

from __future__ import annotations

import functools
import io
import math
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "ARTICLE",
    "AVERAGE",
    "CYCLE",
    "OKABE_ITO",
    "SIMULATED",
    "THEORY",
    "WARMUP",
    "Source",
    "as_document",
    "figure_png",
    "floats",
    "legend_below",
    "model_class",
    "model_station",
    "new_figure",
    "no_data",
    "number",
    "plain",
    "station_names",
    "time_unit",
]

#: The Okabe–Ito palette (Okabe & Ito 2008), distinguishable with every common
#: colour-vision deficiency.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Colour of simulated values.
SIMULATED = OKABE_ITO["blue"]
#: Colour of theoretical values.
THEORY = OKABE_ITO["vermillion"]
#: Colour of the source article's values.
ARTICLE = OKABE_ITO["reddish_purple"]
#: Colour of running averages.
AVERAGE = OKABE_ITO["bluish_green"]
#: Colour of the warm-up period.
WARMUP = "#7F7F7F"
#: Colours for series without a fixed role (event classes), in order.
CYCLE = tuple(
    OKABE_ITO[name]
    for name in (
        "blue",
        "orange",
        "bluish_green",
        "vermillion",
        "reddish_purple",
        "sky_blue",
        "black",
        "yellow",
    )
)


class _HasToDict(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


#: A result document (``RunResult.to_dict()``, ``SweepResult.to_dict()`` or the
#: loaded JSON) or an object with such a ``to_dict`` method.
Source = Mapping[str, Any] | _HasToDict


def as_document(source: Source) -> Mapping[str, Any]:
    """The JSON document of a result: the mapping itself, or ``source.to_dict()``.

    Raises
    ------
    TypeError
        When ``source`` is neither a mapping nor has a ``to_dict`` method.
    """
    if isinstance(source, Mapping):
        return source
    to_dict = getattr(source, "to_dict", None)
    if callable(to_dict):
        document = to_dict()
        if isinstance(document, Mapping):
            return document
    raise TypeError(
        f"expected a result document (dict) or a RunResult/SweepResult, got {type(source).__name__}"
    )


def number(value: Any) -> float:
    """A float from JSON: ``None`` (JSON's stand-in for NaN) and non-numbers become NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def floats(values: Sequence[Any]) -> npt.NDArray[np.float64]:
    """An array of floats from a JSON list (``None`` as NaN)."""
    return np.array([number(value) for value in values], dtype=np.float64)


def plain(text: object) -> str:
    """Text for matplotlib shown as written: ``$`` would otherwise start mathematics."""
    return str(text).replace("$", r"\$")


def time_unit(document: Mapping[str, Any]) -> str:
    """The scenario's time unit label (``"time units"`` when the document has none)."""
    model = document.get("model")
    unit = document.get("time_unit") or (
        model.get("time_unit") if isinstance(model, Mapping) else None
    )
    return str(unit) if unit else "time units"


def station_names(document: Mapping[str, Any]) -> list[str]:
    """Station names in scenario order (from ``model``, else from the results)."""
    model = document.get("model")
    if isinstance(model, Mapping) and model.get("stations"):
        return [str(station["name"]) for station in model["stations"]]
    return [str(name) for name in document.get("stations", {})]


def model_station(document: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    """The scenario's description of station ``name`` (servers, capacity, service)."""
    model = document.get("model")
    if isinstance(model, Mapping):
        for station in model.get("stations", ()):
            if station.get("name") == name:
                return station  # type: ignore[no-any-return]
    return None


def model_class(document: Mapping[str, Any], name: str | None) -> Mapping[str, Any] | None:
    """The scenario's description of event class ``name`` (the first one for ``None``)."""
    model = document.get("model")
    if isinstance(model, Mapping):
        for event_class in model.get("classes", ()):
            if name is None or event_class.get("name") == name:
                return event_class  # type: ignore[no-any-return]
    return None


def require_station(document: Mapping[str, Any], station: str) -> None:
    """Refuse a station the document does not have (``ValueError`` naming the stations)."""
    names = station_names(document)
    if station not in names:
        raise ValueError(f"no station {station!r}; stations: {', '.join(names)}")


def station_theory(document: Mapping[str, Any], station: str) -> Mapping[str, Any] | None:
    """The station's theory entry when a formula applied, else None."""
    entry = document.get("theory", {}).get("stations", {}).get(station)
    if not isinstance(entry, Mapping) or entry.get("available") is False:
        return None
    return entry


@functools.cache
def _notebook_display() -> None:
    """In a Jupyter/IPython session, show eda-sim's Figures as PNG when nothing else does.

    Figures made without pyplot have no display hook until matplotlib's inline backend
    is activated (``%matplotlib inline`` or importing pyplot); this registers one, once,
    only if IPython is running and no formatter for Figures exists yet.
    """
    ipython: Any = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    formatter = getattr(shell, "display_formatter", None)
    png = formatter.formatters.get("image/png") if formatter is not None else None
    if png is None:
        return
    try:
        png.lookup_by_type(Figure)
    except KeyError:
        png.for_type(Figure, lambda figure: figure_png(figure, dpi=100))


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` × ``height`` inches with constrained layout (no pyplot)."""
    _notebook_display()
    return Figure(figsize=(width, height), layout="constrained")


def no_data(ax: Axes, message: str) -> None:
    """Write ``message`` in the middle of an empty axes."""
    ax.text(
        0.5,
        0.5,
        plain(message),
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=WARMUP,
        wrap=True,
    )


def legend_below(
    figure: Figure,
    handles: Sequence[Any] | None = None,
    labels: Sequence[str] | None = None,
    ncols: int = 2,
) -> None:
    """A frameless legend under the axes (placed by constrained layout, never over data).

    Labels are wrapped so that ``ncols`` columns fit the figure's width. Without
    ``handles``, the labelled artists of all axes, in the order they were added.
    """
    if handles is None:
        found: dict[str, Any] = {}
        for ax in figure.axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                found.setdefault(label, handle)
        handles, labels = list(found.values()), list(found)
    elif labels is None:
        labels = [str(handle.get_label()) for handle in handles]
    if not handles:
        return
    assert labels is not None
    ncols = max(1, min(ncols, len(handles)))
    width = max(20, int((figure.get_figwidth() / ncols - 0.6) * 15))
    figure.legend(
        list(handles),
        [textwrap.fill(label, width) for label in labels],
        loc="outside lower center",
        ncols=ncols,
        fontsize="small",
        frameon=False,
    )


def figure_png(figure: Figure, dpi: float = 120) -> bytes:
    """Render ``figure`` as PNG bytes (Agg), keeping its size in inches."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()
