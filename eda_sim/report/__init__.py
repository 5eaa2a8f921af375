"""Plotted HTML reports of runs and sweeps (layer 6).

:func:`write_report` and :func:`write_sweep_report` write ``OUT_DIR/index.html``:
one self-contained page (CSS inline, figures as embedded PNG images, no script,
no external URL) that reads the same offline, and ``OUT_DIR/result.json``, the
document it was drawn from (``eda-sim report OUT_DIR/result.json --out NEW``
draws it again). Every station, class and other scenario text is HTML-escaped.

A report folder is written whole or not at all: the page is built in a
temporary sibling folder, and only when it is complete is an existing report
renamed aside, the new one renamed in and the old one deleted.

Examples
--------
>>> import tempfile, pathlib, eda_sim
>>> from eda_sim.report import write_report
>>> result = eda_sim.run(eda_sim.load_scenario("scenarios/mm1.yaml"), replications=2,
...                      horizon=300, warmup=30)
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "report"
>>> index = write_report(result, folder)
>>> index.name, "<h2>Figures</h2>" in index.read_text()
('index.html', True)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eda_sim.errors import Fault, ScenarioError
from eda_sim.plots._common import Source, as_document
from eda_sim.report.files import (
    read_result,
    replace_directory,
    report_dir_faults,
    result_kind,
)
from eda_sim.report.run import render_run
from eda_sim.report.sweep import render_sweep
from eda_sim.results import describe_scenario, json_clean
from eda_sim.scenario import Scenario

__all__ = [
    "read_result",
    "render_run",
    "render_sweep",
    "report_dir_faults",
    "result_kind",
    "write_any_report",
    "write_report",
    "write_sweep_report",
]


def _write(folder: Path, page: str, document: Mapping[str, Any]) -> None:
    (folder / "index.html").write_text(page, encoding="utf-8")
    (folder / "result.json").write_text(
        json.dumps(json_clean(dict(document)), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )


def _expect(document: Mapping[str, Any], kind: str) -> None:
    found = result_kind(document)
    if found != kind:
        raise ScenarioError(
            Fault(
                "",
                f"this is a {found} result; use write_{'sweep_' if found == 'sweep' else ''}report",
            )
        )


def _check_folder(out_dir: str | os.PathLike[str]) -> None:
    faults = report_dir_faults(out_dir)
    if faults:
        raise ScenarioError(faults)


def write_report(source: Source, out_dir: str | os.PathLike[str]) -> Path:
    """Write the HTML report of a run to ``out_dir`` (replacing an earlier report there).

    Parameters
    ----------
    source : RunResult or dict
        The run, or its JSON document (``RunResult.to_dict()`` or the loaded file).
    out_dir : path
        The report folder; its parent must exist. An existing folder must be empty
        or an earlier eda-sim report; it is replaced only once the new report is
        complete.

    Returns
    -------
    Path
        ``out_dir / "index.html"``.

    Raises
    ------
    ScenarioError
        For a document that is not a run's result, or an unusable ``out_dir``;
        nothing is written then.
    """
    document = as_document(source)
    _expect(document, "run")
    _check_folder(out_dir)
    page = render_run(document)
    replace_directory(out_dir, lambda folder: _write(folder, page, document))
    return Path(out_dir) / "index.html"


def write_sweep_report(
    source: Source, out_dir: str | os.PathLike[str], *, scenario: Scenario | None = None
) -> Path:
    """Write the HTML report of a sweep to ``out_dir`` (replacing an earlier report there).

    Parameters
    ----------
    source : SweepResult or dict
        The sweep, or its JSON document.
    out_dir : path
        The report folder, as for :func:`write_report`.
    scenario : Scenario, optional
        The swept scenario: adds its description, routing diagram, time unit,
        the article's curves (which need the stations' servers and capacities) and
        the theory as a smooth curve up to the stability edge
        (:func:`eda_sim.report.theory_curve.theory_curve`).

    Returns
    -------
    Path
        ``out_dir / "index.html"``.
    """
    document: dict[str, Any] = dict(as_document(source))
    _expect(document, "sweep")
    _check_folder(out_dir)
    shown: dict[str, Any] = document
    if scenario is not None:
        from eda_sim.report.theory_curve import theory_curve

        document.setdefault("time_unit", scenario.time_unit)
        document.setdefault("model", describe_scenario(scenario))
        values = [float(v) for v in document.get("values") or ()]
        # Drawn, not written: result.json stays the sweep's document.
        shown = {**document, "theory_curve": theory_curve(scenario, str(document["param"]), values)}
    page = render_sweep(shown)
    replace_directory(out_dir, lambda folder: _write(folder, page, document))
    return Path(out_dir) / "index.html"


def write_any_report(document: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Write the report of a run's or a sweep's document, whichever it is."""
    if result_kind(document) == "sweep":
        return write_sweep_report(document, out_dir)
    return write_report(document, out_dir)
