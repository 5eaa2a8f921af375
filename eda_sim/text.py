r"""Text shown to a user: control characters escaped, long values elided (layer 0).

Names and values in a scenario are the user's own text, and a hostile file may put
terminal escape sequences (ESC, OSC hyperlinks, BEL), line breaks or a 20,000-
character name into them. Everything eda-sim prints to a terminal passes through
:func:`escape_controls`, and every error line through :func:`shorten`, so that

* no control character reaches the terminal: C0 and C1 controls and DEL are written
  as Python escapes (``\x1b``, ``\n``, ``\x9b``), and the invisible Unicode
  characters that reorder or hide text (bidirectional overrides and isolates, line
  and paragraph separators, zero-width characters) as ``\u202e``;
* a message line stays short (:data:`MAX_LINE` characters): a single word or
  quoted value longer than :data:`MAX_WORD` (a path: :data:`MAX_PATH_WORD`) is
  cut to its start and end with its length in between,
  ``'aaaa…aaaa' (20,000 characters)``, and a line still too long keeps its
  start.

This module imports only the standard library.
"""

from __future__ import annotations

import re
import textwrap

__all__ = [
    "MAX_LINE",
    "MAX_PATH_WORD",
    "MAX_WORD",
    "elide",
    "escape_controls",
    "shorten",
    "wrap_message",
]

#: Most characters of one message line.
MAX_LINE = 200
#: Longest word (or quoted value) kept whole in a message line.
MAX_WORD = 80
#: Longest word holding a ``/`` (a file's path) kept whole in a message line.
MAX_PATH_WORD = 160

# C0 controls, DEL, C1 controls; bidirectional embeddings, overrides and isolates;
# line and paragraph separators; zero-width and other invisible format characters.
_CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# A run of characters without spaces, or a quoted value that may hold some.
_WORDS = re.compile(r"'[^']*'|\"[^\"]*\"|\S+")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    r"""Return ``text`` with every control or invisible formatting character escaped.

    Examples
    --------
    >>> escape_controls("ok\x1b]8;;http://x\x07link\n")
    'ok\\x1b]8;;http://x\\x07link\\n'
    >>> escape_controls("naïve café")
    'naïve café'
    """
    return _CONTROLS.sub(_escape, text)


def elide(text: str, limit: int = MAX_WORD) -> str:
    """Cut ``text`` longer than ``limit`` to its start and end, with its length between.

    Examples
    --------
    >>> elide("x" * 1000, 20)
    'xxxxxxx…xxxxxxx (1,000 characters)'
    >>> elide("short")
    'short'
    """
    if len(text) <= limit:
        return text
    keep = max(2, (limit - 6) // 2)
    quoted = len(text) > 1 and text[0] in "'\"" and text[-1] == text[0]
    length = len(text) - 2 if quoted else len(text)  # the value's own length
    return f"{text[:keep]}…{text[-keep:]} ({length:,} characters)"


def shorten(line: str, limit: int = MAX_LINE, word: int = MAX_WORD) -> str:
    """Escape control characters, elide over-long words, and cut the line to ``limit``.

    Examples
    --------
    >>> shorten("routing.a: unknown station '" + "b" * 5000 + "'", word=20)
    "routing.a: unknown station 'bbbbbb…bbbbbb' (5,000 characters)"
    >>> len(shorten("word " * 100)) <= MAX_LINE
    True
    """
    escaped = escape_controls(line)
    text = _elide_words(escaped, word)
    # still too long (two long paths): elide every long word harder, so that the
    # rule at the end is not what gets cut
    for shorter in (word, word // 2):
        if len(text) <= limit:
            break
        text = _elide_words(escaped, shorter, paths=shorter)
    if len(text) > limit:  # the start says where and which rule: keep it
        text = text[: limit - 1] + "…"
    return text


def _elide_words(text: str, word: int, paths: int = MAX_PATH_WORD) -> str:
    """``text`` with every word longer than ``word`` (one holding a ``/``: ``paths``) elided."""
    if len(text) <= word:
        return text

    def cut(match: re.Match[str]) -> str:
        found = match.group()
        return elide(found, max(word, paths) if "/" in found else word)

    return _WORDS.sub(cut, text)


def wrap_message(line: str, limit: int = MAX_LINE, word: int = MAX_WORD) -> list[str]:
    """``line`` escaped, long words elided, folded at spaces into lines of at most ``limit``.

    For a message that must be said whole (a note with the horizon to use):
    nothing is cut, the lines after the first are indented by two spaces.

    Examples
    --------
    >>> wrap_message("note: " + "word " * 30, limit=40)[1]
    '  word word word word word word word'
    >>> wrap_message("note: station " + "b" * 5000 + " is busy", limit=100)[1]
    '  characters) is busy'
    """
    text = _elide_words(escape_controls(line), word)
    if len(text) <= limit:
        return [text]
    return textwrap.wrap(
        text, width=limit, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
    )
