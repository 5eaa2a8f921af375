"""The time to absorption of a finite CTMC, by uniformisation, with its error bound (layer 3).

A first-passage time ``X`` of a CTMC started in the transient states with the
row vector ``β`` (mass ``1 − Σβ`` absorbed at once) has a phase-type law,
``P(X > t) = β e^{Tt} 1`` with ``T`` the generator among the transient states
(M. F. Neuts, *Matrix-Geometric Solutions in Stochastic Models*, 1981, ch. 2).
Uniformisation (A. Jensen 1953; W. K. Grassmann, "Transient solutions in
Markovian queueing systems", *Comput. Oper. Res.* 4, 1977) writes it with
``Λ >= max_i |T_ii|`` and the substochastic ``P = I + T/Λ`` as the series

    ``P(X > t) = Σ_n e^{−Λt} (Λt)^n / n! · u_n``,   ``u_n = β P^n 1``.

The ``u_n`` do not depend on ``t``: :class:`Passage` computes them once (one
sparse product per term) until ``u_N <= SERIES_FLOOR``; since ``P 1 <= 1`` the
``u_n`` never increase, so the terms left out add at most ``u_N`` whatever
``t`` (the truncation error bound, ``<= 1e-14``). Each evaluation then costs one
weighted sum, and a quantile's root search many of them.

With ``exits`` (the law of ``X`` on one way of being absorbed, e.g. leaving
without a loss) the terms are partial sums of the chances ``a_m`` that step
``m + 1`` is that absorption, and the series stops instead when the mass left
in the transient states, ``β P^N 1``, is below the floor: no ``a_m`` beyond it
adds more than that mass (see :class:`Passage`).

A chain may also *leak*: transitions into a state outside the finite chain
(an ``overflow``: the first-passage chain cut at a level). Up to the first
leak the cut chain follows the true one exactly, so the true ``P(X > t)`` lies
between the cut chain's value and that value plus the probability of having
leaked by ``t``, which the series carries alongside (``o_n``, the mass leaked
in ``n`` steps): it is added to the error bound.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

__all__ = ["MAX_WORK", "SERIES_FLOOR", "Passage"]

FloatArray = npt.NDArray[np.float64]

#: The series stops when ``u_N`` (a bound on every term left out) is below this.
SERIES_FLOOR = 1e-14
#: The most (nonzeros x terms) the series may cost before it is refused (~seconds).
MAX_WORK = 600_000_000
_ROUNDING = 1e-14
#: Entries below this are set to 0 after each step (their sum stays far below _ROUNDING).
_NEGLIGIBLE = 1e-250


class Passage:
    """``P(X > t)`` of the absorption time of a chain, by uniformisation (module docstring).

    Parameters
    ----------
    start : array
        ``β``, the initial mass on the transient states (may sum to less than 1).
    generator : scipy.sparse matrix
        ``T``, the generator among the transient states (rows may sum to < 0).
    leak : array, optional
        The rate from each transient state into an overflow outside the chain.
    exits : array, optional
        ``b``, the rate from each transient state into one chosen way of being
        absorbed (e.g. leaving without a loss): the law is then that of ``X`` on
        that event, ``P(X > t, absorbed that way)``. With ``h = (−T)⁻¹ b`` (the
        probability of being absorbed that way) its series is ``u_n = β P^n h``;
        since ``h = Σ_m P^m b/Λ``, ``u_n = Σ_{m >= n} a_m`` with ``a_m = β P^m b/Λ``
        (the chance that step ``m + 1`` is that absorption), summed from the same
        forward products, so ``h`` is never solved for (a sparse LU of ``T`` fills
        in: minutes for a 46,260-state passage). The forward series then runs
        until the mass left, ``β P^N 1``, is below :data:`SERIES_FLOOR`: every
        ``a_m`` beyond it adds to each ``u_n`` at most that mass, the bound kept.

    Raises
    ------
    ValueError
        When the series would cost more than :data:`MAX_WORK` (a chain that is
        absorbed too slowly against its fastest rate).
    """

    def __init__(
        self,
        start: FloatArray,
        generator: object,
        leak: FloatArray | None = None,
        exits: FloatArray | None = None,
    ) -> None:
        from scipy.sparse import csr_matrix

        matrix = csr_matrix(generator)
        diagonal = -matrix.diagonal()
        self.rate = float(diagonal.max(initial=0.0)) or 1.0  # Λ
        self.states = matrix.shape[0]
        step = (matrix.T / self.rate).tocsr()  # v P = v + v T / Λ, as (T/Λ)ᵀ v
        vector = np.asarray(start, dtype=np.float64).copy()
        # the few states that leak, as indices (a BLAS dot over every state is slow
        # when its threads compete for the cores)
        leaking = np.zeros(0, np.int64) if leak is None else np.flatnonzero(np.asarray(leak) > 0)
        leaks = None if leak is None else np.asarray(leak, dtype=np.float64)[leaking] / self.rate
        weight = None if exits is None else np.asarray(exits, np.float64) / self.rate

        def term(v: FloatArray) -> float:
            return float(v.sum()) if weight is None else float(np.dot(v, weight))

        # plain: terms u_n = β P^n 1; with exits: a_n, and the mass left β P^n 1 alongside
        terms, leaked, spilled = [term(vector)], [0.0], 0.0
        mass = float(vector.sum())
        budget = MAX_WORK // max(step.nnz + self.states, 1)
        while (terms[-1] if weight is None else mass) > SERIES_FLOOR:
            if len(terms) > budget:
                raise ValueError(
                    f"the uniformised series of the {self.states}-state first-passage chain "
                    f"did not reach {SERIES_FLOOR:g} within {budget:,} terms"
                )
            if leaks is not None:
                spilled += float((vector[leaking] * leaks).sum())
            vector = vector + step @ vector
            vector[vector < _NEGLIGIBLE] = 0.0  # no subnormals (slow); error <= states × this
            terms.append(term(vector))
            leaked.append(spilled)
            mass = float(vector.sum())
        if weight is None:
            self.terms = np.array(terms)
            #: A bound on what the terms left out (and the kept ones' rounding) add.
            self.cut = float(self.terms[-1])
        else:  # u_n = Σ_{m >= n} a_m, short of at most the mass left
            self.terms = np.cumsum(np.array(terms)[::-1])[::-1].copy()
            self.cut = mass
        self.leaked = np.array(leaked)
        self.mean = float(self.terms.sum()) / self.rate  # E[X] = ∫ P(X > t) dt = Σ u_n / Λ

    @property
    def overflow(self) -> float:
        """The probability of leaking out of the chain before absorption (0 without a leak)."""
        return float(self.leaked[-1] + self.cut if self.leaked[-1] > 0 else 0.0)

    def __call__(self, t: float) -> tuple[float, float]:
        """``(P(X > t), error bound)`` for ``t >= 0``."""
        n = np.arange(len(self.terms), dtype=np.float64)
        if t <= 0:
            weights = np.zeros(len(n))
            weights[0] = 1.0
        else:
            m = self.rate * t
            weights = np.exp(n * math.log(m) - m - gammaln(n + 1.0))
        value = float((weights * self.terms).sum())
        error = self.cut + float((weights * self.leaked).sum()) + _ROUNDING
        return min(max(value, 0.0), 1.0), error
