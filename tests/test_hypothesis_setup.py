"""The suite's derandomised Hypothesis examples depend on the seed alone (tests/conftest.py).

Hypothesis draws some values from the literals of the local modules loaded at
the time; the suite turns that off, so that a test draws the same examples
whichever test files ran before it. Checked here by importing a new local
module with literals of its own between two runs of the same derandomised test.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

#: A module of literals that a strategy below could draw (integers and floats in its range).
PROBE_SOURCE = "\n".join(
    [f"INTEGER_{i} = {7_000 + 37 * i}" for i in range(200)]
    + [f"FLOAT_{i} = {0.123 + 0.0037 * i!r}" for i in range(200)]
)


def _draws() -> list[tuple[int, float]]:
    seen: list[tuple[int, float]] = []

    @settings(max_examples=200, derandomize=True, database=None)
    @given(st.integers(0, 20_000), st.floats(0.0, 1.0))
    def collect(number: int, share: float) -> None:
        seen.append((number, share))

    collect()
    return seen


def test_examples_do_not_change_when_a_local_module_is_imported(tmp_path: Path) -> None:
    before = _draws()
    (tmp_path / "hypothesis_constants_probe.py").write_text(PROBE_SOURCE)
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.import_module("hypothesis_constants_probe")
        after = _draws()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("hypothesis_constants_probe", None)
    assert after == before, (
        "Hypothesis drew other examples after a module was imported: it takes constants from "
        "loaded modules again (tests/conftest.py's _no_local_constants no longer applies)"
    )
