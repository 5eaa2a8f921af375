"""Results of a run: replication records summarised into intervals, as tables and JSON (layer 5).

A :class:`RunResult` holds every replication's record and, per station, per
event class and for the whole system, each metric's mean with its Student-t
confidence interval over the replications. It converts to a tidy pandas
DataFrame (:meth:`RunResult.to_frame`, one row per scope × name × metric) and to
the JSON of DESIGN.md (:meth:`RunResult.to_dict`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from eda_sim.engine.records import STATION_METRICS, SYSTEM_METRICS, ReplicationResult
from eda_sim.stats import Interval, t_interval

__all__ = ["RunResult", "atomic_write_text", "json_number", "summarize"]

#: Version of the JSON layout, so that readers can refuse what they do not know.
RESULT_FORMAT = 1


def json_number(value: float) -> float | None:
    """A float for JSON: NaN and infinities (which JSON lacks) become null."""
    return value if math.isfinite(value) else None


def _interval_json(interval: Interval) -> dict[str, Any]:
    return {
        "mean": json_number(interval.mean),
        "ci": [json_number(interval.low), json_number(interval.high)],
    }


@dataclass(frozen=True)
class RunResult:
    """Summary of independent replications of one scenario.

    Attributes
    ----------
    stations : dict
        ``{station: {metric: Interval}}`` for ``L, Lq, W, Wq, utilization, throughput, loss``.
    system : dict
        ``{metric: Interval}`` for ``L, W, throughput, loss`` of the whole system.
    classes : dict
        ``{class: {metric: Interval}}``, the same per event class.
    partial : bool
        True when the run was interrupted and fewer replications than asked finished.
    """

    scenario: str
    engine: str
    seed: int
    horizon: float
    warmup: float
    confidence: float
    requested_replications: int
    stations: dict[str, dict[str, Interval]]
    system: dict[str, Interval]
    classes: dict[str, dict[str, Interval]]
    replication_results: tuple[ReplicationResult, ...] = field(repr=False)
    partial: bool = False
    elapsed_seconds: float = math.nan

    @property
    def replications(self) -> int:
        """Number of replications that finished."""
        return len(self.replication_results)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per (scope, name, metric) with mean, CI bounds and half-width.

        ``scope`` is ``"station"``, ``"system"`` or ``"class"``; ``name`` is the
        station or class name (``"system"`` for the system).
        """
        rows: list[dict[str, Any]] = []

        def add(scope: str, name: str, metrics: dict[str, Interval]) -> None:
            for metric, interval in metrics.items():
                rows.append(
                    {
                        "scope": scope,
                        "name": name,
                        "metric": metric,
                        "mean": interval.mean,
                        "ci_low": interval.low,
                        "ci_high": interval.high,
                        "half_width": interval.half_width,
                        "n": interval.n,
                    }
                )

        for station, metrics in self.stations.items():
            add("station", station, metrics)
        add("system", "system", self.system)
        for name, metrics in self.classes.items():
            add("class", name, metrics)
        return pd.DataFrame(rows)

    def replications_frame(self) -> pd.DataFrame:
        """One row per (replication, station, metric): the raw replication means."""
        rows = [
            {
                "replication": rep.replication,
                "station": station,
                "metric": metric,
                "value": record.metric(metric),
            }
            for rep in self.replication_results
            for station, record in rep.stations.items()
            for metric in STATION_METRICS
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of DESIGN.md (NaN as null)."""
        document: dict[str, Any] = {
            "format": RESULT_FORMAT,
            "scenario": self.scenario,
            "engine": self.engine,
            "seed": self.seed,
            "replications": self.replications,
            "requested_replications": self.requested_replications,
            "partial": self.partial,
            "horizon": self.horizon,
            "warmup": self.warmup,
            "confidence": self.confidence,
            "stations": {
                station: {metric: _interval_json(iv) for metric, iv in metrics.items()}
                for station, metrics in self.stations.items()
            },
            "system": {metric: _interval_json(iv) for metric, iv in self.system.items()},
        }
        if self.classes:
            document["classes"] = {
                name: {metric: _interval_json(iv) for metric, iv in metrics.items()}
                for name, metrics in self.classes.items()
            }
        return document

    def to_json(self, indent: int | None = 2) -> str:
        """The JSON document as text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def summarize(
    scenario_name: str,
    engine: str,
    replications: Sequence[ReplicationResult],
    *,
    confidence: float,
    requested: int,
    class_names: Sequence[str] = (),
    elapsed_seconds: float = math.nan,
) -> RunResult:
    """Combine replication records into intervals (replication/deletion, Student-t).

    Parameters
    ----------
    class_names : sequence of str
        Event classes to report separately; empty for a one-class scenario.
    """
    if not replications:
        raise ValueError("summarize needs at least one replication")
    first = replications[0]
    stations = {
        station: {
            metric: t_interval(
                (rep.stations[station].metric(metric) for rep in replications), confidence
            )
            for metric in STATION_METRICS
        }
        for station in first.stations
    }
    system = {
        metric: t_interval((rep.system.metric(metric) for rep in replications), confidence)
        for metric in SYSTEM_METRICS
    }
    classes = {
        name: {
            metric: t_interval(
                (rep.classes[name].metric(metric) for rep in replications), confidence
            )
            for metric in SYSTEM_METRICS
        }
        for name in class_names
    }
    return RunResult(
        scenario=scenario_name,
        engine=engine,
        seed=first.seed,
        horizon=first.horizon,
        warmup=first.warmup,
        confidence=confidence,
        requested_replications=requested,
        stations=stations,
        system=system,
        classes=classes,
        replication_results=tuple(replications),
        partial=len(replications) < requested,
        elapsed_seconds=elapsed_seconds,
    )


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename.

    A crash or Ctrl-C part-way leaves either the old file or none, never a truncated one.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
