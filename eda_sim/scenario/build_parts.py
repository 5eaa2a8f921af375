"""A scenario's parts built from their specs: distributions, arrivals, stations (layer 2).

Each builder records its faults (the place, the value, the rule) in the list it is
given and returns None for a part it could not build, so that the checks of
:mod:`eda_sim.scenario.build` go on and every fault is reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from eda_sim import distributions as dists
from eda_sim.errors import Fault, ScenarioError
from eda_sim.scenario import schema
from eda_sim.scenario.model import ArrivalProcess, Station

__all__ = ["arrival_part", "build_distribution", "distribution_part", "station_part"]


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


def distribution_part(
    spec: schema.DistributionSpec, path: str, base_dir: Path | None, faults: list[Fault]
) -> dists.Distribution | None:
    """The distribution at ``path``, or None with its faults added to ``faults``."""
    try:
        return build_distribution(spec, base_dir)
    except ScenarioError as error:
        faults.extend(error.prefixed(path).faults)
    except (ArithmeticError, ValueError, OSError) as error:  # float limits, odd file names
        file = getattr(spec, "file", None)
        where, what = (f"{path}.file", f"{file!r} ") if file is not None else (path, "")
        faults.append(Fault(where, f"{what}cannot be used: {error}"))
    return None


def arrival_part(
    spec: schema.ArrivalSpec,
    path: str,
    class_name: str,
    base_dir: Path | None,
    faults: list[Fault],
) -> ArrivalProcess | None:
    """The class's arrival process at ``path``, or None with its faults added to ``faults``."""
    if isinstance(spec, schema.PoissonSpec):
        try:
            return ArrivalProcess("poisson", dists.Exponential(spec.rate))
        except ScenarioError as error:
            faults.extend(Fault(f"{path}.rate", fault.message) for fault in error.faults)
            return None
    if isinstance(spec, schema.RenewalSpec):
        gaps = distribution_part(spec.interarrival, f"{path}.interarrival", base_dir, faults)
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


def station_part(
    name: str, spec: schema.StationSpec, base_dir: Path | None, faults: list[Fault]
) -> Station | None:
    """One station from its (schema-valid) spec, or None after recording faults."""
    path = f"stations.{name}"
    service = distribution_part(spec.service, f"{path}.service", base_dir, faults)
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
