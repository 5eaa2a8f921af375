"""A scenario's traffic: offered and carried rates and loads, for the stability check (layer 2).

:func:`scenario_traffic` feeds the scenario's arrivals, routing, fan-out copies and
blocking stations to :func:`eda_sim.traffic.network_traffic`, the one place that
solves the traffic equations with losses. The loss model of the stability check
is :func:`eda_sim.traffic.mmck_loss` on each finite station's offered rate and
rate-weighted mean service time: exact for Poisson input with exponential
service and, whatever the service law, for a station without a waiting room
(``capacity == servers``: Erlang B is insensitive); an approximation otherwise.
(The theory layer solves the same equations with its best formula per station;
the scenario layer cannot import it, and a loss model that only moves the
carried load of a station that is far from saturation cannot change a verdict.)

Only an unlimited station can be unstable, and the load it gets is what the
stations before it let through, so the check compares the *carried* load of
every unlimited station with 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from eda_sim.traffic import DENSE_LIMIT, Traffic, mmck_loss, network_traffic

if TYPE_CHECKING:
    from eda_sim.routing import Routing
    from eda_sim.scenario.model import Scenario

__all__ = ["copies_matrix", "external_rates", "scenario_traffic", "service_means"]


def copies_matrix(routing: Routing) -> Any:
    """``M = P + F`` of one class: dense for a small network, CSR for a large one."""
    n = len(routing.stations)
    if n <= DENSE_LIMIT:
        return routing.copies_matrix
    from scipy.sparse import csr_matrix

    copies = routing.copies  # by rows: no (N, N) array is made
    return csr_matrix(
        (copies.values, copies.columns, copies.indptr), shape=(n, n), dtype=np.float64
    )


def external_rates(scenario: Scenario) -> np.ndarray:
    """``γ[k, j]``: external arrival rate of class ``k`` at station ``j``."""
    return np.array([c.arrivals.rate * c.routing.entry for c in scenario.classes])


def service_means(scenario: Scenario) -> np.ndarray:
    """``E[S_k,j]``: mean service time of class ``k`` at station ``j``."""
    return np.array([[d.mean for d in c.service] for c in scenario.classes])


def scenario_traffic(scenario: Scenario) -> Traffic:
    """Offered and carried rates of every class at every station, losses carried downstream."""
    means = service_means(scenario)
    stations = scenario.stations
    finite = [j for j, station in enumerate(stations) if station.capacity is not None]

    def loss_model(offered: np.ndarray) -> np.ndarray:
        loss = np.zeros(len(stations))
        for j in finite:
            rate = float(offered[:, j].sum())
            capacity = stations[j].capacity
            if rate <= 0.0 or capacity is None:
                continue
            mean = float((offered[:, j] * means[:, j]).sum()) / rate
            loss[j] = mmck_loss(rate, 1.0 / mean, stations[j].servers, capacity)
        return loss

    return network_traffic(
        external_rates(scenario),
        [copies_matrix(c.routing) for c in scenario.classes],
        loss_model if finite else None,
        blocking=[station.on_full == "block" for station in stations],
    )
