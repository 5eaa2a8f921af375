"""Theory for a whole scenario (layer 3): the best method per station, class and system.

:func:`solve` is the entry point (:mod:`.dispatch` explains its dispatch over the
situations a scenario can be in); :class:`ScenarioTheory` and
:class:`ClassTheory` are what it returns (:mod:`.figures`).
"""

from eda_sim.theory.families import exponential_rate
from eda_sim.theory.scenario.dispatch import solve
from eda_sim.theory.scenario.figures import ArticleValues, ClassTheory, ScenarioTheory

__all__ = ["ArticleValues", "ClassTheory", "ScenarioTheory", "is_exponential", "solve"]


def is_exponential(distribution: object) -> bool:
    """True when ``distribution`` is exactly exponential (decided by its family, not its SCV)."""
    from eda_sim import distributions as dists

    return (
        isinstance(distribution, dists.Distribution) and exponential_rate(distribution) is not None
    )
