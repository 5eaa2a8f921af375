"""Checks of one class's routing: probabilities, a way out from every station, finite copies.

Each works on a :class:`~eda_sim.routing.sparse.SparseRows` matrix (a dense array is
accepted too) in time proportional to its entries, so that a network of thousands of
stations is checked in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eda_sim.errors import Fault
from eda_sim.routing.sparse import SparseRows, reaching, strongly_connected_components

__all__ = [
    "ROUTING_TOLERANCE",
    "check_probabilities",
    "copies_radius",
    "copies_rows",
    "trapped_stations",
]

#: How far a row sum may exceed 1, or an entry vector's sum miss 1, before it is refused
#: (YAML decimals such as 0.1 + 0.2 + 0.7 do not add up exactly). The excess is removed.
ROUTING_TOLERANCE = 1e-9

#: Strongly connected blocks up to this size get their eigenvalues densely; larger ones
#: by ARPACK (scipy.sparse.linalg.eigs), which needs only products with the block.
_DENSE_EIGENVALUES = 400


def _format_number(value: float) -> str:
    return f"{value:.12g}"


def _rows(matrix: np.ndarray | SparseRows) -> SparseRows:
    return matrix if isinstance(matrix, SparseRows) else SparseRows.from_dense(matrix)


def check_probabilities(matrix: np.ndarray | SparseRows, stations: Sequence[str]) -> list[Fault]:
    """Check that ``matrix`` is a sub-stochastic routing matrix over ``stations``.

    Parameters
    ----------
    matrix : numpy.ndarray or SparseRows
        Square matrix, row = from-station, column = to-station.
    stations : sequence of str
        Station names in matrix order (used in the fault paths).

    Returns
    -------
    list of Fault
        One fault per bad entry or row, row by row (a row's entries in column order,
        then its sum); paths are ``FROM.TO`` for entries and ``FROM`` for rows.
        Empty when the matrix is valid.
    """
    n = len(stations)
    shape = matrix.shape if isinstance(matrix, np.ndarray) else (matrix.size, matrix.size)
    if shape != (n, n):
        return [
            Fault(
                "",
                f"must be a {n}x{n} matrix (one row and column per station), "
                f"got shape {'x'.join(map(str, shape))}",
            )
        ]
    rows = _rows(matrix)
    values = rows.values
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    entry_rows = rows.row_of_entry
    bad_rows = set(entry_rows[bad].tolist())
    sums = rows.row_sums()
    over = set(np.flatnonzero(sums > 1 + ROUTING_TOLERANCE).tolist()) - bad_rows
    faults: list[Fault] = []
    for i in sorted(bad_rows | over):
        origin = stations[i]
        if i in over:
            faults.append(
                Fault(origin, f"probabilities sum to {_format_number(float(sums[i]))} (> 1)")
            )
            continue
        start, stop = int(rows.indptr[i]), int(rows.indptr[i + 1])
        for position in range(start, stop):
            if bad[position]:
                faults.append(
                    Fault(
                        f"{origin}.{stations[int(rows.columns[position])]}",
                        "must be a probability in [0, 1], "
                        f"got {_format_number(float(values[position]))}",
                    )
                )
    return faults


def trapped_stations(matrix: np.ndarray | SparseRows) -> list[int]:
    """Return the indices of stations from which no event can ever leave the system.

    A station can leave when its row sums to less than 1, or when it can reach
    (through positive probabilities) a station that can. The others form closed
    loops: an event that enters them circulates for ever.
    """
    rows = _rows(matrix)
    exits = np.flatnonzero(rows.row_sums() < 1 - ROUTING_TOLERANCE)
    can_leave = reaching(rows.successors(), exits.tolist())
    return np.flatnonzero(~can_leave).tolist()


def copies_rows(matrix: np.ndarray | SparseRows, fanout: Sequence[Sequence[int]]) -> SparseRows:
    """``M = P + F``: the routing matrix plus one for each fan-out copy, by rows."""
    rows = _rows(matrix)
    extra_rows = [origin for origin, targets in enumerate(fanout) for _ in targets]
    extra_columns = [target for targets in fanout for target in targets]
    if not extra_rows:
        return rows
    entries: dict[tuple[int, int], float] = {}
    for row, column, value in zip(
        rows.row_of_entry.tolist(), rows.columns.tolist(), rows.values.tolist(), strict=True
    ):
        entries[row, column] = value
    for row, column in zip(extra_rows, extra_columns, strict=True):
        entries[row, column] = entries.get((row, column), 0.0) + 1.0
    return SparseRows.from_entries(
        rows.size,
        (key[0] for key in entries),
        (key[1] for key in entries),
        entries.values(),
    )


def _block_radius(copies: SparseRows, members: list[int]) -> float:
    """Spectral radius of the block of ``copies`` on ``members`` (one strong component)."""
    if len(members) == 1:
        columns, values = copies.row(members[0])
        return float(np.abs(values[columns == members[0]]).sum())
    position = {station: index for index, station in enumerate(members)}
    rows: list[int] = []
    columns_in: list[int] = []
    values_in: list[float] = []
    for station in members:
        columns, values = copies.row(station)
        for column, value in zip(columns.tolist(), values.tolist(), strict=True):
            if column in position:
                rows.append(position[station])
                columns_in.append(position[column])
                values_in.append(value)
    if len(members) <= _DENSE_EIGENVALUES:
        block = np.zeros((len(members), len(members)))
        block[rows, columns_in] = values_in
        return float(np.max(np.abs(np.linalg.eigvals(block))))
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import eigs

    sparse = csr_matrix((values_in, (rows, columns_in)), shape=(len(members), len(members)))
    largest = eigs(sparse, k=1, which="LM", return_eigenvectors=False)
    return float(np.abs(largest).max())


def copies_radius(matrix: np.ndarray | SparseRows, fanout: Sequence[Sequence[int]]) -> float:
    """Spectral radius of ``M = P + F``; the expected copies per event are finite iff < 1.

    The eigenvalues of a matrix are those of its diagonal blocks in the order of its
    strongly connected components, so only the components (usually small) are solved.
    """
    copies = copies_rows(matrix, fanout)
    if copies.size == 0:
        return 0.0
    components = strongly_connected_components(copies.successors())
    return max(_block_radius(copies, members) for members in components)
