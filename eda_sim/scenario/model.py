"""The validated, immutable scenario that engines and formulas use (layer 2).

:func:`build_scenario` takes a schema-valid :class:`ScenarioDocument` and checks
what the schema cannot: that every station named in arrivals, routing and
service overrides exists, that routing rows are probabilities summing to at most
one, that every event can eventually leave, that no station with unlimited
capacity is offered a load ρ >= 1, and that the warm-up ends before the horizon.
Every fault found is collected, so one run of ``eda-sim validate`` lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
from pydantic import ValidationError

from eda_sim import distributions as dists
from eda_sim.errors import Fault, ScenarioError, UnstableError
from eda_sim.routing import ROUTING_TOLERANCE, Routing, check_probabilities, trapped_stations
from eda_sim.scenario import schema
from eda_sim.scenario.messages import describe_value, faults_from_validation, suggest

__all__ = [
    "DEFAULT_CLASS",
    "ArrivalProcess",
    "EventClass",
    "RunSettings",
    "Scenario",
    "Station",
    "build_scenario",
]

#: The name of the single event class of a scenario written without ``classes:``.
DEFAULT_CLASS = "events"

WarmupSetting = Literal["auto", "none"] | float


@dataclass(frozen=True)
class Station:
    """A handler station: ``servers`` parallel servers, FIFO, at most ``capacity`` present."""

    name: str
    servers: int
    service: dists.Distribution
    capacity: int | None = None


@dataclass(frozen=True)
class ArrivalProcess:
    """External arrivals of one event class: Poisson or renewal gaps."""

    kind: Literal["poisson", "renewal"]
    interarrival: dists.Distribution

    @property
    def rate(self) -> float:
        """Mean number of arrivals per time unit."""
        return 1.0 / self.interarrival.mean

    @property
    def scv(self) -> float:
        """Squared coefficient of variation of the gaps (1 for Poisson)."""
        return self.interarrival.scv


@dataclass(frozen=True)
class EventClass:
    """One event type: arrivals, routing, and service time at each station (station order)."""

    name: str
    arrivals: ArrivalProcess
    routing: Routing
    service: tuple[dists.Distribution, ...]


@dataclass(frozen=True)
class RunSettings:
    """How a scenario is run (from the file's ``run:`` section, overridable on the command line)."""

    horizon: float = 10_000.0
    warmup: WarmupSetting = "auto"
    replications: int = 10
    seed: int = 1
    confidence: float = 0.95
    precision: float | None = None

    @property
    def warmup_time(self) -> float:
        """The warm-up fixed before the run: a given time, or 0 for ``none`` and ``auto``.

        With ``auto`` measurement starts at 0 and MSER-5 picks the warm-up from
        the sample path after the run.
        """
        if self.warmup in ("none", "auto"):
            return 0.0
        return float(self.warmup)


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated scenario: stations, event classes and run settings, immutable.

    Build one with :func:`eda_sim.scenario.load_scenario` (from YAML) or
    :func:`eda_sim.scenario.scenario_from_dict`.
    """

    name: str
    description: str
    time_unit: str
    stations: tuple[Station, ...]
    classes: tuple[EventClass, ...]
    run: RunSettings
    document: schema.ScenarioDocument = field(repr=False)
    base_dir: Path | None = field(default=None, repr=False)

    @property
    def station_names(self) -> tuple[str, ...]:
        """Station names in matrix order."""
        return tuple(station.name for station in self.stations)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Event class names."""
        return tuple(event_class.name for event_class in self.classes)

    @property
    def single_class(self) -> bool:
        """True when the file used the one-class shorthand (top-level ``arrivals``)."""
        return self.document.classes is None

    def arrival_rates(self) -> np.ndarray:
        """Visit rates ``λ[k, i]`` of class ``k`` at station ``i`` (traffic equations)."""
        return np.array([c.routing.traffic(c.arrivals.rate) for c in self.classes])

    def offered_load(self) -> np.ndarray:
        """``ρ_i = Σ_k λ[k, i]·E[S_k,i] / c_i`` per station."""
        means = np.array([[d.mean for d in c.service] for c in self.classes])
        servers = np.array([s.servers for s in self.stations], dtype=float)
        return np.asarray((self.arrival_rates() * means).sum(axis=0) / servers)

    def unstable_stations(self) -> list[tuple[str, float]]:
        """``(name, ρ)`` of every station with unlimited capacity and offered load ρ >= 1.

        Such a station has no steady state: its queue grows without bound.
        """
        return [
            (station.name, float(rho))
            for station, rho in zip(self.stations, self.offered_load(), strict=True)
            if station.capacity is None and not rho < 1
        ]

    def visit_ratios(self) -> np.ndarray:
        """Expected visits to each station per external arrival, over all classes."""
        rates = self.arrival_rates().sum(axis=0)
        return np.asarray(rates / sum(c.arrivals.rate for c in self.classes))

    def replace(self, path: str, value: float, *, allow_unstable: bool = False) -> Scenario:
        """Return a variant with the number at the dotted ``path`` set to ``value``, re-checked.

        ``path`` is as written in a scenario file: ``arrivals.rate``,
        ``stations.NAME.servers``, ``stations.NAME.service.mean``, ``routing.FROM.TO``,
        ``classes.NAME.arrivals.rate``, ``run.horizon``, ... (see
        :func:`eda_sim.scenario.paths.replace_value`).

        Raises
        ------
        ScenarioError
            For a path that names no number (fault path ``param``), or whatever the
            variant breaks (:class:`~eda_sim.errors.UnstableError` for ρ >= 1 unless
            ``allow_unstable``).

        Examples
        --------
        >>> from eda_sim.scenario import scenario_from_dict
        >>> mm1 = scenario_from_dict({
        ...     "stations": {"handler": {"service": {"dist": "exponential", "rate": 1.0}}},
        ...     "arrivals": {"process": "poisson", "rate": 0.5},
        ... })
        >>> [round(float(rho), 3) for rho in mm1.replace("arrivals.rate", 0.9).offered_load()]
        [0.9]
        """
        from eda_sim.scenario.paths import replace_value  # paths imports this module

        return replace_value(self, path, value, allow_unstable=allow_unstable)

    def with_run(self, **changes: object) -> Scenario:
        """Return a copy with some run settings changed (checked like the file's).

        Raises
        ------
        ScenarioError
            If a changed setting is invalid, with the fault path ``run.NAME``.
        """
        current = self.document.run.model_dump()
        current.update({k: v for k, v in changes.items() if v is not None})
        try:
            run_spec = schema.RunSpec.model_validate(current)
        except ValidationError as error:
            raise ScenarioError(
                faults_from_validation(error, current, schema.RunSpec, prefix="run")
            ) from None
        run = _run_settings(run_spec)
        _raise_if(_check_run(run))
        document = self.document.model_copy(update={"run": run_spec})
        return replace(self, run=run, document=document)


def _raise_if(faults: Sequence[Fault], error: type[ScenarioError] = ScenarioError) -> None:
    if faults:
        raise error(list(faults))


def _run_settings(spec: schema.RunSpec) -> RunSettings:
    return RunSettings(
        horizon=spec.horizon,
        warmup=spec.warmup,
        replications=spec.replications,
        seed=spec.seed,
        confidence=spec.confidence,
        precision=spec.precision,
    )


def _check_run(run: RunSettings) -> list[Fault]:
    if run.warmup_time >= run.horizon:
        return [
            Fault(
                "run.warmup",
                f"must be < the horizon ({describe_value(run.horizon)}), "
                f"got {describe_value(run.warmup_time)}",
            )
        ]
    return []


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


def _routing_matrix(
    spec: schema.RoutingSpec | None, path: str, stations: Sequence[str], faults: list[Fault]
) -> np.ndarray | None:
    n = len(stations)
    if spec is None:
        return np.zeros((n, n))
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
            for target, probability in row.items():
                if target not in stations:
                    faults.append(_unknown_station(f"{path}.{origin}.{target}", target, stations))
                    ok = False
                else:
                    matrix[stations.index(origin), stations.index(target)] = probability
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
    return matrix


def _arrival_process(
    spec: schema.ArrivalSpec, path: str, base_dir: Path | None, faults: list[Fault]
) -> ArrivalProcess | None:
    if isinstance(spec, schema.PoissonSpec):
        return ArrivalProcess("poisson", dists.Exponential(spec.rate))
    gaps = _distribution(spec.interarrival, f"{path}.interarrival", base_dir, faults)
    return ArrivalProcess("renewal", gaps) if gaps is not None else None


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
        default_service = _distribution(spec.service, f"{path}.service", base_dir, faults)
        if spec.capacity is not None and spec.capacity < spec.servers:
            faults.append(
                Fault(
                    f"{path}.capacity", f"must be >= servers ({spec.servers}), got {spec.capacity}"
                )
            )
        if default_service is not None:
            stations.append(Station(station_name, spec.servers, default_service, spec.capacity))

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
        arrivals = _arrival_process(class_spec.arrivals, f"{where}arrivals", base_dir, faults)
        entry = _entry_vector(class_spec.arrivals.to, f"{where}arrivals.to", names, faults)
        matrix = _routing_matrix(class_spec.routing, f"{where}routing", names, faults)
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
            and matrix is not None
            and len(service) == len(names)
        ):
            classes.append(
                EventClass(
                    class_name, arrivals, Routing(tuple(names), matrix, entry), tuple(service)
                )
            )
    run = _run_settings(document.run)
    faults.extend(_check_run(run))
    _raise_if(faults)

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
        _raise_if(_stability_faults(scenario), UnstableError)
    return scenario
