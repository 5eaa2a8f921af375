"""The distribution of the two-sided Kolmogorov–Smirnov statistic for a sample of n (layer 3).

:func:`kolmogorov_sf` gives ``P(D_n >= x)``, the p-value of a one-sample KS test
with statistic ``x``. It follows the choice of method of Simard & L'Ecuyer (2011),
"Computing the two-sided Kolmogorov–Smirnov distribution", *Journal of Statistical
Software* 39(11), which is also what ``scipy.stats.kstwo`` does:

* the exact tails of Ruben & Gambino (1982) for ``n·x <= 1`` and ``n·x >= n − 1``;
* ``2 · P(D⁺_n >= x)`` (Miller 1956; exact for ``x >= 1/2``), with the one-sided
  probability from ``scipy.special.smirnov``, in the upper tail;
* the Durbin (1973) matrix, computed as in Marsaglia, Tsang & Wang (2003),
  "Evaluating Kolmogorov's distribution", *J. Stat. Softw.* 8(18), where it is
  exact and small;
* the asymptotic series of Pelz & Good (1976), "Approximating the lower tail-areas of
  the Kolmogorov–Smirnov one-sample statistic", *JRSS B* 38, 152–156 (four terms, in
  the form of Simard & L'Ecuyer 2011, section 2.2) for large n.

It exists so that the assumption checks of a run need only ``scipy.special``:
importing ``scipy.stats`` costs about 0.4 s and 50 MB, more than a short run.
tests/test_kolmogorov.py compares it with ``scipy.stats.kstwo`` over a grid.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["kolmogorov_sf"]

#: Terms of each theta-function sum of the Pelz–Good series (they fall like e^{-k²}).
_PELZ_GOOD_TERMS = 40


def _durbin_cdf(n: int, x: float) -> float:
    """``P(D_n < x)`` by the Durbin matrix ``H``: ``n!/nⁿ · (Hⁿ)[k, k]`` (Marsaglia et al. 2003)."""
    k = int(n * x) + 1
    m = 2 * k - 1
    h = k - n * x
    rows = np.arange(m)[:, None]
    cols = np.arange(m)[None, :]
    matrix = (rows - cols + 1 >= 0).astype(float)
    powers = h ** np.arange(1, m + 1)
    matrix[:, 0] -= powers
    matrix[m - 1, :] -= powers[::-1]
    if 2 * h - 1 > 0:
        matrix[m - 1, 0] += (2 * h - 1) ** m
    lower = rows - cols + 1
    factorials = np.exp(np.array([math.lgamma(g + 1.0) for g in range(m + 1)]))
    matrix = np.where(lower > 0, matrix / factorials[np.clip(lower, 0, m)], matrix)
    # Hⁿ by repeated squaring, each product rescaled to keep it in range (log scale kept).
    result = np.eye(m)
    log_scale = 0.0
    base, base_log = matrix, 0.0
    power = n
    while power:
        if power & 1:
            result = result @ base
            log_scale += base_log
            top = float(np.abs(result).max())
            result /= top
            log_scale += math.log(top)
        power >>= 1
        if power:
            base = base @ base
            base_log *= 2
            top = float(np.abs(base).max())
            base /= top
            base_log += math.log(top)
    centre = float(result[k - 1, k - 1])
    if centre <= 0:
        return 0.0
    log_p = math.lgamma(n + 1.0) - n * math.log(n) + math.log(centre) + log_scale
    return min(1.0, math.exp(log_p))


def _pelz_good_cdf(n: int, x: float) -> float:
    """``P(D_n <= x)`` by the Pelz–Good series ``K0 + K1/√n + K2/n + K3/n^{3/2}`` at ``z = x√n``."""
    z = x * math.sqrt(n)
    z2 = z * z
    pi2 = math.pi**2
    root = math.sqrt(math.pi / 2)
    k = np.arange(_PELZ_GOOD_TERMS, dtype=float)
    half = pi2 * (k + 0.5) ** 2  # π²(k + ½)², k >= 0: each sum over all integers is twice it
    e_half = np.exp(-half / (2 * z2))
    whole = pi2 * k[1:] ** 2  # π²k², k >= 1 (k = 0 adds nothing)
    e_whole = np.exp(-whole / (2 * z2))
    odd = (2 * k[1:] - 1) ** 2
    k0 = math.sqrt(2 * math.pi) / z * float(np.sum(np.exp(-odd * pi2 / (8 * z2))))
    k1 = root / (6 * z2**2) * 2 * float(np.sum((half - z2) * e_half))
    k2 = root / (72 * z**7) * 2 * float(
        np.sum(
            (6 * z**6 + 2 * z2**2 + half * (2 * z2**2 - 5 * z2) + half**2 * (1 - 2 * z2)) * e_half
        )
    ) - root / (36 * z**3) * 2 * float(np.sum(whole * e_whole))
    k3 = root / (6480 * z**10) * 2 * float(
        np.sum(
            (
                half**3 * (5 - 30 * z2)
                + half**2 * (-60 * z2 + 212 * z2**2)
                + half * (135 * z2**2 - 96 * z2**3)
                - (30 * z2**3 + 90 * z2**4)
            )
            * e_half
        )
    ) + root / (216 * z**6) * 2 * float(np.sum((-(whole**2) + 3 * whole * z2) * e_whole))
    return float(k0 + k1 / math.sqrt(n) + k2 / n + k3 / n**1.5)


def _clip(probability: float) -> float:
    return min(1.0, max(0.0, probability))


def kolmogorov_sf(n: int, x: float) -> float:
    """``P(D_n >= x)`` for the two-sided one-sample Kolmogorov–Smirnov statistic ``D_n``.

    Parameters
    ----------
    n : int
        Sample size (>= 1).
    x : float
        The observed statistic.

    Returns
    -------
    float
        The p-value of the two-sided test.

    Examples
    --------
    >>> round(kolmogorov_sf(1, 0.75), 12)   # one point: D_1 = max(u, 1 - u) >= 0.75
    0.5
    >>> round(kolmogorov_sf(20000, 0.005), 6)   # scipy.stats.kstwo.sf(0.005, 20000)
    0.697409
    """
    from scipy.special import smirnov  # P(D⁺_n >= x), exact

    if x >= 1.0:
        return 0.0
    if x <= 0.0:
        return 1.0
    t = n * x
    if t <= 1.0:  # Ruben & Gambino: P(D_n < x) = n!/nⁿ (2t − 1)ⁿ for 1/(2n) <= x <= 1/n
        if t <= 0.5:
            return 1.0
        cdf = math.exp(math.lgamma(n + 1.0) - n * math.log(n) + n * math.log(2 * t - 1))
        return _clip(1.0 - cdf)
    if t >= n - 1:  # Ruben & Gambino: P(D_n >= x) = 2(1 − x)ⁿ
        return _clip(2 * (1.0 - x) ** n)
    if x >= 0.5:
        return _clip(2 * float(smirnov(n, x)))
    nxx = t * x
    if n <= 140:
        if nxx <= 4:
            return _clip(1.0 - _durbin_cdf(n, x))
        return _clip(2 * float(smirnov(n, x)))
    if nxx >= 370.0:
        return 0.0
    if nxx >= 2.2:
        return _clip(2 * float(smirnov(n, x)))
    if n <= 100_000 and n * x**1.5 <= 1.4:
        return _clip(1.0 - _durbin_cdf(n, x))
    return _clip(1.0 - _pelz_good_cdf(n, x))
