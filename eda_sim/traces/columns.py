"""The timestamp and type columns of a trace, picked from its header row (layer 1)."""

from __future__ import annotations

from eda_sim.errors import Fault, ScenarioError
from eda_sim.traces.format import TIME_COLUMNS, TYPE_COLUMNS, BadCellError, parse_time


def column_label(header: list[str], index: int, named: bool) -> str:
    """How a column is named in messages: by a name eda-sim knows or was given, or by number.

    A header the user did not name and eda-sim does not know is the file's
    content, so it is not quoted.
    """
    name = header[index]
    known = name.casefold() in (*TIME_COLUMNS, *TYPE_COLUMNS)
    return repr(name) if named or known else str(index + 1)


def pick_columns(
    where: str,
    header_line: int,
    header: list[str],
    time_column: str | None,
    type_column: str | None,
) -> tuple[int, int | None, str, str | None]:
    """Pick the timestamp and type columns from the header row; name them for messages."""
    folded = [name.casefold() for name in header]
    faults: list[Fault] = []

    def find(name: str, option: str) -> int | None:
        for candidates in (header, folded):
            key = name if candidates is header else name.strip().casefold()
            if key in candidates:
                return candidates.index(key)
        faults.append(
            Fault(
                "file",
                f"{where}: no column {name!r} ({option}) in the header row (line "
                f"{header_line}, {len(header)} column{'s' if len(header) != 1 else ''})",
            )
        )
        return None

    time_index: int | None
    if time_column is not None:
        time_index = find(time_column, "time_column")
    else:
        time_index = next((i for i, name in enumerate(folded) if name in TIME_COLUMNS), None)
        if time_index is None:
            time_index = 0
            try:
                parse_time(header[0])
            except BadCellError:
                pass
            else:
                faults.append(
                    Fault(
                        "file",
                        f"{where}, line {header_line}: the first row looks like data (its "
                        "first cell is a timestamp); the file must start with a header row "
                        "naming its columns, e.g. timestamp,type",
                    )
                )
    type_index: int | None
    if type_column is not None:
        type_index = find(type_column, "type_column")
        if type_index is not None and type_index == time_index:
            faults.append(
                Fault(
                    "file",
                    f"{where}: type_column {type_column!r} is also the timestamp column",
                )
            )
    else:
        type_index = next(
            (i for i, name in enumerate(folded) if name in TYPE_COLUMNS and i != time_index),
            None,
        )
    if faults:
        raise ScenarioError(faults)
    assert time_index is not None  # a missing column was a fault
    time_name = column_label(header, time_index, time_column is not None)
    type_name = (
        None if type_index is None else column_label(header, type_index, type_column is not None)
    )
    return time_index, type_index, time_name, type_name
