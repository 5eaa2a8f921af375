"""eda-sim: discrete-event simulation of event-driven systems, with theory alongside.

A system is a set of handler stations behind an event bus; events of several
types arrive, a Markov routing matrix moves each event from handler to handler,
and every handler is a multi-server queue. See the README for the scenario format.

Examples
--------
>>> import eda_sim
>>> scenario = eda_sim.load_scenario("scenarios/mm1.yaml")
>>> result = eda_sim.run(scenario, replications=3, horizon=2000)
>>> frame = result.to_frame()
>>> list(frame.columns[:6])
['scope', 'name', 'metric', 'mean', 'ci_low', 'ci_high']
>>> eda_sim.solve(scenario).stations["handler"].method
'M/M/1'
"""

from collections.abc import Sequence
from typing import Any

import pandas as pd

from eda_sim.errors import EdaSimError, EdaSimWarning, Fault, ScenarioError, UnstableError
from eda_sim.experiment import SweepResult, run
from eda_sim.experiment import sweep as _sweep
from eda_sim.results import RunResult
from eda_sim.scenario import Scenario, load_scenario, scenario_from_dict
from eda_sim.theory.scenario import solve

__version__ = "0.1.0"


def sweep(
    scenario: Scenario, param: str, values: str | Sequence[float], **options: Any
) -> pd.DataFrame:
    """Run ``scenario`` at each value of the number at ``param``; return the tidy table.

    A shortcut for ``eda_sim.experiment.sweep(...).frame``; the options are those of
    :func:`eda_sim.experiment.sweep` (``replications``, ``horizon``, ``warmup``,
    ``seed``, ``workers``, ``executor``, ``scheduler``, ``checkpoint``, ``resume``, ...).

    Examples
    --------
    >>> import eda_sim
    >>> mm1 = eda_sim.load_scenario("scenarios/mm1.yaml")
    >>> table = eda_sim.sweep(mm1, "arrivals.rate", "0.5,0.8", replications=2, horizon=2000)
    >>> sorted(set(table["value"]))
    [0.5, 0.8]
    """
    return _sweep(scenario, param, values, **options).frame


__all__ = [
    "EdaSimError",
    "EdaSimWarning",
    "Fault",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SweepResult",
    "UnstableError",
    "__version__",
    "load_scenario",
    "run",
    "scenario_from_dict",
    "solve",
    "sweep",
]
