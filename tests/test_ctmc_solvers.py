"""The stationary solve's two ways, the light iterative one and the direct LU, agree.

Above ``ITERATIVE_FROM`` states :func:`~eda_sim.theory.ctmc.stationary` first tries
GMRES with a light incomplete LU and keeps it only at a residual of 1e-12;
otherwise (and below that size) a direct sparse LU. Checked against the closed
form of M/M/1/K (a geometric law) and against the direct LU on a chain with
phases, two stations and a truncation.
"""

from __future__ import annotations

import numpy as np
import pytest

import eda_sim.theory.ctmc as ctmc
from eda_sim import distributions as dists
from eda_sim.theory.ctmc import (
    ITERATIVE_FROM,
    MarkovClass,
    MarkovNetwork,
    MarkovStation,
    build_chain,
    stationary,
)
from eda_sim.theory.ctmc_metrics import chain_figures
from eda_sim.theory.families import phase_type


def law(distribution: dists.Distribution) -> tuple[np.ndarray, np.ndarray]:
    found = phase_type(distribution)
    assert found is not None
    return found


def mm1k(rho: float, capacity: int) -> MarkovNetwork:
    service = (law(dists.Exponential(1.0)),)
    return MarkovNetwork(
        (MarkovStation("s", 1, capacity),),
        (MarkovClass("x", np.array([rho]), np.zeros((1, 1)), ((),), service),),
    )


def tandem() -> MarkovNetwork:
    """An Erlang-2 station feeding an exponential pair, both with room for 45."""
    routing = np.array([[0.0, 0.9], [0.0, 0.0]])
    service = (law(dists.Erlang(2, 2.5)), law(dists.Exponential(0.7)))
    return MarkovNetwork(
        (MarkovStation("a", 1, 45), MarkovStation("b", 2, 45, truncated=True)),
        (MarkovClass("x", np.array([0.9, 0.0]), routing, ((), ()), service),),
    )


def test_the_light_solve_is_the_geometric_law_of_mm1k() -> None:
    rho, capacity = 0.8, 3_000
    chain = build_chain(mm1k(rho, capacity))
    assert chain.size > ITERATIVE_FROM
    q = chain.generator
    light = ctmc._light_solve(q, q[1:, 1:].T.tocsc(), -np.asarray(q[0, 1:].todense()).ravel())
    assert light is not None  # the light way was kept, so it is what is checked
    levels = chain.states[:, chain.layout.present[0]].sum(axis=1)
    exact = (1 - rho) * rho**levels / (1 - rho ** (capacity + 1))
    assert np.abs(stationary(chain) - exact).max() <= 1e-13


def test_the_light_solve_and_the_direct_lu_give_the_same_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chain = build_chain(tandem())
    assert chain.size > ITERATIVE_FROM
    light = chain_figures(chain, stationary(chain))
    monkeypatch.setattr(ctmc, "ITERATIVE_FROM", chain.size)  # the direct LU only
    direct = chain_figures(chain, stationary(chain))
    for name in ("L", "Lq", "throughput", "busy", "blocked"):
        assert np.allclose(getattr(light, name), getattr(direct, name), rtol=1e-11, atol=1e-14)


def test_a_light_solve_that_fails_falls_back_to_the_direct_lu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chain = build_chain(mm1k(0.8, 3_000))
    expected = stationary(chain)

    def singular(*args: object, **kwargs: object) -> object:
        raise RuntimeError("Factor is exactly singular")

    import scipy.sparse.linalg

    monkeypatch.setattr(scipy.sparse.linalg, "spilu", singular)
    assert np.abs(stationary(chain) - expected).max() <= 1e-13


def test_a_kept_chain_is_not_given_again_under_other_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The solved-chain cache of one scenario is keyed by the limits it was solved under.

    `a` (M/M/1, unlimited) blocks behind `b`: a two-station chain with a truncated
    buffer. Solved once, then with the plane limit below its size on the same
    scenario object: the second solve must refuse the chain, not reuse it.
    """
    from eda_sim.scenario import scenario_from_dict
    from eda_sim.theory.scenario import markov, solve

    scenario = scenario_from_dict(
        {
            "stations": {
                "a": {"service": {"dist": "exponential", "mean": 0.6}},
                "b": {
                    "service": {"dist": "exponential", "mean": 1.0},
                    "capacity": 2,
                    "on_full": "block",
                },
            },
            "arrivals": {"process": "poisson", "rate": 0.6, "to": "a"},
            "routing": {"a": {"b": 1.0}},
        }
    )
    first = solve(scenario).stations["a"]
    assert first is not None and first.exact and first.method.startswith("CTMC")
    monkeypatch.setattr(markov, "PLANE_LIMIT", 10)
    again = solve(scenario).stations["a"]
    assert again is not None and not again.method.startswith("CTMC")
