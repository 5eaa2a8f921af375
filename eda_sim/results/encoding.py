"""The JSON of a result: numbers JSON can hold, and files written atomically (layer 5)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from eda_sim.files import write_output
from eda_sim.stats import Interval

#: Version of the JSON layout, so that readers can refuse what they do not know.
RESULT_FORMAT = 1


def json_number(value: float) -> float | None:
    """A float for JSON: NaN and infinities (which JSON lacks) become null."""
    return value if math.isfinite(value) else None


def interval_json(interval: Interval) -> dict[str, Any]:
    """An interval as JSON: ``{"mean", "ci": [low, high]}`` (non-finite as null)."""
    return {
        "mean": json_number(interval.mean),
        "ci": [json_number(interval.low), json_number(interval.high)],
    }


def rounded(values: Any) -> list[float | None]:
    """Numbers for plots, to six significant digits (JSON stays small)."""
    return [float(f"{v:.6g}") if math.isfinite(v) else None for v in np.asarray(values).tolist()]


def json_clean(value: Any) -> Any:
    """Replace non-finite floats by None, recursively."""
    if isinstance(value, float):
        return json_number(value)
    if isinstance(value, dict):
        return {key: json_clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_clean(item) for item in value]
    return value


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash or Ctrl-C never leaves half a file.

    See :func:`eda_sim.files.write_output`: a temporary file renamed over the target
    (permissions from the umask, or the replaced file's), a symbolic link written
    through, a FIFO or device written to as a stream.
    """
    write_output(path, text)
