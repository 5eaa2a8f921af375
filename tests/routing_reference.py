"""The routing checks as they were before issue 14 (dense matrices), kept as a reference.

``check_probabilities``, ``trapped_stations`` and ``copies_radius`` of the former
``eda_sim/routing.py`` and ``routing_matrix`` and ``blocking_faults`` of
``eda_sim/scenario/routes.py`` at commit 85b8a9e, unchanged but for their imports:
dense ``(N, N)`` matrices, a transitive closure by N matrix products for blocking
cycles (O(N⁴)). tests/test_routing_scale.py runs the scenario checks with these and
with the package's sparse, SCC-based ones and requires the same faults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from eda_sim.errors import Fault
from eda_sim.routing import ROUTING_TOLERANCE
from eda_sim.scenario import schema
from eda_sim.scenario.parts import Malformed, RoutingParts
from eda_sim.scenario.routes import unknown_station


def _format_number(value: float) -> str:
    return f"{value:.12g}"


def check_probabilities(matrix: np.ndarray, stations: Sequence[str]) -> list[Fault]:
    """Check that ``matrix`` is a sub-stochastic routing matrix over ``stations``.

    Parameters
    ----------
    matrix : numpy.ndarray
        Square matrix, row = from-station, column = to-station.
    stations : sequence of str
        Station names in matrix order (used in the fault paths).

    Returns
    -------
    list of Fault
        One fault per bad entry or row; paths are ``FROM.TO`` for entries and
        ``FROM`` for rows. Empty when the matrix is valid.
    """
    faults: list[Fault] = []
    n = len(stations)
    if matrix.shape != (n, n):
        return [
            Fault(
                "",
                f"must be a {n}x{n} matrix (one row and column per station), "
                f"got shape {'x'.join(map(str, matrix.shape))}",
            )
        ]
    for i, origin in enumerate(stations):
        row_ok = True
        for j, target in enumerate(stations):
            p = float(matrix[i, j])
            if not np.isfinite(p) or p < 0 or p > 1:
                faults.append(
                    Fault(
                        f"{origin}.{target}",
                        f"must be a probability in [0, 1], got {_format_number(p)}",
                    )
                )
                row_ok = False
        total = float(matrix[i].sum())
        if row_ok and total > 1 + ROUTING_TOLERANCE:
            faults.append(Fault(origin, f"probabilities sum to {_format_number(total)} (> 1)"))
    return faults


def trapped_stations(matrix: np.ndarray) -> list[int]:
    """Return the indices of stations from which no event can ever leave the system.

    A station can leave when its row sums to less than 1, or when it can reach
    (through positive probabilities) a station that can. The others form closed
    loops: an event that enters them circulates for ever.
    """
    n = matrix.shape[0]
    exits = matrix.sum(axis=1) < 1 - ROUTING_TOLERANCE
    can_leave = exits.copy()
    changed = True
    while changed:  # backward reachability; at most n sweeps
        reach = (matrix[:, can_leave] > 0).any(axis=1) if can_leave.any() else np.zeros(n, bool)
        new = can_leave | reach
        changed = bool((new != can_leave).any())
        can_leave = new
    return [i for i in range(n) if not can_leave[i]]


def copies_radius(matrix: np.ndarray, fanout: Sequence[Sequence[int]]) -> float:
    """Spectral radius of ``M = P + F``; the expected copies per event are finite iff < 1."""
    copies = np.array(matrix, dtype=float)
    for origin, targets in enumerate(fanout):
        for target in targets:
            copies[origin, target] += 1.0
    return float(np.max(np.abs(np.linalg.eigvals(copies)))) if copies.size else 0.0


def routing_matrix(
    spec: RoutingParts | None, path: str, stations: Sequence[str], faults: list[Fault]
) -> tuple[np.ndarray, tuple[tuple[int, ...], ...]] | None:
    """The routing matrix and fan-out lists of one class, or None after recording faults.

    A row or entry that failed the schema (MALFORMED) has its faults already: its
    origin and target names are still checked, its row's sum is not.
    """
    n = len(stations)
    fanout: list[tuple[int, ...]] = [() for _ in stations]
    if spec is None:
        return np.zeros((n, n)), tuple(fanout)
    if not isinstance(spec, Mapping):
        if len(spec) != n or any(len(row) != n for row in spec):
            shape = f"{len(spec)} rows of lengths {[len(row) for row in spec]}"
            faults.append(
                Fault(
                    path,
                    f"must be a {n}x{n} matrix in station order "
                    f"({', '.join(stations)}), got {shape}",
                )
            )
            return None
        matrix = np.array(spec, dtype=float)
    else:
        matrix = np.zeros((n, n))
        ok = True
        malformed: list[int] = []  # rows with a part that failed the schema: no sum to check
        for origin, row in spec.items():
            if origin not in stations:
                faults.append(unknown_station(f"{path}.{origin}", origin, stations))
                ok = False
                continue
            if isinstance(row, Malformed):
                ok = False
                continue
            for target, value in row.items():
                where = f"{path}.{origin}.{target}"
                if isinstance(value, Malformed):
                    if target != schema.FANOUT_KEY and target not in stations:
                        faults.append(unknown_station(where, target, stations))
                    malformed.append(stations.index(origin))
                    ok = False
                elif target == schema.FANOUT_KEY:
                    if not isinstance(value, list):
                        faults.append(Fault(where, f"must be a list of stations, got {value!r}"))
                        ok = False
                        continue
                    unknown = [name for name in value if name not in stations]
                    for name in unknown:
                        faults.append(unknown_station(where, name, stations))
                    if len(set(value)) != len(value):
                        faults.append(Fault(where, f"lists a station twice: {value}"))
                        ok = False
                    ok = ok and not unknown
                    if not unknown:
                        fanout[stations.index(origin)] = tuple(stations.index(v) for v in value)
                elif isinstance(value, list):
                    faults.append(
                        Fault(
                            where,
                            f"must be a probability, got a list (only "
                            f"{schema.FANOUT_KEY!r} takes a list of stations)",
                        )
                    )
                    ok = False
                elif target not in stations:
                    faults.append(unknown_station(where, target, stations))
                    ok = False
                else:
                    matrix[stations.index(origin), stations.index(target)] = value
        if not ok:  # still check the rows that name known stations
            matrix[malformed] = 0.0
            faults.extend(fault.prefixed(path) for fault in check_probabilities(matrix, stations))
            return None
    row_faults = [fault.prefixed(path) for fault in check_probabilities(matrix, stations)]
    if row_faults:
        faults.extend(row_faults)
        return None
    trapped = trapped_stations(matrix)
    if trapped:
        names = ", ".join(stations[i] for i in trapped)
        faults.append(
            Fault(
                path,
                f"no event can ever leave from {names}: the routing loops "
                "without an exit (some row must sum to < 1)",
            )
        )
        return None
    if any(fanout):
        radius = copies_radius(matrix, fanout)
        if radius >= 1 - ROUTING_TOLERANCE:
            faults.append(
                Fault(
                    path,
                    "fan-out makes the expected number of copies of an event infinite "
                    f"(spectral radius of routing + fan-out = {radius:.4g}, must be < 1)",
                )
            )
            return None
    return matrix, tuple(fanout)


#: A class's routing matrix and fan-out lists (station indices), from :func:`routing_matrix`.
Routes = tuple[np.ndarray, tuple[tuple[int, ...], ...]]


def blocking_faults(
    names: Sequence[str], blocking: Sequence[bool], routes: Sequence[Routes]
) -> list[Fault]:
    """Refuse fan-out into blocking stations and blocking chains that can deadlock.

    A handler blocked on a full station keeps its server; if the stations that
    block each other form a cycle, all of them can be full and blocked at once.
    ``blocking`` says which stations block when full; ``routes`` are the routings
    of the classes whose routing is known (more classes only add edges, so every
    fault found among them stands).
    """
    faults: list[Fault] = []
    n = len(names)
    edges = np.zeros((n, n), dtype=bool)
    for matrix, fanout in routes:
        edges |= (matrix > 0) & np.array(blocking, dtype=bool)[None, :]
        for origin, targets in enumerate(fanout):
            for target in targets:
                if blocking[target]:
                    faults.append(
                        Fault(
                            f"stations.{names[target]}.on_full",
                            f"block cannot take fan-out copies (from {names[origin]}); "
                            "use on_full: lose or a larger capacity",
                        )
                    )
    # A cycle among blocking edges: some station reaches itself.
    reach = edges.copy()
    for _ in range(n):
        reach = reach | ((reach.astype(int) @ edges.astype(int)) > 0)
    for index in range(n):
        if reach[index, index] and blocking[index]:
            cycle = [names[j] for j in range(n) if reach[index, j] and reach[j, index]]
            faults.append(
                Fault(
                    f"stations.{names[index]}.on_full",
                    f"block can deadlock: blocking cycle through {', '.join(cycle)}",
                )
            )
    return faults
