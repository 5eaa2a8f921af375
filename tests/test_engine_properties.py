"""Property tests of the SimPy engine on random valid networks (hypothesis).

Each example is a small random network: 1-4 stations with 1-3 servers, assorted
service distributions, optional finite buffers, 1-2 event classes with Poisson or
renewal arrivals, and random sub-stochastic routing whose rows sum to at most 0.9
(so every event can leave). Arrival rates are scaled from the traffic equations
so that the busiest station with an unlimited buffer has a load ρ below 0.9 (or,
when every buffer is finite, up to 1.5: overloaded stations then lose events).
Horizons are short (200-400), so each example runs in a few milliseconds.

The properties hold on every sample path, so they are checked exactly (to
floating-point rounding), never statistically:

* conservation of events per station and for the whole system (and each class);
* range checks: 0 <= utilisation <= 1, 0 <= Lq <= L, loss in [0, 1], no loss
  without a capacity;
* Little's law on the sample path, recomputed from the trace;
* reproducibility, and streams keyed by names: an extra unvisited station changes
  nothing else.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import astuple, dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from eda_sim.engine.records import ReplicationResult, StationRecord, SystemRecord, TraceRecord
from eda_sim.engine.simpy_engine import simulate_replication
from eda_sim.scenario import Scenario, scenario_from_dict

REL = 1e-9  # relative tolerance for sample-path identities (floating-point sums)
# Warm-ups are an irrational-looking fraction of the horizon, so that no event time,
# a sum of the drawn parameters, can coincide with the end of the warm-up.
WARMUP_FRACTION = 0.2718281828459045

# A fixed seed and no example database: every run (and CI) checks the same examples.
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROPERTY_SEED = seed(20_260_517)

STATION_NAMES = ("ingest", "enrich", "store", "notify")
CLASS_NAMES = ("orders", "audits")
SERVICE_KINDS = ("exponential", "deterministic", "lognormal", "uniform", "erlang")
GAP_KINDS = ("exponential", "deterministic", "uniform", "erlang", "lognormal")


def dist_spec(kind: str, mean: float, shape: float) -> dict[str, Any]:
    """A distribution of the given family and mean; ``shape`` in [0, 1] sets its spread."""
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind == "deterministic":
        return {"dist": "deterministic", "value": mean}
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": mean, "cv": 0.25 + 1.75 * shape}
    if kind == "uniform":
        half = mean * max(shape, 0.05)  # high must exceed low
        return {"dist": "uniform", "low": mean - half, "high": mean + half}
    if kind == "erlang":
        return {"dist": "erlang", "k": 1 + round(3 * shape), "mean": mean}
    raise AssertionError(kind)


@dataclass(frozen=True)
class Network:
    """A random network: a raw document and its built scenario."""

    raw: dict[str, Any]
    scenario: Scenario
    horizon: float


unit = st.floats(min_value=0.0, max_value=1.0)


def loss_free_load(scenario: Scenario) -> list[float]:
    """ρ per station from the traffic equations without losses (linear in the arrival rates)."""
    load = [0.0] * len(scenario.stations)
    for event_class in scenario.classes:
        rates = event_class.routing.traffic(event_class.arrivals.rate)
        for j, station in enumerate(scenario.stations):
            load[j] += float(rates[j]) * event_class.service[j].mean / station.servers
    return load


@st.composite
def networks(draw: st.DrawFn) -> Network:
    n = draw(st.integers(1, 4))
    names = list(STATION_NAMES[:n])
    stations: dict[str, Any] = {}
    for name in names:
        servers = draw(st.integers(1, 3))
        mean = draw(st.floats(0.2, 2.0))
        spec: dict[str, Any] = {
            "servers": servers,
            "service": dist_spec(draw(st.sampled_from(SERVICE_KINDS)), mean, draw(unit)),
        }
        if draw(st.booleans()):
            spec["capacity"] = servers + draw(st.integers(0, 6))
        stations[name] = spec
    all_finite = all("capacity" in spec for spec in stations.values())

    classes: dict[str, Any] = {}
    gap_choices: dict[str, tuple[str, float]] = {}
    for class_name in CLASS_NAMES[: draw(st.integers(1, 2))]:
        # routing: a random sub-stochastic matrix, each row sums to at most 0.9
        routing: dict[str, dict[str, float]] = {}
        for origin in names:
            if not draw(st.booleans()):
                continue
            row_weights = [draw(st.integers(0, 10)) for _ in names]
            total = sum(row_weights)
            row_sum = draw(st.floats(0.05, 0.9))
            if total > 0:
                row = {
                    t: row_sum * w / total for t, w in zip(names, row_weights, strict=True) if w > 0
                }
                routing[origin] = row
        if draw(st.booleans()):
            entry: Any = draw(st.sampled_from(names))
        else:
            entry_weights = [draw(st.floats(0.1, 1.0)) for _ in names]
            entry = {t: w / sum(entry_weights) for t, w in zip(names, entry_weights, strict=True)}
        spec = {"routing": routing, "arrivals": {"to": entry}}
        if draw(st.booleans()):  # a per-class service time at some station
            station = draw(st.sampled_from(names))
            kind = draw(st.sampled_from(SERVICE_KINDS))
            spec["service"] = {station: dist_spec(kind, draw(st.floats(0.2, 2.0)), draw(unit))}
        gap_choices[class_name] = (
            draw(st.sampled_from(("poisson", *GAP_KINDS))),
            draw(unit),
        )
        spec["weight"] = draw(st.floats(0.2, 1.0))  # relative arrival rate
        classes[class_name] = spec

    def document(rates: dict[str, float]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for class_name, spec in classes.items():
            kind, shape = gap_choices[class_name]
            arrivals: dict[str, Any]
            if kind == "poisson":
                arrivals = {"process": "poisson", "rate": rates[class_name]}
            else:
                gaps = dist_spec(kind, 1.0 / rates[class_name], shape)
                arrivals = {"process": "renewal", "interarrival": gaps}
            arrivals["to"] = spec["arrivals"]["to"]
            body = {"arrivals": arrivals, "routing": spec["routing"]}
            if "service" in spec:
                body["service"] = spec["service"]
            out[class_name] = body
        return {
            "stations": stations,
            "classes": out,
            "run": {"horizon": 300.0, "warmup": "none", "replications": 1, "seed": 11},
        }

    # Scale the arrival rates from the loss-free traffic equations: that ρ is linear in the
    # rates (the offered load after losses upstream is not), and it bounds the carried load.
    class_weights = {name: spec["weight"] for name, spec in classes.items()}
    probe = scenario_from_dict(document(class_weights), allow_unstable=True)
    peak = max(float(rho) for rho in loss_free_load(probe))
    target = draw(st.floats(0.3, 1.5 if all_finite else 0.88))
    rates = {name: w * target / peak for name, w in class_weights.items()}
    raw = document(rates)
    scenario = scenario_from_dict(raw, name="random")  # stable, or every buffer finite
    assert max(loss_free_load(scenario)) == pytest.approx(target, rel=1e-9)
    horizon = draw(st.sampled_from((200.0, 300.0, 400.0)))
    return Network(raw, scenario, horizon)


# ------------------------------------------------------------------------ helpers


def station_conserves(record: StationRecord) -> bool:
    return (
        record.present_at_start + record.arrivals
        == record.completions + record.lost + record.present_at_end
    )


def system_conserves(record: SystemRecord) -> bool:
    return (
        record.present_at_start + record.entered
        == record.completions + record.lost + record.present_at_end
    )


def same(a: object, b: object) -> bool:
    """Field-by-field equality of two records, NaN equal to NaN."""
    fa, fb = astuple(a), astuple(b)  # type: ignore[call-overload]
    return len(fa) == len(fb) and all(
        x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
        for x, y in zip(fa, fb, strict=True)
    )


def same_results(a: ReplicationResult, b: ReplicationResult, stations: list[str]) -> bool:
    return (
        all(same(a.stations[name], b.stations[name]) for name in stations)
        and same(a.system, b.system)
        and a.classes.keys() == b.classes.keys()
        and all(same(a.classes[k], b.classes[k]) for k in a.classes)
    )


@dataclass
class Visit:
    arrive: float
    start: float | None = None
    depart: float | None = None


@dataclass
class Stay:
    enter: float
    leave: float | None = None  # exit or loss
    exited: bool = False
    event_class: str = ""


def parse_trace(
    trace: tuple[TraceRecord, ...],
) -> tuple[dict[str, list[Visit]], dict[int, Stay], dict[str, int]]:
    """Per station, every admitted visit; per event, its stay in the system; losses."""
    visits: dict[str, list[Visit]] = defaultdict(list)
    current: dict[int, Visit] = {}
    stays: dict[int, Stay] = {}
    lost: dict[str, int] = defaultdict(int)
    last_time = -math.inf
    for record in trace:
        assert record.time >= last_time, "trace out of time order"
        last_time = record.time
        if record.kind == "enter":
            assert record.event not in stays
            stays[record.event] = Stay(record.time, event_class=record.event_class)
        elif record.kind == "arrive":
            assert record.station is not None and record.event not in current
            visit = Visit(record.time)
            current[record.event] = visit
            visits[record.station].append(visit)
        elif record.kind == "start":
            visit = current[record.event]
            assert visit.start is None
            visit.start = record.time
        elif record.kind == "depart":
            visit = current.pop(record.event)
            assert visit.start is not None
            visit.depart = record.time
        elif record.kind == "lost":
            assert record.station is not None and record.event not in current
            lost[record.station] += 1
            stays[record.event].leave = record.time
        elif record.kind == "exit":
            assert record.event not in current
            stays[record.event].leave = record.time
            stays[record.event].exited = True
        else:
            raise AssertionError(f"unknown trace kind {record.kind!r}")
    return visits, stays, lost


def overlap(begin: float, end: float | None, window: tuple[float, float]) -> float:
    low, high = window
    end = high if end is None else min(end, high)
    return max(0.0, end - max(begin, low))


def close(actual: float, expected: float) -> bool:
    return actual == pytest.approx(expected, rel=REL, abs=1e-12)


# ------------------------------------------------------------------------ properties


@PROPERTY_SEED
@PROPERTY_SETTINGS
@given(net=networks(), with_warmup=st.booleans())
def test_conservation_and_ranges(net: Network, with_warmup: bool) -> None:
    warmup = WARMUP_FRACTION * net.horizon if with_warmup else 0.0
    result = simulate_replication(net.scenario, horizon=net.horizon, warmup=warmup)
    assert result.stations.keys() == set(net.scenario.station_names)
    span = net.horizon - warmup
    for station in net.scenario.stations:
        rec = result.stations[station.name]
        assert station_conserves(rec), (station.name, rec)
        if not with_warmup:
            assert rec.present_at_start == 0
        # exact bounds: rounding must not push them out either (see test_engine_trace.py::
        # test_busy_throughout_the_window_gives_utilization_exactly_one)
        assert 0.0 <= rec.utilization <= 1.0
        assert 0.0 <= rec.Lq <= rec.L
        assert rec.L >= 0.0
        # L - Lq is the mean number of busy servers: at most servers, and = c × utilisation
        assert close(rec.L - rec.Lq, station.servers * rec.utilization)
        assert 0.0 <= rec.loss <= 1.0
        if station.capacity is None:
            assert rec.lost == 0
            assert rec.loss == 0.0
        else:
            assert rec.present_at_end <= station.capacity
        assert rec.loss == (rec.lost / rec.arrivals if rec.arrivals else 0.0)
        assert close(rec.throughput, rec.completions / span)
        if rec.completions:
            assert 0.0 <= rec.Wq <= rec.W
        else:
            assert math.isnan(rec.W) and math.isnan(rec.Wq)
    system = result.system
    assert system_conserves(system), system
    assert 0.0 <= system.loss <= 1.0
    assert close(system.L, sum(rec.L for rec in result.stations.values()))
    assert system.lost == sum(rec.lost for rec in result.stations.values())
    assert result.classes.keys() == set(net.scenario.class_names)
    for class_record in result.classes.values():
        assert system_conserves(class_record), class_record
    for field in ("entered", "completions", "lost", "present_at_start", "present_at_end"):
        assert getattr(system, field) == sum(getattr(c, field) for c in result.classes.values())
    assert close(system.L, sum(c.L for c in result.classes.values()))


@PROPERTY_SEED
@PROPERTY_SETTINGS
@given(net=networks(), with_warmup=st.booleans())
def test_littles_law_on_the_sample_path(net: Network, with_warmup: bool) -> None:
    """Recompute L, Lq, W, Wq, utilisation and the counts from the trace."""
    horizon = net.horizon
    warmup = WARMUP_FRACTION * horizon if with_warmup else 0.0
    window = (warmup, horizon)
    span = horizon - warmup
    result = simulate_replication(net.scenario, horizon=horizon, warmup=warmup, trace=True)
    assert result.trace is not None
    visits, stays, lost = parse_trace(result.trace)

    for station in net.scenario.stations:
        rec = result.stations[station.name]
        mine = visits.get(station.name, [])
        time_present = sum(overlap(v.arrive, v.depart, window) for v in mine)
        time_waiting = sum(overlap(v.arrive, v.start, window) for v in mine)
        busy = sum(overlap(v.start, v.depart, window) for v in mine if v.start is not None)
        # (arrive, start, depart) of the visits that ended in the window
        ended = [
            (v.arrive, v.start, v.depart)
            for v in mine
            if v.start is not None and v.depart is not None and v.depart >= warmup
        ]
        assert close(rec.L * span, time_present)
        assert close(rec.Lq * span, time_waiting)
        assert close(rec.utilization * station.servers * span, busy)
        assert rec.completions == len(ended)
        if ended:
            assert close(rec.W, sum(end - arrive for arrive, _, end in ended) / len(ended))
            assert close(rec.Wq, sum(start - arrive for arrive, start, _ in ended) / len(ended))
        admitted = sum(1 for v in mine if v.arrive >= warmup)
        assert rec.arrivals - rec.lost == admitted
        assert rec.present_at_end == sum(1 for v in mine if v.depart is None)
        if not with_warmup:
            assert rec.lost == lost.get(station.name, 0)
        # Little's law on the sample path, with the boundary terms:
        # (time present) = Σ sojourns of visits ending in the window - the parts
        # before the window + the time of the visits still present at the horizon.
        inside = sum(horizon - max(v.arrive, warmup) for v in mine if v.depart is None)
        before = sum(warmup - arrive for arrive, _, _ in ended if arrive < warmup)
        if ended:
            assert close(rec.L * span, rec.W * rec.completions - before + inside)

    def check_system(rec: SystemRecord, event_class: str | None) -> None:
        mine = [s for s in stays.values() if event_class is None or s.event_class == event_class]
        assert close(rec.L * span, sum(overlap(s.enter, s.leave, window) for s in mine))
        exits = [
            s.leave - s.enter
            for s in mine
            if s.exited and s.leave is not None and s.leave >= warmup
        ]
        assert rec.completions == len(exits)
        if exits:
            assert close(rec.W, sum(exits) / len(exits))
        else:
            assert math.isnan(rec.W)
        assert rec.entered == sum(1 for s in mine if s.enter >= warmup)
        assert rec.present_at_end == sum(1 for s in mine if s.leave is None)
        assert close(rec.throughput, len(exits) / span)

    check_system(result.system, None)
    for class_name, class_record in result.classes.items():
        check_system(class_record, class_name)


@PROPERTY_SEED
@PROPERTY_SETTINGS
@given(net=networks())
def test_reproducible_and_replications_differ(net: Network) -> None:
    names = list(net.scenario.station_names)
    first = simulate_replication(net.scenario, replication=1, horizon=net.horizon, trace=True)
    again = simulate_replication(net.scenario, replication=1, horizon=net.horizon, trace=True)
    assert same_results(first, again, names)
    assert first.trace == again.trace
    # The scenario's seed is the default seed.
    explicit = simulate_replication(
        net.scenario, replication=1, horizon=net.horizon, seed=net.scenario.run.seed
    )
    assert same_results(first, explicit, names)
    if is_random(net.scenario):
        other_replication = simulate_replication(net.scenario, replication=2, horizon=net.horizon)
        other_seed = simulate_replication(
            net.scenario, replication=1, horizon=net.horizon, seed=net.scenario.run.seed + 1
        )
        assert not same_results(first, other_replication, names)
        assert not same_results(first, other_seed, names)


def is_random(scenario: Scenario) -> bool:
    """Whether anything on the sample path is drawn at random."""
    for event_class in scenario.classes:
        routing = event_class.routing
        visited = routing.visit_ratios > 0
        if event_class.arrivals.interarrival.var > 0:
            return True
        if ((routing.entry > 0) & (routing.entry < 1)).any():
            return True
        rows = routing.matrix[visited]  # only the rows of stations events reach matter
        exits = routing.exit_probabilities[visited]
        if ((rows > 0) & (rows < 1)).any() or ((exits > 0) & (exits < 1)).any():
            return True
        if any(d.var > 0 for d, v in zip(event_class.service, visited, strict=True) if v):
            return True
    return False


@PROPERTY_SEED
@PROPERTY_SETTINGS
@given(net=networks(), position=st.integers(0, 4), with_warmup=st.booleans())
def test_unvisited_station_changes_nothing(net: Network, position: int, with_warmup: bool) -> None:
    """Streams are keyed by names: a station nobody visits, anywhere in the order, is inert."""
    items = list(net.raw["stations"].items())
    position = min(position, len(items))
    extra = ("spare", {"servers": 2, "service": {"dist": "exponential", "mean": 0.5}})
    items.insert(position, extra)
    raw = {**net.raw, "stations": dict(items)}
    bigger = scenario_from_dict(raw, name="random")
    assert bigger.station_names.index("spare") == position
    warmup = WARMUP_FRACTION * net.horizon if with_warmup else 0.0
    base = simulate_replication(net.scenario, horizon=net.horizon, warmup=warmup, trace=True)
    more = simulate_replication(bigger, horizon=net.horizon, warmup=warmup, trace=True)
    names = list(net.scenario.station_names)
    assert same_results(base, more, names)
    assert base.trace == more.trace
    spare = more.stations["spare"]
    assert (spare.arrivals, spare.completions, spare.L, spare.utilization) == (0, 0, 0.0, 0.0)
