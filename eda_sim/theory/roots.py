"""A root of a function that changes sign on an interval: Brent's method (layer 3).

The theory needs a bracketed root in two places, the GI/M/c root σ
(:func:`eda_sim.theory.renewal.sigma_root`) and the quantiles of a time law
(:meth:`eda_sim.theory.percentiles.laws.TimeLaw.quantile`), which ``eda-sim run``
asks for on every scenario. This module is that one algorithm, so that a run
does not import :mod:`scipy.optimize` (about 25 MB and half a second of start-up,
most of it for optimisers the theory never uses).

The algorithm is R. P. Brent's *zeroin* (*Algorithms for Minimization without
Derivatives*, Prentice-Hall 1973, ch. 4): inverse quadratic interpolation, or
the secant step, where it makes progress, and bisection otherwise, keeping the
root bracketed throughout; it never needs more than about the square of the
bisection's steps and usually converges superlinearly. It stops when the
bracket is within ``xtol + rtol·|x|``, the criterion of
:func:`scipy.optimize.brentq` (whose tests it is checked against in
``tests/test_roots.py``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

__all__ = ["brent_root"]

#: The machine epsilon of a float (the smallest relative step of the iterate).
_EPSILON = sys.float_info.epsilon


def brent_root(
    function: Callable[[float], float],
    low: float,
    high: float,
    *,
    xtol: float = 2e-12,
    rtol: float = 4 * _EPSILON,
    maxiter: int = 100,
) -> float:
    """A root of ``function`` in ``[low, high]``, where it changes sign.

    Parameters
    ----------
    function : callable
        A continuous function of one float.
    low, high : float
        The bracket: ``function(low)`` and ``function(high)`` of opposite signs
        (or one of them 0).
    xtol, rtol : float
        The root is found to within ``xtol + rtol * |root|`` (``xtol`` > 0,
        ``rtol`` at least four machine epsilons, as in :func:`scipy.optimize.brentq`).
    maxiter : int
        The most evaluations after the two at the ends.

    Raises
    ------
    ValueError
        When the ends do not bracket a root, a tolerance is out of range, or
        ``maxiter`` steps do not converge.
    """
    if not xtol > 0:
        raise ValueError(f"xtol must be > 0, got {xtol!r}")
    if not rtol >= 4 * _EPSILON:
        raise ValueError(f"rtol must be >= {4 * _EPSILON:.3g}, got {rtol!r}")
    a, b = float(low), float(high)
    fa, fb = function(a), function(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if math.copysign(1.0, fa) == math.copysign(1.0, fb):
        raise ValueError(f"the ends do not bracket a root: f({a!r}) = {fa!r}, f({b!r}) = {fb!r}")
    c, fc = a, fa  # b and c bracket the root; b is the best estimate, a the previous one
    step = previous = b - a
    for _ in range(maxiter):
        if abs(fc) < abs(fb):  # b the end nearer the root
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tolerance = 0.5 * (xtol + rtol * abs(b))
        half = 0.5 * (c - b)
        if abs(half) < tolerance:
            return b
        step, previous = _next_step(a, b, c, fa, fb, fc, half, tolerance, step, previous)
        a, fa = b, fb
        b += step if abs(step) > tolerance else math.copysign(tolerance, half)
        fb = function(b)
        if fb == 0.0:
            return b
        if math.copysign(1.0, fb) == math.copysign(1.0, fc):  # the root is between a and b
            c, fc = a, fa
            step = previous = b - a
    raise ValueError(f"no convergence in {maxiter} steps (bracket [{b!r}, {c!r}])")


def _next_step(
    a: float,
    b: float,
    c: float,
    fa: float,
    fb: float,
    fc: float,
    half: float,
    tolerance: float,
    step: float,
    previous: float,
) -> tuple[float, float]:
    """Brent's choice of the next step from ``b``, and the step before it.

    Interpolation (inverse quadratic through ``a``, ``b``, ``c``; the secant when
    two of them coincide) is taken when it lands well inside the bracket and the
    steps keep shrinking; otherwise bisection (``half``).
    """
    if abs(previous) < tolerance or abs(fa) <= abs(fb):
        return half, half
    s = fb / fa
    if a == c:  # secant
        p, q = 2.0 * half * s, 1.0 - s
    else:  # inverse quadratic interpolation
        q, r = fa / fc, fb / fc
        p = s * (2.0 * half * q * (q - r) - (b - a) * (r - 1.0))
        q = (q - 1.0) * (r - 1.0) * (s - 1.0)
    if p > 0.0:
        q = -q
    else:
        p = -p
    if 2.0 * p < min(3.0 * half * q - abs(tolerance * q), abs(previous * q)):
        return p / q, step
    return half, half
