"""Edit a scenario document at dotted paths, as plain data (layer 2).

:meth:`Scenario.replace <eda_sim.scenario.Scenario.replace>` and
:func:`~eda_sim.scenario.replace_value` (which sweeps use) make their variants here:
the scenario's document is dumped to plain data, each change is set at its path,
and the result is validated again from scratch by whoever built the scenario, so a
variant is checked exactly like a file. This module knows the document's schema
and nothing of the model built from it, so the model may call it.

Paths are the document's keys joined by dots, as a user would write the file:

* ``arrivals.rate``, ``arrivals.interarrival.cv`` (the one-class shorthand), and
  ``classes.NAME.arrivals.rate``, ``classes.NAME.service.STATION.mean`` (several classes);
* ``stations.NAME.servers``, ``stations.NAME.capacity``, ``stations.NAME.service.mean``;
* ``routing.FROM.TO`` (also ``classes.NAME.routing.FROM.TO``): a routing matrix is
  addressed by station names too, and a routing mapping without an entry (or without
  a ``routing:`` section at all) gets one;
* ``run.horizon``, ``run.warmup``, ``run.replications``, ``run.confidence``, ...;
* list entries by index: ``stations.NAME.service.rates.0`` or ``...rates[0]``.

A **number** goes where a number goes. A path may name a parameter the file does
not give if the node has such a field: ``stations.store.service.mean`` where the
file gave ``rate``. The parameters that fix the same quantity are then dropped
(``mean`` and ``rate`` fix the scale of an exponential, Erlang or gamma; ``k``/``shape``
and ``cv`` its shape), and the rest is kept: setting ``mean`` keeps ``cv``, ``k`` or
``shape``. Where the kept parameters would no longer fit together, the form is
switched so that the other quantity stays as it was (``cv`` on a ``k``-and-``rate``
Erlang becomes ``mean`` and ``cv``, keeping the mean; ``rate`` on a ``mean``-and-``cv``
gamma becomes ``shape`` and ``rate``, keeping the shape; ``mu`` on a ``mean``-and-``cv``
lognormal becomes ``mu`` and ``sigma``). A hyperexponential given by phases is not
switched to ``mean`` and ``cv`` (that would change its phases): the rebuilt scenario
refuses the mix. Two more names are understood: ``mean`` of a deterministic
distribution is its ``value``, and ``rate`` of a renewal arrival stream sets its
gaps' mean to ``1/rate``. Fields that must be whole numbers (``servers``,
``capacity``, ``k``, ``replications``, ``seed``) refuse a fractional value.

Any **other value** (a mapping, a list, text, a boolean) replaces the node at the
path whole: ``stations.product`` set to a new station's mapping, ``run.warmup`` to
``"auto"``, ``stations.product.on_full`` to ``"lose"``; a mapping may add a new entry
(``stations.audit``, ``classes.refunds``). **None** removes the entry
(``stations.product.capacity``).

Every refusal is a :class:`~eda_sim.errors.ScenarioError`: a bad path is one fault
at ``param`` (naming the nearest valid path where there is one); whatever the
rebuilt scenario refuses comes back with its own faults, unchanged.
"""

from __future__ import annotations

import copy
import difflib
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from eda_sim.errors import Fault, ScenarioError
from eda_sim.scenario.document_types import (
    container_member,
    describe_field,
    describe_node,
    model_for,
    model_tag,
    number_kind,
)
from eda_sim.scenario.schema import ScenarioDocument

__all__ = ["PARAM_FAULT_PATH", "edited_document", "path_fault", "set_value"]

#: The fault path of every problem with the path itself (the CLI shows it as ``--param``).
PARAM_FAULT_PATH = "param"

#: Keys whose mappings are keyed by station name (a new station key may be added).
_STATION_KEYED = ("routing", "to")

_SCALE = ("rate", "mean")


def path_fault(message: str) -> ScenarioError:
    """The one fault of a bad path or value: at ``param``, as ``--param`` in the CLI."""
    return ScenarioError(Fault(PARAM_FAULT_PATH, message))


def _split(path: str) -> list[str]:
    """Split ``a.b[0].c`` into ``["a", "b", "0", "c"]``; refuse empty parts."""
    text = path.strip()
    parts = re.sub(r"\[([^\]]*)\]", r".\1", text).split(".")
    if not text or any(not part.strip() for part in parts):
        raise path_fault(
            f"{path!r} is not a dotted path to a number (e.g. 'arrivals.rate' or "
            "'stations.NAME.service.mean')"
        )
    return [part.strip() for part in parts]


def _unknown(
    path: Sequence[str], position: int, candidates: Sequence[str], owner: str
) -> ScenarioError:
    """``'x.y' is not a field``, with the nearest candidate as a full path, or the choices."""
    typed = ".".join(path)
    part = path[position]
    close = difflib.get_close_matches(part, list(candidates), n=1, cutoff=0.6)
    if close:
        better = ".".join([*path[:position], close[0], *path[position + 1 :]])
        return path_fault(f"{typed!r} is not a field: did you mean {better!r}?")
    where = ".".join(path[:position]) or "the scenario"
    listed = ", ".join(candidates) if candidates else "nothing"
    return path_fault(f"{typed!r} is not a field: {where} has no {part!r} (it has: {listed})")


def _matching_key(node: dict[str, Any], parts: Sequence[str], position: int) -> tuple[str, int]:
    """The key of ``node`` at ``parts[position]``, joining parts for names with dots in them."""
    for end in range(len(parts), position, -1):
        key = ".".join(parts[position:end])
        if key in node:
            return key, end
    return parts[position], position + 1


def _station_index(part: str, stations: Sequence[str], length: int) -> int | None:
    if part in stations:
        return stations.index(part)
    if part.isdigit() and int(part) < length:
        return int(part)
    return None


def _switch_form(spec: dict[str, Any], key: str) -> None:
    """Drop (or convert) the parameters of a distribution that conflict with setting ``key``."""
    dist = spec.get("dist")
    if dist == "exponential" and key in _SCALE:
        spec.pop("mean" if key == "rate" else "rate", None)
    elif dist in ("erlang", "gamma"):
        shape_key = "k" if dist == "erlang" else "shape"
        if key in _SCALE:
            if key == "rate" and "cv" in spec:  # mean and cv -> shape and rate
                shape = 1.0 / spec.pop("cv") ** 2
                if dist == "erlang" and abs(shape - round(shape)) <= 1e-9 * shape:
                    shape = round(shape)
                spec[shape_key] = shape
            spec.pop("mean" if key == "rate" else "rate", None)
        elif key in (shape_key, "cv"):
            if key == "cv" and "rate" in spec and shape_key in spec:  # keep the mean
                spec["mean"] = spec[shape_key] / spec.pop("rate")
            spec.pop("cv" if key == shape_key else shape_key, None)
    elif dist == "lognormal":
        if key in ("mean", "cv") and "mu" in spec and "sigma" in spec:
            mu, sigma = spec.pop("mu"), spec.pop("sigma")
            spec["mean"] = math.exp(mu + sigma**2 / 2)
            spec["cv"] = math.sqrt(math.expm1(sigma**2))
        elif key in ("mu", "sigma") and "mean" in spec and "cv" in spec:
            mean, cv = spec.pop("mean"), spec.pop("cv")
            variance = math.log1p(cv**2)
            spec["mu"] = math.log(mean) - variance / 2
            spec["sigma"] = math.sqrt(variance)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _set(
    container: dict[str, Any] | list[Any], key: str | int, annotation: Any, value: Any, path: str
) -> None:
    """Set a number (checked and converted), replace a node whole, or remove it (None)."""
    if _is_number(value):
        _set_number(container, key, annotation, float(value), path)
    elif value is None:
        if isinstance(container, list):
            raise path_fault(f"{path} is a list entry: it cannot be removed")
        container.pop(str(key), None)
    elif isinstance(container, dict):
        container[str(key)] = copy.deepcopy(value)
    else:
        assert isinstance(key, int)
        container[key] = copy.deepcopy(value)


def _set_number(
    container: dict[str, Any] | list[Any],
    key: str | int,
    annotation: Any,
    value: float,
    path: str,
) -> None:
    kind = number_kind(annotation)
    if kind is None:
        if isinstance(container, dict) and key in container:
            shown = describe_node(container[key])
        else:
            shown = describe_field(annotation)
        raise path_fault(f"{path} is not a number (it is {shown})")
    number: float | int = float(value)
    if kind is int:
        if not float(value).is_integer():
            raise path_fault(f"{path} must be a whole number, got {value:g}")
        number = int(value)
    if isinstance(container, dict):
        assert isinstance(key, str)
        if container.get("dist") is not None:
            _switch_form(container, key)
        container[key] = number
    else:
        assert isinstance(key, int)
        container[key] = number


def _check_style(raw: dict[str, Any], parts: Sequence[str]) -> None:
    """Refuse the one-class paths in a scenario with classes, and the reverse, with a hint."""
    head = parts[0]
    classes = raw.get("classes")
    if classes is not None and head in ("arrivals", "routing"):
        names = list(classes)
        better = ".".join(["classes", names[0], *parts])
        raise path_fault(
            f"{'.'.join(parts)!r} is not a field: this scenario has event classes "
            f"({', '.join(names)}); did you mean {better!r}?"
        )
    if classes is None and head == "classes":
        rest = parts[2:] if len(parts) > 2 else ["arrivals", "rate"]
        raise path_fault(
            f"{'.'.join(parts)!r} is not a field: this scenario has one event class, "
            f"written without classes:; did you mean {'.'.join(rest)!r}?"
        )


def set_value(raw: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at the dotted ``path`` of the plain document ``raw``, in place.

    Parameters
    ----------
    raw : dict
        A scenario document as plain data (``ScenarioDocument.model_dump(mode="json")``).
    path : str
        Dotted path (see the module's documentation).
    value : object
        A number, a node that replaces the one at ``path`` whole, or None to remove it.

    Raises
    ------
    ScenarioError
        At ``param`` for a path that names no field (with the nearest valid path), a
        number where the field is not one, or a fractional whole number.
    """
    parts = _split(path)
    number = _is_number(value)
    if number:
        value = float(value)
    stations = list(raw.get("stations") or {})
    _check_style(raw, parts)
    walk = _Walk(parts, ".".join(parts), value, number, stations, raw)
    while not _step(walk):
        pass


@dataclass
class _Walk:
    """Where :func:`set_value` is on its way down the path, and what it sets at the end."""

    parts: list[str]
    shown: str
    value: Any
    number: bool
    stations: list[str]
    node: Any
    annotation: Any = ScenarioDocument
    #: The last model field passed: tells what a mapping is keyed by.
    field_name: str = ""
    position: int = 0

    @property
    def last(self) -> bool:
        """Whether the walk is at the path's last part."""
        return self.position == len(self.parts) - 1

    @property
    def where(self) -> str:
        """The path walked so far."""
        return ".".join(self.parts[: self.position])


def _step(walk: _Walk) -> bool:
    """Take one step down the path (a model's field, a mapping's key, a list's index).

    Returns True once the value is set.
    """
    if isinstance(walk.node, dict):
        model = model_for(walk.annotation, walk.node)
        if model is not None:
            return _field_step(walk, model)
        return _key_step(walk)
    if isinstance(walk.node, list):
        return _index_step(walk)
    kind = describe_node(walk.node)
    raise path_fault(f"{walk.shown!r} is not a field: {walk.where} is {kind}, not a mapping")


def _field_step(walk: _Walk, model: type[BaseModel]) -> bool:
    """A step into a field of a model (``rate`` of a renewal stream sets its gaps' mean)."""
    part, last, value = walk.parts[walk.position], walk.last, walk.value
    fields = model.model_fields
    renewal_rate = last and walk.number and model_tag(model) == "renewal" and part == "rate"
    if part not in fields and renewal_rate:
        if value <= 0:
            raise ScenarioError(Fault(walk.shown, f"must be > 0, got {value:g}"))
        walk.node, walk.annotation = walk.node["interarrival"], fields["interarrival"].annotation
        part, walk.value = "mean", 1.0 / value
        interarrival = model_for(walk.annotation, walk.node)
        assert interarrival is not None
        model, fields = interarrival, interarrival.model_fields
    deterministic = model_tag(model) == "deterministic"
    if part not in fields and walk.number and part == "mean" and deterministic:
        part = "value"
    if part not in fields:
        raise _unknown(walk.parts, walk.position, list(fields), walk.where)
    child_annotation = fields[part].annotation
    if last:
        _set(walk.node, part, child_annotation, walk.value, walk.shown)
        return True
    if part not in walk.node:
        if part != "routing":
            raise path_fault(
                f"{walk.shown!r} is not a field: {'.'.join(walk.parts[: walk.position + 1])} "
                "is not in the scenario"
            )
        walk.node[part] = {}
    walk.node, walk.annotation, walk.field_name = walk.node[part], child_annotation, part
    walk.position += 1
    return False


def _key_step(walk: _Walk) -> bool:
    """A step into a mapping keyed by names (stations, classes; routing rows by station)."""
    element = container_member(walk.annotation, dict)
    key, end = _matching_key(walk.node, walk.parts, walk.position)
    station_keyed = walk.field_name in _STATION_KEYED
    if key not in walk.node:
        whole_node = end == len(walk.parts) and isinstance(walk.value, dict)
        if not (station_keyed and key in walk.stations) and not whole_node:
            choices = walk.stations if station_keyed else list(walk.node)
            raise _unknown(walk.parts, walk.position, choices, walk.where)
        if end < len(walk.parts):
            walk.node[key] = {}
    if end == len(walk.parts):
        _set(walk.node, key, element, walk.value, walk.shown)
        return True
    walk.node, walk.annotation, walk.position = walk.node[key], element, end
    if not station_keyed:
        walk.field_name = ""
    return False


def _index_step(walk: _Walk) -> bool:
    """A step into a list, by index (a routing matrix's rows and columns also by station)."""
    part = walk.parts[walk.position]
    element = container_member(walk.annotation, list)
    length = len(walk.node)
    routing = walk.field_name == "routing"
    index = (
        _station_index(part, walk.stations, length)
        if routing
        else (int(part) if part.isdigit() and int(part) < length else None)
    )
    if index is None:
        choices = walk.stations if routing else [str(i) for i in range(length)]
        raise _unknown(walk.parts, walk.position, choices, walk.where)
    if walk.last:
        _set(walk.node, index, element, walk.value, walk.shown)
        return True
    walk.node, walk.annotation, walk.position = walk.node[index], element, walk.position + 1
    return False


def edited_document(document: ScenarioDocument, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The plain data of ``document`` with every ``{path: value}`` of ``changes`` set, in order.

    The document itself is left unchanged; nothing is validated beyond the paths
    (the caller rebuilds the scenario from the result, which checks the rest).
    """
    raw: dict[str, Any] = document.model_dump(mode="json", exclude_none=True)
    for path, value in changes.items():
        set_value(raw, path, value)
    return raw
