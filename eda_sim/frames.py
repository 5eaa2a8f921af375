"""The rows of the tidy tables a result gives to pandas (layer 5).

Every table of eda-sim speaks one vocabulary: ``scope`` (``"station"``,
``"system"`` or ``"class"``), ``name`` (the station's or class's name,
``"system"`` for the system) and ``metric`` (``L``, ``W``, ...), so that frames
merge on those columns: :meth:`RunResult.to_frame <eda_sim.results.RunResult.to_frame>`
(one row per scope × name × metric), :meth:`~eda_sim.results.RunResult.replications_frame`
(the same per replication), :meth:`ScenarioTheory.to_frame
<eda_sim.theory.scenario.ScenarioTheory.to_frame>` (the theory alone),
:meth:`~eda_sim.results.RunResult.checks_frame` (the assumption checks) and
:meth:`~eda_sim.results.RunResult.records_frame` (one row per visit of a traced
replication, like Ciw's ``get_all_records``). The functions here build the rows
as plain dictionaries; pandas is imported only by the methods that make frames.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eda_sim.checks import CheckResult
from eda_sim.engine.records import ReplicationResult, TraceRecord

__all__ = ["RECORD_COLUMNS", "check_rows", "replication_rows", "visit_rows"]

#: The columns of a records frame, in order (Ciw's ``get_all_records`` names, snake case).
RECORD_COLUMNS = (
    "id",
    "class",
    "station",
    "record_type",
    "arrival",
    "wait",
    "service_start",
    "service_time",
    "service_end",
    "blocked",
    "departure",
    "sojourn",
    "destination",
    "present_at_arrival",
)


def replication_rows(
    replications: Sequence[ReplicationResult],
    stations: Mapping[str, Iterable[str]],
    system: Iterable[str],
    classes: Mapping[str, Iterable[str]],
) -> list[dict[str, Any]]:
    """One row per replication × scope × name × metric: ``replication, scope, name, metric, value``.

    ``stations``, ``system`` and ``classes`` name the metrics reported for each
    scope (those of the summary), so the rows match :meth:`RunResult.to_frame`.
    """
    rows: list[dict[str, Any]] = []
    system_metrics = list(system)
    for rep in replications:
        for station, metrics in stations.items():
            record = rep.stations[station]
            rows.extend(
                _row(rep.replication, "station", station, m, record.metric(m)) for m in metrics
            )
        rows.extend(
            _row(rep.replication, "system", "system", m, rep.system.metric(m))
            for m in system_metrics
        )
        for name, metrics in classes.items():
            journey = rep.classes[name]
            rows.extend(_row(rep.replication, "class", name, m, journey.metric(m)) for m in metrics)
    return rows


def _row(replication: int, scope: str, name: str, metric: str, value: float) -> dict[str, Any]:
    return {
        "replication": replication,
        "scope": scope,
        "name": name,
        "metric": metric,
        "value": value if not math.isinf(value) else math.nan,
    }


def check_rows(checks: Iterable[CheckResult]) -> list[dict[str, Any]]:
    """One row per assumption check, the JSON ``checks`` entries as columns."""
    return [check.to_dict() for check in checks]


class _Visit:
    """One visit being put together from the trace's records."""

    __slots__ = ("arrival", "blocked_at", "cls", "id", "present", "slot", "start", "station")

    def __init__(self, record: TraceRecord, present: int, slot: int) -> None:
        self.slot = slot
        self.id = record.event
        self.cls = record.event_class
        self.station = record.station
        self.arrival = record.time
        self.present = present
        self.start = math.nan
        self.blocked_at = math.nan


def visit_rows(trace: Sequence[TraceRecord]) -> list[dict[str, Any]]:
    """One row per visit of a traced replication, in order of arrival (``RECORD_COLUMNS``).

    A visit is an event's (or fan-out copy's) stay at one station, from ``arrival``
    to ``departure``: ``wait`` before ``service_start``, ``service_time`` until
    ``service_end``, then ``blocked`` while the next station is full (blocking after
    service), ``sojourn`` = departure − arrival. ``destination`` is the station the
    event went to next, or ``""`` when it left the system. ``present_at_arrival``
    is the number at the station (waiting and in service) that the arrival found.
    ``record_type`` is ``"service"``, ``"lost"`` (refused by a full station: only
    ``arrival`` is set) or ``"unfinished"`` (still there at the horizon: the times
    not reached are NaN). Copies of a fan-out event share its ``id``.
    """
    present: dict[str | None, int] = defaultdict(int)
    waiting: dict[tuple[int, str | None], deque[_Visit]] = defaultdict(deque)
    serving: dict[tuple[int, str | None], deque[_Visit]] = defaultdict(deque)
    departed: dict[tuple[int, float], deque[dict[str, Any]]] = defaultdict(deque)
    copies: dict[tuple[int, float], int] = defaultdict(int)
    rows: list[dict[str, Any]] = []  # in order of arrival; a visit's row is finished later
    for record in trace:
        key = (record.event, record.station)
        if record.kind in ("arrive", "lost"):
            _claim_destination(record, departed, copies)
            visit = _Visit(record, present[record.station], len(rows))
            rows.append(_visit_row(visit, "lost" if record.kind == "lost" else "unfinished"))
            if record.kind == "arrive":
                present[record.station] += 1
                waiting[key].append(visit)
        elif record.kind == "start":
            visit = waiting[key].popleft()
            visit.start = record.time
            rows[visit.slot] = _visit_row(visit, "unfinished")
            serving[key].append(visit)
        elif record.kind == "blocked":
            serving[key][0].blocked_at = record.time
        elif record.kind == "depart":
            visit = serving[key].popleft()
            present[record.station] -= 1
            rows[visit.slot] = row = _visit_row(visit, "service", departure=record.time)
            departed[(record.event, record.time)].append(row)
        elif record.kind == "copy":
            copies[(record.event, record.time)] += 1
    return rows


def _claim_destination(
    record: TraceRecord,
    departed: dict[tuple[int, float], deque[dict[str, Any]]],
    copies: dict[tuple[int, float], int],
) -> None:
    """An arrival at the instant its event departed somewhere is that visit's destination.

    The copies a departure publishes arrive at the same instant; they are not the
    departing event's own next hop, so they are passed over first.
    """
    moment = (record.event, record.time)
    if copies[moment] > 0:
        copies[moment] -= 1
        return
    if departed[moment]:
        departed[moment].popleft()["destination"] = record.station


def _visit_row(visit: _Visit, record_type: str, departure: float = math.nan) -> dict[str, Any]:
    end = visit.blocked_at if not math.isnan(visit.blocked_at) else departure
    return {
        "id": visit.id,
        "class": visit.cls,
        "station": visit.station,
        "record_type": record_type,
        "arrival": visit.arrival,
        "wait": visit.start - visit.arrival,
        "service_start": visit.start,
        "service_time": end - visit.start,
        "service_end": end,
        "blocked": departure - end,
        "departure": departure,
        "sojourn": departure - visit.arrival,
        "destination": "",
        "present_at_arrival": visit.present,
    }
