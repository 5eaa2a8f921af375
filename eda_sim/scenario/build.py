"""Building a scenario from its document, checking everything the schema cannot (layer 2).

:func:`build_scenario` takes a schema-valid :class:`ScenarioDocument` and checks
that every station named in arrivals, routing, fan-out and service overrides
exists, that routing rows are probabilities summing to at most one, that every
event can eventually leave and fan-out makes finitely many copies, that no
``on_full: block`` chain can deadlock, that trace files read, that no station with
unlimited capacity is offered a load ρ >= 1, and that the warm-up ends before
the horizon. Every fault found is collected, so one run of ``eda-sim validate``
lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from eda_sim import distributions as dists
from eda_sim.errors import Fault, ScenarioError, UnstableError
from eda_sim.routing import (
    ROUTING_TOLERANCE,
    Routing,
    check_probabilities,
    copies_radius,
    trapped_stations,
)
from eda_sim.scenario import schema
from eda_sim.scenario.messages import suggest
from eda_sim.scenario.model import (
    DEFAULT_CLASS,
    ArrivalProcess,
    EventClass,
    Scenario,
    Station,
    check_run,
    raise_if,
    run_settings,
)
from eda_sim.traces import read_trace

__all__ = ["build_distribution", "build_scenario"]


def build_distribution(spec: schema.DistributionSpec, base_dir: Path | None) -> dists.Distribution:
    """Turn a distribution spec from the file into a distribution object.

    Raises
    ------
    ScenarioError
        With fault paths relative to the spec (``cv``, ``file``, ...).
    """
    match spec:
        case schema.ExponentialSpec(rate=rate, mean=mean):
            return (
                dists.Exponential(rate)
                if rate is not None
                else dists.Exponential.from_mean(_given(mean))
            )
        case schema.DeterministicSpec(value=value):
            return dists.Deterministic(value)
        case schema.ErlangSpec(k=k, rate=rate, mean=mean, cv=cv):
            if cv is not None:
                return dists.Erlang.from_mean_cv(_given(mean), cv)
            if rate is not None:
                return dists.Erlang(_given(k), rate)
            return dists.Erlang.from_mean(_given(k), _given(mean))
        case schema.GammaSpec(shape=shape, rate=rate, mean=mean, cv=cv):
            if cv is not None:
                return dists.Gamma.from_mean_cv(_given(mean), cv)
            shape = _given(shape)
            return dists.Gamma(shape, rate if rate is not None else shape / _given(mean))
        case schema.LognormalSpec(mean=mean, cv=cv, mu=mu, sigma=sigma):
            if mean is not None:
                return dists.Lognormal.from_mean_cv(mean, _given(cv))
            return dists.Lognormal(_given(mu), _given(sigma))
        case schema.HyperexponentialSpec(probs=probs, rates=rates, mean=mean, cv=cv):
            if mean is not None:
                return dists.Hyperexponential.from_mean_cv(mean, _given(cv))
            return dists.Hyperexponential(tuple(_given(probs)), tuple(_given(rates)))
        case schema.UniformSpec(low=low, high=high):
            return dists.Uniform(low, high)
        case schema.EmpiricalSpec(values=values, file=file):
            if values is not None:
                return dists.Empirical(tuple(values))
            path = Path(_given(file))
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            return dists.Empirical.from_csv(path)
    raise TypeError(f"unknown distribution spec {spec!r}")  # pragma: no cover


_T = TypeVar("_T")


def _given(value: _T | None) -> _T:
    """Narrow a field the schema guarantees is set in this form."""
    if value is None:  # pragma: no cover - excluded by the schema's validators
        raise TypeError("schema invariant broken: a required parameter is missing")
    return value


def _distribution(
    spec: schema.DistributionSpec, path: str, base_dir: Path | None, faults: list[Fault]
) -> dists.Distribution | None:
    try:
        return build_distribution(spec, base_dir)
    except ScenarioError as error:
        faults.extend(error.prefixed(path).faults)
    except (ArithmeticError, ValueError, OSError) as error:  # float limits, odd file names
        file = getattr(spec, "file", None)
        where, what = (f"{path}.file", f"{file!r} ") if file is not None else (path, "")
        faults.append(Fault(where, f"{what}cannot be used: {error}"))
    return None


def _unknown_station(path: str, name: str, stations: Sequence[str]) -> Fault:
    return Fault(
        path, f"unknown station {name!r}{suggest(name, stations)} (stations: {', '.join(stations)})"
    )


def _entry_vector(
    spec: schema.EntrySpec | None, path: str, stations: Sequence[str], faults: list[Fault]
) -> np.ndarray | None:
    entry = np.zeros(len(stations))
    if spec is None:
        entry[0] = 1.0
        return entry
    if isinstance(spec, str):
        if spec not in stations:
            faults.append(_unknown_station(path, spec, stations))
            return None
        entry[stations.index(spec)] = 1.0
        return entry
    ok = True
    for name, probability in spec.items():
        if name not in stations:
            faults.append(_unknown_station(f"{path}.{name}", name, stations))
            ok = False
        else:
            entry[stations.index(name)] = probability
    total = float(entry.sum())
    if ok and abs(total - 1) > ROUTING_TOLERANCE:
        faults.append(Fault(path, f"probabilities sum to {total:.12g} (must be 1)"))
        ok = False
    return entry if ok else None


def _routing(
    spec: schema.RoutingSpec | None, path: str, stations: Sequence[str], faults: list[Fault]
) -> tuple[np.ndarray, tuple[tuple[int, ...], ...]] | None:
    """The routing matrix and fan-out lists of one class, or None after recording faults."""
    n = len(stations)
    fanout: list[tuple[int, ...]] = [() for _ in stations]
    if spec is None:
        return np.zeros((n, n)), tuple(fanout)
    if isinstance(spec, list):
        if len(spec) != n or any(len(row) != n for row in spec):
            shape = f"{len(spec)} rows of lengths {[len(row) for row in spec]}"
            faults.append(
                Fault(
                    path,
                    f"must be a {n}x{n} matrix in station order "
                    f"({', '.join(stations)}), got {shape}",
                )
            )
            return None
        matrix = np.array(spec, dtype=float)
    else:
        matrix = np.zeros((n, n))
        ok = True
        for origin, row in spec.items():
            if origin not in stations:
                faults.append(_unknown_station(f"{path}.{origin}", origin, stations))
                ok = False
                continue
            for target, value in row.items():
                where = f"{path}.{origin}.{target}"
                if target == schema.FANOUT_KEY:
                    if not isinstance(value, list):
                        faults.append(Fault(where, f"must be a list of stations, got {value!r}"))
                        ok = False
                        continue
                    unknown = [name for name in value if name not in stations]
                    for name in unknown:
                        faults.append(_unknown_station(where, name, stations))
                    if len(set(value)) != len(value):
                        faults.append(Fault(where, f"lists a station twice: {value}"))
                        ok = False
                    ok = ok and not unknown
                    if not unknown:
                        fanout[stations.index(origin)] = tuple(stations.index(v) for v in value)
                elif isinstance(value, list):
                    faults.append(
                        Fault(
                            where,
                            f"must be a probability, got a list (only "
                            f"{schema.FANOUT_KEY!r} takes a list of stations)",
                        )
                    )
                    ok = False
                elif target not in stations:
                    faults.append(_unknown_station(where, target, stations))
                    ok = False
                else:
                    matrix[stations.index(origin), stations.index(target)] = value
        if not ok:  # still check the rows that name known stations
            faults.extend(fault.prefixed(path) for fault in check_probabilities(matrix, stations))
            return None
    row_faults = [fault.prefixed(path) for fault in check_probabilities(matrix, stations)]
    if row_faults:
        faults.extend(row_faults)
        return None
    trapped = trapped_stations(matrix)
    if trapped:
        names = ", ".join(stations[i] for i in trapped)
        faults.append(
            Fault(
                path,
                f"no event can ever leave from {names}: the routing loops "
                "without an exit (some row must sum to < 1)",
            )
        )
        return None
    if any(fanout):
        radius = copies_radius(matrix, fanout)
        if radius >= 1 - ROUTING_TOLERANCE:
            faults.append(
                Fault(
                    path,
                    "fan-out makes the expected number of copies of an event infinite "
                    f"(spectral radius of routing + fan-out = {radius:.4g}, must be < 1)",
                )
            )
            return None
    return matrix, tuple(fanout)


def _arrival_process(
    spec: schema.ArrivalSpec,
    path: str,
    class_name: str,
    base_dir: Path | None,
    faults: list[Fault],
) -> ArrivalProcess | None:
    if isinstance(spec, schema.PoissonSpec):
        try:
            return ArrivalProcess("poisson", dists.Exponential(spec.rate))
        except ScenarioError as error:
            faults.extend(Fault(f"{path}.rate", fault.message) for fault in error.faults)
            return None
    if isinstance(spec, schema.RenewalSpec):
        gaps = _distribution(spec.interarrival, f"{path}.interarrival", base_dir, faults)
        return ArrivalProcess("renewal", gaps) if gaps is not None else None
    file = Path(spec.file)
    if not file.is_absolute() and base_dir is not None:
        file = base_dir / file
    try:
        trace = read_trace(file, time_column=spec.time_column, type_column=spec.type_column)
        wanted = spec.type
        if wanted is None and trace.types is not None and class_name in trace.types_present:
            wanted = class_name
        if wanted is not None:
            if trace.types is None:
                raise ScenarioError(Fault("type", f"{file}: the trace has no event-type column"))
            trace = trace.select(wanted)
    except ScenarioError as error:
        # The trace reader names its arguments; a scenario file calls them so:
        renamed = {"event_type": "type", "time_column": "time_column", "type_column": "type_column"}
        faults.extend(
            Fault(
                f"{path}.{renamed.get(fault.path, fault.path)}" if fault.path else path,
                fault.message,
            )
            for fault in error.faults
        )
        return None
    except (ValueError, OSError) as error:  # e.g. a NUL byte in the file name
        faults.append(Fault(f"{path}.file", f"{spec.file!r} cannot be read: {error}"))
        return None
    if not trace.times[-1] > 0:
        faults.append(Fault(f"{path}.file", f"{file}: the events must spread over time"))
        return None
    return ArrivalProcess("trace", times=trace.times)


def _blocking_faults(stations: Sequence[Station], classes: Sequence[EventClass]) -> list[Fault]:
    """Refuse fan-out into blocking stations and blocking chains that can deadlock.

    A handler blocked on a full station keeps its server; if the stations that
    block each other form a cycle, all of them can be full and blocked at once.
    """
    faults: list[Fault] = []
    blocking = [station.on_full == "block" for station in stations]
    n = len(stations)
    edges = np.zeros((n, n), dtype=bool)
    for event_class in classes:
        edges |= (event_class.routing.matrix > 0) & np.array(blocking)[None, :]
        for origin, targets in enumerate(event_class.routing.fanout):
            for target in targets:
                if blocking[target]:
                    faults.append(
                        Fault(
                            f"stations.{stations[target].name}.on_full",
                            f"block cannot take fan-out copies (from {stations[origin].name}); "
                            "use on_full: lose or a larger capacity",
                        )
                    )
    # A cycle among blocking edges: some station reaches itself.
    reach = edges.copy()
    for _ in range(n):
        reach = reach | ((reach.astype(int) @ edges.astype(int)) > 0)
    for index in range(n):
        if reach[index, index] and blocking[index]:
            cycle = [stations[j].name for j in range(n) if reach[index, j] and reach[j, index]]
            faults.append(
                Fault(
                    f"stations.{stations[index].name}.on_full",
                    f"block can deadlock: blocking cycle through {', '.join(cycle)}",
                )
            )
    return faults


def _stability_faults(scenario: Scenario) -> list[Fault]:
    listing = ", ".join(
        f"{name}={rho:.4g}"
        for name, rho in zip(scenario.station_names, scenario.offered_load(), strict=True)
    )
    return [
        Fault(
            f"stations.{name}",
            f"offered load ρ = {rho:.4g} >= 1 with unlimited capacity: its queue grows "
            f"without bound (ρ per station: {listing}; --allow-unstable runs it anyway)",
        )
        for name, rho in scenario.unstable_stations()
    ]


def build_scenario(
    document: schema.ScenarioDocument,
    *,
    name: str = "scenario",
    base_dir: Path | None = None,
    allow_unstable: bool = False,
) -> Scenario:
    """Check a schema-valid document and build the immutable :class:`Scenario`.

    Parameters
    ----------
    document : ScenarioDocument
        The parsed file.
    name : str
        Used when the document has no ``name`` (the loader passes the file's stem).
    base_dir : pathlib.Path, optional
        Directory that relative file references (empirical data) are resolved against.
    allow_unstable : bool
        Accept stations with unlimited capacity and ρ >= 1.

    Raises
    ------
    ScenarioError
        Listing every fault found; :class:`UnstableError` when the only faults are
        unstable stations.
    """
    faults: list[Fault] = []
    names = list(document.stations)
    stations: list[Station] = []
    for station_name, spec in document.stations.items():
        path = f"stations.{station_name}"
        if station_name == schema.FANOUT_KEY:
            faults.append(
                Fault(
                    path,
                    f"{schema.FANOUT_KEY!r} is reserved in routing rows; "
                    "give the station another name",
                )
            )
        default_service = _distribution(spec.service, f"{path}.service", base_dir, faults)
        if spec.capacity is not None and spec.capacity < spec.servers:
            faults.append(
                Fault(
                    f"{path}.capacity", f"must be >= servers ({spec.servers}), got {spec.capacity}"
                )
            )
        if spec.on_full == "block" and spec.capacity is None:
            faults.append(
                Fault(
                    f"{path}.on_full",
                    "block needs a capacity (a station without one is never full)",
                )
            )
        if default_service is not None:
            stations.append(
                Station(station_name, spec.servers, default_service, spec.capacity, spec.on_full)
            )

    class_specs: Mapping[str, schema.ClassSpec]
    if document.classes is None:
        assert document.arrivals is not None  # guaranteed by the schema
        class_specs = {
            DEFAULT_CLASS: schema.ClassSpec(arrivals=document.arrivals, routing=document.routing)
        }
        prefix = ""
    else:
        class_specs = document.classes
        prefix = "classes.{}."

    classes: list[EventClass] = []
    for class_name, class_spec in class_specs.items():
        where = prefix.format(class_name)
        arrivals = _arrival_process(
            class_spec.arrivals, f"{where}arrivals", class_name, base_dir, faults
        )
        entry = _entry_vector(class_spec.arrivals.to, f"{where}arrivals.to", names, faults)
        routing = _routing(class_spec.routing, f"{where}routing", names, faults)
        overrides = dict(class_spec.service or {})
        for station_name in overrides:
            if station_name not in names:
                faults.append(
                    _unknown_station(f"{where}service.{station_name}", station_name, names)
                )
        service: list[dists.Distribution] = []
        for station in stations:
            if station.name in overrides:
                override = _distribution(
                    overrides[station.name], f"{where}service.{station.name}", base_dir, faults
                )
                if override is not None:
                    service.append(override)
            else:
                service.append(station.service)
        if (
            arrivals is not None
            and entry is not None
            and routing is not None
            and len(service) == len(names)
        ):
            matrix, fanout = routing
            classes.append(
                EventClass(
                    class_name,
                    arrivals,
                    Routing(tuple(names), matrix, entry, fanout),
                    tuple(service),
                    class_spec.priority,
                )
            )
    if len(stations) == len(names) and len(classes) == len(class_specs):
        faults.extend(_blocking_faults(stations, classes))
    run = run_settings(document.run, classes)
    faults.extend(check_run(run))
    raise_if(faults)

    scenario = Scenario(
        name=document.name or name,
        description=document.description,
        time_unit=document.time_unit,
        stations=tuple(stations),
        classes=tuple(classes),
        run=run,
        document=document,
        base_dir=base_dir,
    )
    if not allow_unstable:
        raise_if(_stability_faults(scenario), UnstableError)
    return scenario
