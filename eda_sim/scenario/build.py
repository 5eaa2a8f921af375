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

from eda_sim import distributions as dists
from eda_sim.errors import Fault, UnstableError
from eda_sim.routing import Routing
from eda_sim.scenario import schema
from eda_sim.scenario.build_parts import (
    arrival_part,
    build_distribution,
    distribution_part,
    station_part,
)
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
from eda_sim.scenario.parts import ClassParts, DocumentParts, Malformed
from eda_sim.scenario.routes import (
    Routes,
    blocking_faults,
    entry_vector,
    routing_matrix,
    unknown_station,
)
from eda_sim.scenario.slo import Slo, slo_faults

__all__ = ["build_distribution", "build_scenario", "check_parts"]


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


def _check(parts: DocumentParts, base_dir: Path | None) -> _Checked:
    """Run every check past the schema on the well-formed parts of a document.

    A check that needs a MALFORMED part is skipped (the schema has reported that
    part), so each fault found is independent of the schema's. The faults come in
    a fixed order: stations, then each class (arrivals, entry, routing, service
    overrides), then blocking, then the run settings.
    """
    faults: list[Fault] = []
    names, stations, defaults, blocking = _check_stations(parts, base_dir, faults)
    classes: list[EventClass] = []
    routes: list[Routes] = []
    arrivals: list[ArrivalProcess] = []
    traces_known = not isinstance(parts.classes, Malformed)  # where every trace ends
    class_parts = {} if isinstance(parts.classes, Malformed) else parts.classes
    for class_name, part in class_parts.items():
        process, routing, event_class = _check_class(
            class_name, part, parts.single_class, names, defaults, base_dir, faults
        )
        if process is not None:
            arrivals.append(process)
        elif not isinstance(part.arrivals, schema.PoissonSpec | schema.RenewalSpec):
            traces_known = False
        if routing is not None:
            routes.append(routing)
        if event_class is not None:
            classes.append(event_class)
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


def _check_stations(
    parts: DocumentParts, base_dir: Path | None, faults: list[Fault]
) -> tuple[list[str] | None, list[Station], dict[str, dists.Distribution], list[bool]]:
    """Check the stations: their names, the stations built, services, which ones block.

    The names are None when the section is malformed; the services are those of the
    stations built; ``blocking`` says of each station whether it blocks when full.
    """
    names: list[str] | None = None
    stations: list[Station] = []
    defaults: dict[str, dists.Distribution] = {}  # each built station's service
    blocking: list[bool] = []
    if isinstance(parts.stations, Malformed):
        return names, stations, defaults, blocking
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
        station = station_part(station_name, spec, base_dir, faults)
        if station is not None:
            stations.append(station)
            defaults[station_name] = station.service
    return names, stations, defaults, blocking


def _check_class(
    class_name: str,
    part: ClassParts,
    single_class: bool,
    names: list[str] | None,
    defaults: dict[str, dists.Distribution],
    base_dir: Path | None,
    faults: list[Fault],
) -> tuple[ArrivalProcess | None, Routes | None, EventClass | None]:
    """One class's arrivals, routing and the event class, each None where it has a fault."""
    where = "" if single_class else f"classes.{class_name}."
    if not single_class and not class_name.strip():
        faults.append(
            Fault(f"classes.{class_name!r}", f"an event class needs a name, got {class_name!r}")
        )
    process = None
    if not isinstance(part.arrivals, Malformed):
        process = arrival_part(part.arrivals, f"{where}arrivals", class_name, base_dir, faults)
    entry = routing = None
    if names is not None and not isinstance(part.to, Malformed):
        entry = entry_vector(part.to, f"{where}arrivals.to", names, faults)
    if names is not None and not isinstance(part.routing, Malformed):
        routing = routing_matrix(part.routing, f"{where}routing", names, faults)
    service = _class_service(part, where, names, defaults, base_dir, faults)
    if (
        names is None
        or process is None
        or entry is None
        or routing is None
        or isinstance(part.service, Malformed)
        or not all(station_name in service for station_name in names)
    ):
        return process, routing, None
    matrix, fanout = routing
    event_class = EventClass(
        class_name,
        process,
        Routing(tuple(names), matrix, entry, fanout),
        tuple(service[station_name] for station_name in names),
        part.priority,
    )
    return process, routing, event_class


def _class_service(
    part: ClassParts,
    where: str,
    names: list[str] | None,
    defaults: dict[str, dists.Distribution],
    base_dir: Path | None,
    faults: list[Fault],
) -> dict[str, dists.Distribution]:
    """Each station's service time for the class: the station's, or the class's override."""
    service = dict(defaults)
    overrides = {} if isinstance(part.service, Malformed) else part.service
    for station_name, override_spec in overrides.items():
        path = f"{where}service.{station_name}"
        service.pop(station_name, None)
        if names is not None and station_name not in names:
            faults.append(unknown_station(path, station_name, names))
        elif not isinstance(override_spec, Malformed):
            override = distribution_part(override_spec, path, base_dir, faults)
            if override is not None:
                service[station_name] = override
    return service


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
