"""A value from the user's file shown in a message, bounded; fault paths; suggestions (layer 2).

:func:`describe_value` writes at most :data:`VALUE_WIDTH` characters of any value
(a million-item list or a YAML alias bomb is walked only that far),
:func:`format_path` joins a fault's location, and :func:`suggest` offers the nearest
allowed word.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["VALUE_WIDTH", "describe_value", "format_path", "suggest"]


#: Characters of a value shown in a message (longer ones end in ``...``).
VALUE_WIDTH = 60
#: Nesting levels of a value walked to describe it.
_DEPTH = 32
#: Whole numbers with more bits than this are described by their size, not written out.
_INT_BITS = 200


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, int) and value.bit_length() > _INT_BITS:
        digits = int(value.bit_length() * 0.30103) + 1  # log10(2): within one digit
        return f"{'-' if value < 0 else ''}a whole number of about {digits} digits"
    if isinstance(value, str) and len(value) > VALUE_WIDTH:
        return repr(value[: VALUE_WIDTH + 1])[:-1]  # no closing quote: it is cut
    return repr(value)


def _pieces(value: Any, depth: int = 0) -> Iterator[str]:
    """``repr(value)`` piece by piece, so that a huge value is never written out whole."""
    if depth > _DEPTH:
        yield "..."
    elif isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ", " if index else ""
            yield from _pieces(key, depth + 1)
            yield ": "
            yield from _pieces(item, depth + 1)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for index, item in enumerate(value):
            yield ", " if index else ""
            yield from _pieces(item, depth + 1)
        yield "]"
    else:
        yield _scalar(value)


def describe_value(value: Any) -> str:
    """Show a value from the user's file the way they wrote it, in at most 60 characters.

    Time and memory do not depend on the size of the value: a list of a million
    items (or a YAML alias bomb) is walked only as far as the 60 characters shown.

    Examples
    --------
    >>> describe_value(2.0), describe_value(0.1), describe_value(True), describe_value(None)
    ('2', '0.1', 'true', 'null')
    >>> describe_value([[0.5] * 3] * 10**6)  # not written out whole
    '[[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5,...'
    >>> describe_value(10**400)
    'a whole number of about 401 digits'
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float):  # short, unless rounding would hide why it was refused
        short = f"{value:.12g}"
        return short if float(short) == value else repr(value)
    if isinstance(value, int):
        return _scalar(value)
    text = ""
    for piece in _pieces(value):
        text += piece
        if len(text) > VALUE_WIDTH:
            return text[: VALUE_WIDTH - 3] + "..."
    return text


def format_path(parts: Sequence[str | int]) -> str:
    """Join location parts as ``a.b[0][1].c``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def suggest(word: str, allowed: Sequence[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the nearest allowed word, or ``""``."""
    close = difflib.get_close_matches(word, list(allowed), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
