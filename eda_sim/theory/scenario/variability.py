"""QNA's arrival variability for a scenario (:func:`eda_sim.theory.qna.arrival_variability`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from eda_sim.theory.qna import arrival_variability
from eda_sim.theory.scenario.inputs import ScenarioInputs

__all__ = ["arrival_scv"]


def arrival_scv(inputs: ScenarioInputs) -> npt.NDArray[np.float64]:
    """``ca_j²`` of the stream offered to every station, on the carried flows."""
    gamma = inputs.gamma
    classes = inputs.scenario.classes
    external = np.array(
        [[c.arrivals.scv if g > 0 else 1.0 for g in gamma[k]] for k, c in enumerate(classes)]
    )
    return arrival_variability(
        gamma,
        external,
        inputs.copies,
        inputs.traffic.carried,
        inputs.traffic.offered,
        inputs.means,
        inputs.scvs,
        inputs.servers,
    )
