"""A result's JSON text, fast, byte for byte what :func:`json.dumps` writes (layer 5).

At 1,000 stations a run's document holds millions of numbers (the sample path of
every station, the hop table), and :func:`json.dumps` with an indent walks them
in its pure-Python encoder, one generator step per number. :func:`dumps` gives
the same text: it follows the layout of :mod:`json`'s encoder (``"[" / "{"``, a
newline and the indent before every item, ``","`` between items, ``": "`` after
a key, ``"[]"`` and ``"{}"`` when empty), and writes a list of plain numbers in
one :meth:`str.join` of ``float.__repr__`` / ``int.__repr__`` -- the functions
:mod:`json` formats numbers with. Anything else (a ``bool``, ``None``, a
subclass of ``float`` or ``int``, a non-string key) goes through the item by
item path, which formats leaves exactly as :mod:`json` does; a NaN or an
infinity raises :class:`ValueError` as ``allow_nan=False`` does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

__all__ = ["dumps"]

_encode_string = json.encoder.encode_basestring_ascii
_float_text = float.__repr__
_int_text = int.__repr__
_NUMBER_KINDS = frozenset({float, int, type(None)})


def dumps(document: Any, indent: int = 2) -> str:
    """``json.dumps(document, indent=indent, allow_nan=False)``, the same text, faster."""
    return "".join(_encode(document, " " * indent, 0))


def _encode(value: Any, indent: str, level: int) -> Iterator[str]:
    if isinstance(value, dict):
        yield from _encode_dict(value, indent, level)
    elif isinstance(value, list | tuple):
        yield from _encode_list(value, indent, level)
    else:
        yield _leaf(value)


def _leaf(value: Any) -> str:
    """A value that is not a container, as :mod:`json` writes it."""
    if isinstance(value, str):
        return str(_encode_string(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return _int_text(value)
    if isinstance(value, float):
        return _float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _float(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
    return _float_text(value)


def _key(key: Any) -> str:
    """A dictionary key as :mod:`json` writes it (a number or a constant as a string)."""
    if isinstance(key, str):
        return str(_encode_string(key))
    if key is None or isinstance(key, bool | int | float):
        return str(_encode_string(_leaf(key)))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _encode_dict(value: dict[Any, Any], indent: str, level: int) -> Iterator[str]:
    if not value:
        yield "{}"
        return
    inner = "\n" + indent * (level + 1)
    first = True
    for key, item in value.items():
        yield ("{" if first else ",") + inner + _key(key) + ": "
        first = False
        yield from _encode(item, indent, level + 1)
    yield "\n" + indent * level + "}"


def _encode_list(value: list[Any] | tuple[Any, ...], indent: str, level: int) -> Iterator[str]:
    if not value:
        yield "[]"
        return
    inner = "\n" + indent * (level + 1)
    numbers = _numbers(value)
    if numbers is not None:
        yield "[" + inner + ("," + inner).join(numbers) + "\n" + indent * level + "]"
        return
    first = True
    for item in value:
        yield "[" + inner if first else "," + inner
        first = False
        yield from _encode(item, indent, level + 1)
    yield "\n" + indent * level + "]"


def _numbers(value: list[Any] | tuple[Any, ...]) -> list[str] | None:
    """The texts of a list of plain finite floats, ints and ``None``, or ``None`` for any other.

    ``bool`` and subclasses of ``float``/``int`` make it another list (their types
    are not among these); so does a NaN or an infinity, which the item by item path
    then refuses as :mod:`json` does.
    """
    kinds = set(map(type, value))
    if kinds == {float}:
        if not math.isfinite(sum(value)):  # a NaN or an infinity (or an overflowing sum)
            return None
        return list(map(_float_text, value))
    if kinds == {int}:
        return list(map(_int_text, value))
    if not kinds <= _NUMBER_KINDS:
        return None
    if not math.isfinite(sum(item for item in value if type(item) is float)):
        return None
    return [
        "null" if item is None else _float_text(item) if type(item) is float else _int_text(item)
        for item in value
    ]
