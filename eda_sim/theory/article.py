"""The source article's two formulas for a single-server station.

The article states ``L = N^2 / (2 (1 - rho))`` and ``W = N / (lambda (1 - rho))``.
Read with ``N = rho = lambda E[S]`` (the offered load), the first is the M/D/1
mean number *waiting* (``Lq``, Pollaczek-Khinchine with ``cs^2 = 0``) and the
second is the M/M/1 mean time *in system*. They cannot both describe one system:
Little's law ``L = lambda W`` would need ``rho^2 / 2 = rho``. eda-sim evaluates
them only to show, beside the correct result, where they hold and where not.
"""

from __future__ import annotations

from eda_sim.theory._checks import check_nonnegative, check_positive, check_stable

__all__ = ["ARTICLE_NOTE", "article_L", "article_W"]

ARTICLE_NOTE = (
    "Article formulas (N read as rho): L_article = rho^2/(2(1-rho)) is the M/D/1 mean number "
    "waiting (Lq), W_article = rho/(lambda(1-rho)) is the M/M/1 mean time in system; together "
    "they break Little's law (L = lambda*W would need rho^2/2 = rho)."
)


def article_L(rho: float) -> float:  # noqa: N802 - the article's symbol L
    """Evaluate the article's ``L = N^2 / (2 (1 - rho))`` with ``N = rho``.

    Parameters
    ----------
    rho : float
        Offered load ``lambda E[S]`` of the single-server station, ``0 <= rho < 1``.

    Returns
    -------
    float
        ``rho**2 / (2 (1 - rho))``: the M/D/1 mean number waiting, not the mean
        number present that the article claims.

    Raises
    ------
    ValueError
        For a negative ``rho``; :class:`eda_sim.errors.UnstableError` (a
        ValueError) when ``rho >= 1``.

    Notes
    -----
    Compare :func:`eda_sim.theory.md1` (``Lq``) and the Pollaczek-Khinchine formula
    in Kleinrock, *Queueing Systems*, vol. 1, ch. 5.
    """
    r = check_nonnegative("rho", rho)
    check_stable(r)
    return r**2 / (2.0 * (1.0 - r))


def article_W(arrival_rate: float, rho: float) -> float:  # noqa: N802 - the article's symbol W
    """Evaluate the article's ``W = N / (lambda (1 - rho))`` with ``N = rho``.

    Parameters
    ----------
    arrival_rate : float
        Arrival rate ``lambda`` (> 0).
    rho : float
        Offered load ``lambda E[S]`` of the single-server station, ``0 <= rho < 1``.

    Returns
    -------
    float
        ``rho / (lambda (1 - rho))`` = ``1 / (mu - lambda)``: the M/M/1 mean time
        in system.

    Raises
    ------
    ValueError
        For a non-positive ``arrival_rate`` or a negative ``rho``;
        :class:`eda_sim.errors.UnstableError` (a ValueError) when ``rho >= 1``.

    Notes
    -----
    Compare :func:`eda_sim.theory.mm1` (``W``); Gross et al., *Fundamentals of
    Queueing Theory*, 4th ed., M/M/1.
    """
    lam = check_positive("arrival_rate", arrival_rate)
    r = check_nonnegative("rho", rho)
    check_stable(r)
    return r / (lam * (1.0 - r))
