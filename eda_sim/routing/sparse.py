"""Square matrices stored by rows, and the graph algorithms the routing checks need (layer 1).

A routing matrix of N stations has at most a few entries per row (a handler sends
its events to a few others), so it is kept as compressed sparse rows
(:class:`SparseRows`): every check, traffic equation and draw table then costs
time in proportion to the entries, not to N². The graph algorithms work on the
positive entries: :func:`strongly_connected_components` (Tarjan 1972, "Depth-first
search and linear graph algorithms", *SIAM J. Comput.* 1(2), written iteratively so
that a long chain of stations does not exhaust Python's stack) and
:func:`reaching` (breadth-first search backwards from a set of stations).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SparseRows", "reaching", "strongly_connected_components"]


@dataclass(frozen=True, eq=False)
class SparseRows:
    """An ``(size, size)`` matrix by rows: row ``i`` holds ``values[indptr[i]:indptr[i+1]]``.

    Within a row the entries are in column order (``columns`` strictly increasing);
    entries that were never given are zero. This is the CSR layout of
    ``scipy.sparse``, held in plain NumPy arrays so that building and checking a
    scenario needs no scipy.

    Parameters
    ----------
    size : int
        Rows and columns.
    indptr : numpy.ndarray
        ``(size + 1,)`` offsets of each row's entries.
    columns : numpy.ndarray
        Column of each entry.
    values : numpy.ndarray
        Value of each entry (any float, so that a check can report bad ones).
    """

    size: int
    indptr: np.ndarray
    columns: np.ndarray
    values: np.ndarray

    @classmethod
    def from_entries(
        cls, size: int, rows: Iterable[int], columns: Iterable[int], values: Iterable[float]
    ) -> SparseRows:
        """The matrix with the given ``(row, column, value)`` entries (each position once)."""
        row = np.fromiter(rows, dtype=np.int64)
        column = np.fromiter(columns, dtype=np.int64)
        value = np.fromiter(values, dtype=float)
        order = np.lexsort((column, row))
        counts = np.bincount(row, minlength=size) if row.size else np.zeros(size, np.int64)
        indptr = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(size, indptr, column[order], value[order])

    @classmethod
    def from_dense(cls, matrix: np.ndarray) -> SparseRows:
        """The nonzero (or non-finite) entries of a square array."""
        rows, columns = np.nonzero(matrix)  # row-major: rows, then columns, in order
        size = int(matrix.shape[0])
        return cls.from_entries(size, rows.tolist(), columns.tolist(), matrix[rows, columns])

    @property
    def row_of_entry(self) -> np.ndarray:
        """The row of each entry."""
        return np.repeat(np.arange(self.size), np.diff(self.indptr))

    def row(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The columns and values of row ``index``."""
        start, stop = int(self.indptr[index]), int(self.indptr[index + 1])
        return self.columns[start:stop], self.values[start:stop]

    def row_sums(self) -> np.ndarray:
        """The sum of each row (each summed left to right)."""
        sums = np.zeros(self.size)
        np.add.at(sums, self.row_of_entry, self.values)
        return sums

    def dense(self) -> np.ndarray:
        """The ``(size, size)`` array (``size²`` floats: for small matrices and for tests)."""
        matrix = np.zeros((self.size, self.size))
        matrix[self.row_of_entry, self.columns] = self.values
        return matrix

    def positive(self) -> SparseRows:
        """The same matrix without its zero (and negative) entries."""
        keep = self.values > 0
        counts = np.bincount(self.row_of_entry[keep], minlength=self.size)
        indptr = np.zeros(self.size + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return SparseRows(self.size, indptr, self.columns[keep], self.values[keep])

    def successors(self) -> list[list[int]]:
        """Per row, the columns of its positive entries: the edges of the matrix's graph."""
        positive = self.positive()
        columns = positive.columns.tolist()
        bounds = positive.indptr.tolist()
        return [columns[bounds[i] : bounds[i + 1]] for i in range(self.size)]


def strongly_connected_components(successors: Sequence[Sequence[int]]) -> list[list[int]]:
    """The strongly connected components of a directed graph (Tarjan 1972, iterative).

    Parameters
    ----------
    successors : sequence of sequences of int
        ``successors[i]``: the nodes that node ``i`` has an edge to.

    Returns
    -------
    list of list of int
        Each component's nodes in increasing order; the components in reverse
        topological order (a component comes before every component that reaches it).

    Examples
    --------
    >>> strongly_connected_components([[1], [0, 2], [], [3]])
    [[2], [0, 1], [3]]
    """
    size = len(successors)
    number = [-1] * size  # depth-first visiting order
    low = [0] * size  # lowest number reachable through the subtree and one back edge
    on_stack = [False] * size
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(size):
        if number[root] >= 0:
            continue
        number[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]  # the depth-first path: node, next successor to look at
        while work:
            node, position = work[-1]
            edges = successors[node]
            if position < len(edges):
                work[-1] = (node, position + 1)
                target = edges[position]
                if number[target] < 0:
                    number[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack[target] = True
                    work.append((target, 0))
                elif on_stack[target] and number[target] < low[node]:
                    low[node] = number[target]
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == number[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def reaching(successors: Sequence[Sequence[int]], targets: Iterable[int]) -> np.ndarray:
    """Which nodes have a path (of zero or more edges) to one of ``targets``.

    Examples
    --------
    >>> reaching([[1], [], [2]], [1]).tolist()
    [True, True, False]
    """
    size = len(successors)
    predecessors: list[list[int]] = [[] for _ in range(size)]
    for node, edges in enumerate(successors):
        for target in edges:
            predecessors[target].append(node)
    found = np.zeros(size, dtype=bool)
    queue = deque(int(t) for t in targets)
    found[list(queue)] = True
    while queue:
        node = queue.popleft()
        for source in predecessors[node]:
            if not found[source]:
                found[source] = True
                queue.append(source)
    return found
