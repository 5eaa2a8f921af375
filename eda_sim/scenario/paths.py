"""Change one number of a scenario, addressed by a dotted path (layer 2).

:func:`replace_value` gives a variant of a scenario with one number changed
(parameter sweeps use it); :meth:`Scenario.replace <eda_sim.scenario.Scenario.replace>`
makes any variant (several changes, whole nodes, removals). Both set their changes
with :mod:`eda_sim.scenario.edit`, whose documentation lists the paths and what
setting a distribution's parameter does to the others, and validate the result
again from scratch, so a variant is checked exactly like a file. This function
lives above the loader it rebuilds the variant with (the modules import one way).
"""

from __future__ import annotations

import numbers

from eda_sim.scenario.edit import PARAM_FAULT_PATH, edited_document, path_fault
from eda_sim.scenario.loader import scenario_from_dict
from eda_sim.scenario.model import Scenario

__all__ = ["PARAM_FAULT_PATH", "replace_value"]


def replace_value(
    scenario: Scenario, path: str, value: float, *, allow_unstable: bool = False
) -> Scenario:
    """Return a copy of ``scenario`` with the number at ``path`` set to ``value``, re-validated.

    Parameters
    ----------
    scenario : Scenario
        The scenario to start from (left unchanged).
    path : str
        Dotted path into the scenario document: ``arrivals.rate``,
        ``stations.NAME.servers``, ``stations.NAME.service.mean``,
        ``routing.FROM.TO``, ``classes.NAME.arrivals.rate``, ``run.horizon``, ...
        (see the module's documentation).
    value : float
        The new number; whole for ``servers``, ``capacity``, ``k``,
        ``replications`` and ``seed``.
    allow_unstable : bool
        Accept a variant with a station of unlimited capacity and ρ >= 1.

    Returns
    -------
    Scenario
        The variant, with the same name and base folder as ``scenario``.

    Raises
    ------
    ScenarioError
        At ``param`` for a path that names no field (with the nearest valid path)
        or a field that is not a number, or a fractional value for a whole-number
        field; otherwise the faults of the rebuilt scenario, unchanged
        (:class:`~eda_sim.errors.UnstableError` when the only fault is ρ >= 1).

    Examples
    --------
    >>> from eda_sim.errors import ScenarioError
    >>> from eda_sim.scenario import scenario_from_dict
    >>> base = scenario_from_dict({
    ...     "stations": {
    ...         "ingest": {"service": {"dist": "exponential", "rate": 2.0}},
    ...         "store": {"servers": 2, "service": {"dist": "exponential", "rate": 1.0}},
    ...     },
    ...     "arrivals": {"process": "poisson", "rate": 1.0},
    ...     "routing": [[0, 0.5], [0, 0]],
    ... })
    >>> faster = replace_value(base, "arrivals.rate", 1.5)
    >>> faster.classes[0].arrivals.rate
    1.5
    >>> float(replace_value(base, "routing.ingest.store", 0.8).classes[0].routing.matrix[0, 1])
    0.8
    >>> slower = replace_value(base, "stations.store.service.mean", 1.25)  # the file gave rate
    >>> slower.document.stations["store"].service.mean, slower.stations[1].service.mean
    (1.25, 1.25)
    >>> try:
    ...     replace_value(base, "arrivals.rat", 1.5)
    ... except ScenarioError as error:
    ...     print(error)
    param: 'arrivals.rat' is not a field: did you mean 'arrivals.rate'?
    >>> replace_value(base, "stations.store.servers", 1.5)
    Traceback (most recent call last):
    ...
    eda_sim.errors.ScenarioError: param: stations.store.servers must be a whole number, got 1.5
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shown = ".".join(part.strip() for part in path.split("."))
        raise path_fault(f"the value for {shown} must be a number, got {value!r}")
    raw = edited_document(scenario.document, {path: float(value)})
    return scenario_from_dict(
        raw, name=scenario.name, base_dir=scenario.base_dir, allow_unstable=allow_unstable
    )
