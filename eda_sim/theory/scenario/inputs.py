"""A scenario as the formulas see it: arrays, traffic with losses, and what is Poisson.

:func:`scenario_inputs` gathers, once per scenario, the per-class and per-station
arrays the solvers need, solves the traffic equations with losses
(:func:`eda_sim.traffic.network_traffic`, the one place that does) with the
theory's best loss formula per station, and decides *structurally* which
stations have Poisson input, so that exactness never rests on a moment:

* **product form** (Jackson 1963; Baskett, Chandy, Muntz & Palacios 1975): a
  station none of whose upstream stations breaks product form (a capacity, a
  non-exponential or class-dependent service law, priorities, fan-out,
  blocking, non-Poisson external arrivals) has the M/M/c marginal law, on a
  cycle or not;
* **Poisson input**, (1) Kelly's theorem: the flows leaving an open Jackson
  network are independent Poisson processes (F. P. Kelly, *Reversibility and
  Stochastic Networks*, Wiley 1979, Thm 2.3 and §3.2; B. Melamed, *Adv. Appl.
  Prob.* 11 (1979) 422-438), so a station that lies on no cycle and whose
  upstream part is such a network receives Poisson traffic, whatever its own
  service law; (2) Burke's theorem: the departures of an M/M/c station without
  losses, on no cycle, fed by Poisson traffic, are Poisson (P. J. Burke,
  *Operations Research* 4 (1956) 699-704), so a station fed by one such station
  only (by routing or by fan-out copies, not both) receives Poisson traffic;
* **renewal input** (:mod:`.renewal_input`): a station fed only by one renewal
  stream (a class's own, thinned by the entry probabilities, or a one-place
  loss station's departures), with at most its own Bernoulli feedback, is a GI
  queue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from eda_sim import distributions as dists
from eda_sim.routing import Routing, strongly_connected_components
from eda_sim.scenario import Scenario
from eda_sim.scenario.load import copies_matrix, external_rates, service_means
from eda_sim.theory.families import (
    arrivals_during,
    mixture_exponential_rate,
)
from eda_sim.theory.finite import MG1K_LIMIT, mg1k
from eda_sim.theory.scenario.renewal_input import RenewalInput, renewal_inputs, routing_entry
from eda_sim.traffic import DENSE_LIMIT, Traffic, mmck_loss, network_traffic, reachable_from

__all__ = ["ScenarioInputs", "flow_successors", "routing_entry", "routing_rows", "scenario_inputs"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Transform = Callable[[float], float]


def routing_rows(routing: Routing, members: list[int] | None = None) -> Any:
    """``P`` of one class: dense (optionally restricted to ``members``) or CSR when large."""
    n = routing.transitions.size
    if members is not None:
        out = np.zeros((len(members), len(members)))
        position = {j: a for a, j in enumerate(members)}
        for a, i in enumerate(members):
            for column, value in zip(*routing.transitions.row(i), strict=True):
                if int(column) in position:
                    out[a, position[int(column)]] = value
        return out
    if n <= DENSE_LIMIT:
        return np.asarray(routing.matrix)
    from scipy.sparse import csr_matrix

    rows = routing.transitions
    return csr_matrix((rows.values, rows.columns, rows.indptr), shape=(n, n), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class ScenarioInputs:
    """Everything the per-situation solvers read, computed once.

    Arrays are ``(K, N)`` per class and station unless said otherwise.
    """

    scenario: Scenario
    gamma: FloatArray
    copies: list[Any]  # M_k = P_k + F_k, dense (small) or CSR (large)
    laws: tuple[tuple[dists.Distribution, ...], ...]
    means: FloatArray
    scvs: FloatArray
    servers: FloatArray  # (N,) as floats (whole numbers; 1e20 servers fit)
    capacity: tuple[int | None, ...]
    blocking: BoolArray  # (N,) on_full: block
    senders: BoolArray  # (N,) stations a class reaches and routes from to a blocking one
    traffic: Traffic
    flow: Any  # (N, N) bool: events go from i to j
    on_cycle: BoolArray  # (N,)
    product_form: BoolArray  # (N,)
    poisson_input: BoolArray  # (N,)
    renewal: dict[int, RenewalInput]  # stations with a renewal input (see .renewal_input)

    @property
    def names(self) -> tuple[str, ...]:
        """Station names in order."""
        return self.scenario.station_names

    def laws_at(self, j: int) -> list[dists.Distribution]:
        """The service laws of the classes that reach station ``j``."""
        return [self.laws[k][j] for k in range(len(self.laws)) if self.traffic.offered[k, j] > 0]

    def levels_at(self, j: int) -> list[float]:
        """The distinct priorities of the classes that reach station ``j``, served first first."""
        classes = self.scenario.classes
        return sorted(
            {classes[k].priority for k in range(len(classes)) if self.traffic.offered[k, j] > 0}
        )

    def mixture(self, j: int) -> tuple[float, float]:
        """Mean and SCV of the service time of a random arrival at ``j`` (classes mixed by rate)."""
        rates = self.traffic.offered[:, j]
        if rates.sum() <= 0:
            return float(self.means[0, j]), float(self.scvs[0, j])
        weights = rates / rates.sum()
        mean = float(weights @ self.means[:, j])
        second = float(weights @ (self.means[:, j] ** 2 * (1 + self.scvs[:, j])))
        return mean, second / mean**2 - 1.0


def _mixture_arrivals(
    laws: list[dists.Distribution], weights: FloatArray, rate: float, count: int
) -> FloatArray:
    return np.asarray(
        sum(w * arrivals_during(law, rate, count) for w, law in zip(weights, laws, strict=True))
    )


def station_loss(
    rates: FloatArray,
    laws: list[dists.Distribution],
    means: FloatArray,
    servers: int,
    capacity: int,
) -> float:
    """The best loss probability of a finite station offered Poisson ``rates`` per class.

    Erlang B for ``capacity == servers`` (any service: insensitive); M/M/c/K for a
    common exponential law; M/G/1/K by its embedded chain for one server; M/M/c/K
    on the mean service time otherwise (an approximation).
    """
    total = float(rates.sum())
    if total <= 0.0:
        return 0.0
    weights = rates / total
    mean = float(weights @ means)
    rate = mixture_exponential_rate(laws)
    if capacity == servers or rate is not None or servers > 1 or capacity > MG1K_LIMIT:
        return mmck_loss(total, 1.0 / mean if rate is None else rate, servers, capacity)
    return mg1k(total, mean, _mixture_arrivals(laws, weights, total, capacity), capacity).loss


def _traffic(
    scenario: Scenario, means: FloatArray, copies: list[Any], fixed: dict[int, float]
) -> Traffic:
    stations = scenario.stations
    finite = [j for j, station in enumerate(stations) if station.capacity is not None]

    def loss_model(offered: FloatArray) -> FloatArray:
        loss = np.zeros(len(stations))
        for j in finite:
            capacity = stations[j].capacity
            assert capacity is not None
            if j in fixed:
                loss[j] = fixed[j]
                continue
            used = offered[:, j] > 0
            laws = [c.service[j] for k, c in enumerate(scenario.classes) if used[k]]
            loss[j] = station_loss(
                offered[used, j], laws, means[used, j], stations[j].servers, capacity
            )
        return loss

    return network_traffic(
        external_rates(scenario),
        copies,
        loss_model if finite else None,
        blocking=[station.on_full == "block" for station in stations],
    )


def _flow(traffic: Traffic, copies: list[Any], n: int) -> Any:
    """``flow[i, j]``: some class sends admitted events (or copies) from ``i`` to ``j``."""
    if n <= DENSE_LIMIT:
        total = sum(traffic.carried[k][:, None] * np.asarray(m) for k, m in enumerate(copies))
        return np.asarray(total) > 0
    from scipy.sparse import diags

    total = sum(diags(traffic.carried[k]) @ m for k, m in enumerate(copies))
    return (total > 0).tocsr()


def flow_successors(flow: Any, n: int) -> tuple[list[list[int]], BoolArray]:
    """Per station, the stations ``flow`` sends to; and which send to themselves.

    ``flow`` is :attr:`ScenarioInputs.flow`: a dense boolean matrix up to
    ``DENSE_LIMIT`` stations, a sparse one above.
    """
    if isinstance(flow, np.ndarray):
        return [np.flatnonzero(row).tolist() for row in flow], np.diagonal(flow).astype(bool)
    flow = flow.tocsr()
    flow.eliminate_zeros()
    columns, bounds = flow.indices.tolist(), flow.indptr.tolist()
    loops = np.asarray(flow.diagonal()).astype(bool)
    return [columns[bounds[i] : bounds[i + 1]] for i in range(n)], loops


def _on_cycle(flow: Any, n: int) -> BoolArray:
    """Stations on a cycle of ``flow`` (a strong component of two or more, or a self-loop).

    The components by the routing checks' own Tarjan search, so that a run's theory
    does not import ``scipy.sparse.csgraph`` (10 MB and a quarter of a second).
    """
    successors, loops = flow_successors(flow, n)
    on_cycle = np.zeros(n, dtype=bool)
    for component in strongly_connected_components(successors):
        if len(component) > 1:
            on_cycle[component] = True
    return on_cycle | loops


def _jackson_type(inputs: dict[str, Any], scenario: Scenario, fanout_ok: bool) -> BoolArray:
    """Stations whose own behaviour keeps product form: M/M/c, one level, no loss or blocking."""
    n = len(scenario.stations)
    offered = inputs["traffic"].offered
    out = np.zeros(n, dtype=bool)
    for j, station in enumerate(scenario.stations):
        used = [k for k in range(len(scenario.classes)) if offered[k, j] > 0]
        laws = [scenario.classes[k].service[j] for k in used]
        out[j] = (
            station.capacity is None
            and not inputs["blocking"][j]
            and not inputs["senders"][j]
            and (not laws or mixture_exponential_rate(laws) is not None)
            and len({scenario.classes[k].priority for k in used}) <= 1
            and (fanout_ok or not any(scenario.classes[k].routing.fanout[j] for k in used))
        )
    return out


def _successors(flow: Any, j: int) -> list[int]:
    if isinstance(flow, np.ndarray):
        return [int(t) for t in np.flatnonzero(flow[j]) if t != j]
    row = flow.indices[flow.indptr[j] : flow.indptr[j + 1]]
    return [int(t) for t in row if t != j]


def _incoming(flow: Any, n: int) -> list[list[int]]:
    """``incoming[j]``: the stations other than ``j`` that send events to ``j``."""
    incoming: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for t in _successors(flow, i):
            incoming[t].append(i)
    return incoming


def _burke_fed(
    scenario: Scenario,
    flow: Any,
    on_cycle: BoolArray,
    poisson: BoolArray,
    departs_poisson: BoolArray,
) -> BoolArray:
    """Poisson input by Burke: fed by one M/M/c with Poisson departures (topological order)."""
    n = len(scenario.stations)
    incoming = _incoming(flow, n)
    indegree = [sum(1 for i in incoming[j] if not on_cycle[i]) for j in range(n)]
    order = deque(j for j in range(n) if not on_cycle[j] and indegree[j] == 0)
    result = poisson.copy()
    while order:
        j = order.popleft()
        if not result[j] and len(incoming[j]) == 1:
            (i,) = incoming[j]
            both = any(
                j in c.routing.fanout[i] and routing_entry(c.routing, i, j) > 0
                for c in scenario.classes
            )
            result[j] = bool(result[i] and departs_poisson[i] and not on_cycle[i] and not both)
        for t in _successors(flow, j):
            if not on_cycle[t]:
                indegree[t] -= 1
                if indegree[t] == 0:
                    order.append(t)
    return result


def scenario_inputs(scenario: Scenario, losses: dict[int, float] | None = None) -> ScenarioInputs:
    """Gather the arrays, solve the traffic with losses, decide the structure (see module doc).

    ``losses`` fixes the loss of some stations (their exact figures, found by a
    first pass) in the traffic equations instead of the loss model's.
    """
    stations = scenario.stations
    n = len(stations)
    means = service_means(scenario)
    copies = [copies_matrix(c.routing) for c in scenario.classes]
    blocking = np.array([s.on_full == "block" for s in stations])
    traffic = _traffic(scenario, means, copies, losses or {})
    senders = np.zeros(n, dtype=bool)
    for k, c in enumerate(scenario.classes if blocking.any() else ()):
        rows = c.routing.transitions
        hits = blocking[rows.columns] & (rows.values > 0)
        origins = rows.row_of_entry[hits]
        senders[origins[traffic.offered[k, origins] > 0]] = True
    gamma = external_rates(scenario)
    flow = _flow(traffic, copies, n)
    on_cycle = _on_cycle(flow, n)
    parts = {"traffic": traffic, "blocking": blocking, "senders": senders}
    poisson_classes = np.array([c.arrivals.kind == "poisson" for c in scenario.classes])
    external_poisson = ~((gamma > 0) & ~poisson_classes[:, None]).any(axis=0)
    keeps = _jackson_type(parts, scenario, fanout_ok=False)
    tainted = ~(keeps & external_poisson) & (traffic.offered.sum(axis=0) > 0)
    tainted_rows = flow[tainted] if isinstance(flow, np.ndarray) else flow[np.flatnonzero(tainted)]
    after = np.asarray(tainted_rows.sum(axis=0)).ravel() > 0
    downstream = reachable_from(after, flow) if after.any() else np.zeros(n, dtype=bool)
    product_form = ~downstream & external_poisson
    kelly = product_form & ~on_cycle
    departs = _jackson_type(parts, scenario, fanout_ok=True)
    poisson = _burke_fed(scenario, flow, on_cycle, kelly & external_poisson, departs)
    return ScenarioInputs(
        scenario=scenario,
        gamma=gamma,
        copies=copies,
        laws=tuple(tuple(c.service) for c in scenario.classes),
        means=means,
        scvs=np.array([[d.scv for d in c.service] for c in scenario.classes]),
        servers=np.array([float(s.servers) for s in stations]),
        capacity=tuple(s.capacity for s in stations),
        blocking=blocking,
        senders=senders,
        traffic=traffic,
        flow=flow,
        on_cycle=on_cycle,
        product_form=product_form,
        poisson_input=poisson & external_poisson,
        renewal=renewal_inputs(
            scenario, gamma, _incoming(flow, n), traffic.offered, poisson & external_poisson
        ),
    )
