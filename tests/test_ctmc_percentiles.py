"""Exact percentiles from the CTMC solver: a tagged event's first passage at one station.

Every exact value is checked against one computed independently here: closed
forms written out in the test (M/M/c, and M/M/c/K as a mixture of Erlangs
derived below), the M/G/1 Abate–Whitt inversion of the Pollaczek–Khinchine
transform (M/E_3/1, M/H_2/1), and a priority M/M/1 (with and without a
capacity) whose stationary chain and tagged-event chain are built by hand
here, on their own states, and evaluated with ``scipy.sparse.linalg.expm_multiply``.
A validation test checks a priority station with a capacity against simulation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.sparse import csr_matrix, lil_matrix
from scipy.sparse.linalg import expm_multiply, spsolve
from scipy.special import gammaincc
from validation_support import Check, assert_inside, simulate

from eda_sim.scenario import scenario_from_dict
from eda_sim.stats.sketch import RELATIVE_ACCURACY
from eda_sim.theory.percentiles import mg1_sojourn, mg1_wait, tagged
from eda_sim.theory.percentiles import passage as passage_module
from eda_sim.theory.percentiles.ctmc_station import CtmcLaws, ctmc_station_laws
from eda_sim.theory.percentiles.scenario import latency_theory
from eda_sim.theory.scenario.inputs import scenario_inputs

LEVELS = (0.5, 0.9, 0.99, 0.999)


def one_station(service: dict[str, Any], rate: float, **station: Any) -> dict[str, Any]:
    return {
        "stations": {"a": {"service": service, **station}},
        "arrivals": {"process": "poisson", "rate": rate},
    }


def laws_of(document: dict[str, Any]) -> CtmcLaws:
    laws = ctmc_station_laws(scenario_inputs(scenario_from_dict(document)), 0)
    assert isinstance(laws, CtmcLaws), laws
    return laws


def quantile_of(ccdf: Any, level: float, low: float = 1e-12, high: float = 1e4) -> float:
    """The p-quantile of an independent CCDF by Brent's method (continuous part)."""
    return float(brentq(lambda t: ccdf(t) - (1.0 - level), low, high, xtol=1e-14, rtol=1e-14))


def assert_quantiles(law: Any, ccdf: Any, atom: float = 0.0) -> None:
    for level in LEVELS:
        found = law.quantile(level)
        assert found.exact
        if 1.0 - level >= 1.0 - atom:  # the atom at 0 reaches the level
            assert found.value == 0.0
            continue
        assert found.value == pytest.approx(quantile_of(ccdf, level), rel=1e-6), level


def erlang_c(servers: int, load: float) -> float:
    terms = [load**n / math.factorial(n) for n in range(servers)]
    last = load**servers / math.factorial(servers) * servers / (servers - load)
    return last / (sum(terms) + last)


def test_mmc_against_the_erlang_c_closed_form() -> None:
    lam, mu, c = 2.2, 1.0, 3
    laws = laws_of(one_station({"dist": "exponential", "rate": mu}, lam, servers=c))
    waits = erlang_c(c, lam / mu)
    gap = c * mu - lam

    def visit(t: float) -> float:  # (1 − C) Exp(μ) + C (Exp(cμ − λ) + Exp(μ))
        both = (gap * math.exp(-mu * t) - mu * math.exp(-gap * t)) / (gap - mu)
        return (1 - waits) * math.exp(-mu * t) + waits * both

    assert_quantiles(laws.wait, lambda t: waits * math.exp(-gap * t), atom=1 - waits)
    assert_quantiles(laws.visit, visit)
    assert laws.wait.method.startswith("CTMC first passage (")


def test_mmck_wait_given_admission_is_a_mixture_of_erlangs() -> None:
    """M/M/c/K: derived here. An admitted arrival finds n < K with q_n = p_n / (1 − p_K)
    (PASTA); with n >= c it waits for n − c + 1 completions at rate cμ, an
    Erlang(n − c + 1, cμ) time, so P(Wq > t) = Σ_{n>=c} q_n Q(n − c + 1, cμt); its visit
    adds an independent Exp(μ), P(E + X > t) = P(E > t) + ∫_0^t f_E(x) e^{−μ(t − x)} dx.
    """
    lam, mu, c, k = 2.5, 1.0, 2, 7
    laws = laws_of(one_station({"dist": "exponential", "rate": mu}, lam, servers=c, capacity=k))
    weights = [
        (lam / mu) ** n / math.factorial(min(n, c)) / c ** max(n - c, 0) for n in range(k + 1)
    ]
    found = np.array(weights[:k]) / sum(weights[:k])  # p_n / (1 − p_K), n < K
    rate = c * mu

    def wait(t: float) -> float:
        return sum(found[n] * gammaincc(n - c + 1, rate * t) for n in range(c, k))

    def erlang_density(x: float, stages: int) -> float:
        return rate**stages * x ** (stages - 1) * math.exp(-rate * x) / math.factorial(stages - 1)

    def visit(t: float) -> float:
        value = found[:c].sum() * math.exp(-mu * t)
        for n in range(c, k):
            s = n - c + 1
            inner = quad(lambda x, s=s: erlang_density(x, s) * math.exp(-mu * (t - x)), 0, t,
                         epsabs=1e-14, epsrel=1e-12)[0]  # fmt: skip
            value += found[n] * (gammaincc(s, rate * t) + inner)
        return value

    assert_quantiles(laws.wait, wait, atom=float(found[:c].sum()))
    assert_quantiles(laws.visit, visit)


@pytest.mark.parametrize(
    "service",
    [
        {"dist": "erlang", "k": 3, "mean": 1.0},
        {"dist": "hyperexponential", "mean": 1.0, "cv": 2.0},
    ],
    ids=["M/E3/1", "M/H2/1"],
)
def test_mph1_against_the_pollaczek_khinchine_inversion(service: dict[str, Any]) -> None:
    lam = 0.7
    laws = laws_of(one_station(service, lam))
    document = one_station(service, lam)
    law = scenario_from_dict(document).stations[0].service
    inverted = (mg1_wait(lam, [law], [lam]), mg1_sojourn(lam, [law], [lam]))
    for level in LEVELS:
        for mine, theirs in zip((laws.wait, laws.visit), inverted, strict=True):
            found, expected = mine.quantile(level), theirs.quantile(level)
            assert found.exact and expected.exact
            assert found.value == pytest.approx(expected.value, rel=1e-6)


# --------------------------------------------------------------------- priority M/M/1 by hand

LAM = (0.3, 0.25)  # arrival rates of the classes, most important first
MU = (2.0, 1.0)  # their exponential service rates (load 0.4)
DEEP = 60  # truncation of each waiting line in the hand-built chains (0.5 ** 60 ~ 1e-18)


def priority_document(capacity: int | None) -> dict[str, Any]:
    station: dict[str, Any] = {"service": {"dist": "exponential", "rate": 1.0}}
    if capacity is not None:
        station["capacity"] = capacity
    classes = {
        name: {
            "arrivals": {"process": "poisson", "rate": LAM[i]},
            "priority": i,
            "service": {"a": {"dist": "exponential", "rate": MU[i]}},
            "routing": {},
        }
        for i, name in enumerate(("urgent", "bulk"))
    }
    for c in classes.values():
        c["arrivals"]["to"] = "a"
    return {"stations": {"a": station}, "classes": classes}


def hand_stationary(capacity: int | None) -> dict[tuple[int, int, int], float]:
    """π over (urgent waiting, bulk waiting, in service: 0 idle / 1 urgent / 2 bulk)."""
    top = DEEP if capacity is None else capacity - 1
    states = [
        (h, b, s)
        for h in range(top + 1)
        for b in range(top + 1)
        for s in range(3)
        if (s > 0 or h + b == 0) and (capacity is None or h + b + (s > 0) <= capacity)
    ]
    index = {x: i for i, x in enumerate(states)}
    q = lil_matrix((len(states), len(states)))
    for (h, b, s), i in index.items():
        moves = []
        present = h + b + (s > 0)
        for cls, rate in enumerate(LAM):  # arrivals (refused when full or past the cut)
            if capacity is not None and present >= capacity:
                continue
            if s == 0:
                moves.append(((0, 0, cls + 1), rate))
            else:
                target = (h + 1, b, s) if cls == 0 else (h, b + 1, s)
                if target in index:
                    moves.append((target, rate))
        if s > 0:  # a completion: the urgent line first, then the bulk line
            done = MU[s - 1]
            nxt = (h - 1, b, 1) if h else (h, b - 1, 2) if b else (0, 0, 0)
            moves.append((nxt, done))
        for target, rate in moves:
            q[i, index[target]] += rate
            q[i, i] -= rate
    a = q.T.tocsr()
    a[0, :] = 1.0
    rhs = np.zeros(len(states))
    rhs[0] = 1.0
    pi = spsolve(csr_matrix(a), rhs)
    return {x: float(pi[i]) for x, i in index.items()}


def hand_tagged(capacity: int | None, cls: int) -> tuple[Any, Any]:
    """``t -> P(Wq > t)`` and ``t -> P(W > t)`` of a tagged admitted arrival of class ``cls``.

    Wait states: (urgent ahead, bulk ahead, behind, class in service); urgent arrivals
    overtake a tagged bulk event, everyone else only fills the station (behind).
    """
    pi = hand_stationary(capacity)
    cut = 2 * DEEP
    found = {x: p for x, p in pi.items()
             if capacity is None or x[0] + x[1] + (x[2] > 0) < capacity}  # fmt: skip
    total = sum(found.values())
    states, start = [], {}
    for (h, b, s), p in found.items():
        if s == 0:
            continue
        ahead_b = b if cls == 1 else 0
        behind = (b if cls == 0 else 0) if capacity is not None else 0
        key = (h, ahead_b, behind, s)
        start[key] = start.get(key, 0.0) + p / total
    limit_h = cut if capacity is None else capacity
    limit_o = 0 if capacity is None else capacity
    states = [(h, b, o, s) for h in range(limit_h + 1) for b in range(DEEP + 1)
              for o in range(limit_o + 1) for s in (1, 2)]  # fmt: skip
    index = {x: i for i, x in enumerate(states)}
    size = len(states) + 1  # + the tagged event's own service phase (for W)
    q = lil_matrix((size, size))
    for (h, b, o, s), i in index.items():
        present = 1 + h + b + o + 1
        if capacity is None or present < capacity:
            if cls == 1 and (h + 1, b, o, s) in index:
                q[i, index[(h + 1, b, o, s)]] += LAM[0]
                q[i, i] -= LAM[0]
            if capacity is not None:
                joins = LAM[1] + (LAM[0] if cls == 0 else 0.0)
                q[i, index[(h, b, o + 1, s)]] += joins
                q[i, i] -= joins
        done = MU[s - 1]
        if h:
            q[i, index[(h - 1, b, o, 1)]] += done
        elif b:
            q[i, index[(h, b - 1, o, 2)]] += done
        else:
            q[i, size - 1] += done  # the tagged event starts
        q[i, i] -= done
    q[size - 1, size - 1] = -MU[cls]
    generator = q.tocsr()
    beta = np.zeros(size)
    for key, p in start.items():
        beta[index[key]] += p
    immediate = 1.0 - beta.sum()

    def wait(t: float) -> float:
        sub = generator[: size - 1, : size - 1]
        return float(expm_multiply(sub.T * t, beta[: size - 1]).sum())

    def visit(t: float) -> float:
        begin = beta.copy()
        begin[-1] = immediate
        return float(expm_multiply(generator.T * t, begin).sum())

    return wait, visit


@pytest.mark.parametrize("capacity", [None, 6], ids=["unlimited", "capacity 6"])
def test_priority_mm1_against_a_hand_built_tagged_chain(capacity: int | None) -> None:
    laws = laws_of(priority_document(capacity))
    waits = []
    for cls in (0, 1):
        wait, visit = hand_tagged(capacity, cls)
        waits.append(wait)
        law = laws.classes[cls]
        assert law.method.startswith("CTMC first passage")
        for t in (0.2, 1.0, 4.0, 12.0):
            assert law.ccdf(t) == pytest.approx(visit(t), rel=1e-6, abs=1e-12), (cls, t)
        for level in (0.5, 0.95, 0.99):
            found = law.quantile(level)
            assert found.exact
            expected = quantile_of(visit, level, 0.9 * found.value, 1.1 * found.value)
            assert found.value == pytest.approx(expected, rel=1e-6)
    for t in (0.5, 2.0, 8.0):  # the station's wait: the classes mixed by rate
        mixed = (LAM[0] * waits[0](t) + LAM[1] * waits[1](t)) / sum(LAM)
        assert laws.wait.ccdf(t) == pytest.approx(mixed, rel=1e-6, abs=1e-12)


def test_a_priority_station_with_a_capacity_agrees_with_simulation() -> None:
    """Validation: station and class percentiles, Bonferroni at 1% over 8 checks.

    As in tests/test_percentile_theory_scenarios.py, each interval is widened by
    the sketch's stated bound on its own bias (α = 1/257 of the value).
    """
    document = priority_document(6)
    document["run"] = {"quantiles": [0.5, 0.9]}
    result = simulate(document, horizon=20_000.0, seed=41)
    checks = []
    for scope, name, metrics in (
        ("station", "a", ("W_p50", "W_p90", "Wq_p90")),
        ("class", "urgent", ("W_p50", "W_p90")),
        ("class", "bulk", ("W_p50", "W_p90")),
        ("system", "system", ("W_p90",)),
    ):
        for metric in metrics:
            exact, method, known = result.theory_value(scope, name, metric)
            assert known, (scope, name, metric, method)
            values = [
                rep.stations[name].metric(metric)
                if scope == "station"
                else rep.classes[name].metric(metric)
                if scope == "class"
                else rep.system.metric(metric)
                for rep in result.replication_results
            ]
            checks.append(Check(f"{name} {metric}", values, {"exact": exact}))
    assert_inside(checks, relative_slack=RELATIVE_ACCURACY)


# --------------------------------------------------------------------- wiring and refusals


def test_a_scenario_gets_the_first_passage_law_where_no_formula_applies() -> None:
    document = one_station({"dist": "erlang", "k": 2, "mean": 1.0}, 1.5, servers=2, capacity=8)
    theory = latency_theory(scenario_from_dict(document))
    value, method, exact = theory.quantile("station", "a", "W", 0.99)
    assert exact and value > 0 and method.startswith("CTMC first passage (")
    entry = theory.to_dict((0.99,))["stations"]["a"]["Wq_p99"]
    assert entry["exact"] is True and entry["method"].startswith("CTMC first passage")


def test_refusals_give_the_reason_and_never_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    document = priority_document(6)
    monkeypatch.setattr(tagged, "PASSAGE_LIMIT", 10)
    theory = latency_theory(scenario_from_dict(document))
    assert "first-passage chain would have" in theory.reasons[("station", "a")]
    value, method, exact = theory.quantile("station", "a", "W", 0.99)
    assert math.isnan(value) and not exact and "limit 10" in method
    monkeypatch.setattr(tagged, "PASSAGE_LIMIT", 200_000)
    monkeypatch.setattr(passage_module, "MAX_WORK", 10)
    theory = latency_theory(scenario_from_dict(document))
    assert "uniformised series" in theory.reasons[("station", "a")]


def test_models_the_first_passage_chain_cannot_take_keep_their_reason() -> None:
    document = priority_document(4)
    for c in document["classes"].values():
        c["service"]["a"] = {"dist": "lognormal", "mean": 1.0, "cv": 1.5}
    theory = latency_theory(scenario_from_dict(document))
    assert ("station", "a", "W") not in theory.laws
    assert "lognormal" in theory.reasons[("station", "a")]


def test_mh2c_is_solved_and_its_laws_have_the_chains_means() -> None:
    """M/H2/2: the truncation's tail is read below its top level (where the mass piles up
    with hyperexponential service; before, the estimate was infinite and the station
    refused after six deepenings). ∫ P(W > t) dt of the first passage must equal the
    stationary chain's W = L/λ (Little's law), two independent computations.
    """
    from eda_sim.theory.scenario import solve

    service = {"dist": "hyperexponential", "mean": 1.0, "cv": 2.0}
    scenario = scenario_from_dict(one_station(service, 1.4, servers=2))
    means = solve(scenario).stations["a"]
    assert means is not None and means.exact and means.method.startswith("CTMC")
    laws = latency_theory(scenario)
    for base in ("W", "Wq"):
        law = laws.laws[("station", "a", base)]
        assert law.method.startswith("CTMC first passage")
        area, _ = quad(law.ccdf, 0, np.inf, limit=400, epsabs=1e-11)
        assert area == pytest.approx(getattr(means, base), rel=1e-6)
