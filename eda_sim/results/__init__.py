"""Results of a run: replication records summarised into intervals, as tables and JSON (layer 5).

A :class:`RunResult` holds every replication's record and, per station, per
event class and for the whole system, each metric's mean with its Student-t
confidence interval over the replications. It converts to a tidy pandas
DataFrame (:meth:`RunResult.to_frame`, one row per scope × name × metric) and to
the JSON of DESIGN.md (:meth:`RunResult.to_dict`).

The package's modules, one concern each: :mod:`~eda_sim.results.run_result` (the
result objects), :mod:`~eda_sim.results.summary` (records into intervals),
:mod:`~eda_sim.results.rows` (the tidy table's rows beside theory),
:mod:`~eda_sim.results.plot_data` (what the plots need),
:mod:`~eda_sim.results.scenario_model` (the scenario as reports draw it),
:mod:`~eda_sim.results.assumptions` (the article's assumptions tested) and
:mod:`~eda_sim.results.encoding` (JSON numbers, atomic writes).
"""

from __future__ import annotations

from eda_sim.results.assumptions import assumption_checks
from eda_sim.results.encoding import RESULT_FORMAT, atomic_write_text, json_clean, json_number
from eda_sim.results.run_result import PrecisionReport, RunResult
from eda_sim.results.scenario_model import describe_scenario
from eda_sim.results.summary import summarize

__all__ = [
    "RESULT_FORMAT",
    "PrecisionReport",
    "RunResult",
    "assumption_checks",
    "atomic_write_text",
    "describe_scenario",
    "json_clean",
    "json_number",
    "summarize",
]
