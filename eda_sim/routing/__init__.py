"""The routing of an event class: checks, traffic equations, next-hop draws (layer 1).

Row ``i`` of the routing matrix ``P`` gives the probability that an event finishing
service at station ``i`` goes next to station ``j``; ``1 - sum(P[i])`` is the
probability that it leaves the system. Each hop is an independent draw (the
Markov property). External arrivals enter at station ``j`` with probability
``entry[j]``.

A row may also *fan out*: every event finishing at station ``i`` is then also
copied to each subscriber in ``fanout[i]`` (publish–subscribe), and each copy
follows the routing from there. The expected number of events leaving ``i`` for
``j`` per completion is then ``M[i, j] = P[i, j] + F[i, j]`` (``F`` the 0/1
fan-out incidence), and the expected number of copies of one event is finite
exactly when the spectral radius of ``M`` is below 1 (the mean matrix of a
multi-type branching process, Harris 1963, *The Theory of Branching Processes*).

For a class with external arrival rate ``γ`` the traffic equations
``λ = γ·entry + Mᵀλ`` give the visit rate of every station; the fundamental matrix
``N = (I − M)⁻¹`` (Kemeny & Snell, *Finite Markov Chains*, 1960, §3.2) gives in
``N[i, j]`` the expected number of visits to ``j`` of an event now at ``i``, so the
visit ratios are ``entry @ N``. ``N`` exists exactly when every station can reach
the exit; :func:`trapped_stations` names the stations that cannot.

The matrix is held by rows (:class:`SparseRows`, compressed sparse rows in NumPy
arrays), and every check and table takes time in proportion to its entries: a
network of 10,000 stations with a few hops each loads in well under a second.
Modules: :mod:`~eda_sim.routing.sparse` (the matrix, strongly connected components,
reachability), :mod:`~eda_sim.routing.checks` (probabilities, exits, fan-out
copies), :mod:`~eda_sim.routing.class_routing` (:class:`Routing`).
"""

from eda_sim.routing.checks import (
    ROUTING_TOLERANCE,
    check_probabilities,
    copies_radius,
    copies_rows,
    trapped_stations,
)
from eda_sim.routing.class_routing import SPARSE_SOLVE_FROM, Routing
from eda_sim.routing.sparse import SparseRows, reaching, strongly_connected_components

__all__ = [
    "ROUTING_TOLERANCE",
    "SPARSE_SOLVE_FROM",
    "Routing",
    "SparseRows",
    "check_probabilities",
    "copies_radius",
    "copies_rows",
    "reaching",
    "strongly_connected_components",
    "trapped_stations",
]
