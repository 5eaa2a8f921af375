"""The SimPy engine (layer 4; with :mod:`eda_sim.engine.simpy_engine`, the only SimPy importer).

One replication of a scenario on SimPy's event queue: each external event is a
SimPy process that walks its route station to station
(:mod:`~eda_sim.engine.simpy.walk`), one source process per event class makes
the arrivals (:mod:`~eda_sim.engine.simpy.sources`), and every mechanism lives
in its own module, called by the walk at defined hook points:

=========================  ==========================================  ===========================
module                     mechanism                                   hook points
=========================  ==========================================  ===========================
``servers``                servers, FIFO or priority line              arrival, departure
``capacity``               capacity and loss                           arrival
``blocking``               blocking after service                      completion, departure
``fanout``                 publish–subscribe copies                    completion
``lifecycle``              entering and leaving the system             entering, leaving
``sources``                Poisson and renewal arrivals                (source process)
``trace_replay``           recorded arrival instants                   (source process)
``streams``                random streams, made on first use           —
``measurement``            monitors, sample path, warm-up, result      every point
``replication``            the driver: set-up, run, result             —
=========================  ==========================================  ===========================

Random numbers come from independent streams (:mod:`eda_sim.rng`), one per
purpose, class and station, drawn in batches. Measurements are streamed
(:mod:`eda_sim.stats`) and taken from snapshots after the warm-up, so memory
does not grow with the horizon unless a trace is asked for.
"""

from eda_sim.engine.settings import COUNT_WINDOW_ARRIVALS, MAX_GAP_SAMPLE, PATH_INTERVALS
from eda_sim.engine.simpy.replication import simulate_replication

__all__ = [
    "COUNT_WINDOW_ARRIVALS",
    "ENGINE_NAME",
    "MAX_GAP_SAMPLE",
    "PATH_INTERVALS",
    "simulate_replication",
]

#: The name this engine reports in results.
ENGINE_NAME = "simpy"
