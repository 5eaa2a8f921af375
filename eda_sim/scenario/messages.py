"""Turn pydantic's validation errors into eda-sim's one-line faults (layer 2).

pydantic reports a location tuple that also holds the tags of tagged unions
(``"lognormal"``) and labels of plain unions (``"list[list[constrained-float]]"``).
These are not places in the user's file, so the location is walked alongside the
raw document and only real keys and indices are kept: the fault path is exactly
what the user typed (``stations.store.service.cv``). Errors from the members of a
union that do not match the kind of value given (a mapping where a matrix was
meant) are dropped; if none is left, one fault says what the field accepts. A
routing row takes a list (of stations) only at ``fanout``; elsewhere it takes a
probability, so a list there is one fault at its key, and errors from the row's
list member are not reported for any other value.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from eda_sim.errors import Fault
from eda_sim.scenario import schema
from eda_sim.scenario.values import VALUE_WIDTH, describe_value, format_path, suggest

__all__ = [
    "VALUE_WIDTH",
    "describe_value",
    "faults_from_validation",
    "format_path",
    "suggest",
]

_KINDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "dict_type": "a mapping",
    "list_type": "a list",
    "bool_type": "true or false",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}

_COMPARISONS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _union_members(annotation: Any) -> tuple[Any, ...]:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return tuple(
            member for arg in typing.get_args(annotation) for member in _union_members(arg)
        )
    return (annotation,)


def _member_tag(member: Any) -> str | None:
    if isinstance(member, type) and issubclass(member, BaseModel):
        for key in ("dist", "process"):
            field = member.model_fields.get(key)
            if field is not None and typing.get_origin(field.annotation) is typing.Literal:
                return str(typing.get_args(field.annotation)[0])
    return None


def _step(annotation: Any, element: str | int) -> Any:
    """Follow one location element from a type to the type below it, or None."""
    members = [m for m in _union_members(annotation) if m is not type(None)]
    if len(members) > 1:
        for member in members:
            if _member_tag(member) == element or _label_kind(str(element)) == _type_kind(member):
                return member
        return None
    annotation = members[0] if members else annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(element))
        return field.annotation if field is not None else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is dict:
        return args[1]
    if origin is list:
        return args[0]
    return None


def _fields_at(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    annotation: Any = root
    for element in loc:
        annotation = _step(annotation, element)
        if annotation is None:
            return []
    for member in _union_members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return list(member.model_fields)
    return []


def _tags_at(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    annotation: Any = root
    for element in loc:
        annotation = _step(annotation, element)
        if annotation is None:
            return []
    return [tag for member in _union_members(annotation) if (tag := _member_tag(member))]


def _type_kind(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is dict or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return "mapping"
    if origin is list:
        return "list"
    if annotation is str or origin is typing.Literal:
        return "text"
    if annotation in (int, float):
        return "number"
    return "other"


def _label_kind(label: str) -> str:
    if label.startswith("dict"):
        return "mapping"
    if label.startswith("list"):
        return "list"
    if label == "str" or label.startswith("literal"):
        return "text"
    if label in ("int", "float") or label.startswith("constrained-"):
        return "number"
    return "other"


def _value_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number"
    return "other"


#: What :func:`_child` returns when a location element is not a key or index in the document.
_ABSENT: Any = object()


def _child(node: Any, element: str | int) -> Any:
    """The value at key or index ``element`` of ``node`` as written, or :data:`_ABSENT`."""
    if isinstance(node, dict) and isinstance(element, str) and element in node:
        return node[element]
    if isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
        return node[element]
    return _ABSENT


def _walk(
    loc: Sequence[str | int], raw: Any, keep_last: bool
) -> tuple[list[str | int], list[tuple[str, Any]]]:
    """Split ``loc`` into the real path in ``raw`` and the union labels met on the way."""
    path: list[str | int] = []
    labels: list[tuple[str, Any]] = []
    node: Any = raw
    for position, element in enumerate(loc):
        last = position == len(loc) - 1
        child = _child(node, element)
        if child is not _ABSENT:
            path.append(element)
            node = child
        elif last and keep_last:
            path.append(element)
        else:
            labels.append((str(element), node))
    return path, labels


def _routing_key(
    loc: Sequence[str | int], raw: Any, root: type[BaseModel]
) -> tuple[list[str | int], Any, str] | None:
    """Where ``loc`` passes a routing row's key other than ``fanout``, and what is there.

    Returns the key's real path, its value in ``raw`` and the kind of the union
    member the error came from (``"list"`` for the list of stations only ``fanout``
    takes), or None when ``loc`` passes no such key.
    """
    annotation: Any = root
    node: Any = raw
    path: list[str | int] = []
    for position, element in enumerate(loc):
        if (
            annotation == schema.RoutingRow
            and isinstance(node, dict)
            and element in node
            and element != schema.FANOUT_KEY
        ):
            member = loc[position + 1] if position + 1 < len(loc) else ""
            return [*path, element], node[element], _label_kind(str(member))
        child = _child(node, element)
        if child is not _ABSENT:
            path.append(element)
            node = child
        annotation = _step(annotation, element)
        if annotation is None:
            return None
    return None


def _message(error: Any, root: type[BaseModel]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind in _COMPARISONS:
        symbol, key = _COMPARISONS[kind]
        return f"must be {symbol} {describe_value(ctx[key])}, got {describe_value(value)}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        allowed = _fields_at(root, error["loc"][:-1])
        hint = suggest(name, allowed) if allowed else ""
        listed = f" (allowed: {', '.join(allowed)})" if allowed and not hint else ""
        return f"unknown field{hint}{listed}"
    if kind == "finite_number":
        return f"must be a finite number, got {describe_value(value)}"
    whole_float = isinstance(value, float) and value.is_integer() and abs(value) < 2**53
    if kind in ("int_type", "int_from_float") and whole_float:
        return f"must be a whole number written without a decimal point, got {value!r}"
    if kind in _KINDS:
        return f"must be {_KINDS[kind]}, got {describe_value(value)}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}, got {describe_value(value)}"
    if kind == "union_tag_invalid":
        expected = [tag.strip(" '") for tag in str(ctx.get("expected_tags", "")).split(",")]
        tag = str(ctx.get("tag"))
        return (
            f"unknown {ctx.get('discriminator', '').strip(chr(39))} {tag!r}"
            f"{suggest(tag, expected)} (allowed: {', '.join(expected)})"
        )
    if kind == "union_tag_not_found":
        tags = _tags_at(root, error["loc"])
        return "is required" + (f" (allowed: {', '.join(tags)})" if tags else "")
    if kind == "too_short":
        return "must not be empty"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def faults_from_validation(
    error: ValidationError, raw: Any, root: type[BaseModel], prefix: str = ""
) -> list[Fault]:
    """Convert a pydantic error on ``raw`` into one fault per problem, paths as the user wrote them.

    Parameters
    ----------
    error : pydantic.ValidationError
        The error from ``root.model_validate(raw)``.
    raw : object
        The document that was validated (the parsed YAML).
    root : type of BaseModel
        The model it was validated against (used to list allowed field names).
    prefix : str
        Put in front of every path.
    """
    faults: list[Fault] = []
    seen: set[Fault] = set()  # the faults, for a quick test of whether one is new
    dropped: dict[str, tuple[Any, set[str]]] = {}
    kept_paths: list[str] = []
    literal_paths: set[str] = set()  # kept errors of a union's literal member

    def place(where: str) -> str:
        return format_path([prefix, where]) if prefix and where else prefix or where

    for item in error.errors():
        kind = item["type"]
        routing_key = _routing_key(item["loc"], raw, root)
        if routing_key is not None:
            key_path, value, member = routing_key
            if isinstance(value, list):  # one fault for the list, not one per element
                where = format_path(key_path)
                fault = Fault(
                    place(where), f"must be a probability, got a list {describe_value(value)}"
                )
                if fault not in seen:
                    seen.add(fault)
                    kept_paths.append(where)
                    faults.append(fault)
                continue
            if member == "list":  # only 'fanout' takes a list: not what was meant here
                continue
        path, labels = _walk(item["loc"], raw, keep_last=kind == "missing")
        where = format_path(path)
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            discriminator = str((item.get("ctx") or {}).get("discriminator", "")).strip("'")
            where = format_path([*path, discriminator]) if discriminator else where
        label_kinds = [(_label_kind(label), node) for label, node in labels]
        if any(kind_ not in ("other", _value_kind(node)) for kind_, node in label_kinds):
            _, accepted = dropped.setdefault(where, (item.get("input"), set()))
            # What the value could have been: the innermost union member's kind.
            inner = [kind_ for kind_, _ in label_kinds if kind_ != "other"][-1:]
            accepted.update(inner)
            continue
        fault = Fault(place(where), _message(item, root))
        if fault not in seen:
            seen.add(fault)
            kept_paths.append(where)
            faults.append(fault)
            if kind == "literal_error":
                literal_paths.add(where)
    for where, (value, accepted) in dropped.items():
        forms = " or ".join(
            f"a {kind_}" if kind_ != "text" else "text" for kind_ in sorted(accepted)
        )
        if where in literal_paths:  # 'auto' or 'none' ... or a number
            for i, fault in enumerate(faults):
                if fault.path == place(where):
                    faults[i] = Fault(fault.path, f"{fault.message} ({forms} is also accepted)")
            continue
        covered = where in kept_paths or any(
            other.startswith((where + ".", where + "[")) for other in (*kept_paths, *dropped)
        )
        if where.endswith(".fanout"):  # the one routing-row key that takes a list
            forms = "a list of stations"
        if not covered:  # report a wrong form once, where it is, not at every enclosing level
            faults.append(Fault(place(where), f"must be {forms}, got {describe_value(value)}"))
    return faults
