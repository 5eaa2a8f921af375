"""The uniformised first-passage law against the matrix exponential, on small chains.

``P(X > t) = β e^{Tt} 1`` and, on the event of one chosen absorption with rates
``b``, ``P(X > t, that way) = β e^{Tt} h`` with ``h = (−T)⁻¹ b`` (Neuts 1981,
ch. 2): computed here densely (``scipy.linalg.expm``, ``numpy.linalg.solve``)
and compared within the series' own error bound plus 1e-12 for the dense side's
rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.sparse import csr_matrix

from eda_sim.theory.percentiles.passage import Passage

TIMES = (0.0, 0.1, 0.5, 1.0, 2.5, 7.0)


def chain(seed: int, size: int = 6) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A random transient generator ``T``, start ``β``, and its exit rates split two ways."""
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.0, 2.0, (size, size)) * (rng.random((size, size)) < 0.6)
    np.fill_diagonal(rates, 0.0)
    chosen = rng.uniform(0.0, 1.0, size) * (rng.random(size) < 0.5)
    other = rng.uniform(0.0, 1.0, size) * (rng.random(size) < 0.5)
    chosen[0] = max(chosen[0], 0.3)  # at least one way out of each kind
    other[-1] = max(other[-1], 0.3)
    generator = rates - np.diag(rates.sum(axis=1) + chosen + other)
    start = rng.dirichlet(np.ones(size)) * 0.9  # mass 0.1 absorbed at once
    return generator, start, chosen, other


@pytest.mark.parametrize("seed", range(5))
def test_the_plain_law_is_the_matrix_exponential(seed: int) -> None:
    generator, start, _, _ = chain(seed)
    passage = Passage(start, csr_matrix(generator))
    for t in TIMES:
        value, bound = passage(t)
        exact = float(start @ expm(generator * t) @ np.ones(len(start)))
        assert abs(value - exact) <= bound + 1e-12
    assert passage.mean == pytest.approx(
        float(start @ np.linalg.solve(-generator, np.ones(len(start)))), rel=1e-11
    )


@pytest.mark.parametrize("seed", range(5))
def test_the_law_on_one_absorption_is_beta_exp_tt_h(seed: int) -> None:
    generator, start, chosen, _ = chain(seed)
    passage = Passage(start, csr_matrix(generator), exits=chosen)
    done = np.linalg.solve(-generator, chosen)  # h: the chance of leaving the chosen way
    assert float(passage.terms[0]) == pytest.approx(float(start @ done), rel=1e-12)
    for t in TIMES:
        value, bound = passage(t)
        exact = float(start @ expm(generator * t) @ done)
        assert abs(value - exact) <= bound + 1e-12
        assert bound < 1e-12
    # E[X; the chosen way] = β (−T)⁻¹ h
    assert passage.mean == pytest.approx(
        float(start @ np.linalg.solve(-generator, done)), rel=1e-11
    )
    assert np.all(np.diff(passage.terms) <= 0)  # u_n never increases
