"""Exact percentiles against independent computations (eda_sim.theory.percentiles).

Every law is checked against a computation that shares none of its code:

* M/M/1 and M/M/c: the textbook quantile formulas and numerical integration
  of the convolution wait + service (``scipy.integrate.quad``);
* M/M/c/K: a hand-built absorbing chain of a tagged event, started from the
  state an arrival finds (balance equations solved here), by matrix exponential;
* M/G/1 with phase-type service (exponential, Erlang, hyperexponential, gamma
  of whole shape): the M/PH/1 waiting time is phase-type with representation
  ``(λα(−T)⁻¹, T + tλα(−T)⁻¹)`` (Asmussen, *Applied Probability and Queues*,
  2nd ed., 2003, Cor. VIII.5.9), evaluated by matrix exponential;
* M/D/1: Erlang's formula ``P(Wq <= t) = (1−ρ) Σ_{k<=t/D} (λ(kD − t))^k/k! e^{−λ(kD−t)}``
  (Erlang 1909; Crommelin 1932), in 60-digit decimal arithmetic;
* M/G/1 with uniform, fractional gamma and empirical service: the Bromwich
  integral as a Fourier cosine integral (``quad`` with QAWF), not the Euler sum;
* a hypoexponential: the closed form for distinct rates, Erlang for equal ones.

"Exact" means within 1e-6 relative (the project's rule); the laws' own error
bounds are also checked to cover the observed error.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.linalg import expm
from scipy.special import gammaincc

from eda_sim import distributions as dists
from eda_sim.theory.percentiles import (
    NoTransformError,
    TimeLaw,
    hypoexponential,
    invert_ccdf,
    mg1_sojourn,
    mg1_wait,
    mixture,
    mmc_sojourn,
    mmc_wait,
    mmck_sojourn,
    mmck_wait,
    service_transform,
)
from eda_sim.theory.single import erlang_c

LEVELS = (0.5, 0.9, 0.95, 0.99, 0.999)
EXACT = 1e-6


def quantile_of(ccdf, level: float, high: float) -> float:  # type: ignore[no-untyped-def]
    """The smallest t with ccdf(t) <= 1 − level, by bisection (independent of the laws' search).

    Stops when ``low`` and ``high`` are neighbouring floats: from there on the midpoint
    is one of them and a step changes neither (``ccdf(low) > 1 − level >= ccdf(high)``).
    """
    low = 0.0
    if ccdf(0.0) <= 1 - level:
        return 0.0
    for _ in range(200):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if ccdf(middle) > 1 - level:
            low = middle
        else:
            high = middle
    return high


def assert_quantiles(law: TimeLaw, reference, high: float) -> None:  # type: ignore[no-untyped-def]
    for level in LEVELS:
        expected = quantile_of(reference, level, high)
        found = law.quantile(level)
        assert found.value == pytest.approx(expected, rel=EXACT, abs=1e-12), level
        assert found.exact
        assert abs(found.value - expected) <= found.error + 1e-12 * max(expected, 1.0)


@pytest.mark.parametrize("rho", [0.3, 0.8, 0.95])
def test_mm1_quantiles_are_the_textbook_formulas(rho: float) -> None:
    mu, lam = 1.0, rho
    for level in LEVELS:
        assert mmc_sojourn(lam, mu, 1).quantile(level).value == pytest.approx(
            -math.log(1 - level) / (mu - lam), rel=1e-12
        )
        wait = math.log(rho / (1 - level)) / (mu - lam) if level > 1 - rho else 0.0
        assert mmc_wait(lam, mu, 1).quantile(level).value == pytest.approx(wait, rel=1e-12)


@pytest.mark.parametrize(("lam", "mu", "servers"), [(2.4, 1.0, 3), (0.9, 1.0, 2), (7.0, 1.0, 8)])
def test_mmc_time_per_visit_by_numerical_integration(lam: float, mu: float, servers: int) -> None:
    waits = erlang_c(servers, lam / mu)
    gamma = servers * mu - lam

    def reference(t: float) -> float:
        convolved, _ = quad(lambda u: gamma * math.exp(-gamma * u) * math.exp(-mu * (t - u)), 0, t)
        return (1 - waits) * math.exp(-mu * t) + waits * (convolved + math.exp(-gamma * t))

    assert_quantiles(mmc_sojourn(lam, mu, servers), reference, 100.0)
    assert_quantiles(mmc_wait(lam, mu, servers), lambda t: waits * math.exp(-gamma * t), 100.0)
    mean, _ = quad(lambda t: mmc_sojourn(lam, mu, servers).ccdf(t), 0, np.inf)
    assert mean == pytest.approx(waits / gamma + 1 / mu, rel=1e-8)


def tagged_chain(lam: float, mu: float, servers: int, capacity: int, sojourn: bool):  # type: ignore[no-untyped-def]
    """P(time > t) of an admitted event from a hand-built absorbing chain."""
    # Birth-death balance p_{n+1} = p_n λ / (min(n+1, c) μ), solved here.
    p = [1.0]
    for n in range(capacity):
        p.append(p[-1] * lam / (min(n + 1, servers) * mu))
    found = np.array(p[:capacity]) / sum(p[:capacity])
    # States: "k events ahead of the tagged one, all servers busy" for k = 0..K−c−1 (it
    # waits until k reaches -1), then "in service" (if sojourn); absorbing: done.
    waiting = capacity - servers
    size = waiting + (1 if sojourn else 0)
    generator = np.zeros((size, size))
    start = np.zeros(size)
    for k in range(waiting):
        generator[k, k] = -servers * mu
        if k > 0:
            generator[k, k - 1] = servers * mu
        elif sojourn:
            generator[k, waiting] = servers * mu
    if sojourn:
        generator[waiting, waiting] = -mu
        start[waiting] = found[:servers].sum()
    for n in range(servers, capacity):
        start[n - servers] += found[n]
    ones = np.ones(size)
    return lambda t: float(start @ expm(generator * t) @ ones)


@pytest.mark.parametrize(
    ("lam", "mu", "servers", "capacity"), [(0.9, 1.0, 1, 6), (3.0, 1.0, 2, 9), (5.0, 1.0, 4, 4)]
)
def test_mmck_against_a_hand_built_chain(
    lam: float, mu: float, servers: int, capacity: int
) -> None:
    wait = tagged_chain(lam, mu, servers, capacity, sojourn=False)
    visit = tagged_chain(lam, mu, servers, capacity, sojourn=True)
    assert_quantiles(mmck_sojourn(lam, mu, servers, capacity), visit, 200.0)
    if capacity > servers:
        assert_quantiles(mmck_wait(lam, mu, servers, capacity), wait, 200.0)
    else:  # Erlang B: nobody waits
        assert mmck_wait(lam, mu, servers, capacity).quantile(0.99).value == 0.0


def m_ph_1(lam: float, alpha: np.ndarray, generator: np.ndarray):  # type: ignore[no-untyped-def]
    """Wait and time per visit of M/PH/1 as phase-type laws (Asmussen, Cor. VIII.5.9)."""
    exit_rates = -generator @ np.ones(len(alpha))
    ladder = lam * alpha @ np.linalg.inv(-generator)
    wait_generator = generator + np.outer(exit_rates, ladder)
    rho = ladder.sum()
    size = len(alpha)
    visit = np.block(
        [
            [wait_generator, np.outer(-wait_generator @ np.ones(size), alpha)],
            [np.zeros((size, size)), generator],
        ]
    )
    start = np.concatenate([ladder, (1 - rho) * alpha])

    def waits(t: float) -> float:
        return float(ladder @ expm(wait_generator * t) @ np.ones(size))

    def visits(t: float) -> float:
        return float(start @ expm(visit * t) @ np.ones(2 * size))

    return waits, visits


def erlang_ph(k: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = np.zeros(k)
    alpha[0] = 1.0
    return alpha, np.diag([-rate] * k) + np.diag([rate] * (k - 1), 1)


@pytest.mark.parametrize(
    ("law", "ph"),
    [
        (dists.Exponential(1.25), (np.ones(1), np.array([[-1.25]]))),
        (dists.Erlang(3, 3.0), erlang_ph(3, 3.0)),
        (dists.Gamma(2.0, 2.0), erlang_ph(2, 2.0)),
        (
            dists.Hyperexponential((0.2, 0.8), (0.4, 2.0)),
            (np.array([0.2, 0.8]), np.diag([-0.4, -2.0])),
        ),
    ],
    ids=["exponential", "erlang3", "gamma2", "hyperexponential"],
)
@pytest.mark.parametrize("rho", [0.5, 0.85])
def test_mg1_inversion_against_the_m_ph_1_matrix_formula(law, ph, rho: float) -> None:  # type: ignore[no-untyped-def]
    lam = rho / law.mean
    waits, visits = m_ph_1(lam, *ph)
    assert_quantiles(mg1_wait(lam, [law], [1.0]), waits, 400.0)
    assert_quantiles(mg1_sojourn(lam, [law], [1.0]), visits, 400.0)


def erlang_md1_wait(lam: float, d: float, t: float) -> float:
    """P(Wq > t) of M/D/1 by Erlang's formula, in 60-digit decimals (no cancellation)."""
    with localcontext() as context:
        context.prec = 60
        lam_d, t_d, d_d = Decimal(repr(lam)), Decimal(repr(float(t))), Decimal(repr(d))
        rho = lam_d * d_d
        total = Decimal(0)
        for k in range(int(t // d) + 1):
            x = lam_d * (k * d_d - t_d)
            total += (x**k if k else Decimal(1)) / math.factorial(k) * (-x).exp()
        return float(1 - (1 - rho) * total)


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_md1_against_the_transform_and_erlangs_formula(rho: float) -> None:
    d = 1.0
    lam = rho / d
    law = mg1_wait(lam, [dists.Deterministic(d)], [1.0])
    assert law.method.startswith("M/D/1 (Erlang's formula)")

    def transform(s: np.ndarray) -> np.ndarray:  # (1 − W_q*(s))/s, Pollaczek–Khinchine
        return (1 - (1 - rho) * s / (s - lam * (1 - np.exp(-s * d)))) / s

    # Independent of Erlang's formula: the Pollaczek–Khinchine mean and Takács' second
    # moment, E[Wq^2] = 2 E[Wq]^2 + λ E[S^3] / (3 (1 − ρ)), by integrating the law ...
    mean = lam * d**2 / (2 * (1 - rho))
    second = 2 * mean**2 + lam * d**3 / (3 * (1 - rho))
    kinks = [k * d for k in range(1, 60)]
    first, _ = quad(law.ccdf, 0, 60, points=kinks, limit=500, epsabs=1e-13)
    twice, _ = quad(lambda t: 2 * t * law.ccdf(t), 0, 60, points=kinks, limit=500, epsabs=1e-13)
    assert first == pytest.approx(mean, rel=1e-9)
    assert twice == pytest.approx(second, rel=1e-9)
    # ... and the transform inversion (slow near the kinks at t = kD, hence 1e-5):
    for t in (0.3, 0.5, 1.5, 2.5, 7.3):
        assert law.ccdf(t) == pytest.approx(invert_ccdf(transform, t).value, rel=1e-5)
    # The formula itself, written out here, at the kinks too:
    for t in (0.3, 1.0, 2.0, 2.5, 7.0):
        assert law.ccdf(t) == pytest.approx(erlang_md1_wait(lam, d, t), rel=1e-12, abs=1e-15)
    assert_quantiles(law, lambda t: erlang_md1_wait(lam, d, t), 60.0)
    visit = mg1_sojourn(lam, [dists.Deterministic(d)], [1.0])  # W = Wq + D exactly
    for level in LEVELS:
        assert visit.quantile(level).value == pytest.approx(
            law.quantile(level).value + d, rel=1e-12
        )
    assert visit.quantile(0.1).value == d  # P(W = D) = 1 − ρ


def bromwich_ccdf(transform, t: float) -> float:  # type: ignore[no-untyped-def]
    """G(t) = (2 e^{at}/π) ∫_0^∞ Re Ĝ(a + iu) cos(ut) du, by QAWF (a Fourier integral)."""
    a = 1.0 / t
    value, _ = quad(
        lambda u: float(np.real(transform(np.array([a + 1j * u])))[0]),
        0,
        np.inf,
        weight="cos",
        wvar=t,
        limlst=200,
        epsabs=1e-13,
    )
    return 2 * math.exp(a * t) / math.pi * value


@pytest.mark.parametrize(
    "law", [dists.Uniform(0.2, 1.8), dists.Gamma(2.5, 2.5)], ids=["uniform", "gamma2.5"]
)
def test_mg1_inversion_against_the_bromwich_integral(law: dists.Distribution) -> None:
    lam = 0.75 / law.mean
    rho = 0.75

    def wait_transform(s: np.ndarray) -> np.ndarray:
        service = service_transform(law, s)
        return (1 - (1 - rho) * s / (s - lam * (1 - service))) / s

    def visit_transform(s: np.ndarray) -> np.ndarray:
        service = service_transform(law, s)
        return (1 - (1 - rho) * s / (s - lam * (1 - service)) * service) / s

    wait, visit = mg1_wait(lam, [law], [1.0]), mg1_sojourn(lam, [law], [1.0])
    for level in (0.5, 0.95, 0.99):
        assert wait.quantile(level).exact  # the wait is smooth enough for a tight bound
        for found, transform in ((wait, wait_transform), (visit, visit_transform)):
            q = found.quantile(level)
            if not q.exact:  # the uniform's jumps make the visit's bound wide: no claim
                assert isinstance(law, dists.Uniform) and found is visit
                continue
            # The independent integral at the quantile found: the level is met there...
            assert bromwich_ccdf(transform, q.value * (1 + EXACT)) <= 1 - level + 1e-9
            # ... and not a relative 1e-6 before it.
            assert bromwich_ccdf(transform, q.value * (1 - EXACT)) >= 1 - level - 1e-9


def test_a_mixture_of_classes_at_one_station() -> None:
    # two classes, exponential with different rates: the service is hyperexponential
    lam_a, lam_b = 0.3, 0.2
    laws = [dists.Exponential(1.0), dists.Exponential(0.5)]
    mixed = dists.Hyperexponential((0.6, 0.4), (1.0, 0.5))
    by_mixture = mg1_sojourn(lam_a + lam_b, laws, [lam_a, lam_b])
    by_law = mg1_sojourn(lam_a + lam_b, [mixed], [1.0])
    for level in LEVELS:
        assert by_mixture.quantile(level).value == pytest.approx(
            by_law.quantile(level).value, rel=1e-9
        )


def test_laws_without_an_exact_inversion_are_refused_with_the_reason() -> None:
    with pytest.raises(NoTransformError, match="lognormal service has no closed-form"):
        mg1_wait(0.5, [dists.Lognormal.from_mean_cv(1.0, 1.5)], [1.0])
    with pytest.raises(NoTransformError, match="has atoms"):
        mg1_sojourn(0.5, [dists.Empirical((0.5, 1.5))], [1.0])
    with pytest.raises(NoTransformError, match="has atoms"):  # two different constants
        mg1_wait(0.5, [dists.Deterministic(1.0), dists.Deterministic(0.5)], [1.0, 1.0])
    with pytest.raises(NoTransformError, match="has atoms"):  # a constant and a density
        mg1_wait(0.5, [dists.Deterministic(1.0), dists.Exponential(2.0)], [1.0, 1.0])


def test_hypoexponential_against_closed_forms() -> None:
    rates = [1.0, 2.5, 0.7]

    def distinct(t: float) -> float:
        total = 0.0
        for i, ri in enumerate(rates):
            weight = math.prod(rj / (rj - ri) for j, rj in enumerate(rates) if j != i)
            total += weight * math.exp(-ri * t)
        return total

    assert_quantiles(hypoexponential(rates, "test"), distinct, 100.0)
    assert_quantiles(
        hypoexponential([0.8] * 4, "test"), lambda t: float(gammaincc(4, 0.8 * t)), 100.0
    )


def test_mixture_of_laws() -> None:
    a, b = mmc_sojourn(0.5, 1.0, 1), mmc_sojourn(0.2, 1.0, 1)
    mixed = mixture([a, b], [3.0, 1.0], "test")
    assert_quantiles(mixed, lambda t: 0.75 * math.exp(-0.5 * t) + 0.25 * math.exp(-0.8 * t), 100.0)
