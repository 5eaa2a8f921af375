"""Exact engine tests: hand-worked traces of deterministic tandem networks.

Every scenario here has deterministic gaps and deterministic service times, and
(cases 1-4) routing probability 1 from the first station to the second (0 after
it), so the whole sample path is fixed and can be worked out with pencil and
paper, as in SimPy's own tests. Case 5 is two event classes at one station.
Times are mostly sums of halves and quarters, which are exact in binary floating
point, so most assertions are exact equalities; other values, and ratios whose
denominator is not a power of two, use ``pytest.approx(rel=1e-12)``.

Conventions worked out below (and asserted):

* the first external arrival happens at time = first gap (1.0), not at 0;
  events are numbered 0, 1, 2, ... in order of entry, so event k enters at k + 1;
* an event that finds a free server starts at once; otherwise it waits FIFO and
  a departing event hands its server straight to the head of the line;
* simultaneous events are processed in the order SimPy scheduled them: a service
  end at time t was scheduled when that service started, an external arrival at
  t when the previous one happened; the earlier-scheduled goes first. A newly
  entered event's first steps (SimPy's ``Initialize`` is urgent) run before a
  waiting event that was handed a server at the same instant starts;
* ``run(until=horizon)`` stops before processing anything at the horizon itself
  (case 1's horizon 8.0 falls on an arrival, which is not run; the other horizons
  are off the event times);
* a refused event has a ``lost`` record at the full station and no ``arrive``.
"""

# SIM300 mistakes the queueing symbols L, W, Lq, Wq for constants (Yoda conditions).

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from eda_sim.engine.records import ReplicationResult, StationRecord, SystemRecord
from eda_sim.engine.simpy_engine import simulate_replication
from eda_sim.errors import UnstableError
from eda_sim.scenario import Scenario, scenario_from_dict

REL = 1e-12

Row = tuple[float, str, int, str | None]


def means(record: Any) -> Any:
    """The record without its percentiles (``extra``): these tests check the means by hand;
    the percentiles' sketches are checked exactly in tests/test_latency.py."""
    return dataclasses.replace(record, extra={})


def det(value: float) -> dict[str, Any]:
    return {"dist": "deterministic", "value": value}


def tandem(
    gap: float,
    service_a: float,
    service_b: float,
    *,
    servers_a: int = 1,
    servers_b: int = 1,
    capacity_b: int | None = None,
    allow_unstable: bool = False,
) -> Scenario:
    """Deterministic arrivals every ``gap`` into A, then B with probability 1, then out."""
    station_b: dict[str, Any] = {"servers": servers_b, "service": det(service_b)}
    if capacity_b is not None:
        station_b["capacity"] = capacity_b
    raw = {
        "stations": {
            "A": {"servers": servers_a, "service": det(service_a)},
            "B": station_b,
        },
        "arrivals": {"process": "renewal", "interarrival": det(gap), "to": "A"},
        "routing": {"A": {"B": 1.0}},
        "run": {"horizon": 100.0, "warmup": "none", "replications": 1, "seed": 7},
    }
    return scenario_from_dict(raw, name="trace", allow_unstable=allow_unstable)


def rows(result: ReplicationResult) -> list[Row]:
    assert result.trace is not None
    return [(r.time, r.kind, r.event, r.station) for r in result.trace]


def life(event: int, *steps: tuple[float, str, str | None]) -> list[Row]:
    return [(time, kind, event, station) for time, kind, station in steps]


# --------------------------------------------------------------------------------------
# Case 1: one server each; a queue builds at A.
# Gaps 1.0 (arrivals at 1, 2, 3, ...), A serves in 1.5, B in 0.75. ρ_A = 1.5, so
# A's queue grows without bound: the scenario needs allow_unstable=True.
#
# A (FIFO, 1 server):             B (1 server, never queues: A's output is 1.5 apart):
#   event arrive start depart        event arrive start depart -> exit
#   0     1      1     2.5           0     2.5    2.5   3.25
#   1     2      2.5   4.0           1     4.0    4.0   4.75
#   2     3      4.0   5.5           2     5.5    5.5   6.25
#   3     4      5.5   7.0           3     7.0    7.0   7.75
#   4     5      7.0   (8.5)
#   5     6      (8.5) ...
#   6     7      ...
#   7     8      ...
# Ties at 4.0 and 7.0: the departure from A (scheduled at 2.5 / 5.5) precedes the
# arrival (scheduled at 3 / 6); the newcomer enters and joins the line before the
# head of the line (handed the server by the departure) records its start.
# --------------------------------------------------------------------------------------

CASE1_TRACE: list[Row] = [
    (1.0, "enter", 0, None),
    (1.0, "arrive", 0, "A"),
    (1.0, "start", 0, "A"),
    (2.0, "enter", 1, None),
    (2.0, "arrive", 1, "A"),
    (2.5, "depart", 0, "A"),
    (2.5, "arrive", 0, "B"),
    (2.5, "start", 0, "B"),
    (2.5, "start", 1, "A"),
    (3.0, "enter", 2, None),
    (3.0, "arrive", 2, "A"),
    (3.25, "depart", 0, "B"),
    (3.25, "exit", 0, None),
    (4.0, "depart", 1, "A"),
    (4.0, "arrive", 1, "B"),
    (4.0, "start", 1, "B"),
    (4.0, "enter", 3, None),
    (4.0, "arrive", 3, "A"),
    (4.0, "start", 2, "A"),
    (4.75, "depart", 1, "B"),
    (4.75, "exit", 1, None),
    (5.0, "enter", 4, None),
    (5.0, "arrive", 4, "A"),
    (5.5, "depart", 2, "A"),
    (5.5, "arrive", 2, "B"),
    (5.5, "start", 2, "B"),
    (5.5, "start", 3, "A"),
    (6.0, "enter", 5, None),
    (6.0, "arrive", 5, "A"),
    (6.25, "depart", 2, "B"),
    (6.25, "exit", 2, None),
    (7.0, "depart", 3, "A"),
    (7.0, "arrive", 3, "B"),
    (7.0, "start", 3, "B"),
    (7.0, "enter", 6, None),
    (7.0, "arrive", 6, "A"),
    (7.0, "start", 4, "A"),
    (7.75, "depart", 3, "B"),
    (7.75, "exit", 3, None),
]


@pytest.fixture(scope="module")
def case1() -> Scenario:
    return tandem(1.0, 1.5, 0.75, allow_unstable=True)


def test_case1_needs_allow_unstable() -> None:
    with pytest.raises(UnstableError, match=r"stations\.A: offered load ρ = 1\.5 >= 1"):
        tandem(1.0, 1.5, 0.75)


def test_case1_trace_exact(case1: Scenario) -> None:
    result = simulate_replication(case1, horizon=8.0, warmup=0.0, trace=True)
    assert rows(result) == CASE1_TRACE
    assert all(r.event_class == "events" for r in result.trace or ())


def test_case1_each_event_life(case1: Scenario) -> None:
    """The same facts, event by event (independent of how ties are interleaved)."""
    trace = rows(simulate_replication(case1, horizon=8.0, warmup=0.0, trace=True))
    for k in range(4):  # events 0..3 cross both stations: A waits k * 0.5
        enter = k + 1.0
        start_a = enter + 0.5 * k
        depart_a = start_a + 1.5
        expected = life(
            k,
            (enter, "enter", None),
            (enter, "arrive", "A"),
            (start_a, "start", "A"),
            (depart_a, "depart", "A"),
            (depart_a, "arrive", "B"),
            (depart_a, "start", "B"),
            (depart_a + 0.75, "depart", "B"),
            (depart_a + 0.75, "exit", None),
        )
        assert [row for row in trace if row[2] == k] == expected
    assert [row for row in trace if row[2] == 4] == life(
        4, (5.0, "enter", None), (5.0, "arrive", "A"), (7.0, "start", "A")
    )
    assert max(row[2] for row in trace) == 6  # the arrival at 8.0 is at the horizon: not run


def test_case1_trace_does_not_depend_on_seed_or_warmup(case1: Scenario) -> None:
    """Nothing is random here: seed, replication and warm-up leave the path alone."""
    reference = rows(simulate_replication(case1, horizon=8.0, warmup=0.0, trace=True))
    for kwargs in ({"seed": 99}, {"replication": 3}, {"warmup": 4.25}):
        other = simulate_replication(case1, horizon=8.0, trace=True, **kwargs)
        assert rows(other) == reference


def test_case1_records_without_warmup(case1: Scenario) -> None:
    r = simulate_replication(case1, horizon=8.0, warmup=0.0)
    # A, over [0, 8]: completed visits 1.5, 2.0, 2.5, 3.0 (waits 0, 0.5, 1.0, 1.5);
    # still present at 8: events 4 (since 5), 5 (since 6), 6 (since 7).
    # Time present = 9 + 3 + 2 + 1 = 15; busy from 1 to 8 = 7.
    assert means(r.stations["A"]) == StationRecord(
        L=15 / 8,
        Lq=(15 - 7) / 8,
        W=9.0 / 4,
        Wq=3.0 / 4,
        utilization=7 / 8,
        throughput=4 / 8,
        loss=0.0,
        arrivals=7,
        lost=0,
        completions=4,
        present_at_start=0,
        present_at_end=3,
    )
    # B: four visits of 0.75 each, no waiting.
    assert means(r.stations["B"]) == StationRecord(
        L=3.0 / 8,
        Lq=0.0,
        W=0.75,
        Wq=0.0,
        utilization=3.0 / 8,
        throughput=4 / 8,
        loss=0.0,
        arrivals=4,
        lost=0,
        completions=4,
        present_at_start=0,
        present_at_end=0,
    )
    # System: end-to-end sojourns 2.25, 2.75, 3.25, 3.75; L = L_A + L_B.
    assert means(r.system) == SystemRecord(
        L=18 / 8,
        W=3.0,
        throughput=4 / 8,
        loss=0.0,
        entered=7,
        completions=4,
        lost=0,
        present_at_start=0,
        present_at_end=3,
    )
    assert r.classes == {"events": r.system}
    assert r.completed_visits == 8
    assert (r.horizon, r.warmup, r.replication, r.seed) == (8.0, 0.0, 0, 7)


def test_case1_records_with_warmup(case1: Scenario) -> None:
    r = simulate_replication(case1, horizon=8.25, warmup=4.25)
    # Window [4.25, 8.25], span 4. A holds events 2 and 3 at 4.25.
    # Number at A: [4.25,5) 2 | [5,5.5) 3 | [5.5,6) 2 | [6,7) 3 | [7,8) 3 | [8,8.25) 4
    # area = 1.5 + 1.5 + 1.0 + 3 + 3 + 1.0 = 11; busy the whole window (4).
    # Visits ending in the window: 2 (W 2.5, Wq 1.0) and 3 (W 3.0, Wq 1.5).
    # Arrivals in the window: events 4, 5, 6, 7 (at 5, 6, 7, 8); at 8.25: 4, 5, 6, 7.
    assert means(r.stations["A"]) == StationRecord(
        L=11 / 4,
        Lq=(11 - 4) / 4,
        W=2.75,
        Wq=1.25,
        utilization=1.0,
        throughput=2 / 4,
        loss=0.0,
        arrivals=4,
        lost=0,
        completions=2,
        present_at_start=2,
        present_at_end=4,
    )
    # B holds event 1 (4.0-4.75) at 4.25, then serves 2 (5.5-6.25) and 3 (7.0-7.75):
    # area = 0.5 + 0.75 + 0.75 = 2.
    assert means(r.stations["B"]) == StationRecord(
        L=2 / 4,
        Lq=0.0,
        W=0.75,
        Wq=0.0,
        utilization=2 / 4,
        throughput=3 / 4,
        loss=0.0,
        arrivals=2,
        lost=0,
        completions=3,
        present_at_start=1,
        present_at_end=0,
    )
    # System: 3 present at 4.25 (events 1, 2, 3); exits of 1, 2, 3 with end-to-end
    # sojourns 2.75, 3.25, 3.75 (W counts the visits ending after the warm-up, whole).
    # Number present: [4.25,4.75) 3 | [4.75,5) 2 | [5,6) 3 | [6,6.25) 4 | [6.25,7) 3 |
    # [7,7.75) 4 | [7.75,8) 3 | [8,8.25) 4: area 13 = 11 + 2.
    assert means(r.system) == SystemRecord(
        L=13 / 4,
        W=3.25,
        throughput=3 / 4,
        loss=0.0,
        entered=4,
        completions=3,
        lost=0,
        present_at_start=3,
        present_at_end=4,
    )
    # Completed visits over the whole run, warm-up included: 4 at A and 4 at B.
    assert r.completed_visits == 8


# --------------------------------------------------------------------------------------
# Case 2: two servers at A. Gaps 1.0, A (2 servers) serves in 2.75, B (1 server) in
# 0.625. ρ_A = 1.375: A's line grows. No two different events share an instant.
#
# A:  event arrive start depart      B:  event arrive start depart -> exit
#     0     1      1     3.75            0     3.75   3.75  4.375
#     1     2      2     4.75            1     4.75   4.75  5.375
#     2     3      3.75  6.5             2     6.5    6.5   7.125
#     3     4      4.75  7.5             3     7.5    7.5   8.125
#     4     5      6.5   (9.25)
#     5     6      7.5   (10.25)
#     6     7      -
#     7     8      -
# --------------------------------------------------------------------------------------

CASE2_TRACE: list[Row] = [
    (1.0, "enter", 0, None),
    (1.0, "arrive", 0, "A"),
    (1.0, "start", 0, "A"),
    (2.0, "enter", 1, None),
    (2.0, "arrive", 1, "A"),
    (2.0, "start", 1, "A"),  # the second server is free
    (3.0, "enter", 2, None),
    (3.0, "arrive", 2, "A"),  # both busy: waits
    (3.75, "depart", 0, "A"),
    (3.75, "arrive", 0, "B"),
    (3.75, "start", 0, "B"),
    (3.75, "start", 2, "A"),  # handed event 0's server
    (4.0, "enter", 3, None),
    (4.0, "arrive", 3, "A"),
    (4.375, "depart", 0, "B"),
    (4.375, "exit", 0, None),
    (4.75, "depart", 1, "A"),
    (4.75, "arrive", 1, "B"),
    (4.75, "start", 1, "B"),
    (4.75, "start", 3, "A"),
    (5.0, "enter", 4, None),
    (5.0, "arrive", 4, "A"),
    (5.375, "depart", 1, "B"),
    (5.375, "exit", 1, None),
    (6.0, "enter", 5, None),
    (6.0, "arrive", 5, "A"),
    (6.5, "depart", 2, "A"),
    (6.5, "arrive", 2, "B"),
    (6.5, "start", 2, "B"),
    (6.5, "start", 4, "A"),
    (7.0, "enter", 6, None),
    (7.0, "arrive", 6, "A"),
    (7.125, "depart", 2, "B"),
    (7.125, "exit", 2, None),
    (7.5, "depart", 3, "A"),
    (7.5, "arrive", 3, "B"),
    (7.5, "start", 3, "B"),
    (7.5, "start", 5, "A"),
    (8.0, "enter", 7, None),
    (8.0, "arrive", 7, "A"),
    (8.125, "depart", 3, "B"),
    (8.125, "exit", 3, None),
]


@pytest.fixture(scope="module")
def case2() -> Scenario:
    return tandem(1.0, 2.75, 0.625, servers_a=2, allow_unstable=True)


def test_case2_trace_exact(case2: Scenario) -> None:
    result = simulate_replication(case2, horizon=8.5, warmup=0.0, trace=True)
    assert rows(result) == CASE2_TRACE


def test_case2_records_without_warmup(case2: Scenario) -> None:
    r = simulate_replication(case2, horizon=8.5, warmup=0.0)
    a = r.stations["A"]
    # Number at A: [1,2) 1 | [2,3) 2 | [3,3.75) 3 | [3.75,4) 2 | [4,4.75) 3 | [4.75,5) 2 |
    # [5,6) 3 | [6,6.5) 4 | [6.5,7) 3 | [7,7.5) 4 | [7.5,8) 3 | [8,8.5) 4: area 20.5.
    # Busy servers = min(number, 2): 1 on [1,2), 2 on [2,8.5): busy time 14.
    # Waiting: events 2 and 3 wait 0.75, 4 and 5 wait 1.5, 6 waits 1.5, 7 waits 0.5: 6.5.
    assert a.L == pytest.approx(20.5 / 8.5, rel=REL)
    assert a.Lq == pytest.approx(6.5 / 8.5, rel=REL)
    assert a.utilization == pytest.approx(14 / (2 * 8.5), rel=REL)
    # Completed visits 2.75, 2.75, 3.5, 3.5 (waits 0, 0, 0.75, 0.75).
    assert a.W == 3.125
    assert a.Wq == 0.375
    assert a.throughput == pytest.approx(4 / 8.5, rel=REL)
    assert (a.arrivals, a.lost, a.completions, a.present_at_start, a.present_at_end) == (
        8,
        0,
        4,
        0,
        4,
    )
    assert a.loss == 0.0
    b = r.stations["B"]
    assert b.L == pytest.approx(2.5 / 8.5, rel=REL)
    assert b.utilization == pytest.approx(2.5 / 8.5, rel=REL)
    assert (b.Lq, b.W, b.Wq) == (0.0, 0.625, 0.0)
    assert (b.arrivals, b.completions, b.present_at_end) == (4, 4, 0)
    s = r.system
    # End to end: 3.375, 3.375, 4.125, 4.125.
    assert s.W == 3.75
    assert s.L == pytest.approx(23 / 8.5, rel=REL)
    assert s.throughput == pytest.approx(4 / 8.5, rel=REL)
    assert (s.entered, s.completions, s.lost, s.present_at_end) == (8, 4, 0, 4)


def test_case2_records_with_warmup(case2: Scenario) -> None:
    r = simulate_replication(case2, horizon=8.25, warmup=4.25)
    # Window [4.25, 8.25]. At 4.25 A holds 1 and 2 (in service) and 3 (waiting).
    # Number: [4.25,4.75) 3 | [4.75,5) 2 | [5,6) 3 | [6,6.5) 4 | [6.5,7) 3 | [7,7.5) 4 |
    # [7.5,8) 3 | [8,8.25) 4: area 13. Both servers busy throughout: busy time 8.
    # Visits ending in the window: 1 (2.75, wait 0), 2 (3.5, 0.75), 3 (3.5, 0.75).
    assert means(r.stations["A"]) == StationRecord(
        L=13 / 4,
        Lq=(13 - 8) / 4,
        W=3.25,
        Wq=0.5,
        utilization=1.0,
        throughput=3 / 4,
        loss=0.0,
        arrivals=4,
        lost=0,
        completions=3,
        present_at_start=3,
        present_at_end=4,
    )


# --------------------------------------------------------------------------------------
# Case 3: the queue builds at the second station. Gaps 1.0, A serves in 0.5, B in 1.25.
#
# A: event k arrives at k+1, starts at once, departs at k+1.5 and arrives at B.
# B:  event arrive start depart -> exit
#     0     1.5    1.5   2.75
#     1     2.5    2.75  4.0
#     2     3.5    4.0   5.25
#     3     4.5    5.25  (6.5)
#     4     5.5    -
# Tie at 4.0: B's departure of 1 (scheduled at 2.75) precedes the external arrival
# (scheduled at 3.0); event 3 then enters and starts at A before event 2, handed
# B's server by event 1, records its start.
# --------------------------------------------------------------------------------------

CASE3_TRACE: list[Row] = [
    (1.0, "enter", 0, None),
    (1.0, "arrive", 0, "A"),
    (1.0, "start", 0, "A"),
    (1.5, "depart", 0, "A"),
    (1.5, "arrive", 0, "B"),
    (1.5, "start", 0, "B"),
    (2.0, "enter", 1, None),
    (2.0, "arrive", 1, "A"),
    (2.0, "start", 1, "A"),
    (2.5, "depart", 1, "A"),
    (2.5, "arrive", 1, "B"),
    (2.75, "depart", 0, "B"),
    (2.75, "exit", 0, None),
    (2.75, "start", 1, "B"),
    (3.0, "enter", 2, None),
    (3.0, "arrive", 2, "A"),
    (3.0, "start", 2, "A"),
    (3.5, "depart", 2, "A"),
    (3.5, "arrive", 2, "B"),
    (4.0, "depart", 1, "B"),
    (4.0, "exit", 1, None),
    (4.0, "enter", 3, None),
    (4.0, "arrive", 3, "A"),
    (4.0, "start", 3, "A"),
    (4.0, "start", 2, "B"),
    (4.5, "depart", 3, "A"),
    (4.5, "arrive", 3, "B"),
    (5.0, "enter", 4, None),
    (5.0, "arrive", 4, "A"),
    (5.0, "start", 4, "A"),
    (5.25, "depart", 2, "B"),
    (5.25, "exit", 2, None),
    (5.25, "start", 3, "B"),
    (5.5, "depart", 4, "A"),
    (5.5, "arrive", 4, "B"),
    (6.0, "enter", 5, None),
    (6.0, "arrive", 5, "A"),
    (6.0, "start", 5, "A"),
]


def test_case3_queue_at_second_station() -> None:
    scenario = tandem(1.0, 0.5, 1.25, allow_unstable=True)
    r = simulate_replication(scenario, horizon=6.25, warmup=0.0, trace=True)
    assert rows(r) == CASE3_TRACE
    b = r.stations["B"]
    # Completed visits 1.25, 1.5, 1.75 (waits 0, 0.25, 0.5); at 6.25 B holds 3 (since
    # 4.5, in service since 5.25) and 4 (since 5.5, waiting): area 4.5 + 1.75 + 0.75 = 7.
    # B busy from 1.5 to 6.25: 4.75. Waiting: 0.25 + 0.5 + 0.75 + 0.75 = 2.25.
    assert (b.W, b.Wq) == (1.5, 0.25)
    assert b.L == pytest.approx(7 / 6.25, rel=REL)
    assert b.Lq == pytest.approx(2.25 / 6.25, rel=REL)
    assert b.utilization == pytest.approx(4.75 / 6.25, rel=REL)
    assert (b.arrivals, b.completions, b.present_at_end) == (5, 3, 2)
    a = r.stations["A"]
    assert (a.W, a.Wq, a.arrivals, a.completions, a.present_at_end) == (0.5, 0.0, 6, 5, 1)
    assert a.Lq == 0.0
    assert a.L == pytest.approx(2.75 / 6.25, rel=REL)  # 5 x 0.5 + 0.25 (event 5)


# --------------------------------------------------------------------------------------
# Case 4: a finite buffer at B. Gaps 1.0, A serves in 0.5, B (1 server, capacity 2)
# in 2.25. ρ_B = 2.25 but the capacity is finite, so no allow_unstable is needed.
#
# A: event k arrives at k+1 and leaves for B at k+1.5.
# B:  event arrive  number found  outcome
#     0     1.5     0             start 1.5, depart 3.75
#     1     2.5     1             wait, start 3.75, depart 6.0
#     2     3.5     2 (full)      LOST
#     3     4.5     1             wait, start 6.0, depart 8.25
#     4     5.5     2 (full)      LOST
#     5     6.5     1             wait, start 8.25
#     6     7.5     2 (full)      LOST
#     7     8.5     1             wait
# --------------------------------------------------------------------------------------

CASE4_TRACE: list[Row] = [
    *life(0, (1.0, "enter", None), (1.0, "arrive", "A"), (1.0, "start", "A")),
    *life(0, (1.5, "depart", "A"), (1.5, "arrive", "B"), (1.5, "start", "B")),
    *life(1, (2.0, "enter", None), (2.0, "arrive", "A"), (2.0, "start", "A")),
    *life(1, (2.5, "depart", "A"), (2.5, "arrive", "B")),
    *life(2, (3.0, "enter", None), (3.0, "arrive", "A"), (3.0, "start", "A")),
    *life(2, (3.5, "depart", "A"), (3.5, "lost", "B")),
    *life(0, (3.75, "depart", "B"), (3.75, "exit", None)),
    (3.75, "start", 1, "B"),
    *life(3, (4.0, "enter", None), (4.0, "arrive", "A"), (4.0, "start", "A")),
    *life(3, (4.5, "depart", "A"), (4.5, "arrive", "B")),
    *life(4, (5.0, "enter", None), (5.0, "arrive", "A"), (5.0, "start", "A")),
    *life(4, (5.5, "depart", "A"), (5.5, "lost", "B")),
    # tie at 6.0: B's departure (scheduled at 3.75) before the arrival (scheduled at 5)
    *life(1, (6.0, "depart", "B"), (6.0, "exit", None)),
    *life(5, (6.0, "enter", None), (6.0, "arrive", "A"), (6.0, "start", "A")),
    (6.0, "start", 3, "B"),
    *life(5, (6.5, "depart", "A"), (6.5, "arrive", "B")),
    *life(6, (7.0, "enter", None), (7.0, "arrive", "A"), (7.0, "start", "A")),
    *life(6, (7.5, "depart", "A"), (7.5, "lost", "B")),
    *life(7, (8.0, "enter", None), (8.0, "arrive", "A"), (8.0, "start", "A")),
    *life(3, (8.25, "depart", "B"), (8.25, "exit", None)),
    (8.25, "start", 5, "B"),
    *life(7, (8.5, "depart", "A"), (8.5, "arrive", "B")),
]


@pytest.fixture(scope="module")
def case4() -> Scenario:
    return tandem(1.0, 0.5, 2.25, capacity_b=2)


def test_case4_trace_with_losses(case4: Scenario) -> None:
    r = simulate_replication(case4, horizon=8.75, warmup=0.0, trace=True)
    assert rows(r) == CASE4_TRACE


def test_case4_records_with_losses(case4: Scenario) -> None:
    r = simulate_replication(case4, horizon=8.75, warmup=0.0)
    b = r.stations["B"]
    # 8 arrivals at B, 3 refused; 3 completed (sojourns 2.25, 3.5, 3.75; waits 0, 1.25,
    # 1.5); 5 and 7 present at the end.
    assert (b.arrivals, b.lost, b.completions, b.present_at_start, b.present_at_end) == (
        8,
        3,
        3,
        0,
        2,
    )
    assert b.loss == 3 / 8
    assert b.W == pytest.approx(9.5 / 3, rel=REL)
    assert b.Wq == pytest.approx(2.75 / 3, rel=REL)
    # Number at B: [1.5,2.5) 1 | [2.5,3.75) 2 | [3.75,4.5) 1 | [4.5,6) 2 | [6,6.5) 1 |
    # [6.5,8.25) 2 | [8.25,8.5) 1 | [8.5,8.75) 2: area 12. Busy from 1.5 on: 7.25.
    assert b.L == pytest.approx(12 / 8.75, rel=REL)
    assert b.Lq == pytest.approx((12 - 7.25) / 8.75, rel=REL)
    assert b.utilization == pytest.approx(7.25 / 8.75, rel=REL)
    assert b.throughput == pytest.approx(3 / 8.75, rel=REL)
    a = r.stations["A"]
    assert (a.arrivals, a.lost, a.completions, a.present_at_end, a.loss) == (8, 0, 8, 0, 0.0)
    assert a.L == pytest.approx(4 / 8.75, rel=REL)
    s = r.system
    # 8 entered, 3 lost (at 3.5, 5.5, 7.5), 3 left (end to end 2.75, 4.0, 4.25), 2 inside.
    assert (s.entered, s.lost, s.completions, s.present_at_start, s.present_at_end) == (
        8,
        3,
        3,
        0,
        2,
    )
    assert s.loss == 0.5  # lost / (lost + completed)
    assert s.W == pytest.approx(11 / 3, rel=REL)
    # A lost event counts in L until it is refused: area 4 (A) + 12 (B) = 16.
    assert s.L == pytest.approx(16 / 8.75, rel=REL)
    assert s.throughput == pytest.approx(3 / 8.75, rel=REL)


def test_case4_losses_after_warmup(case4: Scenario) -> None:
    # Window [4.75, 8.75]: arrivals at B at 5.5 (lost), 6.5, 7.5 (lost), 8.5; B held 1 and 3.
    r = simulate_replication(case4, horizon=8.75, warmup=4.75)
    b = r.stations["B"]
    assert (b.arrivals, b.lost, b.completions, b.present_at_start, b.present_at_end) == (
        4,
        2,
        2,
        2,
        2,
    )
    assert b.loss == 0.5
    # Visits ending in the window: 1 (3.5, wait 1.25) and 3 (3.75, wait 1.5).
    assert (b.W, b.Wq) == (3.625, 1.375)
    # Number at B: [4.75,6) 2 | [6,6.5) 1 | [6.5,8.25) 2 | [8.25,8.5) 1 | [8.5,8.75) 2.
    assert b.L == (2.5 + 0.5 + 3.5 + 0.25 + 0.5) / 4
    assert b.utilization == 1.0
    s = r.system
    # System at 4.75: 1 and 3 (at B); entered 4 (5..8), lost 2 (4 and 6), left 1 and 3.
    assert (s.entered, s.lost, s.completions, s.present_at_start, s.present_at_end) == (
        4,
        2,
        2,
        2,
        2,
    )
    assert s.W == (4.0 + 4.25) / 2


def test_horizon_and_warmup_are_checked(case1: Scenario) -> None:
    with pytest.raises(ValueError, match="warmup"):
        simulate_replication(case1, horizon=5.0, warmup=5.0)
    with pytest.raises(ValueError, match="warmup"):
        simulate_replication(case1, horizon=5.0, warmup=-1.0)


# --------------------------------------------------------------------------------------
# Case 5: waiting before the warm-up ends, none after. One station, one server, service
# 0.3; class x every 1.0 (1, 2, 3, ...), class y every 3.0 (3, 6, ...). At 3.0 both
# arrive: y (its arrival was scheduled at time 0) is served 3.0-3.3, x waits until 3.3
# and leaves at 3.6. In the window [3.55, 5.95] nobody waits: x at 4 and 5 find the
# server free, y's next arrival (6.0) is after the horizon.
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def case5() -> Scenario:
    raw = {
        "stations": {"a": {"servers": 1, "service": det(0.3)}},
        "classes": {
            "x": {"arrivals": {"process": "renewal", "interarrival": det(1.0)}},
            "y": {"arrivals": {"process": "renewal", "interarrival": det(3.0)}},
        },
        "run": {"horizon": 10.0, "warmup": "none", "replications": 1},
    }
    return scenario_from_dict(raw, name="two-classes")


def test_case5_two_classes_at_one_station(case5: Scenario) -> None:
    r = simulate_replication(case5, horizon=5.95, warmup=3.55, trace=True)
    assert [row for row in rows(r) if 2.5 < row[0] < 3.7] == [
        (3.0, "enter", 2, None),  # y's first arrival: scheduled at 0, before x's (at 2)
        (3.0, "arrive", 2, "a"),
        (3.0, "start", 2, "a"),
        (3.0, "enter", 3, None),
        (3.0, "arrive", 3, "a"),
        (pytest.approx(3.3, rel=REL), "depart", 2, "a"),
        (pytest.approx(3.3, rel=REL), "exit", 2, None),
        (pytest.approx(3.3, rel=REL), "start", 3, "a"),
        (pytest.approx(3.6, rel=REL), "depart", 3, "a"),
        (pytest.approx(3.6, rel=REL), "exit", 3, None),
    ]
    classes = {record.event: record.event_class for record in r.trace or ()}
    assert [classes[event] for event in range(6)] == ["x", "x", "y", "x", "x", "x"]
    a = r.stations["a"]
    # In the window: 0.05 (x, 3.55-3.6) + 0.3 (x at 4) + 0.3 (x at 5) present and busy.
    assert a.L == pytest.approx(0.65 / 2.4, rel=REL)
    assert a.utilization == pytest.approx(0.65 / 2.4, rel=REL)
    assert a.Lq == pytest.approx(0.0, abs=1e-12)
    # Visits ending in the window: x (W 0.6, Wq 0.3), x at 4 and at 5 (0.3, 0).
    assert a.W == pytest.approx(1.2 / 3, rel=REL)
    assert a.Wq == pytest.approx(0.3 / 3, rel=REL)
    assert (a.arrivals, a.completions, a.present_at_start, a.present_at_end) == (2, 3, 1, 0)
    assert r.classes["y"].completions == 0
    assert r.classes["x"].completions == 3
    assert r.classes["x"].W == pytest.approx(1.2 / 3, rel=REL)


def test_case5_no_waiting_after_warmup_gives_lq_exactly_zero(case5: Scenario) -> None:
    # Regression: Lq once came out as Δarea_present − Δarea_busy of running totals,
    # which rounding left at -9.25e-17 here.
    a = simulate_replication(case5, horizon=5.95, warmup=3.55).stations["a"]
    assert a.Lq >= 0.0
    assert a.Lq == 0.0


def test_busy_throughout_the_window_gives_utilization_exactly_one() -> None:
    # Regression: a difference of running totals once gave 1.0000000000000002 here.
    # One server, service 0.3, an arrival every 0.2 (ρ = 1.5): busy without a break from
    # the first arrival (0.2) on, so over [3.3, 11.3] the utilisation is 1.
    raw = {
        "stations": {"a": {"servers": 1, "service": det(0.3)}},
        "arrivals": {"process": "renewal", "interarrival": det(0.2)},
    }
    scenario = scenario_from_dict(raw, allow_unstable=True)
    a = simulate_replication(scenario, horizon=11.3, warmup=3.3).stations["a"]
    assert a.utilization <= 1.0
    assert a.utilization == 1.0
