"""Numerics at scale: long horizons and extreme rates keep the time-weighted sums exact enough.

The engine integrates piecewise-constant levels by running sums of ``level × Δt``.
In float64 each addition errs by at most half an ulp of the running total, so with
``n`` additions the relative error of an integral is below ``n × 2⁻⁵³`` (and
typically ``√n × 2⁻⁵³``): about 1e-11 for ten million events. The tests below use
deterministic systems whose exact figures are known, at horizons up to 1e8 and
rates from 1e-6 to 1e6, and require 1e-9 relative accuracy (a regression test of
the arithmetic, with the bound above as its reason).
"""

from __future__ import annotations

import math

import pytest

from eda_sim.engine.simpy_engine import simulate_replication
from eda_sim.scenario import scenario_from_dict

ACCURACY = 1e-9


def deterministic_queue(
    gap: float, service: float, horizon: float, warmup: float
) -> dict[str, object]:
    """D/D/1: one arrival every ``gap``, each served in ``service`` (< gap): no waiting."""
    return {
        "stations": {"s": {"service": {"dist": "deterministic", "value": service}}},
        "arrivals": {
            "process": "renewal",
            "interarrival": {"dist": "deterministic", "value": gap},
        },
        "run": {"horizon": horizon, "warmup": warmup},
    }


@pytest.mark.parametrize(
    ("gap", "horizon"),
    [
        (1e6, 1e8),  # rate 1e-6 over a horizon of 1e8: 100 events
        (1.0, 1e5),  # ordinary
        (1e-6, 0.1),  # rate 1e6: 100,000 events
        (1e3, 1e8),  # 100,000 events at times up to 1e8, where an ulp of the clock is 1.5e-8
    ],
)
def test_deterministic_figures_are_exact_at_any_scale(gap: float, horizon: float) -> None:
    service = 0.4 * gap
    # The warm-up ends half-way between two arrivals, so that the window holds whole cycles.
    warmup = 10.5 * gap
    scenario = scenario_from_dict(deterministic_queue(gap, service, horizon, warmup))
    record = simulate_replication(scenario).stations["s"]
    span = horizon - warmup
    # Arrivals at k·gap (k >= 1), each busy for [k·gap, k·gap + service]: the busy time
    # inside [warmup, horizon], summed exactly (math.fsum).
    first, last = math.ceil(warmup / gap) - 1, math.floor(horizon / gap)
    busy = math.fsum(
        max(0.0, min(k * gap + service, horizon) - max(k * gap, warmup))
        for k in range(max(first, 1), last + 1)
    )
    assert record.utilization == pytest.approx(busy / span, rel=ACCURACY)
    assert record.L == pytest.approx(busy / span, rel=ACCURACY)
    assert record.Lq == 0.0
    assert record.W == pytest.approx(service, rel=ACCURACY)
    assert record.Wq == pytest.approx(0.0, abs=ACCURACY * service)


def test_long_poisson_run_keeps_littles_law_exactly() -> None:
    """200,000 events to a horizon of 1e8: the time-average L equals λ·W up to end effects.

    On a sample path ``∫L dt = Σ W_i`` over the visits inside the window, plus the
    parts of the visits cut by its ends; those parts are bounded by the few events
    present at the two ends, so ``|L·T − completions·W| <= (present at start + at
    end) × the longest visit``, here a small multiple of the mean visit.
    """
    rate = 2e-3  # one event every 500 time units, 200,000 events in 1e8
    scenario = scenario_from_dict(
        {
            "stations": {"s": {"service": {"dist": "exponential", "mean": 300.0}}},
            "arrivals": {"process": "poisson", "rate": rate},
            "run": {"horizon": 1e8, "warmup": "none", "seed": 5},
        }
    )
    record = simulate_replication(scenario).stations["s"]
    area = record.L * 1e8
    path_sum = record.W * record.completions
    assert abs(area - path_sum) <= (record.present_at_end + 1) * 30 * 300.0
    assert record.completions > 190_000
