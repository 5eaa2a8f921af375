"""Brent's method (:mod:`eda_sim.theory.roots`) against known roots and ``scipy.optimize.brentq``.

The functions are those of the classic root-finding test sets (Alefeld, Potra and
Shi 1995; the ones scipy's own tests draw from): smooth, flat, steep, with a
double-precision root at an end, and with sign changes that are not roots (a
jump). Each root must lie within the stated tolerance of the true one, where
there is a true one, and agree with ``brentq`` to that tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from scipy.optimize import brentq

from eda_sim.theory.roots import brent_root

CASES: list[tuple[str, Callable[[float], float], float, float, float | None]] = [
    ("x^2 - 2", lambda x: x * x - 2.0, 0.0, 2.0, math.sqrt(2.0)),
    ("cos x - x", lambda x: math.cos(x) - x, 0.0, 1.0, 0.7390851332151607),
    ("x^3 - 2x - 5 (Wallis)", lambda x: x**3 - 2 * x - 5, 2.0, 3.0, 2.0945514815423265),
    ("exp(x) - 2", lambda x: math.exp(x) - 2.0, -1.0, 3.0, math.log(2.0)),
    ("x^9 (flat)", lambda x: x**9, -1.0, 1.5, 0.0),
    ("(x - 1)^3", lambda x: (x - 1.0) ** 3, 0.0, 3.0, 1.0),
    ("steep tanh", lambda x: math.tanh(50.0 * (x - 0.3)), 0.0, 1.0, 0.3),
    ("1e-8 x - 1e-9", lambda x: 1e-8 * x - 1e-9, -5.0, 5.0, 0.1),
    ("x e^-x - 0.1", lambda x: x * math.exp(-x) - 0.1, 0.0, 1.0, 0.11183255915896297),
    ("root at an end", lambda x: x - 1.0, 1.0, 4.0, 1.0),
    ("a jump at 0.5", lambda x: -1.0 if x < 0.5 else 1.0, 0.0, 1.0, 0.5),
    ("large root", lambda x: x - 1e12, 0.0, 1e13, 1e12),
    ("tiny root", lambda x: x - 1e-200, 0.0, 1.0, 1e-200),
]


@pytest.mark.parametrize(("name", "function", "low", "high", "root"), CASES)
@pytest.mark.parametrize(("xtol", "rtol"), [(2e-12, 8.9e-16), (1e-300, 1e-13), (1e-15, 1e-15)])
def test_the_root_is_within_the_tolerance(
    name: str,
    function: Callable[[float], float],
    low: float,
    high: float,
    root: float | None,
    xtol: float,
    rtol: float,
) -> None:
    found = brent_root(function, low, high, xtol=xtol, rtol=rtol, maxiter=500)
    reference = brentq(function, low, high, xtol=xtol, rtol=rtol, maxiter=500)
    if function(found) == 0.0:  # a zero of the function as computed (x^9 underflows near 0)
        return
    bound = xtol + rtol * abs(reference)
    if root is not None:
        # within the tolerance of the true root (a float or two more where it
        # falls between floats: the bracket's ends are floats)
        slack = 4 * math.ulp(root) if root else 0.0
        assert abs(found - root) <= 2 * bound + slack, (name, found, root)
    assert abs(found - reference) <= 2 * bound + 4 * math.ulp(reference), (name, found, reference)


def test_a_root_is_bracketed_even_where_interpolation_overshoots() -> None:
    """A sign change, not a zero: the bracket shrinks onto the jump by bisection."""
    steps: list[float] = []

    def jump(x: float) -> float:
        steps.append(x)
        return -1.0 if x < 1.0 / 3.0 else 1.0

    found = brent_root(jump, 0.0, 1.0, xtol=1e-14, rtol=1e-14)
    assert abs(found - 1.0 / 3.0) <= 1e-14
    assert len(steps) <= 2 + 60  # no worse than bisection's 47 steps by much


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"low": 2.0, "high": 3.0}, "do not bracket a root"),
        ({"xtol": 0.0}, "xtol must be > 0"),
        ({"rtol": 1e-17}, "rtol must be >="),
        ({"maxiter": 2}, "no convergence in 2 steps"),
    ],
)
def test_bad_arguments_are_refused_with_the_value(kwargs: dict[str, float], message: str) -> None:
    arguments = {"low": 0.0, "high": 2.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        brent_root(lambda x: x * x - 2.0, **arguments)  # type: ignore[arg-type]
