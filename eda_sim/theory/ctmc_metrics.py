"""Every station and class figure from a solved CTMC (:mod:`eda_sim.theory.ctmc`).

From the stationary distribution ``π`` over the states:

* per station and class: the mean number present ``L_k,j`` (waiting, in service
  and blocked), waiting ``Lq_k,j`` and blocked, and the completion rate
  ``thr_k,j = Σ_p E[n_k,p,j] t_p`` (every service completion departs, blocked
  ones later); the offered rate ``γ_k,j + Σ_i thr_k,i M_k[i, j]``; loss = 1 −
  carried / offered; ``W = L / thr`` and ``Wq = Lq / thr`` (Little's law), blocked
  time per visit ``E[blocked] / thr``; utilisation ``E[busy servers] / c``;
* per class: ``L_k = Σ_j L_k,j``, the rate of events leaving the system
  ``Σ_j thr_k,j (1 − Σ_t P_k[j, t])`` and the loss ``1 − exits / γ_k``;
* the probability of each truncated station's top level (the truncation's
  boundary mass) and the geometric decay of the levels below it, from which
  the caller estimates the tail it cut off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from eda_sim.theory.ctmc import Chain

__all__ = ["ChainFigures", "chain_figures"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ChainFigures:
    """Stationary figures of a chain, per class ``k`` and station ``j`` (arrays ``(K, N)``)."""

    states: int
    L: FloatArray
    Lq: FloatArray
    blocked: FloatArray
    throughput: FloatArray
    offered: FloatArray
    busy: FloatArray  # (N,) mean busy servers
    exits: FloatArray  # (K,) rate of events leaving the system
    boundary: dict[int, float]  # truncated station -> P(at its truncation level)
    decay: dict[int, float]  # truncated station -> P(top) / P(top - 1)


def _queue_counts(chain: Chain, pi: FloatArray, j: int, classes: int) -> FloatArray:
    """Mean number of each class waiting at ``j`` (decoding the waiting lines' codes)."""
    out = np.zeros(classes)
    states = chain.states
    for length, code, base, members in chain.layout.queue[j]:
        lengths = states[:, length]
        if base == 1:
            out[members[0]] += float(pi @ lengths)
            continue
        codes = states[:, code].copy()
        for position in range(int(lengths.max(initial=0))):
            digit = codes % base
            codes //= base
            inside = position < lengths
            for index, k in enumerate(members):
                out[k] += float(pi @ (inside & (digit == index)))
    return out


def _decay(pi: FloatArray, present: npt.NDArray[np.int64], limit: int, servers: int) -> float:
    """The geometric decay per level below a truncation, measured away from its boundary.

    At the top level itself arrivals are dropped, so its mass piles up (with
    hyperexponential service ``P(top) / P(top − 1)`` exceeds 1 although the
    levels below decay geometrically): the decay is the mean ratio per level
    between ``top − 1 − span`` and ``top − 1``.
    """
    span = max(1, min(20, (limit - servers) // 2))
    upper = float(pi[present == limit - 1].sum())
    lower = float(pi[present == limit - 1 - span].sum())
    if upper <= 0.0 or lower <= 0.0:
        return 0.0
    return float((upper / lower) ** (1.0 / span))


def chain_figures(chain: Chain, pi: FloatArray) -> ChainFigures:
    """Per-class, per-station figures of ``chain`` in its stationary law ``pi``."""
    network, layout, states = chain.network, chain.layout, chain.states
    k_count, n = len(network.classes), len(network.stations)
    big_l = np.zeros((k_count, n))
    lq = np.zeros((k_count, n))
    blocked = np.zeros((k_count, n))
    thr = np.zeros((k_count, n))
    busy = np.zeros(n)
    for j in range(n):
        for (k, p), column in layout.serve[j].items():
            law = network.classes[k].service[j]
            assert law is not None
            mean_in_phase = float(pi @ states[:, column])
            big_l[k, j] += mean_in_phase
            thr[k, j] += mean_in_phase * float(-law[1][p].sum())
            busy[j] += mean_in_phase
        for (k, _), column in layout.blocked[j].items():
            held = float(pi @ states[:, column])
            blocked[k, j] += held
            big_l[k, j] += held
            busy[j] += held
        waiting = _queue_counts(chain, pi, j, k_count)
        lq[:, j] = waiting
        big_l[:, j] += waiting
    offered = np.zeros((k_count, n))
    exits = np.zeros(k_count)
    for k, cls in enumerate(network.classes):
        copies = cls.routing.copy()
        for origin, targets in enumerate(cls.fanout):
            copies[origin, list(targets)] += 1.0
        offered[k] = cls.arrivals + thr[k] @ copies
        exits[k] = float(thr[k] @ np.clip(1.0 - cls.routing.sum(axis=1), 0.0, 1.0))
    boundary, decay = {}, {}
    for j, station in enumerate(network.stations):
        if station.truncated:
            present = states[:, layout.present[j]].sum(axis=1)
            top = float(pi[present == station.limit].sum())
            boundary[j] = top
            decay[j] = _decay(pi, present, station.limit, station.servers)
    return ChainFigures(chain.size, big_l, lq, blocked, thr, offered, busy, exits, boundary, decay)
