"""The lines of a sweep checkpoint after its header: finished points and partial ones (layer 5).

Each line is one JSON object (:mod:`eda_sim.experiment.checkpoint` reads and
writes the file):

* a **finished point**: ``{"index", "value", "notes", "rows"}``, its rows of the
  sweep's table (floats with ``repr``, NaN as null, infinities as ``"inf"``);
* a **partial point** (checkpoint format 2): ``{"index", "value", "notes",
  "replications", "sha256"}``, the replications of a point that finished before
  the sweep was interrupted or lost a worker, each kept whole
  (:mod:`eda_sim.experiment.replication_codec`), with the SHA-256 of their JSON so
  that a damaged line is refused rather than read as other numbers. A point may
  have several partial lines (one per interruption, each with the replications new
  since the one before) and then its finished line, which supersedes them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eda_sim.engine.records import ReplicationResult
from eda_sim.experiment.replication_codec import decode_replication, encode_replication

__all__ = [
    "FLOAT_COLUMNS",
    "RUN_COLUMNS",
    "PartialPoint",
    "decode_float",
    "decode_partial",
    "decode_point",
    "encode_float",
    "encode_partial",
    "encode_point",
    "is_partial_line",
]

#: Float columns of a point's rows (NaN and infinities need encoding).
FLOAT_COLUMNS = ("mean", "ci_low", "ci_high", "half_width", "theory")
#: Columns of one point's rows, as :meth:`RunResult.to_frame` gives them.
RUN_COLUMNS = ("scope", "name", "metric", *FLOAT_COLUMNS[:4], "n", "theory", "method", "exact")
#: The keys of a partial point's line.
_PARTIAL_KEYS = frozenset({"index", "value", "notes", "replications", "sha256"})


def encode_float(value: float) -> float | str | None:
    """A float for strict JSON: NaN as null, infinities as ``"inf"``/``"-inf"``."""
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def decode_float(value: Any) -> float:
    """Inverse of :func:`encode_float`; ``ValueError`` for anything else."""
    if value is None:
        return math.nan
    if value in ("inf", "-inf"):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def encode_point(
    index: int, value: float, rows: list[dict[str, Any]], notes: tuple[str, ...]
) -> str:
    """One finished point as a checkpoint line (without the newline)."""
    encoded = [
        {key: encode_float(item) if key in FLOAT_COLUMNS else item for key, item in row.items()}
        for row in rows
    ]
    record = {"index": index, "value": value, "notes": list(notes), "rows": encoded}
    return json.dumps(record, allow_nan=False, ensure_ascii=False)


def decode_point(
    line: str | dict[str, Any], values: Sequence[float], runnable: set[int]
) -> tuple[int, list[dict[str, Any]], tuple[str, ...]]:
    """Read one finished point's line (text, or parsed); ``ValueError`` says what is wrong."""
    record = json.loads(line) if isinstance(line, str) else line
    if not isinstance(record, dict) or set(record) != {"index", "value", "notes", "rows"}:
        raise ValueError("not a point record")
    index = _point_index(record, values, runnable)
    notes = record["notes"]
    rows = []
    for item in record["rows"]:
        if not isinstance(item, dict) or set(item) != set(RUN_COLUMNS):
            raise ValueError("a row does not have the table's columns")
        row = {key: decode_float(item[key]) if key in FLOAT_COLUMNS else item[key] for key in item}
        if not all(isinstance(row[key], str) for key in ("scope", "name", "metric", "method")):
            raise ValueError("a row's names are not text")
        if isinstance(row["n"], bool) or not isinstance(row["n"], int):
            raise ValueError("a row's n is not a whole number")
        if not isinstance(row["exact"], bool):
            raise ValueError("a row's exact is not true or false")
        rows.append(row)
    if not rows:
        raise ValueError("a point without rows")
    return index, rows, tuple(notes)


@dataclass
class PartialPoint:
    """The replications of a point that finished before its sweep stopped, by index.

    ``encoded`` keeps each one's JSON text, so that the same replication met twice
    (in two partial lines) can be told identical or not.
    """

    replications: dict[int, ReplicationResult] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    encoded: dict[int, str] = field(default_factory=dict, repr=False)

    def merge(self, other: PartialPoint, index: int) -> None:
        """Add the replications of another partial line of point ``index``.

        Raises
        ------
        ValueError
            When a replication is in both, with different results.
        """
        for replication, text in other.encoded.items():
            if replication in self.encoded and self.encoded[replication] != text:
                raise ValueError(
                    f"replication {replication} of point {index} is there twice, "
                    "with different results"
                )
            self.encoded[replication] = text
            self.replications[replication] = other.replications[replication]
        self.notes = tuple(dict.fromkeys((*self.notes, *other.notes)))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def encode_partial(
    index: int, value: float, replications: Sequence[ReplicationResult], notes: Sequence[str]
) -> str:
    """A partial point as a checkpoint line (without the newline)."""
    encoded = _canonical([encode_replication(result) for result in replications])
    digest = hashlib.sha256(encoded.encode("utf-8")).hexdigest()
    head = json.dumps({"index": index, "value": value, "notes": list(notes)}, ensure_ascii=False)
    # the replications' text is written once, as it was digested (no second encoding)
    return f'{head[:-1]}, "replications": {encoded}, "sha256": "{digest}"}}'


def is_partial_line(record: Any) -> bool:
    """Whether a parsed checkpoint line is a partial point's (by its keys)."""
    return isinstance(record, dict) and set(record) == _PARTIAL_KEYS


def _point_index(record: dict[str, Any], values: Sequence[float], runnable: set[int]) -> int:
    index = record["index"]
    if isinstance(index, bool) or not isinstance(index, int) or index not in runnable:
        raise ValueError(f"no sweep point {index!r} to run")
    if record["value"] != values[index]:
        raise ValueError(f"point {index} has value {record['value']!r}, not {values[index]!r}")
    notes = record["notes"]
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise ValueError("notes are not text")
    return index


def decode_partial(
    record: dict[str, Any], values: Sequence[float], runnable: set[int]
) -> tuple[int, PartialPoint]:
    """Read a partial point's parsed line; ``ValueError`` says what is wrong with it."""
    index = _point_index(record, values, runnable)
    encoded = record["replications"]
    if not isinstance(encoded, list) or not encoded:
        raise ValueError(f"partial point {index} has no replications")
    digest = hashlib.sha256(_canonical(encoded).encode("utf-8")).hexdigest()
    if record["sha256"] != digest:
        raise ValueError(f"the replications of partial point {index} do not match their SHA-256")
    partial = PartialPoint(notes=tuple(record["notes"]))
    for item in encoded:
        result = decode_replication(item)
        number = result.replication
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValueError(f"partial point {index} has a replication numbered {number!r}")
        if number in partial.replications:
            raise ValueError(f"partial point {index} has replication {number} twice")
        partial.replications[number] = result
        partial.encoded[number] = _canonical(item)
    return index, partial
