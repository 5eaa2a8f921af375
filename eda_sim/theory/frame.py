"""The rows of ``solve(scenario).to_frame()``: the theory as a tidy table (layer 3).

One row per (scope, name, metric), in the vocabulary of every eda-sim frame
(``scope`` is ``"station"``, ``"system"`` or ``"class"``; ``name`` the station or
class, ``"system"`` for the system), so that the theory merges with a run's
``to_frame()`` on ``scope, name, metric``. A part that no formula gives has one
row with an empty ``metric``, ``available`` False and the ``reason``.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["LABELS", "THEORY_COLUMNS", "theory_rows"]

THEORY_COLUMNS = ("scope", "name", "metric", "theory", "method", "exact", "available", "reason")

#: The keys of a theory entry that say how, not how much.
LABELS = ("method", "exact", "available", "reason")


def theory_rows(theory: Any) -> list[dict[str, Any]]:
    """The rows for a :class:`~eda_sim.theory.scenario.ScenarioTheory` (see the module)."""
    rows: list[dict[str, Any]] = []
    document = theory.to_dict()
    parts = [("station", name, entry) for name, entry in document["stations"].items()]
    parts.append(("system", "system", document["system"]))
    parts.extend(("class", name, entry) for name, entry in document.get("classes", {}).items())
    for scope, name, entry in parts:
        method, exact = str(entry.get("method", "")), bool(entry.get("exact", False))
        reason = str(entry.get("reason", ""))
        if not entry.get("available", True):
            rows.append(_row(scope, name, "", math.nan, method, False, False, reason))
            continue
        for metric, value in entry.items():
            if metric not in LABELS and isinstance(value, int | float):
                value = float(value)
                rows.append(_row(scope, name, metric, value, method, exact, True, reason))
    return rows


def _row(
    scope: str,
    name: str,
    metric: str,
    value: float,
    method: str,
    exact: bool,
    available: bool,
    reason: str,
) -> dict[str, Any]:
    values = (scope, name, metric, value, method, exact, available, reason)
    return dict(zip(THEORY_COLUMNS, values, strict=True))
