"""What the validation tests share: Bonferroni-corrected checks against exact values.

Each validation test simulates ``REPLICATIONS`` independent replications (5%
warm-up) and compares several metrics with exact theoretical values. Every
metric's Student-t interval is at level ``1 − FAMILY_ALPHA / (number of
metrics)``, so a test whose exact values are right fails with probability at
most ``FAMILY_ALPHA`` (Bonferroni). Seeds are fixed; a failure is never re-run
on another seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eda_sim.experiment import run
from eda_sim.results import RunResult
from eda_sim.scenario import scenario_from_dict
from eda_sim.stats import t_interval

FAMILY_ALPHA = 0.01
REPLICATIONS = 15
WARMUP_SHARE = 0.05


@dataclass(frozen=True)
class Check:
    """One simulated metric (a value per replication) and the exact values it must cover."""

    label: str
    values: Sequence[float]
    exact: dict[str, float]  # source ("solver", "formula", ...) -> value


def assert_inside(checks: Sequence[Check], relative_slack: float = 0.0) -> None:
    """Every check's Bonferroni-corrected interval must cover each of its exact values.

    ``relative_slack`` widens each interval on both sides by that share of the exact
    value: for checks of percentiles, the sketches' guaranteed relative accuracy (a
    sketch's quantile may differ from the sample's by that much).
    """
    level = 1 - FAMILY_ALPHA / len(checks)
    misses = []
    for check in checks:
        interval = t_interval(check.values, level)
        for source, exact in check.exact.items():
            slack = relative_slack * exact if relative_slack else 0.0
            if not interval.low - slack <= exact <= interval.high + slack:
                misses.append(
                    f"{check.label}: {source} {exact:.5g} outside "
                    f"[{interval.low:.5g}, {interval.high:.5g}] ± {slack:.2g} ({level:.4%})"
                )
    assert not misses, "\n".join(misses)


def simulate(document: dict[str, Any], *, horizon: float, seed: int) -> RunResult:
    """Run a scenario document with ``REPLICATIONS`` replications and a 5% warm-up."""
    return run(
        scenario_from_dict(document),
        replications=REPLICATIONS,
        horizon=horizon,
        warmup=WARMUP_SHARE * horizon,
        seed=seed,
    )
