"""Station and system monitors: the running totals of the SimPy engine's monitors (steps).

Each function is the same arithmetic, in the same order, as the method of
:class:`~eda_sim.stats.StationMonitor` or :class:`~eda_sim.stats.SystemMonitor`
it is named after, on one record of ``monitors``
(:data:`~eda_sim.engine.fast.state.STATION_MONITOR`) or ``system``
(:data:`~eda_sim.engine.fast.state.SYSTEM_MONITOR`), so both
engines' totals are equal bit for bit. Snapshots write rows laid out as
:class:`~eda_sim.stats.StationSnapshot` and :class:`~eda_sim.stats.SystemSnapshot`.

Hook points: :func:`station_arrive` (arrival, after admission),
:func:`station_refuse` (arrival at a full station), :func:`station_depart`
and :func:`keep_wait` (departure), :func:`system_enter` (entering),
:func:`system_leave` (leaving the system, done or lost),
:func:`system_start_copies` and :func:`system_end_copy` (fan-out copies
published and ended); :func:`snapshot_all` at the grid ticks and the warm-up's end.
"""

from __future__ import annotations

import numpy as np

from eda_sim.engine.fast.jit import compiled, step
from eda_sim.engine.fast.state import RecentWaits

__all__ = [
    "keep_wait",
    "snapshot_all",
    "station_arrive",
    "station_depart",
    "station_refuse",
    "system_end_copy",
    "system_enter",
    "system_leave",
    "system_start_copies",
]


@step
def _advance_station(monitors: np.ndarray, servers: int, i: int, now: float) -> None:
    """Integrate busy servers and waiting events of station ``i`` up to ``now``."""
    monitor = monitors[i]
    elapsed = now - monitor.last
    if elapsed != 0.0:
        present = monitor.present
        busy = min(present, servers)
        monitor.area_busy += busy * elapsed
        monitor.area_waiting += (present - busy) * elapsed  # += 0.0 when no one waits
        monitor.last = now


@step
def station_arrive(monitors: np.ndarray, servers: int, i: int, now: float) -> int:
    """``StationMonitor.arrive``: an event is admitted at ``now``; return those present before."""
    present = monitors[i].present
    _advance_station(monitors, servers, i, now)
    monitors[i].present = present + 1
    monitors[i].arrivals += 1
    return int(present)


@step
def station_refuse(monitors: np.ndarray, i: int) -> None:
    """``StationMonitor.refuse``: an arriving event finds station ``i`` full and is lost."""
    monitors[i].arrivals += 1
    monitors[i].lost += 1


@step
def station_depart(
    monitors: np.ndarray,
    servers: int,
    i: int,
    now: float,
    wait: float,
    sojourn: float,
    blocked: float,
) -> None:
    """``StationMonitor.depart``: an event leaves station ``i`` after ``wait`` and ``sojourn``.

    ``blocked`` (the part of the sojourn spent blocked after service) is added
    even when it is 0.0, which leaves the (never negative zero) sum unchanged, as
    the SimPy monitor's skipping it does.
    """
    _advance_station(monitors, servers, i, now)
    monitor = monitors[i]
    monitor.present -= 1
    monitor.completions += 1
    monitor.wait_sum += wait
    monitor.sojourn_sum += sojourn
    monitor.blocked_sum += blocked


@step
def keep_wait(waits: RecentWaits, i: int, wait: float, sojourn: float) -> None:
    """Keep a departing event's wait and time per visit in station ``i``'s ring of recent ones."""
    keep = waits.pairs.shape[1]
    if keep > 0:
        w = waits.written[i] % keep
        waits.pairs[i, w, 0] = wait
        waits.pairs[i, w, 1] = sojourn
        waits.written[i] += 1


@step
def _advance_system(system: np.ndarray, r: int, now: float) -> None:
    row = system[r]
    row.area += row.present * (now - row.last)
    row.last = now


@step
def system_enter(system: np.ndarray, event_class: int, now: float) -> None:
    """``SystemMonitor.enter`` of the system (row 0) and of the event's class (row 1 + k)."""
    for r in (0, 1 + event_class):
        _advance_system(system, r, now)
        system[r].present += 1
        system[r].entered += 1


@step
def system_leave(
    system: np.ndarray, event_class: int, now: float, lost: int, sojourn: float
) -> None:
    """``SystemMonitor.leave`` (after ``sojourn`` end to end) or, when ``lost``, ``.lose``.

    One step for both, so that the loop calls it without a branch; a lost event
    adds 0.0 to ``sojourn_sum`` (never a negative zero), which leaves it unchanged.
    """
    for r in (0, 1 + event_class):
        _advance_system(system, r, now)
        system[r].present -= 1
        system[r].completions += 1 - lost
        system[r].lost += lost
        system[r].sojourn_sum += 0.0 if lost else sojourn


@step
def system_start_copies(system: np.ndarray, event_class: int, count: int) -> None:
    """``SystemMonitor.start_copy``, ``count`` times: fan-out copies are published."""
    for r in (0, 1 + event_class):
        system[r].copies += count


@step
def system_end_copy(system: np.ndarray, event_class: int, is_copy: int, lost: int) -> None:
    """``SystemMonitor.end_copy`` when the branch that ended is a copy (adds 0 otherwise)."""
    for r in (0, 1 + event_class):
        system[r].copies_lost += is_copy & lost
        system[r].copies_finished += is_copy & (1 - lost)


@compiled
def station_snapshot(
    monitors: np.ndarray, servers_of: np.ndarray, i: int, now: float, out: np.ndarray
) -> None:
    """``StationMonitor.snapshot(now)`` of station ``i`` into the 10-vector ``out``."""
    monitor = monitors[i]
    elapsed = now - monitor.last
    present = monitor.present
    servers = servers_of[i]
    busy = present if present < servers else servers
    out[0] = now
    out[1] = monitor.area_busy + busy * elapsed
    out[2] = monitor.area_waiting + (present - busy) * elapsed
    out[3] = monitor.arrivals
    out[4] = monitor.lost
    out[5] = monitor.completions
    out[6] = monitor.wait_sum
    out[7] = monitor.sojourn_sum
    out[8] = present
    out[9] = monitor.blocked_sum


@compiled
def system_snapshot(system: np.ndarray, r: int, now: float, out: np.ndarray) -> None:
    """``SystemMonitor.snapshot(now)`` of row ``r`` (0: system, 1 + k: class k)."""
    row = system[r]
    out[0] = now
    out[1] = row.area + row.present * (now - row.last)
    out[2] = row.entered
    out[3] = row.completions
    out[4] = row.lost
    out[5] = row.sojourn_sum
    out[6] = row.present
    out[7] = row.copies
    out[8] = row.copies_finished
    out[9] = row.copies_lost


@compiled
def snapshot_all(
    monitors: np.ndarray,
    servers: np.ndarray,
    system: np.ndarray,
    now: float,
    station_rows: np.ndarray,
    system_rows: np.ndarray,
) -> None:
    """Snapshots of every station (``station_rows[i]``) and system row (``system_rows[r]``)."""
    for i in range(monitors.shape[0]):
        station_snapshot(monitors, servers, i, now, station_rows[i])
    for r in range(system.shape[0]):
        system_snapshot(system, r, now, system_rows[r])
