"""Traffic through a whole network: offered and carried rates with losses (layer 1).

:func:`network_traffic` (:mod:`.equations`) solves the traffic equations with
losses, the one place that does; :func:`erlang_b`, :func:`mmck_figures` and
:func:`mmck_loss` (:mod:`.erlang`) are the bounded-time loss formulas the
scenario layer's stability check needs.
"""

from eda_sim.traffic.equations import (
    DENSE_LIMIT,
    LossModel,
    Traffic,
    network_traffic,
    reachable_from,
)
from eda_sim.traffic.erlang import erlang_b, mmck_figures, mmck_loss

__all__ = [
    "DENSE_LIMIT",
    "LossModel",
    "Traffic",
    "erlang_b",
    "mmck_figures",
    "mmck_loss",
    "network_traffic",
    "reachable_from",
]
