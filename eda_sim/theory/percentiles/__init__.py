"""Exact percentiles of waits and times in system, where the model determines them (layer 3).

* :mod:`.laws` — closed forms: M/M/c and M/M/c/K waits and times per visit,
  phase-type laws (a journey through M/M/1 stations without overtaking);
* :mod:`.mg1` — M/G/1 by inverting the Pollaczek–Khinchine transform
  (:mod:`.inversion`: Abate–Whitt's EULER algorithm, with its error bound);
* :mod:`.ctmc_station` — stations the CTMC solver makes exact (M/PH/c,
  M/PH/c/K, priorities with or without a capacity): a tagged event's first
  passage (:mod:`.tagged`, states in :mod:`.lattice`), evaluated by
  uniformisation (:mod:`.passage`, with its error bound);
* :mod:`.network_laws` — stations inside a network solved as one CTMC
  (blocking senders and their targets, stations behind a loss) and end-to-end
  times over several such stations: a tagged event in the network's chain
  (:mod:`.network_chain`, :mod:`.network_moves`), started from the Palm law of
  its arrival, and its first passage (:mod:`.network_passage`).

Each law gives ``P(X > t)`` and its quantiles with an error bound; a quantile is
labelled exact only when that bound is below ``1e-7`` of it. Laws that no
method here determines (lognormal or deterministic service where no formula
applies, non-Poisson input from a non-Markovian network, state spaces above
the limits) get no value, with the reason.
"""

from eda_sim.theory.percentiles.inversion import Inverted, invert_ccdf
from eda_sim.theory.percentiles.laws import (
    Quantile,
    TimeLaw,
    hypoexponential,
    mixture,
    mmc_sojourn,
    mmc_wait,
    mmck_sojourn,
    mmck_wait,
    phase_type,
)
from eda_sim.theory.percentiles.mg1 import (
    NoTransformError,
    mg1_sojourn,
    mg1_wait,
    service_transform,
)

__all__ = [
    "Inverted",
    "NoTransformError",
    "Quantile",
    "TimeLaw",
    "hypoexponential",
    "invert_ccdf",
    "md1_wait",
    "mg1_sojourn",
    "mg1_wait",
    "mixture",
    "mmc_sojourn",
    "mmc_wait",
    "mmck_sojourn",
    "mmck_wait",
    "phase_type",
    "service_transform",
]
