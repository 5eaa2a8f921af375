"""Per-class and whole-system figures from the stations' (Little's law per station).

For event class ``k`` with carried visit rates ``λ_k,j`` and times per visit
``W_k,j = Wq_k,j + E[S_k,j] + blocked_k,j``:

* ``L_k = Σ_j λ_k,j W_k,j`` (Little's law per station);
* throughput ``= Σ_j λ_k,j e_k,j``, the rate of its events leaving done (``e`` the
  exit probability after ``j``); loss ``= 1 - throughput / γ_k``;
* ``W_k`` of the events that complete ``= Σ_j λ_k,j h_k,j W_k,j / throughput``,
  where ``h_k,j`` is the probability of completing after a visit to ``j``:
  ``h = e + P_k (a ∘ h)`` with ``a_j`` the share of internal arrivals admitted.

``W_k`` is exact when every ``W_k,j`` is and no event of the class can be lost
after spending time in the system (its losses, if any, happen on entry): then
``L_k = throughput · W_k``. With later losses the formula treats each event's
waits as independent of whether it is lost later (labelled approximate). The
system's figures add up the classes: ``L = Σ L_k``, throughput ``= Σ``,
``W`` the throughput-weighted mean of ``W_k``. A class with fan-out has no
formula (its time is the maximum over parallel branches).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from eda_sim.theory.results import SystemTheory
from eda_sim.theory.scenario.figures import ClassTheory
from eda_sim.theory.scenario.inputs import ScenarioInputs, routing_rows
from eda_sim.traffic import DENSE_LIMIT

__all__ = ["FANOUT_REASON", "class_totals", "system_totals"]

FloatArray = npt.NDArray[np.float64]

FANOUT_REASON = (
    "fan-out: an event's end-to-end time is that of its last copy (a maximum over "
    "parallel branches) and the system holds copies, not events; no formula applies"
)


def _completion(inputs: ScenarioInputs, k: int, admit: FloatArray) -> FloatArray:
    """``h = e + P (admit ∘ h)``: probability of completing after a visit to each station."""
    routing = inputs.scenario.classes[k].routing
    exits = routing.exit_probabilities
    n = exits.size
    p = routing_rows(routing)
    if n <= DENSE_LIMIT:
        return np.asarray(np.linalg.solve(np.eye(n) - p * admit[None, :], exits))
    from scipy.sparse import diags, identity
    from scipy.sparse.linalg import gmres, spsolve

    system = (identity(n, format="csr") - p @ diags(admit)).tocsr()
    h, info = gmres(system, exits, x0=exits, rtol=1e-13, atol=0.0, restart=60, maxiter=50)
    if info != 0:
        h = spsolve(system.tocsc(), exits)
    return np.asarray(h, dtype=np.float64)


def _listing(names: list[str], shown: int = 5) -> str:
    """``a, b, c`` or ``a, b, c, d, e and 995 more``: a reason stays one short line."""
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def class_totals(
    inputs: ScenarioInputs,
    carried: FloatArray,
    loss: FloatArray,
    visit_time: FloatArray,
    exact: npt.NDArray[np.bool_],
    method: str,
    notes: dict[int, str] | None = None,
) -> dict[str, ClassTheory]:
    """End-to-end figures of every class (see the module's formulas).

    ``visit_time[k, j]`` is ``W_k,j`` (NaN where unknown), ``exact[k, j]`` whether it is
    exact, ``loss[j]`` the station's refusal probability; ``notes[j]`` says why the
    classes' times at ``j`` are approximate where the station's own figures are not.
    """
    scenario = inputs.scenario
    station_names = scenario.station_names  # a tuple built per access: once here

    def where(indices: Iterable[Any]) -> str:
        return _listing([station_names[int(j)] for j in indices])

    internal_loss = np.where(inputs.blocking, 0.0, loss)
    out: dict[str, ClassTheory] = {}
    for k, cls in enumerate(scenario.classes):
        if any(cls.routing.fanout):
            out[cls.name] = ClassTheory.unavailable(FANOUT_REASON)
            continue
        visited = carried[k] > 0
        if np.isnan(visit_time[k, visited]).any():
            unknown = where(np.flatnonzero(visited & np.isnan(visit_time[k])))
            out[cls.name] = ClassTheory.unavailable(f"no theory for its time at {unknown}")
            continue
        exits = cls.routing.exit_probabilities
        throughput = float(carried[k] @ exits)
        h = _completion(inputs, k, 1.0 - internal_loss)
        times = np.where(visited, visit_time[k], 0.0)
        big_l = float(carried[k] @ times)
        w = float((carried[k] * h) @ times) / throughput if throughput > 0 else math.nan
        later = (inputs.traffic.offered[k] - inputs.gamma[k]) > 1e-15 * max(
            cls.arrivals.rate, 1e-300
        )
        lossy_later = np.flatnonzero(later & (internal_loss > 0))
        inexact = [j for j in np.flatnonzero(visited) if not exact[k, j]]
        reasons = []
        if inexact:
            said = "; ".join(
                f"{station_names[j]}: {notes[int(j)]}" for j in inexact if notes and int(j) in notes
            )
            reasons.append(f"approximate at {where(inexact)}" + (f" ({said})" if said else ""))
        if lossy_later.size:
            reasons.append(
                "events can be lost after time in the system (at "
                + where(lossy_later)
                + "): the W of completed events assumes waits independent of later losses"
            )
        is_exact = not reasons
        out[cls.name] = ClassTheory(
            L=big_l,
            W=w,
            throughput=throughput,
            loss=max(0.0, 1.0 - throughput / cls.arrivals.rate),
            method=method if is_exact else f"{method} (approx.)",
            exact=is_exact,
            reason="; ".join(reasons),
        )
    return out


def system_totals(
    inputs: ScenarioInputs, classes: dict[str, ClassTheory], station_l: float, method: str
) -> SystemTheory | str:
    """The system's figures from its classes', or why there are none."""
    scenario = inputs.scenario
    if scenario.has_fanout:
        return FANOUT_REASON
    missing = [name for name, c in classes.items() if not c.available]
    if missing:
        return f"no theory for class {', '.join(missing)}: {classes[missing[0]].reason}"
    throughput = math.fsum(c.throughput for c in classes.values())
    external = math.fsum(c.arrivals.rate for c in scenario.classes)
    exact = all(c.exact for c in classes.values())
    w = (
        math.fsum(c.throughput * c.W for c in classes.values()) / throughput
        if throughput > 0
        else math.nan
    )
    reasons = sorted({c.reason for c in classes.values() if c.reason})
    return SystemTheory(
        L=station_l,
        W=w,
        throughput=throughput,
        method=method if exact else f"{method} (approx.)",
        exact=exact,
        loss=max(0.0, 1.0 - throughput / external),
        reason="; ".join(reasons),
    )
