"""The validated, immutable scenario that engines and formulas use (layer 2).

The classes here hold a scenario after :func:`eda_sim.scenario.build.build_scenario`
has checked it; they never hold an invalid one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from eda_sim import distributions as dists
from eda_sim.errors import Fault, ScenarioError
from eda_sim.files import InputRecord
from eda_sim.routing import Routing
from eda_sim.scenario import schema
from eda_sim.scenario.edit import edited_document
from eda_sim.scenario.messages import faults_from_validation
from eda_sim.scenario.run_settings import (
    RunSettings,
    WarmupSetting,
    check_run,
    checkable_run,
    run_settings,
    trace_horizon,
)
from eda_sim.scenario.slo import Slo, slo_faults
from eda_sim.traffic import Traffic

__all__ = [
    "DEFAULT_CLASS",
    "ArrivalProcess",
    "EventClass",
    "RunSettings",
    "Scenario",
    "Station",
    "WarmupSetting",
    "check_run",
    "checkable_run",
    "raise_if",
    "run_settings",
    "trace_horizon",
]

#: The name of the single event class of a scenario written without ``classes:``.
DEFAULT_CLASS = "events"

#: Validates a plain document into a scenario: ``rebuild(raw, name, base_dir,
#: allow_unstable)``. The loader, which this module cannot import, hands itself to
#: each scenario it builds, so that :meth:`Scenario.replace` checks a variant like a file.
Rebuild = Callable[[dict[str, Any], str, Path | None, bool], "Scenario"]


@dataclass(frozen=True)
class Station:
    """A handler station: ``servers`` parallel servers, FIFO, at most ``capacity`` present.

    ``on_full`` says what a full station does to an event arriving from another
    station: ``"lose"`` it (asynchronous handling with a bounded queue, or none), or
    ``"block"`` the sender, which keeps its server until there is room (blocking
    after service). External arrivals at a full station are always lost.
    """

    name: str
    servers: int
    service: dists.Distribution
    capacity: int | None = None
    on_full: Literal["lose", "block"] = "lose"


@dataclass(frozen=True, eq=False)
class ArrivalProcess:
    """External arrivals of one event class: Poisson, renewal gaps, or a replayed trace.

    A trace has ``times`` (arrival instants from 0, non-decreasing) and no
    ``interarrival`` distribution.
    """

    kind: Literal["poisson", "renewal", "trace"]
    interarrival: dists.Distribution | None = None
    times: np.ndarray | None = field(default=None, repr=False)

    @property
    def rate(self) -> float:
        """Mean number of arrivals per time unit (a trace: its events over its extent)."""
        if self.times is not None:
            return len(self.times) / float(self.times[-1])
        assert self.interarrival is not None
        return 1.0 / self.interarrival.mean

    @property
    def scv(self) -> float:
        """Squared coefficient of variation of the gaps (1 for Poisson)."""
        if self.times is not None:
            gaps = np.diff(self.times)
            return float(gaps.var() / gaps.mean() ** 2) if gaps.mean() > 0 else float("nan")
        assert self.interarrival is not None
        return self.interarrival.scv


@dataclass(frozen=True)
class EventClass:
    """One event type: arrivals, routing, service time at each station (station order).

    ``priority``: non-preemptive, at every station; lower numbers are served first.
    """

    name: str
    arrivals: ArrivalProcess
    routing: Routing
    service: tuple[dists.Distribution, ...]
    priority: float = 0.0


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated scenario: stations, event classes and run settings, immutable.

    Build one with :func:`eda_sim.scenario.load_scenario` (from YAML),
    :func:`eda_sim.scenario.scenario_from_dict` (plain data) or
    :class:`eda_sim.ScenarioBuilder` (Python calls); :meth:`replace` gives any
    variant, checked like a file. :meth:`station` and :meth:`event_class` look parts
    up by name.
    """

    name: str
    description: str
    time_unit: str
    stations: tuple[Station, ...]
    classes: tuple[EventClass, ...]
    run: RunSettings
    document: schema.ScenarioDocument = field(repr=False)
    base_dir: Path | None = field(default=None, repr=False)
    #: Every file read to build it (the scenario file, traces, empirical data), with
    #: the SHA-256 of what was read: a checkpoint's fingerprint covers them.
    inputs: tuple[InputRecord, ...] = field(default=(), repr=False)
    #: The service-level objectives of the file's ``slo:`` list, checked.
    slos: tuple[Slo, ...] = ()
    rebuild: Rebuild | None = field(default=None, repr=False)

    def station(self, name: str) -> Station:
        """The station called ``name`` (a ``KeyError`` names the nearest one)."""
        return self.stations[_index_of(name, self.station_names, "station")]

    def event_class(self, name: str) -> EventClass:
        """The event class called ``name`` (``"events"`` in a one-class scenario)."""
        return self.classes[_index_of(name, self.class_names, "event class")]

    def replace(
        self,
        changes: str | Mapping[str, Any],
        value: Any = None,
        /,
        *,
        allow_unstable: bool = False,
    ) -> Scenario:
        """A variant of this scenario, validated again from scratch like a file.

        Parameters
        ----------
        changes : str or mapping
            One dotted path (then ``value`` is its new value) or ``{path: value}``
            for several changes made together (validated once, after all of them).
            Paths are those of the file: ``arrivals.rate``, ``stations.cart.servers``,
            ``routing.cart.order``, ``classes.orders.service.order.mean``,
            ``run.horizon``... (:mod:`eda_sim.scenario.edit` lists them).
        value : object
            A number; or a mapping, list or text that replaces the node at the path
            whole (``stations.product`` = a new station); or None to remove the entry.
        allow_unstable : bool
            Accept a station of unlimited capacity with ρ >= 1.

        Raises
        ------
        ScenarioError
            At ``param`` for a path that names nothing (with the nearest valid one);
            else the faults of the variant, exactly as the same file would get them.

        Examples
        --------
        >>> from eda_sim import examples, load_scenario
        >>> base = load_scenario(examples.path("jackson3"))
        >>> base.replace("arrivals.rate", 1.2).event_class("events").arrivals.rate
        1.2
        >>> bigger = base.replace({"stations.store.servers": 3, "run.horizon": 5000})
        >>> bigger.station("store").servers, bigger.run.horizon
        (3, 5000.0)
        """
        if self.rebuild is None:
            raise TypeError("this scenario was not built by eda_sim.scenario's loader")
        edits = {changes: value} if isinstance(changes, str) else dict(changes)
        raw = edited_document(self.document, edits)
        return self.rebuild(raw, self.name, self.base_dir, allow_unstable)

    @property
    def station_names(self) -> tuple[str, ...]:
        """Station names in matrix order."""
        return tuple(station.name for station in self.stations)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Event class names."""
        return tuple(event_class.name for event_class in self.classes)

    @property
    def has_fanout(self) -> bool:
        """True when some routing row publishes copies (``fanout``)."""
        return any(any(c.routing.fanout) for c in self.classes)

    @property
    def has_blocking(self) -> bool:
        """True when some station blocks its senders when full (``on_full: block``)."""
        return any(s.on_full == "block" for s in self.stations)

    @property
    def has_priorities(self) -> bool:
        """True when the event classes do not all have the same priority."""
        return len({c.priority for c in self.classes}) > 1

    @property
    def has_trace(self) -> bool:
        """True when some class replays a recorded trace."""
        return any(c.arrivals.kind == "trace" for c in self.classes)

    @property
    def features(self) -> frozenset[str]:
        """The mechanisms the scenario uses, by name.

        ``fanout``, ``blocking``, ``priorities``, ``trace`` and ``classes`` (more
        than one event class). A metric of :mod:`eda_sim.metrics` whose
        ``applies`` names one of them is reported only for such scenarios.
        """
        used = {
            "fanout": self.has_fanout,
            "blocking": self.has_blocking,
            "priorities": self.has_priorities,
            "trace": self.has_trace,
            "classes": len(self.classes) > 1,
        }
        return frozenset(name for name, present in used.items() if present)

    @property
    def single_class(self) -> bool:
        """True when the file used the one-class shorthand (top-level ``arrivals``)."""
        return self.document.classes is None

    @cached_property
    def traffic(self) -> Traffic:
        """Offered and carried rates per class and station, losses carried downstream.

        Solved once per scenario (:func:`eda_sim.scenario.load.scenario_traffic`).
        """
        from eda_sim.scenario.load import scenario_traffic  # load needs this module's types

        return scenario_traffic(self)

    def arrival_rates(self) -> np.ndarray:
        """Offered visit rates ``λ[k, i]``: what reaches station ``i``, after losses upstream."""
        return np.array(self.traffic.offered)

    def carried_rates(self) -> np.ndarray:
        """Carried visit rates ``λ[k, i] (1 − loss_i)``: what station ``i`` admits."""
        return np.array(self.traffic.carried)

    def _loads(self) -> tuple[np.ndarray, np.ndarray]:
        means = np.array([[d.mean for d in c.service] for c in self.classes])
        servers = np.array([s.servers for s in self.stations], dtype=float)
        return self.traffic.loads(means, servers)

    def offered_load(self) -> np.ndarray:
        """``ρ_i = Σ_k λ[k, i]·E[S_k,i] / c_i`` per station on the offered rates."""
        return self._loads()[0]

    def carried_load(self) -> np.ndarray:
        """The load of the admitted events per station (below 1 at a station with a capacity)."""
        return self._loads()[1]

    def unstable_stations(self) -> list[tuple[str, float]]:
        """``(name, ρ)`` of every station with unlimited capacity and carried load ρ >= 1.

        Such a station has no steady state: its queue grows without bound. Its
        load is what the stations before it let through (losses carried downstream).
        """
        return [
            (station.name, float(rho))
            for station, rho in zip(self.stations, self.carried_load(), strict=True)
            if station.capacity is None and not rho < 1
        ]

    def visit_ratios(self) -> np.ndarray:
        """Expected visits offered to each station per external arrival, over all classes."""
        rates = self.arrival_rates().sum(axis=0)
        return np.asarray(rates / sum(c.arrivals.rate for c in self.classes))

    def with_run(self, **changes: object) -> Scenario:
        """Return a copy with some run settings changed (checked like the file's).

        Raises
        ------
        ScenarioError
            If a changed setting is invalid, with the fault path ``run.NAME``.
        """
        current = self.document.run.model_dump(exclude_unset=True)
        current.update({k: v for k, v in changes.items() if v is not None})
        arrivals = [event_class.arrivals for event_class in self.classes]
        try:
            run_spec = schema.RunSpec.model_validate(current)
        except ValidationError as error:
            faults = faults_from_validation(error, current, schema.RunSpec, prefix="run")
            checkable = checkable_run(current)  # a bad setting does not hide the warm-up's fault
            if checkable is not None:
                faults.extend(check_run(run_settings(checkable, arrivals)))
            raise ScenarioError(faults) from None
        run = run_settings(run_spec, arrivals)
        slos, slo_problems = self.objectives(run.quantiles)
        raise_if([*check_run(run), *slo_problems])
        document = self.document.model_copy(update={"run": run_spec})
        return replace(self, run=run, document=document, slos=tuple(slos))

    def objectives(self, levels: Sequence[float]) -> tuple[list[Slo], list[Fault]]:
        """The file's SLOs checked against percentile ``levels`` (and the faults, if any)."""
        return slo_faults(
            [(spec.target, spec.max, spec.min) for spec in self.document.slo],
            self.station_names,
            None if self.single_class else self.class_names,
            levels,
            self.has_blocking,
        )


def _index_of(name: str, names: Sequence[str], kind: str) -> int:
    if name in names:
        return list(names).index(name)
    close = difflib.get_close_matches(name, list(names), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (there are: {', '.join(names)})"
    raise KeyError(f"no {kind} {name!r}{hint}")


def raise_if(faults: Sequence[Fault], error: type[ScenarioError] = ScenarioError) -> None:
    """Raise ``error`` with ``faults``, if there are any."""
    if faults:
        raise error(list(faults))
