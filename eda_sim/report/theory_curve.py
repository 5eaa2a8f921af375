"""The theory of a sweep on a fine grid, up to the stability edge (layer 6).

A sweep runs the simulation at a few values; its theory is cheap, so the report
draws it as a smooth curve: :func:`theory_curve` solves the scenario at
:data:`POINTS` values spread over the swept range, and, where the last swept
values are unstable (a station offered ρ >= 1), finds the edge between the last
stable and the first unstable value by bisection and adds values that approach
it geometrically, so that the curve climbs towards ρ → 1 instead of stopping at
the last stable sweep point.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from eda_sim.errors import ScenarioError, UnstableError
from eda_sim.scenario import Scenario, replace_value
from eda_sim.theory.frame import theory_rows
from eda_sim.theory.scenario import solve

__all__ = ["BUDGET_SECONDS", "POINTS", "theory_curve"]

#: Values solved across the swept range.
POINTS = 40
#: Bisection steps towards the stability edge, and values added approaching it.
EDGE_STEPS = 30
APPROACH = 12
#: Most seconds spent solving; a scenario whose theory is slow gets fewer values.
BUDGET_SECONDS = 2.0


def _variant(scenario: Scenario, param: str, value: float) -> Scenario | None:
    """The scenario at ``value``; None where it is unstable or the value does not apply."""
    try:
        return replace_value(scenario, param, value)
    except ScenarioError:  # UnstableError included
        return None


def _is_unstable(scenario: Scenario, param: str, value: float) -> bool:
    try:
        replace_value(scenario, param, value)
    except UnstableError:
        return True
    except ScenarioError:
        return False
    return False


def _edge(scenario: Scenario, param: str, stable: float, unstable: float) -> float:
    """The stability edge between a stable and an unstable value, by bisection."""
    for _ in range(EDGE_STEPS):
        middle = (stable + unstable) / 2
        if _is_unstable(scenario, param, middle):
            unstable = middle
        else:
            stable = middle
    return stable


def curve_values(scenario: Scenario, param: str, values: Sequence[float]) -> list[float]:
    """The values to solve at: a grid over the stable range, then towards the edge."""
    ordered = sorted(float(v) for v in values)
    if len(ordered) < 2 or ordered[0] == ordered[-1]:
        return ordered
    stable = [v for v in ordered if not _is_unstable(scenario, param, v)]
    if not stable:
        return []
    low, high = ordered[0], stable[-1]
    above = [v for v in ordered if v > high]
    edge = _edge(scenario, param, high, above[0]) if above else high
    grid = [low + (edge - low) * i / (POINTS - 1) for i in range(POINTS)]
    if above:  # approach the edge: gaps halving towards it
        last = grid[-2]
        grid[-1:] = [edge - (edge - last) / 2**k for k in range(1, APPROACH + 1)]
    return sorted({*grid, *stable})


def theory_curve(
    scenario: Scenario, param: str, values: Sequence[float], metrics: Sequence[str] = ("L", "W")
) -> list[dict[str, Any]]:
    """Rows ``value, scope, name, metric, theory`` of the theory across a sweep's range.

    Parameters
    ----------
    scenario : Scenario
        The swept scenario.
    param : str
        The swept path (as for :func:`~eda_sim.scenario.replace_value`).
    values : sequence of float
        The swept values.
    metrics : sequence of str
        The metrics kept.

    Returns
    -------
    list of dict
        Empty where the value does not take a fine grid (a whole number such as
        ``servers``) or no value is stable. Solving stops after
        :data:`BUDGET_SECONDS`.

    Examples
    --------
    >>> from eda_sim.scenario import load_scenario
    >>> rows = theory_curve(load_scenario("scenarios/mm1.yaml"), "arrivals.rate", [0.5, 1.2])
    >>> top = max(r["value"] for r in rows if r["metric"] == "W")
    >>> 0.999 < top < 1.0  # the service rate is 1: the curve climbs to the edge
    True
    """
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    solved = 0
    for value in curve_values(scenario, param, values):
        if time.perf_counter() - started > BUDGET_SECONDS:
            break
        variant = _variant(scenario, param, value)
        if variant is None:
            continue
        solved += 1
        rows.extend(
            {"value": value, **{k: row[k] for k in ("scope", "name", "metric", "theory")}}
            for row in theory_rows(solve(variant))
            if row["metric"] in metrics and row["scope"] in ("station", "system")
        )
    return rows if solved >= 2 else []
