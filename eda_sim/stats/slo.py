"""Verdicts on service-level objectives from confidence intervals (layer 3).

An SLO (:class:`eda_sim.scenario.slo.Slo`) says a metric must stay at most (or
at least) a limit. With the metric's confidence interval at the run's level:

* **met** — the whole interval is on the right side of the limit (at most:
  ``high <= limit``; at least: ``low >= limit``);
* **violated** — the whole interval is on the wrong side (``low > limit``;
  ``high < limit``);
* **undecided** — the interval contains the limit (or there is none: fewer than
  two replications, or nothing measured).

A wrong "met" or "violated" has probability at most ``(1 − confidence)/2`` per
SLO when the interval covers at its level. For an undecided SLO the sample
needed to decide it is estimated from the half-width's ``1/√n`` law: an
interval narrower than the distance ``d`` between the mean and the limit
decides, so about ``n·(h/d)²`` replications (or that factor on the length of a
batch-means run) would do; none can when the mean sits on the limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from eda_sim.scenario.slo import Slo
from eda_sim.stats import Interval

__all__ = ["SloVerdict", "Verdict", "judge"]

Verdict = Literal["met", "violated", "undecided"]


@dataclass(frozen=True)
class SloVerdict:
    """One SLO judged on one interval.

    ``growth`` is the factor by which the sample (replications, or the length of
    a batch-means run) would have to grow for the interval to decide the SLO: 1
    when it is decided, inf when no sample can (the mean is on the limit) or
    nothing could be measured.
    """

    slo: Slo
    verdict: Verdict
    interval: Interval
    growth: float

    def replications_to_decide(self) -> int | None:
        """Replications that would decide an undecided SLO (None if none would, or if decided)."""
        if self.verdict != "undecided" or not math.isfinite(self.growth):
            return None
        return max(self.interval.n + 1, math.ceil(self.interval.n * self.growth))

    def to_dict(self, ci_method: str = "replications") -> dict[str, Any]:
        """The JSON entry: target, kind, limit, verdict, mean, ci (and what would decide it)."""

        def number(value: float) -> float | None:
            return value if math.isfinite(value) else None

        entry: dict[str, Any] = {
            "target": self.slo.target,
            "kind": self.slo.kind,
            "limit": self.slo.limit,
            "verdict": self.verdict,
            "mean": number(self.interval.mean),
            "ci": [number(self.interval.low), number(self.interval.high)],
        }
        if self.verdict == "undecided":
            if ci_method == "batch-means":
                entry["horizon_factor_to_decide"] = number(self.growth)
            else:
                entry["replications_to_decide"] = self.replications_to_decide()
        return entry


def judge(slo: Slo, interval: Interval) -> SloVerdict:
    """The verdict on ``slo`` from ``interval`` (see the module docstring).

    Examples
    --------
    >>> from eda_sim.scenario.slo import Slo
    >>> slo = Slo("system.W_p99", "system", "system", "W_p99", 2.0, "max")
    >>> judge(slo, Interval(1.5, 1.4, 1.6, 10, 0.95)).verdict
    'met'
    >>> undecided = judge(slo, Interval(1.9, 1.7, 2.1, 10, 0.95))
    >>> undecided.verdict, undecided.replications_to_decide()
    ('undecided', 40)
    """
    low, high, mean = interval.low, interval.high, interval.mean
    if math.isnan(low) or math.isnan(high):
        return SloVerdict(slo, "undecided", interval, math.inf)
    below, above = high <= slo.limit, low > slo.limit
    if slo.kind == "min":
        below, above = low >= slo.limit, high < slo.limit
    if below:
        return SloVerdict(slo, "met", interval, 1.0)
    if above:
        return SloVerdict(slo, "violated", interval, 1.0)
    distance = abs(mean - slo.limit)
    growth = (interval.half_width / distance) ** 2 if distance > 0 else math.inf
    return SloVerdict(slo, "undecided", interval, growth)
