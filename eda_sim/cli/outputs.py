"""Every output a command writes, checked before it runs (layer 7).

A run that completes and then cannot write its results has lost them, and an
output that names an input destroys it. So each command lists its outputs
(``--json``, ``--csv``, ``--report``, ``--checkpoint``, ``--out``) and its inputs
(the scenario file, the data files it reads, a checkpoint, a results file) and
calls :func:`output_faults` before any work. Refused, one fault each:

* an output that cannot be written: a folder where a file is meant, a socket or
  block device, a missing folder, a folder where no file can be created (tried
  for real, so a read-only mount or missing permission is found);
* two outputs that are the same file (``--json r.json --report r.json``... or the
  same file through a symbolic link or a hard link);
* an output that is an input: the scenario file, a trace or empirical data file,
  the checkpoint, the results file a report is made from;
* a file inside a ``--report``/``--out`` folder, which is replaced as a whole.

``-`` (standard output), FIFOs and character devices are streamed to; a symbolic
link is written through (the file it points to is replaced, the link kept): see
:func:`eda_sim.files.write_output`, which every command writes with.

**A reader that leaves early** (``eda-sim run ... | head``) is the user's choice,
not a failure: what a command writes to standard output goes through
:func:`to_stdout`, which stops writing there quietly when the reader has closed
the pipe (``BrokenPipeError``) and lets the command finish its other work (the
``--json``/``--csv`` files and the ``--report`` folder are still written). The
command then exits with :data:`READER_LEFT` (141 = 128 + SIGPIPE), the status of
a Unix tool ended by SIGPIPE (``yes | head``), unless it had another reason not
to exit with 0 (an interrupt: 130, a violated SLO: 3, a lost worker: 1).
Standard output is pointed at ``/dev/null`` (Python's documentation on SIGPIPE
recommends it), so the interpreter's last flush cannot fail either.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from eda_sim.errors import Fault
from eda_sim.files import folder_problem, identity, output_problem

if TYPE_CHECKING:
    from eda_sim.scenario import Scenario

__all__ = [
    "READER_LEFT",
    "Input",
    "Output",
    "output_faults",
    "reader_left",
    "scenario_inputs",
    "stdout_closed",
    "to_stdout",
]

#: Exit code of a command whose standard output's reader went away (128 + SIGPIPE).
READER_LEFT = 141
_stdout = {"closed": False}


@contextlib.contextmanager
def to_stdout() -> Iterator[None]:
    """Write to standard output in this block; stop quietly if its reader went away.

    The block's output is flushed at its end, so that a closed pipe is found
    here and not when the interpreter exits.
    """
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        stdout_closed()


def stdout_closed() -> None:
    """Note that standard output's reader went away; send what is still written to null."""
    _stdout["closed"] = True
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def reader_left() -> bool:
    """Whether standard output's reader went away (:func:`stdout_closed`)."""
    return _stdout["closed"]


@dataclass(frozen=True)
class Output:
    """One thing a command will write: the option that names it, the path, its kind."""

    option: str
    target: str | os.PathLike[str] | None
    kind: Literal["file", "folder"] = "file"


@dataclass(frozen=True)
class Input:
    """One file a command reads, and how to name it in a message."""

    path: str | os.PathLike[str]
    role: str


def _inside(child: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    real_child = Path(os.path.realpath(child))
    real_folder = Path(os.path.realpath(folder))
    return real_child != real_folder and real_folder in real_child.parents


def output_faults(outputs: Sequence[Output], inputs: Sequence[Input] = ()) -> list[Fault]:
    """Faults of the outputs a command will write, given the files it reads.

    Parameters
    ----------
    outputs : sequence of Output
        What the command writes; ``target`` None (not asked for) is skipped and
        ``-`` is standard output. A folder's own checks (an existing folder must
        be an earlier report, ...) stay with the report writer.
    inputs : sequence of Input
        What it reads.

    Returns
    -------
    list of Fault
        One per problem, at the option's name.
    """
    faults: list[Fault] = []
    given = [out for out in outputs if out.target is not None and os.fspath(out.target) != "-"]
    seen: dict[tuple[object, ...], Output] = {}
    for out in given:
        assert out.target is not None
        problem = output_problem(out.target) if out.kind == "file" else folder_problem(out.target)
        if problem is not None:
            faults.append(Fault(out.option, f"{os.fspath(out.target)!r} {problem}"))
            continue
        key = identity(out.target)
        if key in seen:
            faults.append(Fault(out.option, f"names the same file as {seen[key].option}"))
            continue
        seen[key] = out
        for source in inputs:
            if identity(source.path) == key:
                faults.append(
                    Fault(
                        out.option,
                        f"is the {source.role} ({os.fspath(source.path)!r}); "
                        "writing it would destroy it",
                    )
                )
                break
    for folder in (out for out in given if out.kind == "folder"):
        assert folder.target is not None
        for other in given:
            if (
                other is not folder
                and other.target is not None
                and _inside(other.target, folder.target)
            ):
                faults.append(
                    Fault(
                        other.option,
                        f"is inside the {folder.option} folder, which is replaced as a whole",
                    )
                )
        for source in inputs:
            if _inside(source.path, folder.target):
                faults.append(
                    Fault(
                        folder.option,
                        f"holds the {source.role} ({os.fspath(source.path)!r}); the folder is "
                        "replaced as a whole",
                    )
                )
    return faults


def scenario_inputs(path: str | os.PathLike[str], scenario: Scenario | None = None) -> list[Input]:
    """The scenario file and, once it is loaded, every data file it read."""
    inputs = [Input(path, "scenario file")]
    if scenario is not None:
        own = identity(path)
        inputs += [
            Input(record.path, record.what)
            for record in scenario.inputs
            if identity(record.path) != own
        ]
    return inputs
