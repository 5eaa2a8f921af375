"""The scenario as the reports draw it, as plain JSON data (layer 5)."""

from __future__ import annotations

from typing import Any

from eda_sim.scenario import Scenario


def describe_scenario(scenario: Scenario) -> dict[str, Any]:
    """The scenario as reports draw it: stations, and per class its arrivals and routing.

    Plain JSON data: ``stations`` (name, servers, capacity, on_full, service),
    ``classes`` (name, arrival process and rate, priority, entry probabilities,
    routing matrix in station order, fan-out lists, exit probabilities).
    """
    return {
        "name": scenario.name,
        "description": scenario.description,
        "time_unit": scenario.time_unit,
        "stations": [
            {
                "name": station.name,
                "servers": station.servers,
                "capacity": station.capacity,
                "on_full": station.on_full,
                "service": station.service.describe(),
                "service_mean": station.service.mean,
            }
            for station in scenario.stations
        ],
        "classes": [
            {
                "name": c.name,
                "arrivals": c.arrivals.kind,
                "rate": c.arrivals.rate,
                "priority": c.priority,
                "entry": c.routing.entry.tolist(),
                "matrix": c.routing.matrix.tolist(),
                "fanout": [
                    [scenario.station_names[t] for t in targets] for targets in c.routing.fanout
                ],
                "exit": c.routing.exit_probabilities.tolist(),
            }
            for c in scenario.classes
        ],
    }
