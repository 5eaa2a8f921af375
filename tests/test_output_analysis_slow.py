"""Measured checks of the output analysis (slow: run with ``pytest -m slow``).

1. **Coverage.** 200 independent experiments on M/M/1 at ρ = 0.7, each of 10
   replications, each giving a 95% Student-t interval for the station's W. The
   share of intervals that contain the exact W = 1/(μ − λ) must lie in [0.90, 0.99],
   the issue's criterion. For 200 trials at a true coverage of 0.95 the binomial
   99% acceptance band is 181..197 hits, i.e. [0.905, 0.985] (each tail < 0.5%;
   the normal approximation 0.95 ± 2.576·√(0.95·0.05/200) gives [0.910, 0.990]):
   the criterion is that band, rounded outwards.
2. **MSER-5 against Welch.** M/M/1 at ρ = 0.9 started empty: the warm-up found by
   MSER-5 (what ``run(warmup="auto")`` does) against Welch's graphical method on the
   same replications, both beside the exact transient E[N(t)] of the birth–death
   chain.

Seeds are fixed and were not changed after a run; a failure means: look for a bug.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats
from scipy.sparse.linalg import expm_multiply

from eda_sim.engine.records import ReplicationResult
from eda_sim.experiment import run
from eda_sim.scenario import Scenario, scenario_from_dict
from eda_sim.stats import mser
from eda_sim.theory import mm1

pytestmark = pytest.mark.slow


def mm1_scenario(rho: float) -> Scenario:
    """One exponential server of rate 1 fed by Poisson arrivals of rate ``rho``."""
    return scenario_from_dict(
        {
            "name": f"mm1-{rho:g}",
            "stations": {"handler": {"servers": 1, "service": {"dist": "exponential", "rate": 1}}},
            "arrivals": {"process": "poisson", "rate": rho},
        }
    )


# ---------------------------------------------------------------------- coverage

COVERAGE_EXPERIMENTS = 200
COVERAGE_REPLICATIONS = 10
#: Relaxation time of M/M/1 at ρ = 0.7 is 1/(1 − √ρ)² ≈ 37: a warm-up of 1000 from
#: empty leaves no measurable bias, and 9000 measured time units per replication
#: (~6300 visits) make each replication mean close to normal.
COVERAGE_HORIZON = 10_000.0
COVERAGE_WARMUP = 1_000.0


def test_ninety_five_percent_intervals_cover_w_about_95_percent_of_the_time() -> None:
    lo_hits = int(scipy_stats.binom.ppf(0.005, COVERAGE_EXPERIMENTS, 0.95))
    hi_hits = int(scipy_stats.binom.isf(0.005, COVERAGE_EXPERIMENTS, 0.95))
    assert lo_hits / COVERAGE_EXPERIMENTS >= 0.90 and hi_hits / COVERAGE_EXPERIMENTS <= 0.99

    scenario = mm1_scenario(0.7)
    exact_w = mm1(0.7, 1.0).W  # 1 / (1 − 0.7) = 3.333…
    started = time.perf_counter()
    hits = 0
    # One pool of two processes for all 200 experiments (the same as workers=2,
    # without starting 200 pools).
    with ProcessPoolExecutor(max_workers=2) as pool:
        for seed in range(1, COVERAGE_EXPERIMENTS + 1):
            result = run(
                scenario,
                replications=COVERAGE_REPLICATIONS,
                horizon=COVERAGE_HORIZON,
                warmup=COVERAGE_WARMUP,
                seed=seed,
                confidence=0.95,
                executor=pool,
            )
            interval = result.stations["handler"]["W"]
            assert interval.n == COVERAGE_REPLICATIONS
            hits += interval.contains(exact_w)
    elapsed = time.perf_counter() - started
    share = hits / COVERAGE_EXPERIMENTS
    print(
        f"\ncoverage of W at 95%: {hits}/{COVERAGE_EXPERIMENTS} = {share:.3f} "
        f"(binomial 99% band {lo_hits}..{hi_hits}); {elapsed:.1f} s"
    )
    assert 0.90 <= share <= 0.99, f"coverage {share:.3f} outside [0.90, 0.99]"


# ------------------------------------------------------------ MSER-5 vs Welch

WELCH_RHO = 0.9
WELCH_REPLICATIONS = 1_000
WELCH_HORIZON = 4_000.0  # a grid interval of 8, an MSER-5 batch of 40 time units
WELCH_SEED = 61
#: Half-window of Welch's moving average, in grid intervals (a window of 808 time units,
#: about two relaxation times 1/(1 − √0.9)² ≈ 380 of the queue).
WELCH_WINDOW = 50
#: Welch's band: the smoothed curve must stay within ±5% of the steady-state L.
WELCH_BAND = 0.05


class RecordingExecutor(Executor):
    """Passes work to another executor and keeps the futures, to see every replication."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = self.inner.submit(fn, *args, **kwargs)
        self.futures.append(future)
        return future


def welch_smooth(series: np.ndarray, window: int) -> np.ndarray:
    """Welch's moving average: ``Ȳ_i(w)`` for ``i = 1..m − w`` (Law & Kelton, §9.5.1).

    Centred over ``2w + 1`` points, over ``2i − 1`` points near the start.
    """
    m = len(series)
    cumulative = np.concatenate([[0.0], np.cumsum(series)])
    smoothed = np.empty(m - window)
    for i in range(m - window):
        half = min(i, window)
        smoothed[i] = (cumulative[i + half + 1] - cumulative[i - half]) / (2 * half + 1)
    return smoothed


def welch_warmup(series: np.ndarray, times: np.ndarray, level: float) -> float:
    """First grid time after which the smoothed curve stays within the band around ``level``."""
    smoothed = welch_smooth(series, WELCH_WINDOW)
    outside = np.nonzero(np.abs(smoothed - level) > WELCH_BAND * level)[0]
    first_inside = 0 if outside.size == 0 else int(outside[-1]) + 1
    return float(times[first_inside])


def exact_mean_present(rho: float, times: np.ndarray, states: int = 400) -> np.ndarray:
    """E[N(t)] of M/M/1 (μ = 1) from empty, by the transient of the truncated chain."""
    generator = np.zeros((states + 1, states + 1))
    for n in range(states + 1):
        if n < states:
            generator[n, n + 1] = rho
        if n > 0:
            generator[n, n - 1] = 1.0
        generator[n, n] = -generator[n].sum()
    start = np.zeros(states + 1)
    start[0] = 1.0
    probabilities = expm_multiply(
        generator.T, start, start=0.0, stop=float(times[-1]), num=len(times), endpoint=True
    )
    return np.asarray(probabilities @ np.arange(states + 1))


def test_mser5_agrees_with_welch_on_an_empty_mm1() -> None:
    """Agreement: both warm-ups in the first quarter of the run, and within 10% of it.

    Concretely, with H the horizon: ``t80 <= MSER, Welch <= H/4`` and
    ``|MSER − Welch| <= 0.1·H`` (50 grid intervals, 10 MSER-5 batches), where
    ``t80`` is the exact time at which E[N(t)] from empty reaches 80% of L — any
    cut before it would keep a bias of more than 20% in the first measured part.
    """
    scenario = mm1_scenario(WELCH_RHO)
    level = mm1(WELCH_RHO, 1.0).L  # 9
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        recorder = RecordingExecutor(pool)
        result = run(
            scenario,
            replications=WELCH_REPLICATIONS,
            horizon=WELCH_HORIZON,
            warmup="auto",
            seed=WELCH_SEED,
            executor=recorder,
        )
    elapsed = time.perf_counter() - started
    raw: list[ReplicationResult] = [future.result() for future in recorder.futures]
    assert sorted(r.replication for r in raw) == list(range(WELCH_REPLICATIONS))
    assert result.warmup_method == "MSER-5"
    paths = [r.path for r in raw if r.path is not None]
    assert len(paths) == WELCH_REPLICATIONS
    times = paths[0].times
    averaged = np.mean([p.batch_means("handler") for p in paths], axis=0)

    mser_cut = mser(averaged)
    mser_warmup = float(times[mser_cut.truncation])
    assert result.warmup == mser_warmup  # run() cut exactly there
    welch = welch_warmup(averaged, times, level)

    exact = exact_mean_present(WELCH_RHO, times)
    t80 = float(times[np.argmax(exact >= 0.80 * level)])
    t95 = float(times[np.argmax(exact >= 0.95 * level)])
    print(
        f"\nM/M/1 ρ = {WELCH_RHO}, {WELCH_REPLICATIONS} replications of {WELCH_HORIZON:g}: "
        f"MSER-5 warm-up {mser_warmup:g} (second half: {mser_cut.second_half}), "
        f"Welch (w = {WELCH_WINDOW}, ±{WELCH_BAND:.0%} of L) {welch:g}; "
        f"exact E[N(t)] reaches 80% of L at {t80:g}, 95% at {t95:g}; {elapsed:.1f} s"
    )
    quarter = WELCH_HORIZON / 4
    assert t80 <= mser_warmup <= quarter, f"MSER-5 warm-up {mser_warmup:g}"
    assert t80 <= welch <= quarter, f"Welch warm-up {welch:g}"
    assert abs(mser_warmup - welch) <= 0.1 * WELCH_HORIZON
    assert not math.isnan(result.stations["handler"]["L"].mean)
