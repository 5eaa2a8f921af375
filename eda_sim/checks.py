"""The source article's assumptions, tested on simulated (or replayed) data (layer 3).

The article assumes Poisson arrivals and Markov routing. These tests say, with a
statistic and a p-value, whether the data look like that:

* **Poisson counts**: arrivals counted in windows of equal length against the
  Poisson(λ·w) pmf, by Pearson's chi-square goodness-of-fit test with the
  specified λ (no parameter estimated, so ``dof = bins − 1``); neighbouring
  bins are merged until every expected count is at least 5 (Cochran 1954).
* **Exponential gaps**: the gaps between arrivals against the exponential law
  with the specified rate, by the one-sample Kolmogorov–Smirnov test.
* **Markov routing**: the observed next hops after each station against the
  routing row (exit included), by Pearson's chi-square test, bins merged as above.

Each test passes when its p-value is at least ``alpha`` (default 1%).

The statistics and p-values are those of ``scipy.stats.chisquare``, ``poisson`` and
``kstest`` (the same functions of ``scipy.special`` underneath, and
:mod:`eda_sim.kolmogorov` for the KS distribution), computed without importing
``scipy.stats``, which would cost a run about 0.4 s and 50 MB.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from eda_sim.kolmogorov import kolmogorov_sf

__all__ = [
    "DEFAULT_ALPHA",
    "MIN_EXPECTED",
    "CheckResult",
    "exponential_gaps_check",
    "poisson_counts_check",
    "routing_row_check",
]

#: Significance level of the assumption checks.
DEFAULT_ALPHA = 0.01
#: Smallest expected count per chi-square bin (Cochran's rule).
MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one assumption check.

    ``passed`` is ``p_value >= alpha``; with too little data the check is not
    run (``p_value`` NaN, ``passed`` True) and ``note`` says why.
    """

    check: str
    subject: str
    method: str
    statistic: float
    p_value: float
    dof: int | None
    n: int
    alpha: float
    passed: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as None)."""
        document = asdict(self)
        for key in ("statistic", "p_value"):
            if not math.isfinite(document[key]):
                document[key] = None
        return document


def _merge_bins(observed: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge neighbouring bins, left to right, until each expected count is >= MIN_EXPECTED."""
    merged_obs: list[float] = []
    merged_exp: list[float] = []
    acc_obs = acc_exp = 0.0
    for obs, exp in zip(observed, expected, strict=True):
        acc_obs += obs
        acc_exp += exp
        if acc_exp >= MIN_EXPECTED:
            merged_obs.append(acc_obs)
            merged_exp.append(acc_exp)
            acc_obs = acc_exp = 0.0
    if acc_exp > 0 or acc_obs > 0:
        if merged_exp:
            merged_obs[-1] += acc_obs
            merged_exp[-1] += acc_exp
        else:
            merged_obs.append(acc_obs)
            merged_exp.append(acc_exp)
    return np.array(merged_obs), np.array(merged_exp)


def _chi_square(
    check: str, subject: str, method: str, observed: np.ndarray, expected: np.ndarray, alpha: float
) -> CheckResult:
    n = int(observed.sum())
    obs, exp = _merge_bins(observed, expected)
    if len(obs) < 2:
        return CheckResult(
            check,
            subject,
            method,
            math.nan,
            math.nan,
            None,
            n,
            alpha,
            True,
            "too little data or a single outcome: nothing to test",
        )
    from scipy.special import chdtrc  # the chi-square survival function

    statistic = float(((obs - exp) ** 2 / exp).sum())  # Pearson's, as scipy.stats.chisquare
    p_value = float(chdtrc(len(obs) - 1, statistic))
    return CheckResult(
        check,
        subject,
        method,
        statistic,
        p_value,
        len(obs) - 1,
        n,
        alpha,
        p_value >= alpha,
    )


def poisson_counts_check(
    histogram: Mapping[int, int],
    expected_per_window: float,
    subject: str,
    alpha: float = DEFAULT_ALPHA,
) -> CheckResult:
    """Chi-square test of window counts against Poisson(``expected_per_window``).

    Parameters
    ----------
    histogram : mapping of int to int
        ``{count: number of windows with that many arrivals}``.
    expected_per_window : float
        ``λ·w``, the Poisson mean under the hypothesis.
    subject : str
        What was counted (for the report), e.g. ``"arrivals of orders"``.
    alpha : float
        Significance level.
    """
    method = f"chi-square, counts per window vs Poisson(mean={expected_per_window:.4g})"
    windows = int(sum(histogram.values()))
    if windows == 0:
        return CheckResult(
            "poisson_counts",
            subject,
            method,
            math.nan,
            math.nan,
            None,
            0,
            alpha,
            True,
            "no complete window",
        )
    top = max(max(histogram), int(expected_per_window * 3 + 10))
    from scipy.special import gammaln, pdtrc, xlogy

    observed = np.array([histogram.get(k, 0) for k in range(top + 1)], dtype=float)
    counts = np.arange(top + 1)
    # The Poisson pmf and survival function as scipy.stats.poisson computes them.
    pmf = np.exp(xlogy(counts, expected_per_window) - gammaln(counts + 1) - expected_per_window)
    pmf[-1] += pdtrc(top, expected_per_window)  # the last bin is "top or more"
    return _chi_square("poisson_counts", subject, method, observed, windows * pmf, alpha)


def exponential_gaps_check(
    gaps: Sequence[float], rate: float, subject: str, alpha: float = DEFAULT_ALPHA
) -> CheckResult:
    """Kolmogorov–Smirnov test of inter-arrival gaps against Exponential(``rate``)."""
    method = f"Kolmogorov-Smirnov, gaps vs exponential(rate={rate:.4g})"
    if len(gaps) < 2:
        return CheckResult(
            "exponential_gaps",
            subject,
            method,
            math.nan,
            math.nan,
            None,
            len(gaps),
            alpha,
            True,
            "fewer than two gaps",
        )
    from scipy.special import expm1

    data = np.sort(np.asarray(gaps, dtype=float))
    n = len(data)
    cdf = -expm1(-data / (1.0 / rate))  # the exponential cdf, as scipy.stats.expon's
    above = float(np.max(np.arange(1.0, n + 1) / n - cdf))  # D+
    below = float(np.max(cdf - np.arange(0.0, n) / n))  # D-
    statistic = max(above, below)
    p_value = kolmogorov_sf(n, statistic)
    return CheckResult(
        "exponential_gaps",
        subject,
        method,
        statistic,
        p_value,
        None,
        len(gaps),
        alpha,
        p_value >= alpha,
    )


def routing_row_check(
    observed: Sequence[int],
    probabilities: Sequence[float],
    subject: str,
    alpha: float = DEFAULT_ALPHA,
) -> CheckResult:
    """Chi-square test of observed next hops against one routing row (exit as the last cell).

    A hop to a destination of probability 0 fails the check outright.
    """
    method = "chi-square, observed next hops vs routing row"
    counts = np.asarray(observed, dtype=float)
    probs = np.asarray(probabilities, dtype=float)
    n = int(counts.sum())
    impossible = (probs <= 0) & (counts > 0)
    if impossible.any():
        return CheckResult(
            "markov_routing",
            subject,
            method,
            math.inf,
            0.0,
            None,
            n,
            alpha,
            False,
            f"{int(counts[impossible].sum())} hops where the matrix gives 0",
        )
    possible = probs > 0
    if possible.sum() == 1:
        return CheckResult(
            "markov_routing",
            subject,
            method,
            math.nan,
            math.nan,
            None,
            n,
            alpha,
            True,
            "one possible next hop",
        )
    return _chi_square(
        "markov_routing", subject, method, counts[possible], n * probs[possible], alpha
    )
