"""The well-formed parts of a scenario document, for the checks past the schema (layer 2).

A document that fails the schema still has parts that can be checked: the
station names are known when one station's ``servers`` is bad, a routing row can
be checked against them, a trace file can be read. :func:`well_formed_parts`
validates the parts of such a document one by one, with the schema's own models
and strictness, and marks every part that fails as :data:`MALFORMED`; the checks
of :mod:`eda_sim.scenario.build` then run on the rest and skip whatever needs a
malformed part, whose own schema faults say what is wrong with it. So a schema
fault does not hide an independent fault, and causes no second one.

:meth:`DocumentParts.of` gives the parts of a valid document (none malformed):
the same checks build every scenario.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from eda_sim.scenario import schema
from eda_sim.scenario.model import DEFAULT_CLASS, checkable_run
from eda_sim.scenario.slo import DEFAULT_QUANTILES

__all__ = [
    "MALFORMED",
    "ClassParts",
    "DocumentParts",
    "Malformed",
    "RoutingParts",
    "well_formed_parts",
]


class Malformed(enum.Enum):
    """The type of :data:`MALFORMED`."""

    MALFORMED = "malformed"


#: A part that failed the schema: the checks that need it are skipped.
MALFORMED: Final = Malformed.MALFORMED

#: A routing row: station (or ``fanout``) -> probability (or list of stations), or MALFORMED.
RowParts = Mapping[str, float | list[str] | Malformed]

#: A class's routing: rows by station name (a row may be MALFORMED), or a matrix.
RoutingParts = Mapping[str, RowParts | Malformed] | Sequence[Sequence[float]]


@dataclass(frozen=True)
class ClassParts:
    """The parts of one event class (the whole document's, without ``classes:``).

    Parameters
    ----------
    arrivals : ArrivalSpec or Malformed
        The arrival stream.
    to : EntrySpec, None or Malformed
        Where its events enter (None: the first station); known even when another
        field of the stream is malformed.
    routing : RoutingParts, None or Malformed
        Its routing (None: events leave after their first station).
    service : mapping or Malformed
        Service overrides by station name, each a distribution spec or MALFORMED.
    priority : float
        Its priority (not checked against anything; 0 when malformed).
    """

    arrivals: schema.ArrivalSpec | Malformed
    to: schema.EntrySpec | Malformed | None
    routing: RoutingParts | Malformed | None
    service: Mapping[str, schema.DistributionSpec | Malformed] | Malformed
    priority: float = 0.0

    @classmethod
    def of(cls, spec: schema.ClassSpec) -> ClassParts:
        """The parts of a schema-valid class."""
        return cls(
            arrivals=spec.arrivals,
            to=spec.arrivals.to,
            routing=spec.routing,
            service=dict(spec.service or {}),
            priority=spec.priority,
        )


@dataclass(frozen=True)
class DocumentParts:
    """The parts of a scenario document that the checks past the schema look at.

    Parameters
    ----------
    stations : mapping or Malformed
        Station specs by name, in file order, each a spec or MALFORMED; the whole
        is MALFORMED when the station names themselves are not known.
    classes : mapping or Malformed
        The event classes by name; MALFORMED when it is not clear which are meant
        (both ``classes`` and ``arrivals`` given, say).
    single_class : bool
        The file used the one-class shorthand (fault paths have no ``classes.NAME.``).
    run : RunSpec or None
        The run settings, None when the horizon or the warm-up is malformed.
    slo : sequence
        The ``slo:`` entries, each a spec or MALFORMED (empty when the list is).
    levels : tuple of float or None
        The percentile levels (``run.quantiles`` or the default), None when malformed.
    """

    stations: Mapping[str, schema.StationSpec | Malformed] | Malformed
    classes: Mapping[str, ClassParts] | Malformed
    single_class: bool
    run: schema.RunSpec | None
    slo: Sequence[schema.SloSpec | Malformed] = ()
    levels: tuple[float, ...] | None = DEFAULT_QUANTILES

    @classmethod
    def of(cls, document: schema.ScenarioDocument) -> DocumentParts:
        """The parts of a schema-valid document: none of them malformed."""
        if document.classes is None:
            assert document.arrivals is not None  # guaranteed by the schema
            shorthand = schema.ClassSpec(arrivals=document.arrivals, routing=document.routing)
            classes = {DEFAULT_CLASS: ClassParts.of(shorthand)}
        else:
            classes = {name: ClassParts.of(spec) for name, spec in document.classes.items()}
        return cls(
            stations=dict(document.stations),
            classes=classes,
            single_class=document.classes is None,
            run=document.run,
            slo=tuple(document.slo),
            levels=_levels(document.run.quantiles),
        )


_ARRIVALS = schema.part_adapter(schema.ArrivalSpec)
_ENTRY = schema.part_adapter(schema.EntrySpec | None)
_DISTRIBUTION = schema.part_adapter(schema.DistributionSpec)
_TARGET = schema.part_adapter(schema.RoutingTarget)
_MATRIX = schema.part_adapter(schema.RoutingMatrix)
_PRIORITY = schema.part_adapter(float)  # ClassSpec.priority
_QUANTILES = schema.part_adapter(schema.RunSpec.model_fields["quantiles"].annotation)


def _levels(levels: Sequence[float] | None) -> tuple[float, ...]:
    return DEFAULT_QUANTILES if levels is None else tuple(levels)


_M = TypeVar("_M", bound=BaseModel)


def _model(model: type[_M], raw: object) -> _M | Malformed:
    try:
        return model.model_validate(raw)
    except ValidationError:
        return MALFORMED


def _part(adapter: TypeAdapter[Any], raw: object) -> Any:
    try:
        return adapter.validate_python(raw)
    except ValidationError:
        return MALFORMED


def _names_known(raw: object) -> bool:
    """A non-empty mapping keyed by text: its keys are names that can be checked against."""
    return isinstance(raw, dict) and bool(raw) and all(isinstance(key, str) for key in raw)


def _routing(raw: object) -> RoutingParts | Malformed | None:
    if raw is None:
        return None
    if isinstance(raw, list):
        matrix: Sequence[Sequence[float]] | Malformed = _part(_MATRIX, raw)
        return matrix
    if not isinstance(raw, dict) or not all(isinstance(origin, str) for origin in raw):
        return MALFORMED
    rows: dict[str, RowParts | Malformed] = {}
    for origin, row in raw.items():
        if isinstance(row, dict) and all(isinstance(key, str) for key in row):
            rows[origin] = {target: _part(_TARGET, value) for target, value in row.items()}
        else:
            rows[origin] = MALFORMED
    return rows


def _service(raw: object) -> Mapping[str, schema.DistributionSpec | Malformed] | Malformed:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        return MALFORMED
    return {name: _part(_DISTRIBUTION, spec) for name, spec in raw.items() if isinstance(name, str)}


def _class(raw: object) -> ClassParts:
    if not isinstance(raw, dict):
        return ClassParts(MALFORMED, MALFORMED, MALFORMED, MALFORMED)
    arrivals_raw = raw.get("arrivals")
    arrivals: schema.ArrivalSpec | Malformed = _part(_ARRIVALS, arrivals_raw)
    to: schema.EntrySpec | Malformed | None
    if not isinstance(arrivals, Malformed):
        to = arrivals.to
    elif isinstance(arrivals_raw, dict):
        to = _part(_ENTRY, arrivals_raw.get("to"))
    else:
        to = MALFORMED
    priority = _part(_PRIORITY, raw.get("priority", 0.0))
    return ClassParts(
        arrivals=arrivals,
        to=to,
        routing=_routing(raw.get("routing")),
        service=_service(raw.get("service")),
        priority=0.0 if isinstance(priority, Malformed) else priority,
    )


def well_formed_parts(raw: Mapping[str, Any]) -> DocumentParts:
    """Validate the parts of a document that failed the schema one by one.

    Parameters
    ----------
    raw : mapping
        The document as parsed from YAML.

    Returns
    -------
    DocumentParts
        Every part that passes the schema on its own; the others MALFORMED.
    """
    stations_raw = raw.get("stations")
    stations: Mapping[str, schema.StationSpec | Malformed] | Malformed = MALFORMED
    if _names_known(stations_raw):
        assert isinstance(stations_raw, dict)
        stations = {name: _model(schema.StationSpec, spec) for name, spec in stations_raw.items()}

    classes_raw = raw.get("classes")
    shorthand = {"arrivals": raw.get("arrivals"), "routing": raw.get("routing")}
    classes: Mapping[str, ClassParts] | Malformed
    if classes_raw is None:  # the one-class shorthand (its routing is checked without arrivals)
        given = any(value is not None for value in shorthand.values())
        classes = {DEFAULT_CLASS: _class(shorthand)} if given else {}
    elif all(value is None for value in shorthand.values()) and _names_known(classes_raw):
        assert isinstance(classes_raw, dict)
        classes = {name: _class(spec) for name, spec in classes_raw.items()}
    else:  # both styles, or classes without names: which events are meant is not known
        classes = MALFORMED
    run_raw = raw.get("run", {})
    levels: tuple[float, ...] | None = None
    quantiles = _part(_QUANTILES, run_raw.get("quantiles")) if isinstance(run_raw, dict) else None
    if not isinstance(quantiles, Malformed):
        try:
            levels = _levels(schema.RunSpec.model_validate({"quantiles": quantiles}).quantiles)
        except ValidationError:  # duplicates or too many: reported by the schema
            levels = None
    slo_raw = raw.get("slo", [])
    slo = (
        tuple(_model(schema.SloSpec, spec) for spec in slo_raw) if isinstance(slo_raw, list) else ()
    )
    return DocumentParts(
        stations=stations,
        classes=classes,
        single_class=classes_raw is None,
        run=checkable_run(run_raw),
        slo=slo,
        levels=levels,
    )
