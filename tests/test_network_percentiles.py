"""Exact percentiles inside a network CTMC: tagged first passages checked against other ways.

Every exact value is checked against one computed independently here:

* a tandem of two M/M/1 stations: end to end, the sum of two independent
  exponentials (Reich 1957: the sojourns of one event at the two stations are
  independent), and each station's M/M/1 laws — both by the chain that leaves
  out later events (a feed-forward tree) and by the full chain that keeps them;
* a blocking tandem (an M/M/1/K sender and a one-place blocking receiver),
  whose stationary chain and tagged-event chain are written out by hand below
  and evaluated with ``scipy.linalg.expm``;
* a fan-out journey (it ends with its last copy) against a closed form by one
  integral, derived in the test;
* a lossy feedback network (two M/M/1/2 stations, an event returning to the
  first with probability q): its stationary chain, the Palm law of the first
  station's arrivals (external and fed back) and the end-to-end chain with the
  tagged event's place in line, all by hand, conditioned on not being lost;
* and a seeded simulation of the shipped blocking scenario.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.linalg import expm, null_space
from scipy.optimize import brentq
from scipy.special import gammaincc
from validation_support import Check, assert_inside, simulate

from eda_sim.scenario import load_scenario, scenario_from_dict
from eda_sim.stats.sketch import RELATIVE_ACCURACY
from eda_sim.theory.percentiles import network_passage
from eda_sim.theory.percentiles.laws import TimeLaw
from eda_sim.theory.percentiles.network_chain import tagged_network
from eda_sim.theory.percentiles.network_passage import journey_laws, station_passage
from eda_sim.theory.percentiles.scenario import latency_theory
from eda_sim.theory.scenario.inputs import scenario_inputs

EXP = "exponential"
TIMES = (0.05, 0.3, 1.0, 2.5, 6.0, 15.0)
LEVELS = (0.5, 0.9, 0.99, 0.999)


def exponential(rate: float) -> dict[str, Any]:
    return {"dist": EXP, "rate": rate}


def quantile_of(ccdf: Callable[[float], float], level: float) -> float:
    """The p-quantile of an independent CCDF by Brent's method (continuous part)."""
    return float(brentq(lambda t: ccdf(t) - (1.0 - level), 1e-12, 1e4, xtol=1e-15, rtol=1e-15))


def assert_law(law: TimeLaw, ccdf: Callable[[float], float], atom: float = 0.0) -> None:
    """The law's CCDF and quantiles against ``ccdf``: 1e-9 (absolute, relative)."""
    for t in TIMES:
        assert law.ccdf(t) == pytest.approx(ccdf(t), rel=1e-9, abs=1e-12), t
    for level in LEVELS:
        found = law.quantile(level)
        assert found.exact, level
        if 1.0 - level >= 1.0 - atom:
            assert found.value == 0.0
            continue
        assert found.value == pytest.approx(quantile_of(ccdf, level), rel=1e-9), level


# ---------------------------------------------------------------- a tandem of two M/M/1


def tandem(lam: float, mu1: float, mu2: float) -> dict[str, Any]:
    return {
        "stations": {"a": {"service": exponential(mu1)}, "b": {"service": exponential(mu2)}},
        "arrivals": {"process": "poisson", "rate": lam, "to": "a"},
        "routing": {"a": {"b": 1.0}},
    }


@pytest.mark.parametrize("tree", [True, False], ids=["later events left out", "full chain"])
def test_a_tandem_of_two_mm1_is_the_sum_of_two_exponentials(
    tree: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    lam, mu1, mu2 = 0.5, 2.0, 2.5
    if not tree:  # keep every later event in the chain (what a network with overtaking needs)
        monkeypatch.setattr(network_passage, "closed_reach", lambda tagged, start: None)
    tagged = tagged_network(scenario_inputs(scenario_from_dict(tandem(lam, mu1, mu2))), [0, 1])
    assert not isinstance(tagged, str), tagged
    journeys = journey_laws(tagged, [0])
    assert not isinstance(journeys, str), journeys
    law, share = journeys[0]
    a, b = mu1 - lam, mu2 - lam
    assert share == pytest.approx(1.0, abs=1e-12)
    assert law.mean == pytest.approx(1 / a + 1 / b, rel=1e-9)
    assert_law(law, lambda t: (b * math.exp(-a * t) - a * math.exp(-b * t)) / (b - a))
    for j, (mu, gap) in enumerate(((mu1, a), (mu2, b))):
        found = station_passage(tagged, j)
        assert not isinstance(found, str), found
        wait, visit, _ = found
        rho = lam / mu
        assert_law(visit, lambda t, g=gap: math.exp(-g * t))
        assert_law(wait, lambda t, g=gap, r=rho: r * math.exp(-g * t), atom=1 - rho)
        assert visit.method.startswith("CTMC first passage (")


# ------------------------------------------------- a blocking tandem, every chain by hand

LAM, MU1, MU2, K = 0.9, 1.6, 1.1, 3


def blocking_document() -> dict[str, Any]:
    return {
        "stations": {
            "a": {"service": exponential(MU1), "capacity": K},
            "b": {"service": exponential(MU2), "capacity": 1, "on_full": "block"},
        },
        "arrivals": {"process": "poisson", "rate": LAM, "to": "a"},
        "routing": {"a": {"b": 1.0}},
    }


def blocking_stationary() -> dict[tuple[int, int, int], float]:
    """``π(n, s, m)``: n events at a (its head serving s=0 or blocked s=1), m at b."""
    states = [(0, 0, 0), (0, 0, 1)] + [
        (n, s, m) for n in range(1, K + 1) for m in (0, 1) for s in (0, 1) if s <= m
    ]
    where = {x: i for i, x in enumerate(states)}
    q = np.zeros((len(states), len(states)))

    def add(x: tuple[int, int, int], y: tuple[int, int, int], rate: float) -> None:
        q[where[x], where[y]] += rate

    for n, s, m in states:
        if n < K:  # an arrival joins a (the head starts when a was empty)
            add((n, s, m), (n + 1, s, m), LAM)
        if n >= 1 and s == 0:  # the head at a completes
            if m == 0:
                add((n, s, m), (n - 1, 0, 1), MU1)
            else:
                add((n, s, m), (n, 1, 1), MU1)
        if m == 1:  # b completes: a blocked head moves in, else b empties
            if s == 1:
                add((n, s, m), (n - 1, 0, 1), MU2)
            else:
                add((n, s, m), (n, 0, 0), MU2)
    np.fill_diagonal(q, -q.sum(axis=1))
    pi = null_space(q.T)[:, 0]
    pi = pi / pi.sum()
    return {x: float(pi[where[x]]) for x in states}


def blocking_passages() -> dict[str, Callable[[float], float]]:
    """The tagged event's chain by hand: ``(h ahead at a, s, m)``, then its service at b.

    Later arrivals stay behind it (one server, FIFO) and cannot matter.
    Returns ``P(X > t)`` of its wait at a, its time at a and its journey.
    """
    pi = blocking_stationary()
    states = [(h, s, m) for h in range(K) for m in (0, 1) for s in (0, 1) if s <= m]
    where = {x: i for i, x in enumerate(states)}
    size = len(states)
    into_b = size  # the tag enters b (its visit at a ends), then Exp(μ2)
    done = size + 1
    q = np.zeros((size + 2, size + 2))
    for h, s, m in states:
        i = where[(h, s, m)]
        if s == 0:  # the head (maybe the tag) completes at a
            if m == 0:
                q[i, where[(h - 1, 0, 1)] if h >= 1 else into_b] += MU1
            else:
                q[i, where[(h, 1, 1)]] += MU1
        if m == 1:
            if s == 1:
                q[i, where[(h - 1, 0, 1)] if h >= 1 else into_b] += MU2
            else:
                q[i, where[(h, 0, 0)]] += MU2
    q[into_b, done] = MU2
    np.fill_diagonal(q, -q.sum(axis=1))
    admitted = {x: p for x, p in pi.items() if x[0] < K}
    total = sum(admitted.values())
    beta = np.zeros(size + 2)
    for (n, s, m), p in admitted.items():
        beta[where[(n, s, m)] if n >= 1 else where[(0, 0, m)]] += p / total
    waiting = [where[x] for x in states if x[0] >= 1]

    def row(t: float) -> Any:
        return beta @ expm(q * t)

    return {
        "Wq": lambda t: float(row(t)[waiting].sum()),
        "W": lambda t: float(row(t)[:size].sum()),
        "journey": lambda t: float(row(t)[: size + 1].sum()),
    }


def test_a_blocking_tandem_against_a_hand_built_chain() -> None:
    theory = latency_theory(scenario_from_dict(blocking_document()))
    hand = blocking_passages()
    wait, visit = theory.laws[("station", "a", "Wq")], theory.laws[("station", "a", "W")]
    assert visit.method.startswith("CTMC first passage (")
    immediate = 1.0 - hand["Wq"](0.0)
    assert_law(wait, hand["Wq"], atom=immediate)
    assert_law(visit, hand["W"])
    assert_law(theory.laws[("system", "system", "W")], hand["journey"])
    # b has one place: whoever enters it is served at once
    assert_law(theory.laws[("station", "b", "W")], lambda t: math.exp(-MU2 * t))
    entry = theory.to_dict((0.99,))["stations"]["a"]["W_p99"]
    assert entry["exact"] is True and entry["method"].startswith("CTMC first passage")


# ------------------------------------------ a lossy network with feedback, by hand

LAM_F, MU_A, MU_B, Q, CAP = 0.8, 1.5, 1.2, 0.3, 2


def feedback_document() -> dict[str, Any]:
    return {
        "stations": {
            "a": {"service": exponential(MU_A), "capacity": CAP},
            "b": {"service": exponential(MU_B), "capacity": CAP},
        },
        "arrivals": {"process": "poisson", "rate": LAM_F, "to": "a"},
        "routing": {"a": {"b": 1.0}, "b": {"a": Q}},
    }


def feedback_stationary() -> dict[tuple[int, int], float]:
    """``π(n_a, n_b)``; a full station refuses (the event is lost)."""
    states = list(itertools.product(range(CAP + 1), repeat=2))
    where = {x: i for i, x in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for na, nb in states:
        i = where[(na, nb)]
        if na < CAP:
            q[i, where[(na + 1, nb)]] += LAM_F
        if na >= 1:  # to b, or lost when b is full
            q[i, where[(na - 1, min(nb + 1, CAP))]] += MU_A
        if nb >= 1:  # back to a (or lost when a is full), or out
            q[i, where[(min(na + 1, CAP), nb - 1)]] += Q * MU_B
            q[i, where[(na, nb - 1)]] += (1 - Q) * MU_B
    np.fill_diagonal(q, 0.0)
    np.fill_diagonal(q, -q.sum(axis=1))
    pi = null_space(q.T)[:, 0]
    return {x: float(p) for x, p in zip(states, pi / pi.sum(), strict=True)}


def feedback_journey() -> tuple[Callable[[float], float], float]:
    """End to end given not lost, from the chain ``(n_a, n_b, station of the tag, place)``.

    Place 1 is in service; events behind the tagged one are kept (with
    feedback they can get ahead of it again). Returns the CCDF and P(done).
    """
    pi = feedback_stationary()
    states = [
        (na, nb, at, place)
        for na in range(CAP + 1)
        for nb in range(CAP + 1)
        for at, count in (("a", na), ("b", nb))
        for place in range(1, count + 1)
    ]
    where = {x: i for i, x in enumerate(states)}
    done, lost = len(states), len(states) + 1
    q = np.zeros((len(states) + 2, len(states) + 2))

    def join(na: int, nb: int, at: str, place: int, to: str) -> int:
        """The tagged event (its place is 1) moves on ``to`` a station (or is lost)."""
        if to == "a":
            return where[(na + 1, nb - 1, "a", na + 1)] if na < CAP else lost
        return where[(na - 1, nb + 1, "b", nb + 1)] if nb < CAP else lost

    for na, nb, at, place in states:
        i = where[(na, nb, at, place)]
        if na < CAP:  # an arrival, behind everyone at a
            q[i, where[(na + 1, nb, at, place)]] += LAM_F
        if na >= 1:  # a completes its head
            if at == "a" and place == 1:
                q[i, join(na, nb, at, place, "b")] += MU_A
            else:
                shift = place - 1 if at == "a" else place
                nb2 = min(nb + 1, CAP)
                q[i, where[(na - 1, nb2, at, shift)]] += MU_A
        if nb >= 1:  # b completes its head: back to a with probability Q, else out
            if at == "b" and place == 1:
                q[i, join(na, nb, at, place, "a")] += Q * MU_B
                q[i, done] += (1 - Q) * MU_B
            else:
                shift = place - 1 if at == "b" else place
                q[i, where[(min(na + 1, CAP), nb - 1, at, shift)]] += Q * MU_B
                q[i, where[(na, nb - 1, at, shift)]] += (1 - Q) * MU_B
    np.fill_diagonal(q, 0.0)
    np.fill_diagonal(q, -q.sum(axis=1))
    admitted = {x: p for x, p in pi.items() if x[0] < CAP}
    total = sum(admitted.values())
    beta = np.zeros(len(states) + 2)
    for (na, nb), p in admitted.items():
        beta[where[(na + 1, nb, "a", na + 1)]] += p / total
    ended = float((beta @ expm(q * 1e4))[done])

    def ccdf(t: float) -> float:
        return 1.0 - float((beta @ expm(q * t))[done]) / ended

    return ccdf, ended


def feedback_visit_at_a() -> Callable[[float], float]:
    """W at a: Erlang(n + 1, μ_a) given n found, n from the Palm law of a's arrivals.

    An arrival at a is external (rate λ, any state) or fed back by a completion at b
    (rate q μ_b when b is busy); it is admitted when fewer than CAP are at a.
    """
    pi = feedback_stationary()
    palm = np.zeros(CAP)
    for (na, nb), p in pi.items():
        if na < CAP:
            palm[na] += p * (LAM_F + (Q * MU_B if nb >= 1 else 0.0))
    palm /= palm.sum()
    return lambda t: float(sum(p * gammaincc(n + 1, MU_A * t) for n, p in enumerate(palm)))


def test_a_lossy_feedback_network_against_hand_built_chains() -> None:
    scenario = scenario_from_dict(feedback_document())
    theory = latency_theory(scenario)
    ccdf, ended = feedback_journey()
    assert_law(theory.laws[("system", "system", "W")], ccdf)
    assert_law(theory.laws[("station", "a", "W")], feedback_visit_at_a())
    tagged = tagged_network(scenario_inputs(scenario), [0, 1])
    assert not isinstance(tagged, str)
    journeys = journey_laws(tagged, [0])
    assert not isinstance(journeys, str)
    admitted = sum(p for (na, _), p in feedback_stationary().items() if na < CAP)
    assert journeys[0][1] == pytest.approx(admitted * ended, rel=1e-9)


# ------------------------------------------ fan-out: a journey ends with its last copy

MU_F, MU_L, MU_R, LAM_O = 2.0, 1.0, 1.5, 0.7


def fanout_document() -> dict[str, Any]:
    one = {"capacity": 1}
    return {
        "stations": {
            "a": {"service": exponential(MU_F), **one},
            "b": {"service": exponential(MU_L), **one},
            "c": {"service": exponential(MU_R), **one},
        },
        "arrivals": {"process": "poisson", "rate": LAM_O, "to": "a"},
        "routing": {"a": {"fanout": ["b", "c"]}},
    }


def fanout_journey() -> tuple[Callable[[float], float], float, float]:
    """End to end given no lost copy, by one integral over the time A at a.

    Everyone is alone where they are (capacity 1). Admitted at a (PASTA: a
    empty, b and c as found), the tagged event stays A ~ Exp(μ_a); meanwhile
    nothing reaches b or c (a holds it), so each empties at its own rate, and
    both copies are admitted iff both are empty at A; then the copies take
    max(Exp(μ_b), Exp(μ_c)), independent of the past. Returns the CCDF given
    done, P(done | admitted) and P(admitted).
    """
    states = list(itertools.product((0, 1), repeat=3))
    where = {x: i for i, x in enumerate(states)}
    q = np.zeros((8, 8))
    for na, nb, nc in states:
        i = where[(na, nb, nc)]
        if na == 0:
            q[i, where[(1, nb, nc)]] += LAM_O
        else:  # a completes: its copies go to b and c (each lost if full)
            q[i, where[(0, 1, 1)]] += MU_F
        if nb:
            q[i, where[(na, 0, nc)]] += MU_L
        if nc:
            q[i, where[(na, nb, 0)]] += MU_R
    np.fill_diagonal(q, 0.0)
    np.fill_diagonal(q, -q.sum(axis=1))
    pi = null_space(q.T)[:, 0]
    pi = pi / pi.sum()
    found = {(nb, nc): float(pi[where[(0, nb, nc)]]) for nb in (0, 1) for nc in (0, 1)}
    admitted = sum(found.values())

    def empty(s: float, nb: int, nc: int) -> float:
        return (1 - math.exp(-MU_L * s) if nb else 1.0) * (1 - math.exp(-MU_R * s) if nc else 1.0)

    def longest(u: float) -> float:  # P(max(Exp(μ_b), Exp(μ_c)) > u)
        return math.exp(-MU_L * u) + math.exp(-MU_R * u) - math.exp(-(MU_L + MU_R) * u)

    def joint(t: float) -> float:  # P(T > t, done | admitted)
        total = 0.0
        for (nb, nc), p in found.items():

            def before(s: float, nb: int = nb, nc: int = nc) -> float:
                return MU_F * math.exp(-MU_F * s) * empty(s, nb, nc) * longest(t - s)

            def after(s: float, nb: int = nb, nc: int = nc) -> float:
                return MU_F * math.exp(-MU_F * s) * empty(s, nb, nc)

            parts = quad(before, 0, t, epsabs=1e-15, epsrel=1e-13)[0]
            parts += quad(after, t, np.inf, epsabs=1e-15, epsrel=1e-13)[0]
            total += p / admitted * parts
        return total

    done = joint(0.0)
    return (lambda t: joint(t) / done), done, admitted


def test_a_fan_out_journey_ends_with_its_last_copy() -> None:
    scenario = scenario_from_dict(fanout_document())
    ccdf, done, admitted = fanout_journey()
    theory = latency_theory(scenario)
    assert_law(theory.laws[("system", "system", "W")], ccdf)
    tagged = tagged_network(scenario_inputs(scenario), [0, 1, 2])
    assert not isinstance(tagged, str)
    journeys = journey_laws(tagged, [0])
    assert not isinstance(journeys, str)
    assert journeys[0][1] == pytest.approx(admitted * done, rel=1e-9)


# ------------------------------ one station: the network chain against the station chain


@pytest.mark.parametrize(
    "document",
    [
        {  # two priority levels, class-dependent service, a capacity
            "stations": {"a": {"service": exponential(1.0), "capacity": 5}},
            "classes": {
                "urgent": {"arrivals": {"process": "poisson", "rate": 0.3, "to": "a"},
                           "priority": 0, "service": {"a": exponential(1.6)}, "routing": {}},
                "bulk": {"arrivals": {"process": "poisson", "rate": 0.5, "to": "a"},
                         "priority": 1, "service": {"a": exponential(0.9)}, "routing": {}},
            },
        },
        {  # M/E2/2/6
            "stations": {"a": {"servers": 2, "capacity": 6,
                               "service": {"dist": "erlang", "k": 2, "mean": 1.0}}},
            "arrivals": {"process": "poisson", "rate": 1.5},
        },
    ],
    ids=["priorities with a capacity", "M/E2/2/6"],
)  # fmt: skip
def test_one_station_by_the_network_chain_and_by_its_own_chain(document: dict[str, Any]) -> None:
    """Two independent constructions of one station's laws (the station chain's tagged
    waits are checked against hand-built chains in tests/test_ctmc_percentiles.py)."""
    from eda_sim.theory.percentiles.ctmc_station import CtmcLaws, ctmc_station_laws

    inputs = scenario_inputs(scenario_from_dict(document))
    own = ctmc_station_laws(inputs, 0)
    assert isinstance(own, CtmcLaws), own
    tagged = tagged_network(inputs, [0])
    assert not isinstance(tagged, str), tagged
    found = station_passage(tagged, 0)
    assert not isinstance(found, str), found
    wait, visit, _ = found
    immediate = 1.0 - own.wait.ccdf(0.0)
    assert_law(wait, own.wait.ccdf, atom=immediate)
    assert_law(visit, own.visit.ccdf)
    classes = list(range(len(inputs.scenario.classes)))
    journeys = journey_laws(tagged, classes)
    assert not isinstance(journeys, str), journeys
    for k in classes:
        assert_law(journeys[k][0], own.classes[k].ccdf)
        assert journeys[k][1] == pytest.approx(own.admitted, rel=1e-9)


# ------------------------------------------------------------- wiring and refusals


def test_the_shipped_blocking_pair_gets_exact_percentiles() -> None:
    theory = latency_theory(load_scenario("scenarios/sync_vs_async.yaml"))
    for scope, name in (("station", "caller_block"), ("station", "handler_block")):
        for base in ("W", "Wq"):
            _, method, exact = theory.quantile(scope, name, base, 0.99)
            assert exact and method.startswith("CTMC first passage ("), (name, base, method)
    journey, method, exact = theory.quantile("class", "sync_blocking", "W", 0.99)
    assert exact and method.startswith("CTMC first passage (")
    assert journey > theory.quantile("station", "caller_block", "W", 0.99)[0]
    # the laws' means are the theory's exact means (Little's law over the network CTMC)
    from eda_sim.theory.scenario import solve

    means = solve(load_scenario("scenarios/sync_vs_async.yaml"))
    law = theory.laws[("class", "sync_blocking", "W")]
    assert law.mean == pytest.approx(means.classes["sync_blocking"].W, rel=1e-9)
    assert theory.laws[("system", "system", "W")].mean == pytest.approx(means.system.W, rel=1e-9)


def test_what_the_network_chain_cannot_take_keeps_its_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    document = blocking_document()
    document["stations"]["a"]["service"] = {"dist": "lognormal", "mean": 0.6, "cv": 1.2}
    theory = latency_theory(scenario_from_dict(document))
    reason = theory.reasons[("station", "a")]
    assert "network CTMC first passage not used" in reason and "not phase-type" in reason
    from eda_sim.theory.percentiles import tagged

    monkeypatch.setattr(tagged, "PASSAGE_LIMIT", 3)
    theory = latency_theory(scenario_from_dict(blocking_document()))
    assert "more than 3 states" in theory.reasons[("station", "a")]
    value, method, exact = theory.quantile("station", "a", "W", 0.99)
    assert math.isnan(value) and not exact and method.startswith("unavailable")
    monkeypatch.setattr(tagged, "PASSAGE_LIMIT", 200_000)
    document = blocking_document()
    document["routing"] = {"a": {"b": 0.5, "a": 0.2}}
    theory = latency_theory(scenario_from_dict(document))
    assert "return to a at once" in theory.reasons[("station", "a")]


# ------------------------------------------------------------------------- validation


def test_the_blocking_pair_agrees_with_simulation() -> None:
    """Validation: caller_block's W and Wq and the class's end to end, Bonferroni at 1% / 6.

    Each interval is widened by the sketch's stated bound on its own bias
    (α = 1/257 of the value), as in tests/test_percentile_theory_scenarios.py.
    """
    document = {
        "stations": {
            "caller": {"service": exponential(2.0)},
            "handler": {"service": exponential(1.25), "capacity": 1, "on_full": "block"},
        },
        "arrivals": {"process": "poisson", "rate": 0.8, "to": "caller"},
        "routing": {"caller": {"handler": 1.0}},
        "run": {"quantiles": [0.5, 0.9]},
    }
    result = simulate(document, horizon=40_000.0, seed=53)
    checks = []
    for scope, name, metric in (
        ("station", "caller", "W_p50"),
        ("station", "caller", "W_p90"),
        ("station", "caller", "Wq_p90"),
        ("station", "handler", "W_p90"),
        ("system", "system", "W_p50"),
        ("system", "system", "W_p90"),
    ):
        exact, method, known = result.theory_value(scope, name, metric)
        assert known and method.startswith("CTMC first passage"), (name, metric, method)
        values = [
            rep.stations[name].metric(metric) if scope == "station" else rep.system.metric(metric)
            for rep in result.replication_results
        ]
        checks.append(Check(f"{name} {metric}", values, {"exact": exact}))
    assert_inside(checks, relative_slack=RELATIVE_ACCURACY)


# ------------------------------------------------------------------ the search in parts


def test_a_search_level_expanded_in_parts_gives_the_same_laws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parts only renumber the states: every law is the same (to solver rounding)."""
    from eda_sim.theory.percentiles import network_chain

    whole = latency_theory(load_scenario("scenarios/sync_vs_async.yaml"))
    monkeypatch.setattr(network_chain, "EXPAND_ROWS", 1)
    parts = latency_theory(load_scenario("scenarios/sync_vs_async.yaml"))
    exact = [key for key in whole.laws if whole.quantile(*key, 0.99)[2]]
    assert len(exact) >= 3
    for key in exact:
        for level in (0.5, 0.99):
            assert parts.quantile(*key, level)[0] == pytest.approx(
                whole.quantile(*key, level)[0], rel=1e-9
            ), (key, level)


def test_a_refused_search_numbers_at_most_one_part_beyond_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The limit is checked after each part of a level, not once the level is whole.

    With capacities of 5 the journey's search starts from 30 states and its first
    level adds 29 more: in parts of one state, the refusal at 35 states comes with
    at most one state's moves (an arrival, a service at a, one at b to a or out)
    beyond the limit, where a whole level would have numbered 59.
    """
    from eda_sim.theory.percentiles import network_chain, tagged

    numbered: list[int] = []
    intern = network_chain.intern_states

    def counted(index: dict[bytes, int], unique: Any) -> Any:
        answer = intern(index, unique)
        numbered.append(len(index))
        return answer

    document = feedback_document()
    for station in document["stations"].values():
        station["capacity"] = 5
    network = tagged_network(scenario_inputs(scenario_from_dict(document)), [0, 1])
    assert not isinstance(network, str)
    monkeypatch.setattr(network_chain, "intern_states", counted)
    monkeypatch.setattr(network_chain, "EXPAND_ROWS", 1)
    monkeypatch.setattr(tagged, "PASSAGE_LIMIT", 35)
    refusal = journey_laws(network, [0])
    assert refusal == "class events: the first-passage chain has more than 35 states"
    assert numbered and max(numbered) <= 35 + 4
