"""Build a scenario from Python calls, without YAML (layer 2).

:class:`ScenarioBuilder` writes the same document a YAML file holds, one call per
part, and :meth:`ScenarioBuilder.build` validates it with the loader's own
:func:`~eda_sim.scenario.scenario_from_dict`. So a scenario built in Python is
checked exactly like a file with the same content, and a fault gets the same
:class:`~eda_sim.errors.ScenarioError` with the same message and the same path
(``stations.store.service.cv: must be > 0, got -1.5``): nothing is checked here
first, nothing is checked differently. Keyword arguments left at ``None`` are left
out of the document, so the file's defaults apply.

Distributions and arrival streams are plain mappings, as in the file; the helpers
:func:`dist`, :func:`poisson`, :func:`renewal` and :func:`trace` write them with
keyword arguments.

Examples
--------
>>> from eda_sim.scenario.builder import ScenarioBuilder, dist, poisson
>>> scenario = (
...     ScenarioBuilder("jackson-3", time_unit="s")
...     .station("ingest", service=dist("exponential", rate=2.0))
...     .station("enrich", service=dist("exponential", mean=0.6667))
...     .station("store", servers=2, service=dist("lognormal", mean=0.8, cv=1.5), capacity=20)
...     .arrivals(poisson(1.0, to="ingest"))
...     .route("ingest", enrich=0.6, store=0.3)
...     .route("enrich", store=0.5)
...     .route("store", ingest=0.2)
...     .run(horizon=20_000, replications=10, seed=1)
...     .build()
... )
>>> scenario.station("store").capacity
20
>>> ScenarioBuilder().station("a", servers=0, service=dist("exponential", rate=1)).build()
Traceback (most recent call last):
...
eda_sim.errors.ScenarioError: stations.a.servers: must be >= 1, got 0
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eda_sim.scenario.loader import scenario_from_dict
from eda_sim.scenario.model import Scenario

__all__ = ["ScenarioBuilder", "dist", "poisson", "renewal", "trace"]


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that are not None (left out, the document's defaults apply)."""
    return {key: value for key, value in fields.items() if value is not None}


def dist(kind: str, **parameters: Any) -> dict[str, Any]:
    """A distribution as the file writes it: ``dist("gamma", mean=0.8, cv=0.5)``.

    ``kind`` is one of ``exponential``, ``deterministic``, ``erlang``, ``gamma``,
    ``lognormal``, ``hyperexponential``, ``uniform``, ``empirical``; the parameters
    are those of the scenario reference (``rate``/``mean``, ``cv``, ``k``, ...).
    """
    return {"dist": kind, **_given(**parameters)}


def poisson(rate: float, *, to: str | Mapping[str, float] | None = None) -> dict[str, Any]:
    """Poisson arrivals at ``rate``, entering at ``to`` (default: the first station)."""
    return _given(process="poisson", rate=rate, to=to)


def renewal(
    interarrival: Mapping[str, Any], *, to: str | Mapping[str, float] | None = None
) -> dict[str, Any]:
    """Renewal arrivals with gaps drawn from ``interarrival`` (a :func:`dist`)."""
    return _given(process="renewal", interarrival=dict(interarrival), to=to)


def trace(
    file: str | Path, *, to: str | Mapping[str, float] | None = None, **columns: Any
) -> dict[str, Any]:
    """Arrivals replayed from a CSV ``file`` (``time_column=``, ``type_column=``, ``type=``)."""
    return _given(process="trace", file=str(file), to=to, **columns)


class ScenarioBuilder:
    """A scenario document written by method calls; :meth:`build` validates it.

    Every method returns the builder, so calls chain. The document is plain data
    (:meth:`document`); building it twice gives two equal scenarios.

    Parameters
    ----------
    name : str, optional
        The scenario's name (default ``"scenario"``, as for a document without one).
    description, time_unit : str, optional
        As in the file.
    base_dir : path, optional
        Where relative file references (traces, empirical data) are resolved, as a
        file's folder would be.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        description: str | None = None,
        time_unit: str | None = None,
        base_dir: str | Path | None = None,
    ) -> None:
        self._name = "scenario" if name is None else name
        self._base_dir = None if base_dir is None else Path(base_dir).resolve()
        self._document: dict[str, Any] = _given(
            name=name, description=description, time_unit=time_unit
        )

    def station(
        self,
        name: str,
        *,
        service: Mapping[str, Any] | None = None,
        servers: int | None = None,
        capacity: int | None = None,
        on_full: str | None = None,
        **more: Any,
    ) -> ScenarioBuilder:
        """Add the station ``name`` (``servers`` default 1, unlimited ``capacity``)."""
        shape = None if service is None else dict(service)
        spec = _given(servers=servers, service=shape, capacity=capacity, on_full=on_full)
        self._document.setdefault("stations", {})[name] = {**spec, **_given(**more)}
        return self

    def arrivals(self, arrivals: Mapping[str, Any]) -> ScenarioBuilder:
        """The one event class's arrivals (:func:`poisson`, :func:`renewal`, :func:`trace`)."""
        self._document["arrivals"] = dict(arrivals)
        return self

    def route(
        self,
        source: str,
        targets: Mapping[str, Any] | None = None,
        /,
        *,
        event_class: str | None = None,
        **probabilities: Any,
    ) -> ScenarioBuilder:
        """Where events go after ``source``: ``route("cart", order=1.0)``.

        ``targets`` (a mapping) and the keyword arguments are merged; ``fanout=[...]``
        publishes copies to the listed subscribers. The rest of the row leaves the
        system. With ``event_class``, the row belongs to that class's routing.
        """
        row = {**dict(targets or {}), **probabilities}
        owner = self._class(event_class) if event_class is not None else self._document
        routing = owner.setdefault("routing", {})
        if not isinstance(routing, dict):
            raise TypeError("this scenario's routing is a matrix; set it with routing()")
        routing[source] = row
        return self

    def routing(self, routing: Mapping[str, Any] | Sequence[Sequence[float]], /) -> ScenarioBuilder:
        """The whole routing at once: a ``{from: {to: p}}`` mapping or a matrix."""
        self._document["routing"] = copy.deepcopy(
            dict(routing) if isinstance(routing, Mapping) else [list(row) for row in routing]
        )
        return self

    def event_class(
        self,
        name: str,
        *,
        arrivals: Mapping[str, Any],
        routing: Mapping[str, Any] | Sequence[Sequence[float]] | None = None,
        service: Mapping[str, Mapping[str, Any]] | None = None,
        priority: int | None = None,
        **more: Any,
    ) -> ScenarioBuilder:
        """Add the event class ``name`` (instead of top-level arrivals and routing)."""
        spec = _given(
            arrivals=dict(arrivals),
            routing=copy.deepcopy(routing),
            service=None if service is None else {k: dict(v) for k, v in service.items()},
            priority=priority,
        )
        self._document.setdefault("classes", {})[name] = {**spec, **_given(**more)}
        return self

    def run(self, **settings: Any) -> ScenarioBuilder:
        """Run settings: ``horizon``, ``warmup``, ``replications``, ``seed``, ``confidence``, ..."""
        self._document.setdefault("run", {}).update(_given(**settings))
        return self

    def slo(
        self, target: str, *, max: float | None = None, min: float | None = None
    ) -> ScenarioBuilder:
        """Add a service-level objective: ``slo("classes.checkout.W_p99", max=0.5)``.

        ``target`` is ``stations.NAME.METRIC``, ``classes.NAME.METRIC`` or
        ``system.METRIC``; give exactly one of ``max`` and ``min`` (checked by
        :meth:`build`, as the file's ``slo:`` list is).
        """
        self._document.setdefault("slo", []).append(_given(target=target, max=max, min=min))
        return self

    def document(self) -> dict[str, Any]:
        """The document so far, as plain data (a copy): what a YAML file would hold."""
        return copy.deepcopy(self._document)

    def build(self, *, allow_unstable: bool = False) -> Scenario:
        """Validate the document exactly as a file and return the scenario.

        Raises
        ------
        ScenarioError
            One fault per problem, the same faults and messages as a YAML file with
            this content gets.
        """
        return scenario_from_dict(
            self.document(),
            name=self._name,
            base_dir=self._base_dir,
            allow_unstable=allow_unstable,
        )

    def _class(self, name: str) -> dict[str, Any]:
        classes = self._document.get("classes", {})
        if name not in classes:
            raise KeyError(f"no event class {name!r} yet; add it with event_class() first")
        found: dict[str, Any] = classes[name]
        return found
