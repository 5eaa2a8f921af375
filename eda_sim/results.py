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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eda_sim.checks import (
    CheckResult,
    exponential_gaps_check,
    poisson_counts_check,
    routing_row_check,
)
from eda_sim.engine.hops import HopCounts, pooled_hops
from eda_sim.engine.latency import SketchKey
from eda_sim.engine.records import ReplicationResult, StationRecord, SystemRecord
from eda_sim.files import write_output
from eda_sim.metrics import Metric, Scope, lookup, names
from eda_sim.scenario import Scenario
from eda_sim.stats import Interval, t_interval
from eda_sim.stats.sketch import Histogram
from eda_sim.stats.slo import SloVerdict
from eda_sim.theory.percentiles.scenario import LatencyTheory
from eda_sim.theory.scenario import ScenarioTheory
from eda_sim.theory.scenario.figures import CLASS_METRICS

if TYPE_CHECKING:  # pandas (~40 MB, ~0.2 s) is imported by the methods that make frames
    import pandas as pd

__all__ = [
    "PrecisionReport",
    "RunResult",
    "assumption_checks",
    "atomic_write_text",
    "describe_scenario",
    "json_clean",
    "json_number",
    "summarize",
]

#: Version of the JSON layout, so that readers can refuse what they do not know.
RESULT_FORMAT = 1


def _family_member(metric: str) -> Metric | None:
    """The metric-table entry of a family member (``W_p99``), None for any other name."""
    try:
        found = lookup(metric)
    except KeyError:
        return None
    return found if found.family is not None else None


def json_number(value: float) -> float | None:
    """A float for JSON: NaN and infinities (which JSON lacks) become null."""
    return value if math.isfinite(value) else None


def _interval_json(interval: Interval) -> dict[str, Any]:
    return {
        "mean": json_number(interval.mean),
        "ci": [json_number(interval.low), json_number(interval.high)],
    }


@dataclass(frozen=True)
class PrecisionReport:
    """Whether the target relative half-width was reached, metric by metric.

    ``achieved`` maps ``"station.metric"`` (``"system.W"`` for the system) to the
    relative half-width reached (``inf`` when the mean is 0 but the interval not).
    With ``target="slo"`` (replications added until every SLO is decided) it maps
    each undecided SLO's target to the factor its sample would have to grow by.
    """

    target: float | str
    met: bool
    max_replications: int
    achieved: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (infinite as None)."""
        return {
            "target": self.target,
            "met": self.met,
            "max_replications": self.max_replications,
            "achieved": {k: json_number(v) for k, v in self.achieved.items()},
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
    theory: ScenarioTheory | None = field(default=None, repr=False)
    checks: tuple[CheckResult, ...] = ()
    warmup_method: str = "fixed"
    ci_method: str = "replications"
    precision: PrecisionReport | None = None
    notes: tuple[str, ...] = ()
    sample: ReplicationResult | None = field(default=None, repr=False)
    """Replication 0 as run, with its sample path and waits (for plots)."""
    time_unit: str = "s"
    model: dict[str, Any] = field(default_factory=dict, repr=False)
    """The scenario as the report draws it (see :func:`describe_scenario`)."""
    latency: dict[SketchKey, Histogram] = field(default_factory=dict, repr=False)
    """Per ``(scope, name, metric)``, the histogram of every replication's values after the
    warm-up, pooled (the percentile sketches of :mod:`eda_sim.engine.latency`)."""
    quantile_levels: tuple[float, ...] = ()
    """The percentile levels reported (``W_p50``, ... for 0.5, ...)."""
    slo: tuple[SloVerdict, ...] = ()
    """The verdict on each of the scenario's SLOs."""
    latency_theory: LatencyTheory | None = field(default=None, repr=False)
    """The exact percentile laws theory knows (:mod:`eda_sim.theory.percentiles`)."""

    def plot_data(self) -> dict[str, Any]:
        """What the plots need, bounded in size.

        One replication's sample path and waits, and the arrival counts and hops
        pooled over the replications.

        ``path``: grid times and, per station and for the system, the time-average
        number present in each grid interval; ``waits``: per station, the last waits
        before service and times per visit of replication 0; ``arrivals``: per class,
        the counting window, its histogram of counts and the arrival rate;
        ``transitions``: per class, hop counts (last column: exits) and the routing
        matrix they should follow.
        """
        data: dict[str, Any] = {}
        sample = self.sample
        if sample is not None and sample.path is not None:
            path = sample.path
            spans = np.diff(path.times)
            data["path"] = {
                "times": _rounded(path.times),
                "warmup": self.warmup,
                "stations": {name: _rounded(path.batch_means(name)) for name in path.stations},
                "system": _rounded(np.diff(path.system[:, 1]) / spans),
            }
        if sample is not None and sample.waits is not None:
            data["waits"] = {
                name: {"Wq": _rounded([w for w, _ in pairs]), "W": _rounded([t for _, t in pairs])}
                for name, pairs in sample.waits.items()
            }
        arrivals: dict[str, Any] = {}
        transitions: dict[str, list[HopCounts]] = {}
        for rep in (
            self.replication_results[:1]
            if self.ci_method == "batch-means"
            else (self.replication_results)
        ):
            for name, seen in rep.observations.items():
                entry = arrivals.setdefault(name, {"window": seen.window, "counts": {}})
                for count, windows in seen.counts.items():
                    entry["counts"][str(count)] = entry["counts"].get(str(count), 0) + windows
                transitions.setdefault(name, []).append(seen.transitions)
        data["arrivals"] = arrivals
        if self.latency:
            data["latency"] = self.latency_dict()
            if self.latency_theory is not None:
                curves = {
                    f"{scope}:{name}:{metric}": self.latency_theory.ccdf_curve(
                        (scope, name, metric), float(histogram.ccdf()[0][-1])
                    )
                    for (scope, name, metric), histogram in self.latency.items()
                    if histogram.total
                }
                data["latency_theory"] = {k: v for k, v in curves.items() if v is not None}
        data["transitions"] = {
            name: _pooled_table(counts).tolist() for name, counts in transitions.items()
        }
        return data

    def latency_dict(self) -> dict[str, Any]:
        """The pooled histograms as JSON: ``{scope: {name: {metric: {buckets, counts}}}}``.

        Scopes are ``stations``, ``classes`` and ``system`` (name ``system``);
        :meth:`eda_sim.stats.sketch.Histogram.from_dict` reads each back.
        """
        scopes = {"station": "stations", "class": "classes", "system": "system"}
        out: dict[str, Any] = {}
        for (scope, name, metric), histogram in self.latency.items():
            if scope == "class" and not self.classes:
                continue  # one event class: its figures are the system's
            out.setdefault(scopes[scope], {}).setdefault(name, {})[metric] = histogram.to_dict()
        return out

    def theory_value(self, scope: str, name: str, metric: str) -> tuple[float, str, bool]:
        """Theoretical figure, its method and exactness (NaN, "", False when unavailable)."""
        member = _family_member(metric)
        if member is not None:  # a percentile: from the exact laws, if any
            if self.latency_theory is None or member.family is None or member.level is None:
                return math.nan, "", False
            base = member.family.removesuffix("_p")
            return self.latency_theory.quantile(scope, name, base, member.level)
        theory = self.theory
        if theory is None:
            return math.nan, "", False
        if scope == "station":
            station = theory.stations.get(name)
            if station is None:
                return math.nan, f"unavailable: {theory.reasons.get(name, '')}", False
            value = getattr(station, metric, None)
            if value is None or metric in ("method", "exact", "reason"):
                return math.nan, "", False
            return float(value), station.method, station.exact
        if scope == "system" and theory.system is not None and metric in names("system"):
            system = theory.system
            value = getattr(system, metric, None)
            if value is None:
                return math.nan, "", False
            return float(value), system.method, system.exact
        if scope == "class" and name in theory.classes:
            figures = theory.classes[name]
            if not figures.available:
                return math.nan, f"unavailable: {figures.reason}", False
            if metric in CLASS_METRICS:
                return figures.value(metric), figures.method, figures.exact
        return math.nan, "", False

    @property
    def replications(self) -> int:
        """Number of replications that finished (1 for batch means)."""
        return 1 if self.ci_method == "batch-means" else len(self.replication_results)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per (scope, name, metric) with mean, CI bounds and half-width.

        ``scope`` is ``"station"``, ``"system"`` or ``"class"``; ``name`` is the
        station or class name (``"system"`` for the system). ``theory``,
        ``method`` and ``exact`` give the analytic figure beside the simulated one.
        Percentiles are metrics like the others (``W_p99``). Each SLO adds a row of
        scope ``"slo"``: ``name`` its target, ``metric`` its kind (``max`` or
        ``min``), the target's interval, ``theory`` the limit and ``method`` the
        verdict (``met``, ``violated`` or ``undecided``).
        """
        import pandas as pd

        return pd.DataFrame(self.table_rows())

    def table_rows(self) -> list[dict[str, Any]]:
        """The rows of :meth:`to_frame` as plain dictionaries (no pandas needed)."""
        rows: list[dict[str, Any]] = []

        def add(scope: str, name: str, metrics: dict[str, Interval]) -> None:
            for metric, interval in metrics.items():
                theory, method, exact = self.theory_value(scope, name, metric)
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
                        "theory": theory,
                        "method": method,
                        "exact": exact,
                    }
                )

        for station, metrics in self.stations.items():
            add("station", station, metrics)
        add("system", "system", self.system)
        for name, metrics in self.classes.items():
            add("class", name, metrics)
        for verdict in self.slo:  # scope "slo": theory holds the limit, method the verdict
            interval = verdict.interval
            rows.append(
                {
                    "scope": "slo",
                    "name": verdict.slo.target,
                    "metric": verdict.slo.kind,
                    "mean": interval.mean,
                    "ci_low": interval.low,
                    "ci_high": interval.high,
                    "half_width": interval.half_width,
                    "n": interval.n,
                    "theory": verdict.slo.limit,
                    "method": verdict.verdict,
                    "exact": False,
                }
            )
        return rows

    def replications_frame(self) -> pd.DataFrame:
        """One row per replication × scope × name × metric: the raw replication means.

        Columns ``replication, scope, name, metric, value``, with the scopes, names
        and metrics of :meth:`to_frame` (stations, the system, and each class of a
        scenario with several), so the two merge on ``scope, name, metric``. With
        batch means a "replication" is one batch.
        """
        import pandas as pd

        from eda_sim.frames import replication_rows

        rows = replication_rows(self.replication_results, self.stations, self.system, self.classes)
        return pd.DataFrame(rows, columns=["replication", "scope", "name", "metric", "value"])

    def checks_frame(self) -> pd.DataFrame:
        """One row per test of the model's assumptions (the JSON ``checks``).

        Columns ``check, subject, method, statistic, p_value, dof, n, alpha, passed,
        note``: Poisson counts (chi-square) and exponential gaps (Kolmogorov–Smirnov)
        per class, and each routing row's observed hops (chi-square).
        """
        import pandas as pd

        from eda_sim.frames import check_rows

        columns = ["check", "subject", "method", "statistic", "p_value", "dof", "n", "alpha"]
        return pd.DataFrame(check_rows(self.checks), columns=[*columns, "passed", "note"])

    def records_frame(self) -> pd.DataFrame:
        """One row per visit of replication 0, from its trace (``run(..., trace=True)``).

        The columns are those of Ciw's ``get_all_records``, in snake case:
        ``id, class, station, record_type, arrival, wait, service_start,
        service_time, service_end, blocked, departure, sojourn, destination,
        present_at_arrival`` (:func:`eda_sim.frames.visit_rows` says what each is).
        Every visit of the replication is there, the warm-up's too: keep
        ``arrival >= result.warmup`` for the measured part.

        Raises
        ------
        ValueError
            If the run kept no trace (memory grows with a trace, so it is kept only
            when asked for).
        """
        import pandas as pd

        from eda_sim.frames import RECORD_COLUMNS, visit_rows

        trace = self.sample.trace if self.sample is not None else None
        if trace is None:
            raise ValueError(
                "this run kept no trace: run it with eda_sim.run(..., trace=True) "
                "(replication 0 is traced; memory grows with the horizon)"
            )
        return pd.DataFrame(visit_rows(trace), columns=list(RECORD_COLUMNS))

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
            "warmup_method": self.warmup_method,
            "ci_method": self.ci_method,
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
        if self.theory is not None:
            document["theory"] = json_clean(self.theory.to_dict())
            if self.latency_theory is not None:
                document["theory"]["percentiles"] = json_clean(
                    self.latency_theory.to_dict(self.quantile_levels)
                )
            document["article"] = json_clean(self.theory.article_dict())
        document["checks"] = [check.to_dict() for check in self.checks]
        if self.ci_method == "batch-means":
            document["batches"] = len(self.replication_results)
        if self.precision is not None:
            document["precision"] = self.precision.to_dict()
        document["quantiles"] = list(self.quantile_levels)
        if self.slo:
            document["slo"] = [verdict.to_dict(self.ci_method) for verdict in self.slo]
        document["notes"] = list(self.notes)
        document["time_unit"] = self.time_unit
        document["model"] = self.model
        document["plot_data"] = self.plot_data()
        return document

    def to_json(self, indent: int | None = 2) -> str:
        """The JSON document as text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def describe_scenario(scenario: Scenario) -> dict[str, Any]:
    """The scenario as reports draw it: stations, and per class its arrivals and routing.

    Plain JSON data: ``stations`` (name, servers, capacity, on_full, service),
    ``classes`` (name, arrival process and rate, priority, entry probabilities,
    routing matrix in station order, fan-out lists, exit probabilities).
    """
    return {
        "name": scenario.name,
        "description": scenario.description,
        "time_unit": scenario.time_unit,
        "stations": [
            {
                "name": station.name,
                "servers": station.servers,
                "capacity": station.capacity,
                "on_full": station.on_full,
                "service": station.service.describe(),
                "service_mean": station.service.mean,
            }
            for station in scenario.stations
        ],
        "classes": [
            {
                "name": c.name,
                "arrivals": c.arrivals.kind,
                "rate": c.arrivals.rate,
                "priority": c.priority,
                "entry": c.routing.entry.tolist(),
                "matrix": c.routing.matrix.tolist(),
                "fanout": [
                    [scenario.station_names[t] for t in targets] for targets in c.routing.fanout
                ],
                "exit": c.routing.exit_probabilities.tolist(),
            }
            for c in scenario.classes
        ],
    }


def _pooled_table(counts: list[HopCounts]) -> np.ndarray:
    """The hops of the replications added up, as the dense ``N × (N + 1)`` table."""
    n = counts[0].stations
    table = np.zeros((n, n + 1), dtype=np.int64)
    for i, row in pooled_hops(counts).items():
        for j, count in row.items():
            table[i, j] = count
    return table


def _rounded(values: Any) -> list[float | None]:
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


def assumption_checks(
    scenario: Scenario, replications: Sequence[ReplicationResult]
) -> list[CheckResult]:
    """The article's assumptions tested on the pooled data of all replications.

    Per event class: Poisson window counts (chi-square) and exponential gaps
    (Kolmogorov–Smirnov) of its external arrivals; per class and station with
    observed hops: the next hops against the routing row (chi-square).
    """
    results: list[CheckResult] = []
    names = scenario.station_names
    for event_class in scenario.classes:
        observations = [
            rep.observations[event_class.name]
            for rep in replications
            if event_class.name in rep.observations
        ]
        # Every replication replays the same trace: test its arrivals once.
        replayed = event_class.arrivals.kind == "trace"
        arrival_data = observations[:1] if replayed else observations
        if not observations:
            continue
        label = "" if scenario.single_class else f" of {event_class.name}"
        counts: dict[int, int] = {}
        for observation in arrival_data:
            for count, windows in observation.counts.items():
                counts[count] = counts.get(count, 0) + windows
        rate = event_class.arrivals.rate
        results.append(
            poisson_counts_check(counts, rate * observations[0].window, f"arrivals{label}")
        )
        gaps = [gap for observation in arrival_data for gap in observation.gaps]
        results.append(exponential_gaps_check(gaps, rate, f"arrivals{label}"))
        hops = pooled_hops(o.transitions for o in observations)
        matrix = event_class.routing.matrix
        exits = event_class.routing.exit_probabilities
        for index, station in enumerate(names):
            if index not in hops:  # no hop seen after this station
                continue
            hop_row = [0] * (len(names) + 1)  # last: exits
            for target, count in hops[index].items():
                hop_row[target] = count
            row = [*matrix[index].tolist(), float(exits[index])]
            results.append(routing_row_check(hop_row, row, f"routing after {station}{label}"))
    return results


def summarize(
    scenario_name: str,
    engine: str,
    replications: Sequence[ReplicationResult],
    *,
    confidence: float,
    requested: int,
    class_names: Sequence[str] = (),
    elapsed_seconds: float = math.nan,
    theory: ScenarioTheory | None = None,
    checks: Sequence[CheckResult] = (),
    features: Iterable[str] = (),
    levels: Sequence[float] = (),
) -> RunResult:
    """Combine replication records into intervals (replication/deletion, Student-t).

    The metrics are those the table of metrics reports for each scope
    (:func:`eda_sim.metrics.reported`) given the scenario's ``features`` and the
    ``levels`` of metric families. A percentile (``W_p99``) gets the interval
    of the replications' quantiles: each replication's ``p``-quantile of its own
    visits, then Student-t over the replications (or the batches of batch means).

    Parameters
    ----------
    class_names : sequence of str
        Event classes to report separately; empty for a one-class scenario.
    features : iterable of str
        The mechanisms the scenario uses (:attr:`Scenario.features`).
    levels : sequence of float
        Levels of the metric families reported (percentiles).
    """
    features = tuple(features)
    if not replications:
        raise ValueError("summarize needs at least one replication")
    first = replications[0]

    def intervals(
        records: Sequence[StationRecord | SystemRecord], scope: Scope
    ) -> dict[str, Interval]:
        return {
            metric: t_interval((record.metric(metric) for record in records), confidence)
            for metric in names(scope, features, levels)
        }

    stations = {
        station: intervals([rep.stations[station] for rep in replications], "station")
        for station in first.stations
    }
    system = intervals([rep.system for rep in replications], "system")
    classes = {
        name: intervals([rep.classes[name] for rep in replications], "class")
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
        theory=theory,
        checks=tuple(checks),
    )


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash or Ctrl-C never leaves half a file.

    See :func:`eda_sim.files.write_output`: a temporary file renamed over the target
    (permissions from the umask, or the replaced file's), a symbolic link written
    through, a FIFO or device written to as a stream.
    """
    write_output(path, text)
