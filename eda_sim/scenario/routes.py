"""The routing checks of a scenario: stations named, probabilities, exits, blocking (layer 2).

:func:`routing_matrix` turns one class's ``routing:`` (rows by station name, or a
matrix) into its matrix and fan-out lists, :func:`entry_vector` its ``to:`` into
entry probabilities, and :func:`blocking_faults` refuses ``on_full: block``
chains that can deadlock. Each records one fault per problem, with its place in
the file, and returns None when the part cannot be used;
:mod:`eda_sim.scenario.build` calls them for every class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from eda_sim.errors import Fault
from eda_sim.routing import (
    ROUTING_TOLERANCE,
    SparseRows,
    check_probabilities,
    copies_radius,
    strongly_connected_components,
    trapped_stations,
)
from eda_sim.scenario import schema
from eda_sim.scenario.messages import suggest
from eda_sim.scenario.parts import Malformed, RoutingParts, RowParts

__all__ = ["Routes", "blocking_faults", "entry_vector", "routing_matrix", "unknown_station"]


def unknown_station(path: str, name: str, stations: Sequence[str]) -> Fault:
    """The fault of a station ``name`` at ``path`` that is not one of ``stations``."""
    return Fault(
        path, f"unknown station {name!r}{suggest(name, stations)} (stations: {', '.join(stations)})"
    )


def entry_vector(
    spec: schema.EntrySpec | None, path: str, stations: Sequence[str], faults: list[Fault]
) -> np.ndarray | None:
    """A class's entry probabilities per station (``to:``), or None after recording faults."""
    entry = np.zeros(len(stations))
    if spec is None:
        entry[0] = 1.0
        return entry
    index = {name: position for position, name in enumerate(stations)}
    if isinstance(spec, str):
        if spec not in index:
            faults.append(unknown_station(path, spec, stations))
            return None
        entry[index[spec]] = 1.0
        return entry
    ok = True
    for name, probability in spec.items():
        if name not in index:
            faults.append(unknown_station(f"{path}.{name}", name, stations))
            ok = False
        else:
            entry[index[name]] = probability
    total = float(entry.sum())
    if ok and abs(total - 1) > ROUTING_TOLERANCE:
        faults.append(Fault(path, f"probabilities sum to {total:.12g} (must be 1)"))
        ok = False
    return entry if ok else None


def routing_matrix(
    spec: RoutingParts | None, path: str, stations: Sequence[str], faults: list[Fault]
) -> tuple[SparseRows, tuple[tuple[int, ...], ...]] | None:
    """The routing matrix (by rows) and fan-out lists of one class, or None after recording faults.

    A row or entry that failed the schema (MALFORMED) has its faults already: its
    origin and target names are still checked, its row's sum is not.
    """
    n = len(stations)
    fanout: list[tuple[int, ...]] = [() for _ in stations]
    if spec is None:
        return SparseRows.from_entries(n, [], [], []), tuple(fanout)
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
        matrix = SparseRows.from_dense(np.array(spec, dtype=float))
    else:
        matrix, ok = _rows_by_name(spec, path, stations, fanout, faults)
        if not ok:  # still check the rows that name known stations
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


def _rows_by_name(
    spec: Mapping[str, RowParts | Malformed],
    path: str,
    stations: Sequence[str],
    fanout: list[tuple[int, ...]],
    faults: list[Fault],
) -> tuple[SparseRows, bool]:
    """The matrix of routing rows keyed by station names, and whether every part was usable.

    Records a fault per unknown station and misused value, and fills ``fanout``. A
    row with a part that failed the schema is left out (its sum cannot be checked).
    """
    index = {name: position for position, name in enumerate(stations)}
    entries: dict[tuple[int, int], float] = {}
    ok = True
    malformed: set[int] = set()  # rows with a part that failed the schema: no sum to check
    for origin, row in spec.items():
        if origin not in index:
            faults.append(unknown_station(f"{path}.{origin}", origin, stations))
            ok = False
            continue
        if isinstance(row, Malformed):
            ok = False
            continue
        for target, value in row.items():
            where = f"{path}.{origin}.{target}"
            if isinstance(value, Malformed):
                if target != schema.FANOUT_KEY and target not in index:
                    faults.append(unknown_station(where, target, stations))
                malformed.add(index[origin])
                ok = False
            elif target == schema.FANOUT_KEY:
                if not isinstance(value, list):
                    faults.append(Fault(where, f"must be a list of stations, got {value!r}"))
                    ok = False
                    continue
                unknown = [name for name in value if name not in index]
                for name in unknown:
                    faults.append(unknown_station(where, name, stations))
                if len(set(value)) != len(value):
                    faults.append(Fault(where, f"lists a station twice: {value}"))
                    ok = False
                ok = ok and not unknown
                if not unknown:
                    fanout[index[origin]] = tuple(index[v] for v in value)
            elif isinstance(value, list):
                faults.append(
                    Fault(
                        where,
                        f"must be a probability, got a list (only "
                        f"{schema.FANOUT_KEY!r} takes a list of stations)",
                    )
                )
                ok = False
            elif target not in index:
                faults.append(unknown_station(where, target, stations))
                ok = False
            else:
                entries[index[origin], index[target]] = value
    kept = [key for key in entries if key[0] not in malformed]
    matrix = SparseRows.from_entries(
        len(stations),
        (key[0] for key in kept),
        (key[1] for key in kept),
        (entries[key] for key in kept),
    )
    return matrix, ok


#: A class's routing matrix (by rows) and fan-out lists (station indices), from
#: :func:`routing_matrix`.
Routes = tuple[SparseRows, tuple[tuple[int, ...], ...]]


def blocking_faults(
    names: Sequence[str], blocking: Sequence[bool], routes: Sequence[Routes]
) -> list[Fault]:
    """Refuse fan-out into blocking stations and blocking chains that can deadlock.

    A handler blocked on a full station keeps its server; if the stations that
    block each other form a cycle, all of them can be full and blocked at once.
    ``blocking`` says which stations block when full; ``routes`` are the routings
    of the classes whose routing is known (more classes only add edges, so every
    fault found among them stands).

    The cycles are the strongly connected components of the graph of blocking hops
    (an edge ``i → j`` where some class routes from ``i`` to a blocking ``j``) that
    have more than one station or a hop from a station to itself; each blocking
    station on one is refused, naming the component's stations in file order.
    """
    faults: list[Fault] = []
    n = len(names)
    edges: list[set[int]] = [set() for _ in range(n)]
    for matrix, fanout in routes:
        for origin, hops in enumerate(matrix.successors()):
            edges[origin].update(target for target in hops if blocking[target])
        for origin, copies in enumerate(fanout):
            for target in copies:
                if blocking[target]:
                    faults.append(
                        Fault(
                            f"stations.{names[target]}.on_full",
                            f"block cannot take fan-out copies (from {names[origin]}); "
                            "use on_full: lose or a larger capacity",
                        )
                    )
    if not any(edges):
        return faults
    successors = [sorted(targets) for targets in edges]
    on_cycle: dict[int, list[int]] = {}
    for component in strongly_connected_components(successors):
        if len(component) > 1 or component[0] in edges[component[0]]:
            for station in component:
                on_cycle[station] = component
    for index in sorted(on_cycle):
        if blocking[index]:
            cycle = ", ".join(names[j] for j in on_cycle[index])
            faults.append(
                Fault(
                    f"stations.{names[index]}.on_full",
                    f"block can deadlock: blocking cycle through {cycle}",
                )
            )
    return faults
