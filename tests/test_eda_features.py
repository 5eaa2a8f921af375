"""Exact engine tests of fan-out, blocking, priorities and trace replay (hand-worked traces).

Every scenario here has deterministic service times and deterministic arrivals
(renewal streams with constant gaps, or a replayed CSV trace), so the whole sample
path is fixed and worked out by hand below, as in ``tests/test_engine_trace.py``,
whose conventions hold here too:

* a renewal stream's first arrival is at its first gap; a trace's first event is
  at 0 (times are relative to the file's first timestamp);
* simultaneous steps run in the order SimPy scheduled them (the earlier-scheduled
  first; a new process's first step is urgent);
* ``run(until=horizon)`` does not process anything at the horizon itself.

Conventions of the new features, asserted below:

* **fan-out**: when an event finishes at a station with ``fanout: [s1, s2, ...]``
  one ``copy`` record per subscriber is logged, then the event itself departs and
  takes its own next hop; each copy then arrives at its subscriber and follows
  the routing from there. Every branch that leaves logs ``exit``; the event ends
  (``SystemRecord.W`` = end of its last branch − entry) when its last branch ends,
  and counts as lost (then, not earlier) if any branch was lost.
* **blocking after service** (``on_full: block``): a sender whose next station is
  full logs ``blocked`` at the end of its service, keeps its server, and departs
  at the instant a departure at the full station makes room (it arrives there at
  that instant); the blocked time is part of its ``W`` and of the utilisation,
  and ``StationRecord.blocked`` is its mean per completed visit. An external
  arrival at a full blocking station is lost.
* **priorities**: non-preemptive, lower number first, FIFO within a priority.

Times are sums of halves, quarters and eighths, exact in binary floating point,
so most assertions are exact; ratios with other denominators use ``approx``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eda_sim.engine.records import ReplicationResult, StationRecord, SystemRecord
from eda_sim.engine.simpy_engine import simulate_replication
from eda_sim.scenario import Scenario, scenario_from_dict

REL = 1e-12

Row = tuple[float, str, int, str | None]


def means(record: Any) -> Any:
    """The record without its percentiles (``extra``): these tests check the means by hand;
    the percentiles' sketches are checked exactly in tests/test_latency.py."""
    return dataclasses.replace(record, extra={})


def det(value: float) -> dict[str, Any]:
    return {"dist": "deterministic", "value": value}


def rows(result: ReplicationResult) -> list[Row]:
    assert result.trace is not None
    return [(r.time, r.kind, r.event, r.station) for r in result.trace]


def life(event: int, *steps: tuple[float, str, str | None]) -> list[Row]:
    return [(time, kind, event, station) for time, kind, station in steps]


def starts(result: ReplicationResult) -> list[tuple[float, int, str]]:
    """(time, event, class) of every service start, in trace order."""
    assert result.trace is not None
    return [(r.time, r.event, r.event_class) for r in result.trace if r.kind == "start"]


def assert_copies_conserved(record: SystemRecord) -> None:
    assert record.copies_present_at_start + record.copies == (
        record.copies_finished + record.copies_lost + record.copies_present_at_end
    )


def assert_events_conserved(record: SystemRecord) -> None:
    assert record.present_at_start + record.entered == (
        record.completions + record.lost + record.present_at_end
    )


# ======================================================================================
# Fan-out
#
# P (1 server, 1.0) publishes every finished event to S1 (0.5), S2 (1.25) and S3 (2.0)
# and sends the event itself on to X (0.125 / 0.25) with probability 1; S2 sends its
# copy on to X as well; everything else exits. No probability below 1 anywhere, so
# the path is deterministic.
# ======================================================================================


def fanout_scenario(gap: float, *, x_service: float, s3_capacity: int | None = None) -> Scenario:
    s3: dict[str, Any] = {"service": det(2.0)}
    if s3_capacity is not None:
        s3["capacity"] = s3_capacity
    raw = {
        "stations": {
            "P": {"service": det(1.0)},
            "S1": {"service": det(0.5)},
            "S2": {"service": det(1.25)},
            "S3": s3,
            "X": {"service": det(x_service)},
        },
        "arrivals": {"process": "renewal", "interarrival": det(gap), "to": "P"},
        "routing": {"P": {"fanout": ["S1", "S2", "S3"], "X": 1.0}, "S2": {"X": 1.0}},
        "run": {"horizon": 100.0, "warmup": "none", "replications": 1},
    }
    return scenario_from_dict(raw, name="fanout")


# Case F1: an event every 4.0, X serves in 0.25; no two events ever meet.
#   event 0 enters at 4.0, P 4.0-5.0; at 5.0 copies go to S1, S2, S3 and the event to X.
#   branch        station  arrive  depart   then
#   event itself  X        5.0     5.25     exit
#   copy          S1       5.0     5.5      exit
#   copy          S2       5.0     6.25     X 6.25-6.5, exit
#   copy          S3       5.0     7.0      exit        <- the last branch: W = 7.0 - 4.0
# Event 1 enters at 8.0; at the horizon 8.5 it is in service at P.

F1_TRACE: list[Row] = [
    *life(0, (4.0, "enter", None), (4.0, "arrive", "P"), (4.0, "start", "P")),
    *life(0, (5.0, "copy", "S1"), (5.0, "copy", "S2"), (5.0, "copy", "S3")),
    *life(0, (5.0, "depart", "P"), (5.0, "arrive", "X"), (5.0, "start", "X")),
    # the copies' processes take their first step after the publisher's step
    *life(0, (5.0, "arrive", "S1"), (5.0, "start", "S1")),
    *life(0, (5.0, "arrive", "S2"), (5.0, "start", "S2")),
    *life(0, (5.0, "arrive", "S3"), (5.0, "start", "S3")),
    *life(0, (5.25, "depart", "X"), (5.25, "exit", None)),
    *life(0, (5.5, "depart", "S1"), (5.5, "exit", None)),
    *life(0, (6.25, "depart", "S2"), (6.25, "arrive", "X"), (6.25, "start", "X")),
    *life(0, (6.5, "depart", "X"), (6.5, "exit", None)),
    *life(0, (7.0, "depart", "S3"), (7.0, "exit", None)),
    *life(1, (8.0, "enter", None), (8.0, "arrive", "P"), (8.0, "start", "P")),
]


def test_fanout_full_trace_and_end_to_end_time_of_the_last_branch() -> None:
    scenario = fanout_scenario(4.0, x_service=0.25)
    result = simulate_replication(scenario, horizon=8.5, warmup=0.0, trace=True)
    assert rows(result) == F1_TRACE
    # One event finished, at its last branch (S3, 7.0): W = 7.0 - 4.0, not 5.25 - 4.0.
    # Present: event 0 over [4, 7], event 1 over [8, 8.5]: area 3.5.
    assert means(result.system) == SystemRecord(
        L=3.5 / 8.5,
        W=3.0,
        throughput=1 / 8.5,
        loss=0.0,
        entered=2,
        completions=1,
        lost=0,
        present_at_start=0,
        present_at_end=1,
        copies=3,
        copies_finished=3,
        copies_lost=0,
        copies_present_at_start=0,
        copies_present_at_end=0,
    )
    assert result.classes == {"events": result.system}
    # X is visited twice by event 0: by the event itself and by S2's copy.
    x = result.stations["X"]
    assert (x.arrivals, x.completions, x.W, x.Wq) == (2, 2, 0.25, 0.0)
    for name, service in (("S1", 0.5), ("S2", 1.25), ("S3", 2.0)):
        station = result.stations[name]
        assert (station.arrivals, station.completions, station.W, station.lost) == (
            1,
            1,
            service,
            0,
        )
    p = result.stations["P"]
    assert (p.arrivals, p.completions, p.present_at_end) == (2, 1, 1)
    # Every station is visited once per completion at P (fan-out) and X twice.
    assert result.completed_visits == 1 + 3 + 2


# Case F2: an event every 1.5, X serves in 0.125, S3 holds at most 1 (on_full: lose).
#   event  enters  P          copies at  S3 (2.0 per copy)       branches end
#   0      1.5     1.5-2.5    2.5        2.5-4.5                 X 2.625, S1 3.0, X 3.875, S3 4.5
#   1      3.0     3.0-4.0    4.0        LOST (0 still there)    X 4.125, S1 4.5, X 5.375
#   2      4.5     4.5-5.5    5.5        5.5-7.5                 X 5.625, S1 6.0, X 6.875, (S3 7.5)
#   3      6.0     6.0-7.0    7.0        LOST (2 still there)    X 7.125, (S1 7.5), (X 8.375)
# S2's copy of event k leaves S2 at 3.75 + 1.5k and visits X (0.125): never meets the
# event k + 1 itself at X (4.0 + 1.5k).
# Event 0: W = 4.5 - 1.5 = 3.0. Event 1 is lost, but only when its last branch ends
# (5.375). At the horizon 7.25, events 2 and 3 are still present.


@pytest.fixture(scope="module")
def f2() -> Scenario:
    return fanout_scenario(1.5, x_service=0.125, s3_capacity=1)


def test_fanout_copy_lost_at_a_full_subscriber_trace(f2: Scenario) -> None:
    result = simulate_replication(f2, horizon=7.25, warmup=0.0, trace=True)
    trace = rows(result)
    assert [row for row in trace if row[1] in ("copy", "lost")] == [
        *life(0, (2.5, "copy", "S1"), (2.5, "copy", "S2"), (2.5, "copy", "S3")),
        *life(1, (4.0, "copy", "S1"), (4.0, "copy", "S2"), (4.0, "copy", "S3")),
        (4.0, "lost", 1, "S3"),
        *life(2, (5.5, "copy", "S1"), (5.5, "copy", "S2"), (5.5, "copy", "S3")),
        *life(3, (7.0, "copy", "S1"), (7.0, "copy", "S2"), (7.0, "copy", "S3")),
        (7.0, "lost", 3, "S3"),
    ]
    # Event 1, branch by branch (its S3 copy has a lost record and no arrive).
    assert [row for row in trace if row[2] == 1] == [
        *life(1, (3.0, "enter", None), (3.0, "arrive", "P"), (3.0, "start", "P")),
        *life(1, (4.0, "copy", "S1"), (4.0, "copy", "S2"), (4.0, "copy", "S3")),
        *life(1, (4.0, "depart", "P"), (4.0, "arrive", "X"), (4.0, "start", "X")),
        *life(1, (4.0, "arrive", "S1"), (4.0, "start", "S1")),
        *life(1, (4.0, "arrive", "S2"), (4.0, "start", "S2")),
        (4.0, "lost", 1, "S3"),
        *life(1, (4.125, "depart", "X"), (4.125, "exit", None)),
        *life(1, (4.5, "depart", "S1"), (4.5, "exit", None)),
        *life(1, (5.25, "depart", "S2"), (5.25, "arrive", "X"), (5.25, "start", "X")),
        *life(1, (5.375, "depart", "X"), (5.375, "exit", None)),
    ]
    # Event 0's last branch is S3's copy, which exits at 4.5.
    assert [row for row in trace if row[2] == 0 and row[1] == "exit"] == life(
        0, (2.625, "exit", None), (3.0, "exit", None), (3.875, "exit", None), (4.5, "exit", None)
    )


def test_fanout_records_with_a_lost_copy(f2: Scenario) -> None:
    result = simulate_replication(f2, horizon=7.25, warmup=0.0)
    # Present: event 0 [1.5, 4.5], 1 [3.0, 5.375], 2 [4.5, 7.25], 3 [6.0, 7.25]:
    # area 3 + 2.375 + 2.75 + 1.25 = 9.375.
    # Copies: 3 per event = 12; finished 3 (event 0) + 2 (1) + 2 (2) = 7; lost 2
    # (1 and 3 at S3); still running at 7.25: 2 at S3, 3 at S1 and at S2 = 3.
    assert means(result.system) == SystemRecord(
        L=9.375 / 7.25,
        W=3.0,
        throughput=1 / 7.25,
        loss=0.5,  # 1 lost / (1 lost + 1 completed)
        entered=4,
        completions=1,
        lost=1,
        present_at_start=0,
        present_at_end=2,
        copies=12,
        copies_finished=7,
        copies_lost=2,
        copies_present_at_start=0,
        copies_present_at_end=3,
    )
    assert_copies_conserved(result.system)
    assert_events_conserved(result.system)
    s3 = result.stations["S3"]
    assert (s3.arrivals, s3.lost, s3.completions, s3.present_at_end, s3.loss) == (4, 2, 1, 1, 0.5)
    # X: the event itself (2.5, 4.0, 5.5, 7.0) and S2's copies (3.75, 5.25, 6.75).
    x = result.stations["X"]
    assert (x.arrivals, x.completions, x.Wq, x.W) == (7, 7, 0.0, 0.125)


def test_fanout_event_counts_as_lost_when_its_last_branch_ends(f2: Scenario) -> None:
    # Event 1's copy is refused at 4.0, but its last branch (S2's copy at X) ends at 5.375.
    before = simulate_replication(f2, horizon=5.3125, warmup=0.0).system
    after = simulate_replication(f2, horizon=5.4375, warmup=0.0).system
    assert (before.lost, before.completions, before.present_at_end) == (0, 1, 2)
    assert (after.lost, after.completions, after.present_at_end) == (1, 1, 1)
    # The copy itself is counted lost at once.
    assert before.copies_lost == after.copies_lost == 1
    for record in (before, after):
        assert_copies_conserved(record)
        assert_events_conserved(record)


def test_fanout_records_after_warmup(f2: Scenario) -> None:
    result = simulate_replication(f2, horizon=7.25, warmup=3.25)
    # Window [3.25, 7.25]. At 3.25: events 0 and 1 present; event 0's copies at S2->X
    # (exits 3.875) and S3 (4.5) still running (its S1 copy exited at 3.0).
    # In the window: 9 copies published (events 1, 2, 3); finished: event 0's two,
    # event 1's S1 (4.5) and S2 (5.375), event 2's S1 (6.0) and S2 (6.875) = 6; lost 2.
    # Present: event 0 till 4.5 (1.25), 1 till 5.375 (2.125), 2 from 4.5 (2.75),
    # 3 from 6.0 (1.25): area 7.375.
    assert means(result.system) == SystemRecord(
        L=7.375 / 4,
        W=3.0,
        throughput=1 / 4,
        loss=0.5,
        entered=2,
        completions=1,
        lost=1,
        present_at_start=2,
        present_at_end=2,
        copies=9,
        copies_finished=6,
        copies_lost=2,
        copies_present_at_start=2,
        copies_present_at_end=3,
    )
    assert_copies_conserved(result.system)
    assert_events_conserved(result.system)


# ======================================================================================
# Blocking after service
#
# Case B1: tandem A -> B with probability 1. Gaps 1.0 (arrivals at 1, 2, 3, ...), A
# serves in 0.375, B (1 server, capacity 1, on_full: block) in 1.25. B is slower than
# the arrivals, so from event 1 on every event finishes at A while B still holds its
# predecessor, and blocks A until B's departure.
#
#   event  arrive A  start A  end service  blocked until  = B arrive/start  B depart
#   0      1         1        1.375        -              1.375             2.625
#   1      2         2        2.375        2.625          2.625             3.875
#   2      3         3        3.375        3.875          3.875             5.125
#   3      4         4        4.375        5.125          5.125             6.375
#   4      5         5.125    5.5          6.375          6.375             7.625
#   5      6         6.375    6.75         7.625          7.625             (8.875)
#   6      7         7.625    (8.0)
# Events 4, 5, 6 wait at A because A's server is held by a blocked sender.
# ======================================================================================

B1_TRACE: list[Row] = [
    *life(0, (1.0, "enter", None), (1.0, "arrive", "A"), (1.0, "start", "A")),
    *life(0, (1.375, "depart", "A"), (1.375, "arrive", "B"), (1.375, "start", "B")),
    *life(1, (2.0, "enter", None), (2.0, "arrive", "A"), (2.0, "start", "A")),
    (2.375, "blocked", 1, "A"),
    *life(0, (2.625, "depart", "B"), (2.625, "exit", None)),
    *life(1, (2.625, "depart", "A"), (2.625, "arrive", "B"), (2.625, "start", "B")),
    *life(2, (3.0, "enter", None), (3.0, "arrive", "A"), (3.0, "start", "A")),
    (3.375, "blocked", 2, "A"),
    *life(1, (3.875, "depart", "B"), (3.875, "exit", None)),
    *life(2, (3.875, "depart", "A"), (3.875, "arrive", "B"), (3.875, "start", "B")),
    *life(3, (4.0, "enter", None), (4.0, "arrive", "A"), (4.0, "start", "A")),
    (4.375, "blocked", 3, "A"),
    *life(4, (5.0, "enter", None), (5.0, "arrive", "A")),
    *life(2, (5.125, "depart", "B"), (5.125, "exit", None)),
    *life(3, (5.125, "depart", "A"), (5.125, "arrive", "B"), (5.125, "start", "B")),
    (5.125, "start", 4, "A"),  # handed the server the unblocked sender released
    (5.5, "blocked", 4, "A"),
    *life(5, (6.0, "enter", None), (6.0, "arrive", "A")),
    *life(3, (6.375, "depart", "B"), (6.375, "exit", None)),
    *life(4, (6.375, "depart", "A"), (6.375, "arrive", "B"), (6.375, "start", "B")),
    (6.375, "start", 5, "A"),
    (6.75, "blocked", 5, "A"),
    *life(6, (7.0, "enter", None), (7.0, "arrive", "A")),
    *life(4, (7.625, "depart", "B"), (7.625, "exit", None)),
    *life(5, (7.625, "depart", "A"), (7.625, "arrive", "B"), (7.625, "start", "B")),
    (7.625, "start", 6, "A"),
]


def blocking_tandem(on_full: str) -> Scenario:
    raw = {
        "stations": {
            "A": {"service": det(0.375)},
            "B": {"service": det(1.25), "capacity": 1, "on_full": on_full},
        },
        "arrivals": {"process": "renewal", "interarrival": det(1.0), "to": "A"},
        "routing": {"A": {"B": 1.0}},
        "run": {"horizon": 100.0, "warmup": "none", "replications": 1},
    }
    return scenario_from_dict(raw, name="blocking")


@pytest.fixture(scope="module")
def b1() -> Scenario:
    return blocking_tandem("block")


def test_blocking_trace_exact(b1: Scenario) -> None:
    result = simulate_replication(b1, horizon=7.75, warmup=0.0, trace=True)
    assert rows(result) == B1_TRACE


def test_blocked_intervals_end_at_the_downstream_departures(b1: Scenario) -> None:
    trace = rows(simulate_replication(b1, horizon=7.75, warmup=0.0, trace=True))
    blocked = {event: time for time, kind, event, _ in trace if kind == "blocked"}
    left_a = {event: time for time, kind, event, s in trace if kind == "depart" and s == "A"}
    left_b = [time for time, kind, _, s in trace if kind == "depart" and s == "B"]
    arrive_b = [time for time, kind, _, s in trace if kind == "arrive" and s == "B"]
    intervals = {event: (blocked[event], left_a[event]) for event in blocked}
    assert intervals == {
        1: (2.375, 2.625),
        2: (3.375, 3.875),
        3: (4.375, 5.125),
        4: (5.5, 6.375),
        5: (6.75, 7.625),
    }
    # Every unblocking instant is a departure from B, and B's arrivals (after the
    # first) are exactly those instants: B admits the blocked sender at once.
    assert [end for _, end in intervals.values()] == left_b
    assert arrive_b == [1.375, *left_b]
    assert all(kind != "lost" for _, kind, _, _ in trace)


def test_blocking_records(b1: Scenario) -> None:
    result = simulate_replication(b1, horizon=7.75, warmup=0.0)
    # A's completed visits (events 0-5): sojourns 0.375, 0.625, 0.875, 1.125, 1.375
    # (5 -> 6.375), 1.625 (6 -> 7.625) = 6.0; waits 0.125 (event 4) + 0.375 (5) = 0.5;
    # blocked 0 + 0.25 + 0.5 + 0.75 + 0.875 + 0.875 = 3.25.
    # Number at A: [1,1.375) 1 | [2,2.625) 1 | [3,3.875) 1 | [4,5) 1 | [5,5.125) 2 |
    # [5.125,6) 1 | [6,6.375) 2 | [6.375,7) 1 | [7,7.625) 2 | [7.625,7.75) 1.
    # Busy (blocked time included): 0.375 + 0.625 + 0.875 + 3.75 = 5.625; waiting 1.125.
    assert means(result.stations["A"]) == StationRecord(
        L=pytest.approx(6.75 / 7.75, rel=REL),
        Lq=pytest.approx(1.125 / 7.75, rel=REL),
        W=1.0,
        Wq=pytest.approx(0.5 / 6, rel=REL),
        utilization=pytest.approx(5.625 / 7.75, rel=REL),
        throughput=pytest.approx(6 / 7.75, rel=REL),
        loss=0.0,
        arrivals=7,
        lost=0,
        completions=6,
        present_at_start=0,
        present_at_end=1,
        blocked=pytest.approx(3.25 / 6, rel=REL),
    )
    # B: busy without a break from 1.375 on; every visit 1.25, no waiting, no loss.
    assert means(result.stations["B"]) == StationRecord(
        L=pytest.approx(6.375 / 7.75, rel=REL),
        Lq=0.0,
        W=1.25,
        Wq=0.0,
        utilization=pytest.approx(6.375 / 7.75, rel=REL),
        throughput=pytest.approx(5 / 7.75, rel=REL),
        loss=0.0,
        arrivals=6,
        lost=0,
        completions=5,
        present_at_start=0,
        present_at_end=1,
        blocked=0.0,
    )
    # End to end: 1.625, 1.875, 2.125, 2.375, 2.625 (each includes A's blocked time).
    system = result.system
    assert (system.W, system.completions, system.lost, system.present_at_end) == (2.125, 5, 0, 2)
    assert_events_conserved(system)


def test_lose_instead_of_block_loses_the_events_that_would_block() -> None:
    """The same times with on_full: lose: events 1, 2, 3 find B full and are lost.

    Event 0: B 1.375-2.625. Event 1 reaches B at 2.375 (full): lost. Event 2 at 3.375
    (B empty since 2.625): B 3.375-4.625. Event 3 at 4.375: lost. Event 4 at 5.375:
    B 5.375-6.625. Event 5 at 6.375: lost. A's visits are all 0.375, never blocked.
    """
    result = simulate_replication(blocking_tandem("lose"), horizon=7.75, warmup=0.0, trace=True)
    trace = rows(result)
    assert [row for row in trace if row[1] in ("lost", "blocked")] == [
        (2.375, "lost", 1, "B"),
        (4.375, "lost", 3, "B"),
        (6.375, "lost", 5, "B"),
    ]
    a = result.stations["A"]
    assert (a.W, a.Wq, a.blocked, a.completions) == (0.375, 0.0, 0.0, 7)
    b = result.stations["B"]
    assert (b.arrivals, b.lost, b.completions) == (7, 3, 3)


# Case B2: an external stream straight into the full blocking station is lost.
# Class flow: every 2.25 into A (0.375), then B. Class direct: every 1.75 into B.
# B: 1 server, capacity 1, on_full: block, 1.25 per event.
#   1.75   direct 0 at B (empty): B 1.75-3.0
#   2.25   flow 1 at A: A 2.25-2.625, B full -> blocked until 3.0, B 3.0-4.25
#   3.5    direct 2 at B (full): LOST      (an external arrival never blocks)
#   4.5    flow 3: A 4.5-4.875, B empty: B 4.875-6.125
#   5.25   direct 4 at B (full): LOST
#   6.75   flow 5: A 6.75-7.125
#   7.0    direct 6 at B (empty since 6.125): B 7.0-8.25
#   7.125  flow 5 ends at A, B full (direct 6): blocked past the horizon 7.5


def test_external_arrival_at_a_full_blocking_station_is_lost() -> None:
    raw = {
        "stations": {
            "A": {"service": det(0.375)},
            "B": {"service": det(1.25), "capacity": 1, "on_full": "block"},
        },
        "classes": {
            "flow": {
                "arrivals": {"process": "renewal", "interarrival": det(2.25), "to": "A"},
                "routing": {"A": {"B": 1.0}},
            },
            "direct": {"arrivals": {"process": "renewal", "interarrival": det(1.75), "to": "B"}},
        },
        "run": {"horizon": 100.0, "warmup": "none", "replications": 1},
    }
    result = simulate_replication(
        scenario_from_dict(raw, name="blocking-external"), horizon=7.5, warmup=0.0, trace=True
    )
    assert result.trace is not None
    events = [(r.time, r.kind, r.event, r.event_class, r.station) for r in result.trace]
    assert [e for e in events if e[1] in ("lost", "blocked")] == [
        (2.625, "blocked", 1, "flow", "A"),
        (3.5, "lost", 2, "direct", "B"),
        (5.25, "lost", 4, "direct", "B"),
        (7.125, "blocked", 5, "flow", "A"),
    ]
    # The lost events never arrived anywhere: entered, then refused at once.
    assert [e for e in events if e[2] == 2] == [
        (3.5, "enter", 2, "direct", None),
        (3.5, "lost", 2, "direct", "B"),
    ]
    # Flow 1 was let into B by direct 0's departure.
    assert [e for e in events if e[0] == 3.0] == [
        (3.0, "depart", 0, "direct", "B"),
        (3.0, "exit", 0, "direct", None),
        (3.0, "depart", 1, "flow", "A"),
        (3.0, "arrive", 1, "flow", "B"),
        (3.0, "start", 1, "flow", "B"),
    ]
    flow, direct = result.classes["flow"], result.classes["direct"]
    assert (flow.entered, flow.lost, flow.completions, flow.present_at_end) == (3, 0, 2, 1)
    assert (direct.entered, direct.lost, direct.completions, direct.present_at_end) == (4, 2, 1, 1)
    # Flow's end to end: 2.25 -> 4.25 (2.0, 0.375 of it blocked) and 4.5 -> 6.125 (1.625).
    assert flow.W == (2.0 + 1.625) / 2
    a = result.stations["A"]
    assert (a.W, a.blocked, a.completions) == ((0.75 + 0.375) / 2, 0.375 / 2, 2)
    b = result.stations["B"]
    assert (b.arrivals, b.lost, b.completions, b.present_at_end) == (6, 2, 3, 1)


# Case B3: a chain of blocking stations unblocks in a cascade at one instant.
# A (0.25) -> B (0.5, capacity 1, block) -> C (2.0, capacity 1, block); gaps 1.0.
#   event 0: A 1-1.25, B 1.25-1.75, C 1.75-3.75
#   event 1: A 2-2.25, B 2.25-2.75, blocked at B (C full) until 3.75, C 3.75-5.75
#   event 2: A 3-3.25, blocked at A (B holds 1) until 3.75, B 3.75-4.25, blocked at B
#            until 5.75, C 5.75-(7.75)
#   event 3: A 4-4.25, blocked at A until 5.75, B 5.75-6.25, blocked at B
#   event 4: arrives 5.0, waits (A held by 3), A 5.75-6.0, blocked at A
# At 3.75 (and again at 5.75) C's departure lets B's blocked sender into C, whose
# departure from B lets A's blocked sender into B, whose departure from A hands A on.


def test_blocking_cascades_down_a_chain_at_one_instant() -> None:
    raw = {
        "stations": {
            "A": {"service": det(0.25)},
            "B": {"service": det(0.5), "capacity": 1, "on_full": "block"},
            "C": {"service": det(2.0), "capacity": 1, "on_full": "block"},
        },
        "arrivals": {"process": "renewal", "interarrival": det(1.0), "to": "A"},
        "routing": {"A": {"B": 1.0}, "B": {"C": 1.0}},
        "run": {"horizon": 100.0, "warmup": "none", "replications": 1},
    }
    scenario = scenario_from_dict(raw, name="cascade", allow_unstable=True)
    result = simulate_replication(scenario, horizon=6.9, warmup=0.0, trace=True)
    trace = rows(result)
    assert [row for row in trace if row[0] == 3.75] == [
        *life(0, (3.75, "depart", "C"), (3.75, "exit", None)),
        *life(1, (3.75, "depart", "B"), (3.75, "arrive", "C"), (3.75, "start", "C")),
        *life(2, (3.75, "depart", "A"), (3.75, "arrive", "B"), (3.75, "start", "B")),
    ]
    assert [row for row in trace if row[0] == 5.75] == [
        *life(1, (5.75, "depart", "C"), (5.75, "exit", None)),
        *life(2, (5.75, "depart", "B"), (5.75, "arrive", "C"), (5.75, "start", "C")),
        *life(3, (5.75, "depart", "A"), (5.75, "arrive", "B"), (5.75, "start", "B")),
        (5.75, "start", 4, "A"),
    ]
    assert [row for row in trace if row[1] == "blocked"] == [
        (2.75, "blocked", 1, "B"),
        (3.25, "blocked", 2, "A"),
        (4.25, "blocked", 2, "B"),
        (4.25, "blocked", 3, "A"),
        (6.0, "blocked", 4, "A"),
        (6.25, "blocked", 3, "B"),
    ]
    # A's completed visits: 0.25, 0.25, 0.75 (0.5 blocked), 1.75 (1.5 blocked).
    a = result.stations["A"]
    assert (a.completions, a.W, a.blocked, a.Wq) == (4, 0.75, 0.5, 0.0)
    # B's: 0.5, 1.5 (1.0 blocked), 2.0 (1.5 blocked).
    b = result.stations["B"]
    assert b.completions == 3
    assert b.W == pytest.approx(4.0 / 3, rel=REL)
    assert b.blocked == pytest.approx(2.5 / 3, rel=REL)
    assert all(row[1] != "lost" for row in trace)


# Case B4: two senders blocked on one station are let in oldest first.
# One file: direct at 0 into B (2.0, capacity 1, block); y at 0.25 into A2 (0.125),
# blocked from 0.375; x at 0.5 into A1 (0.25), blocked from 0.75. B's departure at 2.0
# admits y (blocked first, though A2 comes after A1 in station order), then at 4.0 x.
OLDEST = "time,type\n0,direct\n0.25,y\n0.5,x\n8.0,direct\n"


def two_senders(tmp_path: Path, text: str, *, b_servers: int = 1, b_capacity: int = 1) -> Scenario:
    (tmp_path / "events.csv").write_text(text)
    trace = {"process": "trace", "file": "events.csv"}
    raw = {
        "stations": {
            "A1": {"service": det(0.25)},
            "A2": {"service": det(0.125)},
            "B": {
                "servers": b_servers,
                "capacity": b_capacity,
                "on_full": "block",
                "service": det(2.0) if b_servers == 1 else det(1.0),
            },
        },
        "classes": {
            "direct": {"arrivals": {**trace, "to": "B"}},
            "x": {"arrivals": {**trace, "to": "A1"}, "routing": {"A1": {"B": 1.0}}},
            "y": {"arrivals": {**trace, "to": "A2"}, "routing": {"A2": {"B": 1.0}}},
        },
        "run": {"horizon": 10.0, "warmup": "none", "replications": 1},
    }
    return scenario_from_dict(raw, base_dir=tmp_path, allow_unstable=True)


def test_blocked_senders_are_admitted_oldest_first(tmp_path: Path) -> None:
    result = simulate_replication(two_senders(tmp_path, OLDEST), trace=True)
    assert result.trace is not None
    events = [(r.time, r.kind, r.event_class, r.station) for r in result.trace]
    assert [e for e in events if e[1] in ("blocked", "depart")] == [
        (0.375, "blocked", "y", "A2"),
        (0.75, "blocked", "x", "A1"),
        (2.0, "depart", "direct", "B"),
        (2.0, "depart", "y", "A2"),
        (4.0, "depart", "y", "B"),
        (4.0, "depart", "x", "A1"),
        (6.0, "depart", "x", "B"),
    ]
    assert result.stations["A2"].blocked == 2.0 - 0.375
    assert result.stations["A1"].blocked == 4.0 - 0.75


# Case B5: B has 2 servers and room for 3 (on_full: block), service 1.0. Two direct
# events arrive at 0 (both served 0-1), a third at 0.5 (waits). Class x: A1 from 0.5,
# done 0.75, B full: blocked. At 1.0 both of B's servers free up: the waiting direct
# event takes one, and x, let in by the first departure, should take the other at 1.0
# (work conservation), leaving B at 2.0. (Class y's one event, at 8.0, is after the
# horizon: it only keeps y's trace valid.) A regression test: the engine once let x
# start at 2.0 while a server idled over [1, 2).
WORK_CONSERVING = "time,type\n0,direct\n0,direct\n0.5,direct\n0.5,x\n8.0,y\n"


def test_a_sender_let_in_takes_a_server_freed_at_the_same_instant(tmp_path: Path) -> None:
    scenario = two_senders(tmp_path, WORK_CONSERVING, b_servers=2, b_capacity=3)
    result = simulate_replication(scenario, horizon=7.0, trace=True)
    assert result.trace is not None
    starts_at_b = [(r.time, r.event_class) for r in result.trace if r.kind == "start"]
    assert (1.0, "x") in starts_at_b
    b = result.stations["B"]
    # Every visit at B ends before 7.0, so Lq * 7 is the sum of the waits at B.
    assert b.Lq * 7.0 == pytest.approx(b.Wq * b.completions, rel=REL)


# ======================================================================================
# Priorities (non-preemptive, lower number first)
#
# Case P1: one server. Class hi (priority 0): every 1.0, served in 0.625. Classes a and
# b (priority 1): every 5.75 and every 5.875, served in 0.75. Total load
# 0.625 + 0.75/5.75 + 0.75/5.875 = 0.883, no allow_unstable needed.
#
#   1..5   hi 0-4 each find the server free (k+1 to k+1.625)
#   5.75   a 5 finds it free: 5.75-6.5
#   5.875  b 6 waits
#   6.0    hi 7 waits (behind b in time, ahead in priority)
#   6.5    hi 7 starts (overtakes b): 6.5-7.125
#   7.0    hi 8 waits
#   7.125  hi 8 starts (overtakes b again): 7.125-7.75
#   7.75   b 6 starts at last (no hi waiting: hi 9 comes at 8.0): 7.75-8.5
#   8.0    hi 9 waits; 8.5-9.125; hi 10 at 9.0 waits; 9.125-9.75
# ======================================================================================


def priority_scenario(hi: float, a: float, b: float) -> Scenario:
    def stream(gap: float, service: float, priority: float) -> dict[str, Any]:
        return {
            "arrivals": {"process": "renewal", "interarrival": det(gap)},
            "service": {"s": det(service)},
            "priority": priority,
        }

    raw = {
        "stations": {"s": {"service": det(1.0)}},
        "classes": {
            "hi": stream(1.0, 0.625, hi),
            "a": stream(5.75, 0.75, a),
            "b": stream(5.875, 0.75, b),
        },
        "run": {"horizon": 100.0, "warmup": "none", "replications": 1},
    }
    return scenario_from_dict(raw, name="priorities")


def test_later_high_priority_events_overtake_a_waiting_low_priority_one() -> None:
    scenario = priority_scenario(0, 1, 1)
    assert scenario.has_priorities
    result = simulate_replication(scenario, horizon=9.9, warmup=0.0, trace=True)
    assert [row for row in starts(result) if row[0] > 5] == [
        (5.75, 5, "a"),
        (6.5, 7, "hi"),
        (7.125, 8, "hi"),
        (7.75, 6, "b"),
        (8.5, 9, "hi"),
        (9.125, 10, "hi"),
    ]
    assert result.trace is not None
    arrivals = {r.event: r.time for r in result.trace if r.kind == "arrive"}
    assert (arrivals[6], arrivals[7], arrivals[8]) == (5.875, 6.0, 7.0)
    b = result.classes["b"]
    assert (b.completions, b.W) == (1, 8.5 - 5.875)
    # hi: waits 0 (events 0-4), 0.5 (7), 0.125 (8), 0.5 (9), 0.125 (10); service 0.625.
    hi = result.classes["hi"]
    assert hi.completions == 9
    assert hi.W == pytest.approx((9 * 0.625 + 1.25) / 9, rel=REL)
    s = result.stations["s"]
    assert s.Wq == pytest.approx((1.875 + 1.25) / 11, rel=REL)


@pytest.mark.parametrize("priorities", [(1, 1, 1), (0, 0, 0), (-2.5, -2.5, -2.5)])
def test_equal_priorities_are_served_first_come_first_served(
    priorities: tuple[float, float, float],
) -> None:
    """The same arrivals with one priority for all: b (5.875) goes before hi 7 (6.0)."""
    scenario = priority_scenario(*priorities)
    assert not scenario.has_priorities
    result = simulate_replication(scenario, horizon=9.9, warmup=0.0, trace=True)
    assert [row for row in starts(result) if row[0] > 5] == [
        (5.75, 5, "a"),
        (6.5, 6, "b"),
        (7.25, 7, "hi"),
        (7.875, 8, "hi"),
        (8.5, 9, "hi"),
        (9.125, 10, "hi"),
    ]


def test_the_lower_number_wins_whatever_the_class_order() -> None:
    """hi gets the larger number (2): now b (priority 1) goes before hi 7 and hi 8."""
    result = simulate_replication(priority_scenario(2, 1, 1), horizon=9.9, warmup=0.0, trace=True)
    assert [row[1] for row in starts(result) if row[0] > 5] == [5, 6, 7, 8, 9, 10]


# Case P2: priorities with a replayed burst (one file, two classes by its type column).
# Service 1.0 for all. File times 100.0 (lo), 100.25 (lo), 100.5 (hi), 100.625 (lo),
# 100.75 (hi), i.e. 0, 0.25, 0.5, 0.625, 0.75 after the first.
#   0     lo 0 starts (0-1); lo 1, hi 2, lo 3, hi 4 arrive and wait
#   1.0   hi 2 (priority 0) - 2.0   hi 4 - 3.0   lo 1 - 4.0   lo 3 (FIFO within each level)
BURST = "time,type\n100.0,lo\n100.25,lo\n100.5,hi\n100.625,lo\n100.75,hi\n"


def test_priorities_with_a_replayed_burst_fifo_within_each_level(tmp_path: Path) -> None:
    (tmp_path / "burst.csv").write_text(BURST)
    raw = {
        "stations": {"s": {"service": det(1.0)}},
        "classes": {
            "hi": {"arrivals": {"process": "trace", "file": "burst.csv"}, "priority": 0},
            "lo": {"arrivals": {"process": "trace", "file": "burst.csv"}, "priority": 1},
        },
        "run": {"horizon": 10.0, "warmup": "none", "replications": 1},
    }
    # The burst's measured rates (5 events over 0.75 s) exceed the server: allow it.
    scenario = scenario_from_dict(raw, base_dir=tmp_path, allow_unstable=True)
    result = simulate_replication(scenario, trace=True)
    assert starts(result) == [
        (0.0, 0, "lo"),
        (1.0, 2, "hi"),
        (2.0, 4, "hi"),
        (3.0, 1, "lo"),
        (4.0, 3, "lo"),
    ]
    assert result.trace is not None
    arrivals = [(r.time, r.event, r.event_class) for r in result.trace if r.kind == "arrive"]
    assert arrivals == [
        (0.0, 0, "lo"),
        (0.25, 1, "lo"),
        (0.5, 2, "hi"),
        (0.625, 3, "lo"),
        (0.75, 4, "hi"),
    ]
    # Waits: hi 0.5, 1.25; lo 0, 2.75, 3.375.
    assert result.classes["hi"].W == 1.0 + (0.5 + 1.25) / 2
    assert result.classes["lo"].W == pytest.approx(1.0 + (2.75 + 3.375) / 3, rel=REL)
    assert result.stations["s"].Wq == pytest.approx(7.875 / 5, rel=REL)


# ======================================================================================
# Trace replay
#
# One server, service 1.0; the file's times 10.0, 10.5, 10.75, 12.25, 14.5 become
# 0, 0.5, 0.75, 2.25, 4.5 (relative to the first):
#   event  arrive  start  wait   depart
#   0      0       0      0      1
#   1      0.5     1      0.5    2
#   2      0.75    2      1.25   3
#   3      2.25    3      0.75   4
#   4      4.5     4.5    0      5.5
# ======================================================================================

NUMBERS = "t,source\n10.0,web\n10.5,web\n10.75,app\n12.25,web\n14.5,app\n"
ISO_Z = (
    "timestamp\n2026-11-02T09:00:10Z\n2026-11-02T09:00:10.500Z\n2026-11-02T09:00:10.750Z\n"
    "2026-11-02T09:00:12.250Z\n2026-11-02T09:00:14.500Z\n"
)
# The same instants written with UTC offsets (and one without fractional seconds).
ISO_OFFSETS = (
    "timestamp\n2026-11-02T10:00:10+01:00\n2026-11-02T09:00:10.5+00:00\n"
    "2026-11-02T04:00:10.750-05:00\n2026-11-02T09:00:12.250Z\n2026-11-02T09:00:14.5Z\n"
)
TRACE_WAITS = [0.0, 0.5, 1.25, 0.75, 0.0]
TRACE_ARRIVALS = [0.0, 0.5, 0.75, 2.25, 4.5]


def trace_scenario(
    tmp_path: Path, text: str, *, run: dict[str, Any] | None = None, **arrivals: Any
) -> Scenario:
    (tmp_path / "events.csv").write_text(text)
    raw = {
        "stations": {"s": {"service": det(1.0)}},
        "arrivals": {"process": "trace", "file": "events.csv", "to": "s", **arrivals},
        "run": {"warmup": "none", "replications": 1, **(run or {})},
    }
    return scenario_from_dict(raw, name="replay", base_dir=tmp_path, allow_unstable=True)


def waits(result: ReplicationResult) -> list[float]:
    assert result.trace is not None
    arrive = {r.event: r.time for r in result.trace if r.kind == "arrive"}
    start = {r.event: r.time for r in result.trace if r.kind == "start"}
    return [start[event] - arrive[event] for event in sorted(start)]


@pytest.mark.parametrize("text", [NUMBERS, ISO_Z, ISO_OFFSETS], ids=["numbers", "iso", "offsets"])
def test_trace_replay_gives_exact_waits(tmp_path: Path, text: str) -> None:
    scenario = trace_scenario(tmp_path, text, run={"horizon": 10.0})
    assert scenario.classes[0].arrivals.times.tolist() == TRACE_ARRIVALS
    result = simulate_replication(scenario, trace=True)
    assert result.trace is not None
    assert [r.time for r in result.trace if r.kind == "enter"] == TRACE_ARRIVALS
    assert waits(result) == TRACE_WAITS
    s = result.stations["s"]
    assert (s.arrivals, s.completions, s.present_at_end) == (5, 5, 0)
    assert s.Wq == sum(TRACE_WAITS) / 5
    assert s.W == 1.0 + sum(TRACE_WAITS) / 5
    # Waiting: [0.5,1) 1 | [0.75,2) +1 | [2.25,3) 1: area 0.5 + 1.25 + 0.75 = 2.5.
    assert s.Lq == 2.5 / 10
    assert s.utilization == 5.0 / 10


def test_trace_replay_is_the_same_in_every_replication(tmp_path: Path) -> None:
    scenario = trace_scenario(tmp_path, NUMBERS, run={"horizon": 10.0})
    reference = rows(simulate_replication(scenario, trace=True))
    for kwargs in ({"seed": 12345}, {"replication": 7}):
        assert rows(simulate_replication(scenario, trace=True, **kwargs)) == reference


def test_trace_horizon_defaults_to_just_past_the_last_arrival(tmp_path: Path) -> None:
    scenario = trace_scenario(tmp_path, NUMBERS)
    assert scenario.run.horizon == np.nextafter(4.5, np.inf)
    assert scenario.run.horizon > 4.5
    result = simulate_replication(scenario, trace=True)
    # The last arrival (4.5) is replayed; its service is still running at the horizon.
    assert result.horizon == scenario.run.horizon
    s = result.stations["s"]
    assert (s.arrivals, s.completions, s.present_at_end) == (5, 4, 1)
    assert waits(result) == TRACE_WAITS
    # An explicit horizon wins, also one that cuts the trace short.
    short = trace_scenario(tmp_path, NUMBERS, run={"horizon": 2.0})
    assert short.run.horizon == 2.0
    assert simulate_replication(short).stations["s"].arrivals == 3


TYPED = "time,type\n3.0,click\n3.5,order\n4.25,click\n5.0,click\n6.5,order\n7.0,click\n"


def test_trace_type_selects_rows_and_keeps_the_file_origin(tmp_path: Path) -> None:
    # order rows: 3.5 and 6.5, i.e. 0.5 and 3.5 after the file's first row (3.0).
    scenario = trace_scenario(tmp_path, TYPED, type="order", run={"horizon": 10.0})
    assert scenario.classes[0].arrivals.times.tolist() == [0.5, 3.5]
    result = simulate_replication(scenario, trace=True)
    assert result.trace is not None
    assert [r.time for r in result.trace if r.kind == "enter"] == [0.5, 3.5]
    # Without type: the single class ("events") is no type of the file, so every row.
    every = trace_scenario(tmp_path, TYPED, run={"horizon": 10.0})
    assert every.classes[0].arrivals.times.tolist() == [0.0, 0.5, 1.25, 2.0, 3.5, 4.0]


def test_two_classes_share_one_file_with_their_times_aligned(tmp_path: Path) -> None:
    """Each class picks its rows by its name; both keep the file's origin.

    Service 1.0: click 0 (0-1), order 1 (0.5, waits until 1, 1-2), click 2 (1.25,
    2-3), click 3 (2.0, 3-4), order 4 (3.5, 4-5), click 5 (4.0, 5-6).
    """
    (tmp_path / "events.csv").write_text(TYPED)
    raw = {
        "stations": {"s": {"service": det(1.0)}},
        "classes": {
            "click": {"arrivals": {"process": "trace", "file": "events.csv"}},
            "order": {"arrivals": {"process": "trace", "file": "events.csv"}},
        },
        "run": {"horizon": 10.0, "warmup": "none", "replications": 1},
    }
    scenario = scenario_from_dict(raw, base_dir=tmp_path, allow_unstable=True)
    times = {c.name: c.arrivals.times.tolist() for c in scenario.classes}
    assert times == {"click": [0.0, 1.25, 2.0, 4.0], "order": [0.5, 3.5]}
    result = simulate_replication(scenario, trace=True)
    assert result.trace is not None
    assert [(r.time, r.event_class) for r in result.trace if r.kind == "enter"] == [
        (0.0, "click"),
        (0.5, "order"),
        (1.25, "click"),
        (2.0, "click"),
        (3.5, "order"),
        (4.0, "click"),
    ]
    assert waits(result) == [0.0, 0.5, 0.75, 1.0, 0.5, 1.0]
    assert result.classes["order"].W == 1.0 + (0.5 + 0.5) / 2
    assert result.classes["click"].W == 1.0 + (0.0 + 0.75 + 1.0 + 1.0) / 4
    # Without an explicit horizon: just past the later class's last arrival (4.0).
    del raw["run"]["horizon"]
    assert scenario_from_dict(raw, base_dir=tmp_path, allow_unstable=True).run.horizon == (
        np.nextafter(4.0, np.inf)
    )
