"""Terminal output that fits its width (layer 7): folded tables, no trailing spaces.

The tables of :mod:`eda_sim.cli.tables` are built once, wide. Printed where they
are wider than the console (an 80-column terminal, ``COLUMNS=80`` on a pipe), a
table switches to a compact layout instead of letting :mod:`rich` cut its cells
(``0.0042706 ± 0.00000…``, ``invento…``):

1. a light box (a rule under the header, two spaces between columns);
2. the method column becomes a footnote column: a letter per distinct method,
   the methods listed under the table (``[a] M/M/1 (exact)``);
3. the columns that still do not fit fold into bands: each band repeats the key
   columns (the station, the metric) and takes as many of the others as fit;
4. names wrap inside their column (a name column narrows down to
   :data:`KEY_WIDTH`; a longer word folds); numbers never wrap, so every printed
   number is whole.

:func:`output_console` gives the console of standard output that does this, honours
``COLUMNS`` on a pipe as on a terminal, and writes no trailing spaces. Whatever it
prints is first made inert (:func:`inert`): every title, header, cell and caption
has its control characters escaped and no rich markup read, whichever table built
it, so a station name or time unit holding ``ESC [2J``, an OSC-8 link or BEL is
shown as written and cannot drive the terminal.
"""

from __future__ import annotations

import copy
import dataclasses
import errno
import os
import sys
from typing import IO, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

from eda_sim.text import escape_controls

__all__ = [
    "KEY_WIDTH",
    "NOTE_HEADERS",
    "OFFLINE_WIDTH",
    "MeasuredTable",
    "fitted",
    "output_console",
]

#: Line width of output written to a pipe or a file when ``COLUMNS`` is not set.
OFFLINE_WIDTH = 160
#: Headers of the columns that become footnotes in the compact layout.
NOTE_HEADERS = ("method", "method / reason")
#: Narrowest a name column is made in the compact layout; a longer word folds.
KEY_WIDTH = 16


class _TrimmedLines:
    """A text stream that drops the spaces at the end of every line written to it."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        for line in lines:
            self._stream.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"


class FittingConsole(Console):
    """A :class:`rich.console.Console` whose tables fit its width (:func:`fitted`)."""

    def on_broken_pipe(self) -> None:
        """Leave a closed pipe to the command (:func:`eda_sim.cli.outputs.to_stdout`).

        Rich would exit with code 1 at once; the command has files to finish.
        """
        raise BrokenPipeError(errno.EPIPE, "standard output's reader went away")

    def print(self, *objects: Any, **options: Any) -> None:
        """Print like :meth:`rich.console.Console.print`, each object inert and fitted first."""
        super().print(*(fitted(self, inert(item)) for item in objects), **options)


def _inert_text(text: str) -> str:
    """``text`` with its control characters escaped, its line breaks kept."""
    return "\n".join(escape_controls(line) for line in text.split("\n"))


def inert(renderable: Any) -> Any:
    """``renderable`` with every text in it escaped (:func:`~eda_sim.text.escape_controls`).

    A string becomes a :class:`~rich.text.Text` (its markup is shown, not read); a
    text holding a control character is rebuilt escaped (line breaks kept); a
    table is copied with its title, caption, headers, footers and cells made
    inert, a group with its parts. Anything else is returned as it is.
    """
    if isinstance(renderable, str):
        return Text(_inert_text(renderable))
    if isinstance(renderable, Text):
        plain = renderable.plain
        if _inert_text(plain) == plain:
            return renderable
        return Text(
            _inert_text(plain),
            style=renderable.style,
            justify=renderable.justify,
            overflow=renderable.overflow,
            no_wrap=renderable.no_wrap,
        )
    if isinstance(renderable, Group):
        return Group(*(inert(part) for part in renderable.renderables), fit=renderable.fit)
    if not isinstance(renderable, Table):
        return renderable
    table = copy.copy(renderable)
    table.__class__ = MeasuredTable
    table.__dict__.pop("_measured", None)  # a copy measures its own columns
    table.columns = [
        dataclasses.replace(
            column,
            header=inert(column.header),
            footer=inert(column.footer),
            _cells=[inert(cell) for cell in column.cells],
        )
        for column in renderable.columns
    ]
    if table.title is not None:
        table.title = inert(table.title)
    if table.caption is not None:
        table.caption = inert(table.caption)
    return table


class MeasuredTable(Table):
    """A :class:`rich.table.Table` that measures each column's cells once.

    Rich measures every cell of a table each time it asks how wide a column is:
    twice when the table is measured (:func:`fitted`), once more when it is
    printed. A column of text cells only, without a fixed, least or most width,
    measures the same at every width its widest cell fits in (nothing is cut:
    each cell's measure is its text's, plus its padding, below the width). So the
    first measure of such a column, taken where it was not cut, answers every
    later question at a width at least that wide; any other question goes to
    rich. The widths, and so the printed characters, are rich's own.
    """

    def _measure_column(self, console: Console, options: Any, column: Column) -> Measurement:
        width: int = options.max_width
        key = (id(console), column._index)
        measured: dict[tuple[int, int], Measurement] = self.__dict__.setdefault("_measured", {})
        known = measured.get(key)
        if known is not None and width >= max(known.maximum, 1):
            return known
        measurement: Measurement = super()._measure_column(console, options, column)
        if measurement.maximum < width and _measured_once(column):
            measured[key] = measurement
        return measurement


def _measured_once(column: Column) -> bool:
    """Whether ``column`` measures the same at every width its widest cell fits in."""
    if column.width is not None or column.min_width is not None or column.max_width is not None:
        return False
    return all(isinstance(cell, Text) for cell in (column.header, column.footer, *column.cells))


def output_console(stream: IO[str] | None = None) -> FittingConsole:
    """The console of standard output: fitted tables, ``COLUMNS`` honoured, no trailing spaces.

    On a terminal the width is the terminal's (or ``COLUMNS``); on a pipe or a file
    it is ``COLUMNS`` when set, else :data:`OFFLINE_WIDTH`.
    """
    trimmed = _TrimmedLines(stream or sys.stdout)
    console = FittingConsole(file=trimmed)  # type: ignore[arg-type]
    if console.is_terminal or os.environ.get("COLUMNS", "").strip().isdigit():
        return console
    return FittingConsole(file=trimmed, width=OFFLINE_WIDTH)  # type: ignore[arg-type]


def fitted(console: Console, renderable: Any) -> Any:
    """``renderable`` as it fits ``console.width``: a table too wide gets the compact layout."""
    if not isinstance(renderable, Table) or _width(console, renderable) <= console.width:
        return renderable
    table, notes = _with_footnotes(renderable)
    keys = _key_count(table)
    parts: list[RenderableType] = []
    if table.title is not None:
        parts.append(_as_text(table.title))
    for number, band in enumerate(_bands(console, table, keys)):
        if number:
            parts.append(Text(""))
        parts.append(band)
    if table.caption is not None:
        parts.append(_as_text(table.caption))
    parts.extend(Text(f"[{label}] ") + Text(note) for label, note in notes)
    return Group(*parts)


def _as_text(value: Any) -> Text:
    return value if isinstance(value, Text) else Text(str(value))


def _width(console: Console, table: Table) -> int:
    return Measurement.get(console, console.options.update_width(10_000), table).maximum


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _label(index: int) -> str:
    """``a``, ``b``, ..., ``z``, ``aa``, ``ab``, ...: footnote marks that are not numbers."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _with_footnotes(table: Table) -> tuple[Table, list[tuple[str, str]]]:
    """A copy of ``table`` whose note columns show a letter per distinct note, and the notes."""
    labels: dict[str, str] = {}
    columns: list[Column] = []
    for column in table.columns:
        cells = list(column.cells)
        if _plain(column.header) in NOTE_HEADERS:
            shown: list[RenderableType] = []
            for cell in cells:
                note = _plain(cell)
                if note and note not in labels:
                    labels[note] = _label(len(labels))
                shown.append(Text(f"[{labels[note]}]") if note else "")
            cells = shown
            column = dataclasses.replace(column, header="", justify="left")
        columns.append(dataclasses.replace(column, _cells=cells))
    copy = Table(*columns, title=table.title, caption=table.caption, **_compact_style())
    copy.rows.extend(dataclasses.replace(row) for row in table.rows)
    return copy, [(label, note) for note, label in labels.items()]


def _compact_style() -> dict[str, Any]:
    return {
        "box": box.SIMPLE_HEAD,
        "show_edge": False,
        "pad_edge": False,
        "padding": (0, 1, 0, 0),
    }


def _key_count(table: Table) -> int:
    """The leading columns that name a row (before the first number after a name)."""
    seen_name = False
    for index, column in enumerate(table.columns):
        if column.justify == "right" and seen_name:
            return index
        seen_name = seen_name or column.justify != "right"
    return 1


#: Columns between two columns of the compact layout (the separator and one space).
GAP = 2


@dataclasses.dataclass(frozen=True)
class _Extent:
    """How wide a column of the compact layout may be: natural, without folding, at least."""

    natural: int
    unfolded: int
    least: int


def _extent(console: Console, column: Column) -> _Extent:
    options = console.options.update_width(10_000)
    sizes = [Measurement.get(console, options, cell) for cell in [column.header, *column.cells]]
    natural = max(size.maximum for size in sizes)
    if column.justify == "right":  # a number: never narrower than itself
        return _Extent(natural, natural, natural)
    word = max(size.minimum for size in sizes)
    return _Extent(natural, min(natural, max(word, KEY_WIDTH)), min(natural, KEY_WIDTH))


def _allot(extents: list[_Extent], width: int, fold: bool = False) -> list[int] | None:
    """Column widths that fit ``width``, the widest name columns narrowed first; ``None`` if none.

    Names wrap only between words; with ``fold`` a word longer than
    :data:`KEY_WIDTH` may also fold (no name column gets narrower than that).
    """
    widths = [extent.natural for extent in extents]
    room = width - GAP * (len(widths) - 1)
    floor = [extent.least if fold else extent.unfolded for extent in extents]
    while sum(widths) > room:
        slack = [(w - f, i) for i, (w, f) in enumerate(zip(widths, floor, strict=True)) if w > f]
        if not slack:
            return None
        widths[max(slack)[1]] -= 1
    return widths


def _band(table: Table, indices: list[int], widths: list[int]) -> Table:
    """The rows of ``table`` in the columns ``indices`` at ``widths``: names wrap, numbers not."""
    columns = []
    for index, width in zip(indices, widths, strict=True):
        column = table.columns[index]
        folding = column.justify != "right"  # names and notes wrap (a word too long folds)
        columns.append(
            dataclasses.replace(
                column,
                width=width,
                no_wrap=not folding,
                overflow="fold" if folding else column.overflow,
                _cells=list(column.cells),
            )
        )
    band = Table(*columns, **_compact_style())
    band.rows.extend(dataclasses.replace(row) for row in table.rows)
    return band


def _bands(console: Console, table: Table, keys: int) -> list[Table]:
    """The bands of ``table``: the key columns, then as many of the others as fit the width.

    Names are wrapped between words; a long word folds only where the keys and a
    single other column do not fit otherwise. A band that cannot fit even that
    is printed at its natural width (the console wraps its lines): no number is cut.
    """
    extents = [_extent(console, column) for column in table.columns]
    key_columns = list(range(min(keys, len(table.columns))))

    def widths(indices: list[int], fold: bool = False) -> list[int] | None:
        return _allot([extents[i] for i in indices], console.width, fold)

    bands: list[Table] = []
    current = list(key_columns)
    for index in [*range(len(key_columns), len(table.columns)), None]:
        alone = len(current) == len(key_columns)
        if index is not None and (alone or widths([*current, index]) is not None):
            current.append(index)
            continue
        natural = [extents[i].natural for i in current]
        bands.append(_band(table, current, widths(current) or widths(current, True) or natural))
        if index is not None:
            current = [*key_columns, index]
    return bands
