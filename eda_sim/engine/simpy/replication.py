"""The replication driver of the SimPy engine: set up, run to the horizon, measure.

:func:`simulate_replication` builds one replication's pieces in a fixed order
(the order in which they schedule SimPy events is part of the engine's
contract: the fast engine reproduces it), runs the environment to the horizon
and returns what the monitors measured:

1. the monitors (:class:`~eda_sim.engine.simpy.measurement.Measurement`);
2. the random streams, one :class:`~eda_sim.engine.simpy.streams.ClassStreams`
   per class, made as stations first need them;
3. the mechanisms the scenario uses (servers always; capacity, blocking and
   fan-out only where set), and the walk that calls them;
4. one source per class (:mod:`~eda_sim.engine.simpy.sources`), then the grid
   ticks of the sample path and the warm-up's end.
"""

from __future__ import annotations

import simpy

from eda_sim.engine.records import ReplicationResult
from eda_sim.engine.settings import ReplicationSettings, with_automatic_warmup
from eda_sim.engine.simpy.blocking import blocking_for
from eda_sim.engine.simpy.capacity import capacity_for
from eda_sim.engine.simpy.fanout import fanout_for
from eda_sim.engine.simpy.lifecycle import Lifecycle
from eda_sim.engine.simpy.measurement import Measurement
from eda_sim.engine.simpy.servers import servers_for
from eda_sim.engine.simpy.sources import start_sources
from eda_sim.engine.simpy.streams import ClassStreams
from eda_sim.engine.simpy.walk import Mechanisms, build_walk
from eda_sim.scenario import Scenario

__all__ = ["simulate_replication"]


def simulate_replication(
    scenario: Scenario,
    *,
    replication: int = 0,
    horizon: float | None = None,
    warmup: float | None = None,
    seed: int | None = None,
    trace: bool = False,
    keep_waits: int = 0,
    batch_means: bool = False,
    later_starts: bool = True,
) -> ReplicationResult:
    """Simulate one replication of ``scenario`` and return its measurements.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    replication : int
        Replication index; with ``seed`` it selects the random streams.
    horizon, warmup : float, optional
        Simulated time to run and to discard; default: the scenario's run settings
        (with ``warmup: auto``, MSER-5 on this replication's own sample path).
    seed : int, optional
        Root seed; default: the scenario's ``run.seed``.
    trace : bool
        Also return every arrival, start, departure and loss (memory grows with
        the run: for tests and short diagnostic runs).
    keep_waits : int
        Keep each station's last ``keep_waits`` (wait, time per visit) pairs, for
        plots of the waiting-time distribution (bounded memory); 0 keeps none.
    batch_means : bool
        Cut the percentile sketches at every grid point, so that batches can be
        cut anywhere after the warm-up (:func:`~eda_sim.engine.settings.sketch_cuts`).
    later_starts : bool
        Cut the sketches where MSER-5 may start a window after the run, so that
        :meth:`~eda_sim.engine.records.ReplicationResult.truncated` can measure
        from there; False (a run with a fixed warm-up) cuts them only at the
        warm-up's end, the one window the run measures.

    Returns
    -------
    ReplicationResult
    """
    settings = ReplicationSettings.resolve(
        scenario, replication, horizon, warmup, seed, batch_means, later_starts
    )
    env = simpy.Environment()
    measurement = Measurement(scenario, settings, trace, keep_waits)
    names = scenario.station_names
    streams = [
        ClassStreams(event_class, names, settings.seed, replication)
        for event_class in scenario.classes
    ]
    monitors = measurement.stations
    servers = servers_for(env, scenario, monitors)
    capacity = capacity_for(scenario, monitors)
    mechanisms = Mechanisms(
        servers=servers,
        lifecycle=Lifecycle(measurement),
        capacity=capacity,
        blocking=blocking_for(env, scenario, monitors, capacity, servers),
        fanout=fanout_for(scenario, measurement),
    )
    walk = build_walk(env, scenario, streams, mechanisms, measurement)
    start_sources(env, scenario, streams, measurement, walk)
    measurement.start(env)
    env.run(until=settings.horizon)
    return with_automatic_warmup(measurement.result(), settings)
