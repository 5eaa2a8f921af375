"""A reader of standard output that leaves early (``eda-sim run ... | head``).

What a Unix user expects of a tool in a pipe whose reader has gone: no traceback,
no "Exception ignored" from the interpreter's last flush, the status of a tool
ended by SIGPIPE (141 = 128 + 13, as ``yes | head`` gives), and the files it was
asked for still written. Each command here gets a pipe whose reading end is
closed before it starts, so its first write to standard output fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eda_sim.cli.outputs import READER_LEFT

ROOT = Path(__file__).resolve().parent.parent
MM1 = str(ROOT / "scenarios" / "mm1.yaml")
SHORT = ("--horizon", "2000", "--warmup", "20", "--replications", "2", "--engine", "simpy")


def _with_reader_gone(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    reading, writing = os.pipe()
    os.close(reading)  # the reader has left before the command writes
    try:
        return subprocess.run(
            [sys.executable, "-m", "eda_sim", *arguments],
            stdout=writing,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            timeout=300,
        )
    finally:
        os.close(writing)


def _quiet(stderr: str) -> None:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    # a long note goes on over lines indented by two spaces
    assert all(line.startswith(("note: ", "report: ", "  ")) for line in stderr.splitlines()), (
        stderr
    )


def test_run_whose_reader_left_writes_its_files_and_exits_141(tmp_path: Path) -> None:
    done = _with_reader_gone(
        ["run", MM1, *SHORT, "--json", "out.json", "--report", "report"], tmp_path
    )
    assert done.returncode == READER_LEFT == 141, done.stderr
    _quiet(done.stderr)
    assert json.loads((tmp_path / "out.json").read_text())["replications"] == 2
    assert (tmp_path / "report" / "index.html").is_file()


@pytest.mark.parametrize(
    "arguments",
    [
        ["run", MM1, *SHORT, "--json", "-"],
        ["theory", MM1],
        ["validate", MM1],
        ["schema"],
    ],
    ids=["run-json", "theory", "validate", "schema"],
)
def test_a_command_whose_reader_left_exits_141_quietly(
    arguments: list[str], tmp_path: Path
) -> None:
    done = _with_reader_gone(arguments, tmp_path)
    assert done.returncode == 141, done.stderr
    _quiet(done.stderr)


def test_sweep_whose_reader_left_writes_its_files_and_exits_141(tmp_path: Path) -> None:
    sweep = ["sweep", MM1, "--param", "arrivals.rate", "--values", "0.4,0.5", *SHORT]
    done = _with_reader_gone([*sweep, "--csv", "-", "--json", "out.json"], tmp_path)
    assert done.returncode == 141, done.stderr
    _quiet(done.stderr)
    assert len(json.loads((tmp_path / "out.json").read_text())["points"]) == 2
