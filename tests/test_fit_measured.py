"""cli/fit's tables measured once print the same characters as rich measuring every time.

Byte-identity tests: random tables (plain, wrapped and wide-character names,
control characters, empty cells, line breaks, long words, titles, captions, note
columns, boxes and paddings) printed by :class:`~eda_sim.cli.fit.FittingConsole`
at narrow and wide widths, on a terminal (styles written) and not, compared with
the same tables printed as plain :class:`rich.table.Table` objects (every
measure rich's own).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from eda_sim.cli import fit

WORDS = ["s1", "inventory", "payment gateway", "漢字の駅", "é", "x" * 23, "", "a\tb", "\x1b[2J"]


def _cell(rng: np.random.Generator, number: bool) -> Any:
    if number:
        value = float(rng.normal() * 10.0 ** rng.integers(-4, 7))
        return f"{value:.5g} ± {abs(value) / 7:.2g}" if rng.random() < 0.5 else f"{value:.4g}"
    text = " ".join(str(rng.choice(WORDS)) for _ in range(int(rng.integers(0, 4))))
    if rng.random() < 0.1:
        text += "\nsecond line"
    return Text(text, style="bold") if rng.random() < 0.3 else text


def _table(rng: np.random.Generator) -> Table:
    columns = int(rng.integers(1, 9))
    numbers = [index > 0 and rng.random() < 0.6 for index in range(columns)]
    table = Table(
        title="a title" if rng.random() < 0.5 else None,
        caption=("a caption long enough to wrap at a narrow width" if rng.random() < 0.5 else None),
        box=[box.HEAVY_HEAD, box.SIMPLE, box.ROUNDED][int(rng.integers(3))],
        show_header=bool(rng.random() < 0.9),
        pad_edge=bool(rng.random() < 0.7),
        show_edge=bool(rng.random() < 0.7),
    )
    for index in range(columns):
        header = "method" if not numbers[index] and rng.random() < 0.2 else f"col {index}"
        table.add_column(
            header,
            justify="right" if numbers[index] else "left",
            style="cyan" if rng.random() < 0.3 else None,
        )
    for _ in range(int(rng.integers(0, 25))):
        table.add_row(*(_cell(rng, numbers[index]) for index in range(columns)))
    return table


def _printed(table: Table, width: int, terminal: bool, measured_once: bool) -> str:
    stream = io.StringIO()
    console = fit.FittingConsole(
        file=stream, width=width, force_terminal=terminal, color_system="truecolor"
    )
    inert = fit.inert(table)
    assert isinstance(inert, fit.MeasuredTable)
    if not measured_once:
        plain: Table = inert
        plain.__class__ = Table
    Console.print(console, fit.fitted(console, inert))
    return stream.getvalue()


@pytest.mark.parametrize("seed", range(30))
def test_random_tables_print_as_rich_measures_them(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = _table(rng)
    for width in (20, 40, 80, 160, 200):
        for terminal in (False, True):
            expected = _printed(table, width, terminal, measured_once=False)
            assert _printed(table, width, terminal, measured_once=True) == expected


def test_a_table_printed_twice_and_on_two_consoles_prints_the_same() -> None:
    """A measure kept for one console and one print is not another's."""
    table = _table(np.random.default_rng(7))
    inert = fit.inert(table)
    outputs = []
    for width in (200, 30, 200):
        stream = io.StringIO()
        console = fit.FittingConsole(file=stream, width=width)
        Console.print(console, fit.fitted(console, inert))
        outputs.append(stream.getvalue())
    plain: Table = inert
    plain.__class__ = Table
    for width, output in zip((200, 30, 200), outputs, strict=True):
        stream = io.StringIO()
        console = fit.FittingConsole(file=stream, width=width)
        Console.print(console, fit.fitted(console, inert))
        assert stream.getvalue() == output


@pytest.mark.parametrize("seed", range(10))
def test_random_tables_printed_by_rich_itself_at_any_width(seed: int) -> None:
    """Printed straight by rich (which narrows columns that do not fit), measured once or not."""
    table = _table(np.random.default_rng(100 + seed))
    for width in (12, 30, 60, 200, 30):
        measured = fit.inert(table)
        plain: Table = fit.inert(table)
        plain.__class__ = Table
        texts = []
        for shown in (measured, plain):
            stream = io.StringIO()
            console = Console(file=stream, width=width, force_terminal=True)
            console.print(shown)
            console.print(shown, width=max(width // 2, 1))
            texts.append(stream.getvalue())
        assert texts[0] == texts[1]


def test_a_copy_made_inert_again_measures_its_own_columns() -> None:
    """inert() of an inert table that was measured keeps none of the original's measures."""
    table = fit.inert(_table(np.random.default_rng(3)))
    stream = io.StringIO()
    Console(file=stream, width=200).print(table)
    again = fit.inert(table)
    assert isinstance(again, fit.MeasuredTable)
    assert "_measured" in table.__dict__
    assert "_measured" not in again.__dict__
