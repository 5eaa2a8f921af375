"""Layer 3 for the new features: priorities, fan-out, loss and blocking against theory.

As in ``tests/test_validation_families.py``: seeded independent replications, and
every exact value must lie inside its Student-t interval over the replication
means, Bonferroni-corrected so that each test has a 99% family-wise level (with
``m`` checked metrics each interval has level ``1 − 0.01/m``; the solver's and the
formula's value are checked against the same interval, so they count once). A
test of this kind fails by chance with probability at most 1%. The seeds were
chosen once, before the first run, and are never changed after a failure (a
failure means: look for a bug).

* **Priorities** (non-preemptive): Cobham's M/G/1 formula per class, for
  exponential and for gamma/deterministic service, and the M/M/c formula with one
  common exponential rate; the scenario solver must call them exact and give the
  same numbers as :func:`mg1_priority` / :func:`mmc_priority`.
* **Fan-out**: station throughputs solve the traffic equations with the expected
  copies matrix ``M = P + F`` (``λ = γ + Mᵀλ``); a subscriber fed by one Poisson
  copy stream is M/M/1 by Burke's theorem.
* **Loss**: a synchronous station (capacity = servers, ``on_full: lose``) behind an
  M/M/1 station sees Poisson input (Burke), so its loss is Erlang B.
* **Blocking** has no formula here: conservation of events, a paired comparison
  with ``on_full: lose`` on the same seeds, and no loss at a blocking station
  except of external arrivals.

Warm-up 5% of the horizon; the whole file runs in well under 90 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from validation_support import FAMILY_ALPHA, Check, assert_inside, simulate

from eda_sim.results import RunResult
from eda_sim.scenario import scenario_from_dict
from eda_sim.stats import t_interval
from eda_sim.theory import erlang_b, mg1_priority, mm1, mmc_priority
from eda_sim.theory.scenario import solve


def exp(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


def poisson(rate: float, to: str | None = None) -> dict[str, Any]:
    arrivals: dict[str, Any] = {"process": "poisson", "rate": rate}
    if to is not None:
        arrivals["to"] = to
    return arrivals


def station_values(result: RunResult, station: str, metric: str) -> list[float]:
    return [rep.stations[station].metric(metric) for rep in result.replication_results]


def class_w(result: RunResult, name: str) -> list[float]:
    return [rep.classes[name].W for rep in result.replication_results]


# Seeds below were chosen once and are never changed after a failure.

# ======================================================================================
# Non-preemptive priorities
# ======================================================================================


def priority_checks(
    result: RunResult, formula_classes: Sequence[Any], formula_station: Any, names: Sequence[str]
) -> list[Check]:
    """Per-class end-to-end W and the station's L, Lq, W, Wq, solver and formula both.

    The solver must call the station exact and agree with the formula to rounding.
    """
    assert result.theory is not None
    solver = result.theory.stations["s"]
    assert solver is not None
    assert solver.exact is True, solver.method
    assert "priority" in solver.method
    checks = []
    for name, expected in zip(names, formula_classes, strict=True):
        solver_w = result.theory.classes[name]["W"]
        assert solver_w == pytest.approx(expected.W, rel=1e-9)
        checks.append(
            Check(f"{name}.W", class_w(result, name), {"solver": solver_w, "formula": expected.W})
        )
    for metric in ("L", "Lq", "W", "Wq"):
        expected = getattr(formula_station, metric)
        assert getattr(solver, metric) == pytest.approx(expected, rel=1e-9), metric
        checks.append(
            Check(
                f"s.{metric}",
                station_values(result, "s", metric),
                {"solver": getattr(solver, metric), "formula": expected},
            )
        )
    return checks


def test_mm1_two_priority_classes_match_cobham() -> None:
    """M/M/1, μ = 1; class hi (priority 0) at 0.3, class lo (priority 1) at 0.45.

    ρ = 0.75, W0 = 0.75: Wq_hi = 0.75 / 0.7 = 1.0714, Wq_lo = 0.75 / (0.7 · 0.25) = 4.2857.
    """
    document = {
        "stations": {"s": {"service": exp(1.0)}},
        "classes": {
            "hi": {"arrivals": poisson(0.3), "priority": 0},
            "lo": {"arrivals": poisson(0.45), "priority": 1},
        },
    }
    result = simulate(document, horizon=40_000, seed=401)
    formula = mg1_priority([0.3, 0.45], [1.0, 1.0], [1.0, 1.0])
    assert [c.Wq for c in formula.classes] == pytest.approx([0.75 / 0.7, 0.75 / 0.175])
    assert result.theory is not None and result.theory.system is not None
    assert result.theory.system.exact is True
    assert_inside(priority_checks(result, formula.classes, formula.station, ("hi", "lo")))


def test_mg1_priority_with_gamma_and_deterministic_service_matches_cobham() -> None:
    """M/G/1: hi (priority 0) gamma mean 1, cv 1.5 at 0.3; lo (priority 1) constant 0.8 at 0.45.

    Cobham's formula needs only the first two moments of each class's service.
    """
    document = {
        "stations": {"s": {"service": exp(1.0)}},
        "classes": {
            "hi": {
                "arrivals": poisson(0.3),
                "priority": 0,
                "service": {"s": {"dist": "gamma", "mean": 1.0, "cv": 1.5}},
            },
            "lo": {
                "arrivals": poisson(0.45),
                "priority": 1,
                "service": {"s": {"dist": "deterministic", "value": 0.8}},
            },
        },
    }
    result = simulate(document, horizon=40_000, seed=402)
    formula = mg1_priority([0.3, 0.45], [1.0, 0.8], [1.5**2, 0.0])
    assert_inside(priority_checks(result, formula.classes, formula.station, ("hi", "lo")))


def test_mm2_priority_with_equal_rates_matches_the_mmc_formula() -> None:
    """M/M/2, μ = 1 for both classes; hi (priority 0) at 0.6, lo (priority 1) at 0.9; ρ = 0.75."""
    document = {
        "stations": {"s": {"servers": 2, "service": exp(1.0)}},
        "classes": {
            "hi": {"arrivals": poisson(0.6), "priority": 0},
            "lo": {"arrivals": poisson(0.9), "priority": 1},
        },
    }
    result = simulate(document, horizon=30_000, seed=403)
    formula = mmc_priority([0.6, 0.9], 1.0, 2)
    assert_inside(priority_checks(result, formula.classes, formula.station, ("hi", "lo")))


# ======================================================================================
# Fan-out
# ======================================================================================


def test_fanout_throughputs_follow_the_copies_traffic_equations() -> None:
    """P (M/M/1) publishes every event to S1, S2, S3 and also sends it to S1 w.p. 0.5.

    ``M = P + F`` has row P = (0, 1.5, 1, 1), so with γ = 0.8 into P the traffic
    equations give λ = (0.8, 1.2, 0.8, 0.8). Throughputs (completions per unit
    time) must match. S2 and S3 are each fed by exactly one copy of every departure
    of P, an M/M/1 station with Poisson input: by Burke's theorem that departure
    stream is Poisson, so S2 and S3 are exactly M/M/1 on rate 0.8, and the solver
    (which finds this from the structure: one Poisson-departing feeder) says so. S1 is not:
    its copy and its probabilistic hop come in pairs at the same instant (batches),
    so its W is not checked against M/M/1.
    """
    gamma = 0.8
    means = {"P": 0.5, "S1": 0.5, "S2": 0.75, "S3": 0.875}
    document = {
        "stations": {name: {"service": exp(mean)} for name, mean in means.items()},
        "arrivals": poisson(gamma, "P"),
        "routing": {"P": {"fanout": ["S1", "S2", "S3"], "S1": 0.5}},
    }
    scenario = scenario_from_dict(document)
    routing = scenario.classes[0].routing
    assert routing.copies_matrix[0].tolist() == [0.0, 1.5, 1.0, 1.0]
    expected = {"P": 0.8, "S1": 1.2, "S2": 0.8, "S3": 0.8}
    traffic = routing.traffic(gamma)
    assert traffic == pytest.approx(list(expected.values()), rel=1e-12)
    # λ = γ·entry + Mᵀλ holds for the solution.
    assert traffic == pytest.approx(gamma * routing.entry + routing.copies_matrix.T @ traffic)

    result = simulate(document, horizon=30_000, seed=404)
    assert result.theory is not None
    assert result.theory.arrival_rates == pytest.approx(expected, rel=1e-12)
    assert result.theory.system is None
    assert "fan-out" in result.theory.reasons["system"]
    checks = [
        Check(f"{name}.throughput", station_values(result, name, "throughput"), {"traffic": rate})
        for name, rate in expected.items()
    ]
    p_formula = mm1(gamma, 1 / means["P"])
    p_solver = result.theory.stations["P"]
    assert p_solver is not None and p_solver.exact is True
    assert p_solver.W == pytest.approx(p_formula.W, rel=1e-9)
    checks.append(
        Check("P.W", station_values(result, "P", "W"), {"solver": p_solver.W, "M/M/1": p_formula.W})
    )
    for name in ("S2", "S3"):
        formula = mm1(expected[name], 1 / means[name])
        solver = result.theory.stations[name]
        assert solver is not None
        assert solver.exact is True  # by Burke: the departures of P are Poisson
        assert solver.W == pytest.approx(formula.W, rel=1e-9)
        for metric in ("W", "L"):
            checks.append(
                Check(
                    f"{name}.{metric}",
                    station_values(result, name, metric),
                    {"M/M/1 (Burke)": getattr(formula, metric)},
                )
            )
    assert_inside(checks)

    # Exact identities in every replication: 3 copies per completion at P, copies and
    # events conserved.
    for rep in result.replication_results:
        system = rep.system
        assert system.copies == 3 * rep.stations["P"].completions
        assert system.copies_present_at_start + system.copies == (
            system.copies_finished + system.copies_lost + system.copies_present_at_end
        )
        assert system.present_at_start + system.entered == (
            system.completions + system.lost + system.present_at_end
        )
        assert system.lost == system.copies_lost == 0


# ======================================================================================
# Loss: Erlang B in a network
# ======================================================================================


def test_sync_lookup_behind_an_mm1_cart_loses_erlang_b() -> None:
    """cart (M/M/1, λ = 1.2, mean 0.5) sends 75% of its events to a synchronous lookup.

    The lookup has 3 handlers and no waiting room (capacity 3, on_full: lose) and
    lognormal service (mean 2, cv 1.2). The cart's departures are Poisson(1.2) by
    Burke's theorem, thinned to Poisson(0.9); with a = 0.9 · 2 = 1.8 Erlangs the
    loss is B(3, 1.8) = 0.1803, whatever the service distribution (insensitivity),
    L = a(1 − B) and W = E[S].
    """
    document = {
        "stations": {
            "cart": {"service": exp(0.5)},
            "lookup": {
                "servers": 3,
                "capacity": 3,
                "on_full": "lose",
                "service": {"dist": "lognormal", "mean": 2.0, "cv": 1.2},
            },
        },
        "arrivals": poisson(1.2, "cart"),
        "routing": {"cart": {"lookup": 0.75}},
    }
    result = simulate(document, horizon=20_000, seed=405)
    blocking = erlang_b(3, 1.8)
    assert blocking == pytest.approx((1.8**3 / 6) / (1 + 1.8 + 1.8**2 / 2 + 1.8**3 / 6))
    assert result.theory is not None
    solver = result.theory.stations["lookup"]
    assert solver is not None
    assert solver.exact is True, solver.method
    assert solver.loss == pytest.approx(blocking, rel=1e-9)
    checks = [
        Check("lookup.loss", station_values(result, "lookup", "loss"), {"Erlang B": blocking}),
        Check("lookup.L", station_values(result, "lookup", "L"), {"a(1-B)": 1.8 * (1 - blocking)}),
        Check("lookup.W", station_values(result, "lookup", "W"), {"E[S]": 2.0}),
        Check(
            "system.loss",
            [rep.system.loss for rep in result.replication_results],
            {"0.75 B": 0.75 * blocking},
        ),
    ]
    assert_inside(checks)
    # Capacity == servers: nobody ever waits at the lookup.
    assert max(station_values(result, "lookup", "Lq")) <= 1e-12


# ======================================================================================
# Blocking after service (no formula: conservation and comparisons)
# ======================================================================================


def blocking_document(on_full: str, *, direct: float | None = None) -> dict[str, Any]:
    """A (M/M/1, mean 0.6) -> B (1 server, capacity 2, mean 1.0); λ = 0.6 into A.

    With ``direct``, a second class arrives straight into B at that rate.
    """
    stations = {
        "A": {"service": exp(0.6)},
        "B": {"service": exp(1.0), "capacity": 2, "on_full": on_full},
    }
    flow = {"arrivals": poisson(0.6, "A"), "routing": {"A": {"B": 1.0}}}
    if direct is None:
        return {"stations": stations, **flow}
    return {
        "stations": stations,
        "classes": {"flow": flow, "direct": {"arrivals": poisson(direct, "B")}},
    }


def assert_conserved(result: RunResult) -> None:
    for rep in result.replication_results:
        records = [rep.system, *rep.classes.values()]
        for record in records:
            assert record.present_at_start + record.entered == (
                record.completions + record.lost + record.present_at_end
            )
        for station in rep.stations.values():
            assert station.present_at_start + station.arrivals == (
                station.completions + station.lost + station.present_at_end
            )


def test_blocking_conserves_events_and_makes_the_sender_wait_longer() -> None:
    """Same seed, same random streams: only on_full differs at B.

    With lose, events that find B full are lost; with block none is, and A's
    server is held while B is full, so A's W (blocked time included) grows. The
    paired differences must have a 99% interval above 0.
    """
    blocked = simulate(blocking_document("block"), horizon=20_000, seed=406)
    lost = simulate(blocking_document("lose"), horizon=20_000, seed=406)
    assert_conserved(blocked)
    assert_conserved(lost)
    for rep in blocked.replication_results:
        assert rep.stations["B"].lost == 0
        assert rep.system.lost == 0
        assert rep.stations["A"].blocked > 0
    assert all(rep.stations["B"].lost > 0 for rep in lost.replication_results)
    assert all(rep.stations["A"].blocked == 0 for rep in lost.replication_results)
    differences = np.array(station_values(blocked, "A", "W")) - np.array(
        station_values(lost, "A", "W")
    )
    interval = t_interval(differences, 1 - FAMILY_ALPHA / 2)
    assert interval.low > 0, interval
    # Nothing is lost with blocking, so (stable) every arrival is carried: the
    # long-run throughput of A and of B is λ = 0.6.
    assert_inside(
        [
            Check("A.throughput", station_values(blocked, "A", "throughput"), {"λ": 0.6}),
            Check("B.throughput", station_values(blocked, "B", "throughput"), {"λ": 0.6}),
        ]
    )
    # A's mean blocked time per visit is part of its W: W - Wq - blocked = E[S] = 0.6.
    service = [
        rep.stations["A"].W - rep.stations["A"].Wq - rep.stations["A"].blocked
        for rep in blocked.replication_results
    ]
    interval = t_interval(service, 1 - FAMILY_ALPHA / 2)
    assert interval.contains(0.6), interval
    # No formula for blocking after service, but the network is Markovian and small:
    # the CTMC solver gives every station exactly, blocked time included.
    theory = blocked.theory
    assert theory is not None
    checks = []
    for name, station in theory.stations.items():
        assert station is not None and station.exact, (name, station)
        assert station.method.startswith("CTMC"), station.method
        for metric in ("L", "W", "blocked"):
            exact = getattr(station, metric)
            checks.append(Check(f"{name}.{metric}", station_values(blocked, name, metric),
                                {"CTMC": exact}))  # fmt: skip
    assert_inside(checks)


def test_only_external_arrivals_are_lost_at_a_blocking_station() -> None:
    """A second class arrives straight into B (0.1): those are lost when B is full,
    events sent on from A never are (they block A instead)."""
    result = simulate(blocking_document("block", direct=0.1), horizon=20_000, seed=407)
    assert_conserved(result)
    for rep in result.replication_results:
        assert rep.classes["flow"].lost == 0
        assert rep.stations["A"].lost == 0
        assert rep.stations["B"].lost == rep.classes["direct"].lost
        assert rep.classes["direct"].lost > 0
        assert rep.system.lost == rep.classes["direct"].lost


# ======================================================================================
# Trace arrivals: no formula
# ======================================================================================


def test_trace_arrivals_have_no_theory_and_say_why(tmp_path: Path) -> None:
    """A replayed trace is not a stochastic model: theory is unavailable, with a reason."""
    (tmp_path / "events.csv").write_text("time\n0\n0.5\n1.5\n2.0\n4.0\n")
    scenario = scenario_from_dict(
        {
            "stations": {"s": {"service": exp(0.1)}},
            "arrivals": {"process": "trace", "file": "events.csv"},
        },
        base_dir=tmp_path,
    )
    theory = solve(scenario)
    assert theory.stations == {"s": None}
    assert theory.system is None
    for key in ("s", "system"):
        assert "trace" in theory.reasons[key]
        assert "no formula applies" in theory.reasons[key]
    # The measured rate and gap SCV are reported.
    assert "rate" in theory.reasons["system"]
    assert "SCV" in theory.reasons["system"]
