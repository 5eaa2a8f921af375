"""What the scenario document's schema says a node is, for editing it at a path (layer 2).

The pydantic models of :mod:`eda_sim.scenario.schema` read as types: the members of a
field (unions flattened), the model of a mapping (a tagged union resolved by its tag),
the element type of a mapping or list, whether a field is a number.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

__all__ = [
    "container_member",
    "describe_field",
    "describe_node",
    "field_members",
    "model_for",
    "model_tag",
    "number_kind",
]


def field_members(annotation: Any) -> list[Any]:
    """The types a field accepts: ``Annotated`` unwrapped, unions flattened, ``None`` dropped."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [member for arg in typing.get_args(annotation) for member in field_members(arg)]
    return [] if annotation is type(None) else [annotation]


def model_tag(model: type[BaseModel]) -> str | None:
    """The tag (``dist`` or ``process`` literal) of a member of a tagged union, if any."""
    for key in ("dist", "process"):
        field = model.model_fields.get(key)
        if field is not None and typing.get_origin(field.annotation) is typing.Literal:
            return str(typing.get_args(field.annotation)[0])
    return None


def model_for(annotation: Any, node: dict[str, Any]) -> type[BaseModel] | None:
    """The pydantic model that describes ``node`` (a tagged union is resolved by its tag)."""
    models = [
        m for m in field_members(annotation) if isinstance(m, type) and issubclass(m, BaseModel)
    ]
    if len(models) == 1:
        return models[0]
    given = node.get("dist", node.get("process"))
    return next((m for m in models if model_tag(m) == given), None)


def container_member(annotation: Any, kind: type) -> Any | None:
    """The element type of the ``dict[str, X]`` or ``list[X]`` member of a field, if any."""
    for member in field_members(annotation):
        if typing.get_origin(member) is kind:
            return typing.get_args(member)[-1]
    return None


def number_kind(annotation: Any) -> type | None:
    """``float`` or ``int`` when the field accepts a number, else None."""
    members = field_members(annotation)
    if float in members:
        return float
    if int in members:
        return int
    return None


def describe_node(value: Any) -> str:
    """A node of the document in words: a mapping, a list, or the value itself."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def describe_field(annotation: Any) -> str:
    """What a field holds when the document leaves it out: text, a list, a mapping."""
    for member in field_members(annotation):
        if member is str or typing.get_origin(member) is typing.Literal:
            return "text"
        if typing.get_origin(member) is list:
            return "a list"
    return "a mapping"
