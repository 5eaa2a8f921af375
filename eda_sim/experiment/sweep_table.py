"""What a sweep gives: its points and one tidy table of results (layer 5).

:class:`SweepResult` holds every point of a sweep (:class:`SweepPoint`: ran,
skipped with a reason, or pending after an interruption) and the table's rows,
one per value × scope × name × metric (:data:`COLUMNS`), with the JSON document
(:data:`SWEEP_FORMAT`) and CSV they are written as.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from eda_sim.experiment.checkpoint import FLOAT_COLUMNS
from eda_sim.results import RunResult, json_clean

if TYPE_CHECKING:  # pandas is imported by the frame itself, when asked for
    import pandas as pd

__all__ = [
    "COLUMNS",
    "SWEEP_FORMAT",
    "SweepPoint",
    "SweepResult",
    "empty_row",
    "run_rows",
]

#: Version of the JSON layout of :meth:`SweepResult.to_dict`.
SWEEP_FORMAT = 1

#: Columns of :attr:`SweepResult.frame`, in order.
COLUMNS = (
    "param",
    "value",
    "scope",
    "name",
    "metric",
    "mean",
    "ci_low",
    "ci_high",
    "half_width",
    "n",
    "theory",
    "method",
    "exact",
    "status",
    "reason",
)
_DTYPES = {
    "value": "float64",
    **dict.fromkeys(FLOAT_COLUMNS, "float64"),
    "n": "Int64",
    "exact": "boolean",
}


@dataclass(frozen=True)
class SweepPoint:
    """One value of a sweep and what became of it.

    ``status`` is ``"ok"`` (it ran), ``"skipped"`` (not run: ``reason`` says why),
    ``"partial"`` (the sweep stopped while it ran: its figures are over the
    ``replications`` that finished, and ``reason`` says how many of how many) or
    ``"pending"`` (the sweep stopped before it ran). ``replications`` is the number
    of replications behind the point's figures (None where it has none).
    """

    value: float
    status: str
    reason: str | None = None
    notes: tuple[str, ...] = ()
    replications: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "value": self.value,
            "status": self.status,
            "reason": self.reason,
            "notes": list(self.notes),
            "replications": self.replications,
        }


@dataclass(frozen=True)
class SweepResult:
    """The results of a sweep, point by point, as one tidy table.

    Attributes
    ----------
    scenario : str
        The scenario's name.
    param : str
        The swept path.
    points : tuple of SweepPoint
        Every value in order, with its status.
    rows : tuple of dict
        The table's rows (see :attr:`frame`).
    partial : bool
        True when the sweep was interrupted (or lost a worker) before every point
        finished; a point cut short has status ``"partial"``.
    seed, horizon, warmup, replications, confidence
        The run settings every point used (unless the sweep changes one of them).
    time_unit : str
        The scenario's time unit.
    engine : {"simpy", "fast"}
        The engine every point ran on.
    model : dict or None
        The swept scenario as reports draw it
        (:func:`~eda_sim.results.describe_scenario`), before any swept value is
        applied: a report drawn later from the JSON document alone has the
        scenario section and the article's curves.
    """

    scenario: str
    param: str
    points: tuple[SweepPoint, ...]
    rows: tuple[dict[str, Any], ...] = field(repr=False)
    partial: bool
    seed: int
    horizon: float
    warmup: float | str
    replications: int
    confidence: float
    time_unit: str = "s"
    model: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    engine: str = "simpy"

    @property
    def values(self) -> tuple[float, ...]:
        """The swept values, in order."""
        return tuple(point.value for point in self.points)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """Tidy table: one row per value × scope × name × metric.

        Columns: ``param, value, scope, name, metric, mean, ci_low, ci_high,
        half_width, n, theory, method, exact, status, reason``. ``scope`` is
        ``station``, ``system`` or ``class`` as in
        :meth:`RunResult.to_frame <eda_sim.results.RunResult.to_frame>`. A skipped
        or pending point has one row with its ``status`` and ``reason`` and the
        rest empty; a partial point's rows have ``status`` ``partial``, its figures
        over the replications that finished (``n``), and the ``reason``.
        """
        import pandas as pd

        frame = pd.DataFrame([dict(row) for row in self.rows], columns=list(COLUMNS))
        return frame.astype(_DTYPES)

    def to_dict(self) -> dict[str, Any]:
        """JSON document: settings, one entry per point, and the table's rows (NaN as null)."""
        return {
            "format": SWEEP_FORMAT,
            "kind": "sweep",
            "scenario": self.scenario,
            "param": self.param,
            "values": list(self.values),
            "seed": self.seed,
            "horizon": self.horizon,
            "warmup": self.warmup,
            "replications": self.replications,
            "confidence": self.confidence,
            "partial": self.partial,
            "points": [point.to_dict() for point in self.points],
            "rows": [json_clean(dict(row)) for row in self.rows],
            "time_unit": self.time_unit,
            "model": self.model,
            "engine": self.engine,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The JSON document as text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_csv(self) -> str:
        """The table as CSV (floats written so that they read back exactly)."""
        return str(self.frame.to_csv(index=False, lineterminator="\n"))


def empty_row(param: str, value: float, status: str, reason: str) -> dict[str, Any]:
    """The one row of a point that did not run (``status`` skipped or pending)."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(dict.fromkeys(FLOAT_COLUMNS, math.nan))
    row.update(param=param, value=value, status=status, reason=reason)
    return row


def run_rows(result: RunResult) -> list[dict[str, Any]]:
    """The run's table as plain Python values (the checkpoint's and the sweep's rows)."""
    rows = []
    for record in result.table_rows():
        row: dict[str, Any] = {
            "scope": str(record["scope"]),
            "name": str(record["name"]),
            "metric": str(record["metric"]),
        }
        row.update({column: float(record[column]) for column in FLOAT_COLUMNS})
        row.update(n=int(record["n"]), method=str(record["method"]), exact=bool(record["exact"]))
        rows.append(row)
    return rows
