"""The fast engine: one replication in a compiled event loop (layer 4; needs numba to run).

``engine="fast"`` (``--engine fast``) runs the same model as the SimPy engine
(:mod:`eda_sim.engine.simpy`), every mechanism of it: event classes, ``c``
servers per station, FIFO or non-preemptive priority lines, capacity with
loss, blocking after service, publish–subscribe fan-out, every service and gap
distribution, Poisson and renewal arrivals, trace replay, warm-up (fixed or
MSER-5). It draws from the *same* random streams (:mod:`eda_sim.rng`, same
keys, same batches), consumed in the same order, and processes events in
SimPy's order (time, then priority, then scheduling order), so it returns the
same :class:`~eda_sim.engine.records.ReplicationResult` as the SimPy engine,
sample path, observations, waits and percentile sketches included, only sooner.

A mechanism the SimPy engine gains before the compiled loop does is listed in
:data:`~eda_sim.engine.fast.support.UNPORTED`, and a scenario that uses it is
refused with a :class:`~eda_sim.errors.ScenarioError` naming the feature and
where it is set (none is today); without numba (the ``[fast]`` extra) a
scenario is refused the same way.

The package (one module per mechanism, mirroring :mod:`eda_sim.engine.simpy`):

==================  =====================================================  =========
module              what                                                   numba
==================  =====================================================  =========
``driver``          :func:`simulate_replication_fast`: state, loop, result  no
``support``         :func:`check_supported`, :func:`load_kernel`            no
``state``           the named state arrays, one set per mechanism           no
``tables``          the per-scenario tables (routing, servers, fan-out...)  no
``streams``         random-value buffers filled from the same streams       no
``kinds``           event kinds and return codes                            no
``kernel``          the event loop: a dispatcher over event kinds           compiled
``event_queue``     the event set: a calendar queue's pop and push          step
``queue_room``      the event queue's growth and resizes (Python side)      no
``event_heap``      the 4-ary heap it replaced (benchmark, tests only)      step
``sources``         external arrivals: the arrival counter                  step
``trace_replay``    arrivals at a trace's instants                          step
``draws``           reading buffers; routing draws (entry, next hop)        step
``capacity``        capacity and loss                                       step
``servers``         servers, FIFO and priority lines                        step
``service``         start of service                                        step
``blocking``        blocking after service                                  step
``fanout``          publish–subscribe copies                                step
``lifecycle``       entering and leaving the system, journeys               step
``monitors``        station and system monitors, snapshots                  step
``latency``         percentile sketches: a time's key into a buffer (the   step
                    counting and the cuts' passes are compiled apart)
``bits``            a double's bits as an integer (an intrinsic)            step
``lookahead``       the next event's state asked for early (prefetches)     step
``prefetching``     cache-line prefetch hints (intrinsics)                  step
``sketches``        the sketches' state, cuts and chunks (Python side)      no
``jit``             how functions are compiled (``compiled``, ``step``)     —
==================  =====================================================  =========

Importing this package does not import numba: the compiled modules are loaded
by :func:`load_kernel` on first use, compiled once and cached on disk. Nor does
it import the driver and its state modules until one of them is asked for
(:func:`simulate_replication_fast`, :func:`loop_is_cached`, :func:`warm_kernel`):
a SimPy-engine run that only asks whether the fast engine could run
(:func:`check_supported`) does not load them (2.5 MB of the command's memory).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from eda_sim.engine.fast.support import MISSING_NUMBA, check_supported, load_kernel

if TYPE_CHECKING:
    from eda_sim.engine.fast.driver import simulate_replication_fast
    from eda_sim.engine.fast.warming import loop_is_cached, warm_kernel

#: The members loaded on first use, and their modules.
_LAZY = {
    "simulate_replication_fast": "eda_sim.engine.fast.driver",
    "loop_is_cached": "eda_sim.engine.fast.warming",
    "warm_kernel": "eda_sim.engine.fast.warming",
}


def __getattr__(name: str) -> Any:
    """The driver's and the warming module's members, imported when first asked for."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ENGINE_NAME",
    "MISSING_NUMBA",
    "check_supported",
    "load_kernel",
    "loop_is_cached",
    "simulate_replication_fast",
    "warm_kernel",
]

#: The name this engine reports in results.
ENGINE_NAME = "fast"
