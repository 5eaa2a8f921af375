"""The one table of metrics: every figure eda-sim reports, declared once (layer 0).

Each :class:`Metric` says what a figure is called (the name in the JSON, the
tidy frames, the sweep table and the reports), where it is measured (its
scopes: ``station``, ``system``, ``class``), its unit kind, when it applies
(always, or when the scenario uses a mechanism), how replications are combined
into an interval, and whether a precision target applies to it. The engines
fill the replication records (:mod:`eda_sim.engine.records`) under these names;
:mod:`eda_sim.results` summarises exactly the metrics :func:`reported` selects,
and the terminal tables, the HTML report and the plots take their headings,
units and legends from here.

Metric *families* (:class:`MetricFamily`) are parameterised by a level:
percentiles ``W_p50``, ``W_p99``, ``W_p99.9`` are one family at three levels
(:func:`level_suffix`); a scenario's levels select which members are reported.

Declaring a new metric
----------------------
1. Add it to :data:`METRICS` (or a family to :data:`FAMILIES`), with ``applies``
   naming the mechanism that makes it meaningful (a feature of
   :attr:`eda_sim.scenario.model.Scenario.features`), or ``"always"``.
2. Compute it in the replication records (:func:`eda_sim.engine.records.station_record`
   / ``system_record``: a field named as the metric, or an entry of the
   record's ``extra`` mapping for family members), from monitors both engines fill.
Nothing else changes: the JSON, the frames, the sweep table, the terminal
tables and the report pick it up from this table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

__all__ = [
    "ALWAYS",
    "FAMILIES",
    "METRICS",
    "Metric",
    "MetricFamily",
    "Per",
    "Scope",
    "Unit",
    "heading",
    "legend",
    "level_suffix",
    "lookup",
    "names",
    "precision_metrics",
    "reported",
]

#: Where a metric is measured: per station, for the whole system, per event class.
Scope = Literal["station", "system", "class"]
#: What a metric's values are: a number of events, a time, a rate per time unit, a share.
Unit = Literal["count", "time", "rate", "share"]
#: How a rate's heading says "per time unit": ``/s`` (terminal) or ``per s`` (report, plots).
Per = Literal["/", "per "]
#: ``applies`` of a metric reported for every scenario.
ALWAYS = "always"
#: How replications are combined: Student-t interval over the replications' values
#: (replication/deletion, Law & Kelton §9.4), or over batch means.
Summary = Literal["t-interval"]

_STATION: frozenset[Scope] = frozenset({"station"})
_EVERY: frozenset[Scope] = frozenset({"station", "system", "class"})
_END_TO_END: frozenset[Scope] = frozenset({"system", "class"})


@dataclass(frozen=True)
class Metric:
    """One reported figure.

    Attributes
    ----------
    name : str
        Its name everywhere (JSON key, frame ``metric`` column, table row).
    description : str
        What it is, in a phrase (legends, axis labels).
    unit : {"count", "time", "rate", "share"}
        What its values are; times and rates are shown with the scenario's time unit.
    scopes : frozenset of str
        Where it is measured.
    applies : str
        ``"always"``, or the scenario feature that makes it meaningful
        (e.g. ``"blocking"``); it is reported only where that feature is used.
    summary : str
        How replications are combined into an interval.
    precision : frozenset of str
        The scopes in which a ``--precision`` target applies to it.
    hide_zero : bool
        Terminal tables leave its row out when its mean is exactly 0.
    family : str or None
        The family's prefix, for a member of a :class:`MetricFamily`.
    level : float or None
        The member's level, for a member of a family.
    """

    name: str
    description: str
    unit: Unit
    scopes: frozenset[Scope]
    applies: str = ALWAYS
    summary: Summary = "t-interval"
    precision: frozenset[Scope] = frozenset()
    hide_zero: bool = False
    family: str | None = None
    level: float | None = None

    def heading(self, time_unit: str, per: Per = "/") -> str:
        """The column or axis heading: ``W (s)``, ``throughput (/s)`` (or ``(per s)``)."""
        if self.unit == "time":
            return f"{self.name} ({time_unit})"
        if self.unit == "rate":
            return f"{self.name} ({per}{time_unit})"
        return self.name


def level_suffix(level: float) -> str:
    """The name suffix of a level: percent, without trailing zeros.

    Examples
    --------
    >>> [level_suffix(q) for q in (0.5, 0.95, 0.99, 0.999)]
    ['50', '95', '99', '99.9']
    """
    if not 0 < level < 1:
        raise ValueError(f"a level must be in (0, 1), got {level!r}")
    text = f"{round(level * 100, 10):.10f}".rstrip("0").rstrip(".")
    return text


@dataclass(frozen=True)
class MetricFamily:
    """Metrics parameterised by a level, named ``{prefix}{level_suffix(level)}``.

    ``description`` may contain ``{percent}``, replaced by the level in percent.
    The other attributes are those of :class:`Metric`, shared by every member.

    Examples
    --------
    >>> family = MetricFamily("W_p", "{percent} percentile of the time per visit", "time",
    ...                       frozenset({"station", "system", "class"}), applies="quantiles")
    >>> family.member(0.99).name, family.member(0.99).description
    ('W_p99', '99 percentile of the time per visit')
    >>> family.level_of("W_p99.9"), family.level_of("Wq_p99")
    (0.999, None)
    """

    prefix: str
    description: str
    unit: Unit
    scopes: frozenset[Scope]
    applies: str = ALWAYS
    summary: Summary = "t-interval"
    precision: frozenset[Scope] = frozenset()

    def member(self, level: float) -> Metric:
        """The family's metric at ``level``."""
        suffix = level_suffix(level)
        return Metric(
            name=f"{self.prefix}{suffix}",
            description=self.description.format(percent=suffix),
            unit=self.unit,
            scopes=self.scopes,
            applies=self.applies,
            summary=self.summary,
            precision=self.precision,
            family=self.prefix,
            level=level,
        )

    def level_of(self, name: str) -> float | None:
        """The level a member's ``name`` stands for, or None when it is not a member."""
        if not name.startswith(self.prefix):
            return None
        suffix = name[len(self.prefix) :]
        try:
            percent = Decimal(suffix)
        except InvalidOperation:
            return None
        if not (percent.is_finite() and 0 < percent < 100):
            return None
        level = float(percent / 100)
        return level if level_suffix(level) == suffix else None


#: Every single metric, in report order.
METRICS: tuple[Metric, ...] = (
    Metric(
        "L",
        "mean number present (waiting + in service)",
        "count",
        _EVERY,
        precision=_STATION,
    ),
    Metric("Lq", "mean number waiting", "count", _STATION),
    Metric(
        "W",
        "mean time per visit (system: end to end)",
        "time",
        _EVERY,
        precision=_EVERY - {"class"},
    ),
    Metric("Wq", "mean wait before service", "time", _STATION, precision=_STATION),
    Metric("utilization", "busy share of the servers", "share", _STATION),
    Metric("throughput", "completions per time unit", "rate", _EVERY),
    Metric("loss", "share of arrivals refused by a full station", "share", _EVERY),
    Metric(
        "blocked",
        "time per visit holding a server while the next station is full",
        "time",
        _STATION,
        applies="blocking",
        hide_zero=True,
    ),
)

#: Every family of metrics parameterised by a level: the percentiles, at the levels of
#: ``run.quantiles`` (each replication's quantile from its sketch, :mod:`eda_sim.engine.latency`).
FAMILIES: tuple[MetricFamily, ...] = (
    MetricFamily(
        "W_p",
        "{percent}th percentile of the time per visit (system, classes: end to end)",
        "time",
        _EVERY,
    ),
    MetricFamily("Wq_p", "{percent}th percentile of the wait before service", "time", _STATION),
    MetricFamily(
        "blocked_p",
        "{percent}th percentile of the time per visit holding a server while the next "
        "station is full",
        "time",
        _STATION,
        applies="blocking",
    ),
)

_BY_NAME = {metric.name: metric for metric in METRICS}


def lookup(name: str) -> Metric:
    """The metric called ``name`` (a single metric, or a member of a family).

    Raises
    ------
    KeyError
        For a name no metric or family member has.
    """
    found = _BY_NAME.get(name)
    if found is not None:
        return found
    for family in FAMILIES:
        level = family.level_of(name)
        if level is not None:
            return family.member(level)
    raise KeyError(name)


def reported(
    scope: Scope, features: Iterable[str] = (), levels: Sequence[float] = ()
) -> tuple[Metric, ...]:
    """The metrics reported in ``scope``, in report order.

    Parameters
    ----------
    scope : {"station", "system", "class"}
    features : iterable of str
        The features the scenario uses (a metric whose ``applies`` is one of
        them is reported; ``"always"`` metrics always are).
    levels : sequence of float
        The levels at which each family that applies is reported.
    """
    active = {ALWAYS, *features}
    single = [m for m in METRICS if scope in m.scopes and m.applies in active]
    members = [
        family.member(level)
        for family in FAMILIES
        if scope in family.scopes and family.applies in active
        for level in levels
    ]
    return (*single, *members)


def names(
    scope: Scope, features: Iterable[str] = (), levels: Sequence[float] = ()
) -> tuple[str, ...]:
    """The names of :func:`reported`."""
    return tuple(metric.name for metric in reported(scope, features, levels))


def precision_metrics(scope: Scope, features: Iterable[str] = ()) -> tuple[str, ...]:
    """The metrics a ``--precision`` target applies to in ``scope``."""
    return tuple(m.name for m in reported(scope, features) if scope in m.precision)


def heading(name: str, time_unit: str, per: Per = "/") -> str:
    """The heading of the metric ``name`` (unknown names are shown as they are)."""
    try:
        return lookup(name).heading(time_unit, per)
    except KeyError:
        return name


def legend(metric_names: Iterable[str]) -> str:
    """``"L: mean number present ..., W: ..."`` for the metrics named, in that order."""
    parts = []
    for name in dict.fromkeys(metric_names):
        try:
            parts.append(f"{name}: {lookup(name).description}")
        except KeyError:
            continue
    return ", ".join(parts)
