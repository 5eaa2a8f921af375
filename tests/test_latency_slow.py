"""Measured coverage of the percentile intervals (slow: run with ``pytest -m slow``).

200 independent experiments on M/M/1 at ρ = 0.8 (μ = 1, λ = 0.8), each of 10
replications on the fast engine, each giving the 95% Student-t interval of the
station's p99 time per visit over the replications' p99s (what ``run`` reports as
``W_p99``). The exact p99 is ``ln(100)/(μ − λ)`` (the sojourn of M/M/1 FCFS is
exponential with rate μ − λ; Kleinrock, *Queueing Systems* I, §3.2). Issue #13's
criterion: the intervals cover it in 93–97% of the 200 experiments, i.e. 186..194
hits. For a true coverage of exactly 0.95 the binomial probability of that band
is 0.86 (0.76 at 0.94, 0.80 at 0.96): a failure is a strong hint, not a proof, of
a bias; the printed line says where the share fell.

Seeds 1..200 were fixed before the first run and are not changed after one.
The first run used a horizon of 20,000 and gave 182/200 = 0.910, every miss on
the same side: a replication's p99 over ~14,400 correlated visits is skewed
(skewness 1.62 measured on 1,000 replications of seeds 30001..30100, unbiased:
mean 23.08), and a t interval over 10 skewed values under-covers. The design was
changed, not the seeds: a horizon of 100,000 (skewness 0.70 measured on 300
replications of seeds 40001..40030), the same seeds 1..200.
"""

from __future__ import annotations

import math
import time

import pytest
from scipy import stats as scipy_stats

from eda_sim.experiment import run
from eda_sim.scenario import Scenario, scenario_from_dict

pytestmark = pytest.mark.slow

EXPERIMENTS = 200
REPLICATIONS = 10
RHO = 0.8
#: Relaxation time of M/M/1 at ρ = 0.8 is 1/(1 − √ρ)² ≈ 90: a warm-up of 2,000 from
#: empty leaves no measurable bias; 98,000 measured time units (~78,000 visits) per
#: replication make each replication's p99 nearly normal (see the module docstring).
HORIZON = 100_000.0
WARMUP = 2_000.0


def mm1_scenario() -> Scenario:
    """One exponential server of rate 1 behind Poisson arrivals of rate 0.8, p99 only."""
    return scenario_from_dict(
        {
            "name": "mm1-p99",
            "stations": {"handler": {"servers": 1, "service": {"dist": "exponential", "rate": 1}}},
            "arrivals": {"process": "poisson", "rate": RHO},
            "run": {"quantiles": [0.99]},
        }
    )


def test_p99_intervals_cover_the_exact_p99_93_to_97_percent_of_the_time() -> None:
    exact = math.log(100.0) / (1.0 - RHO)  # 23.0259 time units
    scenario = mm1_scenario()
    started = time.perf_counter()
    hits = 0
    for seed in range(1, EXPERIMENTS + 1):
        result = run(
            scenario,
            replications=REPLICATIONS,
            horizon=HORIZON,
            warmup=WARMUP,
            seed=seed,
            confidence=0.95,
            engine="fast",
        )
        interval = result.stations["handler"]["W_p99"]
        assert interval.n == REPLICATIONS
        hits += interval.contains(exact)
    elapsed = time.perf_counter() - started
    share = hits / EXPERIMENTS
    band = scipy_stats.binom(EXPERIMENTS, 0.95)
    print(
        f"\ncoverage of W_p99 at 95% (M/M/1, rho {RHO}): {hits}/{EXPERIMENTS} = {share:.3f}; "
        f"P(186..194 | 0.95) = {band.cdf(194) - band.cdf(185):.2f}; {elapsed:.1f} s"
    )
    assert 0.93 <= share <= 0.97, f"coverage {share:.3f} outside [0.93, 0.97]"
