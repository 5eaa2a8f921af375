"""Tests of eda_sim.distributions: moments, fits, draws and parameter checks.

Statistical checks are seeded once (SEED below, one independent stream per case,
never re-drawn after a failure) and judged at a stated significance level ALPHA:
a one-sample Kolmogorov-Smirnov test against the scipy.stats reference
distribution (a chi-square goodness-of-fit test for the discrete empirical
distribution), and the sample mean inside the (1 - ALPHA) normal interval
mean ± z * sqrt(var / n).
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from eda_sim.distributions import (
    DISTRIBUTIONS,
    MAX_CSV_FAULTS,
    Deterministic,
    Distribution,
    Empirical,
    Erlang,
    Exponential,
    Gamma,
    Hyperexponential,
    Lognormal,
    Uniform,
)
from eda_sim.errors import ScenarioError

SEED = 20_260_517  # chosen once; each case gets its own stream derived from it
ALPHA = 0.001  # significance level of every statistical test in this file
Z = float(stats.norm.ppf(1.0 - ALPHA / 2.0))  # two-sided 99.9% normal quantile
N_DRAWS = 20_000
REL = 1e-12  # relative tolerance for exact (floating-point) identities

NAN = math.nan
INF = math.inf


def rng_for(case: str) -> np.random.Generator:
    """Return a generator for one test case: SEED plus a stable hash of the case name."""
    return np.random.default_rng(np.random.SeedSequence([SEED, zlib.crc32(case.encode())]))


def hyperexponential_cdf(probs: tuple[float, ...], rates: tuple[float, ...]) -> Callable[..., Any]:
    """Return F(x) = Σ p_i (1 - exp(-r_i x)), the mixture's CDF."""

    p = np.asarray(probs, dtype=np.float64)
    r = np.asarray(rates, dtype=np.float64)

    def cdf(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.sum(p * -np.expm1(-np.multiply.outer(x, r)), axis=-1)

    return cdf


# --------------------------------------------------------------------------- reference cases

# (id, distribution, CDF of the scipy.stats reference distribution, its mean, its variance)
HYPER = ((0.2, 0.5, 0.3), (0.5, 2.0, 10.0))
_BALANCED = Hyperexponential.from_mean_cv(1.0, 2.0)
_LOGN = Lognormal.from_mean_cv(0.8, 1.5)
CONTINUOUS: list[tuple[str, Distribution, Callable[..., Any], float, float]] = [
    ("exponential", Exponential(2.0), stats.expon(scale=0.5).cdf, *stats.expon(scale=0.5).stats()),
    ("erlang", Erlang(3, 2.0), stats.erlang(3, scale=0.5).cdf, *stats.erlang(3, scale=0.5).stats()),
    ("gamma-small-shape", Gamma(0.5, 2.0), stats.gamma(0.5, scale=0.5).cdf, 0.25, 0.125),
    ("gamma", Gamma(2.5, 1.25), stats.gamma(2.5, scale=0.8).cdf, 2.0, 1.6),
    (
        "lognormal",
        Lognormal(-0.5, 1.0),
        stats.lognorm(s=1.0, scale=math.exp(-0.5)).cdf,
        *stats.lognorm(s=1.0, scale=math.exp(-0.5)).stats(),
    ),
    (
        "lognormal-from-mean-cv",
        _LOGN,
        stats.lognorm(s=_LOGN.sigma, scale=math.exp(_LOGN.mu)).cdf,
        0.8,
        1.5**2 * 0.8**2,
    ),
    ("hyperexponential", Hyperexponential(*HYPER), hyperexponential_cdf(*HYPER), 0.68, 1.3936),
    (
        "hyperexponential-balanced",
        _BALANCED,
        hyperexponential_cdf(_BALANCED.probs, _BALANCED.rates),
        1.0,
        4.0,
    ),
    ("uniform", Uniform(0.5, 2.0), stats.uniform(0.5, 1.5).cdf, 1.25, 1.5**2 / 12.0),
]
CONTINUOUS_IDS = [case[0] for case in CONTINUOUS]

EXAMPLES: list[Distribution] = [
    Exponential(2.0),
    Deterministic(1.5),
    Erlang(3, 2.0),
    Gamma(2.5, 1.25),
    Lognormal(-0.5, 1.0),
    Hyperexponential(*HYPER),
    Uniform(0.5, 2.0),
    Empirical((0.5, 1.0, 2.0, 4.0, 7.5)),
]
EXAMPLE_IDS = [type(d).__name__ for d in EXAMPLES]


# --------------------------------------------------------------------------- moments


@pytest.mark.parametrize("rate", [0.5, 2.0, 10.0])
def test_exponential_moments(rate: float) -> None:
    d = Exponential(rate)
    assert d.mean == pytest.approx(1 / rate, rel=REL)
    assert d.var == pytest.approx(1 / rate**2, rel=REL)
    assert d.scv == 1.0


@pytest.mark.parametrize("value", [0.25, 1.0, 7.0])
def test_deterministic_moments(value: float) -> None:
    d = Deterministic(value)
    assert (d.mean, d.var, d.scv) == (value, 0.0, 0.0)


@pytest.mark.parametrize(("k", "rate"), [(1, 1.0), (3, 2.0), (10, 0.5)])
def test_erlang_moments_use_the_rate_of_each_phase(k: int, rate: float) -> None:
    d = Erlang(k, rate)
    assert d.mean == pytest.approx(k / rate, rel=REL)
    assert d.var == pytest.approx(k / rate**2, rel=REL)
    assert d.scv == pytest.approx(1 / k, rel=REL)


@pytest.mark.parametrize(("shape", "rate"), [(0.5, 2.0), (2.5, 1.25), (40.0, 3.0)])
def test_gamma_moments(shape: float, rate: float) -> None:
    d = Gamma(shape, rate)
    assert d.mean == pytest.approx(shape / rate, rel=REL)
    assert d.var == pytest.approx(shape / rate**2, rel=REL)
    assert d.scv == pytest.approx(1 / shape, rel=REL)


@pytest.mark.parametrize(("mu", "sigma"), [(-0.5, 1.0), (0.0, 0.1), (2.0, 1.7)])
def test_lognormal_moments(mu: float, sigma: float) -> None:
    d = Lognormal(mu, sigma)
    assert d.mean == pytest.approx(math.exp(mu + sigma**2 / 2), rel=REL)
    assert d.var == pytest.approx((math.exp(sigma**2) - 1) * math.exp(2 * mu + sigma**2), rel=REL)
    assert d.scv == pytest.approx(math.exp(sigma**2) - 1, rel=REL)


@pytest.mark.parametrize(
    ("probs", "rates"),
    [HYPER, ((1.0,), (4.0,)), ((0.5, 0.5), (1.0, 1.0)), ((0.0, 1.0), (1e-3, 2.0))],
)
def test_hyperexponential_moments(probs: tuple[float, ...], rates: tuple[float, ...]) -> None:
    d = Hyperexponential(probs, rates)
    mean = sum(p / r for p, r in zip(probs, rates, strict=True))
    second = sum(2 * p / r**2 for p, r in zip(probs, rates, strict=True))
    assert d.mean == pytest.approx(mean, rel=REL)
    assert d.var == pytest.approx(second - mean**2, rel=1e-10)
    assert d.scv == pytest.approx((second - mean**2) / mean**2, rel=1e-10)
    assert d.scv >= 1.0 - REL


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (0.5, 2.0), (10.0, 10.5)])
def test_uniform_moments(low: float, high: float) -> None:
    d = Uniform(low, high)
    assert d.mean == pytest.approx((low + high) / 2, rel=REL)
    assert d.var == pytest.approx((high - low) ** 2 / 12, rel=REL)
    assert d.scv == pytest.approx(d.var / d.mean**2, rel=REL)


@pytest.mark.parametrize("values", [(1.0, 2.0, 3.0, 6.0), (0.0, 5.0), (2.5,)])
def test_empirical_moments_are_those_of_the_values(values: tuple[float, ...]) -> None:
    d = Empirical(values)
    assert d.mean == pytest.approx(np.mean(values), rel=REL)
    assert d.var == pytest.approx(np.var(values), rel=REL, abs=0.0)  # divisor n
    assert d.scv == pytest.approx(np.var(values) / np.mean(values) ** 2, rel=REL, abs=1e-300)


@pytest.mark.parametrize("case", CONTINUOUS, ids=CONTINUOUS_IDS)
def test_moments_match_the_reference_distribution(case: tuple[Any, ...]) -> None:
    _, d, _, mean, var = case
    assert d.mean == pytest.approx(float(mean), rel=REL)
    assert d.var == pytest.approx(float(var), rel=1e-10)
    assert d.scv == pytest.approx(float(var) / float(mean) ** 2, rel=1e-10)


# --------------------------------------------------------------------------- fits


means = st.floats(min_value=1e-3, max_value=1e3)


@given(mean=means, cv=st.floats(min_value=0.05, max_value=20.0))
def test_gamma_from_mean_cv_round_trips(mean: float, cv: float) -> None:
    d = Gamma.from_mean_cv(mean, cv)
    assert d.mean == pytest.approx(mean, rel=REL)
    assert math.sqrt(d.scv) == pytest.approx(cv, rel=REL)
    assert d.var == pytest.approx(d.scv * d.mean**2, rel=REL)


@given(mean=means, cv=st.floats(min_value=0.05, max_value=20.0))
def test_lognormal_from_mean_cv_round_trips(mean: float, cv: float) -> None:
    d = Lognormal.from_mean_cv(mean, cv)
    assert d.mean == pytest.approx(mean, rel=REL)
    assert math.sqrt(d.scv) == pytest.approx(cv, rel=REL)
    assert d.var == pytest.approx((cv * mean) ** 2, rel=1e-11)


@given(mean=means, cv=st.floats(min_value=1.0, max_value=20.0))
def test_hyperexponential_from_mean_cv_round_trips(mean: float, cv: float) -> None:
    d = Hyperexponential.from_mean_cv(mean, cv)
    assert len(d.probs) == 2
    assert math.fsum(d.probs) == pytest.approx(1.0, abs=1e-15)
    assert d.mean == pytest.approx(mean, rel=REL)
    assert math.sqrt(d.scv) == pytest.approx(cv, rel=REL)
    assert d.var == pytest.approx((cv * mean) ** 2, rel=1e-11)
    # balanced means: each phase carries half the mean
    for p, r in zip(d.probs, d.rates, strict=True):
        assert p / r == pytest.approx(mean / 2, rel=REL)


def test_hyperexponential_with_cv_one_is_an_exponential_in_disguise() -> None:
    d = Hyperexponential.from_mean_cv(2.0, 1.0)
    assert d.probs == (0.5, 0.5)
    assert d.rates == (0.5, 0.5)
    assert (d.mean, d.scv) == (2.0, 1.0)


@given(mean=means, k=st.integers(min_value=1, max_value=50))
def test_erlang_from_mean_cv_round_trips(mean: float, k: int) -> None:
    cv = 1 / math.sqrt(k)
    d = Erlang.from_mean_cv(mean, cv)
    assert d.k == k
    assert d.mean == pytest.approx(mean, rel=REL)
    assert math.sqrt(d.scv) == pytest.approx(cv, rel=REL)


@given(mean=means, k=st.integers(min_value=1, max_value=50))
def test_erlang_from_mean_round_trips(mean: float, k: int) -> None:
    d = Erlang.from_mean(k, mean)
    assert d.k == k
    assert d.rate == pytest.approx(k / mean, rel=REL)
    assert d.mean == pytest.approx(mean, rel=REL)


@given(mean=means)
def test_exponential_from_mean_round_trips(mean: float) -> None:
    d = Exponential.from_mean(mean)
    assert d.mean == pytest.approx(mean, rel=REL)
    assert d.var == pytest.approx(mean**2, rel=REL)


# --------------------------------------------------------------------------- draws


@pytest.mark.parametrize("case", CONTINUOUS, ids=CONTINUOUS_IDS)
def test_draws_pass_kolmogorov_smirnov_against_the_reference(case: tuple[Any, ...]) -> None:
    name, d, cdf, _, _ = case
    x = d.draw(rng_for(f"ks-{name}"), N_DRAWS)
    result = stats.kstest(x, cdf)
    assert result.pvalue > ALPHA, f"{d}: KS statistic {result.statistic}, p = {result.pvalue}"


@pytest.mark.parametrize("d", EXAMPLES, ids=EXAMPLE_IDS)
def test_sample_mean_lies_in_the_normal_interval(d: Distribution) -> None:
    x = d.draw(rng_for(f"mean-{d.name}"), N_DRAWS)
    half_width = Z * math.sqrt(d.var / N_DRAWS)
    assert abs(x.mean() - d.mean) <= half_width, f"{d}: mean {x.mean()} vs {d.mean} ± {half_width}"


def test_empirical_draws_each_value_equally_often_chi_square() -> None:
    values = (0.5, 1.0, 2.0, 4.0, 7.5)
    x = Empirical(values).draw(rng_for("chi-square-empirical"), N_DRAWS)
    assert set(np.unique(x)) <= set(values)
    counts = np.array([np.count_nonzero(x == v) for v in values])
    assert counts.sum() == N_DRAWS
    result = stats.chisquare(counts)  # H0: uniform over the values
    assert result.pvalue > ALPHA, f"counts {counts}, p = {result.pvalue}"


def test_empirical_with_repeated_values_weights_them_by_multiplicity() -> None:
    x = Empirical((1.0, 1.0, 1.0, 3.0)).draw(rng_for("empirical-repeats"), N_DRAWS)
    ones = np.count_nonzero(x == 1.0)
    assert ones + np.count_nonzero(x == 3.0) == N_DRAWS
    result = stats.binomtest(int(ones), N_DRAWS, 0.75)
    assert result.pvalue > ALPHA


def test_deterministic_draws_are_the_value() -> None:
    x = Deterministic(1.5).draw(rng_for("deterministic"), 1000)
    assert np.all(x == 1.5)


@pytest.mark.parametrize(("probs", "rates"), [((1.0, 0.0), (1.0, 1e-9)), ((0.0, 1.0), (1e-9, 1.0))])
def test_hyperexponential_never_draws_a_phase_of_probability_zero(
    probs: tuple[float, ...], rates: tuple[float, ...]
) -> None:
    # A draw from the rate-1e-9 phase exceeds 1e3 with probability exp(-1e-6) ≈ 1;
    # a draw from the rate-1 phase does with probability exp(-1e3) ≈ 0.
    x = Hyperexponential(probs, rates).draw(rng_for(f"zero-phase-{probs}"), N_DRAWS)
    assert x.max() < 1e3


@pytest.mark.parametrize("d", EXAMPLES, ids=EXAMPLE_IDS)
def test_draw_shape_dtype_and_support(d: Distribution) -> None:
    x = d.draw(rng_for(f"shape-{d.name}"), 1000)
    assert isinstance(x, np.ndarray)
    assert x.shape == (1000,)
    assert x.dtype == np.float64
    assert np.all(np.isfinite(x))
    assert np.all(x >= 0)
    empty = d.draw(rng_for(f"empty-{d.name}"), 0)
    assert empty.shape == (0,)
    assert empty.dtype == np.float64


@pytest.mark.parametrize("d", EXAMPLES, ids=EXAMPLE_IDS)
def test_same_seed_gives_the_same_draws(d: Distribution) -> None:
    a = d.draw(rng_for(f"repro-{d.name}"), 500)
    b = d.draw(rng_for(f"repro-{d.name}"), 500)
    np.testing.assert_array_equal(a, b)
    one = d.sample(rng_for(f"repro-{d.name}"))
    assert isinstance(one, float)
    assert one == d.draw(rng_for(f"repro-{d.name}"), 1)[0]


@pytest.mark.parametrize("d", EXAMPLES, ids=EXAMPLE_IDS)
def test_objects_are_immutable_hashable_and_picklable(d: Distribution) -> None:
    assert hash(d) == hash(dataclasses.replace(d))
    assert d == dataclasses.replace(d)
    copy = pickle.loads(pickle.dumps(d))
    assert copy == d
    np.testing.assert_array_equal(copy.draw(rng_for("pickle"), 50), d.draw(rng_for("pickle"), 50))
    field = dataclasses.fields(d)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(d, field, 1.0)


def test_parameters_are_stored_as_plain_python_values() -> None:
    e = Exponential(np.float64(2.0))
    assert type(e.rate) is float
    erlang = Erlang(np.int64(3), 2)
    assert type(erlang.k) is int
    assert type(erlang.rate) is float
    assert Erlang(3.0, 1.0).k == 3
    h = Hyperexponential([0.5, np.float64(0.5)], np.array([1.0, 2.0]))
    assert h.probs == (0.5, 0.5)
    assert h.rates == (1.0, 2.0)
    assert all(type(v) is float for v in (*h.probs, *h.rates))
    emp = Empirical([1, 2, 3])
    assert emp.values == (1.0, 2.0, 3.0)
    assert all(type(v) is float for v in emp.values)
    assert emp == Empirical((1.0, 2.0, 3.0))
    assert hash(emp) == hash(Empirical((1.0, 2.0, 3.0)))


def test_names_and_registry() -> None:
    assert set(DISTRIBUTIONS) == {
        "exponential",
        "deterministic",
        "erlang",
        "gamma",
        "lognormal",
        "hyperexponential",
        "uniform",
        "empirical",
    }
    for name, family in DISTRIBUTIONS.items():
        assert family.name == name
        assert issubclass(family, Distribution)


def test_describe() -> None:
    assert Exponential(2).describe() == "exponential(rate=2)"
    assert Lognormal.from_mean_cv(0.8, 1.5).describe() == "lognormal(mean=0.8, cv=1.5)"
    assert Erlang(3, 2).describe() == "erlang(k=3, rate=2)"
    assert Deterministic(1.5).describe() == "deterministic(value=1.5)"
    assert Uniform(0, 2).describe() == "uniform(low=0, high=2)"
    assert Gamma(2, 1.5).describe() == "gamma(shape=2, rate=1.5)"
    assert Hyperexponential.from_mean_cv(1, 2).describe() == (
        "hyperexponential(mean=1, cv=2, phases=2)"
    )
    assert Empirical((1, 2, 3)).describe() == "empirical(n=3, mean=2)"
    assert str(Exponential(2)) == "exponential(rate=2)"


# --------------------------------------------------------------------------- bad parameters


BAD: list[tuple[str, Callable[[], object], str, str]] = [
    # (id, factory, fault path, text the message must contain)
    ("exp-zero", lambda: Exponential(0), "rate", "must be > 0, got 0"),
    ("exp-negative", lambda: Exponential(-1.5), "rate", "must be > 0, got -1.5"),
    ("exp-nan", lambda: Exponential(NAN), "rate", "must be a finite number, got nan"),
    ("exp-inf", lambda: Exponential(INF), "rate", "must be a finite number, got inf"),
    ("exp-string", lambda: Exponential("2"), "rate", "must be a number, got '2'"),
    ("exp-bool", lambda: Exponential(True), "rate", "must be a number, got True"),
    ("exp-numpy", lambda: Exponential(np.float64(-2.0)), "rate", "must be > 0, got -2.0"),
    ("exp-mean-zero", lambda: Exponential.from_mean(0), "mean", "must be > 0, got 0"),
    ("exp-mean-nan", lambda: Exponential.from_mean(NAN), "mean", "finite number, got nan"),
    ("det-zero", lambda: Deterministic(0.0), "value", "must be > 0, got 0.0"),
    ("det-negative", lambda: Deterministic(-3), "value", "must be > 0, got -3"),
    ("det-neg-inf", lambda: Deterministic(-INF), "value", "finite number, got -inf"),
    ("erlang-k-zero", lambda: Erlang(0, 1.0), "k", "must be an integer >= 1, got 0"),
    ("erlang-k-fraction", lambda: Erlang(2.5, 1.0), "k", "must be an integer >= 1, got 2.5"),
    ("erlang-k-nan", lambda: Erlang(NAN, 1.0), "k", "must be a finite number, got nan"),
    ("erlang-rate", lambda: Erlang(2, -1.0), "rate", "must be > 0, got -1.0"),
    ("erlang-rate-inf", lambda: Erlang(2, INF), "rate", "finite number, got inf"),
    ("erlang-mean", lambda: Erlang.from_mean(2, 0.0), "mean", "must be > 0, got 0.0"),
    (
        "erlang-cv-not-1/sqrt(k)",
        lambda: Erlang.from_mean_cv(1.0, 0.6),
        "cv",
        "Erlang needs cv = 1/sqrt(k) for an integer k",
    ),
    ("erlang-cv-value", lambda: Erlang.from_mean_cv(1.0, 0.6), "cv", "cv=0.6"),
    ("erlang-cv-above-1", lambda: Erlang.from_mean_cv(1.0, 2.0), "cv", "got cv=2.0"),
    ("erlang-cv-zero", lambda: Erlang.from_mean_cv(1.0, 0), "cv", "must be > 0, got 0"),
    ("erlang-cv-mean", lambda: Erlang.from_mean_cv(-1.0, 0.5), "mean", "must be > 0, got -1.0"),
    ("gamma-shape", lambda: Gamma(0, 1.0), "shape", "must be > 0, got 0"),
    ("gamma-rate", lambda: Gamma(1.0, -2), "rate", "must be > 0, got -2"),
    ("gamma-shape-inf", lambda: Gamma(INF, 1.0), "shape", "finite number, got inf"),
    ("gamma-cv-zero", lambda: Gamma.from_mean_cv(1.0, 0.0), "cv", "must be > 0, got 0.0"),
    ("gamma-mean-nan", lambda: Gamma.from_mean_cv(NAN, 1.0), "mean", "finite number, got nan"),
    ("lognormal-mu-nan", lambda: Lognormal(NAN, 1.0), "mu", "finite number, got nan"),
    ("lognormal-sigma-zero", lambda: Lognormal(0.0, 0), "sigma", "must be > 0, got 0"),
    ("lognormal-sigma-neg", lambda: Lognormal(0.0, -1.0), "sigma", "must be > 0, got -1.0"),
    ("lognormal-mean", lambda: Lognormal.from_mean_cv(0, 1.0), "mean", "must be > 0, got 0"),
    ("lognormal-cv", lambda: Lognormal.from_mean_cv(1.0, -0.5), "cv", "must be > 0, got -0.5"),
    ("lognormal-cv-inf", lambda: Lognormal.from_mean_cv(1.0, INF), "cv", "finite number, got inf"),
    (
        "hyper-sum",
        lambda: Hyperexponential((0.5, 0.6), (1.0, 2.0)),
        "probs",
        "must sum to 1, got a sum of 1.1",
    ),
    (
        "hyper-sum-just-off",
        lambda: Hyperexponential((0.5, 0.5 + 1e-8), (1.0, 2.0)),
        "probs",
        "must sum to 1",
    ),
    (
        "hyper-negative-prob",
        lambda: Hyperexponential((1.2, -0.2), (1.0, 2.0)),
        "probs",
        "entry 1 must be >= 0, got -0.2",
    ),
    (
        "hyper-nan-prob",
        lambda: Hyperexponential((NAN, 1.0), (1.0, 2.0)),
        "probs",
        "entry 0 must be a finite number, got nan",
    ),
    (
        "hyper-zero-rate",
        lambda: Hyperexponential((0.5, 0.5), (1.0, 0.0)),
        "rates",
        "entry 1 must be > 0, got 0.0",
    ),
    (
        "hyper-lengths",
        lambda: Hyperexponential((0.5, 0.5), (1.0,)),
        "rates",
        "as many entries as probs (2), got 1",
    ),
    ("hyper-empty", lambda: Hyperexponential((), ()), "probs", "at least one number, got ()"),
    (
        "hyper-cv-below-1",
        lambda: Hyperexponential.from_mean_cv(1.0, 0.5),
        "cv",
        "hyperexponential needs cv >= 1, got 0.5",
    ),
    (
        "hyper-cv-nan",
        lambda: Hyperexponential.from_mean_cv(1.0, NAN),
        "cv",
        "finite number, got nan",
    ),
    ("hyper-mean", lambda: Hyperexponential.from_mean_cv(0.0, 2.0), "mean", "> 0, got 0.0"),
    ("uniform-low", lambda: Uniform(-1.0, 1.0), "low", "must be >= 0, got -1.0"),
    ("uniform-equal", lambda: Uniform(2.0, 2.0), "high", "must be > low (2.0), got 2.0"),
    ("uniform-reversed", lambda: Uniform(3, 1), "high", "must be > low (3.0), got 1"),
    ("uniform-high-inf", lambda: Uniform(0.0, INF), "high", "finite number, got inf"),
    ("uniform-low-nan", lambda: Uniform(NAN, 1.0), "low", "finite number, got nan"),
    ("empirical-empty", lambda: Empirical(()), "values", "at least one number, got ()"),
    ("empirical-negative", lambda: Empirical((1.0, -2)), "values", "entry 1 must be >= 0, got -2"),
    ("empirical-nan", lambda: Empirical((1.0, NAN)), "values", "entry 1 must be a finite number"),
    ("empirical-inf", lambda: Empirical((INF,)), "values", "finite number, got inf"),
    ("empirical-zeros", lambda: Empirical((0.0, 0.0)), "values", "mean > 0"),
    ("empirical-string", lambda: Empirical("1,2"), "values", "list of numbers, got '1,2'"),
    ("moments-overflow", lambda: Lognormal(800.0, 1.0), "", "mean inf"),
    ("variance-overflow", lambda: Exponential(1e-200), "", "variance inf"),
]


@pytest.mark.parametrize(("factory", "path", "text"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_parameters_raise_scenario_error_naming_parameter_and_value(
    factory: Callable[[], object], path: str, text: str
) -> None:
    with pytest.raises(ScenarioError) as excinfo:
        factory()
    error = excinfo.value
    assert isinstance(error, ValueError)
    assert any(f.path == path and text in f.message for f in error.faults), error.faults
    prefix = f"{path}: " if path else ""
    assert any(line.startswith(prefix) and text in line for line in str(error).splitlines())


def test_independent_faults_are_reported_together() -> None:
    with pytest.raises(ScenarioError) as excinfo:
        Gamma(-1.0, NAN)
    assert [f.path for f in excinfo.value.faults] == ["shape", "rate"]
    assert (
        str(excinfo.value) == "shape: must be > 0, got -1.0\nrate: must be a finite number, got nan"
    )


def test_probabilities_within_tolerance_are_accepted() -> None:
    d = Hyperexponential((0.5, 0.5 + 1e-10), (1.0, 2.0))
    assert d.draw(rng_for("tolerance"), 10).shape == (10,)


# --------------------------------------------------------------------------- CSV


def write(tmp_path: Path, text: str | bytes, name: str = "times.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def csv_fault(path: Path | str) -> ScenarioError:
    with pytest.raises(ScenarioError) as excinfo:
        Empirical.from_csv(path)
    assert all(f.path == "file" for f in excinfo.value.faults)
    return excinfo.value


def test_from_csv_reads_the_first_column_skipping_header_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "service_time,note\n0.5,a\n\n 1.5 ,b\n2\n,\n")
    assert Empirical.from_csv(path).values == (0.5, 1.5, 2.0)
    assert Empirical.from_csv(str(path)).values == (0.5, 1.5, 2.0)


def test_from_csv_without_header_and_with_byte_order_mark(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff3\n0\n1e-1\n")
    assert Empirical.from_csv(path).values == (3.0, 0.0, 0.1)


def test_from_csv_missing_file(tmp_path: Path) -> None:
    error = csv_fault(tmp_path / "nope.csv")
    assert "nope.csv" in str(error)
    assert "no such file" in str(error)


def test_from_csv_directory(tmp_path: Path) -> None:
    assert "is a folder, not a regular file" in str(csv_fault(tmp_path))


def test_from_csv_not_text(tmp_path: Path) -> None:
    assert "not a UTF-8 text file" in str(csv_fault(write(tmp_path, b"1\n\xff\xfe\n")))


@pytest.mark.parametrize("text", ["", "\n\n  \n", "time\n", "time\n\n"])
def test_from_csv_without_numbers(tmp_path: Path, text: str) -> None:
    error = csv_fault(write(tmp_path, text))
    assert "times.csv" in str(error)
    assert "no numbers" in str(error)


def test_from_csv_non_numeric_cell_names_line_and_cell(tmp_path: Path) -> None:
    error = csv_fault(write(tmp_path, "time\n1.0\nabc\n2.0\n"))
    assert len(error.faults) == 1
    message = error.faults[0].message
    assert "times.csv" in message
    assert "line 3, column 1: not a number" in message
    assert "abc" not in message  # the file's content is not quoted


def test_from_csv_only_one_header_row(tmp_path: Path) -> None:
    error = csv_fault(write(tmp_path, "time\nunit\n1.0\n"))
    assert "line 2" in str(error)
    assert "unit" not in str(error)  # the file's content is not quoted


def test_from_csv_negative_value(tmp_path: Path) -> None:
    error = csv_fault(write(tmp_path, "1.0\n-0.5\n"))
    assert "times.csv, line 2" in str(error)
    assert "a negative number; must be >= 0" in str(error)


@pytest.mark.parametrize("cell", ["nan", "inf", "-inf"])
def test_from_csv_non_finite_value(tmp_path: Path, cell: str) -> None:
    error = csv_fault(write(tmp_path, f"1.0\n{cell}\n"))
    assert "line 2, column 1: not a finite number" in str(error)


def test_from_csv_all_zero(tmp_path: Path) -> None:
    assert "all values are 0" in str(csv_fault(write(tmp_path, "0\n0.0\n")))


def test_from_csv_reports_each_bad_line_up_to_a_limit(tmp_path: Path) -> None:
    bad = MAX_CSV_FAULTS + 5
    error = csv_fault(write(tmp_path, "1\n" + "x\n" * bad))
    assert len(error.faults) == MAX_CSV_FAULTS + 1
    assert "and 5 more bad lines" in error.faults[-1].message
    assert "line 2," in error.faults[0].message


# --------------------------------------------------------------------------- properties


positive = st.floats(min_value=1e-3, max_value=1e3)
families = st.one_of(
    st.builds(Exponential, positive),
    st.builds(Deterministic, positive),
    st.builds(Erlang, st.integers(1, 30), positive),
    st.builds(Gamma, st.floats(0.05, 50.0), positive),
    st.builds(Lognormal, st.floats(-5.0, 5.0), st.floats(0.01, 2.0)),
    st.builds(Hyperexponential.from_mean_cv, positive, st.floats(1.0, 10.0)),
    st.builds(Uniform, st.floats(0.0, 10.0), st.floats(10.5, 20.0)),
    st.builds(Empirical, st.lists(positive, min_size=1, max_size=20)),
)


@settings(max_examples=60)
@given(d=families, size=st.integers(0, 64), seed=st.integers(0, 2**32 - 1))
def test_any_valid_distribution_draws_finite_non_negative_float64(
    d: Distribution, size: int, seed: int
) -> None:
    x = d.draw(np.random.default_rng(np.random.SeedSequence(seed)), size)
    assert x.shape == (size,)
    assert x.dtype == np.float64
    assert np.all(np.isfinite(x))
    assert np.all(x >= 0)
    assert d.mean > 0
    assert d.var >= 0
    assert d.scv == pytest.approx(d.var / d.mean**2, rel=1e-9)
