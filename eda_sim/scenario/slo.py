"""Percentile levels and service-level objectives of a scenario, and their checks (layer 2).

A scenario's ``run.quantiles`` names the percentile levels every run reports
(default 0.5, 0.95, 0.99): metrics ``W_p50``, ``Wq_p95``, ``W_p99.9`` ... per
station (``blocked_pXX`` too where stations block), per event class and for the
system (end-to-end ``W``). Its ``slo:`` list states targets::

    slo:
      - {target: classes.checkout.W_p99, max: 0.5}
      - {target: stations.payment.loss, max: 0.001}
      - {target: system.throughput, min: 9.5}

A target is ``stations.NAME.METRIC``, ``classes.NAME.METRIC`` (scenarios with
several event classes) or ``system.METRIC``; names may contain dots (the
longest station or class name that fits is taken). :func:`slo_faults` refuses
an unknown scope, station, class or metric and a percentile the run does not
compute, one fault per SLO, naming ``slo[i].target``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from eda_sim.errors import Fault
from eda_sim.metrics import level_suffix
from eda_sim.scenario.messages import describe_value, suggest
from eda_sim.scenario.schema import MAX_QUANTILES

__all__ = [
    "CLASS_TARGETS",
    "DEFAULT_QUANTILES",
    "MAX_QUANTILES",
    "STATION_TARGETS",
    "SYSTEM_TARGETS",
    "Slo",
    "latency_metrics",
    "level_of",
    "quantile_name",
    "slo_faults",
    "split_latency_metric",
]

#: Percentile levels reported when ``run.quantiles`` is not given.
DEFAULT_QUANTILES: tuple[float, ...] = (0.5, 0.95, 0.99)
#: Mean metrics an SLO may name, per scope (the engine's records name the same).
STATION_TARGETS = ("L", "Lq", "W", "Wq", "utilization", "throughput", "loss")
CLASS_TARGETS = ("W", "throughput", "loss")
SYSTEM_TARGETS = ("L", "W", "throughput", "loss")
#: Per-visit times whose percentiles are reported, per scope.
STATION_LATENCY = ("W", "Wq")
END_TO_END_LATENCY = ("W",)

Scope = Literal["station", "class", "system"]


def quantile_name(level: float) -> str:
    """The metric suffix of a level: 0.5 -> ``p50``, 0.999 -> ``p99.9`` (the table's names).

    Examples
    --------
    >>> [quantile_name(p) for p in (0.5, 0.95, 0.999, 0.001, 0.9999)]
    ['p50', 'p95', 'p99.9', 'p0.1', 'p99.99']
    """
    return "p" + level_suffix(level)


def latency_metrics(bases: Sequence[str], levels: Sequence[float]) -> tuple[str, ...]:
    """``BASE_pXX`` for every base metric and level, base by base, levels in order."""
    return tuple(f"{base}_{quantile_name(level)}" for base in bases for level in levels)


def split_latency_metric(metric: str, levels: Sequence[float]) -> tuple[str, int] | None:
    """``("W", 2)`` for ``W_p99`` when 0.99 is ``levels[2]``; None for any other name."""
    base, _, suffix = metric.partition("_p")
    if not suffix:
        return None
    for index, level in enumerate(levels):
        if quantile_name(level) == f"p{suffix}":
            return base, index
    return None


def level_of(metric: str) -> float | None:
    """The level a ``BASE_pXX`` name asks for (``W_p99.9`` -> 0.999), or None."""
    _, _, suffix = metric.partition("_p")
    if not suffix:
        return None
    try:
        level = float(Decimal(suffix) / 100)
    except ArithmeticError:
        return None
    return level if 0 < level < 1 and quantile_name(level) == f"p{suffix}" else None


@dataclass(frozen=True)
class Slo:
    """One service-level objective: ``metric`` of ``name`` in ``scope`` at most/least ``limit``.

    ``name`` is the station or class name (``"system"`` for the system); ``kind``
    is ``"max"`` (the metric must stay at or below the limit) or ``"min"``.
    """

    target: str
    scope: Scope
    name: str
    metric: str
    limit: float
    kind: Literal["max", "min"]

    def holds_for(self, value: float) -> bool:
        """True when ``value`` meets the objective."""
        return value <= self.limit if self.kind == "max" else value >= self.limit


def _split(target: str, scope: str, names: Sequence[str]) -> tuple[str, str] | None:
    """``(name, metric)`` with the longest ``name`` such that ``target = scope.name.metric``."""
    rest = target.removeprefix(f"{scope}.")
    fitting = [name for name in names if rest.startswith(f"{name}.") and len(rest) > len(name) + 1]
    if not fitting:
        return None
    name = max(fitting, key=len)
    return name, rest[len(name) + 1 :]


def _metric_fault(
    where: str,
    metric: str,
    allowed: Sequence[str],
    bases: Sequence[str],
    levels: Sequence[float] | None,
) -> Fault | None:
    if metric in allowed:
        return None
    base, _, _ = metric.partition("_p")
    asked = level_of(metric)
    if base in bases and asked is not None:
        if levels is None:  # the levels are malformed (reported): any level may be meant
            return None
        computed = ", ".join(f"{level:g}" for level in levels)
        return Fault(
            where,
            f"{metric} is not computed: add {asked:g} to run.quantiles (computed: {computed})",
        )
    hint = suggest(metric, allowed)
    listed = "" if hint else f" (allowed: {', '.join(allowed)})"
    return Fault(where, f"unknown metric {metric!r}{hint}{listed}")


def parse_target(
    target: str,
    stations: Sequence[str],
    classes: Sequence[str] | None,
    levels: Sequence[float] | None,
    blocking: bool,
    where: str,
) -> tuple[Scope, str, str] | Fault:
    """The scope, name and metric of an SLO target, or the fault that refuses it.

    ``classes`` is None for a scenario with one event class (written without
    ``classes:``), whose class figures are the system's; ``levels`` None when the
    percentile levels are not known (malformed), so that any level is accepted.
    """
    computed = () if levels is None else levels
    scope_word = target.split(".", 1)[0]
    if scope_word == "system":
        metric = target.removeprefix("system.")
        if "." not in target or not metric:
            return Fault(where, f"must be system.METRIC, got {describe_value(target)}")
        allowed = (*SYSTEM_TARGETS, *latency_metrics(END_TO_END_LATENCY, computed))
        fault = _metric_fault(where, metric, allowed, END_TO_END_LATENCY, levels)
        return fault if fault is not None else ("system", "system", metric)
    if scope_word == "stations":
        found = _split(target, "stations", stations)
        if found is None:
            station = target.removeprefix("stations.").split(".", 1)[0]
            hint = suggest(station, stations)
            return Fault(
                where,
                f"names no station ({describe_value(target)}; stations.NAME.METRIC){hint}",
            )
        name, metric = found
        bases = (*STATION_LATENCY, *(("blocked",) if blocking else ()))
        allowed = (
            *STATION_TARGETS,
            *(("blocked",) if blocking else ()),
            *latency_metrics(bases, computed),
        )
        fault = _metric_fault(where, metric, allowed, bases, levels)
        return fault if fault is not None else ("station", name, metric)
    if scope_word == "classes":
        if classes is None:
            return Fault(where, "the scenario has one event class: name its figures system.METRIC")
        found = _split(target, "classes", classes)
        if found is None:
            event_class = target.removeprefix("classes.").split(".", 1)[0]
            return Fault(
                where,
                f"names no event class ({describe_value(target)}; classes.NAME.METRIC)"
                f"{suggest(event_class, classes)}",
            )
        name, metric = found
        allowed = (*CLASS_TARGETS, *latency_metrics(END_TO_END_LATENCY, computed))
        fault = _metric_fault(where, metric, allowed, END_TO_END_LATENCY, levels)
        return fault if fault is not None else ("class", name, metric)
    return Fault(
        where,
        "must start with stations., classes. or system., got " + describe_value(target),
    )


def slo_faults(
    specs: Sequence[tuple[str, float | None, float | None] | None],
    stations: Sequence[str],
    classes: Sequence[str] | None,
    levels: Sequence[float] | None,
    blocking: bool,
) -> tuple[list[Slo], list[Fault]]:
    """The SLOs of ``specs`` (``(target, max, min)`` each, one limit given), and the faults.

    Parameters
    ----------
    specs : sequence of (str, float or None, float or None), or None
        The ``slo:`` entries as the schema let them through, in file order (None
        for an entry the schema refused, which keeps the others' numbers).
    stations, classes : sequence of str
        The scenario's names (``classes`` None for the one-class shorthand).
    levels : sequence of float, optional
        The percentile levels the run computes (None: not known, any is accepted).
    blocking : bool
        Whether some station blocks its senders (``blocked`` is then measured).
    """
    slos: list[Slo] = []
    faults: list[Fault] = []
    for index, spec in enumerate(specs):
        if spec is None:
            continue
        target, most, least = spec
        parsed = parse_target(target, stations, classes, levels, blocking, f"slo[{index}].target")
        if isinstance(parsed, Fault):
            faults.append(parsed)
            continue
        scope, name, metric = parsed
        kind: Literal["max", "min"] = "max" if most is not None else "min"
        limit = most if most is not None else least
        assert limit is not None  # the schema asks for exactly one of max and min
        slos.append(Slo(target, scope, name, metric, float(limit), kind))
    return slos, faults
