"""The Python API a notebook user meets first: discoverable names, shipped scenarios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import eda_sim
from eda_sim import examples

ROOT = Path(__file__).resolve().parent.parent


def test_dir_offers_the_lazy_names_and_hides_helpers() -> None:
    names = dir(eda_sim)
    for wanted in ("run", "solve", "load_scenario", "plots", "examples", "Scenario", "sweep"):
        assert wanted in names
    for unwanted in ("Any", "Sequence", "importlib", "TYPE_CHECKING"):
        assert unwanted not in names


def test_every_name_dir_offers_resolves() -> None:
    for name in dir(eda_sim):
        assert getattr(eda_sim, name) is not None, name


def test_examples_are_the_repository_scenarios() -> None:
    shipped = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    assert examples.names() == shipped
    for name in shipped:
        original = ROOT / "scenarios" / f"{name}.yaml"
        assert examples.path(name).read_bytes() == original.read_bytes()
    assert examples.path("jackson3.yaml") == examples.path("jackson3")


def test_an_unknown_example_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="jackson3"):
        examples.path("jackson4")
    with pytest.raises(KeyError):
        examples.path("../pyproject")


def test_examples_load_from_another_working_directory(tmp_path: Path) -> None:
    """A trace scenario's data file resolves beside the installed scenario."""
    code = (
        "import eda_sim; s = eda_sim.load_scenario(eda_sim.examples.path('trace_replay'));"
        " print(len(s.station_names))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 1
