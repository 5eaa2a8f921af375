"""One station at a time: the best formula for each station of a scenario.

Each station is solved on the rate the traffic equations with losses offer it,
by the first method that applies, in this order (exactness follows from the
distribution families and from the structure found in
:mod:`eda_sim.theory.scenario.inputs`, never from a moment):

=========================  ============================================  =================
station                    method                                        exact when
=========================  ============================================  =================
capacity = servers         Erlang B (M/G/c/c, insensitive)               Poisson input
capacity, M/M              M/M/c/K                                       Poisson input
capacity, one server       M/G/1/K by its embedded chain                 Poisson input
capacity, phase-type       CTMC of the station                           Poisson input
M/M, unlimited             M/M/1, M/M/c (Erlang C)                       Poisson or product
one server, unlimited      M/G/1 Pollaczek-Khinchine (M/D/1)             Poisson input
renewal gaps, M service    GI/M/1, GI/M/c (root σ), Bernoulli feedback   one renewal stream
phase-type, c servers      CTMC of the station (truncated, tail bound)   Poisson input
priorities, one server     Cobham's M/G/1 priority formula               Poisson input
priorities, M/M, one rate  M/M/c priority formula                        Poisson input
priorities otherwise       CTMC of the station                           Poisson, phase-type
otherwise                  Allen-Cunneen, Kingman with QNA's ca²         never
=========================  ============================================  =================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from eda_sim import distributions as dists
from eda_sim.theory.families import mixture_exponential_rate, phase_type
from eda_sim.theory.finite import MG1K_LIMIT, mg1k, mmck
from eda_sim.theory.general import ggc_allen_cunneen, md1, mg1
from eda_sim.theory.priority import mg1_priority, mmc_priority
from eda_sim.theory.renewal import GIMC_SERVER_LIMIT, gimc
from eda_sim.theory.results import StationTheory
from eda_sim.theory.scenario.inputs import ScenarioInputs, _mixture_arrivals
from eda_sim.theory.scenario.renewal_input import RenewalInput
from eda_sim.theory.single import _erlang_c, mm1, mmc

__all__ = ["StationSolution", "solve_station"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class StationSolution:
    """A station's figures and each class's mean wait there (NaN where unknown)."""

    figures: StationTheory
    class_wq: FloatArray  # (K,)
    class_blocked: FloatArray | None = None  # (K,) blocked time per visit
    classes_exact: bool = True  # False: class_wq approximates each class's wait


def _approx(figures: StationTheory, method: str, reason: str) -> StationTheory:
    return replace(figures, method=method, exact=False, reason=reason)


def _why_not_poisson(inputs: ScenarioInputs, j: int) -> str:
    if inputs.on_cycle[j]:
        return "its input is not Poisson (it lies on a routing cycle)"
    return "its input is not Poisson (it is fed by a station that does not pass Poisson traffic on)"


class _Station:
    """The quantities of one station that every branch uses."""

    def __init__(self, inputs: ScenarioInputs, j: int, ctmc: object) -> None:
        self.inputs, self.j, self.ctmc = inputs, j, ctmc
        self.rates = inputs.traffic.offered[:, j]
        self.lam = float(self.rates.sum())
        self.laws = inputs.laws_at(j)
        self.mean, self.scv = inputs.mixture(j)
        self.servers = inputs.scenario.stations[j].servers
        self.capacity = inputs.capacity[j]
        self.rate = mixture_exponential_rate(self.laws)
        self.poisson = bool(inputs.poisson_input[j])
        self.phases = all(phase_type(law) is not None for law in self.laws)

    def uniform(self, figures: StationTheory) -> StationSolution:
        return StationSolution(figures, np.full(len(self.rates), figures.Wq))

    def station_ctmc(self) -> StationSolution | str:
        """The station's own CTMC (Poisson input at the offered rates), or why not."""
        if not self.poisson:
            return f"CTMC not used: {_why_not_poisson(self.inputs, self.j)}"
        if not self.phases:
            return "CTMC not used: a service law here is not phase-type"
        solver = self.ctmc
        assert callable(solver)
        result = solver(self.inputs, self.j)
        return result if isinstance(result, StationSolution) else f"CTMC not used: {result}"


def _finite(st: _Station) -> StationSolution:
    """A station with a capacity (refusing when full)."""
    c, k, lam = st.servers, st.capacity, st.lam
    assert k is not None
    figures = mmck(lam, 1.0 / st.mean if st.rate is None else st.rate, c, k)
    if st.poisson and k == c:
        method = figures.method if st.rate is not None else "M/G/c/c (Erlang B, insensitive)"
        return st.uniform(replace(figures, method=method, exact=True))
    if st.poisson and st.rate is not None:
        return st.uniform(figures)
    if st.poisson and c == 1 and k <= MG1K_LIMIT and lam > 0:
        weights = st.rates[st.rates > 0] / lam
        return st.uniform(mg1k(lam, st.mean, _mixture_arrivals(st.laws, weights, lam, k), k))
    solved = st.station_ctmc()
    if isinstance(solved, StationSolution):
        return solved
    reason = solved
    if st.poisson and c == 1:
        reason = f"capacity {k} above the embedded chain's limit of {MG1K_LIMIT}; {solved}"
    elif not st.poisson:
        reason = f"{_why_not_poisson(st.inputs, st.j)}; {solved}"
    label = "M/M/c/K" if st.rate is not None else "M/M/c/K on mean service time"
    return st.uniform(_approx(figures, f"{label} (approx.)", reason))


def _gimc_with_feedback(
    visit_rate: float, service_rate: float, servers: int, renewal: RenewalInput
) -> StationTheory:
    """GI/M/c fed by ``renewal``, with its Bernoulli feedback folded in (exact).

    The number present is that of GI/M/c at the stream's rate with service rate
    ``μ(1 - f)`` (see :mod:`.renewal_input`); the waits are per visit, by Little's
    law at ``visit_rate``.
    """
    stay = 1.0 - renewal.feedback
    figures = gimc(visit_rate * stay, service_rate * stay, servers, renewal.gaps)
    if renewal.feedback == 0.0:
        return figures
    wq = figures.Lq / visit_rate
    method = figures.method.replace(" (root σ)", " with feedback (root σ)")
    return StationTheory.from_waits(
        visit_rate, wq, wq + 1.0 / service_rate, figures.utilization, method, exact=True
    )


def _unlimited(st: _Station, arrival_scv: FloatArray | None) -> StationSolution:
    """A station without a capacity (and one priority level)."""
    c, lam, j = st.servers, st.lam, st.j
    if st.rate is not None and (st.poisson or st.inputs.product_form[j]):
        return st.uniform(mm1(lam, st.rate) if c == 1 else mmc(lam, st.rate, c))
    if st.poisson and c == 1:
        deterministic = all(isinstance(law, dists.Deterministic) for law in st.laws)
        return st.uniform(md1(lam, st.mean) if deterministic else mg1(lam, st.mean, st.scv))
    renewal = st.inputs.renewal.get(j)
    if renewal is not None and st.rate is not None and c <= GIMC_SERVER_LIMIT:
        try:
            figures = _gimc_with_feedback(lam, st.rate, c, renewal)
            return StationSolution(
                figures, np.full(len(st.rates), figures.Wq), classes_exact=renewal.class_blind
            )
        except ValueError as error:
            reason = str(error)
    else:
        reason = ""
    solved = st.station_ctmc() if st.poisson else ""
    if isinstance(solved, StationSolution):
        return solved
    if st.poisson:
        figures = ggc_allen_cunneen(lam, st.mean, c, 1.0, st.scv)
        why = f"M/G/c with {c} servers has no closed form; {solved}"
        return st.uniform(_approx(figures, "M/G/c (Allen-Cunneen, approx.)", why))
    ca2 = 1.0 if arrival_scv is None else float(arrival_scv[j])
    if renewal is None:
        why = _why_not_poisson(st.inputs, j)
    else:
        why = reason or (
            f"renewal arrivals: GI/M/c is exact only for exponential service and up to "
            f"{GIMC_SERVER_LIMIT} servers"
        )
    wq = _erlang_c(c, lam * st.mean) * st.mean / (c * (1.0 - lam * st.mean / c))
    wq *= (ca2 + st.scv) / 2.0
    figures = StationTheory.from_waits(lam, wq, wq + st.mean, lam * st.mean / c, "", False)
    label = "QNA (Whitt 1983) + " + ("Kingman" if c == 1 else "Allen-Cunneen")
    return st.uniform(_approx(figures, label, why))


def _priority(st: _Station) -> StationSolution:
    """Classes of several priorities at one station (non-preemptive, FIFO within one)."""
    inputs, j = st.inputs, st.j
    classes = inputs.scenario.classes
    levels = inputs.levels_at(j)
    members = [
        [k for k in range(len(classes)) if classes[k].priority == level and st.rates[k] > 0]
        for level in levels
    ]
    level_rates = [float(st.rates[m].sum()) for m in members]
    mixed = []
    for m in members:
        weights = st.rates[m] / st.rates[m].sum()
        mean = float(weights @ inputs.means[m, j])
        second = float(weights @ (inputs.means[m, j] ** 2 * (1 + inputs.scvs[m, j])))
        mixed.append((mean, second / mean**2 - 1))
    if st.capacity is None and st.poisson and (st.servers == 1 or st.rate is not None):
        if st.servers == 1:
            result = mg1_priority(level_rates, [m for m, _ in mixed], [v for _, v in mixed])
        else:
            assert st.rate is not None
            result = mmc_priority(level_rates, st.rate, st.servers)
        waits = np.full(len(classes), math.nan)
        for level, group in zip(result.classes, members, strict=True):
            waits[group] = level.Wq
        return StationSolution(result.station, waits)
    solved = st.station_ctmc()
    if isinstance(solved, StationSolution):
        return solved
    fifo = _finite(st) if st.capacity is not None else _unlimited(st, None)
    if st.capacity is not None:
        return StationSolution(
            _approx(
                fifo.figures,
                f"{fifo.figures.method.removesuffix(' (approx.)')}, priorities ignored (approx.)",
                solved,
            ),
            np.full(len(classes), math.nan),
        )
    mean_rate = 1.0 / float(np.average([m for m, _ in mixed], weights=level_rates))
    result = (
        mg1_priority(level_rates, [m for m, _ in mixed], [v for _, v in mixed])
        if st.servers == 1
        else mmc_priority(level_rates, mean_rate, st.servers)
    )
    waits = np.full(len(classes), math.nan)
    for level, group in zip(result.classes, members, strict=True):
        waits[group] = level.Wq
    figures = _approx(result.station, f"{result.station.method} (approx.)", solved)
    return StationSolution(figures, waits)


def solve_station(
    inputs: ScenarioInputs, j: int, arrival_scv: FloatArray | None, ctmc: object
) -> StationSolution:
    """The best figures for station ``j`` (see the module's table).

    ``arrival_scv`` holds QNA's ``ca²`` per station (None when every station has
    Poisson input); ``ctmc(inputs, j)`` solves the station's own CTMC and returns a
    :class:`StationSolution` or the reason it could not.
    """
    st = _Station(inputs, j, ctmc)
    if st.lam <= 0.0:
        idle = StationTheory.from_waits(0.0, 0.0, st.mean, 0.0, "no arrivals", exact=True)
        return st.uniform(idle)
    if len(inputs.levels_at(j)) > 1:
        return _priority(st)
    if st.capacity is not None:
        return _finite(st)
    return _unlimited(st, arrival_scv)
