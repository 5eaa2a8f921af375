"""The two-sided Kolmogorov–Smirnov distribution (eda_sim.kolmogorov) and the checks built on it.

``kolmogorov_sf`` exists so that a run's assumption checks need no ``scipy.stats``;
these tests hold it, and the chi-square checks computed from ``scipy.special``, to
what ``scipy.stats`` gives (an independent implementation of the same published
methods) and to closed forms.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats as scipy_stats

from eda_sim.checks import exponential_gaps_check, poisson_counts_check, routing_row_check
from eda_sim.kolmogorov import kolmogorov_sf

SEED = 20261201  # chosen once

#: Both sides evaluate the same formulas (and, for n <= 140, two exact algorithms:
#: Durbin's matrix here, Pomeranz's recursion in scipy) in double precision; their
#: rounding differs by ~1e-10 relative at worst, well inside this bound.
RELATIVE = 1e-8

SIZES = [1, 2, 3, 5, 10, 30, 100, 140, 141, 200, 1_000, 2_000, 20_000]


@pytest.mark.parametrize("n", SIZES)
def test_matches_scipy_kstwo_over_the_whole_range(n: int) -> None:
    # z = x·√n from deep in the lower tail to far in the upper tail, and the edges
    # of each method's region (n·x = 1/2, 1, n − 1; n·x² = 0.754693, 2.2, 4, 18, 370).
    points = list(np.linspace(0.05, 3.2, 45) / math.sqrt(n))
    points += [0.5 / n, 0.7 / n, 1.0 / n, 1.3 / n, (n - 1) / n, 0.4999, 0.5, 0.75, 0.999]
    points += [math.sqrt(c / n) for c in (0.754693, 2.2, 4.0, 18.0, 370.0)]
    for x in points:
        if not 0 < x < 1:
            continue
        expected = float(scipy_stats.kstwo.sf(x, n))
        got = kolmogorov_sf(n, float(x))
        assert got == pytest.approx(expected, rel=RELATIVE, abs=1e-300), (n, x)


@pytest.mark.parametrize("z", [0.2, 0.5, 0.9, 1.2, 1.45])
def test_matches_scipy_kstwo_beyond_the_durbin_matrix(z: float) -> None:
    # n > 100,000: the Pelz–Good series wherever the upper-tail formula does not apply.
    n = 120_000
    x = z / math.sqrt(n)
    assert kolmogorov_sf(n, x) == pytest.approx(float(scipy_stats.kstwo.sf(x, n)), rel=RELATIVE)


@pytest.mark.parametrize("x", [0.5, 0.6, 0.75, 0.9, 0.99])
def test_one_point_closed_form(x: float) -> None:
    # D_1 = max(U, 1 − U) for one uniform U, so P(D_1 >= x) = 2(1 − x) for x >= 1/2.
    assert kolmogorov_sf(1, x) == pytest.approx(2 * (1 - x), rel=1e-12)


def test_bounds() -> None:
    assert kolmogorov_sf(50, 0.0) == 1.0
    assert kolmogorov_sf(50, 1.0) == 0.0
    assert kolmogorov_sf(50, 0.5 / 50) == 1.0  # D_n >= 1/(2n) always


def test_exponential_gaps_check_gives_kstest_statistic_and_p_value() -> None:
    rng = np.random.default_rng([SEED, 1])
    for size, slower in [(2, 1.0), (40, 1.0), (2_000, 1.0), (20_000, 1.0), (20_000, 1.03)]:
        rate = float(rng.uniform(0.2, 5.0))
        gaps = rng.exponential(slower / rate, size)
        result = exponential_gaps_check(gaps.tolist(), rate, "arrivals")
        reference = scipy_stats.kstest(gaps, "expon", args=(0.0, 1.0 / rate))
        assert result.statistic == float(reference.statistic)
        assert result.p_value == pytest.approx(float(reference.pvalue), rel=RELATIVE)


def test_chi_square_checks_give_scipy_statistic_and_p_value() -> None:
    rng = np.random.default_rng([SEED, 2])
    for mean, factor in [(0.3, 1.0), (5.0, 1.0), (5.0, 1.1), (40.0, 1.0)]:
        counts = rng.poisson(mean * factor, 1_000)
        histogram = dict(Counter(int(c) for c in counts))
        result = poisson_counts_check(histogram, mean, "arrivals")
        # The reference: scipy.stats' Poisson pmf, bins merged by the same rule.
        top = max(max(histogram), int(mean * 3 + 10))
        observed = np.array([histogram.get(k, 0) for k in range(top + 1)], dtype=float)
        pmf = scipy_stats.poisson.pmf(np.arange(top + 1), mean)
        pmf[-1] += scipy_stats.poisson.sf(top, mean)
        from eda_sim.checks import _merge_bins

        obs, exp = _merge_bins(observed, 1_000 * pmf)
        reference = scipy_stats.chisquare(obs, exp)
        assert result.statistic == float(reference.statistic)
        assert result.p_value == float(reference.pvalue)
    hops = [310, 120, 570]
    row = [0.3, 0.1, 0.6]
    result = routing_row_check(hops, row, "routing")
    reference = scipy_stats.chisquare(hops, [1000 * p for p in row])
    assert result.statistic == pytest.approx(float(reference.statistic), rel=1e-15)
    assert result.p_value == pytest.approx(float(reference.pvalue), rel=1e-15)
