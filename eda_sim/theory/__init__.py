"""Queueing theory for eda-sim: pure formulas, no simulation.

Single stations (:mod:`.single`, :mod:`.finite`, :mod:`.general`, :mod:`.renewal`,
:mod:`.priority`), open networks (:mod:`.network`: Jackson; :mod:`.qna`: Whitt's
QNA), an exact numerical CTMC solver (:mod:`.ctmc`), the facts a distribution's
family gives (:mod:`.families`), whole scenarios (:mod:`.scenario`), and the source
article's two formulas (:mod:`.article`). Every result says which ``method``
produced it and whether it is ``exact``; every function raises
:class:`ValueError` naming the offending value, and
:class:`eda_sim.errors.UnstableError` (also a ValueError) for a load ``rho >= 1``
on an unlimited buffer.
"""

from __future__ import annotations

from eda_sim.theory.article import ARTICLE_NOTE, article_L, article_W
from eda_sim.theory.finite import mg1k, mm1k, mmck, mmck_state_probabilities
from eda_sim.theory.general import (
    best_station,
    gg1_kingman,
    ggc_allen_cunneen,
    md1,
    mek1,
    mg1,
)
from eda_sim.theory.network import jackson
from eda_sim.theory.priority import PriorityTheory, mg1_priority, mmc_priority
from eda_sim.theory.qna import qna
from eda_sim.theory.renewal import gim1, gimc
from eda_sim.theory.results import NetworkTheory, StationTheory, SystemTheory
from eda_sim.theory.single import (
    erlang_b,
    erlang_c,
    mm1,
    mm1_sojourn_cdf,
    mmc,
    mmc_wait_ccdf,
)
from eda_sim.theory.traffic import traffic_rates

__all__ = [
    "ARTICLE_NOTE",
    "NetworkTheory",
    "PriorityTheory",
    "StationTheory",
    "SystemTheory",
    "article_L",
    "article_W",
    "best_station",
    "erlang_b",
    "erlang_c",
    "gg1_kingman",
    "ggc_allen_cunneen",
    "gim1",
    "gimc",
    "jackson",
    "md1",
    "mek1",
    "mg1",
    "mg1_priority",
    "mg1k",
    "mm1",
    "mm1_sojourn_cdf",
    "mm1k",
    "mmc",
    "mmc_priority",
    "mmc_wait_ccdf",
    "mmck",
    "mmck_state_probabilities",
    "qna",
    "traffic_rates",
]
