"""eda-sim: discrete-event simulation of event-driven systems, with theory alongside.

A system is a set of handler stations behind an event bus; events of several
types arrive, a Markov routing matrix moves each event from handler to handler,
and every handler is a multi-server queue. See the README for the scenario format.
"""

from eda_sim.errors import EdaSimError, EdaSimWarning, Fault, ScenarioError, UnstableError
from eda_sim.scenario import Scenario, load_scenario, scenario_from_dict

__version__ = "0.1.0"

__all__ = [
    "EdaSimError",
    "EdaSimWarning",
    "Fault",
    "Scenario",
    "ScenarioError",
    "UnstableError",
    "__version__",
    "load_scenario",
    "scenario_from_dict",
]
