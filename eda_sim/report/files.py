"""Reading result files and writing report folders safely.

* :func:`read_result` loads a JSON file written by ``eda-sim run --json`` or
  ``eda-sim sweep --json`` and says which it is; anything else (not JSON, another
  kind of JSON, an unknown ``format``) is refused with one fault.
* :func:`report_dir_faults` checks a report folder before any work: its parent
  must exist, and an existing folder is replaced only when it is empty or an
  eda-sim report (so ``--report ~`` cannot wipe a home folder).
* :func:`replace_directory` builds the new report in a temporary sibling folder
  and swaps it in with renames only once it is complete: a failure leaves the old
  report as it was and no temporary folder behind.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from eda_sim.errors import Fault, ScenarioError
from eda_sim.experiment.sweeps import SWEEP_FORMAT
from eda_sim.files import RESULT_LIMIT, InputFileError, read_input_text
from eda_sim.report._html import GENERATOR
from eda_sim.results import RESULT_FORMAT

__all__ = ["ResultKind", "read_result", "replace_directory", "report_dir_faults", "result_kind"]

ResultKind = Literal["run", "sweep"]

_WRITE_ONE = "write one with `eda-sim run --json PATH` or `eda-sim sweep --json PATH`"


def _refuse(message: str) -> ScenarioError:
    return ScenarioError(Fault("", message))


def result_kind(document: Any) -> ResultKind:
    """``"run"`` or ``"sweep"`` for an eda-sim result document; ScenarioError otherwise.

    Told apart by their keys: a sweep has ``kind: "sweep"``, ``param``, ``points``
    and ``rows``; a run has ``stations`` and ``system``. Both carry ``format``
    (1), and a document of any other format is refused.

    Raises
    ------
    ScenarioError
        With one fault saying what the document is not.
    """
    if not isinstance(document, Mapping):
        held = "a list" if isinstance(document, list) else f"a JSON {type(document).__name__}"
        raise _refuse(f"not an eda-sim result: the file holds {held}, not an object; {_WRITE_ONE}")
    if document.get("kind") == "sweep" or {"param", "points", "rows"} <= document.keys():
        kind: ResultKind = "sweep"
        expected = SWEEP_FORMAT
    elif {"stations", "system"} <= document.keys():
        kind = "run"
        expected = RESULT_FORMAT
    elif {"theory", "article"} <= document.keys():
        raise _refuse(
            "an `eda-sim theory` document has no simulation results to report; "
            "use `eda-sim run --json PATH`"
        )
    else:
        raise _refuse(f"not an eda-sim result (no stations, system or sweep rows); {_WRITE_ONE}")
    version = document.get("format")
    if version is None:
        raise _refuse(f'not an eda-sim {kind} result: it has no "format" key; {_WRITE_ONE}')
    if isinstance(version, bool) or version != expected:
        raise _refuse(
            f"{kind} result format {json.dumps(version)} is not supported: this eda-sim reads "
            f"format {expected}; write the file again with this version"
        )
    shapes: dict[str, type] = (
        {"param": str, "points": list, "rows": list}
        if kind == "sweep"
        else {"stations": dict, "system": dict}
    )
    for key, shape in shapes.items():
        if not isinstance(document.get(key), shape):
            raise _refuse(
                f"not a complete eda-sim {kind} result: {key!r} is not a {shape.__name__}"
            )
    if kind == "run":
        for name, metrics in document["stations"].items():
            if not isinstance(metrics, dict) or not all(
                isinstance(value, dict) for value in metrics.values()
            ):
                raise _refuse(f"not a complete eda-sim run result: station {name!r} has no metrics")
    elif not all(isinstance(row, dict) for row in document["rows"]):
        raise _refuse("not a complete eda-sim sweep result: 'rows' holds something else than rows")
    return kind


def _not_available(constant: str) -> None:
    return None


def _finite(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def _whole(text: str) -> int | None:
    return int(text) if len(text) <= 18 else _finite(text)  # type: ignore[return-value]


def read_result(path: str | os.PathLike[str]) -> tuple[ResultKind, dict[str, Any]]:
    """Load a run's or a sweep's JSON file; return its kind and the document.

    Raises
    ------
    ScenarioError
        One fault: no such file, not a regular file, larger than
        :data:`~eda_sim.files.RESULT_LIMIT`, not UTF-8 text, not JSON, not an
        eda-sim result, or a format this version does not read. NaN and infinite
        numbers are read as null (shown as not available), not refused.
    """
    try:
        text = read_input_text(path, what="result file", limit=RESULT_LIMIT)
    except InputFileError as error:
        reason = error.reason
        if reason.startswith("is not UTF-8"):
            reason = f"not JSON: the file {reason.removeprefix('is ')}; {_WRITE_ONE}"
        raise _refuse(reason) from None
    try:
        # NaN and infinities (``NaN``, ``Infinity``, ``1e999``) and whole numbers too
        # long for a float are read as null: "not available" in the report.
        document = json.loads(
            text, parse_constant=_not_available, parse_float=_finite, parse_int=_whole
        )
    except json.JSONDecodeError as error:
        raise _refuse(
            f"not JSON ({error.msg} at line {error.lineno}, column {error.colno}); {_WRITE_ONE}"
        ) from None
    except RecursionError:
        raise _refuse("not an eda-sim result: the JSON is nested too deeply") from None
    return result_kind(document), document


def _is_report(folder: Path) -> bool:
    index = folder / "index.html"
    try:
        with index.open(encoding="utf-8", errors="replace") as stream:
            head = stream.read(4096)
    except OSError:
        return False
    return f'<meta name="generator" content="{GENERATOR} ' in head


def report_dir_faults(out_dir: str | os.PathLike[str], option: str = "out_dir") -> list[Fault]:
    """What stops a report from being written to ``out_dir`` (empty when nothing).

    The parent folder must exist; ``out_dir`` itself may be missing, an empty
    folder, or an earlier eda-sim report (its ``index.html`` says so), which will
    be replaced; anything else is refused rather than deleted.
    """
    target = Path(out_dir)
    full = Path(os.path.abspath(target))
    if not full.name:
        return [Fault(option, f"{str(target)!r} cannot be a report folder")]
    if not full.parent.is_dir():
        return [Fault(option, f"folder {str(full.parent)!r} does not exist")]
    if target.is_symlink():
        return [Fault(option, f"{str(target)!r} is a symbolic link; name the folder itself")]
    if target.exists() and not target.is_dir():
        return [Fault(option, f"{str(target)!r} exists and is not a folder")]
    if target.is_dir() and any(target.iterdir()) and not _is_report(target):
        return [
            Fault(
                option,
                f"{str(target)!r} is a folder that is not an eda-sim report (no index.html "
                "written by eda-sim); name a new folder or delete it first",
            )
        ]
    return []


def replace_directory(out_dir: str | os.PathLike[str], build: Callable[[Path], None]) -> Path:
    """Call ``build(folder)`` on a new temporary sibling of ``out_dir``, then swap it in.

    The old ``out_dir`` (if any) is renamed aside, the new folder renamed in, and the
    old one deleted. If ``build`` raises (or Ctrl-C), the temporary folder is
    removed and ``out_dir`` is left untouched.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    ScenarioError
        When :func:`report_dir_faults` finds a fault (fault path ``out_dir``).
    """
    faults = report_dir_faults(out_dir)
    if faults:
        raise ScenarioError(faults)
    target = Path(os.path.abspath(out_dir))
    temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".new", dir=target.parent))
    aside: Path | None = None
    try:
        build(temporary)
        mask = os.umask(0o22)
        os.umask(mask)
        temporary.chmod(0o777 & ~mask)  # mkdtemp made it 0o700: as a new folder would be
        if target.exists():
            aside = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            os.replace(target, aside)  # onto the empty placeholder folder
        os.replace(temporary, target)
    except BaseException:
        if aside is not None and not target.exists():
            os.replace(aside, target)
            aside = None
        shutil.rmtree(temporary, ignore_errors=True)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return Path(out_dir)
