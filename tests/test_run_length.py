"""The run-length constants of an M/M/c station (eda_sim.theory.run_length), checked independently.

The start-up deficit ``D`` and the variance rate ``c₂`` of M/M/1 have closed forms
(``ρ / (μ (1 - ρ)³)``; ``2ρ(1 + ρ) / (μ (1 - ρ)⁴)``, Whitt 1989). For M/M/c they are
checked against a dense solve of Poisson's equation and against the transient
mean started empty (``expm_multiply`` on the truncated generator), and the third
cumulant rate ``c₃`` against finite differences of the principal eigenvalue of
``A + θ diag(n - L)`` — none of which the module uses.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import expm_multiply

from eda_sim.errors import UnstableError
from eda_sim.theory.run_length import mmc_run_length_constants


def generator(arrival: float, service: float, servers: int, states: int) -> np.ndarray:
    """Dense generator of the M/M/c number present, truncated to ``0 .. states - 1``."""
    up = np.full(states - 1, arrival)
    down = service * np.minimum(np.arange(1, states), servers)
    a = np.diag(up, 1) + np.diag(down, -1)
    return np.asarray(a - np.diag(a.sum(axis=1)))


def stationary(a: np.ndarray) -> np.ndarray:
    states = a.shape[0]
    system = np.vstack([a.T, np.ones(states)])
    rhs = np.zeros(states + 1)
    rhs[-1] = 1.0
    return np.asarray(np.linalg.lstsq(system, rhs, rcond=None)[0])


@pytest.mark.parametrize(("rho", "service"), [(0.5, 1.0), (0.8, 2.0), (0.95, 1.0)])
def test_mm1_deficit_and_variance_rate_are_the_closed_forms(rho: float, service: float) -> None:
    constants = mmc_run_length_constants(rho * service, service, 1)
    assert constants.mean == pytest.approx(rho / (1 - rho), rel=1e-9)
    assert constants.start_deficit == pytest.approx(rho / (service * (1 - rho) ** 3), rel=1e-9)
    assert constants.variance_rate == pytest.approx(
        2 * rho * (1 + rho) / (service * (1 - rho) ** 4), rel=1e-9
    )


@pytest.mark.parametrize(
    ("arrival", "service", "servers"), [(700.0, 1.0, 1000), (1000.0, 2.0, 1500), (1.0, 1.0, 10**6)]
)
def test_many_servers_give_the_infinite_server_constants(
    arrival: float, service: float, servers: int
) -> None:
    """With servers far above the load, M/M/c is M/M/∞: ``D = a/μ``, ``c₂ = 2a/μ``, ``c₃ = 6a/μ²``.

    ``a = λ/μ``; started empty, ``E₀N(t) = a(1 - e^{-μt})``, and the time integral of
    ``N`` is, to first order, compound Poisson with rate λ and Exp(μ) jumps, whose
    k-th cumulant rate is ``λ k! / μ^k``. With hundreds present the stationary
    probabilities of the states near 0 underflow (``π(0) ≈ e^{-a}``), and a million
    servers make a million-state chain: neither may cost a finite answer.
    """
    a = arrival / service
    constants = mmc_run_length_constants(arrival, service, servers)
    assert constants.mean == pytest.approx(a, rel=1e-9)
    assert constants.start_deficit == pytest.approx(a / service, rel=1e-8)
    assert constants.variance_rate == pytest.approx(2 * a / service, rel=1e-8)
    assert constants.third_cumulant_rate == pytest.approx(6 * a / service**2, rel=1e-6)


def test_mmc_constants_agree_with_a_dense_poisson_solve_and_the_transient() -> None:
    """M/M/3 at ρ = 0.8: Poisson's equation solved densely, D from the transient mean."""
    arrival, service, servers = 2.4, 1.0, 3
    a = generator(arrival, service, servers, 160)
    pi = stationary(a)
    n = np.arange(a.shape[0], dtype=float)
    mean = float(pi @ n)
    # h with A h = -(n - L), π h = 0: dense least squares with the normalisation as a row
    system = np.vstack([a, pi])
    h = np.linalg.lstsq(system, np.append(-(n - mean), 0.0), rcond=None)[0]
    constants = mmc_run_length_constants(arrival, service, servers)
    assert constants.mean == pytest.approx(mean, rel=1e-8)
    assert constants.variance_rate == pytest.approx(2 * float(pi @ ((n - mean) * h)), rel=1e-6)
    assert constants.start_deficit == pytest.approx(-float(h[0]), rel=1e-6)
    # D = ∫ (L - E₀ N(t)) dt, integrated from the transient (trapezoid, fine grid)
    times = np.linspace(0.0, 400.0, 4001)
    start = np.zeros(a.shape[0])
    start[0] = 1.0
    paths = expm_multiply(csr_matrix(a.T), start, start=0.0, stop=400.0, num=4001)
    deficit = mean - paths @ n
    area = float(np.sum((deficit[1:] + deficit[:-1]) / 2 * np.diff(times)))
    assert area == pytest.approx(constants.start_deficit, rel=1e-3)


@pytest.mark.parametrize(
    ("rho", "servers", "states", "step"), [(0.5, 1, 40, 3e-5), (0.7, 2, 70, 1e-5)]
)
def test_third_cumulant_rate_is_the_third_derivative_of_the_principal_eigenvalue(
    rho: float, servers: int, states: int, step: float
) -> None:
    """``c₃ = Λ'''(0)`` with ``Λ(θ)`` the largest eigenvalue of ``A + θ diag(n - L)``."""
    a = generator(rho * servers, 1.0, servers, states)
    pi = stationary(a)
    n = np.arange(a.shape[0], dtype=float)
    centred = np.diag(n - float(pi @ n))
    # reversible chain: D^{1/2} A D^{-1/2} is symmetric, so eigvalsh is accurate
    root = np.sqrt(pi)
    symmetric = (root[:, None] * a) / root[None, :]
    symmetric = (symmetric + symmetric.T) / 2

    def principal(theta: float) -> float:
        return float(np.linalg.eigvalsh(symmetric + theta * centred)[-1])

    third = (
        principal(2 * step) - 2 * principal(step) + 2 * principal(-step) - principal(-2 * step)
    ) / (2 * step**3)
    constants = mmc_run_length_constants(rho * servers, 1.0, servers)
    # the truncation leaves ~1e-12 of the mass; the differences err by O(step²) and by
    # rounding O(1e-16 / step³): 1e-3 covers both (seen: 3e-5 and 4e-5)
    assert constants.third_cumulant_rate == pytest.approx(third, rel=1e-3)


def test_skewness_falls_like_one_over_root_length() -> None:
    constants = mmc_run_length_constants(0.9, 1.0, 1)
    assert constants.skewness(4e4) == pytest.approx(constants.skewness(1e4) / 2, rel=1e-12)


def test_near_saturation_the_heavy_traffic_powers_take_over_smoothly() -> None:
    """Past the state limit the constants are extrapolated; they join the solved ones."""
    solved = mmc_run_length_constants(0.998, 1.0, 1)
    extrapolated = mmc_run_length_constants(0.9986, 1.0, 1)
    scale = (1 - 0.998) / (1 - 0.9986)
    assert extrapolated.start_deficit == pytest.approx(solved.start_deficit * scale**3, rel=0.01)
    assert extrapolated.variance_rate == pytest.approx(solved.variance_rate * scale**4, rel=0.01)
    closed = 0.9999 / (1 - 0.9999) ** 3
    assert mmc_run_length_constants(0.9999, 1.0, 1).start_deficit == pytest.approx(closed, rel=0.01)


def test_bad_input_is_refused() -> None:
    with pytest.raises(UnstableError, match="rho = 1 >= 1"):
        mmc_run_length_constants(1.0, 1.0, 1)
    with pytest.raises(ValueError, match="servers >= 1"):
        mmc_run_length_constants(1.0, 1.0, 0)
    assert math.isfinite(mmc_run_length_constants(0.1, 1.0, 1).third_cumulant_rate)
