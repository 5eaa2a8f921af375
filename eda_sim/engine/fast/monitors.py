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
and :func:`keep_wait` (departure), :func:`system_enter` (entering), :func:`system_leave` and
:func:`system_lose` (leaving the system); :func:`snapshot_all` at the grid
ticks and the warm-up's end.
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
    "system_enter",
    "system_leave",
    "system_lose",
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
    monitors: np.ndarray, servers: int, i: int, now: float, wait: float, sojourn: float
) -> None:
    """``StationMonitor.depart``: an event leaves station ``i`` after ``wait`` and ``sojourn``."""
    _advance_station(monitors, servers, i, now)
    monitor = monitors[i]
    monitor.present -= 1
    monitor.completions += 1
    monitor.wait_sum += wait
    monitor.sojourn_sum += sojourn


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
def system_leave(system: np.ndarray, event_class: int, now: float, sojourn: float) -> None:
    """``SystemMonitor.leave``: an event leaves after ``sojourn`` end to end."""
    for r in (0, 1 + event_class):
        _advance_system(system, r, now)
        system[r].present -= 1
        system[r].completions += 1
        system[r].sojourn_sum += sojourn


@step
def system_lose(system: np.ndarray, event_class: int, now: float) -> None:
    """``SystemMonitor.lose``: an event is refused by a full station."""
    for r in (0, 1 + event_class):
        _advance_system(system, r, now)
        system[r].present -= 1
        system[r].lost += 1


@compiled
def station_snapshot(
    monitors: np.ndarray, lines: np.ndarray, i: int, now: float, out: np.ndarray
) -> None:
    """``StationMonitor.snapshot(now)`` of station ``i`` into the 10-vector ``out``."""
    monitor = monitors[i]
    elapsed = now - monitor.last
    present = monitor.present
    servers = lines[i].servers
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
    out[7] = 0.0  # fan-out copies: not in the fast engine yet
    out[8] = 0.0
    out[9] = 0.0


@compiled
def snapshot_all(
    monitors: np.ndarray,
    lines: np.ndarray,
    system: np.ndarray,
    now: float,
    station_rows: np.ndarray,
    system_rows: np.ndarray,
) -> None:
    """Snapshots of every station (``station_rows[i]``) and system row (``system_rows[r]``)."""
    for i in range(monitors.shape[0]):
        station_snapshot(monitors, lines, i, now, station_rows[i])
    for r in range(system.shape[0]):
        system_snapshot(system, r, now, system_rows[r])
