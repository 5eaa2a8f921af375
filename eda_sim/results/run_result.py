"""A run's result: its replications summarised into intervals, as tables and JSON (layer 5)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eda_sim.checks import CheckResult
from eda_sim.engine.latency import SketchKey
from eda_sim.engine.records import ReplicationResult
from eda_sim.results import json_text, plot_data, rows
from eda_sim.results.encoding import RESULT_FORMAT, interval_json, json_clean, json_number
from eda_sim.stats import Interval
from eda_sim.stats.sketch import Histogram
from eda_sim.stats.slo import SloVerdict
from eda_sim.theory.percentiles.scenario import LatencyTheory
from eda_sim.theory.scenario import ScenarioTheory

if TYPE_CHECKING:  # pandas (~40 MB, ~0.2 s) is imported by the methods that make frames
    import pandas as pd


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
        return plot_data.plot_data(self)

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
        return rows.theory_value(self, scope, name, metric)

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
        return rows.table_rows(self)

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
                station: {metric: interval_json(iv) for metric, iv in metrics.items()}
                for station, metrics in self.stations.items()
            },
            "system": {metric: interval_json(iv) for metric, iv in self.system.items()},
        }
        if self.classes:
            document["classes"] = {
                name: {metric: interval_json(iv) for metric, iv in metrics.items()}
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
        """The JSON document as text (``json.dumps(..., allow_nan=False)``'s text).

        Indented, it is written by :func:`~eda_sim.results.json_text.dumps`: the same
        bytes, without :mod:`json`'s item by item encoder over the sample paths.
        """
        if indent is None:
            return json.dumps(self.to_dict(), allow_nan=False)
        return json_text.dumps(self.to_dict(), indent)
