"""eda-sim: discrete-event simulation of event-driven systems, with theory alongside.

A system is a set of handler stations behind an event bus; events of several
types arrive, a Markov routing matrix moves each event from handler to handler,
and every handler is a multi-server queue. See docs/scenarios.md for the scenario format.

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

from __future__ import annotations

import importlib as _importlib
from collections.abc import Sequence as _Sequence
from typing import TYPE_CHECKING
from typing import Any as _Any

from eda_sim.errors import EdaSimError, EdaSimWarning, Fault, ScenarioError, UnstableError

if TYPE_CHECKING:
    import pandas as pd

    from eda_sim.experiment import SweepResult, run
    from eda_sim.results import RunResult
    from eda_sim.scenario import (
        Scenario,
        ScenarioBuilder,
        load_scenario,
        replace_value,
        scenario_from_dict,
    )
    from eda_sim.theory.scenario import solve

from eda_sim.version import __version__

# Every name below is imported on first use (PEP 562): ``eda-sim --help`` and the
# engine's worker processes import this package, and neither should pay for what it
# does not use (the scenario layer brings pydantic, the experiment layer pandas).
# tests/test_startup.py checks which modules each command loads.
_LAZY = {
    "Scenario": "eda_sim.scenario",
    "ScenarioBuilder": "eda_sim.scenario",
    "load_scenario": "eda_sim.scenario",
    "scenario_from_dict": "eda_sim.scenario",
    "replace_value": "eda_sim.scenario",
    "run": "eda_sim.experiment",
    "SweepResult": "eda_sim.experiment",
    "RunResult": "eda_sim.results",
    "solve": "eda_sim.theory.scenario",
}


#: Subpackages a user reaches as ``eda_sim.NAME`` without importing them first.
_SUBMODULES = (
    "distributions",
    "examples",
    "experiment",
    "metrics",
    "plots",
    "report",
    "results",
    "scenario",
    "stats",
    "theory",
)


def __getattr__(name: str) -> _Any:
    if name in _LAZY:
        return getattr(_importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'eda_sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, lazy ones included, so ``eda_sim.<TAB>`` offers them."""
    return sorted({*__all__, *_SUBMODULES})


def sweep(
    scenario: Scenario, param: str, values: str | _Sequence[float], **options: _Any
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
    from eda_sim.experiment import sweep as sweep_scenario

    return sweep_scenario(scenario, param, values, **options).frame


__all__ = [
    "EdaSimError",
    "EdaSimWarning",
    "Fault",
    "RunResult",
    "Scenario",
    "ScenarioBuilder",
    "ScenarioError",
    "SweepResult",
    "UnstableError",
    "__version__",
    "load_scenario",
    "replace_value",
    "run",
    "scenario_from_dict",
    "solve",
    "sweep",
]
