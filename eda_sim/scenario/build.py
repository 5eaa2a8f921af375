"""Building a scenario from its document, checking everything the schema cannot (layer 2).

:func:`build_scenario` takes a schema-valid :class:`ScenarioDocument` and checks
that every station named in arrivals, routing, fan-out and service overrides
exists, that routing rows are probabilities summing to at most one, that every
event can eventually leave and fan-out makes finitely many copies, that no
``on_full: block`` chain can deadlock, that trace files read, that no station with
unlimited capacity is offered a load ρ >= 1, and that the warm-up ends before
the horizon. Every fault found is collected, so one run of ``eda-sim validate``
lists them all.

The same checks run on a document that failed the schema (:func:`check_parts`),
on those of its parts that passed it (:mod:`eda_sim.scenario.parts`), so a schema
fault does not hide an independent one. A check that needs a malformed part is
skipped; a check that can use whatever is known (blocking cycles among the
routings that built) uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from eda_sim import distributions as dists
from eda_sim.errors import Fault, ScenarioError, UnstableError
from eda_sim.routing import Routing
from eda_sim.scenario import schema
from eda_sim.scenario.model import (
    ArrivalProcess,
    EventClass,
    RunSettings,
    Scenario,
    Station,
    check_run,
    raise_if,
    run_settings,
)
from eda_sim.scenario.parts import DocumentParts, Malformed
from eda_sim.scenario.routes import (
    Routes,
    blocking_faults,
    entry_vector,
    routing_matrix,
    unknown_station,
)
from eda_sim.scenario.slo import Slo, slo_faults

__all__ = ["build_distribution", "build_scenario", "check_parts"]


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
        from eda_sim.traces import read_trace  # only a scenario that replays a trace needs it

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


def _stability_faults(scenario: Scenario) -> list[Fault]:
    listing = ", ".join(
        f"{name}={rho:.4g}"
        for name, rho in zip(scenario.station_names, scenario.carried_load(), strict=True)
    )
    return [
        Fault(
            f"stations.{name}",
            f"offered load ρ = {rho:.4g} >= 1 with unlimited capacity: its queue grows "
            f"without bound (ρ per station, carried after losses upstream: {listing}; "
            "--allow-unstable runs it anyway)",
        )
        for name, rho in scenario.unstable_stations()
    ]


@dataclass(frozen=True)
class _Checked:
    """What :func:`_check` built, and every fault it found."""

    stations: list[Station]
    classes: list[EventClass]
    run: RunSettings | None
    faults: list[Fault]
    slos: list[Slo]


def _station(
    name: str, spec: schema.StationSpec, base_dir: Path | None, faults: list[Fault]
) -> Station | None:
    """One station from its (schema-valid) spec, or None after recording faults."""
    path = f"stations.{name}"
    service = _distribution(spec.service, f"{path}.service", base_dir, faults)
    if spec.capacity is not None and spec.capacity < spec.servers:
        faults.append(
            Fault(f"{path}.capacity", f"must be >= servers ({spec.servers}), got {spec.capacity}")
        )
    if spec.on_full == "block" and spec.capacity is None:
        faults.append(
            Fault(f"{path}.on_full", "block needs a capacity (a station without one is never full)")
        )
    if service is None:
        return None
    return Station(name, spec.servers, service, spec.capacity, spec.on_full)


def _check(parts: DocumentParts, base_dir: Path | None) -> _Checked:
    """Run every check past the schema on the well-formed parts of a document.

    A check that needs a MALFORMED part is skipped (the schema has reported that
    part), so each fault found is independent of the schema's. The faults come in
    a fixed order: stations, then each class (arrivals, entry, routing, service
    overrides), then blocking, then the run settings.
    """
    faults: list[Fault] = []
    names: list[str] | None = None
    stations: list[Station] = []
    defaults: dict[str, dists.Distribution] = {}  # each built station's service
    blocking: list[bool] = []
    if not isinstance(parts.stations, Malformed):
        names = list(parts.stations)
        for station_name, spec in parts.stations.items():
            if not station_name.strip():
                faults.append(
                    Fault(
                        f"stations.{station_name!r}",
                        f"a station needs a name, got {station_name!r}",
                    )
                )
            if station_name == schema.FANOUT_KEY:
                faults.append(
                    Fault(
                        f"stations.{station_name}",
                        f"{schema.FANOUT_KEY!r} is reserved in routing rows; "
                        "give the station another name",
                    )
                )
            blocking.append(not isinstance(spec, Malformed) and spec.on_full == "block")
            if isinstance(spec, Malformed):  # the schema said why
                continue
            station = _station(station_name, spec, base_dir, faults)
            if station is not None:
                stations.append(station)
                defaults[station_name] = station.service

    classes: list[EventClass] = []
    routes: list[Routes] = []
    arrivals: list[ArrivalProcess] = []
    traces_known = not isinstance(parts.classes, Malformed)  # where every trace ends
    class_parts = {} if isinstance(parts.classes, Malformed) else parts.classes
    for class_name, part in class_parts.items():
        where = "" if parts.single_class else f"classes.{class_name}."
        if not parts.single_class and not class_name.strip():
            faults.append(
                Fault(f"classes.{class_name!r}", f"an event class needs a name, got {class_name!r}")
            )
        process = None
        if not isinstance(part.arrivals, Malformed):
            process = _arrival_process(
                part.arrivals, f"{where}arrivals", class_name, base_dir, faults
            )
        if process is not None:
            arrivals.append(process)
        elif not isinstance(part.arrivals, schema.PoissonSpec | schema.RenewalSpec):
            traces_known = False
        entry = routing = None
        if names is not None and not isinstance(part.to, Malformed):
            entry = entry_vector(part.to, f"{where}arrivals.to", names, faults)
        if names is not None and not isinstance(part.routing, Malformed):
            routing = routing_matrix(part.routing, f"{where}routing", names, faults)
            if routing is not None:
                routes.append(routing)
        service = dict(defaults)
        overrides = {} if isinstance(part.service, Malformed) else part.service
        for station_name, override_spec in overrides.items():
            path = f"{where}service.{station_name}"
            service.pop(station_name, None)
            if names is not None and station_name not in names:
                faults.append(unknown_station(path, station_name, names))
            elif not isinstance(override_spec, Malformed):
                override = _distribution(override_spec, path, base_dir, faults)
                if override is not None:
                    service[station_name] = override
        if (
            names is not None
            and process is not None
            and entry is not None
            and routing is not None
            and not isinstance(part.service, Malformed)
            and all(station_name in service for station_name in names)
        ):
            matrix, fanout = routing
            classes.append(
                EventClass(
                    class_name,
                    process,
                    Routing(tuple(names), matrix, entry, fanout),
                    tuple(service[station_name] for station_name in names),
                    part.priority,
                )
            )
    if names is not None:
        faults.extend(blocking_faults(names, blocking, routes))
    run = None
    if parts.run is not None and ("horizon" in parts.run.model_fields_set or traces_known):
        run = run_settings(parts.run, arrivals)
        faults.extend(check_run(run))
    slos: list[Slo] = []
    if names is not None and not isinstance(parts.classes, Malformed):
        slos, slo_problems = slo_faults(
            [None if isinstance(s, Malformed) else (s.target, s.max, s.min) for s in parts.slo],
            names,
            None if parts.single_class else list(parts.classes),
            parts.levels,
            any(blocking),
        )
        faults.extend(slo_problems)
    return _Checked(stations, classes, run, faults, slos)


def check_parts(parts: DocumentParts, *, base_dir: Path | None = None) -> list[Fault]:
    """The faults past the schema in the well-formed parts of a document that failed it.

    Parameters
    ----------
    parts : DocumentParts
        From :func:`~eda_sim.scenario.parts.well_formed_parts`.
    base_dir : pathlib.Path, optional
        Directory that relative file references are resolved against.

    Returns
    -------
    list of Fault
        Unknown stations, row sums, loops, files that do not read, blocking
        cycles, warm-up >= horizon: every fault :func:`build_scenario` would find
        that needs no malformed part (never the load ρ, which needs them all).
    """
    return _check(parts, base_dir).faults


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
    checked = _check(DocumentParts.of(document), base_dir)
    raise_if(checked.faults)
    assert checked.run is not None  # known once every part is, and no fault was found

    scenario = Scenario(
        name=document.name or name,
        description=document.description,
        time_unit=document.time_unit,
        stations=tuple(checked.stations),
        classes=tuple(checked.classes),
        run=checked.run,
        document=document,
        base_dir=base_dir,
        slos=tuple(checked.slos),
    )
    if not allow_unstable:
        raise_if(_stability_faults(scenario), UnstableError)
    return scenario
